"""Graph backend round trips and read_morphology dispatch."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.io import read_morphology

from .swc_factory import random_tree, write_swc

nx = pytest.importorskip("networkx", reason="networkx (the graph extra) is not installed")

from dendrax.io.graph import (  # noqa: E402
    build_compartment_graph,
    from_graph,
    to_graph,
    to_swc_graph,
)


def _trace(cell):
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, 3.0, 0.5, 0.025, 5.0), verbose=False)
    cell.branch(1).loc(1.0).record(verbose=False)
    cell.branch(0).loc(0.0).record(verbose=False)
    return np.asarray(jx.integrate(cell, delta_t=0.025, t_max=5.0))


@pytest.fixture
def swc_path(tmp_path):
    return write_swc(tmp_path / "t.swc", random_tree(7, n_points=50))


def test_to_swc_graph(swc_path):
    g = to_swc_graph(swc_path)
    table = np.loadtxt(swc_path)
    assert g.number_of_nodes() == len(table) and g.number_of_edges() == len(table) - 1
    a = g.nodes[2]
    assert (a["x"], a["r"], a["p"]) == pytest.approx((table[1, 2], table[1, 5], table[1, 6]))


def test_compartment_graph_matches_read_swc(swc_path):
    cell = jx.read_swc(swc_path, 3)
    built = from_graph(build_compartment_graph(to_swc_graph(swc_path), 3))
    for key in ("length", "radius", "area", "resistive_load_in", "resistive_load_out"):
        np.testing.assert_allclose(built.nodes[key], cell.nodes[key])
    assert built.base._branch_parents.tolist() == cell.base._branch_parents.tolist()
    assert built.group_names == cell.group_names


def test_round_trip_traces_identical(swc_path):
    cell = jx.read_swc(swc_path, 2)
    with pytest.warns(UserWarning, match="frustum area and resistive loads"):
        cell.branch(1).set("radius", 0.7)
    g = to_graph(cell)
    assert sum(a["type"] == "branchpoint" for _, a in g.nodes(data=True)) > 0
    again = from_graph(g)
    np.testing.assert_array_equal(_trace(again), _trace(cell))


def test_round_trip_keeps_channels_and_scratch_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    cell.branch(2).insert(HH())
    again = from_graph(to_graph(cell))
    assert [c.name for c in again.channels] == ["HH"]
    assert again.nodes["HH"].tolist() == cell.nodes["HH"].tolist()
    from dendrax.modules.base import to_graph as base_to_graph

    assert base_to_graph is to_graph


def test_read_morphology_dispatch(swc_path, tmp_path):
    cell = read_morphology(swc_path, 2)
    np.testing.assert_allclose(cell.nodes["area"], jx.read_swc(swc_path, 2).nodes["area"])
    with pytest.raises(ValueError, match="unknown morphology suffix"):
        read_morphology(tmp_path / "x.obj", 2)


def _write_asc(tmp_path):
    asc = tmp_path / "cell.asc"
    asc.write_text(
        '("CellBody"\n (Color Red)\n (CellBody)\n'
        " ( -5.0 0.0 0.0 0.1)\n ( 0.0 5.0 0.0 0.1)\n ( 5.0 0.0 0.0 0.1)\n"
        " ( 0.0 -5.0 0.0 0.1)\n)\n"
        "( (Color Blue)\n (Dendrite)\n ( 0.0 5.0 0.0 2.0)\n ( 0.0 25.0 0.0 2.0)\n"
        " ( 0.0 45.0 0.0 1.0)\n)\n"
    )
    return asc


def test_read_morphology_asc_via_morphio(tmp_path):
    pytest.importorskip("morphio", reason="MorphIO (the morph extra) is not installed")
    cell = read_morphology(_write_asc(tmp_path), 1)
    assert "basal" in cell.group_names and "soma" in cell.group_names
    dend = cell.basal.nodes
    assert dend["length"].sum() == pytest.approx(40.0)


def test_read_morphology_h5_via_morphio(tmp_path):
    """The ASC cell written as BBP H5 by MorphIO reads back to the same compartments."""
    morphio_mut = pytest.importorskip("morphio.mut", reason="MorphIO is not installed")
    h5 = tmp_path / "cell.h5"
    morphio_mut.Morphology(str(_write_asc(tmp_path))).write(str(h5))
    from_asc = read_morphology(tmp_path / "cell.asc", 2)
    from_h5 = read_morphology(h5, 2)
    assert from_h5.group_names == from_asc.group_names
    for key in ("length", "radius", "area"):
        np.testing.assert_allclose(from_h5.nodes[key], from_asc.nodes[key], rtol=1e-6)
    assert from_h5.basal.nodes["length"].sum() == pytest.approx(40.0)


def test_network_with_synapses_survives_the_graph_round_trip():
    """Jaxley's `to_graph(..., synapses=True)` / `from_graph` cycle: the synapse table and each
    cell's branch tree come back (indices written out by hand for 2 cells x 3 branches x 2)."""
    from dendrax.io.graph import from_graph, to_graph
    from dendrax.synapses import IonotropicSynapse

    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1, 0, 0])
    net = jx.Network([cell, cell])
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(2).comp(1), IonotropicSynapse())
    jx.connect(net.cell(1).branch(1).comp(0), net.cell(0).branch(1).comp(1), IonotropicSynapse())
    net.set("IonotropicSynapse_gS", 0.002)
    back = from_graph(to_graph(net, synapses=True), traverse_for_solve_order=False)
    assert back.edges["pre_index"].tolist() == [0, 8]  # comps: cell*6 + branch*2 + comp
    assert back.edges["post_index"].tolist() == [11, 3]
    assert back.edges["IonotropicSynapse_gS"].tolist() == [0.002, 0.002]
    assert [s.name for s in back.synapses] == ["IonotropicSynapse"]
    assert back.branch_edges["parent_branch_index"].tolist() == [0, 0, 3, 3]
    assert back.branch_edges["child_branch_index"].tolist() == [1, 2, 4, 5]
