"""Coordinates of compartments: layout of from-scratch cells, centers, distances (µm).

Branch ``b`` of a module has traced points ``module.tables.xyzr[b]`` ((n, 4) x, y, z, r).
Cells built from scratch have NaN points until ``compute_xyz`` lays them out in the xy-plane
(with :func:`layout_xyzr`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "compartment_centers",
    "path_centers",
    "layout_xyzr",
    "distance_direct",
    "distance_pathwise",
]


def layout_xyzr(tables, branch_indices=None) -> list:
    """Traced points of a module (its ``tables``) with the branches that have none (all
    of ``branch_indices``, default every branch) laid out as straight lines in the xy-plane.

    Roots start at the origin along +x; the children of a branch fan out over ±45° around
    its direction, equally spaced. The radius column is the mean compartment radius (µm).
    Returns one (n_points, 4) array per branch.
    """
    ncomp = np.asarray(tables.ncomp_per_branch)
    n_b = len(ncomp)
    off = np.concatenate([[0], np.cumsum(ncomp)])
    lengths = np.add.reduceat(tables.nodes["length"], off[:-1])
    radius = np.add.reduceat(tables.nodes["radius"], off[:-1]) / ncomp
    parents = tables.branch_parents
    angle = np.zeros(n_b)
    end = np.zeros((n_b, 3))
    start = np.zeros((n_b, 3))
    children = [np.flatnonzero(parents == b) for b in range(n_b)]
    todo = [b for b in range(n_b) if parents[b] < 0]
    while todo:
        b = todo.pop()
        p = parents[b]
        if p >= 0:
            start[b] = end[p]
        end[b] = start[b] + lengths[b] * np.array([np.cos(angle[b]), np.sin(angle[b]), 0.0])
        kids = children[b]
        if kids.size:
            spread = np.linspace(-np.pi / 4, np.pi / 4, kids.size) if kids.size > 1 else [0.0]
            angle[kids] = angle[b] + np.asarray(spread)
            todo.extend(kids.tolist())
    # Copies: the module owns its points and users edit them in place (as in Jaxley); the
    # tables' arrays are read-only.
    xyzr = [np.array(x, float) for x in tables.xyzr] + [None] * (n_b - len(tables.xyzr))
    which = range(n_b) if branch_indices is None else np.atleast_1d(branch_indices)
    for b in which:
        if xyzr[b] is None or not np.all(np.isfinite(xyzr[b])):
            xyzr[b] = np.array([[*start[b], radius[b]], [*end[b], radius[b]]])
    return xyzr


def compartment_centers(xyzr, ncomp_per_branch) -> np.ndarray:
    """(n_comps, 3) centers of all compartments (µm), Jaxley's rule.

    Branch ``b`` with ``n`` compartments is cut at path fractions ``k/n`` (k = 0..n) of its
    traced polyline; the center of compartment k is the midpoint of its two end points
    (not the point at path fraction (k + 1/2)/n: on a bent polyline the two differ). A
    branch of one point or zero length puts all centers at its first point; branches
    without traced points give NaN. ``xyzr``: one (n_points, 4) array per branch (µm);
    ``ncomp_per_branch``: compartments per branch.
    """
    ncomp = np.asarray(ncomp_per_branch, np.int64)
    out = np.full((int(ncomp.sum()), 3), np.nan)
    off = np.concatenate([[0], np.cumsum(ncomp)])
    for b, n in enumerate(ncomp):
        pts = xyzr[b] if b < len(xyzr) else None
        if pts is None or not np.all(np.isfinite(pts)):
            continue
        xyz = np.asarray(pts, float)[:, :3]
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xyz, axis=0), axis=1))])
        if cum[-1] <= 0:
            out[off[b] : off[b + 1]] = xyz[0]
            continue
        ends = np.linspace(0.0, cum[-1], n + 1)
        end_xyz = np.column_stack([np.interp(ends, cum, xyz[:, d]) for d in range(3)])
        out[off[b] : off[b + 1]] = 0.5 * (end_xyz[:-1] + end_xyz[1:])
    return out


def path_centers(xyzr, ncomp) -> np.ndarray:
    """(sum(ncomp), 3) points at path fraction (k + 1/2)/n of each traced polyline (µm).

    This is where Jaxley's SWC reader places compartments (``nodes`` x, y, z of a cell
    read from SWC); :func:`compartment_centers` (the midpoint of a compartment's end
    points) is what ``compute_compartment_centers`` writes. ``xyzr``: one (n_points, 4)
    array per branch; ``ncomp``: compartments per branch. NaN for untraced branches.
    """
    ncomp = np.asarray(ncomp, np.int64)
    out = np.full((int(ncomp.sum()), 3), np.nan)
    off = np.concatenate([[0], np.cumsum(ncomp)])
    for b, n in enumerate(ncomp):
        pts = np.asarray(xyzr[b], float)
        if not np.all(np.isfinite(pts)):
            continue
        xyz = pts[:, :3]
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xyz, axis=0), axis=1))])
        at = (np.arange(n) + 0.5) / n * cum[-1]
        out[off[b] : off[b + 1]] = np.column_stack(
            [np.interp(at, cum, xyz[:, d]) for d in range(3)]
        )
    return out


def _centers(view) -> np.ndarray:
    tables = view.base.tables
    nodes = tables.nodes
    if all(k in nodes for k in "xyz") and np.isfinite(nodes["x"]).all():
        return np.column_stack([nodes[k] for k in "xyz"])
    centers = compartment_centers(tables.xyzr, tables.ncomp_per_branch)
    if not np.isfinite(centers).all():
        view.base.compute_xyz()
        tables = view.base.tables
        centers = compartment_centers(tables.xyzr, tables.ncomp_per_branch)
    return centers


def _single_start(start_view) -> int:
    inds = np.unique(start_view.node_indices)
    if inds.size != 1:
        raise ValueError(f"the start view must hold one compartment, got {inds.size}.")
    return int(inds[0])


def distance_direct(start_view, endpoints) -> np.ndarray:
    """Euclidean distance (µm) from the center of the one compartment in ``start_view`` to
    the centers of the compartments of ``endpoints`` (a view); shape (n_endpoints,)."""
    start = _single_start(start_view)
    centers = _centers(start_view)
    return np.linalg.norm(centers[endpoints.node_indices] - centers[start], axis=1)


def _compartment_graph(tables):
    """Sparse symmetric graph of compartments; edge weight (l_a + l_b)/2 (µm)."""
    from scipy.sparse import coo_matrix

    ncomp = tables.ncomp_per_branch
    off = np.concatenate([[0], np.cumsum(ncomp)])
    length = tables.nodes["length"]
    n = int(off[-1])
    branch = np.repeat(np.arange(len(ncomp)), ncomp)
    a = np.flatnonzero(branch[1:] == branch[:-1])
    rows, cols = [a], [a + 1]
    for b in range(len(ncomp)):  # each branchpoint: parent's last comp and children's first
        kids = np.flatnonzero(tables.branch_parents == b)
        if kids.size:
            members = np.concatenate([[off[b + 1] - 1], off[kids]])
            i, j = np.triu_indices(members.size, 1)
            rows.append(members[i])
            cols.append(members[j])
    r, c = np.concatenate(rows), np.concatenate(cols)
    w = 0.5 * (length[r] + length[c])
    return coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)
    ).tocsr()


def distance_pathwise(start_view, endpoints) -> np.ndarray:
    """Path length (µm) along the tree from the center of the one compartment in
    ``start_view`` to the centers of the compartments of ``endpoints``; (n_endpoints,).

    Neighbouring compartments are ``(l_a + l_b)/2`` apart (also across branchpoints).
    """
    from scipy.sparse.csgraph import dijkstra

    start = _single_start(start_view)
    dist = dijkstra(_compartment_graph(start_view.base.tables), indices=start)
    return dist[endpoints.node_indices]
