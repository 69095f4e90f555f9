"""NEURON and dendrax sides of the voltage comparison on reconstructed (SWC) cells.

NEURON loads the file with ``Import3d`` (its own SWC rules); dendrax with ``read_swc``.

**Branch ↔ section mapping.** dendrax (like Jaxley) traverses the tree from the lowest-id
point with at most one neighbour, which is often a dendrite tip, so its branches may run
towards the soma; NEURON's sections always run away from the soma. Both split the tree at
branching points, type changes and (with ``ignore_swc_tracing_interruptions=False``)
tracing interruptions, so there is one section per branch, holding the same traced points.
Each dendrax branch is matched to the NEURON section that shares most of its traced points
(coordinates rounded to 0.01 µm: the sections holding all of its points, ties broken by
the closest length); a single-point soma, whose traced points differ between the two programs, is
matched to the remaining soma section. The match is then checked: section length ``L``
equals the branch length (1e-3 relative). A branch is *reversed* when its first point lies
nearer the section's distal end than its proximal end; then compartment ``k`` of ``n`` is
NEURON segment ``n - 1 - k``, i.e. at ``x = 1 - (k + 0.5) / n``, else ``x = (k + 0.5) / n``.

Units: µm, ms, mV, nA, S/cm², Ω·cm, µF/cm².
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dendrax as jx
from dendrax.channels import HH, Leak

HH_NEURON = {"gnabar": 0.12, "gkbar": 0.036, "gl": 3e-4, "el": -54.3}
E_NA, E_K = 50.0, -77.0
_OURS: set[str] = set()  # names of the sections made by the last `load_neuron`


@dataclass(frozen=True)
class SectionMap:
    """``section[b]``: NEURON section index of dendrax branch b; ``reversed[b]``: bool."""

    section: np.ndarray
    reversed: np.ndarray

    def x_of(self, branch: int, comp: int, ncomp: int) -> float:
        """NEURON arc position of dendrax compartment ``comp`` of ``branch``."""
        x = (comp + 0.5) / ncomp
        return 1.0 - x if self.reversed[branch] else x


def read_dendrax(path: Path, ncomp: int):
    """``read_swc`` with NEURON's branch splitting (tracing interruptions split)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jx.read_swc(path, ncomp, ignore_swc_tracing_interruptions=False)


