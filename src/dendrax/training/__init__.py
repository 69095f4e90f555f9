"""Training utilities: Rockpool-style losses, a data loader and a resumable ``fit`` loop.

``optax`` and ``tqdm`` (the ``dendrax[train]`` extra) are only imported when :func:`fit` needs
them.
"""

from dendrax.training import jax_loss, losses
from dendrax.training.checkpoint import (
    CheckpointError,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from dendrax.training.dataset import Dataset
from dendrax.training.fit import fit
from dendrax.training.losses import (
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

__all__ = [
    "losses",
    "jax_loss",
    "Dataset",
    "fit",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_exists",
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
