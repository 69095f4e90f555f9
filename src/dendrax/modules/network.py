"""A network of cells."""

from __future__ import annotations

import numpy as np

from dendrax import vis as plots
from dendrax.modules.base import Module
from dendrax.modules.branch import Branch
from dendrax.modules.cell import Cell
from dendrax.modules.compartment import Compartment
from dendrax.morphology.layout import compartment_centers
from dendrax.tables import concat_nodes

__all__ = ["Network"]


def _as_cell(module):
    """`module` as a Cell: as in Jaxley, a Compartment is a cell of one branch with one
    compartment and a Branch a cell of that one branch (mechanisms and values kept)."""
    if isinstance(module, Cell):
        return module
    if isinstance(module, Compartment):
        module = Branch([module])
    if isinstance(module, Branch):
        return Cell([module], parents=[-1])
    raise TypeError(
        f"Network() takes a list of Cells (or Branches / Compartments, each one cell); got "
        f"{type(module).__name__}."
    )


class Network(Module):
    """Several cells, later connected by synapses (`dendrax.connect`).

    Synapses are rows of the edge table (`net.edges`, one per synapse: pre/post compartment,
    type, parameters, states, `delay` in ms). Select them with `net.select(edges=...)`,
    `net.edge(...)` or `net.<SynapseName>`; `set`, `make_trainable`, `record` and `clamp`
    then act per synapse.

    Args:
        cells: list of Cells (copied into the network's tables). A Branch or Compartment
            in the list is one cell of one branch (as in Jaxley).
        vectorize_cells: accepted for Jaxley compatibility; cells are always solved
            together by the tree solver (a forest).
    """

    _level = "network"

    def __init__(self, cells, vectorize_cells=None):
        cells = [_as_cell(c) for c in cells]
        if not cells:
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
        frustum = np.concatenate([c.base._frustum for c in cells])
        self._init_base(nodes, parents, ncomp, branch_cell, parts=cells, frustum=frustum)

    def vis(
        self,
        detail: str = "full",
        ax=None,
        color="k",
        synapse_color="b",
        dims=(0, 1),
        type: str = "line",
        cell_plot_kwargs=None,
        synapse_plot_kwargs=None,
        synapse_scatter_kwargs=None,
        **kwargs,
    ):
        """Plot the network with its synapses; returns the axes.

        Args:
            detail: "full" draws every cell's morphology (as `Module.vis` with `type`) and
                each synapse as a line between the centres of its pre- and postsynaptic
                compartments; "point" draws every cell as one point, the mean of its
                compartment centres, and each synapse as a line between the two cells.
            color: matplotlib color of the cells.
            synapse_color: matplotlib color of the synapses.
            dims: coordinate axes to plot (2 or 3 of 0, 1, 2).
            cell_plot_kwargs: passed to the cell plot; `kwargs` too (Jaxley's convention).
            synapse_plot_kwargs: passed to the synapse lines.
            synapse_scatter_kwargs: passed to the markers at the synapses' postsynaptic ends.
        """
        if detail not in ("full", "point"):
            raise ValueError(f"detail must be 'full' or 'point'; got {detail!r}.")
        self._ensure_xyz()
        centers = compartment_centers(self._xyzr, self._ncomp_per_branch)
        cell_kwargs = {**(cell_plot_kwargs or {}), **kwargs}
        edges = self._edges
        pre = np.asarray(edges.get("pre_index", np.zeros(0)), dtype=np.int64)
        post = np.asarray(edges.get("post_index", np.zeros(0)), dtype=np.int64)
        if detail == "full":
            ax = super().vis(ax=ax, color=color, dims=dims, type=type, **cell_kwargs)
            pre_xyz, post_xyz = centers[pre], centers[post]
        else:
            cell_of = self._nodes["global_cell_index"]
            n_cells = int(cell_of.max()) + 1
            counts = np.bincount(cell_of, minlength=n_cells)[:, None]
            points = (
                np.stack(
                    [
                        np.bincount(cell_of, weights=centers[:, k], minlength=n_cells)
                        for k in range(3)
                    ],
                    axis=1,
                )
                / counts
            )
            dims = plots.plot._check_dims(dims)
            ax = plots.plot._axes(ax, dims)
            ax.scatter(*[points[:, d] for d in dims], color=color, **cell_kwargs)
            pre_xyz, post_xyz = points[cell_of[pre]], points[cell_of[post]]
        return plots.plot_synapses(
            pre_xyz,
            post_xyz,
            ax=ax,
            color=synapse_color,
            dims=dims,
            line_kwargs=synapse_plot_kwargs,
            scatter_kwargs=synapse_scatter_kwargs,
        )
