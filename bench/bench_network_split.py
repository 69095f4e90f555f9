"""`dendrax.parallel.split_network`: a 2,000-cell network split over 8 forced host devices
against the unsplit single-device run.

Workload: 2,000 HH cells of 1 to 4 compartments (one branch), ~8,000 random
`IonotropicSynapse`s (cell pairs drawn with probability 8,000 / 2,000²), a step current into
every 10th cell, the voltage of every cell recorded, 20 ms of 0.025 ms steps, float64. Two
variants: no synaptic delays (exchange every step) and delays of 1 to 3 ms (exchange every
min-delay window). Printed per variant: first call (compilation and one run) and the best
of `--repeat` warm calls, in s, for the unsplit run and the split one; the bytes each device
receives per step against the size of the network's state; and max |dv| (mV) between them,
next to max |dv| between the unsplit run and itself with stimuli 1 ulp larger (the size of
rounding effects in this network).

The process forces 8 host devices (`XLA_FLAGS`, set before JAX starts). On the project's
2-core machine the 8 devices share 2 cores: the figures are for reference, not a speed-up
claim.

Usage: python bench/bench_network_split.py [--cells 2000] [--synapses 8000] [--t-max 20]
       [--devices 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--synapses", type=int, default=8000)
    parser.add_argument("--t-max", type=float, default=20.0)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


ARGS = _args()
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={ARGS.devices}"
)

import jax  # noqa: E402  (after XLA_FLAGS)

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import dendrax as dx  # noqa: E402
from dendrax import parallel  # noqa: E402
from dendrax.channels import HH  # noqa: E402
from dendrax.synapses import IonotropicSynapse  # noqa: E402

DT = 0.025  # ms


def network(n_cells: int, n_synapses: int, delays: bool, t_max: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    ncomps = rng.integers(1, 5, n_cells)
    cells = {
        k: dx.Cell(dx.Branch(dx.Compartment(), ncomp=int(k)), parents=[-1]) for k in range(1, 5)
    }
    net = dx.Network([cells[int(k)] for k in ncomps])
    net.insert(HH())
    matrix = rng.random((n_cells, n_cells)) < n_synapses / n_cells**2
    np.fill_diagonal(matrix, False)
    all_cells = net.cell(list(range(n_cells)))
    dx.connectivity_matrix_connect(all_cells, all_cells, IonotropicSynapse(), matrix)
    net.set("IonotropicSynapse_gS", 0.002)
    n_edges = int(matrix.sum())
    if delays:
        lags = rng.integers(40, 121, n_edges)  # 1 .. 3 ms
        net.select(edges=list(range(n_edges))).set("delay", lags * DT)
    for i in range(0, n_cells, 10):
        stim = dx.step_current(1.0 + i % 7, 5.0, 0.3, DT, t_max)
        net.cell(i).branch(0).comp(0).stimulate(stim, verbose=False)
    net.cell(list(range(n_cells))).branch(0).comp(0).record("v", verbose=False)
    return net, n_edges


def _timed(fn, repeat: int):
    start = time.perf_counter()
    out = np.asarray(fn())
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        np.asarray(fn())
        warm.append(time.perf_counter() - start)
    return out, first, min(warm)


def main() -> int:
    args = ARGS
    mesh = parallel.make_mesh(args.devices)
    print(
        f"{args.cells} HH cells, {args.devices} forced host devices, {args.t_max:g} ms, "
        f"float64 (jax {jax.__version__}, {os.cpu_count()} CPUs visible)"
    )
    for delays in (False, True):
        start = time.perf_counter()
        net, n_edges = network(args.cells, args.synapses, delays, args.t_max)
        sim = dx.compile(net, delta_t=DT)
        built = time.perf_counter() - start
        unsplit, u_first, u_warm = _timed(lambda s=sim: s.run(t_max=args.t_max), args.repeat)
        start = time.perf_counter()
        split = parallel.split_network(sim, mesh)
        setup = time.perf_counter() - start
        out, s_first, s_warm = _timed(lambda s=split: s.run(t_max=args.t_max), args.repeat)
        volume = split.exchanged_bytes()
        print(
            f"\n--- {'delays 1-3 ms' if delays else 'no delays'}: {sim.structure.n_comp} "
            f"compartments, {n_edges} synapses (network built and compiled in {built:.1f} s)"
        )
        print(split.describe())
        print(f"{'run':<10}{'first call s':>14}{'warm s':>10}")
        print(f"{'unsplit':<10}{u_first:>14.2f}{u_warm:>10.3f}")
        print(f"{'split':<10}{s_first:>14.2f}{s_warm:>10.3f}   (split set-up {setup:.2f} s)")
        print(
            f"exchange {volume['mode']} every {volume['window']} step(s): "
            f"{volume['received_per_step']:.0f} B received per device per step, "
            f"{volume['sent_per_exchange']} B sent per device per exchange; "
            f"full state {volume['full_state']} B"
        )
        # the scale of rounding effects: the unsplit run with its stimuli changed by 1 ulp
        nudged = {"i": np.asarray(sim.inputs["i"]) * (1.0 + np.finfo(float).eps)}
        perturbed = np.asarray(sim.run(t_max=args.t_max, inputs=nudged))
        print(
            f"max |dv| split vs unsplit: {np.abs(out - unsplit).max():.3g} mV "
            f"(unsplit vs unsplit with 1-ulp larger stimuli: "
            f"{np.abs(perturbed - unsplit).max():.3g} mV)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
