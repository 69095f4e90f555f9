"""Schedule of the branched tree solve (`dendrax.solvers.branched`), built once in numpy.

A node of a forest is *kept* if it has two or more children; every other node lies on
exactly one *chain*: a maximal unbranched path of non-kept nodes, from its *head* (a root,
or a child of a kept node, the chain's *top*) down to its *bottom* (a leaf, or the parent of
a kept node, the chain's *base*). Eliminating the nodes of every chain leaves the tree
matrix of the kept nodes alone, in which each kept node hangs from the top of the chain
above it (or from its kept parent directly): the *reduced tree*.

The chains are laid out as the columns of an (L, C) table in elimination order: row 0 is
eliminated first, row L - 1 holds every chain's head, and a chain of k < L nodes has
dummy entries (node index `n`) in rows 0 .. L - k - 1, which eliminate to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dendrax.solvers.tree import TreeOrder, build_tree_order

__all__ = ["BranchSchedule", "build_branch_schedule", "order_iterations"]


@dataclass(frozen=True, eq=False)
class BranchSchedule:
    """Index tables of the branched solve of a forest of `n` nodes (all numpy, int64).

    Attributes:
        n: number of nodes; index `n` names the dummy node (padding).
        chain_nodes: (L, C) node of every chain position, in elimination order (bottom
            first, head in row L - 1), `n` for padding.
        base_rows: (L, C) the chain's base (kept node below its bottom) in the row of its
            bottom node, `n` elsewhere and for chains ending in a leaf.
        top: (C,) reduced index of each chain's top, `K` (dummy) for chains from a root.
        base: (C,) reduced index of each chain's base, `K` for chains ending in a leaf.
        kept: (K,) node index of every kept node (the reduced tree's node order).
        above: (K,) chain whose base each kept node is, `C` (none) otherwise.
        reduced_source: (K,) where the reduced off-diagonals come from, as indices into
            `[upper or lower (n), 0, chain couplings (C)]`: a kept node's own entry if its
            parent is kept, `n` (zero) for a reduced root, `n + 1 + c` for the fill-in of
            chain `c` above it.
        reduced: elimination order of the reduced tree (`build_tree_order`, identical
            trees batched); None if nothing is kept.
        position: (n,) where each node's solution is, as an index into
            `[chain solutions (L * C, row-major), reduced solution (K)]`.
    """

    n: int
    chain_nodes: np.ndarray
    base_rows: np.ndarray
    top: np.ndarray
    base: np.ndarray
    kept: np.ndarray
    above: np.ndarray
    reduced_source: np.ndarray
    reduced: TreeOrder | None
    position: np.ndarray

    @property
    def length(self) -> int:
        """L: positions per chain, the sequential steps of each sweep along the chains."""
        return int(self.chain_nodes.shape[0])

    @property
    def num_chains(self) -> int:
        return int(self.chain_nodes.shape[1])

    @property
    def num_kept(self) -> int:
        return int(self.kept.shape[0])


def order_iterations(order: TreeOrder) -> int:
    """Dependent loop iterations of one `tree_solve` with `order` (elimination of every
    non-root node, then back-substitution of every node; identical trees side by side)."""
    if order.groups is not None:
        return sum(order_iterations(packed) for _, packed, _ in order.groups)
    n = order.num_nodes
    return 2 * n - int(np.sum(order.parent[:n] == n))


def build_branch_schedule(parent: np.ndarray) -> BranchSchedule:
    """The chains and reduced tree of a forest.

    Args:
        parent: (n,) int parent of each node, -1 for roots (a forest, as for
            `build_tree_order`, which has checked it).
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = parent.shape[0]
    if n == 0:
        raise ValueError("The branched solve needs at least one node; got an empty forest.")
    has_parent = parent >= 0
    safe_parent = np.where(has_parent, parent, 0)
    n_children = np.bincount(parent[has_parent], minlength=n)
    kept_mask = n_children >= 2
    kept = np.flatnonzero(kept_mask)
    k_kept = kept.shape[0]
    reduced_index = np.full(n + 1, k_kept, dtype=np.int64)  # n (dummy) -> K (dummy)
    reduced_index[kept] = np.arange(k_kept)
    only_child = np.full(n, n, dtype=np.int64)  # the child of a node with exactly one
    single = has_parent & (n_children[safe_parent] == 1)
    only_child[parent[single]] = np.flatnonzero(single)

    heads = np.flatnonzero(~kept_mask & (~has_parent | kept_mask[safe_parent]))
    # Walk all chains down at once: walk[j][c] is the j-th node of chain c from its head.
    walk = [heads]
    while True:
        current = walk[-1]
        nxt = np.where(current < n, only_child[np.minimum(current, n - 1)], n)
        nxt = np.where((nxt < n) & ~kept_mask[np.minimum(nxt, n - 1)], nxt, n)
        if not np.any(nxt < n):
            break
        walk.append(nxt)
    lengths = np.sum(np.stack(walk) < n, axis=0)
    length = int(lengths.max())
    n_chains = heads.shape[0]

    chain_nodes = np.full((length, n_chains), n, dtype=np.int64)
    columns = np.arange(n_chains)
    for j, nodes in enumerate(walk):  # j-th node from the head sits in row L - 1 - j
        real = nodes < n
        chain_nodes[length - 1 - j, columns[real]] = nodes[real]
    bottom = chain_nodes[length - lengths, columns]
    base_node = only_child[bottom]  # kept, or n for a leaf
    base_rows = np.full((length, n_chains), n, dtype=np.int64)
    base_rows[length - lengths, columns] = base_node
    top_node = np.where(has_parent[heads], parent[heads], n)

    above = np.full(k_kept, n_chains, dtype=np.int64)
    with_base = base_node < n
    above[reduced_index[base_node[with_base]]] = columns[with_base]
    from_chain = above < n_chains
    chain_top = np.concatenate([top_node, [n]])[above]  # n where none or from a root
    kept_parent = parent[kept]
    direct = ~from_chain & (kept_parent >= 0)
    reduced_parent_node = np.where(from_chain, chain_top, np.where(direct, kept_parent, n))
    reduced_parent = reduced_index[reduced_parent_node]
    reduced_parent = np.where(reduced_parent == k_kept, -1, reduced_parent)
    # chains from a root give their base no parent: its coupling stays 0 (source n)
    source = np.where(from_chain & (chain_top < n), n + 1 + above, np.where(direct, kept, n))

    position = np.empty(n, dtype=np.int64)
    flat = chain_nodes.reshape(-1)
    real = flat < n
    position[flat[real]] = np.flatnonzero(real)
    position[kept] = length * n_chains + np.arange(k_kept)
    return BranchSchedule(
        n=n,
        chain_nodes=chain_nodes,
        base_rows=base_rows,
        top=reduced_index[top_node],
        base=reduced_index[base_node],
        kept=kept,
        above=above,
        reduced_source=source.astype(np.int64),
        reduced=build_tree_order(reduced_parent) if k_kept else None,
        position=position,
    )
