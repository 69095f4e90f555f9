"""The workloads of `bench_arbor.py`, built in Arbor and NEURON (dendrax/Jaxley live there).

Every builder takes the same description (`Workload`) and returns a runnable model plus its
counts, so that the bench compares one model in four simulators:

- HH everywhere with dendrax's parameters (gNa 0.12, gK 0.036, gLeak 3e-4 S/cm², eNa 50,
  eK -77, eLeak -54.3 mV), cm 1 µF/cm², the same axial resistivity, at 6.3 °C
  (where the q10 factor of Arbor's and NEURON's `hh` is 1, as dendrax's HH has none);
  v0 -65 mV, gates at their steady state;
- a step current at the soma (the SWC soma sample nearest the soma's centroid; the root of
  the random tree), voltage recorded every step there and at three other places.

Arbor reads the SWC itself (`load_swc_arbor`: every sample a segment end, so the traced
soma is a cable as in dendrax) and is discretized with `cv_policy_fixed_per_branch(4)`.
NEURON is built from dendrax's own compartments (one section per dendrax branch, one
segment per compartment with its length and radius), so it has dendrax's discretization
exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HH = {"gnabar": 0.12, "gkbar": 0.036, "gl": 3e-4, "el": -54.3}  # S/cm², mV
# v0 at HH's resting potential: from -70 mV every simulator fires a rebound spike at 5 ms,
# before the stimulus, which would hide how it responds to the stimulus
E_NA, E_K, V0, CELSIUS = 50.0, -77.0, -65.0, 6.3  # mV, mV, mV, °C


@dataclass(frozen=True)
class Workload:
    """One model: an SWC file (or None for the random tree) and its stimulus and run."""

    label: str
    swc: Path | None  # None: the 155 x 4 tree of bench_core.py
    amplitude: float  # nA
    t_on: float  # ms
    t_off: float  # ms
    t_max: float  # ms
    dt: float  # ms
    ncomp: int = 4


def soma_target(swc: Path) -> np.ndarray:
    """(3,) µm: the soma sample (type 1) nearest the centroid of all soma samples."""
    rows = np.loadtxt(swc, comments="#", ndmin=2)
    soma = rows[rows[:, 1] == 1][:, 2:5]
    if soma.size == 0:
        raise ValueError(f"{swc} has no soma samples (type 1): cannot place the stimulus")
    return soma[np.argmin(np.linalg.norm(soma - soma.mean(axis=0), axis=1))]


def spikes(trace, dt: float, threshold: float = 0.0) -> dict:
    """Spike count, first spike time (ms, or None) and peak (mV) of a voltage trace."""
    v = np.asarray(trace, dtype=np.float64)
    up = np.flatnonzero((v[1:] >= threshold) & (v[:-1] < threshold))
    first = float((up[0] + 1) * dt) if up.size else None
    return {"spikes": int(up.size), "first": first, "peak": float(v.max())}


def spread(n: int, k: int) -> list[int]:
    """`k` indices spread over range(n), the first one excluded (it is near the stimulus)."""
    return sorted({int(i) for i in np.linspace(0, n - 1, k + 1)[1:].round()})


# --------------------------------------------------------------------------------- Arbor


def _arbor_tree_morphology(arbor, geometry):
    """dendrax's branches as cylinders (the random tree: one radius per branch)."""
    tree = arbor.segment_tree()
    ends = []
    for b, p in enumerate(geometry["parents"]):
        parent = arbor.mnpos if p < 0 else ends[p]
        length, radius = float(np.sum(geometry["lengths"][b])), geometry["radii"][b][0]
        # where a branch lies in space does not enter the cable equation
        prox, dist = arbor.mpoint(0, b, 0, radius), arbor.mpoint(length, b, 0, radius)
        ends.append(tree.append(parent, prox, dist, tag=3))
    return arbor.morphology(tree)


