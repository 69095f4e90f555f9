"""Jaxley 0.14's table API: `nodes` columns written back, `controlled_by_param`, trainables
seen from views, `params_to_pstate` / `get_all_parameters` / `to_jax`, the index helpers of
`utils.cell_utils` and setting geometry directly. Expected values are computed by hand."""

import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.errors import ModelError
from dendrax.modules.base import View
from dendrax.synapses import IonotropicSynapse, TestSynapse
from dendrax.utils.cell_utils import loc_of_index, local_index_of_loc, params_to_pstate
from dendrax.utils.misc_utils import cumsum_leading_zero
from dendrax.utils.morph_attributes import cylinder_area, cylinder_resistive_load


def _cell(n_branches=3, ncomp=2):
    return jx.Cell(jx.Branch(jx.Compartment(), ncomp), parents=[-1] + [0] * (n_branches - 1))


def test_cell_utils_positions_and_indices():
    """Jaxley's `loc_of_index` (centre of a compartment) and `local_index_of_loc` (nearest
    centre), for branches of 4 and 3 compartments (hand-computed centres)."""
    ncomp = np.array([4, 3])
    assert cumsum_leading_zero(ncomp).tolist() == [0, 4, 7]
    assert loc_of_index(2, 0, ncomp) == pytest.approx(0.625)  # (2 + 0.5) / 4
    assert loc_of_index(5, 1, ncomp) == pytest.approx(0.5)  # comp 1 of 3 on branch 1
    assert [local_index_of_loc(x, 0, ncomp) for x in (0.0, 0.3, 0.4, 0.5, 1.0)] == [0, 1, 1, 1, 3]
    assert [local_index_of_loc(x, 1, ncomp) for x in (0.2, 0.34, 0.9)] == [0, 1, 2]
    branch = jx.Branch(jx.Compartment(), 4)
    for loc in (0.0, 0.26, 0.5, 0.8, 1.0):
        assert branch.loc(loc).nodes.index.tolist() == [local_index_of_loc(loc, 0, [4])]


def test_nodes_frame_writes_columns_back():
    """Jaxley's `module.nodes` is the table: new columns are kept, groups can be dropped."""
    cell = _cell()
    cell.nodes["path_dist"] = np.arange(6) * 2.5
    assert cell.branch(2).nodes["path_dist"].tolist() == [10.0, 12.5]
    cell.branch(1).add_to_group("dend")
    cell.nodes.drop(columns=["dend"], inplace=True)
    assert "dend" not in cell.nodes.columns and "dend" not in cell.group_names
    with pytest.raises(ModelError, match="index column"):
        cell.nodes["global_comp_index"] = np.zeros(6, int)
    with pytest.raises(ModelError, match="cannot be deleted"):
        cell.nodes.drop(columns=["radius"], inplace=True)
    view_frame = cell.branch(0).nodes
    view_frame["my_label"] = 1.0  # a view's frame is a copy
    assert "my_label" not in cell.nodes.columns


def test_controlled_by_param_column_and_sharing():
    """`controlled_by_param`: 0 on a base module, the global cell/branch/comp index on
    cell/branch/comp views; set on the base it defines the shared values (3 groups here)."""
    net = jx.Network([_cell(), _cell()])
    assert net.nodes["controlled_by_param"].tolist() == [0] * 12
    assert net.branch(0).nodes["controlled_by_param"].tolist() == [0, 0, 3, 3]
    assert net.cell(1).nodes["controlled_by_param"].tolist() == [1] * 6
    assert net.comp(1).nodes["controlled_by_param"].tolist() == [1, 3, 5, 7, 9, 11]
    branch = jx.Branch(jx.Compartment(), 6)
    branch.nodes["controlled_by_param"] = np.array([0, 0, 0, 1, 1, 2])
    branch.make_trainable("radius", verbose=False)
    assert branch.num_trainable_params == 3
    inds = branch.indices_set_by_trainables[0]
    assert inds.tolist() == [[0, 1, 2], [3, 4, -1], [5, -1, -1]]  # -1 pads (as Jaxley)
    # trainable values are ordered by controlled_by_param (Jaxley's groupby), not by request
    cell = _cell()
    cell.branch([2, 0]).make_trainable("length", [1.0, 2.0], verbose=False)
    assert cell.indices_set_by_trainables[0].tolist() == [[0, 1], [4, 5]]


