"""Loss functions and parameter regularisers for gradient-based training.

The functions mirror ``rockpool.training.jax_loss`` exactly, including its *global* reductions:
:func:`softmax` and :func:`logsoftmax` normalise over **all** elements of their input, not along an
axis. Per-axis versions live under explicit names (:func:`softmax_along_axis`,
:func:`logsoftmax_along_axis`).

All regularisers (:func:`l2sqr_norm`, :func:`l0_norm_approx`, :func:`bounds_cost`, ...) accept any
parameter pytree: the Jaxley-style list of dicts returned by ``Module.get_parameters()`` as well as
the nested dicts returned by ``dendrax.nn`` modules' ``parameters()``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "mse",
    "sse",
    "l2sqr_norm",
    "l0_norm_approx",
    "make_bounds",
    "bounds_cost",
    "bounds_clip",
    "softmax",
    "logsoftmax",
    "softmax_along_axis",
    "logsoftmax_along_axis",
]

PyTree = Any

#: Bounds are clipped to this magnitude before exponentiation, as Rockpool does, so that the
#: default +/-inf bounds of :func:`make_bounds` never produce ``inf - inf``.
_BOUND_LIMIT = float(2**31)


def mse(output: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error ``mean((output - target) ** 2)`` over **all** elements.

    Args:
        output: array of any shape (e.g. ``(batch, T, N)``).
        target: array broadcastable to ``output``.

    Returns:
        Scalar, in the squared units of ``output``.
    """
    return jnp.mean((jnp.asarray(output) - jnp.asarray(target)) ** 2)


def sse(output: jax.Array, target: jax.Array) -> jax.Array:
    """Sum of squared errors ``sum((output - target) ** 2)`` over all elements (scalar)."""
    return jnp.sum((jnp.asarray(output) - jnp.asarray(target)) ** 2)


def _leaves(params: PyTree) -> list[jax.Array]:
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError("the parameter tree has no array leaves")
    return [jnp.asarray(leaf) for leaf in leaves]


def l2sqr_norm(params: PyTree) -> jax.Array:
    """Mean over leaves of the per-leaf ``nanmean(p ** 2)`` (a scalar L2 penalty).

    Every leaf counts equally, whatever its size (Rockpool's definition).
    """
    return jnp.mean(jnp.stack([jnp.nanmean(p**2) for p in _leaves(params)]))


def l0_norm_approx(params: PyTree, sigma: float = 1e-4) -> jax.Array:
    """Differentiable approximation of the L0 norm (Wei et al. 2018).

    Mean over leaves of ``nanmean(p**4 / (p**4 + sigma))``; each element contributes ~1 when
    ``|p| >> sigma**0.25`` and ~0 when ``p`` is near zero.
    """
    return jnp.mean(jnp.stack([jnp.nanmean(p**4 / (p**4 + sigma)) for p in _leaves(params)]))


def make_bounds(params: PyTree) -> tuple[PyTree, PyTree]:
    """Return ``(lower, upper)`` trees shaped like ``params``, filled with ``-inf`` / ``+inf``.

    The result is a fresh copy: edit entries in place (``lower[0]["radius"] = 0.1`` or
    ``lower["1_Rate"]["tau"] = 10e-3``) to set bounds. A leaf may be replaced by a scalar or any
    array broadcastable to the parameter's shape.
    """
    lower = jax.tree_util.tree_map(lambda p: np.full(np.shape(p), -np.inf), params)
    upper = jax.tree_util.tree_map(lambda p: np.full(np.shape(p), np.inf), params)
    return lower, upper


def _check_bounds(params: PyTree, lower: PyTree, upper: PyTree) -> tuple[list, list, list]:
    p_leaves, p_def = jax.tree_util.tree_flatten(params)
    out = [p_leaves]
    for label, bound in (("lower", lower), ("upper", upper)):
        b_leaves, b_def = jax.tree_util.tree_flatten(bound)
        if b_def != p_def:
            raise ValueError(
                f"the {label} bounds tree does not match the parameter tree.\n"
                f"  parameters: {p_def}\n  {label}: {b_def}\n"
                "Build bounds with make_bounds(params) and edit its entries."
            )
        for i, (p, b) in enumerate(zip(p_leaves, b_leaves, strict=True)):
            try:
                np.broadcast_shapes(np.shape(b), np.shape(p))
            except ValueError:
                raise ValueError(
                    f"{label} bound leaf {i} has shape {np.shape(b)}, which does not broadcast "
                    f"to the parameter's shape {np.shape(p)}"
                ) from None
        out.append(b_leaves)
    return out[0], out[1], out[2]


