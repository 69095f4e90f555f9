"""The builder's one door to the core: snapshots of a module's tables and its structure.

Nothing outside `dendrax.modules` reads a module's private state; the simulator works on
the `ModelTables` record made here (read-only copies) and on the `Structure` compiled
from it, cached on the base module until its structure version changes.
"""

from __future__ import annotations

from dendrax.simulator.model import ModelTables, Trainable, frozen_array, frozen_columns
from dendrax.simulator.structure import Structure, compile_structure
from dendrax.tables import GEOMETRY_COLUMNS, INDEX_COLUMNS

__all__ = ["model_tables", "module_structure", "frozen_trainables"]


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


def model_tables(module) -> ModelTables:
    """A read-only snapshot of what a simulation of `module` reads (any view: its base)."""
    base = module.base
    return ModelTables(
        version=base._version,
        branch_parents=frozen_array(base._branch_parents),
        ncomp_per_branch=frozen_array(base._ncomp_per_branch),
        channels=tuple(base._channels),
        synapses=tuple(base._synapses),
        nodes=frozen_columns(base._nodes),
        edges=frozen_columns(base._edges) if base._edges else frozen_columns({}),
        index_columns=tuple(INDEX_COLUMNS),
        geometry_columns=tuple(GEOMETRY_COLUMNS),
        trainables=frozen_trainables(base),
        frustum=frozen_array(base._frustum),
        diffused_states=tuple(base.__dict__.get("_diffused_states", ())),
        exp_euler_transition=base.__dict__.get("_exp_euler_transition"),
        recordings=tuple(base._recordings),
        stimuli=tuple((frozen_array(r), frozen_array(s)) for r, s in base._stimuli),
        clamps=tuple(
            (state, kind, frozen_array(r), frozen_array(s)) for state, kind, r, s in base._clamps
        ),
    )


def module_structure(module, tables: ModelTables | None = None) -> Structure:
    """The compiled `Structure` of `module`, cached until its structure version changes."""
    base = module.base
    cached = base._sim_cache
    if cached is not None and cached[0] == base._version:
        return cached[1]
    structure = compile_structure(model_tables(module) if tables is None else tables)
    base._sim_cache = (base._version, structure)
    return structure
