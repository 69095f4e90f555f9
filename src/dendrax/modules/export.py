"""The builder's one door to the core: snapshots of a module's tables and its structure.

Nothing outside `dendrax.modules` reads a module's private state; the simulator works on
the `ModelTables` record made here (read-only copies) and on the `Structure` compiled
from it, cached on the base module until its layout changes. `cached_compile` keeps
compiled results on the module until its version changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from dendrax.simulator.model import (
    ModelTables,
    Trainable,
    frozen_array,
    frozen_columns,
    readonly_array,
)
from dendrax.simulator.structure import Structure, compile_structure
from dendrax.tables import GEOMETRY_COLUMNS, INDEX_COLUMNS

__all__ = ["cached_compile", "model_tables", "module_structure", "frozen_trainables"]


class ReadOnlyArrays(Sequence):
    """A read-only sequence over a list of arrays: item `i` is a read-only view of it,
    made when asked for (so a cheap `tables` does not cost one view per branch)."""

    __slots__ = ("_items",)

    def __init__(self, items):
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(readonly_array(x) for x in self._items[index])
        return readonly_array(self._items[index])

    def __add__(self, other):
        return tuple(self) + tuple(other)


def frozen_trainables(base) -> tuple:
    """The module's `make_trainable` records as immutable `Trainable`s."""
    return tuple(
        Trainable(
            key=t["key"],
            kind=t["kind"],
            rows=frozen_array(t["rows"]),
            param_of_row=frozen_array(t["param_of_row"]),
            n_values=int(t["init"].size),
        )
        for t in base._trainables
    )


def model_tables(module, copy: bool = True) -> ModelTables:
    """A read-only snapshot of the tables of `module` (any view: its base).

    `copy=True` (what a simulation is compiled from) copies every array, so later builder
    calls cannot change it; `copy=False` gives read-only views of the live arrays (cheap,
    for reading the tables now).
    """
    base = module.base
    freeze = frozen_array if copy else readonly_array
    return ModelTables(
        version=base._version,
        branch_parents=freeze(base._branch_parents),
        ncomp_per_branch=freeze(base._ncomp_per_branch),
        channels=tuple(base._channels),
        synapses=tuple(base._synapses),
        nodes=frozen_columns(base._nodes, copy),
        edges=frozen_columns(base._edges, copy),
        index_columns=tuple(INDEX_COLUMNS),
        geometry_columns=tuple(GEOMETRY_COLUMNS),
        trainables=frozen_trainables(base),
        frustum=freeze(base._frustum),
        diffused_states=tuple(base.__dict__.get("_diffused_states", ())),
        exp_euler_transition=base.__dict__.get("_exp_euler_transition"),
        recordings=tuple(base._recordings),
        stimuli=tuple((freeze(r), freeze(s)) for r, s in base._stimuli),
        clamps=tuple((state, kind, freeze(r), freeze(s)) for state, kind, r, s in base._clamps),
        level=base._level,
        branch_cell=freeze(base._branch_cell),
        # the builder replaces traced-point arrays, never writes into them: a copy of the
        # list is a snapshot (and one array copy per branch would cost more than the rest)
        xyzr=ReadOnlyArrays(list(base._xyzr) if copy else base._xyzr),
        groups=tuple(base._groups),
    )


def module_structure(module, tables: ModelTables | None = None) -> Structure:
    """The compiled `Structure` of `module`, cached until its layout changes (rows,
    columns, mechanisms or synapses; value changes keep it)."""
    base = module.base
    layout = base.__dict__.get("_layout_version", base._version)
    cached = base._sim_cache
    if cached is not None and cached[0] == layout:
        return cached[1]
    structure = compile_structure(model_tables(module) if tables is None else tables)
    base._sim_cache = (layout, structure)
    return structure


def cached_compile(module, key, build):
    """The value of `build()`, cached on `module`'s base under hashable `key` until its
    version changes.

    `build()` returns `(value, keep)`; a value with `keep=False` (e.g. one holding JAX
    tracers) is returned but not cached. Any mutation of the module (see
    `Module.version`) drops every cached result, so a hit is what `build()` would give now.
    """
    base = module.base
    cache = base.__dict__.get("_compile_cache")
    if cache is None or cache[0] != base._version:
        cache = (base._version, {})
        base._compile_cache = cache
    entries = cache[1]
    if key in entries:
        return entries[key]
    value, keep = build()
    if keep:
        entries[key] = value
    return value
