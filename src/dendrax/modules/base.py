"""The `Module` builder base class: tables, views and indexing.

A base module (Compartment, Branch, Cell, Network) owns columnar numpy tables; a `View` is a
module that holds row indices into its base's tables. Every method works on both: writes go
to `view.base`. Parameter/state editing, inputs and trainables live in mixins of their own.
"""

from __future__ import annotations

import copy as _copy

import numpy as np

from dendrax.errors import ModelError
from dendrax.modules.construct import CACHES, init_tables, merged_parts
from dendrax.modules.facade import FacadeMixin
from dendrax.modules.inputs import InputsMixin
from dendrax.modules.jax_tables import JaxTablesMixin
from dendrax.modules.morphology_mixin import MorphologyMixin
from dendrax.modules.numerics import NumericsMixin
from dendrax.modules.parameters import ParametersMixin
from dendrax.modules.selection import (
    as_index_values,
    dense_rank_within,
    resolve_index,
    unknown_name_error,
)
from dendrax.modules.synapse_table import copy_node_property_to_edges
from dendrax.modules.trainables import TrainablesMixin
from dendrax.morphology.layout import compartment_centers
from dendrax.tables import INDEX_COLUMNS

__all__ = ["Module", "View"]

LEVELS = ("network", "cell", "branch", "comp")
_NEXT_LEVEL = {"network": "cell", "cell": "branch", "branch": "comp", "comp": None}


