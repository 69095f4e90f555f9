"""Schedule of the branched tree solve (`dendrax.solvers.branched`), built once in numpy.

A node of a forest is *kept* if it has two or more children (or the caller asks for it);
every other node lies on exactly one *chain*: a maximal unbranched path of nodes that are
not kept, from its *head* (a root, or a child of a kept node: the chain's *top*) down to its
*bottom* (a leaf, or the parent of a kept node: the chain's *base*). Eliminating the nodes
of every chain leaves the tree matrix of the kept nodes alone, in which each kept node hangs
from the top of the chain above it (or from its kept parent directly): the *reduced tree*.

The chains are the rows of a (C, L) table, head in column 0; a chain of k < L nodes is
padded with the dummy node `n` in columns k .. L - 1, which are eliminated first and to
nothing. dendrax keeps every branch-point node (`keep_from`), so that the chains of a cell
are exactly its branches: with the same number of compartments in every branch they are
consecutive runs of nodes, and the table is a reshape of the node axis (`contiguous`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dendrax.solvers.tree import TreeOrder, build_tree_order

__all__ = ["BranchSchedule", "build_branch_schedule", "order_iterations"]


@dataclass(frozen=True, eq=False)
class BranchSchedule:
    """Index tables of the branched solve of a forest of `n` nodes (numpy, int64).

    Attributes:
        n: number of nodes; index `n` names the dummy node (padding).
        chains: (C, L) node at every chain position, head in column 0, `n` for padding.
        bottom: (C,) column of each chain's bottom node (its length minus one).
        base_node: (C,) node below each chain's bottom (kept), `n` for chains ending in a
            leaf.
        contiguous: `chains` is `arange(C L).reshape(C, L)` and the kept nodes are
            `C L .. n - 1` in order: values are laid out by reshapes, without gathers.
        top: (C,) reduced index of each chain's top, `K` (dummy) for chains from a root.
        base: (C,) reduced index of each chain's base, `K` for chains ending in a leaf.
        kept: (K,) node index of every kept node (the reduced tree's node order).
        above: (K,) chain whose base each kept node is, `C` (none) otherwise.
        below: (K, M) the chains whose top each kept node is, padded with `C` (none).
        reduced_source: (K,) where the reduced off-diagonals come from, as indices into
            `[upper or lower (n), 0, chain couplings (C)]`: a kept node's own entry if its
            parent is kept, `n` (zero) for a reduced root, `n + 1 + c` for the fill-in of
            chain `c` above it.
        reduced: elimination order of the reduced tree (`build_tree_order`, identical
            trees batched); None if nothing is kept.
        position: (n,) where each node's solution is, as an index into
            `[chain solutions (C * L, row-major), reduced solution (K)]`.
    """

    n: int
    chains: np.ndarray
    bottom: np.ndarray
    base_node: np.ndarray
    contiguous: bool
    top: np.ndarray
    base: np.ndarray
    kept: np.ndarray
    above: np.ndarray
    below: np.ndarray
    reduced_source: np.ndarray
    reduced: TreeOrder | None
    position: np.ndarray

    @property
    def length(self) -> int:
        """L: positions per chain, the sequential steps of each sweep along the chains."""
        return int(self.chains.shape[1])

    @property
    def num_chains(self) -> int:
        return int(self.chains.shape[0])

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


def build_branch_schedule(parent: np.ndarray, keep_from: int | None = None) -> BranchSchedule:
    """The chains and reduced tree of a forest.

    Args:
        parent: (n,) int parent of each node, -1 for roots (a forest, as for
            `build_tree_order`, which has checked it).
        keep_from: nodes from this index on are kept whatever their number of children
            (dendrax's branch-point nodes follow the compartments); None: none.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = parent.shape[0]
    if n == 0:
        raise ValueError("The branched solve needs at least one node; got an empty forest.")
    has_parent = parent >= 0
    safe_parent = np.where(has_parent, parent, 0)
    n_children = np.bincount(parent[has_parent], minlength=n)
    kept_mask = n_children >= 2
    if keep_from is not None:
        kept_mask[int(keep_from) :] = True
    kept = np.flatnonzero(kept_mask)
    k_kept = kept.shape[0]
    reduced_index = np.full(n + 1, k_kept, dtype=np.int64)  # n (dummy) -> K (dummy)
    reduced_index[kept] = np.arange(k_kept)
    only_child = np.full(n + 1, n, dtype=np.int64)  # the child of a node with exactly one
    single = has_parent & (n_children[safe_parent] == 1)
    only_child[parent[single]] = np.flatnonzero(single)
    in_chain = np.concatenate([~kept_mask, [False]])  # the dummy ends every walk

    heads = np.flatnonzero(~kept_mask & (~has_parent | kept_mask[safe_parent]))
    # Walk all chains down at once: walk[j][c] is the j-th node of chain c from its head.
    walk = [heads]
    while True:
        nxt = only_child[walk[-1]]
        nxt = np.where(in_chain[nxt], nxt, n)
        if not np.any(nxt < n):
            break
        walk.append(nxt)
    chains = np.stack(walk, axis=1)  # (C, L)
    n_chains, length = chains.shape
    columns = np.arange(n_chains)
    bottom = np.sum(chains < n, axis=1) - 1
    base_node = only_child[chains[columns, bottom]]  # kept, or n for a leaf
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

    # chains hanging from each kept node, as a padded table (gathers instead of a scatter)
    top = reduced_index[top_node]
    hanging = np.flatnonzero(top < k_kept)
    by_top = hanging[np.argsort(top[hanging], kind="stable")]
    counts = np.bincount(top[hanging], minlength=k_kept)
    rank = np.arange(by_top.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    below = np.full((k_kept, max(int(counts.max()) if k_kept else 0, 1)), n_chains, np.int64)
    below[top[by_top], rank] = by_top

    position = np.empty(n, dtype=np.int64)
    flat = chains.reshape(-1)
    real = flat < n
    position[flat[real]] = np.flatnonzero(real)
    position[kept] = length * n_chains + np.arange(k_kept)
    return BranchSchedule(
        n=n,
        chains=chains,
        bottom=bottom,
        base_node=base_node,
        contiguous=bool(np.array_equal(position, np.arange(n))),
        top=top,
        base=reduced_index[base_node],
        kept=kept,
        above=above,
        below=below,
        reduced_source=source.astype(np.int64),
        reduced=build_tree_order(reduced_parent) if k_kept else None,
        position=position,
    )
