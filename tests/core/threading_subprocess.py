"""Run by `test_xla_options.py` in a fresh process allowed on every core of the machine.

XLA:CPU splits loops over threads only when the process may use more than one core, so
this script widens its CPU affinity before JAX starts. It compiles one HH cell's forward
run twice, with XLA's defaults (a caller's plain `jax.jit`) and with dendrax's options
(`Simulator.run` at top level), and prints one JSON line: how many loop fusions each
compiled program splits over threads (`outer_dimension_partitions` in the optimized HLO),
whether the traces are identical, and the largest difference (mV) of
`Simulator.run`'s trace from the plain jit's.
"""

import json
import os
import sys

os.sched_setaffinity(0, range(os.cpu_count()))  # before JAX sizes its thread pool
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402

N_BRANCHES, T_MAX, DT = int(sys.argv[1]), float(sys.argv[2]), 0.025

parents = [-1] + [(i - 1) // 2 for i in range(1, N_BRANCHES)]
cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=parents)
cell.insert(HH())
cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, 0.1, DT, T_MAX), verbose=False)
cell.branch(0).comp(0).record("v", verbose=False)
cell.branch(N_BRANCHES - 1).comp(3).record("v", verbose=False)
sim = jx.compile(cell, delta_t=DT)


def split_loops(compiled) -> int:
    return compiled.as_text().count("outer_dimension_partitions")


runner = sim.run  # at top level: dendrax's own jit, with `compiler_options()`
plain = jax.jit(lambda: sim.run(t_max=T_MAX))
with_options = jax.jit(lambda: sim.run(t_max=T_MAX), compiler_options=jx.compiler_options())
ours = np.asarray(runner(t_max=T_MAX))
default = np.asarray(plain())
same_program = np.asarray(with_options())
jx.set_cpu_threading("xla")  # XLA's defaults for dendrax's runner too
runner_default = np.asarray(runner(t_max=T_MAX))
jx.set_cpu_threading("single")
print(
    json.dumps(
        {
            "cores": len(os.sched_getaffinity(0)),
            "options": jx.compiler_options(),
            "split_default": split_loops(plain.lower().compile()),
            "split_options": split_loops(with_options.lower().compile()),
            # the same program compiled with and without the options
            "identical": bool(np.array_equal(same_program, default)),
            "runner_identical": bool(np.array_equal(ours, runner_default)),
            # dendrax's runner (table values as arguments) against the caller's jit
            "max_diff": float(np.max(np.abs(ours - default))),
            "finite": bool(np.isfinite(ours).all()),
            "spiked": bool(ours.max() > 0.0),
        }
    )
)