class Module(
    FacadeMixin,
    ParametersMixin,
    InputsMixin,
    TrainablesMixin,
    MorphologyMixin,
    NumericsMixin,
    JaxTablesMixin,
):
    """Base class of compartments, branches, cells, networks and their views."""

    _level = "network"

    # ------------------------------------------------------------------ construction
    def _init_base(self, nodes, branch_parents, ncomp_per_branch, branch_cell, parts=(), **tables):
        """Initialize the tables of a base module assembled from `parts` (the subclasses'
        constructors; `dendrax.modules.construct.init_tables` is the one path). `tables`
        overrides the merged `xyzr` and other tables (see `init_tables`)."""
        channels, groups, xyzr = merged_parts(parts, type(self).__name__)
        merged = {"channels": channels, "groups": groups, "xyzr": xyzr, **tables}
        init_tables(self, nodes, branch_parents, ncomp_per_branch, branch_cell, **merged)

    def _channel_names(self):
        return [c.name for c in self.base._channels]

    # ------------------------------------------------------------------ basic properties
    @property
    def _inds(self) -> np.ndarray:
        return np.arange(self.base._ncomp_per_branch.sum())

    @property
    def _sharing(self) -> np.ndarray:
        """`controlled_by_param` of a base module: 0 (one shared value) unless set by the
        user through `module.nodes["controlled_by_param"] = ...`."""
        shared = self.__dict__.get("_controlled_by_param")
        if shared is not None and shared.size == self._inds.size:
            return shared
        return np.zeros(self._inds.size, dtype=np.int64)

    @property
    def nodes(self):
        """The compartments in view as a pandas DataFrame (built on demand).

        Columns: the node table, then `controlled_by_param` (which trainable value of
        `make_trainable` each row would share). A view shows its own local indices
        (counted within the view). On a base module, assigning or deleting a column of
        the frame changes the module (Jaxley's `nodes` is the table itself).
        """
        from dendrax.modules.frames import node_frame

        inds = self._inds
        cols = {name: col[inds] for name, col in self.base._nodes.items()}
        if self is not self.base and inds.size:
            for what in ("branch", "comp"):
                cols[f"local_{what}_index"] = self._view_local_index(what)
        if not all(k in cols for k in "xyz"):
            # Jaxley's tables always hold compartment centers x, y, z (µm); dendrax computes
            # them on demand unless `compute_compartment_centers` stored them.
            self._ensure_xyz()
            base = self.base
            centers = compartment_centers(base._xyzr, base._ncomp_per_branch)[inds]
            for d, k in enumerate("xyz"):
                cols.setdefault(k, centers[:, d])
        cols["controlled_by_param"] = self._sharing
        return node_frame(cols, inds, self if self is self.base else None)

    @property
    def edges(self):
        """The synapses in view as a pandas DataFrame (built on demand, a copy), with
        `controlled_by_param` (the trainable value each synapse would share)."""
        import pandas as pd

        inds = self._edge_view_inds()
        cols = {name: col[inds] for name, col in self.base._edges.items()}
        if cols:
            sharing = self.__dict__.get("_edge_sharing")
            cols["controlled_by_param"] = (
                np.zeros(inds.size, np.int64) if sharing is None else sharing
            )
        return pd.DataFrame(cols, index=pd.Index(inds))

    def _write_node_column(self, key: str, values) -> None:
        """Store column `key` of a base module's node table (from `module.nodes[key] = ...`)."""
        base = self.base
        values = np.asarray(values)
        if values.shape != (base._inds.size,):
            raise ValueError(f"nodes[{key!r}] needs one value per compartment ({base._inds.size}).")
        if key == "controlled_by_param":
            if not np.issubdtype(values.dtype, np.integer):
                raise TypeError(f"controlled_by_param must be integers; got {values.dtype}.")
            base._controlled_by_param = values.astype(np.int64)
            self._touch()
            return
        if key in INDEX_COLUMNS:
            raise ModelError(f"{key!r} is an index column and cannot be changed.")
        old = base._nodes.get(key)
        base._nodes[key] = values.astype(old.dtype) if old is not None else values.copy()
        self._touch(layout=old is None)

    def _delete_node_columns(self, keys) -> None:
        """Remove user columns or groups from a base module (`del module.nodes[key]`)."""
        base = self.base
        protected = set(INDEX_COLUMNS) | set(self._channel_names()) | {"v"}
        protected |= {"radius", "length", "axial_resistivity", "capacitance"}
        protected |= {k for c in base._channels for k in (*c.channel_params, *c.channel_states)}
        for key in keys:
            if key == "controlled_by_param":
                base._controlled_by_param = None
                continue
            if key in protected:
                raise ModelError(
                    f"{key!r} is a parameter, state, channel or index column and cannot be "
                    "deleted from the node table."
                )
            if key not in base._nodes:
                continue
            del base._nodes[key]
            if key in base._groups:
                base._groups.remove(key)
        self._touch(layout=True)

    def _edge_view_inds(self) -> np.ndarray:
        n_edges = len(next(iter(self.base._edges.values()))) if self.base._edges else 0
        if self is self.base:
            return np.arange(n_edges)
        return self._edge_inds

    @property
    def channels(self):
        """Channels inserted in at least one compartment in view (all of them for a module)."""
        if self is self.base:
            return list(self.base._channels)
        nodes, inds = self.base._nodes, self._inds
        return [c for c in self.base._channels if nodes[c.name][inds].any()]

    @property
    def membrane_current_names(self) -> list:
        """`current_name` of every channel in `channels` (e.g. `["i_Na", "i_K"]`)."""
        return [c.current_name for c in self.channels if c.current_name]

    @property
    def synapses(self):
        return list(self.base._synapses)

    @property
    def group_names(self):
        return list(self.base._groups)

    @property
    def xyzr(self):
        return self.base._xyzr

    @property
    def ncomp_per_branch(self) -> np.ndarray:
        branches = np.unique(self._col("global_branch_index"))
        return self.base._ncomp_per_branch[branches]

    @property
    def ncomp(self) -> int:
        """Compartments per branch (when equal in all branches in view)."""
        counts = np.unique(self.ncomp_per_branch)
        if counts.size != 1:
            raise ValueError(f"Branches in view have different ncomp: {counts.tolist()}.")
        return int(counts[0])

    @property
    def initialized(self) -> bool:
        return True

    @property
    def shape(self) -> tuple:
        """Counts of (cells, branches, comps) in view, truncated to the base module's level.

        A view has the shape layout of its base module (Jaxley): `net.cell(0).shape` is
        (1, n_branches, n_comps) and `cell.branch("all").shape` is (n_branches, n_comps).
        """
        n_cells = np.unique(self._col("global_cell_index")).size
        n_branches = np.unique(self._col("global_branch_index")).size
        n_comps = self._inds.size
        level = self.base._level
        full = {"network": (n_cells, n_branches, n_comps), "cell": (n_branches, n_comps)}
        return full.get(level, (n_comps,) if level == "branch" else ())

    def _col(self, name: str) -> np.ndarray:
        return self.base._nodes[name][self._inds]

    def __repr__(self) -> str:
        kind = type(self).__name__
        return (
            f"{kind} with {len(self.base._channels)} different channels and "
            f"{self._inds.size} compartments. Use `.nodes` for details."
        )

    def __len__(self) -> int:
        nxt = _NEXT_LEVEL[self._level]
        return len(list(self._units(nxt))) if nxt else 1

    # ------------------------------------------------------------------ views
    def _view(self, inds, level=None, sharing=None, edge_inds=None) -> View:
        inds = np.asarray(inds, dtype=np.int64)
        if inds.size == 0:
            raise ValueError(
                "Nothing in view: the selection is empty. Check the indices or group names."
            )
        if edge_inds is None:
            # Synapses stay in view when both their compartments are in view (as Jaxley).
            edge_inds = self._edge_view_inds()
            if edge_inds.size:
                in_view = np.zeros(self.base._inds.size, dtype=bool)
                in_view[inds] = True
                edges = self.base._edges
                keep = (
                    in_view[edges["pre_index"][edge_inds]] & in_view[edges["post_index"][edge_inds]]
                )
                edge_inds = edge_inds[keep]
        return View._make(
            self.base,
            inds,
            level or self._level,
            np.zeros(inds.size, np.int64) if sharing is None else sharing,
            edge_inds,
            self._scope,
        )

    def _local_values(self, what: str) -> tuple[np.ndarray, np.ndarray]:
        """Index values used by `cell/branch/comp` in the current scope, and unit keys.

        Local scope (Jaxley's default) counts within the view: `branch(i)` is the i-th branch
        in view of each cell, `comp(i)` the i-th compartment in view of each branch (also on
        cells and networks). Cells keep their index in the base module. Global scope uses
        the base module's global indices.
        """
        cell = self._col("global_cell_index")
        if what == "cell":
            return cell, np.zeros_like(cell)
        if self._scope == "global":
            return self._col(f"global_{what}_index"), np.zeros_like(cell)
        if what == "branch":
            return self._view_local_index("branch"), cell
        return self._view_local_index("comp"), self._col("global_branch_index")

    def _view_local_index(self, what: str) -> np.ndarray:
        """Local `what` ("branch" or "comp") index of each row in view, counted in the view.

        Branches are counted within their cell and compartments within their branch, in
        the order of their global index (Jaxley's local indices of a view). For a base module
        these equal the stored `local_*_index` columns.
        """
        if self is self.base:
            return self._col(f"local_{what}_index")
        enclosing = "cell" if what == "branch" else "branch"
        return dense_rank_within(
            self._col(f"global_{what}_index"), self._col(f"global_{enclosing}_index")
        )

    def _reformat_index(self, idx) -> np.ndarray:
        """The index values `idx` asks for, as an int64 array (Jaxley's helper name).

        Slices and "all" refer to the range of the base module's compartments.
        """
        return as_index_values(idx, np.arange(self.base._inds.size), "index")

    def _select_level(self, what: str, idx) -> View:
        values, units = self._local_values(what)
        positions = resolve_index(values, units, idx, what)
        inds = self._inds[positions]
        sharing = self.base._nodes[f"global_{what}_index"][inds]
        return self._view(inds, level=what, sharing=sharing)

    def cell(self, idx="all") -> View:
        """Cells in view by index (int, list, range, slice, array, bool mask or "all")."""
        return self._select_level("cell", idx)

    def branch(self, idx="all") -> View:
        """Branches in view; local scope counts the branches in view within each cell."""
        return self._select_level("branch", idx)

    def comp(self, idx="all") -> View:
        """Compartments in view; local scope counts within each branch in view."""
        if self is self.base and self._level == "comp":
            raise ModelError("A Compartment cannot be indexed with comp(); use it directly.")
        return self._select_level("comp", idx)

    def loc(self, at) -> View:
        """The compartment containing position `at` in [0, 1] of every branch in view.

        `at` may be a float, a list of floats or "all". Compartment `floor(at * ncomp)` is
        chosen (`at = 1` is the last compartment).
        """
        if isinstance(at, str):
            if at != "all":
                raise ValueError(
                    f"loc() takes a float in [0, 1], a list of floats or 'all'; got {at!r}."
                )
            return self._select_level("comp", "all")
        ats = np.atleast_1d(np.asarray(at, dtype=float))
        if not np.all(np.isfinite(ats)) or np.any((ats < 0.0) | (ats > 1.0)):
            raise ValueError(f"loc() positions must lie in [0, 1]; got {ats.tolist()}.")
        branch = self._col("global_branch_index")
        local = self._col("local_comp_index")
        ncomp = self.base._ncomp_per_branch[branch]
        # Jaxley's binning: digitize into ncomp bins of [0, 1 + 1e-10] (x = 1 -> last comp).
        target = np.empty((ats.size, branch.size), dtype=np.int64)
        for n in np.unique(ncomp):
            edges = np.linspace(0.0, 1.0 + 1e-10, int(n) + 1)
            target[:, ncomp == n] = (np.digitize(ats, edges) - 1)[:, None]
        at_rank, rows = np.nonzero(local[None, :] == target)
        _, first = np.unique(branch, return_index=True)
        branch_rank = np.empty(first.size, np.int64)
        branch_rank[np.argsort(first)] = np.arange(first.size)
        branch_order = branch_rank[np.searchsorted(np.unique(branch), branch[rows])]
        chosen = rows[np.lexsort((rows, at_rank, branch_order))]
        inds = self._inds[np.asarray(chosen, dtype=np.int64)]
        sharing = self.base._nodes["global_comp_index"][inds]  # one value per compartment
        view = self._view(inds, level="comp", sharing=sharing)
        # Which end of a one-compartment branch was meant (read by `morph_connect`).
        view._loc_at = float(ats[0]) if ats.size == 1 else None
        return view

    def select(self, nodes=None, edges=None, sorted: bool = False) -> View:
        """Select compartments (`nodes`) and/or synapses (`edges`) by their global index.

        Every selected row gets its own trainable parameter in `make_trainable`.
        """
        view_edges = self._edge_view_inds()
        edge_inds = view_edges
        if edges is not None:
            edge_inds = self._select_labels(edges, view_edges, "edge", sorted)
        if nodes is None:
            # Selecting synapses brings their pre- and postsynaptic compartments (Jaxley).
            inds = self._inds if edges is None else self._edge_nodes(edge_inds)
            if edges is not None:
                return View._make(
                    self.base,
                    inds,
                    "comp",
                    inds,
                    edge_inds,
                    self._scope,
                    allow_empty=True,
                    edge_sharing=np.arange(edge_inds.size),
                )
        else:
            inds = self._select_labels(nodes, self._inds, "node", sorted)
        view = self._view(inds, level="comp", sharing=np.arange(inds.size), edge_inds=edge_inds)
        if edges is not None:
            view._edge_sharing = np.arange(edge_inds.size)
        return view

    @staticmethod
    def _select_labels(idx, available: np.ndarray, what: str, sort: bool) -> np.ndarray:
        if isinstance(idx, str) and idx == "all":
            labels = available
        elif isinstance(idx, slice):
            labels = available[idx]
        else:
            arr = np.atleast_1d(np.asarray(idx))
            if arr.dtype == bool:
                if arr.size != available.size:
                    raise ValueError(
                        f"Boolean {what} mask has {arr.size} entries; expected {available.size}."
                    )
                labels = available[arr]
            else:
                if arr.size and not np.issubdtype(arr.dtype, np.integer):
                    raise TypeError(f"{what} indices must be integers; got dtype {arr.dtype}.")
                labels = arr.astype(np.int64)
                missing = labels[~np.isin(labels, available)]
                if missing.size:
                    raise IndexError(f"{what} indices {missing.tolist()} are not in this view.")
        return np.sort(labels) if sort else labels

    def edge(self, idx="all") -> View:
        """Synapses in view by position among the synapses in view."""
        view_edges = self._edge_view_inds()
        positions = self._select_labels(idx, np.arange(view_edges.size), "edge", False)
        edge_inds = view_edges[positions]
        if edge_inds.size == 0:
            raise ValueError("Nothing in view: no synapses selected.")
        nodes = self._edge_nodes(edge_inds)
        return View._make(
            self.base,
            nodes,
            "comp",
            np.zeros(nodes.size, np.int64),
            edge_inds,
            self._scope,
            allow_empty=True,
            edge_sharing=np.arange(edge_inds.size),
        )

    def __getitem__(self, key) -> View:
        keys = key if isinstance(key, tuple) else (key,)
        view, level = self, self._level
        for k in keys:
            level = _NEXT_LEVEL[level]
            if level is None:
                raise IndexError(f"Too many indices for a {type(self).__name__}.")
            view = getattr(view, level)(k)
        return view

    def _units(self, what: str):
        """Views of the cells, branches or compartments in view, one per index in scope.

        Local scope groups branches (compartments) by their local index in the view, as
        Jaxley: `net.cell(0).comps` yields the 0th compartment of every branch, then the
        1st, ...
        """

        def index_column():
            if what == "cell" or self._scope == "global":
                return self._col(f"global_{what}_index")
            return self._view_local_index(what)

        for value in np.unique(index_column()):
            # Re-read the indices each time: the loop body may change the module (e.g.
            # `branch.set_ncomp(...)` while iterating over `cell.branches`).
            inds = self._inds[index_column() == value]
            yield self._view(
                inds, level=what, sharing=self.base._nodes[f"global_{what}_index"][inds]
            )

    def __iter__(self):
        nxt = _NEXT_LEVEL[self._level]
        if nxt is None:
            raise TypeError("A compartment cannot be iterated over.")
        return self._units(nxt)

    @property
    def cells(self):
        return self._units("cell")

    @property
    def branches(self):
        return self._units("branch")

    @property
    def comps(self):
        return self._units("comp")

    def set_scope(self, scope: str) -> None:
        """Use "local" (default) or "global" indices in `cell/branch/comp`."""
        if scope not in ("local", "global"):
            raise ValueError(f"scope must be 'local' or 'global'; got {scope!r}.")
        self._scope = scope

    def scope(self, scope: str) -> View:
        """A view of the same rows with indexing in `scope` ("local" or "global")."""
        view = self._view(self._inds, sharing=self._sharing)
        view.set_scope(scope)
        return view

    @property
    def view(self) -> View:
        return self._view(self._inds, sharing=self._sharing)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "base":
            raise AttributeError(name)
        base = self.__dict__.get("base", self)
        if name in base._groups:
            mask = base._nodes[name][self._inds]
            return self._view(self._inds[mask], sharing=np.zeros(int(mask.sum()), np.int64))
        if name in [c.name for c in base._channels]:
            mask = base._nodes[name][self._inds]
            return self._view(self._inds[mask], sharing=np.zeros(int(mask.sum()), np.int64))
        synapse_names = [s.name for s in base._synapses]
        if name in synapse_names:
            return self._synapse_view(name)
        valid = list(base._groups) + [c.name for c in base._channels] + synapse_names
        err = unknown_name_error("attribute, group, channel or synapse", name, valid or ["<none>"])
        raise AttributeError(str(err.args[0]))

    def _synapse_view(self, name):
        type_col = self.base._edges["type"]
        inds = self._edge_view_inds()
        inds = inds[type_col[inds] == name]
        nodes = self._edge_nodes(inds)
        return View._make(
            self.base,
            nodes,
            "comp",
            np.zeros(nodes.size, np.int64),
            inds,
            self._scope,
            allow_empty=True,
        )

    def _edge_nodes(self, edge_inds: np.ndarray) -> np.ndarray:
        """Sorted global indices of the compartments the synapses `edge_inds` connect."""
        edges = self.base._edges
        if edge_inds.size == 0:
            return np.zeros(0, np.int64)
        ends = np.concatenate([edges["pre_index"][edge_inds], edges["post_index"][edge_inds]])
        return np.unique(ends.astype(np.int64))

    def copy_node_property_to_edges(self, properties, pre_or_post=("pre", "post")) -> None:
        """Add `pre_<prop>` / `post_<prop>` edge columns copied from node column `prop`."""
        copy_node_property_to_edges(self, properties, pre_or_post)

    def add_to_group(self, group_name: str) -> None:
        """Add the compartments in view to group `group_name` (creating it if needed)."""
        if not isinstance(group_name, str) or not group_name.isidentifier():
            raise ValueError(f"Group names must be Python identifiers; got {group_name!r}.")
        base = self.base
        if group_name in self._channel_names():
            raise ValueError(f"{group_name!r} is a channel name and cannot be a group name.")
        if group_name in INDEX_COLUMNS or (
            group_name in base._nodes and group_name not in base._groups
        ):
            raise ValueError(f"{group_name!r} is already a column of the node table.")
        if group_name not in base._groups:
            base._groups.append(group_name)
            base._nodes[group_name] = np.zeros(base._inds.size, dtype=bool)
        base._nodes[group_name][self._inds] = True
        self._touch(layout=True)

    # ------------------------------------------------------------------ copies, pickling
    def copy(self, reset_index: bool = False, as_module: bool = False):
        """A deep copy (of the base module, with the same view selection)."""
        if as_module:
            raise NotImplementedError(
                "copy(as_module=True) is not supported; copy the base module."
            )
        return _copy.deepcopy(self)

    def __getstate__(self):
        """The module's attributes for `pickle` / `copy.deepcopy` (caches dropped).

        Warning: loading a pickle runs code that the file names, so `pickle.load` of a file
        from someone else can execute anything. Only unpickle files you made yourself; to
        share or archive models use `dendrax.io.save_module` / `load_module` (JSON + arrays,
        no code).
        """
        state = dict(self.__dict__)
        for cache in CACHES:
            if cache in state:
                state[cache] = None
        return state

    def __setstate__(self, state):
        """Restore from `__getstate__` (see its warning: unpickling runs code)."""
        self.__dict__.update(state)

    def show(self, param_names=None, *, indices=True, params=True, states=True, channel_names=None):
        """The compartments in view as a DataFrame (a copy) of the requested columns.

        Indices, then (`params`) the compartment and channel parameters, then (`states`)
        `v` and the channel states, of the channels present in view; `param_names`
        instead picks the columns, `channel_names` adds channels' membership columns.
        See `dendrax.modules.frames.show_columns` for the rules and errors.
        """
        from dendrax.modules.frames import show_columns

        df = self.nodes
        in_view = [ch for ch in self.base._channels if ch.name in df and df[ch.name].any()]
        cols = show_columns(
            df.columns,
            in_view,
            self.diffusion_states,
            param_names=param_names,
            indices=indices,
            params=params,
            states=states,
            channel_names=channel_names,
        )
        return df[cols].copy()


