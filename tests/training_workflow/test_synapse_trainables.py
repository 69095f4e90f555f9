"""Synaptic trainables: sharing rules on edges and gradients of synaptic conductances against
central finite differences (float64)."""

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as jx
from dendrax.connect import connect, fully_connect
from dendrax.synapses import IonotropicSynapse, TanhRateSynapse
from tests.training_workflow._cells import DT, T_MAX, current, hh_cell


def _network():
    """Cells 0, 1 -> cell 2 (TanhRate, edges 0-1); cell 0 -> cell 1 (Ionotropic, edge 2)."""
    net = jx.Network([hh_cell(init=False) for _ in range(3)])
    fully_connect(net.cell([0, 1]), net.cell(2), TanhRateSynapse())
    connect(net.cell(0).branch(1).comp(1), net.cell(1).branch(0).comp(0), IonotropicSynapse())
    net.set("TanhRateSynapse_slope", 0.1)
    net.set("TanhRateSynapse_gS", 2e-3)
    net.set("IonotropicSynapse_gS", 5e-3)
    net.init_states()
    return net


def test_edge_sharing_rules():
    net = _network()
    net.TanhRateSynapse.make_trainable("TanhRateSynapse_gS", verbose=False)
    net.TanhRateSynapse.edge("all").make_trainable("TanhRateSynapse_slope", verbose=False)
    net.select(edges=[2]).make_trainable("IonotropicSynapse_gS", verbose=False)
    shapes = [next(iter(p.values())).shape for p in net.get_parameters()]
    assert shapes == [(1,), (2,), (1,)]
    assert net.num_trainable_params == 4
    rows = [sorted(np.ravel(r).tolist()) for r in net.indices_set_by_trainables]
    assert rows == [[0, 1], [0, 1], [2]]


def test_synaptic_conductance_gradients_match_finite_differences():
    net = _network()
    net.cell(0).branch(0).comp(0).stimulate(current(0.3), verbose=False)
    net.cell(1).branch(0).comp(0).stimulate(current(0.05), verbose=False)
    net.cell(2).branch(0).comp(0).record(verbose=False)
    net.cell(1).branch(0).comp(0).record(verbose=False)
    net.TanhRateSynapse.edge("all").make_trainable("TanhRateSynapse_gS", verbose=False)
    net.IonotropicSynapse.make_trainable("IonotropicSynapse_gS", verbose=False)
    params = net.get_parameters()

    def loss(p):
        v = jx.integrate(net, params=p, t_max=T_MAX, delta_t=DT)
        return jnp.mean((v + 60.0) ** 2)

    grads = jax.grad(loss)(params)
    for position, entry in enumerate(params):
        ((key, values),) = entry.items()
        for i in range(values.size):
            eps = 1e-5 * float(values[i])
            shifted = []
            for sign in (1.0, -1.0):
                trial = list(params)
                trial[position] = {key: values.at[i].add(sign * eps)}
                shifted.append(float(loss(trial)))
            fd = (shifted[0] - shifted[1]) / (2 * eps)
            g = float(grads[position][key][i])
            assert abs(fd) > 1e-6, (key, i, fd)
            assert abs(g - fd) / abs(fd) < 1e-4, (key, i, g, fd)
