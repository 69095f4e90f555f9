"""Pure functions that assemble the parameter and state arrays of a simulation."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from dendrax.utils.jax_utils import take_static

__all__ = [
    "check_params_structure",
    "apply_parameter_updates",
    "geometry",
    "uniform_parameters",
    "pstate_rows",
]


def check_params_structure(trainables, params) -> None:
    """Raise a clear error if `params` does not match the trainables (`Trainable` records),
    i.e. the module's `get_parameters()`."""
    if not isinstance(params, (list, tuple)):
        raise TypeError(
            "params must be a list of dicts as returned by get_parameters(); got "
            f"{type(params).__name__}."
        )
    if len(params) != len(trainables):
        raise ValueError(
            f"params has {len(params)} entries but the module has {len(trainables)} trainables "
            f"({[t['key'] for t in trainables]}). Use module.get_parameters() as a template."
        )
    for i, (entry, t) in enumerate(zip(params, trainables, strict=True)):
        if not isinstance(entry, dict) or list(entry) != [t["key"]]:
            raise ValueError(
                f"params[{i}] must be {{{t['key']!r}: array}}; got keys "
                f"{list(entry) if isinstance(entry, dict) else type(entry).__name__}."
            )
        shape = jnp.shape(entry[t["key"]])
        if shape not in ((t.n_values,), ()) or (shape == () and t.n_values != 1):
            raise ValueError(
                f"params[{i}][{t['key']!r}] has shape {shape}; expected ({t.n_values},)."
            )


def apply_parameter_updates(values: dict, trainables, params, param_state, kind: str) -> dict:
    """Overwrite rows of `values` (dict of (n,) arrays) with trainables and `data_set` entries.

    Args:
        values: name -> (n,) jnp array (node or edge table).
        trainables: the module's trainable records (rows, param_of_row).
        params: list of {key: (n_values,)} matching `trainables`.
        param_state: list of {"key", "val", "indices"} from `data_set`, or None.
        kind: "node" or "edge": only updates of that table are applied.
    """
    values = dict(values)
    by_key = {}
    for t, entry in zip(trainables, params, strict=True):
        if t["kind"] != kind or t["key"] not in values:
            continue
        vals = jnp.reshape(jnp.asarray(entry[t["key"]]), (-1,))
        by_key.setdefault(t["key"], []).append((t["rows"], vals, t["param_of_row"]))
    for key, updates in by_key.items():
        # One scatter per parameter, not per `make_trainable` call: the compiled code
        # does not grow with the number of trainables of a parameter.
        values[key] = _set_rows(values[key], *_merged_updates(updates))
    for item in param_state or []:
        key = item["key"]
        if key not in values:
            continue
        rows, value_of_row = pstate_rows(item)
        val = jnp.asarray(item["val"])
        if value_of_row is None:
            row_values = jnp.broadcast_to(jnp.reshape(val, (-1,)) if val.ndim else val, rows.shape)
            value_of_row = np.arange(rows.size)
        else:
            row_values = jnp.reshape(val, (-1,))
        # an explicit gather: a slice would hand XLA the broadcast of a scalar value, which
        # it then reassociates differently from `set` (traces differing at ~1e-11 mV)
        values[key] = _set_rows(values[key], rows, row_values, value_of_row, _gather)
    return values


def _merged_updates(updates):
    """`(rows, vals, param_of_row)` of updates applied in order, as one update.

    A row set by several updates keeps the value of the last (as sequential writes would).
    """
    if len(updates) == 1:
        return updates[0]
    sizes = np.array([int(vals.shape[0]) for _, vals, _ in updates])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.concatenate([np.asarray(r, np.int64) for r, _, _ in updates])
    which = np.concatenate(
        [np.asarray(p, np.int64) + off for (_, _, p), off in zip(updates, offsets, strict=True)]
    )
    _, last_rev = np.unique(rows[::-1], return_index=True)
    keep = np.sort(rows.size - 1 - last_rev)
    return rows[keep], jnp.concatenate([vals for _, vals, _ in updates]), which[keep]


