"""Read and validate the point table of an SWC morphology file.

An SWC file has one traced point per line with seven whitespace-separated columns::

    id  type  x  y  z  radius  parent_id

(x, y, z and radius in µm; ``parent_id = -1`` marks a root). ``#`` starts a comment.
:func:`parse_swc` reads the table with numpy and checks that it describes a tree (or a
forest, when allowed). Every problem is reported as an :class:`SWCError` naming the file and
the 1-based line number of the offending line.
"""

from __future__ import annotations

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SWCError", "SWCPoints", "parse_swc"]

_NANOMETRE_MEDIAN_SEGMENT_UM = 100.0
_NANOMETRE_EXTENT_UM = 1e5


class SWCError(ValueError):
    """An SWC file that cannot be turned into a morphology (the message names file and line)."""


@dataclass(frozen=True)
class SWCPoints:
    """The validated point table of an SWC file, sorted by point id.

    Attributes:
        ids: (n,) int, SWC point ids (unique, ascending).
        types: (n,) int, SWC structure type ids (1 soma, 2 axon, 3 basal, 4 apical, ...).
        xyz: (n, 3) float, coordinates in µm.
        radius: (n,) float, radii in µm.
        parent_ids: (n,) int, parent point id, -1 for roots.
        parent_index: (n,) int, row index of the parent point, -1 for roots.
        line_numbers: (n,) int, 1-based line of each point in the file (for messages).
        source: name of the file the table came from.
    """

    ids: np.ndarray
    types: np.ndarray
    xyz: np.ndarray
    radius: np.ndarray
    parent_ids: np.ndarray
    parent_index: np.ndarray
    line_numbers: np.ndarray
    source: str = "<array>"

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def xyzr(self) -> np.ndarray:
        """(n, 4) float: x, y, z, radius in µm."""
        return np.column_stack([self.xyz, self.radius])

    @property
    def roots(self) -> np.ndarray:
        """Row indices of the root points (parent -1)."""
        return np.flatnonzero(self.parent_index < 0)


def _fail(source: str, line_no: int, text: str, why: str) -> SWCError:
    return SWCError(f"{source}, line {line_no}: {why}: {text.strip()!r}")


