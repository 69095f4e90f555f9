"""Pure helpers that turn user indices into row selections of the node/edge tables."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np

__all__ = ["resolve_index", "unknown_name_error", "as_index_values"]


def unknown_name_error(kind: str, name: str, valid: Iterable[str]) -> KeyError:
    """A KeyError for an unknown `kind` name, listing close matches and the valid names."""
    valid = sorted(set(valid))
    close = difflib.get_close_matches(str(name), valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(valid[:40]) + (", ..." if len(valid) > 40 else "")
    return KeyError(f"Unknown {kind} {name!r}.{hint} Valid names: {shown}.")


def as_index_values(idx, available: np.ndarray, what: str) -> np.ndarray:
    """Turn a user index into an array of index values.

    Args:
        idx: int, list, tuple, range, slice, numpy int or bool array, or "all".
        available: sorted unique index values present in the current view.
        what: "cell", "branch", "comp", ... (for error messages).

    Slices and boolean masks are applied to `available`; ints, lists and integer arrays are
    taken as index values themselves (order kept).
    """
    if isinstance(idx, str):
        if idx != "all":
            raise ValueError(
                f"{what} index must be an int, a sequence, a slice or 'all'; got {idx!r}."
            )
        return available
    if isinstance(idx, slice):
        return available[idx]
    if isinstance(idx, (bool, np.bool_)):
        raise TypeError(f"{what} index must not be a bool; got {idx!r}.")
    if isinstance(idx, (int, np.integer)):
        values = np.asarray([int(idx)])
    else:
        if isinstance(idx, range):
            idx = list(idx)
        arr = np.asarray(idx)
        if arr.dtype == bool:
            if arr.shape != available.shape:
                raise ValueError(
                    f"Boolean {what} mask has shape {arr.shape}, but this view has "
                    f"{available.size} {what}(s)."
                )
            return available[arr]
        if arr.size == 0:
            raise ValueError(f"Empty {what} index: nothing would be selected.")
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{what} indices must be integers; got dtype {arr.dtype}.")
        values = arr.reshape(-1).astype(np.int64)
    missing = values[~np.isin(values, available)]
    if missing.size:
        lo, hi = (int(available.min()), int(available.max())) if available.size else (0, -1)
        raise IndexError(
            f"{what} index {missing.tolist()} is out of range: this view has {what} indices "
            f"{lo}..{hi}."
        )
    return values


def resolve_index(local_values: np.ndarray, unit_keys: np.ndarray, idx, what: str) -> np.ndarray:
    """Positions (into the view's rows) selected by `idx` applied to `local_values`.

    Rows are ordered by the first appearance of their enclosing unit (`unit_keys`, e.g. the
    cell of each row), then by the order of the requested values, then by row order.
    """
    available = np.unique(local_values)
    values = as_index_values(idx, available, what)
    if values.size == 0:
        raise ValueError(f"Nothing in view: the {what} selection {idx!r} selects nothing.")
    rank = np.full(int(max(available.max(), values.max())) + 1, -1, dtype=np.int64)
    rank[values[::-1]] = np.arange(values.size)[::-1]
    row_rank = rank[local_values]
    keep = np.flatnonzero(row_rank >= 0)
    _, unit_first = np.unique(unit_keys, return_index=True)
    unit_order = np.empty(unit_first.size, np.int64)
    unit_order[np.argsort(unit_first)] = np.arange(unit_first.size)
    unit_rank = unit_order[np.searchsorted(np.unique(unit_keys), unit_keys[keep])]
    order = np.lexsort((keep, row_rank[keep], unit_rank))
    return keep[order]
