"""Two JAX processes on 127.0.0.1 (2 forced CPU devices each, gloo collectives) run one
network split over the 4 global devices; each process's result matches the unsplit
single-process `dendrax.integrate` of the network."""

import numpy as np
import pytest

import dendrax as dx

from . import _networks as nw
from .multiprocess_harness import load, run_processes

SCRIPT = """
from dendrax import parallel

parallel.initialize(COORDINATOR, NUM_PROCESSES, PROCESS_ID, initialization_timeout=60)
import _networks as nw

assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
res = {}
for delays in (False, True):
    net = nw.network(12, "mixed", delays)
    split = parallel.split_network(net, parallel.make_mesh(), delta_t=nw.DT)
    res[f"delays_{delays}"] = np.asarray(split.run(t_max=nw.T_MAX))
    res[f"mode_{delays}"] = split.plan.mode
save(f"process{PROCESS_ID}", **res)
parallel.shutdown()
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_processes_split")
    run_processes(SCRIPT, out, n_processes=2, devices_per_process=2, timeout=180)
    return [load(out, f"process{i}") for i in range(2)]


@pytest.mark.parametrize("delays", [False, True])
def test_split_across_two_processes_matches_unsplit(results, delays):
    net = nw.network(12, "mixed", delays)
    reference = np.asarray(dx.integrate(net, delta_t=nw.DT, t_max=nw.T_MAX))
    for res in results:  # every process holds the whole result
        assert str(res[f"mode_{delays}"]) == ("window" if delays else "step")
        np.testing.assert_allclose(res[f"delays_{delays}"], reference, rtol=0, atol=1e-10)
