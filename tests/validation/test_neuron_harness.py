"""Validate the NEURON reference harness against analytic solutions.

These tests check the harness itself (unit conversions, morphology wiring, recording
layout), so that dendrax-vs-NEURON comparisons built on it can be trusted.
"""

from __future__ import annotations

import numpy as np
import pytest

from .neuron_cable import requires_neuron, simulate_neuron_cable

pytestmark = requires_neuron

UM2_TO_CM2 = 1e-8  # µm² -> cm²
NA_TO_A = 1e-9  # nA -> A
V_TO_MV = 1e3  # V -> mV


def _single_compartment(dt: float, secondorder: int = 0):
    """One passive compartment with a current step; return (t, V, V_analytic) in ms, mV."""
    diam, length = 10.0, 10.0  # µm
    g, e, cm = 1e-4, -70.0, 1.0  # S/cm², mV, µF/cm²
    amp, delay, t_max = 0.01, 1.0, 50.0  # nA, ms, ms
    v = simulate_neuron_cable(
        parents=[-1],
        ncomp=[1],
        lengths=[length],
        radii=[[diam / 2]],
        axial_resistivity=100.0,
        capacitance=cm,
        hh=None,
        passive={"g": g, "e": e},
        stimuli=[(0, 0.5, delay, 1e9, amp)],
        recordings=[(0, 0.5)],
        dt=dt,
        t_max=t_max,
        v_init=e,
        secondorder=secondorder,
    )[0]
    area_cm2 = np.pi * diam * length * UM2_TO_CM2  # lateral area of the cylinder
    r_in = 1.0 / (g * area_cm2)  # Ω
    tau = cm * 1e-6 / g * 1e3  # (F/cm²)/(S/cm²) = s -> ms
    t = np.arange(v.shape[0]) * dt
    ts = np.clip(t - delay, 0.0, None)
    v_ref = e + amp * NA_TO_A * r_in * V_TO_MV * (1.0 - np.exp(-ts / tau))
    return t, v, v_ref, amp * NA_TO_A * r_in * V_TO_MV


def test_single_compartment_rc_step():
    t, v, v_ref, deflection = _single_compartment(dt=0.005)
    assert v.dtype == np.float64
    assert v.shape == (round(50.0 / 0.005) + 1,)
    assert v[0] == pytest.approx(-70.0)
    assert deflection == pytest.approx(31.83, rel=1e-3)  # 0.01 nA * 3.18 GΩ
    err = np.max(np.abs(v - v_ref))
    assert err < 0.005 * deflection, err
    # Backward Euler is first order in dt: halving dt ~halves the error.
    _, v2, v2_ref, _ = _single_compartment(dt=0.01)
    err2 = np.max(np.abs(v2 - v2_ref))
    assert 1.7 < err2 / err < 2.3


def test_single_compartment_crank_nicolson_is_more_accurate():
    _, v_be, ref, deflection = _single_compartment(dt=0.05, secondorder=0)
    _, v_cn, _, _ = _single_compartment(dt=0.05, secondorder=2)
    err_be = np.max(np.abs(v_be - ref))
    err_cn = np.max(np.abs(v_cn - ref))
    assert err_cn < 1e-3 * deflection
    assert err_cn < 0.1 * err_be


def _cable_analytic(x_um, current_na, length_um, diam_um, rm, ra, e):
    """Sealed-end cable, current injected at x = 0: steady-state V(x) (mV)."""
    d_cm, l_cm, x_cm = diam_um * 1e-4, length_um * 1e-4, np.asarray(x_um) * 1e-4
    lam = np.sqrt(rm * d_cm / (4.0 * ra))  # cm
    r_inf = ra * lam / (np.pi * (d_cm / 2) ** 2)  # Ω, semi-infinite input resistance
    i_a = current_na * NA_TO_A
    return e + i_a * r_inf * V_TO_MV * np.cosh((l_cm - x_cm) / lam) / np.sinh(l_cm / lam)


