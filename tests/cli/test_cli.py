"""The installed ``dendrax`` console script, run in a subprocess as a user would.

SWC figures are checked against the closed-form geometry of a hand-made cell (cylinders:
area 2 pi r L), NMODL contents against NEURON's own ``hh.mod`` (Hodgkin-Huxley 1952 values).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DENDRAX = Path(sys.executable).with_name("dendrax")
HAND_MADE_SWC = """# 2-point soma (r 5, 10 um), basal dendrite (r 1, 100 um), apical (r 0.5, 200 um)
1 1 0 0 0 5 -1
2 1 10 0 0 5 1
3 3 10 0 0 1 2
4 3 60 0 0 1 3
5 3 110 0 0 1 4
6 4 10 0 0 0.5 2
7 4 10 200 0 0.5 6
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    if not DENDRAX.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    return subprocess.run(
        [str(DENDRAX), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_help_lists_subcommands_and_exit_codes():
    out = _run("--help")
    assert out.returncode == 0
    for word in ("info", "swc", "nmodl", "Exit codes"):
        assert word in out.stdout
    for sub in ("info", "swc", "nmodl"):
        assert _run(sub, "--help").returncode == 0


def test_no_subcommand_is_a_usage_error():
    out = _run()
    assert out.returncode == 2
    assert "COMMAND" in out.stderr


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run(
        [sys.executable, "-m", "dendrax", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "nmodl" in out.stdout


def test_info_reports_versions_backend_and_extras():
    import jax

    out = _run("info")
    assert out.returncode == 0, out.stderr
    assert f"jax {jax.__version__}" in out.stdout
    assert "backend: cpu" in out.stdout
    assert "float64 (jax_enable_x64): off" in out.stdout
    assert "matplotlib" in out.stdout and "neuron" in out.stdout


def _figures(stdout: str) -> dict[str, tuple[int, float, float]]:
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in ("soma", "basal", "apical"):
            rows[parts[0]] = (int(parts[1]), float(parts[2]), float(parts[3]))
    return rows


def test_swc_summary_matches_closed_form_geometry(tmp_path):
    swc = tmp_path / "cell.swc"
    swc.write_text(HAND_MADE_SWC)
    out = _run("swc", str(swc), "--ncomp", "2", "--plot", str(tmp_path / "m.png"))
    assert out.returncode == 0, out.stderr
    assert "branches: 3" in out.stdout
    assert "compartments (ncomp=2): 6" in out.stdout
    rows = _figures(out.stdout)
    expected = {"soma": (5.0, 10.0), "basal": (1.0, 100.0), "apical": (0.5, 200.0)}
    for group, (radius, length) in expected.items():
        ncomp, got_length, got_area = rows[group]
        assert ncomp == 2
        np.testing.assert_allclose(got_length, length, atol=0.05)
        np.testing.assert_allclose(got_area, 2 * np.pi * radius * length, atol=0.05)
    assert (tmp_path / "m.png").stat().st_size > 1000


def test_swc_invalid_file_names_line_and_exits_1(tmp_path):
    swc = tmp_path / "bad.swc"
    swc.write_text("1 1 0 0 0 5 -1\n2 3 ten 0 0 1 1\n")
    out = _run("swc", str(swc))
    assert out.returncode == 1
    assert "line 2" in out.stderr and "'ten'" in out.stderr
    missing = _run("swc", str(tmp_path / "absent.swc"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_swc_bad_ncomp_is_a_usage_error(tmp_path):
    swc = tmp_path / "cell.swc"
    swc.write_text(HAND_MADE_SWC)
    assert _run("swc", str(swc), "--ncomp", "0").returncode == 2
    assert _run("swc", str(swc), "--ncomp", "two").returncode == 2


def _neuron_hh_mod() -> Path:
    neuron = pytest.importorskip("neuron")
    path = Path(neuron.__file__).parent / ".data" / "share" / "modfile" / "hh.mod"
    if not path.exists():
        pytest.skip("NEURON's hh.mod not found in the neuron wheel")
    return path


def test_nmodl_lists_neuron_hh_contents():
    out = _run("nmodl", str(_neuron_hh_mod()))
    assert out.returncode == 0, out.stderr
    assert "SUFFIX hh" in out.stdout
    # Hodgkin & Huxley (1952) values as in NEURON's hh.mod (S/cm2, mV).
    for line in ("gnabar = 0.12", "gkbar = 0.036", "gl = 0.0003", "el = -54.3"):
        assert line in out.stdout
    assert "states (3): m, h, n" in out.stdout
    assert "ena" in out.stdout and "ina" in out.stdout and "ik" in out.stdout


def test_nmodl_error_names_block_and_line(tmp_path):
    _neuron_hh_mod()  # NMODL import needs NEURON's parser
    mod = tmp_path / "broken.mod"
    mod.write_text(
        "NEURON { SUFFIX broken NONSPECIFIC_CURRENT i }\n"
        "PARAMETER { g = 0.001 }\n"
        "BREAKPOINT {\n  SOLVE states METHOD cnexp\n  i = g * v\n}\n"
    )
    out = _run("nmodl", str(mod))
    assert out.returncode == 1
    assert "broken.mod" in out.stderr and "does not import" in out.stderr
    assert "line" in out.stderr.lower()
