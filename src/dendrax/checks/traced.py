"""Checks of traced values, run inside the caller's `jit`, `grad` or `vmap`.

When `integrate` runs under a transformation, its parameters, stimuli and recordings are
tracers: their values exist only when the compiled computation runs. `report` adds, after
the simulation, a few reductions over them (one per block and one pass over the
recordings) and one `lax.cond` that calls the host only when something is invalid:

* `checks=True` (default): a host callback (`jax.pure_callback`, which works under `jit`,
  `grad` and `vmap` alike; see `_callback` for why not `jax.debug.callback`) raises a
  `ValueError` for an invalid value, which JAX re-raises as `jax.errors.JaxRuntimeError`
  or `ValueError` (see `RUN_TIME_ERRORS`) carrying the message, and warns
  (`RuntimeWarning`) for a blow-up, as eager runs do. A valid run never calls the host.
* `checks="checkify"`: the same conditions as `jax.experimental.checkify.check`s, for
  callers that functionalize errors (`checkify.checkify(jax.jit(f))`, e.g. to get one
  error per element of a `vmap`); a blow-up is then an error too.
* `checks=False`: nothing is added.
"""

from __future__ import annotations

import logging
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.checks.values import (
    BLOW_UP_LIMIT,
    Block,
    blow_up_message,
    failure_message,
    is_traced,
    warn_if_not_finite,
)

__all__ = ["report", "check_result", "CHECK_MODES", "InvalidValueError", "RUN_TIME_ERRORS"]

#: The values `integrate(..., checks=...)` accepts.
CHECK_MODES = (True, False, "checkify")


class InvalidValueError(ValueError):
    """An invalid traced value, raised in the host callback (JAX re-raises it as
    `jax.errors.JaxRuntimeError` with this message)."""


#: What a failed run-time check raises from a call of a jitted function: JAX re-raises the
#: callback's error as `jax.errors.JaxRuntimeError`, or as `ValueError` where the call
#: took jit's fast C++ dispatch path (a cached function); both carry the message.
#: `except dendrax.checks.RUN_TIME_ERRORS` catches either.
RUN_TIME_ERRORS = (ValueError, jax.errors.JaxRuntimeError)


