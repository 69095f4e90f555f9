"""`dendrax.io.nwb`: current-clamp sweeps from NWB files that pynwb writes in the test.

Unit conversion is checked against values written in other units, resampling against an
analytic ramp, and the end-to-end contract (stimulus ready for ``data_stimulate``) against
the closed-form step response of a passive compartment.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jax
import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")
from pynwb.base import TimeSeries  # noqa: E402
from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries  # noqa: E402

import dendrax as jx  # noqa: E402
from dendrax.channels import Leak  # noqa: E402
from dendrax.io.nwb import NWBError, list_sweeps, read_current_clamp  # noqa: E402

RATE = 50_000.0  # Hz: 0.02 ms, the Allen Cell Types rate


def _nwbfile():
    nwb = pynwb.NWBFile(
        session_description="dendrax test",
        identifier="dendrax-test",
        session_start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="e0", description="test", device=device)
    return nwb, electrode


def _write(path, nwb):
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _add_sweep(
    nwb,
    electrode,
    number,
    volts,
    amperes,
    *,
    v_unit="volts",
    i_unit="amperes",
    v_conversion=1.0,
    i_conversion=1.0,
    stim=True,
):
    nwb.add_acquisition(
        CurrentClampSeries(
            name=f"data_{number:05d}_AD0",
            data=volts,
            electrode=electrode,
            gain=1.0,
            rate=RATE,
            sweep_number=np.uint32(number),
            unit=v_unit,
            conversion=v_conversion,
        )
    )
    if stim:
        nwb.add_stimulus(
            CurrentClampStimulusSeries(
                name=f"data_{number:05d}_DA0",
                data=amperes,
                electrode=electrode,
                gain=1.0,
                rate=RATE,
                sweep_number=np.uint32(number),
                unit=i_unit,
                conversion=i_conversion,
            )
        )


def _set_stored_unit(path, series_path, unit):
    """Write a unit into the file as older or other writers do (pynwb itself forces SI)."""
    import h5py

    with h5py.File(path, "a") as f:
        f[series_path]["data"].attrs["unit"] = unit


def test_unit_stored_in_the_file_is_honoured_over_pynwbs_default(tmp_path):
    # pynwb reads a current-clamp series back as 'volts' whatever the file says.
    nwb, el = _nwbfile()
    _add_sweep(nwb, el, 1, np.full(20, -61.5), np.full(20, 120.0))
    path = _write(tmp_path / "mv.nwb", nwb)
    _set_stored_unit(path, "acquisition/data_00001_AD0", "mV")
    _set_stored_unit(path, "stimulus/presentation/data_00001_DA0", "pA")
    s = read_current_clamp(path, sweep=1)
    np.testing.assert_allclose(s.voltage, -61.5)
    np.testing.assert_allclose(s.stimulus, 0.12)


def _passive_response(t_ms, amp_na, delay, dur, tau, r_mohm, e_rest):
    """Closed-form voltage (mV) of an RC membrane for a current step (nA)."""
    v_inf = amp_na * r_mohm  # nA * MOhm = mV

    def rise(s):
        return np.where(s > 0, 1.0 - np.exp(-np.maximum(s, 0.0) / tau), 0.0)

    return e_rest + v_inf * (rise(t_ms - delay) - rise(t_ms - delay - dur))


def test_units_are_converted_to_mv_and_na(tmp_path):
    nwb, el = _nwbfile()
    n = 200
    # Response stored as integer mV with conversion 1e-3 to volts; stimulus in pA.
    _add_sweep(
        nwb,
        el,
        3,
        np.full(n, -65, dtype=np.int16),
        np.full(n, 150, dtype=np.int16),
        v_conversion=1e-3,
        i_conversion=1e-12,
    )
    _add_sweep(nwb, el, 4, np.full(n, -0.07), np.full(n, 2e-10))
    path = _write(tmp_path / "units.nwb", nwb)
    assert list_sweeps(path) == [("data_00003_AD0", 3), ("data_00004_AD0", 4)]
    s3 = read_current_clamp(path, sweep=3)
    np.testing.assert_allclose(s3.voltage, -65.0)
    np.testing.assert_allclose(s3.stimulus, 0.15)
    assert s3.delta_t == pytest.approx(0.02)
    s4 = read_current_clamp(path, sweep="data_00004_AD0")
    np.testing.assert_allclose(s4.voltage, -70.0)
    np.testing.assert_allclose(s4.stimulus, 0.2)
    assert s4.t_max == pytest.approx((n - 1) * 0.02)


def test_resampling_and_window_against_analytic_ramp(tmp_path):
    nwb, el = _nwbfile()
    t = np.arange(2001) * 0.02  # 0..40 ms
    volts = (-70.0 + 0.5 * t) * 1e-3
    amperes = np.where(t >= 10.0, 0.3e-9, 0.0)
    _add_sweep(nwb, el, 1, volts, amperes)
    path = _write(tmp_path / "ramp.nwb", nwb)
    s = read_current_clamp(path, sweep=1, delta_t=0.025, t_start=5.0, t_stop=35.0)
    assert s.delta_t == 0.025 and s.t_start == pytest.approx(5.0)
    assert s.voltage.size == 1201
    np.testing.assert_allclose(s.voltage, -70.0 + 0.5 * (5.0 + s.t), atol=1e-9)
    expected = np.where(5.0 + s.t >= 10.0 - 1e-9, 0.3, 0.0)
    np.testing.assert_array_equal(s.stimulus, expected)


def test_sweep_drives_a_simulation_that_matches_the_rc_solution(tmp_path):
    jax.config.update("jax_enable_x64", True)
    radius, length, g_leak, e_leak = 10.0, 20.0, 1e-4, -70.0
    area_cm2 = 2 * np.pi * radius * length * 1e-8
    r_mohm = 1.0 / (g_leak * area_cm2) / 1e6
    tau = 1.0 / g_leak * 1e-6 * 1e3  # C = 1 uF/cm2: tau = C / g in ms (10 ms)
    t = np.arange(2501) * 0.02  # 50 ms
    amp, delay, dur = 0.01, 5.0, 30.0
    amperes = np.where((t >= delay) & (t < delay + dur), amp * 1e-9, 0.0)
    v_true = _passive_response(t, amp, delay, dur, tau, r_mohm, e_leak)
    nwb, el = _nwbfile()
    _add_sweep(nwb, el, 7, v_true * 1e-3, amperes)
    sweep = read_current_clamp(_write(tmp_path / "rc.nwb", nwb), sweep=7, delta_t=0.01)

    comp = jx.Compartment()
    comp.set("radius", radius)
    comp.set("length", length)
    comp.insert(Leak())
    comp.set("Leak_gLeak", g_leak)
    comp.set("Leak_eLeak", e_leak)
    comp.set("v", e_leak)
    comp.record("v", verbose=False)
    data = comp.data_stimulate(sweep.stimulus)
    v = np.asarray(jx.integrate(comp, data_stimuli=data, delta_t=sweep.delta_t, t_max=sweep.t_max))[
        0
    ]
    assert v.shape == sweep.voltage.shape
    assert np.ptp(sweep.voltage) > 5.0
    # Backward Euler at dt 0.01 ms vs the closed form: first-order error, well below 0.05 mV.
    assert np.max(np.abs(v - sweep.voltage)) < 0.05


def test_bad_files_and_sweeps_get_clear_errors(tmp_path):
    nwb, el = _nwbfile()
    nwb.add_acquisition(TimeSeries(name="lfp", data=np.zeros(10), unit="volts", rate=1e3))
    empty = _write(tmp_path / "no_sweeps.nwb", nwb)
    with pytest.raises(NWBError, match=r"no current-clamp sweeps .* TimeSeries"):
        read_current_clamp(empty, sweep=1)

    nwb, el = _nwbfile()
    _add_sweep(nwb, el, 1, np.zeros(10), np.zeros(10))
    _add_sweep(nwb, el, 2, np.zeros(10), np.zeros(10))
    _add_sweep(nwb, el, 3, np.zeros(10), np.zeros(10), stim=False)
    path = _write(tmp_path / "bad.nwb", nwb)
    _set_stored_unit(path, "acquisition/data_00001_AD0", "furlongs")
    _set_stored_unit(path, "stimulus/presentation/data_00002_DA0", "coulombs")
    with pytest.raises(NWBError, match="unit 'furlongs'; expected one of .*millivolts"):
        read_current_clamp(path, sweep=1)
    with pytest.raises(NWBError, match="unit 'coulombs'"):
        read_current_clamp(path, sweep=2)
    with pytest.raises(NWBError, match="no CurrentClampStimulusSeries with sweep_number 3"):
        read_current_clamp(path, sweep=3)
    with pytest.raises(NWBError, match=r"no sweep named 'data_9'; sweeps: data_00001_AD0"):
        read_current_clamp(path, sweep="data_9")
    with pytest.raises(NWBError, match=r"no sweep number 9; sweep numbers: \[1, 2, 3\]"):
        read_current_clamp(path, sweep=9)
    nwb, el = _nwbfile()
    _add_sweep(nwb, el, 1, np.zeros(10), np.zeros(10))
    ok = _write(tmp_path / "ok.nwb", nwb)
    with pytest.raises(NWBError, match="window"):
        read_current_clamp(ok, sweep=1, t_start=0.5, t_stop=0.1)
    with pytest.raises(TypeError, match="sweep must be"):
        read_current_clamp(ok, sweep=1.5)

    text = tmp_path / "notes.nwb"
    text.write_text("not hdf5")
    with pytest.raises(NWBError, match="not a readable NWB file"):
        list_sweeps(text)
    with pytest.raises(FileNotFoundError, match="no such NWB file"):
        list_sweeps(tmp_path / "absent.nwb")
