"""Side-by-side timings of the foundation workloads: dendrax vs Jaxley vs NEURON.

Workloads (100 ms at dt 0.025, float64, CPU, HH everywhere, step current, 10 recordings):
a single compartment, and a cell of 155 branches x 4 compartments built from scratch.
Times: build (Python model construction), compile (first call of `jax.jit(integrate)` minus
a warm run), run (fastest of 5 warm runs of the jitted function: the least disturbed by
other load on a shared machine, for every simulator alike). Each simulator runs in its own
fresh process (`_isolated.py`), so none inherits another's warm JAX caches. Jaxley columns appear
when `jaxley` is importable. With a C compiler on the machine, the single compartment is also
timed as a plain C loop (`hh_step_reference.c`, checked against dendrax's trace first).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import jax
from _isolated import emit, results_from_children, warm_up_jax

jax.config.update("jax_enable_x64", True)

T_MAX, DT = 100.0, 0.025
N_BRANCHES, NCOMP = 155, 4
PARENTS = [-1] + [(i - 1) // 2 for i in range(1, N_BRANCHES)]


def _time_integrate(integrate, module):
    """Compile and run time of `jax.jit(integrate)`, as users of either library run it."""
    simulate = jax.jit(lambda params: integrate(module, params=params, t_max=T_MAX, delta_t=DT))
    start = time.perf_counter()
    simulate([]).block_until_ready()
    first = time.perf_counter() - start
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        simulate([]).block_until_ready()
        runs.append(time.perf_counter() - start)
    run = min(runs)
    return max(first - run, 0.0), run


def _build(jx, hh_cls, n_branches):
    start = time.perf_counter()
    comp = jx.Compartment()
    if n_branches == 1:
        module = comp
        module.insert(hh_cls())
        module.record("v", verbose=False)
    else:
        branch = jx.Branch(comp, ncomp=NCOMP)
        module = jx.Cell(branch, parents=PARENTS[:n_branches])
        module.insert(hh_cls())
        for b in range(0, n_branches, max(n_branches // 10, 1))[:10]:
            module.branch(b).loc(0.5).record("v", verbose=False)
    current = jx.step_current(10.0, 80.0, 0.1, DT, T_MAX)
    target = module if n_branches == 1 else module.branch(0).loc(0.0)
    target.stimulate(current, verbose=False)
    return module, time.perf_counter() - start


def bench_simulator(name, jx, hh_cls):
    rows = {}
    for label, n in (("hh1", 1), ("cell155x4", N_BRANCHES)):
        module, build = _build(jx, hh_cls, n)
        compile_time, run = _time_integrate(jx.integrate, module)
        rows[label] = (build, compile_time, run)
    return rows


def bench_neuron():
    from neuron import h

    h.load_file("stdrun.hoc")
    rows = {}
    for label, n in (("hh1", 1), ("cell155x4", N_BRANCHES)):
        start = time.perf_counter()
        secs = []
        for b in range(n):
            sec = h.Section(name=f"b{b}")
            sec.nseg = 1 if n == 1 else NCOMP
            sec.L = 10.0 * sec.nseg
            sec.diam = 2.0
            sec.Ra = 5000.0
            sec.insert("hh")
            if b > 0:
                sec.connect(secs[PARENTS[b]](1), 0)
            secs.append(sec)
        stim = h.IClamp(secs[0](0.0 if n > 1 else 0.5))
        stim.delay, stim.dur, stim.amp = 10.0, 80.0, 0.1
        vecs = []
        for b in range(0, n, max(n // 10, 1))[:10]:
            vec = h.Vector()
            vec.record(secs[b](0.5)._ref_v)
            vecs.append(vec)
        build = time.perf_counter() - start
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            h.dt = DT
            h.finitialize(-70.0)
            h.continuerun(T_MAX)
            runs.append(time.perf_counter() - start)
        rows[label] = (build, 0.0, min(runs))
        del stim, vecs, secs
    return rows


def _run_one(name):
    """One simulator's rows (in a fresh process, see `_isolated`), or None if not installed."""
    if name == "neuron":
        try:
            return bench_neuron()
        except ImportError:
            print("neuron not installed: skipping its columns.")
            return None
    warm_up_jax()
    if name == "dendrax":
        import dendrax
        from dendrax.channels import HH

        return bench_simulator(name, dendrax, HH)
    try:
        import jaxley
        from jaxley.channels import HH as JaxleyHH
    except ImportError:
        print("jaxley not installed: skipping its columns (`pip install jaxley`).")
        return None
    return bench_simulator(name, jaxley, JaxleyHH)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one simulator in this process (used internally)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs per simulator")
    args = parser.parse_args()
    if args.only:
        result = _run_one(args.only)
        if result is not None:
            emit(result)
        return
    results = results_from_children(
        Path(__file__), ("dendrax", "jaxley", "neuron"), repeats=args.repeats
    )
    if "dendrax" not in results:
        raise SystemExit("the dendrax benchmark failed")

    print(f"\nFoundation workloads: {T_MAX:.0f} ms at dt {DT} ms, float64, CPU")
    print(
        f"(medians of {args.repeats} fresh processes per simulator, alternating, each after"
        " the same one-call JAX warm-up)"
    )
    header = f"{'workload':<11}{'simulator':<9}{'build s':>10}{'compile s':>11}{'run s':>10}"
    print(header + f"{'build ratio':>13}{'compile ratio':>15}{'run ratio':>11}")
    for label in ("hh1", "cell155x4"):
        ours = results["dendrax"][label]
        for name, rows in results.items():
            build, comp, run = rows[label]
            ratios = ""
            if name != "dendrax":
                ratios = (
                    (f"{ours[0] / build:>13.4f}" if build else f"{'-':>13}")
                    + (f"{ours[1] / comp:>15.3f}" if comp else f"{'-':>15}")
                    + f"{ours[2] / run:>11.3f}"
                )
            print(f"{label:<11}{name:<9}{build:>10.4f}{comp:>11.3f}{run:>10.5f}{ratios}")
    print("Ratios are dendrax / other (below 1 means dendrax is faster).")
    _compare_with_plain_c(results)


