"""Bijective parameter transforms for gradient-based optimization.

Every transform maps an unconstrained *latent* value ``x`` to a constrained *model* value ``y``
(``forward``) and back (``inverse``).  All transforms act elementwise, so ``x`` and ``y`` may
be arrays of any shape ``(...)`` (the output has the broadcast shape of the input and of the
transform's own array-valued constants).  Forward and inverse are pure ``jax.numpy`` code:
jittable, vmappable and differentiable, with guards against ``NaN`` gradients at saturation.

:class:`ParamTransform` applies a pytree of such transforms leaf by leaf to a parameter pytree
(typically the list of dicts ``[{name: array}, ...]`` returned by ``module.get_parameters()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Transform",
    "IdentityTransform",
    "SigmoidTransform",
    "LogisticTransform",
    "SoftplusTransform",
    "NegSoftplusTransform",
    "AffineTransform",
    "ChainTransform",
    "MaskedTransform",
    "CustomTransform",
    "ParamTransform",
]

ArrayLike = Any


# --------------------------------------------------------------------------------------------
# private helpers
# --------------------------------------------------------------------------------------------
def _save_exp(x: ArrayLike, max_value: float = 20.0) -> jax.Array:
    """``exp(min(x, max_value))``: an exponential that cannot overflow (shape of ``x``)."""
    return jnp.exp(jnp.minimum(x, max_value))


def _as_float(x: ArrayLike) -> jax.Array:
    """``x`` as a jax array with a floating dtype (integers/bools are promoted)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _concrete(v: ArrayLike) -> np.ndarray | None:
    """``v`` as a numpy array, or ``None`` if it is an abstract tracer (no validation then)."""
    try:
        return np.asarray(v)
    except Exception:  # jax tracers refuse conversion (TracerArrayConversionError etc.)
        return None


def _sigmoid(x: jax.Array) -> jax.Array:
    """Logistic sigmoid ``1 / (1 + exp(-x))`` with a clipped exponential (finite gradients)."""
    return 1.0 / (1.0 + _save_exp(-x))