def pstate_rows(item) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows set by one parameter-state entry, and which value each row takes.

    Two layouts are accepted: `data_set`'s, `indices` (k,) with `val` a scalar or (k,)
    (returns `value_of_row` None: `val` is broadcast to the rows), and Jaxley's
    `params_to_pstate` layout, `indices` (n_values, rows_per_value) padded with -1 and
    `val` (n_values,) (or a scalar, or (rows_per_value,) for a single row of indices).

    Returns:
        rows: (m,) int64 row indices (padding dropped).
        value_of_row: (m,) position in `val.reshape(-1)` of each row's value, or None.
    """
    indices = np.asarray(item["indices"])
    if indices.ndim < 2:
        return indices.reshape(-1).astype(np.int64), None
    n_values, per_value = indices.shape[0], int(np.prod(indices.shape[1:]))
    indices = indices.reshape(n_values, per_value).astype(np.int64)
    size = int(np.size(item["val"]))
    if size == n_values:
        which = np.repeat(np.arange(n_values), per_value)
    elif size == 1:
        which = np.zeros(indices.size, np.int64)
    elif n_values == 1 and size == per_value:
        which = np.arange(per_value)
    else:
        raise ValueError(
            f"Incompatible shapes for broadcasting: {item['key']!r} has {size} value(s) for "
            f"indices of shape {indices.shape} (give one value per row of indices, one in "
            "all, or one per index)."
        )
    flat = indices.reshape(-1)
    keep = flat >= 0
    return flat[keep], which[keep]


def _gather(vals, rows: np.ndarray):
    return vals[rows.astype(np.uint32)]


def _set_rows(column, rows: np.ndarray, vals, param_of_row: np.ndarray, take=take_static):
    """`column` with `column[rows[i]] = vals[param_of_row[i]]` (`rows`, `param_of_row` numpy).

    A trainable that covers every row (e.g. one value per branch of the whole cell) is a
    gather alone; otherwise one scatter declared free of duplicate rows, which JAX
    differentiates without the extra bookkeeping of a general scatter-set (it had added
    five setup kernels to the CA1 gradient). `take(vals, idx)` reads the values at static
    indices: `take_static` (a slice or broadcast where the pattern allows) by default.
    """
    n = column.shape[0]
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    if sorted_rows.size and np.any(sorted_rows[1:] == sorted_rows[:-1]):
        return column.at[rows.astype(np.uint32)].set(take(vals, param_of_row))  # general scatter
    if rows.shape[0] == n and np.array_equal(sorted_rows, np.arange(n)):
        return take(vals, param_of_row[order])
    return column.at[sorted_rows.astype(np.uint32)].set(
        take(vals, param_of_row[order]), indices_are_sorted=True, unique_indices=True
    )


def geometry(params: dict, frustum: np.ndarray) -> dict:
    """Area, volume and resistive loads, from stored (traced) or cylinder geometry.

    Compartments whose `frustum` flag is False use cylinders of their (possibly trained)
    radius and length; others use the stored frustum values. With numpy inputs the result
    is numpy (see `simulator.run.static_geometry`).
    """
    r, length = params["radius"], params["length"]
    xp = np if _all_numpy(params, ("radius", "length", *_DERIVED_GEOMETRY)) else jnp
    half = (length / 2.0) / (np.pi * r**2)
    cyl = {
        "area": 2.0 * np.pi * r * length,
        "volume": np.pi * r**2 * length,
        "resistive_load_in": half,
        "resistive_load_out": half,
    }
    if not np.any(frustum):
        return cyl
    mask = frustum if xp is np else jnp.asarray(frustum)
    return {k: xp.where(mask, params[k], cyl[k]) for k in cyl}


def _all_numpy(params: dict, keys) -> bool:
    """True if every present `params[k]` is a numpy array (then numpy computes, at trace time)."""
    return all(isinstance(params[k], np.ndarray) for k in keys if k in params)


#: Parameters that `geometry` recomputes (stored frustum values are only read where flagged).
_DERIVED_GEOMETRY = ("area", "volume", "resistive_load_in", "resistive_load_out")


def uniform_parameters(tables, structure, param_state) -> tuple:
    """`(name, value)` of the parameter columns with one value in every row that no
    trainable or `data_set` touches.

    The time step reads such a parameter as a scalar broadcast inside the loop body instead
    of an (n,) array carried by the loop, which removes one loop operand per parameter
    (fewer loads in the fused kernels; `bench/bench_core.py`). Outside a
    transformation of `params` the scalar is a runtime input (a later `set` does not
    compile again); when `params` are traced (`grad`, `vmap`), where the caller's trace
    embeds the table values anyway, it is compiled in as a constant, which XLA folds into
    the kernels of the backward pass (`bench/bench_gradient.py`); in the forward run of a
    network, constants led XLA to a slower fusion of the synaptic gather.
    """
    updated = {t.key for t in tables.trainables} | {i["key"] for i in param_state or []}
    skip = updated | set(_DERIVED_GEOMETRY) | set(structure.node_state_names)
    names = []
    for table, keys in (
        (tables.nodes, structure.node_param_names),
        (tables.edges, structure.edge_param_names),
    ):
        for key in keys:
            if key in skip:
                continue
            column = np.asarray(table[key])
            if column.size and np.all(column == column.flat[0]):
                names.append((key, float(column.flat[0])))
    return tuple(names)
