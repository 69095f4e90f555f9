"""`Rate`: a leaky rate unit whose voltage decays to 0 (non-capacitive; writes `v`)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import exponential_euler

__all__ = ["Rate"]


@register(StandardModel(param="{name}_tau"))
class Rate(Channel):
    """`tau dv/dt = -v`, advanced exactly (exponential Euler) at the start of each step;
    inputs (stimuli, synapses, axial currents) are then added by the voltage solve. With
    `radius = 1` µm and `length = 1 / (2π·1e-5)` µm (area 1e5 µm²), 1 nA of input adds
    1 unit/ms at `capacitance = 1`.

    Parameter: `Rate_tau` 1 ms. No states, no current.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_params = {f"{self._name}_tau": 1.0}
        self.channel_states = {}
        self.current_name = f"i_{self._name}"

    def update_states(self, states, dt, v, params):
        return {"v": exponential_euler(v, dt, 0.0, params[f"{self._name}_tau"])}

    def compute_current(self, states, v, params):
        return jnp.zeros_like(v)
