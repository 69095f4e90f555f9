"""Cost of `integrate`'s run-time checks on the forward run (issue 21, target <= 5 %).

Workloads: a single HH compartment, and the CA1 cell (`morph_ca1_n120.swc`, ncomp 4, HH
everywhere, somatic step current, 10 recordings); 100 ms at dt 0.025, float64, CPU. The
parameters (`HH_gNa`, and on CA1 a per-branch `radius`) are trainables passed to
`jax.jit(lambda params: integrate(...))`, so they are traced and checked at run time,
with the recordings (blow-up). Modes: `checks=False`, the default `checks=True` (reductions
and one `lax.cond` around a host callback taken only on failure) and `checks="checkify"`
(wrapped in `checkify.checkify`). The modes are timed in turn, call after call, in an
order rotated every round, so that the machine's changing load falls on all alike;
figures are medians of the warm calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
from jax.experimental import checkify  # noqa: E402

T_MAX, DT, NCOMP = 100.0, 0.025, 4
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).parents[1] / ".." / "shared" / "data" / "swc")
)
MODES = (False, True, "checkify")


def build_hh1(jx, hh_cls):
    comp = jx.Compartment()
    comp.insert(hh_cls())
    comp.record("v", verbose=False)
    comp.stimulate(jx.step_current(10.0, 80.0, 0.1, DT, T_MAX), verbose=False)
    comp.make_trainable("HH_gNa", verbose=False)
    return comp


def build_ca1(jx, hh_cls):
    cell = jx.read_swc(str(SWC_DIR / "morph_ca1_n120.swc"), ncomp=NCOMP)
    cell.insert(hh_cls())
    cell.set("axial_resistivity", 100.0)
    cell.branch(0).loc(0.0).stimulate(jx.step_current(10.0, 80.0, 0.2, DT, T_MAX), verbose=False)
    n_branches = cell.shape[0]
    for b in range(0, n_branches, n_branches // 10)[:10]:
        cell.branch(b).loc(0.5).record("v", verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    cell.branch("all").make_trainable("radius", verbose=False)
    return cell


def simulators(jx, module):
    """{mode: jitted params -> recordings}, each compiled and run once."""
    out = {}
    for mode in MODES:

        def simulate(params, mode=mode):
            return jx.integrate(module, params=params, t_max=T_MAX, delta_t=DT, checks=mode)

        fn = jax.jit(simulate)
        out[mode] = checkify.checkify(fn) if mode == "checkify" else fn
    return out


def time_modes(fns, params, repeats):
    """Median seconds per mode of `repeats` warm calls, the modes interleaved."""
    for fn in fns.values():  # compile, then one warm call
        jax.block_until_ready(fn(params))
        jax.block_until_ready(fn(params))
    times = {mode: [] for mode in fns}
    order = list(fns)
    for r in range(repeats):
        # Rotated each round: no mode is always the one timed first (or after another).
        for mode in order[r % len(order) :] + order[: r % len(order)]:
            start = time.perf_counter()
            jax.block_until_ready(fns[mode](params))
            times[mode].append(time.perf_counter() - start)
    return {mode: statistics.median(t) for mode, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats-hh1", type=int, default=1000)
    parser.add_argument("--repeats-ca1", type=int, default=15)
    args = parser.parse_args()

    import dendrax as jx
    from dendrax.channels import HH

    workloads = [("hh1", build_hh1, args.repeats_hh1)]
    if (SWC_DIR / "morph_ca1_n120.swc").exists():
        workloads.append(("ca1", build_ca1, args.repeats_ca1))
    else:
        print(f"{SWC_DIR / 'morph_ca1_n120.swc'} not found: skipping the CA1 cell.")

    print(f"\nRun-time checks, forward run: {T_MAX:.0f} ms at dt {DT} ms, float64, CPU")
    print(f"{'workload':<10}{'checks':<12}{'run ms':>10}{'vs off':>10}{'calls':>7}")
    for label, build, repeats in workloads:
        module = build(jx, HH)
        medians = time_modes(simulators(jx, module), module.get_parameters(), repeats)
        off = medians[False]
        for mode, seconds in medians.items():
            change = f"{(seconds / off - 1) * 100:+.1f} %" if mode is not False else "-"
            print(f"{label:<10}{mode!s:<12}{seconds * 1e3:>10.3f}{change:>10}{repeats:>7}")
    print("Medians of warm calls of jax.jit(integrate), the modes interleaved.")


if __name__ == "__main__":
    main()
