"""`ConductanceSynapse`: graded conductance synapse (Jaxley 1.0 call convention)."""

from __future__ import annotations

import jax

from dendrax.checks.ranges import NON_NEGATIVE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.synapses.current import CurrentSynapse

__all__ = ["ConductanceSynapse"]


@register(StandardModel(param="{name}_gS", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class ConductanceSynapse(CurrentSynapse):
    """`I = gS * f((v_pre - v_th) / delta) * (v_post - e_syn_pre)` (nA).

    The reversal potential `_e_syn` (mV, default 0) is a node parameter of the presynaptic
    compartment (Dale's law). Synapse parameters: `_gS` 1e-4 µS, `_v_th` -35 mV, `_delta`
    10 mV. No states.
    """

    #: A conductance: >= 0 (dendrax.checks).
    value_ranges = {"gS": NON_NEGATIVE.with_unit("µS")}

    def __init__(self, nonlinearity=jax.nn.sigmoid, name: str | None = None):
        super().__init__(nonlinearity, name)
        self.node_params = {f"{self._name}_e_syn": 0.0}

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
        e_syn = pre_params[f"{self._name}_e_syn"]
        return self._drive(synapse_params, pre_voltage) * (post_voltage - e_syn)
