"""Run a contract script in a fresh float32 Python process and read back its JSON results.

Float32 needs a process where `jax_enable_x64` was never switched on (the test session runs
in float64), so each contract file sends one script here and caches what it prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_float32_script"]

_MARKER = "RESULTS"


def run_float32_script(script: str, timeout_s: float = 600) -> dict:
    """Run `script` (its argv[1] is the tests folder) and return the JSON it printed.

    The script must print one line `RESULTS<json>`; a non-zero exit fails with its stderr.
    """
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    tests_dir = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", script, tests_dir],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(f"float32 contract script failed:\n{result.stderr[-3000:]}")
    line = next((x for x in result.stdout.splitlines() if x.startswith(_MARKER)), None)
    if line is None:
        raise RuntimeError(f"float32 contract script printed no {_MARKER} line:\n{result.stdout}")
    return json.loads(line[len(_MARKER) :])
