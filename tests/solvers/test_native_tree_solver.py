"""The optional compiled tree solve (`dendrax.solvers.native_tree`) against numpy's dense
solve, finite differences and the pure-JAX tree solver, and its fallback; as the CPU
default, against the pure-JAX tree solve and a sparse direct solve on a CA1 HH cell."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import dense_matrix, shared_cell

import dendrax as jx
from dendrax.channels import HH
from dendrax.solvers import native_tree
from dendrax.solvers.native_tree import NativeTreeSolver, native_available, native_tree_solve
from dendrax.solvers.tree import build_tree_order, tree_solve


def _forest(seed, n=150):
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(max(0, i - 4), i)) for i in range(1, n)])
    parent[rng.choice(np.arange(1, n), 3, replace=False)] = -1
    upper = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    return parent, (rng.uniform(2.5, 5.0, n), upper, lower, rng.normal(size=n))


@pytest.fixture(scope="module")
def built():
    if not native_available():
        pytest.skip("no C++ compiler here: the compiled tree solve is not built")
    return True


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_a_dense_solve(built, seed):
    parent, system = _forest(seed)
    got = native_tree_solve(build_tree_order(parent), *map(jnp.asarray, system))
    expected = np.linalg.solve(dense_matrix(parent, *system[:3]), system[3])
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


def test_gradient_matches_finite_differences(built):
    parent, (diag, upper, lower, rhs) = _forest(2)
    order = build_tree_order(parent)
    weights = np.linspace(-1.0, 1.0, parent.size)

    def loss(d, l):
        return jnp.sum(weights * jnp.sin(native_tree_solve(order, d, upper, l, rhs)))

    def loss_np(d, l):
        return np.sum(weights * np.sin(np.linalg.solve(dense_matrix(parent, d, upper, l), rhs)))

    grad_d, grad_l = jax.grad(loss, argnums=(0, 1))(jnp.asarray(diag), jnp.asarray(lower))
    forward = jax.jacfwd(loss)(jnp.asarray(diag), jnp.asarray(lower))
    np.testing.assert_allclose(np.asarray(forward), np.asarray(grad_d), atol=1e-12)
    node = int(np.flatnonzero(parent >= 0)[9])
    for grad, k in ((grad_d, 0), (grad_l, 1)):
        args = [diag.copy(), lower.copy()]
        args[k][node] += 1e-6
        plus = loss_np(*args)
        args[k][node] -= 2e-6
        fd = (plus - loss_np(*args)) / 2e-6
        assert abs(float(grad[node]) - fd) < 1e-7 * max(1.0, abs(fd))


def test_vmap_and_float32(built):
    parent, (diag, upper, lower, rhs) = _forest(3)
    order = build_tree_order(parent)
    rhss = np.random.default_rng(4).normal(size=(5, parent.size))
    solved = jax.jit(jax.vmap(lambda b: native_tree_solve(order, diag, upper, lower, b)))(rhss)
    matrix = dense_matrix(parent, diag, upper, lower)
    for k in range(5):
        expected = np.linalg.solve(matrix, rhss[k])
        np.testing.assert_allclose(np.asarray(solved[k]), expected, rtol=0, atol=1e-10)
    single = native_tree_solve(
        order, *(jnp.asarray(x, jnp.float32) for x in (diag, upper, lower, rhs))
    )
    assert single.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(single)))
    np.testing.assert_allclose(np.asarray(single), np.linalg.solve(matrix, rhs), atol=1e-4)


def test_without_the_kernel_the_pure_jax_solve_runs(monkeypatch):
    monkeypatch.setattr(native_tree, "native_available", lambda: False)
    parent, system = _forest(5)
    order = build_tree_order(parent)
    args = tuple(map(jnp.asarray, system))
    np.testing.assert_allclose(
        np.asarray(native_tree_solve(order, *args)),
        np.asarray(tree_solve(order, *args)),
        rtol=0,
        atol=0,
    )
    expected = np.linalg.solve(dense_matrix(parent, *system[:3]), system[3])
    np.testing.assert_allclose(np.asarray(native_tree_solve(order, *args)), expected, atol=1e-10)


def test_a_failing_compiler_builds_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("DENDRAX_NATIVE_CACHE", str(tmp_path / "cache"))
    assert native_tree._build() is None
    assert not any((tmp_path / "cache").glob("*.so"))


def test_an_unwritable_cache_builds_nothing(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DENDRAX_NATIVE_CACHE", str(blocker / "cache"))
    assert native_tree._build() is None


def _ca1_hh_cell():
    """CA1 n120 (4 compartments per branch), HH everywhere, 0.5 nA at the root 10-80 ms."""
    cell = shared_cell("morph_ca1_n120.swc")
    cell.insert(HH())
    cell.set("v", -65.0)
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(10.0, 70.0, 0.5, 0.025, 100.0), verbose=False)
    for b in (0, 40, 80, 120):
        cell.branch(b).comp(2).record(verbose=False)
    return cell


def test_the_cpu_default_is_the_compiled_solve_and_keeps_the_voltages(built):
    """The default ("jaxley.dhs") on CPU against the pure-JAX tree solve and a sparse direct
    solve (independent of both), 100 ms of a spiking CA1 cell in float64: within 1e-8 mV."""
    assert jax.default_backend() == "cpu"
    cell = _ca1_hh_cell()
    assert isinstance(jx.compile(cell).spec.linear_solver, NativeTreeSolver)
    default = np.asarray(jx.integrate(cell, t_max=100.0))
    assert default.max() > 0.0  # it spikes
    for reference in ("tree", "jax.sparse"):
        expected = np.asarray(jx.integrate(cell, t_max=100.0, voltage_solver=reference))
        np.testing.assert_allclose(default, expected, rtol=0, atol=1e-8, err_msg=reference)
