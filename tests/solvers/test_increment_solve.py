"""The implicit voltage step solved for the increment `v' - v` (`solvers.increment_solve`).

References: a cell at rest (leak only, every voltage at the leak's reversal potential, no
input), whose exact solution stays there for ever; numpy's dense solve of the documented
system for `v'` itself, which the increment form equals in exact arithmetic; and central
finite differences of that dense solve for the gradients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tree_systems import dense_matrix, shared_cell

import dendrax as jx
from dendrax.channels import Leak
from dendrax.solvers.implicit import implicit_coefficients, implicit_solve
from dendrax.solvers.increment_solve import branch_point_guess_rows
from dendrax.solvers.native_tree import native_available
from dendrax.solvers.registry import LINEAR_SOLVERS

SOLVERS = ["jaxley.dhs", "tree", "tree.native", "branched", "level_parallel"]
H = 0.025


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_cell_at_rest_stays_exactly_at_rest(solver):
    """Solving for v' itself, this CA1 cell drifted by 1.3e-11 to 3.3e-11 mV in 50 ms: the
    rounded diagonal against its off-diagonals acts as a spurious current."""
    cell = shared_cell("morph_ca1_n120.swc")
    cell.insert(Leak())
    cell.set("v", -70.0)
    cell.set("Leak_eLeak", -70.0)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(100).comp(3).record("v", verbose=False)
    trace = np.asarray(jx.integrate(cell, t_max=50.0, delta_t=H, voltage_solver=solver))
    assert trace.shape == (2, 2001)
    np.testing.assert_array_equal(trace, -70.0)


def _system(seed=0):
    """A 3-branch-point cell's compiled structure and a random implicit step's inputs."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=3), parents=[-1, 0, 0, 1, 1, 2, 2, 0])
    cell.set("radius", np.linspace(0.3, 3.0, 24))
    cell.branch(0).comp(0).record("v", verbose=False)
    sim = jx.compile(cell, delta_t=H)
    structure = sim.structure
    _, params = sim.init()
    system = implicit_coefficients(structure, params["axial"], H)
    rng = np.random.default_rng(seed)
    n = structure.n_comp
    inputs = {
        "v": rng.uniform(-80.0, 40.0, n),
        "current": rng.normal(0.0, 5.0, n),
        "slope": rng.uniform(0.0, 3.0, n),
        "i_ext": rng.normal(0.0, 50.0, n),
        "cm": rng.uniform(0.5, 2.0, n),
    }
    return structure, {k: np.asarray(v) for k, v in system.items()}, inputs


def _dense_v_prime(structure, system, v, current, slope, i_ext, cm):
    """v' from `(1 + h s/c - h G) v' = v + h (s v - I + i_ext)/c`, by numpy."""
    n, n_nodes = structure.n_comp, structure.n_nodes
    diag = system["diag"] + np.concatenate([1.0 + H * slope / cm, np.zeros(n_nodes - n)])
    rhs = np.concatenate([v + H * (slope * v - current + i_ext) / cm, np.zeros(n_nodes - n)])
    matrix = dense_matrix(structure.tree_parent, diag, system["upper"], system["lower"])
    return np.linalg.solve(matrix, rhs)[:n]


def _step(structure, system, solver):
    def step(v, current, slope, i_ext, cm):
        return implicit_solve(structure, v, current, slope, i_ext, cm, system, H, solver)

    return step


@pytest.mark.parametrize("name", ["tree.native", "tree", "branched", "level_parallel", "dense"])
def test_the_increment_step_solves_the_system_for_v_prime(name):
    structure, system, inputs = _system()
    assert branch_point_guess_rows(structure.tree_parent, structure.n_comp) is not None
    got = _step(structure, system, LINEAR_SOLVERS[name])(*inputs.values())
    expected = _dense_v_prime(structure, system, *inputs.values())
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["tree.native", "tree"])
def test_gradients_match_finite_differences_of_the_dense_solve(name):
    """Reverse and forward mode of a weighted loss of v' against central differences, for
    every input of the step (the voltages, the linearized current and the coupling)."""
    if name == "tree.native" and not native_available():
        pytest.skip("the compiled kernel is not built here")
    structure, system, inputs = _system(1)
    weights = np.linspace(-1.0, 1.0, structure.n_comp)
    names = list(inputs)

    def loss(args, coupling):
        scaled = {k: v * coupling for k, v in system.items()}
        step = _step(structure, scaled, LINEAR_SOLVERS[name])
        return jnp.sum(weights * jnp.sin(step(*args)))

    def loss_np(args, coupling):
        scaled = {k: v * coupling for k, v in system.items()}
        return np.sum(weights * np.sin(_dense_v_prime(structure, scaled, *args)))

    args = tuple(jnp.asarray(inputs[k]) for k in names)
    grads = jax.grad(loss, argnums=(0, 1))(args, 1.0)
    forward = jax.jacfwd(loss, argnums=(0, 1))(args, 1.0)
    np.testing.assert_allclose(float(grads[1]), float(forward[1]), rtol=1e-10)
    eps = 1e-6
    for k in range(len(names)):
        np.testing.assert_allclose(np.asarray(grads[0][k]), np.asarray(forward[0][k]), atol=1e-12)
        row = 2  # one entry of each input, by central differences
        plus = [np.array(a, copy=True) for a in inputs.values()]
        minus = [np.array(a, copy=True) for a in inputs.values()]
        plus[k][row] += eps
        minus[k][row] -= eps
        numeric = (loss_np(plus, 1.0) - loss_np(minus, 1.0)) / (2 * eps)
        np.testing.assert_allclose(float(grads[0][k][row]), numeric, rtol=1e-6, atol=1e-9)
    numeric = loss_np(list(inputs.values()), 1 + eps) - loss_np(list(inputs.values()), 1 - eps)
    np.testing.assert_allclose(float(grads[1]), numeric / (2 * eps), rtol=1e-6)


def test_vmap_over_voltages_matches_single_steps():
    """Under `vmap` the compiled kernel hands over to the JAX sum and solve."""
    structure, system, inputs = _system(2)
    step = _step(structure, system, LINEAR_SOLVERS["tree.native"])
    rng = np.random.default_rng(3)
    batch = rng.uniform(-80.0, 40.0, (4, structure.n_comp))
    others = list(inputs.values())[1:]
    batched = jax.vmap(lambda v: step(v, *others))(jnp.asarray(batch))
    for k in range(4):
        single = step(jnp.asarray(batch[k]), *others)
        np.testing.assert_allclose(np.asarray(batched[k]), np.asarray(single), atol=1e-12)
        expected = _dense_v_prime(structure, system, batch[k], *others)
        np.testing.assert_allclose(np.asarray(batched[k]), expected, rtol=0, atol=1e-10)
