"""Putting pytrees on a mesh as global arrays, in one process or in several.

With one process, `jax.device_put` does it. With several (after `initialize`), every leaf
must become a *global* array whose shards live on the devices of all processes: each process
is expected to hold the same host value (the whole batch, not its own part), and builds
its own shards from it with `jax.make_array_from_callback`. Inside `jit` (traced leaves)
only a sharding constraint is added and the enclosing computation decides the rest.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from dendrax.parallel.errors import MeshError

__all__ = [
    "place",
    "gather",
    "place_process_local",
    "process_shards",
    "process_row_counts",
    "local_rows",
]


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _host_value(x) -> np.ndarray:
    """`x` as a numpy array in the dtype JAX would give it (float32 unless x64 is on)."""
    host = np.asarray(x)
    return host.astype(jax.dtypes.canonicalize_dtype(host.dtype), copy=False)


def _place_leaf(x, sharding: NamedSharding):
    if _is_traced(x):
        return jax.lax.with_sharding_constraint(x, sharding)
    if isinstance(x, jax.Array) and x.sharding.is_equivalent_to(sharding, x.ndim):
        return x
    if jax.process_count() == 1:
        return jax.device_put(x, sharding)
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        # already global (another sharding): resharded by XLA, no trip through the host
        return jax.jit(lambda y: y, out_shardings=sharding)(x)
    host = _host_value(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def place(tree, sharding: NamedSharding):
    """Every leaf of `tree` as a (global) array with `sharding` (one sharding for all)."""
    return jax.tree.map(lambda x: _place_leaf(x, sharding), tree)


def gather(tree, mesh):
    """`tree` readable from every process: replicated over `mesh` when there are several.

    With one process (or traced leaves, inside `jit`) `tree` is returned as it is. With
    several, each leaf becomes a fully replicated global array, which `np.asarray` reads on
    any process.
    """
    leaves, treedef = jax.tree.flatten(tree)
    if jax.process_count() == 1 or not leaves or any(_is_traced(x) for x in leaves):
        return tree
    out = jax.jit(lambda *xs: xs, out_shardings=NamedSharding(mesh, P()))(*leaves)
    return jax.tree.unflatten(treedef, list(out))


def process_shards(mesh, axis: str) -> int:
    """Number of positions along mesh axis `axis` that hold devices of this process.

    Raises:
        MeshError: the processes hold different numbers of positions along `axis`.
    """
    me = jax.process_index()
    names = tuple(mesh.axis_names)
    along = np.moveaxis(mesh.devices, names.index(axis), 0).reshape(mesh.shape[axis], -1)
    counts = [
        sum(any(d.process_index == p for d in row) for row in along)
        for p in range(jax.process_count())
    ]
    if len(set(counts)) > 1:
        raise MeshError(
            f"The processes hold different numbers of devices along mesh axis {axis!r} "
            f"({counts}); process_local=True needs the same number in every process."
        )
    return counts[me]


def process_row_counts(n: int) -> list[int]:
    """Every process's `n` (a collective: every process must call it)."""
    if jax.process_count() == 1:
        return [n]
    counts = multihost_utils.process_allgather(np.asarray(n, dtype=np.int64))
    return [int(c) for c in np.ravel(counts)]


def place_process_local(tree, sharding: NamedSharding, n_global: int):
    """Global arrays of `n_global` rows from each process's own rows (its part of axis 0)."""

    def one(x):
        if _is_traced(x):
            raise TypeError("sweep(process_local=True) needs concrete arrays, not traced ones")
        host = _host_value(x)
        shape = (n_global, *host.shape[1:])
        return jax.make_array_from_process_local_data(sharding, host, shape)

    return jax.tree.map(one, tree)


def local_rows(x):
    """The rows of a batch-sharded global array held by this process, in order, as one
    array on this process's first local device."""
    if not isinstance(x, jax.Array) or x.is_fully_addressable:
        return x
    pieces = {}
    for shard in x.addressable_shards:
        start = shard.index[0].start or 0
        pieces.setdefault(start, shard.data)  # copies along other mesh axes are the same
    first = jax.local_devices()[0]  # one device: the shards live on different ones
    return jnp.concatenate([jax.device_put(pieces[k], first) for k in sorted(pieces)], axis=0)
