"""Atomic, pickle-free checkpoints of a training run (used by :func:`dendrax.training.fit`).

A checkpoint is an ``.npz`` archive holding the parameter leaves (``p/i``), the optimizer-state
leaves (``o/i``), the RNG key and a JSON ``meta`` record (epoch, step, history, tree structure,
the run's configuration). It is loaded with ``allow_pickle=False``.

Writes are atomic and symlink-safe (:func:`dendrax.io.atomic.atomic_write`: a ``mkstemp`` file
in the target directory, ``fsync``, ``os.replace``), so a crash while saving never destroys the
previous checkpoint and a symlink planted next to it is never written through. The last
``keep`` generations are kept (``path``, ``path.1``, ...); when the newest is corrupt or holds
non-finite values, :func:`load_checkpoint` falls back to the previous one with a warning.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from dendrax.io.atomic import atomic_write, generation_paths

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "checkpoint_exists"]

_FORMAT = "dendrax-fit-checkpoint"
_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, corrupt or does not match the current run."""


class _CorruptCheckpoint(CheckpointError):
    """This generation is damaged; an older one may still be good."""


def save_checkpoint(
    path: str | os.PathLike, params: Any, opt_state: Any, key: Any, meta: dict, keep: int = 2
) -> None:
    """Atomically write ``params``, ``opt_state``, ``key`` and ``meta`` to ``path``.

    Args:
        path: the checkpoint file (``.npz``).
        params: pytree of arrays.
        opt_state: pytree of arrays (an optax state).
        key: the JAX PRNG key (uint32 array).
        meta: JSON-serialisable dict (position in the run, history, configuration).
        keep: number of generations to keep: the previous checkpoint moves to ``path.1``,
            that one to ``path.2``, ... up to ``path.<keep-1>``.

    Raises:
        ValueError: if ``keep`` is not an int >= 1.
        OSError: if writing fails; the previous checkpoints are then unchanged.
    """
    path = os.fspath(path)
    p_leaves, p_def = jax.tree_util.tree_flatten(params)
    o_leaves, o_def = jax.tree_util.tree_flatten(opt_state)
    meta = dict(
        meta,
        format=_FORMAT,
        version=_VERSION,
        n_params=len(p_leaves),
        n_opt=len(o_leaves),
        param_tree=str(p_def),
        opt_tree=str(o_def),
    )
    arrays = {f"p/{i}": np.asarray(x) for i, x in enumerate(p_leaves)}
    arrays.update({f"o/{i}": np.asarray(x) for i, x in enumerate(o_leaves)})
    arrays["key"] = np.asarray(key)
    arrays["meta"] = np.array(json.dumps(meta))
    atomic_write(path, lambda f: np.savez(f, **arrays), keep=keep)


def checkpoint_exists(path: str | os.PathLike) -> bool:
    """Whether ``path`` or an older generation of it (``path.1``, ...) exists."""
    return any(os.path.exists(p) for p in generation_paths(path))


def _check_meta(meta: Any, path: str) -> None:
    """Raise `_CorruptCheckpoint` unless ``meta`` has the fields and types fit writes."""
    if not isinstance(meta, dict):
        raise _CorruptCheckpoint(f"checkpoint {path!r}: the meta record is not a JSON object")
    if meta.get("format") != _FORMAT or meta.get("version") not in _READABLE_VERSIONS:
        raise _CorruptCheckpoint(f"{path!r} is not a dendrax fit checkpoint (v{_VERSION})")
    for name in ("epoch", "step_in_epoch", "global_step", "n_params", "n_opt"):
        value = meta.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _CorruptCheckpoint(
                f"checkpoint {path!r}: meta field {name!r} must be a non-negative int, "
                f"got {value!r}"
            )
    loss = meta.get("epoch_loss")
    if not (
        isinstance(loss, list)
        and len(loss) == 2
        and isinstance(loss[0], int | float)
        and isinstance(loss[1], int)
    ):
        raise _CorruptCheckpoint(f"checkpoint {path!r}: meta field 'epoch_loss' is malformed")
    hist = meta.get("history")
    if not (
        isinstance(hist, dict)
        and isinstance(hist.get("loss"), list)
        and isinstance(hist.get("metrics"), dict)
        and isinstance(hist.get("skipped_steps"), list)
        and isinstance(meta.get("epoch_metrics"), dict)
    ):
        raise _CorruptCheckpoint(f"checkpoint {path!r}: meta field 'history' is malformed")
    if meta["step_in_epoch"] > meta["global_step"]:
        raise _CorruptCheckpoint(
            f"checkpoint {path!r}: step_in_epoch {meta['step_in_epoch']} exceeds global_step "
            f"{meta['global_step']}"
        )


