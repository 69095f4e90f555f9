"""HH rate functions: the shared-exponential form against the textbook formulas in numpy."""

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.channels.hh import _all_rates


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
