"""Conductance-based graded synapse with a tanh activation (Jaxley 0.13)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.checks.ranges import NON_NEGATIVE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.synapses.synapse import Synapse

__all__ = ["TanhConductanceSynapse"]


@register(StandardModel(param="{name}_gS", with_mechanisms=("Leak",)))
class TanhConductanceSynapse(Synapse):
    """`I = tanh((v_pre - x_offset) * slope) * gS * (v_post - e_syn)` (nA).

    Parameters: `_gS` 1e-4 µS, `_e_syn` 0 mV, `_x_offset` -70 mV, `_slope` 1 1/mV.
    No states.
    """

    #: A conductance: >= 0 (dendrax.checks).
    value_ranges = {"gS": NON_NEGATIVE.with_unit("µS")}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.synapse_params = {
            f"{p}_gS": 1e-4,
            f"{p}_e_syn": 0.0,
            f"{p}_x_offset": -70.0,
            f"{p}_slope": 1.0,
        }
        self.synapse_states = {}

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        return {}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self._name
        activation = jnp.tanh((pre_voltage - params[f"{p}_x_offset"]) * params[f"{p}_slope"])
        return activation * params[f"{p}_gS"] * (post_voltage - params[f"{p}_e_syn"])
