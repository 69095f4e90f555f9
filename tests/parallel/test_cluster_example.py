"""examples/cluster_sweep.py runs on CPU as it is (here with 2 forced devices)."""

import subprocess
import sys

import numpy as np

from .multiprocess_harness import SRC, subprocess_env

ROOT = SRC.parent


def test_cluster_example_runs_on_cpu(tmp_path):
    env = subprocess_env(tmp_path, 2, 0, 1, "")
    saved = tmp_path / "sweep.npz"
    cmd = [sys.executable, "examples/cluster_sweep.py", "--n-sets", "5", "--t-max", "4"]
    done = subprocess.run(
        [*cmd, "--save", str(saved)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "5 simulations on 2 cpu device(s) in 1 process(es)" in done.stdout
    with np.load(saved) as data:
        assert data["v"].shape == (5, 161) and data["HH_gNa"].shape == (5, 1)
