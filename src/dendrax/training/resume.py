"""The configuration of a :func:`~dendrax.training.fit` run, stored in its checkpoints.

Resuming with other settings than the checkpointed run would silently mix two runs (another
batch size also shifts every position in the epoch, which made ``fit`` loop forever). The
configuration is a flat, JSON-serialisable ``{setting: value}`` dict; :func:`check_resume`
compares the stored one with the current one and names every setting that differs.

The optimizer has no serialisable description in optax: its hyperparameters live in the
closures of its ``init``/``update`` functions. :func:`describe_optimizer` walks those closures
(and nested transformations, partials, defaults) and records every number, string and small
array it finds under a readable path such as ``update_fns[1].tx.update.step_size``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import types
from typing import Any

import jax
import numpy as np

from dendrax.training.checkpoint import CheckpointError
from dendrax.training.dataset import Dataset

__all__ = ["describe_optimizer", "run_config", "check_resume"]

_MAX_DEPTH = 24
_MAX_ENTRIES = 4000
_SMALL_ARRAY = 16


def _json_value(value: Any) -> Any:
    """A JSON value that compares equal after a JSON round trip (NaN/inf as strings)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _array_summary(arr: np.ndarray) -> Any:
    if arr.dtype.kind not in "biufc":
        return f"array {arr.dtype}{list(arr.shape)}"
    if arr.size <= _SMALL_ARRAY:
        return _json_value(arr.tolist())
    digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]
    return f"array {arr.dtype}{list(arr.shape)} sha256:{digest}"


def _describe(obj: Any, path: str, out: dict, seen: set, depth: int) -> None:
    if depth > _MAX_DEPTH or len(out) >= _MAX_ENTRIES:
        return
    if obj is None or isinstance(obj, bool | int | float | str | np.generic):
        out[path] = _json_value(obj)
        return
    if isinstance(obj, np.ndarray | jax.Array):
        out[path] = _array_summary(np.asarray(obj))
        return
    if id(obj) in seen:  # shared sub-transformations and recursive closures
        return
    seen.add(id(obj))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # NamedTuple: GradientTransformation
        for name in obj._fields:
            _describe(getattr(obj, name), f"{path}.{name}", out, seen, depth + 1)
    elif isinstance(obj, tuple | list):
        for i, item in enumerate(obj):
            _describe(item, f"{path}[{i}]", out, seen, depth + 1)
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            _describe(obj[k], f"{path}[{k!r}]", out, seen, depth + 1)
    elif isinstance(obj, functools.partial):
        _describe(obj.func, path, out, seen, depth + 1)
        _describe(obj.args, f"{path}.args", out, seen, depth + 1)
        _describe(obj.keywords, f"{path}.keywords", out, seen, depth + 1)
    elif isinstance(obj, types.MethodType):
        _describe(obj.__func__, path, out, seen, depth + 1)
    elif isinstance(obj, types.FunctionType):
        out[f"{path}<fn>"] = f"{obj.__module__}.{obj.__qualname__}"
        for i, default in enumerate(obj.__defaults__ or ()):
            _describe(default, f"{path}.defaults[{i}]", out, seen, depth + 1)
        for name, default in (obj.__kwdefaults__ or {}).items():
            _describe(default, f"{path}.{name}", out, seen, depth + 1)
        for name, cell in zip(obj.__code__.co_freevars, obj.__closure__ or (), strict=False):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell (variable not yet bound)
                continue
            _describe(contents, f"{path}.{name}", out, seen, depth + 1)
    elif isinstance(obj, types.ModuleType):
        out[f"{path}<module>"] = obj.__name__
    else:
        wrapped = getattr(obj, "__wrapped__", None)  # jax.jit / functools.wraps wrappers
        if wrapped is not None:
            _describe(wrapped, path, out, seen, depth + 1)
            return
        out[f"{path}<type>"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        # Plain objects (a ParamTransform and its transforms, say) by their attributes.
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict) and not isinstance(obj, type):
            for name in sorted(attributes):
                _describe(attributes[name], f"{path}.{name}", out, seen, depth + 1)


def describe_optimizer(optimizer: Any) -> dict[str, Any]:
    """``{path: value}`` of every setting found in an optax transformation's closures.

    (Any object is described the same way: fit also uses it for the ``transform``.)

    Two optimizers built by the same calls with the same arguments give equal descriptions;
    a changed learning rate, ``b1``, schedule parameter or chain element changes it.
    """
    out: dict[str, Any] = {}
    _describe(optimizer, "", out, set(), 0)
    return {k.lstrip("."): v for k, v in out.items()}


def _shapes(batch: tuple) -> list:
    return [list(np.shape(leaf)) for leaf in jax.tree_util.tree_leaves(batch)]


