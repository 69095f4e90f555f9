"""Contract of every registered time scheme and linear solver (`dendrax.solvers.registry`).

Parametrized over the registries, so a newly registered solver is tested by registering it:

- every linear solver matches a dense `numpy.linalg.solve` of the same tree matrix to 1e-10
  on random trees, forests and a reconstructed morphology, and its gradient matches
  central finite differences;
- every time scheme gives finite output on a standard HH cell in float64 and float32, runs
  under `jit`, `vmap` and `grad`, its gradient matches central finite differences, and its
  error against a fine-step reference shrinks with `delta_t` at its declared order.
"""

import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.modules.export import module_structure
from dendrax.solvers.registry import LINEAR_SOLVERS, TIME_SCHEMES

from .float32_subprocess import run_float32_script

SHARED_SWC = Path(__file__).resolve().parents[3] / "shared" / "data" / "swc"
SCHEMES = sorted(TIME_SCHEMES)
LINEAR = sorted(LINEAR_SOLVERS)


def _random_cell(seed: int, n_branches: int, ncomp: int = 3):
    rng = np.random.default_rng(seed)
    parents = [-1] + [int(rng.integers(0, b)) for b in range(1, n_branches)]
    return jx.Cell([jx.Branch(jx.Compartment(), ncomp)] * n_branches, parents=parents)


def _structures():
    out = [("tree30", module_structure(_random_cell(0, 30)))]
    net = jx.Network([_random_cell(1, 7), _random_cell(2, 4), jx.Cell()])
    out.append(("forest", module_structure(net)))
    swc = SHARED_SWC / "morph_ca1_n120.swc"
    if swc.exists():
        out.append(("ca1", module_structure(jx.read_swc(str(swc), ncomp=2))))
    return out


def _random_system(structure, seed: int):
    """A diagonally dominant tree matrix (as the implicit cable system) and a right side."""
    rng = np.random.default_rng(seed)
    n = structure.n_nodes
    has_parent = structure.tree_parent >= 0
    upper = np.where(has_parent, -rng.uniform(0.1, 1.0, n), 0.0)
    lower = np.where(has_parent, -rng.uniform(0.1, 1.0, n), 0.0)
    parent = np.where(has_parent, structure.tree_parent, 0)
    diag = 1.0 + rng.uniform(0.0, 1.0, n) - upper - np.bincount(parent, lower * has_parent, n)
    return diag, upper, lower, rng.normal(size=n)


def _dense(structure, diag, upper, lower):
    a = np.diag(diag)
    for i in np.flatnonzero(structure.tree_parent >= 0):
        p = structure.tree_parent[i]
        a[i, p] += upper[i]
        a[p, i] += lower[i]
    return a


@pytest.mark.parametrize("name", LINEAR)
def test_linear_solver_matches_a_dense_solve(name):
    solver = LINEAR_SOLVERS[name]
    for label, structure in _structures():
        diag, upper, lower, rhs = _random_system(structure, seed=len(label))
        expected = np.linalg.solve(_dense(structure, diag, upper, lower), rhs)
        got = np.asarray(solver(structure, *(jnp.asarray(x) for x in (diag, upper, lower, rhs))))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10, err_msg=label)
        assert solver.sequential_iterations(structure) > 0


@pytest.mark.parametrize("name", LINEAR)
def test_linear_solver_gradient_matches_finite_differences(name):
    solver = LINEAR_SOLVERS[name]
    _, structure = _structures()[0]
    diag, upper, lower, rhs = (jnp.asarray(x) for x in _random_system(structure, seed=3))
    weights = jnp.asarray(np.random.default_rng(4).normal(size=structure.n_nodes))

    def loss(scale):  # scales the diagonal and the right-hand side together
        return jnp.dot(weights, solver(structure, diag * scale, upper, lower, rhs / scale))

    grad = float(jax.grad(loss)(1.0))
    eps = 1e-6
    fd = (float(loss(1.0 + eps)) - float(loss(1.0 - eps))) / (2 * eps)
    assert grad == pytest.approx(fd, rel=1e-6, abs=1e-9)
    batched = jax.vmap(loss)(jnp.array([0.9, 1.0]))
    assert float(batched[1]) == pytest.approx(float(loss(1.0)), rel=1e-12)


