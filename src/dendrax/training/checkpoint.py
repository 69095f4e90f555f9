"""Atomic, pickle-free checkpoints of a training run (used by :func:`dendrax.training.fit`).

A checkpoint is an ``.npz`` archive holding the parameter leaves (``p/i``), the optimizer-state
leaves (``o/i``), the RNG key and a JSON ``meta`` record (epoch, step, history, tree structure).
It is written to ``<path>.tmp``, flushed to disk and then moved over ``<path>`` with
``os.replace``, so a crash while saving never destroys the previous good checkpoint.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import numpy as np

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint"]

_FORMAT = "dendrax-fit-checkpoint"
_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, corrupt or does not match the current run."""


def save_checkpoint(
    path: str | os.PathLike, params: Any, opt_state: Any, key: Any, meta: dict
) -> None:
    """Atomically write ``params``, ``opt_state``, ``key`` and ``meta`` to ``path``."""
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
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


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


def load_checkpoint(
    path: str | os.PathLike, params_like: Any, opt_state_like: Any
) -> tuple[Any, Any, Any, dict]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    ``params_like`` and ``opt_state_like`` give the expected tree structures, shapes and dtypes.

    Returns:
        ``(params, opt_state, key, meta)``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is corrupt or belongs to a different run.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no checkpoint at {path!r} to resume from (pass resume='auto' to start fresh "
            "when it is missing)"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
                raise CheckpointError(f"{path!r} is not a dendrax fit checkpoint (v{_VERSION})")
            p_stored = [z[f"p/{i}"] for i in range(int(meta["n_params"]))]
            o_stored = [z[f"o/{i}"] for i in range(int(meta["n_opt"]))]
            key = jax.numpy.asarray(z["key"])
    except CheckpointError:
        raise
    except Exception as err:  # zipfile/OSError/KeyError/JSON errors: all mean "corrupt"
        raise CheckpointError(
            f"checkpoint {path!r} is corrupt or unreadable ({type(err).__name__}: {err}); "
            "delete it or point `checkpoint=` elsewhere to start a new run"
        ) from err
    p_leaves, p_def = jax.tree_util.tree_flatten(params_like)
    o_leaves, o_def = jax.tree_util.tree_flatten(opt_state_like)
    if meta["param_tree"] != str(p_def):
        raise CheckpointError(
            f"checkpoint {path!r} has parameter tree {meta['param_tree']}, but this run has {p_def}"
        )
    params = jax.tree_util.tree_unflatten(p_def, _restore(p_leaves, p_stored, "parameter", path))
    opt_state = jax.tree_util.tree_unflatten(
        o_def, _restore(o_leaves, o_stored, "optimizer-state", path)
    )
    return params, opt_state, key, meta
