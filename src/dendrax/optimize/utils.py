"""Small pytree utilities for optimization loops."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["l2_norm"]


def l2_norm(pytree: Any) -> jax.Array:
    """Global L2 norm of a pytree: ``sqrt(sum over leaves of sum(leaf ** 2))``.

    Args:
        pytree: any pytree of arrays/scalars (leaves of arbitrary shapes).

    Returns:
        Scalar array (shape ``()``); ``0.0`` for a pytree without leaves.
    """
    leaves = jax.tree_util.tree_leaves(pytree)
    total = sum((jnp.sum(jnp.square(jnp.asarray(leaf))) for leaf in leaves), jnp.asarray(0.0))
    return jnp.sqrt(total)
