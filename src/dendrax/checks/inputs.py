"""Type and size checks of `integrate`'s arguments (before anything is traced or run)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import jax
import numpy as np

from dendrax.checks.traced import CHECK_MODES
from dendrax.checks.values import is_traced

__all__ = [
    "check_checkpoint_lengths_type",
    "check_integrate_arguments",
    "check_time_step",
    "check_output_size",
    "available_memory",
]


def _describe(x) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def _is_real_scalar(x) -> bool:
    """A real number, or a 0-d (or one-element) real array; bools are not numbers here."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, numbers.Real):
        return True
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
        return False
    kind = np.dtype(dtype).kind
    return kind in "fiu" and int(np.prod(shape)) == 1


def check_time_step(delta_t) -> None:
    """`delta_t` must be a finite number > 0 (ms); traced values are checked at run time."""
    if not _is_real_scalar(delta_t):
        raise TypeError(
            f"delta_t must be a number (the time step in ms, e.g. 0.025); got {_describe(delta_t)}."
        )
    if is_traced(delta_t):
        return
    dt = float(np.asarray(delta_t).reshape(()))
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"delta_t must be a finite number > 0 (ms); got {delta_t!r}.")


def _check_t_max(t_max) -> None:
    if t_max is None:
        return
    if is_traced(t_max):
        raise TypeError(
            "t_max sets the number of time steps, which must be known when integrate is "
            "traced: pass a Python number, not a traced value (mark it static in jax.jit)."
        )
    if not _is_real_scalar(t_max):
        raise TypeError(f"t_max must be a number (duration in ms); got {_describe(t_max)}.")
    value = float(np.asarray(t_max).reshape(()))
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"t_max must be a finite duration >= 0 (ms); got {t_max!r}.")


def check_checkpoint_lengths_type(lengths) -> None:
    """Raise for `checkpoint_lengths` that is not None or a non-empty list of ints >= 1."""
    if lengths is None:
        return
    example = "e.g. checkpoint_lengths=[20, 201] for 4,020 steps or fewer"
    if isinstance(lengths, (str, bytes, Mapping)) or not hasattr(lengths, "__len__"):
        raise TypeError(
            f"checkpoint_lengths must be a list of positive integers whose product is at "
            f"least the number of steps ({example}); got {_describe(lengths)}."
        )
    if len(lengths) == 0:
        raise ValueError(f"checkpoint_lengths must not be empty ({example}).")
    for i, x in enumerate(lengths):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Integral, np.integer)):
            raise TypeError(
                f"checkpoint_lengths must hold integers; got {_describe(x)} at position {i} "
                f"({example})."
            )
        if int(x) < 1:
            raise ValueError(
                f"checkpoint_lengths must be positive integers; got {lengths} "
                f"({x} at position {i})."
            )


def check_integrate_arguments(
    *, t_max, delta_t, checkpoint_lengths, all_states, return_states, checks
) -> None:
    """Raise `TypeError` / `ValueError` for arguments of the wrong type or value."""
    check_time_step(delta_t)
    _check_t_max(t_max)
    if t_max is not None and is_traced(delta_t):
        raise TypeError(
            "With a traced delta_t the number of steps cannot be computed from t_max: pass "
            "delta_t as a Python number (static in jax.jit), or leave out t_max and give "
            "stimuli or clamps with one value per step."
        )
    check_checkpoint_lengths_type(checkpoint_lengths)
    if all_states is not None and not isinstance(all_states, Mapping):
        raise TypeError(
            "all_states must be the dict of states returned by integrate(..., "
            f"return_states=True) (name -> array); got {_describe(all_states)}."
        )
    if not isinstance(return_states, (bool, np.bool_)):
        raise TypeError(f"return_states must be True or False; got {_describe(return_states)}.")
    if not (
        isinstance(checks, (bool, np.bool_)) or (isinstance(checks, str) and checks in CHECK_MODES)
    ):
        raise ValueError(f"checks must be True, False or 'checkify'; got {_describe(checks)}.")


def available_memory() -> int:
    """Bytes the result of a simulation may take: free memory of the default device
    (accelerators), else the host's available memory (Linux), else 64 GiB."""
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # backends without memory statistics
        stats = None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 64 * 2**30


def check_output_size(n_recordings: int, n_steps: int, limit: int | None = None) -> None:
    """Raise `ValueError` if the recordings (n_recordings, n_steps + 1) cannot fit.

    The time loop stacks one column per step and `integrate` then joins them to the
    initial column, so the recordings are held twice for a moment.
    """
    itemsize = 8 if jax.config.read("jax_enable_x64") else 4
    n_bytes = 2 * n_recordings * (n_steps + 1) * itemsize
    limit = available_memory() if limit is None else limit
    if n_bytes <= limit:
        return
    raise ValueError(
        f"The recordings of this simulation would need {n_bytes:,} bytes ({n_recordings} "
        f"recording(s) x {n_steps + 1:,} time points x {itemsize} bytes, held twice while "
        f"they are assembled), more than the {limit:,} bytes of memory available. Use a "
        "smaller t_max or a larger delta_t, record fewer states, or simulate in pieces "
        "(integrate(..., return_states=True), then continue with all_states=...); for "
        "gradients, checkpoint_lengths=... also bounds the memory of the backward pass."
    )
