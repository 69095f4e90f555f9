"""Benchmark: SWC import + setup, compile and forward simulation (dendrax, Jaxley if present).

Workload per morphology: ``read_swc`` (ncomp 4 for CA1 n120, 1 for the L5PC), insert HH,
one somatic step current, 10 voltage recordings; then ``integrate`` for 100 ms at dt 0.025 ms
in float64. Times are wall seconds (best of ``--repeat``); compile = first call minus a
second call. Data come from ``$DENDRAX_SWC_DIR`` (default ``<repo>/../shared/data/swc``).

Run: ``python bench/bench_morphology.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
import warnings
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[1] / "../shared/data/swc")
).resolve()
CASES = [("morph_ca1_n120.swc", 4), ("morph_l5pc_with_axon.swc", 1)]
DT, T_MAX = 0.025, 100.0  # ms


def _setup(jx, channels, path, ncomp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell = jx.read_swc(str(path), ncomp)
    cell.insert(channels.HH())
    current = jx.step_current(5.0, 50.0, 1.0, DT, T_MAX)
    cell.branch(0).loc(0.5).stimulate(current, verbose=False)
    n_b = len(cell.nodes["global_branch_index"].unique())
    for b in range(0, n_b, max(n_b // 10, 1))[:10]:
        cell.branch(b).loc(0.5).record("v", verbose=False)
    return cell


def _time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(name: str, repeat: int) -> dict[str, tuple[float, float, float]]:
    """{file: (setup s, compile s, run s)} for simulator ``name`` ("dendrax" or "jaxley")."""
    jx = importlib.import_module(name)
    channels = importlib.import_module(f"{name}.channels")
    out = {}
    for fname, ncomp in CASES:
        path = SWC_DIR / fname
        t_setup, cell = _time(lambda p=path, n=ncomp: _setup(jx, channels, p, n), repeat)
        # jit both libraries' integrate, as users do (Jaxley re-traces every call otherwise)
        simulate = jax.jit(lambda p, c=cell: jx.integrate(c, params=p, delta_t=DT, t_max=T_MAX))
        t0 = time.perf_counter()
        jax.block_until_ready(simulate([]))
        first = time.perf_counter() - t0
        t_run, _ = _time(lambda f=simulate: jax.block_until_ready(f([])), repeat)
        out[fname] = (t_setup, max(first - t_run, 0.0), t_run)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not SWC_DIR.is_dir():
        print(f"skipped: shared SWC folder {SWC_DIR} is absent (set DENDRAX_SWC_DIR)")
        return
    results = {"dendrax": bench("dendrax", args.repeat)}
    if importlib.util.find_spec("jaxley") is not None:
        results["jaxley"] = bench("jaxley", 1)
    else:
        print("jaxley is not installed: dendrax only")
    print(f"{'file':<28}{'sim':<9}{'setup s':>10}{'compile s':>11}{'run s':>9}")
    for fname, _ in CASES:
        for sim, res in results.items():
            s, c, r = res[fname]
            print(f"{fname:<28}{sim:<9}{s:>10.3f}{c:>11.3f}{r:>9.3f}")
        if "jaxley" in results:
            (s0, c0, r0), (s1, c1, r1) = results["dendrax"][fname], results["jaxley"][fname]
            print(
                f"{'':<28}{'ratio':<9}{s1 / s0:>9.1f}x{c1 / max(c0, 1e-9):>10.1f}x"
                f"{r1 / r0:>8.1f}x   (jaxley / dendrax)"
            )


if __name__ == "__main__":
    main()
