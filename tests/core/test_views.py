"""Builder semantics: indexing, views, groups, copies, pickling, caching."""

import pickle

import jax
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.errors import IndexOutOfViewError
from dendrax.modules.export import module_structure as compile_structure


def _net():
    comp = jx.Compartment()
    cell_a = jx.Cell(
        [jx.Branch(comp, 2), jx.Branch(comp, 3), jx.Branch(comp, 1)], parents=[-1, 0, 0]
    )
    cell_b = jx.Cell(jx.Branch(comp, 4), parents=[-1, 0])
    return jx.Network([cell_a, cell_b])


def test_table_layout_and_shapes():
    net = _net()
    nodes = net.nodes
    assert len(nodes) == 2 + 3 + 1 + 4 + 4
    assert nodes["global_cell_index"].tolist() == [0] * 6 + [1] * 8
    assert nodes["local_branch_index"].tolist() == [0, 0, 1, 1, 1, 2, 0, 0, 0, 0, 1, 1, 1, 1]
    assert nodes["local_comp_index"].tolist() == [0, 1, 0, 1, 2, 0, 0, 1, 2, 3, 0, 1, 2, 3]
    assert net.shape == (2, 5, 14)
    # A view keeps its base module's shape layout (Jaxley: net.cell(0).shape is 3-long).
    assert net.cell(0).shape == (1, 3, 6)
    assert net.cell(1).branch(0).shape == (1, 1, 4)
    assert net.cell(0).branch(0).comp(1).shape == (1, 1, 1)
    assert net.cell(1).branch(1).nodes.index.tolist() == [10, 11, 12, 13]


def test_local_and_global_indexing():
    net = _net()
    assert net.cell(1).branch(0).comp(2).nodes.index.tolist() == [8]
    assert net.cell("all").branch(1).nodes.index.tolist() == [2, 3, 4, 10, 11, 12, 13]
    assert net.scope("global").branch(3).nodes.index.tolist() == [6, 7, 8, 9]
    assert net.scope("global").comp([5, 9]).nodes.index.tolist() == [5, 9]
    # comp() directly on a cell (or network) counts compartments within each branch (Jaxley)
    assert net.cell(1).comp(1).nodes.index.tolist() == [7, 11]
    assert net.comp(2).nodes.index.tolist() == [4, 8, 12]
    assert net[1, 0, 3].nodes.index.tolist() == [9]
    assert net.cell(0).branch(slice(1, 3)).nodes.index.tolist() == [2, 3, 4, 5]
    assert net.cell(0).branch(np.array([True, False, True])).nodes.index.tolist() == [0, 1, 5]
    assert net.cell(0).branch(range(2)).comp(0).nodes.index.tolist() == [0, 2]
    assert net.cell(0).branch([2, 0]).nodes.index.tolist() == [5, 0, 1]


def test_local_scope_counts_within_the_view():
    """Jaxley's local scope: `branch(i)` / `comp(i)` index the i-th branch (per cell) or
    compartment (per branch) *in the view*, and a view's `.nodes` shows those local indices
    (hand-computed on the network of `_net()`: cell 0 = branches 0..2 with 2, 3, 1
    compartments, rows 0..5; cell 1 = branches 3, 4 with 4 compartments, rows 6..13)."""
    net = _net()
    sub = net.cell(0).branch([1, 2])
    assert sub.branch(0).nodes.index.tolist() == [2, 3, 4]
    assert sub.branch(1).nodes.index.tolist() == [5]
    assert sub.nodes["local_branch_index"].tolist() == [0, 0, 0, 1]
    comps = net.cell(1).branch(0).comp([1, 3])
    assert comps.comp(1).nodes.index.tolist() == [9]
    assert comps.nodes["local_comp_index"].tolist() == [0, 1]
    assert comps.nodes["global_comp_index"].tolist() == [7, 9]
    # groups are views too: the first branch of the group, not of the cell
    net.cell(0).branch([1, 2]).add_to_group("dend")
    assert net.dend.branch(0).comp(2).nodes.index.tolist() == [4]
    # the base module keeps its own local indices
    assert net.nodes["local_branch_index"].tolist()[6:] == [0] * 4 + [1] * 4
    # an index some cells lack selects it where it exists (Jaxley), ...
    assert net.cell("all").branch(2).nodes.index.tolist() == [5]
    # ... one that selects nothing names the indices in view and the global scope
    with pytest.raises(IndexOutOfViewError, match=r"0\.\.1.*scope"):
        net.cell(1).branch(3)
    assert issubclass(IndexOutOfViewError, IndexError)
    assert issubclass(IndexOutOfViewError, ValueError)  # Jaxley raises ValueError here
    assert net.cell(1).scope("global").branch(3).nodes.index.tolist() == [6, 7, 8, 9]
    # a boolean mask asks for the index values where it is True
    assert net.cell(1).comp(np.array([False, True])).nodes.index.tolist() == [7, 11]


