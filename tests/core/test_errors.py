"""Rung 6: bad input raises clear errors (DESIGN §5)."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH


def _cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0, 0])
    cell.insert(HH())
    return cell


@pytest.mark.parametrize("dt", [0.0, -0.025, float("nan"), float("inf")])
def test_bad_time_step(dt):
    cell = _cell()
    cell.branch(0).comp(0).record(verbose=False)
    with pytest.raises(ValueError, match="delta_t must be"):
        jx.integrate(cell, t_max=1.0, delta_t=dt)


@pytest.mark.parametrize("key", ["radius", "length", "axial_resistivity", "capacitance"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_non_positive_geometry(key, value):
    with pytest.raises(ValueError, match=f"'{key}'.*must be > 0"):
        _cell().branch(1).set(key, value)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_parameter(value):
    with pytest.raises(ValueError, match="must be finite"):
        _cell().set("HH_gNa", value)


def test_unknown_parameter_suggests_close_names():
    with pytest.raises(KeyError, match="HH_gNa"):
        _cell().set("HH_gNaa", 0.1)


def test_unknown_record_state():
    with pytest.raises(KeyError, match="Unknown state 'HH_x'"):
        _cell().record("HH_x")


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="apical"):
        _ = _cell().apical


def test_unknown_solver_names():
    cell = _cell()
    cell.record(verbose=False)
    with pytest.raises(ValueError, match="Unknown solver"):
        jx.integrate(cell, t_max=1.0, solver="rk4")
    with pytest.raises(ValueError, match="Unknown voltage_solver"):
        jx.integrate(cell, t_max=1.0, voltage_solver="magic")


def test_empty_selection():
    cell = _cell()
    with pytest.raises(ValueError, match="Nothing in view"):
        cell.branch(0).comp(np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="Empty"):
        cell.branch([])


def test_index_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        _cell().branch(7)


@pytest.mark.parametrize("at", [-0.1, 1.5, float("nan")])
def test_loc_outside_unit_interval(at):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        _cell().branch(0).loc(at)


def test_wrong_stimulus_shape():
    cell = _cell()
    with pytest.raises(ValueError, match=r"shape \(2, 10\).*3 row"):
        cell.branch(0).stimulate(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="NaN or inf"):
        cell.branch(0).stimulate(np.full(10, np.nan))


def test_nothing_recorded():
    with pytest.raises(ValueError, match="No recordings"):
        jx.integrate(_cell(), t_max=1.0)


def test_no_duration():
    cell = _cell()
    cell.record(verbose=False)
    with pytest.raises(ValueError, match="needs a duration"):
        jx.integrate(cell)


def test_params_not_matching_trainables():
    cell = _cell()
    cell.record(verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    with pytest.raises(ValueError, match="1 trainables"):
        jx.integrate(cell, params=[], t_max=1.0)
    with pytest.raises(ValueError, match="must be"):
        jx.integrate(cell, params=[{"radius": np.ones(1)}], t_max=1.0)


def test_insert_class_instead_of_instance():
    with pytest.raises(TypeError, match=r"insert\(HH\(\)\)"):
        jx.Compartment().insert(HH)


def test_bad_construction():
    with pytest.raises(ValueError, match="parents\\[0\\] must be -1"):
        jx.Cell(jx.Branch(), parents=[0, 0])
    with pytest.raises(ValueError, match="smaller index"):
        jx.Cell(jx.Branch(), parents=[-1, 2, 0])
    with pytest.raises(ValueError, match="ncomp"):
        jx.Branch(jx.Compartment())


def test_step_current_validation():
    with pytest.raises(ValueError, match="delta_t"):
        jx.step_current(1.0, 1.0, 0.1, 0.0, 10.0)


def test_blow_up_is_reported_not_silent():
    """Forward Euler far beyond its stability limit: a clear warning, not silent NaN."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0])
    cell.set("axial_resistivity", 1.0)
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    with pytest.warns(RuntimeWarning, match="blew up.*fwd_euler"):
        jx.integrate(cell, t_max=20.0, delta_t=0.5, solver="fwd_euler")
