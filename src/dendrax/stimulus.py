"""Stimulus helpers (Jaxley-compatible)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["step_current", "datapoint_to_step_currents"]


def _check(delta_t, t_max):
    for name, value in (("delta_t", delta_t), ("t_max", t_max)):
        if not math.isfinite(float(value)) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0 (ms); got {value!r}.")


def _on_mask(i_delay, i_dur, delta_t, t_max) -> np.ndarray:
    """(T,) bool, True on the steps where a step current is on."""
    _check(delta_t, t_max)
    if i_dur < 0 or i_delay < 0:
        raise ValueError(f"i_delay and i_dur must be >= 0 ms; got {i_delay}, {i_dur}.")
    n = int(t_max // delta_t) + 2
    mask = np.zeros(n, dtype=bool)
    mask[int(i_delay / delta_t) : int((i_delay + i_dur) / delta_t)] = True
    return mask


def _is_traced(*values) -> bool:
    import jax

    return any(isinstance(v, jax.core.Tracer) for v in values)


def step_current(i_delay, i_dur, i_amp, delta_t, t_max, i_offset=0.0):
    """A step current (nA) of `int(t_max // delta_t) + 2` samples.

    The amplitude `i_amp` is on for steps `int(i_delay / delta_t)` up to (excluding)
    `int((i_delay + i_dur) / delta_t)`, and `i_offset` elsewhere. `i_amp` and `i_offset`
    may be traced (`jit`/`vmap`/`grad`); timing arguments must be concrete.
    """
    mask = _on_mask(i_delay, i_dur, delta_t, t_max)
    if _is_traced(i_amp, i_offset):
        import jax.numpy as jnp

        return jnp.where(jnp.asarray(mask), i_amp, i_offset)
    return np.where(mask, float(i_amp), float(i_offset))


def datapoint_to_step_currents(i_delay, i_dur, i_amp, delta_t, t_max, i_offset=0.0):
    """A batch (k, T) of step currents (nA), one per amplitude in `i_amp` (k,).

    `i_amp` and `i_offset` may be traced, e.g. inside a `vmap` over data points.
    """
    mask = _on_mask(i_delay, i_dur, delta_t, t_max)
    if _is_traced(i_amp, i_offset):
        import jax.numpy as jnp

        amps = jnp.atleast_1d(jnp.asarray(i_amp))
        return jnp.where(jnp.asarray(mask)[None, :], amps[:, None], i_offset)
    amps = np.atleast_1d(np.asarray(i_amp, dtype=float))
    return np.where(mask[None, :], amps[:, None], float(i_offset))
