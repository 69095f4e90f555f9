"""CPU cost of the voltage solve: the node-by-node "tree" solver against the "branched" one.

Workloads (100 ms at dt 0.025, float64, HH everywhere, one step current, 10 recordings):
CA1 n120 and L5PC from SWC with 4 compartments per branch, the 155 x 4 binary tree of
`bench_core.py`, the 100-cell network of `bench_network.py` (4 x 4 compartments each), a
cell of 3 x 3 compartments and a single compartment. For each workload and solver: run
time (fastest of 5 warm runs of `jax.jit(integrate)`, then the fastest of `--rounds` such
rounds, solvers interleaved),
compile time (first call minus a warm call) and the dependent loop iterations of one solve
(`LinearSolver.sequential_iterations`; backward Euler solves once per step). Solvers: "tree"
(node by node, XLA loops), "branched" (chains side by side, then the branch points) and
"tree.native" (the node-by-node solve as a compiled FFI kernel, where it builds).

`--split` adds the share of the solve in a step: the run time with a solver that solves the
same system twice per step, minus the run time with one solve, is the cost of one solve.

Run pinned to one core: `taskset -c 1 python bench/bench_cpu_solve.py [--split]`.
SWC files come from `$DENDRAX_SWC_DIR` (default `<repo>/../shared/data/swc`).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402
from dendrax.modules.export import module_structure  # noqa: E402
from dendrax.solvers.interfaces import LinearSolver  # noqa: E402
from dendrax.solvers.registry import linear_solver, register_linear_solver  # noqa: E402
from dendrax.solvers.tree import tree_solve  # noqa: E402

DT, T_MAX = 0.025, 100.0
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[1] / "../shared/data/swc")
).resolve()


@dataclass(frozen=True)
class _TwiceSolver(LinearSolver):
    """The tree solve done twice per call (the second depends on the first): for `--split`."""

    name = "bench.tree_twice"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        x = tree_solve(structure.tree, diag, upper, lower, rhs, upper_zero_at_roots)
        rhs = rhs + 0.0 * x
        return tree_solve(structure.tree, diag, upper, lower, rhs, upper_zero_at_roots)

    def sequential_iterations(self, structure) -> int:
        return 2 * linear_solver("tree").sequential_iterations(structure)


def _cell(case):
    if case == "tree155x4":
        parents = [-1] + [(i - 1) // 2 for i in range(1, 155)]
        return jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=parents)
    if case == "hh1":
        return jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    if case == "cell3x3":
        return jx.Cell(jx.Branch(jx.Compartment(), ncomp=3), parents=[-1, 0, 0])
    if case == "network100":
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1])
        net = jx.Network([cell] * 100)
        jx.fully_connect(
            net.cell(range(50)), net.cell(range(50, 100)), jx.synapses.IonotropicSynapse()
        )
        return net
    name = {"ca1": "morph_ca1_n120.swc", "l5pc": "morph_l5pc_with_axon.swc"}[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jx.read_swc(str(SWC_DIR / name), ncomp=4)


def _workload(case):
    module = _cell(case)
    module.insert(HH())
    if case == "network100":
        module.cell(0).branch(0).comp(0).stimulate(jx.step_current(1.0, 2.0, 0.5, DT, T_MAX))
        module.cell(range(0, 100, 10)).branch(0).comp(0).record(verbose=False)
        return module
    module.branch(0).loc(0.5).stimulate(jx.step_current(5.0, 50.0, 1.0, DT, T_MAX), verbose=False)
    n_branches = len(module.nodes["global_branch_index"].unique())
    for b in range(0, n_branches, max(n_branches // 10, 1))[:10]:
        module.branch(b).loc(0.5).record("v", verbose=False)
    return module


def _timed(fn):
    start = time.perf_counter()
    jax.block_until_ready(fn([]))
    return time.perf_counter() - start


def bench(case, solvers, rounds):
    module = _workload(case)
    structure = module_structure(module)
    runs, compiled = {}, {}
    for name in solvers:
        simulate = jax.jit(
            lambda p, name=name: jx.integrate(
                module, params=p, delta_t=DT, t_max=T_MAX, voltage_solver=name
            )
        )
        first = _timed(simulate)
        compiled[name] = (simulate, max(first - _timed(simulate), 0.0))
        runs[name] = float("inf")
    for _ in range(rounds):
        for name in solvers:
            best = min(_timed(compiled[name][0]) for _ in range(5))
            runs[name] = min(runs[name], best)
    for name in solvers:
        iterations = linear_solver(name).sequential_iterations(structure)
        print(
            f"{case:<11}{name:<18}{structure.n_comp:>7}{iterations:>10}"
            f"{compiled[name][1]:>11.2f}{runs[name] * 1e3:>10.1f}",
            flush=True,
        )
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="ca1,l5pc,tree155x4,network100,cell3x3,hh1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--split", action="store_true")
    args = parser.parse_args()
    solvers = ["tree", "branched", "tree.native"]
    if args.split:
        register_linear_solver(_TwiceSolver())
        solvers.append(_TwiceSolver.name)
    header = ("workload", "solver", "n_comp", "seq/step", "compile s", "run ms")
    print("{:<11}{:<18}{:>7}{:>10}{:>11}{:>10}".format(*header))
    for case in args.cases.split(","):
        if case in ("ca1", "l5pc") and not SWC_DIR.is_dir():
            print(f"{case}: skipped, shared SWC folder {SWC_DIR} is absent (set DENDRAX_SWC_DIR)")
            continue
        runs = bench(case, solvers, args.rounds)
        if args.split:
            solve = runs[_TwiceSolver.name] - runs["tree"]
            share = solve / runs["tree"]
            print(
                f"{'':<11}one tree solve per step: {solve * 1e3:.1f} ms of "
                f"{runs['tree'] * 1e3:.1f} ms ({share:.0%}); the rest of the step: "
                f"{(runs['tree'] - solve) * 1e3:.1f} ms"
            )


if __name__ == "__main__":
    main()
