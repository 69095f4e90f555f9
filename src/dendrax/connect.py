"""Connecting cells of a network with synapses (vectorized: no loop per synapse).

All functions append rows to the network's edge table (`net.edges`); synapse parameters
start at the synapse type's defaults and can be changed per edge with
`net.select(edges=...).set(...)` or `net.<SynapseName>.set(...)`.
"""

from __future__ import annotations

import numbers

import numpy as np

from dendrax.errors import ModelError
from dendrax.synapses.edges import append_edges

__all__ = ["connect", "fully_connect", "sparse_connect", "connectivity_matrix_connect"]


def _same_network(pre, post):
    from dendrax.modules.base import Module

    for name, view in (("pre", pre), ("post", post)):
        if not isinstance(view, Module):
            raise TypeError(
                f"The {name}synaptic argument must be a module or view; got {type(view).__name__}."
            )
    if pre.base is not post.base:
        raise ModelError(
            "The pre- and postsynaptic views belong to different networks; select both from "
            "the same network (e.g. net.cell(0) and net.cell(1))."
        )
    if pre.base._level != "network":
        raise ModelError(
            "Synapses connect compartments of a Network; build one with Network([cell, ...]) first."
        )
    return pre.base


def connect(pre, post, synapse) -> None:
    """Connect the compartments of `pre` pairwise to those of `post` with `synapse`.

    Args:
        pre, post: views of the same network with equally many compartments (one synapse
            from `pre`'s i-th compartment to `post`'s i-th compartment).
        synapse: a `Synapse` instance.
    """
    base = _same_network(pre, post)
    pre_inds, post_inds = pre._inds, post._inds
    if pre_inds.size != post_inds.size:
        raise ValueError(
            f"connect() pairs compartments one to one, but pre has {pre_inds.size} and post "
            f"has {post_inds.size} compartments. Select equally many (e.g. with .loc(0.0))."
        )
    append_edges(base, pre_inds, post_inds, synapse)


def _cells_in_view(view):
    """Global cell indices in view, ascending (Jaxley's `_cells_in_view`)."""
    return np.unique(view._col("global_cell_index"))


def _first_comps(view, cells):
    """Global index of branch 0 / compartment 0 of each cell (of the base module)."""
    nodes = view.base._nodes
    first = np.flatnonzero((nodes["local_branch_index"] == 0) & (nodes["local_comp_index"] == 0))
    first_of_cell = np.full(int(nodes["global_cell_index"].max()) + 1, -1, np.int64)
    first_of_cell[nodes["global_cell_index"][first]] = first
    return first_of_cell[cells]


def _post_comps(view, cells_per_edge, random_post_comp):
    """Postsynaptic compartment of every edge.

    Without `random_post_comp`: the first compartment in view of the cell (branch 0 /
    compartment 0 for a cell view). With it: a compartment drawn uniformly from the cell's
    compartments in view with `np.random` (as Jaxley: the draws are made grouped by
    postsynaptic cell, ascending, and in edge order within a cell).
    """
    inds = np.sort(view._inds)
    cell_of = view.base._nodes["global_cell_index"][inds]  # ascending: cells are contiguous
    start = np.searchsorted(cell_of, cells_per_edge, side="left")
    if not random_post_comp:
        return inds[start]
    count = np.searchsorted(cell_of, cells_per_edge, side="right") - start
    order = np.argsort(cells_per_edge, kind="stable")
    out = np.empty(cells_per_edge.size, np.int64)
    if order.size:
        # `randint` with per-draw upper bounds consumes the stream as one `choice` per draw.
        out[order] = inds[start[order] + np.random.randint(0, count[order])]
    return out


def _connect_cells(pre, post, synapse, pre_cells, post_cells, random_post_comp):
    """Connect cell `pre_cells[i]` to cell `post_cells[i]` (global indices) for every i."""
    base = _same_network(pre, post)
    post_comp = _post_comps(post, post_cells, random_post_comp)
    append_edges(base, _first_comps(pre, pre_cells), post_comp, synapse)


def fully_connect(pre_cell_view, post_cell_view, synapse, random_post_comp: bool = False):
    """Connect every cell of `pre_cell_view` to every cell of `post_cell_view`.

    Synapses start at branch 0 / compartment 0 of the presynaptic cell and end at branch 0 /
    compartment 0 of the postsynaptic cell, or at a random compartment of it with
    `random_post_comp=True`. Edges are ordered by presynaptic, then postsynaptic cell.
    """
    _same_network(pre_cell_view, post_cell_view)
    pre_cells, post_cells = _cells_in_view(pre_cell_view), _cells_in_view(post_cell_view)
    _connect_cells(
        pre_cell_view,
        post_cell_view,
        synapse,
        np.repeat(pre_cells, post_cells.size),
        np.tile(post_cells, pre_cells.size),
        random_post_comp,
    )


def sparse_connect(
    pre_cell_view, post_cell_view, synapse, p: float, random_post_comp: bool = False
):
    """Connect random cell pairs: `Binomial(n_pre * n_post, p)` pairs drawn uniformly with
    replacement (duplicates possible, so `p = 1` is not the full graph), using `np.random`.

    Edges are sorted by presynaptic cell (in draw order within one); with
    `random_post_comp=True` they are then grouped by postsynaptic cell (as Jaxley).
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1]; got {p!r}.")
    _same_network(pre_cell_view, post_cell_view)
    pre_cells, post_cells = _cells_in_view(pre_cell_view), _cells_in_view(post_cell_view)
    n = int(np.random.binomial(pre_cells.size * post_cells.size, float(p)))
    if n == 0:
        return
    pre = pre_cells[np.random.randint(0, pre_cells.size, size=n)]
    post = post_cells[np.random.randint(0, post_cells.size, size=n)]
    order = np.argsort(pre)  # numpy's default sort, as Jaxley (ties keep draw order here)
    pre, post = pre[order], post[order]
    if random_post_comp:
        # Jaxley's edges then come grouped by postsynaptic cell.
        order = np.argsort(post, kind="stable")
        pre, post = pre[order], post[order]
    _connect_cells(pre_cell_view, post_cell_view, synapse, pre, post, random_post_comp)


def connectivity_matrix_connect(
    pre_cell_view, post_cell_view, synapse, connectivity_matrix, random_post_comp: bool = False
):
    """Connect cell `i` of `pre_cell_view` to cell `j` of `post_cell_view` where
    `connectivity_matrix[i, j]` is True.

    Args:
        connectivity_matrix: boolean array of shape (n_pre_cells, n_post_cells).
    """
    _same_network(pre_cell_view, post_cell_view)
    matrix = np.asarray(connectivity_matrix)
    if matrix.dtype != bool:
        raise TypeError(
            f"connectivity_matrix must have dtype bool; got {matrix.dtype}. Use e.g. "
            "matrix.astype(bool) or matrix > 0."
        )
    n_pre = _cells_in_view(pre_cell_view).size
    n_post = _cells_in_view(post_cell_view).size
    if matrix.shape != (n_pre, n_post):
        raise ModelError(
            f"connectivity_matrix has shape {matrix.shape}; expected ({n_pre}, {n_post}) "
            "(presynaptic cells x postsynaptic cells in view)."
        )
    pre_pos, post_pos = np.nonzero(matrix)
    if pre_pos.size == 0:
        return
    _connect_cells(
        pre_cell_view,
        post_cell_view,
        synapse,
        _cells_in_view(pre_cell_view)[pre_pos],
        _cells_in_view(post_cell_view)[post_pos],
        random_post_comp,
    )
