"""JAX helpers: checkpointed nested scans, gathers and scatter-adds at static rows, selects
without nested jits, and operands for arithmetic written with `lax` operations."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "constant",
    "lax_operands",
    "nested_checkpoint_scan",
    "scatter_add_static",
    "select",
    "take_static",
]


def nested_checkpoint_scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any,
    length: int | None = None,
    *,
    nested_lengths: Sequence[int],
    scan_fn: Callable[..., tuple[Any, Any]] = jax.lax.scan,
    checkpoint_fn: Callable[[Callable], Callable] = jax.checkpoint,
) -> tuple[Any, Any]:
    """``jax.lax.scan`` split into nested, checkpointed scans to save reverse-mode memory.

    With ``nested_lengths = (n_1, ..., n_k)`` and ``T = n_1 * ... * n_k`` steps, the scan runs
    as ``k`` nested scans: level ``i`` scans ``n_i`` times over a body that performs the
    ``n_{i+1} * ... * n_k`` steps of the deeper levels, and every such body is wrapped in
    ``checkpoint_fn``.  Reverse-mode differentiation then stores only the carries at the level
    boundaries and recomputes the rest, so memory grows like ``n_1 + ... + n_k`` (dominated by
    the largest level) instead of ``T``, at the price of recomputation (roughly one extra
    forward pass per level).  For two levels ``n_1 = n_2 = ceil(sqrt(T))`` is the usual choice.

    The result is the same as ``jax.lax.scan(f, init, xs, length)``.

    Args:
        f: scan body ``f(carry, x) -> (carry, y)``.
        init: initial carry (pytree).
        xs: pytree of arrays with leading axis ``T`` scanned over, or ``None`` (then
            ``length`` is required).
        length: number of steps ``T``; optional if ``xs`` is given (must then agree with it).
        nested_lengths: level lengths ``(n_1, ..., n_k)``, outermost first, with product
            exactly ``T``.  Pad ``xs`` yourself if ``T`` does not factor as wanted.
        scan_fn: scan implementation with ``jax.lax.scan``'s signature ``(f, init, xs, length)``.
        checkpoint_fn: rematerialization decorator applied to each nested body.

    Returns:
        ``(final_carry, ys)`` where ``ys`` is a pytree of arrays with leading axis ``T``
        (shape ``(T, ...)`` per leaf), exactly as returned by ``jax.lax.scan``.

    Raises:
        ValueError: if ``nested_lengths`` is empty or non-positive, if its product differs from
            ``T``, if ``xs`` leaves disagree on the leading axis, or if neither ``xs`` nor
            ``length`` gives ``T``.
    """
    nested_lengths = tuple(int(n) for n in nested_lengths)
    if not nested_lengths or any(n <= 0 for n in nested_lengths):
        raise ValueError(
            f"nested_lengths must be a non-empty sequence of positive ints, got {nested_lengths}."
        )
    total = math.prod(nested_lengths)

    xs_leaves = jax.tree_util.tree_leaves(xs)
    if xs_leaves:
        lead = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in xs_leaves}
        if None in lead or len(lead) != 1:
            raise ValueError(
                "nested_checkpoint_scan: all leaves of xs need the same leading (time) axis, "
                f"got leading sizes {sorted(lead, key=str)}."
            )
        (xs_length,) = lead
        if length is not None and int(length) != xs_length:
            raise ValueError(
                f"nested_checkpoint_scan: length={length} does not match the leading axis of "
                f"xs ({xs_length})."
            )
        length = xs_length
    elif length is None:
        raise ValueError("nested_checkpoint_scan: give xs or length to set the number of steps.")

    if int(length) != total:
        raise ValueError(
            f"nested_checkpoint_scan: the product of nested_lengths {nested_lengths} is {total}, "
            f"but the scan has length {length}. Pad the inputs so that the number of steps "
            "equals the product."
        )

    # (T, ...) -> (n_1, ..., n_k, ...)
    nested_xs = jax.tree_util.tree_map(
        lambda x: jnp.reshape(x, nested_lengths + jnp.shape(x)[1:]), xs
    )
    carry, ys = _scan_levels(f, init, nested_xs, nested_lengths, scan_fn, checkpoint_fn)
    # (n_1, ..., n_k, ...) -> (T, ...)
    k = len(nested_lengths)
    ys = jax.tree_util.tree_map(lambda y: jnp.reshape(y, (total,) + jnp.shape(y)[k:]), ys)
    return carry, ys


def _scan_levels(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any,
    lengths: tuple[int, ...],
    scan_fn: Callable[..., tuple[Any, Any]],
    checkpoint_fn: Callable[[Callable], Callable],
) -> tuple[Any, Any]:
    """Scan over ``lengths[0]``; the body recursively scans the remaining levels.

    ``xs`` leaves have shape ``lengths + (...)`` (or ``xs`` is ``None``); returned ``ys`` leaves
    have shape ``lengths + (...)``.
    """
    if len(lengths) == 1:
        return scan_fn(f, init, xs, lengths[0])

    inner_lengths = lengths[1:]

    @checkpoint_fn
    def body(carry: Any, x: Any) -> tuple[Any, Any]:
        return _scan_levels(f, carry, x, inner_lengths, scan_fn, checkpoint_fn)

    return scan_fn(body, init, xs, lengths[0])


def take_static(x, rows: np.ndarray):
    """`x[rows]` along axis 0 for a numpy array of non-negative `rows` known when tracing.

    A contiguous run of rows is a slice, every row repeated `k` times in order a broadcast,
    other rows one gather. `jnp` indexing with signed integers also stages a fix-up of
    negative indices (compare, add, select) on every call; unsigned indices, which cannot
    be negative, skip it. Inside a time step that saves a few operations per step, and
    their derivatives in the backward pass. Rows outside `[0, len(x))` raise ValueError.
    """
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.size == 0:
        return x[rows.astype(np.uint32)]
    if rows.min() < 0 or rows.max() >= x.shape[0]:
        raise ValueError(
            f"take_static needs rows in [0, {x.shape[0]}); got {rows.min()} to {rows.max()}."
        )
    if np.array_equal(rows, rows[0] + np.arange(rows.size)):
        return jax.lax.slice_in_dim(x, int(rows[0]), int(rows[0]) + rows.size, axis=0)
    repeats = rows.size // x.shape[0] if rows.size % x.shape[0] == 0 else 0
    if repeats > 1 and np.array_equal(rows, np.repeat(np.arange(x.shape[0]), repeats)):
        # every row `repeats` times in order (e.g. one value per branch -> compartments):
        # a broadcast, whose derivative is a sum instead of a scatter-add
        m = x.shape[0]
        wide = jnp.broadcast_to(x[:, None], (m, repeats) + x.shape[1:])
        return wide.reshape((m * repeats,) + x.shape[1:])
    return x[rows.astype(np.uint32)]


def scatter_add_static(target, rows: np.ndarray, values):
    """`target.at[rows].add(values)` along axis 0 for numpy `rows` in `[0, len(target))`.

    One scatter-add with unsigned indices, staged without `jnp` indexing's fix-up of
    negative indices (see `take_static`), which every differentiated time step otherwise
    traces, differentiates and compiles again. Rows outside the range raise ValueError.
    """
    rows = np.asarray(rows)
    if rows.size and (rows.min() < 0 or rows.max() >= target.shape[0]):
        raise ValueError(
            f"scatter_add_static needs rows in [0, {target.shape[0]}); got {rows.min()} to "
            f"{rows.max()}."
        )
    numbers = jax.lax.ScatterDimensionNumbers(
        update_window_dims=tuple(range(1, jnp.ndim(values))),
        inserted_window_dims=(0,),
        scatter_dims_to_operand_dims=(0,),
    )
    return jax.lax.scatter_add(
        target,
        rows.astype(np.uint32)[:, None],
        values,
        numbers,
        mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )


def select(mask, on_true, on_false):
    """`jnp.where(mask, on_true, on_false)` staged as one `select_n`.

    `jnp.where` wraps its work in a nested jit, which every transformation (JVP,
    linearization, transposition) and the lowering handle as a sub-program: in a time step
    that is differentiated, a measurable share of tracing and compile time. Values must be
    arrays of `mask`'s shape or scalars (broadcast); anything else goes to `jnp.where`.
    """
    mask = jnp.asarray(mask)
    dtype = jnp.result_type(on_true, on_false)
    shapes = {jnp.shape(on_true), jnp.shape(on_false)} - {(), mask.shape}
    if shapes or mask.dtype != jnp.bool_:
        return jnp.where(mask, on_true, on_false)

    def full(x):
        x = jnp.asarray(x, dtype)
        return x if x.shape == mask.shape else jax.lax.broadcast_in_dim(x, mask.shape, ())

    return jax.lax.select(mask, full(on_true), full(on_false))


def lax_operands(*values):
    """`values` as arrays of one dtype and shape, as `jnp` arithmetic would promote them.

    For arithmetic written with `lax` operations, which neither promote nor broadcast:
    `jnp`'s operators dispatch through jitted ufuncs and take ~3x as long to trace per
    operation, which adds up in the time step of every simulation. Zero-dimensional
    values stay zero-dimensional (`lax` broadcasts those); non-float values become the
    default float type.
    """
    dtype = jnp.result_type(*values)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.result_type(float)
    shape = jnp.broadcast_shapes(*(np.shape(v) for v in values))
    out = []
    for value in values:
        value = jax.lax.convert_element_type(value, dtype)
        if value.ndim and value.shape != shape:
            dims = tuple(range(len(shape) - value.ndim, len(shape)))
            value = jax.lax.broadcast_in_dim(value, shape, dims)
        out.append(value)
    return out


def constant(value: float, like) -> np.ndarray:
    """`value` as a 0-d numpy array of `like`'s dtype, an operand `lax` accepts next to it."""
    return np.asarray(value, dtype=like.dtype)
