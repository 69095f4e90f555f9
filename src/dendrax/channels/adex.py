"""`AdEx`: adaptive exponential integrate-and-fire neuron (non-capacitive; writes `v`)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import exponential_euler, heaviside

__all__ = ["AdEx"]


@register(
    StandardModel(
        param="{name}_a",
        grad_rtol=1e-3,
        grad_note="subthreshold, but the surrogate spike derivative (nonzero below threshold) "
        "adds ~1e-4 to the gradient",
    )
)
class AdEx(Channel):
    """`C dv/dt = -g_L (v - E_L) + g_L Δ_T exp((v - v_T) / Δ_T) - w` (forward Euler, the
    exponent clipped at 10), `tau_w dw/dt = a (v - E_L) - w` (exponential Euler); where the
    new `v >= v_threshold`: `v <- v_reset`, `w <- w + b`, `_spikes = 1`.

    `C` is the compartment's `capacitance`. The reset uses `heaviside` with the surrogate
    derivative `1 / (10 |v - v_threshold| + 1)**2`; forward values equal the hard reset.

    Parameters: `_g_L` 10, `_E_L` -70 mV, `_v_T` -50 mV, `_delta_T` 2 mV, `_v_threshold` 0 mV,
    `_v_reset` -58 mV, `_tau_w` 30 ms, `_a` 2, `_b` 0. States: `_w` 0, `_spikes` 0.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_g_L": 10.0,
            f"{p}_E_L": -70.0,
            f"{p}_v_T": -50.0,
            f"{p}_delta_T": 2.0,
            f"{p}_v_threshold": 0.0,
            f"{p}_v_reset": -58.0,
            f"{p}_tau_w": 30.0,
            f"{p}_a": 2.0,
            f"{p}_b": 0.0,
        }
        self.channel_states = {f"{p}_w": 0.0, f"{p}_spikes": 0.0}
        self.current_name = f"i_{p}"

    def update_states(self, states, dt, v, params):
        p = self._name
        g_l, e_l, delta_t = params[f"{p}_g_L"], params[f"{p}_E_L"], params[f"{p}_delta_T"]
        w = states[f"{p}_w"]
        exponent = jnp.minimum((v - params[f"{p}_v_T"]) / delta_t, 10.0)
        dv = (-g_l * (v - e_l) + g_l * delta_t * jnp.exp(exponent) - w) / params["capacitance"]
        v_new = v + dt * dv
        w_new = exponential_euler(w, dt, params[f"{p}_a"] * (v - e_l), params[f"{p}_tau_w"])
        spike = heaviside(v_new - params[f"{p}_v_threshold"])
        return {
            "v": v_new * (1.0 - spike) + params[f"{p}_v_reset"] * spike,
            f"{p}_w": w_new + params[f"{p}_b"] * spike,
            f"{p}_spikes": spike,
        }

    def compute_current(self, states, v, params):
        return jnp.zeros_like(v)
