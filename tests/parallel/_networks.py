"""Small networks the split-network tests and benchmark run (imported in subprocesses too).

`network(...)` builds `n_cells` cells of three shapes (1, 2 and 6 compartments, so that the
partitions are uneven), connected at random, with step currents into every third cell and
the voltage of every cell recorded at its first compartment. Cells are HH cells, whose
`IonotropicSynapse`s (graded, voltage-driven) contact any other cell, or Leak + Fire cells,
whose excitatory `SpikeSynapse`s (driven by `Fire_spikes`) do: kind "ionotropic" (all HH),
"spike" (all Leak + Fire) or "mixed" (even cells HH, odd cells Leak + Fire).

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


def _connect(net, pre_cells, n_cells, synapse, rng, p):
    """Random synapses from `pre_cells` onto any other cell; their number."""
    matrix = rng.random((len(pre_cells), n_cells)) < p
    matrix[np.arange(len(pre_cells)), pre_cells] = False  # no autapses
    dx.connectivity_matrix_connect(
        net.cell(list(pre_cells)), net.cell(list(range(n_cells))), synapse, matrix, True
    )
    return int(matrix.sum())


def network(
    n_cells: int = 12,
    kind: str = "mixed",
    delays: bool = False,
    seed: int = 0,
    p: float = 0.3,
    min_delay: float = 0.5,
    t_max: float = T_MAX,
    record_all: bool = True,
    clamp: bool = False,
):
    """A random network (see the module docstring); `clamp`: the voltage of the last HH cell
    held at -60 mV (a clamp input; "mixed" only)."""
    rng = np.random.default_rng(seed)
    np.random.seed(seed)  # the postsynaptic compartments (numpy's global RNG, as Jaxley)
    shapes = rng.integers(0, 3, n_cells)
    net = dx.Network([_cell(int(s)) for s in shapes])
    cells = np.arange(n_cells)
    graded = cells if kind == "ionotropic" else cells[::2] if kind == "mixed" else cells[:0]
    spiking = np.setdiff1d(cells, graded)
    n_edges = 0
    if graded.size:
        net.cell(list(graded)).insert(HH())
        added = _connect(net, graded, n_cells, IonotropicSynapse(), rng, p)
        if added:
            net.set("IonotropicSynapse_gS", 0.002)
        n_edges += added
    if spiking.size:
        net.cell(list(spiking)).insert(Leak())
        net.cell(list(spiking)).insert(Fire())
        added = _connect(net, spiking, n_cells, SpikeSynapse(), rng, p)
        if added:
            net.set("SpikeSynapse_gS", -0.01)  # excitatory (outward positive)
        n_edges += added
    if delays:
        values = rng.uniform(min_delay, max(2.0, min_delay), n_edges)
        values[0] = min_delay  # the minimum is attained
        net.select(edges=list(range(n_edges))).set("delay", np.round(values / DT) * DT)
    for i in range(0, n_cells, 3):
        amplitude = 0.5 if i in graded else 0.1
        stim = dx.step_current(1.0 + i % 5, 6.0, amplitude, DT, t_max)
        net.cell(i).branch(0).comp(0).stimulate(stim, verbose=False)
    recorded = range(n_cells) if record_all else range(min(n_cells, 4))
    for i in recorded:
        net.cell(i).branch(0).comp(0).record("v", verbose=False)
    if kind == "mixed" and record_all and graded.size and spiking.size:
        _record_more(net, int(spiking[0]))
    if kind == "mixed" and clamp:
        values = np.full(int(t_max / DT) + 1, -60.0)
        net.cell(int(graded[-1])).branch(0).comp(0).clamp("v", values, verbose=False)
    return net


def _record_more(net, spiking_cell: int) -> None:
    """Also record a synapse state and current, a channel current and a spike flag."""
    types = net.edges["type"].to_numpy()
    graded, spiking = (
        np.flatnonzero(types == "IonotropicSynapse"),
        np.flatnonzero(types != "IonotropicSynapse"),
    )
    if graded.size and spiking.size:
        net.select(edges=[int(graded[-1])]).record("IonotropicSynapse_s", verbose=False)
        net.select(edges=[int(spiking[0])]).record("i_SpikeSynapse", verbose=False)
    net.cell(0).branch(0).comp(0).record("i_HH", verbose=False)
    net.cell(spiking_cell).branch(0).comp(0).record("Fire_spikes", verbose=False)
