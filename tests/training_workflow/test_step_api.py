"""`build_init_and_step_fn` loop ≡ `integrate`; `integrate` continued from `return_states` ≡ one
long run (float64, identical to round-off)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.integrate import build_init_and_step_fn
from tests.training_workflow._cells import DT, T_MAX, stimulated_cell


def _rec_rows(cell):
    return np.array([r[2] for r in cell.base._recordings])


def test_step_function_loop_equals_integrate():
    cell = stimulated_cell()
    cell.branch(1).make_trainable("HH_gK", verbose=False)
    cell.branch(0).comp(1).make_trainable("v", init_val=-65.0, verbose=False)
    params = cell.get_parameters()
    params[0]["HH_gK"] = params[0]["HH_gK"] * 1.3
    expected = np.asarray(jx.integrate(cell, params=params, t_max=T_MAX, delta_t=DT))
    n_steps = expected.shape[1] - 1

    init_fn, step_fn = build_init_and_step_fn(cell)
    states, all_params = init_fn(params, delta_t=DT)
    externals, external_inds = cell.externals, cell.external_inds
    rows = _rec_rows(cell)
    step = jax.jit(lambda s, p, x: step_fn(s, p, x, external_inds, delta_t=DT))
    traces = [states["v"][rows]]
    for t in range(n_steps):
        states = step(states, all_params, {k: jnp.asarray(v[:, t]) for k, v in externals.items()})
        traces.append(states["v"][rows])
    np.testing.assert_allclose(np.stack(traces, axis=1), expected, rtol=0, atol=1e-10)
    # init_fn applies the trainable initial voltage (branch 0, comp 1 = global row 1)
    assert np.asarray(init_fn(params, delta_t=DT)[0]["v"])[1] == pytest.approx(-65.0)


def test_integrate_continued_from_returned_states_equals_one_long_run():
    long_t = 2 * T_MAX
    i_long = jx.step_current(0.3, 3.0, 0.2, DT, long_t)
    cell = stimulated_cell()
    cell.delete_stimuli()
    cell.branch(2).comp(1).record("HH_m", verbose=False)
    stim = cell.branch(0).comp(0)
    full = np.asarray(
        jx.integrate(cell, data_stimuli=stim.data_stimulate(i_long), t_max=long_t, delta_t=DT)
    )
    n1 = int(T_MAX / DT)  # 80 steps in the first segment
    first, states = jx.integrate(
        cell,
        data_stimuli=stim.data_stimulate(i_long[:n1]),
        t_max=(n1 - 0.5) * DT,
        delta_t=DT,
        return_states=True,
    )
    assert first.shape[1] == n1 + 1
    rest = full.shape[1] - 1 - n1
    second = jx.integrate(
        cell,
        data_stimuli=stim.data_stimulate(i_long[n1:]),
        t_max=(rest - 0.5) * DT,
        delta_t=DT,
        all_states=states,
    )
    joined = np.concatenate([np.asarray(first), np.asarray(second)[:, 1:]], axis=1)
    np.testing.assert_allclose(joined, full, rtol=0, atol=1e-10)
    # continuing starts exactly where the first run ended
    np.testing.assert_allclose(np.asarray(second)[:, 0], np.asarray(first)[:, -1], atol=0)


def test_all_states_missing_a_state_raises():
    cell = stimulated_cell()
    _, states = jx.integrate(cell, t_max=0.1, delta_t=DT, return_states=True)
    states = {k: v for k, v in states.items() if k != "HH_m"}
    with pytest.raises(ValueError, match="HH_m"):
        jx.integrate(cell, t_max=0.1, delta_t=DT, all_states=states)


def test_return_states_with_padded_checkpointing_is_the_state_at_t_max():
    cell = stimulated_cell()
    n_steps = int(T_MAX // DT + 1)
    v_clamp = np.full(n_steps, -65.0)
    clamps = cell.branch(1).comp(0).data_clamp("v", jnp.asarray(v_clamp))
    _, plain = jx.integrate(cell, data_clamps=clamps, t_max=T_MAX, delta_t=DT, return_states=True)
    _, padded = jx.integrate(
        cell,
        data_clamps=clamps,
        t_max=T_MAX,
        delta_t=DT,
        return_states=True,
        checkpoint_lengths=[9, 9],
    )  # 81 > 80 steps
    for key in ("v", "HH_m"):
        np.testing.assert_allclose(np.asarray(padded[key]), np.asarray(plain[key]), atol=1e-10)


def test_states_carry_the_branchpoint_voltage_as_jaxley():
    """Jaxley's layout: compartments, then one entry per branchpoint. At a branchpoint of
    three identical branches (equal half-compartment resistances), the current balance
    makes its voltage the mean of its three neighbouring compartments."""
    cell = jx.Cell([jx.Branch(jx.Compartment(), 3)] * 3, parents=[-1, 0, 0])
    cell.insert(jx.channels.HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.0, 1.0, 0.4, DT, 1.0), verbose=False)
    init_fn, step_fn = build_init_and_step_fn(cell)
    states, all_params = init_fn([], delta_t=DT)
    assert states["v"].shape == states["HH_m"].shape == states["i_HH"].shape == (10,)
    assert float(states["v"][9]) == -1.0 and float(states["HH_m"][9]) == -1.0
    assert float(states["i_HH"][9]) == 0.0
    for t in range(40):
        externals = {k: jnp.asarray(v[:, t]) for k, v in cell.externals.items()}
        states = step_fn(states, all_params, externals, cell.external_inds, delta_t=DT)
    v = np.asarray(states["v"])
    neighbours = v[[2, 3, 6]]  # last comp of branch 0, first comps of branches 1 and 2
    assert np.ptp(neighbours) > 1.0  # the stimulus makes them differ
    assert v[9] == pytest.approx(neighbours.mean(), abs=1e-10)
    # a step also accepts compartment-only states (the branchpoint entry is recomputed)
    again = step_fn({k: x[:9] for k, x in states.items()}, all_params, {}, {}, delta_t=DT)
    np.testing.assert_allclose(
        np.asarray(again["v"]), np.asarray(step_fn(states, all_params, {}, {}, delta_t=DT)["v"])
    )
