"""Jaxley 0.14 morphology behaviour that the suite relies on, checked against hand computation.

Each test names the Jaxley behaviour it matches: compartment positions (``nodes`` x, y, z),
writing a column through ``nodes``, branch-structure attributes, SWC graph attributes and the
cylinder formulas under Jaxley's module paths.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dendrax as jx  # noqa: E402
from dendrax.morphology import distance_pathwise  # noqa: E402

from .swc_factory import write_swc  # noqa: E402

nx = pytest.importorskip("networkx", reason="networkx (the graph extra) is not installed")

# A single-point soma and an L-shaped dendrite: (10, 0) -> (40, 0) -> (40, 30) µm, 60 µm of
# path (the dendrite branch starts at its first own point, Jaxley's single-point-soma rule).
_L_SHAPE = np.array(
    [
        [1, 1, 0.0, 0.0, 0.0, 1.0, -1],
        [2, 3, 10.0, 0.0, 0.0, 1.0, 1],
        [3, 3, 40.0, 0.0, 0.0, 1.0, 2],
        [4, 3, 40.0, 30.0, 0.0, 1.0, 3],
    ]
)


def _l_cell(tmp_path, ncomp):
    return jx.read_swc(write_swc(tmp_path / "l.swc", _L_SHAPE), ncomp)


def test_compute_compartment_centers_is_midpoint_of_end_points(tmp_path):
    """Jaxley: a center is the midpoint of the compartment's two end points on the polyline."""
    cell = _l_cell(tmp_path, 1)
    cell.compute_compartment_centers()
    # The dendrite's one compartment has end points (10, 0) and (40, 30).
    assert cell.xyzr[1][0, :3].tolist() == [10.0, 0.0, 0.0]
    row = cell.nodes.loc[cell.nodes["basal"]]
    np.testing.assert_allclose(row[["x", "y", "z"]].to_numpy()[0], [25.0, 15.0, 0.0])


def test_swc_positions_are_path_centers_and_set_ncomp_averages_them(tmp_path):
    """Jaxley's SWC reader puts a compartment at path fraction (k + 1/2)/n; set_ncomp gives
    the new compartments the average of the old rows (so they share one position)."""
    cell = _l_cell(tmp_path, 1)
    dend = np.flatnonzero(cell.nodes["basal"].to_numpy())
    # Half of the 60 µm path is the corner (40, 0).
    np.testing.assert_allclose(cell.nodes.loc[dend, ["x", "y"]].to_numpy()[0], [40.0, 0.0])
    b = int(cell.nodes.loc[dend[0], "global_branch_index"])
    cell.branch(b).set_ncomp(3)
    rows = cell.nodes[cell.nodes["global_branch_index"] == b]
    np.testing.assert_allclose(rows[["x", "y"]].to_numpy(), [[40.0, 0.0]] * 3)
    # Built with ncomp=4 directly: path fractions 1/8, 3/8, 5/8, 7/8 of 60 µm.
    cell4 = _l_cell(tmp_path, 4)
    rows = cell4.nodes[cell4.nodes["global_branch_index"] == b]
    np.testing.assert_allclose(
        rows[["x", "y"]].to_numpy(), [[17.5, 0], [32.5, 0], [40, 7.5], [40, 22.5]]
    )


def test_scratch_cell_nodes_have_xyz():
    """Jaxley lays out from-scratch cells at initialization, so nodes always hold x, y, z."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    nodes = cell.nodes
    assert {"x", "y", "z"} <= set(nodes.columns)
    # Branch 0 runs along +x from the origin; 10 µm compartments.
    np.testing.assert_allclose(nodes[["x", "y"]].to_numpy()[:2], [[5.0, 0.0], [15.0, 0.0]])


def test_nodes_column_assignment_is_kept():
    """Jaxley's `nodes` is the module's table: `cell.nodes[name] = values` stays visible."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0, 1, 1])
    cell.branch("all").loc("all").set("length", 25.0)
    cell.nodes["path_dist"] = distance_pathwise(cell[0, 0], cell)
    # Tip of branch 3 (child of 1): 3 branches of 4 compartments, centres 25 µm apart.
    assert cell[3, 3].nodes["path_dist"].item() == pytest.approx(11 * 25.0)
    with pytest.raises(ValueError, match="index column"):
        cell.nodes["global_comp_index"] = 0


