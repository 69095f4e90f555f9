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
    """{mode: (median wall s, median CPU s)} of `repeats` warm calls, modes interleaved.

    CPU time (`time.process_time`, all threads of this process) is less disturbed than
    wall time by other processes on a shared machine.
    """
    for fn in fns.values():  # compile, then one warm call
        jax.block_until_ready(fn(params))
        jax.block_until_ready(fn(params))
    wall = {mode: [] for mode in fns}
    cpu = {mode: [] for mode in fns}
    order = list(fns)
    for r in range(repeats):
        # Rotated each round: no mode is always the one timed first (or after another).
        for mode in order[r % len(order) :] + order[: r % len(order)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fns[mode](params))
            cpu[mode].append(time.process_time() - start_cpu)
            wall[mode].append(time.perf_counter() - start)
    return {m: (statistics.median(wall[m]), statistics.median(cpu[m])) for m in fns}


def check_ops_alone(module, run_seconds, repeats=1000):
    """Seconds the checks of `checks=True` add to a call: they run on a recordings array
    and the trainables of `module`'s shapes, against a jitted identity of the same."""
    import jax.numpy as jnp

    from dendrax.checks.traced import report
    from dendrax.checks.values import trainable_blocks

    n_rec = len(module.base._recordings)
    recordings = jnp.zeros((n_rec, int(T_MAX // DT + 1) + 1))
    params = module.get_parameters()

    def checked(rec, p):
        return report(trainable_blocks(module.base, p), rec, DT, "bwd_euler", True)

    # The baseline writes a new recordings array too (times a runtime 1, which XLA cannot
    # fold away), as the checked version does; in a run that product fuses with the
    # assembly of the recordings.
    one = jnp.ones(())
    fns = {"plain": jax.jit(lambda rec, p: rec * one), "checked": jax.jit(checked)}
    medians = time_modes(
        {k: (lambda p, f=f: f(recordings, p)) for k, f in fns.items()}, params, repeats
    )
    return max(medians["checked"][0] - medians["plain"][0], 0.0)


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
    print(
        f"{'workload':<10}{'checks':<10}{'wall ms':>10}{'vs off':>10}{'CPU ms':>10}{'vs off':>10}"
    )
    for label, build, repeats in workloads:
        module = build(jx, HH)
        medians = time_modes(simulators(jx, module), module.get_parameters(), repeats)
        off_wall, off_cpu = medians[False]
        for mode, (wall, cpu) in medians.items():
            rel_wall = f"{(wall / off_wall - 1) * 100:+.1f} %" if mode is not False else "-"
            rel_cpu = f"{(cpu / off_cpu - 1) * 100:+.1f} %" if mode is not False else "-"
            print(
                f"{label:<10}{mode!s:<10}{wall * 1e3:>10.3f}{rel_wall:>10}{cpu * 1e3:>10.3f}"
                f"{rel_cpu:>10}"
            )
        alone = check_ops_alone(module, medians[False][0])
        print(f"{'':<10}check operations alone: {alone * 1e6:.1f} µs a call")
    print(
        f"Medians of warm calls of jax.jit(integrate) (hh1: {args.repeats_hh1}, ca1: "
        f"{args.repeats_ca1} per mode), the modes interleaved. 'check operations alone': "
        "the checks of checks=True applied to inputs of the workload's shapes, minus a "
        "jitted copy of the recordings (1000 calls each): the cost a run pays, free of the "
        "run's noise."
    )


if __name__ == "__main__":
    main()
