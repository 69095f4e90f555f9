"""Passive leak channel (Jaxley 0.13/0.14 `Leak`)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.mechanisms_registry import StandardModel, register

__all__ = ["Leak"]


@register(StandardModel(param="{name}_gLeak"))
class Leak(Channel):
    """Ohmic leak `i = gLeak (v - eLeak)`.

    Parameters: `Leak_gLeak` 1e-4 S/cm², `Leak_eLeak` -70 mV. No states. Current `i_Leak`
    in mA/cm², outward positive.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_params = {f"{self._name}_gLeak": 1e-4, f"{self._name}_eLeak": -70.0}
        self.channel_states = {}
        self.current_name = f"i_{self._name}"

    def update_states(self, states, dt, v, params):
        return {}

    def compute_current(self, states, v, params):
        p = self._name
        return params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])

    def current_slope(self, states, v, params):
        """dI/dv of `compute_current` (mA/cm²/mV): the leak conductance."""
        return params[f"{self._name}_gLeak"] * jnp.ones_like(v)