def test_long_passive_cable_steady_state():
    length, diam, rm, ra, e, amp, nseg = 1000.0, 1.0, 40000.0, 100.0, -65.0, 0.1, 201
    first_center = 0.5 / nseg
    locs = [0.0, first_center, 0.25, 0.5, 0.75, 1.0 - first_center, 1.0]
    v = simulate_neuron_cable(
        parents=[-1],
        ncomp=[nseg],
        lengths=[length],
        radii=[[diam / 2] * nseg],
        axial_resistivity=ra,
        capacitance=1.0,
        hh=None,
        passive={"g": 1.0 / rm, "e": e},
        stimuli=[(0, 0.0, 0.0, 1e9, amp)],
        recordings=[(0, x) for x in locs],
        dt=0.1,
        t_max=800.0,
        v_init=e,
    )
    assert v.shape == (len(locs), 8001)
    # sec(loc) records the node of the segment containing loc: segment centers inside,
    # the zero-area end nodes at 0 and 1.
    node_x = [0.0] + [(np.floor(x * nseg) + 0.5) / nseg for x in locs[1:-1]] + [1.0]
    v_ref = _cable_analytic(np.array(node_x) * length, amp, length, diam, rm, ra, e)
    deflection = v_ref - e
    rel = np.abs(v[:, -1] - v_ref) / deflection
    assert np.all(rel < 0.005), rel
    # Really at steady state (20 tau).
    np.testing.assert_allclose(v[:, -1], v[:, -100], rtol=0, atol=1e-6 * deflection.max())


def test_branches_connect_distal_to_proximal():
    """Two 500 µm branches in series equal one 1000 µm section with the same centers."""
    common = dict(
        axial_resistivity=150.0,
        capacitance=1.0,
        hh=None,
        passive={"g": 1e-4, "e": -65.0},
        dt=0.025,
        t_max=20.0,
        v_init=-65.0,
    )
    r = 0.75
    one = simulate_neuron_cable(
        parents=[-1],
        ncomp=[20],
        lengths=[1000.0],
        radii=[[r] * 20],
        stimuli=[(0, 0.0, 1.0, 5.0, 0.2)],
        recordings=[(0, 0.525), (0, 0.975)],
        **common,
    )
    two = simulate_neuron_cable(
        parents=[-1, 0],
        ncomp=[10, 10],
        lengths=[500.0, 500.0],
        radii=[[r] * 10, [r] * 10],
        stimuli=[(0, 0.0, 1.0, 5.0, 0.2)],
        recordings=[(1, 0.05), (1, 0.95)],
        **common,
    )
    assert np.max(np.abs(one[:, 1:] - one[:, :1])) > 1.0  # the stimulus does something
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-9)


def test_hh_spikes_and_respects_parameters():
    hh = {"gNa": 0.12, "gK": 0.036, "gLeak": 3e-4, "eNa": 50.0, "eK": -77.0, "eLeak": -54.3}
    kwargs = dict(
        parents=[-1],
        ncomp=[1],
        lengths=[20.0],
        radii=[[10.0]],
        axial_resistivity=100.0,
        capacitance=1.0,
        passive=None,
        stimuli=[(0, 0.5, 1.0, 2.0, 0.5)],
        recordings=[(0, 0.5)],
        dt=0.025,
        t_max=10.0,
        v_init=-65.0,
    )
    v = simulate_neuron_cable(hh=hh, **kwargs)[0]
    assert v.max() > 20.0
    v_no_na = simulate_neuron_cable(hh={**hh, "gNa": 0.0}, **kwargs)[0]
    assert v_no_na.max() < -30.0


def test_repeated_calls_leave_no_sections():
    from neuron import h

    n_before = len(list(h.allsec()))
    kwargs = dict(
        parents=[-1, 0, 0],
        ncomp=[3, 2, 4],
        lengths=[50.0, 80.0, 120.0],
        radii=[[1.0, 1.0, 0.9], [0.5, 0.4], [0.6] * 4],
        axial_resistivity=100.0,
        capacitance=1.0,
        hh=None,
        passive={"g": 1e-4, "e": -70.0},
        stimuli=[(1, 0.5, 0.5, 1.0, 0.1)],
        recordings=[(0, 0.5), (2, 1.0)],
        dt=0.025,
        t_max=5.0,
    )
    a = simulate_neuron_cable(**kwargs)
    assert len(list(h.allsec())) == n_before
    b = simulate_neuron_cable(**kwargs)
    assert len(list(h.allsec())) == n_before
    np.testing.assert_array_equal(a, b)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        simulate_neuron_cable(
            parents=[-1],
            ncomp=[2],
            lengths=[10.0],
            radii=[[1.0, 1.0, 1.0]],
            axial_resistivity=100.0,
            capacitance=1.0,
            hh=None,
            passive=None,
            stimuli=[],
            recordings=[(0, 0.5)],
            dt=0.025,
            t_max=1.0,
        )
