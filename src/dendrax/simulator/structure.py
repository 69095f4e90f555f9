"""Compile a module's structure: the solver's tree, mechanism groups, index maps.

The `Structure` depends only on the topology and on which mechanisms sit where; it is
built from a `ModelTables` snapshot (`dendrax.simulator.model`), and the builder caches it
until the structure changes (channels inserted, synapses added, compartments changed).
Parameter and state values are not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dendrax.channels.channel import call_convention, has_exact_slope
from dendrax.pumps.pump import Pump
from dendrax.solvers.tree import TreeOrder, build_tree_order
from dendrax.synapses.synapse import synapse_call_convention

__all__ = ["Structure", "MechanismGroup", "compile_structure"]


@dataclass(frozen=True, eq=False)
class MechanismGroup:
    """One channel and the compartments that carry it."""

    mechanism: object
    rows: np.ndarray  # (k,) compartment indices
    covers_all: bool  # rows == arange(n_comp): gathers can be skipped
    convention: str  # "array" (Jaxley 0.13) or "scalar" (Jaxley 1.0)
    param_names: tuple
    state_names: tuple
    # The mechanism adapter, decided once here rather than probed in every step:
    exact_slope: bool = False  # `current_slope` gives dI/dv (else a finite difference)
    ion_flux: bool = False  # a pump with its own `ion_flux` (linearized for diffusion)


@dataclass(frozen=True, eq=False)
class SynapseGroup:
    """One synapse type and its edges."""

    mechanism: object
    rows: np.ndarray  # (k,) edge indices (rows of the edge table)
    covers_all: bool  # rows == arange(n_edges)
    convention: str  # "array" (Jaxley 0.13) or "scalar" (Jaxley 1.0)
    param_names: tuple
    state_names: tuple
    pre: np.ndarray  # (k,) presynaptic global compartment indices
    post: np.ndarray  # (k,) postsynaptic global compartment indices


@dataclass(frozen=True, eq=False)
class Structure:
    """Static description of a compiled module (numpy arrays, hashable by identity).

    Voltage nodes are the `n_comp` compartments followed by one zero-capacitance
    branchpoint node per branch that has children. For every tree edge (child node `i`,
    parent node `p = tree_parent[i]`) the axial resistance is
    `Ra[a] * load_a[a] + Ra[b] * load_b[b]` over the two half-compartments `a`, `b` adjacent
    to the edge (index `n_comp` stands for "no half-compartment").
    """

    n_comp: int
    n_nodes: int
    tree: TreeOrder
    tree_parent: np.ndarray  # (n_nodes,), -1 for roots
    half_a: np.ndarray  # (n_nodes,) compartment of the first half (or n_comp)
    half_a_is_out: np.ndarray  # (n_nodes,) bool: distal half (load_out) of half_a
    half_b: np.ndarray
    half_b_is_out: np.ndarray
    channels: tuple = field(default_factory=tuple)
    current_names: tuple = field(default_factory=tuple)
    node_param_names: tuple = field(default_factory=tuple)
    node_state_names: tuple = field(default_factory=tuple)
    n_edges: int = 0
    synapses: tuple = field(default_factory=tuple)
    edge_param_names: tuple = field(default_factory=tuple)
    edge_state_names: tuple = field(default_factory=tuple)
    synapse_current_names: tuple = field(default_factory=tuple)
    diffused_states: tuple = field(default_factory=tuple)  # ions diffusing intracellularly

    @property
    def coupled(self) -> bool:
        """Whether any node has a parent (False: unconnected compartments, a diagonal system)."""
        return bool(np.any(self.tree_parent >= 0))


def _tree_edges(branch_parents, ncomp_per_branch):
    n_comp = int(ncomp_per_branch.sum())
    n_branches = ncomp_per_branch.size
    first = np.concatenate([[0], np.cumsum(ncomp_per_branch)[:-1]])
    last = first + ncomp_per_branch - 1
    has_children = np.zeros(n_branches, dtype=bool)
    has_children[branch_parents[branch_parents >= 0]] = True
    bp_node = np.full(n_branches, -1, dtype=np.int64)
    bp_node[has_children] = n_comp + np.arange(int(has_children.sum()))
    n_nodes = n_comp + int(has_children.sum())

    parent = np.full(n_nodes, -1, dtype=np.int64)
    half_a = np.full(n_nodes, n_comp, dtype=np.int64)
    half_a_out = np.zeros(n_nodes, dtype=bool)
    half_b = np.full(n_nodes, n_comp, dtype=np.int64)
    half_b_out = np.zeros(n_nodes, dtype=bool)

    comps = np.arange(n_comp)
    is_first = np.zeros(n_comp, dtype=bool)
    is_first[first] = True
    # Within a branch: comp c hangs from c - 1 (distal half of c-1, proximal half of c).
    inner = comps[~is_first]
    parent[inner] = inner - 1
    half_a[inner], half_a_out[inner] = inner - 1, True
    half_b[inner] = inner
    # First comp of a child branch hangs from the parent's branchpoint (its proximal half).
    child_branches = np.flatnonzero(branch_parents >= 0)
    heads = first[child_branches]
    parent[heads] = bp_node[branch_parents[child_branches]]
    half_a[heads] = heads
    # A branchpoint hangs from the last comp of its branch (distal half).
    with_bp = np.flatnonzero(has_children)
    parent[bp_node[with_bp]] = last[with_bp]
    half_a[bp_node[with_bp]], half_a_out[bp_node[with_bp]] = last[with_bp], True
    return n_nodes, parent, half_a, half_a_out, half_b, half_b_out


def _has_own_ion_flux(mechanism) -> bool:
    """A pump whose class defines `ion_flux` (its flux enters the implicit ion solve)."""
    flux = getattr(type(mechanism), "ion_flux", Pump.ion_flux)
    return getattr(mechanism, "ion_name", None) is not None and flux is not Pump.ion_flux


def compile_structure(tables) -> Structure:
    """Build the `Structure` of a model from its `ModelTables` snapshot."""
    nodes = tables.nodes
    n_nodes, parent, half_a, half_a_out, half_b, half_b_out = _tree_edges(
        tables.branch_parents, tables.ncomp_per_branch
    )
    n_comp = int(tables.ncomp_per_branch.sum())
    groups = []
    current_names = []
    for channel in tables.channels:
        rows = np.flatnonzero(nodes[channel.name])
        if rows.size == 0:
            continue
        convention = call_convention(channel)
        groups.append(
            MechanismGroup(
                mechanism=channel,
                rows=rows,
                covers_all=rows.size == n_comp,
                convention=convention,
                param_names=tuple(channel.channel_params),
                state_names=tuple(channel.channel_states),
                exact_slope=convention == "array" and has_exact_slope(channel),
                ion_flux=convention == "array" and _has_own_ion_flux(channel),
            )
        )
        if channel.current_name and channel.current_name not in current_names:
            current_names.append(channel.current_name)
    state_names = ["v"] + [s for c in tables.channels for s in c.channel_states]
    state_names += [s for syn in tables.synapses for s in syn.node_states]
    state_names = list(dict.fromkeys(state_names))
    geometry_columns = tables.geometry_columns
    skip = set(tables.index_columns) | set(geometry_columns) | set(state_names)
    param_names = [k for k, col in nodes.items() if k not in skip and col.dtype.kind == "f"]
    param_names += list(geometry_columns)
    synapse_fields = _synapse_groups(tables)
    structure = Structure(
        n_comp=n_comp,
        n_nodes=n_nodes,
        tree=build_tree_order(parent),
        tree_parent=parent,
        half_a=half_a,
        half_a_is_out=half_a_out,
        half_b=half_b,
        half_b_is_out=half_b_out,
        channels=tuple(groups),
        current_names=tuple(current_names),
        node_param_names=tuple(param_names),
        node_state_names=tuple(state_names),
        diffused_states=tuple(tables.diffused_states),
        **synapse_fields,
    )
    return structure


def _synapse_groups(tables) -> dict:
    """Synapse groups and edge-table names of a model (empty without synapses)."""
    edges = tables.edges
    if not edges:
        return {}
    n_edges = int(edges["global_edge_index"].size)
    groups, params, states = [], [], []
    for synapse in tables.synapses:
        rows = np.flatnonzero(edges["type"] == synapse.name)
        if rows.size == 0:
            continue
        groups.append(
            SynapseGroup(
                mechanism=synapse,
                rows=rows,
                covers_all=rows.size == n_edges,
                convention=synapse_call_convention(synapse),
                param_names=tuple(synapse.synapse_params),
                state_names=tuple(synapse.synapse_states),
                pre=edges["pre_index"][rows].astype(np.int64),
                post=edges["post_index"][rows].astype(np.int64),
            )
        )
        params += [k for k in synapse.synapse_params if k not in params]
        states += [k for k in synapse.synapse_states if k not in states]
    return {
        "n_edges": n_edges,
        "synapses": tuple(groups),
        "edge_param_names": tuple(params),
        "edge_state_names": tuple(states),
        "synapse_current_names": tuple(f"i_{g.mechanism.name}" for g in groups),
    }
