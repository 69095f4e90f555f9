"""Padding, cropping and joining of time series (stimuli, clamps), in numpy when concrete.

Each eager `jnp.pad` / slice / `concatenate` of a new shape compiles and caches a small
XLA program that is never freed: done per call of `integrate` with a new number of steps,
memory grew by ~2.4 MB a call. Concrete series are therefore handled in numpy; only
traced ones (from `data_stimulate` / `data_clamp` inside a transformation) use jnp.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["fit_length", "join_rows", "as_series"]


def _lib(*arrays):
    return jnp if any(isinstance(a, jax.core.Tracer) for a in arrays) else np


def as_series(values):
    """`values` (k, T) as a float array: numpy if concrete, else the traced array."""
    if isinstance(values, jax.core.Tracer):
        return jnp.asarray(values, dtype=jnp.result_type(float))
    return np.asarray(values, dtype=float)


def fit_length(series, t_len: int, pad: bool = True):
    """(k, T) -> (k, t_len): cut longer series; zero-pad shorter ones (or, with
    `pad=False`, leave them short)."""
    series = as_series(series)
    t = series.shape[1]
    if t >= t_len:
        return series if t == t_len else series[:, :t_len]
    if not pad:
        return series
    return _lib(series).pad(series, ((0, 0), (0, t_len - t)))


def join_rows(series_list, t_len: int, pad: bool = True):
    """Stack (k_i, T_i) series into (sum k_i, t_len), each fitted by `fit_length`."""
    fitted = [fit_length(s, t_len, pad) for s in series_list]
    if len(fitted) == 1:
        return fitted[0]
    return _lib(*fitted).concatenate(fitted, axis=0)
