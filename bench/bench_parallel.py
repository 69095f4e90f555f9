"""`dendrax.parallel.sweep`: the same 64-set sweep on 1 and 8 forced host devices.

Workload: the CA1 n120 morphology (ncomp 4, HH everywhere, a step current, one recording),
64 (gNa, gK) sets, 20 ms of 0.025 ms steps, float64; without the shared SWC folder a
5-branch HH cell instead. Each device count runs in its own fresh process
(`XLA_FLAGS=--xla_force_host_platform_device_count=N` must be set before JAX starts), with
all rows of a device at once (`vmap`) and 8 at a time (`lax.map(batch_size=8)`). Printed:
the first call (compilation and one run) and the best of `--repeat` warm calls, in s.

On the project's 2-core machine 8 forced devices share 2 cores: the figures are for
reference, not a speed-up claim.

Usage: python bench/bench_parallel.py [--repeat 3] [--n-sets 64] [--t-max 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

_PREFIX = "BENCH_RESULT "
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[1] / "../shared/data/swc")
).resolve()
DEVICE_COUNTS = (1, 8)
BATCH_SIZES = (None, 8)


def _simulator(t_max: float):
    import dendrax as jx
    from dendrax.channels import HH

    path = SWC_DIR / "morph_ca1_n120.swc"
    if path.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cell = jx.read_swc(str(path), 4)
        name = "CA1 n120"
    else:
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1, 1])
        name = "5-branch cell"
    cell.insert(HH())
    cell.branch(0).loc(0.5).stimulate(jx.step_current(2.0, 15.0, 1.0, 0.025, t_max), verbose=False)
    cell.branch(0).loc(0.5).record("v", verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    cell.make_trainable("HH_gK", verbose=False)
    return jx.compile(cell, delta_t=0.025), name, cell.shape[1]


def child(n_sets: int, t_max: float, repeat: int) -> None:
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from dendrax import parallel

    jax.jit(lambda x: x + 1.0)(1.0).block_until_ready()  # start the backend untimed
    sim, name, n_comp = _simulator(t_max)
    grid = [
        {"HH_gNa": np.linspace(0.08, 0.16, n_sets)[:, None]},
        {"HH_gK": np.linspace(0.05, 0.02, n_sets)[:, None]},
    ]
    mesh = parallel.make_mesh()
    result = {"devices": mesh.size, "cell": name, "n_comp": int(n_comp), "timings": {}}
    for batch_size in BATCH_SIZES:

        def call(bs=batch_size):
            out = parallel.sweep(sim, grid, mesh=mesh, batch_size=bs, t_max=t_max)
            return jax.block_until_ready(out)

        t0 = time.perf_counter()
        out = call()
        first = time.perf_counter() - t0
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t0)
        result["timings"][str(batch_size)] = (first, best)
        result["checksum"] = float(np.asarray(out).sum())
    print(_PREFIX + json.dumps(result), flush=True)


def run(n_devices: int, args) -> dict | None:
    env = dict(
        os.environ,
        XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}",
        JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"),
    )
    cmd = [sys.executable, __file__, "--child", "--n-sets", str(args.n_sets)]
    cmd += ["--t-max", str(args.t_max), "--repeat", str(args.repeat)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(_PREFIX):
            return json.loads(line[len(_PREFIX) :])
    print(f"[{n_devices} devices] failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-sets", type=int, default=64)
    parser.add_argument("--t-max", type=float, default=20.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n_sets, args.t_max, args.repeat)
        return 0
    results = [run(n, args) for n in DEVICE_COUNTS]
    if any(r is None for r in results):
        return 1
    r0 = results[0]
    print(f"{r0['cell']} ({r0['n_comp']} comp), {args.n_sets} sets, {args.t_max:g} ms, float64")
    print(f"{'devices':>8}{'batch_size':>12}{'first call s':>14}{'warm s':>9}")
    for res in results:
        for bs, (first, warm) in res["timings"].items():
            print(f"{res['devices']:>8}{bs:>12}{first:>14.3f}{warm:>9.3f}")
    sums = [r["checksum"] for r in results]
    print(f"sum of all traces: {', '.join(f'{s:.9f}' for s in sums)} (mV, 1 vs 8 devices)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
