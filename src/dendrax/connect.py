"""Connecting cells of a network with synapses (vectorized: no loop per synapse).

All functions append rows to the network's edge table (`net.edges`); synapse parameters
start at the synapse type's defaults and can be changed per edge with
`net.select(edges=...).set(...)` or `net.<SynapseName>.set(...)`.
"""

from __future__ import annotations

import numbers

import numpy as np

from dendrax.errors import ModelError
from dendrax.modules.base import Module
from dendrax.modules.synapse_table import append_synapses

__all__ = ["connect", "fully_connect", "sparse_connect", "connectivity_matrix_connect"]


def _same_network(pre, post):
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
    if pre.base.tables.level != "network":
        raise ModelError(
            "Synapses connect compartments of a Network; build one with Network([cell, ...]) first."
        )
    return pre.base


def connect(pre, post, synapse) -> None:
    """Connect the compartments of `pre` pairwise to those of `post` with `synapse`.

    Args:
        pre: view of the presynaptic compartments.
        post: view of the same network with as many compartments (one synapse from
            `pre`'s i-th compartment to `post`'s i-th compartment).
        synapse: a `Synapse` instance.
    """
    base = _same_network(pre, post)
    pre_inds, post_inds = pre.node_indices, post.node_indices
    if pre_inds.size != post_inds.size:
        raise ValueError(
            f"connect() pairs compartments one to one, but pre has {pre_inds.size} and post "
            f"has {post_inds.size} compartments. Select equally many (e.g. with .loc(0.0))."
        )
    append_synapses(base, pre_inds, post_inds, synapse)


def _cells_in_view(view):
    """Global cell indices in view, in order of first appearance."""
    cells = view.base.tables.nodes["global_cell_index"][view.node_indices]
    _, first = np.unique(cells, return_index=True)
    return cells[np.sort(first)]


def _first_comps(view, cells):
    """Global index of branch 0 / compartment 0 of each cell (must be in view)."""
    inds = view.node_indices
    nodes = view.base.tables.nodes
    is_first = (nodes["local_branch_index"][inds] == 0) & (nodes["local_comp_index"][inds] == 0)
    first_of_cell = np.full(nodes["global_comp_index"].size, -1, np.int64)
    first_of_cell[nodes["global_cell_index"][inds[is_first]]] = inds[is_first]
    out = first_of_cell[cells]
    if np.any(out < 0):
        raise ValueError(
            f"Cells {cells[out < 0].tolist()} have no compartment 0 of branch 0 in "
            "view; pass cell views (e.g. net.cell([0, 1]))."
        )
    return out


def _draw_post_comps(view, post_cells):
    """A random compartment of cell `post_cells[i]` for every connection i (in view).

    numpy's global RNG is consumed as Jaxley 0.14 does, so that a seeded network is the same
    in both: the cells are visited in increasing global index and each draws, in one
    `np.random.randint(0, n_comps_of_cell_in_view, size=n_connections_to_it)` call, the
    compartments of its connections in connection order. The k-th compartment of a cell is
    its k-th compartment in the view's order.
    """
    inds = view.node_indices
    cell_of = view.base.tables.nodes["global_cell_index"][inds]
    order = np.argsort(cell_of, kind="stable")
    sorted_inds, sorted_cells = inds[order], cell_of[order]
    out = np.empty(post_cells.size, np.int64)
    for cell in np.unique(post_cells):
        conns = np.flatnonzero(post_cells == cell)
        lo, hi = np.searchsorted(sorted_cells, [cell, cell + 1])
        out[conns] = sorted_inds[lo + np.random.randint(0, hi - lo, size=conns.size)]
    return out