def build_arbor(w: Workload, geometry: dict):
    """(simulation, probe handles, counts) for Arbor, one thread; `geometry` as for NEURON."""
    import arbor
    from arbor import units as U

    if w.swc is None:
        morph = _arbor_tree_morphology(arbor, geometry)
        stim_site = "(location 0 0)"
    else:
        morph = arbor.load_swc_arbor(str(w.swc)).morphology
        location, distance = arbor.place_pwlin(morph).closest(*soma_target(w.swc))
        stim_site = f"(location {location.branch} {location.pos})"
    decor = arbor.decor()
    decor.set_property(
        Vm=V0 * U.mV,
        cm=0.01 * U.F / U.m2,  # 1 µF/cm²
        rL=geometry["ra"] * U.Ohm * U.cm,
        tempK=(CELSIUS + 273.15) * U.Kelvin,
    )
    decor.set_ion("na", rev_pot=E_NA * U.mV)
    decor.set_ion("k", rev_pot=E_K * U.mV)
    decor.paint("(all)", arbor.density("hh", HH))
    decor.place(
        stim_site, arbor.i_clamp(w.t_on * U.ms, (w.t_off - w.t_on) * U.ms, w.amplitude * U.nA)
    )
    policy = arbor.cv_policy_fixed_per_branch(w.ncomp)
    cell = arbor.cable_cell(morph, decor, arbor.label_dict(), discretization=policy)
    cvs = arbor.cv_data(cell)
    fork_cvs = sum(
        all(c.prox == c.dist for c in cvs.cables(i)) for i in range(cvs.num_cv)
    )  # zero-extent CVs at fork points: dendrax's branchpoint nodes
    sites = [stim_site] + [f"(location {b} 0.5)" for b in spread(morph.num_branches, 3)]

    class _Recipe(arbor.recipe):
        def __init__(self):
            super().__init__()
            self.props = arbor.neuron_cable_properties()

        def num_cells(self):
            return 1

        def cell_kind(self, gid):
            return arbor.cell_kind.cable

        def cell_description(self, gid):
            return cell

        def probes(self, gid):
            return [arbor.cable_probe_membrane_voltage(s, f"v{i}") for i, s in enumerate(sites)]

        def global_properties(self, kind):
            return self.props

    sim = arbor.simulation(_Recipe(), arbor.context(threads=1))
    schedule = arbor.regular_schedule(w.dt * U.ms)
    handles = [sim.sample((0, f"v{i}"), schedule) for i in range(len(sites))]
    counts = {
        "branches": morph.num_branches,
        "cvs": cvs.num_cv - fork_cvs,
        "fork_cvs": fork_cvs,
        "unknowns": cvs.num_cv,
    }
    return sim, handles, counts


def bench_arbor(w: Workload, geometry: dict, runs: int) -> dict:
    """Arbor's run time (fastest of `runs` after one warm-up run), counts and spikes."""
    from arbor import units as U

    start = time.perf_counter()
    sim, handles, counts = build_arbor(w, geometry)
    build = time.perf_counter() - start
    times = []
    for _ in range(runs + 1):
        sim.reset()
        start = time.perf_counter()
        sim.run(w.t_max * U.ms, w.dt * U.ms)
        times.append(time.perf_counter() - start)
    soma = sim.samples(handles[0])[0][0][:, 1]
    return {
        **counts,
        "build": build,
        "compile": 0.0,
        "run": min(times[1:]),
        **spikes(soma, w.dt),
    }


# -------------------------------------------------------------------------------- NEURON


def bench_neuron(w: Workload, geometry: dict, runs: int) -> dict:
    """NEURON on dendrax's compartments (`geometry`: see `bench_arbor._geometry`)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    start = time.perf_counter()
    h.celsius = CELSIUS
    secs = []
    for b, parent in enumerate(geometry["parents"]):
        sec = h.Section(name=f"b{b}")
        lengths, radii = geometry["lengths"][b], geometry["radii"][b]
        sec.nseg = len(lengths)
        sec.L = float(np.sum(lengths))
        sec.Ra = geometry["ra"]
        sec.cm = 1.0
        sec.insert("hh")
        for seg, r in zip(sec, radii, strict=True):
            seg.diam = 2.0 * r
            seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl, seg.hh.el = (
                HH["gnabar"],
                HH["gkbar"],
                HH["gl"],
                HH["el"],
            )
        sec.ena, sec.ek = E_NA, E_K
        if parent >= 0:
            sec.connect(secs[parent](1), 0)
        secs.append(sec)

    def site(branch, comp):
        return secs[branch]((comp + 0.5) / len(geometry["lengths"][branch]))

    stim = h.IClamp(site(*geometry["stim"]))
    stim.delay, stim.dur, stim.amp = w.t_on, w.t_off - w.t_on, w.amplitude
    vecs = []
    for branch, comp in geometry["records"]:
        vec = h.Vector()
        vec.record(site(branch, comp)._ref_v)
        vecs.append(vec)
    build = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        h.dt = w.dt
        h.finitialize(V0)
        h.continuerun(w.t_max)
        times.append(time.perf_counter() - start)
    soma = np.asarray(vecs[0])
    result = {
        "build": build,
        "compile": 0.0,
        "run": min(times),
        **spikes(soma, w.dt),
        "segments": int(sum(len(x) for x in geometry["lengths"])),
    }
    return result  # the sections are freed with this frame, before the next workload
