"""`Fire`: threshold-and-reset spiking mechanism with a surrogate gradient (Jaxley 1.0)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import heaviside

__all__ = ["Fire"]


@register(
    StandardModel(
        param="Leak_gLeak",
        with_mechanisms=("Leak",),
        stimulus=(0.001, 0.5, 3.0),
        grad_rtol=2e-2,
        grad_note="subthreshold, but the surrogate dH/dv = 1/(10|v - vth| + 1)^2 is nonzero "
        "below threshold and adds ~5e-3 to the gradient; Fire's own parameters act only "
        "through spikes, which finite differences cannot see",
    )
)
class Fire(Channel):
    """Resets `v` to `vreset` where `v >= vth` at the start of a step; with `Leak` it makes a
    leaky integrate-and-fire neuron.

    `H = heaviside(v - vth)` (1 at equality), `v <- v (1 - H) + vreset H`, `Fire_spikes = H`.
    The backward pass replaces dH/dv by `1 / (10 |v - vth| + 1)**2` (surrogate gradient).
    The reset happens before the voltage solve, so leak and inputs still act in that step.

    Parameters: `Fire_vth` -50 mV, `Fire_vreset` -70 mV. State: `Fire_spikes` 0 (1.0 in the
    step that spiked). No current (`Fire_fire` is always 0).
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_vth": -50.0, f"{p}_vreset": -70.0}
        self.channel_states = {f"{p}_spikes": 0.0}
        self.current_name = f"{p}_fire"

    def update_states(self, states, dt, v, params):
        p = self._name
        spike = heaviside(v - params[f"{p}_vth"])
        v_new = v * (1.0 - spike) + params[f"{p}_vreset"] * spike
        return {"v": v_new, f"{p}_spikes": spike}

    def compute_current(self, states, v, params):
        return jnp.zeros_like(v)
