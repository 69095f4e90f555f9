"""Gradient and vmap benchmarks on the CA1 cell: dendrax vs Jaxley in the same run.

Workload (issue 4): `morph_ca1_n120.swc`, ncomp 4, HH everywhere, somatic step current,
10 recordings, 100 ms at dt 0.025, float64. Gradient of a voltage loss with respect to a
per-branch `HH_gNa` and a per-branch `radius`, with 2-level checkpointing. Then a `vmap`
of the forward simulation over 16 `HH_gNa` sets. Compile time = first call minus a warm
call; run = fastest of 5 warm calls (least disturbed by other load); memory = XLA's
temporary buffer size of the compiled gradient (`memory_analysis().temp_size_in_bytes`).
Each simulator runs in its own fresh process; figures are medians of 3 rounds (`_isolated`).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from _isolated import emit, results_from_children, warm_up_jax  # noqa: E402

T_MAX, DT, NCOMP = 100.0, 0.025, 4
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).parents[1] / ".." / "shared" / "data" / "swc")
)


def build(lib, hh_cls, name="morph_ca1_n120.swc", t_max=T_MAX):
    """The gradient workload's cell (also `bench_gpu.py`'s), with per-branch trainables."""
    cell = lib.read_swc(str(SWC_DIR / name), ncomp=NCOMP)
    cell.insert(hh_cls())
    cell.set("axial_resistivity", 100.0)
    cell.branch(0).loc(0.0).stimulate(lib.step_current(10.0, 80.0, 0.2, DT, t_max), verbose=False)
    n_branches = cell.shape[0]
    for b in range(0, n_branches, n_branches // 10)[:10]:
        cell.branch(b).loc(0.5).record("v", verbose=False)
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    cell.branch("all").make_trainable("radius", verbose=False)
    return cell


def timed(fn, *args, warm_runs=5):
    """(compile s, run s, result): the first call minus the fastest of `warm_runs` calls."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    first = time.perf_counter() - start
    runs = []
    for _ in range(warm_runs):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        runs.append(time.perf_counter() - start)
    run = min(runs)
    return max(first - run, 0.0), run, out


def bench(lib, hh_cls):
    cell = build(lib, hh_cls)
    params = cell.get_parameters()
    n_steps = int(T_MAX // DT + 1)
    level = math.ceil(math.sqrt(n_steps))

    def loss(p):
        v = lib.integrate(
            cell, params=p, t_max=T_MAX, delta_t=DT, checkpoint_lengths=[level, level]
        )
        return jnp.mean((v + 60.0) ** 2)

    grad_fn = jax.jit(jax.grad(loss))
    compile_grad, run_grad, _ = timed(grad_fn, params)
    memory = grad_fn.lower(params).compile().memory_analysis()
    temp = (
        getattr(memory, "temp_size_in_bytes", float("nan")) if memory is not None else float("nan")
    )

    g_na = params[0]["HH_gNa"]
    batch = jnp.stack([g_na * (0.8 + 0.025 * i) for i in range(16)])

    def forward(g):
        return lib.integrate(cell, params=[{"HH_gNa": g}, params[1]], t_max=T_MAX, delta_t=DT)

    vmap_fn = jax.jit(jax.vmap(forward))
    compile_vmap, run_vmap, _ = timed(vmap_fn, batch)
    return {
        "grad compile s": compile_grad,
        "grad run s": run_grad,
        "grad temp MB": temp / 1e6,
        "vmap16 compile s": compile_vmap,
        "vmap16 run s": run_vmap,
    }


def _run_one(name):
    warm_up_jax()
    if name == "dendrax":
        import dendrax
        from dendrax.channels import HH

        return bench(dendrax, HH)
    try:
        import jaxley
        from jaxley.channels import HH as JaxleyHH
    except ImportError:
        print("jaxley not installed: dendrax only (`make bench` installs it).")
        return None
    return bench(jaxley, JaxleyHH)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one simulator in this process (used internally)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs per simulator")
    args = parser.parse_args()
    if not (SWC_DIR / "morph_ca1_n120.swc").exists():
        print(f"{SWC_DIR} not found: set DENDRAX_SWC_DIR. Skipping.")
        return
    if args.only:
        result = _run_one(args.only)
        if result is not None:
            emit(result)
        return
    results = results_from_children(Path(__file__), ("dendrax", "jaxley"), repeats=args.repeats)
    if "dendrax" not in results:
        raise SystemExit("the dendrax benchmark failed")
    print(f"\nCA1 n120 (ncomp {NCOMP}), {T_MAX:.0f} ms at dt {DT}, float64, 2-level checkpointing")
    print(f"(medians of {args.repeats} fresh processes per simulator, alternating)")
    keys = list(results["dendrax"])
    print(f"{'metric':<18}" + "".join(f"{name:>12}" for name in results) + f"{'ratio':>9}")
    for key in keys:
        row = f"{key:<18}" + "".join(f"{r[key]:>12.3f}" for r in results.values())
        if "jaxley" in results and results["jaxley"][key]:
            row += f"{results['dendrax'][key] / results['jaxley'][key]:>9.3f}"
        print(row)
    print("Ratio = dendrax / jaxley (below 1 means dendrax is faster or smaller).")


if __name__ == "__main__":
    main()
