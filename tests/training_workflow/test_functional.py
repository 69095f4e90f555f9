"""`dendrax.functional`: `simulate` with array-valued stimulus sites (vmap over locations) and
`steady_state_init` (traceable `init_states`) under `grad`, against finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.functional import simulate, steady_state_init
from dendrax.integrate import build_init_and_step_fn
from tests.training_workflow._cells import DT, T_MAX, current, hh_cell

SITES = [0, 3, 5]


def _recorded_cell():
    cell = hh_cell()
    cell.branch(0).comp(0).record(verbose=False)
    cell.branch(2).comp(1).record(verbose=False)
    cell.branch(1).comp(0).record("HH_m", verbose=False)
    return cell


def test_vmap_over_stimulus_location_equals_separate_integrate_calls():
    cell = _recorded_cell()
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    params = [{"HH_gNa": jnp.array([0.1, 0.15, 0.2])}]
    stim = current(0.3)
    expected = []
    for site in SITES:
        cell.delete_stimuli()
        cell.select(nodes=site).stimulate(stim, verbose=False)
        expected.append(np.asarray(jx.integrate(cell, params=params, t_max=T_MAX, delta_t=DT)))
    cell.delete_stimuli()

    run = jax.jit(jax.vmap(lambda i: simulate(cell, params, i, stim, T_MAX, DT)))
    out = np.asarray(run(jnp.asarray(SITES)))
    assert out.shape == (3, 3, expected[0].shape[1])
    np.testing.assert_allclose(out, np.stack(expected), rtol=0, atol=1e-10)
    # the location matters: the stimulated compartment depolarizes most
    assert out[0, 0].max() > out[1, 0].max()


def test_steady_state_init_equals_init_states():
    v0 = np.array([-70.0, -65.0, -60.0, -55.0, -72.0, -68.0])
    reference = hh_cell(init=False)
    reference.set("v", v0)
    reference.set("HH_gK", 0.05)
    reference.init_states()
    expected, _ = build_init_and_step_fn(reference)[0]([], delta_t=DT)
    # the step API has Jaxley's layout (a branchpoint entry after the 6 compartments);
    # steady_state_init returns compartment states only
    expected = {k: v[:6] for k, v in expected.items()}

    cell = hh_cell(init=False)
    cell.set("HH_gK", 0.05)
    cell.comp("all").make_trainable("v", verbose=False)
    states = steady_state_init(cell, [{"v": jnp.asarray(v0)}], delta_t=DT)
    assert set(states) == set(expected) == {"v", "HH_m", "HH_h", "HH_n", "i_HH"}
    for key in expected:  # gates and the currents computed with them
        np.testing.assert_allclose(
            np.asarray(states[key]), np.asarray(expected[key]), rtol=1e-12, atol=1e-15, err_msg=key
        )
    # the builder's tables are untouched
    np.testing.assert_allclose(cell.nodes["HH_m"], 0.2)


def test_steady_state_init_under_jit_and_grad_matches_finite_differences():
    cell = hh_cell(init=False)
    cell.branch(0).comp(0).stimulate(current(0.1), verbose=False)
    cell.branch(2).comp(1).record(verbose=False)
    cell.make_trainable("v", verbose=False)
    cell.branch(1).make_trainable("HH_eLeak", verbose=False)
    params = [{"v": jnp.array([-66.0])}, {"HH_eLeak": jnp.array([-54.3])}]

    def loss(p):
        states = steady_state_init(cell, p, delta_t=DT)
        v = jx.integrate(cell, params=p, all_states=states, t_max=T_MAX, delta_t=DT)
        return jnp.mean((v + 62.0) ** 2)

    grads = jax.jit(jax.grad(loss))(params)
    for position, key in enumerate(("v", "HH_eLeak")):
        x = float(params[position][key][0])
        eps = 1e-5 * abs(x)
        shifted = []
        for sign in (1.0, -1.0):
            trial = list(params)
            trial[position] = {key: jnp.array([x + sign * eps])}
            shifted.append(float(loss(trial)))
        fd = (shifted[0] - shifted[1]) / (2 * eps)
        g = float(grads[position][key][0])
        assert abs(g - fd) / abs(fd) < 1e-4, (key, g, fd)

    # the steady-state gates are differentiable functions of the initial voltage
    def gates(v):
        return steady_state_init(cell, [{"v": v}, params[1]])["HH_m"]

    jac = jax.jacfwd(gates)(jnp.array([-66.0]))[:, 0]
    fd = (gates(jnp.array([-66.0 + 1e-4])) - gates(jnp.array([-66.0 - 1e-4]))) / 2e-4
    np.testing.assert_allclose(np.asarray(jac), np.asarray(fd), rtol=1e-6)
    assert np.all(np.asarray(jac) > 0)


@pytest.mark.parametrize(
    ("index", "stim", "error", "match"),
    [
        (6, current(), IndexError, r"\[6\]"),
        (-1, current(), IndexError, "outside"),
        (1.5, current(), TypeError, "int"),
        (jnp.array([0, 1]), jnp.zeros((3, 10)), ValueError, r"\(2, T\)"),
    ],
)
def test_simulate_rejects_bad_stimuli(index, stim, error, match):
    cell = _recorded_cell()
    with pytest.raises(error, match=match):
        simulate(cell, None, index, stim, T_MAX, DT)


def test_simulate_needs_recordings_and_a_valid_duration():
    cell = hh_cell()
    with pytest.raises(ValueError, match="recordings"):
        simulate(cell, None, 0, current(), T_MAX, DT)
    cell.comp(0).record(verbose=False)
    with pytest.raises(ValueError, match="t_max"):
        simulate(cell, None, 0, current(), float("nan"), DT)
    with pytest.raises(ValueError, match="delta_t"):
        simulate(cell, None, 0, current(), T_MAX, 0.0)
