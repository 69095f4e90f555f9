"""Rockpool-compatible module path: ``dendrax.training.jax_loss`` re-exports :mod:`.losses`."""

from dendrax.training.losses import (  # noqa: F401
    __all__,
    bounds_clip,
    bounds_cost,
    l0_norm_approx,
    l2sqr_norm,
    logsoftmax,
    logsoftmax_along_axis,
    make_bounds,
    mse,
    softmax,
    softmax_along_axis,
    sse,
)
