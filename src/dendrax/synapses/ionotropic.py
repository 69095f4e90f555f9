"""Ionotropic (graded, conductance-based) synapse of Abbott & Marder (Jaxley 0.13 form)."""

from __future__ import annotations

from dendrax.checks.ranges import GATE, NON_NEGATIVE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp
from dendrax.synapses.synapse import Synapse, uses_presynaptic_drive

__all__ = ["IonotropicSynapse"]


@register(StandardModel(param="{name}_gS", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class IonotropicSynapse(Synapse):
    """Graded conductance synapse driven by the presynaptic voltage.

    `s_inf = 1 / (1 + exp((v_th - v_pre) / delta))`, `tau = (1 - s_inf) / k_minus` (ms),
    `s` advances by exponential Euler; current `I = gS * s * (v_post - e_syn)` (nA).

    Parameters: `_gS` 1e-4 µS, `_e_syn` 0 mV, `_k_minus` 0.025 1/ms, `_v_th` -35 mV,
    `_delta` 10 mV. State: `_s` 0.2.
    """

    #: Open fraction in [0, 1], conductance >= 0 (dendrax.checks).
    value_ranges = {"s": GATE, "gS": NON_NEGATIVE.with_unit("µS")}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.synapse_params = {
            f"{p}_gS": 1e-4,
            f"{p}_e_syn": 0.0,
            f"{p}_k_minus": 0.025,
            f"{p}_v_th": -35.0,
            f"{p}_delta": 10.0,
        }
        self.synapse_states = {f"{p}_s": 0.2}

    drive_params = ("v_th", "delta", "k_minus")

    def presynaptic_drive(self, pre_voltage, params, delta_t):
        """`s_inf` and the exponential-Euler decay `exp(-dt / tau)` at `pre_voltage`."""
        p = self._name
        s_inf = 1.0 / (1.0 + save_exp((params[f"{p}_v_th"] - pre_voltage) / params[f"{p}_delta"]))
        tau = (1.0 - s_inf) / params[f"{p}_k_minus"]
        return {"s_inf": s_inf, "decay": save_exp(-delta_t / tau)}

    def update_from_drive(self, states, drive, delta_t):
        p = self._name
        s, decay = states[f"{p}_s"], drive["decay"]
        return {f"{p}_s": s * decay + drive["s_inf"] * (1.0 - decay)}

    @uses_presynaptic_drive
    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        drive = self.presynaptic_drive(pre_voltage, params, delta_t)
        return self.update_from_drive(states, drive, delta_t)

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self._name
        return params[f"{p}_gS"] * states[f"{p}_s"] * (post_voltage - params[f"{p}_e_syn"])
