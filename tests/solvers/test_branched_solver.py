"""The branched tree solver (`dendrax.solvers.branched`) against numpy's dense solve,
finite differences and the node-by-node tree solver."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import assert_gradients_match_dense, dense_matrix, shared_cell

import dendrax as jx
from dendrax.channels import HH
from dendrax.modules.export import module_structure
from dendrax.solvers.branch_schedule import build_branch_schedule
from dendrax.solvers.branched import (
    MAX_CLOSED_FORM,
    MAX_UNROLLED,
    BranchedSolver,
    branch_schedule,
    branched_solve,
)
from dendrax.solvers.registry import linear_solver
from dendrax.solvers.tree import build_tree_order


def _random_tree(rng, n, reach=None):
    """Each node hangs from one of the `reach` nodes before it (all of them if None)."""
    return np.array(
        [-1]
        + [int(rng.integers(0 if reach is None else max(0, i - reach), i)) for i in range(1, n)]
    )


def _shapes():
    rng = np.random.default_rng(0)
    binary = np.array([-1] + [(i - 1) // 2 for i in range(1, 63)])
    caterpillar = np.array([-1] + [i - 1 if i % 5 else i - 3 for i in range(1, 80)])
    forest = _random_tree(rng, 90)
    forest[rng.choice(np.arange(1, 90), 4, replace=False)] = -1
    # long chains (beyond the unrolled sweep) below a fork, and chains of mixed lengths
    long_fork = np.array([-1, 0, 0] + [1 + 2 * (i // 2) if i > 1 else 1 for i in range(40)])
    return {
        "single node": np.array([-1]),
        "two roots": np.array([-1, -1]),
        # one chain solved in closed form, by unrolled sweeps, and by a loop
        "short chain": np.arange(-1, MAX_CLOSED_FORM - 1),
        "chain": np.arange(-1, MAX_UNROLLED - 1),
        "long chain": np.arange(-1, 3 * MAX_UNROLLED),
        "star": np.array([-1] + [0] * 30),
        "star of chains": np.array([-1] + [0 if i % 4 == 0 else i for i in range(40)]),
        "binary": binary,
        "caterpillar": caterpillar,
        "random": _random_tree(rng, 120),
        "random, near parents": _random_tree(rng, 120, reach=3),
        "forest": forest,
        "long fork": long_fork,
        "isolated nodes": np.full(7, -1),
    }


def _system(parent, seed):
    rng = np.random.default_rng(seed)
    n = parent.size
    upper = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    diag = rng.uniform(2.5, 5.0, n)
    return diag, upper, lower, rng.normal(size=n)


def _check(parent, keep_from=None, seed=1):
    diag, upper, lower, rhs = _system(parent, seed)
    order = build_tree_order(parent)
    got = branched_solve(order, *map(jnp.asarray, (diag, upper, lower, rhs)), keep_from=keep_from)
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(_shapes()))
def test_matches_a_dense_solve(name):
    parent = _shapes()[name]
    _check(parent)
    _check(parent, keep_from=max(parent.size - 3, 0))  # extra kept nodes at the end


def test_dendrax_cells_are_laid_out_without_gathers_and_match_a_dense_solve():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 4)] * 9, parents=[-1, 0, 0, 1, 2, 2, 2, 4, 7])
    structure = module_structure(cell)
    schedule = branch_schedule(structure.tree, structure.n_comp)
    # branch 7 has one child: its branch point is kept, so chains are exactly the branches
    assert schedule.contiguous and schedule.chains.shape == (9, 4)
    assert schedule.num_kept == structure.n_nodes - structure.n_comp
    _check(structure.tree_parent, keep_from=structure.n_comp)
    ragged = jx.Cell([jx.Branch(jx.Compartment(), k) for k in (3, 5, 1, 2)], parents=[-1, 0, 0, 1])
    structure = module_structure(ragged)
    assert not branch_schedule(structure.tree, structure.n_comp).contiguous
    _check(structure.tree_parent, keep_from=structure.n_comp)


def test_forests_of_identical_trees_batch_the_reduced_tree():
    tree = np.array([-1, 0, 1, 1, 3, 4, 4, 0, 7])
    copies = 70  # more than `forest.MIN_BATCHED_COPIES`: the reduced trees are grouped
    parent = np.concatenate([np.where(tree < 0, -1, tree + k * tree.size) for k in range(copies)])
    parent = np.concatenate([parent, _random_tree(np.random.default_rng(3), 25) + parent.size])
    parent[-25] = -1
    schedule = build_branch_schedule(parent)
    assert schedule.reduced.groups is not None
    _check(parent)


@pytest.mark.parametrize("name", ["morph_ca1_n120.swc", "morph_l5pc_with_axon.swc"])
def test_shared_morphologies_match_a_dense_solve(name):
    structure = module_structure(shared_cell(name))
    parent = structure.tree_parent
    diag, upper, lower, rhs = _system(parent, seed=4)
    got = BranchedSolver()(structure, *map(jnp.asarray, (diag, upper, lower, rhs)))
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)
    assert branch_schedule(structure.tree, structure.n_comp).contiguous


def test_sequential_iterations_count_the_chain_sweeps_and_the_reduced_tree():
    solver = BranchedSolver()
    # three branches of 4 compartments; the root branch's branch point has two children
    structure = module_structure(jx.Cell([jx.Branch(jx.Compartment(), 4)] * 3, parents=[-1, 0, 0]))
    # two sweeps of 4 positions, and the reduced tree of one node (its back-substitution)
    assert solver.sequential_iterations(structure) == 2 * 4 + 1
    chain = module_structure(jx.Branch(jx.Compartment(), 7))
    assert solver.sequential_iterations(chain) == 2 * 7  # one chain, nothing kept


@pytest.mark.parametrize("name", ["long fork", "random, near parents"])
def test_gradients_match_finite_differences_in_both_modes(name):
    parent = _shapes()[name]
    system = _system(parent, seed=5)
    order = build_tree_order(parent)
    node = int(np.flatnonzero(parent >= 0)[7])
    assert_gradients_match_dense(
        lambda d, u, l, b: branched_solve(order, d, u, l, b), parent, system, node
    )


def test_vmap_matches_dense_solves_per_member():
    parent = _shapes()["caterpillar"]
    diag, upper, lower, rhs = _system(parent, seed=6)
    order = build_tree_order(parent)
    rng = np.random.default_rng(7)
    diags = diag[None] + rng.uniform(0.0, 1.0, (6, parent.size))
    lowers = lower[None] * rng.uniform(0.5, 1.5, (6, parent.size))
    rhss = rng.normal(size=(6, parent.size))

    def solve(d, l, b):
        return branched_solve(order, d, jnp.asarray(upper), l, b)

    solved = jax.jit(jax.vmap(solve))(*map(jnp.asarray, (diags, lowers, rhss)))
    grads = jax.vmap(jax.grad(lambda d, l, b: jnp.sum(solve(d, l, b)), argnums=2))(
        *map(jnp.asarray, (diags, lowers, rhss))
    )
    for k in range(6):
        matrix = dense_matrix(parent, diags[k], upper, lowers[k])
        np.testing.assert_allclose(
            np.asarray(solved[k]), np.linalg.solve(matrix, rhss[k]), rtol=0, atol=1e-10
        )
        ones = np.ones(parent.size)
        np.testing.assert_allclose(
            np.asarray(grads[k]), np.linalg.solve(matrix.T, ones), rtol=0, atol=1e-10
        )


def test_float32_solve_is_finite_and_close():
    parent = _shapes()["random"]
    diag, upper, lower, rhs = _system(parent, seed=8)
    args = [jnp.asarray(x, jnp.float32) for x in (diag, upper, lower, rhs)]
    got = branched_solve(build_tree_order(parent), *args)
    assert got.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(got)))
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-4)


def test_entries_at_roots_are_ignored():
    parent = _shapes()["forest"]
    diag, upper, lower, rhs = _system(parent, seed=9)
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    upper, lower = upper.copy(), lower.copy()
    upper[parent < 0], lower[parent < 0] = 7.0, -3.0
    got = branched_solve(build_tree_order(parent), *map(jnp.asarray, (diag, upper, lower, rhs)))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


def test_an_empty_forest_is_refused():
    with pytest.raises(ValueError, match="at least one node; got an empty forest"):
        build_branch_schedule(np.zeros(0, dtype=np.int64))


def test_integrate_with_the_new_solvers_matches_the_tree_solver_on_ca1():
    cell = shared_cell("morph_ca1_n120.swc")
    cell.insert(HH())
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, 8.0, 1.0, 0.025, 10.0), verbose=False)
    for b in (0, 40, 80, 120):
        cell.branch(b).loc(0.5).record("v", verbose=False)
    runs = {
        name: np.asarray(jx.integrate(cell, t_max=10.0, delta_t=0.025, voltage_solver=name))
        for name in ("tree", "branched", "tree.native")
    }
    assert runs["tree"].max() > 0.0  # the cell spikes
    np.testing.assert_allclose(runs["branched"], runs["tree"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(runs["tree.native"], runs["tree"], rtol=0, atol=1e-10)
    assert linear_solver("branched") is not linear_solver("tree")
