"""Run by `test_cpu_loop_interleave.py` in a fresh process: `python interleave_subprocess.py
DUMP_DIR OUT.npy [COUNT]`.

With COUNT, it calls `dendrax.set_cpu_loop_interleave(COUNT)` before JAX's first computation.
It has XLA dump its LLVM IR to DUMP_DIR, runs a 40-compartment HH cell for 20 ms, saves the
trace to OUT.npy and prints one JSON line: how many vector divisions (`fdiv <N x double>`)
the optimized IR of the cell's kernels holds, and `XLA_FLAGS` as XLA saw it.
"""

import glob
import json
import os
import re
import sys

dump_dir, out_path = sys.argv[1], sys.argv[2]
os.environ["XLA_FLAGS"] = f"--xla_dump_to={dump_dir}"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402

if len(sys.argv) > 3:
    jx.set_cpu_loop_interleave(int(sys.argv[3]))

DT, T_MAX = 0.025, 20.0
cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1, 1, 2, 2, 3, 3, 4])
cell.insert(HH())
cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 10.0, 0.3, DT, T_MAX), verbose=False)
cell.branch(0).comp(0).record("v", verbose=False)
cell.branch(9).comp(3).record("v", verbose=False)
np.save(out_path, np.asarray(jx.integrate(cell, delta_t=DT, t_max=T_MAX)))

divisions = 0
for path in glob.glob(os.path.join(dump_dir, "*jit_run*ir-with-opt.ll")):
    with open(path) as f:
        divisions += len(re.findall(r"fdiv (?:\w+ )*<\d+ x double>", f.read()))
print(json.dumps({"vector_divisions": divisions, "xla_flags": os.environ["XLA_FLAGS"]}))
