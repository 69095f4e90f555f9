"""Turn an SWC point table into branches and compartments, following Jaxley's rules.

The rules (Jaxley's graph backend, ``jaxley.io.graph``), in order:

1. The tree is traversed depth-first, neighbours in ascending id order, from the point with
   the lowest id among those with at most one neighbour (usually a tip or a one-child soma).
2. A branch ends after an edge that reaches a leaf or a branching point, and where the
   type id changes between two points (ids outside ``relevant_type_ids`` never split). The
   edge joining two types belongs to the branch of the SWC child's type.
3. A soma traced by a single point gets a second point (a copy) joined to it by an edge of
   length 2r; its branch then is a sphere of area 4πr². Edges from that soma, and from soma
   points with two or more somatic neighbours ("somatic branchpoints"), to non-somatic
   points have length 0, and branches starting there drop the somatic point.
4. A branch's first point takes the radius of its second when their types differ.
5. Optional splits: branches longer than ``max_branch_len`` (at edge boundaries), and
   tracing interruptions (a point whose parent is not the previous id).
6. Every branch's polyline is cut into ``ncomp`` pieces of equal path length; see
   :mod:`dendrax.morphology.geometry` for the per-compartment integrals. Branch length is the
   sum of its edge lengths (each at least 1e-5 µm); a zero-length branch becomes 0.1 µm.

Only the traversal is a loop over points; all geometry is vectorized.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .geometry import polyline_compartments
from .morphology import Morphology
from .swc_parse import SWCPoints
from .swc_text import SWCError, user_stacklevel

__all__ = ["swc_to_morphology"]

_MIN_EDGE = 1e-5  # µm, shortest edge length (coincident points)
_ZERO_BRANCH = 1e-8  # µm, branches shorter than this are ...
_CAPPED_BRANCH = 0.1  # µm, ... given this length


def _graph(points: SWCPoints):
    """Nodes and (parent, child) edges, with a synthetic point for a single-point soma."""
    xyz, r, types = points.xyz, points.radius.copy(), points.types
    ids = points.ids
    child = np.flatnonzero(points.parent_index >= 0)
    e_par, e_child = points.parent_index[child], child
    length = np.maximum(np.linalg.norm(xyz[e_child] - xyz[e_par], axis=1), _MIN_EDGE)
    soma = np.flatnonzero(types == 1)
    ignore = np.zeros(len(ids) + 1, bool)
    single_soma = len(soma) == 1
    if single_soma:
        s = int(soma[0])
        length[(e_par == s) | (e_child == s)] = 0.0
        # Synthetic point 0 (a copy of the lowest-id point, as Jaxley does), parent of soma.
        xyz = np.vstack([xyz[:1], xyz])
        r = np.concatenate([r[:1], r])
        types = np.concatenate([types[:1], types])
        ids = np.concatenate([[ids[0] - 1], ids])
        e_par = np.concatenate([[0], e_par + 1])
        e_child = np.concatenate([[s + 1], e_child + 1])
        length = np.concatenate([[2.0 * points.radius[s]], length])
        ignore[[0, s + 1]] = True
    else:
        ignore = ignore[:-1]
    return ids, types, xyz, r, e_par, e_child, length, ignore, single_soma


def _adjacency(n: int, e_par: np.ndarray, e_child: np.ndarray):
    """CSR adjacency (neighbours ascending) with the edge index of every entry."""
    node = np.concatenate([e_par, e_child])
    nbr = np.concatenate([e_child, e_par])
    edge = np.concatenate([np.arange(len(e_par))] * 2)
    order = np.lexsort((nbr, node))
    ptr = np.concatenate([[0], np.cumsum(np.bincount(node, minlength=n))])
    return ptr, nbr[order], edge[order], node[order]


def _dfs(root: int, n: int, ptr, nbr, edge):
    """Preorder of the tree reachable from ``root`` (sorted neighbours) and entering edges."""
    ptr_l, nbr_l, edge_l = ptr.tolist(), nbr.tolist(), edge.tolist()
    dpar = [-1] * n
    dedge = [-1] * n
    order = []
    stack = [root]
    while stack:
        v = stack.pop()
        order.append(v)
        kids = []
        for k in range(ptr_l[v], ptr_l[v + 1]):
            w = nbr_l[k]
            if w != dpar[v]:
                dpar[w] = v
                dedge[w] = edge_l[k]
                kids.append(w)
        stack.extend(reversed(kids))
    order = np.asarray(order, dtype=np.int64)
    return order, np.asarray(dpar)[order[1:]], np.asarray(dedge)[order[1:]]


def _branch_starts(I, J, forward, types, degree, relevant):
    """Start positions (in DFS edge order) and type ids of branches (rules 1-2)."""
    rel = np.isin(types, relevant)
    change = (rel[I] | rel[J]) & (types[I] != types[J])
    leaf, branching = degree[J] < 2, degree[J] > 2
    middle = ~leaf & ~branching & change
    cut_after = leaf | branching | (middle & ~forward)
    cut_before = (leaf & change) | (middle & forward)
    n_e = len(I)
    starts = np.union1d(np.flatnonzero(cut_before), np.flatnonzero(cut_after) + 1)
    starts = np.union1d([0], starts[starts < n_e]).astype(np.int64)
    last = np.append(starts[1:], n_e) - 1
    by_after = cut_after[last]
    nxt = np.minimum(last + 1, n_e - 1)
    b_type = np.where(
        by_after,
        np.where(leaf[last] & change[last], types[J[last]], types[I[last]]),
        types[I[nxt]],
    )
    return starts, b_type


def _split_long(starts, b_type, L, max_len):
    """Split branches where the running edge length crosses a multiple of ``max_len``."""
    n_e = len(L)
    bid = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n_e)))
    cum = np.cumsum(L)
    before = np.concatenate([[0.0], cum])[starts][bid]
    k = np.floor((cum - before) / max_len)
    new = np.flatnonzero((k[1:] != k[:-1]) & (bid[1:] == bid[:-1])) + 1
    all_starts = np.union1d(starts, new)
    return all_starts, b_type[np.searchsorted(starts, all_starts, side="right") - 1]


def _split_interruptions(starts, b_type, I, J, ids, e_par, e_child, root, single_soma):
    """Split branches at points traced out of order (parent id ≠ id − 1)."""
    n = len(ids)
    bp = np.zeros(n, bool)
    bp[I[starts[1:]]] = True
    par_of = np.full(n, -1)
    par_of[e_child] = e_par
    nodes = np.arange(1 if single_soma else 0, n)
    p = par_of[nodes]
    has = p >= 0
    nodes, p = nodes[has], p[has]
    hit = (ids[p] != ids[nodes] - 1) & ~bp[nodes] & ~bp[p] & (p != root)
    interrupted = np.unique(p[hit])
    if interrupted.size == 0:
        return starts, b_type
    pos_leaving = np.full(n, -1)
    pos_leaving[I] = np.arange(len(I))  # interior points have one leaving DFS edge
    new = pos_leaving[interrupted]
    new = new[new > 0]
    all_starts = np.union1d(starts, new)
    return all_starts, b_type[np.searchsorted(starts, all_starts, side="right") - 1]


def _as_cylinders(geo: dict, comps: np.ndarray, length: float) -> dict:
    """``geo`` with the compartments ``comps`` (mask) replaced by cylinders of ``length``
    (µm) and their mean radius: area 2πrl, volume πr²l, resistive loads (l/2)/(πr²)."""
    r = geo["radius"][comps]
    out = {key: value.copy() for key, value in geo.items()}
    out["area"][comps] = 2.0 * np.pi * r * length
    out["volume"][comps] = np.pi * r**2 * length
    out["resistive_load_in"][comps] = 0.5 * length / (np.pi * r**2)
    out["resistive_load_out"][comps] = 0.5 * length / (np.pi * r**2)
    out["path_length"][comps] = length
    return out


def swc_to_morphology(
    points: SWCPoints,
    ncomp: int,
    max_branch_len: float | None = None,
    min_radius: float | None = None,
    ignore_swc_tracing_interruptions: bool = True,
    relevant_type_ids: Sequence[int] | None = None,
) -> Morphology:
    """Compartmentalize an SWC point table the way Jaxley's ``read_swc`` does.

    Args:
        points: validated point table, from :func:`dendrax.morphology.swc_parse.parse_swc`
            (SWC files) or :func:`dendrax.morphology.swc_parse.validate_points` (arrays
            from any reader).
        ncomp: compartments per branch (≥ 1).
        max_branch_len: split branches longer than this (µm) into pieces.
        min_radius: lower bound of the compartment radius (µm). Like Jaxley, it clamps the
            ``radius`` column only; traced radii of 0 are raised to it for the geometry.
        ignore_swc_tracing_interruptions: if False, start a new branch where the file traces
            a neurite out of order.
        relevant_type_ids: type ids that split branches on change (default [1, 2, 3, 4]).

    Returns:
        The :class:`Morphology` (branch 0 is the root branch).
    """
    if isinstance(ncomp, bool) or int(ncomp) != ncomp or ncomp < 1:
        raise ValueError(f"ncomp must be a positive integer, got {ncomp!r}")
    ncomp = int(ncomp)
    if max_branch_len is not None and not max_branch_len > 0:
        raise ValueError(f"max_branch_len must be > 0 µm, got {max_branch_len!r}")
    if min_radius is not None and not min_radius > 0:
        raise ValueError(f"min_radius must be > 0 µm, got {min_radius!r}")
    relevant = np.asarray([1, 2, 3, 4] if relevant_type_ids is None else relevant_type_ids)

    ids, types, xyz, r, e_par, e_child, L_edge, ignore, single_soma = _graph(points)
    n = len(ids)
    ptr, nbr, edge, node = _adjacency(n, e_par, e_child)
    degree = np.diff(ptr)
    if not single_soma:  # rule 3, somatic branchpoints
        soma_nbrs = np.bincount(node, weights=(types[nbr] == 1), minlength=n)
        sbp = (types == 1) & (soma_nbrs > 1)
        link = sbp[node] & (types[nbr] != 1)
        L_edge[edge[link]] = 0.0
        ignore |= sbp
    root = int(np.flatnonzero(degree < 2)[0])
    order, I, e_dfs = _dfs(root, n, ptr, nbr, edge)
    if len(order) < n:
        warnings.warn(
            f"{points.source}: {n - len(order)} of {n} points are not connected to the tree "
            f"that holds point {ids[root]}; they are ignored (as Jaxley does)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if len(I) == 0:
        raise SWCError(
            f"{points.source}, {points.where(root if not single_soma else root - 1)}: the "
            "morphology is a single non-somatic point; it has no branch to compartmentalize"
        )
    J = order[1:]
    forward = e_par[e_dfs] == I
    L = L_edge[e_dfs]
    starts, b_type = _branch_starts(I, J, forward, types, degree, relevant)
    if max_branch_len is not None:
        starts, b_type = _split_long(starts, b_type, L, max_branch_len)
    if not ignore_swc_tracing_interruptions:
        starts, b_type = _split_interruptions(
            starts, b_type, I, J, ids, e_par, e_child, root, single_soma
        )
    n_b = len(starts)
    ends = np.append(starts[1:], len(I))

    # Point sequences of the branches: I[start], then J[start:end].
    first_pos = starts + np.arange(n_b)
    seq = np.empty(len(I) + n_b, dtype=np.int64)
    is_first = np.zeros(len(seq), bool)
    is_first[first_pos] = True
    seq[first_pos] = I[starts]
    seq[~is_first] = J
    pts = np.column_stack([xyz[seq], r[seq]])
    bleed = types[seq[first_pos]] != types[seq[first_pos + 1]]  # rule 4
    pts[first_pos[bleed], 3] = pts[first_pos[bleed] + 1, 3]
    keep = np.ones(len(seq), bool)
    keep[first_pos[ignore[I[starts]]]] = False
    counts = np.diff(np.append(first_pos, len(seq))) - (~keep[first_pos])
    pts = pts[keep]
    if min_radius is not None:
        pts[:, 3] = np.where(pts[:, 3] > 0, pts[:, 3], min_radius)
    offsets = np.concatenate([[0], np.cumsum(counts)])

    geo = polyline_compartments(pts, offsets, np.full(n_b, ncomp))
    b_len = np.add.reduceat(L, starts)
    # A branch of two or more points that all lie at one position has no traced length: its
    # frusta have no membrane, a compartment of area 0 (NaN in the simulation). Like a
    # zero-length branch it becomes 0.1 µm long, here a cylinder of its points' mean radius.
    traced = np.add.reduceat(geo["path_length"], np.arange(n_b) * ncomp)
    flat = (counts > 1) & ~(traced > 0)
    zero = (b_len < _ZERO_BRANCH) | flat
    if zero.any():
        warnings.warn(
            f"{points.source}: {int(zero.sum())} branch(es) of length 0 (a neurite of a "
            "single point attached to a single-point soma, or points that all lie at one "
            f"position); their length is set to {_CAPPED_BRANCH} µm to avoid NaN during "
            "integration",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        b_len = np.where(zero, _CAPPED_BRANCH, b_len)
    if flat.any():
        geo = _as_cylinders(geo, np.repeat(flat, ncomp), _CAPPED_BRANCH / ncomp)

    radius = geo["radius"]
    if min_radius is not None:
        radius = np.where(np.isnan(radius) | (radius < min_radius), min_radius, radius)

    end_branch = np.full(n, -1)
    end_branch[J[ends - 1]] = np.arange(n_b)
    parents = end_branch[I[starts]]
    parents[0] = -1
    if (parents[1:] < 0).any():  # pragma: no cover - impossible for a DFS of a tree
        raise RuntimeError("internal error: a branch has no parent branch")

    return Morphology(
        parents=parents.astype(np.int64),
        ncomp_per_branch=np.full(n_b, ncomp, dtype=np.int64),
        length=np.repeat(b_len / ncomp, ncomp),
        radius=radius,
        area=geo["area"],
        volume=geo["volume"],
        resistive_load_in=geo["resistive_load_in"],
        resistive_load_out=geo["resistive_load_out"],
        type_id=np.repeat(b_type, ncomp).astype(np.int64),
        xyzr=np.split(pts, offsets[1:-1]),
    )
