"""Helpers that advance gating variables by one time step.

All functions are pure, work elementwise on arrays (any shape) and are jittable.
Rates `alpha`, `beta` are in 1/ms, time constants `tau` and `dt` in ms.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from dendrax.utils.jax_utils import constant, lax_operands
from dendrax.utils.polynomial_exp import capped_exp

__all__ = [
    "save_exp",
    "solve_gate_exponential",
    "solve_gate_implicit",
    "exponential_euler",
    "solve_inf_gate_exponential",
    "heaviside",
]


def save_exp(x, max_value: float = 20.0):
    """`exp(min(x, max_value))`: an exponential that cannot overflow.

    Gradients are zero where the argument is clipped.
    """
    (x,) = lax_operands(x)
    return lax.exp(lax.min(x, constant(max_value, x)))


def exponential_euler(x, dt, x_inf, tau):
    """Exact step of `dx/dt = (x_inf - x) / tau` with `x_inf` and `tau` held fixed.

    The decay `exp(-dt / tau)` (capped like `save_exp`) is `capped_exp`'s.
    """
    decay = capped_exp(-dt / tau)
    return x * decay + x_inf * (1.0 - decay)


def solve_gate_exponential(x, dt, alpha, beta):
    """Exponential-Euler step of the gate equation `dx/dt = alpha (1 - x) - beta x`.

    Equal to `exponential_euler(x, dt, alpha / (alpha + beta), 1 / (alpha + beta))`,
    written with one division instead of three (and `lax` operations: see `lax_operands`).
    The decay `exp(-dt (alpha + beta))` (capped like `save_exp`) is `capped_exp`'s.
    """
    x, dt, alpha, beta = lax_operands(x, dt, alpha, beta)
    total = lax.add(alpha, beta)
    decay = capped_exp(lax.mul(lax.neg(dt), total))
    one = constant(1.0, x)
    return lax.add(lax.mul(x, decay), lax.mul(lax.div(alpha, total), lax.sub(one, decay)))


def solve_gate_implicit(x, dt, alpha, beta):
    """Backward-Euler step of the gate equation `dx/dt = alpha (1 - x) - beta x`."""
    return (x + dt * alpha) / (1.0 + dt * (alpha + beta))


def solve_inf_gate_exponential(x, dt, s_inf, tau):
    """Exponential-Euler step towards a steady state `s_inf` with time constant `tau`."""
    return exponential_euler(x, dt, s_inf, tau)


@jax.custom_jvp
def _step_with_surrogate(x, at_zero, grad_scale):
    return jnp.where(x > 0, 1.0, jnp.where(x == 0, at_zero, 0.0)).astype(jnp.result_type(x))


@_step_with_surrogate.defjvp
def _step_with_surrogate_jvp(primals, tangents):
    x, at_zero, grad_scale = primals
    dx = tangents[0]
    out = _step_with_surrogate(x, at_zero, grad_scale)
    surrogate = 1.0 / (grad_scale * jnp.abs(x) + 1.0) ** 2
    return out, surrogate * dx


def heaviside(x, at_zero: float = 1.0, grad_scale: float = 10.0):
    """Heaviside step with a surrogate gradient.

    Forward: 1 for `x > 0`, `at_zero` for `x == 0`, 0 otherwise. Backward: the derivative
    is replaced by `1 / (grad_scale * |x| + 1)**2` (the fast-sigmoid / SuperSpike surrogate).
    """
    x = jnp.asarray(x)
    return _step_with_surrogate(x, jnp.asarray(at_zero, x.dtype), jnp.asarray(grad_scale, x.dtype))
