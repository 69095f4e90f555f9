"""Exact current slopes (`current_slope`) of HH and Leak against central differences, and
the rule that a subclass overriding `compute_current` alone falls back to differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.channels import HH, Leak
from dendrax.channels.channel import has_exact_slope

jax.config.update("jax_enable_x64", True)


def _random_inputs(channel, rng, n=50):
    states = {k: jnp.asarray(rng.uniform(0.0, 1.0, n)) for k in channel.channel_states}
    params = {
        k: jnp.asarray(v * rng.uniform(0.5, 1.5, n)) for k, v in channel.channel_params.items()
    }
    v = jnp.asarray(rng.uniform(-90.0, 40.0, n))
    return states, params, v


@pytest.mark.parametrize("channel", [HH(), Leak()])
def test_slope_matches_central_difference(channel):
    states, params, v = _random_inputs(channel, np.random.default_rng(3))
    h = 1e-4
    fd = (
        channel.compute_current(states, v + h, params)
        - channel.compute_current(states, v - h, params)
    ) / (2 * h)
    exact = channel.current_slope(states, v, params)
    np.testing.assert_allclose(np.asarray(exact), np.asarray(fd), rtol=1e-8, atol=1e-12)
    assert has_exact_slope(channel)


def test_subclass_overriding_the_current_falls_back_to_differences():
    class Doubled(HH):
        def compute_current(self, states, v, params):
            return 2.0 * super().compute_current(states, v, params)

    class DoubledWithSlope(Doubled):
        def current_slope(self, states, v, params):
            return 2.0 * super().current_slope(states, v, params)

    assert not has_exact_slope(Doubled())
    assert has_exact_slope(DoubledWithSlope())
