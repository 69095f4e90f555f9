"""``read_morphology``: SWC (native), Neurolucida ASC and HDF5 (through MorphIO, optional)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

__all__ = ["read_morphology"]


def _morphio_to_swc_lines(path: Path) -> list[str]:
    """SWC lines (µm) of a MorphIO morphology: the soma as its points (type 1), then every
    section's points (diameters halved to radii), each section starting at its parent."""
    try:
        import morphio
    except ImportError as err:
        raise ImportError(
            f"reading {path.suffix} files needs MorphIO: pip install 'dendrax[morph]'"
        ) from err
    m = morphio.Morphology(str(path))
    lines, last = [], {}
    soma = np.asarray(m.soma.points, float)
    soma_r = np.asarray(m.soma.diameters, float) / 2.0
    for k, (p, r) in enumerate(zip(soma, soma_r, strict=True)):
        lines.append(f"{k + 1} 1 {p[0]:.9g} {p[1]:.9g} {p[2]:.9g} {r:.9g} {k if k else -1}")
    soma_id = len(lines) // 2 + 1 if lines else -1
    types = {
        morphio.SectionType.axon: 2,
        morphio.SectionType.basal_dendrite: 3,
        morphio.SectionType.apical_dendrite: 4,
    }
    for sec in m.iter():
        pts = np.asarray(sec.points, float)
        rad = np.asarray(sec.diameters, float) / 2.0
        t = types.get(sec.type, 5)
        parent = last[sec.parent.id] if not sec.is_root else soma_id
        first = 1 if not sec.is_root else 0  # a child's first point repeats its parent's end
        for p, r in zip(pts[first:], rad[first:], strict=True):
            lines.append(f"{len(lines) + 1} {t} {p[0]:.9g} {p[1]:.9g} {p[2]:.9g} {r:.9g} {parent}")
            parent = len(lines)
        last[sec.id] = parent
    return lines


def read_morphology(path, ncomp: int, **kwargs):
    """Read a morphology into a Cell, dispatching on the suffix.

    ``.swc`` -> :func:`dendrax.io.swc.read_swc`; ``.asc`` and ``.h5`` are read with MorphIO
    (optional) and converted to SWC points (µm) first. ``kwargs`` go to ``read_swc``.
    """
    from dendrax.io.swc import read_swc

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
    lines = _morphio_to_swc_lines(path)
    with tempfile.TemporaryDirectory() as tmp:
        swc = Path(tmp) / (path.stem + ".swc")
        swc.write_text("\n".join(lines) + "\n")
        return read_swc(swc, ncomp, **kwargs)
