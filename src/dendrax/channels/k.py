"""Pospischil et al. (2008) delayed-rectifier potassium channel (Jaxley 0.13/0.14 `K`)."""

from __future__ import annotations

from dendrax.channels._pospischil import efun
from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_gate_exponential

__all__ = ["K"]


def n_gate(v, vt):
    """Activation rates (1/ms) at voltage `v` (mV) with threshold shift `vt` (mV)."""
    alpha = 0.032 * efun(-0.2 * (v - vt - 15.0)) / 0.2
    beta = 0.5 * save_exp(-(v - vt - 10.0) / 40.0)
    return alpha, beta


@register(StandardModel(param="{name}_gK", with_mechanisms=("Leak",)))
class K(Channel):
    """Delayed-rectifier potassium current `i_K = gK n⁴ (v - eK)` (Pospischil et al. 2008).

    Parameters: `K_gK` 5e-3 S/cm²; shared (unprefixed) `eK` -90 mV (also read by `Km`) and
    `vt` -60 mV (also read by `Na`). State: `K_n` (start 0.2), exponential Euler. Current
    name `i_K` (shared with `Km`), mA/cm², outward positive.
    """

    value_ranges = {"n": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_gK": 5e-3, "eK": -90.0, "vt": -60.0}
        self.channel_states = {f"{p}_n": 0.2}
        self.current_name = "i_K"

    def update_states(self, states, dt, v, params):
        p = self._name
        return {f"{p}_n": solve_gate_exponential(states[f"{p}_n"], dt, *n_gate(v, params["vt"]))}

    def compute_current(self, states, v, params):
        p = self._name
        return params[f"{p}_gK"] * states[f"{p}_n"] ** 4 * (v - params["eK"])

    def init_state(self, states, v, params, delta_t):
        alpha, beta = n_gate(v, params["vt"])
        return {f"{self._name}_n": alpha / (alpha + beta)}
