"""The Jaxley 1.0 split HH family (`dendrax.channels.hh_split`) equals the built-in `HH`."""

import numpy as np

import dendrax as jx
from dendrax.channels import HH
from dendrax.channels.hh_split import HHK, HHLeak, HHNa, K, Leak, Na


def _run(channels, **values):
    comp = jx.Compartment()
    for ch in channels:
        comp.insert(ch)
    for key, value in values.items():
        comp.set(key, value)
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(1.0, 10.0, 0.02, 0.025, 20.0), verbose=False)
    return np.asarray(jx.integrate(comp, t_max=20.0, delta_t=0.025))[0]


def test_split_equals_hh_and_names():
    assert (Na, K, Leak) == (HHNa, HHK, HHLeak)
    na = HHNa()
    assert na.name == "Na" and na.current_name == "i_Na"
    assert set(na.channel_params) == {"Na_gNa", "Na_eNa", "Na_tadj", "temperature"}
    v_split = _run([HHNa(), HHK(), HHLeak()])
    v_hh = _run([HH()])
    assert np.max(np.abs(v_split - v_hh)) < 1e-8
    assert v_hh.max() > 20.0  # spikes


def test_tadj_scales_conductances():
    tadj = HHNa().init_params({}, {"temperature": 27.0}, -65.0, 0.025)["Na_tadj"]
    np.testing.assert_allclose(tadj, 2.3**-1.0)
    v_a = _run([HHNa(), HHK(), HHLeak()], Na_tadj=0.5, K_tadj=0.5, Leak_tadj=0.5)
    v_b = _run([HH()], HH_gNa=0.06, HH_gK=0.018, HH_gLeak=1.5e-4)
    assert np.max(np.abs(v_a - v_b)) < 1e-8
