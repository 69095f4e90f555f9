"""HH rate functions: the shared-exponential form against the textbook formulas (numpy), its
custom derivative against high-precision derivatives (mpmath)."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

from dendrax.channels.hh import _all_rates, _h_rates, _m_rates, _n_rates


def _textbook_rates(v):
    """NEURON's hh.mod rates (6.3 degC, no q10), written out in numpy, float64."""

    def vtrap(x, y):
        ratio = x / y
        with np.errstate(divide="ignore", invalid="ignore"):
            regular = x / (np.exp(np.minimum(ratio, 20.0)) - 1.0)
        return np.where(np.abs(ratio) < 1e-6, y * (1.0 - ratio / 2.0), regular)

    def capped_exp(x):
        return np.exp(np.minimum(x, 20.0))

    return (
        (0.1 * vtrap(-(v + 40.0), 10.0), 4.0 * capped_exp(-(v + 65.0) / 18.0)),
        (0.07 * capped_exp(-(v + 65.0) / 20.0), 1.0 / (capped_exp(-(v + 35.0) / 10.0) + 1.0)),
        (0.01 * vtrap(-(v + 55.0), 10.0), 0.125 * capped_exp(-(v + 65.0) / 80.0)),
    )


def test_shared_exponential_rates_match_textbook_formulas():
    # every 0.01 mV over the physiological range, plus far outside it (caps active)
    v = np.concatenate([np.arange(-150.0, 100.0, 0.01), [-3000.0, -400.0, 300.0, 2000.0]])
    # exactly at and next to the removable singularities of vtrap
    v = np.concatenate([v, [-40.0, -55.0, -40.0 + 1e-9, -55.0 - 1e-9]])
    ours = jax.tree.leaves(_all_rates(jnp.asarray(v)))
    expected = jax.tree.leaves(_textbook_rates(v))
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-11, atol=0.0)


def test_shared_exponential_rates_finite_in_float32():
    v = jnp.asarray([-3000.0, -200.0, -65.0, -40.0, -55.0, 0.0, 200.0, 3000.0], jnp.float32)
    for rate in jax.tree.leaves(_all_rates(v)):
        assert rate.dtype == jnp.float32
        assert bool(jnp.all(jnp.isfinite(rate))), rate


def _exact_slopes(v):
    """d(rate)/dv of the textbook rates at `v` (mV), by mpmath at 40 digits."""
    mp.mp.dps = 40

    def vtrap(x, y):
        return x / (mp.exp(x / y) - 1)

    rates = (
        lambda u: mp.mpf("0.1") * vtrap(-(u + 40), 10),
        lambda u: 4 * mp.exp(-(u + 65) / 18),
        lambda u: mp.mpf("0.07") * mp.exp(-(u + 65) / 20),
        lambda u: 1 / (mp.exp(-(u + 35) / 10) + 1),
        lambda u: mp.mpf("0.01") * vtrap(-(u + 55), 10),
        lambda u: mp.mpf("0.125") * mp.exp(-(u + 65) / 80),
    )
    return [float(mp.diff(rate, mp.mpf(float(v)))) for rate in rates]


def test_rate_slopes_match_high_precision_derivatives():
    """The custom derivative of `_all_rates` against mpmath, including next to the removable
    singularities at -40 and -55 mV (where differentiating the formula loses digits)."""
    offsets = [1e-7, 1e-5, 1e-3, 0.1, 1.99, 2.01]
    near = [s + sign * d for s in (-40.0, -55.0) for d in offsets for sign in (1, -1)]
    v = np.concatenate([np.arange(-150.0, 100.0, 1.37), near])
    slopes = jax.vmap(jax.jacfwd(_all_rates))(jnp.asarray(v))
    ours = np.stack([np.asarray(s) for s in jax.tree.leaves(slopes)], axis=1)
    exact = np.array([_exact_slopes(x) for x in v])
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=0.0)


def test_rate_slopes_vanish_where_caps_hold_and_agree_in_reverse_mode():
    v = jnp.asarray([-3000.0, -800.0, 300.0, 3000.0])
    slopes = jax.tree.leaves(jax.vmap(jax.jacfwd(_all_rates))(v))
    plain = jax.tree.leaves(
        jax.vmap(jax.jacfwd(lambda x: (_m_rates(x), _h_rates(x), _n_rates(x))))(v)
    )
    for got, want in zip(slopes, plain, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-300)
    total = jax.vmap(jax.grad(lambda x: sum(jax.tree.leaves(_all_rates(x)))))(v)
    np.testing.assert_allclose(np.asarray(total), np.sum(np.asarray(slopes), axis=0), rtol=1e-14)


def test_rate_slopes_finite_in_float32():
    v = jnp.asarray([-3000.0, -200.0, -65.0, -40.0, -55.0, -39.9999, 0.0, 200.0], jnp.float32)
    for slope in jax.tree.leaves(jax.vmap(jax.jacfwd(_all_rates))(v)):
        assert slope.dtype == jnp.float32
        assert bool(jnp.all(jnp.isfinite(slope))), slope