def _read(path: str) -> tuple[list, list, np.ndarray, dict]:
    """The raw leaves, key and meta of one checkpoint file (`_CorruptCheckpoint` if damaged)."""
    try:
        # Our own handle: numpy leaks the one it opens when the archive is damaged.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            _check_meta(meta, path)
            p_stored = [z[f"p/{i}"] for i in range(meta["n_params"])]
            o_stored = [z[f"o/{i}"] for i in range(meta["n_opt"])]
            key = z["key"]
    except CheckpointError:
        raise
    except Exception as err:  # zipfile/OSError/KeyError/JSON errors: all mean "corrupt"
        raise _CorruptCheckpoint(
            f"checkpoint {path!r} is corrupt or unreadable ({type(err).__name__}: {err}); "
            "delete it or point `checkpoint=` elsewhere to start a new run"
        ) from err
    for what, leaves in (("parameter", p_stored), ("optimizer-state", o_stored)):
        for i, leaf in enumerate(leaves):
            if np.issubdtype(leaf.dtype, np.inexact) and not np.all(np.isfinite(leaf)):
                raise _CorruptCheckpoint(
                    f"checkpoint {path!r}: {what} leaf {i} holds NaN or inf values; a run "
                    "cannot continue from it"
                )
    return p_stored, o_stored, key, meta


def _restore(leaves_like: list, stored: list, what: str, path: str) -> list:
    if len(leaves_like) != len(stored):
        raise CheckpointError(
            f"checkpoint {path!r} holds {len(stored)} {what} arrays but this run has "
            f"{len(leaves_like)}; it was written by a different model or optimizer"
        )
    out = []
    for i, (ref, got) in enumerate(zip(leaves_like, stored, strict=True)):
        ref = np.asarray(ref)
        if ref.shape != got.shape or ref.dtype != got.dtype:
            raise CheckpointError(
                f"checkpoint {path!r}: {what} leaf {i} is {got.dtype}{list(got.shape)}, "
                f"expected {ref.dtype}{list(ref.shape)}"
            )
        out.append(jax.numpy.asarray(got))
    return out


def _match(path, p_stored, o_stored, key, meta, params_like, opt_state_like, key_like):
    """Check one generation against the run; returns ``(params, opt_state, key)``."""
    p_leaves, p_def = jax.tree_util.tree_flatten(params_like)
    o_leaves, o_def = jax.tree_util.tree_flatten(opt_state_like)
    if meta["param_tree"] != str(p_def):
        raise CheckpointError(
            f"checkpoint {path!r} has parameter tree {meta['param_tree']}, but this run has {p_def}"
        )
    params = jax.tree_util.tree_unflatten(p_def, _restore(p_leaves, p_stored, "parameter", path))
    if meta.get("opt_tree", str(o_def)) != str(o_def):
        raise CheckpointError(
            f"checkpoint {path!r} has optimizer-state tree {meta['opt_tree']}, but this run has "
            f"{o_def}: it was written with a different optimizer"
        )
    opt_state = jax.tree_util.tree_unflatten(
        o_def, _restore(o_leaves, o_stored, "optimizer-state", path)
    )
    if key_like is not None:
        ref = np.asarray(key_like)
        if key.shape != ref.shape or key.dtype != ref.dtype:
            raise _CorruptCheckpoint(
                f"checkpoint {path!r}: the RNG key is {key.dtype}{list(key.shape)}, expected "
                f"{ref.dtype}{list(ref.shape)}"
            )
    return params, opt_state, jax.numpy.asarray(key)


def load_checkpoint(
    path: str | os.PathLike,
    params_like: Any,
    opt_state_like: Any,
    key_like: Any = None,
    check: Callable[[dict, str], None] | None = None,
) -> tuple[Any, Any, Any, dict]:
    """Read the newest good checkpoint written by :func:`save_checkpoint`.

    ``params_like`` and ``opt_state_like`` give the expected tree structures, shapes and dtypes
    (``key_like`` the RNG key's, if given). If ``path`` is missing, unreadable, damaged or holds
    NaN/inf parameters or optimizer state, the previous generations (``path.1``, ``path.2``,
    ...) are tried in turn, with a ``RuntimeWarning`` naming the file skipped and why.
    ``check(meta, file)``, if given, is called with the meta record of the first readable
    generation before its arrays are matched against the run (``fit`` compares the run's
    configuration there); what it raises propagates.

    Returns:
        ``(params, opt_state, key, meta)``; ``meta["checkpoint_file"]`` is the file used.

    Raises:
        FileNotFoundError: if neither ``path`` nor an older generation exists.
        CheckpointError: if no generation is readable, or the newest readable one belongs
            to a different model or optimizer.
    """
    path = os.fspath(path)
    candidates = generation_paths(path)
    if not any(os.path.exists(p) for p in candidates):
        raise FileNotFoundError(
            f"no checkpoint at {path!r} to resume from (pass resume='auto' to start fresh "
            "when it is missing)"
        )
    problems = []
    for name in candidates:
        if not os.path.exists(name):
            problems.append(f"{name!r} is missing")
            continue
        try:
            stored = _read(name)
            if check is not None:
                check(stored[3], name)
            params, opt_state, key = _match(name, *stored, params_like, opt_state_like, key_like)
        except _CorruptCheckpoint as err:
            problems.append(str(err))
            continue
        meta = stored[3]
        if problems:
            warnings.warn(
                f"{'; '.join(problems)}; resuming from the older checkpoint generation "
                f"{name!r} (step {meta['global_step']})",
                RuntimeWarning,
                stacklevel=3,
            )
        meta["checkpoint_file"] = name
        return params, opt_state, key, meta
    if len(problems) == 1:
        raise CheckpointError(problems[0])
    raise CheckpointError("no usable checkpoint generation: " + "; ".join(problems))
