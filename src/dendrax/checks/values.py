"""Checks of concrete values (numpy, or jax arrays that are not traced).

Values are grouped in `Block`s: a (n_rows, n_cols) array of one quantity whose row `r`
belongs to compartment (or synapse) `rows[r]` and whose columns are, for time series,
time steps. A concrete block is checked at once (`check_block`, a `ValueError` naming the
quantity, where it came from, the compartment, the step, the value and the valid range);
a traced one is handed to `dendrax.checks.traced`, which checks the same thing inside the
computation.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import jax
import numpy as np

from dendrax.checks.ranges import FINITE, POSITIVE, TABLE_RANGES, Range, range_of, ranges_of
from dendrax.simulator.params import pstate_rows

__all__ = [
    "Block",
    "is_traced",
    "failure_message",
    "check_block",
    "check_blocks",
    "check_values",
    "first_rows",
    "trainable_blocks",
    "integrate_blocks",
    "blow_up_message",
    "warn_if_not_finite",
    "BLOW_UP_LIMIT",
]

#: |values| beyond this count as blown up: no physical state of a simulation gets there.
BLOW_UP_LIMIT = 1e9


class Block(NamedTuple):
    """Values of one quantity to check.

    label: how messages name it, e.g. "'radius' in params[0]".
    values: (n_rows, n_cols) array (numpy, jax, or a tracer).
    rows: (n_rows,) int array, the compartment (or synapse) of each row.
    row_name: "compartment", "synapse" or "" (the rows name nothing).
    col_name: "time step" for time series, else "".
    valid: the valid range.
    """

    label: str
    values: Any
    rows: np.ndarray
    row_name: str
    col_name: str
    valid: Range


def is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def failure_message(block: Block, value: float, r: int, c: int, n_bad: int, n_total: int):
    """The message for the first invalid value of `block`, `value`, at row `r`, column `c`."""
    bounds, unit = block.valid.bounds(), block.valid.unit
    if not np.isfinite(value):
        what = "finite" + (f" and {bounds}" if bounds else "")
    else:
        what = bounds
    what += f" ({unit})" if unit else ""
    where = []
    if block.row_name:
        where.append(f"{block.row_name} {int(np.asarray(block.rows)[r])}")
    if block.col_name:
        where.append(f"{block.col_name} {c}")
    text = f"{block.label} must be {what}; got {float(value):g}"
    text += f" at {', '.join(where)}" if where else ""
    if n_total > 1:
        text += f" ({n_bad} of {n_total} values are invalid)"
    return text + "."


def check_block(block: Block) -> None:
    """Raise `ValueError` if a concrete block holds an invalid value."""
    arr = np.asarray(block.values, dtype=float)
    arr = arr.reshape(arr.shape[0] if arr.ndim else 1, -1)
    bad = ~block.valid.valid(arr)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    r, c = divmod(first, arr.shape[1])
    raise ValueError(failure_message(block, arr.flat[first], r, c, int(bad.sum()), arr.size))


def check_blocks(blocks) -> list[Block]:
    """Check the concrete blocks now; return the traced ones (for `checks.traced`)."""
    traced = []
    for block in blocks:
        if is_traced(block.values):
            traced.append(block)
        else:
            check_block(block)
    return traced


def check_values(label, values, rows=None, row_name="compartment", valid=FINITE, col_name=""):
    """Check concrete `values` (scalar, (n,) or (n, T)) now; traced ones are left alone.

    `rows` (n,) names the compartment (or synapse) of each value; a scalar applies to
    `rows[0]`. Returns nothing; raises `ValueError` naming the first invalid value.
    """
    if is_traced(values):
        return
    arr = np.asarray(values, dtype=float)
    arr = arr.reshape(1, 1) if arr.ndim == 0 else arr.reshape(arr.shape[0], -1)
    if rows is None:
        rows, row_name = np.arange(arr.shape[0]), ""
    check_block(Block(label, arr, np.asarray(rows).reshape(-1), row_name, col_name, valid))


def first_rows(rows, param_of_row, n_values: int) -> np.ndarray:
    """(n_values,) the first row each trainable value sets (-1 where it sets none)."""
    out = np.full(n_values, -1, dtype=np.int64)
    values, first = np.unique(np.asarray(param_of_row), return_index=True)
    out[values] = np.asarray(rows)[first]
    return out


def _column(values):
    """`values` (any shape) as a (n, 1) column: numpy if concrete, else the traced array.

    (An operation on a concrete jax array inside a trace would return a tracer and turn
    a check at trace time into one at run time.)
    """
    if is_traced(values):
        return values.reshape(-1, 1)
    return np.reshape(np.asarray(values, dtype=float), (-1, 1))


def _row_name(kind: str) -> str:
    return "compartment" if kind == "node" else "synapse"


def trainable_blocks(base, params, ranges=None) -> list[Block]:
    """One block per trainable of `params` (a list like `get_parameters()`)."""
    ranges = ranges_of(base) if ranges is None else ranges
    blocks = []
    for i, (t, entry) in enumerate(zip(base.tables.trainables, params, strict=True)):
        key = t.key
        rows = first_rows(t.rows, t.param_of_row, t.n_values)
        values, valid = _column(entry[key]), ranges.get(key, FINITE)
        label = f"{key!r} in params[{i}]"
        blocks.append(Block(label, values, rows, _row_name(t.kind), "", valid))
    return blocks


def _param_state_blocks(base, param_state, ranges) -> list[Block]:
    blocks = []
    edges = base.tables.edges if param_state else {}
    for j, item in enumerate(param_state or []):
        key = item["key"]
        rows, value_of_row = pstate_rows(item)
        val = item["val"]
        size = int(np.size(val))
        if value_of_row is not None:
            rows = first_rows(rows, value_of_row, size)
        elif size == 1:
            rows = rows[:1]
        values = _column(val)
        row_name = "synapse" if key in edges else "compartment"
        label = f"{key!r} in param_state[{j}] (data_set)"
        blocks.append(Block(label, values, rows, row_name, "", ranges.get(key, FINITE)))
    return blocks


def integrate_blocks(
    base, params, param_state, data_stimuli, data_clamps, all_states, delta_t
) -> list[Block]:
    """Blocks for every value `integrate` takes: trainables, `data_set` values, data
    stimuli and clamps, initial states and the time step.

    The module's own tables, stimuli and clamps were checked when they were set.
    """
    ranges = ranges_of(base)
    blocks = [] if params is None else trainable_blocks(base, params, ranges)
    blocks += _param_state_blocks(base, param_state, ranges)
    for j, (_, rows, series) in enumerate(data_stimuli or []):
        label = f"the current of data_stimuli[{j}]"
        blocks.append(
            Block(label, series, rows, "compartment", "time step", FINITE.with_unit("nA"))
        )
    for j, (state, kind, rows, series) in enumerate(data_clamps or []):
        label = f"the clamp of {state!r} in data_clamps[{j}]"
        valid = ranges.get(state, FINITE)
        blocks.append(Block(label, series, rows, _row_name(kind), "time step", valid))
    tables = base.tables if all_states else None
    for name, value in (all_states or {}).items():
        if name.startswith("__"):  # internal buffers (synaptic delays)
            continue
        values = _column(value)
        rows = np.arange(values.shape[0])
        table = tables.edges if name in tables.edges else tables.nodes
        if name in table and np.size(table[name]) == rows.size:
            # A state is NaN where its mechanism is not inserted: check the other rows.
            present = ~np.isnan(np.asarray(table[name], dtype=float))
            if not present.all():
                rows = np.flatnonzero(present)
                values = values[rows]
        row_name = "synapse" if name in tables.edges else "compartment"
        valid = ranges.get(name, FINITE)
        blocks.append(Block(f"all_states[{name!r}]", values, rows, row_name, "", valid))
    if is_traced(delta_t):  # concrete ones are checked with the other arguments
        dt = delta_t.reshape(1, 1)
        blocks.append(Block("delta_t", dt, np.zeros(1, np.int64), "", "", POSITIVE.with_unit("ms")))
    return blocks


def blow_up_message(rec, step, delta_t, solver: str, dtype) -> str:
    """The warning for a simulation whose recording `rec` is invalid from `step` on.

    `delta_t` None leaves out the time (`rec` and `step` may then be format fields).
    """
    hints = []
    if not jax.config.read("jax_enable_x64"):
        hints.append("jax.config.update('jax_enable_x64', True)")
    hints.append("a smaller delta_t")
    if solver != "bwd_euler":
        hints.append("solver='bwd_euler'")
    hints = ", ".join(hints[:-1]) + (" or " if len(hints) > 1 else "") + hints[-1]
    t = "" if delta_t is None else f"t = {step * float(delta_t):g} ms, "
    return (
        f"The simulation blew up: recording {rec} is NaN, inf or beyond 1e9 "
        f"from time step {step} on ({t}solver {solver!r}, {np.dtype(dtype).name}). Try "
        f"{hints}; check the parameters for values far outside their physiological range."
    )


def warn_if_not_finite(recordings, delta_t, solver: str, stacklevel: int = 4) -> None:
    """Warn (RuntimeWarning) if concrete `recordings` (n_rec, n_steps + 1) blew up."""
    values = np.asarray(recordings)
    bad = ~np.isfinite(values) | (np.abs(values) > BLOW_UP_LIMIT)
    if not bad.any():
        return
    step = int(np.flatnonzero(bad.any(axis=0))[0])
    rec = int(np.flatnonzero(bad[:, step])[0])
    message = blow_up_message(rec, step, delta_t, solver, values.dtype)
    warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)


def table_range(base, key: str) -> Range:
    """`range_of`, or the table ranges alone without a module."""
    return TABLE_RANGES.get(key, FINITE) if base is None else range_of(base, key)
