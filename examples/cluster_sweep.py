"""A parameter sweep over every device of every process: one CPU, a GPU node or a cluster.

Sweeps the Na and K conductances (S/cm²) of a branched Hodgkin–Huxley cell over a grid,
runs each simulation on one of the devices (`dendrax.parallel.sweep`) and prints the spike
counts; with `--save`, process 0 saves the traces (mV) to an `.npz` file. The same script
runs unchanged on one CPU (`python examples/cluster_sweep.py --n-sets 16`), on several
forced CPU devices (set `XLA_FLAGS=--xla_force_host_platform_device_count=8`), and, with
`--distributed`, in one process per GPU under SLURM (see `examples/slurm_sweep.sh`).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from dendrax import parallel


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-sets", type=int, default=64, help="parameter sets (grid points)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="simulations per device at once"
    )
    parser.add_argument("--t-max", type=float, default=20.0, help="duration (ms)")
    parser.add_argument("--distributed", action="store_true", help="join a multi-process run")
    parser.add_argument("--save", default=None, help="save the traces to this .npz (process 0)")
    return parser.parse_args()


def build_simulator(t_max: float):
    import dendrax as jx
    from dendrax.channels import HH

    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=4)
    cell = jx.Cell(branch, parents=[-1, 0, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 15.0, 0.05, 0.025, t_max), verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    cell.make_trainable("HH_gK", verbose=False)
    return jx.compile(cell, delta_t=0.025)


def parameter_grid(n_sets: int):
    """`n_sets` (gNa, gK) pairs (S/cm²) on a near-square grid, as a batched parameter list."""
    side = int(np.ceil(np.sqrt(n_sets)))
    g_na, g_k = np.meshgrid(np.linspace(0.06, 0.18, side), np.linspace(0.01, 0.06, side))
    return [{"HH_gNa": g_na.ravel()[:n_sets, None]}, {"HH_gK": g_k.ravel()[:n_sets, None]}]


def main() -> None:
    args = parse_args()
    if args.distributed:
        # First JAX call of the process. Under SLURM, JAX reads the coordinator, the number
        # of processes and this process's rank from the environment.
        parallel.initialize()
    jax.config.update("jax_enable_x64", True)
    sim = build_simulator(args.t_max)
    grid = parameter_grid(args.n_sets)
    mesh = parallel.make_mesh()
    start = time.perf_counter()
    traces = parallel.sweep(sim, grid, mesh=mesh, batch_size=args.batch_size, t_max=args.t_max)
    traces = np.asarray(traces)[:, 0]  # (n_sets, n_time) every process holds all of them
    elapsed = time.perf_counter() - start
    up = (traces[:, 1:] > 0.0) & (traces[:, :-1] <= 0.0)
    spikes = up.sum(axis=1)
    if jax.process_index() == 0:
        print(
            f"{args.n_sets} simulations on {mesh.size} {jax.devices()[0].platform} device(s) "
            f"in {jax.process_count()} process(es): {elapsed:.2f} s (with compilation)"
        )
        print(f"spikes per set: min {spikes.min()}, max {spikes.max()}, mean {spikes.mean():.2f}")
        if args.save:
            np.savez(args.save, v=traces, **{k: v for d in grid for k, v in d.items()})
            print(f"saved {args.save}")
    if args.distributed:
        parallel.shutdown()


if __name__ == "__main__":
    main()
