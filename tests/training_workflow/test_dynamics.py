"""`build_dynamic_state_utils`: round trips, and the one-step Jacobian (`jax.jacfwd`) of a
hand-written step against central finite differences (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.integrate import build_init_and_step_fn
from dendrax.utils.dynamics import build_dynamic_state_utils
from tests.training_workflow._cells import DT, current


@pytest.fixture(scope="module")
def setup():
    """HH in branches 0-1 only (NaN padding in branch 2), Leak everywhere, one stimulus."""
    comp = jx.Compartment()
    cell = jx.Cell([jx.Branch(comp, 2)] * 3, parents=[-1, 0, 0])
    cell.set("axial_resistivity", 300.0)
    cell.branch([0, 1]).insert(HH())
    cell.insert(Leak())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(current(), verbose=False)
    cell.branch(1).make_trainable("HH_gNa", verbose=False)
    init_fn, step_fn = build_init_and_step_fn(cell)
    utils = build_dynamic_state_utils(cell)
    states, params = init_fn(cell.get_parameters(), delta_t=DT)
    externals = {k: jnp.asarray(v) for k, v in cell.externals.items()}
    inds = cell.external_inds
    step = jax.jit(
        lambda s, p, t: step_fn(s, p, {k: v[:, t] for k, v in externals.items()}, inds, delta_t=DT)
    )
    return cell, utils, states, params, step


def _assert_same(a, b, keys=None):
    for key in keys or a:
        np.testing.assert_allclose(
            np.asarray(a[key]), np.asarray(b[key]), rtol=0, atol=1e-12, equal_nan=True, err_msg=key
        )


def test_remove_then_add_observables_recovers_initial_states(setup):
    _, (remove, add, flatten, unflatten), states, params, _ = setup
    dynamic = remove(states)
    assert set(dynamic) == {"v", "HH_m", "HH_h", "HH_n"}  # no currents
    assert dynamic["v"].shape == (6,) and dynamic["HH_m"].shape == (4,)  # no NaN padding
    assert not any(np.isnan(np.asarray(x)).any() for x in dynamic.values())
    recovered = add(dynamic, params, DT)
    assert set(recovered) == set(states)
    _assert_same(recovered, states)
    vector = flatten(dynamic)
    assert vector.shape == (6 + 3 * 4,)
    _assert_same(unflatten(vector), dynamic)


def test_round_trip_after_steps_reproduces_the_dynamics(setup):
    _, (remove, add, flatten, unflatten), states, params, step = setup
    for t in range(20):
        states = step(states, params, t)
    recovered = add(unflatten(flatten(remove(states))), params, DT)
    # Jaxley's layout: 6 compartments, then the branchpoint (its voltage is not a dynamic
    # state: the step recomputes it, and add_observables restores Jaxley's filler -1)
    assert recovered["v"].shape == states["v"].shape == (7,)
    assert float(recovered["v"][6]) == -1.0 and float(states["v"][6]) < -50.0
    _assert_same(
        {k: v[:6] for k, v in recovered.items()},
        {k: v[:6] for k, v in states.items()},
        keys=["v", "HH_m", "HH_h", "HH_n"],
    )
    # currents are observables: stepping from the recovered states gives the same dynamics
    _assert_same(
        step(recovered, params, 20), step(states, params, 20), keys=["v", "HH_m", "HH_h", "HH_n"]
    )


def test_one_step_jacobian_matches_finite_differences(setup):
    _, (remove, add, flatten, unflatten), states, params, step = setup
    for t in range(12):  # inside the current pulse, off the resting state
        states = step(states, params, t)

    @jax.jit
    def step_dynamics(x):
        return flatten(remove(step(add(unflatten(x), params, DT), params, 12)))

    x0 = flatten(remove(states))
    jac = np.asarray(jax.jacfwd(step_dynamics)(x0))
    assert jac.shape == (18, 18)
    fd = np.empty_like(jac)
    for j in range(x0.size):
        # 1e-5 relative: truncation error ~1e-10, rounding noise well below rtol
        eps = 1e-5 * max(abs(float(x0[j])), 1e-2)
        e = jnp.zeros_like(x0).at[j].set(eps)
        diff = np.asarray(step_dynamics(x0 + e)) - np.asarray(step_dynamics(x0 - e))
        fd[:, j] = diff / (2 * eps)
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-7 * np.abs(jac).max())
    # the voltage of comp 1 depends on that of its neighbour comp 0 (cable coupling)
    dynamic = remove(states)
    is_v = flatten({k: jnp.full(x.shape, float(k == "v")) for k, x in dynamic.items()})
    v_pos = np.flatnonzero(np.asarray(is_v))
    assert abs(jac[v_pos[1], v_pos[0]]) > 1e-3


def test_flatten_and_unflatten_reject_foreign_input(setup):
    _, (_, _, flatten, unflatten), _, _, _ = setup
    with pytest.raises(KeyError, match="i_HH"):
        flatten({"i_HH": jnp.zeros(6)})
    with pytest.raises(ValueError, match=r"\(18,\)"):
        unflatten(jnp.zeros(5))
