"""Synapse updates sharing one presynaptic drive per presynaptic compartment.

The shared update must give the same traces and gradients as the per-synapse update, and
must be used only where it is exact: equal drive parameters per presynaptic compartment,
parameters known before tracing, no delays, and a mechanism whose `update_states` is
written through `presynaptic_drive`.
"""

import importlib

import jax
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.modules.export import model_tables
from dendrax.modules.export import module_structure as compile_structure
from dendrax.simulator.presynaptic_drive import fan_out_layout, presynaptic_sharing
from dendrax.simulator.synapse_step import make_delay_plan
from dendrax.synapses import IonotropicSynapse

DT, T_MAX = 0.025, 15.0
compiler_module = importlib.import_module("dendrax.compiler")


def _network(synapse=None, n_pre=3, n_post=3):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    net = jx.Network([cell] * (n_pre + n_post))
    net.insert(HH())
    jx.fully_connect(
        net.cell(range(n_pre)),
        net.cell(range(n_pre, n_pre + n_post)),
        synapse or IonotropicSynapse(),
    )
    net.set("IonotropicSynapse_gS", 0.02)
    net.cell(0).branch(0).comp(0).stimulate(jx.step_current(1.0, 5.0, 0.6, DT, T_MAX))
    net.cell(1).branch(0).comp(0).stimulate(jx.step_current(4.0, 5.0, 0.4, DT, T_MAX))
    net.cell(range(n_pre + n_post)).branch(1).comp(1).record(verbose=False)
    return net


def _sharing(net, param_state=None):
    return presynaptic_sharing(model_tables(net), compile_structure(net), param_state)


def _without_sharing(monkeypatch):
    monkeypatch.setattr(
        compiler_module, "presynaptic_sharing", lambda tables, s, *a: (False,) * len(s.synapses)
    )


def test_shared_drive_gives_the_per_synapse_traces(monkeypatch):
    net = _network()
    assert _sharing(net) == (True,)
    shared = np.asarray(jx.integrate(net, t_max=T_MAX, delta_t=DT))
    _without_sharing(monkeypatch)
    per_synapse = np.asarray(jx.integrate(_network(), t_max=T_MAX, delta_t=DT))
    assert np.ptp(per_synapse[4]) > 20.0  # the postsynaptic cells respond
    np.testing.assert_allclose(shared, per_synapse, rtol=0, atol=1e-10)


def test_shared_drive_gradient_matches_finite_differences():
    net = _network()
    net.cell(0).make_trainable("HH_gNa", verbose=False)
    net.IonotropicSynapse.make_trainable("IonotropicSynapse_gS", verbose=False)
    params = net.get_parameters()
    assert _sharing(net) == (True,)  # the trained gS is not a drive parameter

    def loss(p):
        v = jx.integrate(net, params=p, t_max=T_MAX, delta_t=DT)
        return jax.numpy.mean((v[3:] + 60.0) ** 2)

    grads = jax.grad(loss)(params)
    for leaf_index in range(2):
        flat = [dict(x) for x in params]
        key = next(iter(flat[leaf_index]))
        eps = 1e-3 * float(np.abs(np.asarray(flat[leaf_index][key])).max())
        shifted = []
        for sign in (1.0, -1.0):
            p = [dict(x) for x in params]
            p[leaf_index][key] = p[leaf_index][key] + sign * eps
            shifted.append(float(loss(p)))
        fd = (shifted[0] - shifted[1]) / (2 * eps)
        got = float(np.sum(np.asarray(grads[leaf_index][key])))
        assert abs(got - fd) <= 1e-4 * abs(fd), (key, got, fd)


def test_sharing_is_off_where_it_would_not_be_exact():
    net = _network()
    net.select(edges=[1]).set("IonotropicSynapse_v_th", -30.0)  # pre cell 0 has two values
    assert _sharing(net) == (False,)

    net = _network()
    net.select(edges=[0, 1, 2]).set("IonotropicSynapse_v_th", -30.0)  # all of pre cell 0
    assert _sharing(net) == (True,)

    net = _network()
    net.IonotropicSynapse.make_trainable("IonotropicSynapse_k_minus", verbose=False)
    assert _sharing(net) == (False,)

    net = _network()
    state = net.select(edges=[0]).data_set("IonotropicSynapse_delta", 5.0, None)
    assert _sharing(net, state) == (False,)

    net = _network()
    net.select(edges=[0]).set("delay", 1.0)
    structure = compile_structure(net)
    plan = make_delay_plan(structure, model_tables(net).edges["delay"], DT)
    assert presynaptic_sharing(model_tables(net), structure, None, plan) == ()

    class CustomUpdate(IonotropicSynapse):  # overrides update_states: drive not used
        def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
            return super().update_states(states, delta_t, pre_voltage, post_voltage, params)

    assert _sharing(_network(CustomUpdate("IonotropicSynapse"))) == (False,)
    assert _sharing(_network(n_pre=4, n_post=1)) == (False,)  # one synapse per presynaptic


@pytest.mark.parametrize(
    ("pre", "layout"),
    [
        ([4, 4, 4, 1, 1, 1], ("repeat", 2)),
        ([4, 1, 7, 4, 1, 7], ("tile", 3)),
        ([4, 4, 1, 1, 1, 7], None),  # uneven fan-out
        ([4, 1, 4, 1, 1, 4], None),  # no regular order
    ],
)
def test_fan_out_layout(pre, layout):
    assert fan_out_layout(np.asarray(pre)) == layout
