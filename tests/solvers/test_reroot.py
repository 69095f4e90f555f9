"""`centre_rooted_parents` against a brute-force search over every root (breadth-first
distances), and the compiled tree solve on re-rooted forests against numpy's dense solve."""

from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import dense_matrix

from dendrax.solvers import native_tree
from dendrax.solvers.reroot import centre_rooted_parents
from dendrax.solvers.tree import build_tree_order


def _random_forest(seed, n):
    """A forest of long, sparsely branched trees, roots at the ends of their paths."""
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(max(0, i - 3), i)) for i in range(1, n)])
    parent[rng.choice(np.arange(1, n), 2, replace=False)] = -1
    return parent


def _heights_by_search(parent):
    """{node: largest distance from it within its tree}, by a search from every node."""
    n = parent.size
    neighbours = [[] for _ in range(n)]
    for child in np.flatnonzero(parent >= 0):
        neighbours[child].append(int(parent[child]))
        neighbours[int(parent[child])].append(int(child))
    heights = {}
    for start in range(n):
        distance = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for other in neighbours[node]:
                if other not in distance:
                    distance[other] = distance[node] + 1
                    queue.append(other)
        heights[start] = (max(distance.values()), frozenset(distance))
    return heights


def _tree_height(parent, root):
    depth = {root: 0}
    frontier = [root]
    while frontier:
        frontier = [int(c) for p in frontier for c in np.flatnonzero(parent == p)]
        for c in frontier:
            depth[c] = depth[int(parent[c])] + 1
    return max(depth.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_tree_is_rooted_at_a_node_of_least_height(seed):
    parent = _random_forest(seed, 120)
    rooted, flipped = centre_rooted_parents(parent)
    heights = _heights_by_search(parent)
    old_roots = set(np.flatnonzero(parent < 0).tolist())
    new_roots = np.flatnonzero(rooted < 0)
    assert len(new_roots) == len(old_roots)
    moved = 0
    for root in new_roots:
        height, members = heights[int(root)]
        assert height == min(heights[m][0] for m in members)
        assert _tree_height(rooted, int(root)) == height
        (old_root,) = old_roots & members
        moved += int(root) != old_root
        if height == heights[old_root][0]:  # no strictly lower root: the tree keeps its own
            assert int(root) == old_root
    assert moved > 0  # the forests above have trees rooted off-centre
    # same edges, some reversed: `flipped` marks exactly the reversed ones
    children = np.flatnonzero(rooted >= 0)
    same = parent[children] == rooted[children]
    reversed_ = parent[rooted[children]] == children
    assert np.all(same | reversed_)
    np.testing.assert_array_equal(flipped[children], reversed_)
    assert not np.any(flipped[rooted < 0])


def test_a_path_is_rooted_at_its_middle():
    parent = np.arange(-1, 10)  # 0 <- 1 <- ... <- 10
    rooted, _ = centre_rooted_parents(parent)
    assert np.flatnonzero(rooted < 0).tolist() == [5]


@pytest.fixture(scope="module")
def built():
    if not native_tree.native_available():
        pytest.skip("no C++ compiler here: the compiled tree solve is not built")


def _system(parent, seed):
    rng = np.random.default_rng(seed)
    n = parent.size
    upper = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    return rng.uniform(2.5, 5.0, n), upper, lower, rng.normal(size=n)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_kernel_solves_re_rooted_forests(built, seed):
    parent = _random_forest(seed, 200)
    order = build_tree_order(parent)
    schedule, _ = native_tree._schedule(order)
    assert schedule[2].sum() > 0  # some edges are eliminated against their orientation
    system = _system(parent, seed)
    diag, upper, lower, rhs = system
    expected = np.linalg.solve(dense_matrix(parent, *system[:3]), rhs)
    got = native_tree.native_tree_solve(order, *map(jnp.asarray, system))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)
    # the kernel never reads roots' entries (a re-rooted root may be any node, and the old
    # root is an inner node): values there must not change the solution
    junk = [jnp.asarray(np.where(parent < 0, 7.0, x)) for x in (upper, lower)]
    got = native_tree._native_primal(order, jnp.asarray(diag), *junk, jnp.asarray(rhs))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)
    # the transposed solve (reverse mode) runs the same schedule with upper and lower swapped
    weights = np.linspace(-1.0, 1.0, parent.size)
    grad = jax.grad(
        lambda b: jnp.sum(weights * native_tree.native_tree_solve(order, diag, upper, lower, b))
    )(jnp.asarray(rhs))
    matrix = dense_matrix(parent, *system[:3])
    np.testing.assert_allclose(np.asarray(grad), np.linalg.solve(matrix.T, weights), atol=1e-10)
