"""XLA compile options for dendrax's own compiled simulations, and the CPU threading setting.

On the CPU backend, XLA's `cpu-parallel-task-assigner` pass splits a loop fusion over the
intra-op thread pool when its cost model estimates enough work (the pool has one thread per
core the process may use). A dendrax time step is a few microseconds of work in a
`lax.scan`, and the largest fusion of an HH step (a gate update over all compartments)
passes that estimate from a few hundred compartments on: every step then hands half of it
to another thread and waits for it, which costs more than it saves, so an unpinned process
runs slower than one pinned to a single core (`taskset -c 1`). Pinning, `NPROC=1` or an
`XLA_FLAGS` entry would fix it for the whole process, for a user's other JAX code too.

Instead, dendrax compiles its own simulation (`Simulator.run` and `integrate` called outside a
transformation) with the pass disabled, per computation (`jax.jit(...,
compiler_options=...)`); results are unchanged, since the pass only decides how the
elements of a loop are shared out between threads. A simulation traced inside a caller's
`jax.jit` is compiled with the caller's options: pass `compiler_options()` there
(`jax.jit(f, compiler_options=dendrax.compiler_options())`) to get the same. Where threads
pay off (very large or batched models), `set_cpu_threading("xla")` restores XLA's default.
Other backends get no options.

On a CPU with AVX-512, the options also ask XLA for 512-bit vectors
(`xla_cpu_prefer_vector_width`; XLA's default is 256 bits, half such a register): the
elementwise channel arithmetic of a time step then takes fewer instructions, with
bit-identical results (the width changes how many elements one instruction handles, not
the operations). This is independent of the threading setting, and a width that
`XLA_FLAGS` sets is kept.
"""

from __future__ import annotations

import functools
import os
import shlex

import jax
from jax.extend.core import get_opaque_trace_state

__all__ = ["compiler_options", "cpu_threading", "set_cpu_threading", "TopLevelJit"]

#: Name of XLA:CPU's pass that splits loop fusions over the intra-op thread pool.
CPU_PARALLEL_TASK_PASS = "cpu-parallel-task-assigner"
_DISABLE_PASSES = "xla_disable_hlo_passes"
#: XLA:CPU's preferred SIMD width (bits) and the width dendrax asks for with AVX-512.
VECTOR_WIDTH_OPTION = "xla_cpu_prefer_vector_width"
AVX512_VECTOR_WIDTH = 512
_MODES = ("single", "xla")
_setting = {"cpu": "single"}


def set_cpu_threading(mode: str) -> None:
    """How dendrax's compiled simulations use threads on the CPU backend.

    Args:
        mode: "single" (default): XLA does not split a simulation's loops over threads
            (`compiler_options` disables the `cpu-parallel-task-assigner` pass); "xla":
            XLA's default, which splits loops its cost model finds large enough.

    Takes effect for simulations compiled afterwards (a changed setting compiles again).
    Nothing global changes: XLA_FLAGS and the user's other computations are not touched.
    """
    if mode not in _MODES:
        raise ValueError(f"cpu threading mode must be one of {_MODES}, got {mode!r}.")
    _setting["cpu"] = mode


def cpu_threading() -> str:
    """The current CPU threading mode ("single" or "xla"; see `set_cpu_threading`)."""
    return _setting["cpu"]


def _passes_disabled_by_env() -> list[str]:
    """The passes `XLA_FLAGS` disables: a compile option replaces that list, so it is kept."""
    found = []
    for flag in shlex.split(os.environ.get("XLA_FLAGS", "")):
        name, _, value = flag.lstrip("-").partition("=")
        if name == _DISABLE_PASSES:
            found = [p for p in value.split(",") if p]  # XLA keeps the last occurrence
    return found


def _xla_flags_set(option: str) -> bool:
    """Whether `XLA_FLAGS` sets `option` (then dendrax leaves it to that setting)."""
    return any(
        flag.lstrip("-").partition("=")[0] == option
        for flag in shlex.split(os.environ.get("XLA_FLAGS", ""))
    )


@functools.lru_cache(maxsize=1)
def host_has_avx512() -> bool:
    """Whether this machine's CPU has AVX-512 (`avx512f` in Linux's /proc/cpuinfo).

    False where that file cannot be read (other systems): XLA's default width then applies.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def compiler_options(backend: str | None = None) -> dict:
    """XLA compile options for a dendrax simulation on `backend` (default: JAX's default).

    Returns `{}` except on "cpu": in the "single" mode (`set_cpu_threading`)
    `"xla_disable_hlo_passes": "cpu-parallel-task-assigner"` plus any passes `XLA_FLAGS`
    already disables (a compile option replaces XLA_FLAGS' list), and, on a CPU with
    AVX-512 (`host_has_avx512`) in either mode, `"xla_cpu_prefer_vector_width": 512`
    unless `XLA_FLAGS` sets that width. Pass it to your own
    `jax.jit(f, compiler_options=...)` around `integrate` or `Simulator.run`: a nested jit
    cannot carry compile options, so the outermost jit decides.
    """
    backend = jax.default_backend() if backend is None else backend
    if backend != "cpu":
        return {}
    options = {}
    if _setting["cpu"] == "single":
        passes = _passes_disabled_by_env()
        if CPU_PARALLEL_TASK_PASS not in passes:
            passes.append(CPU_PARALLEL_TASK_PASS)
        options[_DISABLE_PASSES] = ",".join(passes)
    if host_has_avx512() and not _xla_flags_set(VECTOR_WIDTH_OPTION):
        options[VECTOR_WIDTH_OPTION] = AVX512_VECTOR_WIDTH
    return options


#: JAX's trace at import time: the evaluation trace, the one active outside every
#: transformation (JAX keeps one). Imported inside a transformation, this holds that trace
#: instead, and every later call counts as transformed: plain jits, XLA's defaults.
_TOP_LEVEL_TRACE = get_opaque_trace_state()


def _under_transformation() -> bool:
    """True while a transformation is active (a caller's `jit`, `scan`, `grad`, `vmap`...).

    About a microsecond, where building a probe array and checking for a tracer would cost
    a dispatch.
    """
    return get_opaque_trace_state() != _TOP_LEVEL_TRACE


class TopLevelJit:
    """`jax.jit(fn)` that adds `compiler_options()` when it is called at top level.

    Called inside a transformation, it is a plain `jax.jit(fn)`: JAX refuses compile options
    on a nested jit, and the caller's own compilation decides. One `jax.jit` per distinct
    options dict is kept.
    """

    def __init__(self, fn):
        self._fn = fn
        self._plain = jax.jit(fn)
        self._with_options = {}

    def current(self) -> object:
        """The `jax.jit` object a call made here and now uses."""
        if _under_transformation():
            return self._plain
        options = compiler_options()
        if not options:
            return self._plain
        key = tuple(sorted(options.items()))
        if key not in self._with_options:
            self._with_options[key] = jax.jit(self._fn, compiler_options=options)
        return self._with_options[key]

    def __call__(self, *args):
        return self.current()(*args)
