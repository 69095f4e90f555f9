"""dendrax against Arbor (and NEURON, Jaxley), one thread, pinned to one core and unpinned.

Workloads (forward only, HH everywhere, float64, step current at the soma, the voltage
recorded every step at 4 places, 100 ms at dt 0.025 ms): the CA1 n120 and L5PC cells
(`$DENDRAX_SWC_DIR`, default `<repo>/../shared/data/swc`; a missing file skips its
workload) with 4 compartments per branch, and the 155-branch x 4 compartment tree of
`bench_core.py`. Arbor uses `cv_policy_fixed_per_branch(4)` on its own reading of the SWC,
its built-in `hh` at 6.3 °C (q10 factor 1) and dendrax's parameters (`_arbor_models.py`).

Every simulator runs in its own fresh process (`_isolated.py`), either pinned to one core
(`os.sched_setaffinity` in the child before JAX or Arbor is imported; `--core`, default 1)
or unpinned (the affinity this script was started with). dendrax and Jaxley time
`jax.jit(integrate)`, Arbor `simulation.run`, NEURON `finitialize` + `continuerun`: each the
fastest of `--runs` warm runs in a child, then the fastest over `--repeats` children (the
run least disturbed by other load). The script fails if Arbor's discretization or spiking
does not match dendrax's (see `_check`).

Also printed, per workload: the sequential loop iterations per time step of every linear
solver registered in `dendrax.solvers.registry` (one solve per step for backward Euler).

dendrax's jit gets `dendrax.compiler_options()` (on CPU: XLA does not split the time step's
loops over threads; see `dendrax.simulator.xla_options`), and the script prints dendrax's
unpinned / pinned ratio per workload, fastest and median over the children.
`--dendrax-threading xla` times dendrax under XLA's default threading instead. The
`dendrax-il4` rows are dendrax in a child that calls `dendrax.set_cpu_loop_interleave(4)`
first: an opt-in, process-wide LLVM option (4 vectors per iteration of XLA's loops; see
`dendrax.simulator.cpu_loop_interleave`), not dendrax's default, so it is listed apart.

Run: `python bench/bench_arbor.py [--quick] [--workloads ca1,l5pc,tree] [--repeats 3]
[--modes pinned,unpinned] [--core 1]
[--simulators dendrax,dendrax-il4,arbor,jaxley,neuron]
[--dendrax-threading single|xla]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _arbor_models import V0, Workload, bench_arbor, bench_neuron, soma_target, spikes, spread
from _isolated import emit, run_child

#: "dendrax-il4": dendrax with `dendrax.set_cpu_loop_interleave(4)` (opt-in, process-wide).
SIMULATORS = ("dendrax", "dendrax-il4", "arbor", "jaxley", "neuron")
DENDRAX_VARIANTS = ("dendrax", "dendrax-il4")
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[1] / "../shared/data/swc")
).resolve()
SWC_FILES = {"ca1": "morph_ca1_n120.swc", "l5pc": "morph_l5pc_with_axon.swc"}
TREE_LENGTH, TREE_RADIUS, TREE_RA = 10.0, 1.0, 5000.0  # µm per compartment, µm, Ω·cm


def workloads(names, quick: bool) -> list[Workload]:
    """The requested workloads whose files exist (a missing one is reported and skipped)."""
    t_on, t_off, t_max = (5.0, 20.0, 25.0) if quick else (10.0, 80.0, 100.0)
    found = []
    for name in names:
        if name == "tree":
            found.append(Workload("tree155x4", None, 0.05, t_on, t_off, t_max, 0.025))
            continue
        path = SWC_DIR / SWC_FILES[name]
        if not path.is_file():
            print(f"skipped workload {name}: {path} is absent (set DENDRAX_SWC_DIR)")
            continue
        found.append(Workload(name, path, 0.5, t_on, t_off, t_max, 0.025))
    return found


# ------------------------------------------------------------------ dendrax and Jaxley


def _build_jax_model(jx, hh_cls, w: Workload):
    """(module, stimulated (branch, comp), recorded [(branch, comp)]) in dendrax or Jaxley."""
    if w.swc is None:
        from bench_core import PARENTS

        module = jx.Cell(jx.Branch(jx.Compartment(), ncomp=w.ncomp), parents=PARENTS)
        stim = (0, 0)  # loc(0.0) of the root branch, as in bench_core.py
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = jx.read_swc(str(w.swc), ncomp=w.ncomp)
        nodes = module.nodes
        xyz = nodes[["x", "y", "z"]].to_numpy()
        distance = ((xyz - soma_target(w.swc)) ** 2).sum(axis=1)
        row = nodes.iloc[int(distance.argmin())]
        stim = (int(row["global_branch_index"]), int(row["local_comp_index"]))
    module.insert(hh_cls())
    n_branches = int(module.nodes["global_branch_index"].nunique())
    records = [stim] + [(b, w.ncomp // 2) for b in spread(n_branches, 3)]
    current = jx.step_current(w.t_on, w.t_off - w.t_on, w.amplitude, w.dt, w.t_max)
    module.branch(stim[0]).comp(stim[1]).stimulate(current, verbose=False)
    for b, c in records:
        module.branch(b).comp(c).record("v", verbose=False)
    module.set("v", V0)
    module.init_states(w.dt)  # gates at their steady state at v0, as Arbor and NEURON start
    return module, stim, records


def _counts(module, w: Workload) -> dict:
    nodes = module.nodes
    parents = [int(p) for p in module.comb_parents]
    children = [0] * len(parents)
    for p in parents:
        if p >= 0:
            children[p] += 1
    return {
        "branches": len(parents),
        "comps": len(nodes),
        # a branch whose parent has no sibling continues it without a fork (the SWC type
        # changes there): dendrax starts a new branch, Arbor's branch runs on
        "joins": sum(1 for p in parents if p >= 0 and children[p] == 1),
    }


def _solver_iterations(dendrax, module, w: Workload) -> dict:
    """{registered linear solver: sequential loop iterations per step} for `module`."""
    from dendrax.solvers.registry import LINEAR_SOLVERS

    sim = dendrax.compile(module, delta_t=w.dt)
    scheme = sim.spec.scheme
    # every implicit scheme registered today solves once per step; a scheme that declares
    # `solves_per_step` is counted by it
    per_step = getattr(scheme, "solves_per_step", 1 if scheme.implicit else 0)
    out = {}
    for name, solver in LINEAR_SOLVERS.items():
        try:
            out[name] = int(solver.sequential_iterations(sim.structure)) * per_step
        except NotImplementedError:
            out[name] = None
    return {
        "scheme": scheme.name,
        "nodes": int(sim.structure.n_nodes),
        "iterations": out,
    }


def bench_jax(name: str, w: Workload, runs: int) -> dict:
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    lib = "dendrax" if name in DENDRAX_VARIANTS else name
    jx = __import__(lib)
    hh_cls = __import__(f"{lib}.channels", fromlist=["HH"]).HH
    start = time.perf_counter()
    module, stim, records = _build_jax_model(jx, hh_cls, w)
    build = time.perf_counter() - start
    # dendrax's XLA options (on CPU: loops not split over threads) go to the outermost jit,
    # as its docs tell users; `--dendrax-threading xla` times XLA's defaults instead
    options = jx.compiler_options() if lib == "dendrax" else {}
    simulate = jax.jit(
        lambda params: jx.integrate(module, params=params, t_max=w.t_max, delta_t=w.dt),
        compiler_options=options or None,
    )
    kernel = {}
    if lib == "dendrax":
        # Loading (or, on a cold cache, compiling) the tree-solve kernel happens once per
        # process: timed on its own, so that the first workload's compile time excludes it.
        from dendrax.solvers.native_tree import native_source

        start = time.perf_counter()
        kernel = {"kernel": native_source(), "kernel_load": time.perf_counter() - start}
    start = time.perf_counter()
    traces = simulate([]).block_until_ready()
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        simulate([]).block_until_ready()
        times.append(time.perf_counter() - start)
    soma = np.asarray(traces)[0]
    result = {
        **_counts(module, w),
        "build": build,
        "compile": max(first - min(times), 0.0),
        "run": min(times),
        **kernel,
        **spikes(soma, w.dt),  # every simulator's trace starts with the state at t = 0
    }
    if name == "dendrax":
        result.update(_solver_iterations(jx, module, w))
        result["geometry"] = _geometry(module, stim, records)
    return result


def _geometry(module, stim, records) -> dict:
    """dendrax's compartments as plain lists, for NEURON (see `_arbor_models.bench_neuron`)."""
    nodes = module.nodes.sort_values(["global_branch_index", "local_comp_index"])
    groups = nodes.groupby("global_branch_index")
    ra = nodes["axial_resistivity"].to_numpy()
    if ra.min() != ra.max():
        raise ValueError("the NEURON model takes one axial resistivity per model")
    return {
        "parents": [int(p) for p in module.comb_parents],
        "lengths": [g["length"].tolist() for _, g in groups],
        "radii": [g["radius"].tolist() for _, g in groups],
        "ra": float(ra[0]),
        "stim": list(stim),
        "records": [list(r) for r in records],
    }


