"""Data-parallel placement for training: batches split over a mesh axis, the rest copied.

`dendrax.training.fit(..., mesh=)` places the parameters and optimizer state with
`replicate` (a full copy on every device) and each batch with `shard_batch` (its leading
axis split over the mesh axis), and compiles its step with replicated outputs. XLA then
computes each device's part of the loss and all-reduces the gradient, so the gradient is
the one of the loss over the whole batch (for a mean loss: the mean of the per-shard
gradients), equal to the unsharded gradient up to rounding.
"""

from __future__ import annotations

import jax
import numpy as np

from dendrax.parallel.errors import BatchError
from dendrax.parallel.mesh import axis_size, batch_sharding, check_axis, replicated_sharding
from dendrax.parallel.placement import place

__all__ = ["shard_batch", "replicate"]


def replicate(tree, mesh):
    """`tree` with every leaf fully replicated over `mesh` (a global array per leaf)."""
    return place(tree, replicated_sharding(mesh))


def shard_batch(batch, mesh, axis: str = "batch"):
    """`batch` with its leading (batch) axis split over mesh axis `axis`.

    Args:
        batch: a pytree (e.g. the tuple of loss arguments fit passes); every leaf with at
            least one dimension has the batch as its leading axis, scalars are replicated.
        mesh: a `jax.sharding.Mesh` with an axis `axis`.
        axis: the mesh axis to split over.

    Raises:
        BatchError: leaves with different batch lengths, or a batch length that is not a
            multiple of the devices along `axis` (padding would change the loss).
        MeshError: the mesh has no axis `axis`.
    """
    check_axis(mesh, axis)
    n_shards = axis_size(mesh, axis)
    path_leaves = jax.tree_util.tree_flatten_with_path(batch)[0]
    lengths = {
        jax.tree_util.keystr(p) or "batch": int(np.shape(x)[0])
        for p, x in path_leaves
        if np.ndim(x) >= 1
    }
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{p}: {n}" for p, n in lengths.items())
        raise BatchError(
            f"The leaves of a training batch have different leading (batch) lengths ({shown}); "
            "with mesh=, every array of a batch must have the batch as its first axis."
        )
    if lengths:
        path, n = next(iter(lengths.items()))
        if n % n_shards:
            raise BatchError(
                f"A training batch of {n} samples ({path}) cannot be split evenly over the "
                f"{n_shards} devices of mesh axis {axis!r}. Use a batch size that is a "
                f"multiple of {n_shards} (Dataset.batch({n_shards * max(1, n // n_shards)}, "
                "drop_last=True) drops an uneven last batch)."
            )
    sharded, copied = batch_sharding(mesh, axis), replicated_sharding(mesh)
    return jax.tree.map(lambda x: place(x, sharded if np.ndim(x) >= 1 else copied), batch)
