"""Hodgkin–Huxley channel (squid axon, NEURON's `hh` rates at 6.3 °C, no q10)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from dendrax.channels.channel import Channel
from dendrax.checks.ranges import GATE
from dendrax.mechanisms_registry import StandardModel, register
from dendrax.solver_gate import save_exp, solve_gate_exponential
from dendrax.utils.jax_utils import constant, lax_operands, select

__all__ = ["HH"]


#: `save_exp`'s cap, exp(20): rates computed from shared exponentials are capped alike.
_EXP_CAP = math.exp(20.0)
#: The shared exponential is `exp(min((v + 65) * _E720_SCALE, _E720_CAP))` (see `_all_rates`).
_E720_SCALE, _E720_CAP = -1.0 / 720.0, 20.0 / 9.0
#: `exp(-(v + 40) / 10)`, `exp(-(v + 35) / 10)`, `exp(-(v + 55) / 10)` from `exp(-(v + 65) / 10)`.
_SHIFT_M, _SHIFT_H, _SHIFT_N = math.exp(2.5), math.exp(3.0), math.exp(1.0)


def _vtrap(x, y):
    """x / (exp(x / y) - 1), with the removable singularity at x = 0 filled by its limit y."""
    return _vtrap_from_exp(x / y, y, save_exp(x / y))


def _vtrap_from_exp(ratio, y, exp_ratio):
    """`_vtrap` given `ratio = x / y` and `exp_ratio = exp(ratio)` (capped like save_exp).

    In `lax` operations, as the other functions of the time step here (see `_shared_powers`).
    """
    ratio, exp_ratio = lax_operands(ratio, exp_ratio)
    small = lax.lt(lax.abs(ratio), constant(1e-6, ratio))
    one = constant(1.0, ratio)
    denominator = lax.select(small, lax.full_like(ratio, 1.0), lax.sub(exp_ratio, one))
    regular = lax.div(lax.mul(ratio, constant(y, ratio)), denominator)
    near = lax.mul(constant(y, ratio), lax.sub(one, lax.mul(ratio, constant(0.5, ratio))))
    return lax.select(small, near, regular)


def _m_rates(v):
    return 0.1 * _vtrap(-(v + 40.0), 10.0), 4.0 * save_exp(-(v + 65.0) / 18.0)


def _h_rates(v):
    return 0.07 * save_exp(-(v + 65.0) / 20.0), 1.0 / (save_exp(-(v + 35.0) / 10.0) + 1.0)


def _n_rates(v):
    return 0.01 * _vtrap(-(v + 55.0), 10.0), 0.125 * save_exp(-(v + 65.0) / 80.0)


@jax.custom_jvp
def _all_rates(v):
    """`(_m_rates(v), _h_rates(v), _n_rates(v))` from one exponential instead of six.

    With `e = exp(-(v + 65) / 720)`: `exp(-(v + 65) / 80) = e**9` and
    `exp(-(v + 65) / 18) = e**40` (720 is the least common multiple of 80 and 18), the
    powers `exp(-(v + 65) / 40, 20, 10)` follow by squaring, and the other arguments are
    shifts of the latter by constants. One exponential instead of two (e**9 and e**40
    cost a few multiplications) makes a 155-branch HH cell ~6 % faster to simulate.
    Relative difference to the exact rates (float64, every 0.001 mV from -150 to 100 mV):
    below 2e-14 for the four rates without a removable singularity; for `alpha_m` and
    `alpha_n` below 1e-13 farther than 1 mV from -40 and -55 mV, growing towards them as
    ~5e-14 mV / |v - v_singular| (cancellation in `exp - 1`) to at most 5e-11.
    The argument of `e` is capped at 20 / 9, so that `e**9` is capped like `save_exp`;
    `e**40` is capped explicitly.

    Differentiated by a `custom_jvp` with the slopes of `_rate_slopes` (closed forms in
    the same shared exponentials): JAX's derivative of the chain of products and guarded
    divisions above made a CA1 gradient's run ~6 % (and its compile ~2 %) longer.
    """
    return _rates_from_powers(v, _shared_powers(v))


def _shared_powers(v):
    """`(e10, e18, e20, e80)`: `exp(-(v + 65) / k)` from one exponential (see `_all_rates`).

    Written with `lax` operations rather than operators: `jnp`'s operators dispatch through
    jitted ufuncs, which cost more tracing time per operation, and this runs in every
    simulation's time step.
    """
    u = lax.add(v, constant(65.0, v))
    capped = lax.min(lax.mul(u, constant(_E720_SCALE, v)), constant(_E720_CAP, v))
    # The barrier keeps XLA from rewriting the products below back into exp(2a), exp(4a), ...
    # (its simplifier turns exp(a) * exp(a) into exp(a + a)), which would undo the sharing.
    e720 = lax.optimization_barrier(lax.exp(capped))
    e720_2 = lax.mul(e720, e720)
    e720_4 = lax.mul(e720_2, e720_2)
    e720_8 = lax.mul(e720_4, e720_4)
    e80 = lax.mul(e720_8, e720)
    e720_16 = lax.mul(e720_8, e720_8)
    e720_32 = lax.mul(e720_16, e720_16)
    e18 = lax.mul(e720_32, e720_8)
    e40 = lax.mul(e80, e80)
    e20 = lax.mul(e40, e40)
    e10 = lax.mul(e20, e20)
    return e10, e18, e20, e80


def _capped(value):
    return lax.min(value, constant(_EXP_CAP, value))


def _rates_from_powers(v, powers):
    e10, e18, e20, e80 = powers

    def scaled(x, factor):
        return lax.mul(x, constant(factor, x))

    def ratio(shift):  # -(v + shift) / 10
        return scaled(lax.add(v, constant(shift, v)), -0.1)

    alpha_m = scaled(_vtrap_from_exp(ratio(40.0), 10.0, _capped(scaled(e10, _SHIFT_M))), 0.1)
    beta_m = scaled(_capped(e18), 4.0)
    alpha_h = scaled(_capped(e20), 0.07)
    beta_h = lax.div(constant(1.0, v), lax.add(_capped(scaled(e10, _SHIFT_H)), constant(1.0, v)))
    alpha_n = scaled(_vtrap_from_exp(ratio(55.0), 10.0, _capped(scaled(e10, _SHIFT_N))), 0.01)
    beta_n = scaled(_capped(e80), 0.125)
    return (alpha_m, beta_m), (alpha_h, beta_h), (alpha_n, beta_n)


def _vtrap_slope(ratio, exp_ratio, exp_varies):
    """d/d`ratio` of `f = ratio / (exp_ratio - 1)` (`_vtrap_from_exp` over `y`).

    `exp_ratio = exp(ratio)` where `exp_varies`, else a cap that does not vary. For
    |ratio| < 0.2 the Taylor series of `f'(r)` (Bernoulli numbers; the first omitted term
    is below 2e-16), because the closed form `g (1 - r e^r g)`, `g = 1 / (e^r - 1)`,
    loses ~1e-15 / r**2 to cancellation (with `e^r` from the shared exponential, whose
    relative error is a few ulp). Within 1e-12 of 40-digit derivatives (tests).
    """
    near = jnp.abs(ratio) < 0.2
    r = select(near, ratio, 0.0)
    r2 = r * r
    series = -0.5 + r * (
        1.0 / 6.0
        + r2 * (-1.0 / 180.0 + r2 * (1.0 / 5040.0 + r2 * (-1.0 / 151200.0 + r2 / 4790016.0)))
    )
    far_ratio = select(near, 1.0, ratio)
    far_exp = select(near, 2.0, exp_ratio)
    g = 1.0 / (far_exp - 1.0)
    regular = g * (1.0 - select(exp_varies, far_ratio * far_exp * g, 0.0))
    return select(near, series, regular)


def _rate_slopes(v, powers, rates):
    """d(rate)/dv (1/(ms mV)) of every rate of `_all_rates`, in its nesting.

    Exponentials `c exp(-(v + v0) / k)` have slope `-rate / k`, `beta_h = 1 / (E + 1)` has
    `beta_h**2 E / 10`, and `alpha = c y f(r)` with `r = -(v + v0) / y` has `-c f'(r)`
    (`_vtrap_slope`). Where a cap holds a value constant (v below -235 to -465 mV; the shared
    exponential's cap below -1665 mV), its slope is zero, as in the derivative of the caps.
    """
    e10, e18, e20, e80 = powers
    (alpha_m, beta_m), (alpha_h, beta_h), (alpha_n, beta_n) = rates
    live = (v + 65.0) * _E720_SCALE < _E720_CAP

    def varies(value):
        return live & (value < _EXP_CAP)

    x_m, x_h, x_n = e10 * _SHIFT_M, e10 * _SHIFT_H, e10 * _SHIFT_N
    ratio_m, ratio_n = -(v + 40.0) * 0.1, -(v + 55.0) * 0.1
    d_alpha_m = -0.1 * _vtrap_slope(ratio_m, _capped(x_m), varies(x_m))
    d_beta_m = select(varies(e18), beta_m * (-1.0 / 18.0), 0.0)
    d_alpha_h = select(varies(e20), alpha_h * (-1.0 / 20.0), 0.0)
    d_beta_h = select(varies(x_h), beta_h * beta_h * x_h * 0.1, 0.0)
    d_alpha_n = -0.01 * _vtrap_slope(ratio_n, _capped(x_n), varies(x_n))
    d_beta_n = select(varies(e80), beta_n * (-1.0 / 80.0), 0.0)
    return (d_alpha_m, d_beta_m), (d_alpha_h, d_beta_h), (d_alpha_n, d_beta_n)


@_all_rates.defjvp
def _all_rates_jvp(primals, tangents):
    (v,), (v_dot,) = primals, tangents
    powers = _shared_powers(v)
    rates = _rates_from_powers(v, powers)
    slopes = _rate_slopes(v, powers, rates)
    return rates, jax.tree_util.tree_map(lambda slope: slope * v_dot, slopes)


# Two branches of two compartments, stimulated to spike (smooth: no reset).
@register(StandardModel(param="{name}_gNa", nbranches=2, ncomp=2, stimulus=(0.3, 0.5, 3.0)))
class HH(Channel):
    """Hodgkin–Huxley sodium, potassium and leak currents in one channel.

    Parameters: `HH_gNa` 0.12, `HH_gK` 0.036, `HH_gLeak` 3e-4 (S/cm²); `HH_eNa` 50,
    `HH_eK` -77, `HH_eLeak` -54.3 (mV). States: gates `HH_m`, `HH_h`, `HH_n` (start 0.2).
    Current `i_HH` in mA/cm², outward positive.
    """

    value_ranges = {"m": GATE, "h": GATE, "n": GATE}  # gates (dendrax.checks)

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.channel_params = {
            f"{p}_gNa": 0.12,
            f"{p}_gK": 0.036,
            f"{p}_gLeak": 0.0003,
            f"{p}_eNa": 50.0,
            f"{p}_eK": -77.0,
            f"{p}_eLeak": -54.3,
        }
        self.channel_states = {f"{p}_m": 0.2, f"{p}_h": 0.2, f"{p}_n": 0.2}
        self.current_name = "i_HH"

    def update_states(self, states, dt, v, params):
        p = self._name
        (v,) = lax_operands(v)
        m_rates, h_rates, n_rates = _all_rates(v)
        m = solve_gate_exponential(states[f"{p}_m"], dt, *m_rates)
        h = solve_gate_exponential(states[f"{p}_h"], dt, *h_rates)
        n = solve_gate_exponential(states[f"{p}_n"], dt, *n_rates)
        return {f"{p}_m": m, f"{p}_h": h, f"{p}_n": n}

    def _conductances(self, states, v, params):
        """`(v, [(g, e) of Na, K, leak])`, as `lax` operands (see `_shared_powers`)."""
        p = self._name
        names = ("gNa", "eNa", "gK", "eK", "gLeak", "eLeak")
        m, h, n, v, g_na, e_na, g_k, e_k, g_leak, e_leak = lax_operands(
            states[f"{p}_m"], states[f"{p}_h"], states[f"{p}_n"], v,
            *(params[f"{p}_{name}"] for name in names),
        )  # fmt: skip
        g_na = lax.mul(lax.mul(g_na, lax.integer_pow(m, 3)), h)
        g_k = lax.mul(g_k, lax.integer_pow(n, 4))
        return v, [(g_na, e_na), (g_k, e_k), (g_leak, e_leak)]

    def compute_current(self, states, v, params):
        v, channels = self._conductances(states, v, params)
        i_na, i_k, i_leak = (lax.mul(g, lax.sub(v, e)) for g, e in channels)
        return lax.add(lax.add(i_na, i_k), i_leak)

    def current_slope(self, states, v, params):
        """dI/dv of `compute_current` (mA/cm²/mV): the total conductance."""
        _, ((g_na, _), (g_k, _), (g_leak, _)) = self._conductances(states, v, params)
        return lax.add(lax.add(g_na, g_k), g_leak)

    def init_state(self, states, v, params, delta_t):
        p = self._name
        out = {}
        for gate, rates in (("m", _m_rates), ("h", _h_rates), ("n", _n_rates)):
            alpha, beta = rates(v)
            out[f"{p}_{gate}"] = alpha / (alpha + beta)
        return out
