"""connect_graphs (topology, geometry and traces vs morph_connect) and vis_compartment_graph."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("networkx")

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402
from dendrax.io.graph import connect_graphs, from_graph, to_graph, vis_compartment_graph  # noqa: E402
from dendrax.morphology.editing import morph_connect  # noqa: E402


def _cells():
    first = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    second = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0, 0])
    second.set("radius", 0.5)
    for cell in (first, second):
        cell.compute_xyz()
        cell.insert(HH())
    return first, second


def test_connected_graph_builds_the_joined_cell():
    first, second = _cells()
    g1, g2 = to_graph(first), to_graph(second)
    last_of_branch_1 = 3  # compartments 0, 1 (branch 0), 2, 3 (branch 1)
    joined = from_graph(connect_graphs(g1, g2, last_of_branch_1, 0))
    # second's root branch hangs from first's branch 1; its children from that branch
    np.testing.assert_array_equal(joined.base._branch_parents, [-1, 0, 1, 2, 2])
    np.testing.assert_array_equal(joined.base._ncomp_per_branch, [2, 2, 3, 3, 3])
    np.testing.assert_allclose(
        joined.base._nodes["radius"], np.r_[np.full(4, 1.0), np.full(9, 0.5)]
    )
    # same cell as the morphology editor builds: identical voltages
    expected = morph_connect(first.branch(1).loc(1.0), second.branch(0).loc(0.0))
    traces = []
    for cell in (joined, expected):
        cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 0.3, 0.025, 5.0), verbose=False)
        cell.branch(4).comp(2).record(verbose=False)
        traces.append(np.asarray(jx.integrate(cell, delta_t=0.025)))
    assert np.ptp(traces[1]) > 1.0
    np.testing.assert_allclose(traces[0], traces[1], atol=1e-10)


def test_bad_attachment_points_are_rejected():
    first, second = _cells()
    g1, g2 = to_graph(first), to_graph(second)
    with pytest.raises(ValueError, match="inside its branch"):
        connect_graphs(g1, g2, 2, 0)  # first compartment of a two-compartment branch
    with pytest.raises(ValueError, match="first compartment"):
        connect_graphs(g1, g2, 3, 4)
    with pytest.raises(ValueError, match="not a node"):
        connect_graphs(g1, g2, 99, 0)


def test_vis_compartment_graph_places_nodes_at_their_coordinates():
    first, _ = _cells()
    graph = to_graph(first)
    ax = vis_compartment_graph(graph, comp_color="r", branchpoint_color="orange")
    offsets = np.asarray(ax.collections[0].get_offsets())
    comps = [v for v, d in graph.nodes(data=True) if d["type"] == "comp"]
    expected = np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in comps])
    np.testing.assert_allclose(offsets[: len(comps)], expected)
    plt.close("all")
