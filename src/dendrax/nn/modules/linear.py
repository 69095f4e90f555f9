"""Linear (weight matrix) layer, Rockpool's ``LinearJax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from dendrax.nn.modules.base import Module, default_rng_key

__all__ = ["Linear", "LinearJax", "kaiming", "uniform_sqrt"]


def kaiming(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Kaiming/He uniform init: ``U(-sqrt(6/N_in), +sqrt(6/N_in))`` for ``shape=(N_in, N_out)``."""
    lim = np.sqrt(6.0 / shape[0])
    return rng.uniform(-lim, lim, size=shape)


def uniform_sqrt(rng: np.random.Generator, shape: tuple[int, ...], n_in: int) -> np.ndarray:
    """Bias init ``U(-sqrt(1/N_in), +sqrt(1/N_in))``."""
    lim = np.sqrt(1.0 / n_in)
    return rng.uniform(-lim, lim, size=shape)


class Linear(Module):
    """Instantaneous linear map ``y = x @ W (+ b)``; stateless.

    Args:
        shape: ``(N_in, N_out)``.
        weight: ``(N_in, N_out)`` initial weights (dimensionless); default ``kaiming``.
        bias: ``(N_out,)`` initial bias; only used with ``has_bias=True``.
        has_bias: whether to include a trainable bias (family ``"biases"``).
        weight_init_func: ``f(rng, shape) -> array`` (``rng``: numpy Generator), used when
            ``weight`` is None.
        bias_init_func: ``f(rng, shape, n_in) -> array`` used when ``bias`` is None.
        rng_key: JAX key or int seed for initialisation (None: drawn from ``np.random``).
    """

    def __init__(
        self,
        shape: Any,
        weight: Any = None,
        bias: Any = None,
        has_bias: bool = False,
        weight_init_func: Callable = kaiming,
        bias_init_func: Callable = uniform_sqrt,
        rng_key: Any = None,
        spiking_input: bool = False,
        spiking_output: bool = False,
    ):
        super().__init__(shape, spiking_input=spiking_input, spiking_output=spiking_output)
        if len(self.shape) != 2:
            raise ValueError(f"Linear needs shape (N_in, N_out), got {self.shape}")
        _, rng = default_rng_key(rng_key)
        if weight is None:
            weight = weight_init_func(rng, self.shape)
        self._register("parameter", "weight", weight, family="weights", shape=self.shape)
        if has_bias:
            if bias is None:
                bias = bias_init_func(rng, (self.size_out,), self.size_in)
            self._register("parameter", "bias", bias, family="biases", shape=(self.size_out,))
        self._set_static(has_bias=bool(has_bias))

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        # A 2-D matmul over (batch * time, N_in): XLA's CPU path for it beats a 3-D dot.
        flat = x.reshape(-1, x.shape[-1]) @ self.weight
        y = flat.reshape(x.shape[:-1] + (self.weight.shape[-1],))
        if self._static["has_bias"]:
            y = y + self.bias
        return y, {}, {}


class LinearJax(Linear):
    """Rockpool name for :class:`Linear` (identical; keeps Rockpool's submodule names)."""
