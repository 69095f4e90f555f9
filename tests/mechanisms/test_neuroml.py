"""NeuroML2 channel import (`dendrax.io.neuroml.read_neuroml`): the four standard HH forms."""

import zipfile

import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.io.neuroml import channel_ids, read_neuroml

from .hay_model import find_mod_files

DT = 0.025
_HEAD = '<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="test">'

# Hodgkin-Huxley 1952 (Jaxley's HH rates) written with HHExpLinearRate, HHExpRate and
# HHSigmoidRate; the leak as an ionChannelPassive.
SQUID = (
    _HEAD
    + """
  <ionChannelHH id="NaHH" conductance="10pS" species="na">
    <gate id="m" type="gateHHrates" instances="3">
      <forwardRate type="HHExpLinearRate" rate="1per_ms" scale="10mV" midpoint="-40mV"/>
      <reverseRate type="HHExpRate" rate="4per_ms" scale="-18mV" midpoint="-65mV"/>
    </gate>
    <gate id="h" type="gateHHrates" instances="1">
      <forwardRate type="HHExpRate" rate="0.07per_ms" scale="-20mV" midpoint="-65mV"/>
      <reverseRate type="HHSigmoidRate" rate="1per_ms" scale="10mV" midpoint="-35mV"/>
    </gate>
  </ionChannelHH>
  <ionChannelHH id="KHH" conductance="10pS" species="k">
    <gate id="n" type="gateHHrates" instances="4">
      <forwardRate type="HHExpLinearRate" rate="100per_s" scale="10mV" midpoint="-0.055V"/>
      <reverseRate type="HHExpRate" rate="0.125per_ms" scale="-80mV" midpoint="-65mV"/>
    </gate>
  </ionChannelHH>
  <ionChannelPassive id="LeakHH" conductance="10pS"/>
</neuroml>
"""
)


def _run(channels, values, t_max=20.0, init=False, amp=0.02):
    comp = jx.Compartment()
    for ch in channels:
        comp.insert(ch)
    for key, value in values.items():
        comp.set(key, value)
    if init:
        comp.init_states()
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(2.0, 30.0, amp, DT, t_max), verbose=False)
    return np.asarray(jx.integrate(comp, t_max=t_max, delta_t=DT))[0]


def test_squid_channels_equal_builtin_hh(tmp_path):
    path = tmp_path / "squid.nml"
    path.write_text(SQUID)
    assert channel_ids(path) == ["NaHH", "KHH", "LeakHH"]
    na, k, leak = (read_neuroml(path, cid)() for cid in channel_ids(path))
    assert na.current_name == "i_Na" and set(na.channel_params) == {"NaHH_gbar", "ena"}
    assert set(na.channel_states) == {"NaHH_m", "NaHH_h"}
    values = {
        "NaHH_gbar": 0.12,
        "KHH_gbar": 0.036,
        "LeakHH_gbar": 3e-4,
        "LeakHH_erev": -54.3,
        "ena": 50.0,
        "ek": -77.0,
    }
    v_nml = _run([na, k, leak], values)
    v_hh = _run([HH()], {})
    assert v_hh.max() > 20.0
    np.testing.assert_allclose(v_nml, v_hh, atol=1e-8, rtol=0)


def test_q10_and_tau_inf_gates(tmp_path):
    path = tmp_path / "kd.nml"
    path.write_text(
        _HEAD
        + """
      <ionChannelHH id="Kd" species="k">
        <gate id="m" type="gateHHtauInf" instances="1">
          <q10Settings type="q10ExpTemp" q10Factor="3" experimentalTemp="279.45 K"/>
          <timeCourse type="fixedTimeCourse" tau="2ms"/>
          <steadyState type="HHSigmoidVariable" rate="1" scale="8mV" midpoint="-43mV"/>
        </gate>
      </ionChannelHH></neuroml>"""
    )
    ch = read_neuroml(path, celsius=16.3)()
    v = jnp.asarray([-60.0, -43.0, 0.0])
    inf = 1.0 / (1.0 + np.exp(-(np.asarray(v) + 43.0) / 8.0))
    np.testing.assert_allclose(ch.init_state({}, v, {}, DT)["Kd_m"], inf, rtol=1e-12)
    x0 = jnp.zeros(3)
    new = ch.update_states({"Kd_m": x0}, 0.1, v, {})["Kd_m"]
    tau = 2.0 / 3.0  # q10 = 3 ** ((16.3 - 6.3) / 10)
    np.testing.assert_allclose(new, inf * (1 - np.exp(-0.1 / tau)), rtol=1e-10)


