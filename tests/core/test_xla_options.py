"""dendrax's per-computation XLA options (`dendrax.simulator.xla_options`).

On CPU, dendrax compiles its own simulations with XLA's `cpu-parallel-task-assigner` pass
disabled, so a time step's loops are not split over threads. Checked here: the options
reach the compilation of `Simulator.run` / `integrate` called at top level and nothing
else (a caller's jit, the user's other computations, XLA_FLAGS); the setting switches them
off; and, in a process allowed on every core, the option removes the split loop of a
620-compartment HH cell while its trace stays bit-identical to XLA's default compilation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.simulator import xla_options

PROBE = {"xla_dendrax_probe_option_that_does_not_exist": True}


def _cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1, 0, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 2.0, 0.2, 0.025, 5.0), verbose=False)
    cell.branch(2).comp(1).record("v", verbose=False)
    return cell


@pytest.fixture
def probe_options(monkeypatch):
    """dendrax's options replaced by one XLA rejects: a compilation that gets them fails."""
    monkeypatch.setattr(xla_options, "compiler_options", lambda backend=None: dict(PROBE))


@pytest.fixture(autouse=True)
def _restore_setting():
    yield
    jx.set_cpu_threading("single")


def _avx512(monkeypatch, present: bool):
    monkeypatch.setattr(xla_options, "host_has_avx512", lambda: present)


def test_cpu_options_name_the_pass_and_other_backends_get_none(monkeypatch):
    _avx512(monkeypatch, False)
    assert jx.cpu_threading() == "single"
    assert jx.compiler_options("cpu") == {"xla_disable_hlo_passes": "cpu-parallel-task-assigner"}
    assert jx.compiler_options("gpu") == {}
    jx.set_cpu_threading("xla")
    assert jx.compiler_options("cpu") == {}
    with pytest.raises(ValueError, match="one of"):
        jx.set_cpu_threading("off")


def test_avx512_hosts_get_wide_vectors_in_both_modes(monkeypatch):
    _avx512(monkeypatch, True)
    assert jx.compiler_options("cpu") == {
        "xla_disable_hlo_passes": "cpu-parallel-task-assigner",
        "xla_cpu_prefer_vector_width": 512,
    }
    assert jx.compiler_options("gpu") == {}
    jx.set_cpu_threading("xla")  # threads are XLA's again; the width is not about threads
    assert jx.compiler_options("cpu") == {"xla_cpu_prefer_vector_width": 512}
    # a width the user sets in XLA_FLAGS wins: dendrax does not override it
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_prefer_vector_width=128")
    assert jx.compiler_options("cpu") == {}


def test_host_has_avx512_reads_the_cpu_flags():
    flags = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    assert xla_options.host_has_avx512() == ("avx512f" in flags.split())


