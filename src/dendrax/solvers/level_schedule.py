"""Elimination schedule of a forest in few parallel steps (tree contraction), in numpy.

Eliminating a node `v` of a tree matrix adds fill-in between the neighbours of `v`. When
`v` has at most two neighbours (a leaf, or a node with one child), the fill-in is at most
one new edge, between its child and its parent, so the matrix stays a tree matrix: the
child simply gets `v`'s parent as its new parent. Nodes that are not neighbours of each
other can be eliminated at the same time. One step of the schedule therefore eliminates
an independent set of non-root nodes with at most one (current) child:

- every leaf (the "rake" of tree contraction), and
- every other node of each unbranched path (the "compress"), counted from the bottom of
  the path, so that paths halve in length at every step.

A forest of `n` nodes is reduced to its roots in O(log n) steps, against one step per
node for Hines elimination and one per depth for a level-by-level elimination (which,
along the unbranched paths of a cable, is close to one per node as well). Independent
trees of a forest (cells of a network) are contracted simultaneously.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ContractionSchedule", "build_contraction_schedule"]


@dataclass(frozen=True, eq=False)
class ContractionSchedule:
    """Which nodes are eliminated together, step after step.

    Node index `n` (= `num_nodes`) is a dummy: it stands for "no child" in `children` and
    pads the tables of `padded_tables`.

    Attributes:
        num_nodes: number of nodes `n` of the forest.
        steps: one `(nodes, parents, children)` triple of (k,) int32 arrays per step: the
            nodes eliminated in the step, their parents and their only children (or `n`)
            at that time. The nodes of a step are neither parents nor children of each
            other, and every node that is not a root is eliminated in exactly one step.
            Nodes with a child come first (so they are a leading slice), each group in
            increasing order.
    """

    num_nodes: int
    steps: tuple

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    def padded_tables(self, start: int = 0) -> tuple:
        """`steps[start:]` as three (n_steps - start, width) int32 tables padded with `n`."""
        steps = self.steps[start:]
        width = max((s[0].shape[0] for s in steps), default=1)
        tables = tuple(np.full((len(steps), width), self.num_nodes, np.int32) for _ in range(3))
        for i, step in enumerate(steps):
            for table, values in zip(tables, step, strict=True):
                table[i, : values.shape[0]] = values
        return tables

    def padding_split(self) -> int:
        """The fewest leading steps to leave out of `padded_tables` so that the tables hold
        at most `n` entries: steps narrow down fast, so after the few wide ones the rest
        pads cheaply."""
        widths = [s[0].shape[0] for s in self.steps]
        for start in range(len(widths)):
            if (len(widths) - start) * max(widths[start:]) <= max(self.num_nodes, 1):
                return start
        return len(widths)


def _distance_to_bottom(below: np.ndarray) -> np.ndarray:
    """(n,) number of hops from each node down its path, `below[v]` the next node (or v).

    List ranking by pointer jumping: O(n log(longest path)) work, no loop over nodes. The
    paths of a forest end, so the pointers reach a fixed point.
    """
    n = below.shape[0]
    hops = (below != np.arange(n)).astype(np.int64)
    ptr = below.copy()
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            return hops
        hops = hops + hops[ptr]
        ptr = nxt


def _check_forest(parent: np.ndarray) -> None:
    """Raise ValueError unless every node reaches a root (-1) by following `parent`."""
    n = parent.shape[0]
    if np.any((parent < -1) | (parent >= n)):
        raise ValueError(
            f"parent indices must be -1 (root) or in [0, {n}); got values out of range."
        )
    up = np.where(parent < 0, np.arange(n), parent)
    for _ in range(n.bit_length()):  # 2^k hops after k rounds: enough for any path
        up = up[up]
    stuck = np.flatnonzero(parent[up] >= 0)
    if stuck.size:
        raise ValueError(
            f"The compartment graph contains a cycle: node {int(stuck[0])} does not lead to a "
            "root; parent must describe a forest."
        )


def build_contraction_schedule(parent: np.ndarray) -> ContractionSchedule:
    """Schedule the elimination of every non-root node of a forest.

    Args:
        parent: (n,) int parent of each node, -1 for roots. Must describe a forest.

    Returns:
        A `ContractionSchedule` whose steps eliminate every node except the roots.

    Raises:
        ValueError: if `parent` is not a forest (an index out of range or a cycle).
    """
    parent = np.asarray(parent, dtype=np.int64)
    if parent.ndim != 1:
        raise ValueError(f"parent must be a 1-d array of node indices; got shape {parent.shape}.")
    n = parent.shape[0]
    _check_forest(parent)
    current = parent.copy()  # parent in the partly eliminated forest; -1 root, -2 eliminated
    steps = []
    nodes_all = np.arange(n)
    while True:
        attached = np.flatnonzero(current >= 0)  # alive nodes with a parent
        if attached.size == 0:
            break
        n_children = np.bincount(current[attached], minlength=n)
        only_child = np.full(n, n, dtype=np.int64)
        only_child[current[attached]] = attached  # valid where n_children == 1
        candidate = (current >= 0) & (n_children <= 1)
        # Candidates form vertical paths; `below` steps down a path (or stays at its bottom).
        child_is_candidate = np.zeros(n, dtype=bool)
        unary = candidate & (n_children == 1)
        child_is_candidate[unary] = candidate[only_child[unary]]
        below = np.where(child_is_candidate, only_child, nodes_all)
        chosen = candidate & (_distance_to_bottom(below) % 2 == 0)
        nodes = np.flatnonzero(chosen)  # never empty: a tree of 2+ nodes has a leaf
        nodes = nodes[np.argsort(n_children[nodes] == 0, kind="stable")]  # with a child first
        parents = current[nodes]
        children = np.where(n_children[nodes] == 1, only_child[nodes], n)
        has_child = children < n
        current[children[has_child]] = parents[has_child]
        current[nodes] = -2
        steps.append(tuple(a.astype(np.int32) for a in (nodes, parents, children)))
    return ContractionSchedule(num_nodes=n, steps=tuple(steps))
