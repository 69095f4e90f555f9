"""An unbranched cable of compartments."""

from __future__ import annotations

import numpy as np

from dendrax.modules.base import Module
from dendrax.modules.compartment import Compartment
from dendrax.tables import concat_nodes

__all__ = ["Branch"]


class Branch(Module):
    """A cable of compartments, ordered from its proximal (loc 0) to its distal (loc 1) end.

    Args:
        compartments: a Compartment repeated `ncomp` times, or a list of Compartments.
            Default: one default compartment.
        ncomp: number of compartments (required when `compartments` is a single
            Compartment, which is then copied).
    """

    _level = "branch"

    def __init__(self, compartments=None, ncomp: int | None = None):
        if compartments is None:
            compartments = Compartment()
            ncomp = 1 if ncomp is None else ncomp
        if isinstance(compartments, Compartment):
            if ncomp is None:
                raise ValueError(
                    "Branch(comp, ncomp): give ncomp when passing a single Compartment."
                )
            if not isinstance(ncomp, (int, np.integer)) or ncomp < 1:
                raise ValueError(f"ncomp must be a positive integer; got {ncomp!r}.")
            parts = [compartments] * int(ncomp)
        else:
            parts = list(compartments)
            if not parts or not all(isinstance(c, Compartment) for c in parts):
                raise TypeError("Branch() takes a Compartment or a non-empty list of Compartments.")
            if ncomp is not None and ncomp != len(parts):
                raise ValueError(f"ncomp={ncomp} does not match {len(parts)} compartments given.")
        nodes = concat_nodes([p.base._nodes for p in parts])
        self._init_base(nodes, [-1], [len(parts)], [0], parts=parts)
