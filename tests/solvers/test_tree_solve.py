"""The tree (Hines) solver against numpy's dense solve, and its implicit derivative."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.solvers.tree import build_tree_order, tree_solve


def _random_forest(seed, n=60, n_extra_roots=3):
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    parent[rng.choice(np.arange(1, n), n_extra_roots, replace=False)] = -1
    diag = rng.uniform(3.0, 5.0, n)
    upper = np.where(parent >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    return parent, diag, upper, lower, rng.normal(size=n)


def _dense(parent, diag, upper, lower):
    matrix = np.diag(diag)
    children = np.flatnonzero(parent >= 0)
    matrix[children, parent[children]] = upper[children]
    matrix[parent[children], children] = lower[children]
    return matrix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_dense_solve(seed):
    parent, diag, upper, lower, rhs = _random_forest(seed)
    x = tree_solve(build_tree_order(parent), *map(jnp.asarray, (diag, upper, lower, rhs)))
    expected = np.linalg.solve(_dense(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(np.asarray(x), expected, rtol=1e-12, atol=1e-12)


def test_gradients_match_finite_differences_and_forward_mode():
    parent, diag, upper, lower, rhs = _random_forest(3)
    order = build_tree_order(parent)
    weights = np.linspace(-1.0, 1.0, parent.size)

    def loss(d, u, l, b):
        return jnp.sum(weights * jnp.sin(tree_solve(order, d, u, l, b)))

    def loss_np(d, u, l, b):
        return np.sum(weights * np.sin(np.linalg.solve(_dense(parent, d, u, l), b)))

    args = tuple(map(jnp.asarray, (diag, upper, lower, rhs)))
    grads = jax.grad(loss, argnums=(0, 1, 2, 3))(*args)
    forward = jax.jacfwd(loss, argnums=(0, 1, 2, 3))(*args)
    child = int(np.flatnonzero(parent >= 0)[5])
    for k in range(4):
        np.testing.assert_allclose(np.asarray(grads[k]), np.asarray(forward[k]), atol=1e-12)
        plus = [np.array(a, copy=True) for a in (diag, upper, lower, rhs)]
        minus = [np.array(a, copy=True) for a in (diag, upper, lower, rhs)]
        plus[k][child] += 1e-6
        minus[k][child] -= 1e-6
        fd = (loss_np(*plus) - loss_np(*minus)) / 2e-6
        assert abs(float(grads[k][child]) - fd) < 1e-7 * max(1.0, abs(fd))
