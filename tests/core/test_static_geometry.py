"""`static_geometry` (numpy, at trace time) gives the geometry and axial coefficients of the
traced path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.modules.export import model_tables
from dendrax.modules.export import module_structure as compile_structure
from dendrax.simulator.run import initial_values, static_geometry
from dendrax.solvers import time_scheme
from dendrax.solvers.implicit import implicit_coefficients

jax.config.update("jax_enable_x64", True)


def _cell():
    branch = jx.Branch(jx.Compartment(), ncomp=3)
    cell = jx.Cell(branch, parents=[-1, 0, 0, 1, 1])
    cell.insert(HH())
    rng = np.random.default_rng(0)
    for b in range(5):
        cell.branch(b).set("radius", float(rng.uniform(0.3, 2.0)))
        cell.branch(b).set("length", float(rng.uniform(5.0, 40.0)))
    cell.branch(2).comp(1).set("axial_resistivity", 250.0)
    cell.branch(1).make_trainable("radius", verbose=False)
    cell.branch(3).make_trainable("capacitance", verbose=False)
    return cell


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson"])
def test_matches_the_traced_coefficients(solver):
    cell = _cell()
    structure = compile_structure(cell)
    params = cell.get_parameters()
    params = [{k: jnp.asarray(v) * 1.3 for k, v in p.items()} for p in params]
    param_state = cell.branch(4).data_set("length", 12.0, None)
    dt = 0.025
    scheme = time_scheme(solver)
    static = static_geometry(model_tables(cell), structure, params, param_state, scheme, dt)
    expected = static["axial"]
    _, all_params = initial_values(model_tables(cell), structure, params, param_state)
    for key, value in static["geometry"].items():
        assert isinstance(value, np.ndarray)
        np.testing.assert_allclose(value, np.asarray(all_params[key]), rtol=1e-13)
    traced = dict(all_params["axial"])
    traced["implicit"] = implicit_coefficients(structure, traced, scheme.step_size(dt))
    for key in ("child_row", "parent_row", "diag"):
        np.testing.assert_allclose(expected[key], np.asarray(traced[key]), rtol=1e-13)
    for key in ("diag", "upper", "lower"):
        np.testing.assert_allclose(
            expected["implicit"][key], np.asarray(traced["implicit"][key]), rtol=1e-13
        )
    assert isinstance(expected["diag"], np.ndarray)


def test_not_used_for_traced_inputs_or_explicit_solvers():
    cell = _cell()
    structure = compile_structure(cell)
    assert (
        static_geometry(model_tables(cell), structure, None, None, time_scheme("fwd_euler"), 0.025)
        is None
    )

    def probe(value):
        state = cell.branch(4).data_set("length", value, None)
        assert (
            static_geometry(
                model_tables(cell), structure, None, state, time_scheme("bwd_euler"), 0.025
            )
            is None
        )
        return value

    jax.jit(probe)(12.0)
