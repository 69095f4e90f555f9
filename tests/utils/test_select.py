"""`select`: jnp.where without a nested jit, for masks with same-shape or scalar values."""

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.utils.jax_utils import select

jax.config.update("jax_enable_x64", True)


def test_matches_where_for_arrays_and_scalars():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=6), rng.normal(size=6)
    mask = a > 0
    for on_true, on_false in ((a, b), (a, 0.0), (1.5, b), (2.0, -1.0)):
        got = select(jnp.asarray(mask), on_true, on_false)
        np.testing.assert_array_equal(np.asarray(got), np.where(mask, on_true, on_false))
        assert got.dtype == jnp.float64


def test_staged_without_a_nested_jit_and_differentiable():
    mask = jnp.array([True, False, True])
    jaxpr = jax.make_jaxpr(lambda x: select(mask, x * 2.0, 0.0))(jnp.ones(3))
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert "select_n" in names and "jit" not in names and "pjit" not in names
    grad = jax.grad(lambda x: jnp.sum(select(mask, x * 2.0, x)))(jnp.ones(3))
    np.testing.assert_array_equal(np.asarray(grad), [2.0, 1.0, 2.0])


def test_other_shapes_fall_back_to_where():
    mask = jnp.array([[True], [False]])  # (2, 1) against (2, 3): broadcasting
    values = jnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(
        np.asarray(select(mask, values, -1.0)), np.where(np.asarray(mask), values, -1.0)
    )