def _read_rows(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return the (n, 7) table, the (n,) 1-based line numbers and the file's raw lines."""
    source = str(path)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    data = [line.split("#", 1)[0] if "#" in line else line for line in lines]
    line_numbers = [k for k, line in enumerate(data, start=1) if line.strip()]
    if not line_numbers:
        raise SWCError(f"{source}: the file contains no points (empty or only comments)")
    numbers = np.asarray(line_numbers, dtype=np.int64)
    table = _fast_table(data)
    if table is not None and table.shape == (len(numbers), 7) and not np.isnan(table).any():
        return table, numbers, lines
    return _slow_table(data, numbers, lines, source), numbers, lines


def _fast_table(data: list[str]) -> np.ndarray | None:
    """Parse with pandas' C reader if pandas is already imported (importing it costs more
    than it saves); None if it is not, or if anything is odd."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(data)),
            sep=r"\s+",
            header=None,
            dtype=np.float64,
            engine="c",
            skip_blank_lines=True,
        )
    except Exception:  # malformed rows or ragged columns: the slow path names the line
        return None
    return frame.to_numpy(dtype=np.float64)


def _slow_table(data: list[str], numbers: np.ndarray, lines: list[str], source: str) -> np.ndarray:
    """Parse with numpy, raising an SWCError that names the first bad line."""
    tokens = [data[k - 1].split() for k in numbers]
    counts = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    bad = np.flatnonzero(counts != 7)
    if bad.size:
        k = int(bad[0])
        raise _fail(
            source,
            int(numbers[k]),
            lines[numbers[k] - 1],
            f"expected 7 columns (id type x y z radius parent), found {counts[k]}",
        )
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        pass
    for k, row in enumerate(tokens):
        for column, value in enumerate(row):
            try:
                float(value)
            except ValueError:
                raise _fail(
                    source,
                    int(numbers[k]),
                    lines[numbers[k] - 1],
                    f"column {column + 1} ({value!r}) is not a number",
                ) from None
    raise SWCError(f"{source}: unparsable numbers")  # pragma: no cover


def _check_values(table: np.ndarray, lines: np.ndarray, raw: list[str], source: str) -> None:
    def at(k: int, why: str) -> SWCError:
        return _fail(source, int(lines[k]), raw[lines[k] - 1], why)

    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        raise at(int(np.flatnonzero(~finite)[0]), "non-finite value (nan or inf)")
    integer_cols = table[:, [0, 1, 6]]
    not_int = (integer_cols != np.round(integer_cols)).any(axis=1)
    if not_int.any():
        raise at(int(np.flatnonzero(not_int)[0]), "id, type and parent must be integers")
    bad_parent = table[:, 6] < -1
    if bad_parent.any():
        raise at(int(np.flatnonzero(bad_parent)[0]), "parent id must be -1 or a point id")


def _find_cycle(parent_index: np.ndarray, start: int) -> list[int]:
    """Follow parents from ``start`` until a row repeats; return the rows of the cycle."""
    seen: dict[int, int] = {}
    path: list[int] = []
    node = start
    while node >= 0 and node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = int(parent_index[node])
    return path[seen[node] :] if node >= 0 else []


def _reachable_from_roots(parent_index: np.ndarray) -> np.ndarray:
    """Boolean mask of rows whose parent chain ends at a root (vectorized pointer jumping)."""
    n = len(parent_index)
    anc = parent_index.copy()
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        nxt = np.where(anc >= 0, anc[np.maximum(anc, 0)], -1)
        nxt = np.where(anc >= 0, nxt, -1)
        if np.array_equal(nxt, anc):
            break
        anc = nxt
    # After enough doublings every acyclic chain has reached -1; rows on or below a cycle
    # still point at a row.
    return anc < 0


def parse_swc(
    path: str | Path,
    allow_multiple_roots: bool = True,
    allow_zero_radius: bool = False,
    warn_multiple_roots: bool = True,
) -> SWCPoints:
    """Read an SWC file into a validated, id-sorted :class:`SWCPoints` table.

    Args:
        path: SWC file.
        allow_multiple_roots: accept several points with parent -1 (Jaxley does; only the
            tree holding the traversal root is used downstream). If False, raise.
        allow_zero_radius: accept radius 0 (e.g. when the caller clamps with ``min_radius``).
            Negative radii are always rejected.
        warn_multiple_roots: emit a ``UserWarning`` when several roots are accepted.

    Raises:
        FileNotFoundError: the file does not exist.
        SWCError: empty file, wrong column count, unparsable or non-integer fields,
            duplicate ids, self-parent, missing parent, cycles, several roots (when not
            allowed), non-positive radius. The message names the file and line number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SWC file not found: {path}")
    source = str(path)
    table, lines, raw = _read_rows(path)
    _check_values(table, lines, raw, source)

    def at(k: int, why: str) -> SWCError:
        return _fail(source, int(lines[k]), raw[lines[k] - 1], why)

    ids = table[:, 0].astype(np.int64)
    types = table[:, 1].astype(np.int64)
    parents = table[:, 6].astype(np.int64)
    radius = table[:, 5].copy()

    bad_r = (radius < 0) | ((radius == 0) & (not allow_zero_radius))
    if bad_r.any():
        k = int(np.flatnonzero(bad_r)[0])
        raise at(k, f"radius must be positive, got {radius[k]:g} µm (point id {ids[k]})")

    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if dup.size:
        first, second = sorted(order[[dup[0], dup[0] + 1]])
        raise at(
            int(second),
            f"duplicate point id {ids[second]} (first defined on line {lines[first]})",
        )
    self_parent = parents == ids
    if self_parent.any():
        k = int(np.flatnonzero(self_parent)[0])
        raise at(k, f"point {ids[k]} is its own parent")

    ids, types, parents, radius = ids[order], types[order], parents[order], radius[order]
    xyz = table[order, 2:5]
    lines = lines[order]
    pos = np.searchsorted(ids, parents)
    pos_c = np.minimum(pos, len(ids) - 1)
    found = (parents >= 0) & (ids[pos_c] == parents)
    missing = (parents >= 0) & ~found
    if missing.any():
        k = int(np.flatnonzero(missing)[0])
        raise at(k, f"parent id {parents[k]} of point {ids[k]} does not exist in the file")
    parent_index = np.where(found, pos_c, -1)

    reachable = _reachable_from_roots(parent_index)
    if not reachable.all():
        start = int(np.flatnonzero(~reachable)[0])
        cycle = _find_cycle(parent_index, start)
        cyc_ids = ", ".join(str(ids[c]) for c in cycle)
        first = int(min(cycle, key=lambda c: lines[c])) if cycle else start
        raise at(first, f"the parent links form a cycle through point ids [{cyc_ids}]")

    roots = np.flatnonzero(parent_index < 0)
    if len(roots) > 1:
        root_lines = ", ".join(str(lines[r]) for r in roots[:10])
        msg = (
            f"{source}: {len(roots)} root points (parent -1) on lines {root_lines}; "
            "an SWC file should describe one connected tree"
        )
        if not allow_multiple_roots:
            raise SWCError(msg + " (pass allow_multiple_roots=True to accept it)")
        if warn_multiple_roots:
            warnings.warn(
                msg + "; only the tree holding the traversal root is used",
                UserWarning,
                stacklevel=2,
            )

    _warn_if_nanometres(xyz, parent_index, source)
    return SWCPoints(ids, types, xyz, radius, parents, parent_index, lines, source)


def _warn_if_nanometres(xyz: np.ndarray, parent_index: np.ndarray, source: str) -> None:
    child = np.flatnonzero(parent_index >= 0)
    if child.size:
        seg = np.linalg.norm(xyz[child] - xyz[parent_index[child]], axis=1)
        median_seg = float(np.median(seg))
    else:
        median_seg = 0.0
    extent = float(np.ptp(xyz, axis=0).max()) if len(xyz) else 0.0
    if median_seg > _NANOMETRE_MEDIAN_SEGMENT_UM or extent > _NANOMETRE_EXTENT_UM:
        warnings.warn(
            f"{source}: coordinates look like nanometres or voxels (median segment "
            f"{median_seg:.3g}, extent {extent:.3g}); SWC coordinates and radii must be in "
            "µm. Rescale the file before reading it.",
            UserWarning,
            stacklevel=3,
        )