# ------------------------------------------------------------------------ child process


def run_one(args) -> dict | None:
    """One simulator on every workload, in this (fresh) process; None if not installed."""
    if args.pin != "none":
        os.sched_setaffinity(0, {int(args.pin)})  # before JAX/Arbor start their threads
    if args.xla_flags:
        os.environ["XLA_FLAGS"] = args.xla_flags
    if args.only in DENDRAX_VARIANTS:
        import dendrax

        dendrax.set_cpu_threading(args.dendrax_threading)
        if args.only == "dendrax-il4":
            dendrax.set_cpu_loop_interleave(4)  # before the first JAX computation
    work = workloads(args.workloads.split(","), args.quick)
    runs = 2 if args.quick else args.runs
    name = args.only
    try:
        if name == "arbor":
            import arbor  # noqa: F401
        elif name == "neuron":
            import neuron  # noqa: F401
        elif name == "jaxley":
            import jaxley  # noqa: F401
    except ImportError:
        print(f"{name} is not installed: skipping its columns (`pip install {name}`).")
        return None
    affinity = sorted(os.sched_getaffinity(0))
    if name in (*DENDRAX_VARIANTS, "jaxley"):
        from _isolated import warm_up_jax

        warm_up_jax()
        return {"cores": affinity, **{w.label: bench_jax(name, w, runs) for w in work}}
    with open(args.geometry) as f:
        geometry = json.load(f)
    bench = bench_arbor if name == "arbor" else bench_neuron
    return {"cores": affinity, **{w.label: bench(w, geometry[w.label], runs) for w in work}}


