"""float32 must work (no NaN) on the standard models; run in a subprocess without x64."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np
    jax.config.update("jax_enable_x64", False)
    import dendrax as jx
    from dendrax.channels import HH
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0, 1, 1])
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 20.0, 0.05, 0.025, 30.0), verbose=False)
    cell.branch(0).comp(0).record(verbose=False)
    cell.branch(4).comp(3).record(verbose=False)
    v = np.asarray(jx.integrate(cell, t_max=30.0))
    assert v.dtype == np.float32, v.dtype
    assert np.all(np.isfinite(v)), "NaN in float32"
    assert v.max() > 20.0, "expected spikes"
    print("ok", v.max())
    """
)


def test_float32_simulation_is_finite():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).parents[2] / ".." / "shared" / "data" / "swc")
)

L5PC_SCRIPT = textwrap.dedent(
    """
    import sys, jax, numpy as np
    jax.config.update("jax_enable_x64", False)
    import dendrax as jx
    from dendrax.channels import HH
    cell = jx.read_swc(sys.argv[1], ncomp=1)
    cell.insert(HH())
    current = jx.step_current(5.0, 90.0, 0.5, 0.025, 100.0)
    cell.branch(0).loc(0.0).stimulate(current, verbose=False)
    for b in range(0, 300, 30):
        cell.branch(b).loc(0.5).record(verbose=False)
    v = np.asarray(jx.integrate(cell, t_max=100.0))
    assert v.dtype == np.float32 and np.all(np.isfinite(v)), "NaN in float32"
    print("ok", v.max())
    """
)


def test_float32_l5pc_is_finite():
    """The L5PC + HH + 0.5 nA case on which Jaxley 0.14 returns NaN in float32."""
    path = SWC_DIR / "morph_l5pc_with_axon.swc"
    if not path.exists():
        pytest.skip(f"{path} is absent (set DENDRAX_SWC_DIR)")
    result = subprocess.run(
        [sys.executable, "-c", L5PC_SCRIPT, str(path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")