class View(Module):
    """A selection of compartments (and synapses) of a base module.

    `View(module, nodes=None, edges=None)` (Jaxley's signature) views the compartments with
    global indices `nodes` (default: all in `module`) and the synapses `edges` (default:
    those of `module` between compartments in view). Views are usually made by indexing:
    `cell.branch(0)`, `net.cell([0, 1])`, `cell.soma`, ...
    """

    def __init__(self, pointer, nodes=None, edges=None):
        if not isinstance(pointer, Module):
            raise TypeError(f"View() takes a module or view; got {type(pointer).__name__}.")
        inds = pointer._inds if nodes is None else np.asarray(nodes, dtype=np.int64).reshape(-1)
        if nodes is not None and not np.all(np.isin(inds, pointer._inds)):
            raise IndexError("View(): some `nodes` are not compartments of the module.")
        sharing = np.zeros(inds.size, np.int64)
        if nodes is None:
            sharing = pointer._sharing
        view = pointer._view(inds, sharing=sharing)
        if edges is not None:
            view._edge_inds = np.asarray(edges, dtype=np.int64).reshape(-1)
            view._edge_sharing = np.zeros(view._edge_inds.size, np.int64)
        self.__dict__.update(view.__dict__)

    @classmethod
    def _make(
        cls,
        base,
        inds,
        level,
        sharing,
        edge_inds,
        scope="local",
        allow_empty=False,
        edge_sharing=None,
    ) -> View:
        """A view of rows `inds` and synapses `edge_inds` of `base` (internal constructor)."""
        if inds.size == 0 and edge_inds.size == 0 and not allow_empty:
            raise ValueError("Nothing in view: the selection is empty.")
        self = cls.__new__(cls)
        self.base = base
        self._view_inds = inds
        self._level = level
        self._view_sharing = np.asarray(sharing, dtype=np.int64)
        self._edge_inds = np.asarray(edge_inds, dtype=np.int64)
        self._scope = scope
        # One trainable per distinct value (synapse views and node views share one value).
        self._edge_sharing = (
            np.zeros(self._edge_inds.size, np.int64)
            if edge_sharing is None
            else np.asarray(edge_sharing, dtype=np.int64)
        )
        return self

    @property
    def _inds(self) -> np.ndarray:
        return self._view_inds

    @property
    def _sharing(self) -> np.ndarray:
        return self._view_sharing

    def _edge_view_inds(self) -> np.ndarray:
        return self._edge_inds

    def __repr__(self) -> str:
        return f"View with {self._inds.size} compartments and {self._edge_inds.size} synapses."


from dendrax.io.graph import to_graph  # noqa: E402,F401  (jaxley.modules.base.to_graph)
