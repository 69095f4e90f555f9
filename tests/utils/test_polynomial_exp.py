"""`capped_exp` against mpmath's exponential, at its edges, and its derivative."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from dendrax.utils.polynomial_exp import capped_exp

jax.config.update("jax_enable_x64", True)


def _reference(xs):
    """exp(x) rounded to the nearest double (mpmath at 50 digits)."""
    with mpmath.workdps(50):
        return np.array([float(mpmath.exp(mpmath.mpf(float(x)))) for x in xs])


def test_within_one_ulp_of_the_correctly_rounded_exponential():
    rng = np.random.default_rng(7)
    xs = np.concatenate(
        [
            rng.uniform(-708.0, 20.0, 3000),
            rng.uniform(-1.0, 1.0, 1000),  # the gate decays of small time steps
            rng.uniform(-1e-8, 1e-8, 200),
            np.arange(-1021, 29) * np.log(2.0),  # reduction boundaries
        ]
    )
    xs = xs[xs <= 20.0]
    got = np.asarray(jax.jit(capped_exp)(jnp.asarray(xs)))
    reference = _reference(xs)
    ulps = np.abs(got - reference) / np.spacing(reference)
    assert ulps.max() <= 1.0, xs[np.argmax(ulps)]


def test_cap_infinities_underflow_and_nan():
    xs = jnp.asarray([25.0, np.inf, 20.0, -np.inf, -720.0, -708.5, np.nan])
    got = np.asarray(capped_exp(xs))
    cap = _reference([20.0])[0]
    np.testing.assert_array_equal(got[:3], cap)
    # Below -708 the exponential is under the smallest normal double (2.2e-308): 0.
    np.testing.assert_array_equal(got[3:6], 0.0)
    assert np.isnan(got[6])
    assert float(capped_exp(jnp.asarray(3.0), cap=2.5)) == pytest.approx(np.exp(2.5), rel=1e-15)


def test_derivative_is_the_exponential_below_the_cap_and_zero_above():
    xs = jnp.asarray([-30.0, -0.7, 0.0, 3.0, 19.5, 20.5, 100.0])
    grad = np.asarray(jax.vmap(jax.grad(capped_exp))(xs))
    reference = _reference(np.asarray(xs)[:5])
    np.testing.assert_allclose(grad[:5], reference, rtol=2.3e-16)
    np.testing.assert_array_equal(grad[5:], 0.0)
    # Second derivative (the JVP is itself differentiable), against exp(x).
    second = jax.grad(jax.grad(capped_exp))(1.5)
    np.testing.assert_allclose(float(second), np.exp(1.5), rtol=1e-15)


def test_float32_stays_float32_within_two_ulp_of_the_capped_exponential():
    xs = np.linspace(-80.0, 30.0, 1001, dtype=np.float32)
    got = capped_exp(jnp.asarray(xs))
    assert got.dtype == jnp.float32
    reference = _reference(np.minimum(xs, 20.0)).astype(np.float32)
    ulps = np.abs(np.asarray(got) - reference) / np.spacing(reference)
    assert ulps.max() <= 2.0, xs[np.argmax(ulps)]


@pytest.mark.parametrize("cap", [710.0, float("nan"), -800.0])
def test_a_cap_outside_the_range_of_doubles_is_rejected(cap):
    with pytest.raises(ValueError, match="cap must be a number in"):
        capped_exp(jnp.asarray([1.0]), cap=cap)
