"""A compartment with 8 Hay et al. (2011) L5PC channels, in dendrax and in NEURON.

The `.mod` files are never stored in this repository. They ship (BBP versions of the Hay
2011 set: `NaTg` is `NaTa_t` with TTX sensing, same kinetics) in the
`bluepyemodel` wheel under `examples/L5PC/mechanisms/`; `find_mod_files()` extracts them
from a wheel found in `$DENDRAX_TEST_WHEELS` (a folder), `~/.cache/dendrax/wheels` or
`/tmp/wheels` (fetch it with `pip download --no-deps bluepyemodel==1.0.50 -d <folder>`).
Used by `test_hay_channels.py` and `bench/bench_mechanisms.py`.

Units: mV, ms, µm, nA, S/cm².
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

#: The 8 HH-style channels and their conductances (S/cm², Hay 2011 somatic values;
#: K_Pst/K_Tst, absent from the soma there, get small values so that they matter).
CHANNELS = {
    "NaTg": ("gNaTgbar", 2.04),
    "Nap_Et2": ("gNap_Et2bar", 0.00172),
    "SKv3_1": ("gSKv3_1bar", 0.766),
    "K_Pst": ("gK_Pstbar", 0.02),
    "K_Tst": ("gK_Tstbar", 0.02),
    "Ca_HVA": ("gCa_HVAbar", 0.000992),
    "Ca_LVAst": ("gCa_LVAstbar", 0.00343),
    "Ih": ("gIhbar", 0.0002),
}
#: Geometry, passive properties, reversal potentials and temperature of the compartment.
CELL = dict(
    length=20.0,
    diam=20.0,
    cm=1.0,
    g_pas=3e-5,
    e_pas=-75.0,
    ena=50.0,
    ek=-85.0,
    eca=120.0,
    celsius=34.0,
    v_init=-75.0,
)
#: Current clamp (nA, ms).
STIM = dict(delay=20.0, dur=60.0, amp=0.4)
_WHEEL_GLOB = "bluepyemodel-*.whl"
_IN_WHEEL = "examples/L5PC/mechanisms/"


def _wheel_dirs():
    dirs = [
        os.environ.get("DENDRAX_TEST_WHEELS"),
        Path.home() / ".cache/dendrax/wheels",
        "/tmp/wheels",
    ]
    return [Path(d) for d in dirs if d]


def find_mod_files(dest: Path) -> dict | None:
    """Extract the 8 channel `.mod` files into `dest`; None if no wheel is available."""
    for folder in _wheel_dirs():
        for wheel in sorted(folder.glob(_WHEEL_GLOB)) if folder.is_dir() else []:
            with zipfile.ZipFile(wheel) as zf:
                names = set(zf.namelist())
                wanted = {n: f"{_IN_WHEEL}{n}.mod" for n in CHANNELS}
                if not set(wanted.values()) <= names:
                    continue
                dest.mkdir(parents=True, exist_ok=True)
                out = {}
                for name, member in wanted.items():
                    out[name] = dest / f"{name}.mod"
                    out[name].write_bytes(zf.read(member))
                return out
    return None


def dendrax_compartment(mod_files: dict, t_max: float, dt: float):
    """The compartment in dendrax (channels imported with `read_mod`), recording v."""
    import dendrax as jx
    from dendrax.channels import Leak
    from dendrax.io.nmodl import read_mod

    comp = jx.Compartment()
    comp.set("length", CELL["length"])
    comp.set("radius", CELL["diam"] / 2.0)
    comp.set("capacitance", CELL["cm"])
    for name, (gbar, value) in CHANNELS.items():
        comp.insert(read_mod(mod_files[name], celsius=CELL["celsius"])())
        comp.set(f"{name}_{gbar}", value)
    comp.insert(Leak())
    comp.set("Leak_gLeak", CELL["g_pas"])
    comp.set("Leak_eLeak", CELL["e_pas"])
    for key in ("ena", "ek", "eca"):
        comp.set(key, CELL[key])
    comp.set("v", CELL["v_init"])
    comp.init_states(dt)
    comp.record("v", verbose=False)
    comp.stimulate(
        jx.step_current(STIM["delay"], STIM["dur"], STIM["amp"], dt, t_max), verbose=False
    )
    return comp


_NEURON_SCRIPT = """
import json, sys, time
from neuron import h
h.nrn_load_dll(sys.argv[1])
cfg = json.loads(sys.argv[2])
cell, chans, stim_cfg = cfg["cell"], cfg["channels"], cfg["stim"]
h.load_file("stdrun.hoc")
s = h.Section(name="soma")
s.L, s.diam, s.nseg, s.cm = cell["length"], cell["diam"], 1, cell["cm"]
for name, (gbar, value) in chans.items():
    s.insert(name)
    setattr(s(0.5), gbar + "_" + name, value)
s.insert("pas")
s.g_pas, s.e_pas = cell["g_pas"], cell["e_pas"]
s.ena, s.ek, s.eca = cell["ena"], cell["ek"], cell["eca"]
h.celsius = cell["celsius"]
stim = h.IClamp(s(0.5))
stim.delay, stim.dur, stim.amp = stim_cfg["delay"], stim_cfg["dur"], stim_cfg["amp"]
v = h.Vector().record(s(0.5)._ref_v)
h.dt = cfg["dt"]
h.steps_per_ms = 1.0 / cfg["dt"]
times = []
for _ in range(cfg["repeats"]):
    t0 = time.perf_counter()
    h.finitialize(cell["v_init"])
    h.continuerun(cfg["t_max"])
    times.append(time.perf_counter() - t0)
print(json.dumps({"v": list(v), "seconds": min(times)}))
"""


def compile_mechanisms(mod_files: dict, workdir: Path) -> Path:
    """Compile the `.mod` files with `nrnivmodl` in `workdir`; returns `libnrnmech.so`."""
    nrnivmodl = shutil.which("nrnivmodl") or str(Path(sys.executable).parent / "nrnivmodl")
    workdir.mkdir(parents=True, exist_ok=True)
    for path in mod_files.values():
        shutil.copy(path, workdir / Path(path).name)
    subprocess.run([nrnivmodl], cwd=workdir, check=True, capture_output=True, timeout=300)
    return next(workdir.glob("*/libnrnmech.so"))


def run_neuron(lib: Path, t_max: float, dt: float, repeats: int = 1) -> dict:
    """Run the compartment in NEURON (subprocess); `{"v": [...], "seconds": best time}`."""
    cfg = {
        "cell": CELL,
        "channels": CHANNELS,
        "stim": STIM,
        "dt": dt,
        "t_max": t_max,
        "repeats": repeats,
    }
    # Run outside the build folder, so that NEURON does not auto-load the library too.
    rundir = lib.parent.parent.parent
    script = rundir / "run_neuron.py"
    script.write_text(_NEURON_SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(lib), json.dumps(cfg)],
        cwd=rundir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode:
        raise RuntimeError(f"NEURON failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
