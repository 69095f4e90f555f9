"""Checkpoint files: symlink-safe atomic writes, k generations, fallback on corruption."""

import json
import os
import re
import stat

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dendrax.io.atomic import atomic_write
from dendrax.training import CheckpointError, Dataset, fit, load_checkpoint, save_checkpoint
from dendrax.training import checkpoint as ckpt_mod

pytestmark = pytest.mark.usefixtures("x64")

RNG = np.random.default_rng(1)
X = RNG.normal(size=(20, 2))
Y = X @ np.array([0.5, -1.0])


def loss_fn(p, x, y):
    return jnp.mean((x @ p["w"] - y) ** 2)


def _run(path, epochs=3, **kw):
    return fit(
        loss_fn,
        {"w": jnp.zeros(2)},
        Dataset(X, Y).batch(4),
        optax.adam(0.1),
        epochs,
        progress=False,
        checkpoint=path,
        **kw,
    )


def _like():
    p = {"w": jnp.zeros(2)}
    return p, optax.adam(0.1).init(p)


def _step_of(path):
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))["global_step"]


def test_symlink_at_old_tmp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "run.npz"
    os.symlink(victim, str(path) + ".tmp")  # the name the old code wrote to
    os.symlink(victim, str(path) + ".1")  # and a generation name
    _run(str(path), checkpoint_every=2)
    assert victim.read_text() == "precious"
    assert os.path.islink(str(path) + ".tmp")  # left alone, not used
    assert not os.path.islink(str(path) + ".1")  # replaced by the rotated generation
    assert _step_of(str(path)) == 15 and _step_of(str(path) + ".1") == 14
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp") and "run.npz." in n]
    assert leftovers == ["run.npz.tmp"]


def test_symlink_at_target_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.bin"
    victim.write_bytes(b"\x00" * 10)
    target = tmp_path / "model.npz"
    os.symlink(victim, target)
    atomic_write(target, lambda f: f.write(b"new"))
    assert victim.read_bytes() == b"\x00" * 10
    assert not os.path.islink(target) and target.read_bytes() == b"new"


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def broken(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken, keep=2)
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["a.bin"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "a.bin", lambda f: None)


def test_new_files_get_umask_permissions_and_replacements_keep_theirs(tmp_path):
    mask = os.umask(0o027)
    try:
        atomic_write(tmp_path / "n.bin", lambda f: f.write(b"x"))
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "n.bin").st_mode) == 0o640
    os.chmod(tmp_path / "n.bin", 0o604)
    atomic_write(tmp_path / "n.bin", lambda f: f.write(b"y"))
    assert stat.S_IMODE(os.stat(tmp_path / "n.bin").st_mode) == 0o604


def test_keeps_k_generations(tmp_path):
    path = str(tmp_path / "g.npz")
    p, o = _like()
    for step in range(1, 6):
        save_checkpoint(path, p, o, jnp.zeros(2, jnp.uint32), _meta(step), keep=3)
    assert [_step_of(n) for n in (path, path + ".1", path + ".2")] == [5, 4, 3]
    assert not os.path.exists(path + ".3")
    save_checkpoint(path, p, o, jnp.zeros(2, jnp.uint32), _meta(6), keep=1)  # fewer now
    assert sorted(os.listdir(tmp_path)) == ["g.npz"] and _step_of(path) == 6
    with pytest.raises(ValueError, match="keep must be an int >= 1"):
        save_checkpoint(path, p, o, jnp.zeros(2, jnp.uint32), _meta(7), keep=0)
    with pytest.raises(ValueError, match="keep_checkpoints must be an int >= 1"):
        _run(path, keep_checkpoints=0)


def _meta(step):
    return {
        "epoch": 0,
        "step_in_epoch": step,
        "global_step": step,
        "epoch_loss": [0.0, 0],
        "epoch_metrics": {},
        "history": {"loss": [], "metrics": {}, "skipped_steps": []},
    }


