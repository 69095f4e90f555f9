"""Rung 3: dendrax against NEURON, run live (HH everywhere, somatic step current)."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH

from .neuron_cable import requires_neuron, simulate_neuron_cable

HH_PARAMS = {"gNa": 0.12, "gK": 0.036, "gLeak": 3e-4, "eNa": 50.0, "eK": -77.0, "eLeak": -54.3}
DT, T_MAX, RA, CM = 0.025, 20.0, 100.0, 1.0
STIM = (0.0, 0.4, 1.0, 5.0, 0.3)  # branch, loc (off segment boundaries), delay, dur (ms), nA


def _dendrax_trace(parents, ncomp, lengths, radii, recordings, solver):
    branches = [jx.Branch(jx.Compartment(), n) for n in ncomp]
    cell = jx.Cell(branches, parents=parents)
    for b, (n, length, r) in enumerate(zip(ncomp, lengths, radii, strict=True)):
        cell.branch(b).set("length", length / n)
        cell.branch(b).set("radius", np.asarray(r, dtype=float))
    cell.set("axial_resistivity", RA)
    cell.set("capacitance", CM)
    cell.insert(HH())
    cell.init_states()
    b, loc, delay, dur, amp = STIM
    cell.branch(int(b)).loc(loc).stimulate(
        jx.step_current(delay, dur, amp, DT, T_MAX), verbose=False
    )
    for branch, loc in recordings:
        cell.branch(branch).loc(loc).record(verbose=False)
    return np.asarray(jx.integrate(cell, delta_t=DT, t_max=T_MAX, solver=solver))


CASES = {
    "compartment": dict(
        parents=[-1], ncomp=[1], lengths=[20.0], radii=[[10.0]], recordings=[(0, 0.5)]
    ),
    "uneven_cable": dict(
        parents=[-1],
        ncomp=[6],
        lengths=[300.0],
        radii=[[1.0, 1.5, 0.8, 2.0, 1.2, 0.6]],
        recordings=[(0, 0.05), (0, 0.45), (0, 0.95)],
    ),
    "branched_cell": dict(
        parents=[-1, 0, 0, 1, 1, 2],
        ncomp=[3, 2, 4, 1, 3, 2],
        lengths=[60.0, 100.0, 150.0, 40.0, 120.0, 80.0],
        radii=[
            [2.0, 1.8, 1.5],
            [1.0, 0.9],
            [1.2, 1.1, 1.0, 0.9],
            [0.5],
            [0.7, 0.6, 0.5],
            [0.8, 0.8],
        ],
        recordings=[(0, 0.1), (1, 0.9), (3, 0.5), (4, 0.9), (5, 0.3)],
    ),
}


@requires_neuron
@pytest.mark.parametrize("solver,secondorder", [("bwd_euler", 0), ("crank_nicolson", 2)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hh_matches_neuron(case, solver, secondorder):
    spec = CASES[case]
    ours = _dendrax_trace(solver=solver, **spec)
    b, loc, delay, dur, amp = STIM
    theirs = simulate_neuron_cable(
        parents=spec["parents"],
        ncomp=spec["ncomp"],
        lengths=spec["lengths"],
        radii=spec["radii"],
        axial_resistivity=RA,
        capacitance=CM,
        hh=HH_PARAMS,
        passive=None,
        stimuli=[(int(b), loc, delay, dur, amp)],
        recordings=spec["recordings"],
        dt=DT,
        t_max=T_MAX,
        v_init=-70.0,
        secondorder=secondorder,
    )
    n = theirs.shape[1]
    assert theirs.max() > 0.0, "the reference must spike for the comparison to mean something"
    mean_abs = np.abs(ours[:, :n] - theirs).mean()
    assert mean_abs < 0.05, f"mean |dV| = {mean_abs:.4f} mV"
