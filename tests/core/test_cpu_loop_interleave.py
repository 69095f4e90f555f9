"""`dendrax.set_cpu_loop_interleave`: LLVM's loop interleaving for XLA's CPU code, opt-in.

Checked: the flag it writes into `XLA_FLAGS` (other flags and backend options kept), its
errors for a bad count and for a process whose JAX backends have started, and, in fresh
processes, that the option reaches XLA's code generator (the optimized LLVM IR of an HH
cell's run holds several times the vector divisions) while the cell's spiking trace stays
bit-identical to the one compiled without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.simulator.cpu_loop_interleave import _with_interleave

SCRIPT = Path(__file__).with_name("interleave_subprocess.py")
OPTION = "--xla_backend_extra_options=-force-vector-interleave=4"


@pytest.mark.parametrize(
    "before, after",
    [
        ("", OPTION),
        ("--xla_dump_to=/tmp/x", f"--xla_dump_to=/tmp/x {OPTION}"),
        (
            "--xla_backend_extra_options=-unroll-threshold=50",
            "--xla_backend_extra_options=-unroll-threshold=50,-force-vector-interleave=4",
        ),
        ("--xla_backend_extra_options=-force-vector-interleave=2", OPTION),
    ],
)
def test_flag_is_added_and_merged_with_existing_backend_options(before, after):
    assert _with_interleave(before, 4) == after


@pytest.mark.parametrize("count", [0, 17, 2.0, True, "4"])
def test_a_count_outside_1_to_16_is_refused(count):
    with pytest.raises(ValueError, match="integer from 1 to 16"):
        jx.set_cpu_loop_interleave(count)


def test_too_late_in_a_process_whose_backends_started(monkeypatch):
    jnp.zeros(1).block_until_ready()  # this process's backends exist now
    monkeypatch.setenv("XLA_FLAGS", "")
    with pytest.raises(RuntimeError, match="before JAX's first computation"):
        jx.set_cpu_loop_interleave(4)
    assert os.environ["XLA_FLAGS"] == ""  # untouched when refused


def _run(tmp_path, *count):
    tag = "-".join(map(str, count)) or "default"
    out = tmp_path / f"{tag}.npy"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / f"dump-{tag}"), str(out), *map(str, count)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), np.load(out)


def test_interleaving_reaches_llvm_and_keeps_the_trace_bit_identical(tmp_path):
    plain, plain_trace = _run(tmp_path)
    interleaved, interleaved_trace = _run(tmp_path, 4)
    assert OPTION in interleaved["xla_flags"] and OPTION not in plain["xla_flags"]
    assert plain["vector_divisions"] > 0
    # four vectors per iteration of each vectorized loop: ~4x the divisions in the IR
    assert interleaved["vector_divisions"] >= 3 * plain["vector_divisions"]
    assert plain_trace.max() > 20.0  # the cell spikes, so a reordering would show
    np.testing.assert_array_equal(interleaved_trace, plain_trace)
