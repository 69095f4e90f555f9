"""Exceptions of `dendrax.parallel`."""

from __future__ import annotations

__all__ = ["MeshError", "BatchError", "AlreadyInitializedError", "PartitionError"]


class MeshError(ValueError):
    """A mesh, mesh axis or device count that cannot be used."""


class BatchError(ValueError):
    """A batch that cannot be split over the mesh (lengths, divisibility, in_axes)."""


class AlreadyInitializedError(RuntimeError):
    """`dendrax.parallel.initialize` was called when JAX's distributed runtime already runs.

    A ``RuntimeError``, the class `jax.distributed.initialize` itself raises on a second call.
    """


class PartitionError(ValueError):
    """A split of a network over devices that cannot be used (partition, window)."""
