"""Re-root each tree of a forest at its centre, so that its longest root path is shortest.

The node-by-node tree solve (`dendrax.solvers.tree`, `dendrax.solvers.native_tree`) runs
one chain of dependent eliminations from the deepest leaf to the root, and back: its
latency grows with the tree's height. A tree matrix can be eliminated towards any node,
not only the one the morphology calls its root; the node that minimises the height is the
tree's centre (the middle of its longest path), which roughly halves the height of a cell
whose soma sits at one end of a long dendrite or axon. Re-rooting changes which end of an
edge is the "parent" only on the path from the old root to the centre.

Everything here is numpy over the arrays of a forest, one vectorized pass per depth level.
"""

from __future__ import annotations

import numpy as np

from dendrax.solvers.tree import build_tree_order

__all__ = ["centre_rooted_parents"]


def _levels(parent: np.ndarray) -> list[np.ndarray]:
    """Nodes by depth (roots first), from `build_tree_order`'s padded table."""
    n = parent.shape[0]
    levels = build_tree_order(parent, batch_identical_trees=False).levels
    return [row[row < n] for row in levels]


def _eccentricities(parent: np.ndarray, levels: list[np.ndarray]):
    """(eccentricity (n,), tree root of every node (n,)) of a forest.

    A node's eccentricity is its largest distance (in edges) to any node of its tree: the
    height of the tree rooted at it. `down` is the height of a node's subtree; `up` the
    longest path that leaves a node through its parent (the parent's own `up`, or down a
    sibling, whichever is longer).
    """
    n = parent.shape[0]
    down = np.zeros(n, dtype=np.int64)
    for nodes in reversed(levels[1:]):
        np.maximum.at(down, parent[nodes], down[nodes] + 1)
    # per parent, the longest and second-longest path down through a child
    children = np.flatnonzero(parent >= 0)
    through = down[children] + 1
    by_parent = np.lexsort((-through, parent[children]))
    children, through = children[by_parent], through[by_parent]
    owner = parent[children]
    first = np.ones(children.shape[0], dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    second = np.zeros_like(first)
    second[1:] = ~first[1:] & first[:-1]
    best, runner_up = np.zeros(n, np.int64), np.zeros(n, np.int64)
    best_child = np.full(n, -1, dtype=np.int64)
    best[owner[first]], best_child[owner[first]] = through[first], children[first]
    runner_up[owner[second]] = through[second]

    up = np.zeros(n, dtype=np.int64)
    root = np.arange(n)
    for nodes in levels[1:]:
        p = parent[nodes]
        sibling = np.where(best_child[p] == nodes, runner_up[p], best[p])
        up[nodes] = 1 + np.maximum(up[p], sibling)
        root[nodes] = root[p]
    return np.maximum(down, up), root


def centre_rooted_parents(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parents of the same forest with every tree rooted at a centre.

    Args:
        parent: (n,) int parent of each node, -1 for roots (a forest, as for
            `build_tree_order`).

    Returns:
        `(new_parent, flipped)`: (n,) int64 parents of the re-rooted forest (-1 for its
        roots), and (n,) bool, True where `new_parent[j]` was a child of `j` in `parent`
        (the edge between them is the same, its orientation reversed). A tree keeps its
        root unless another node has a strictly smaller height; ties go to the lowest
        node index.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = parent.shape[0]
    new_parent = parent.copy()
    if n == 0:
        return new_parent, np.zeros(0, dtype=bool)
    levels = _levels(parent)
    eccentricity, root = _eccentricities(parent, levels)
    by_tree = np.lexsort((np.arange(n), eccentricity, root))
    tree_start = np.ones(n, dtype=bool)
    tree_start[1:] = root[by_tree][1:] != root[by_tree][:-1]
    centre = by_tree[tree_start]  # lowest eccentricity per tree, lowest index first
    old_root = root[centre]
    moved = eccentricity[centre] < eccentricity[old_root]
    # Walk every moved tree's path from its centre to its old root at once, pointing
    # each node on it at the node it came from.
    current, previous = centre[moved], np.full(int(moved.sum()), -1, dtype=np.int64)
    while current.size:
        up_next = parent[current]
        new_parent[current] = previous
        alive = up_next >= 0
        current, previous = up_next[alive], current[alive]
    has_parent = new_parent >= 0
    flipped = np.zeros(n, dtype=bool)
    flipped[has_parent] = parent[new_parent[has_parent]] == np.flatnonzero(has_parent)
    return new_parent, flipped
