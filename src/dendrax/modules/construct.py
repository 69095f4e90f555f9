"""The one path that builds a module's tables, and the module's state for saving.

Every base module (Compartment, Branch, Cell, Network, `Cell.from_tables`, the SWC and graph
readers, `morph_delete` / `morph_connect`, `load_module`) gets its tables from
`init_tables`: it recomputes the index columns, copies the columns and sets every
attribute the builder keeps (inputs, trainables, versions, caches) to its empty state.

Tables (shapes; units as in the node table: µm, Ω·cm, µF/cm², mV):
    nodes: {name: (n_comp,) array}; branch_parents: (n_branches,) int, -1 for roots;
    ncomp_per_branch: (n_branches,) int; branch_cell: (n_branches,) int cell of a branch;
    xyzr: list of (n_points, 4) traced points per branch; frustum: (n_comp,) bool;
    channels, groups, synapses: lists; edges: {name: (n_edges,) array}.
"""

from __future__ import annotations

import copy

import numpy as np

from dendrax.errors import ModelError
from dendrax.tables import index_columns

__all__ = ["BUILDER_STATE", "init_tables", "merged_parts", "new_module", "saved_state"]

#: The attributes `init_tables` sets: the builder's whole private state of a base module.
#: Other attributes (user-set ones, diffused states, `jaxnodes`) are not tables.
BUILDER_STATE = frozenset(
    {
        "base",
        "_nodes",
        "_branch_parents",
        "_ncomp_per_branch",
        "_branch_cell",
        "_xyzr",
        "_frustum",
        "_channels",
        "_groups",
        "_synapses",
        "_edges",
        "_edge_inds",
        "_recordings",
        "_stimuli",
        "_clamps",
        "_trainables",
        "_version",
        "_layout_version",
        "_sim_cache",
        "_compile_cache",
        "_scope",
        "_jit_cache",
        "_controlled_by_param",
        "_exp_euler_transition",
    }
)

#: Caches: dropped when a module is copied, pickled or saved.
CACHES = ("_sim_cache", "_compile_cache", "_jit_cache")


def init_tables(
    module,
    nodes,
    branch_parents,
    ncomp_per_branch,
    branch_cell,
    *,
    channels=(),
    groups=(),
    xyzr=None,
    frustum=None,
    synapses=(),
    edges=None,
) -> None:
    """Give base module `module` these tables (copied) and empty inputs and trainables."""
    ncomp = np.asarray(ncomp_per_branch, dtype=np.int64)
    branch_cell = np.asarray(branch_cell, dtype=np.int64)
    columns = {k: np.array(v, copy=True) for k, v in nodes.items()}
    columns.update(index_columns(ncomp, branch_cell))
    module.base = module
    module._nodes = columns
    module._branch_parents = np.array(branch_parents, dtype=np.int64)
    module._ncomp_per_branch = ncomp.copy()
    module._branch_cell = branch_cell.copy()
    module._channels = list(channels)
    module._groups = list(groups)
    module._synapses = list(synapses)
    module._edges = {k: np.array(v, copy=True) for k, v in (edges or {}).items()}
    module._xyzr = [np.asarray(x, float).copy() for x in (xyzr or [])]
    n_comp = int(ncomp.sum())
    module._frustum = (
        np.zeros(n_comp, dtype=bool) if frustum is None else np.array(frustum, dtype=bool)
    )
    module._recordings = []
    module._stimuli = []
    module._clamps = []
    module._trainables = []
    module._version = 0
    module._layout_version = 0
    module._sim_cache = None
    module._compile_cache = None
    module._scope = "local"
    module._edge_inds = np.zeros(0, dtype=np.int64)


def new_module(cls, like=None, **tables):
    """A new base module of class `cls` with `tables` (see `init_tables`).

    With `like` (a base module), the attributes that are not tables (e.g. the diffusing
    states, attributes set by the user) are deep copies of `like`'s, so that editing the
    new module never changes `like`. Mechanism objects are shared, as between a Cell and
    the Network built from it.
    """
    module = object.__new__(cls)
    if like is not None:
        kept = {k: v for k, v in like.__dict__.items() if k not in BUILDER_STATE}
        module.__dict__.update(copy.deepcopy(kept))
    init_tables(module, **tables)
    return module


def merged_parts(parts, kind: str) -> tuple[list, list, list]:
    """(channels, groups, xyzr) of the modules `parts` assembled into a `kind` module.

    Diffusion couples the compartments of a whole module: a part's diffusion would be
    silently lost (or leak into its new neighbours), so it must be switched on afterwards.
    """
    channels, groups, xyzr = [], [], []
    for part in parts:
        base = part.base
        diffused = base.__dict__.get("_diffused_states", [])
        if diffused:
            raise ModelError(
                f"A {type(base).__name__} that is assembled into a {kind} diffuses "
                f"{diffused}. Build the {kind} from modules without diffusion and call "
                f"`.diffuse(...)` on the {kind} instead."
            )
        names = [c.name for c in channels]
        channels.extend(c for c in base._channels if c.name not in names)
        groups.extend(g for g in base._groups if g not in groups)
        xyzr.extend(base._xyzr)
    return channels, groups, xyzr


def saved_state(module) -> dict:
    """The attributes of base module `module` that define it (caches left out), for saving."""
    return {k: v for k, v in module.__dict__.items() if k != "base" and k not in CACHES}


def restored_module(cls, state: dict):
    """A base module of class `cls` from `saved_state` output (already checked)."""
    module = object.__new__(cls)
    module.__dict__.update(state)
    module.base = module
    module.__dict__.setdefault("_layout_version", module.__dict__.get("_version", 0))
    module._sim_cache = None
    module._compile_cache = None
    return module