# ----------------------------------------------------------------------------- parent


def _fastest(found: list[dict]) -> dict:
    """The first child's result with each workload's times the fastest over all children
    (`run`), and the median over the children of each child's fastest run (`run_median`)."""
    best = dict(found[0])
    for label, row in best.items():
        if isinstance(row, dict) and "run" in row:
            runs = [f[label]["run"] for f in found]
            best[label] = dict(row, run=min(runs), run_median=statistics.median(runs))
    return best


def _check(w: Workload, results: dict) -> list[str]:
    """Mismatches of Arbor's (and the others') model against dendrax's, as messages."""
    label = w.label
    ours, problems = results["dendrax"][label], []
    arbor = results.get("arbor", {}).get(label)
    if arbor is not None:
        expected = ours["branches"] - ours["joins"]
        if arbor["branches"] != expected:
            problems.append(
                f"{label}: Arbor has {arbor['branches']} branches, dendrax {ours['branches']} "
                f"of which {ours['joins']} continue their parent (expected {expected} in Arbor)"
            )
        if arbor["cvs"] != w.ncomp * arbor["branches"]:
            problems.append(
                f"{label}: Arbor has {arbor['cvs']} CVs on {arbor['branches']} branches"
            )
    for name, rows in results.items():
        row = rows.get(label)
        if name == "dendrax" or row is None:
            continue
        a, b = ours["spikes"], row["spikes"]
        if (a == 0) != (b == 0) or abs(a - b) > max(2, 0.25 * max(a, b)):
            problems.append(f"{label}: dendrax fires {a} spikes, {name} {b}: not the same model")
    return problems


