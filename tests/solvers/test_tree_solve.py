"""The tree (Hines) solver against numpy's dense solve, and its implicit derivative."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import assert_gradients_match_dense, dense_matrix

from dendrax.solvers.tree import build_tree_order, tree_solve


def _random_forest(seed, n=60, n_extra_roots=3):
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    parent[rng.choice(np.arange(1, n), n_extra_roots, replace=False)] = -1
    diag = rng.uniform(3.0, 5.0, n)
    upper = np.where(parent >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    return parent, diag, upper, lower, rng.normal(size=n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_dense_solve(seed):
    parent, diag, upper, lower, rhs = _random_forest(seed)
    x = tree_solve(build_tree_order(parent), *map(jnp.asarray, (diag, upper, lower, rhs)))
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(np.asarray(x), expected, rtol=1e-12, atol=1e-12)


def test_gradients_match_finite_differences_and_forward_mode():
    parent, diag, upper, lower, rhs = _random_forest(3)
    order = build_tree_order(parent)
    node = int(np.flatnonzero(parent >= 0)[5])
    assert_gradients_match_dense(
        lambda d, u, l, b: tree_solve(order, d, u, l, b), parent, (diag, upper, lower, rhs), node
    )


def _forest_of_copies(seed, shapes=((12, 5), (7, 3), (9, 1), (4, 1))):
    """A forest with `count` copies of random trees of `size` nodes, nodes interleaved.

    The copies' nodes are shuffled over the global numbering, so grouping must find them
    through their local numbering, not their position.
    """
    rng = np.random.default_rng(seed)
    parents = []
    offset = 0
    for size, count in shapes:
        tree = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, size)])
        for _ in range(count):
            parents.append(np.where(tree < 0, -1, tree + offset))
            offset += size
    parent = np.concatenate(parents)
    n = parent.size
    # a random merge of the trees' node sequences: interleaved, each tree's order kept
    sizes = [size for size, count in shapes for _ in range(count)]
    tree_of = np.repeat(np.arange(len(sizes)), sizes)
    merged = rng.permutation(tree_of)
    new_label = np.empty(n, dtype=np.int64)
    for t in range(len(sizes)):
        new_label[tree_of == t] = np.flatnonzero(merged == t)
    relabeled = np.full(n, -1)
    relabeled[new_label] = np.where(parent < 0, -1, new_label[np.maximum(parent, 0)])
    diag = rng.uniform(3.0, 5.0, n)
    upper = np.where(relabeled >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    lower = np.where(relabeled >= 0, rng.uniform(-1.0, 0.0, n), 0.0)
    return relabeled, diag, upper, lower, rng.normal(size=n)


def test_identical_trees_are_grouped_and_solved_exactly():
    parent, diag, upper, lower, rhs = _forest_of_copies(4)
    assert build_tree_order(parent).groups is None  # too few copies to batch by default
    order = build_tree_order(parent, min_copies=2)
    sizes = sorted(nodes.shape for nodes, *_ in order.groups)
    # the 5 and the 3 copies are batched; the two single trees form the remaining forest
    assert sizes == [(7, 3), (12, 5), (13, 1)]
    covered = np.sort(np.concatenate([nodes.reshape(-1) for nodes, *_ in order.groups]))
    np.testing.assert_array_equal(covered, np.arange(parent.size))
    args = tuple(map(jnp.asarray, (diag, upper, lower, rhs)))
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(
        np.asarray(tree_solve(order, *args)), expected, rtol=1e-12, atol=1e-12
    )
    unbatched = build_tree_order(parent, batch_identical_trees=False)
    assert unbatched.groups is None
    np.testing.assert_allclose(
        np.asarray(tree_solve(unbatched, *args)), expected, rtol=1e-12, atol=1e-12
    )


def test_grouped_solve_under_vmap_and_grad():
    parent, diag, upper, lower, rhs = _forest_of_copies(5)
    order = build_tree_order(parent, min_copies=2)
    rng = np.random.default_rng(0)
    diags = diag[None, :] + rng.uniform(0.0, 1.0, (4, diag.size))
    solved = jax.vmap(lambda d: tree_solve(order, d, *map(jnp.asarray, (upper, lower, rhs))))(
        jnp.asarray(diags)
    )
    for k in range(4):
        expected = np.linalg.solve(dense_matrix(parent, diags[k], upper, lower), rhs)
        np.testing.assert_allclose(np.asarray(solved[k]), expected, rtol=1e-12, atol=1e-12)

    def loss(d):
        return jnp.sum(jnp.sin(tree_solve(order, d, *map(jnp.asarray, (upper, lower, rhs)))))

    grad = jax.grad(loss)(jnp.asarray(diag))
    node = 17
    step = np.zeros(diag.size)
    step[node] = 1e-6

    def loss_np(d):
        return np.sum(np.sin(np.linalg.solve(dense_matrix(parent, d, upper, lower), rhs)))

    fd = (loss_np(diag + step) - loss_np(diag - step)) / 2e-6
    assert abs(float(grad[node]) - fd) < 1e-7 * max(1.0, abs(fd))


@pytest.mark.parametrize("forest", ["random", "copies"])
@pytest.mark.parametrize("batch", [5, 9])
def test_vmap_wider_than_one_chunk_matchesdense_matrix(batch, forest):
    """Batches wider than `BATCH_CHUNK` run in padded chunks; each column is still exact."""
    make = _random_forest if forest == "random" else _forest_of_copies
    parent, diag, upper, lower, rhs = make(6)
    order = build_tree_order(parent, min_copies=2)
    assert (order.groups is not None) == (forest == "copies")
    rng = np.random.default_rng(1)
    diags = diag[None, :] + rng.uniform(0.0, 1.0, (batch, diag.size))
    rhss = rng.normal(size=(batch, diag.size))

    def solve(d, b):
        return tree_solve(order, d, jnp.asarray(upper), jnp.asarray(lower), b)

    solved = jax.vmap(solve)(jnp.asarray(diags), jnp.asarray(rhss))
    for k in range(batch):
        expected = np.linalg.solve(dense_matrix(parent, diags[k], upper, lower), rhss[k])
        np.testing.assert_allclose(np.asarray(solved[k]), expected, rtol=1e-12, atol=1e-12)
    # reverse mode through the chunked batch: d/d rhs of sum(x) is the transposed solve of 1
    grads = jax.vmap(jax.grad(lambda d, b: jnp.sum(solve(d, b)), argnums=1))(
        jnp.asarray(diags), jnp.asarray(rhss)
    )
    for k in range(batch):
        matrix = dense_matrix(parent, diags[k], upper, lower)
        expected = np.linalg.solve(matrix.T, np.ones(diag.size))
        np.testing.assert_allclose(np.asarray(grads[k]), expected, rtol=1e-12, atol=1e-12)


def test_vmap_with_batched_offdiagonals_matchesdense_matrix():
    """Chunks laid out as one forest: batched off-diagonals are split like the diagonal."""
    parent, diag, upper, lower, rhs = _random_forest(4)
    order = build_tree_order(parent)
    rng = np.random.default_rng(2)
    batch = 11
    uppers = upper[None, :] * rng.uniform(0.5, 1.5, (batch, diag.size))
    lowers = lower[None, :] * rng.uniform(0.5, 1.5, (batch, diag.size))
    rhss = rng.normal(size=(batch, diag.size))

    def solve(u, l, b):
        return tree_solve(order, jnp.asarray(diag), u, l, b)

    solved = jax.jit(jax.vmap(solve))(jnp.asarray(uppers), jnp.asarray(lowers), jnp.asarray(rhss))
    for k in range(batch):
        expected = np.linalg.solve(dense_matrix(parent, diag, uppers[k], lowers[k]), rhss[k])
        np.testing.assert_allclose(np.asarray(solved[k]), expected, rtol=1e-12, atol=1e-12)


def test_entries_at_roots_are_ignored():
    # A root has no parent: its `upper`/`lower` entries belong to no matrix element.
    parent, diag, upper, lower, rhs = _random_forest(3)
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    roots = parent < 0
    upper, lower = upper.copy(), lower.copy()
    upper[roots], lower[roots] = 7.0, -3.0
    x = tree_solve(build_tree_order(parent), *map(jnp.asarray, (diag, upper, lower, rhs)))
    np.testing.assert_allclose(np.asarray(x), expected, rtol=1e-12, atol=1e-12)