def _hh_cell():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 3)] * 3, parents=[-1, 0, 0])
    cell.set("length", 20.0)
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 0.3, 0.025, 6.0), verbose=False)
    cell.branch(2).comp(2).record(verbose=False)
    cell.branch(1).make_trainable("HH_gK", verbose=False)
    return cell


@pytest.mark.parametrize("name", SCHEMES)
def test_time_scheme_runs_under_jit_vmap_and_grad(name):
    cell = _hh_cell()
    params = cell.get_parameters()
    sim = jx.compile(cell, solver=name, delta_t=0.01)
    eager = np.asarray(sim.run(params, t_max=6.0))
    assert np.all(np.isfinite(eager)) and eager.max() > 0.0  # it spikes
    np.testing.assert_allclose(
        np.asarray(jax.jit(lambda p: sim.run(p, t_max=6.0))(params)), eager, rtol=0, atol=1e-10
    )

    def scaled(a):
        return [{"HH_gK": params[0]["HH_gK"] * a}]

    batch = jax.vmap(lambda a: sim.run(scaled(a), t_max=6.0))(jnp.array([1.0, 1.4]))
    np.testing.assert_allclose(np.asarray(batch[0]), eager, rtol=0, atol=1e-10)

    def loss(a):
        return jnp.mean(sim.run(scaled(a), t_max=2.0))

    grad = float(jax.grad(loss)(1.0))
    eps = 1e-5
    fd = (float(loss(1.0 + eps)) - float(loss(1.0 - eps))) / (2 * eps)
    assert grad == pytest.approx(fd, rel=1e-5)
    assert abs(grad) > 1e-4


@pytest.mark.parametrize("name", SCHEMES)
def test_time_scheme_converges_at_its_order(name):
    """Passive cable (no spikes, smooth): error vs a fine reference, halving delta_t."""
    scheme = TIME_SCHEMES[name]
    cell = jx.Cell([jx.Branch(jx.Compartment(), 3)] * 3, parents=[-1, 0, 0])
    cell.set("length", 20.0)
    cell.insert(jx.channels.Leak())
    for b, g in enumerate((1e-4, 1e-3, 3e-3)):  # non-uniform, so no scheme is exact
        cell.branch(b).set("Leak_gLeak", g)
    cell.set("v", -60.0)
    cell.branch(2).comp(2).record(verbose=False)

    def final_v(dt):
        return float(np.asarray(jx.integrate(cell, t_max=2.0, delta_t=dt, solver=name))[0, -1])

    reference = final_v(0.0005)
    errors = [abs(final_v(dt) - reference) for dt in (0.04, 0.02)]
    observed = np.log2(errors[0] / errors[1])
    assert observed == pytest.approx(scheme.order, abs=0.3), errors


FLOAT32_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", False)
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from contract.test_solver_contract import _hh_cell
    import dendrax as jx
    from dendrax.solvers.registry import TIME_SCHEMES
    out = {}
    for name in TIME_SCHEMES:
        traces = np.asarray(jx.integrate(_hh_cell(), t_max=6.0, delta_t=0.01, solver=name))
        out[name] = {"dtype": str(traces.dtype), "finite": bool(np.isfinite(traces).all()),
                     "max": float(traces.max())}
    print("RESULTS" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def float32_results():
    return run_float32_script(FLOAT32_SCRIPT)


@pytest.mark.parametrize("name", SCHEMES)
def test_time_scheme_in_float32_without_nan(name, float32_results):
    got = float32_results[name]
    assert got["dtype"] == "float32" and got["finite"] and got["max"] > 0.0, got
