"""`CurrentSynapse`: graded current-based synapse (Jaxley 1.0 call convention)."""

from __future__ import annotations

import jax

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.synapses.synapse import Synapse

__all__ = ["CurrentSynapse"]


@register(StandardModel(param="{name}_gS", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class CurrentSynapse(Synapse):
    """`I = -gS * f((v_pre - v_th) / delta)` (nA), `f` the nonlinearity (default sigmoid).

    Parameters: `_gS` 1e-4 (nA per unit of f), `_v_th` -35 mV, `_delta` 10 mV. No states.
    """

    def __init__(self, nonlinearity=jax.nn.sigmoid, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.nonlinearity = nonlinearity
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_v_th": -35.0, f"{p}_delta": 10.0}
        self.synapse_states = {}

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
        return {}

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
        return -self._drive(synapse_params, pre_voltage) + 0.0 * post_voltage

    def _drive(self, synapse_params, pre_voltage):
        """`gS * f((v_pre - v_th) / delta)`, shared with `ConductanceSynapse`."""
        p = self._name
        x = (pre_voltage - synapse_params[f"{p}_v_th"]) / synapse_params[f"{p}_delta"]
        return synapse_params[f"{p}_gS"] * self.nonlinearity(x)
