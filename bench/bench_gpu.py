"""CA1 on one GPU: dendrax against Jaxley 0.14, forward, vmap and gradient, float32 and float64.

Workload (issue 22): `morph_ca1_n120.swc`, 4 compartments per branch, HH everywhere, a
somatic step current, 10 recordings, 100 ms at dt 0.025, each library's default voltage
solver (on a GPU: dendrax's level-parallel solve, Jaxley's `jaxley.dhs.gpu`). Three jobs:

- forward: one simulation, `jax.jit(integrate)`;
- vmap: `jax.vmap` of the forward simulation over `--batch` (1,000) sets of per-branch
  `HH_gNa` (0.5-1.5 x the default);
- gradient: `jax.grad` of a voltage loss with respect to per-branch `HH_gNa` and `radius`,
  2-level checkpointing (as `bench_gradient.py`).

Compile = first call minus the fastest warm call; run = fastest of the warm calls. Each
library and precision runs in its own fresh process. Every child also saves its forward
trace, 8 members of the batch and the gradient (`--out`), and the parent reports how far
dendrax's are from Jaxley's in each precision, and whether anything is not finite.
`--solvers` adds a dendrax-only table: 10 ms of CA1 and L5PC forward with each voltage
solver, the time per step on this GPU.

Without a GPU the script says so and exits: it is for a GPU machine (`make bench` runs it
anywhere, and it skips).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# The workload and timing of bench_gradient.py (importing it turns on float64: each case
# sets its own precision before it builds anything).
from bench_gradient import DT, SWC_DIR, T_MAX, build, timed

CASES = [f"{lib}:{dtype}" for dtype in ("float64", "float32") for lib in ("dendrax", "jaxley")]
SOLVERS = ("jaxley.dhs", "branched", "tree")


def _import(lib):
    if lib == "dendrax":
        import dendrax
        from dendrax.channels import HH
    else:
        import jaxley as dendrax
        from jaxley.channels import HH
    return dendrax, HH


def _case(lib_name, dtype, batch, out_dir):
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    import jax.numpy as jnp

    jax.jit(lambda x: x + 1.0)(1.0).block_until_ready()  # start the backend untimed
    lib, hh_cls = _import(lib_name)
    cell = build(lib, hh_cls)
    result = {"device": str(jax.devices()[0].device_kind), "jax": jax.__version__}
    saved = {}

    forward = jax.jit(lambda: lib.integrate(cell, t_max=T_MAX, delta_t=DT))
    result["forward compile s"], result["forward run s"], v = timed(forward)
    saved["forward"] = np.asarray(v)
    print(f"  forward {result['forward run s']:.4f} s", flush=True)

    params = cell.get_parameters()
    g_na = params[0]["HH_gNa"]
    scales = jnp.linspace(0.5, 1.5, batch).astype(g_na.dtype)
    g_batch = scales.reshape((batch,) + (1,) * g_na.ndim) * g_na[None]

    def one(g):
        return lib.integrate(cell, params=[{"HH_gNa": g}, params[1]], t_max=T_MAX, delta_t=DT)

    vmapped = jax.jit(jax.vmap(one))
    result["vmap compile s"], result["vmap run s"], vb = timed(vmapped, g_batch, warm_runs=3)
    vb = np.asarray(vb)
    result["vmap finite"] = bool(np.isfinite(vb).all())
    saved["vmap_members"] = np.concatenate([vb[:4], vb[-4:]])
    del vb
    print(f"  vmap {batch}: {result['vmap run s']:.4f} s", flush=True)

    level = math.ceil(math.sqrt(int(T_MAX // DT + 1)))

    def loss(p):
        v = lib.integrate(cell, params=p, t_max=T_MAX, delta_t=DT, checkpoint_lengths=[level] * 2)
        return jnp.mean((v + 60.0) ** 2)

    grad_fn = jax.jit(jax.grad(loss))
    result["grad compile s"], result["grad run s"], g = timed(grad_fn, params, warm_runs=3)
    leaves = [np.asarray(x).ravel() for x in jax.tree.leaves(g)]
    saved["grad"] = np.concatenate(leaves)
    result["grad finite"] = bool(np.isfinite(saved["grad"]).all())
    result["forward finite"] = bool(np.isfinite(saved["forward"]).all())
    print(f"  grad {result['grad run s']:.4f} s", flush=True)
    np.savez_compressed(Path(out_dir) / f"{lib_name}_{dtype}.npz", **saved)
    return result


def _solver_table(t_max=10.0):
    """dendrax forward per voltage solver on CA1 and L5PC, float64: s per time step."""
    import jax

    jax.config.update("jax_enable_x64", True)
    lib, hh_cls = _import("dendrax")
    rows = {}
    for name in ("morph_ca1_n120.swc", "morph_l5pc_with_axon.swc"):
        cell = build(lib, hh_cls, name, t_max)
        reference = None
        for solver in SOLVERS:
            run = jax.jit(lambda s=solver, c=cell: lib.integrate(c, t_max=t_max, voltage_solver=s))
            compile_s, run_s, v = timed(run, warm_runs=3)
            v = np.asarray(v)
            reference = v if reference is None else reference
            rows[f"{name} {solver}"] = {
                "compile s": compile_s,
                "us per step": run_s / (t_max / DT) * 1e6,
                "max |dv| vs default mV": float(np.abs(v - reference).max()),
            }
            print(f"  {name} {solver}: {rows[f'{name} {solver}']}", flush=True)
    return rows


def _child(spec, args):
    if spec == "solvers":
        return _solver_table()
    lib_name, dtype = spec.split(":")
    return _case(lib_name, dtype, args.batch, args.out)


def _run_children(specs, args, deadline):
    results = {}
    for spec in specs:
        left = deadline - time.monotonic()
        if left < 30:
            print(f"[{spec}] skipped: the deadline is near", flush=True)
            continue
        print(f"[{spec}]", flush=True)
        cmd = [sys.executable, __file__, "--only", spec, "--batch", str(args.batch)]
        cmd += ["--out", str(args.out)]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=min(left, args.child_timeout)
            )
        except subprocess.TimeoutExpired as err:
            print(f"[{spec}] timed out; its output:\n{(err.stdout or '')[-2000:]}", flush=True)
            continue
        print(proc.stdout[-3000:], flush=True)
        if proc.returncode != 0:
            print(f"[{spec}] failed:\n{proc.stderr[-4000:]}", flush=True)
            continue
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if not lines:
            print(f"[{spec}] printed no result line", flush=True)
            continue
        results[spec] = json.loads(lines[-1][len("RESULT ") :])
        (Path(args.out) / "gpu_results.json").write_text(json.dumps(results, indent=1))
    return results


def _differences(out_dir):
    """Max |dendrax - Jaxley| of each saved output, per precision."""
    diffs = {}
    for dtype in ("float64", "float32"):
        paths = [Path(out_dir) / f"{lib}_{dtype}.npz" for lib in ("dendrax", "jaxley")]
        if not all(p.exists() for p in paths):
            continue
        ours, theirs = (np.load(p) for p in paths)
        for key in ours.files:
            a, b = ours[key], theirs[key]
            if a.shape != b.shape:
                diffs[f"{dtype} {key}"] = f"shapes differ: {a.shape} vs {b.shape}"
                continue
            scale = np.abs(b).max() if key == "grad" else 1.0
            diffs[f"{dtype} {key}"] = float(np.abs(a - b).max() / scale)
    paths = [Path(out_dir) / f"dendrax_{dtype}.npz" for dtype in ("float32", "float64")]
    if all(p.exists() for p in paths):
        single, double = (np.load(p)["forward"] for p in paths)
        diffs["dendrax forward float32 - float64"] = float(np.abs(single - double).max())
    return diffs


def _print_table(results):
    jobs = ("forward", "vmap", "grad")
    print("\n| precision | job | dendrax run s | Jaxley run s | ratio | compile s (d / J) |")
    print("|---|---|---|---|---|---|")
    for dtype in ("float64", "float32"):
        ours, theirs = results.get(f"dendrax:{dtype}"), results.get(f"jaxley:{dtype}")
        for job in jobs:
            d = ours[f"{job} run s"] if ours else float("nan")
            j = theirs[f"{job} run s"] if theirs else float("nan")
            dc = ours[f"{job} compile s"] if ours else float("nan")
            jc = theirs[f"{job} compile s"] if theirs else float("nan")
            print(f"| {dtype} | {job} | {d:.4f} | {j:.4f} | {d / j:.3f} | {dc:.1f} / {jc:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one case in this process (used internally)")
    parser.add_argument("--batch", type=int, default=1000, help="parameter sets in the vmap")
    parser.add_argument("--out", default="gpu_bench_out", help="folder for traces and results")
    parser.add_argument("--deadline", type=float, default=540.0, help="seconds for all cases")
    parser.add_argument("--child-timeout", type=float, default=200.0, help="seconds per case")
    parser.add_argument("--solvers", action="store_true", help="add the dendrax solver table")
    parser.add_argument("--any-backend", action="store_true", help="run without a GPU too")
    args = parser.parse_args()
    if args.only:
        print("RESULT " + json.dumps(_child(args.only, args)), flush=True)
        return
    import jax

    if jax.default_backend() != "gpu" and not args.any_backend:
        print(f"no GPU (JAX backend: {jax.default_backend()}): bench_gpu.py skipped.")
        return
    if not (SWC_DIR / "morph_ca1_n120.swc").exists():
        print(f"{SWC_DIR} not found: set DENDRAX_SWC_DIR. Skipping.")
        return
    Path(args.out).mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.deadline
    specs = CASES + (["solvers"] if args.solvers else [])
    results = _run_children(specs, args, deadline)
    results["differences dendrax - jaxley"] = _differences(args.out)
    (Path(args.out) / "gpu_results.json").write_text(json.dumps(results, indent=1))
    _print_table(results)
    print(json.dumps(results["differences dendrax - jaxley"], indent=1))


if __name__ == "__main__":
    main()
