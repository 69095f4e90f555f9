"""`sweep` on 1 and 8 forced CPU devices (one subprocess) against one `sim.run` per element."""

import numpy as np
import pytest

from .multiprocess_harness import load, run_script

N = 13  # uneven: padded to 16 on 8 devices

SCRIPT = """
import _models as m
from dendrax import parallel
from dendrax.parallel import BatchError

assert jax.device_count() == 8
sim, params = m.simulator()
pb = m.param_batch(13)
one, eight = parallel.make_mesh(1), parallel.make_mesh(8)
res = {"reference": m.reference_runs(sim, pb, 13)}
res["mesh1"] = sim_out = parallel.sweep(sim, pb, mesh=one, t_max=m.T_MAX)
res["mesh8"] = parallel.sweep(sim, pb, mesh=eight, t_max=m.T_MAX)
res["mesh8_chunk2"] = parallel.sweep(sim, pb, mesh=eight, batch_size=2, t_max=m.T_MAX)
res["mesh1_chunk4"] = parallel.sweep(sim, pb, mesh=one, batch_size=4, t_max=m.T_MAX)
res["default_mesh"] = parallel.sweep(sim, pb, t_max=m.T_MAX)
res["process_local"] = parallel.sweep(sim, pb, mesh=eight, process_local=True, t_max=m.T_MAX)

# 16 elements: no padding, the result stays sharded over the 8 devices
pb16 = m.param_batch(16)
full = parallel.sweep(sim, pb16, mesh=eight, pad=False, t_max=m.T_MAX)
res["mesh8_16"] = full
res["mesh8_16_devices"] = len(full.sharding.device_set)
res["reference_16"] = m.reference_runs(sim, pb16, 16)

# stimuli swept, parameters fixed; stimuli given with the batch on axis 2 (in_axes)
stim = m.stimulus_batch(sim, 13)
res["stim8"] = parallel.sweep(sim, {"inputs": stim}, mesh=eight, params=params, t_max=m.T_MAX)
moved = {"i": np.moveaxis(stim["i"], 0, 2)}
res["stim8_axis2"] = parallel.sweep(
    sim, {"inputs": moved}, mesh=eight, in_axes={"inputs": 2}, params=params, t_max=m.T_MAX
)
res["stim_reference"] = np.stack(
    [np.asarray(sim.run(params, inputs={"i": stim["i"][i]}, t_max=m.T_MAX)) for i in range(13)]
)

# any function of one element; a pytree output; an unbatched (in_axes=None) leaf
def peak(element):
    p, offset = element
    v = sim.run(p, t_max=m.T_MAX)[0]
    return {"peak": v.max() + offset, "trace": v}

out = parallel.sweep(peak, (pb, 1.5), mesh=eight, batch_size=3, in_axes=(0, None))
res["fn_peak"], res["fn_trace"] = out["peak"], out["trace"]

# differentiable: grad of a sweep (inside jit) against grad of a plain vmap
import jax.numpy as jnp
pj = jax.tree.map(jnp.asarray, m.param_batch(13))
swept = lambda p: jnp.sum(parallel.sweep(sim, p, mesh=eight, batch_size=2, t_max=2.0)[:, 0, -1])
plain = lambda p: jnp.sum(jax.vmap(lambda q: sim.run(q, t_max=2.0))(p)[:, 0, -1])
flat = lambda tree: np.concatenate([np.ravel(g) for g in jax.tree.leaves(tree)])
res["grad_sweep"] = flat(jax.jit(jax.grad(swept))(pj))
res["grad_vmap"] = flat(jax.grad(plain)(pj))

try:
    parallel.sweep(sim, pb, mesh=eight, pad=False, t_max=m.T_MAX)
except BatchError as err:
    res["pad_false_error"] = str(err)
save("sweep", **{k: np.asarray(v) for k, v in res.items()})
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep8")
    run_script(SCRIPT, out, n_devices=8, timeout=120)
    return load(out, "sweep")


ALL = ["mesh1", "mesh8", "mesh8_chunk2", "mesh1_chunk4", "default_mesh", "process_local"]


@pytest.mark.parametrize("name", ALL)
def test_sweep_matches_one_run_per_element(results, name):
    assert results[name].shape == (N, 1, 201)
    np.testing.assert_allclose(results[name], results["reference"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ALL[1:])
def test_one_and_eight_devices_agree(results, name):
    np.testing.assert_allclose(results[name], results["mesh1"], rtol=0, atol=1e-12)


def test_the_reference_spikes_and_varies(results):
    """Guards the comparisons above against flat or identical traces."""
    peaks = results["reference"][:, 0].max(axis=1)
    assert peaks.max() > 0.0 and results["reference"].min() < -60.0
    assert np.ptp(results["reference"][:, 0, -1]) > 1e-3


def test_even_batch_stays_sharded(results):
    assert int(results["mesh8_16_devices"]) == 8
    np.testing.assert_allclose(results["mesh8_16"], results["reference_16"], rtol=0, atol=1e-10)


def test_stimulus_sweep_and_in_axes(results):
    np.testing.assert_allclose(results["stim8"], results["stim_reference"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(results["stim8_axis2"], results["stim8"], rtol=0, atol=1e-12)
    # the stimuli differ, so do the traces
    assert np.ptp(results["stim8"][:, 0].max(axis=1)) > 10.0


def test_function_sweep_with_pytree_output(results):
    ref = results["reference"][:, 0]
    np.testing.assert_allclose(results["fn_trace"], ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(results["fn_peak"], ref.max(axis=1) + 1.5, rtol=0, atol=1e-10)


def test_gradient_through_a_sweep(results):
    assert np.max(np.abs(results["grad_vmap"])) > 1.0
    np.testing.assert_allclose(results["grad_sweep"], results["grad_vmap"], rtol=1e-10, atol=0)


def test_indivisible_batch_without_padding_is_an_error(results):
    msg = str(results["pad_false_error"])
    assert "13 elements, not a multiple of the 8 devices along mesh axis 'batch'" in msg
    assert "pad=True" in msg and "give 8 or 16 elements" in msg
