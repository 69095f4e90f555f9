"""Stimulus helpers (Jaxley-compatible)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["step_current", "datapoint_to_step_currents"]


def _check(delta_t, t_max):
    for name, value in (("delta_t", delta_t), ("t_max", t_max)):
        if not math.isfinite(float(value)) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0 (ms); got {value!r}.")


def step_current(i_delay, i_dur, i_amp, delta_t, t_max, i_offset=0.0):
    """A step current (nA) of `int(t_max // delta_t) + 2` samples.

    The amplitude `i_amp` is on for steps `int(i_delay / delta_t)` up to (excluding)
    `int((i_delay + i_dur) / delta_t)`, and `i_offset` elsewhere.
    """
    _check(delta_t, t_max)
    if i_dur < 0 or i_delay < 0:
        raise ValueError(f"i_delay and i_dur must be >= 0 ms; got {i_delay}, {i_dur}.")
    n = int(t_max // delta_t) + 2
    current = np.full(n, float(i_offset))
    start, stop = int(i_delay / delta_t), int((i_delay + i_dur) / delta_t)
    current[start:stop] = i_amp
    return current


def datapoint_to_step_currents(i_delay, i_dur, i_amp, delta_t, t_max, i_offset=0.0):
    """A batch (k, T) of step currents, one per amplitude in `i_amp` (k,)."""
    amps = np.atleast_1d(np.asarray(i_amp, dtype=float))
    return np.stack([step_current(i_delay, i_dur, a, delta_t, t_max, i_offset) for a in amps])
