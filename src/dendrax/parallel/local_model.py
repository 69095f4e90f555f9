"""The part of a network one device simulates: its own cells, and copies of remote inputs.

A device's local model holds the compartments of its own cells (in global order), then one
*ghost* compartment per remote presynaptic compartment that drives a synapse onto one of
its cells, and the synapses whose postsynaptic compartment it owns (in global order). A
ghost is an isolated compartment without channels: nothing is solved there that matters;
its voltage (and the presynaptic states synapses read) is overwritten with the values the
owning device sends. Own cells keep their tree, channels and parameters unchanged, so each
device's step is the single-device step (`dendrax.simulator.run.make_step_halves`) of a
smaller `Structure`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dendrax.simulator.presynaptic_drive import presynaptic_sharing
from dendrax.simulator.structure import Structure
from dendrax.simulator.synapse_step import DelayPlan
from dendrax.solvers.tree import build_tree_order

__all__ = ["LocalModel", "local_models", "edge_lags"]


@dataclass(frozen=True, eq=False)
class LocalModel:
    """One device's share of a network (all numpy; static).

    Attributes:
        device: position along the mesh axis.
        structure: the local `Structure` (own compartments, then ghosts; local synapses).
        comps: (n_local,) global compartment of each local compartment.
        n_own: compartments of own cells (the first `n_own` local compartments).
        n_cells: own cells.
        edges: (n_local_edges,) global synapse (edge) index of each local synapse.
        n_cut: local synapses whose presynaptic compartment is on another device.
        nodes: local compartment (n_local,) and synapse (n_local_edges,) columns by name.
        frustum: (n_local,) bool.
        delay_plan: the local `DelayPlan` (global ring length, local rows), or None.
        shared_drive: `presynaptic_sharing` of the local synapse groups.
        ghost_src: (n_ghost,) device that owns each ghost's compartment.
        ghost_slot: (n_ghost,) position of the ghost's compartment in that device's sends.
        send_rows: (n_send,) local rows of own compartments other devices need.
    """

    device: int
    structure: Structure
    comps: np.ndarray
    n_own: int
    n_cells: int
    edges: np.ndarray
    n_cut: int
    nodes: dict
    frustum: np.ndarray
    delay_plan: DelayPlan | None
    shared_drive: tuple
    ghost_src: np.ndarray
    ghost_slot: np.ndarray
    send_rows: np.ndarray

    @property
    def n_ghost(self) -> int:
        return int(self.comps.size - self.n_own)

    @property
    def ghost_rows(self) -> np.ndarray:
        return np.arange(self.n_own, self.comps.size)


class _Tables:
    """The table view `presynaptic_sharing` reads (edges and trainables)."""

    def __init__(self, edges):
        self.edges = edges
        self.trainables = ()


def edge_lags(structure: Structure, plan: DelayPlan | None) -> np.ndarray:
    """(n_edges,) delay of every synapse in steps (0 without a delay plan)."""
    lags = np.zeros(structure.n_edges, np.int64)
    if plan is not None:
        for group, lag in zip(structure.synapses, plan.lags, strict=True):
            lags[group.rows] = lag
    return lags


def _edge_pre_post(structure: Structure):
    pre = np.zeros(structure.n_edges, np.int64)
    post = np.zeros(structure.n_edges, np.int64)
    for group in structure.synapses:
        pre[group.rows], post[group.rows] = group.pre, group.post
    return pre, post


def _local_structure(structure: Structure, comps, n_own, bp_nodes, edges) -> Structure:
    """`structure` cut to local compartments `comps` (own first, then ghosts), own branch
    points `bp_nodes` (global node indices) and local synapses `edges` (global rows)."""
    n_local = comps.size
    to_local = np.full(structure.n_nodes, -1, np.int64)
    to_local[comps[:n_own]] = np.arange(n_own)
    to_local[comps[n_own:]] = np.arange(n_own, n_local)
    to_local[bp_nodes] = n_local + np.arange(bp_nodes.size)
    nodes = np.concatenate([comps[:n_own], bp_nodes])  # ghosts have no tree edges
    n_nodes = n_local + bp_nodes.size

    def local_nodes(values, fill):
        out = np.full(n_nodes, fill, dtype=np.asarray(values).dtype)
        out[to_local[nodes]] = values[nodes]
        return out

    parent = local_nodes(structure.tree_parent, -1)
    parent = np.where(parent >= 0, to_local[np.maximum(parent, 0)], -1)
    # half indices are compartments (< n_comp) or the sentinel n_comp ("no half"), which
    # is also the global index of the first branch point: mapped apart
    halves = [
        np.where(
            local_nodes(half, structure.n_comp) >= structure.n_comp,
            n_local,
            to_local[np.minimum(local_nodes(half, structure.n_comp), structure.n_comp - 1)],
        )
        for half in (structure.half_a, structure.half_b)
    ]
    half_a_out = local_nodes(structure.half_a_is_out, False)
    half_b_out = local_nodes(structure.half_b_is_out, False)

    channels = []
    for group in structure.channels:
        rows = to_local[group.rows]
        rows = np.sort(rows[(rows >= 0) & (rows < n_own)])
        if rows.size:
            channels.append(dataclasses.replace(group, rows=rows, covers_all=rows.size == n_local))

    edge_fields = {"n_edges": 0, "synapses": ()}
    edge_fields.update(edge_param_names=(), edge_state_names=(), synapse_current_names=())
    if edges.size:
        edge_to_local = np.full(structure.n_edges, -1, np.int64)
        edge_to_local[edges] = np.arange(edges.size)
        synapses = []
        for group in structure.synapses:
            keep = edge_to_local[group.rows] >= 0
            if not np.any(keep):
                continue
            rows = edge_to_local[group.rows[keep]]
            synapses.append(
                dataclasses.replace(
                    group,
                    rows=rows,
                    covers_all=rows.size == edges.size,
                    pre=to_local[group.pre[keep]],
                    post=to_local[group.post[keep]],
                )
            )
        edge_fields = {
            "n_edges": int(edges.size),
            "synapses": tuple(synapses),
            "edge_param_names": structure.edge_param_names,
            "edge_state_names": structure.edge_state_names,
            "synapse_current_names": tuple(f"i_{g.mechanism.name}" for g in synapses),
        }
    return dataclasses.replace(
        structure,
        n_comp=n_local,
        n_nodes=n_nodes,
        tree=build_tree_order(parent),
        tree_parent=parent,
        half_a=halves[0],
        half_a_is_out=half_a_out,
        half_b=halves[1],
        half_b_is_out=half_b_out,
        channels=tuple(channels),
        **edge_fields,
    )


def _local_delay_plan(global_plan, structure_local, lags_local):
    """The local ring buffer: the global length and names, the local presynaptic rows."""
    if global_plan is None or structure_local.n_edges == 0:
        return None
    rows = np.unique(np.concatenate([g.pre for g in structure_local.synapses]))
    edge_of = [g.rows for g in structure_local.synapses]
    return DelayPlan(
        length=global_plan.length,
        rows=rows,
        names=global_plan.names,
        slots=tuple(np.searchsorted(rows, g.pre) for g in structure_local.synapses),
        lags=tuple(lags_local[r] for r in edge_of),
    )


def local_models(sim, partition) -> tuple:
    """One `LocalModel` per device of `partition`, for the compiled network `sim`.

    Args:
        sim: a `Simulator` of a network.
        partition: a `dendrax.parallel.partition.Partition` of its cells.
    """
    structure = sim.spec.structure
    n_dev = partition.n_devices
    owner = partition.device_of_comp
    pre, post = _edge_pre_post(structure)
    lags = edge_lags(structure, sim.spec.delay_plan)
    # branch points belong to the cell of the compartment they hang from
    bp = np.arange(structure.n_comp, structure.n_nodes)
    bp_owner = owner[structure.tree_parent[bp]] if bp.size else np.zeros(0, np.int64)

    edges_of, ghosts_of = [], []
    for d in range(n_dev):
        edges = np.flatnonzero(owner[post] == d)
        remote = edges[owner[pre[edges]] != d]
        edges_of.append(edges)
        ghosts_of.append(np.unique(pre[remote]))
    # what each device sends: its compartments that are ghosts somewhere else
    all_ghosts = np.unique(np.concatenate(ghosts_of)) if n_dev else np.zeros(0, np.int64)
    sends = [all_ghosts[owner[all_ghosts] == d] for d in range(n_dev)]

    models = []
    for d in range(n_dev):
        own = partition.comps_of(d)
        ghosts = ghosts_of[d]
        comps = np.concatenate([own, ghosts]).astype(np.int64)
        edges = edges_of[d]
        local = _local_structure(structure, comps, own.size, bp[bp_owner == d], edges)
        nodes = {}
        for name in structure.node_param_names + structure.node_state_names:
            nodes[name] = np.asarray(sim.nodes[name])[comps]
        for name in structure.edge_param_names + structure.edge_state_names:
            nodes[name] = np.asarray(sim.nodes[name])[edges]
        plan = _local_delay_plan(sim.spec.delay_plan, local, lags[edges])
        src = owner[ghosts]
        slot = np.array(
            [np.searchsorted(sends[s], g) for s, g in zip(src, ghosts, strict=True)], np.int64
        )
        to_local = np.full(structure.n_comp, -1, np.int64)
        to_local[own] = np.arange(own.size)
        models.append(
            LocalModel(
                device=d,
                structure=local,
                comps=comps,
                n_own=int(own.size),
                n_cells=int(partition.cells_of(d).size),
                edges=edges,
                n_cut=int(np.count_nonzero(owner[pre[edges]] != d)),
                nodes=nodes,
                frustum=np.asarray(sim.spec.frustum)[comps],
                delay_plan=plan,
                shared_drive=presynaptic_sharing(_Tables(nodes), local, [], plan),
                ghost_src=src.astype(np.int64),
                ghost_slot=slot,
                send_rows=to_local[sends[d]],
            )
        )
    return tuple(models)
