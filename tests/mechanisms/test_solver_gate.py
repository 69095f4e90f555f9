"""Gate-update helpers against the exact solution of the gate equation, in every dtype."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.solver_gate import (
    exponential_euler,
    save_exp,
    solve_gate_exponential,
    solve_gate_implicit,
)

jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(3)
X0 = RNG.uniform(0.0, 1.0, 7)
ALPHA = RNG.uniform(0.01, 5.0, 7)  # 1/ms
BETA = RNG.uniform(0.01, 5.0, 7)


def _exact(x0, dt, alpha, beta):
    """Solution of dx/dt = alpha (1 - x) - beta x after dt with constant rates."""
    total = alpha + beta
    x_inf = alpha / total
    return x_inf + (x0 - x_inf) * np.exp(-total * dt)


@pytest.mark.parametrize("dt", [0.025, 0.5, 3.0])
def test_exponential_step_is_the_exact_solution_for_constant_rates(dt):
    got = solve_gate_exponential(jnp.asarray(X0), dt, jnp.asarray(ALPHA), jnp.asarray(BETA))
    np.testing.assert_allclose(np.asarray(got), _exact(X0, dt, ALPHA, BETA), rtol=1e-14)
    assert got.dtype == jnp.float64
    tau, x_inf = 1.0 / (ALPHA + BETA), ALPHA / (ALPHA + BETA)
    other = exponential_euler(jnp.asarray(X0), dt, jnp.asarray(x_inf), jnp.asarray(tau))
    np.testing.assert_allclose(np.asarray(other), _exact(X0, dt, ALPHA, BETA), rtol=1e-13)


def test_float32_inputs_stay_float32_and_scalars_broadcast():
    x = jnp.asarray(X0, jnp.float32)
    got = solve_gate_exponential(x, 0.025, jnp.asarray(ALPHA, jnp.float32), 0.5)
    assert got.dtype == jnp.float32 and got.shape == (7,)
    np.testing.assert_allclose(np.asarray(got), _exact(X0, 0.025, ALPHA, 0.5), rtol=1e-6)
    scalar = solve_gate_exponential(0.2, 0.1, 1.0, 2.0)
    assert scalar.shape == ()
    np.testing.assert_allclose(float(scalar), _exact(0.2, 0.1, 1.0, 2.0), rtol=1e-14)
    row = solve_gate_exponential(jnp.ones((2, 3)) * 0.3, 0.1, jnp.asarray([1.0, 2.0, 3.0]), 1.0)
    np.testing.assert_allclose(
        np.asarray(row), np.broadcast_to(_exact(0.3, 0.1, np.array([1.0, 2.0, 3.0]), 1.0), (2, 3))
    )


def test_implicit_step_solves_the_backward_euler_equation():
    dt = 0.2
    x1 = np.asarray(solve_gate_implicit(jnp.asarray(X0), dt, ALPHA, BETA))
    residual = (x1 - X0) / dt - (ALPHA * (1.0 - x1) - BETA * x1)
    np.testing.assert_allclose(residual, 0.0, atol=1e-13)


def test_save_exp_caps_its_argument_and_its_gradient():
    x = jnp.asarray([-3.0, 0.5, 19.0, 25.0, 800.0])
    np.testing.assert_allclose(
        np.asarray(save_exp(x)), np.exp(np.minimum(np.asarray(x), 20.0)), rtol=1e-15
    )
    assert np.isfinite(np.asarray(save_exp(x, 700.0))).all()
    grad = jax.vmap(jax.grad(lambda s: save_exp(s)))(x)
    np.testing.assert_allclose(np.asarray(grad)[:3], np.exp(np.asarray(x)[:3]), rtol=1e-15)
    np.testing.assert_array_equal(np.asarray(grad)[3:], 0.0)


def test_exponential_step_differentiates_like_the_exact_solution():
    """d(x1)/d(alpha) against the derivative of the closed form (central differences)."""
    dt, h = 0.3, 1e-6
    grad = jax.grad(lambda a: solve_gate_exponential(0.4, dt, a, 1.3))(0.7)
    fd = (_exact(0.4, dt, 0.7 + h, 1.3) - _exact(0.4, dt, 0.7 - h, 1.3)) / (2 * h)
    np.testing.assert_allclose(float(grad), fd, rtol=1e-8)
