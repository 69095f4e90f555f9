"""Pospischil channels against their equations integrated independently in numpy."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import CaL, CaT, K, Km, Leak, Na

from ._reference import efun, gate, simulate

DT, T_MAX, DELAY, DUR = 0.025, 40.0, 5.0, 25.0
VT, ENA, EK, ECA = -60.0, 50.0, -90.0, 120.0


def rates(v):
    """Pospischil et al. (2008) gate kinetics: (inf, tau) per gate, written from the paper."""
    am = 0.32 * 4 * efun(-(v - VT - 13) / 4)
    bm = 0.28 * 5 * efun((v - VT - 40) / 5)
    ah = 0.128 * np.exp(-(v - VT - 17) / 18)
    bh = 4 / (1 + np.exp(-(v - VT - 40) / 5))
    an = 0.032 * 5 * efun(-(v - VT - 15) / 5)
    bn = 0.5 * np.exp(-(v - VT - 10) / 40)
    aq = 0.055 * 3.8 * efun((-27 - v) / 3.8)
    bq = 0.94 * np.exp((-75 - v) / 17)
    ar = 0.000457 * np.exp((-13 - v) / 50)
    br = 0.0065 / (1 + np.exp((-15 - v) / 28))
    p_inf = 1 / (1 + np.exp(-(v + 35) / 10))
    tau_p = 4000 / (3.3 * np.exp((v + 35) / 20) + np.exp(-(v + 35) / 20))
    vx = v + 2.0
    u_inf = 1 / (1 + np.exp((vx + 81) / 4))
    tau_u = (30.8 + 211.4 + np.exp((vx + 113.2) / 5)) / (3.7 * (1 + np.exp((vx + 84) / 3.2)))
    out = {"p": (p_inf, tau_p), "u": (u_inf, tau_u)}
    for g, a, b in (("m", am, bm), ("h", ah, bh), ("n", an, bn), ("q", aq, bq), ("r", ar, br)):
        out[g] = (a / (a + b), 1 / (a + b))
    return out


def s_inf(v):
    return 1 / (1 + np.exp(-(v + 2.0 + 57) / 6.2))


CURRENTS = {
    "Na": (("m", "h"), lambda s, v: 0.05 * s["m"] ** 3 * s["h"] * (v - ENA)),
    "K": (("n",), lambda s, v: 5e-3 * s["n"] ** 4 * (v - EK)),
    "Km": (("p",), lambda s, v: 4e-6 * 50 * s["p"] * (v - EK)),  # gKm raised 50x below
    "CaL": (("q", "r"), lambda s, v: 1e-4 * s["q"] ** 2 * s["r"] * (v - ECA)),
    "CaT": (("u",), lambda s, v: 4e-5 * s_inf(v) ** 2 * s["u"] * (v - ECA)),
}
CLASSES = {"Na": Na, "K": K, "Km": Km, "CaL": CaL, "CaT": CaT}
STATE_NAMES = {
    "m": "Na_m",
    "h": "Na_h",
    "n": "K_n",
    "p": "Km_p",
    "q": "CaL_q",
    "r": "CaL_r",
    "u": "CaT_u",
}


@pytest.mark.parametrize(
    "names, amp",
    [
        (("Na", "K"), 0.01),
        (("Km",), 0.005),
        (("CaL",), 0.005),
        (("CaT",), -0.002),
        (("Na", "K", "Km", "CaL", "CaT"), 0.01),
    ],
)
def test_channel_matches_numpy_equations(names, amp):
    comp = jx.Compartment()
    for name in names:
        comp.insert(CLASSES[name]())
    comp.insert(Leak())
    if "Km" in names:
        comp.set("Km_gKm", 4e-6 * 50)
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(DELAY, DUR, amp, DT, T_MAX), verbose=False)
    v_dx = np.asarray(jx.integrate(comp, t_max=T_MAX, delta_t=DT))[0]

    gates = [g for n in names for g in CURRENTS[n][0]]

    def step(s, v, dt):
        r = rates(v)
        return {g: gate(s[g], dt, *r[g]) for g in gates}

    def current(s, v):
        return sum(CURRENTS[n][1](s, v) for n in names) + 1e-4 * (v - (-70.0))

    v_np, _ = simulate(step, current, {g: 0.2 for g in gates}, -70.0, DT, T_MAX, amp, DELAY, DUR)
    assert v_dx.shape == v_np.shape
    assert np.mean(np.abs(v_dx - v_np)) < 0.05
    assert np.max(np.abs(v_dx - v_np)) < 0.01  # same scheme: rounding only (spikes amplify)
    assert np.ptp(v_np) > 1.0  # the stimulus does something


def test_shared_parameters_and_current_names():
    comp = jx.Compartment()
    for ch in (Na(), K(), Km(), CaL(), CaT()):
        comp.insert(ch)
    nodes = comp.base._nodes
    for key, value in (("eNa", 50.0), ("eK", -90.0), ("eCa", 120.0), ("vt", -60.0)):
        assert nodes[key][0] == value
    assert (K().current_name, Km().current_name) == ("i_K", "i_K")
    assert (CaL().current_name, CaT().current_name) == ("i_Ca", "i_Ca")
    comp.set("vt", -55.0)
    assert nodes["vt"][0] == -55.0
    renamed = Na().change_name("Na2")
    assert "Na2_gNa" in renamed.channel_params and "vt" in renamed.channel_params


def test_init_state_quirk_km_cat():
    """Km/CaT.init_state return inf/(inf + tau), as Jaxley 0.13/0.14 does (documented)."""
    comp = jx.Compartment()
    comp.insert(Km())
    comp.insert(CaT())
    comp.insert(Na())
    comp.set("v", -65.0)
    comp.init_states()
    r = rates(-65.0)
    p_inf, tau_p = r["p"]
    u_inf, tau_u = r["u"]
    nodes = comp.base._nodes
    np.testing.assert_allclose(nodes["Km_p"][0], p_inf / (p_inf + tau_p), rtol=1e-10)
    np.testing.assert_allclose(nodes["CaT_u"][0], u_inf / (u_inf + tau_u), rtol=1e-10)
    np.testing.assert_allclose(nodes["Na_m"][0], r["m"][0], rtol=1e-10)