def test_params_to_pstate_and_get_all_parameters():
    """Values spread over their rows by hand: radius 2.0 / 3.0 / 4.0 on the three groups;
    synaptic parameters per synapse of their type (edges 0 and 2 are ionotropic)."""
    branch = jx.Branch(jx.Compartment(), 6)
    branch.nodes["controlled_by_param"] = np.array([0, 0, 0, 1, 1, 2])
    branch.make_trainable("radius", verbose=False)
    params = branch.get_parameters()
    params[0]["radius"] = jnp.asarray([2.0, 3.0, 4.0])
    pstate = params_to_pstate(params, branch.indices_set_by_trainables)
    all_params = branch.get_all_parameters(pstate)
    radius = np.array([2.0, 2.0, 2.0, 3.0, 3.0, 4.0])
    np.testing.assert_allclose(all_params["radius"], radius)
    np.testing.assert_allclose(all_params["area"], cylinder_area(10.0, radius))
    np.testing.assert_allclose(
        all_params["resistive_load_in"], cylinder_resistive_load(5.0, radius)
    )
    net = jx.Network([_cell(1, 1) for _ in range(4)])
    for pre in (0, 1):
        jx.connect(net.cell(pre), net.cell(2), IonotropicSynapse())
        jx.connect(net.cell(pre), net.cell(3), TestSynapse())
    net.IonotropicSynapse.edge(1).make_trainable("IonotropicSynapse_gS", verbose=False)
    params = net.get_parameters()
    params[0]["IonotropicSynapse_gS"] = jnp.asarray([5.5])  # kept by the module (as Jaxley)
    assert float(net.get_parameters()[0]["IonotropicSynapse_gS"][0]) == 5.5
    net.to_jax()
    assert net.jaxedges["IonotropicSynapse_gS"].shape == (2,)
    assert net.jaxnodes["radius"].shape == (4,)
    all_params = net.get_all_parameters(params_to_pstate(params, net.indices_set_by_trainables))
    np.testing.assert_allclose(all_params["IonotropicSynapse_gS"], [1e-4, 5.5])
    # integrate takes the same parameter state
    net.cell(2).record(verbose=False)
    v1 = jx.integrate(net, params=params, t_max=2.0)
    pstate = params_to_pstate(params, net.indices_set_by_trainables)
    v2 = jx.integrate(net, param_state=pstate, t_max=2.0)
    np.testing.assert_allclose(v1, v2, rtol=0, atol=1e-12)


def test_view_trainables_and_deleting_part_of_them():
    """On a view, trainables are those with values setting rows in view; deleting on a view
    stops training those rows only (Jaxley's `branch.comp(1).delete_trainables()`)."""
    branch = jx.Branch(jx.Compartment(), 3)
    branch.insert(HH())
    branch.comp([0, 1]).make_trainable("HH_gNa", verbose=False)
    branch.make_trainable("HH_gK", verbose=False)
    assert branch.comp(2).num_trainable_params == 1  # the shared HH_gK
    branch.comp(1).delete_trainables()
    assert branch.comp(1).trainable_params == []
    assert [list(p) for p in branch.get_parameters()] == [["HH_gNa"], ["HH_gK"]]
    assert branch.indices_set_by_trainables[0].tolist() == [[0]]
    assert branch.indices_set_by_trainables[1].tolist() == [[0, 2]]
    with pytest.raises(AssertionError):  # Jaxley asserts; dendrax's ModelError is both
        branch.comp(0).write_trainables(branch.get_parameters())


def test_view_constructor_recordings_and_synapse_views():
    net = jx.Network([_cell(), _cell()])
    view = View(net, nodes=[2, 3, 8])
    assert view.nodes.index.tolist() == [2, 3, 8]
    net.cell(0).branch(1).comp(0).record(verbose=False)
    net.cell(1).branch(0).comp(0).record(verbose=False)
    assert net.cell(1).recordings["rec_index"].tolist() == [6]
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(2).comp(1), TestSynapse())
    assert net.TestSynapse.nodes.index.tolist() == [0, 11]  # its pre- and postsynaptic comps
    assert net.select(edges=[0]).nodes.index.tolist() == [0, 11]
    with pytest.raises(AssertionError):
        jx.Compartment().comp(0)


def test_setting_geometry_directly_matches_radius_and_length():
    """Jaxley lets `area`, `volume` and the resistive loads be set; a cable given the
    cylinder values of radius 5.5 µm / length 22 µm behaves as one with those radius and
    length."""
    lengths, radii = np.array([10.0, 10.0, 22.0]), np.array([1.0, 5.5, 1.0])
    a = jx.Branch(jx.Compartment(), 3)
    a.comp(1).set("radius", 5.5)
    a.comp(2).set("length", 22.0)
    b = jx.Branch(jx.Compartment(), 3)
    b.set("area", cylinder_area(lengths, radii))
    b.set("volume", np.pi * radii**2 * lengths)
    b.set("resistive_load_in", cylinder_resistive_load(lengths / 2, radii))
    b.set("resistive_load_out", cylinder_resistive_load(lengths / 2, radii))
    for branch in (a, b):
        branch.comp(2).stimulate(jx.step_current(0.5, 1.0, 0.05, 0.025, 3.0), verbose=False)
        branch.record(verbose=False)
    np.testing.assert_allclose(jx.integrate(a), jx.integrate(b), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="> 0"):
        b.set("area", 0.0)
