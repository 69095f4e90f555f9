"""The compiled core: `dendrax.compile` -> `Simulator`, an immutable pytree.

Regression tests for issue 20's stale runner (a run after changing trainables, stimuli,
recordings or clamps must equal the run of a freshly built module), and the Simulator's
own API under `jit`, `vmap` and `grad` (against `integrate` and central differences).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH

DT, T_MAX = 0.025, 8.0


def _cell():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 5, parents=[-1, 0, 0, 1, 1])
    cell.set("length", 25.0)  # ~0.5 length constants: where an input sits matters
    cell.set("radius", 1.0)
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 5.0, 0.6, DT, T_MAX), verbose=False)
    cell.branch(4).comp(1).record(verbose=False)
    return cell


def _scaled(params, factor):
    return [{k: jnp.asarray(v) * factor for k, v in p.items()} for p in params]


def _run(cell, params=None):
    return np.asarray(jx.integrate(cell, params=params, t_max=T_MAX, delta_t=DT))


def test_changed_trainables_give_the_fresh_module_result():
    cell = _cell()
    cell.branch(0).make_trainable("HH_gK", verbose=False)
    first = _run(cell, _scaled(cell.get_parameters(), 3.0))
    cell.delete_trainables()
    cell.branch(3).make_trainable("HH_gK", verbose=False)
    params = _scaled(cell.get_parameters(), 3.0)
    second = _run(cell, params)

    fresh = _cell()
    fresh.branch(3).make_trainable("HH_gK", verbose=False)
    expected = _run(fresh, _scaled(fresh.get_parameters(), 3.0))
    np.testing.assert_allclose(second, expected, rtol=0, atol=1e-12)
    assert np.abs(first - second).max() > 0.05  # the trainable's location matters (1e-12 tolerance)


def test_changed_stimulus_recording_and_clamp_give_the_fresh_module_result():
    cell = _cell()
    base_run = _run(cell)

    cell.delete_stimuli()
    cell.branch(3).comp(0).stimulate(jx.step_current(0.5, 5.0, 0.6, DT, T_MAX), verbose=False)
    moved = _cell()
    moved.delete_stimuli()
    moved.branch(3).comp(0).stimulate(jx.step_current(0.5, 5.0, 0.6, DT, T_MAX), verbose=False)
    np.testing.assert_allclose(_run(cell), _run(moved), rtol=0, atol=1e-12)
    assert np.abs(_run(cell) - base_run).max() > 1.0

    cell.delete_recordings()
    cell.branch(1).comp(0).record(verbose=False)
    moved.delete_recordings()
    moved.branch(1).comp(0).record(verbose=False)
    np.testing.assert_allclose(_run(cell), _run(moved), rtol=0, atol=1e-12)

    clamp = np.full(int(T_MAX / DT) + 1, -40.0)
    cell.branch(3).comp(0).clamp("v", clamp, verbose=False)
    moved.branch(3).comp(0).clamp("v", clamp, verbose=False)
    clamped = _run(cell)
    np.testing.assert_allclose(clamped, _run(moved), rtol=0, atol=1e-12)
    cell.delete_clamps()
    fresh = _cell()
    fresh.delete_stimuli()
    fresh.branch(3).comp(0).stimulate(jx.step_current(0.5, 5.0, 0.6, DT, T_MAX), verbose=False)
    fresh.delete_recordings()
    fresh.branch(1).comp(0).record(verbose=False)
    np.testing.assert_allclose(_run(cell), _run(fresh), rtol=0, atol=1e-12)
    assert np.abs(clamped - _run(fresh)).max() > 1.0


def test_a_simulator_does_not_change_when_the_module_does():
    cell = _cell()
    sim = jx.compile(cell, delta_t=DT)
    before = np.asarray(sim.run(t_max=T_MAX))
    cell.set("HH_gNa", 0.0)  # no spikes in the module any more
    np.testing.assert_array_equal(np.asarray(sim.run(t_max=T_MAX)), before)
    assert np.abs(_run(cell) - before).max() > 20.0
    assert "module" not in repr(vars(sim)).lower()


def test_simulator_run_equals_integrate_and_works_under_jit_vmap_grad():
    cell = _cell()
    cell.branch(1).make_trainable("HH_gNa", verbose=False)
    params = cell.get_parameters()
    sim = jx.compile(cell, delta_t=DT)
    expected = _run(cell, params)

    jitted = jax.jit(lambda s, p: s.run(p, t_max=T_MAX))  # the Simulator is a jit argument
    np.testing.assert_allclose(np.asarray(jitted(sim, params)), expected, rtol=0, atol=1e-10)

    scales = jnp.array([0.5, 1.0, 1.5])
    batch = jax.vmap(lambda a: sim.run(_scaled(params, a), t_max=T_MAX))(scales)
    np.testing.assert_allclose(np.asarray(batch[1]), expected, rtol=0, atol=1e-10)
    single = _run(cell, _scaled(params, 1.5))
    np.testing.assert_allclose(np.asarray(batch[2]), single, rtol=0, atol=1e-10)

    def loss(a):
        return jnp.mean(sim.run(_scaled(params, a), t_max=3.0) ** 2)

    grad = float(jax.grad(loss)(1.0))
    eps = 1e-5
    fd = (float(loss(1.0 + eps)) - float(loss(1.0 - eps))) / (2 * eps)
    assert grad == pytest.approx(fd, rel=1e-6)
    assert abs(grad) > 1e-3


def test_simulator_step_loop_equals_run():
    cell = _cell()
    sim = jx.compile(cell, delta_t=DT)
    n_steps = 40
    expected = np.asarray(sim.run(n_steps=n_steps))
    states, all_params = sim.init()
    series = sim.inputs["i"]
    trace = [sim.record(states)]
    step = jax.jit(lambda s, x: sim.step(s, all_params, {"i": x}))
    for t in range(n_steps):
        states = step(states, series[:, t])
        trace.append(sim.record(states))
    np.testing.assert_allclose(np.stack(trace, axis=1), expected, rtol=0, atol=1e-10)


def test_new_inputs_reuse_the_layout():
    cell = _cell()
    sim = jx.compile(cell, delta_t=DT)
    doubled = sim.run(t_max=T_MAX, inputs={"i": 2.0 * np.asarray(sim.inputs["i"])})
    cell.delete_stimuli()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 5.0, 1.2, DT, T_MAX), verbose=False)
    np.testing.assert_allclose(np.asarray(doubled), _run(cell), rtol=0, atol=1e-10)
    with pytest.raises(KeyError, match="not an input"):
        sim.run(t_max=T_MAX, inputs={"v": np.zeros((1, 10))})
