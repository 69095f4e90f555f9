"""Jaxley 0.14's random draws of the connect helpers, reproduced from `np.random` directly:
with a seed, `fully_connect`, `sparse_connect` and `connectivity_matrix_connect` pick the
same postsynaptic compartments as Jaxley (values of Jaxley's own connection tests)."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.errors import ModelError
from dendrax.synapses import TestSynapse

NCOMP_PER_CELL = 6  # 3 branches x 2 compartments


def _net(n_cells):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    return jx.Network([cell] * n_cells)


def test_fully_connect_random_post_comps():
    """Per postsynaptic cell (ascending) one `np.random.choice(n_comps, n_pre)`; synapse
    (pre i, post j) takes draw i of cell j."""
    net = _net(5)
    np.random.seed(3)
    jx.fully_connect(net.cell([0, 1]), net.cell([2, 3, 4]), TestSynapse(), random_post_comp=True)
    np.random.seed(3)
    draws = {c: c * NCOMP_PER_CELL + np.random.choice(NCOMP_PER_CELL, 2) for c in (2, 3, 4)}
    expected = [draws[c][i] for i in range(2) for c in (2, 3, 4)]
    assert net.edges["post_index"].tolist() == expected
    assert net.edges["pre_index"].tolist() == [0, 0, 0, 6, 6, 6]


def test_sparse_connect_draws():
    """binomial(n_pre * n_post, p) pairs; pre and post cells by `choice`, sorted by pre cell;
    with random_post_comp the post cells sorted on their own, one compartment drawn per synapse."""
    for random_post in (False, True):
        net = _net(6)
        np.random.seed(1)
        jx.sparse_connect(
            net.cell([0, 1, 2]),
            net.cell([3, 4, 5]),
            TestSynapse(),
            p=0.6,
            random_post_comp=random_post,
        )
        np.random.seed(1)
        n = np.random.binomial(9, 0.6)
        pre = np.random.choice([0, 1, 2], size=n)
        post = np.random.choice([3, 4, 5], size=n)
        order = np.argsort(pre)
        pre, post = pre[order], post[order]
        if random_post:
            # Jaxley 0.14 (checked against jaxley 0.14.0 itself): compartments are sampled
            # grouped by postsynaptic cell, and that sorted list is paired with the
            # pre-sorted presynaptic cells as it comes.
            post = np.sort(post)
            comps = [c * NCOMP_PER_CELL + np.random.choice(NCOMP_PER_CELL, 1)[0] for c in post]
        else:
            comps = (post * NCOMP_PER_CELL).tolist()
        assert net.edges["pre_index"].tolist() == (pre * NCOMP_PER_CELL).tolist()
        assert net.edges["post_index"].tolist() == list(comps)


def test_connectivity_matrix_random_post_comps_and_errors():
    net = _net(4)
    matrix = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    np.random.seed(7)
    jx.connectivity_matrix_connect(
        net.cell([0, 1]), net.cell([1, 2, 3]), TestSynapse(), matrix, random_post_comp=True
    )
    np.random.seed(7)
    post_cells = [2, 3, 1]  # np.where order: (0, 1), (0, 2), (1, 0) of cells [1, 2, 3]
    # drawn grouped by post cell: cell 1 first, then 2, then 3
    draws = {c: c * NCOMP_PER_CELL + np.random.choice(NCOMP_PER_CELL, 1)[0] for c in (1, 2, 3)}
    assert net.edges["post_index"].tolist() == [draws[c] for c in post_cells]
    with pytest.raises(AssertionError, match="shape"):
        jx.connectivity_matrix_connect(net.cell([0, 1]), net.cell([0, 1]), TestSynapse(), matrix)
    with pytest.raises(ModelError, match="Network"):
        cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
        jx.connect(cell.branch(0), cell.branch(1), TestSynapse())
