"""`DynamicSynapse`: first-order conductance synapse (Jaxley 1.0 call convention)."""

from __future__ import annotations

import jax

from dendrax.checks.ranges import NON_NEGATIVE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import exponential_euler
from dendrax.synapses.synapse import Synapse

__all__ = ["DynamicSynapse"]


@register(StandardModel(param="{name}_gS", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class DynamicSynapse(Synapse):
    """`tau ds/dt = f((v_pre - v_th) / delta) - s` (exponential Euler);
    `I = gS * s * (v_post - e_syn_pre)` (nA).

    Parameters: `_gS` 1e-4 µS, `_tau` 5 ms, `_v_th` -35 mV, `_delta` 10 mV; node parameter
    `_e_syn` 0 mV (presynaptic compartment). State: `_s` 0.
    """

    #: A conductance: >= 0 (dendrax.checks).
    value_ranges = {"gS": NON_NEGATIVE.with_unit("µS")}

    def __init__(self, nonlinearity=jax.nn.sigmoid, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.nonlinearity = nonlinearity
        self.synapse_params = {
            f"{p}_gS": 1e-4,
            f"{p}_tau": 5.0,
            f"{p}_v_th": -35.0,
            f"{p}_delta": 10.0,
        }
        self.synapse_states = {f"{p}_s": 0.0}
        self.node_params = {f"{p}_e_syn": 0.0}

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
        x = (pre_voltage - synapse_params[f"{p}_v_th"]) / synapse_params[f"{p}_delta"]
        s = exponential_euler(
            synapse_states[f"{p}_s"], delta_t, self.nonlinearity(x), synapse_params[f"{p}_tau"]
        )
        return {f"{p}_s": s}

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
        g = synapse_params[f"{p}_gS"] * synapse_states[f"{p}_s"]
        return g * (post_voltage - pre_params[f"{p}_e_syn"])
