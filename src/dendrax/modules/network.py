"""A network of cells."""

from __future__ import annotations

import numpy as np

from dendrax.modules.base import Module
from dendrax.modules.cell import Cell
from dendrax.modules.tables import concat_nodes, index_columns

__all__ = ["Network"]


class Network(Module):
    """Several cells, later connected by synapses (`dendrax.connect`).

    Synapses are rows of the edge table (`net.edges`, one per synapse: pre/post compartment,
    type, parameters, states, `delay` in ms). Select them with `net.select(edges=...)`,
    `net.edge(...)` or `net.<SynapseName>`; `set`, `make_trainable`, `record` and `clamp`
    then act per synapse.

    Args:
        cells: list of Cells (copied into the network's tables).
        vectorize_cells: accepted for Jaxley compatibility; cells are always solved
            together by the tree solver (a forest).
    """

    _level = "network"

    def __init__(self, cells, vectorize_cells=None):
        cells = list(cells)
        if not cells or not all(isinstance(c, Cell) for c in cells):
            raise TypeError("Network() takes a non-empty list of Cells.")
        n_branch = np.array([c.base._ncomp_per_branch.size for c in cells])
        offsets = np.concatenate([[0], np.cumsum(n_branch)[:-1]])
        parents = np.concatenate(
            [
                np.where(c.base._branch_parents < 0, -1, c.base._branch_parents + off)
                for c, off in zip(cells, offsets, strict=True)
            ]
        )
        ncomp = np.concatenate([c.base._ncomp_per_branch for c in cells])
        branch_cell = np.repeat(np.arange(len(cells)), n_branch)
        nodes = concat_nodes([c.base._nodes for c in cells])
        nodes = {k: np.array(v, copy=True) for k, v in nodes.items()}
        nodes.update(index_columns(ncomp, branch_cell))
        self._init_base(nodes, parents, ncomp, branch_cell, parts=cells)
        self._frustum = np.concatenate([c.base._frustum for c in cells])
        self._xyzr = [x for c in cells for x in c.base._xyzr]
