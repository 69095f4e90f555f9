"""Group the identical trees of a forest so that they are solved side by side.

A network of copies of one cell has one tree per cell, all with the same shape. Eliminating
them together, node by node of a single copy with every step acting on a row of `K` values
(one per copy), needs `K` times fewer sequential steps than eliminating the whole forest node
by node, and the row operations vectorize.

Trees are compared through their canonical local numbering: the nodes of a tree sorted by
global index, and each node's parent given as a position in that list. Trees with the same
local parent array have the same elimination, whatever their coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ForestGroup", "group_identical_trees", "MAX_BATCHED_GROUPS", "MIN_BATCHED_COPIES"]

#: At most this many groups of identical trees are batched (largest first); all other
#: trees form one remaining forest. Each group costs one more pair of loops to compile.
MAX_BATCHED_GROUPS = 8
#: Fewer copies than this are left to the node-by-node forest solve. Batched copies are
#: packed `tree.BATCH_CHUNK` to a row (`tree._chunked_order`); batching pays for many
#: copies of small cells, not for a few copies of large ones (`bench/bench_network.py`).
MIN_BATCHED_COPIES = 64


@dataclass(frozen=True, eq=False)
class ForestGroup:
    """Trees solved together.

    Attributes:
        nodes: (m, K) global node index of local node `j` of tree `k` (`K` = 1 for the
            forest of all trees that are not batched, `m` then its number of nodes).
        local_parent: (m,) parent of each local node, -1 for roots.
    """

    nodes: np.ndarray
    local_parent: np.ndarray


def _roots(parent: np.ndarray) -> np.ndarray:
    """(n,) root of every node, by pointer jumping (O(n log depth))."""
    n = parent.shape[0]
    up = np.where(parent < 0, np.arange(n), parent)
    while True:
        nxt = up[up]
        if np.array_equal(nxt, up):
            return up
        up = nxt


def group_identical_trees(
    parent: np.ndarray, min_copies: int = MIN_BATCHED_COPIES
) -> tuple[ForestGroup, ...]:
    """Split a forest into groups of identical trees (and one group of the rest).

    Args:
        parent: (n,) parent of every node, -1 for roots.
        min_copies: smallest number of identical trees (>= 2) that are batched.

    Returns:
        Groups covering every node exactly once: up to `MAX_BATCHED_GROUPS` groups of at
        least `min_copies` identical trees, largest first, then (if any nodes are left) one
        forest group with `K` = 1.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = parent.shape[0]
    root = _roots(parent)
    by_tree = np.argsort(root, kind="stable")  # nodes of each tree contiguous, in order
    tree_roots, starts, sizes = np.unique(root[by_tree], return_index=True, return_counts=True)
    local = np.empty(n, dtype=np.int64)
    local[by_tree] = np.arange(n) - np.repeat(starts, sizes)
    local_parent = np.where(parent < 0, -1, local[np.maximum(parent, 0)])

    candidates = []  # (K, size, tree indices)
    for size in np.unique(sizes):
        trees = np.flatnonzero(sizes == size)
        if trees.size < min_copies:
            continue
        node_table = by_tree[starts[trees][:, None] + np.arange(size)]  # (T, size)
        _, inverse, counts = np.unique(
            local_parent[node_table], axis=0, return_inverse=True, return_counts=True
        )
        inverse = inverse.reshape(-1)
        for shape_id in np.flatnonzero(counts >= max(min_copies, 2)):
            candidates.append((int(counts[shape_id]), int(size), trees[inverse == shape_id]))
    candidates.sort(key=lambda c: (-c[0] * c[1], -c[0]))

    groups = []
    batched = np.zeros(tree_roots.shape[0], dtype=bool)
    for _, size, trees in candidates[:MAX_BATCHED_GROUPS]:
        nodes = by_tree[starts[trees][None, :] + np.arange(size)[:, None]]  # (m, K)
        groups.append(ForestGroup(nodes=nodes, local_parent=local_parent[nodes[:, 0]]))
        batched[trees] = True
    if not batched.all():
        rest = np.sort(by_tree[np.repeat(~batched, sizes)])
        position = np.full(n, -1, dtype=np.int64)
        position[rest] = np.arange(rest.shape[0])
        rest_parent = np.where(parent[rest] < 0, -1, position[np.maximum(parent[rest], 0)])
        groups.append(ForestGroup(nodes=rest[:, None], local_parent=rest_parent))
    return tuple(groups)


#: Above this many blocks a group is gathered with an index array instead of slices.
MAX_BLOCKS = 64


def contiguous_blocks(nodes: np.ndarray) -> tuple | None:
    """Describe a group's (m, K) node table as slices of the node axis, if it can be.

    Returns `((row_start, row_end, node_start), ...)` such that, with `r = row_end -
    row_start`, `nodes[row_start + i, k] = node_start + k * r + i`: the rows of a block
    are `x[node_start : node_start + K r].reshape(K, r).T`, a reshape instead of a gather.
    None if the table is not made of such blocks (or of more than `MAX_BLOCKS`).
    """
    m, k = nodes.shape
    breaks = np.flatnonzero(np.any(nodes[1:] != nodes[:-1] + 1, axis=1)) + 1
    bounds = np.concatenate([[0], breaks, [m]])
    if bounds.shape[0] - 1 > MAX_BLOCKS:
        return None
    blocks = []
    for row_start, row_end in zip(bounds[:-1], bounds[1:], strict=True):
        length = int(row_end - row_start)
        first = nodes[row_start]
        if not np.array_equal(first, first[0] + length * np.arange(k)):
            return None
        blocks.append((int(row_start), int(row_end), int(first[0])))
    return tuple(blocks)
