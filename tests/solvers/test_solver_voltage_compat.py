"""`dendrax.solver_voltage._make_dhs_solve`: a tree solve addressed as in Jaxley 0.14
(edges grouped by level, arrays with one padding entry, `A[p, c] = uppers[c]`,
`A[c, p] = lowers[c]`). Reference: numpy's dense solve of the same matrix.

The random `lowers` are non-zero at the roots, where they couple to nothing: the reverse-mode
derivative of `tree_solve` (a transposed tree solve) must ignore them too."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.solver_voltage import _make_dhs_solve


def _dense(parents_of, diags, lowers, uppers):
    matrix = np.diag(np.asarray(diags, dtype=float))
    for child, parent in parents_of:
        matrix[parent, child] = uppers[child]
        matrix[child, parent] = lowers[child]
    return matrix


@pytest.mark.parametrize("optimize_for_gpu", [False, True])
def test_level_grouped_tree_solve_and_gradient(optimize_for_gpu):
    # Tree 0 -> {1, 2}, 1 -> {3, 4}, 4 -> 5; a second root 6 -> 7 (a forest).
    edges = [(1, 0), (2, 0), (6 + 1, 6), (3, 1), (4, 1), (5, 4)]
    indexer = {
        "node_order_grouped": [np.array(edges[:3]), np.array(edges[3:5]), np.array(edges[5:])]
    }
    solve = _make_dhs_solve(indexer, optimize_for_gpu=optimize_for_gpu, n_nodes=8)
    rng = np.random.default_rng(0)
    diags = np.concatenate([4.0 + rng.random(8), [1.0]])
    lowers = np.concatenate([-rng.random(8), [0.0]])
    uppers = np.concatenate([-rng.random(8), [0.0]])
    rhs = np.concatenate([rng.standard_normal(8), [0.0]])
    matrix = _dense(edges, diags, lowers, uppers)
    x = np.asarray(jax.jit(solve)(diags, lowers, uppers, rhs))
    np.testing.assert_allclose(x, np.linalg.solve(matrix, rhs), atol=1e-12)
    grad = jax.grad(lambda b: jnp.sum(solve(diags, lowers, uppers, b) ** 2))(jnp.asarray(rhs))
    expected = np.linalg.solve(matrix.T, 2 * np.linalg.solve(matrix, rhs))
    np.testing.assert_allclose(np.asarray(grad), expected, atol=1e-10)


def test_children_parents_form_and_bad_input():
    indexer = {"all_children": np.array([1, 2]), "all_parents": np.array([0, 1])}
    solve = _make_dhs_solve(indexer, n_nodes=3)
    diags, lowers, uppers = np.array([3.0, 3, 3, 1]), np.array([0, -1.0, -1, 0]), -np.ones(4)
    rhs = np.array([1.0, 2, 3, 0])
    matrix = _dense([(1, 0), (2, 1)], diags, lowers, uppers)
    np.testing.assert_allclose(solve(diags, lowers, uppers, rhs), np.linalg.solve(matrix, rhs))
    with pytest.raises(ValueError, match="n_nodes \\+ 1 = 4 entries"):
        solve(diags[:3], lowers[:3], uppers[:3], rhs[:3])
    with pytest.raises(ValueError, match="outside the 3 nodes"):
        _make_dhs_solve({"node_order_grouped": [np.array([[3, 0]])]}, n_nodes=3)
    with pytest.raises(ValueError, match="more than one parent"):
        _make_dhs_solve({"node_order_grouped": [np.array([[1, 0], [1, 2]])]}, n_nodes=3)