def test_corrupt_newest_generation_falls_back_with_warning(tmp_path):
    ref, ref_hist = _run(None, epochs=4)
    path = str(tmp_path / "run.npz")
    _run(path, epochs=4, checkpoint_every=3, max_steps=10)  # saves at 3, 6, 9 and 10
    assert _step_of(path) == 10 and _step_of(path + ".1") == 9
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.warns(RuntimeWarning) as caught:
        resumed, hist = _run(path, epochs=4, resume=True)
    messages = [str(w.message) for w in caught]
    assert re.search(r"corrupt or unreadable.*older checkpoint generation", messages[0])
    assert re.search(
        r"moved the damaged checkpoint .*run\.npz' to .*run\.npz\.corrupt'", messages[1]
    )
    for a, b in zip(ref.values(), resumed.values(), strict=True):
        np.testing.assert_array_equal(a, b)  # continued from step 9 as if never stopped
    assert hist == ref_hist
    # the damaged file was set aside, so the good generation was not rotated out
    assert sorted(os.listdir(tmp_path)) == ["run.npz", "run.npz.1", "run.npz.corrupt"]
    assert os.path.getsize(path + ".corrupt") == 100
    assert _step_of(path) == 20 and _step_of(path + ".1") == 9


def test_missing_newest_generation_falls_back(tmp_path):
    # A crash between rotating the generations and moving the new file in leaves only `.1`.
    path = str(tmp_path / "run.npz")
    _run(path, epochs=1, checkpoint_every=2)
    os.remove(path)
    with pytest.warns(RuntimeWarning, match=r"run\.npz' is missing; resuming from .*run\.npz\.1"):
        params, opt_state, key, meta = load_checkpoint(path, *_like())
    assert meta["checkpoint_file"] == path + ".1" and meta["global_step"] == 4


def _put(path, name, value):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays[name] = value
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_nan_in_a_loaded_optimizer_state_is_flagged(tmp_path):
    path = str(tmp_path / "nan.npz")
    _run(path, epochs=1)  # one generation only
    with np.load(path) as z:
        mu = z["o/1"]
    _put(path, "o/1", np.full_like(mu, np.nan))
    with pytest.raises(CheckpointError, match=r"optimizer-state leaf 1 holds NaN or inf values"):
        load_checkpoint(path, *_like())
    # with an older good generation it is skipped, with a warning saying why
    path2 = str(tmp_path / "two.npz")
    _run(path2, epochs=1, checkpoint_every=4)
    _put(path2, "p/0", np.array([np.inf, 0.0]))
    with pytest.warns(RuntimeWarning, match=r"parameter leaf 0 holds NaN or inf.*two\.npz\.1"):
        *_, meta = load_checkpoint(path2, *_like())
    assert meta["global_step"] == 4


def test_tampered_meta_and_all_generations_bad(tmp_path):
    path = str(tmp_path / "t.npz")
    _run(path, epochs=1, checkpoint_every=4)
    meta = {"format": "dendrax-fit-checkpoint", "version": 2, "epoch": -1}
    _put(path, "meta", np.array(json.dumps(meta)))
    with open(path + ".1", "wb") as f:
        f.write(b"not a zip file")
    with pytest.raises(
        CheckpointError,
        match=r"no usable checkpoint generation: .*'epoch' must be a non-negative int, got -1;"
        r" .*t\.npz\.1' is corrupt or unreadable",
    ):
        load_checkpoint(path, *_like())
    _put(path, "meta", np.array(json.dumps({"format": "something else"})))
    os.remove(path + ".1")
    with pytest.raises(CheckpointError, match=r"is not a dendrax fit checkpoint"):
        load_checkpoint(path, *_like())


def test_monkeypatched_savez_failure_keeps_generations(tmp_path):
    path = str(tmp_path / "m.npz")
    _run(path, epochs=1, checkpoint_every=4)
    before = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    real = np.savez

    def broken(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    ckpt_mod.np.savez = broken
    try:
        with pytest.raises(OSError, match="disk full"):
            _run(path, epochs=2, resume=True)
    finally:
        ckpt_mod.np.savez = real
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == before
