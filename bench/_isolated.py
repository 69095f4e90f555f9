"""Run each simulator's share of a benchmark in its own fresh Python process.

Measured one after the other in one process, the second library inherits JAX's warm state
from the first: the backend is started, lowering rules and small XLA runtime programs are
cached, so its first compilation looks cheaper. In separate processes every library pays its
own start-up alike. Each child also gets the same warm-up (one trivial jitted call, which
starts the backend) before anything is timed, so compile times count the library's own work.

This machine's timings move by tens of percent between runs, so the children are run
`repeats` times, the simulators alternating, and every figure is the median over the runs.

A benchmark script, started with `--only NAME`, measures one simulator and `emit`s its
result; started without, it calls `results_from_children(script, names)`.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

_PREFIX = "BENCH_RESULT "


def warm_up_jax() -> None:
    """Start the JAX backend with one trivial jitted call (the same for every library)."""
    import jax

    jax.jit(lambda x: x + 1.0)(1.0).block_until_ready()


def emit(result: dict) -> None:
    """Print a child's result as one JSON line for the parent to read."""
    print(_PREFIX + json.dumps(result), flush=True)


def run_child(script: Path, name: str, extra_args=()) -> dict | None:
    """Run `script --only name` in a fresh interpreter; its result, or None if it had none.

    The child's own output (messages such as "jaxley not installed") is passed through.
    """
    proc = subprocess.run(
        [sys.executable, str(script), "--only", name, *extra_args],
        capture_output=True,
        text=True,
        check=False,
    )
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(_PREFIX):
            result = json.loads(line[len(_PREFIX) :])
        elif line.strip():
            print(f"[{name}] {line}")
    if proc.returncode != 0:
        print(f"[{name}] failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return None
    return result


def median_of(results: list):
    """Element-wise median of equally structured results (dicts, lists, numbers)."""
    first = results[0]
    if isinstance(first, dict):
        return {key: median_of([r[key] for r in results]) for key in first}
    if isinstance(first, list | tuple):
        return [median_of([r[i] for r in results]) for i in range(len(first))]
    return statistics.median(results)


def results_from_children(script: Path, names, extra_args=(), repeats: int = 3) -> dict:
    """`{name: median result}` for every simulator in `names` whose children produced one.

    Each round runs one fresh child per simulator, in the order given; `repeats` rounds.
    """
    runs = {name: [] for name in names}
    for round_index in range(repeats):
        print(f"round {round_index + 1}/{repeats}", flush=True)
        for name in names:
            if round_index and not runs[name]:
                continue  # not installed (or failed) in the first round: do not retry
            result = run_child(script, name, extra_args)
            if result is not None:
                runs[name].append(result)
    return {name: median_of(found) for name, found in runs.items() if found}
