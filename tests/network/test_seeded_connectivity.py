"""Random connectivity consumes numpy's global RNG as Jaxley 0.14 does.

A user who seeds numpy (`np.random.seed`) and builds a network with `fully_connect`,
`sparse_connect` or `connectivity_matrix_connect` gets the same synapses in dendrax as in
Jaxley. Jaxley's draw protocol (observable from its published connectivity and traces):

* `fully_connect(random_post_comp=True)`: each postsynaptic cell, in increasing global
  index, draws `np.random.randint(0, n_comps, size=n_pre)`; draw j is the compartment of
  the synapse from presynaptic cell j.
* `sparse_connect`: `np.random.binomial(n_pre * n_post, p)` pairs, then one randint for
  all presynaptic and one for all postsynaptic cells; synapses sorted by presynaptic cell,
  and with `random_post_comp` by postsynaptic cell, whose compartments are then drawn as
  above (one randint per cell, sized by its number of synapses).
* `connectivity_matrix_connect`: row-major synapses, compartments drawn as above.

The references below spell the protocol out with explicit numpy calls.
"""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.synapses import IonotropicSynapse, TestSynapse


def _net(n_cells, n_branches, ncomp):
    parents = [-1] + [0] * (n_branches - 1)
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=parents)
    return jx.Network([cell] * n_cells)


def test_fully_connect_random_post_comp_draw_order():
    net = _net(12, 3, 4)  # 12 comps per cell
    np.random.seed(3)
    jx.fully_connect(net.cell([0, 1, 2]), net.cell([5, 6]), TestSynapse(), random_post_comp=True)
    jx.fully_connect(net.cell([7]), net.cell([8, 9, 10]), TestSynapse(), random_post_comp=True)

    np.random.seed(3)
    draws = {cell: np.random.randint(0, 12, size=3) for cell in (5, 6)}
    first = [cell * 12 + draws[cell][j] for j in range(3) for cell in (5, 6)]
    draws = {cell: np.random.randint(0, 12, size=1) for cell in (8, 9, 10)}
    second = [cell * 12 + draws[cell][0] for cell in (8, 9, 10)]
    np.testing.assert_array_equal(net.edges["post_index"], first + second)
    np.testing.assert_array_equal(net.edges["pre_index"], [0, 0, 12, 12, 24, 24, 84, 84, 84])


def test_single_compartment_cells_draw_too():
    """Point neurons make their (empty) randint(0, 1) draws too, as in Jaxley's mixed
    networks of point and detailed neurons."""
    point, detailed = jx.Cell(), jx.Cell(jx.Branch(jx.Compartment(), ncomp=5), parents=[-1, 0])
    net = jx.Network([point] * 4 + [detailed])
    np.random.seed(0)
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3]), TestSynapse(), random_post_comp=True)
    jx.fully_connect(net.cell([2, 3]), net.cell(4), TestSynapse(), random_post_comp=True)
    np.random.seed(0)
    np.random.randint(0, 1, size=2)
    np.random.randint(0, 1, size=2)
    expected = 4 + np.random.randint(0, 10, size=2)
    np.testing.assert_array_equal(net.edges["post_index"], [2, 3, 2, 3, *expected])


def _sparse_reference(pre_cells, post_cells, p, comps_per_cell, random_post_comp):
    n = np.random.binomial(len(pre_cells) * len(post_cells), p)
    pre = np.asarray(pre_cells)[np.random.randint(0, len(pre_cells), size=n)]
    post = np.asarray(post_cells)[np.random.randint(0, len(post_cells), size=n)]
    order = np.argsort(pre)  # numpy's default sort, as Jaxley (its tie order included)
    pre, post = pre[order], post[order]
    if not random_post_comp:
        return pre * comps_per_cell, post * comps_per_cell
    # Jaxley 0.14 (checked against jaxley 0.14.0): compartments sampled grouped by post
    # cell, that sorted list paired with the pre-sorted presynaptic cells as it comes.
    post = np.sort(post)
    comps = post * comps_per_cell
    for cell in np.unique(post):
        hit = post == cell
        comps[hit] += np.random.randint(0, comps_per_cell, size=hit.sum())
    return pre * comps_per_cell, comps


