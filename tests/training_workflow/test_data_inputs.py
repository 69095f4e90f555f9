"""`data_set` ≡ `set`, `data_stimulate` ≡ `stimulate`, `data_clamp` ≡ `clamp` (identical traces),
also under `jit` and `vmap`; `delete_clamps`; `externals` / `external_inds`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from tests.training_workflow._cells import DT, T_MAX, current, hh_cell, stimulated_cell


def _run(cell, **kwargs):
    return np.asarray(jx.integrate(cell, t_max=T_MAX, delta_t=DT, **kwargs))


def test_data_set_equals_set():
    reference = stimulated_cell()
    reference.branch(1).set("HH_gNa", 0.2)
    reference.set("radius", 0.8)
    reference.branch(0).comp(1).set("v", -60.0)
    reference.branch(2).set("HH_eK", np.array([-80.0, -75.0]))
    expected = _run(reference)

    cell = stimulated_cell()
    pstate = cell.branch(1).data_set("HH_gNa", 0.2, None)
    pstate = cell.data_set("radius", 0.8, pstate)
    pstate = cell.branch(0).comp(1).data_set("v", -60.0, pstate)
    pstate = cell.branch(2).data_set("HH_eK", jnp.array([-80.0, -75.0]), pstate)
    assert [p["key"] for p in pstate] == ["HH_gNa", "radius", "v", "HH_eK"]
    np.testing.assert_allclose(_run(cell, param_state=pstate), expected, rtol=0, atol=1e-12)
    # the builder tables are untouched by data_set
    assert np.allclose(cell.nodes["radius"], 1.0)


def test_data_set_under_jit_and_vmap():
    gnas = [0.08, 0.12, 0.2]
    reference = stimulated_cell()  # one module: new values reuse its compiled simulation
    expected = []
    for g in gnas:
        reference.branch(1).set("HH_gNa", g)
        expected.append(_run(reference))
    cell = stimulated_cell()

    def simulate(g):
        pstate = cell.branch(1).data_set("HH_gNa", g, None)
        return jx.integrate(cell, param_state=pstate, t_max=T_MAX, delta_t=DT)

    batched = jax.jit(jax.vmap(simulate))(jnp.asarray(gnas))
    np.testing.assert_allclose(np.asarray(batched), np.stack(expected), rtol=0, atol=1e-10)


def test_data_stimulate_equals_stimulate():
    amps = np.array([[0.1], [0.3]]) * np.ones((2, current().size))
    reference = hh_cell()
    reference.branch(0).comp(0).stimulate(current(), verbose=False)
    reference.branch(1).comp("all").stimulate(amps, verbose=False)
    reference.branch(2).comp(1).record(verbose=False)
    expected = _run(reference)

    cell = hh_cell()
    cell.branch(2).comp(1).record(verbose=False)
    stims = cell.branch(0).comp(0).data_stimulate(current(), None)
    stims = cell.branch(1).comp("all").data_stimulate(jnp.asarray(amps), stims)
    np.testing.assert_allclose(_run(cell, data_stimuli=stims), expected, rtol=0, atol=1e-12)
    # without t_max the stimuli set the number of steps (one per stimulus entry)
    no_t_max = np.asarray(jx.integrate(cell, data_stimuli=stims, delta_t=DT))
    assert no_t_max.shape == (1, current().size + 1)
    np.testing.assert_allclose(no_t_max[:, : expected.shape[1]], expected, rtol=0, atol=1e-12)


def test_vmap_over_data_stimulate_amplitudes():
    amps = np.array([0.05, 0.2, 0.4])
    currents = jx.datapoint_to_step_currents(0.3, 1.2, amps, DT, T_MAX)
    assert currents.shape == (3, current().size)
    reference = hh_cell()
    reference.branch(2).comp(1).record(verbose=False)
    expected = []
    for row in currents:
        reference.delete_stimuli()
        reference.branch(0).comp(0).stimulate(np.asarray(row), verbose=False)
        expected.append(_run(reference))
    cell = hh_cell()
    cell.branch(2).comp(1).record(verbose=False)

    def simulate(i):
        return jx.integrate(
            cell, data_stimuli=cell.branch(0).comp(0).data_stimulate(i), t_max=T_MAX, delta_t=DT
        )

    out = jax.jit(jax.vmap(simulate))(jnp.asarray(currents))
    np.testing.assert_allclose(np.asarray(out), np.stack(expected), rtol=0, atol=1e-10)


def _clamp_series():
    n = int(T_MAX // DT) + 2
    t = np.arange(n) * DT
    return -70.0 + 20.0 * np.sin(t), 0.05 + 0.02 * t


def test_data_clamp_equals_clamp():
    v_series, m_series = _clamp_series()
    reference = stimulated_cell()
    reference.branch(1).comp(0).clamp("v", v_series, verbose=False)
    reference.branch(2).clamp("HH_m", m_series, verbose=False)
    reference.branch(1).comp(0).record("HH_h", verbose=False)
    expected = _run(reference)

    cell = stimulated_cell()
    cell.branch(1).comp(0).record("HH_h", verbose=False)
    clamps = cell.branch(1).comp(0).data_clamp("v", jnp.asarray(v_series), None)
    clamps = cell.branch(2).data_clamp("HH_m", jnp.asarray(m_series), clamps)
    np.testing.assert_allclose(_run(cell, data_clamps=clamps), expected, rtol=0, atol=1e-12)


def test_voltage_clamp_pins_the_trace_and_delete_clamps_restores():
    v_series, _ = _clamp_series()
    cell = stimulated_cell()
    free = _run(cell)
    cell.branch(0).comp(0).clamp("v", v_series, verbose=False)
    pinned = _run(cell)
    np.testing.assert_allclose(pinned[0, 1:], v_series[: pinned.shape[1] - 1], atol=1e-12)
    cell.delete_clamps("HH_m")  # another state: no effect
    np.testing.assert_allclose(_run(cell), pinned, atol=0)
    cell.delete_clamps("v")
    np.testing.assert_allclose(_run(cell), free, atol=0)


def test_clamp_shorter_than_simulation_raises():
    cell = stimulated_cell()
    with pytest.raises(ValueError, match="clamp"):
        cell.branch(1).comp(0).clamp("v", -70.0 * np.ones(10), verbose=False)
        _run(cell)
    cell = stimulated_cell()
    short = cell.branch(1).comp(0).data_clamp("v", jnp.full(10, -70.0))
    with pytest.raises(ValueError, match="time points"):
        _run(cell, data_clamps=short)


def test_wrong_shaped_data_stimulus_raises():
    cell = stimulated_cell()
    with pytest.raises(ValueError, match="shape"):
        cell.branch(1).comp("all").data_stimulate(jnp.zeros((3, 20)))


def test_externals_and_external_inds():
    v_series, _ = _clamp_series()
    cell = hh_cell()
    cell.branch(0).comp(0).stimulate(current(), verbose=False)
    cell.branch(1).comp("all").stimulate(current(0.1), verbose=False)
    cell.branch(2).comp(1).clamp("v", v_series, verbose=False)
    ext, inds = cell.externals, cell.external_inds
    assert set(ext) == set(inds) == {"i", "v"}
    assert ext["i"].shape == (3, current().size)
    np.testing.assert_array_equal(inds["i"], [0, 2, 3])
    np.testing.assert_array_equal(inds["v"], [5])
    np.testing.assert_allclose(ext["v"][0], v_series)
