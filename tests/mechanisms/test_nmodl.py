"""NMODL import: NEURON's hh.mod ≡ HH, pas ≡ Leak, vs NEURON itself, unsupported errors."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import dendrax as jx

pytest.importorskip("neuron")
from dendrax.io.nmodl import read_mod  # noqa: E402

SHARE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
SHARE = SHARE / "site-packages" / "neuron" / ".data" / "share"
HH_MOD, PAS_MOD = SHARE / "modfile" / "hh.mod", SHARE / "modfile" / "passive.mod"
DEMO = SHARE / "nrn" / "demo" / "release"
if not HH_MOD.exists():
    pytest.skip("neuron wheel data (.mod files) not found", allow_module_level=True)

STIM = dict(delay=2.0, dur=20.0, amp=0.02)
DT, T_MAX = 0.025, 40.0


def _run(channels, v0=-65.0, **values):
    comp = jx.Compartment()
    for ch in channels:
        comp.insert(ch)
    for key, value in values.items():
        comp.set(key, value)
    comp.set("v", v0)
    comp.init_states()
    comp.record(verbose=False)
    comp.stimulate(
        jx.step_current(STIM["delay"], STIM["dur"], STIM["amp"], DT, T_MAX), verbose=False
    )
    return np.asarray(jx.integrate(comp, t_max=T_MAX, delta_t=DT))[0]


def test_hh_mod_equals_builtin_hh():
    HHMod = read_mod(HH_MOD)
    ch = HHMod()
    assert ch.name == "hh" and ch.current_name == "i_hh"
    assert ch.channel_params["hh_gnabar"] == 0.12 and ch.channel_params["celsius"] == 6.3
    assert set(ch.channel_states) == {"hh_m", "hh_h", "hh_n"}
    assert "class hh(_ModChannel)" in HHMod.__nmodl_source__
    assert issubclass(HHMod, jx.channels.Channel)
    v_mod = _run([ch], hh_el=-54.3)
    v_hh = _run([jx.channels.HH()], HH_eK=-77.0)
    assert v_hh.max() > 20.0
    assert np.max(np.abs(v_mod - v_hh)) < 1e-8


def test_pas_mod_equals_leak():
    v_pas = _run([read_mod(PAS_MOD)()], pas_g=1e-4, pas_e=-70.0)
    v_leak = _run([jx.channels.Leak()])
    assert np.max(np.abs(v_pas - v_leak)) < 1e-10


def test_celsius_changes_kinetics():
    hot = read_mod(HH_MOD, celsius=16.0)()
    assert hot.channel_params["celsius"] == 16.0
    v_cold, v_hot = _run([read_mod(HH_MOD)()]), _run([hot])
    assert np.max(np.abs(v_cold - v_hot)) > 1.0


@pytest.mark.parametrize(
    "name, block",
    [("capmpr.mod", "KINETIC"), ("release.mod", "KINETIC"), ("invlfire.mod", "NET_RECEIVE")],
)
def test_unsupported_files_name_block_and_line(name, block):
    with pytest.raises(NotImplementedError, match=rf"{name}: {block} block \(line \d+\)"):
        read_mod(DEMO / name)


def test_nonlinear_derivative_is_rejected(tmp_path):
    mod = tmp_path / "quad.mod"
    mod.write_text(
        textwrap.dedent("""
        NEURON { SUFFIX quad NONSPECIFIC_CURRENT i }
        STATE { x }
        ASSIGNED { v i }
        BREAKPOINT { SOLVE s METHOD cnexp
            i = 0 }
        DERIVATIVE s {
            x' = -x*x
        }
    """)
    )
    with pytest.raises(NotImplementedError, match=r"x' \(line 8\) is not linear"):
        read_mod(mod)


_NEURON_SCRIPT = """
import json, sys
from neuron import h
if not hasattr(h, "usetable_HHk"):  # not auto-loaded from the working directory
    h.nrn_load_dll(sys.argv[1])
h.load_file("stdrun.hoc")
s = h.Section(name="soma")
s.L, s.diam, s.nseg, s.cm = 10.0, 2.0, 1, 1.0
for m in ("HHna", "HHk", "pas"):
    s.insert(m)
s.g_pas, s.e_pas = 3e-4, -54.3
h.usetable_HHna = 0
h.usetable_HHk = 0
h.celsius = float(sys.argv[2])
stim = h.IClamp(s(0.5))
stim.delay, stim.dur, stim.amp = {delay}, {dur}, {amp}
v = h.Vector().record(s(0.5)._ref_v)
h.dt = {dt}
h.finitialize(-65.0)
h.continuerun({t_max})
print(json.dumps(list(v)))
"""


def test_imported_channels_match_neuron(tmp_path):
    """nachan.mod + khhchan.mod + pas at 16 °C (q10 active), NEURON vs dendrax."""
    celsius = 16.0
    nrnivmodl = shutil.which("nrnivmodl") or str(Path(sys.executable).parent / "nrnivmodl")
    for name in ("nachan.mod", "khhchan.mod"):
        shutil.copy(DEMO / name, tmp_path / name)
    try:
        subprocess.run([nrnivmodl], cwd=tmp_path, check=True, capture_output=True, timeout=120)
        lib = next(tmp_path.glob("*/libnrnmech.so"))
    except (subprocess.SubprocessError, OSError, StopIteration) as err:
        pytest.skip(f"nrnivmodl could not compile the .mod files: {err}")
    script = tmp_path / "run_neuron.py"
    script.write_text(_NEURON_SCRIPT.format(dt=DT, t_max=T_MAX, **STIM))
    out = subprocess.run(
        [sys.executable, str(script), str(lib), str(celsius)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    v_neuron = np.array(__import__("json").loads(out.stdout.strip().splitlines()[-1]))

    Na, K = read_mod(DEMO / "nachan.mod", celsius), read_mod(DEMO / "khhchan.mod", celsius)
    Pas = read_mod(SHARE / "modfile" / "passive.mod")
    v_dx = _run([Na(), K(), Pas()], pas_g=3e-4, pas_e=-54.3)
    assert v_dx.shape == v_neuron.shape
    assert v_neuron.max() > 0.0  # it spikes
    assert np.mean(np.abs(v_dx - v_neuron)) < 0.05
