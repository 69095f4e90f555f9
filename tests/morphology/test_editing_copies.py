"""morph_delete / morph_connect return cells that share no mutable state with their inputs.

Regression (issue 20): morph_delete copied the cell shallowly, so `delete_diffusion` on the
new cell also switched diffusion off on the original (they shared the list of diffusing
states), and a propagator set by `customize_solver_exp_euler` (shaped for the old
compartments) was carried into the new cell.
"""

import numpy as np

import dendrax as jx
from dendrax.channels import Leak
from dendrax.morphology import morph_connect, morph_delete
from dendrax.pumps import CaNernstReversal

DT, T_MAX = 0.025, 5.0


def _diffusing_cell():
    """Three branches of three compartments whose CaCon_i diffuses (D = 20 µm²/ms)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0, 0])
    cell.insert(CaNernstReversal())
    cell.diffuse("CaCon_i")
    cell.set("axial_diffusion_CaCon_i", 20.0)
    return cell


def _calcium_traces(cell):
    """CaCon_i (mM) of every compartment after a high start in compartment 0."""
    cell.set("CaCon_i", 1e-5)
    cell.branch(0).comp(0).set("CaCon_i", 1e-3)
    cell.record("CaCon_i", verbose=False)
    return np.asarray(jx.integrate(cell, t_max=T_MAX, delta_t=DT))


def test_delete_diffusion_on_a_morph_delete_copy_leaves_the_original_diffusing():
    original = _diffusing_cell()
    small = morph_delete(original.branch(2))
    small.delete_diffusion("CaCon_i")
    assert small.diffusion_states == []
    assert "axial_diffusion_CaCon_i" not in small.nodes.columns
    assert original.diffusion_states == ["CaCon_i"]
    assert np.all(original.nodes["axial_diffusion_CaCon_i"] == 20.0)
    got = _calcium_traces(original)
    want = _calcium_traces(_diffusing_cell())
    np.testing.assert_array_equal(got, want)
    # The reference does diffuse (so equality above is a real check) ...
    assert got[1, -1] > 1e-4
    # ... and the copy does not: its compartments keep their concentrations.
    traces = _calcium_traces(small)
    np.testing.assert_array_equal(traces, traces[:, :1] * np.ones_like(traces))


def test_diffuse_on_a_copy_leaves_the_original_unchanged():
    original = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    original.insert(CaNernstReversal())
    original.diffuse("CaCon_i")
    original.delete_diffusion("CaCon_i")  # leaves an empty list of diffusing states
    small = morph_delete(original.branch(1))
    small.diffuse("CaCon_i")
    assert small.diffusion_states == ["CaCon_i"]
    assert original.diffusion_states == []
    assert "axial_diffusion_CaCon_i" not in original.nodes.columns


def test_morph_connect_result_is_independent_of_its_inputs():
    a, b = _diffusing_cell(), _diffusing_cell()
    joined = morph_connect(a.branch(2).loc(1.0), b.branch(0).loc(0.0))
    joined.delete_diffusion("CaCon_i")
    assert a.diffusion_states == ["CaCon_i"] and b.diffusion_states == ["CaCon_i"]


def test_morph_delete_drops_the_exp_euler_propagator_of_the_old_shape():
    def leaky(parents):
        cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=parents)
        cell.insert(Leak())
        return cell

    original = leaky([-1, 0, 0])
    original.customize_solver_exp_euler(original.build_exp_euler_transition_matrix(DT))
    small, fresh = morph_delete(original.branch(2)), leaky([-1, 0])
    traces = []
    for cell in (small, fresh):
        current = jx.step_current(0.5, 1.0, 0.1, DT, T_MAX)
        cell.branch(0).comp(0).stimulate(current, verbose=False)
        cell.branch(1).comp(1).record(verbose=False)
        traces.append(np.asarray(jx.integrate(cell, t_max=T_MAX, solver="exp_euler")))
    np.testing.assert_array_equal(traces[0], traces[1])
    assert np.ptp(traces[0]) > 1.0
    # The original still runs with its own (6-compartment) propagator.
    original.branch(2).comp(1).record(verbose=False)
    assert np.isfinite(np.asarray(jx.integrate(original, t_max=1.0, solver="exp_euler"))).all()
