"""fit(): resume validates the configuration, never spins, and the NaN guard covers the update.

References: the uninterrupted run (bit-identical resumes), closed-form SGD iterates on a
quadratic (NaN-guard tests), and the messages naming what differs.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dendrax.training import CheckpointError, Dataset, fit

pytestmark = pytest.mark.usefixtures("x64")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def loss_fn(p, x, y):
    return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)


def _params():
    return {"w": jnp.zeros(3), "b": jnp.zeros(())}


def _run(path=None, batch=5, optimizer=None, epochs=4, x=X, y=Y, seed=1, **kw):
    return fit(
        loss_fn,
        _params(),
        Dataset(x, y).batch(batch),
        optax.adam(0.1) if optimizer is None else optimizer,
        epochs,
        progress=False,
        seed=seed,
        checkpoint=path,
        **kw,
    )


def _assert_same(a, b):
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.fixture
def stopped(tmp_path):
    """A checkpoint of the run above stopped after 7 steps (epoch 1, step 2 of 5)."""
    path = str(tmp_path / "run.npz")
    _run(path, max_steps=7)
    return path


def test_max_steps_then_resume_equals_uninterrupted_run(stopped):
    ref, ref_hist = _run()
    resumed, hist = _run(stopped, resume=True)
    _assert_same(ref, resumed)
    assert hist == ref_hist
    # more epochs on resume is the one change allowed: it equals a longer run
    longer, _ = _run(stopped, resume=True, epochs=6)
    _assert_same(longer, _run(epochs=6)[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(batch=8), r"batch size: 5 in the checkpoint, 8 now; batches per epoch: 5 in"),
        (dict(x=X[:20], y=Y[:20]), r"number of samples: 24 in the checkpoint, 20 now"),
        (
            dict(optimizer=optax.adam(0.05)),
            r"optimizer update\.update_fns\[1\]\.tx\.update\.step_size: -0\.1 in the "
            r"checkpoint, -0\.05 now",
        ),
        (dict(optimizer=optax.adam(0.1, b1=0.8)), r"\.b1: 0\.9 in the checkpoint, 0\.8 now"),
        (
            dict(optimizer=optax.sgd(0.1)),
            r"optimizer: scale_by_adam \+ scale in the checkpoint, identity \+ scale now",
        ),
        (dict(clip_norm=1.0), r"clip_norm: None in the checkpoint, 1\.0 now"),
        (dict(seed=2), r"seed: 1 in the checkpoint, 2 now"),
        (dict(shuffle=False), r"shuffle: True in the checkpoint, False now"),
    ],
)
def test_resume_with_another_configuration_names_what_differs(stopped, change, message):
    before = Path(stopped).read_bytes()
    kw = dict(change)
    with pytest.raises(CheckpointError, match=r"different configuration \(.*" + message):
        _run(stopped, resume=True, **kw)
    assert Path(stopped).read_bytes() == before  # nothing was overwritten


def test_resume_with_another_learning_rate_and_parameter_structure(tmp_path):
    path = str(tmp_path / "lr.npz")
    fit(
        lambda p: jnp.sum(p["x"] ** 2),
        {"x": jnp.ones(2)},
        None,
        0.1,
        2,
        checkpoint=path,
        progress=False,
    )
    with pytest.raises(CheckpointError, match=r"learning rate \(Adam\): 0\.1 in the checkpoint"):
        fit(
            lambda p: jnp.sum(p["x"] ** 2),
            {"x": jnp.ones(2)},
            None,
            0.2,
            3,
            checkpoint=path,
            resume=True,
            progress=False,
        )
    with pytest.raises(CheckpointError, match=r"parameter shapes: \['float64\[2\]'\] in the"):
        fit(
            lambda p: jnp.sum(p["x"] ** 2),
            {"x": jnp.ones(3)},
            None,
            0.1,
            3,
            checkpoint=path,
            resume=True,
            progress=False,
        )


def _rewrite_meta(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    for k, v in changes.items():
        if v is None:
            meta.pop(k)
        else:
            meta[k] = v
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_step_in_epoch_past_the_epoch_end_raises_instead_of_spinning(stopped):
    # The old loop skipped every batch of such an epoch and never closed it.
    _rewrite_meta(stopped, step_in_epoch=5, global_step=10)
    with pytest.raises(CheckpointError, match=r"is at step 5 of epoch 1, but the data gives 5"):
        _run(stopped, resume=True)
    # a checkpoint from before configurations were stored: same check
    _rewrite_meta(stopped, config=None, version=1, step_in_epoch=9)
    with pytest.raises(CheckpointError, match=r"is at step 9 of epoch 1, but the data gives 5"):
        _run(stopped, resume=True)


def test_one_shot_iterator_gives_a_clear_error():
    batches = ((X[i : i + 6], Y[i : i + 6]) for i in range(0, 24, 6))
    with pytest.raises(ValueError, match=r"data yielded no batches \(epoch 1\).*one-shot"):
        fit(loss_fn, _params(), batches, optax.adam(0.1), 3, progress=False)


def _bad_steps(seed, n, p_bad=0.3):
    """Which steps draw a "bad" key, as fit's key sequence goes (split, then use the sub-key)."""
    key, out = jax.random.PRNGKey(seed), []
    for _ in range(n):
        key, sub = jax.random.split(key)
        out.append(bool(jax.random.uniform(sub) < p_bad))
    return out


