"""examples/fit_nwb_sweep.py recovers the conductances that generated its NWB sweep."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pynwb")
pytest.importorskip("optax")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fit_nwb_sweep.py"


def test_fit_recovers_true_conductances_within_5_percent():
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--out", ""], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    rows = re.findall(r"(HH_g\w+): start \S+, fitted (\S+), true (\S+) S/cm", out.stdout)
    assert len(rows) == 3
    for name, fitted, true in rows:
        assert abs(float(fitted) - float(true)) < 0.05 * float(true), name