@pytest.mark.parametrize("random_post_comp", [False, True])
def test_sparse_connect_draw_order(random_post_comp):
    net = _net(16, 2, 8)  # 16 comps per cell
    np.random.seed(0)
    for i in range(4):
        jx.sparse_connect(net.cell(i), net.cell(range(4, 8)), TestSynapse(), 0.3, random_post_comp)
    jx.sparse_connect(
        net.cell(range(8, 12)), net.cell(range(12, 16)), TestSynapse(), 0.5, random_post_comp
    )

    np.random.seed(0)
    refs = [_sparse_reference([i], range(4, 8), 0.3, 16, random_post_comp) for i in range(4)]
    refs.append(_sparse_reference(range(8, 12), range(12, 16), 0.5, 16, random_post_comp))
    pre = np.concatenate([r[0] for r in refs])
    post = np.concatenate([r[1] for r in refs])
    assert pre.size > 5
    np.testing.assert_array_equal(net.edges["pre_index"], pre)
    np.testing.assert_array_equal(net.edges["post_index"], post)


def test_connectivity_matrix_connect_draw_order_and_numeric_matrix():
    net = _net(6, 1, 5)
    matrix = np.array([[0.0, 2.5, 1.0], [0.0, 0.0, -1.0]])  # Jaxley: non-zero = synapse
    np.random.seed(7)
    jx.connectivity_matrix_connect(
        net.cell([0, 1]), net.cell([3, 4, 5]), TestSynapse(), matrix, random_post_comp=True
    )
    np.random.seed(7)
    cell4 = 20 + np.random.randint(0, 5, size=1)
    cell5 = 25 + np.random.randint(0, 5, size=2)
    np.testing.assert_array_equal(net.edges["pre_index"], [0, 0, 5])
    np.testing.assert_array_equal(net.edges["post_index"], [cell4[0], cell5[0], cell5[1]])


def test_network_accepts_compartments_and_branches_as_cells():
    """Jaxley treats a Compartment or Branch in `Network([...])` as a one-branch cell."""
    comp = jx.Compartment()
    comp.insert(HH())
    comp.set("radius", 3.0)
    branch = jx.Branch(jx.Compartment(), ncomp=3)
    branch.set("length", 20.0)
    net = jx.Network([comp, branch, jx.Cell()])
    nodes = net.nodes
    np.testing.assert_array_equal(nodes["global_cell_index"], [0, 1, 1, 1, 2])
    np.testing.assert_array_equal(nodes["global_branch_index"], [0, 1, 1, 1, 2])
    np.testing.assert_allclose(nodes["radius"], [3.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(nodes["length"], [10.0, 20.0, 20.0, 20.0, 10.0])
    assert nodes["HH"].tolist() == [True, False, False, False, False]
    # The same network built from explicit cells integrates to the same trace.
    as_cells = jx.Network(
        [jx.Cell([jx.Branch([comp])], parents=[-1]), jx.Cell([branch], parents=[-1]), jx.Cell()]
    )
    traces = []
    for module in (net, as_cells):
        jx.connect(module.cell(0), module.cell(1).branch(0).comp(2), IonotropicSynapse())
        module.cell(0).stimulate(jx.step_current(0.5, 1.0, 0.2, 0.025, 5.0), verbose=False)
        module.cell(1).branch(0).comp(2).record(verbose=False)
        traces.append(np.asarray(jx.integrate(module)))
    np.testing.assert_array_equal(traces[0], traces[1])
    with pytest.raises(TypeError, match="Cells.*got str"):
        jx.Network(["cell"])
