"""Rung 2: time-step convergence order of backward Euler (1) and Crank–Nicolson (2)."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import Leak


def _passive_cell():
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=4)
    cell = jx.Cell([branch, jx.Branch(comp, 2), jx.Branch(comp, 3)], parents=[-1, 0, 0])
    cell.set("axial_resistivity", 200.0)
    cell.insert(Leak())
    cell.set("Leak_gLeak", 1e-3)
    cell.branch(1).set("radius", 0.5)
    return cell


def _run(solver, dt, t_max=4.0):
    cell = _passive_cell()
    cell.branch(0).comp(0).stimulate(np.full(int(round(t_max / dt)) + 2, 0.05), verbose=False)
    cell.branch(2).comp(2).record(verbose=False)
    cell.branch(1).comp(1).record(verbose=False)
    v = np.asarray(jx.integrate(cell, delta_t=dt, t_max=t_max - dt / 2, solver=solver))
    return v[:, -1]


@pytest.mark.parametrize("solver,order", [("bwd_euler", 1), ("crank_nicolson", 2)])
def test_time_convergence_order(solver, order):
    reference = _run("crank_nicolson", 0.0025)
    errors = [np.abs(_run(solver, dt) - reference).max() for dt in (0.08, 0.04, 0.02)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    expected = 2.0**order
    assert np.all(np.abs(np.log2(ratios) - order) < 0.15), (errors, ratios, expected)