def test_custom_component_types_are_rejected(tmp_path):
    path = tmp_path / "custom.nml"
    path.write_text(
        _HEAD
        + """
      <ionChannelHH id="Kx" species="k">
        <gate id="m" type="gateHHtauInf" instances="2">
          <timeCourse type="Kx_m_tau_tau"/>
          <steadyState type="HHSigmoidVariable" rate="1" scale="12mV" midpoint="-11mV"/>
        </gate>
      </ionChannelHH></neuroml>"""
    )
    with pytest.raises(NotImplementedError, match="'Kx'.*'m'.*Kx_m_tau_tau"):
        read_neuroml(path)
    with pytest.raises(ValueError, match="found ids"):
        read_neuroml(path, channel_id="nope")


def _bluepyopt_nml(dest):
    from .hay_model import _wheel_dirs

    for folder in _wheel_dirs():
        for wheel in sorted(folder.glob("bluepyopt-*.whl")) if folder.is_dir() else []:
            with zipfile.ZipFile(wheel) as zf:
                out = {}
                for name in ("NaTa_t", "Ca_HVA", "Ih"):
                    member = f"bluepyopt/neuroml/NeuroML2_mechanisms/{name}.channel.nml"
                    out[name] = dest / f"{name}.nml"
                    out[name].write_bytes(zf.read(member))
                return out
    return None


def test_hay_neuroml_channels_equal_the_mod_files(tmp_path):
    """bluepyopt's NeuroML2 Hay channels vs the .mod files (bluepyemodel) via read_mod."""
    from dendrax.io.nmodl import read_mod

    nml = _bluepyopt_nml(tmp_path)
    mods = find_mod_files(tmp_path / "mod")
    if nml is None or mods is None:
        pytest.skip("bluepyopt / bluepyemodel wheels not available (see hay_model.py)")
    # A delayed rectifier from the built-in HH (sodium and leak off) repolarizes both.
    common = {
        "ena": 50.0,
        "eca": 120.0,
        "Leak_gLeak": 3e-5,
        "Leak_eLeak": -75.0,
        "v": -75.0,
        "HH_gNa": 0.0,
        "HH_gLeak": 0.0,
        "HH_gK": 0.03,
        "HH_eK": -85.0,
    }
    from_nml = [read_neuroml(nml[n])() for n in ("NaTa_t", "Ca_HVA", "Ih")]
    v_nml = _run(
        from_nml + [Leak(), HH()],
        {**common, "NaTa_t_gbar": 0.05, "Ca_HVA_gbar": 1e-3, "Ih_gbar": 2e-4, "Ih_erev": -45.0},
        t_max=40.0,
        init=True,
        amp=0.1,
    )
    from_mod = [read_mod(mods[n], celsius=34.0)() for n in ("NaTg", "Ca_HVA", "Ih")]
    v_mod = _run(
        from_mod + [Leak(), HH()],
        {**common, "NaTg_gNaTgbar": 0.05, "Ca_HVA_gCa_HVAbar": 1e-3, "Ih_gIhbar": 2e-4},
        t_max=40.0,
        init=True,
        amp=0.1,
    )
    assert v_mod.max() > 0.0  # it spikes
    print(f"mean |dV| = {np.mean(np.abs(v_nml - v_mod)):.2e} mV")
    assert np.mean(np.abs(v_nml - v_mod)) < 0.05
