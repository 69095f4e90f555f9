"""Device meshes for data-parallel runs: creation, validation and the two shardings used.

A mesh is JAX's own `jax.sharding.Mesh`; dendrax only creates it with `AxisType.Auto` axes
(JAX 0.10's default, `Explicit`, makes `vmap` of a `scan` fail to find the mesh axis) and
checks the arguments, so that a wrong axis name or device count gives a clear error rather
than one from deep inside XLA.
"""

from __future__ import annotations

import jax
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from dendrax.parallel.errors import MeshError

__all__ = [
    "make_mesh",
    "check_axis",
    "axis_size",
    "batch_sharding",
    "replicated_sharding",
]


def make_mesh(n_devices: int | None = None, axis: str = "batch") -> Mesh:
    """A one-axis mesh over the first `n_devices` devices of all processes.

    Args:
        n_devices: number of devices (default: all of `jax.devices()`, i.e. every device
            of every process once `initialize` has run).
        axis: the name of the mesh axis (the name `sweep` and `fit` shard over).

    Returns:
        A `jax.sharding.Mesh` of shape `(n_devices,)` with an `AxisType.Auto` axis.

    Raises:
        MeshError: `n_devices` is not a positive int or exceeds the devices present.
        TypeError: `axis` is not a non-empty string.
    """
    if not isinstance(axis, str) or not axis:
        raise TypeError(f"axis must be a non-empty string (the mesh axis name), got {axis!r}")
    devices = jax.devices()
    if n_devices is None:
        n_devices = len(devices)
    if isinstance(n_devices, bool) or not isinstance(n_devices, int) or n_devices < 1:
        raise MeshError(f"n_devices must be a positive int or None, got {n_devices!r}")
    if n_devices > len(devices):
        raise MeshError(
            f"make_mesh(n_devices={n_devices}) asks for more devices than the "
            f"{len(devices)} present ({devices[0].platform}, {jax.process_count()} "
            "process(es)). Ask for fewer, start more processes with "
            "dendrax.parallel.initialize, or, for tests on CPU, set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={n_devices} before JAX is "
            "imported."
        )
    return jax.make_mesh(
        (n_devices,), (axis,), axis_types=(AxisType.Auto,), devices=devices[:n_devices]
    )


def check_axis(mesh, axis: str) -> Mesh:
    """`mesh` itself after checking that it is a `Mesh` with an axis named `axis`.

    Raises:
        TypeError: `mesh` is not a `jax.sharding.Mesh`.
        MeshError: the mesh has no axis `axis`, or the axis is not of type `Auto`.
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(
            "mesh must be a jax.sharding.Mesh (e.g. dendrax.parallel.make_mesh()), got "
            f"{type(mesh).__name__}"
        )
    names = tuple(mesh.axis_names)
    if axis not in names:
        raise MeshError(
            f"The mesh has no axis {axis!r}; its axes are {names}. Pass axis= one of them "
            f"or build the mesh with dendrax.parallel.make_mesh(axis={axis!r})."
        )
    kind = dict(zip(names, mesh.axis_types, strict=True))[axis]
    if kind != AxisType.Auto:
        raise MeshError(
            f"Mesh axis {axis!r} has type {kind}; dendrax needs AxisType.Auto (vmap of a "
            "scan cannot run on Explicit axes). Build the mesh with "
            "dendrax.parallel.make_mesh or jax.make_mesh(..., axis_types=(AxisType.Auto,))."
        )
    return mesh


def axis_size(mesh: Mesh, axis: str) -> int:
    """Number of devices along `axis` (the number of shards of a batch)."""
    return int(mesh.shape[axis])


def batch_sharding(mesh: Mesh, axis: str) -> NamedSharding:
    """Leading (batch) axis split over `axis`, replicated over the mesh's other axes."""
    return NamedSharding(mesh, P(axis))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of the mesh."""
    return NamedSharding(mesh, P())