def _logit(p: jax.Array) -> jax.Array:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]`` (finite at the bounds)."""
    eps = jnp.finfo(p.dtype).eps
    p = jnp.clip(p, eps, 1.0 - eps)
    return jnp.log(p) - jnp.log1p(-p)


def _is_transform(obj: Any) -> bool:
    """True for transform objects (anything with callable ``forward`` and ``inverse``)."""
    return callable(getattr(obj, "forward", None)) and callable(getattr(obj, "inverse", None))


# --------------------------------------------------------------------------------------------
# elementwise transforms
# --------------------------------------------------------------------------------------------
class Transform:
    """Base class of elementwise bijections ``y = forward(x)``, ``x = inverse(y)``."""

    def forward(self, x: ArrayLike) -> jax.Array:
        """Map latent ``x`` (shape ``(...)``) to the constrained space (same shape)."""
        raise NotImplementedError

    def inverse(self, y: ArrayLike) -> jax.Array:
        """Map constrained ``y`` (shape ``(...)``) back to the latent space (same shape)."""
        raise NotImplementedError

    def __call__(self, x: ArrayLike) -> jax.Array:
        """Alias for :meth:`forward`."""
        return self.forward(x)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class IdentityTransform(Transform):
    """``y = x`` (useful as a placeholder in a transform pytree)."""

    def forward(self, x: ArrayLike) -> jax.Array:
        return jnp.asarray(x)

    def inverse(self, y: ArrayLike) -> jax.Array:
        return jnp.asarray(y)


class SigmoidTransform(Transform):
    """``y = lower + (upper - lower) * sigmoid(x)``; maps the real line onto ``(lower, upper)``.

    The sigmoid uses a clipped exponential (``exp(min(-x, 20))``), so for ``x < -20`` the output
    saturates at ``lower + (upper - lower) / (1 + e^20)`` with zero (not ``NaN``) gradient.  The
    inverse is the logit of ``(y - lower) / (upper - lower)``; the ratio is clipped to
    ``[eps, 1 - eps]`` so values exactly at the bounds give large finite latents.

    Args:
        lower: lower bound, scalar or array broadcastable against the parameter.
        upper: upper bound, same; must satisfy ``lower < upper`` elementwise.
    """

    def __init__(self, lower: ArrayLike, upper: ArrayLike) -> None:
        lo, up = _concrete(lower), _concrete(upper)
        if lo is not None and up is not None and not np.all(lo < up):
            raise ValueError(
                f"{type(self).__name__} needs lower < upper elementwise, got lower={lower!r}, "
                f"upper={upper!r}."
            )
        self.lower = lower
        self.upper = upper

    def forward(self, x: ArrayLike) -> jax.Array:
        x = _as_float(x)
        return self.lower + (self.upper - self.lower) * _sigmoid(x)

    def inverse(self, y: ArrayLike) -> jax.Array:
        y = _as_float(y)
        return _logit((y - self.lower) / (self.upper - self.lower))


class LogisticTransform(SigmoidTransform):
    """Sigmoid transform of the rescaled latent ``x * pi / sqrt(3)``.

    ``y = lower + (upper - lower) * sigmoid(x * pi / sqrt(3))``: with this scaling the logistic
    distribution of the latent has unit variance.  Args as :class:`SigmoidTransform`.
    """

    _SCALE = math.pi / math.sqrt(3.0)

    def forward(self, x: ArrayLike) -> jax.Array:
        return super().forward(_as_float(x) * self._SCALE)

    def inverse(self, y: ArrayLike) -> jax.Array:
        return super().inverse(y) / self._SCALE


class SoftplusTransform(Transform):
    """``y = lower + softplus(x)``; maps the real line onto ``(lower, inf)``.

    ``softplus(x) = x`` for ``x > threshold`` and ``log1p(exp(x))`` otherwise (the exponential is
    evaluated on ``min(x, threshold)`` so neither branch overflows or yields ``NaN`` gradients).
    The inverse is ``z + log(-expm1(-z))`` with ``z = y - lower`` (identity above the image of the
    threshold); ``z`` is clipped to the smallest positive normal number, so values at or below
    ``lower`` map to a large negative finite latent.

    Args:
        lower: lower bound (scalar or array).
        threshold: above this latent value softplus is replaced by the identity.
    """

    def __init__(self, lower: ArrayLike, threshold: float = 20.0) -> None:
        self.lower = lower
        self.threshold = threshold

    def forward(self, x: ArrayLike) -> jax.Array:
        x = _as_float(x)
        soft = jnp.log1p(jnp.exp(jnp.minimum(x, self.threshold)))
        return self.lower + jnp.where(x > self.threshold, x, soft)

    def inverse(self, y: ArrayLike) -> jax.Array:
        y = _as_float(y)
        z = y - self.lower
        # image of the threshold under the softplus branch; above it forward was the identity
        z_thr = self.threshold + math.log1p(math.exp(-self.threshold))
        z_safe = jnp.clip(z, jnp.finfo(z.dtype).tiny, z_thr)
        soft_inv = z_safe + jnp.log(-jnp.expm1(-z_safe))
        return jnp.where(z > z_thr, z, soft_inv)


class NegSoftplusTransform(Transform):
    """``y = -(upper + softplus(-x))``, i.e. ``forward = -SoftplusTransform(lower=upper)(-x)``.

    .. warning::
        Jaxley-compatible sign quirk: despite the argument's name, the range is
        ``(-inf, -upper)``, **not** ``(-inf, upper)``.  E.g. ``NegSoftplusTransform(2.0)`` yields
        values below ``-2.0``.  To bound a parameter above by ``u`` pass ``upper=-u``.

    Args:
        upper: the negated upper bound (see warning), scalar or array.
        threshold: softplus threshold, see :class:`SoftplusTransform`.
    """

    def __init__(self, upper: ArrayLike, threshold: float = 20.0) -> None:
        self.upper = upper
        self._softplus = SoftplusTransform(upper, threshold)

    def forward(self, x: ArrayLike) -> jax.Array:
        return -self._softplus.forward(-_as_float(x))

    def inverse(self, y: ArrayLike) -> jax.Array:
        return -self._softplus.inverse(-_as_float(y))

    def __repr__(self) -> str:
        return f"NegSoftplusTransform(upper={self.upper!r})"


class AffineTransform(Transform):
    """``y = scale * x + shift``; inverse ``(y - shift) / scale``.

    Args:
        scale: nonzero slope (scalar or array; ``ValueError`` if any element is zero).
        shift: offset (scalar or array).
    """

    def __init__(self, scale: ArrayLike, shift: ArrayLike) -> None:
        sc = _concrete(scale)
        if sc is not None and np.any(sc == 0):
            raise ValueError(f"AffineTransform needs a nonzero scale, got scale={scale!r}.")
        self.scale = scale
        self.shift = shift

    def forward(self, x: ArrayLike) -> jax.Array:
        return self.scale * _as_float(x) + self.shift

    def inverse(self, y: ArrayLike) -> jax.Array:
        return (_as_float(y) - self.shift) / self.scale


class ChainTransform(Transform):
    """Composition: ``forward`` applies ``transforms`` in order, ``inverse`` in reverse order.

    ``ChainTransform([t1, t2]).forward(x) == t2.forward(t1.forward(x))``.

    Args:
        transforms: non-empty sequence of transforms.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        transforms = list(transforms)
        if not transforms:
            raise ValueError("ChainTransform needs at least one transform.")
        for t in transforms:
            if not _is_transform(t):
                raise TypeError(f"ChainTransform element {t!r} has no forward/inverse methods.")
        self.transforms = transforms

    def forward(self, x: ArrayLike) -> jax.Array:
        for t in self.transforms:
            x = t.forward(x)
        return x

    def inverse(self, y: ArrayLike) -> jax.Array:
        for t in reversed(self.transforms):
            y = t.inverse(y)
        return y


