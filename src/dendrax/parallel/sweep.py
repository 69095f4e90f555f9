"""`sweep`: run a batch of parameter sets, stimuli or initial states over a device mesh.

The batch (a pytree whose leaves share a leading batch axis) is padded to a multiple of the
number of devices along the mesh axis, placed with `NamedSharding(mesh, P(axis))`, and each
device maps the function over its own rows inside `shard_map`: all at once with `vmap`, or
`batch_size` rows at a time with `lax.map` to bound the memory of a device. The padding is
cut from the results. The same call runs on one device, several devices of one process, or
the devices of several processes (after `dendrax.parallel.initialize`).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from dendrax.parallel.errors import BatchError
from dendrax.parallel.mesh import (
    axis_size,
    batch_sharding,
    check_axis,
    make_mesh,
    replicated_sharding,
)
from dendrax.parallel.placement import (
    gather,
    local_rows,
    place,
    place_process_local,
    process_row_counts,
    process_shards,
)
from dendrax.simulator.simulator import Simulator

__all__ = ["sweep", "RUN_ARGUMENTS"]

#: The `Simulator.run` arguments a batch dict may give per element.
RUN_ARGUMENTS = ("params", "inputs", "param_values", "all_states")


def sweep(
    fn_or_simulator,
    batch,
    *,
    mesh=None,
    axis: str = "batch",
    batch_size: int | None = None,
    pad: bool = True,
    in_axes=0,
    process_local: bool = False,
    **run_kwargs,
):
    """Evaluate a function (or a `Simulator`'s `run`) on every element of a batch, sharded.

    Args:
        fn_or_simulator: a function of one batch element, returning a pytree of arrays; or
            a `Simulator` (from `dendrax.compile`), whose `run` is called per element.
        batch: a pytree whose leaves have the batch axis (given by `in_axes`, default the
            leading one). For a `Simulator`: the trainable values (a list like
            `module.get_parameters()`, every leaf with a leading batch axis), or a dict with
            some of the `run` arguments "params", "inputs" ({name: (B, k, T)} stimuli/clamps),
            "param_values" and "all_states", each batched.
        mesh: a `jax.sharding.Mesh` (default: `make_mesh(axis=axis)`, all devices of all
            processes).
        axis: the mesh axis the batch is split over; other mesh axes hold copies.
        batch_size: rows evaluated together on a device (`lax.map(batch_size=)`); bounds the
            memory of a device to about `batch_size` simulations. None: all the device's
            rows at once (`vmap`).
        pad: pad a batch whose length is not a multiple of the devices along `axis` (with
            copies of its last element, cut from the results); False raises instead.
        in_axes: as in `jax.vmap`: an int or None, or a pytree prefix of `batch` of them;
            None leaves are passed whole to every element and copied to every device.
        process_local: each process passes its own rows (not the whole batch) and gets
            the results of its own rows back (`jax.make_array_from_process_local_data`);
            the processes' row counts may differ (each is padded to the largest).
        **run_kwargs: only with a `Simulator`: the fixed arguments of `run` (`t_max`,
            `n_steps`, `checkpoint_lengths`, `return_states`, and any of `RUN_ARGUMENTS`
            not swept).

    Returns:
        The function's outputs stacked along a new leading axis of the batch length (for a
        `Simulator`: (B, n_recordings, n_steps + 1) recordings, or a tuple with the final
        states when `return_states=True`). With one process the arrays are sharded over
        the mesh when no padding was cut; with several processes the results are gathered:
        each process holds all of them (fully replicated arrays, `np.asarray` works).
        With `process_local`, the results of this process's rows only. Inside `jit` or
        `grad` the results are traced values.

    Raises:
        BatchError: leaves of different batch lengths, an empty batch, nothing batched, a
            bad `in_axes`, or (with `pad=False`) a length not divisible by the devices.
        MeshError: the mesh has no axis `axis` (or it is not `AxisType.Auto`).
        TypeError: `run_kwargs` with a function, an unknown `run` argument, a bad
            `batch_size`.

    Unless `process_local`, every process must call `sweep` with the same batch (the whole
    batch, not its part).
    Define `fn` once (not as a new lambda per call) to reuse its compilation.
    """
    fn, batch, in_axes = _as_function(fn_or_simulator, batch, in_axes, run_kwargs)
    mesh = make_mesh(axis=axis) if mesh is None else check_axis(mesh, axis)
    batch_size = _check_batch_size(batch_size)
    n_shards = axis_size(mesh, axis)

    leaves, treedef, axes, paths = _flatten(batch, in_axes)
    is_mapped = tuple(a is not None for a in axes)
    mapped = [
        _to_front(x, a, p) for x, a, p in zip(leaves, axes, paths, strict=True) if a is not None
    ]
    fixed = [x for x, a in zip(leaves, axes, strict=True) if a is None]
    n = _batch_length(mapped, [p for p, m in zip(paths, is_mapped, strict=True) if m])
    if process_local:
        return _sweep_process_local(
            fn, treedef, is_mapped, mapped, fixed, n, mesh, axis, batch_size
        )
    n_padded = math.ceil(n / n_shards) * n_shards
    if n_padded != n and not pad:
        sizes = " or ".join(str(k) for k in (n_padded - n_shards, n_padded) if k > 0)
        raise BatchError(
            f"The batch has {n} elements, not a multiple of the {n_shards} devices along mesh "
            f"axis {axis!r}. Pass pad=True (the default: padded with copies of the last "
            f"element, cut from the results) or give {sizes} elements."
        )
    mapped = [_pad(x, n_padded - n) for x in mapped]
    mapped = place(mapped, batch_sharding(mesh, axis))
    fixed = place(fixed, replicated_sharding(mesh))

    local_rows = n_padded // n_shards
    chunk = None if batch_size is None else min(batch_size, local_rows)
    run = _sharded(fn, treedef, is_mapped, mesh, axis, chunk)
    out = run(tuple(mapped), tuple(fixed))
    if n_padded != n:
        out = jax.tree.map(lambda y: y[:n], out)
    return gather(out, mesh)


def _sweep_process_local(fn, treedef, is_mapped, mapped, fixed, n, mesh, axis, batch_size):
    """`sweep` of this process's own `n` rows; the results of these rows."""
    local_shards = process_shards(mesh, axis)
    n_max = max(process_row_counts(n))
    n_padded = math.ceil(n_max / local_shards) * local_shards
    mapped = [_pad(x, n_padded - n) for x in mapped]
    n_global = n_padded * (axis_size(mesh, axis) // local_shards)
    mapped = place_process_local(mapped, batch_sharding(mesh, axis), n_global)
    fixed = place(fixed, replicated_sharding(mesh))
    rows = n_padded // local_shards
    chunk = None if batch_size is None else min(batch_size, rows)
    out = _sharded(fn, treedef, is_mapped, mesh, axis, chunk)(tuple(mapped), tuple(fixed))
    return jax.tree.map(lambda y: local_rows(y)[:n], out)


# ---------------------------------------------------------------------------- the function
def _as_function(target, batch, in_axes, run_kwargs):
    """`(fn of one element, batch, in_axes)`; a Simulator becomes a call of its `run`."""
    if not isinstance(target, Simulator):
        if run_kwargs:
            raise TypeError(
                f"sweep(fn, ...) got keyword arguments {sorted(run_kwargs)}; they are only for "
                "a Simulator. Bind them to fn first, e.g. with functools.partial."
            )
        if not callable(target):
            raise TypeError(
                "sweep needs a function of one batch element or a dendrax Simulator, got "
                f"{type(target).__name__}"
            )
        return target, batch, in_axes
    if isinstance(batch, dict):
        unknown = sorted(set(batch) - set(RUN_ARGUMENTS))
        if unknown:
            raise TypeError(
                f"A Simulator batch dict has keys among {RUN_ARGUMENTS}; got {unknown}. To "
                "sweep the trainable values alone, pass them as a list like "
                "module.get_parameters()."
            )
        swept = dict(batch)
    else:
        swept = {"params": batch}
    if isinstance(in_axes, dict) and set(in_axes) != set(swept):
        raise BatchError(
            f"in_axes has keys {sorted(in_axes)} but the swept run arguments are "
            f"{sorted(swept)}; give in_axes the structure of the batch (or one int/None)."
        )
    axes = dict(in_axes) if isinstance(in_axes, dict) else dict.fromkeys(swept, in_axes)
    both = sorted(set(swept) & set(run_kwargs))
    if both:
        raise TypeError(f"{both} are given both in the batch and as fixed run arguments.")
    # Fixed arrays (params, inputs, ... not swept) travel as unbatched leaves, copied to
    # every device; the other run options are part of the compiled function.
    for name in RUN_ARGUMENTS:
        if name in run_kwargs:
            swept[name], axes[name] = run_kwargs.pop(name), None
    options = tuple(sorted(run_kwargs.items()))
    try:
        hash(options)
    except TypeError:
        raise TypeError(
            f"The run options {sorted(run_kwargs)} of a sweep must be plain values (t_max, "
            "n_steps, checkpoint_lengths as a tuple, return_states); arrays go in the batch."
        ) from None
    return _simulator_call(target, options), swept, axes


@functools.lru_cache(maxsize=32)
def _simulator_call(sim: Simulator, run_items: tuple):
    # The same function object for the same simulator and arguments, so that `_sharded`
    # (and JAX) reuse the compiled sweep. Bounded: each entry holds its simulator.
    run_kwargs = dict(run_items)

    def call(element: dict):
        return sim.run(**element, **run_kwargs)

    return call


@functools.lru_cache(maxsize=64)
def _sharded(fn, treedef, is_mapped: tuple, mesh, axis: str, chunk: int | None):
    """The jitted `shard_map` that maps `fn` over each device's rows."""

    def element(mapped_row, fixed):
        rows, rest = iter(mapped_row), iter(fixed)
        leaves = [next(rows) if m else next(rest) for m in is_mapped]
        return fn(jax.tree.unflatten(treedef, leaves))

    def local(mapped, fixed):
        one = functools.partial(element, fixed=fixed)
        if chunk is None:
            return jax.vmap(one)(mapped)
        return jax.lax.map(one, mapped, batch_size=chunk)

    # check_vma=False: a simulation's `scan` starts from states that do not depend on the
    # swept values (constant on every device) and ends with ones that do, which the
    # replication check rejects although each device's computation is independent.
    mapped_fn = jax.shard_map(
        local, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis), check_vma=False
    )
    return jax.jit(mapped_fn)


