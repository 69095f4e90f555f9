"""Two-cell networks against the synapse equations integrated by hand in numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.synapses import (
    ConductanceSynapse,
    DynamicSynapse,
    IonotropicSynapse,
    TanhRateSynapse,
)

DT = 0.025
T_MAX = 20.0
AREA = 2 * np.pi * 1.0 * 10.0  # µm², default compartment
G_LEAK, E_LEAK = 1e-4, -70.0  # S/cm², mV


def _two_cells(synapse, pre_amp=0.05, t_max=T_MAX):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell, cell])
    net.insert(Leak())
    jx.connect(net.cell(0), net.cell(1), synapse)
    n_steps = int(t_max // DT) + 1
    stim = np.zeros(n_steps)
    stim[40:400] = pre_amp
    net.cell(0).stimulate(stim, verbose=False)
    net.cell([0, 1]).record(verbose=False)
    return net, stim


def _hand_integration(stim, update_state, conductance_and_current):
    """Backward Euler of two leaky compartments; the synapse is linear in v_post.

    `update_state(s, v_pre)` -> new synapse state; `conductance_and_current(s, v_pre)` ->
    (g µS, I0 nA) so that I(v_post) = g * v_post + I0.
    """
    to_density = 1e5 / AREA  # nA -> µA/cm²
    g_leak = G_LEAK * 1e3  # mS/cm² -> µA/cm²/mV
    v_pre, v_post, s = -70.0, -70.0, None
    pre_trace, post_trace = [v_pre], [v_post]
    for n in range(stim.size):
        s = update_state(s, v_pre)
        g, i0 = conductance_and_current(s, v_pre)
        i_ext = stim[n] * to_density
        new_pre = (v_pre + DT * (g_leak * E_LEAK + i_ext)) / (1 + DT * g_leak)
        new_post = (v_post + DT * (g_leak * E_LEAK - i0 * to_density)) / (
            1 + DT * (g_leak + g * to_density)
        )
        v_pre, v_post = new_pre, new_post
        pre_trace.append(v_pre)
        post_trace.append(v_post)
    return np.array([pre_trace, post_trace])


def test_ionotropic_matches_hand_integration():
    net, stim = _two_cells(IonotropicSynapse())
    net.IonotropicSynapse.set("IonotropicSynapse_gS", 0.01)
    got = np.asarray(jx.integrate(net, delta_t=DT))

    def update(s, v_pre):
        s = 0.2 if s is None else s
        s_inf = 1 / (1 + np.exp((-35.0 - v_pre) / 10.0))
        tau = (1 - s_inf) / 0.025
        with np.errstate(divide="ignore"):
            return s_inf + (s - s_inf) * np.exp(-DT / tau)

    want = _hand_integration(stim, update, lambda s, v: (0.01 * s, -0.01 * s * 0.0))
    assert np.max(np.abs(got - want)) < 1e-9
    assert np.ptp(want[1]) > 1.0  # the synapse does act on the postsynaptic cell


def test_tanh_rate_matches_hand_integration():
    net, stim = _two_cells(TanhRateSynapse())
    net.set("TanhRateSynapse_gS", 0.002)
    got = np.asarray(jx.integrate(net, delta_t=DT))
    want = _hand_integration(stim, lambda s, v: s, lambda s, v: (0.0, -0.002 * np.tanh(v + 70.0)))
    assert np.max(np.abs(got - want)) < 1e-9


def test_jaxley_v1_conductance_synapse_reads_presynaptic_reversal():
    net, stim = _two_cells(ConductanceSynapse())
    net.set("ConductanceSynapse_gS", 0.01)
    net.cell(0).set("ConductanceSynapse_e_syn", -90.0)  # node parameter of the pre cell
    got = np.asarray(jx.integrate(net, delta_t=DT))

    def current(s, v_pre):
        g = 0.01 / (1 + np.exp(-(v_pre + 35.0) / 10.0))
        return g, -g * -90.0

    want = _hand_integration(stim, lambda s, v: s, current)
    assert np.max(np.abs(got - want)) < 1e-9
    assert want[1].min() < -70.5  # hyperpolarized towards -90 mV


def test_dynamic_synapse_state_recording():
    net, stim = _two_cells(DynamicSynapse(), pre_amp=0.1)
    net.set("DynamicSynapse_gS", 0.005)
    net.DynamicSynapse.record("DynamicSynapse_s", verbose=False)
    net.DynamicSynapse.record("i_DynamicSynapse", verbose=False)
    got = np.asarray(jx.integrate(net, delta_t=DT))

    def update(s, v_pre):
        s = 0.0 if s is None else s
        target = 1 / (1 + np.exp(-(v_pre + 35.0) / 10.0))
        return target + (s - target) * np.exp(-DT / 5.0)

    want = _hand_integration(stim, update, lambda s, v: (0.005 * s, 0.0))
    np.testing.assert_allclose(got[:2], want, atol=1e-9)
    s_trace = [0.0]
    s = None
    for v_pre in want[0][:-1]:
        s = update(s, v_pre)
        s_trace.append(s)
    np.testing.assert_allclose(got[2], s_trace, atol=1e-12)
    # The recorded current of a step uses the new state and the voltage at the step's start.
    np.testing.assert_allclose(got[3][1:], 0.005 * got[2][1:] * got[1][:-1], atol=1e-12)
    assert got[3][0] == 0.0


def test_unconnected_network_equals_cells_one_by_one():
    def make_cell(radius):
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1, 0, 0])
        cell.insert(HH())
        cell.branch(1).set("radius", radius)
        return cell

    amps = (0.3, 0.5)
    cells = [make_cell(1.0), make_cell(0.7)]
    singles = []
    for cell, amp in zip(cells, amps, strict=True):
        cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, amp, DT, 8.0), verbose=False)
        cell.branch(2).comp(1).record(verbose=False)
        singles.append(np.asarray(jx.integrate(cell, delta_t=DT)))
        cell.delete_stimuli()
        cell.delete_recordings()
    net = jx.Network(cells)
    # Zero-weight synapses leave the cells independent.
    jx.fully_connect(net.cell([0, 1]), net.cell([0, 1]), TanhRateSynapse())
    net.set("TanhRateSynapse_gS", 0.0)
    for i, amp in enumerate(amps):
        net.cell(i).branch(0).comp(0).stimulate(
            jx.step_current(1.0, 3.0, amp, DT, 8.0), verbose=False
        )
        net.cell(i).branch(2).comp(1).record(verbose=False)
    together = np.asarray(jx.integrate(net, delta_t=DT))
    np.testing.assert_allclose(together, np.concatenate(singles), atol=1e-10)
    assert np.max(together) > 0.0  # the cells spiked


def test_edge_trainable_gradient_matches_finite_differences():
    net, _ = _two_cells(IonotropicSynapse(), t_max=5.0)
    net.IonotropicSynapse.make_trainable("IonotropicSynapse_gS", 0.01, verbose=False)

    def loss(params):
        return jnp.mean(jx.integrate(net, params=params, delta_t=DT, t_max=5.0)[1])

    params = net.get_parameters()
    grad = float(jx_grad(loss)(params)[0]["IonotropicSynapse_gS"][0])
    eps = 1e-6
    up = loss([{"IonotropicSynapse_gS": jnp.array([0.01 + eps])}])
    down = loss([{"IonotropicSynapse_gS": jnp.array([0.01 - eps])}])
    assert grad == pytest.approx(float(up - down) / (2 * eps), rel=1e-5)


def jx_grad(fn):
    import jax

    return jax.grad(fn)


def test_clamped_synapse_state_and_step_functions():
    net, stim = _two_cells(IonotropicSynapse(), t_max=5.0)
    net.set("IonotropicSynapse_gS", 0.01)
    net.IonotropicSynapse.clamp("IonotropicSynapse_s", np.full(stim.size, 0.5), verbose=False)
    got = np.asarray(jx.integrate(net, delta_t=DT))
    want = _hand_integration(stim, lambda s, v: 0.5, lambda s, v: (0.01 * s, 0.0))
    np.testing.assert_allclose(got, want, atol=1e-9)

    # build_init_and_step_fn gives the same trajectory as integrate (no clamp).
    net.delete_clamps()
    traces = np.asarray(jx.integrate(net, delta_t=DT))
    from dendrax.integrate import build_init_and_step_fn

    init_fn, step_fn = build_init_and_step_fn(net)
    states, params = init_fn(net.get_parameters(), delta_t=DT)
    step = jax.jit(lambda st, amp: step_fn(st, params, {"i": amp}, {"i": np.array([0])}, DT))
    post = [float(states["v"][1])]
    for n in range(stim.size):
        states = step(states, jnp.array([stim[n]]))
        post.append(float(states["v"][1]))
    np.testing.assert_allclose(post, traces[1], atol=1e-12)
