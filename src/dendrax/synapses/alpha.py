"""`AlphaSynapse`: rise/decay cascade driven by a binary presynaptic signal (Jaxley 1.0)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.checks.ranges import NON_NEGATIVE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.synapses.synapse import Synapse

__all__ = ["AlphaSynapse"]


# Rate units starting at 0: the presynaptic "voltage" is a non-negative rate, as the
# synapse expects (a -70 mV input would accumulate without bound).
@register(
    StandardModel(
        param="{name}_gS",
        with_mechanisms=("Rate",),
        settings=(("v", 0.0), ("{name}_e_syn", 5.0)),
    )
)
class AlphaSynapse(Synapse):
    """Two-state cascade `r -> s`, meant for presynaptic compartments clamped to a binary
    spike train (`v_pre` = 1 at a spike, 0 otherwise):

    `dr/dt = -r / tau_rise + v_pre / dt`, `ds/dt = -s / tau_decay + r / tau_rise`
    (each spike adds 1 to `r`; both decay exactly over a step), and
    `I = gS * s * (v_post - e_syn_pre)` (nA).

    Parameters: `_gS` 1e-4 µS, `_tau_rise` 10 ms, `_tau_decay` 10 ms; node parameter `_e_syn`
    0 mV (presynaptic compartment). States: `_r` 0, `_s` 0.
    """

    #: A conductance: >= 0 (dendrax.checks).
    value_ranges = {"gS": NON_NEGATIVE.with_unit("µS")}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_tau_rise": 10.0, f"{p}_tau_decay": 10.0}
        self.synapse_states = {f"{p}_r": 0.0, f"{p}_s": 0.0}
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
        tau_r, tau_d = synapse_params[f"{p}_tau_rise"], synapse_params[f"{p}_tau_decay"]
        r = synapse_states[f"{p}_r"] * jnp.exp(-delta_t / tau_r) + pre_voltage
        s = synapse_states[f"{p}_s"] * jnp.exp(-delta_t / tau_d) + delta_t * r / tau_r
        return {f"{p}_r": r, f"{p}_s": s}

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
