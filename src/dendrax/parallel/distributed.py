"""`initialize`: start JAX's multi-process runtime (several hosts, or one process per GPU).

A thin wrapper of `jax.distributed.initialize`. After it, `jax.devices()` lists the devices
of every process, `make_mesh()` spans them all, and `sweep` / `fit(mesh=)` run over them
with the same code as on one device. It must run in every process, before any other JAX
call (JAX's backends are created on first use and cannot be re-created).
"""

from __future__ import annotations

import jax

from dendrax.parallel.errors import AlreadyInitializedError

__all__ = ["initialize", "shutdown", "is_initialized"]


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    cpu_collectives: str | None = "gloo",
    **kwargs,
) -> None:
    """Join this process to a multi-process JAX run.

    Args:
        coordinator_address: "host:port" of process 0's coordinator service (any free
            port on the host of process 0). None: detected by JAX from the cluster's
            environment (SLURM, Open MPI, Kubernetes, Cloud TPU).
        num_processes: number of processes taking part (None: detected).
        process_id: this process's index, 0 .. num_processes - 1 (None: detected).
        cpu_collectives: the implementation of cross-process collectives on CPU devices
            ("gloo", JAX's default "none" cannot exchange data between processes, or
            "mpi"); None leaves JAX's setting alone. It does not affect GPUs or TPUs.
        **kwargs: passed to `jax.distributed.initialize` (e.g. `local_device_ids`,
            `initialization_timeout` in s, `coordinator_bind_address`).

    Raises:
        AlreadyInitializedError: the distributed runtime already runs in this process
            (`initialize` was called before); call `shutdown()` first to start again.
        RuntimeError: JAX already ran a computation in this process (call `initialize`
            first), or the coordinator could not be reached in time.
        ValueError: from JAX, for missing or inconsistent process numbers.
    """
    if jax.distributed.is_initialized():
        raise AlreadyInitializedError(
            "dendrax.parallel.initialize was called twice: JAX's distributed runtime already "
            f"runs in this process (process {jax.process_index()} of {jax.process_count()}). "
            "Call it once per process, or dendrax.parallel.shutdown() before calling it again."
        )
    if cpu_collectives is not None:
        jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator_address,
            num_processes=num_processes,
            process_id=process_id,
            **kwargs,
        )
    except RuntimeError as err:
        if "before any JAX" in str(err) or "backend" in str(err).lower():
            raise RuntimeError(
                "dendrax.parallel.initialize must run before any other JAX call in the "
                f"process (JAX said: {err}). Move it to the top of the script."
            ) from err
        raise


def shutdown() -> None:
    """Leave the multi-process run (`jax.distributed.shutdown`); a no-op if not in one."""
    if jax.distributed.is_initialized():
        jax.distributed.shutdown()


def is_initialized() -> bool:
    """Whether this process has joined a multi-process run."""
    return jax.distributed.is_initialized()
