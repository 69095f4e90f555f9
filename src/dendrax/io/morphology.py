"""``read_morphology``: SWC (native), Neurolucida ASC and HDF5 (through MorphIO, optional).

MorphIO-read files become point arrays that go through the same validation and branch
builder as SWC files (:func:`dendrax.io.swc.cell_from_points`), without SWC text in
between, so every message names the user's file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..morphology.swc_parse import validate_points
from ..morphology.swc_text import SWCError

__all__ = ["morphio_points", "read_morphology"]


def morphio_points(path: str | Path) -> dict[str, np.ndarray]:
    """The point table (µm) of a file MorphIO reads (``.asc``, ``.h5``, ...), as arrays.

    The soma's points come first (type 1, chained, the first a root); then every section's
    points (diameters halved to radii), each section hanging from its parent section's last
    point, or from the middle soma point for a root section. A child section's first point
    repeats its parent's last point in MorphIO and is dropped.

    Returns:
        ``{"ids", "types", "xyz", "radius", "parents"}``: (n,) int64 ids 1..n, types,
        (n, 3) float64, (n,) float64, (n,) int64 parent ids (-1 for the root): the
        arguments of :func:`dendrax.morphology.swc_parse.validate_points`.

    Raises:
        ImportError: MorphIO is not installed.
        SWCError: MorphIO cannot read the file (its message, and the file's name).
    """
    try:
        import morphio
    except ImportError as err:
        raise ImportError(
            f"reading {Path(path).suffix} files needs MorphIO: pip install 'dendrax[morph]'"
        ) from err
    try:
        m = morphio.Morphology(str(path))
    except morphio.MorphioError as err:
        raise SWCError(f"{path}: MorphIO cannot read this file: {err}") from err
    xyz = [np.asarray(m.soma.points, float).reshape(-1, 3)]
    radius = [np.asarray(m.soma.diameters, float).reshape(-1) / 2.0]
    n_soma = len(radius[0])
    types = [np.ones(n_soma, np.int64)]
    parents = [np.arange(n_soma, dtype=np.int64)]  # soma point k+1 hangs from point k
    if n_soma:
        parents[0][0] = -1
    soma_id = n_soma // 2 + 1 if n_soma else -1
    type_of = {
        morphio.SectionType.axon: 2,
        morphio.SectionType.basal_dendrite: 3,
        morphio.SectionType.apical_dendrite: 4,
    }
    n = n_soma
    last: dict[int, int] = {}  # section id -> id of its last point
    for sec in m.iter():
        pts = np.asarray(sec.points, float).reshape(-1, 3)
        rad = np.asarray(sec.diameters, float).reshape(-1) / 2.0
        skip = 0 if sec.is_root else 1  # a child's first point repeats its parent's end
        pts, rad = pts[skip:], rad[skip:]
        parent = soma_id if sec.is_root else last[sec.parent.id]
        if len(pts) == 0:
            last[sec.id] = parent
            continue
        ids = np.arange(n + 1, n + 1 + len(pts), dtype=np.int64)
        xyz.append(pts)
        radius.append(rad)
        types.append(np.full(len(pts), type_of.get(sec.type, 5), np.int64))
        parents.append(np.concatenate([[parent], ids[:-1]]).astype(np.int64))
        n += len(pts)
        last[sec.id] = n
    return {
        "ids": np.arange(1, n + 1, dtype=np.int64),
        "types": np.concatenate(types),
        "xyz": np.concatenate(xyz),
        "radius": np.concatenate(radius),
        "parents": np.concatenate(parents),
    }


def read_morphology(path, ncomp: int, **kwargs):
    """Read a morphology into a Cell, dispatching on the suffix.

    ``.swc`` -> :func:`dendrax.io.swc.read_swc`; ``.asc`` and ``.h5`` are read with MorphIO
    (optional) into point arrays (µm), validated like SWC points (errors name ``path`` and
    the point id) and built into a Cell the same way. ``kwargs`` are ``read_swc``'s.
    """
    from dendrax.io.swc import cell_from_points, read_swc

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".swc":
        return read_swc(path, ncomp, **kwargs)
    if suffix not in (".asc", ".h5"):
        raise ValueError(
            f"{path}: unknown morphology suffix {path.suffix!r} (use .swc, .asc or .h5)"
        )
    if not path.is_file():
        raise FileNotFoundError(path)
    backend = kwargs.pop("backend", "graph")
    if backend != "graph":
        raise ValueError(f"backend must be 'graph' (the only backend), got {backend!r}")
    points = validate_points(
        **morphio_points(path),
        source=str(path),
        allow_multiple_roots=kwargs.pop("allow_multiple_roots", True),
        allow_zero_radius=kwargs.get("min_radius") is not None,
    )
    return cell_from_points(points, ncomp, **kwargs)
