"""Scaling out with JAX's own machinery: device meshes, sharded sweeps and training, and
several processes (hosts, or one process per GPU).

- `make_mesh(n_devices, axis)`: a one-axis `jax.sharding.Mesh` (`AxisType.Auto`).
- `sweep(fn_or_simulator, batch, ...)`: a batch of parameter sets, stimuli or initial
  states, sharded over the mesh and chunked per device (`lax.map(batch_size=)`).
- `initialize(...)` / `shutdown()`: `jax.distributed` set-up, gloo collectives on CPU.
- `split_network(net, mesh)`: one network's cells split over the devices of a mesh axis
  (model parallel), presynaptic values exchanged by `all_gather` (docs/parallel_network.md).
- `dendrax.training.fit(..., mesh=)` shards each training batch the same way
  (`shard_batch`, `replicate`).

See docs/parallel.md.
"""

from dendrax.parallel.data_parallel import replicate, shard_batch
from dendrax.parallel.distributed import initialize, is_initialized, shutdown
from dendrax.parallel.errors import (
    AlreadyInitializedError,
    BatchError,
    MeshError,
    PartitionError,
)
from dendrax.parallel.mesh import check_axis, make_mesh
from dendrax.parallel.split_network import SplitNetwork, split_network
from dendrax.parallel.sweep import sweep

__all__ = [
    "make_mesh",
    "check_axis",
    "sweep",
    "split_network",
    "SplitNetwork",
    "shard_batch",
    "replicate",
    "initialize",
    "shutdown",
    "is_initialized",
    "MeshError",
    "BatchError",
    "AlreadyInitializedError",
    "PartitionError",
]
