"""Pospischil et al. (2008) high-threshold L-type calcium channel (Jaxley 0.13/0.14 `CaL`)."""

from __future__ import annotations

from dendrax.channels._pospischil import efun
from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_gate_exponential

__all__ = ["CaL"]


def q_gate(v):
    """Activation rates (1/ms) at voltage `v` (mV)."""
    alpha = 0.055 * efun((-v - 27.0) / 3.8) * 3.8
    beta = 0.94 * save_exp((-v - 75.0) / 17.0)
    return alpha, beta


def r_gate(v):
    """Inactivation rates (1/ms) at voltage `v` (mV)."""
    alpha = 0.000457 * save_exp((-v - 13.0) / 50.0)
    beta = 0.0065 / (save_exp((-v - 15.0) / 28.0) + 1.0)
    return alpha, beta


@register(StandardModel(param="{name}_gCaL", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class CaL(Channel):
    """L-type calcium current `i_Ca = gCaL q² r (v - eCa)` (Pospischil et al. 2008).

    Parameters: `CaL_gCaL` 1e-4 S/cm²; shared (unprefixed) `eCa` 120 mV (also read by
    `CaT`; made dynamic by inserting `dendrax.pumps.CaNernstReversal`). States: `CaL_q`,
    `CaL_r` (start 0.2), exponential Euler. Current name `i_Ca`, mA/cm², outward positive.
    """

    value_ranges = {"q": GATE, "r": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_gCaL": 0.1e-3, "eCa": 120.0}
        self.channel_states = {f"{p}_q": 0.2, f"{p}_r": 0.2}
        self.current_name = "i_Ca"

    def update_states(self, states, dt, v, params):
        p = self._name
        q = solve_gate_exponential(states[f"{p}_q"], dt, *q_gate(v))
        r = solve_gate_exponential(states[f"{p}_r"], dt, *r_gate(v))
        return {f"{p}_q": q, f"{p}_r": r}

    def compute_current(self, states, v, params):
        p = self._name
        g = params[f"{p}_gCaL"] * states[f"{p}_q"] ** 2 * states[f"{p}_r"]
        return g * (v - params["eCa"])

    def init_state(self, states, v, params, delta_t):
        p = self._name
        out = {}
        for gate, rates in (("q", q_gate), ("r", r_gate)):
            alpha, beta = rates(v)
            out[f"{p}_{gate}"] = alpha / (alpha + beta)
        return out
