"""Point neurons: hard-reset forward traces, surrogate gradients, finite differences."""

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as jx
from dendrax.channels import AdEx, Fire, Izhikevich, Leak, Rate
from dendrax.synapses import SpikeSynapse

DT = 0.025
TO_DENSITY = 1e5 / (2 * np.pi * 10.0)  # nA -> µA/cm² for the default compartment


def _lif(amp, t_max=20.0):
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.insert(Fire())
    comp.set("Leak_gLeak", 1e-3)
    n = int(t_max // DT) + 1
    comp.stimulate(np.full(n, amp), verbose=False)
    comp.record(verbose=False)
    comp.record("Fire_spikes", verbose=False)
    return comp, n


def _lif_numpy(amp, n, g=1e-3 * 1e3, e=-70.0, vth=-50.0, vreset=-70.0):
    v, vs, spikes = -70.0, [-70.0], [0.0]
    for _ in range(n):
        spike = float(v >= vth)
        v = vreset if spike else v
        v = (v + DT * (g * e + amp * TO_DENSITY)) / (1 + DT * g)
        vs.append(v)
        spikes.append(spike)
    return np.array(vs), np.array(spikes)


def test_fire_forward_equals_hard_reset():
    comp, n = _lif(0.05)
    got = np.asarray(jx.integrate(comp, delta_t=DT))
    v, spikes = _lif_numpy(0.05, n)
    np.testing.assert_allclose(got[0], v, atol=1e-10)
    np.testing.assert_array_equal(got[1], spikes)
    assert spikes.sum() >= 3


def test_fire_gradient_equals_surrogate_formula():
    v0 = np.array([-50.5, -49.7, -30.0])
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell] * v0.size)  # independent one-compartment neurons
    net.insert(Leak())
    net.insert(Fire())
    net.record(verbose=False)
    net.cell("all").make_trainable("v", v0, verbose=False)

    def final_v(params):
        return jnp.sum(jx.integrate(net, params=params, t_max=0.0, delta_t=DT)[:, -1])

    grad = np.asarray(jax.grad(final_v)(net.get_parameters())[0]["v"])
    x = v0 + 50.0
    h = (x >= 0).astype(float)
    dreset = (1 - h) + (-70.0 - v0) / (10 * np.abs(x) + 1) ** 2
    g = 1e-4 * 1e3
    np.testing.assert_allclose(grad, dreset / (1 + DT * g), rtol=1e-12)


def test_izhikevich_and_adex_forward_equal_hard_reset_and_have_finite_gradients():
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell, cell])
    net.cell(0).insert(Izhikevich())
    net.cell(1).insert(AdEx())
    n = int(40.0 // DT) + 1
    amps = (0.2, 0.3)
    net.stimulate(np.stack([np.full(n, a) for a in amps]), verbose=False)
    net.record(verbose=False)
    got = np.asarray(jx.integrate(net, delta_t=DT))
    for row, amp in enumerate(amps):
        v, w, ref = -70.0, 0.0, [-70.0]
        for _ in range(n):
            if row == 0:  # Izhikevich (Jaxley's order: u first, v with the new u)
                w = 0.2 * v + (w - 0.2 * v) * np.exp(-DT * 0.02)
                v_new = v + DT * (0.04 * v**2 + 5 * v + 140 - w)
                spike, v_reset, jump = v_new >= 30.0, -65.0, 8.0
            else:  # AdEx
                dv = -10 * (v + 70) + 10 * 2 * np.exp(min((v + 50) / 2, 10.0)) - w
                v_new = v + DT * dv
                w = 2 * (v + 70) + (w - 2 * (v + 70)) * np.exp(-DT / 30.0)
                spike, v_reset, jump = v_new >= 0.0, -58.0, 0.0
            v = v_reset if spike else v_new
            w = w + jump if spike else w
            v = v + DT * amp * TO_DENSITY
            ref.append(v)
        np.testing.assert_allclose(got[row], ref, atol=1e-8)
        assert np.sum(np.diff(got[row]) < -20) >= 1  # it spiked and reset

    net.cell("all").make_trainable("v", verbose=False)
    grad = jax.grad(lambda p: jnp.mean(jx.integrate(net, params=p, delta_t=DT)))(
        net.get_parameters()
    )
    values = np.asarray(grad[0]["v"])
    assert np.all(np.isfinite(values)) and np.all(values != 0.0)


def test_rate_decays_exactly_and_integrates_input():
    comp = jx.Compartment()
    comp.set("length", 1 / (2 * np.pi * 1e-5))
    comp.insert(Rate())
    comp.set("v", 1.0)
    n = 40
    stim = np.zeros(n)
    stim[20:] = 1.0
    comp.stimulate(stim, verbose=False)
    comp.record(verbose=False)
    got = np.asarray(jx.integrate(comp, delta_t=DT))[0]
    want = [1.0]
    for k in range(n):
        want.append(want[-1] * np.exp(-DT) + DT * stim[k])
    np.testing.assert_allclose(got, want, rtol=1e-9)


class SmoothFire(Fire):
    """Fire with a smooth spike (sigmoid): a differentiable copy for finite differences.

    The sigmoid is shallow (0.2 / mV) so that the one-step reset map contracts everywhere
    (its slope at threshold is 0.5 - 20 mV * 0.2 / 4 = -0.5). With a steep sigmoid (2 / mV,
    slope -9.5) the presynaptic cells are chaotic, a rounding difference of 1e-12 mV grows
    to mV within 150 steps, and finite differences then test the rounding, not the gradient.
    """

    def update_states(self, states, dt, v, params):
        spike = jax.nn.sigmoid((v - params["Fire_vth"]) * 0.2)
        return {"v": v * (1 - spike) + params["Fire_vreset"] * spike, "Fire_spikes": spike}


def _snn(fire):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell] * 3)
    net.insert(Leak())
    net.insert(fire)
    net.set("Leak_gLeak", 1e-3)
    jx.fully_connect(net.cell([0, 1]), net.cell([2]), SpikeSynapse())
    n = int(10.0 // DT) + 1
    net.cell([0, 1]).stimulate(np.stack([np.full(n, 0.06), np.full(n, 0.045)]), verbose=False)
    net.cell(2).record(verbose=False)
    net.SpikeSynapse.edge("all").make_trainable("SpikeSynapse_gS", [-0.02, -0.01], verbose=False)
    return net


def test_snn_gradients_agree_with_finite_differences_on_smoothed_copy():
    net = _snn(SmoothFire("Fire"))

    def loss(params):
        return jnp.mean(jx.integrate(net, params=params, delta_t=DT)[0])

    params = net.get_parameters()
    grad = np.asarray(jax.grad(loss)(params)[0]["SpikeSynapse_gS"])
    eps = 1e-6
    fd = []
    for i in range(2):
        up = params[0]["SpikeSynapse_gS"].at[i].add(eps)
        down = params[0]["SpikeSynapse_gS"].at[i].add(-eps)
        fd.append((loss([{"SpikeSynapse_gS": up}]) - loss([{"SpikeSynapse_gS": down}])) / (2 * eps))
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    assert np.all(np.abs(grad) > 0)
