"""Small networks the split-network tests and benchmark run (imported in subprocesses too).

`network(...)` builds `n_cells` cells of three shapes (1, 2 and 6 compartments, so that the
partitions are uneven), connected at random, with step currents into a few cells and the
voltage of every cell recorded at its first compartment. Two kinds:

- "ionotropic": HH cells and `IonotropicSynapse`s (graded, voltage-driven);
- "spike": Leak + Fire cells and excitatory `SpikeSynapse`s (driven by `Fire_spikes`).

With `delays`, every synapse gets a delay of 0.5 .. 2 ms (20 .. 80 steps of 0.025 ms);
`min_delay` sets the smallest (ms).
"""

from __future__ import annotations

import numpy as np

import dendrax as dx
from dendrax.channels import HH, Fire, Leak
from dendrax.synapses import IonotropicSynapse, SpikeSynapse

DT = 0.025  # ms
T_MAX = 20.0  # ms


def _cell(shape: int):
    if shape == 0:
        return dx.Cell(dx.Branch(dx.Compartment(), ncomp=1), parents=[-1])
    if shape == 1:
        return dx.Cell(dx.Branch(dx.Compartment(), ncomp=2), parents=[-1])
    return dx.Cell(dx.Branch(dx.Compartment(), ncomp=2), parents=[-1, 0, 0])


def network(
    n_cells: int = 12,
    kind: str = "ionotropic",
    delays: bool = False,
    seed: int = 0,
    p: float = 0.3,
    min_delay: float = 0.5,
    t_max: float = T_MAX,
    record_all: bool = True,
):
    """A random network (see the module docstring)."""
    rng = np.random.default_rng(seed)
    shapes = rng.integers(0, 3, n_cells)
    net = dx.Network([_cell(int(s)) for s in shapes])
    if kind == "ionotropic":
        net.insert(HH())
        synapse = IonotropicSynapse()
    else:
        net.insert(Leak())
        net.insert(Fire())
        synapse = SpikeSynapse()
    matrix = rng.random((n_cells, n_cells)) < p
    np.fill_diagonal(matrix, False)
    np.random.seed(seed)
    all_cells = net.cell(list(range(n_cells)))
    dx.connectivity_matrix_connect(all_cells, all_cells, synapse, matrix, random_post_comp=True)
    n_edges = int(matrix.sum())
    if kind == "ionotropic":
        net.set(f"{synapse.name}_gS", 0.02)
    else:
        net.set(f"{synapse.name}_gS", -0.02)
    if delays:
        lo = min_delay
        values = rng.uniform(lo, max(2.0, lo), n_edges)
        values[0] = lo  # the minimum is attained
        net.select(edges=list(range(n_edges))).set("delay", np.round(values / DT) * DT)
    amplitude = 0.5 if kind == "ionotropic" else 0.1
    for i in range(0, n_cells, 3):
        stim = dx.step_current(1.0 + i % 5, 6.0, amplitude, DT, t_max)
        net.cell(i).branch(0).comp(0).stimulate(stim, verbose=False)
    cells = range(n_cells) if record_all else range(min(n_cells, 4))
    for i in cells:
        net.cell(i).branch(0).comp(0).record("v", verbose=False)
    return net
