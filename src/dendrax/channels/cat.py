"""Pospischil et al. (2008) low-threshold T-type calcium channel (Jaxley 0.13/0.14 `CaT`)."""

from __future__ import annotations

from dendrax.channels._pospischil import boltzmann
from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_inf_gate_exponential

__all__ = ["CaT"]


def s_inf(v, vx):
    """Instantaneous activation `s_inf` (1) at voltage `v` (mV), shift `vx` (mV)."""
    return boltzmann(-(v + vx + 57.0) / 6.2)


def u_gate(v, vx):
    """Inactivation steady state `u_inf` (1) and time constant `tau_u` (ms).

    `tau_u = (30.8 + 211.4 + exp((v+vx+113.2)/5)) / (3.7 (1 + exp((v+vx+84)/3.2)))`,
    exactly as Jaxley 0.13/0.14 writes it (Pospischil's paper keeps 30.8 outside the
    fraction; Jaxley's grouping is reproduced for compatibility).
    """
    u_inf = boltzmann((v + vx + 81.0) / 4.0)
    tau_u = (30.8 + (211.4 + save_exp((v + vx + 113.2) / 5.0))) / (
        3.7 * (1.0 + save_exp((v + vx + 84.0) / 3.2))
    )
    return u_inf, tau_u


@register(StandardModel(param="{name}_gCaT", with_mechanisms=("Leak",)))
class CaT(Channel):
    """T-type calcium current `i_Ca = gCaT s_inf(v)² u (v - eCa)` (Pospischil et al. 2008).

    Parameters: `CaT_gCaT` 4e-5 S/cm², `CaT_vx` 2 mV; shared (unprefixed) `eCa` 120 mV.
    State: `CaT_u` (start 0.2), exponential Euler towards `u_inf` with `tau_u`; activation
    `s_inf` is instantaneous. Current name `i_Ca`, mA/cm², outward positive.

    `init_state` reproduces Jaxley 0.13/0.14 for compatibility: it returns
    `u_inf / (u_inf + tau_u)`, **not** the true steady state `u_inf` (see
    `CaT.steady_state`).
    """

    value_ranges = {"u": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_gCaT": 0.4e-4, f"{p}_vx": 2.0, "eCa": 120.0}
        self.channel_states = {f"{p}_u": 0.2}
        self.current_name = "i_Ca"

    def update_states(self, states, dt, v, params):
        p = self._name
        u_inf, tau = u_gate(v, params[f"{p}_vx"])
        return {f"{p}_u": solve_inf_gate_exponential(states[f"{p}_u"], dt, u_inf, tau)}

    def compute_current(self, states, v, params):
        p = self._name
        s = s_inf(v, params[f"{p}_vx"])
        return params[f"{p}_gCaT"] * s**2 * states[f"{p}_u"] * (v - params["eCa"])

    def init_state(self, states, v, params, delta_t):
        """Jaxley-compatible (quirky) initial gate: `u_inf / (u_inf + tau_u)`."""
        u_inf, tau = u_gate(v, params[f"{self._name}_vx"])
        return {f"{self._name}_u": u_inf / (u_inf + tau)}

    def steady_state(self, v, params):
        """The true steady state `{CaT_u: u_inf(v)}` (not what `init_state` returns)."""
        return {f"{self._name}_u": u_gate(v, params[f"{self._name}_vx"])[0]}
