"""fit(): convergence, resume bit-identity, checkpoint safety, NaN guard, bounds, transforms."""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dendrax.training import CheckpointError, Dataset, fit, make_bounds
from dendrax.training import checkpoint as ckpt_mod

pytestmark = pytest.mark.usefixtures("x64")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3


def _params():
    return [{"w": jnp.zeros(3)}, {"b": jnp.zeros(())}]  # Jaxley-style list of dicts


def loss_fn(p, x, y):
    return jnp.mean((x @ p[0]["w"] + p[1]["b"] - y) ** 2)


def _run(tmp_path=None, epochs=6, **kw):
    data = Dataset(X, Y).batch(5)
    return fit(
        loss_fn,
        _params(),
        data,
        optax.adam(0.1),
        epochs,
        progress=False,
        seed=1,
        clip_norm=5.0,
        **kw,
    )


def test_fit_converges_and_reports_history():
    params, hist = fit(
        loss_fn, _params(), Dataset(X, Y).batch(6), optax.adam(0.1), 80, progress=False
    )
    assert hist["loss"][-1] < 1e-2 * hist["loss"][0]
    np.testing.assert_allclose(params[0]["w"], [1.0, -2.0, 0.5], atol=0.05)
    assert len(hist["loss"]) == 80 and hist["skipped_steps"] == []


def test_resume_is_bit_identical(tmp_path):
    ref, ref_hist = _run(epochs=6)
    path = str(tmp_path / "run.npz")

    def crash_at_11(step, params, loss):
        if step == 11:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(epochs=6, checkpoint=path, checkpoint_every=4, callback=crash_at_11)
    assert os.path.exists(path) and not os.path.exists(path + ".tmp")
    resumed, hist = _run(epochs=6, checkpoint=path, checkpoint_every=4, resume=True)
    for a, b in zip(
        jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(resumed), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert hist == ref_hist
    # a finished run resumes to the same answer without further steps
    again, _ = _run(epochs=6, checkpoint=path, resume=True, callback=crash_at_11)
    np.testing.assert_array_equal(again[0]["w"], ref[0]["w"])


def test_missing_and_corrupt_checkpoints(tmp_path):
    path = str(tmp_path / "run.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        _run(epochs=1, checkpoint=path, resume=True)
    _run(epochs=2, checkpoint=path)  # resume="auto" would start fresh; now a good file exists
    good = open(path, "rb").read()
    # a crash while writing leaves the previous checkpoint untouched
    real_savez = np.savez

    def broken_savez(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    ckpt_mod.np.savez = broken_savez
    try:
        with pytest.raises(OSError, match="disk full"):
            _run(epochs=4, checkpoint=path, resume=True)
    finally:
        ckpt_mod.np.savez = real_savez
    assert open(path, "rb").read() == good and not os.path.exists(path + ".tmp")
    # corrupt file: clear error, file not overwritten
    with open(path, "wb") as f:
        f.write(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        _run(epochs=4, checkpoint=path, resume=True)
    assert open(path, "rb").read() == good[: len(good) // 2]
    # a checkpoint from another model
    with open(path, "wb") as f:
        f.write(good)
    with pytest.raises(CheckpointError, match="parameter tree"):
        fit(
            loss_fn,
            {"w": jnp.zeros(3)},
            None,
            optax.sgd(0.1),
            1,
            checkpoint=path,
            resume=True,
            progress=False,
        )


def test_nan_guard_skips_step_and_keeps_parameters():
    def loss(p, key):
        bad = jax.random.uniform(key) < 0.3
        return jnp.where(bad, jnp.nan, jnp.sum((p["x"] - 2.0) ** 2))

    with pytest.warns(RuntimeWarning, match="non-finite"):
        params, hist = fit(
            lambda p, key: loss(p, key),
            {"x": jnp.zeros(2)},
            None,
            optax.adam(0.05),
            150,
            pass_key=True,
            progress=False,
        )
    assert hist["skipped_steps"] and np.all(np.isfinite(params["x"]))
    np.testing.assert_allclose(params["x"], 2.0, atol=0.1)


def test_bounds_cost_clip_and_transform():
    def loss(p):
        return jnp.sum((p["x"] - jnp.array([-3.0, 0.5, 3.0])) ** 2)

    p0 = {"x": jnp.zeros(3)}
    lower, upper = make_bounds(p0)
    lower["x"], upper["x"] = -1.0, 1.0
    clipped, _ = fit(
        loss,
        p0,
        None,
        optax.adam(0.1),
        100,
        bounds=(lower, upper),
        bounds_mode="clip",
        progress=False,
    )
    np.testing.assert_allclose(clipped["x"], [-1.0, 0.5, 1.0], atol=1e-2)
    assert np.all(np.abs(clipped["x"]) <= 1.0)
    soft, _ = fit(
        loss,
        p0,
        None,
        optax.adam(0.05),
        300,
        bounds=(lower, upper),
        bounds_weight=10.0,
        progress=False,
    )
    assert np.all(np.abs(soft["x"]) <= 1.05)  # soft: small overshoot only

    class Exp:  # optimise log(x): x stays positive
        forward = staticmethod(lambda p: jax.tree_util.tree_map(jnp.exp, p))
        inverse = staticmethod(lambda p: jax.tree_util.tree_map(jnp.log, p))

    pos, _ = fit(
        loss, {"x": jnp.ones(3)}, None, optax.adam(0.1), 200, transform=Exp(), progress=False
    )
    assert np.all(pos["x"] > 0) and float(pos["x"][1]) == pytest.approx(0.5, abs=1e-2)


def test_aux_metrics_and_progress_bar():
    def loss(p):
        val = jnp.sum(p["x"] ** 2)
        return val, {"half": val / 2}

    _, hist = fit(loss, {"x": jnp.ones(2)}, None, 0.1, 3, has_aux=True, progress=True)
    np.testing.assert_allclose(hist["metrics"]["half"], np.array(hist["loss"]) / 2)


def test_bad_arguments():
    p = {"x": jnp.ones(2)}
    with pytest.raises(TypeError, match="optax GradientTransformation"):
        fit(loss_fn, p, None, "adam", 1, progress=False)
    lower, upper = make_bounds(p)
    with pytest.raises(ValueError, match="does not match"):
        fit(loss_fn, p, None, 0.1, 1, bounds=({"y": 1.0}, upper), progress=False)
    with pytest.raises(TypeError, match="lower, upper"):
        fit(loss_fn, p, None, 0.1, 1, bounds=lower, progress=False)
    with pytest.raises(TypeError, match="forward"):
        fit(loss_fn, p, None, 0.1, 1, transform=object(), progress=False)
    with pytest.raises(ValueError, match="bounds_mode"):
        fit(loss_fn, p, None, 0.1, 1, bounds=(lower, upper), bounds_mode="hard")


def test_missing_optional_dependencies_give_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "optax", None)
    with pytest.raises(ImportError, match=r"pip install dendrax\[train\]"):
        fit(lambda p: jnp.sum(p["x"]), {"x": jnp.ones(1)}, None, optax.sgd(0.1), 1)
    with pytest.raises(ImportError, match=r"pip install dendrax\[train\]"):
        fit(lambda p: jnp.sum(p["x"]), {"x": jnp.ones(1)}, None, 0.1, 1, progress=False)
