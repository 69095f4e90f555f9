"""Pospischil et al. (2008) slow M-type potassium channel (Jaxley 0.13/0.14 `Km`)."""

from __future__ import annotations

from dendrax.channels._pospischil import boltzmann
from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_inf_gate_exponential

__all__ = ["Km"]


def p_gate(v, taumax):
    """Steady state `p_inf` (1) and time constant `tau_p` (ms) at voltage `v` (mV)."""
    vp = v + 35.0
    p_inf = boltzmann(-0.1 * vp)
    tau_p = taumax / (3.3 * save_exp(0.05 * vp) + save_exp(-0.05 * vp))
    return p_inf, tau_p


# The default gKm (4e-6 S/cm²) barely moves v in 5 ms; 1e-3 makes the gradient well above
# finite-difference round-off.
@register(
    StandardModel(param="{name}_gKm", with_mechanisms=("Leak",), settings=(("{name}_gKm", 1e-3),))
)
class Km(Channel):
    """Slow non-inactivating potassium current `i_K = gKm p (v - eK)`.

    Parameters: `Km_gKm` 4e-6 S/cm², `Km_taumax` 4000 ms; shared (unprefixed) `eK` -90 mV.
    State: `Km_p` (start 0.2), advanced by exponential Euler towards `p_inf` with `tau_p`.
    Current name `i_K` (shared with `K`), mA/cm², outward positive.

    `init_state` reproduces Jaxley 0.13/0.14 for compatibility: it returns
    `p_inf / (p_inf + tau_p)` (the gate's alpha/beta formula applied to its steady state
    and time constant), **not** the true steady state `p_inf`. Set `Km_p` explicitly (or
    use `Km.steady_state`) for a true resting state.
    """

    value_ranges = {"p": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_gKm": 0.004e-3, f"{p}_taumax": 4000.0, "eK": -90.0}
        self.channel_states = {f"{p}_p": 0.2}
        self.current_name = "i_K"

    def update_states(self, states, dt, v, params):
        p = self._name
        p_inf, tau = p_gate(v, params[f"{p}_taumax"])
        return {f"{p}_p": solve_inf_gate_exponential(states[f"{p}_p"], dt, p_inf, tau)}

    def compute_current(self, states, v, params):
        p = self._name
        return params[f"{p}_gKm"] * states[f"{p}_p"] * (v - params["eK"])

    def init_state(self, states, v, params, delta_t):
        """Jaxley-compatible (quirky) initial gate: `p_inf / (p_inf + tau_p)`."""
        p_inf, tau = p_gate(v, params[f"{self._name}_taumax"])
        return {f"{self._name}_p": p_inf / (p_inf + tau)}

    def steady_state(self, v, params):
        """The true steady state `{Km_p: p_inf(v)}` (not what `init_state` returns)."""
        return {f"{self._name}_p": p_gate(v, params[f"{self._name}_taumax"])[0]}
