"""dendrax.nn layers against hand-stepped numpy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.nn import LIF, ExpSyn, Instant, Linear, Rate, step_pwl

pytestmark = pytest.mark.usefixtures("x64")


def test_linear_matches_matmul_and_autobatches():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    lin = Linear((3, 4), weight=w, bias=b, has_bias=True)
    x = rng.normal(size=(10, 3))
    out, state, rec = lin(x)
    assert out.shape == (1, 10, 4) and state == {} and rec == {}
    np.testing.assert_allclose(out[0], x @ w + b, rtol=1e-12)
    # a size-1 channel dimension is broadcast
    out1, _, _ = lin(np.ones((5, 1)))
    np.testing.assert_allclose(out1[0], np.ones((5, 3)) @ w + b, rtol=1e-12)


def test_linear_kaiming_init_range():
    lin = Linear((50, 20), rng_key=1)
    assert np.all(np.abs(lin.weight) <= np.sqrt(6 / 50))
    assert lin.weight.std() > 0.5 * np.sqrt(6 / 50) / np.sqrt(3)


def test_instant_applies_function():
    x = np.random.default_rng(1).normal(size=(2, 7, 5))
    out, _, _ = Instant(5, jnp.tanh)(x)
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-12)


@pytest.mark.parametrize("act", ["ReLU", "tanh", "sigmoid"])
def test_rate_forward_euler_by_hand(act):
    rng = np.random.default_rng(2)
    n, t, dt = 4, 30, 1e-3
    tau, bias, thr = rng.uniform(5e-3, 30e-3, n), rng.normal(size=n), 0.1 * rng.normal(size=n)
    w_rec = 0.5 * rng.normal(size=(n, n))
    mod = Rate(n, tau=tau, bias=bias, threshold=thr, w_rec=w_rec, activation_func=act, dt=dt)
    H = {
        "ReLU": lambda x: np.maximum(x - thr, 0.0),
        "tanh": lambda x: np.tanh(x - thr),
        "sigmoid": lambda x: (np.tanh(x - thr) + 1) / 2,
    }[act]
    inp = rng.normal(size=(t, n))
    x, outs, xs = np.zeros(n), [], []
    for k in range(t):
        x = x + dt / tau * (-x + inp[k] + bias + H(x) @ w_rec)
        outs.append(H(x))
        xs.append(x)
    out, state, rec = mod(inp, record=True)
    np.testing.assert_allclose(out[0], np.array(outs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rec["x"][0], np.array(xs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["x"], xs[-1], rtol=1e-10)


def test_rate_noise_is_reproducible_and_scaled():
    mod = Rate(200, tau=1e-3, dt=1e-3, noise_std=2.0, rng_key=3)  # dt/tau = 1: x = input+noise
    out, state, rec = mod(np.zeros((50, 200)), record=True)
    assert np.std(np.asarray(rec["x"])) == pytest.approx(2.0 * np.sqrt(1e-3), rel=0.05)
    out2, _, _ = mod(np.zeros((50, 200)))
    np.testing.assert_array_equal(out, out2)  # same module => same key => same noise
    assert not np.array_equal(state["rng_key"], mod.rng_key)


def _lif_reference(s_in, tau_mem, tau_syn, bias, thr, w_rec, dt, n_syn):
    n_out = len(tau_mem)
    alpha, beta = np.exp(-dt / tau_syn), np.exp(-dt / tau_mem)
    spikes, isyn, v = np.zeros(n_out), np.zeros((n_out, n_syn)), np.zeros(n_out)
    out, vs = [], []
    for s in s_in:
        isyn = isyn + s.reshape(n_out, n_syn) + (spikes @ w_rec).reshape(n_out, n_syn)
        v = v * beta
        isyn = isyn * alpha
        v = v + isyn.sum(1) + bias
        spikes = np.where(v >= thr, np.floor(v / thr), 0.0)
        v = v - spikes * thr
        out.append(spikes)
        vs.append(v)
    return np.array(out), np.array(vs)


@pytest.mark.parametrize("shape", [(3,), (6, 3)])
def test_lif_hand_stepped(shape):
    rng = np.random.default_rng(4)
    n_out = shape[-1]
    n_syn = shape[0] // n_out
    tau_mem = rng.uniform(10e-3, 30e-3, n_out)
    tau_syn = rng.uniform(5e-3, 20e-3, (n_out, n_syn))
    bias, thr = 0.05 * rng.normal(size=n_out), rng.uniform(0.5, 1.5, n_out)
    w_rec = 0.3 * rng.normal(size=(n_out, shape[0]))
    s_in = rng.poisson(0.6, size=(40, shape[0])).astype(float)
    mod = LIF(shape, tau_mem=tau_mem, tau_syn=tau_syn, bias=bias, threshold=thr, w_rec=w_rec)
    out, state, rec = mod(s_in)
    ref_s, ref_v = _lif_reference(s_in, tau_mem, tau_syn, bias, thr, w_rec, 1e-3, n_syn)
    assert ref_s.sum() > 0  # the test exercises spiking and reset
    np.testing.assert_allclose(out[0], ref_s)
    np.testing.assert_allclose(rec["vmem"][0], ref_v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["vmem"], ref_v[-1], rtol=1e-10, atol=1e-12)
    assert set(rec) == {"irec", "spikes", "isyn", "vmem"}


def test_lif_multiple_spikes_and_clip():
    # no leak: isyn integrates its input; v = 2.5 -> 2 spikes, 0.5 left; isyn back to 0;
    # isyn = 8 -> v = 8.5 -> floor 8 clipped to 3 spikes, subtractive reset leaves 5.5
    mod = LIF(1, threshold=1.0, tau_mem=1e9, tau_syn=1e9, max_spikes_per_dt=3)
    out, _, rec = mod(np.array([[2.5], [-2.5], [8.0]]))
    np.testing.assert_allclose(out[0, :, 0], [2.0, 0.0, 3.0])
    np.testing.assert_allclose(rec["vmem"][0, :, 0], [0.5, 0.5, 5.5], atol=1e-6)


def test_lif_surrogate_gradient_formula():
    thr = 0.8
    v = np.array([-1.0, 0.2, 0.31, 0.5, 0.79, 0.8, 1.7, 3.0])
    grad_v = jax.vmap(jax.grad(lambda v: step_pwl(v, thr)))(v)
    expected = (v >= thr - 0.5) / thr
    assert np.all(np.isfinite(grad_v))
    np.testing.assert_allclose(grad_v, expected, rtol=1e-12)
    grad_thr = jax.vmap(jax.grad(lambda t, v: step_pwl(v, t)), in_axes=(None, 0))(thr, v)
    np.testing.assert_allclose(grad_thr, -1.0 * (v >= thr - 0.5) * v / thr**2, rtol=1e-12)


def test_lif_gradient_through_time_is_finite():
    mod = LIF((4, 2), rng_key=0)
    x = np.random.default_rng(5).poisson(0.5, size=(50, 4)).astype(float)

    def loss(p):
        out, _, _ = mod.set_attributes(p)(x)
        return jnp.sum(out)

    g = jax.grad(loss)(mod.parameters())
    leaves = jax.tree_util.tree_leaves(g)
    assert all(np.all(np.isfinite(leaf)) for leaf in leaves)
    assert any(np.any(leaf != 0) for leaf in leaves)


def test_expsyn_impulse_response():
    tau, dt = np.array([5e-3, 20e-3]), 1e-3
    x = np.zeros((30, 2))
    x[0] = 1.0
    out, state, _ = ExpSyn(2, tau=tau, dt=dt)(x)
    k = np.arange(30)[:, None]
    np.testing.assert_allclose(out[0], np.exp(-k * dt / tau), rtol=1e-12)
    np.testing.assert_allclose(state["isyn"], np.exp(-29 * dt / tau), rtol=1e-12)


def test_state_carries_over_and_resets():
    mod = ExpSyn(1, tau=10e-3)
    x = np.zeros((5, 1))
    x[0] = 1.0
    _, state, _ = mod(x)
    mod2 = mod.set_attributes(state)
    out2, _, _ = mod2(np.zeros((1, 1)))
    assert float(out2[0, 0, 0]) == pytest.approx(np.exp(-5e-3 / 10e-3), rel=1e-12)
    np.testing.assert_array_equal(mod2.reset_state().isyn, mod.isyn)


def test_batched_input_gives_per_batch_outputs():
    mod = Rate(3, tau=10e-3)
    x = np.random.default_rng(6).normal(size=(4, 20, 3))
    out, _, _ = mod(x)
    for b in range(4):
        np.testing.assert_allclose(out[b], mod(x[b])[0][0], rtol=1e-12)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="input channels"):
        Linear((3, 2))(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="expects input of shape"):
        Rate(3)(np.zeros((2, 2, 5, 3)))
    with pytest.raises(ValueError, match="multiple of N_out"):
        LIF((5, 2))
    with pytest.raises(ValueError, match="activation_func"):
        Rate(3, activation_func="softplus")
    with pytest.raises(TypeError, match="callable"):
        Instant(3, function="tanh")
    with pytest.raises(ValueError, match="expected"):
        Rate(3, tau=np.ones(4))
    with pytest.raises(TypeError, match="shape"):
        Linear("abc")
