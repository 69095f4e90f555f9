"""Run test scripts in fresh Python processes: with forced CPU devices, or as several
cooperating JAX processes on 127.0.0.1 (gloo collectives), with a bounded timeout.

JAX reads `XLA_FLAGS` (the forced host device count) when its CPU backend starts, so a test
that needs 8 devices cannot run in the pytest process, which has already started JAX with
one. Each script gets, as environment variables and as names defined before its code:

- `OUT`: a directory the script writes its results to (`save(name, **arrays)` writes
  `OUT/<name>.npz`; the test reads them back with `load`);
- `PROCESS_ID`, `NUM_PROCESSES`, `COORDINATOR` ("127.0.0.1:<free port>"), for
  `dendrax.parallel.initialize(COORDINATOR, NUM_PROCESSES, PROCESS_ID)` in multi-process
  runs (`PROCESS_ID` 0 and `NUM_PROCESSES` 1 otherwise);
- float64 enabled, and this folder on `sys.path` (so `import _models` works).

On a non-zero exit or a timeout every process is killed and the test fails with each
process's output.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import dendrax

HERE = Path(__file__).resolve().parent
SRC = Path(dendrax.__file__).resolve().parents[1]

PRELUDE = """\
import os, sys
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
OUT = os.environ["DENDRAX_TEST_OUT"]
PROCESS_ID = int(os.environ["DENDRAX_TEST_PROCESS_ID"])
NUM_PROCESSES = int(os.environ["DENDRAX_TEST_NUM_PROCESSES"])
COORDINATOR = os.environ["DENDRAX_TEST_COORDINATOR"]


def save(name, **arrays):
    np.savez(os.path.join(OUT, name + ".npz"), **arrays)

"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(
    out: Path, n_devices: int, process_id: int, n_processes: int, coordinator: str
) -> dict:
    """The environment of a test process (see the module docstring)."""
    env = dict(os.environ)
    env.update(
        XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}",
        JAX_PLATFORMS="cpu",
        PYTHONPATH=os.pathsep.join([str(SRC), str(HERE), env.get("PYTHONPATH", "")]),
        DENDRAX_TEST_OUT=str(out),
        DENDRAX_TEST_PROCESS_ID=str(process_id),
        DENDRAX_TEST_NUM_PROCESSES=str(n_processes),
        DENDRAX_TEST_COORDINATOR=coordinator,
    )
    return env


def run_processes(
    code: str,
    out: Path,
    *,
    n_processes: int = 2,
    devices_per_process: int = 2,
    timeout: float = 90.0,
) -> list[str]:
    """Run `code` in `n_processes` processes at once; their stdouts, in process order.

    Args:
        code: the script (dedented; `PRELUDE` is put before it).
        out: directory for the results (created).
        n_processes: processes started (1 for a single-process run with forced devices).
        devices_per_process: forced CPU devices of each process.
        timeout: seconds for all processes together; on expiry all are killed.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    script = out / "script.py"
    script.write_text(PRELUDE + textwrap.dedent(code))
    coordinator = f"127.0.0.1:{free_port()}"
    procs = []
    for pid in range(n_processes):
        env = subprocess_env(out, devices_per_process, pid, n_processes, coordinator)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    deadline = time.monotonic() + timeout
    outputs: list[str | None] = [None] * n_processes
    timed_out = False
    try:
        for i, proc in enumerate(procs):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                outputs[i] = proc.communicate(timeout=remaining)[0]
            except subprocess.TimeoutExpired:
                timed_out = True
                break
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for i, proc in enumerate(procs):
            if outputs[i] is None:
                outputs[i] = proc.communicate()[0]
    report = "\n".join(
        f"--- process {i} (exit {proc.returncode}) ---\n{text[-4000:]}"
        for i, (proc, text) in enumerate(zip(procs, outputs, strict=True))
    )
    if timed_out:
        pytest.fail(
            f"{n_processes} process(es) did not finish within {timeout:.0f} s and were killed "
            f"(a process waiting for another that failed, or a hung collective):\n{report}",
            pytrace=False,
        )
    if any(proc.returncode != 0 for proc in procs):
        pytest.fail(f"A test process failed:\n{report}", pytrace=False)
    return outputs


def run_script(code: str, out: Path, *, n_devices: int = 8, timeout: float = 90.0) -> str:
    """Run `code` in one fresh process with `n_devices` forced CPU devices; its stdout."""
    return run_processes(code, out, n_processes=1, devices_per_process=n_devices, timeout=timeout)[
        0
    ]


def load(out: Path, name: str) -> dict:
    """The arrays a script saved with `save(name, ...)`."""
    with np.load(Path(out) / f"{name}.npz") as data:
        return dict(data)
