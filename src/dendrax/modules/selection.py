"""Pure helpers that turn user indices into row selections of the node/edge tables."""

from __future__ import annotations

import numpy as np

from dendrax.errors import IndexOutOfViewError, unknown_name_error

__all__ = ["resolve_index", "unknown_name_error", "as_index_values", "dense_rank_within"]


def as_index_values(idx, available: np.ndarray, what: str) -> np.ndarray:
    """Turn a user index into an array of the index values it asks for.

    Args:
        idx: int, list, tuple, range, slice, pandas Index, numpy int or bool array, or "all".
        available: sorted unique index values present in the current view.
        what: "cell", "branch", "comp", ... (for error messages).

    Slices are applied to `available`; ints, lists and integer arrays are taken as index
    values themselves (order kept); a boolean mask asks for the values where it is True
    (as Jaxley, `np.flatnonzero(mask)`). Values that are not in view are dropped by the
    caller (`resolve_index`), so `net.cell("all").branch(3)` selects branch 3 of the cells
    that have one.
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
        return np.asarray([int(idx)])
    if isinstance(idx, range):
        idx = list(idx)
    arr = np.asarray(idx)
    if arr.dtype == bool:
        return np.flatnonzero(arr.reshape(-1))
    if arr.size == 0:
        raise ValueError(f"Empty {what} index: nothing would be selected.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what} indices must be integers; got dtype {arr.dtype}.")
    return arr.reshape(-1).astype(np.int64)


def dense_rank_within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Rank of each value among the distinct values of its group (0, 1, ... in value order).

    Args:
        values: (n,) integer values, e.g. global branch indices of the rows in a view.
        groups: (n,) integer group keys, e.g. the global cell index of each row.

    Returns:
        (n,) int64 ranks: the local index of each row's value within its group.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return values
    keys = np.stack([np.asarray(groups, dtype=np.int64), values], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    # `unique` is sorted by group, then value: a value's rank is its distance to the
    # first entry of its group.
    first = np.searchsorted(unique[:, 0], unique[:, 0], side="left")
    return (np.arange(unique.shape[0]) - first)[inverse.reshape(-1)]


def resolve_index(local_values: np.ndarray, unit_keys: np.ndarray, idx, what: str) -> np.ndarray:
    """Positions (into the view's rows) selected by `idx` applied to `local_values`.

    Requested values that are absent are skipped (Jaxley: a branch index selects that branch
    in every cell that has it); if nothing at all is selected, `IndexOutOfViewError` (an
    IndexError and a ValueError) names the indices that exist.
    Rows are ordered by the first appearance of their enclosing unit (`unit_keys`, e.g. the
    cell of each row), then by the order of the requested values, then by row order.
    """
    available = np.unique(local_values)
    values = as_index_values(idx, available, what)
    values = values[np.isin(values, available)] if values.size else values
    if values.size == 0:
        if (isinstance(idx, np.ndarray) and idx.dtype == bool) or isinstance(idx, slice):
            raise IndexOutOfViewError(
                f"Nothing in view: the {what} selection {idx!r} selects nothing."
            )
        lo, hi = (int(available.min()), int(available.max())) if available.size else (0, -1)
        raise IndexOutOfViewError(
            f"Nothing in view: {what} index {idx!r} is out of range; this view has {what} "
            f"indices {lo}..{hi} (scope: local indices count within the view, use "
            f".scope('global') for the module's global indices)."
        )
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