def _ms(t) -> str:
    return "-" if t is None else f"{t:.2f}"


def _print_tables(work, results, modes, core: int, threading: str) -> None:
    """One table per workload; counts and spikes from the first mode's runs."""
    main = results[modes[0]]
    names = [n for n in SIMULATORS if n in main]
    for w in work:
        ours = main["dendrax"][w.label]
        print(f"\n{w.label}: {w.t_max:.0f} ms at dt {w.dt} ms, float64, HH, one thread")
        arbor = main.get("arbor", {}).get(w.label)
        line = f"  dendrax: {ours['branches']} branches, {ours['comps']} compartments"
        line += f" (+{ours['nodes'] - ours['comps']} branchpoint nodes = {ours['nodes']} unknowns)"
        print(line)
        if arbor is not None:
            print(
                f"  Arbor:   {arbor['branches']} branches, {arbor['cvs']} CVs (+{arbor['fork_cvs']}"
                f" zero-extent fork CVs = {arbor['unknowns']} unknowns)"
            )
            if ours["joins"]:
                print(
                    f"  ({ours['joins']} dendrax branches continue their parent without a fork,"
                    " where the SWC type changes: Arbor's branches run from fork to fork, so it"
                    f" joins them, {w.ncomp} CVs for the two)"
                )
        head = "".join(f"{'run s ' + m:>16}" for m in modes)
        print(f"  {'simulator':<12}{'spikes':>7}{'1st ms':>8}{'peak mV':>9}{head}{'compile s':>11}")
        for name in names:
            row = main[name][w.label]
            runs = ""
            for mode in modes:
                timed = results[mode].get(name, {}).get(w.label)
                runs += f"{timed['run']:>16.4f}" if timed else f"{'-':>16}"
            print(
                f"  {name:<12}{row['spikes']:>7}{_ms(row['first']):>8}{row['peak']:>9.1f}"
                f"{runs}{row['compile']:>11.2f}"
            )
        for ours_name in (n for n in names if n in DENDRAX_VARIANTS):
            for other in (n for n in names if n not in DENDRAX_VARIANTS):
                ratios = []
                for mode in modes:
                    by = results[mode]
                    if other in by and ours_name in by:
                        ratio = by[ours_name][w.label]["run"] / by[other][w.label]["run"]
                        ratios.append(f"{mode} {ratio:.2f}")
                print(f"  {ours_name} / {other}: {', '.join(ratios)}")
        if {"pinned", "unpinned"} <= set(modes) and "dendrax" in results["unpinned"]:
            pinned = results["pinned"]["dendrax"][w.label]
            unpinned = results["unpinned"]["dendrax"][w.label]
            print(
                f"  dendrax unpinned / pinned: {unpinned['run'] / pinned['run']:.2f} fastest"
                f" ({unpinned['run']:.4f} / {pinned['run']:.4f} s),"
                f" {unpinned['run_median'] / pinned['run_median']:.2f} median over children"
                f" ({unpinned['run_median']:.4f} / {pinned['run_median']:.4f} s)"
            )
        print(f"  sequential loop iterations per step ({ours['scheme']}, one solve per step):")
        for solver, count in ours["iterations"].items():
            print(f"    {solver:<16}{count if count is not None else 'n/a':>8}")
    for mode in modes:
        cores = results[mode].get("dendrax", {}).get("cores")
        print(
            f"\n{mode}: cores {cores}" + (f" (--core {core})" if mode == "pinned" else ""), end=""
        )
    print(f"\ndendrax CPU threading: {threading} (dendrax.set_cpu_threading)")
    first = main.get("dendrax", {}).get(work[0].label, {}) if work else {}
    if "kernel" in first:
        print(
            f"dendrax tree-solve kernel: {first['kernel'] or 'not available (pure JAX)'},"
            f" loaded in {first['kernel_load']:.2f} s once per process (not in compile s)"
        )
    print("Ratios are dendrax / other (below 1: dendrax is faster); times are the fastest runs.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one simulator in this process (used internally)")
    parser.add_argument("--pin", default="none", help="(internal) core to pin to, or none")
    parser.add_argument("--geometry", help="(internal) JSON file of dendrax's compartments")
    parser.add_argument("--workloads", default="ca1,l5pc,tree", help="comma list of ca1,l5pc,tree")
    parser.add_argument("--repeats", type=int, default=3, help="fresh children per simulator")
    parser.add_argument("--runs", type=int, default=5, help="warm runs per child")
    parser.add_argument("--core", type=int, default=1, help="core the pinned runs use")
    parser.add_argument("--modes", default="pinned,unpinned", help="pinned, unpinned or both")
    parser.add_argument("--simulators", default=",".join(SIMULATORS), help="comma list")
    parser.add_argument("--xla-flags", default="", help="XLA_FLAGS for dendrax/Jaxley children")
    parser.add_argument(
        "--dendrax-threading",
        default="single",
        choices=("single", "xla"),
        help="dendrax.set_cpu_threading in the dendrax children (xla: XLA's default threading)",
    )
    parser.add_argument("--save-json", help="write every child's run times to this file")
    parser.add_argument("--quick", action="store_true", help="25 ms runs, one child each")
    args = parser.parse_args()
    if args.only:
        result = run_one(args)
        if result is not None:
            emit(result)
        return 0
    unknown = set(args.workloads.split(",")) - {"ca1", "l5pc", "tree"}
    if unknown:
        raise SystemExit(f"unknown workloads {sorted(unknown)}: choose from ca1, l5pc, tree")
    work = workloads(args.workloads.split(","), args.quick)
    if not work:
        print("no workload available")
        return 0
    labels = ",".join(
        name for name in args.workloads.split(",") if any(w.label.startswith(name) for w in work)
    )
    common = ["--workloads", labels, "--runs", str(args.runs)] + (["--quick"] if args.quick else [])
    if args.xla_flags:
        common += ["--xla-flags", args.xla_flags]
    common += ["--dendrax-threading", args.dendrax_threading]
    modes = args.modes.split(",")
    if not modes or set(modes) - {"pinned", "unpinned"}:
        raise SystemExit(f"--modes {args.modes!r}: give pinned, unpinned or pinned,unpinned")
    names = [n for n in SIMULATORS if n in args.simulators.split(",")]
    if "dendrax" not in names:
        raise SystemExit("--simulators must include dendrax (the others are compared with it)")
    repeats = 1 if args.quick else args.repeats
    found = {mode: {name: [] for name in SIMULATORS} for mode in modes}
    script = Path(__file__)
    with tempfile.TemporaryDirectory() as tmp:
        geometry_file = Path(tmp) / "geometry.json"
        for round_index in range(repeats):
            print(f"round {round_index + 1}/{repeats}", flush=True)
            for mode in modes:
                pin = str(args.core) if mode == "pinned" else "none"
                for name in names:
                    if round_index and not found[mode][name]:
                        continue  # not installed or failed before: not retried
                    extra = common + ["--pin", pin]
                    if name in ("arbor", "neuron"):
                        ours = found[mode]["dendrax"] or found[modes[0]]["dendrax"]
                        if not ours:
                            continue
                        if not geometry_file.exists():
                            geometry = {w.label: ours[0][w.label]["geometry"] for w in work}
                            geometry_file.write_text(json.dumps(geometry))
                        extra += ["--geometry", str(geometry_file)]
                    result = run_child(script, name, extra)
                    if result is not None:
                        found[mode][name].append(result)
    if args.save_json:
        runs = {
            mode: {
                name: [{w.label: child[w.label]["run"] for w in work} for child in children]
                for name, children in by.items()
                if children
            }
            for mode, by in found.items()
        }
        Path(args.save_json).write_text(json.dumps(runs, indent=1))
    results = {m: {n: _fastest(f) for n, f in by.items() if f} for m, by in found.items()}
    if "dendrax" not in results[modes[0]]:
        raise SystemExit("the dendrax benchmark failed")
    _print_tables(work, results, modes, args.core, args.dendrax_threading)
    problems = [p for w in work for p in _check(w, results[modes[0]])]
    for problem in problems:
        print("MISMATCH", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
