"""`fit(mesh=)` on 8 forced CPU devices against the unsharded `fit` (one subprocess)."""

import numpy as np
import pytest

from .multiprocess_harness import load, run_script

SCRIPT = """
import optax
import _models as m
from dendrax import parallel
from dendrax.parallel import BatchError
from dendrax.training import fit

sim, params = m.simulator()
loss_fn, batches = m.fit_problem(sim, n_samples=8)
kw = dict(epochs=1, progress=False, shuffle=False)
plain, hist_plain = fit(loss_fn, params, batches, optax.adam(0.01), **kw)
mesh = parallel.make_mesh(8)
sharded, hist_sharded = fit(loss_fn, params, batches, optax.adam(0.01), mesh=mesh, **kw)
leaf = sharded[0]["HH_gNa"]
res = {
    "initial": np.concatenate([np.ravel(p) for p in jax.tree.leaves(params)]),
    "plain": np.concatenate([np.ravel(p) for p in jax.tree.leaves(plain)]),
    "sharded": np.concatenate([np.ravel(np.asarray(p)) for p in jax.tree.leaves(sharded)]),
    "loss_plain": np.asarray(hist_plain["loss"]),
    "loss_sharded": np.asarray(hist_sharded["loss"]),
    "replicated": bool(leaf.sharding.is_fully_replicated) and len(leaf.sharding.device_set) == 8,
}
uneven = [(b[0][:6], b[1][:6]) for b in batches]
try:
    fit(loss_fn, params, uneven, optax.adam(0.01), mesh=mesh, **kw)
except BatchError as err:
    res["uneven_error"] = str(err)
save("fit", **res)
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit8")
    run_script(SCRIPT, out, n_devices=8, timeout=120)
    return load(out, "fit")


def test_sharded_fit_equals_unsharded_after_three_steps(results):
    assert np.max(np.abs(results["plain"] - results["initial"])) > 1e-4  # it did train
    np.testing.assert_allclose(results["sharded"], results["plain"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(results["loss_sharded"], results["loss_plain"], rtol=1e-10)


def test_parameters_stay_replicated(results):
    assert bool(results["replicated"])


def test_uneven_training_batch_is_an_error(results):
    msg = str(results["uneven_error"])
    assert "batch of 6 samples" in msg and "8 devices of mesh axis 'batch'" in msg
    assert "drop_last=True" in msg
