"""Losses and regularisers against direct numpy computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dendrax.nn import Linear, Rate, Sequential
from dendrax.training import jax_loss, losses

pytestmark = pytest.mark.usefixtures("x64")

finite = st.floats(-50, 50, allow_nan=False, allow_subnormal=False, width=64)
# A few fixed shapes: every new shape costs an XLA compilation, which dominates test time.
shapes = st.sampled_from([(1,), (7,), (3, 4), (2, 3, 2)])
SETTINGS = settings(max_examples=20, deadline=None)


def _pair(draw_shape):
    return st.tuples(
        arrays(np.float64, draw_shape, elements=finite),
        arrays(np.float64, draw_shape, elements=finite),
    )


@SETTINGS
@given(shapes.flatmap(_pair))
def test_mse_sse(pair):
    o, t = pair
    assert float(losses.mse(o, t)) == pytest.approx(np.mean((o - t) ** 2), rel=1e-12, abs=1e-12)
    assert float(losses.sse(o, t)) == pytest.approx(np.sum((o - t) ** 2), rel=1e-12, abs=1e-12)


@SETTINGS
@given(arrays(np.float64, shapes, elements=finite), st.floats(0.1, 10))
def test_global_softmax_and_logsoftmax(x, temp):
    l = (x - x.max()) / temp
    ref = np.exp(l) / np.exp(l).sum()
    np.testing.assert_allclose(losses.softmax(x, temp), ref, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(
        losses.logsoftmax(x, temp), l - np.log(np.exp(l).sum()), rtol=1e-10, atol=1e-10
    )
    assert float(jnp.sum(losses.softmax(x, temp))) == pytest.approx(1.0, rel=1e-12)


@SETTINGS
@given(
    arrays(np.float64, st.sampled_from([(3, 4), (2, 3, 2)]), elements=finite), st.floats(0.1, 10)
)
def test_softmax_along_axis(x, temp):
    l = (x - x.max(axis=-1, keepdims=True)) / temp
    ref = np.exp(l) / np.exp(l).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        losses.softmax_along_axis(x, temperature=temp), ref, rtol=1e-10, atol=1e-300
    )
    shifted = (x - x.max(0)) / temp  # stable reference: no log of an underflowed ratio
    np.testing.assert_allclose(
        losses.logsoftmax_along_axis(x, axis=0, temperature=temp),
        shifted - np.log(np.exp(shifted).sum(0)),
        rtol=1e-8,
        atol=1e-8,
    )


@SETTINGS
@given(
    st.lists(arrays(np.float64, shapes, elements=finite), min_size=1, max_size=4),
    st.floats(1e-6, 1.0),
)
def test_norms_average_over_leaves(leaves, sigma):
    tree = [{"a": leaf} for leaf in leaves]  # Jaxley-style list of dicts
    ref_l2 = np.mean([np.mean(p**2) for p in leaves])
    ref_l0 = np.mean([np.mean(p**4 / (p**4 + sigma)) for p in leaves])
    assert float(losses.l2sqr_norm(tree)) == pytest.approx(ref_l2, rel=1e-12)
    assert float(losses.l0_norm_approx(tree, sigma)) == pytest.approx(ref_l0, rel=1e-10, abs=1e-14)


def test_norms_ignore_nans():
    tree = {"a": np.array([1.0, np.nan, 3.0])}
    assert float(losses.l2sqr_norm(tree)) == pytest.approx(5.0)


@SETTINGS
@given(
    arrays(np.float64, (6,), elements=finite),
    arrays(np.float64, (6,), elements=finite),
    st.floats(0.0, 20.0, allow_subnormal=False),
)
def test_bounds_cost_formula(p, lo, width):
    up = lo + width
    params = [{"x": p}, {"y": p[:2]}]
    lower, upper = losses.make_bounds(params)
    lower[0]["x"], upper[0]["x"] = lo, up
    ref = np.sum(np.where(p < lo, np.exp(lo - p), 0) + np.where(p > up, np.exp(p - up), 0))
    assert float(losses.bounds_cost(params, lower, upper)) == pytest.approx(ref, rel=1e-12)
    clipped = losses.bounds_clip(params, lower, upper)
    np.testing.assert_array_equal(clipped[0]["x"], np.clip(p, lo, up))
    np.testing.assert_array_equal(clipped[1]["y"], p[:2])


def test_bounds_cost_zero_inside_and_growing_outside():
    params = {"tau": jnp.array([0.02, 0.05])}
    lower, upper = losses.make_bounds(params)
    assert np.all(np.isneginf(lower["tau"])) and np.all(np.isposinf(upper["tau"]))
    assert float(losses.bounds_cost(params, lower, upper)) == 0.0
    lower["tau"], upper["tau"] = 0.01, 0.1
    assert float(losses.bounds_cost(params, lower, upper)) == 0.0
    costs = [
        float(losses.bounds_cost({"tau": jnp.array([v, 0.05])}, lower, upper))
        for v in (0.0, -1.0, -2.0)
    ]
    assert 1.0 <= costs[0] < costs[1] < costs[2]
    assert float(losses.bounds_cost({"tau": jnp.array([0.05, 3.0])}, lower, upper)) > 1.0
    g = jax.grad(lambda p: losses.bounds_cost(p, lower, upper))({"tau": jnp.array([0.0, 0.05])})
    assert g["tau"][0] < 0 and g["tau"][1] == 0 and np.all(np.isfinite(g["tau"]))


def test_bounds_on_module_parameters():
    net = Sequential(Linear((2, 3), rng_key=0), Rate(3, tau=5e-3))
    params = net.parameters()
    lower, upper = losses.make_bounds(params)
    lower["1_Rate"]["tau"] = 10e-3
    assert float(losses.bounds_cost(params, lower, upper)) == pytest.approx(3 * np.exp(5e-3))
    np.testing.assert_allclose(losses.bounds_clip(params, lower, upper)["1_Rate"]["tau"], 10e-3)


def test_bounds_wrong_structure_raises():
    params = [{"a": np.ones(3)}, {"b": np.ones(2)}]
    lower, upper = losses.make_bounds(params)
    with pytest.raises(ValueError, match="does not match the parameter tree"):
        losses.bounds_cost(params, lower[:1], upper)
    with pytest.raises(ValueError, match="does not match the parameter tree"):
        losses.bounds_clip(params, lower, {"a": 1.0})
    lower[0]["a"] = np.zeros(4)
    with pytest.raises(ValueError, match="does not broadcast"):
        losses.bounds_cost(params, lower, upper)


def test_jax_loss_alias():
    assert jax_loss.mse is losses.mse and jax_loss.bounds_cost is losses.bounds_cost
    assert set(losses.__all__) <= set(dir(jax_loss))