def test_branch_structure_attributes():
    """Jaxley's total_nbranches, nbranches_per_cell, cumsum_nbranches, comb_parents and
    branch_edges (global branch indices over the cells of a network)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1, 0, 0])
    net = jx.Network([cell, cell])
    assert net.total_nbranches == 6
    assert net.nbranches_per_cell == [3, 3]
    assert net.cumsum_nbranches.tolist() == [0, 3, 6]
    assert net.comb_parents.tolist() == [-1, 0, 0, -1, 3, 3]
    edges = net.branch_edges
    assert edges["parent_branch_index"].tolist() == [0, 0, 3, 3]
    assert edges["child_branch_index"].tolist() == [1, 2, 4, 5]
    assert net.cell(1).total_nbranches == 3


def test_iterating_branches_allows_set_ncomp():
    """Jaxley's d_lambda loop: `for branch in cell.branches: branch.set_ncomp(n)`."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1, 0, 0])
    for k, branch in enumerate(cell.branches):
        branch.set_ncomp(k + 2, initialize=False)
    cell.initialize()
    assert cell.base._ncomp_per_branch.tolist() == [2, 3, 4]


def test_swc_graph_attributes_and_hand_made_graph(tmp_path):
    """Jaxley's SWC graph: node `id` is the SWC type; bare edge graphs get defaults
    (r = 1 µm, l = 1 µm per edge), so a 3-edge chain is one 3 µm branch."""
    from dendrax.io.graph import (
        _add_missing_graph_attrs,
        build_compartment_graph,
        from_graph,
        to_swc_graph,
    )

    g = to_swc_graph(write_swc(tmp_path / "l.swc", _L_SHAPE))
    assert [g.nodes[k]["id"] for k in (1, 2, 3)] == [1, 3, 3]
    assert g.edges[2, 3]["l"] == pytest.approx(30.0)
    chain = _add_missing_graph_attrs(nx.Graph([(0, 1), (1, 2), (2, 3)]))
    assert all(chain.edges[e]["l"] == 1.0 for e in chain.edges)
    cell = from_graph(build_compartment_graph(chain, ncomp=1, min_radius=1.0))
    assert cell.nodes["length"].sum() == pytest.approx(3.0)
    np.testing.assert_allclose(cell.nodes["radius"], 1.0)


def test_cylinder_formulas_and_pospischil_path():
    """jaxley.utils.morph_attributes cylinder formulas (hand values) and the
    jaxley.channels.pospischil module path."""
    from dendrax.channels import Na
    from dendrax.channels.pospischil import Na as PNa
    from dendrax.utils.morph_attributes import (
        cylinder_area,
        cylinder_resistive_load,
        cylinder_volume,
    )

    assert PNa is Na
    assert float(cylinder_area(10.0, 2.0)) == pytest.approx(40.0 * np.pi)
    assert float(cylinder_volume(10.0, 2.0)) == pytest.approx(40.0 * np.pi)
    assert float(cylinder_resistive_load(10.0, 2.0)) == pytest.approx(2.5 / np.pi)


def test_volume_plots_take_resolution_in_2d_and_3d(tmp_path):
    """Jaxley's `vis(type="comp"|"morph", resolution=...)`, in 2-D and 3-D."""
    cell = _l_cell(tmp_path, 2)
    fig, ax = plt.subplots()
    cell.vis(type="comp", ax=ax, resolution=6)
    cell.vis(type="morph", ax=ax, resolution=6)
    plt.close(fig)
    ax3 = cell.vis(type="comp", dims=[0, 1, 2], resolution=6)
    # One surface per compartment (3 compartments: soma sphere branch + 2 dendrite).
    assert len(ax3.collections) == len(cell.nodes)
    plt.close(ax3.figure)
    ax3 = cell.vis(type="morph", dims=[0, 1, 2], resolution=5)
    assert len(ax3.collections) >= 2
    plt.close(ax3.figure)


def test_from_graph_of_trimmed_compartment_graph():
    """Jaxley's trimming recipe: drop leaf compartments from a comp graph and rebuild; the
    branchpoints carry length 0 and the parent's groups, and the kept branches keep their
    lengths and tree (hand-set lengths 10, 20, 30, 40, 50 µm; branch 4 is removed)."""
    from dendrax.io.graph import from_graph, to_graph

    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1, 0, 0, 1, 1])
    for b in range(5):
        cell.branch(b).set("length", 10.0 * (b + 1))
    cell.branch(1).add_to_group("dend")
    g = to_graph(cell)
    points = [v for v, a in g.nodes(data=True) if a["type"] == "branchpoint"]
    assert all(g.nodes[v]["length"] == 0.0 for v in points)
    assert any("dend" in g.nodes[v]["groups"] for v in points)  # branchpoint after branch 1
    trimmed = from_graph(g.subgraph([v for v in g.nodes if v != 4]).copy())
    np.testing.assert_allclose(trimmed.nodes["length"], [10.0, 20.0, 30.0, 40.0])
    assert trimmed.base._branch_parents.tolist() == [-1, 0, 0, 1]
