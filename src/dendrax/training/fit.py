"""A jitted, resumable gradient-descent loop for any parameter pytree."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp

from dendrax.io.atomic import generation_paths
from dendrax.parallel.data_parallel import mean_over_shards, replicate, shard_batch
from dendrax.parallel.mesh import check_axis, replicated_sharding
from dendrax.training.checkpoint import (
    CheckpointError,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from dendrax.training.dataset import Dataset
from dendrax.training.losses import _check_bounds, bounds_clip, bounds_cost
from dendrax.training.resume import check_resume, run_config

__all__ = ["fit"]

_INSTALL_HINT = "pip install dendrax[train]"


def _import_optional(name: str, purpose: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        raise ImportError(
            f"{purpose} needs the optional package {name!r}: {_INSTALL_HINT}"
        ) from None


def _resolve_optimizer(optimizer: Any) -> Any:
    if isinstance(optimizer, int | float) and not isinstance(optimizer, bool):
        optax = _import_optional("optax", "fit(optimizer=<learning rate>)")
        return optax.adam(float(optimizer))
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            "optimizer must be an optax GradientTransformation (with .init/.update) or a "
            f"learning rate for Adam, got {type(optimizer).__name__}"
        )
    return optimizer


def _epoch_batches(data: Any, epoch: int, shuffle: bool, seed: int) -> list[tuple]:
    """The list of batches (each a tuple of loss-function arguments) for one epoch."""
    if data is None:
        return [()]
    if isinstance(data, Dataset):
        if shuffle:
            data.shuffle(seed=[seed, epoch])
        batches = [tuple(b) for b in data]
    elif isinstance(data, Iterable):
        batches = [b if isinstance(b, tuple) else (b,) for b in data]
    else:
        raise TypeError(
            "data must be None, a dendrax.training.Dataset or a re-iterable of batches, "
            f"got {type(data).__name__}"
        )
    if not batches:
        raise ValueError(
            f"data yielded no batches (epoch {epoch}); pass a non-empty list of batches or a "
            "Dataset (a one-shot iterator or generator is empty after its first pass)"
        )
    return batches


def _all_finite(tree: Any) -> jax.Array:
    """Whether every float leaf of ``tree`` is finite (integer leaves, e.g. step counts, are)."""
    leaves = [
        x
        for x in jax.tree_util.tree_leaves(tree)
        if jnp.issubdtype(jnp.result_type(x), jnp.inexact)
    ]
    if not leaves:
        return jnp.array(True)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


_STATUS_PARTS = ("loss", "gradient", "updated parameters", "optimizer state")


def _make_step(
    loss_fn,
    optimizer,
    transform,
    bounds,
    bounds_mode,
    bounds_weight,
    clip_norm,
    has_aux,
    pass_key,
    mesh=None,
    mesh_axis="batch",
):
    forward = transform.forward if transform is not None else (lambda p: p)
    inverse = transform.inverse if transform is not None else (lambda p: p)

    def total_loss(opt_params, key, batch):
        params = forward(opt_params)
        out = loss_fn(params, *batch, key=key) if pass_key else loss_fn(params, *batch)
        loss, aux = out if has_aux else (out, {})
        if bounds is not None and bounds_mode == "cost":
            loss = loss + bounds_weight * bounds_cost(params, *bounds)
        return loss, aux

    value_and_grad = jax.value_and_grad(total_loss, has_aux=True)
    if mesh is not None:  # data parallel: per-shard gradients, averaged once per step
        value_and_grad = mean_over_shards(value_and_grad, mesh, mesh_axis)

    def step(opt_params, opt_state, key, batch):
        key, sub = jax.random.split(key)
        (loss, aux), grads = value_and_grad(opt_params, sub, batch)
        ok_loss = jnp.isfinite(loss)
        ok_grad = _all_finite(grads)
        if clip_norm is not None:
            g_leaves = jax.tree_util.tree_leaves(grads)
            norm = jnp.sqrt(sum(jnp.sum(g**2) for g in g_leaves))
            scale = jnp.minimum(1.0, clip_norm / jnp.maximum(norm, 1e-30))
            grads = jax.tree_util.tree_map(lambda g: g * scale, grads)
        updates, new_state = optimizer.update(grads, opt_state, opt_params)
        new_params = jax.tree_util.tree_map(
            lambda p, u: jnp.asarray(p + u).astype(jnp.asarray(p).dtype), opt_params, updates
        )
        # A finite gradient can still give an update that overflows (to -inf, say); clipping
        # or the transform could then hide it, so the raw update is checked as well.
        ok_params = _all_finite(new_params)
        if bounds is not None and bounds_mode == "clip":
            new_params = inverse(bounds_clip(forward(new_params), *bounds))
            ok_params = ok_params & _all_finite(new_params)
        if transform is not None:
            ok_params = ok_params & _all_finite(forward(new_params))
        ok_state = _all_finite(new_state)
        finite = ok_loss & ok_grad & ok_params & ok_state
        # NaN guard: keep the previous parameters and optimizer state on a non-finite step.
        keep = lambda new, old: jnp.where(finite, new, old)  # noqa: E731
        new_params = jax.tree_util.tree_map(keep, new_params, opt_params)
        new_state = jax.tree_util.tree_map(keep, new_state, opt_state)
        status = jnp.stack([ok_loss, ok_grad, ok_params, ok_state])
        return new_params, new_state, key, loss, aux, status

    if mesh is None:
        return jax.jit(step)
    # Every output replicated: the parameters and optimizer state stay full copies.
    return jax.jit(step, out_shardings=replicated_sharding(mesh))


def fit(
    loss_fn: Callable,
    params: Any,
    data: Any,
    optimizer: Any,
    epochs: int = 1,
    *,
    transform: Any = None,
    bounds: tuple[Any, Any] | None = None,
    bounds_mode: str = "cost",
    bounds_weight: float = 1.0,
    clip_norm: float | None = None,
    has_aux: bool = False,
    shuffle: bool = True,
    seed: int = 0,
    pass_key: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    keep_checkpoints: int = 2,
    resume: bool | str = False,
    max_steps: int | None = None,
    callback: Callable | None = None,
    progress: bool = True,
    mesh: Any = None,
    mesh_axis: str = "batch",
) -> tuple[Any, dict]:
    """Minimise ``loss_fn`` over ``params`` with a jitted optimizer step.

    Args:
        loss_fn: ``loss_fn(params, *batch) -> scalar`` (or ``(scalar, {name: scalar})`` with
            ``has_aux=True``; the aux metrics are averaged per epoch and shown in the progress
            bar). With ``pass_key=True`` it is called with an extra ``key=`` (a fresh JAX PRNG
            key per step, part of the checkpointed state).
        params: any pytree of float arrays (Jaxley ``get_parameters()`` lists, ``nn`` module
            ``parameters()`` dicts, ...).
        data: ``None`` (one full-batch step per epoch, ``loss_fn(params)``), a
            :class:`~dendrax.training.Dataset` (shuffled per epoch with seed ``(seed, epoch)``
            when ``shuffle``; batches are ``(inputs, labels)``), or a re-iterable of batches
            (tuples are unpacked into the loss arguments) that yields the same batches, in
            the same order, each time.
        optimizer: an optax ``GradientTransformation`` or a learning rate (Adam).
        epochs: number of passes over ``data``.
        transform: object with ``.forward``/``.inverse`` (e.g. Jaxley's ``ParamTransform``):
            optimisation runs on ``transform.inverse(params)`` and the loss sees
            ``transform.forward(...)``.
        bounds: ``(lower, upper)`` trees as from :func:`make_bounds`, applied to the
            (transformed) parameters: ``bounds_mode="cost"`` adds
            ``bounds_weight * bounds_cost(...)`` to the loss, ``"clip"`` clips after each update.
        bounds_mode: ``"cost"`` or ``"clip"`` (see ``bounds``).
        bounds_weight: weight of the bounds cost.
        has_aux: whether ``loss_fn`` returns ``(loss, metrics)``.
        shuffle: reshuffle a ``Dataset`` every epoch.
        seed: seed of the shuffling and of the PRNG key.
        pass_key: pass a fresh PRNG key to ``loss_fn`` as ``key=``.
        clip_norm: clip gradients to this global L2 norm.
        checkpoint: file to save the run to (``.npz``; written atomically and symlink-safely).
        checkpoint_every: save every this many steps (always saved at the end).
        keep_checkpoints: number of checkpoint generations kept (``checkpoint``,
            ``checkpoint.1``, ...); on resume, a corrupt newest one falls back to the previous
            one with a warning.
        resume: ``True`` to continue from ``checkpoint`` (error if it is missing), ``"auto"`` to
            continue if it exists. Resuming reproduces an uninterrupted run exactly. The run's
            configuration (data size, batch size, batches per epoch, optimizer and its
            hyperparameters, learning rate, clipping, bounds, seed, shuffling, transform,
            parameter structure) must equal the checkpointed one: a difference raises
            :class:`CheckpointError` naming every setting that differs. Only ``epochs`` and
            ``max_steps`` may change (to train longer). A run with another batch size is a
            new run: give it another ``checkpoint`` path.
        max_steps: stop (and save) once this many steps have been taken in total, counting
            the steps of the run being resumed; ``None`` for no limit.
        callback: ``callback(step, params, loss)`` called on the host after every step.
        progress: show a tqdm progress bar (needs ``tqdm``).
        mesh: a ``jax.sharding.Mesh`` (e.g. ``dendrax.parallel.make_mesh()``) for data-parallel
            training: each batch's leading axis is split over ``mesh_axis`` (every array of a
            batch with a dimension has the batch first; its length must be a multiple of the
            devices along the axis), the parameters and optimizer state are replicated, each
            device computes the loss and gradient of its part of the batch, and these are
            averaged across shards: for a loss that is a mean over the samples (as the
            ``dendrax.training`` losses are), the same as without a mesh. Every shard gets
            the same ``key`` (``pass_key``). With several processes each one passes the same
            data; only process 0 writes the checkpoint.
        mesh_axis: the mesh axis the batches are split over.

    Returns:
        ``(params, history)``; history has ``"loss"`` (mean finite loss per epoch, including the
        bounds cost), ``"metrics"`` ({name: per-epoch means}) and ``"skipped_steps"`` (global
        indices of steps skipped, with a ``RuntimeWarning``, because the loss, the gradient,
        the updated parameters or the new optimizer state were not finite).

    Raises:
        ValueError/TypeError: for invalid arguments, bounds that do not match ``params``, or
            data that yields no batches or a different number of batches in another epoch.
        FileNotFoundError: if ``resume=True`` and there is no checkpoint.
        CheckpointError: for a checkpoint that is corrupt in every generation, that belongs
            to a different model, or whose configuration differs from this run's.
    """
    learning_rate = optimizer if isinstance(optimizer, int | float) else None
    optimizer = _resolve_optimizer(optimizer)
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if transform is not None and not (
        hasattr(transform, "forward") and hasattr(transform, "inverse")
    ):
        raise TypeError("transform must have .forward(params) and .inverse(params) methods")
    if bounds_mode not in ("cost", "clip"):
        raise ValueError(f"bounds_mode must be 'cost' or 'clip', got {bounds_mode!r}")
    if bounds is not None:
        if not (isinstance(bounds, tuple | list) and len(bounds) == 2):
            raise TypeError("bounds must be a (lower, upper) pair as returned by make_bounds")
        _check_bounds(params, *bounds)
    if checkpoint_every is not None and (checkpoint is None or checkpoint_every < 1):
        raise ValueError("checkpoint_every needs a checkpoint path and must be >= 1")
    if not isinstance(keep_checkpoints, int) or keep_checkpoints < 1:
        raise ValueError(f"keep_checkpoints must be an int >= 1, got {keep_checkpoints!r}")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 0):
        raise ValueError(f"max_steps must be None or a non-negative int, got {max_steps!r}")
    if resume not in (False, True, "auto"):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    if mesh is not None:
        check_axis(mesh, mesh_axis)
    tqdm = _import_optional("tqdm", "fit(progress=True)").tqdm if progress else None

    params = jax.tree_util.tree_map(jnp.asarray, params)
    opt_params = transform.inverse(params) if transform is not None else params
    opt_state = optimizer.init(opt_params)
    key = jax.random.PRNGKey(seed)
    pos = {
        "epoch": 0,
        "step_in_epoch": 0,
        "global_step": 0,
        "epoch_loss": [0.0, 0],
        "epoch_metrics": {},
        "history": {"loss": [], "metrics": {}, "skipped_steps": []},
    }
    resumed = checkpoint is not None and (
        resume is True or (resume == "auto" and checkpoint_exists(checkpoint))
    )
    batches = _epoch_batches(data, pos["epoch"], shuffle, seed)
    config = run_config(
        opt_params,
        optimizer,
        learning_rate,
        data,
        batches,
        transform=transform,
        bounds=bounds,
        bounds_mode=bounds_mode,
        bounds_weight=bounds_weight,
        clip_norm=clip_norm,
        has_aux=has_aux,
        pass_key=pass_key,
        shuffle=shuffle,
        seed=seed,
    )
    if resumed:

        def check(meta: dict, name: str) -> None:
            check_resume(meta.get("config"), config, name)
            if meta["step_in_epoch"] >= len(batches):
                raise CheckpointError(
                    f"checkpoint {name!r} is at step {meta['step_in_epoch']} of epoch "
                    f"{meta['epoch']}, but the data gives {len(batches)} batches per epoch; "
                    "resume with the data of the checkpointed run or start a new run"
                )

        opt_params, opt_state, key, meta = load_checkpoint(
            checkpoint, opt_params, opt_state, key, check=check
        )
        if meta["epoch"] != pos["epoch"]:  # the batches above were drawn for epoch 0
            batches = _epoch_batches(data, meta["epoch"], shuffle, seed)
        pos = {k: meta[k] for k in pos}
    if mesh is not None:
        opt_params, opt_state, key = replicate((opt_params, opt_state, key), mesh)

    step = _make_step(
        loss_fn,
        optimizer,
        transform,
        bounds,
        bounds_mode,
        bounds_weight,
        clip_norm,
        has_aux,
        pass_key,
        mesh,
        mesh_axis,
    )
    hist = pos["history"]
    saved_at = pos["global_step"] if resumed else None
    # Generations newer than the one resumed from are damaged (load_checkpoint warned); they
    # are set aside before the first save so that rotation does not push out the good one.
    damaged = []
    if resumed:
        names = generation_paths(checkpoint)
        damaged = [n for n in names[: names.index(meta["checkpoint_file"])] if os.path.exists(n)]

    def save():
        nonlocal saved_at, damaged
        if checkpoint is not None and saved_at != pos["global_step"]:
            if jax.process_index() != 0:  # several processes hold the same state
                saved_at = pos["global_step"]
                return
            for name in damaged:
                os.replace(name, name + ".corrupt")
                warnings.warn(
                    f"fit: moved the damaged checkpoint {name!r} to {name + '.corrupt'!r}",
                    RuntimeWarning,
                    stacklevel=3,
                )
            damaged = []
            save_checkpoint(
                checkpoint, opt_params, opt_state, key, dict(pos, config=config), keep_checkpoints
            )
            saved_at = pos["global_step"]

    n_batches = len(batches)
    bar = tqdm(total=epochs, initial=min(pos["epoch"], epochs), desc="fit") if tqdm else None
    stopped = False
    try:
        while pos["epoch"] < epochs and not stopped:
            if batches is None:
                batches = _epoch_batches(data, pos["epoch"], shuffle, seed)
                if len(batches) != n_batches:
                    raise ValueError(
                        f"data yielded {len(batches)} batches in epoch {pos['epoch']} but "
                        f"{n_batches} before; fit needs the same batches every epoch (pass a "
                        "list or a Dataset rather than a one-shot iterator)"
                    )
            epoch_before = pos["epoch"]
            for batch in batches[pos["step_in_epoch"] :]:
                if max_steps is not None and pos["global_step"] >= max_steps:
                    stopped = True
                    break
                if mesh is not None:
                    batch = shard_batch(batch, mesh, mesh_axis)
                opt_params, opt_state, key, loss, aux, status = step(
                    opt_params, opt_state, key, batch
                )
                loss, status = jax.device_get((loss, status))  # one transfer per step
                loss, status = float(loss), [bool(ok) for ok in status]
                if all(status):
                    pos["epoch_loss"] = [pos["epoch_loss"][0] + loss, pos["epoch_loss"][1] + 1]
                    for name, val in aux.items():
                        s, n = pos["epoch_metrics"].get(name, (0.0, 0))
                        pos["epoch_metrics"][name] = (s + float(val), n + 1)
                else:
                    hist["skipped_steps"].append(pos["global_step"])
                    bad = ", ".join(
                        p for p, ok in zip(_STATUS_PARTS, status, strict=True) if not ok
                    )
                    warnings.warn(
                        f"fit: step {pos['global_step']} (epoch {pos['epoch']}) gave a non-finite"
                        f" {bad} (loss={loss}); the update was skipped and the previous "
                        "parameters and optimizer state kept",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                pos["global_step"] += 1
                pos["step_in_epoch"] += 1
                if pos["step_in_epoch"] == n_batches:
                    _close_epoch(pos, hist, bar)
                if checkpoint_every is not None and pos["global_step"] % checkpoint_every == 0:
                    save()
                if callback is not None:
                    current = transform.forward(opt_params) if transform else opt_params
                    callback(pos["global_step"] - 1, current, loss)
            # Every pass of this loop closes an epoch or stops at max_steps: it cannot spin.
            if not stopped and pos["epoch"] == epoch_before:
                raise RuntimeError(
                    f"fit made no progress in epoch {pos['epoch']} (step {pos['step_in_epoch']} "
                    f"of {n_batches}); this is a bug in dendrax, please report it"
                )
            batches = None
        save()
    finally:
        if bar is not None:
            bar.close()
    final = transform.forward(opt_params) if transform is not None else opt_params
    return final, hist


def _close_epoch(pos: dict, hist: dict, bar: Any) -> None:
    total, count = pos["epoch_loss"]
    mean = total / count if count else math.nan
    hist["loss"].append(mean)
    metrics = {}
    for name, (s, n) in pos["epoch_metrics"].items():
        metrics[name] = s / n
        hist["metrics"].setdefault(name, []).append(s / n)
    pos.update(epoch=pos["epoch"] + 1, step_in_epoch=0, epoch_loss=[0.0, 0], epoch_metrics={})
    if bar is not None:
        bar.update(1)
        bar.set_postfix(loss=f"{mean:.4g}", **{k: f"{v:.4g}" for k, v in metrics.items()})