def test_loc_uses_jaxleys_binning():
    """Jaxley bins `at` into ncomp bins of [0, 1 + 1e-10]: exact boundaries fall to the lower
    compartment (checked against jaxley 0.14: Branch(comp, 4).loc(0.5) is comp 1, and
    Branch(comp, 10).loc(0.7) is comp 6)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0])
    assert cell.branch(1).loc(0.0).nodes.index.tolist() == [4]
    assert cell.branch(1).loc(0.49).nodes.index.tolist() == [5]
    assert cell.branch(1).loc(0.5).nodes.index.tolist() == [5]
    assert cell.branch(1).loc(0.51).nodes.index.tolist() == [6]
    assert jx.Branch(jx.Compartment(), 10).loc(0.7).nodes.index.tolist() == [6]
    assert cell.branch(1).loc(1.0).nodes.index.tolist() == [7]
    assert cell.branch("all").loc(0.99).nodes.index.tolist() == [3, 7]


def test_iteration_groups_and_channel_views():
    net = _net()
    assert [len(list(cell.branches)) for cell in net] == [3, 2]
    assert [b.nodes.index.tolist() for b in net.cell(1)] == [[6, 7, 8, 9], [10, 11, 12, 13]]
    net.cell(0).branch(1).add_to_group("dend")
    net.cell(1).add_to_group("fast")
    assert net.dend.nodes.index.tolist() == [2, 3, 4]
    assert net.fast.branch(1).nodes.index.tolist() == [10, 11, 12, 13]
    net.cell(0).insert(HH())
    net.cell(1).branch(0).insert(Leak())
    assert net.HH.nodes.index.tolist() == list(range(6))
    assert net.Leak.nodes.index.tolist() == [6, 7, 8, 9]
    assert np.isnan(net.nodes["HH_gNa"][6])
    with net.cell(0) as cell:
        cell.set("HH_gNa", 0.2)
    assert net.nodes["HH_gNa"][:6].tolist() == [0.2] * 6


def test_set_skips_rows_without_the_parameter_and_accepts_arrays():
    net = _net()
    net.cell(0).insert(HH())
    net.set("HH_gK", 0.05)  # cell 1 has no HH: skipped
    assert np.isnan(net.nodes["HH_gK"][6:]).all()
    net.cell(1).branch(0).set("radius", np.array([1.0, 2.0, 3.0, 4.0]))
    assert net.nodes["radius"][6:10].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert net.nodes["area"][7] == pytest.approx(2 * np.pi * 2.0 * 10.0)


def _hh_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 2.0, 0.2, 0.025, 5.0), verbose=False)
    cell.branch(2).comp(1).record(verbose=False)
    cell.branch(0).comp(0).record("HH_m", verbose=False)
    return cell


def test_pickle_round_trip_gives_identical_traces(tmp_path):
    cell = _hh_cell()
    before = np.asarray(jx.integrate(cell, t_max=5.0))
    path = tmp_path / "cell.pkl"
    path.write_bytes(pickle.dumps(cell))
    restored = pickle.loads(path.read_bytes())
    np.testing.assert_array_equal(np.asarray(jx.integrate(restored, t_max=5.0)), before)
    view = pickle.loads(pickle.dumps(cell.branch(1)))
    assert view.nodes.index.tolist() == [2, 3]
    assert restored.recordings.equals(restored.rec_info)
    assert restored.recordings["state"].tolist() == ["v", "HH_m"]


def test_copy_is_independent():
    cell = _hh_cell()
    other = cell.copy()
    other.set("HH_gNa", 0.0)
    assert cell.nodes["HH_gNa"][0] == pytest.approx(0.12)


def test_structure_cached_until_structure_changes():
    cell = _hh_cell()
    first = compile_structure(cell)
    cell.set("HH_gNa", 0.1)
    cell.make_trainable("radius", verbose=False)
    assert compile_structure(cell) is first
    cell.branch(1).insert(Leak())
    assert compile_structure(cell) is not first


def test_set_changes_results_without_stale_cache():
    cell = _hh_cell()
    a = np.asarray(jx.integrate(cell, t_max=5.0))
    cell.set("HH_gNa", 0.0)
    b = np.asarray(jx.integrate(cell, t_max=5.0))
    assert np.abs(a - b).max() > 1.0


def test_jit_and_vmap_through_integrate():
    cell = _hh_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    params = cell.get_parameters()
    run = jax.jit(lambda p: jx.integrate(cell, params=p, t_max=5.0))
    np.testing.assert_allclose(run(params), jx.integrate(cell, params=params, t_max=5.0))
    batch = [{"HH_gNa": np.array([[0.05], [0.12], [0.2]])}]
    traces = jax.vmap(lambda g: jx.integrate(cell, params=[{"HH_gNa": g}], t_max=5.0))(
        batch[0]["HH_gNa"]
    )
    single = jx.integrate(cell, params=[{"HH_gNa": np.array([0.2])}], t_max=5.0)
    np.testing.assert_allclose(traces[2], single, rtol=1e-10)


def test_published_jaxley_hh_compartment_trace():
    """Jaxley's regression trace `voltages_081123` (tests/jaxley_identical, x64, 1e-8 mV)."""
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(0.5, 1.0, 0.02, 0.025, 5.0), verbose=False)
    v = np.asarray(jx.integrate(comp))[0, ::20]
    published = [
        -70.0,
        -66.53085703,
        -50.08343917,
        -20.4930498,
        32.6178327,
        2.57004029,
        -26.19517261,
        -50.50027566,
        -72.97019524,
        -75.69907171,
        -75.58874436,
    ]
    np.testing.assert_allclose(v, published, atol=1e-7)


