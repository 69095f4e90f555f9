"""Opt-in: interleaved vector loops in XLA's CPU code, for the whole process.

A dendrax time step on CPU is a handful of XLA loop fusions over the compartments (the
channel rates and gate updates, the voltage system's diagonal and right-hand side). LLVM,
XLA's CPU code generator, vectorizes each loop (four float64 lanes with AVX2, eight with
AVX-512) and, for loops with long bodies like the HH gate updates, handles one vector per
iteration. Each vector's chain of dependent operations (rates, divisions, the gate
exponential) is long, and with one vector per iteration the processor's out-of-order window
holds only two or three of them at once. LLVM's option `-force-vector-interleave=N` makes
each iteration handle N independent vectors, which keeps more of the processor busy. On a
2-core AMD Zen 3 VM (AVX2) it made CA1's and L5PC's 100 ms forward runs ~11 % faster with
bit-identical traces (see docs/performance.md); the operations on each element are the same,
only their order between elements changes.

LLVM options can be set only for the whole process, through `XLA_FLAGS`
(`--xla_backend_extra_options`): XLA's per-computation compile options cannot carry them.
So this is not a default. `set_cpu_loop_interleave` writes the flag into `XLA_FLAGS` for a
process that has not started JAX's backends yet, and then applies to every CPU computation
of that process, the user's own included.
"""

from __future__ import annotations

import os
import shlex

__all__ = ["set_cpu_loop_interleave", "INTERLEAVE_OPTION"]

#: LLVM's loop vectorizer option: how many vector iterations one loop iteration handles.
INTERLEAVE_OPTION = "-force-vector-interleave"
_FLAG = "xla_backend_extra_options"


def _backends_started() -> bool:
    from jax._src import xla_bridge  # JAX has no public test of this

    return xla_bridge.backends_are_initialized()


def _with_interleave(xla_flags: str, count: int) -> str:
    """`xla_flags` with `INTERLEAVE_OPTION=count` among its backend options.

    Other backend options are kept; an interleave count already set there is replaced.
    """
    flags, merged = shlex.split(xla_flags), False
    entry = f"{INTERLEAVE_OPTION}={count}"
    for i, flag in enumerate(flags):
        name, _, value = flag.lstrip("-").partition("=")
        if name != _FLAG:
            continue
        kept = [o for o in value.split(",") if o and o.partition("=")[0] != INTERLEAVE_OPTION]
        flags[i] = f"--{_FLAG}={','.join([*kept, entry])}"
        merged = True
    if not merged:
        flags.append(f"--{_FLAG}={entry}")
    return shlex.join(flags)


def set_cpu_loop_interleave(count: int = 4) -> None:
    """Ask LLVM to interleave `count` vectors per iteration of XLA's CPU loops.

    Call it before the process's first JAX computation (before anything creates an array or
    compiles). It adds `--xla_backend_extra_options=-force-vector-interleave=COUNT` to the
    environment variable `XLA_FLAGS`, which XLA reads when JAX starts its backends; another
    entry of that option already in `XLA_FLAGS` is kept. The same is achieved by starting
    Python with that `XLA_FLAGS`.

    Process-wide, for every CPU computation, not only dendrax's. Float results are not
    changed by it (each element's operations are the same); compile times grow a little,
    since the loops' bodies are longer.

    Args:
        count: vectors per loop iteration, 1 to 16 (1 is LLVM's choice for long loops, 4
            was the fastest measured for HH cells).

    Raises:
        ValueError: `count` is not an integer from 1 to 16.
        RuntimeError: JAX's backends have already started, so XLA has read `XLA_FLAGS`.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 16:
        raise ValueError(f"count must be an integer from 1 to 16, got {count!r}.")
    if _backends_started():
        raise RuntimeError(
            "set_cpu_loop_interleave must be called before JAX's first computation: JAX's "
            "backends have started and XLA has already read XLA_FLAGS. Call it right after "
            "`import dendrax`, or start Python with XLA_FLAGS="
            f"'--{_FLAG}={INTERLEAVE_OPTION}={count}'."
        )
    os.environ["XLA_FLAGS"] = _with_interleave(os.environ.get("XLA_FLAGS", ""), count)
