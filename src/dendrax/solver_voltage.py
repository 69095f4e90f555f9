"""Tree linear solves addressed as in Jaxley 0.14's `jaxley.solver_voltage`.

Jaxley describes the tree matrix of its "jaxley.dhs" voltage solver by a `solve_indexer`:
the parent-child edges grouped by level. `_make_dhs_solve` turns such a description into a
solve function. dendrax solves it with its own tree solver (`dendrax.solvers.tree`,
Hines elimination with an implicit O(n) derivative); only the way the matrix is addressed
follows Jaxley:

* arrays have `n_nodes + 1` entries; the last is a padding node that couples to nothing
  (Jaxley sets its diagonal to 1 and right-hand side to 0);
* for every edge (child c, parent p): `A[p, c] = uppers[c]` and `A[c, p] = lowers[c]`;
  `diags[i] = A[i, i]`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from dendrax.solvers.tree import build_tree_order, tree_solve

__all__ = ["_make_dhs_solve"]


def _parents_from_indexer(solve_indexer: dict, n_nodes: int) -> np.ndarray:
    """(n_nodes,) parent of every node (-1 for roots) from a Jaxley `solve_indexer`."""
    parent = np.full(n_nodes, -1, dtype=np.int64)
    groups = solve_indexer.get("node_order_grouped")
    if groups is not None:
        edges = [np.asarray(g, dtype=np.int64).reshape(-1, 2) for g in groups]
        edges = np.concatenate(edges) if edges else np.zeros((0, 2), np.int64)
        children, parents = edges[:, 0], edges[:, 1]
    else:
        children = np.asarray(solve_indexer["all_children"], dtype=np.int64)
        parents = np.asarray(solve_indexer["all_parents"], dtype=np.int64)
    bad = (children < 0) | (children >= n_nodes) | (parents < 0) | (parents >= n_nodes)
    if bad.any():
        raise ValueError(
            f"solve_indexer has edges outside the {n_nodes} nodes: "
            f"{np.stack([children[bad], parents[bad]], 1).tolist()}."
        )
    if np.unique(children).size != children.size:
        raise ValueError("solve_indexer gives some node more than one parent; it must be a tree.")
    parent[children] = parents
    return parent


def _make_dhs_solve(solve_indexer: dict, optimize_for_gpu: bool = False, n_nodes: int = None):
    """A solve function for the tree matrix described by `solve_indexer` (Jaxley's layout).

    Args:
        solve_indexer: dict with "node_order_grouped" (list of (k, 2) int arrays of
            `[child, parent]` rows, one per level; the levels may have different sizes)
            or, without it, "all_children" / "all_parents" ((m,) int arrays).
        optimize_for_gpu: Jaxley's choice of kernel layout; no effect on the result.
        n_nodes: number of tree nodes (the arrays passed to the solve have one more).

    Returns:
        `solve(diags, lowers, uppers, rhs) -> x`, all (n_nodes + 1,) arrays: `x` solves
        `A x = rhs` for the tree nodes, and the padding entry is `rhs[n] / diags[n]`.
        Jittable and differentiable (one more tree solve per derivative).
    """
    del optimize_for_gpu  # dendrax's tree solver has a single layout
    if n_nodes is None or int(n_nodes) < 0:
        raise ValueError(f"n_nodes must be a non-negative integer; got {n_nodes!r}.")
    n = int(n_nodes)
    order = build_tree_order(_parents_from_indexer(solve_indexer, n))

    def solve(diags, lowers, uppers, rhs):
        diags, lowers, uppers, rhs = (jnp.asarray(a) for a in (diags, lowers, uppers, rhs))
        for name, a in (("diags", diags), ("lowers", lowers), ("uppers", uppers), ("rhs", rhs)):
            if a.shape[0] != n + 1:
                raise ValueError(
                    f"{name} must have n_nodes + 1 = {n + 1} entries (the last is padding); "
                    f"got shape {a.shape}."
                )
        # dendrax's `upper[i]` is A[i, parent] (Jaxley's lowers), `lower[i]` is A[parent, i].
        x = tree_solve(order, diags[:n], lowers[:n], uppers[:n], rhs[:n])
        return jnp.concatenate([x, (rhs[n] / diags[n])[None]])

    return solve
