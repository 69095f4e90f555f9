"""Two JAX processes on 127.0.0.1 (2 forced CPU devices each, gloo collectives) run `sweep`
and `fit(mesh=)` over the 4 global devices; each matches the single-process run."""

import numpy as np
import optax
import pytest

from dendrax import parallel
from dendrax.training import fit

from . import _models as m
from .multiprocess_harness import load, run_processes

N = 13  # padded to 16 over 4 devices

SCRIPT = """
import optax
from dendrax import parallel

parallel.initialize(COORDINATOR, NUM_PROCESSES, PROCESS_ID, initialization_timeout=60)
import _models as m
from dendrax.training import fit

assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
sim, params = m.simulator()
mesh = parallel.make_mesh()
swept = parallel.sweep(sim, m.param_batch(13), mesh=mesh, batch_size=2, t_max=m.T_MAX)
# each process passes its own rows: 7 and 6 of the 13
rows = slice(0, 7) if PROCESS_ID == 0 else slice(7, 13)
own = jax.tree.map(lambda x: x[rows], m.param_batch(13))
local = parallel.sweep(sim, own, mesh=mesh, process_local=True, t_max=m.T_MAX)
loss_fn, batches = m.fit_problem(sim, n_samples=4)
trained, hist = fit(
    loss_fn, params, batches, optax.adam(0.01), epochs=1, progress=False, shuffle=False, mesh=mesh
)
flat = np.concatenate([np.ravel(np.asarray(p)) for p in jax.tree.leaves(trained)])
loss = np.asarray(hist["loss"])
save(f"process{PROCESS_ID}", sweep=np.asarray(swept), local=np.asarray(local), fit=flat, loss=loss)
parallel.shutdown()
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_processes")
    run_processes(SCRIPT, out, n_processes=2, devices_per_process=2, timeout=150)
    return [load(out, f"process{i}") for i in range(2)]


@pytest.fixture(scope="module")
def single():
    sim, params = m.simulator()
    return sim, params


def test_sweep_across_two_processes_matches_one_process(results, single):
    sim, _ = single
    batch = m.param_batch(N)
    one_process = np.asarray(parallel.sweep(sim, batch, t_max=m.T_MAX))
    for res in results:  # gathered: every process holds the whole result
        assert res["sweep"].shape == (N, 1, 201)
        np.testing.assert_allclose(res["sweep"], one_process, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        results[0]["sweep"], m.reference_runs(sim, batch, N), rtol=0, atol=1e-10
    )


def test_process_local_rows(results):
    whole = results[0]["sweep"]
    assert results[0]["local"].shape == (7, 1, 201) and results[1]["local"].shape == (6, 1, 201)
    np.testing.assert_allclose(results[0]["local"], whole[:7], rtol=0, atol=1e-12)
    np.testing.assert_allclose(results[1]["local"], whole[7:], rtol=0, atol=1e-12)


def test_fit_across_two_processes_matches_unsharded(results, single):
    sim, params = single
    loss_fn, batches = m.fit_problem(sim, n_samples=4)
    plain, hist = fit(
        loss_fn, params, batches, optax.adam(0.01), epochs=1, progress=False, shuffle=False
    )
    flat = np.concatenate([np.ravel(p) for p in m.jax.tree.leaves(plain)])
    for res in results:
        np.testing.assert_allclose(res["fit"], flat, rtol=0, atol=1e-10)
        np.testing.assert_allclose(res["loss"], hist["loss"], rtol=1e-10)
