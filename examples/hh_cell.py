"""A branched Hodgkin–Huxley cell driven by a step current.

Prints the number of somatic spikes and writes the voltage traces (mV vs ms) to the PNG
given by `--out` (default `hh_cell.png`).
Run with `python examples/hh_cell.py --out hh_cell.png`.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402


def build_cell() -> jx.Cell:
    """A 5-branch cell with 4 compartments per branch and HH everywhere."""
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=4)
    cell = jx.Cell(branch, parents=[-1, 0, 0, 1, 1])
    cell.insert(HH())
    cell.init_states()
    return cell


def count_spikes(trace: np.ndarray, threshold: float = 0.0) -> int:
    """Upward threshold crossings of a voltage trace (mV)."""
    above = trace > threshold
    return int(np.sum(~above[:-1] & above[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="hh_cell.png", help="output figure (PNG)")
    parser.add_argument("--t-max", type=float, default=50.0, help="duration (ms)")
    args = parser.parse_args()

    dt = 0.025
    cell = build_cell()
    current = jx.step_current(i_delay=5.0, i_dur=40.0, i_amp=0.05, delta_t=dt, t_max=args.t_max)
    cell.branch(0).loc(0.0).stimulate(current, verbose=False)
    cell.branch(0).loc(0.0).record("v", verbose=False)
    cell.branch(3).loc(1.0).record("v", verbose=False)

    start = time.perf_counter()
    voltages = np.asarray(jx.integrate(cell, t_max=args.t_max, delta_t=dt))
    elapsed = time.perf_counter() - start
    spikes = count_spikes(voltages[0])
    print(
        f"Simulated {args.t_max} ms of a {cell.shape[0]}-branch HH cell in {elapsed:.2f} s "
        "(including compilation)."
    )
    print(f"Spikes at the stimulated compartment: {spikes}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    time_axis = np.arange(voltages.shape[1]) * dt
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(time_axis, voltages[0], label="branch 0, loc 0 (stimulated)")
    ax.plot(time_axis, voltages[1], label="branch 3, loc 1 (distal tip)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("v (mV)")
    ax.set_title(f"dendrax: HH cell, {spikes} spikes")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
