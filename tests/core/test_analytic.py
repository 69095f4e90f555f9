"""Rung 1 of the validation ladder: passive cables against closed-form solutions."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import Leak

# NSuite cable-steadystate: d = 1 µm, L = 1 mm, Rm = 40 kΩ·cm², Cm = 1 µF/cm², Ra = 100 Ω·cm.
LENGTH, RADIUS, RA, G_LEAK, E_LEAK, CURRENT = 1000.0, 0.5, 100.0, 2.5e-5, -65.0, 0.1


def _cable(ncomp):
    branch = jx.Branch(jx.Compartment(), ncomp=ncomp)
    branch.set("length", LENGTH / ncomp)
    branch.set("radius", RADIUS)
    branch.set("axial_resistivity", RA)
    branch.insert(Leak())
    branch.set("Leak_gLeak", G_LEAK)
    branch.set("Leak_eLeak", E_LEAK)
    branch.set("v", E_LEAK)
    return branch


def _analytic_deflection(x):
    """V(x) - E for a sealed cable with current injected at x = 0 (mV; x in µm)."""
    rm = 1.0 / G_LEAK  # Ω·cm²
    diameter_cm = 2 * RADIUS * 1e-4
    lam = np.sqrt(rm * diameter_cm / (4 * RA)) * 1e4  # µm
    r_inf = 4 * RA * lam * 1e-4 / (np.pi * diameter_cm**2)  # Ω
    return CURRENT * 1e-9 * r_inf * np.cosh((LENGTH - x) / lam) / np.sinh(LENGTH / lam) * 1e3


def test_analytic_reference_values():
    # Published NSuite values: 167.18 mV at x = 0, 108.34 mV at x = L.
    assert _analytic_deflection(0.0) == pytest.approx(167.18, abs=0.01)
    assert _analytic_deflection(LENGTH) == pytest.approx(108.34, abs=0.01)


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson"])
def test_passive_cable_steady_state(solver):
    ncomp = 200
    cable = _cable(ncomp)
    dt, t_max = 0.5, 800.0  # 20 membrane time constants
    cable.comp(0).stimulate(np.full(int(t_max / dt) + 2, CURRENT), verbose=False)
    cable.comp("all").record(verbose=False)
    v = np.asarray(jx.integrate(cable, delta_t=dt, solver=solver))[:, -1]
    centers = (np.arange(ncomp) + 0.5) * LENGTH / ncomp
    expected = _analytic_deflection(centers)
    rel = np.abs((v - E_LEAK) - expected) / expected
    assert rel.max() < 1e-3, rel.max()


def test_input_resistance():
    cable = _cable(400)
    dt, t_max = 1.0, 800.0
    cable.comp(0).stimulate(np.full(int(t_max / dt) + 2, CURRENT), verbose=False)
    cable.comp(0).record(verbose=False)
    v = float(jx.integrate(cable, delta_t=dt)[0, -1])
    r_in = (v - E_LEAK) / CURRENT  # MΩ
    expected = _analytic_deflection(0.0) / CURRENT
    assert abs(r_in - expected) / expected < 1e-3


def test_rc_compartment_charging():
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.set("Leak_gLeak", 1e-4)
    comp.set("Leak_eLeak", -70.0)
    dt, t_max, amp = 0.001, 20.0, 0.01
    comp.stimulate(np.full(int(t_max / dt) + 2, amp), verbose=False)
    comp.record(verbose=False)
    v = np.asarray(jx.integrate(comp, delta_t=dt, t_max=t_max, solver="crank_nicolson"))[0]
    area_cm2 = 2 * np.pi * 1.0 * 10.0 * 1e-8
    r = 1.0 / (1e-4 * area_cm2)  # Ω
    tau = 1.0 / 1e-4 * 1e-6 * 1e3  # cm/g in ms
    t = np.arange(v.size) * dt
    expected = -70.0 + amp * 1e-9 * r * 1e3 * (1 - np.exp(-t / tau))
    assert np.max(np.abs(v - expected)) < 1e-3 * np.max(np.abs(expected + 70.0))


def test_params_of_empty_dicts_without_trainables_match_backward_euler():
    """Jaxley's `integrate(module, params=[{}])` on a module without trainables sets nothing:
    the leak compartment follows the backward-Euler recursion (numpy reference)."""
    from .leaky_reference import backward_euler_leak

    comp = jx.Compartment()
    comp.insert(Leak())
    comp.set("v", -40.0)
    comp.record("v", verbose=False)
    v = np.asarray(jx.integrate(comp, params=[{}], t_max=2.0))[0]
    np.testing.assert_allclose(
        v, backward_euler_leak(-40.0, 1e-4, -70.0, v.size - 1, 0.025), rtol=0, atol=1e-10
    )
    with pytest.raises(ValueError, match="params has 1 entries"):
        jx.integrate(comp, params=[{"Leak_gLeak": np.array([1e-4])}], t_max=2.0)