def _connect_cell_pairs(pre, post, synapse, pre_pos, post_pos, random_post_comp):
    """Connect cell `pre_cells[pre_pos[i]]` to `post_cells[post_pos[i]]` for every i.

    Synapses start at branch 0 / comp 0 of the presynaptic cell and end at branch 0 / comp 0
    of the postsynaptic cell, or at a random compartment of it (`_draw_post_comps`).
    """
    base = _same_network(pre, post)
    pre_cells, post_cells = _cells_in_view(pre), _cells_in_view(post)
    pre_first = _first_comps(pre, pre_cells)
    if random_post_comp:
        post_comp = _draw_post_comps(post, post_cells[post_pos])
    else:
        post_comp = _first_comps(post, post_cells)[post_pos]
    append_synapses(base, pre_first[pre_pos], post_comp, synapse)


def fully_connect(pre_cell_view, post_cell_view, synapse, random_post_comp: bool = False):
    """Connect every cell of `pre_cell_view` to every cell of `post_cell_view`.

    Synapses start at branch 0 / compartment 0 of the presynaptic cell and end at branch 0 /
    compartment 0 of the postsynaptic cell, or at a random compartment of it with
    `random_post_comp=True`. Edges are ordered by presynaptic, then postsynaptic cell.

    The random compartments use numpy's global RNG as Jaxley 0.14 does, so that after the
    same `np.random.seed` both build the same network: postsynaptic cells in increasing
    global index each draw their `n_pre` compartments with one
    `np.random.randint(0, n_comps_of_cell, size=n_pre)` call, the j-th draw for the synapse
    from the j-th presynaptic cell.
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

    numpy's global RNG is used as in Jaxley 0.14 (same calls, same order), so a seeded
    network is the same as Jaxley's: `np.random.binomial` for the number of pairs, one
    `np.random.randint` call for all presynaptic and one for all postsynaptic cells, then
    the postsynaptic compartments if `random_post_comp` (see `fully_connect`).

    Edges are sorted by presynaptic cell (numpy's default argsort). With
    `random_post_comp=True` Jaxley 0.14 pairs the sorted presynaptic cells with the sorted
    postsynaptic cells, which couples low with low indices; dendrax does the same, so that a
    seeded network is Jaxley's.
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
    # numpy's default argsort, as Jaxley: its tie order (SIMD sorts) is what Jaxley gets on
    # the same machine, so a seeded network is the same as Jaxley's there.
    order = np.argsort(pre_pos)
    pre_pos, post_pos = pre_pos[order], post_pos[order]
    if random_post_comp:
        # Jaxley 0.14 samples the postsynaptic compartments grouped by cell and pairs them
        # with the pre-sorted presynaptic rows as they come, so the postsynaptic cells end up
        # sorted independently of the presynaptic ones (checked against jaxley 0.14.0).
        post_pos = np.sort(post_pos)
    _connect_cell_pairs(pre_cell_view, post_cell_view, synapse, pre_pos, post_pos, random_post_comp)


def connectivity_matrix_connect(
    pre_cell_view, post_cell_view, synapse, connectivity_matrix, random_post_comp: bool = False
):
    """Connect cell `i` of `pre_cell_view` to cell `j` of `post_cell_view` where
    `connectivity_matrix[i, j]` is non-zero (True).

    Edges are in row-major order of the matrix. With `random_post_comp=True` the
    postsynaptic compartments are drawn from numpy's global RNG as Jaxley 0.14 does (see
    `fully_connect`): each postsynaptic cell, in increasing global index, draws the
    compartments of all its synapses with one `np.random.randint` call.

    Args:
        connectivity_matrix: array of shape (n_pre_cells, n_post_cells); as in Jaxley,
            values are not weights, only zero (no synapse) or non-zero (synapse) counts.
    """
    _same_network(pre_cell_view, post_cell_view)
    matrix = np.asarray(connectivity_matrix)
    if not (matrix.dtype == bool or np.issubdtype(matrix.dtype, np.number)):
        raise TypeError(
            f"connectivity_matrix must be boolean or numeric; got dtype {matrix.dtype}."
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
    _connect_cell_pairs(pre_cell_view, post_cell_view, synapse, pre_pos, post_pos, random_post_comp)