def test_record_and_delete_semantics():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0])
    cell.insert(HH())
    cell.branch(0).record(verbose=False)
    cell.branch("all").record(verbose=False)  # branch 0 is not recorded twice
    assert cell.recordings["rec_index"].tolist() == [0, 1, 2, 3, 4, 5]
    cell.branch(1).comp(1).delete_recordings()
    assert cell.recordings["rec_index"].tolist() == [0, 1, 2, 3, 5]
    cell.branch("all").stimulate(np.ones(5), verbose=False)
    cell.branch(0).delete_stimuli()
    assert [rows.tolist() for rows, _ in cell.base._stimuli] == [[3, 4, 5]]
    cell.branch(1).clamp("v", np.full(5, -65.0), verbose=False)
    cell.branch(1).comp(0).delete_clamps("v")
    assert [c[2].tolist() for c in cell.base._clamps] == [[4, 5]]


def test_iterating_branches_while_changing_ncomp():
    """Jaxley's `for branch in cell.branches: branch.set_ncomp(...)` (d_lambda rule): each
    branch is selected afresh, so earlier changes to the table do not shift later ones."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1, 0, 0])
    for n, branch in zip([3, 1, 4], cell.branches, strict=True):
        branch.set_ncomp(n)
    assert cell.ncomp_per_branch.tolist() == [3, 1, 4]
    assert cell.branch(2).nodes.index.tolist() == [4, 5, 6, 7]
