"""`exp(min(x, cap))` for float64 on CPU from a range-reduced polynomial.

XLA's CPU `exp` evaluates a rational approximation with a division, ~33 vector instructions
per four doubles. The gate decays `exp(-dt (alpha + beta))` of exponential Euler are about
a third of an HH cell's time step, so a cheaper exponential of the same accuracy pays:
a degree-13 Taylor polynomial after reducing the argument by multiples of ln 2, evaluated
by Estrin's scheme (short dependency chains), with the power of two put in the exponent
bits. Its error against `mpmath` is at most 1 ulp on [-708, 20] (XLA's `exp`: also 1 ulp;
the two differ from each other by up to 2 ulp). It makes a 620-compartment HH cell's
forward run ~3-4 % faster than with XLA's `exp` on an AVX-512 machine and ~12 % on an
AVX2 one (AMD Zen 3); compiling a simulation takes ~20-40 ms longer (larger kernels).

Other dtypes, and every default backend but the CPU, use `lax.exp` (as the compiled tree
solve, the choice follows `jax.default_backend()`; both are within 1 ulp on any backend).
Only the gate decays use it: an exponential that XLA's fusion sees as cheap is copied into
every kernel that reads it, so a shared one (the HH rates' `_shared_powers`) would be
computed three times.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["capped_exp"]

_LOG2E = 1.4426950408889634
#: ln 2 split in two, so that `k * _LN2_HI` is exact for every |k| < 2**20.
_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(14))
#: Below this, exp(x) < 2.3e-308, the smallest normal double: the result is 0 there.
_LOWEST = -708.0
#: The largest cap: 2**k stays finite for k = round(709 / ln 2) = 1023.
_HIGHEST = 709.0
#: 1.5 * 2**52: adding an integer-valued |k| < 2**51 to it is exact and puts k in the
#: low bits of the mantissa.
_INTEGER_SHIFTER = 6755399441055744.0


def _polynomial_exp(x, cap: float):
    """exp(min(x, cap)) of a float64 array, 0 below `_LOWEST`; NaN stays NaN.

    In `lax` operations: `jnp`'s operators dispatch through jitted ufuncs, which cost more
    tracing time per operation, and this runs in every simulation's time step.
    """
    c = [np.float64(value) for value in _TAYLOR]
    mul, add, sub = lax.mul, lax.add, lax.sub

    def fma(a, b, addend):  # a * b + addend (two roundings: XLA decides on contraction)
        return add(mul(a, b), addend)

    clamped = lax.clamp(np.float64(_LOWEST), x, np.float64(cap))
    k = lax.round(mul(clamped, np.float64(_LOG2E)), lax.RoundingMethod.TO_NEAREST_EVEN)
    # |r| <= ln(2) / 2
    r = sub(sub(clamped, mul(k, np.float64(_LN2_HI))), mul(k, np.float64(_LN2_LO)))
    r2 = mul(r, r)
    r4 = mul(r2, r2)
    # t = c2 + c3 r + ... + c13 r^11 (Estrin); the leading 1 + r is added last, for accuracy.
    a0, a1, a2 = fma(c[3], r, c[2]), fma(c[5], r, c[4]), fma(c[7], r, c[6])
    a3, a4, a5 = fma(c[9], r, c[8]), fma(c[11], r, c[10]), fma(c[13], r, c[12])
    b0, b1, b2 = fma(a1, r2, a0), fma(a3, r2, a2), fma(a5, r2, a4)
    t = fma(fma(b2, r4, b1), r4, b0)
    mantissa = add(np.float64(1.0), add(r, mul(r2, t)))
    # 2**k times the mantissa, by adding k to its exponent field (k is within [-1022, 1023]).
    # k's integer bits come from `k + 1.5 * 2**52` (exact: the low mantissa bits then hold
    # k in two's complement, and the shift leaves exactly those): without AVX-512 a CPU has
    # no vector float64 -> int64 conversion, and `convert_element_type` is done one lane at
    # a time (an HH cell's forward run ~9 % slower on an AVX2 machine).
    shifted = lax.bitcast_convert_type(add(k, np.float64(_INTEGER_SHIFTER)), np.int64)
    exponent = lax.shift_left(shifted, np.int64(52))
    bits = lax.add(lax.bitcast_convert_type(mantissa, np.int64), exponent)
    value = lax.bitcast_convert_type(bits, np.float64)
    return lax.select(lax.lt(x, np.float64(_LOWEST)), lax.full_like(value, 0.0), value)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _capped_exp64(x, cap: float):
    # Chosen when traced: with `lax.platform_dependent` instead, tracing and lowering a
    # single-compartment simulation took ~25 ms longer.
    if jax.default_backend() == "cpu":
        return _polynomial_exp(x, cap)
    return lax.exp(lax.min(x, np.float64(cap)))


@_capped_exp64.defjvp
def _capped_exp64_jvp(cap, primals, tangents):
    (x,), (dx,) = primals, tangents
    y = _capped_exp64(x, cap)
    return y, lax.select(lax.lt(x, np.float64(cap)), lax.mul(y, dx), lax.full_like(y, 0.0))


def capped_exp(x, cap: float = 20.0):
    """`exp(min(x, cap))` elementwise (any shape; `cap` a number in (-708, 709]).

    float64 on the CPU: the polynomial above, 0 for x < -708 (where exp(x) is below the
    smallest normal double). Otherwise `lax.exp`. The derivative is `exp(x)` below the cap
    and 0 above it, as for `dendrax.solver_gate.save_exp`.
    """
    if not _LOWEST < cap <= _HIGHEST:  # also rejects NaN
        raise ValueError(
            f"capped_exp: cap must be a number in ({_LOWEST:g}, {_HIGHEST:g}] (above 709 the "
            f"exponential overflows a double); got {cap!r}"
        )
    x = jnp.asarray(x)
    if x.dtype != jnp.float64:
        return lax.exp(lax.min(x, np.asarray(cap, x.dtype)))
    return _capped_exp64(x, float(cap))
