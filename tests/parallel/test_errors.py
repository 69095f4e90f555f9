"""Bad input to dendrax.parallel gets clear errors (the pytest process has one CPU device)."""

import jax
import numpy as np
import optax
import pytest
from jax.sharding import AxisType

from dendrax import parallel
from dendrax.parallel import AlreadyInitializedError, BatchError, MeshError
from dendrax.training import fit

from .multiprocess_harness import load, run_script


def _double(x):
    return 2.0 * x


def test_nonexistent_mesh_axis():
    mesh = parallel.make_mesh(1, axis="batch")
    with pytest.raises(MeshError, match=r"The mesh has no axis 'cells'; its axes are \('batch',\)"):
        parallel.sweep(_double, np.ones(3), mesh=mesh, axis="cells")


def test_fit_with_nonexistent_mesh_axis():
    mesh = parallel.make_mesh(1)
    with pytest.raises(MeshError, match="The mesh has no axis 'data'"):
        fit(lambda p: p**2, 1.0, None, optax.sgd(0.1), mesh=mesh, mesh_axis="data", progress=False)


def test_explicit_axis_type_is_rejected():
    mesh = jax.make_mesh((1,), ("batch",), axis_types=(AxisType.Explicit,))
    with pytest.raises(MeshError, match="dendrax needs AxisType.Auto"):
        parallel.sweep(_double, np.ones(3), mesh=mesh)


def test_more_devices_than_present():
    with pytest.raises(
        MeshError, match=r"asks for more devices than the 1 present .*device_count=4"
    ):
        parallel.make_mesh(4)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_device_count(bad):
    with pytest.raises(MeshError, match="n_devices must be a positive int or None"):
        parallel.make_mesh(bad)


def test_not_a_mesh():
    with pytest.raises(TypeError, match="mesh must be a jax.sharding.Mesh"):
        parallel.sweep(_double, np.ones(3), mesh="batch")


def test_batch_leaves_of_different_lengths():
    with pytest.raises(
        BatchError, match=r"different lengths along the batch axis \(\['a'\]: 3, \['b'\]: 4\)"
    ):
        parallel.sweep(lambda e: e["a"] + e["b"], {"a": np.ones(3), "b": np.ones(4)})


def test_nothing_to_sweep():
    with pytest.raises(BatchError, match="in_axes is None for every leaf"):
        parallel.sweep(_double, np.ones(3), in_axes=None)
    with pytest.raises(BatchError, match="The batch has 0 elements"):
        parallel.sweep(_double, np.ones((0, 2)))
    with pytest.raises(BatchError, match="The batch is empty"):
        parallel.sweep(_double, {})


def test_in_axes_that_do_not_fit():
    with pytest.raises(BatchError, match="in_axes must be an int, None, or a pytree prefix"):
        parallel.sweep(_double, {"a": np.ones(3)}, in_axes={"b": 0})
    with pytest.raises(BatchError, match=r"has shape \(3,\), which has no axis 1"):
        parallel.sweep(_double, np.ones(3), in_axes=1)
    with pytest.raises(BatchError, match="in_axes for batch must be an int or None, got 'x'"):
        parallel.sweep(_double, np.ones(3), in_axes="x")


@pytest.mark.parametrize("bad", [0, 2.0, True])
def test_bad_batch_size(bad):
    with pytest.raises(TypeError, match="batch_size must be a positive int or None"):
        parallel.sweep(_double, np.ones(3), batch_size=bad)


def test_run_options_with_a_plain_function():
    with pytest.raises(
        TypeError, match=r"got keyword arguments \['t_max'\]; they are only for a Simulator"
    ):
        parallel.sweep(_double, np.ones(3), t_max=5.0)
    with pytest.raises(
        TypeError, match="needs a function of one batch element or a dendrax Simulator"
    ):
        parallel.sweep("run", np.ones(3))


def test_simulator_batch_with_unknown_run_argument():
    from ._models import param_batch, simulator

    sim, _ = simulator()
    with pytest.raises(TypeError, match=r"keys among .*got \['stimuli'\]"):
        parallel.sweep(sim, {"stimuli": np.ones((2, 1, 10))}, t_max=1.0)
    with pytest.raises(TypeError, match=r"\['params'\] are given both in the batch and as fixed"):
        parallel.sweep(sim, param_batch(2), params=param_batch(1), t_max=1.0)


def test_single_device_sweep_in_process():
    """The one-device path (no subprocess): a plain function, padding not needed."""
    out = parallel.sweep(lambda e: {"y": 2.0 * e["x"]}, {"x": np.arange(5.0)}, batch_size=2)
    np.testing.assert_array_equal(np.asarray(out["y"]), 2.0 * np.arange(5.0))


INIT_TWICE = """
from dendrax import parallel
parallel.initialize(COORDINATOR, 1, 0)
assert parallel.is_initialized()
try:
    parallel.initialize(COORDINATOR, 1, 0)
except Exception as err:
    save("init", kind=type(err).__name__, message=str(err), runtime=isinstance(err, RuntimeError))
parallel.shutdown()
assert not parallel.is_initialized()
"""


def test_initialize_twice(tmp_path):
    run_script(INIT_TWICE, tmp_path, n_devices=1, timeout=60)
    res = load(tmp_path, "init")
    assert str(res["kind"]) == AlreadyInitializedError.__name__ and bool(res["runtime"])
    assert "dendrax.parallel.initialize was called twice" in str(res["message"])
    assert "process 0 of 1" in str(res["message"])
