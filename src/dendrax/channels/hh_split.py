"""The Jaxley 1.0 split Hodgkin–Huxley family: `HHNa`, `HHK`, `HHLeak`.

Jaxley 1.0 replaced the Pospischil `Na`/`K`/`Leak` of Jaxley 0.13/0.14 by per-ion
Hodgkin–Huxley channels (Sterratt et al. rates, NEURON `hh` at 6.3 °C) that share the
class names `Na`, `K`, `Leak`. dendrax keeps the 0.13/0.14 names for the Pospischil
channels (`dendrax.channels.Na`, ...) and provides the 1.0 family here:

* Jaxley 1.0 `Na`   ->  `HHNa`   (`Na_gNa`, `Na_eNa`, `Na_tadj`, states `Na_m`, `Na_h`)
* Jaxley 1.0 `K`    ->  `HHK`    (`K_gK`, `K_eK`, `K_tadj`, state `K_n`)
* Jaxley 1.0 `Leak` ->  `HHLeak` (`Leak_gLeak`, `Leak_eLeak`, `Leak_tadj`)

The default `name` of each class is the Jaxley 1.0 one (`"Na"`, `"K"`, `"Leak"`), so
parameter, state and current names (`i_Na`, `i_K`, `i_Leak`) are exactly those of Jaxley 1.0,
and `from dendrax.channels.hh_split import Na, K, Leak` (aliases) is a drop-in for
`from jaxley.channels import Na, K, Leak` of Jaxley 1.0. Rename with `name=` or
`change_name` to combine them with the Pospischil channels of the same names.

All three use the Jaxley 1.0 ("scalar") call convention and carry the temperature factor
`<name>_tadj` (default 1), which multiplies the conductance only, and the shared parameter
`temperature` (°C, default 37). `init_params` returns `tadj = 2.3 ** ((temperature - 37) / 10)`.
"""

from __future__ import annotations

from dendrax.channels.channel import Channel
from dendrax.channels.hh import _h_rates, _m_rates, _n_rates
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import solve_gate_exponential

__all__ = ["HHNa", "HHK", "HHLeak", "Na", "K", "Leak", "Q10"]

#: Q10 of the conductance temperature factor `tadj`.
Q10 = 2.3


def _tadj(params):
    return {"tadj": Q10 ** ((params["temperature"] - 37.0) / 10.0)}


class _HHSplit(Channel):
    call_convention = "scalar"

    def init_params(self, states, params, voltage, delta_t):
        """`{<name>_tadj: 2.3 ** ((temperature - 37) / 10)}` (dimensionless)."""
        return {f"{self._name}_tadj": _tadj(params)["tadj"]}


@register(
    StandardModel(param="{name}_gNa", with_mechanisms=("HHK", "HHLeak"), stimulus=(0.02, 0.5, 3.0))
)
class HHNa(_HHSplit):
    """HH sodium current `i_Na = tadj gNa m³ h (v - eNa)` (mA/cm², outward +).

    Parameters: `Na_gNa` 0.12 S/cm², `Na_eNa` 50 mV, `Na_tadj` 1, `temperature` 37 °C.
    States: `Na_m`, `Na_h` (start 0.2), exponential Euler with NEURON `hh` rates (6.3 °C).
    """

    value_ranges = {"m": GATE, "h": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = "Na"):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gNa": 0.12,
            f"{p}_eNa": 50.0,
            f"{p}_tadj": 1.0,
            "temperature": 37.0,
        }
        self.channel_states = {f"{p}_m": 0.2, f"{p}_h": 0.2}
        self.current_name = f"i_{p}"

    def update_states(self, states, params, voltage, delta_t):
        p = self._name
        return {
            f"{p}_m": solve_gate_exponential(states[f"{p}_m"], delta_t, *_m_rates(voltage)),
            f"{p}_h": solve_gate_exponential(states[f"{p}_h"], delta_t, *_h_rates(voltage)),
        }

    def compute_current(self, states, params, voltage, delta_t):
        p = self._name
        g = params[f"{p}_tadj"] * params[f"{p}_gNa"] * states[f"{p}_m"] ** 3 * states[f"{p}_h"]
        return g * (voltage - params[f"{p}_eNa"])

    def init_state(self, states, params, voltage, delta_t):
        p = self._name
        out = {}
        for gate, rates in (("m", _m_rates), ("h", _h_rates)):
            alpha, beta = rates(voltage)
            out[f"{p}_{gate}"] = alpha / (alpha + beta)
        return out


@register(StandardModel(param="{name}_gK", with_mechanisms=("HHLeak",)))
class HHK(_HHSplit):
    """HH potassium current `i_K = tadj gK n⁴ (v - eK)` (mA/cm², outward +).

    Parameters: `K_gK` 0.036 S/cm², `K_eK` -77 mV, `K_tadj` 1, `temperature` 37 °C.
    State: `K_n` (start 0.2), exponential Euler with NEURON `hh` rates (6.3 °C).
    """

    value_ranges = {"n": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = "K"):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gK": 0.036,
            f"{p}_eK": -77.0,
            f"{p}_tadj": 1.0,
            "temperature": 37.0,
        }
        self.channel_states = {f"{p}_n": 0.2}
        self.current_name = f"i_{p}"

    def update_states(self, states, params, voltage, delta_t):
        p = self._name
        return {f"{p}_n": solve_gate_exponential(states[f"{p}_n"], delta_t, *_n_rates(voltage))}

    def compute_current(self, states, params, voltage, delta_t):
        p = self._name
        g = params[f"{p}_tadj"] * params[f"{p}_gK"] * states[f"{p}_n"] ** 4
        return g * (voltage - params[f"{p}_eK"])

    def init_state(self, states, params, voltage, delta_t):
        alpha, beta = _n_rates(voltage)
        return {f"{self._name}_n": alpha / (alpha + beta)}


@register(StandardModel(param="{name}_gLeak"))
class HHLeak(_HHSplit):
    """Leak current `i_Leak = tadj gLeak (v - eLeak)` (mA/cm², outward +).

    Parameters: `Leak_gLeak` 3e-4 S/cm², `Leak_eLeak` -54.3 mV, `Leak_tadj` 1,
    `temperature` 37 °C. No states.
    """

    def __init__(self, name: str | None = "Leak"):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gLeak": 3e-4,
            f"{p}_eLeak": -54.3,
            f"{p}_tadj": 1.0,
            "temperature": 37.0,
        }
        self.channel_states = {}
        self.current_name = f"i_{p}"

    def update_states(self, states, params, voltage, delta_t):
        return {}

    def compute_current(self, states, params, voltage, delta_t):
        p = self._name
        return params[f"{p}_tadj"] * params[f"{p}_gLeak"] * (voltage - params[f"{p}_eLeak"])

    def init_state(self, states, params, voltage, delta_t):
        return {}


#: Jaxley 1.0 names (aliases), for `from dendrax.channels.hh_split import Na, K, Leak`.
Na, K, Leak = HHNa, HHK, HHLeak
