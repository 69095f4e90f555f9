"""`Izhikevich`: the two-variable spiking model (non-capacitive; writes `v` itself)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import exponential_euler, heaviside

__all__ = ["Izhikevich"]


@register(
    StandardModel(
        param="{name}_a",
        grad_rtol=1e-2,
        grad_note="subthreshold, but the surrogate spike derivative (nonzero below 30 mV) adds "
        "~1.4e-3 to the gradient",
    )
)
class Izhikevich(Channel):
    """`du/dt = a (b v - u)` (exponential Euler, time constant 1/a ms), then
    `dv/dt = 0.04 v² + 5 v + 140 - u` (forward Euler with the updated u, as in Jaxley);
    where the new `v >= 30` mV: `v <- c`, `u <- u + d`.

    The reset uses `heaviside` (same forward values as a hard reset) with the surrogate
    derivative `1 / (10 |v - 30| + 1)**2`, so gradients flow through spikes. Injected
    currents still enter through the voltage solve (1 nA adds `1e5 / area` µA/cm²).

    Parameters: `_a` 0.02 1/ms, `_b` 0.2, `_c` -65 mV, `_d` 8 mV/ms. State: `_u` 0
    (`init_states` sets `u = b v`). No current.
    """

    v_peak = 30.0  # mV

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {f"{p}_a": 0.02, f"{p}_b": 0.2, f"{p}_c": -65.0, f"{p}_d": 8.0}
        self.channel_states = {f"{p}_u": 0.0}
        self.current_name = f"i_{p}"

    def update_states(self, states, dt, v, params):
        p = self._name
        a, b, c, d = (params[f"{p}_{k}"] for k in "abcd")
        u = states[f"{p}_u"]
        # Jaxley's order: u first (toward b v of the old v), then v with the new u. At
        # dt = 0.1 ms this is slightly closer to the dt -> 0 solution than stepping v with
        # the old u (tests/mechanisms/test_izhikevich_order.py).
        u_new = exponential_euler(u, dt, b * v, 1.0 / a)
        v_new = v + dt * (0.04 * v**2 + 5.0 * v + 140.0 - u_new)
        spike = heaviside(v_new - self.v_peak)
        return {"v": v_new * (1.0 - spike) + c * spike, f"{p}_u": u_new + d * spike}

    def compute_current(self, states, v, params):
        return jnp.zeros_like(v)

    def init_state(self, states, v, params, delta_t):
        return {f"{self._name}_u": params[f"{self._name}_b"] * v}
