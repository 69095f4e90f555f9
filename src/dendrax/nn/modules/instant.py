"""Instantaneous element-wise nonlinearity, Rockpool's ``InstantJax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from dendrax.nn.modules.base import Module

__all__ = ["Instant", "InstantJax"]


def _identity(x: jax.Array) -> jax.Array:
    return x


class Instant(Module):
    """Apply ``function`` element-wise to the (batched) input; stateless, no parameters.

    Args:
        shape: ``(N,)`` (input and output size).
        function: JAX-traceable callable, e.g. ``jax.numpy.tanh`` (default: identity). It is
            static: changing it recompiles.
    """

    def __init__(
        self,
        shape: Any,
        function: Callable = _identity,
        spiking_input: bool = False,
        spiking_output: bool = False,
    ):
        super().__init__(shape, spiking_input=spiking_input, spiking_output=spiking_output)
        if not callable(function):
            raise TypeError(f"Instant: function must be callable, got {type(function).__name__}")
        if len(self.shape) == 2 and self.shape[0] != self.shape[1]:
            raise ValueError(f"Instant needs N_in == N_out, got shape {self.shape}")
        self._set_static(function=function)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        return self._static["function"](x), {}, {}


class InstantJax(Instant):
    """Rockpool name for :class:`Instant` (identical; keeps Rockpool's submodule names)."""
