"""`SpikeSynapse`: exponentially decaying synapse driven by presynaptic `Fire` spikes."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.synapses.synapse import Synapse

__all__ = ["SpikeSynapse"]


# The presynaptic Leak + Fire cell spikes; the postsynaptic one stays subthreshold.
@register(
    StandardModel(
        param="{name}_gS",
        with_mechanisms=("Leak", "Fire"),
        stimulus=(0.02, 0.5, 3.0),
        grad_rtol=1e-3,
        grad_note="the postsynaptic Fire stays subthreshold, but its surrogate derivative adds "
        "~6e-5 to the gradient",
    )
)
class SpikeSynapse(Synapse):
    """Reads the presynaptic node state `Fire_spikes` (1.0 at a spike, from the `Fire`
    channel; the surrogate gradient of the spike flows through it):

    `s <- spike + (1 - spike) * (s - s_decay * s * dt)`, `I = gS * s` (nA, outward
    positive: a negative `gS` excites).

    Parameters: `_gS` 1e-4, `_s_decay` 10 (1/ms per unit s). State: `_s` 0. Presynaptic
    compartments without `Fire` never drive the synapse.
    """

    def __init__(self, name: str | None = None, spike_state: str = "Fire_spikes"):
        super().__init__(name)
        p = self._name
        self.spike_state = spike_state
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_s_decay": 10.0}
        self.synapse_states = {f"{p}_s": 0.0}

    def _spike(self, pre_states):
        spike = jnp.asarray(pre_states.get(self.spike_state, 0.0))
        return jnp.where(jnp.isnan(spike), 0.0, spike)  # NaN: no Fire channel there

    def update_states(
        self,
        synapse_states,
        synapse_params,
        pre_voltage,
        post_voltage,
        pre_states,
        post_states,
        pre_params,
        post_params,
        delta_t,
    ):
        p = self._name
        s = synapse_states[f"{p}_s"]
        spike = self._spike(pre_states)
        decayed = s - synapse_params[f"{p}_s_decay"] * s * delta_t
        return {f"{p}_s": spike + (1.0 - spike) * decayed}

    def compute_current(
        self,
        synapse_states,
        synapse_params,
        pre_voltage,
        post_voltage,
        pre_states,
        post_states,
        pre_params,
        post_params,
        delta_t,
    ):
        p = self._name
        return synapse_params[f"{p}_gS"] * synapse_states[f"{p}_s"] + 0.0 * post_voltage