def data_signature(data: Any, batches: list[tuple]) -> dict[str, Any]:
    """Sizes of the data that fix the meaning of a position (epoch, step) in the run."""
    if data is None:
        return {"data": "none (full-batch steps)"}
    if isinstance(data, Dataset):
        return {
            "data": "Dataset",
            "number of samples": data.num_samples,
            "batch size": data.batch_size,
            "drop_last": data.drop_last,
            "batches per epoch": len(data),
            "input shape (per sample)": list(data.inputs.shape[1:]),
            "label shape (per sample)": list(data.labels.shape[1:]),
        }
    first = [jax.tree_util.tree_leaves(b) for b in batches]
    sizes = [int(np.shape(leaves[0])[0]) for leaves in first if leaves and np.ndim(leaves[0])]
    return {
        "data": "batches",
        "batches per epoch": len(batches),
        "batch size": sizes[0] if sizes else None,
        "number of samples": sum(sizes) if len(sizes) == len(batches) else None,
        "first batch shapes": _shapes(batches[0]) if batches else [],
        "last batch shapes": _shapes(batches[-1]) if batches else [],
    }


def _tree_digest(tree: Any) -> str | None:
    if tree is None:
        return None
    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(tree):
        arr = np.asarray(leaf, dtype=float)
        h.update(str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def run_config(
    params: Any,
    optimizer: Any,
    learning_rate: float | None,
    data: Any,
    batches: list[tuple],
    *,
    transform: Any,
    bounds: Any,
    bounds_mode: str,
    bounds_weight: float,
    clip_norm: float | None,
    has_aux: bool,
    pass_key: bool,
    shuffle: bool,
    seed: int,
) -> dict[str, Any]:
    """The flat configuration of a run (see the module docstring).

    ``params`` are the parameters as optimised (after ``transform.inverse``).
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    config: dict[str, Any] = {
        "parameter tree": str(treedef),
        "parameter shapes": [f"{np.asarray(x).dtype}{list(np.shape(x))}" for x in leaves],
    }
    config.update(data_signature(data, batches))
    if isinstance(data, Dataset):
        config["shuffle"] = bool(shuffle)
    config.update(
        {
            "seed": _json_value(seed),
            "clip_norm": _json_value(None if clip_norm is None else float(clip_norm)),
            "has_aux": bool(has_aux),
            "pass_key": bool(pass_key),
            "transform": None if transform is None else type(transform).__qualname__,
            "bounds": _tree_digest(bounds),
        }
    )
    if bounds is not None:
        config["bounds_mode"] = bounds_mode
        config["bounds_weight"] = _json_value(float(bounds_weight))
    if transform is not None:
        config.update({f"transform {k}": v for k, v in describe_optimizer(transform).items()})
    if learning_rate is not None:
        config["learning rate (Adam)"] = _json_value(float(learning_rate))
    config.update({f"optimizer {k}": v for k, v in describe_optimizer(optimizer).items()})
    return config


_WRAPPERS = ("chain", "with_extra_args_support", "named_chain")


def _optimizer_kind(config: dict) -> list[str]:
    """Names of the functions an optimizer's ``update`` is built from, e.g. ``scale_by_adam``."""
    names = []
    for key, value in config.items():
        if key.startswith("optimizer update") and key.endswith("<fn>") and isinstance(value, str):
            name = value.split(".<locals>")[0].rsplit(".", 1)[-1]
            if name not in _WRAPPERS:
                names.append(name)
    return names


def check_resume(stored: dict | None, current: dict, path: str, max_listed: int = 6) -> None:
    """Raise :class:`CheckpointError` naming each setting where ``current`` differs.

    ``stored`` is ``None`` for checkpoints written before configurations were recorded;
    those cannot be checked and are accepted.
    """
    if stored is None:
        return
    missing = "(not set)"
    diffs = []
    old_kind, new_kind = _optimizer_kind(stored), _optimizer_kind(current)
    if old_kind != new_kind:
        # Another transformation: its settings differ wholesale, so name the building blocks.
        diffs.append(
            f"optimizer: {' + '.join(old_kind)} in the checkpoint, {' + '.join(new_kind)} now"
        )
    for name in list(stored) + [k for k in current if k not in stored]:
        if old_kind != new_kind and name.startswith("optimizer "):
            continue
        old, new = stored.get(name, missing), current.get(name, missing)
        if old != new:
            diffs.append(f"{name}: {old!r} in the checkpoint, {new!r} now")
    if not diffs:
        return
    listed = "; ".join(diffs[:max_listed])
    if len(diffs) > max_listed:
        listed += f"; and {len(diffs) - max_listed} more"
    raise CheckpointError(
        f"cannot resume from {path!r}: it was written by a run with a different configuration "
        f"({listed}). Resume with the original settings, or start a new run with another "
        "`checkpoint=` path (or after deleting the old checkpoint files)."
    )
