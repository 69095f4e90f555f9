"""``morph_connect``: join two cells at branch ends, re-rooting where needed.

A cell's branches are edges between *points*: point 0 is the start of the root branch and
branch ``b`` ends at point ``b + 1``; a branch starts at its parent's end point. Joining two
cells merges one point of each. The joined cell is then laid out as Jaxley lays it out:

- its root is the start of the first cell's root branch if that point is still a tip;
  otherwise the tip of the first compartment (in the order of the first cell's compartments,
  then the second's) that lies at a tip;
- branches are numbered depth first from the root, the branches leaving a point in the
  order of their original numbers (first cell before second);
- a branch walked from its distal to its proximal end is reversed: its compartments, its
  traced points, and the proximal/distal halves of its resistive loads swap.

Units: µm, µm², µm³, 1/µm.
"""

from __future__ import annotations

import numpy as np

from dendrax.tables import concat_nodes

__all__ = ["morph_connect"]


def _attachment_point(view, tables, name: str, one_comp_end: str):
    """The point (prox/dist end of one branch) a ``branch(i).loc(0.0 | 1.0)`` view names."""
    rows = view.node_indices
    if np.unique(rows).size != 1:
        raise ValueError(f"morph_connect needs {name} of one compartment: branch(i).loc(x).")
    branch = int(tables.nodes["global_branch_index"][rows[0]])
    comp = int(tables.nodes["local_comp_index"][rows[0]])
    last = int(tables.ncomp_per_branch[branch]) - 1
    at = view.loc_at
    if at is None:  # a comp() view: its position says which end, if any
        at = {0: 0.0, last: 1.0}.get(comp) if last else (1.0 if one_comp_end == "dist" else 0.0)
    if at == 1.0 and comp == last:
        return branch, "dist"
    if at == 0.0 and comp == 0:
        return branch, "prox"
    raise ValueError(
        f"{name} must be a branch end, branch(i).loc(0.0) or branch(i).loc(1.0); it is "
        f"compartment {comp} of branch {branch}."
    )


def _branch_points(parents: np.ndarray):
    """(proximal point, distal point) of every branch; roots start at point 0."""
    parents = np.asarray(parents, np.int64)
    return np.where(parents >= 0, parents + 1, 0), np.arange(1, parents.size + 1)


def _layout(prox, dist, ncomp):
    """Depth-first order, reversal flags and new parents of the joined branches.

    ``prox``/``dist`` (n,) point ids of the joined branches (merged point shared), ``ncomp``
    (n,) compartments per branch. Returns ``(order, reversed, parents)`` in the new order.
    """
    n = prox.size
    incident = {}
    for b in range(n):
        incident.setdefault(int(prox[b]), []).append(b)
        incident.setdefault(int(dist[b]), []).append(b)
    degree = {point: len(bs) for point, bs in incident.items()}
    root = int(prox[0])
    if degree[root] != 1:
        first_node = np.concatenate([[0], np.cumsum(ncomp)[:-1]])
        candidates = sorted(
            [(int(first_node[b]), int(prox[b])) for b in range(n)]
            + [(int(first_node[b] + ncomp[b] - 1), int(dist[b])) for b in range(n)]
        )
        root = next(point for _, point in candidates if degree[point] == 1)
    order, flipped, parents = [], [], []
    new_index = {}
    stack = [(b, root, -1) for b in sorted(incident[root], reverse=True)]
    while stack:
        branch, start, parent = stack.pop()
        reverse = int(dist[branch]) == start
        end = int(prox[branch]) if reverse else int(dist[branch])
        new_index[branch] = len(order)
        order.append(branch)
        flipped.append(reverse)
        parents.append(parent)
        children = [c for c in incident[end] if c != branch]
        stack.extend((c, end, new_index[branch]) for c in sorted(children, reverse=True))
    return np.asarray(order), np.asarray(flipped, bool), np.asarray(parents, np.int64)


def _reorder_rows(nodes, frustum, ncomp, order, flipped):
    """Node rows and frustum flags of the branches in ``order``, reversed where flagged."""
    offsets = np.concatenate([[0], np.cumsum(ncomp)])
    pieces = [
        np.arange(offsets[b], offsets[b + 1])[:: -1 if flip else 1]
        for b, flip in zip(order, flipped, strict=True)
    ]
    rows = np.concatenate(pieces)
    out = {key: values[rows] for key, values in nodes.items()}
    if "resistive_load_in" in out:  # the proximal half of a reversed compartment was distal
        swap = np.repeat(flipped, ncomp[order])
        load_in, load_out = out["resistive_load_in"], out["resistive_load_out"]
        out["resistive_load_in"] = np.where(swap, load_out, load_in)
        out["resistive_load_out"] = np.where(swap, load_in, load_out)
    return out, frustum[rows]


def morph_connect(view1, view2):
    """A new Cell: the cells of ``view1`` and ``view2`` joined at the given branch ends.

    Each view is ``cell.branch(i).loc(0.0)`` (the proximal end of branch i: for the root
    branch the start of the cell, otherwise the branchpoint where branch i leaves its
    parent) or ``cell.branch(i).loc(1.0)`` (the distal end of branch i). The joined cell is
    numbered depth first from its root, reversing branches walked against their original
    direction, as Jaxley does (see the module docstring). Both cells must be free of
    recordings, stimuli, clamps, trainables and synapses.
    """
    from .editing import _cell_parts, _check_no_inputs, _new_cell

    a, b = view1.base, view2.base
    ta, tb = a.tables, b.tables
    for m, t in ((a, ta), (b, tb)):
        if t.level != "cell":
            raise ValueError(f"morph_connect joins Cells, got a {type(m).__name__}.")
        _check_no_inputs(t, "morph_connect")
    branch1, end1 = _attachment_point(view1, ta, "view1", one_comp_end="dist")
    branch2, end2 = _attachment_point(view2, tb, "view2", one_comp_end="prox")
    n1, p1, c1, x1, f1 = _cell_parts(ta)
    n2, p2, c2, x2, f2 = _cell_parts(tb)
    prox1, dist1 = _branch_points(p1)
    prox2, dist2 = _branch_points(p2)
    offset = len(c1) + 1  # the second cell's points follow the first's
    prox2, dist2 = prox2 + offset, dist2 + offset
    point1 = (prox1 if end1 == "prox" else dist1)[branch1]
    point2 = (prox2 if end2 == "prox" else dist2)[branch2]
    prox = np.concatenate([prox1, np.where(prox2 == point2, point1, prox2)])
    dist = np.concatenate([dist1, np.where(dist2 == point2, point1, dist2)])
    ncomp = np.concatenate([c1, c2])
    order, flipped, parents = _layout(prox, dist, ncomp)

    groups = list(ta.groups) + [g for g in tb.groups if g not in ta.groups]
    names_a = [c.name for c in ta.channels]
    channels = list(ta.channels) + [c for c in tb.channels if c.name not in names_a]
    nodes = concat_nodes([n1, n2])
    for g in groups + [c.name for c in channels]:  # absent bool columns are False
        nodes[g] = nodes[g].astype(bool)
    nodes, frustum = _reorder_rows(nodes, np.concatenate([f1, f2]), ncomp, order, flipped)
    traced = x1 + x2  # per-branch (n_points, 4) arrays, proximal to distal
    xyzr = [traced[i][::-1] if flip else traced[i] for i, flip in zip(order, flipped, strict=True)]
    return _new_cell(a, nodes, parents, ncomp[order], xyzr, frustum, channels, groups)
