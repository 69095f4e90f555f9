"""`TestSynapse`: an ionotropic-like synapse with fixed kinetics (Jaxley's test mechanism)."""

from __future__ import annotations

from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import exponential_euler, save_exp
from dendrax.synapses.synapse import Synapse

__all__ = ["TestSynapse"]

_V_TH = -35.0  # mV
_DELTA = 10.0  # mV
_K_MINUS = 1.0 / 40.0  # 1/ms
_E_SYN = 0.0  # mV


@register(StandardModel(param="{name}_gC", with_mechanisms=("Leak",), stimulus=(0.02, 0.5, 3.0)))
class TestSynapse(Synapse):
    """`c` relaxes to `1 / (1 + exp((-35 - v_pre) / 10))` with `tau = (1 - c_inf) * 40` ms;
    current `I = gC * c * (v_post - 0)` (nA).

    Parameter: `_gC` 1e-4 µS. State: `_c` 0.2.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.synapse_params = {f"{p}_gC": 1e-4}
        self.synapse_states = {f"{p}_c": 0.2}

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        p = self._name
        c_inf = 1.0 / (1.0 + save_exp((_V_TH - pre_voltage) / _DELTA))
        tau = (1.0 - c_inf) / _K_MINUS
        return {f"{p}_c": exponential_euler(states[f"{p}_c"], delta_t, c_inf, tau)}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self._name
        return params[f"{p}_gC"] * states[f"{p}_c"] * (post_voltage - _E_SYN)
