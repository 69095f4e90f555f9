"""`lax_operands`: the dtype and shape `jnp` arithmetic would give, for `lax` operations."""

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.utils.jax_utils import constant, lax_operands

jax.config.update("jax_enable_x64", True)


def test_promotes_like_jnp():
    f32 = jnp.ones(3, jnp.float32)
    f64 = jnp.ones(3, jnp.float64)
    for values in ((f32, 2.0), (f32, f64), (f64, 1), (f32, np.float32(1.5)), (2, 3)):
        expected = jnp.result_type(*values)
        if not jnp.issubdtype(expected, jnp.inexact):
            expected = jnp.float64
        for out in lax_operands(*values):
            assert out.dtype == expected, (values, out.dtype)


def test_broadcasts_arrays_and_keeps_scalars_zero_dimensional():
    row = jnp.arange(3.0)
    grid = jnp.ones((2, 3))
    a, b, c = lax_operands(row, grid, 4.0)
    assert a.shape == (2, 3) and b.shape == (2, 3) and c.shape == ()
    np.testing.assert_array_equal(np.asarray(jax.lax.mul(a, b)), np.asarray(row * grid))
    np.testing.assert_array_equal(np.asarray(jax.lax.add(a, c)), np.asarray(row + 4.0) + 0 * grid)


def test_constant_takes_the_dtype_of_its_partner():
    x = jnp.ones(2, jnp.float32)
    assert constant(0.1, x).dtype == np.float32
    assert jax.lax.mul(x, constant(0.1, x)).dtype == jnp.float32
