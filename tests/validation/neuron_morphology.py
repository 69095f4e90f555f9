"""NEURON side of the SWC morphology comparison: load a file with NEURON's Import3d.

:func:`neuron_swc_geometry` instantiates an SWC file with ``Import3d_SWC_read`` /
``Import3d_GUI(...).instantiate(None)``, sets ``nseg`` of every section, and returns per
section its length ``L`` (µm), its membrane area ``Σ seg.area()`` (µm²) and its 3-D points;
all sections are deleted again before returning, so calls do not interfere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .neuron_cable import neuron_available, requires_neuron

__all__ = ["NeuronSection", "neuron_available", "neuron_swc_geometry", "requires_neuron"]


@dataclass(frozen=True)
class NeuronSection:
    """One NEURON section: ``name``, ``length`` (µm), ``area`` (µm², Σ over its segments),
    ``xyzd`` ((n3d, 4) x, y, z, diameter in µm) and ``parent`` (name or None)."""

    name: str
    length: float
    area: float
    xyzd: np.ndarray
    parent: str | None


def neuron_swc_geometry(path: str | Path, nseg: int) -> list[NeuronSection]:
    """Load ``path`` with NEURON's Import3d and return its sections (``nseg`` each)."""
    from neuron import h

    h.load_file("stdlib.hoc")
    h.load_file("import3d.hoc")
    # identity, not names: sections left by other tests may share Import3d's names
    before = {s.hoc_internal_name() for s in h.allsec()}
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(path))
    importer = h.Import3d_GUI(reader, False)
    importer.instantiate(None)
    new = [s for s in h.allsec() if s.hoc_internal_name() not in before]
    out = []
    try:
        for sec in new:
            sec.nseg = nseg
            pts = np.array(
                [[sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i)] for i in range(sec.n3d())]
            ).reshape(-1, 4)
            parent = sec.parentseg()
            out.append(
                NeuronSection(
                    name=sec.name(),
                    length=float(sec.L),
                    area=float(sum(seg.area() for seg in sec)),
                    xyzd=pts,
                    parent=None if parent is None else parent.sec.name(),
                )
            )
    finally:
        for sec in new:
            h.delete_section(sec=sec)
    return out
