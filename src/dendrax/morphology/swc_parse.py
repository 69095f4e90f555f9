"""Validate a morphology's point table, and read SWC files into validated tables.

Readers produce point arrays (id, type, x, y, z, radius, parent); :func:`validate_points`
checks them, whatever format they came from (SWC text through
:func:`dendrax.morphology.swc_text.parse_swc_text`, MorphIO-read ASC/H5 files, graphs), and
returns the id-sorted :class:`SWCPoints` that the branch builder
(:func:`dendrax.morphology.swc_branches.swc_to_morphology`) takes. Every problem is an
:class:`SWCError` naming the source file and, where the points came from text, the line.

What is checked, and why:

* ids and parents integers in ``0 … 2^53 - 1`` (the largest range that float64, which many
  tools store SWC tables in, holds exactly; larger ids merge silently elsewhere); a parent
  of ``-1`` marks a root. Types in ``0 … 2^31 - 1``.
* coordinates finite and within ±1e6 µm (1 m); radii finite, positive (zero only when the
  caller clamps them, ``allow_zero_radius``) and between 1e-6 µm and 1e6 µm. Outside these
  bounds the frustum geometry overflows (NaN radii, infinite lengths) long before it means
  anything physical.
* unique ids, no self-parent, every parent present, no cycle; several roots only if
  allowed.
* warnings, not errors: points at their parent's position (a zero-length edge, counted as
  1e-5 µm, which can leave a compartment of that length), and coordinates that look like
  nanometres.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .swc_text import (
    COLUMNS,
    MAX_ID,
    MAX_TYPE,
    RANGES,
    SWCError,
    SWCRows,
    parse_swc_text,
    user_stacklevel,
)

__all__ = [
    "MAX_COORDINATE_UM",
    "MAX_ID",
    "SWCError",
    "SWCPoints",
    "SWCRows",
    "parse_swc",
    "parse_swc_text",
    "points_from_rows",
    "validate_points",
]

MAX_COORDINATE_UM = 1e6
MIN_RADIUS_UM = 1e-6
COINCIDENT_UM = 1e-5  # the branch builder's shortest edge: closer points are "coincident"
_NANOMETRE_MEDIAN_SEGMENT_UM = 100.0
_NANOMETRE_EXTENT_UM = 1e5


@dataclass(frozen=True)
class SWCPoints:
    """The validated point table of a morphology, sorted by point id.

    Attributes:
        ids: (n,) int64, point ids (unique, ascending).
        types: (n,) int64, structure type ids (1 soma, 2 axon, 3 basal, 4 apical, ...).
        xyz: (n, 3) float64, coordinates in µm.
        radius: (n,) float64, radii in µm.
        parent_ids: (n,) int64, parent point id, -1 for roots.
        parent_index: (n,) int64, row index of the parent point, -1 for roots.
        line_numbers: (n,) int64, 1-based line of each point in its text file, or None
            when the points did not come from text.
        source: name of the file (or other source) the table came from, for messages.
    """

    ids: np.ndarray
    types: np.ndarray
    xyz: np.ndarray
    radius: np.ndarray
    parent_ids: np.ndarray
    parent_index: np.ndarray
    line_numbers: np.ndarray | None
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

    def where(self, k: int) -> str:
        """Where row ``k`` is, for messages: its line (text sources) and point id."""
        return _where(self.line_numbers, self.ids, k)


def _where(line_numbers: np.ndarray | None, ids: np.ndarray, k: int) -> str:
    if line_numbers is None:
        return f"point id {ids[k]}"
    return f"line {line_numbers[k]} (point id {ids[k]})"


def _as_int(name: str, values, n: int, source: str) -> np.ndarray:
    """(n,) int64 from integer or exactly integral float input."""
    a = np.asarray(values)
    if a.shape != (n,):
        raise SWCError(f"{source}: {name} needs shape ({n},), got {a.shape}")
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and len(a) and int(a.max()) > np.iinfo(np.int64).max:
            raise SWCError(f"{source}: {name} holds values beyond int64")
        return a.astype(np.int64)
    if a.dtype.kind != "f":
        raise SWCError(f"{source}: {name} must be integers, got dtype {a.dtype}")
    ok = np.isfinite(a) & (np.abs(a) <= MAX_ID)
    ok[ok] = a[ok] == np.round(a[ok])
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise SWCError(f"{source}: {name} must be integers, got {float(a[k])!r} at row {k}")
    return a.astype(np.int64)


def _as_float(name: str, values, shape: tuple[int, ...], source: str) -> np.ndarray:
    a = np.asarray(values)
    if a.shape != shape or a.dtype.kind not in "iuf":
        raise SWCError(f"{source}: {name} needs a numeric array of shape {shape}, got {a.shape}")
    return a.astype(np.float64)


def validate_points(
    ids,
    types,
    xyz,
    radius,
    parents,
    *,
    source: str = "<array>",
    line_numbers=None,
    allow_multiple_roots: bool = True,
    allow_zero_radius: bool = False,
    warn_multiple_roots: bool = True,
) -> SWCPoints:
    """Check a morphology's point table and return it sorted by id.

    Args:
        ids: (n,) integer point ids.
        types: (n,) integer structure types.
        xyz: (n, 3) coordinates (µm).
        radius: (n,) radii (µm).
        parents: (n,) parent ids, -1 for a root.
        source: the file (or other source) the points came from; every message names it.
        line_numbers: (n,) 1-based lines of the points in a text file, for messages; None
            for other sources (messages then name the point id).
        allow_multiple_roots: accept several points with parent -1 (Jaxley does; only the
            tree holding the traversal root is used downstream). If False, raise.
        allow_zero_radius: accept radius 0 (when the caller clamps it with ``min_radius``).
        warn_multiple_roots: emit a ``UserWarning`` when several roots are accepted.

    Returns:
        :class:`SWCPoints`.

    Raises:
        SWCError: no points; ids, types or parents out of range; a non-finite or
            implausible coordinate or radius (beyond 1e6 µm, radius negative, below 1e-6 µm
            or zero when not allowed); duplicate ids; a point that is its own parent; a
            missing parent; a cycle; several roots (when not allowed).
    """
    ids_in = np.asarray(ids)
    n = len(ids_in) if ids_in.ndim == 1 else -1
    if n <= 0:
        raise SWCError(f"{source}: the morphology contains no points")
    ids = _as_int("ids", ids_in, n, source)
    types = _as_int("types", types, n, source)
    parents = _as_int("parents", parents, n, source)
    xyz = _as_float("xyz", xyz, (n, 3), source)
    radius = _as_float("radius", radius, (n,), source)
    lines = None if line_numbers is None else np.asarray(line_numbers, dtype=np.int64)
    if lines is not None and lines.shape != (n,):
        raise SWCError(f"{source}: line_numbers needs shape ({n},), got {lines.shape}")

    def at(k: int, column: int | None, why: str) -> SWCError:
        if lines is None:
            where = f"point id {ids[k]}"
            field = f", {COLUMNS[column]}" if column is not None else ""
        else:
            where = f"line {lines[k]}"
            field = f", column {column + 1} ({COLUMNS[column]})" if column is not None else ""
        return SWCError(f"{source}, {where}{field}: {why}")

    def first(mask: np.ndarray) -> int | None:
        hit = np.flatnonzero(mask)
        return int(hit[0]) if hit.size else None

    _check_ranges(ids, types, parents, at, first)
    _check_geometry(ids, xyz, radius, allow_zero_radius, at, first)

    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if dup.size:
        a, b = sorted(order[[dup[0], dup[0] + 1]])
        earlier = f"line {lines[a]}" if lines is not None else f"row {a}"
        raise at(int(b), None, f"duplicate point id {ids[b]} (first defined on {earlier})")
    k = first(parents == ids)
    if k is not None:
        raise at(k, 6, f"point {ids[k]} is its own parent")

    ids, types, parents, radius = ids[order], types[order], parents[order], radius[order]
    xyz = xyz[order]
    lines = None if lines is None else lines[order]
    pos = np.minimum(np.searchsorted(ids, parents), n - 1)
    found = (parents >= 0) & (ids[pos] == parents)
    k = first((parents >= 0) & ~found)
    if k is not None:
        raise at(k, 6, f"parent id {parents[k]} of point {ids[k]} does not exist in the file")
    parent_index = np.where(found, pos, -1)

    reachable = _reachable_from_roots(parent_index)
    if not reachable.all():
        start = int(np.flatnonzero(~reachable)[0])
        cycle = _find_cycle(parent_index, start)
        cyc_ids = ", ".join(str(ids[c]) for c in cycle[:20])
        key = lines if lines is not None else np.arange(n)
        k = int(min(cycle, key=lambda c: key[c])) if cycle else start
        raise at(k, 6, f"the parent links form a cycle through point ids [{cyc_ids}]")

    _check_roots(parent_index, lines, ids, source, allow_multiple_roots, warn_multiple_roots)
    points = SWCPoints(ids, types, xyz, radius, parents, parent_index, lines, source)
    child = np.flatnonzero(parent_index >= 0)
    d = xyz[child] - xyz[parent_index[child]]
    step = np.sqrt(np.einsum("ij,ij->i", d, d))  # µm, from each point to its parent
    _warn_if_coincident(points, child, step)
    _warn_if_nanometres(xyz, step, source)
    return points


def _check_ranges(ids, types, parents, at, first) -> None:
    k = first((ids < 0) | (ids > MAX_ID))
    if k is not None:
        raise at(k, 0, f"id {ids[k]} is out of range: {RANGES[0]}")
    k = first((types < 0) | (types > MAX_TYPE))
    if k is not None:
        raise at(k, 1, f"type {types[k]} is out of range: {RANGES[1]}")
    k = first(parents < -1)
    if k is not None:
        raise at(k, 6, f"parent id must be -1 or a point id, got {parents[k]}")
    k = first(parents > MAX_ID)
    if k is not None:
        raise at(k, 6, f"parent id {parents[k]} is out of range: {RANGES[6]}")


def _check_geometry(ids, xyz, radius, allow_zero_radius, at, first) -> None:
    bad = ~np.isfinite(xyz)
    k = first(bad.any(axis=1))
    if k is not None:
        c = int(np.flatnonzero(bad[k])[0])
        raise at(k, 2 + c, f"coordinate {xyz[k, c]} is not finite")
    big = np.abs(xyz) > MAX_COORDINATE_UM
    k = first(big.any(axis=1))
    if k is not None:
        c = int(np.flatnonzero(big[k])[0])
        raise at(
            k,
            2 + c,
            f"coordinate {xyz[k, c]:g} µm is beyond ±1e6 µm (1 m), not a neuron; SWC "
            "coordinates are in µm (rescale a file in nm or voxels)",
        )
    k = first(~np.isfinite(radius))
    if k is not None:
        raise at(k, 5, f"radius {radius[k]} is not finite")
    k = first((radius < 0) | ((radius == 0) & (not allow_zero_radius)))
    if k is not None:
        hint = " (pass min_radius to clamp zero radii)" if radius[k] == 0 else ""
        raise at(k, 5, f"radius must be positive, got {radius[k]:g} µm (point id {ids[k]}){hint}")
    k = first((radius > 0) & (radius < MIN_RADIUS_UM))
    if k is not None:
        raise at(k, 5, f"radius {radius[k]:g} µm is below 1e-6 µm, not a plausible neurite")
    k = first(radius > MAX_COORDINATE_UM)
    if k is not None:
        raise at(k, 5, f"radius {radius[k]:g} µm is beyond 1e6 µm (1 m), not a neurite")


def _check_roots(parent_index, lines, ids, source, allow_multiple, warn) -> None:
    roots = np.flatnonzero(parent_index < 0)
    if len(roots) <= 1:
        return
    if lines is not None:
        where = "on lines " + ", ".join(str(lines[r]) for r in roots[:10])
    else:
        where = "with ids " + ", ".join(str(ids[r]) for r in roots[:10])
    msg = (
        f"{source}: {len(roots)} root points (parent -1) {where}; "
        "an SWC file should describe one connected tree"
    )
    if not allow_multiple:
        raise SWCError(msg + " (pass allow_multiple_roots=True to accept it)")
    if warn:
        warnings.warn(
            msg + "; only the tree holding the traversal root is used",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


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
        if np.array_equal(nxt, anc):
            break
        anc = nxt
    # After enough doublings every acyclic chain has reached -1; rows on or below a cycle
    # still point at a row.
    return anc < 0


def _warn_if_coincident(points: SWCPoints, child: np.ndarray, step: np.ndarray) -> None:
    close = child[step < COINCIDENT_UM]
    if not close.size:
        return
    lines = points.line_numbers
    k = int(close[np.argmin(lines[close])]) if lines is not None else int(close[0])
    warnings.warn(
        f"{points.source}: {close.size} point(s) lie at their parent's position (first: "
        f"{points.where(k)}); each makes an edge of length 0, counted as 1e-5 µm (a branch of "
        "such points only becomes 0.1 µm long). Remove the repeated points unless they mark "
        "a step in radius.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_if_nanometres(xyz: np.ndarray, step: np.ndarray, source: str) -> None:
    median_seg = float(np.median(step)) if step.size else 0.0
    extent = float((xyz.max(axis=0) - xyz.min(axis=0)).max())
    if median_seg > _NANOMETRE_MEDIAN_SEGMENT_UM or extent > _NANOMETRE_EXTENT_UM:
        warnings.warn(
            f"{source}: coordinates look like nanometres or voxels (median segment "
            f"{median_seg:.3g}, extent {extent:.3g}); SWC coordinates and radii must be in "
            "µm. Rescale the file before reading it.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def points_from_rows(rows: SWCRows, source: str, **kwargs) -> SWCPoints:
    """:func:`validate_points` of parsed SWC rows (their line numbers go into messages)."""
    return validate_points(
        rows.ids,
        rows.types,
        rows.xyz,
        rows.radius,
        rows.parents,
        source=source,
        line_numbers=rows.line_numbers,
        **kwargs,
    )


def parse_swc(
    path: str | Path,
    allow_multiple_roots: bool = True,
    allow_zero_radius: bool = False,
    warn_multiple_roots: bool = True,
) -> SWCPoints:
    """Read an SWC file into a validated, id-sorted :class:`SWCPoints` table.

    Args:
        path: SWC file.
        allow_multiple_roots: see :func:`validate_points`.
        allow_zero_radius: see :func:`validate_points`.
        warn_multiple_roots: see :func:`validate_points`.

    Raises:
        FileNotFoundError: the file does not exist.
        SWCError: the text is not valid SWC (:func:`parse_swc_text`) or the points are not
            (:func:`validate_points`). The message names the file, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SWC file not found: {path}")
    source = str(path)
    rows = parse_swc_text(path.read_bytes(), source)
    return points_from_rows(
        rows,
        source,
        allow_multiple_roots=allow_multiple_roots,
        allow_zero_radius=allow_zero_radius,
        warn_multiple_roots=warn_multiple_roots,
    )
