"""`build_dynamic_state_utils` with an ion pump (Jaxley 0.14's suite builds HH + Leak +
CaNernstReversal + CaPump): the calcium current `i_Ca` that the pump reads is an
observable, not a dynamic state, so the state vector holds v, the HH gates and the
calcium states, and a flatten -> unflatten -> add_observables round trip is exact.
Also the Jaxley module paths `dendrax.synapses.test` and `Module.to_jax()`."""

import jax
import numpy as np

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.integrate import build_init_and_step_fn
from dendrax.pumps import CaNernstReversal, CaPump
from dendrax.utils.dynamics import build_dynamic_state_utils


def test_pump_ion_current_is_an_observable_and_round_trips():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0, 0])
    for mech in (HH(), Leak(), CaNernstReversal(), CaPump()):
        cell.insert(mech)
    assert cell.to_jax() is None  # Jaxley's preparation step: nothing to do in dendrax
    init_fn, step_fn = build_init_and_step_fn(cell)
    remove, add, flatten, unflatten = build_dynamic_state_utils(cell)
    states, params = init_fn([])
    dynamic = remove(states)
    # 9 compartments x (v, HH_m, HH_h, HH_n, eCa, CaCon_i, CaCon_e); no i_Ca, i_HH, ...
    assert sorted(dynamic) == ["CaCon_e", "CaCon_i", "HH_h", "HH_m", "HH_n", "eCa", "v"]
    vector = flatten(dynamic)
    assert vector.shape == (9 * 7,)
    restored = add(unflatten(vector), params, delta_t=0.025)
    assert set(restored) == set(states)
    np.testing.assert_array_equal(flatten(remove(restored)), vector)
    # A step from the restored states equals a step from the original ones.
    step = jax.jit(lambda s: step_fn(s, params, {}, {}, delta_t=0.025))
    a, b = step(states), step(restored)
    for key in ("v", "CaCon_i", "HH_m"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-13, atol=0)


def test_jaxley_module_path_of_test_synapse():
    from dendrax.synapses import TestSynapse
    from dendrax.synapses.test import TestSynapse as FromJaxleyPath

    assert FromJaxleyPath is TestSynapse
