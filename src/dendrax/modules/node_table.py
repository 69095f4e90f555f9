"""`module.nodes`: a pandas DataFrame of the compartments in view that writes new columns back.

In Jaxley `nodes` *is* the module's table, so ``cell.nodes["path_dist"] = d`` adds a column
that later views show (``cell[3, 3].nodes["path_dist"]``). dendrax keeps its tables as numpy
columns (``base._nodes``) and builds the DataFrame on demand; this subclass forwards a plain
column assignment (``df[name] = values``) to those columns for the rows in view, so Jaxley's
idiom works. Any other operation returns an ordinary DataFrame (no write-back).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dendrax.modules.tables import INDEX_COLUMNS

__all__ = ["NodeTable"]


class NodeTable(pd.DataFrame):
    """DataFrame of node rows (index: global compartment index) bound to a module view."""

    _metadata = ["_dendrax_view"]

    @property
    def _constructor(self):
        # Derived frames (slices, arithmetic, copies) are plain DataFrames: only the table
        # handed out by `module.nodes` writes back.
        return pd.DataFrame

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        view = getattr(self, "_dendrax_view", None)
        if view is None or not isinstance(key, str):
            return
        if key in INDEX_COLUMNS:
            raise ValueError(
                f"nodes[{key!r}] is an index column and cannot be assigned; index columns are "
                "derived from the module's structure."
            )
        _store_column(view, key, self[key].to_numpy(), self.index.to_numpy())


def _store_column(view, key: str, values: np.ndarray, rows: np.ndarray) -> None:
    """Write `values` (one per row in `rows`, global compartment indices) into column `key`."""
    base = view.base
    n = int(base._ncomp_per_branch.sum())
    if key in base._nodes:
        column = np.array(base._nodes[key], copy=True)
        if column.dtype == bool or not np.issubdtype(values.dtype, column.dtype):
            column = column.astype(np.result_type(column.dtype, values.dtype))
    elif values.dtype == bool:
        column = np.zeros(n, bool)
    elif np.issubdtype(values.dtype, np.number):
        column = np.full(n, np.nan, np.result_type(values.dtype, float))
    else:
        column = np.full(n, None, object)
    column[rows] = values
    base._nodes[key] = column
    base._structure_changed()  # values may feed a cached simulation structure
