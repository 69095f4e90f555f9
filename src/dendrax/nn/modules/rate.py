"""Non-spiking rate neurons with forward-Euler dynamics, Rockpool's ``RateJax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.nn.modules.base import Module, batch_state, default_rng_key, scan_time

__all__ = ["Rate", "RateJax", "H_ReLU", "H_tanh", "H_sigmoid", "unit_eigs"]


def H_ReLU(x: jax.Array, threshold: jax.Array) -> jax.Array:
    """``(x - threshold) * [x > threshold]``."""
    return jnp.where(x > threshold, x - threshold, 0.0)


def H_tanh(x: jax.Array, threshold: jax.Array) -> jax.Array:
    """``tanh(x - threshold)``."""
    return jnp.tanh(x - threshold)


def H_sigmoid(x: jax.Array, threshold: jax.Array) -> jax.Array:
    """``(tanh(x - threshold) + 1) / 2``."""
    return (jnp.tanh(x - threshold) + 1.0) / 2.0


_ACTIVATIONS = {"relu": H_ReLU, "tanh": H_tanh, "sigmoid": H_sigmoid}


def unit_eigs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Recurrent weights ``N(0, 1) / sqrt(N)`` (eigenvalues roughly in the unit disc)."""
    return rng.standard_normal(shape) / np.sqrt(shape[0])


class Rate(Module):
    """Leaky rate units integrated with forward Euler.

    Per time step ``dt``::

        x <- x + dt / tau * (-x + i + noise + bias + H(x_prev, threshold) @ w_rec)
        y  = H(x, threshold)

    with input noise ``noise_std * sqrt(dt) * N(0, 1)``.

    Args:
        shape: ``(N,)``.
        tau: time constants (s), scalar or ``(N,)``; default 20 ms (family ``"taus"``).
        bias: ``(N,)`` bias (family ``"biases"``).
        threshold: ``(N,)`` activation threshold (family ``"thresholds"``).
        w_rec: ``(N, N)`` recurrent weights; implies ``has_rec=True``.
        has_rec: include trainable recurrent weights.
        weight_init_func: ``f(rng, (N, N))`` (numpy Generator) used for ``w_rec`` when not given.
        activation_func: ``"ReLU"``, ``"tanh"``, ``"sigmoid"`` or a callable ``H(x, threshold)``.
        noise_std: input noise level (state units / sqrt(s)).
        dt: time step (s).
        rng_key: JAX key or int seed (None: drawn from ``np.random``).

    State: ``x`` ``(N,)`` and ``rng_key``. Record: ``rec_input`` and ``x``, ``(batch, T, N)``.
    """

    def __init__(
        self,
        shape: Any,
        tau: Any = 20e-3,
        bias: Any = 0.0,
        threshold: Any = 0.0,
        w_rec: Any = None,
        weight_init_func: Callable = unit_eigs,
        has_rec: bool = False,
        activation_func: str | Callable = "ReLU",
        noise_std: float = 0.0,
        dt: float = 1e-3,
        rng_key: Any = None,
    ):
        super().__init__(shape)
        if len(self.shape) == 2 and self.shape[0] != self.shape[1]:
            raise ValueError(f"Rate needs N_in == N_out, got shape {self.shape}")
        n = self.size_out
        if isinstance(activation_func, str):
            if activation_func.lower() not in _ACTIVATIONS:
                raise ValueError(
                    f"unknown activation_func {activation_func!r}; use 'ReLU', 'tanh', "
                    "'sigmoid' or a callable H(x, threshold)"
                )
            activation_func = _ACTIVATIONS[activation_func.lower()]
        elif not callable(activation_func):
            raise TypeError("activation_func must be a string or a callable H(x, threshold)")
        key, rng = default_rng_key(rng_key)
        self._register("parameter", "tau", tau, family="taus", shape=(n,))
        self._register("parameter", "bias", bias, family="biases", shape=(n,))
        self._register("parameter", "threshold", threshold, family="thresholds", shape=(n,))
        has_rec = bool(has_rec or w_rec is not None)
        if has_rec:
            if w_rec is None:
                w_rec = weight_init_func(rng, (n, n))
            self._register("parameter", "w_rec", w_rec, family="weights", shape=(n, n))
        self._register("simulation", "dt", dt, shape=())
        self._register("simulation", "noise_std", noise_std, shape=())
        self._register("state", "x", 0.0, shape=(n,))
        self._register("state", "rng_key", key, dtype=jnp.uint32)
        self._set_static(has_rec=has_rec, activation=activation_func)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        batch, t_steps, n = x.shape
        key, sub = jax.random.split(self.rng_key)
        noise = self.noise_std * jnp.sqrt(self.dt) * jax.random.normal(sub, x.shape, x.dtype)
        act = self._static["activation"]
        has_rec = self._static["has_rec"]
        w_rec = self.w_rec if has_rec else None
        alpha = self.dt / self.tau

        def step(state, inp):
            i_t, n_t = inp
            rec = act(state, self.threshold) @ w_rec if has_rec else jnp.zeros_like(state)
            state = state + alpha * (-state + i_t + n_t + self.bias + rec)
            return state, (act(state, self.threshold), rec, state)

        x_final, (out, rec_in, xs) = scan_time(step, batch_state(self.x, batch), (x, noise))
        new_state = {"x": x_final[0], "rng_key": key}
        rec = {"rec_input": rec_in, "x": xs} if record else {}
        return out, new_state, rec


class RateJax(Rate):
    """Rockpool name for :class:`Rate` (identical; keeps Rockpool's submodule names)."""