class _DropOwnErrors(logging.Filter):
    """JAX logs every exception of a host callback with its traceback before re-raising
    it; ours carry their whole message in the re-raised error, so the log only repeats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InvalidValueError)


logging.getLogger("jax._src.callback").addFilter(_DropOwnErrors())


def _n_cols(block: Block) -> int:
    shape = block.values.shape
    return int(np.prod(shape[1:])) if len(shape) > 1 else 1


def _summary(block: Block):
    """(any invalid, number invalid, flat index of the first, its value), traced."""
    x = jnp.reshape(jax.lax.stop_gradient(block.values), (-1,))
    x = x.astype(jnp.result_type(float))
    bad = ~block.valid.valid(x, jnp)
    first = jnp.argmax(bad)
    return bad.any(), jnp.sum(bad), first, x[first]


def _blow_up_summary(recordings):
    """(blew up, recording, time step) of the first invalid column of `recordings`."""
    rec = jax.lax.stop_gradient(recordings)
    bad = ~jnp.isfinite(rec) | (jnp.abs(rec) > BLOW_UP_LIMIT)
    per_step = bad.any(axis=0)
    step = jnp.argmax(per_step)
    return per_step.any(), jnp.argmax(bad[:, step]), step


def report(blocks, recordings, delta_t, solver: str, mode=True):
    """Check traced `blocks` (see `checks.values.integrate_blocks`) and, if traced, the
    `recordings` (n_rec, n_steps + 1) for blow-up, inside the current trace.

    Returns the recordings, which with `mode=True` carry the check (see `_callback`).
    """
    if mode is False or (not blocks and not is_traced(recordings)):
        return recordings
    if mode != "checkify":
        return _callback(blocks, recordings, delta_t, solver)
    blow = _blow_up_summary(recordings) if is_traced(recordings) else None
    summaries = [_summary(b) for b in blocks]
    if blow is None:
        blow = (jnp.zeros((), bool), jnp.zeros((), int), jnp.zeros((), int))
    _checkify(blocks, summaries, blow, solver, np.dtype(recordings.dtype))
    return recordings


def _invalid_flag(bad):
    """1.0 if any entry of the boolean array `bad` is set, else 0.0, as a float max:
    XLA:CPU takes several times longer to compile boolean reductions (`any`, `argmax`)
    than float ones, and this check is compiled into every traced run."""
    return jnp.max(jnp.where(bad, 1.0, 0.0), initial=0.0)


def _block_flag(block: Block):
    x = jnp.reshape(jax.lax.stop_gradient(block.values), (-1,))
    return _invalid_flag(~block.valid.valid(x.astype(jnp.result_type(float)), jnp))


def _blow_up_mask(recordings, xp):
    return ~xp.isfinite(recordings) | (xp.abs(recordings) > BLOW_UP_LIMIT)


def _first_failure(blocks, flags, values, b):
    """The message for the first invalid value of batch element `b` (host side)."""
    i = int(np.flatnonzero(flags[b])[0])
    block = blocks[i]
    x = np.asarray(values[i]).reshape(flags.shape[0], -1)[b].astype(float)
    bad = ~block.valid.valid(x, np)
    first = int(np.argmax(bad))
    r, c = divmod(first, _n_cols(block))
    return failure_message(block, float(x[first]), r, c, int(bad.sum()), x.size)


def _callback(blocks, recordings, delta_t, solver):
    """`recordings * (1 + z)`, `z` exactly 0 from a host call made only on failure.

    The traced part is one float max per block and one over the recordings; the host
    call is a `jax.pure_callback` inside a `lax.cond` that receives the values themselves
    and locates the failure with numpy, so a valid run pays for those reductions, one
    scalar predicate and one multiplication by 1, not for a round trip to Python. A
    `jax.debug.callback` would do without the multiplication, but its effect takes
    `jax.jit` off its fast C++ dispatch path (see `bench/bench_checks.py`); a pure
    callback has no effect, and multiplying the recordings by `1 + z` keeps it alive where
    only derivatives are used (the cotangent is multiplied by `1 + z` too), which
    dead-code elimination would remove otherwise. Multiplying by exactly 1 changes no value.
    """
    dtype = np.dtype(recordings.dtype)
    float_t = jnp.result_type(float)
    traced_rec = is_traced(recordings)
    rec = jax.lax.stop_gradient(recordings)
    flags = jnp.stack([_block_flag(b) for b in blocks]) if blocks else jnp.zeros((0,), float_t)
    blew = _invalid_flag(_blow_up_mask(rec, jnp)) if traced_rec else jnp.zeros((), float_t)
    values = [jax.lax.stop_gradient(b.values) for b in blocks]
    dt = jnp.asarray(jax.lax.stop_gradient(delta_t), float_t)

    def host(flags, blew, dt, rec, *values):
        # Under vmap (vmap_method="broadcast_all") every array carries the batch axes in
        # front: report the first element that failed.
        batch_shape = np.shape(blew)
        blew = np.asarray(blew).reshape(-1)
        n_batch = blew.size
        flags = np.asarray(flags).reshape(n_batch, len(blocks)) > 0
        failed = np.flatnonzero(flags.any(axis=1))
        if failed.size:
            b = int(failed[0])
            message = _first_failure(blocks, flags, values, b)
            raise InvalidValueError(message + (f" (batch element {b})" if n_batch > 1 else ""))
        if (blew > 0).any():
            b = int(np.flatnonzero(blew > 0)[0])
            bad = _blow_up_mask(np.asarray(rec).reshape(n_batch, *rec.shape[-2:])[b], np)
            step = int(np.argmax(bad.any(axis=0)))
            rec_b = int(np.argmax(bad[:, step]))
            dt_b = float(np.asarray(dt).reshape(-1)[b])
            message = blow_up_message(rec_b, step, dt_b, solver, dtype)
            warnings.warn(message, RuntimeWarning, stacklevel=2)  # no user frame here
        return np.zeros(batch_shape, dtype)

    spec = jax.ShapeDtypeStruct((), dtype)

    def call(*a):
        return jax.pure_callback(host, spec, *a, vmap_method="broadcast_all")

    def skip(*a):
        return jnp.zeros((), dtype)

    failed = (jnp.sum(flags) + blew) > 0
    z = jax.lax.cond(failed, call, skip, flags, blew, dt, rec, *values)
    return recordings * (1 + z)


def _checkify(blocks, summaries, blow, solver, dtype):
    from jax.experimental import checkify

    for block, (flag, n_bad, first, value) in zip(blocks, summaries, strict=True):
        bounds, unit = block.valid.bounds(), block.valid.unit
        what = "finite" + (f" and {bounds}" if bounds else "") + (f" ({unit})" if unit else "")
        label = block.label.replace("{", "{{").replace("}", "}}")
        text = f"{label} must be {what}; got {{value}}"
        n_cols = _n_cols(block)
        where, fmt = [], {"value": value, "n_bad": n_bad}
        if block.row_name:
            where.append(f"{block.row_name} {{row}}")
            fmt["row"] = jnp.asarray(np.asarray(block.rows))[first // n_cols]
        if block.col_name:
            where.append(f"{block.col_name} {{col}}")
            fmt["col"] = first % n_cols
        text += f" at {', '.join(where)}" if where else ""
        text += f" ({{n_bad}} of {int(np.prod(block.values.shape))} values are invalid)."
        checkify.check(~flag, text, **fmt)
    blew_up, rec, step = blow
    text = blow_up_message("{rec}", "{step}", None, solver, dtype)
    checkify.check(~blew_up, text, rec=rec, step=step)


def check_result(blocks, result, return_states: bool, delta_t, solver: str, mode=True):
    """`integrate`'s run-time checks of `result` (recordings, or `(recordings, states)`
    with `return_states`): `report` under a trace, else the blow-up warning on the
    concrete recordings. Nothing with `mode=False`. Returns the result."""
    recordings = result[0] if return_states else result
    if mode is False:
        return result
    if not is_traced(recordings):
        warn_if_not_finite(recordings, delta_t, solver, stacklevel=4)
        return result
    recordings = report(blocks, recordings, delta_t, solver, mode)
    return (recordings, result[1]) if return_states else recordings