def _compare_with_plain_c(results):
    """Time `hh_step_reference.c` (the hh1 step as a plain C loop) if a C compiler exists.

    The loop is checked against dendrax's voltage trace first, so that both compute the
    same model; its time is the floor a framework's single-compartment run is judged by.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        print("\nNo C compiler found: skipping the plain C reference of hh1.")
        return
    import numpy as np

    import dendrax as jx
    from dendrax.channels import HH

    module, _ = _build(jx, HH, 1)
    voltages = np.asarray(jx.integrate(module, t_max=T_MAX, delta_t=DT))[0, 1:]
    stimulus = np.asarray(jx.step_current(10.0, 80.0, 0.1, DT, T_MAX), np.float64)
    area = float(np.asarray(module.nodes["area"])[0])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        binary, stim_file, out_file = tmp / "hh_ref", tmp / "stim.f64", tmp / "out.f64"
        source = Path(__file__).with_name("hh_step_reference.c")
        flags = ["-O3", "-march=native"]
        subprocess.run([compiler, *flags, "-o", binary, source, "-lm"], check=True)
        stimulus[: voltages.size].tofile(stim_file)
        command = [binary, stim_file, out_file, repr(area), repr(DT)]
        ns_per_step = float(subprocess.run(command, capture_output=True, text=True).stdout)
        deviation = float(np.max(np.abs(np.fromfile(out_file) - voltages)))
    c_run = ns_per_step * 1e-9 * voltages.size
    ours = results["dendrax"]["hh1"][2]
    print(
        f"\nhh1 as a plain C loop ({Path(compiler).name} {' '.join(flags)}, libm exp; max |dV| "
        f"to dendrax's trace {deviation:.1e} mV): run {c_run * 1e3:.3f} ms, {ns_per_step:.0f} ns "
        f"per step; dendrax {ours * 1e3:.3f} ms = {ours / c_run:.2f} x C"
    )
    if "jaxley" in results:
        target = results["jaxley"]["hh1"][2] / 2
        print(
            f"The hh1 run target (<= 1/2 of Jaxley) is {target * 1e3:.3f} ms "
            f"= {target / c_run:.2f} x C."
        )


if __name__ == "__main__":
    main()