class MaskedTransform(Transform):
    """Apply ``transform`` only where ``mask`` is true: ``where(mask, T(x), x)``.

    Note that ``T`` is still evaluated on the unmasked elements; it must produce finite values
    there for gradients to stay finite.

    Args:
        mask: boolean array broadcastable against the parameter.
        transform: the transform applied to masked-in elements.
    """

    def __init__(self, mask: ArrayLike, transform: Transform) -> None:
        if not _is_transform(transform):
            raise TypeError(f"MaskedTransform needs a transform, got {transform!r}.")
        self.mask = jnp.asarray(mask, dtype=bool)
        self.transform = transform

    def forward(self, x: ArrayLike) -> jax.Array:
        x = _as_float(x)
        return jnp.where(self.mask, self.transform.forward(x), x)

    def inverse(self, y: ArrayLike) -> jax.Array:
        y = _as_float(y)
        return jnp.where(self.mask, self.transform.inverse(y), y)


class CustomTransform(Transform):
    """Transform built from user functions ``forward_fn(x) -> y`` and ``inverse_fn(y) -> x``."""

    def __init__(
        self,
        forward_fn: Callable[[jax.Array], jax.Array],
        inverse_fn: Callable[[jax.Array], jax.Array],
    ) -> None:
        if not callable(forward_fn) or not callable(inverse_fn):
            raise TypeError("CustomTransform needs callable forward_fn and inverse_fn.")
        self.forward_fn = forward_fn
        self.inverse_fn = inverse_fn

    def forward(self, x: ArrayLike) -> jax.Array:
        return self.forward_fn(x)

    def inverse(self, y: ArrayLike) -> jax.Array:
        return self.inverse_fn(y)


# --------------------------------------------------------------------------------------------
# pytree-level transform
# --------------------------------------------------------------------------------------------
def _is_tf_leaf(obj: Any) -> bool:
    return obj is None or _is_transform(obj)


class ParamTransform:
    """Leafwise application of a pytree of transforms to a parameter pytree.

    ``tf_pytree`` must mirror the parameter pytree, e.g. for
    ``params = [{"radius": r}, {"HH_gNa": g}]`` (as returned by ``get_parameters()``)::

        tf = ParamTransform([{"radius": SigmoidTransform(0.1, 5.0)},
                             {"HH_gNa": SoftplusTransform(0.0)}])
        opt_params = tf.inverse(params)      # constrained -> unconstrained
        params = tf.forward(opt_params)      # unconstrained -> constrained

    A ``None`` leaf in ``tf_pytree`` means identity.

    Args:
        tf_pytree: pytree whose leaves are transforms (objects with ``forward``/``inverse``).
    """

    def __init__(self, tf_pytree: Any) -> None:
        self.tf_pytree = tf_pytree
        self._tf_leaves, self._tf_treedef = jax.tree_util.tree_flatten(
            tf_pytree, is_leaf=_is_tf_leaf
        )
        for leaf in self._tf_leaves:
            if not _is_tf_leaf(leaf):
                raise TypeError(
                    f"ParamTransform leaves must be transforms (forward/inverse) or None, got "
                    f"{leaf!r}."
                )

    def _apply(self, params: Any, direction: str) -> Any:
        leaves, treedef = jax.tree_util.tree_flatten(params)
        if treedef != self._tf_treedef:
            raise ValueError(
                "ParamTransform: the structure of the parameters does not match the structure "
                "of the transform pytree.\n"
                f"  parameters: {treedef}\n"
                f"  transforms: {self._tf_treedef}\n"
                "The transform pytree must mirror the parameters leaf by leaf (e.g. a list of "
                "dicts like get_parameters()), with one transform per parameter array."
            )
        out = []
        for x, tf in zip(leaves, self._tf_leaves, strict=True):
            out.append(x if tf is None else getattr(tf, direction)(x))
        return jax.tree_util.tree_unflatten(treedef, out)

    def forward(self, params: Any) -> Any:
        """Unconstrained -> constrained, leafwise; returns a pytree of ``params``' structure."""
        return self._apply(params, "forward")

    def inverse(self, params: Any) -> Any:
        """Constrained -> unconstrained, leafwise; returns a pytree of ``params``' structure."""
        return self._apply(params, "inverse")

    def __repr__(self) -> str:
        return f"ParamTransform({self.tf_pytree!r})"
