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