# ---------------------------------------------------------------------------- the batch
def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise TypeError(f"batch_size must be a positive int or None, got {batch_size!r}")
    return batch_size


def _flatten(batch, in_axes):
    """Leaves of `batch`, its treedef, the batch axis of each leaf (int or None), key paths."""
    path_leaves, treedef = jax.tree_util.tree_flatten_with_path(batch)
    if not path_leaves:
        raise BatchError("The batch is empty: it has no arrays to sweep over.")
    try:
        axes_tree = jax.tree.broadcast(in_axes, batch, is_leaf=lambda x: x is None)
    except ValueError as err:
        raise BatchError(
            "in_axes must be an int, None, or a pytree prefix of the batch (as in jax.vmap); "
            f"its structure does not match the batch's:\n{err}"
        ) from None
    axes = jax.tree.leaves(axes_tree, is_leaf=lambda x: x is None)
    paths = [jax.tree_util.keystr(p) or "batch" for p, _ in path_leaves]
    for a, p in zip(axes, paths, strict=True):
        if a is not None and (isinstance(a, bool) or not isinstance(a, int)):
            raise BatchError(f"in_axes for {p} must be an int or None, got {a!r}")
    if all(a is None for a in axes):
        raise BatchError("in_axes is None for every leaf: there is nothing to sweep over.")
    return [x for _, x in path_leaves], treedef, axes, paths


def _to_front(x, ax: int, path: str):
    ndim = jnp.ndim(x)
    if not -ndim <= ax < ndim:
        raise BatchError(
            f"{path} has shape {jnp.shape(x)}, which has no axis {ax} to sweep over; give it "
            "a batch axis or in_axes=None for it."
        )
    return x if ax in (0, -ndim) else _xp(x).moveaxis(x, ax, 0)


def _batch_length(mapped: list, paths: list) -> int:
    lengths = {p: int(jnp.shape(x)[0]) for x, p in zip(mapped, paths, strict=True)}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{p}: {n}" for p, n in lengths.items())
        raise BatchError(
            f"The batch's leaves have different lengths along the batch axis ({shown})."
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise BatchError("The batch has 0 elements.")
    return n


def _pad(x, extra: int):
    """`x` with `extra` copies of its last row appended (a valid element, unlike zeros)."""
    if extra == 0:
        return x
    xp = _xp(x)
    x = xp.asarray(x)
    return xp.concatenate([x, xp.repeat(x[-1:], extra, axis=0)], axis=0)


def _xp(x):
    """numpy for host values (no device round trip before placement), else jax.numpy."""
    return jnp if isinstance(x, jax.Array | jax.core.Tracer) else np
