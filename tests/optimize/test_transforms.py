"""Tests for dendrax.optimize.transforms (elementwise transforms and ParamTransform)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dendrax.optimize import ParamTransform
from dendrax.optimize.transforms import (
    AffineTransform,
    ChainTransform,
    CustomTransform,
    IdentityTransform,
    LogisticTransform,
    MaskedTransform,
    NegSoftplusTransform,
    SigmoidTransform,
    SoftplusTransform,
)


@pytest.fixture(autouse=True, scope="module")
def _x64():
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", prev)


HYP = settings(max_examples=25, deadline=None)
finite = dict(allow_nan=False, allow_infinity=False)
bounds = st.tuples(st.floats(-100.0, 100.0, **finite), st.floats(0.01, 100.0, **finite)).map(
    lambda t: (t[0], t[0] + t[1])
)


def _sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus_np(x):
    return np.log1p(np.exp(x))


# ------------------------------------------------------------------ roundtrip + bounds (hypothesis)
@HYP
@given(x=st.floats(-10.0, 10.0, **finite), lu=bounds)
def test_sigmoid_roundtrip_and_bounds(x, lu):
    lo, up = lu
    tf = SigmoidTransform(lo, up)
    y = tf.forward(x)
    assert lo <= float(y) <= up
    np.testing.assert_allclose(tf.inverse(y), x, rtol=1e-6, atol=1e-6)


@HYP
@given(x=st.floats(-6.0, 6.0, **finite), lu=bounds)
def test_logistic_roundtrip_and_bounds(x, lu):
    lo, up = lu
    tf = LogisticTransform(lo, up)
    y = tf.forward(x)
    assert lo <= float(y) <= up
    np.testing.assert_allclose(tf.inverse(y), x, rtol=1e-6, atol=1e-6)


@HYP
@given(x=st.floats(-10.0, 60.0, **finite), lo=st.floats(-10.0, 10.0, **finite))
def test_softplus_roundtrip_and_bounds(x, lo):
    tf = SoftplusTransform(lo)
    y = tf.forward(x)
    assert float(y) > lo
    np.testing.assert_allclose(tf.inverse(y), x, rtol=1e-7, atol=1e-7)


@HYP
@given(x=st.floats(-60.0, 10.0, **finite), up=st.floats(-10.0, 10.0, **finite))
def test_neg_softplus_roundtrip_and_sign_quirk(x, up):
    tf = NegSoftplusTransform(up)
    y = tf.forward(x)
    # Jaxley quirk: the range is (-inf, -upper), not (-inf, upper)
    assert float(y) < -up
    np.testing.assert_allclose(tf.inverse(y), x, rtol=1e-7, atol=1e-7)


@HYP
@given(
    x=st.floats(-1e3, 1e3, **finite),
    scale=st.floats(0.1, 10.0, **finite),
    sign=st.sampled_from([-1.0, 1.0]),
    shift=st.floats(-1e3, 1e3, **finite),
)
def test_affine_roundtrip(x, scale, sign, shift):
    tf = AffineTransform(sign * scale, shift)
    np.testing.assert_allclose(tf.forward(x), sign * scale * x + shift, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(tf.inverse(tf.forward(x)), x, rtol=1e-10, atol=1e-9)


# ------------------------------------------------------------------ against numpy formulas
X = np.linspace(-8.0, 8.0, 33)


def test_identity():
    tf = IdentityTransform()
    np.testing.assert_array_equal(tf.forward(X), X)
    np.testing.assert_array_equal(tf.inverse(X), X)


def test_sigmoid_formula_and_array_bounds():
    lo = np.array([-1.0, 0.5, 2.0])
    up = np.array([1.0, 3.0, 100.0])
    x = np.array([-2.0, 0.3, 4.0])
    tf = SigmoidTransform(lo, up)
    np.testing.assert_allclose(tf.forward(x), lo + (up - lo) * _sigmoid_np(x), rtol=1e-14)
    np.testing.assert_allclose(
        tf.inverse(lo + (up - lo) * 0.25), np.full(3, np.log(0.25 / 0.75)), rtol=1e-12
    )


def test_logistic_formula():
    tf = LogisticTransform(-2.0, 5.0)
    expected = -2.0 + 7.0 * _sigmoid_np(X * math.pi / math.sqrt(3.0))
    np.testing.assert_allclose(tf.forward(X), expected, rtol=1e-14)


def test_softplus_formula_and_threshold():
    x = np.array([-30.0, -1.0, 0.0, 3.0, 19.9, 20.0, 20.1, 500.0])
    tf = SoftplusTransform(0.7)
    expected = 0.7 + np.where(x > 20.0, x, _softplus_np(np.minimum(x, 20.0)))
    np.testing.assert_allclose(tf.forward(x), expected, rtol=1e-14)
    tf5 = SoftplusTransform(0.0, threshold=5.0)
    np.testing.assert_allclose(tf5.forward(6.0), 6.0)
    np.testing.assert_allclose(tf5.forward(4.0), _softplus_np(4.0), rtol=1e-14)
    assert np.isfinite(tf.forward(1e300))


def test_neg_softplus_formula():
    tf = NegSoftplusTransform(1.5)
    expected = -(1.5 + _softplus_np(-X))
    np.testing.assert_allclose(tf.forward(X), expected, rtol=1e-14)


def test_validation_errors():
    with pytest.raises(ValueError, match="lower < upper"):
        SigmoidTransform(1.0, 1.0)
    with pytest.raises(ValueError, match="lower < upper"):
        LogisticTransform(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="nonzero scale"):
        AffineTransform(0.0, 1.0)
    with pytest.raises(ValueError):
        ChainTransform([])


# ------------------------------------------------------------------ gradients at saturation
@pytest.mark.parametrize(
    "tf",
    [
        SigmoidTransform(-1.0, 2.0),
        LogisticTransform(0.0, 1.0),
        SoftplusTransform(0.5),
        NegSoftplusTransform(0.5),
    ],
    ids=["sigmoid", "logistic", "softplus", "negsoftplus"],
)
def test_grads_finite_at_saturation(tf):
    x = jnp.array([-1e4, -800.0, -50.0, -20.0, 0.0, 20.0, 50.0, 800.0, 1e4])

    @jax.jit
    def run(x):
        y = tf.forward(x)
        g = jax.vmap(jax.grad(tf.forward))(x)
        # inverse at and beyond the bounds: finite values and gradients
        return y, g, tf.inverse(y), jax.vmap(jax.grad(tf.inverse))(y)

    y, g, xi, gi = run(x)
    for arr in (y, g, xi, gi):
        assert np.all(np.isfinite(arr))
    # jitted and eager forward agree
    np.testing.assert_allclose(y, tf.forward(x), rtol=1e-14)


def test_sigmoid_inverse_at_exact_bounds_finite():
    tf = SigmoidTransform(0.0, 1.0)
    y = jnp.array([0.0, 1.0])
    x, g = jax.jit(lambda y: (tf.inverse(y), jax.vmap(jax.grad(tf.inverse))(y)))(y)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(g))


# ------------------------------------------------------------------ composite transforms
def test_chain_transform_order():
    a = AffineTransform(2.0, 1.0)
    s = SoftplusTransform(0.0)
    chain = ChainTransform([a, s])
    np.testing.assert_allclose(chain.forward(X), _softplus_np(2.0 * X + 1.0), rtol=1e-13)
    np.testing.assert_allclose(chain.inverse(chain.forward(X)), X, rtol=1e-9, atol=1e-9)
    # reversed order gives a different map
    rev = ChainTransform([s, a])
    np.testing.assert_allclose(rev.forward(X), 2.0 * _softplus_np(X) + 1.0, rtol=1e-13)


def test_masked_transform():
    mask = np.array([True, False, True, False])
    x = np.array([-1.0, -1.0, 2.0, 2.0])
    tf = MaskedTransform(mask, SigmoidTransform(0.0, 1.0))
    y = tf.forward(x)
    np.testing.assert_allclose(y, np.where(mask, _sigmoid_np(x), x), rtol=1e-14)
    np.testing.assert_allclose(tf.inverse(y), x, rtol=1e-12)
    g = jax.jit(jax.grad(lambda v: jnp.sum(tf.forward(v))))(jnp.asarray(x))
    s = _sigmoid_np(x)
    np.testing.assert_allclose(g, np.where(mask, s * (1 - s), 1.0), rtol=1e-12)


def test_custom_transform():
    tf = CustomTransform(jnp.exp, jnp.log)
    np.testing.assert_allclose(tf.forward(X), np.exp(X), rtol=1e-14)
    np.testing.assert_allclose(tf.inverse(np.exp(X)), X, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ ParamTransform
def _params():
    return [
        {"radius": jnp.array([1.0, 2.0, 3.0])},
        {"HH_gNa": jnp.array([0.12])},
        {"axial_resistivity": jnp.array([100.0, 5000.0])},
    ]


def _tf():
    return ParamTransform(
        [
            {"radius": SigmoidTransform(0.1, 5.0)},
            {"HH_gNa": SoftplusTransform(0.0)},
            {
                "axial_resistivity": ChainTransform(
                    [SigmoidTransform(0.0, 1.0), AffineTransform(1e4, 1.0)]
                )
            },
        ]
    )


def test_param_transform_list_of_dicts():
    params = _params()
    tf = _tf()
    latent = tf.inverse(params)
    assert isinstance(latent, list) and [list(d) for d in latent] == [list(d) for d in params]
    back = tf.forward(latent)
    for p, b in zip(params, back, strict=True):
        for k in p:
            np.testing.assert_allclose(b[k], p[k], rtol=1e-10)
    # leafwise equals direct application
    np.testing.assert_allclose(
        latent[0]["radius"], SigmoidTransform(0.1, 5.0).inverse(params[0]["radius"]), rtol=1e-14
    )
    # jittable and differentiable through the whole pytree
    loss = jax.jit(lambda lat: sum(jnp.sum(v) for d in tf.forward(lat) for v in d.values()))
    grads = jax.grad(loss)(latent)
    assert all(np.all(np.isfinite(v)) for d in grads for v in d.values())


def test_param_transform_none_is_identity():
    tf = ParamTransform([{"a": None}, {"b": IdentityTransform()}])
    p = [{"a": jnp.array([3.0])}, {"b": jnp.array([4.0])}]
    out = tf.forward(p)
    np.testing.assert_array_equal(out[0]["a"], p[0]["a"])
    np.testing.assert_array_equal(out[1]["b"], p[1]["b"])


@pytest.mark.parametrize(
    "bad_params",
    [
        [{"radius": jnp.ones(3)}, {"HH_gNa": jnp.ones(1)}],  # missing group
        [{"radius": jnp.ones(3)}, {"HH_gK": jnp.ones(1)}, {"axial_resistivity": jnp.ones(2)}],
        {"radius": jnp.ones(3)},  # dict instead of list
    ],
)
def test_param_transform_structure_mismatch(bad_params):
    tf = _tf()
    with pytest.raises(ValueError, match="does not match") as info:
        tf.forward(bad_params)
    msg = str(info.value)
    assert "parameters: PyTreeDef" in msg and "transforms: PyTreeDef" in msg
    assert "axial_resistivity" in msg  # the transform structure is named
    with pytest.raises(ValueError, match="does not match"):
        tf.inverse(bad_params)


def test_param_transform_rejects_non_transform_leaf():
    with pytest.raises(TypeError, match="transforms"):
        ParamTransform([{"a": 3.0}])
