"""Data-parallel training: batches split over a mesh axis, gradients averaged across shards.

`dendrax.training.fit(..., mesh=)` places the parameters and optimizer state with
`replicate` (a full copy on every device) and each batch with `shard_batch` (its leading
axis split over the mesh axis). Its step computes the loss and gradient with
`mean_over_shards`: each device differentiates the loss of its own rows, and one `pmean`
per step averages losses and gradients. For a loss that is a mean over the samples of a
batch (equal shard sizes are enforced) that is the loss and gradient of the whole batch.

Why not let XLA partition the unsharded step: the gradient of a simulation accumulates the
parameters' cotangent at every time step of the backward `scan`, summed over the batch, so
the partitioner puts an all-reduce inside the time loop (one per time step instead of one
per training step), which is slow across processes.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import PartitionSpec as P

from dendrax.parallel.errors import BatchError
from dendrax.parallel.mesh import axis_size, batch_sharding, check_axis, replicated_sharding
from dendrax.parallel.placement import place

__all__ = ["shard_batch", "replicate", "mean_over_shards"]


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


def mean_over_shards(value_and_grad, mesh, axis: str = "batch"):
    """`value_and_grad(params, key, batch)` computed per shard and averaged over `axis`.

    Args:
        value_and_grad: `(params, key, batch) -> ((loss, aux), grads)`, e.g. from
            `jax.value_and_grad(..., has_aux=True)`; `batch` is a pytree of arrays whose
            leading axis is the batch (scalars are the same for every shard).
        mesh, axis: the mesh and the axis the batch is split over.

    Returns:
        A function of the same arguments (for use inside `jit`, with `params` and `key`
        replicated and `batch` placed by `shard_batch`) returning the mean over shards of
        `(loss, aux)` and of `grads`. Every shard gets the same `key`.
    """

    def averaged(params, key, batch):
        specs = jax.tree.map(lambda x: P(axis) if np.ndim(x) >= 1 else P(), batch)

        def local(params, key, batch):
            return jax.lax.pmean(value_and_grad(params, key, batch), axis)

        # check_vma=False: a simulation's scan starts from states that are the same on
        # every device and ends with per-shard ones, which the replication check rejects.
        return jax.shard_map(
            local, mesh=mesh, in_specs=(P(), P(), specs), out_specs=P(), check_vma=False
        )(params, key, batch)

    return averaged
