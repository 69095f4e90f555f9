"""Consistency checks of a module rebuilt from a file (``load_module``).

A saved file is data from outside; a tampered or damaged one must fail at load time with a
message naming the table and row at fault, not later as an index error or a wrong trace.
The checks cover what the simulator indexes with: table lengths, index ranges, the branch
tree, recordings, stimuli, clamps, trainables, channels and synapses.
"""

from __future__ import annotations

import numpy as np

from dendrax.channels.channel import Channel
from dendrax.io.codec import ModelFileError
from dendrax.synapses.synapse import Synapse
from dendrax.tables import INDEX_COLUMNS

__all__ = ["check_module_state"]


def _fail(where: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{where}: {problem}")


def _int_array(value, where: str, shape=None, low=None, high=None) -> np.ndarray:
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.integer):
        raise _fail(where, f"must be an integer array, got {type(value).__name__}")
    if shape is not None and value.shape != shape:
        raise _fail(where, f"has shape {value.shape}, expected {shape}")
    if value.size and low is not None and value.min() < low:
        raise _fail(where, f"holds {value.min()}, below the smallest allowed value {low}")
    if value.size and high is not None and value.max() >= high:
        raise _fail(where, f"holds {value.max()}, out of range (must be < {high})")
    return value


def _column_table(table, where: str, n_rows: int | None) -> int:
    if not isinstance(table, dict) or not all(isinstance(k, str) for k in table):
        raise _fail(where, "must be a dict of named columns")
    lengths = set()
    for name, col in table.items():
        if not isinstance(col, np.ndarray) or col.ndim != 1:
            raise _fail(f"{where}[{name!r}]", "must be a 1-D array")
        lengths.add(col.shape[0])
    if len(lengths) > 1:
        raise _fail(where, f"columns have different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    if n_rows is not None and n != n_rows:
        raise _fail(where, f"has {n} rows, but the module has {n_rows} compartments")
    return n


def _check_tree(state: dict) -> int:
    ncomp = _int_array(state.get("_ncomp_per_branch"), "module._ncomp_per_branch", low=1)
    if ncomp.ndim != 1 or ncomp.size == 0:
        raise _fail("module._ncomp_per_branch", "must be a non-empty 1-D array")
    n_branches = ncomp.size
    parents = _int_array(
        state.get("_branch_parents"), "module._branch_parents", (n_branches,), -1, n_branches
    )
    _int_array(state.get("_branch_cell"), "module._branch_cell", (n_branches,), 0, n_branches)
    if np.any(parents >= np.arange(n_branches)):
        bad = int(np.flatnonzero(parents >= np.arange(n_branches))[0])
        raise _fail("module._branch_parents", f"branch {bad} has parent {parents[bad]} >= itself")
    return int(ncomp.sum())


def _check_nodes(state: dict, n: int) -> None:
    nodes = state.get("_nodes")
    _column_table(nodes, "module._nodes", n)
    for name in INDEX_COLUMNS:
        if name not in nodes:
            raise _fail("module._nodes", f"the index column {name!r} is missing")
        _int_array(nodes[name], f"module._nodes[{name!r}]", (n,), 0, n)
    for name in ("radius", "length", "axial_resistivity", "capacitance", "v"):
        if name not in nodes or nodes[name].dtype.kind != "f":
            raise _fail("module._nodes", f"the float column {name!r} is missing")
    frustum = state.get("_frustum")
    if not isinstance(frustum, np.ndarray) or frustum.dtype != bool or frustum.shape != (n,):
        raise _fail("module._frustum", f"must be a boolean array of shape ({n},)")
    xyzr = state.get("_xyzr")
    if not isinstance(xyzr, list):
        raise _fail("module._xyzr", "must be a list of (n_points, 4) arrays")
    for i, points in enumerate(xyzr):
        if not isinstance(points, np.ndarray) or points.ndim != 2 or points.shape[1] != 4:
            raise _fail(f"module._xyzr[{i}]", "must be an (n_points, 4) array")
    groups = state.get("_groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _fail("module._groups", "must be a list of group names")
    for g in groups:
        if g not in nodes or nodes[g].dtype != bool:
            raise _fail("module._groups", f"group {g!r} has no boolean node column")


def _check_mechanisms(state: dict) -> None:

    nodes = state["_nodes"]
    for attr, base, params in (
        ("_channels", Channel, ("channel_params", "channel_states")),
        ("_synapses", Synapse, ("synapse_params", "synapse_states")),
    ):
        items = state.get(attr)
        if not isinstance(items, list):
            raise _fail(f"module.{attr}", "must be a list")
        for i, mech in enumerate(items):
            where = f"module.{attr}[{i}]"
            if not isinstance(mech, base):
                raise _fail(where, f"must be a {base.__name__}, got {type(mech).__name__}")
            if not isinstance(mech.__dict__.get("_name"), str):
                raise _fail(where, "has no name")
            for field in params:
                table = getattr(mech, field, None)
                if not isinstance(table, dict) or not all(isinstance(k, str) for k in table):
                    raise _fail(where, f"{field} must be a dict of names to defaults")
            if base is Channel and (mech.name not in nodes or nodes[mech.name].dtype != bool):
                raise _fail(where, f"channel {mech.name!r} has no boolean node column")


def _check_edges(state: dict, n: int) -> int:
    edges = state.get("_edges")
    n_edges = _column_table(edges, "module._edges", None)
    if not edges:
        return 0
    names = [s.name for s in state["_synapses"]]
    for col in ("pre_index", "post_index"):
        if col not in edges:
            raise _fail("module._edges", f"the column {col!r} is missing")
        _int_array(edges[col], f"module._edges[{col!r}]", (n_edges,), 0, n)
    types = edges.get("type")
    if types is None or not all(isinstance(t, str) and t in names for t in types):
        raise _fail("module._edges['type']", f"must name synapse types among {names}")
    for col in ("type_ind", "index_within_type", "global_edge_index"):
        if col in edges:
            high = len(names) if col == "type_ind" else n_edges
            _int_array(edges[col], f"module._edges[{col!r}]", (n_edges,), 0, high)
    return n_edges


def _rows(value, where: str, high: int) -> np.ndarray:
    rows = _int_array(value, where, None, 0, high)
    if rows.ndim != 1:
        raise _fail(where, "must be a 1-D array of row indices")
    return rows


def _series(value, where: str, n_rows: int) -> None:
    if not isinstance(value, np.ndarray) or value.ndim != 2 or value.shape[0] != n_rows:
        raise _fail(where, f"must be a ({n_rows}, T) array")
    if value.dtype.kind != "f" or not np.all(np.isfinite(value)):
        raise _fail(where, "must hold finite floats")


def _check_inputs(state: dict, n: int, n_edges: int) -> None:
    size = {"node": n, "edge": n_edges}
    for i, rec in enumerate(_list(state, "_recordings")):
        ok = isinstance(rec, tuple) and len(rec) == 3 and isinstance(rec[0], str)
        if not ok or rec[1] not in size or not isinstance(rec[2], int):
            raise _fail(f"module._recordings[{i}]", "must be a (state, 'node'|'edge', row) tuple")
        if not 0 <= rec[2] < size[rec[1]]:
            raise _fail(f"module._recordings[{i}]", f"row {rec[2]} is out of range")
    for i, stim in enumerate(_list(state, "_stimuli")):
        if not (isinstance(stim, tuple) and len(stim) == 2):
            raise _fail(f"module._stimuli[{i}]", "must be a (rows, currents) tuple")
        rows = _rows(stim[0], f"module._stimuli[{i}] rows", n)
        _series(stim[1], f"module._stimuli[{i}] currents", rows.size)
    for i, clamp in enumerate(_list(state, "_clamps")):
        if not (isinstance(clamp, tuple) and len(clamp) == 4 and clamp[1] in size):
            raise _fail(f"module._clamps[{i}]", "must be a (state, kind, rows, values) tuple")
        rows = _rows(clamp[2], f"module._clamps[{i}] rows", size[clamp[1]])
        _series(clamp[3], f"module._clamps[{i}] values", rows.size)


def _list(state: dict, attr: str) -> list:
    value = state.get(attr)
    if not isinstance(value, list):
        raise _fail(f"module.{attr}", "must be a list")
    return value


def _check_trainables(state: dict, n: int, n_edges: int) -> None:
    tables = {"node": (state["_nodes"], n), "edge": (state["_edges"], n_edges)}
    for i, t in enumerate(_list(state, "_trainables")):
        where = f"module._trainables[{i}]"
        if not isinstance(t, dict) or t.get("kind") not in tables:
            raise _fail(where, "must be a dict with kind 'node' or 'edge'")
        table, size = tables[t["kind"]]
        key = t.get("key")
        if not isinstance(key, str) or key not in table:
            raise _fail(where, f"trains {key!r}, which is not a column of the {t['kind']} table")
        init = t.get("init")
        if not isinstance(init, np.ndarray) or init.ndim != 1 or init.dtype.kind != "f":
            raise _fail(where, "'init' must be a 1-D float array")
        rows = _rows(t.get("rows"), f"{where} rows", size)
        _int_array(t.get("param_of_row"), f"{where} param_of_row", rows.shape, 0, init.size)
        value = t.get("value")
        if not (isinstance(value, dict) and list(value) == [key]):
            raise _fail(where, f"'value' must be {{{key!r}: array}}")
        if np.shape(value[key]) != init.shape:
            raise _fail(where, f"'value' has shape {np.shape(value[key])}, expected {init.shape}")


def check_module_state(state: dict) -> None:
    """Raise :class:`ModelFileError` unless ``state`` (a module's attributes) is consistent."""
    n = _check_tree(state)
    _check_nodes(state, n)
    _check_mechanisms(state)
    n_edges = _check_edges(state, n)
    _check_inputs(state, n, n_edges)
    _check_trainables(state, n, n_edges)
    if state.get("_scope") not in ("local", "global"):
        raise _fail("module._scope", "must be 'local' or 'global'")
    version = state.get("_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail("module._version", "must be an int")