def load_neuron(path: Path, nseg: int, ra: float, cm: float):
    """Instantiate ``path`` in NEURON; returns (h, sections) with nseg, Ra and cm set."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    for sec in list(h.allsec()):  # only the sections a previous call made
        if sec.hoc_internal_name() in _OURS:
            h.delete_section(sec=sec)
    before = {sec.hoc_internal_name() for sec in h.allsec()}
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(path))
    h.Import3d_GUI(reader, False).instantiate(None)
    sections = [sec for sec in h.allsec() if sec.hoc_internal_name() not in before]
    _OURS.clear()
    _OURS.update(sec.hoc_internal_name() for sec in sections)
    for sec in sections:
        sec.nseg = nseg
        sec.Ra = ra
        sec.cm = cm
    return h, sections


def _points(sec) -> np.ndarray:
    return np.array([[sec.x3d(i), sec.y3d(i), sec.z3d(i)] for i in range(sec.n3d())])


def map_branches(cell, sections) -> SectionMap:
    """Match every dendrax branch to a NEURON section (see the module docstring)."""
    sec_pts = [_points(s) for s in sections]
    owner: dict[tuple, set[int]] = {}
    for k, pts in enumerate(sec_pts):
        for p in np.round(pts, 2):
            owner.setdefault(tuple(p), set()).add(k)
    xyzr = cell.xyzr
    n_b = len(xyzr)
    ours = cell.nodes.groupby("global_branch_index")["length"].sum().to_numpy()
    sec_len = np.array([s.L for s in sections])
    section = np.full(n_b, -1)
    for b, pts in enumerate(xyzr):
        sets = [owner[q] for q in map(tuple, np.round(pts[:, :3], 2)) if q in owner]
        if not sets:
            continue
        common = set.intersection(*sets)
        if not common:  # the soma point was dropped on one side: vote instead
            votes: dict[int, int] = {}
            for s in sets:
                for k in s:
                    votes[k] = votes.get(k, 0) + 1
            best = max(votes.values())
            common = {k for k, v in votes.items() if v == best}
        section[b] = min(common, key=lambda k: abs(sec_len[k] - ours[b]))
    missing = np.flatnonzero(section < 0)
    free = sorted(set(range(len(sections))) - set(section.tolist()))
    if len(missing) != len(free):
        raise AssertionError(f"cannot map branches {missing.tolist()} to sections {free}")
    for b, k in zip(missing, free, strict=True):  # single-point somata
        section[b] = k
    if len(set(section.tolist())) != n_b:
        raise AssertionError("two dendrax branches map to one NEURON section")
    np.testing.assert_allclose(ours, sec_len[section], rtol=1e-3, atol=1e-3)
    rev = np.zeros(n_b, bool)
    for b, pts in enumerate(xyzr):
        q = sec_pts[section[b]]
        if len(pts) > 1 and len(q) > 1:
            same = np.linalg.norm(pts[0, :3] - q[0]) + np.linalg.norm(pts[-1, :3] - q[-1])
            flip = np.linalg.norm(pts[0, :3] - q[-1]) + np.linalg.norm(pts[-1, :3] - q[0])
            rev[b] = flip < same
    return SectionMap(section, rev)


def recording_sites(cell, n_sites: int, seed: int = 0) -> np.ndarray:
    """``n_sites`` (branch, comp) pairs: the somatic stimulus site plus random others."""
    nodes = cell.nodes
    rng = np.random.default_rng(seed)
    stim = stimulus_site(cell)
    rows = nodes[["global_branch_index", "local_comp_index"]].to_numpy()
    rows = rows[(rows[:, 0] != stim[0]) | (rows[:, 1] != stim[1])]
    rows = rows[rng.choice(len(rows), size=min(n_sites - 1, len(rows)), replace=False)]
    return np.vstack([[stim], rows]).astype(int)


def stimulus_site(cell) -> tuple[int, int]:
    """(branch, comp) of the middle of the first somatic branch (branch 0 without soma)."""
    nodes = cell.nodes
    soma = nodes[nodes["soma"]] if "soma" in nodes else nodes.iloc[:0]
    branch = int(soma["global_branch_index"].iloc[0]) if len(soma) else 0
    ncomp = int(cell.base._ncomp_per_branch[branch])
    return branch, ncomp // 2


def simulate_dendrax(cells, sites, stims, ra, cm, dt, t_max, passive=None):
    """Simulate several dendrax cells at once (one ``Network``, so one compilation).

    Args:
        cells: list of Cells; HH everywhere (``init_states``), or ``Leak`` with
            ``passive = (g S/cm², e mV)`` (resting at e).
        sites: per cell, (n_i, 2) (branch, comp) recording sites.
        stims: per cell, ``(branch, comp, delay ms, dur ms, amp nA)``.

    Returns:
        list of (n_i, n_steps + 1) voltage arrays (mV), one per cell.
    """
    net = jx.Network(cells)
    net.set("axial_resistivity", ra)
    net.set("capacitance", cm)
    if passive is None:
        net.insert(HH())
        net.init_states()
    else:
        net.insert(Leak())
        net.set("Leak_gLeak", passive[0])
        net.set("Leak_eLeak", passive[1])
        net.set("v", passive[1])
    for i, (b, c, delay, dur, amp) in enumerate(stims):
        current = jx.step_current(delay, dur, amp, dt, t_max)
        net.cell(i).branch(int(b)).comp(int(c)).stimulate(current, verbose=False)
    for i, cell_sites in enumerate(sites):
        for b, c in cell_sites:
            net.cell(i).branch(int(b)).comp(int(c)).record(verbose=False)
    v = np.asarray(jx.integrate(net, delta_t=dt, t_max=t_max))
    return np.split(v, np.cumsum([len(s) for s in sites])[:-1])


def simulate_neuron(h, sections, smap, sites, stim, dt, t_max, ncomp, passive=None):
    """The same simulation in NEURON (``hh`` or ``pas``); returns (n_sites, n_steps + 1)."""
    for sec in sections:
        if passive is None:
            sec.insert("hh")
            for seg in sec:
                for key, val in HH_NEURON.items():
                    setattr(seg.hh, key, val)
                seg.ena, seg.ek = E_NA, E_K
        else:
            sec.insert("pas")
            for seg in sec:
                seg.pas.g, seg.pas.e = passive
    b, c, delay, dur, amp = stim
    iclamp = h.IClamp(sections[smap.section[b]](smap.x_of(b, c, ncomp)))
    iclamp.delay, iclamp.dur, iclamp.amp = delay, dur, amp
    vecs = []
    for b, c in sites:
        vec = h.Vector()
        vec.record(sections[smap.section[b]](smap.x_of(b, c, ncomp))._ref_v)
        vecs.append(vec)
    n_steps = int(round(t_max / dt))
    h.cvode.active(0)
    h.secondorder = 0
    h.celsius = 6.3
    h.dt = dt
    h.finitialize(-70.0 if passive is None else passive[1])
    for _ in range(n_steps):
        h.fadvance()
    out = np.array([v.as_numpy()[: n_steps + 1] for v in vecs])
    del iclamp
    return out


def neuron_input_resistance(h, sections, smap, site, ncomp, g_pas: float) -> float:
    """Input resistance (MΩ) at dendrax site (branch, comp), ``pas`` everywhere, DC."""
    for sec in sections:
        sec.insert("pas")
        for seg in sec:
            seg.pas.g, seg.pas.e = g_pas, -70.0
    h.finitialize(-70.0)
    imp = h.Impedance()
    b, c = site
    sec = sections[smap.section[b]]
    x = smap.x_of(b, c, ncomp)
    imp.loc(x, sec=sec)
    imp.compute(0.0)
    return float(imp.input(x, sec=sec))


def total_area_neuron(sections) -> float:
    """Σ segment areas (µm²)."""
    return float(sum(seg.area() for sec in sections for seg in sec))
