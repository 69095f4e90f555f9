"""`module.init_params()` writes the channels' derived parameters into the node table."""

import numpy as np

import dendrax as jx
from dendrax.channels import HH
from dendrax.channels.hh_split import HHK, HHLeak, HHNa


def test_init_params_sets_tadj_from_temperature():
    branch = jx.Branch(jx.Compartment(), ncomp=4)
    branch.insert(HHNa())
    branch.insert(HHK())
    branch.insert(HHLeak())
    branch.comp(1).set("temperature", 27.0)
    branch.comp(3).set("temperature", 47.0)
    branch.comp([0, 1, 2]).init_params()  # only the view: comp 3 keeps tadj = 1
    nodes = branch.nodes
    expected = np.array([1.0, 2.3**-1.0, 1.0, 1.0])
    for key in ("Na_tadj", "K_tadj", "Leak_tadj"):
        np.testing.assert_allclose(nodes[key], expected, rtol=1e-12)
    branch.init_params()
    np.testing.assert_allclose(branch.nodes["Na_tadj"][3], 2.3, rtol=1e-12)


def test_init_params_changes_the_simulation_as_scaled_conductances():
    def run(channels, init=False, **values):
        comp = jx.Compartment()
        for ch in channels:
            comp.insert(ch)
        for key, value in values.items():
            comp.set(key, value)
        if init:
            comp.init_params()
        comp.record(verbose=False)
        comp.stimulate(jx.step_current(1.0, 5.0, 0.02, 0.025, 10.0), verbose=False)
        return np.asarray(jx.integrate(comp, t_max=10.0))[0]

    tadj = 2.3 ** ((30.0 - 37.0) / 10.0)
    v_split = run([HHNa(), HHK(), HHLeak()], init=True, temperature=30.0)
    v_hh = run([HH()], HH_gNa=0.12 * tadj, HH_gK=0.036 * tadj, HH_gLeak=3e-4 * tadj)
    np.testing.assert_allclose(v_split, v_hh, atol=1e-8)


def test_channels_without_init_params_are_untouched():
    comp = jx.Compartment()
    comp.insert(HH())
    before = comp.nodes.copy()
    comp.init_params()
    assert comp.nodes.equals(before)
