"""Synaptic delays: exact shift of the postsynaptic response, gradients, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import Fire, Leak
from dendrax.synapses import SpikeSynapse, TanhRateSynapse

DT = 0.025
N_STEPS = 600


def _pair(synapse, spiking=False):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell, cell, cell])
    net.insert(Leak())
    if spiking:
        net.insert(Fire())
    # Two identical pathways 0 -> 1 (delayed later) and 0 -> 2 (no delay).
    jx.connect(net.cell(0), net.cell(1), synapse)
    jx.connect(net.cell(0), net.cell(2), synapse)
    stim = np.zeros(N_STEPS)
    stim[100:300] = 0.1 if spiking else 0.02
    net.cell(0).stimulate(stim, verbose=False)
    net.cell([1, 2]).record(verbose=False)
    return net


@pytest.mark.parametrize("spiking", [False, True])
def test_delay_shifts_postsynaptic_response_exactly(spiking):
    net = _pair(SpikeSynapse() if spiking else TanhRateSynapse(), spiking)
    name = "SpikeSynapse_gS" if spiking else "TanhRateSynapse_gS"
    net.set(name, -0.01 if spiking else 0.005)
    lag = 48
    net.select(edges=[0]).set("delay", lag * DT)  # 1.2 ms
    delayed, direct = np.asarray(jx.integrate(net, delta_t=DT))
    assert np.ptp(direct) > 0.5
    # Equal up to rounding: the two cells are solved side by side in vector lanes, whose
    # floating-point contraction may differ by an ulp.
    np.testing.assert_allclose(delayed[lag:], direct[:-lag], rtol=0, atol=1e-12)
    np.testing.assert_allclose(delayed[:lag], direct[0], rtol=0, atol=1e-12)


def test_delayed_network_is_differentiable_in_weights():
    net = _pair(TanhRateSynapse())
    net.select(edges=[0]).set("delay", 2.0)
    net.select(edges=[0, 1]).make_trainable("TanhRateSynapse_gS", [0.005, 0.002], verbose=False)

    def loss(params):
        traces = jx.integrate(net, params=params, delta_t=DT)
        return jnp.sum(traces[0] ** 2) * 1e-4 + jnp.sum(traces[1]) * 1e-3

    params = net.get_parameters()
    grad = np.asarray(jax.grad(loss)(params)[0]["TanhRateSynapse_gS"])
    eps = 1e-7
    base = params[0]["TanhRateSynapse_gS"]
    fd = [
        (
            loss([{"TanhRateSynapse_gS": base.at[i].add(eps)}])
            - loss([{"TanhRateSynapse_gS": base.at[i].add(-eps)}])
        )
        / (2 * eps)
        for i in range(2)
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_negative_or_untrainable_delays_raise():
    net = _pair(TanhRateSynapse())
    with pytest.raises(ValueError, match="delays must be >= 0"):
        net.select(edges=[0]).set("delay", -1.0)
    with pytest.raises(ValueError, match="cannot be trained"):
        net.select(edges=[0]).make_trainable("delay")
