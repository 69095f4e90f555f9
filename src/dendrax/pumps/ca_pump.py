"""Calcium pump and buffering of Destexhe et al. (1994), as Jaxley's `CaPump`."""

from __future__ import annotations

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.pumps.pump import Pump

__all__ = ["CaPump"]

#: Faraday's constant used by Jaxley's `CaPump` (C/mol; rounded, as there).
FARADAY_PUMP = 96485.0


# CaL's calcium current (opened by the stimulus) is what the pump buffers.
@register(
    StandardModel(
        param="{name}_gamma",
        with_mechanisms=("Leak", "CaL"),
        stimulus=(0.02, 0.5, 3.0),
        observe="CaCon_i",
    )
)
class CaPump(Pump):
    """Submembrane calcium shell with a first-order pump (Destexhe et al. 1994).

    `d[Ca]/dt = -1e4 i_Ca gamma / (2 F depth) - ([Ca] - minCaCon_i) / decay`, with i_Ca in
    mA/cm² (outward +, so inward calcium current raises [Ca]), depth in µm, F = 96485 C/mol,
    [Ca] in mM, t in ms (1e4 converts the units).

    Parameters: `CaPump_gamma` 0.05 (free fraction), `CaPump_decay` 80 ms, `CaPump_depth`
    0.1 µm, `CaPump_minCaCon_i` 1e-4 mM. States: `i_Ca` 1e-8 mA/cm² (the membrane calcium
    current, overwritten by the simulator), `CaCon_i` 5e-5 mM. Current name `i_CaPump`
    (always 0: no membrane current).
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gamma": 0.05,
            f"{p}_decay": 80.0,
            f"{p}_depth": 0.1,
            f"{p}_minCaCon_i": 1e-4,
        }
        self.channel_states = {"i_Ca": 1e-8, "CaCon_i": 5e-05}
        self.ion_name = "CaCon_i"
        self.current_name = f"i_{p}"

    def ion_flux(self, states, modified_state, params):
        """`-d[Ca]/dt` in mM/ms."""
        p = self._name
        depth = params[f"{p}_depth"]
        drive = -1e4 * states["i_Ca"] * params[f"{p}_gamma"] / (2.0 * FARADAY_PUMP * depth)
        decay = (modified_state - params[f"{p}_minCaCon_i"]) / params[f"{p}_decay"]
        return -(drive - decay)
