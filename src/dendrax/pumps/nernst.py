"""Calcium reversal potential from the Nernst equation, as Jaxley's `CaNernstReversal`."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.pumps.pump import FARADAY, Pump

__all__ = ["CaNernstReversal"]


# No parameters of its own: the external calcium sets eCa, which drives CaL's current.
@register(
    StandardModel(param="CaCon_e", with_mechanisms=("Leak", "CaL"), stimulus=(0.02, 0.5, 3.0))
)
class CaNernstReversal(Pump):
    """Sets the shared state `eCa` (mV) from the calcium concentrations every step.

    `eCa = 1000 R T / (2 F) ln(CaCon_e / CaCon_i)` with the constants in
    `self.channel_constants` (editable): R = 8.314 J/(mol K), T = 279.45 K (Jaxley's
    default, 6.3 °C), F = 96485.3329 C/mol; concentrations in mM.

    States: `eCa` 0 mV, `CaCon_i` 5e-5 mM, `CaCon_e` 2 mM. Calcium channels that read the
    unprefixed `eCa` (`CaL`, `CaT`) then use this value. Insert it after the mechanisms that
    change `CaCon_i` (e.g. `CaPump`) to use the updated concentration in the same step.
    Current name `i_Ca`; its contribution is 0.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_constants = {"F": FARADAY, "T": 279.45, "R": 8.314}
        self.channel_params = {}
        self.channel_states = {"eCa": 0.0, "CaCon_i": 5e-05, "CaCon_e": 2.0}
        self.ion_name = "CaCon_i"
        self.current_name = "i_Ca"

    def reversal(self, ca_in, ca_out):
        """Nernst potential (mV) of Ca²⁺ for concentrations in mM."""
        c = self.channel_constants
        return 1000.0 * c["R"] * c["T"] / (2.0 * c["F"]) * jnp.log(ca_out / ca_in)

    def update_states(self, states, dt, v, params):
        return {"eCa": self.reversal(states["CaCon_i"], states["CaCon_e"])}

    def init_state(self, states, v, params, delta_t):
        return {"eCa": self.reversal(states["CaCon_i"], states["CaCon_e"])}
