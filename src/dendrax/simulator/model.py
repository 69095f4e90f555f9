"""The model data a simulation is compiled from: an immutable snapshot of the builder.

The builder (`dendrax.modules`) is a mutable facade; `dendrax.modules.export.model_tables`
copies what a simulation reads into a `ModelTables` record, and everything in
`dendrax.simulator` works on that record only. Arrays in it are read-only copies, so a
later `set`, `make_trainable` or `stimulate` on the module cannot change a compiled
simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "Trainable",
    "ModelTables",
    "StaticArray",
    "frozen_array",
    "frozen_columns",
    "readonly_array",
]


def frozen_array(values) -> np.ndarray:
    """A read-only numpy copy of `values`."""
    out = np.array(values, copy=True)
    out.setflags(write=False)
    return out


def readonly_array(values) -> np.ndarray:
    """A read-only view of numpy array `values` (no copy)."""
    out = np.asarray(values).view()
    out.flags.writeable = False
    return out


def frozen_columns(table: Mapping, copy: bool = True) -> Mapping:
    """A read-only mapping of read-only copies (`copy=False`: views) of a table's columns."""
    freeze = frozen_array if copy else readonly_array
    return MappingProxyType({k: freeze(v) for k, v in table.items()})


class StaticArray:
    """A numpy array that hashes and compares by content: for static (compile-time) data.

    Index arrays (rows of trainables, recordings, stimuli) decide what a compiled simulation
    does, so they belong to the static part of a `Simulator` pytree; JAX caches compiled
    code on that part, which must be hashable.
    """

    __slots__ = ("array", "_hash")

    def __init__(self, values):
        self.array = frozen_array(values)
        self._hash = hash((self.array.shape, self.array.dtype.str, self.array.tobytes()))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, StaticArray)
            and self._hash == other._hash
            and self.array.shape == other.array.shape
            and self.array.dtype == other.array.dtype
            and np.array_equal(self.array, other.array)
        )

    def __repr__(self) -> str:
        return f"StaticArray(shape={self.array.shape}, dtype={self.array.dtype})"


@dataclass(frozen=True, eq=False)
class Trainable:
    """One `make_trainable` call: which table rows take which of its values.

    Attributes:
        key: the parameter or state name (e.g. "HH_gNa", "radius", "v").
        kind: "node" (compartment table) or "edge" (synapse table).
        rows: (m,) int rows of that table.
        param_of_row: (m,) int position of each row's value in the (n_values,) parameter.
        n_values: number of trainable values.
    """

    key: str
    kind: str
    rows: np.ndarray
    param_of_row: np.ndarray
    n_values: int

    def __getitem__(self, name: str):
        # record-style access, as the builder's dicts (`t["key"]`)
        return getattr(self, name)

    def static_key(self) -> tuple:
        return (self.key, self.kind, StaticArray(self.rows), StaticArray(self.param_of_row))


@dataclass(frozen=True, eq=False)
class ModelTables:
    """What a simulation reads from a module, frozen at one moment.

    Attributes:
        version: the builder's structure version when the snapshot was taken.
        branch_parents: (n_branches,) parent branch of every branch (-1 for roots).
        ncomp_per_branch: (n_branches,) compartments per branch.
        channels, synapses: the inserted mechanism objects, in insertion order.
        nodes: compartment columns (n_comp,) by name: parameters, states, membership flags.
        edges: synapse columns (n_edges,) by name (empty without synapses).
        index_columns, geometry_columns: the builder's bookkeeping and geometry column names.
        trainables: the `make_trainable` records, in order.
        frustum: (n_comp,) bool, compartments whose area and loads come from a frustum.
        diffused_states: ion states that diffuse intracellularly.
        exp_euler_transition: the propagators set by `customize_solver_exp_euler`, or None.
        recordings: `(state, kind, row)` per `record` call row, in order ("node"/"edge").
        stimuli: `(rows (k,), currents (k, T) nA)` per `stimulate` call.
        clamps: `(state, kind, rows (k,), values (k, T))` per `clamp` call.
        level: "comp", "branch", "cell" or "network" (the builder class of the module).
        branch_cell: (n_branches,) cell index of every branch.
        xyzr: traced points per branch, (n_points, 4) arrays of x, y, z, r (µm).
        groups: group names (boolean node columns), in creation order.
    """

    version: int
    branch_parents: np.ndarray
    ncomp_per_branch: np.ndarray
    channels: tuple
    synapses: tuple
    nodes: Mapping
    edges: Mapping
    index_columns: tuple
    geometry_columns: tuple
    trainables: tuple = field(default_factory=tuple)
    frustum: np.ndarray | None = None
    diffused_states: tuple = field(default_factory=tuple)
    exp_euler_transition: object = None
    recordings: tuple = field(default_factory=tuple)
    stimuli: tuple = field(default_factory=tuple)
    clamps: tuple = field(default_factory=tuple)
    level: str = "network"
    branch_cell: np.ndarray | None = None
    xyzr: tuple = field(default_factory=tuple)
    groups: tuple = field(default_factory=tuple)
