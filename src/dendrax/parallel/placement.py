"""Putting pytrees on a mesh as global arrays, in one process or in several.

With one process, `jax.device_put` does it. With several (after `initialize`), every leaf
must become a *global* array whose shards live on the devices of all processes: each process
is expected to hold the same host value (the whole batch, not its own part), and builds
its own shards from it with `jax.make_array_from_callback`. Inside `jit` (traced leaves)
only a sharding constraint is added and the enclosing computation decides the rest.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

__all__ = ["place", "gather"]


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
