"""Networks of many copies of one cell are solved side by side; same traces as node by node."""

import numpy as np

import dendrax as jx
import dendrax.simulator.structure as structure_module
from dendrax.channels import HH
from dendrax.modules.export import module_structure
from dendrax.solvers.forest import MIN_BATCHED_COPIES
from dendrax.solvers.tree import build_tree_order
from dendrax.synapses import IonotropicSynapse


def _network():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    net = jx.Network([cell] * MIN_BATCHED_COPIES)
    net.insert(HH())
    jx.connect(net.cell(0), net.cell(1), IonotropicSynapse())
    jx.connect(net.cell(1), net.cell(MIN_BATCHED_COPIES - 1), IonotropicSynapse())
    net.set("IonotropicSynapse_gS", 0.05)
    net.cell(0).branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 0.5, 0.025, 8.0))
    net.cell([0, 1, MIN_BATCHED_COPIES - 1]).branch(2).comp(1).record(verbose=False)
    return net


def test_batched_identical_cells_match_the_node_by_node_solve(monkeypatch):
    batched_net = _network()
    order = module_structure(batched_net).tree
    assert order.groups is not None and order.groups[0][0].shape[1] == MIN_BATCHED_COPIES
    batched = np.asarray(jx.integrate(batched_net, delta_t=0.025))

    monkeypatch.setattr(structure_module, "build_tree_order", lambda p: build_tree_order(p, False))
    plain_net = _network()
    assert module_structure(plain_net).tree.groups is None
    plain = np.asarray(jx.integrate(plain_net, delta_t=0.025))

    assert np.ptp(plain[2]) > 10.0  # the spike travelled through both synapses
    np.testing.assert_allclose(batched, plain, rtol=0, atol=1e-9)
