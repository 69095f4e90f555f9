"""Construction semantics of connectivity, edge views, per-edge set/trainables, errors."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.synapses import IonotropicSynapse, SpikeSynapse, TanhRateSynapse


def _net(n_cells=4, ncomp=2, n_branches=2):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=[-1] + [0] * (n_branches - 1))
    return jx.Network([cell] * n_cells)


def test_connect_pairs_compartments_in_order():
    net = _net()
    jx.connect(
        net.cell(0).branch(1).comp([0, 1]), net.cell(2).branch(0).comp([1, 0]), IonotropicSynapse()
    )
    edges = net.edges
    np.testing.assert_array_equal(edges["pre_index"], [2, 3])
    np.testing.assert_array_equal(edges["post_index"], [9, 8])
    np.testing.assert_allclose(edges["pre_locs"], [0.25, 0.75])
    assert list(edges["type"]) == ["IonotropicSynapse"] * 2
    np.testing.assert_array_equal(edges["global_edge_index"], [0, 1])
    assert edges["IonotropicSynapse_gS"].tolist() == [1e-4, 1e-4]
    assert edges["IonotropicSynapse_s"].tolist() == [0.2, 0.2]


def test_fully_connect_counts_indices_and_types():
    net = _net()
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3]), IonotropicSynapse())
    jx.fully_connect(net.cell([2]), net.cell([0, 1]), TanhRateSynapse())
    edges = net.edges
    first = np.arange(4) * 4  # branch 0 / comp 0 of every cell
    np.testing.assert_array_equal(edges["pre_index"], first[[0, 0, 1, 1, 2, 2]])
    np.testing.assert_array_equal(edges["post_index"], first[[2, 3, 2, 3, 0, 1]])
    np.testing.assert_array_equal(edges["type_ind"], [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(edges["index_within_type"], [0, 1, 2, 3, 0, 1])
    assert np.isnan(edges["TanhRateSynapse_gS"][:4]).all()
    assert np.isnan(edges["IonotropicSynapse_gS"][4:]).all()
    assert [s.name for s in net.synapses] == ["IonotropicSynapse", "TanhRateSynapse"]


def test_random_post_comp_stays_in_postsynaptic_cells():
    net = _net(n_cells=5, ncomp=3)
    np.random.seed(0)
    jx.fully_connect(
        net.cell([0, 1]), net.cell([2, 3, 4]), TanhRateSynapse(), random_post_comp=True
    )
    post = net.edges["post_index"].to_numpy()
    cell_of = net.nodes["global_cell_index"].to_numpy()[post]
    np.testing.assert_array_equal(cell_of, [2, 3, 4, 2, 3, 4])
    assert len(set(post.tolist())) > 3  # not always the first compartment


def test_connectivity_matrix_connect_follows_the_matrix():
    net = _net()
    matrix = np.array([[True, False, True], [False, True, False]])
    jx.connectivity_matrix_connect(net.cell([0, 1]), net.cell([1, 2, 3]), TanhRateSynapse(), matrix)
    cells = net.nodes["global_cell_index"].to_numpy()
    edges = net.edges
    assert list(zip(cells[edges["pre_index"]], cells[edges["post_index"]], strict=True)) == [
        (0, 1),
        (0, 3),
        (1, 2),
    ]


def test_sparse_connect_statistics():
    counts, pairs = [], []
    np.random.seed(1)
    for _ in range(40):
        net = _net(n_cells=20, ncomp=1, n_branches=1)
        jx.sparse_connect(net.cell(range(10)), net.cell(range(10, 20)), TanhRateSynapse(), 0.3)
        edges = net.edges
        counts.append(len(edges))
        pairs.append(edges[["pre_index", "post_index"]].to_numpy())
        assert edges["pre_index"].is_monotonic_increasing
        assert edges["pre_index"].max() < 10 and edges["post_index"].min() >= 10
    counts = np.array(counts)
    # Binomial(100, 0.3): mean 30, sd 4.6; the mean of 40 draws is within 3 sd / sqrt(40).
    assert abs(counts.mean() - 30.0) < 3 * 4.58 / np.sqrt(40)
    all_pairs = np.concatenate(pairs)
    assert np.unique(all_pairs[:, 0]).size == 10 and np.unique(all_pairs[:, 1]).size == 10
    net = _net(n_cells=4, ncomp=1, n_branches=1)
    jx.sparse_connect(net.cell([0, 1]), net.cell([2, 3]), TanhRateSynapse(), 0.0)
    assert len(net.edges) == 0


def test_per_edge_set_views_and_recording_order():
    net = _net()
    net.insert(HH())
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3]), IonotropicSynapse())
    jx.connect(net.cell(3).branch(0).comp(0), net.cell(0).branch(0).comp(0), SpikeSynapse())
    net.select(edges=[1, 3]).set("IonotropicSynapse_gS", [0.1, 0.3])
    net.IonotropicSynapse.edge(2).set("IonotropicSynapse_e_syn", -80.0)
    net.edge(4).set("SpikeSynapse_gS", 0.5)
    net.set("IonotropicSynapse_k_minus", 0.05)  # module level: all synapses of that type
    edges = net.edges
    np.testing.assert_allclose(edges["IonotropicSynapse_gS"][:4], [1e-4, 0.1, 1e-4, 0.3])
    np.testing.assert_allclose(edges["IonotropicSynapse_e_syn"][:4], [0, 0, -80, 0])
    np.testing.assert_allclose(edges["IonotropicSynapse_k_minus"][:4], 0.05)
    assert edges["SpikeSynapse_gS"][4] == 0.5 and np.isnan(edges["IonotropicSynapse_gS"][4])
    # Views keep the synapses whose two compartments are in view.
    assert net.cell([0, 2]).edges.index.tolist() == [0]
    assert len(net.SpikeSynapse.edges) == 1 and len(net.IonotropicSynapse.edges) == 4
    # Recording order is insertion order; rows are edge indices.
    net.select(edges=[3, 1]).record("IonotropicSynapse_s", verbose=False)
    net.SpikeSynapse.record("i_SpikeSynapse", verbose=False)
    net.cell(2).branch(0).comp(0).record(verbose=False)
    recs = net.recordings
    assert recs["state"].tolist() == ["IonotropicSynapse_s"] * 2 + ["i_SpikeSynapse", "v"]
    assert recs["rec_index"].tolist() == [3, 1, 4, 8]
    traces = np.asarray(jx.integrate(net, t_max=0.5))
    assert traces.shape == (4, 21)
    np.testing.assert_allclose(traces[:2, 0], 0.2)


def test_edge_trainable_sharing_rules():
    net = _net()
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3]), IonotropicSynapse())
    net.IonotropicSynapse.make_trainable("IonotropicSynapse_gS", verbose=False)
    net.IonotropicSynapse.edge("all").make_trainable("IonotropicSynapse_e_syn", verbose=False)
    net.select(edges=[0, 2]).make_trainable("IonotropicSynapse_v_th", verbose=False)
    sizes = [p[k].shape for p in net.get_parameters() for k in p]
    assert sizes == [(1,), (4,), (2,)]


def test_copy_node_property_to_edges():
    net = _net()
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3]), TanhRateSynapse())
    net.copy_node_property_to_edges("global_cell_index")
    edges = net.edges
    np.testing.assert_array_equal(edges["pre_global_cell_index"], [0, 0, 1, 1])
    np.testing.assert_array_equal(edges["post_global_cell_index"], [2, 3, 2, 3])
    selected = edges.query("pre_global_cell_index == 1").index
    net.select(edges=selected).set("TanhRateSynapse_gS", 0.2)
    np.testing.assert_allclose(net.edges["TanhRateSynapse_gS"], [1e-4, 1e-4, 0.2, 0.2])


def test_bad_inputs_raise_clear_errors():
    net, other = _net(), _net()
    with pytest.raises(ValueError, match="different networks"):
        jx.connect(net.cell(0), other.cell(1), TanhRateSynapse())
    with pytest.raises(ValueError, match="pre has 4 and post has 1"):
        jx.connect(net.cell(0), net.cell(1).branch(0).comp(0), TanhRateSynapse())
    with pytest.raises(TypeError, match="boolean or numeric"):
        jx.connectivity_matrix_connect(
            net.cell([0, 1]), net.cell([2, 3]), TanhRateSynapse(), np.full((2, 2), "x")
        )
    with pytest.raises(AssertionError, match=r"shape \(2, 3\); expected \(2, 2\)"):
        jx.connectivity_matrix_connect(
            net.cell([0, 1]), net.cell([2, 3]), TanhRateSynapse(), np.ones((2, 3), bool)
        )
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
            jx.sparse_connect(net.cell([0, 1]), net.cell([2, 3]), TanhRateSynapse(), p)
    with pytest.raises(TypeError, match="instance"):
        jx.connect(net.cell(0), net.cell(1), TanhRateSynapse)
    jx.connect(net.cell(0), net.cell(1), TanhRateSynapse())
    with pytest.raises(KeyError, match="TanhRateSynapse_gS"):
        net.TanhRateSynapse.set("TanhRateSynapse_gs", 1.0)
    with pytest.raises(KeyError, match="TanhRateSynapse_slope"):
        net.TanhRateSynapse.make_trainable("TanhRateSynapse_slop")
    with pytest.raises(KeyError, match="Unknown state 'TanhRateSynapse_q'.*i_TanhRateSynapse"):
        net.TanhRateSynapse.record("TanhRateSynapse_q")
    with pytest.raises(ValueError, match="must be finite"):
        net.TanhRateSynapse.set("TanhRateSynapse_gS", np.nan)
    with pytest.raises(ValueError, match="already a group|different synapse type"):
        jx.connect(net.cell(0), net.cell(1), IonotropicSynapse(name="TanhRateSynapse"))
    with pytest.raises(ValueError, match="Nothing in view"):
        net.edge([])
