"""Connecting cells of a network with synapses (vectorized: no loop per synapse).

All functions append rows to the network's edge table (`net.edges`); synapse parameters
start at the synapse type's defaults and can be changed per edge with
`net.select(edges=...).set(...)` or `net.<SynapseName>.set(...)`.
"""

from __future__ import annotations

import numbers

import numpy as np

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
        raise ValueError(
            "The pre- and postsynaptic views belong to different networks; select both from "
            "the same network (e.g. net.cell(0) and net.cell(1))."
        )
    if pre.base._level != "network":
        raise ValueError(
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
    """Global cell indices in view, in order of first appearance."""
    cells = view._col("global_cell_index")
    _, first = np.unique(cells, return_index=True)
    return cells[np.sort(first)]


def _first_comps(view, cells):
    """Global index of branch 0 / compartment 0 of each cell (must be in view)."""
    inds = view._inds
    nodes = view.base._nodes
    is_first = (nodes["local_branch_index"][inds] == 0) & (nodes["local_comp_index"][inds] == 0)
    first_of_cell = np.full(view.base._inds.size, -1, np.int64)
    first_of_cell[nodes["global_cell_index"][inds[is_first]]] = inds[is_first]
    out = first_of_cell[cells]
    if np.any(out < 0):
        raise ValueError(
            f"Cells {cells[out < 0].tolist()} have no compartment 0 of branch 0 in "
            "view; pass cell views (e.g. net.cell([0, 1]))."
        )
    return out


def _post_comps(view, cells_per_pair, random_post_comp):
    """Postsynaptic compartment of every pair: branch 0 / comp 0, or a random compartment
    (uniform over the cell's compartments in view, drawn with `np.random`)."""
    if not random_post_comp:
        cells = _cells_in_view(view)
        first = _first_comps(view, cells)
        lookup = np.full(view.base._inds.size, -1, np.int64)
        lookup[cells] = first
        return lookup[cells_per_pair]
    inds = view._inds
    cell_of = view.base._nodes["global_cell_index"][inds]
    order = np.argsort(cell_of, kind="stable")
    sorted_inds, sorted_cells = inds[order], cell_of[order]
    start = np.searchsorted(sorted_cells, cells_per_pair, side="left")
    count = np.searchsorted(sorted_cells, cells_per_pair, side="right") - start
    pick = np.floor(np.random.random_sample(cells_per_pair.size) * count).astype(np.int64)
    return sorted_inds[start + pick]


def _connect_cell_pairs(pre, post, synapse, pre_pos, post_pos, random_post_comp):
    """Connect cell `pre_cells[pre_pos[i]]` to `post_cells[post_pos[i]]` for every i."""
    base = _same_network(pre, post)
    pre_cells, post_cells = _cells_in_view(pre), _cells_in_view(post)
    pre_first = _first_comps(pre, pre_cells)
    post_comp = _post_comps(post, post_cells[post_pos], random_post_comp)
    append_edges(base, pre_first[pre_pos], post_comp, synapse)


def fully_connect(pre_cell_view, post_cell_view, synapse, random_post_comp: bool = False):
    """Connect every cell of `pre_cell_view` to every cell of `post_cell_view`.

    Synapses start at branch 0 / compartment 0 of the presynaptic cell and end at branch 0 /
    compartment 0 of the postsynaptic cell, or at a random compartment of it with
    `random_post_comp=True`. Edges are ordered by presynaptic, then postsynaptic cell.
    """
    _same_network(pre_cell_view, post_cell_view)
    n_pre = _cells_in_view(pre_cell_view).size
    n_post = _cells_in_view(post_cell_view).size
    pre_pos = np.repeat(np.arange(n_pre), n_post)
    post_pos = np.tile(np.arange(n_post), n_pre)
    _connect_cell_pairs(pre_cell_view, post_cell_view, synapse, pre_pos, post_pos, random_post_comp)


def sparse_connect(
    pre_cell_view, post_cell_view, synapse, p: float, random_post_comp: bool = False
):
    """Connect random cell pairs: `Binomial(n_pre * n_post, p)` pairs drawn uniformly with
    replacement (duplicates possible, so `p = 1` is not the full graph), using `np.random`.

    Edges are sorted by presynaptic, then postsynaptic cell.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1]; got {p!r}.")
    _same_network(pre_cell_view, post_cell_view)
    n_pre = _cells_in_view(pre_cell_view).size
    n_post = _cells_in_view(post_cell_view).size
    n = int(np.random.binomial(n_pre * n_post, float(p)))
    if n == 0:
        return
    pre_pos = np.random.randint(0, n_pre, size=n)
    post_pos = np.random.randint(0, n_post, size=n)
    order = np.lexsort((post_pos, pre_pos))
    _connect_cell_pairs(
        pre_cell_view, post_cell_view, synapse, pre_pos[order], post_pos[order], random_post_comp
    )


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
        raise ValueError(
            f"connectivity_matrix has shape {matrix.shape}; expected ({n_pre}, {n_post}) "
            "(presynaptic cells x postsynaptic cells in view)."
        )
    pre_pos, post_pos = np.nonzero(matrix)
    if pre_pos.size == 0:
        return
    _connect_cell_pairs(pre_cell_view, post_cell_view, synapse, pre_pos, post_pos, random_post_comp)
