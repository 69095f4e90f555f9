"""Tests for dendrax.utils.jax_utils.nested_checkpoint_scan."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.utils.jax_utils import nested_checkpoint_scan


@pytest.fixture(autouse=True, scope="module")
def _x64():
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", prev)


def _step(carry, x):
    """Nonlinear body with a pytree carry and pytree output."""
    v, w = carry["v"], carry["w"]
    v_new = v + 0.1 * (jnp.tanh(w) - v) + x["i"]
    w_new = w * jnp.cos(jnp.sum(v)) + 0.05 * x["j"]
    return {"v": v_new, "w": w_new}, (v_new * w_new, {"v": v_new})


def _inputs(T):
    t = jnp.arange(T, dtype=jnp.float64)
    return {"i": 0.01 * jnp.sin(0.3 * t)[:, None] * jnp.ones((T, 3)), "j": jnp.cos(0.1 * t)}


def _init():
    return {"v": jnp.array([0.1, -0.2, 0.3]), "w": jnp.array(0.5)}


def _assert_trees_equal(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(la, lb, strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_allclose(x, y, rtol=1e-14, atol=0)


T_STEPS = 24


def _loss(init, xs, scan):
    carry, (y, extra) = scan(_step, init, xs)
    return jnp.sum(y**2) + jnp.sum(extra["v"]) + jnp.sum(carry["v"]) * carry["w"]


def _value_and_grads(scan):
    """Jitted (scan outputs, grads of a loss w.r.t. (init, xs)) for a scan implementation."""

    @jax.jit
    def run(init, xs):
        grads = jax.grad(lambda i, x: _loss(i, x, scan), argnums=(0, 1))(init, xs)
        return scan(_step, init, xs), grads

    return run(_init(), _inputs(T_STEPS))


@pytest.fixture(scope="module")
def lax_scan_reference():
    return _value_and_grads(lambda f, init, xs: jax.lax.scan(f, init, xs))


@pytest.mark.parametrize("nested_lengths", [(4, 6), (2, 3, 4), (24,)])
def test_matches_lax_scan_values_and_grads(nested_lengths, lax_scan_reference):
    out, grads = _value_and_grads(
        lambda f, init, xs: nested_checkpoint_scan(f, init, xs, nested_lengths=nested_lengths)
    )
    ref_out, ref_grads = lax_scan_reference
    _assert_trees_equal(out, ref_out)
    _assert_trees_equal(grads, ref_grads)


@pytest.mark.parametrize("nested_lengths", [(5, 4), (2, 5, 2)])
def test_xs_none_with_length(nested_lengths):
    def f(c, _):
        c = c * 0.97 + jnp.sin(c)
        return c, c**2

    def ref(c):
        return jax.lax.scan(f, c, None, length=20)

    def nested(c):
        return nested_checkpoint_scan(f, c, None, length=20, nested_lengths=nested_lengths)

    @jax.jit
    def run(c):
        return (
            ref(c),
            nested(c),
            jax.grad(lambda c: jnp.sum(ref(c)[1]))(c),
            jax.grad(lambda c: jnp.sum(nested(c)[1]))(c),
        )

    out_ref, out, g_ref, g_out = run(jnp.array([0.3, 1.2]))
    _assert_trees_equal(out, out_ref)
    np.testing.assert_allclose(g_out, g_ref, rtol=1e-14, atol=0)


def test_none_outputs():
    def f(c, x):
        return c + x, None

    xs = jnp.arange(12.0)
    carry, ys = nested_checkpoint_scan(f, 0.0, xs, nested_lengths=(3, 4))
    assert ys is None
    np.testing.assert_allclose(carry, 66.0)


def test_wrong_product_raises():
    xs = _inputs(24)
    with pytest.raises(ValueError, match="product of nested_lengths"):
        nested_checkpoint_scan(_step, _init(), xs, nested_lengths=(5, 5))
    with pytest.raises(ValueError, match="product of nested_lengths"):
        nested_checkpoint_scan(lambda c, _: (c, c), 0.0, None, length=10, nested_lengths=(3, 3))
    with pytest.raises(ValueError, match="does not match"):
        nested_checkpoint_scan(_step, _init(), xs, length=25, nested_lengths=(5, 5))
    with pytest.raises(ValueError, match="xs or length"):
        nested_checkpoint_scan(lambda c, _: (c, c), 0.0, None, nested_lengths=(3, 3))
    with pytest.raises(ValueError, match="positive"):
        nested_checkpoint_scan(lambda c, _: (c, c), 0.0, None, length=0, nested_lengths=())


def test_checkpoint_fn_applied_per_level():
    calls = []

    def counting_checkpoint(fn):
        calls.append(fn)
        return jax.checkpoint(fn)

    nested_checkpoint_scan(
        lambda c, x: (c + x, c),
        0.0,
        jnp.arange(24.0),
        nested_lengths=(2, 3, 4),
        checkpoint_fn=counting_checkpoint,
    )
    # the two outer levels have checkpointed bodies; the innermost scan runs f directly
    assert len(calls) >= 2
