"""Shared helpers of the Pospischil et al. (2008) channels (`Na`, `K`, `Km`, `CaL`, `CaT`)."""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.solver_gate import save_exp

__all__ = ["efun", "boltzmann"]

_SMALL = 1e-6


def efun(x):
    """`x / (exp(x) - 1)` (dimensionless), with its removable singularity at 0 filled in.

    Away from `|x| < 1e-6` this is exactly Jaxley's `efun` (exp clipped by `save_exp`);
    inside, the Taylor value `1 - x/2` replaces Jaxley's 0/0 (NaN at exactly x = 0).
    Gradients stay finite everywhere.
    """
    small = jnp.abs(x) < _SMALL
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2.0, safe / (save_exp(safe) - 1.0))


def boltzmann(x):
    """`1 / (1 + exp(x))`, the logistic steady-state curve (exp clipped by `save_exp`)."""
    return 1.0 / (1.0 + save_exp(x))