def test_update_overflowing_to_inf_is_skipped():
    # Finite loss and gradient (1.25e307) on bad steps, but lr 50 makes the update -inf. The
    # old guard accepted it, and every later loss was inf.
    def loss(p, key):
        bad = jax.random.uniform(key) < 0.3
        return jnp.where(bad, 1e308 * jnp.sum(p["x"]) / 8, 0.005 * jnp.sum((p["x"] - 2.0) ** 2))

    n = 30
    with pytest.warns(RuntimeWarning, match=r"non-finite updated parameters \(loss="):
        params, hist = fit(
            loss,
            {"x": jnp.zeros(2)},
            None,
            optax.sgd(50.0),
            n,
            pass_key=True,
            seed=3,
            progress=False,
        )
    bad = _bad_steps(3, n)
    assert hist["skipped_steps"] == [i for i in range(n) if bad[i]] and any(bad)
    # each good step halves the distance to 2 (p <- p - 50 * 0.01 * (p - 2))
    n_good = n - sum(bad)
    np.testing.assert_allclose(params["x"], 2.0 - 2.0 * 0.5**n_good, rtol=1e-12)


def test_non_finite_optimizer_state_is_skipped(tmp_path):
    # An optimizer whose state (sum of squared gradients) overflows while its update is finite.
    def init(params):
        return {"acc": jnp.zeros(())}

    def update(grads, state, params=None):
        acc = state["acc"] + sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads))
        return jax.tree_util.tree_map(lambda g: -0.1 * g, grads), {"acc": acc}

    def loss(p, key):
        bad = jax.random.uniform(key) < 0.3
        return jnp.where(bad, 1e200 * jnp.sum(p["x"]), jnp.sum((p["x"] - 2.0) ** 2))

    n, path = 20, str(tmp_path / "state.npz")
    with pytest.warns(RuntimeWarning, match=r"non-finite optimizer state \(loss="):
        params, hist = fit(
            loss,
            {"x": jnp.zeros(2)},
            None,
            optax.GradientTransformation(init, update),
            n,
            pass_key=True,
            seed=5,
            progress=False,
            checkpoint=path,
        )
    bad = _bad_steps(5, n)
    assert hist["skipped_steps"] == [i for i in range(n) if bad[i]] and any(bad)
    np.testing.assert_allclose(params["x"], 2.0 - 2.0 * 0.8 ** (n - sum(bad)), rtol=1e-12)
    with np.load(path) as z:  # the saved state is the last finite one
        assert np.isfinite(z["o/0"]) and float(z["o/0"]) > 0


_CHILD = """
import sys, time
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, numpy as np, optax
from dendrax.training import Dataset, fit

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
path, batch, epochs, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"

def loss_fn(p, x, y):
    return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

def report(step, params, loss):
    print("step", step, flush=True)
    if slow:
        time.sleep(0.2)

params, hist = fit(loss_fn, {"w": jnp.zeros(3), "b": jnp.zeros(())}, Dataset(X, Y).batch(batch),
                   optax.adam(0.1), epochs, progress=False, seed=1, checkpoint=path,
                   checkpoint_every=1, resume="auto", callback=report)
np.save(path + ".result.npy", np.concatenate([params["w"], params["b"][None]]))
print("done", flush=True)
"""


def test_kill_and_resume(tmp_path):
    """SIGKILL a training process mid-run; resuming with another batch size fails clearly
    (in bounded time), resuming with the same settings finishes as an uninterrupted run."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CHILD))
    path = str(tmp_path / "killed.npz")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"), JAX_PLATFORMS="cpu")
    cmd = [sys.executable, str(script), path]
    child = subprocess.Popen(cmd + ["5", "20", "1"], stdout=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(120, child.kill)  # a hung child ends the test, not CI
    watchdog.start()
    try:
        for line in child.stdout:
            if line.startswith("step") and int(line.split()[1]) >= 6:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        watchdog.cancel()
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    with np.load(path) as z:
        step = json.loads(str(z["meta"]))["global_step"]
    assert 6 <= step < 100  # killed mid-run, after a few checkpoints
    changed = subprocess.run(
        cmd + ["8", "20", "0"], capture_output=True, text=True, env=env, timeout=120
    )
    assert changed.returncode != 0
    assert "CheckpointError" in changed.stderr
    assert "batch size: 5 in the checkpoint, 8 now" in changed.stderr
    same = subprocess.run(
        cmd + ["5", "20", "0"], capture_output=True, text=True, env=env, timeout=120
    )
    assert same.returncode == 0, same.stderr[-2000:]
    assert same.stdout.splitlines()[0] == f"step {step}"  # continued where it was killed
    ref, _ = _run(epochs=20)
    np.testing.assert_array_equal(
        np.load(path + ".result.npy"), np.concatenate([ref["w"], ref["b"][None]])
    )


def test_resume_with_other_transform_bounds(tmp_path):
    import dendrax as jx
    from dendrax.optimize import transforms as jt

    def run(upper, **kw):
        tf = jx.ParamTransform({"x": jt.SigmoidTransform(-1.0, upper)})
        return fit(
            lambda p: jnp.sum((p["x"] - 0.5) ** 2),
            {"x": jnp.zeros(2)},
            None,
            0.05,
            4,
            transform=tf,
            checkpoint=str(tmp_path / "tf.npz"),
            progress=False,
            **kw,
        )

    first, _ = run(1.0, max_steps=2)
    with pytest.raises(
        CheckpointError, match=r"transform _tf_leaves\[0\]\.upper: 1\.0 in the checkpoint, 2\.0 now"
    ):
        run(2.0, resume=True)
    resumed, _ = run(1.0, resume=True)
    _assert_same(resumed, run(1.0, resume=False)[0])