def test_wide_vectors_keep_traces_bit_identical():
    """XLA's default width against 512 bits: the same operations, the same trace (a
    252-compartment cell that spikes, so that the vector loops run over many elements)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1] + [i // 2 for i in range(62)])
    cell.insert(HH())
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 1.0, 0.025, 5.0), verbose=False)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(62).comp(3).record("v", verbose=False)
    sim = jx.compile(cell)
    options = {"xla_disable_hlo_passes": "cpu-parallel-task-assigner"}
    narrow = jax.jit(lambda: sim.run(t_max=5.0), compiler_options=options)
    wide = jax.jit(
        lambda: sim.run(t_max=5.0),
        compiler_options={**options, "xla_cpu_prefer_vector_width": 512},
    )
    traces = np.asarray(wide())
    assert traces.max() > 0.0  # it spiked
    np.testing.assert_array_equal(traces, np.asarray(narrow()))


def test_passes_disabled_in_xla_flags_are_kept(monkeypatch):
    _avx512(monkeypatch, False)
    # a compile option replaces XLA_FLAGS' list of disabled passes, so it must repeat them
    monkeypatch.setenv(
        "XLA_FLAGS", "--xla_cpu_enable_fast_min_max=false --xla_disable_hlo_passes=a,b"
    )
    assert jx.compiler_options("cpu") == {
        "xla_disable_hlo_passes": "a,b,cpu-parallel-task-assigner"
    }


def test_xla_compiles_with_the_options():
    """The real options are accepted by this jaxlib (an unknown option raises)."""
    options = jx.compiler_options("cpu")
    f = jax.jit(lambda x: jnp.sin(x) * 2.0, compiler_options=options)
    np.testing.assert_array_equal(f(jnp.arange(4.0)), jnp.sin(jnp.arange(4.0)) * 2.0)


def test_transformations_are_recognised():
    """Inside jit, vmap, grad and scan dendrax's runner must be a plain jit (JAX refuses
    compile options on a nested jit); only at top level does it add the options."""
    seen = []

    def probe(x):
        seen.append(xla_options._under_transformation())
        return x

    assert not xla_options._under_transformation()
    jax.jit(probe)(1.0)
    jax.vmap(probe)(jnp.ones(2))
    jax.grad(probe)(1.0)
    jax.lax.scan(lambda c, x: (probe(c), x), 0.0, jnp.ones(2))
    assert seen == [True, True, True, True]


def test_top_level_run_and_integrate_compile_with_dendrax_options(probe_options):
    cell = _cell()
    sim = jx.compile(cell)
    with pytest.raises(Exception, match="xla_dendrax_probe_option"):
        sim.run(t_max=5.0)
    with pytest.raises(Exception, match="xla_dendrax_probe_option"):
        jx.integrate(cell, t_max=5.0)


def test_caller_jit_and_other_computations_keep_xla_defaults(probe_options):
    cell = _cell()
    flags = os.environ.get("XLA_FLAGS")
    # inside the caller's jit the caller's compilation decides: no dendrax options
    traced = jax.jit(lambda: jx.integrate(cell, t_max=5.0))()
    assert np.isfinite(np.asarray(traced)).all()
    # under grad the runner is traced in place, also without options
    grad = jax.grad(lambda p: jx.integrate(cell, params=p, t_max=5.0).sum())
    cell.make_trainable("radius")
    assert np.isfinite(jax.tree.leaves(grad(cell.get_parameters()))[0]).all()
    # the user's own computations are compiled without them, and XLA_FLAGS is untouched
    np.testing.assert_array_equal(jax.jit(lambda x: x * 3.0)(jnp.ones(3)), 3.0 * np.ones(3))
    assert os.environ.get("XLA_FLAGS") == flags


def test_setting_xla_gives_a_plain_jit(probe_options, monkeypatch):
    monkeypatch.setattr(xla_options, "compiler_options", lambda backend=None: {})
    out = jx.integrate(_cell(), t_max=5.0)
    assert np.isfinite(np.asarray(out)).all()


def test_option_keeps_traces_and_removes_the_split_loop():
    """620 compartments, all cores allowed: XLA splits one loop; the option removes it."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: XLA never splits loops over threads here")
    script = Path(__file__).with_name("threading_subprocess.py")
    env = dict(os.environ)
    src = str(Path(jx.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env.pop("XLA_FLAGS", None)
    env.pop("NPROC", None)
    proc = subprocess.run(
        [sys.executable, str(script), "155", "5.0"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["cores"] >= 2
    assert result["finite"] and result["spiked"]
    assert result["split_default"] >= 1, "XLA no longer splits this cell's loops: revisit"
    assert result["split_options"] == 0
    assert result["identical"]  # same program, with and without the option
    assert result["runner_identical"]  # dendrax's runner with and without it
    # dendrax's runner (table values as arguments) against the caller's plain jit (the
    # same values folded in as constants): round-off only, amplified through two spikes,
    # so bounded by the numerics contract (1e-8 mV) with room to spare, not by one ulp.
    assert result["max_diff"] < 1e-10
