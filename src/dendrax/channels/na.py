"""Pospischil et al. (2008) fast sodium channel (Jaxley 0.13/0.14 `Na`)."""

from __future__ import annotations

from dendrax.channels._pospischil import efun
from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_gate_exponential

__all__ = ["Na"]


def m_gate(v, vt):
    """Activation rates (1/ms) at voltage `v` (mV) with threshold shift `vt` (mV)."""
    v_alpha = v - vt - 13.0
    alpha = 0.32 * efun(-0.25 * v_alpha) / 0.25
    v_beta = v - vt - 40.0
    beta = 0.28 * efun(0.2 * v_beta) / 0.2
    return alpha, beta


def h_gate(v, vt):
    """Inactivation rates (1/ms) at voltage `v` (mV) with threshold shift `vt` (mV)."""
    alpha = 0.128 * save_exp(-(v - vt - 17.0) / 18.0)
    beta = 4.0 / (save_exp(-(v - vt - 40.0) / 5.0) + 1.0)
    return alpha, beta


# With K and Leak, as in Pospischil's cells; the stimulus elicits a spike.
@register(
    StandardModel(param="{name}_gNa", with_mechanisms=("K", "Leak"), stimulus=(0.02, 0.5, 3.0))
)
class Na(Channel):
    """Fast sodium current `i_Na = gNa m³ h (v - eNa)` (Pospischil et al. 2008).

    Parameters: `Na_gNa` 0.05 S/cm²; shared (unprefixed) `eNa` 50 mV and `vt` -60 mV
    (`vt` is also read by `K`). States: `Na_m`, `Na_h` (start 0.2). Gates are advanced by
    exponential Euler. Current name `i_Na`, mA/cm², outward positive.
    """

    value_ranges = {"m": GATE, "h": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_gNa": 50e-3, "eNa": 50.0, "vt": -60.0}
        self.channel_states = {f"{p}_m": 0.2, f"{p}_h": 0.2}
        self.current_name = "i_Na"

    def update_states(self, states, dt, v, params):
        p = self._name
        m = solve_gate_exponential(states[f"{p}_m"], dt, *m_gate(v, params["vt"]))
        h = solve_gate_exponential(states[f"{p}_h"], dt, *h_gate(v, params["vt"]))
        return {f"{p}_m": m, f"{p}_h": h}

    def compute_current(self, states, v, params):
        p = self._name
        g = params[f"{p}_gNa"] * states[f"{p}_m"] ** 3 * states[f"{p}_h"]
        return g * (v - params["eNa"])

    def init_state(self, states, v, params, delta_t):
        p = self._name
        out = {}
        for gate, rates in (("m", m_gate), ("h", h_gate)):
            alpha, beta = rates(v, params["vt"])
            out[f"{p}_{gate}"] = alpha / (alpha + beta)
        return out
