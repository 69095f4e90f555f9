"""`dendrax.compat.alias_jaxley`: a library built on Jaxley's public API runs on dendrax unedited.

The library is jaxley-mech (its wheel is downloaded, not installed, into
``$DENDRAX_TEST_WHEELS`` by ``make test``; pure Python, so it is imported from the wheel
file). Its channels are checked against references that share no code with either
simulator: NEURON's built-in ``hh`` for its Hodgkin-Huxley 1952 set, and a stiff ODE
integration (scipy, rtol 1e-10) of the single-compartment equation, written out below from
the published kinetics, for its Kv3.1 channel.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from validation.neuron_cable import requires_neuron, simulate_neuron_cable

import dendrax as jx
import dendrax.compat as compat


def _mech_wheel() -> Path | None:
    folder = os.environ.get("DENDRAX_TEST_WHEELS")
    if not folder:
        return None
    wheels = sorted(Path(folder).glob("jaxley_mech-*.whl"))
    return wheels[-1] if wheels else None


@pytest.fixture
def aliased():
    compat.alias_jaxley()
    yield
    compat.remove_jaxley_alias()


@pytest.fixture(scope="module")
def jaxley_mech():
    wheel = _mech_wheel()
    if wheel is None:
        pytest.skip("jaxley-mech wheel not in $DENDRAX_TEST_WHEELS (make test downloads it)")
    pytest.importorskip("equinox")
    compat.alias_jaxley()
    sys.path.insert(0, str(wheel))
    try:
        yield importlib.import_module("jaxley_mech")
    finally:
        sys.path.remove(str(wheel))
        for name in [n for n in sys.modules if n.split(".")[0] == "jaxley_mech"]:
            del sys.modules[name]
        compat.remove_jaxley_alias()


def test_alias_maps_each_dotted_path_to_the_dendrax_module(aliased):
    import jaxley
    import jaxley.channels
    from jaxley.solver_gate import save_exp
    from jaxley.synapses.synapse import Synapse

    assert jaxley is jx
    assert jaxley.channels is jx.channels
    assert save_exp is jx.solver_gate.save_exp
    assert Synapse is importlib.import_module("dendrax.synapses.synapse").Synapse
    assert compat.is_aliased()
    compat.alias_jaxley()  # idempotent
    assert sum(isinstance(f, compat.JaxleyAliasFinder) for f in sys.meta_path) == 1


def test_alias_names_a_missing_counterpart(aliased):
    with pytest.raises(ModuleNotFoundError, match="dendrax.no_such_module"):
        importlib.import_module("jaxley.no_such_module")


def test_alias_refuses_after_a_real_jaxley_import():
    fake = types.ModuleType("jaxley")
    sys.modules["jaxley"] = fake
    try:
        with pytest.raises(RuntimeError, match="real Jaxley is already imported"):
            compat.alias_jaxley()
        assert not compat.is_aliased()
    finally:
        del sys.modules["jaxley"]


def test_remove_alias_restores_plain_imports(aliased):
    import jaxley  # noqa: F401

    compat.remove_jaxley_alias()
    assert "jaxley" not in sys.modules
    assert not compat.is_aliased()


@requires_neuron
def test_jaxley_mech_hodgkin52_matches_neuron_hh(jaxley_mech):
    """jaxley-mech's HH 1952 set is NEURON's `hh` at 6.3 degC: same trace within 0.05 mV."""
    hh52 = importlib.import_module("jaxley_mech.channels.hodgkin52")
    dt, t_max = 0.025, 30.0
    comp = jx.Compartment()
    comp.set("length", 20.0)
    comp.set("radius", 10.0)
    comp.set("v", -65.0)
    for channel in (hh52.Na(), hh52.K(), hh52.Leak()):
        comp.insert(channel)
    comp.init_states()
    comp.stimulate(jx.step_current(2.0, 20.0, 0.3, dt, t_max), verbose=False)
    comp.record("v", verbose=False)
    v_dx = np.asarray(jx.integrate(comp, delta_t=dt, t_max=t_max))[0]

    v_nrn = simulate_neuron_cable(
        parents=[-1],
        ncomp=[1],
        lengths=[20.0],
        radii=[[10.0]],
        axial_resistivity=100.0,
        capacitance=1.0,
        hh=dict(gNa=0.04, gK=0.035, gLeak=0.3e-3, eNa=55.0, eK=-77.0, eLeak=-65.0),
        passive=None,
        stimuli=[(0, 0.5, 2.0, 20.0, 0.3)],
        recordings=[(0, 0.5)],
        dt=dt,
        t_max=t_max,
        v_init=-65.0,
        celsius=6.3,
    )[0]
    n = min(v_dx.size, v_nrn.size)
    assert v_nrn.max() > 0.0  # it spikes, so the comparison covers the whole gate range
    print(f"mean |dV| vs NEURON = {np.mean(np.abs(v_dx[:n] - v_nrn[:n])):.2e} mV")
    assert np.mean(np.abs(v_dx[:n] - v_nrn[:n])) < 0.05


def _kv31_reference(t_eval, g_k, e_k, g_l, e_l, area_um2, delay, dur, amp, v0):
    """Single compartment with Kv3.1 (Rettig et al. 1992, Hay et al. 2011 kinetics) and a
    leak, integrated with scipy's Radau at rtol 1e-10. Units: mV, ms, S/cm², nA, µm²."""
    from scipy.integrate import solve_ivp

    def m_inf(v):
        return 1.0 / (1.0 + np.exp((v - 18.7) / -9.7))

    def tau_m(v):
        return 4.0 / (1.0 + np.exp((v + 46.56) / -44.14))

    def rhs(t, y):
        v, m = y
        i_ext = amp if delay <= t < delay + dur else 0.0
        # nA / µm² -> mA/cm²: x 1e5; dv/dt in mV/ms for C = 1 µF/cm².
        i_density = i_ext / area_um2 * 1e5
        i_ion = 1e3 * (g_k * m * (v - e_k) + g_l * (v - e_l))
        return [-i_ion + i_density, (m_inf(v) - m) / tau_m(v)]

    pieces, y = [], [v0, m_inf(v0)]
    edges = [0.0, delay, delay + dur, t_eval[-1]]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (t_eval >= lo) & (t_eval < hi) if hi < t_eval[-1] else (t_eval >= lo)
        sol = solve_ivp(
            rhs,
            (lo, hi),
            y,
            method="Radau",
            rtol=1e-10,
            atol=1e-12,
            t_eval=t_eval[mask],
            dense_output=True,
        )
        pieces.append(sol.y[0])
        y = sol.sol(hi)
    return np.concatenate(pieces)


