"""NEURON reference harness for dendrax validation tests.

Builds a branched cable in NEURON from a plain description (the same data a dendrax
``Cell`` is built from), runs a fixed-step simulation and returns the recorded voltages.

Units follow NEURON throughout: lengths and radii in µm, axial resistivity in Ω·cm,
membrane capacitance in µF/cm², conductances in S/cm², reversal potentials and voltages
in mV, currents in nA, times in ms, temperature in °C.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

__all__ = ["neuron_available", "requires_neuron", "simulate_neuron_cable"]


@functools.lru_cache(maxsize=1)
def neuron_available() -> bool:
    """Return ``True`` if the ``neuron`` Python package can be imported and used."""
    try:
        from neuron import h  # noqa: F401
    except Exception:  # ImportError, or a broken binary install
        return False
    return True


requires_neuron = pytest.mark.skipif(
    not neuron_available(), reason="NEURON (`pip install neuron`) is not available"
)


def _h():
    """Import NEURON's ``h`` with the standard run library loaded."""
    from neuron import h

    h.load_file("stdrun.hoc")
    return h


def _check_inputs(parents, ncomp, lengths, radii) -> list[np.ndarray]:
    """Validate the morphology description; return per-branch radius arrays (µm)."""
    nb = len(parents)
    if nb == 0:
        raise ValueError("need at least one branch")
    if len(ncomp) != nb or len(lengths) != nb or len(radii) != nb:
        raise ValueError("parents, ncomp, lengths and radii must have one entry per branch")
    if parents[0] != -1:
        raise ValueError("the first branch must be the root (parent -1)")
    for b, p in enumerate(parents[1:], start=1):
        if not 0 <= p < b:
            raise ValueError(f"branch {b}: parent {p} must be an earlier branch")
    out = []
    for b, (n, r) in enumerate(zip(ncomp, radii, strict=True)):
        if int(n) < 1:
            raise ValueError(f"branch {b}: ncomp must be >= 1")
        r = np.asarray(r, dtype=np.float64)
        if r.ndim == 0:
            r = np.full(int(n), float(r))
        if r.shape != (int(n),):
            raise ValueError(f"branch {b}: expected {n} radii, got shape {r.shape}")
        out.append(r)
    return out


def _build_sections(
    h, parents, ncomp, lengths, radii, axial_resistivity, capacitance, hh, passive
) -> list:
    """Create and connect the NEURON sections and insert mechanisms; return them."""
    sections = []
    for b, (p, n, length, r) in enumerate(zip(parents, ncomp, lengths, radii, strict=True)):
        sec = h.Section(name=f"dendrax_ref_{b}")
        sec.nseg = int(n)
        sec.L = float(length)
        sec.Ra = float(axial_resistivity)
        sec.cm = float(capacitance)
        # Per-segment cylinders (no pt3d): diam = 2 r, assigned after nseg is fixed.
        for seg, rad in zip(sec, r, strict=True):
            seg.diam = 2.0 * float(rad)
        if p >= 0:
            sec.connect(sections[p](1.0), 0.0)
        if hh is not None:
            sec.insert("hh")
            for seg in sec:
                seg.hh.gnabar = float(hh["gNa"])
                seg.hh.gkbar = float(hh["gK"])
                seg.hh.gl = float(hh["gLeak"])
                seg.hh.el = float(hh["eLeak"])
                seg.ena = float(hh["eNa"])
                seg.ek = float(hh["eK"])
        if passive is not None:
            sec.insert("pas")
            for seg in sec:
                seg.pas.g = float(passive["g"])
                seg.pas.e = float(passive["e"])
        sections.append(sec)
    return sections


def simulate_neuron_cable(
    parents: Sequence[int],
    ncomp: Sequence[int],
    lengths: Sequence[float],
    radii: Sequence[Sequence[float]],
    axial_resistivity: float,
    capacitance: float,
    hh: Mapping[str, float] | None,
    passive: Mapping[str, float] | None,
    stimuli: Sequence[tuple[int, float, float, float, float]],
    recordings: Sequence[tuple[int, float]],
    dt: float,
    t_max: float,
    v_init: float = -70.0,
    secondorder: int = 0,
    celsius: float = 6.3,
) -> np.ndarray:
    """Simulate a branched cable in NEURON with a fixed time step.

    Args:
        parents: parent branch index of each branch; ``-1`` for the root, which must come
            first. A child's 0 end is attached to its parent's distal end, ``parent(1)``.
        ncomp: number of compartments (NEURON ``nseg``) of each branch.
        lengths: section length of each branch (µm).
        radii: per-compartment radii (µm) of each branch, ``ncomp[b]`` values each (a
            scalar is broadcast); each segment is a cylinder of ``diam = 2 r``.
        axial_resistivity: axial resistivity ``Ra`` (Ω·cm).
        capacitance: specific membrane capacitance ``cm`` (µF/cm²).
        hh: if not ``None``, NEURON's built-in ``hh`` is inserted everywhere with keys
            ``gNa``, ``gK``, ``gLeak`` (S/cm²) and ``eNa``, ``eK``, ``eLeak`` (mV).
        passive: if not ``None``, ``pas`` is inserted everywhere with ``g`` (S/cm²) and
            ``e`` (mV).
        stimuli: ``(branch, loc, delay_ms, dur_ms, amp_nA)`` current clamps (``IClamp``).
        recordings: ``(branch, loc)`` voltage recordings; ``loc`` in [0, 1] maps to the
            segment containing it exactly as ``sec(loc)`` does (0 and 1 are the end nodes).
        dt: time step (ms).
        t_max: duration (ms); ``round(t_max / dt)`` fixed steps are taken.
        v_init: initial membrane potential (mV) passed to ``finitialize``.
        secondorder: NEURON ``secondorder``: 0 backward Euler, 2 Crank–Nicolson.
        celsius: temperature (°C).

    Returns:
        ``float64`` array of shape ``(len(recordings), round(t_max / dt) + 1)`` with the
        membrane potentials (mV); sample 0 is the state right after ``finitialize``.
    """
    radii_arr = _check_inputs(parents, ncomp, lengths, radii)
    n_steps = int(round(t_max / dt))
    h = _h()

    sections: list = []
    stims: list = []
    vecs: list = []
    try:
        sections.extend(
            _build_sections(
                h, parents, ncomp, lengths, radii_arr, axial_resistivity, capacitance, hh, passive
            )
        )
        for branch, loc, delay, dur, amp in stimuli:
            stim = h.IClamp(sections[branch](float(loc)))
            stim.delay = float(delay)
            stim.dur = float(dur)
            stim.amp = float(amp)
            stims.append(stim)
        for branch, loc in recordings:
            vec = h.Vector()
            vec.record(sections[branch](float(loc))._ref_v)
            vecs.append(vec)

        h.cvode.active(0)
        h.secondorder = int(secondorder)
        h.celsius = float(celsius)
        h.dt = float(dt)
        h.finitialize(float(v_init))
        for _ in range(n_steps):
            h.fadvance()

        out = np.empty((len(vecs), n_steps + 1), dtype=np.float64)
        for i, vec in enumerate(vecs):
            v = vec.as_numpy()
            if v.shape[0] != n_steps + 1:
                raise RuntimeError(f"expected {n_steps + 1} samples, NEURON gave {v.shape[0]}")
            out[i] = v
        return out
    finally:
        # Drop every reference so NEURON deletes the sections (no accumulation).
        vecs.clear()
        stims.clear()
        sections.clear()
