"""The level-parallel (tree-contraction) solver against numpy's dense solve, finite
differences, the tree solver's step count and the default solver end to end."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import dense_matrix, shared_cell

import dendrax as jx
from dendrax.channels import HH
from dendrax.modules.export import model_tables, module_structure
from dendrax.simulator.run import static_geometry
from dendrax.solvers import registry, time_scheme
from dendrax.solvers.level_parallel import LevelParallelSolver, level_parallel_solve
from dendrax.solvers.level_schedule import build_contraction_schedule
from dendrax.solvers.native_tree import NativeTreeSolver
from dendrax.solvers.tree import TreeSolver, build_tree_order

jax.config.update("jax_enable_x64", True)

MORPHOLOGIES = ("morph_ca1_n120.swc", "morph_l5pc_with_axon.swc")
LOOPS = ("mixed", "unrolled", "scan")


def _chain(n):
    return np.arange(-1, n - 1)


def _star(n):
    return np.concatenate([[-1], np.zeros(n - 1, dtype=np.int64)])


def _binary(n):
    return np.concatenate([[-1], (np.arange(1, n) - 1) // 2])


def _recursive(n, seed):
    rng = np.random.default_rng(seed)
    return np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])


def _comb(spine, tooth):
    """A chain of `spine` nodes with a chain of `tooth` nodes hanging off each of them."""
    parent = list(_chain(spine))
    for s in range(spine):
        parent += [s] + list(range(len(parent), len(parent) + tooth - 1))
    return np.array(parent)


def _forest():
    """Trees of every kind above, an isolated node, and a chain, numbered in blocks."""
    parts = [_chain(40), _star(9), _binary(31), _recursive(50, 7), np.array([-1]), _chain(2)]
    out, offset = [], 0
    for p in parts:
        out.append(np.where(p < 0, -1, p + offset))
        offset += p.shape[0]
    return np.concatenate(out)


TREES = {
    "single node": np.array([-1]),
    "two nodes": _chain(2),
    "long chain": _chain(300),
    "star": _star(60),
    "binary": _binary(127),
    "random recursive": _recursive(200, 0),
    "comb": _comb(40, 5),
    "forest": _forest(),
}


def _random_system(parent, seed):
    """Diagonally dominant tree matrix with non-symmetric couplings, and a right side."""
    rng = np.random.default_rng(seed)
    n = parent.shape[0]
    child = parent >= 0
    upper = np.where(child, -rng.uniform(0.1, 1.0, n), 0.0)
    lower = np.where(child, -rng.uniform(0.1, 1.0, n), 0.0)
    load = np.bincount(np.where(child, parent, 0), lower * child, n)
    diag = 1.0 + rng.uniform(0.0, 1.0, n) - upper - load
    return diag, upper, lower, rng.normal(size=n)


def _solve(parent, *arrays, loop="unrolled"):
    return level_parallel_solve(build_tree_order(parent), *map(jnp.asarray, arrays), loop=loop)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("kind", sorted(TREES))
def test_matches_a_dense_solve_on_trees_and_forests(kind, loop):
    parent = TREES[kind]
    diag, upper, lower, rhs = _random_system(parent, seed=len(kind))
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    got = _solve(parent, diag, upper, lower, rhs, loop=loop)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


def test_ignores_the_couplings_stored_at_roots():
    parent = _forest()
    diag, upper, lower, rhs = _random_system(parent, seed=1)
    expected = np.asarray(_solve(parent, diag, upper, lower, rhs))
    roots = parent < 0
    got = _solve(parent, diag, np.where(roots, 5.0, upper), np.where(roots, -7.0, lower), rhs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-14)


def _cable(name):
    """Structure and backward-Euler matrix (dt 0.025 ms, passive) of a shared morphology."""
    cell = shared_cell(name)
    structure = module_structure(cell)
    static = static_geometry(
        model_tables(cell), structure, None, None, time_scheme("bwd_euler"), 0.025
    )
    system = static["axial"]["implicit"]
    membrane = (np.arange(structure.n_nodes) < structure.n_comp).astype(float)  # 0 at branch points
    diag = np.asarray(system["diag"]) + membrane
    return structure, diag, np.asarray(system["upper"]), np.asarray(system["lower"])


def _voltages(structure, seed):
    """A right-hand side as the voltage step sets it up: mV in compartments, 0 at branch
    points (their rows balance currents)."""
    rhs = np.random.default_rng(seed).normal(-65.0, 10.0, structure.n_nodes)
    return np.where(np.arange(structure.n_nodes) < structure.n_comp, rhs, 0.0)


@pytest.mark.parametrize("name", MORPHOLOGIES)
def test_shared_morphologies_match_a_dense_solve_and_take_a_tenth_of_the_steps(name):
    structure, diag, upper, lower = _cable(name)
    parent = structure.tree_parent
    rhs = _voltages(structure, 0)
    expected = np.linalg.solve(dense_matrix(parent, diag, upper, lower), rhs)
    solver = LevelParallelSolver()
    for loop in LOOPS:
        got = LevelParallelSolver(loop)(structure, *map(jnp.asarray, (diag, upper, lower, rhs)))
        np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10, err_msg=loop)
    random = _random_system(parent, seed=2)
    expected = np.linalg.solve(dense_matrix(parent, *random[:3]), random[3])
    got = solver(structure, *map(jnp.asarray, random))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)
    # a structural count: dependent steps of one solve, both sweeps
    assert 10 * solver.sequential_iterations(structure) <= TreeSolver().sequential_iterations(
        structure
    )


@pytest.mark.parametrize("name", MORPHOLOGIES)
def test_float32_is_finite_and_close_to_float64(name):
    structure, diag, upper, lower = _cable(name)
    rhs = _voltages(structure, 1)
    exact = np.linalg.solve(dense_matrix(structure.tree_parent, diag, upper, lower), rhs)
    arrays32 = [jnp.asarray(x, jnp.float32) for x in (diag, upper, lower, rhs)]
    tree32 = np.asarray(TreeSolver()(structure, *arrays32))
    for loop in LOOPS:
        got = np.asarray(LevelParallelSolver(loop)(structure, *arrays32))
        assert got.dtype == np.float32 and np.all(np.isfinite(got))
        error = np.max(np.abs(got - exact)) / np.max(np.abs(exact))
        tree_error = np.max(np.abs(tree32 - exact)) / np.max(np.abs(exact))
        assert error < 3e-5, (loop, error)
        assert error < 10 * tree_error + 1e-6, (loop, error, tree_error)


def test_contraction_takes_logarithmically_many_steps():
    for n in (2, 3, 64, 1000, 4097):
        steps = build_contraction_schedule(_chain(n)).num_steps
        assert steps <= np.ceil(np.log2(n)) + 1, (n, steps)
    assert build_contraction_schedule(_star(500)).num_steps == 1
    assert build_contraction_schedule(np.array([-1, -1, -1])).num_steps == 0


@pytest.mark.parametrize("kind", sorted(TREES))
def test_schedule_eliminates_each_non_root_once_and_no_neighbours_together(kind):
    parent = TREES[kind]
    n = parent.shape[0]
    schedule = build_contraction_schedule(parent)
    current = parent.copy()
    seen = np.zeros(n, dtype=int)
    for nodes, parents, children in schedule.steps:
        assert np.array_equal(current[nodes], parents) and np.all(parents >= 0)
        chosen = np.zeros(n + 1, dtype=bool)
        chosen[nodes] = True
        assert not chosen[parents].any() and not chosen[children[children < n]].any()
        alive_children = np.bincount(current[current >= 0], minlength=n)[nodes]
        assert np.all(alive_children == (children < n))  # at most one, and it is that one
        assert np.all(current[children[children < n]] == nodes[children < n])
        current[children[children < n]] = parents[children < n]
        current[nodes] = -2
        seen[nodes] += 1
    assert np.array_equal(seen, (parent >= 0).astype(int))
    split = schedule.padding_split()
    tables = schedule.padded_tables(split)
    assert tables[0].size <= max(n, 1) and tables[0].shape[0] == schedule.num_steps - split
    for row, (nodes, parents, children) in enumerate(schedule.steps[split:]):
        k = nodes.shape[0]
        for table, values in zip(tables, (nodes, parents, children), strict=True):
            assert np.array_equal(table[row, :k], values) and np.all(table[row, k:] == n)


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        (np.array([-1, 2, 1]), "contains a cycle"),
        (np.array([1, 0]), "contains a cycle"),
        (np.array([-1, 5]), "parent indices must be -1"),
        (np.array([[-1, 0]]), "parent must be a 1-d array"),
    ],
)
def test_schedule_rejects_a_graph_that_is_not_a_forest(parent, message):
    with pytest.raises(ValueError, match=message):
        build_contraction_schedule(parent)


def test_rejects_an_unknown_loop():
    with pytest.raises(ValueError, match="loop must be one of"):
        LevelParallelSolver("while")
    parent = _chain(3)
    with pytest.raises(ValueError, match="loop must be one of"):
        _solve(parent, *_random_system(parent, 0), loop="fori")


@pytest.mark.parametrize("loop", LOOPS)
def test_jvp_and_grad_match_central_finite_differences(loop):
    parent = TREES["random recursive"]
    args = _random_system(parent, seed=3)
    order = build_tree_order(parent)
    weights = np.linspace(-1.0, 1.0, parent.shape[0])

    def loss(d, u, l, b):
        return jnp.sum(weights * jnp.sin(level_parallel_solve(order, d, u, l, b, loop=loop)))

    def loss_np(d, u, l, b):
        return np.sum(weights * np.sin(np.linalg.solve(dense_matrix(parent, d, u, l), b)))

    jargs = tuple(map(jnp.asarray, args))
    grads = jax.grad(loss, argnums=(0, 1, 2, 3))(*jargs)
    rng = np.random.default_rng(5)
    directions = [
        rng.normal(size=parent.shape[0]) * (parent >= 0 if k in (1, 2) else 1.0) for k in range(4)
    ]
    _, jvp = jax.jvp(loss, jargs, tuple(map(jnp.asarray, directions)))
    eps = 1e-6
    plus = [a + eps * t for a, t in zip(args, directions, strict=True)]
    minus = [a - eps * t for a, t in zip(args, directions, strict=True)]
    fd = (loss_np(*plus) - loss_np(*minus)) / (2 * eps)
    assert float(jvp) == pytest.approx(fd, rel=1e-6, abs=1e-9)
    reverse = sum(float(jnp.dot(g, t)) for g, t in zip(grads, directions, strict=True))
    assert reverse == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("loop", LOOPS)
def test_vmap_matches_solves_one_by_one(loop):
    parent = _forest()
    diag, upper, lower, rhs = _random_system(parent, seed=4)
    order = build_tree_order(parent)
    scales = jnp.array([0.8, 1.0, 1.7])

    def solve(scale, u):
        return level_parallel_solve(order, diag * scale, u, lower, rhs / scale, loop=loop)

    batched = jax.vmap(solve, in_axes=(0, None))(scales, jnp.asarray(upper))
    for i, scale in enumerate(np.asarray(scales)):
        d = diag * scale
        expected = np.linalg.solve(dense_matrix(parent, d, upper, lower), rhs / scale)
        np.testing.assert_allclose(np.asarray(batched[i]), expected, rtol=0, atol=1e-10)
    both = jax.vmap(solve)(scales, jnp.stack([jnp.asarray(upper)] * 3))  # all batched
    np.testing.assert_allclose(np.asarray(both), np.asarray(batched), rtol=0, atol=1e-14)
    nested = jax.vmap(jax.vmap(solve, in_axes=(0, None)), in_axes=(0, None))(
        jnp.stack([scales, scales]), jnp.asarray(upper)
    )
    np.testing.assert_allclose(np.asarray(nested[1]), np.asarray(batched), rtol=0, atol=1e-14)
    grads = jax.vmap(jax.grad(lambda s: jnp.sum(solve(s, jnp.asarray(upper)))))(scales)
    one = jax.grad(lambda s: jnp.sum(solve(s, jnp.asarray(upper))))(scales[2])
    assert float(grads[2]) == pytest.approx(float(one), rel=1e-12)


def test_jaxley_gpu_names_and_the_gpu_default(monkeypatch):
    assert isinstance(registry.linear_solver("jaxley.dhs.gpu"), LevelParallelSolver)
    assert isinstance(registry.linear_solver("level_parallel"), LevelParallelSolver)
    for name in ("jaxley.dhs.cpu", "tree"):
        assert isinstance(registry.linear_solver(name), TreeSolver)
    monkeypatch.setattr(registry.jax, "default_backend", lambda: "cpu")
    assert isinstance(registry.linear_solver("jaxley.dhs"), NativeTreeSolver)
    monkeypatch.setattr(registry.jax, "default_backend", lambda: "tpu")
    assert isinstance(registry.linear_solver("jaxley.dhs"), TreeSolver)
    monkeypatch.setattr(registry.jax, "default_backend", lambda: "gpu")
    assert isinstance(registry.linear_solver("jaxley.dhs"), LevelParallelSolver)
    assert isinstance(registry.linear_solver("jaxley.dhs.cpu"), TreeSolver)
    cell = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 3, parents=[-1, 0, 0])
    cell.branch(1).comp(1).record(verbose=False)
    assert isinstance(jx.compile(cell).spec.linear_solver, LevelParallelSolver)


def test_integrate_ca1_with_hh_gives_the_default_voltages():
    cell = shared_cell(MORPHOLOGIES[0])
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 1.0, 0.025, 8.0), verbose=False)
    for b in (0, 40, 120):
        cell.branch(b).comp(3).record(verbose=False)
    default = np.asarray(jx.integrate(cell, t_max=8.0))
    assert default.max() > 0.0  # it spikes
    got = np.asarray(jx.integrate(cell, t_max=8.0, voltage_solver="jaxley.dhs.gpu"))
    np.testing.assert_allclose(got, default, rtol=0, atol=1e-10)


def test_integrate_gradient_and_vmap_match_the_tree_solver():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 3)] * 5, parents=[-1, 0, 0, 1, 1])
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 2.0, 0.3, 0.025, 4.0), verbose=False)
    cell.branch(4).comp(2).record(verbose=False)
    cell.branch(1).make_trainable("HH_gK", verbose=False)
    params = cell.get_parameters()

    def loss(scale, voltage_solver):
        scaled = [{"HH_gK": params[0]["HH_gK"] * scale}]
        return jnp.mean(jx.integrate(cell, params=scaled, t_max=4.0, voltage_solver=voltage_solver))

    for solver in ("tree", "jaxley.dhs.gpu"):
        assert np.isfinite(float(loss(1.0, solver)))
    tree = jax.grad(loss)(1.0, "tree")
    level = jax.grad(loss)(1.0, "jaxley.dhs.gpu")
    assert abs(float(tree)) > 1e-4
    assert float(level) == pytest.approx(float(tree), rel=1e-9)
    scales = jnp.array([0.7, 1.3])
    batched = jax.vmap(lambda a: loss(a, "jaxley.dhs.gpu"))(scales)
    expected = jax.vmap(lambda a: loss(a, "tree"))(scales)
    np.testing.assert_allclose(np.asarray(batched), np.asarray(expected), rtol=1e-10)