def test_jaxley_mech_kv31_matches_independent_integration(jaxley_mech):
    """jaxley-mech's SKv3_1 on dendrax converges to the ODE's solution as dt -> 0."""
    l5pc = importlib.import_module("jaxley_mech.channels.l5pc")
    hh52 = importlib.import_module("jaxley_mech.channels.hodgkin52")
    g_k, e_k, g_l, e_l = 0.01, -85.0, 1e-4, -70.0
    delay, dur, amp, t_max = 2.0, 10.0, 0.05, 20.0
    length, radius = 20.0, 5.0
    area = 2.0 * np.pi * radius * length

    def dendrax_trace(dt):
        comp = jx.Compartment()
        comp.set("length", length)
        comp.set("radius", radius)
        comp.insert(l5pc.SKv3_1())
        comp.insert(hh52.Leak())
        comp.set("SKv3_1_gSKv3_1", g_k)
        comp.set("eK", e_k)
        comp.set("Leak_gLeak", g_l)
        comp.set("Leak_eLeak", e_l)
        comp.set("v", -70.0)
        comp.init_states()
        comp.stimulate(jx.step_current(delay, dur, amp, dt, t_max), verbose=False)
        comp.record("v", verbose=False)
        return np.asarray(jx.integrate(comp, delta_t=dt, t_max=t_max))[0]

    errors = []
    for dt in (0.05, 0.0125):
        v = dendrax_trace(dt)
        t = np.arange(v.size) * dt
        ref = _kv31_reference(t, g_k, e_k, g_l, e_l, area, delay, dur, amp, -70.0)
        away_from_steps = (np.abs(t - delay) > 2 * dt) & (np.abs(t - delay - dur) > 2 * dt)
        errors.append(np.max(np.abs(v - ref)[away_from_steps]))
    print(f"max |dV| vs Radau at dt 0.05, 0.0125: {errors[0]:.3e}, {errors[1]:.3e} mV")
    assert np.ptp(ref) > 5.0  # the stimulus moves v: a real test
    assert errors[1] < 0.2
    assert errors[1] < errors[0] / 2.5  # first-order convergence (4x smaller dt)
