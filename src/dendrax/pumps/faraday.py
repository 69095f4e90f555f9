"""Calcium concentration change from calcium current (Faraday's law), as in Jaxley."""

from __future__ import annotations

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.pumps.pump import FARADAY, Pump

__all__ = ["CaFaradayConcentrationChange", "current_to_molarity_change"]


def current_to_molarity_change(current, valence, radius):
    """`d[ion]/dt` magnitude (mM/ms) of a current density (mA/cm²) in a cylinder.

    `current · (2 / radius) · 1e4 / (F · valence)`: surface/volume of a cylinder is 2/r
    (radius in µm); 1e4 converts mA/cm²/µm/(C/mol) to mM/ms.
    """
    return current * (2.0 / radius) * 1e4 / (FARADAY * valence)


# No parameters of its own: the radius sets the surface-to-volume ratio of the influx.
@register(
    StandardModel(
        param="radius",
        with_mechanisms=("Leak", "CaL"),
        stimulus=(0.02, 0.5, 3.0),
        observe="CaCon_i",
    )
)
class CaFaradayConcentrationChange(Pump):
    """Passive intracellular calcium accumulation from the calcium current.

    `d[Ca]/dt = -i_Ca (2 / r) 1e4 / (2 F)` (i_Ca mA/cm² outward +, r the compartment radius
    in µm, F = 96485.3329 C/mol); nothing bounds [Ca] (it can become negative). States:
    `i_Ca` 1e-8 mA/cm² (overwritten by the simulator), `CaCon_i` 5e-5 mM. No parameters.
    Current name `i_CaCurrent` (always 0).
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_params = {}
        self.channel_states = {"i_Ca": 1e-8, "CaCon_i": 5e-05}
        self.ion_name = "CaCon_i"
        self.current_name = "i_CaCurrent"

    def ion_flux(self, states, modified_state, params):
        """`-d[Ca]/dt` in mM/ms."""
        return current_to_molarity_change(states["i_Ca"], 2.0, params["radius"])