def bounds_cost(params: PyTree, lower: PyTree, upper: PyTree) -> jax.Array:
    """Soft penalty for parameters outside ``[lower, upper]`` (Rockpool semantics).

    Per element: ``exp(lower - p)`` if ``p < lower``, ``exp(p - upper)`` if ``p > upper``, else 0.
    Bounds are clipped to ``+/-2**31`` first, NaNs are ignored (``nansum``), and the result is
    summed over all leaves. Every violating element costs at least 1, so scale the term to the
    size of your task loss. This function does not clip; see :func:`bounds_clip`.

    Args:
        params: parameter pytree.
        lower: tree with the same structure as ``params`` (see :func:`make_bounds`),
            leaves broadcastable to the parameters' shapes.
        upper: as ``lower``, the upper bounds.

    Raises:
        ValueError: if a bounds tree does not match the structure of ``params``.
    """
    p_leaves, lo_leaves, up_leaves = _check_bounds(params, lower, upper)
    total = jnp.asarray(0.0)
    for p, lo, up in zip(p_leaves, lo_leaves, up_leaves, strict=True):
        p = jnp.asarray(p)
        lo = jnp.clip(jnp.asarray(lo, dtype=p.dtype), -_BOUND_LIMIT, _BOUND_LIMIT)
        up = jnp.clip(jnp.asarray(up, dtype=p.dtype), -_BOUND_LIMIT, _BOUND_LIMIT)
        # The untaken branch stays finite (exp of a negative number), so gradients are clean.
        below = jnp.where(p < lo, jnp.exp(lo - p), 0.0)
        above = jnp.where(p > up, jnp.exp(p - up), 0.0)
        total = total + jnp.nansum(below) + jnp.nansum(above)
    return total


def bounds_clip(params: PyTree, lower: PyTree, upper: PyTree) -> PyTree:
    """Clip every parameter into ``[lower, upper]`` (hard constraint; same tree as ``params``).

    Raises:
        ValueError: if a bounds tree does not match the structure of ``params``.
    """
    p_leaves, lo_leaves, up_leaves = _check_bounds(params, lower, upper)
    treedef = jax.tree_util.tree_structure(params)
    clipped = []
    for p, lo, up in zip(p_leaves, lo_leaves, up_leaves, strict=True):
        p = jnp.asarray(p)
        clipped.append(jnp.clip(p, jnp.asarray(lo, p.dtype), jnp.asarray(up, p.dtype)))
    return jax.tree_util.tree_unflatten(treedef, clipped)


def softmax(x: jax.Array, temperature: float = 1.0) -> jax.Array:
    """Softmax over **all** elements of ``x`` (Rockpool's global reduction).

    ``l = x - max(x)``; returns ``exp(l / T) / sum(exp(l / T))`` with the sum over every element.
    For the usual per-axis softmax use :func:`softmax_along_axis`.
    """
    x = jnp.asarray(x)
    scaled = (x - jnp.max(x)) / temperature
    e = jnp.exp(scaled)
    return e / jnp.sum(e)


def logsoftmax(x: jax.Array, temperature: float = 1.0) -> jax.Array:
    """Log-softmax over **all** elements: ``l / T - log(sum(exp(l / T)))``, ``l = x - max(x)``."""
    x = jnp.asarray(x)
    scaled = (x - jnp.max(x)) / temperature
    return scaled - jnp.log(jnp.sum(jnp.exp(scaled)))


def softmax_along_axis(x: jax.Array, axis: int = -1, temperature: float = 1.0) -> jax.Array:
    """Softmax of ``x / temperature`` normalised along ``axis`` (e.g. the class axis)."""
    x = jnp.asarray(x)
    scaled = (x - jnp.max(x, axis=axis, keepdims=True)) / temperature
    e = jnp.exp(scaled)
    return e / jnp.sum(e, axis=axis, keepdims=True)


def logsoftmax_along_axis(x: jax.Array, axis: int = -1, temperature: float = 1.0) -> jax.Array:
    """Log-softmax of ``x / temperature`` normalised along ``axis``."""
    x = jnp.asarray(x)
    scaled = (x - jnp.max(x, axis=axis, keepdims=True)) / temperature
    return scaled - jnp.log(jnp.sum(jnp.exp(scaled), axis=axis, keepdims=True))
