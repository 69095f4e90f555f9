"""pandas views of the numpy tables: `module.nodes` / `module.edges`.

The tables are dicts of numpy columns; the DataFrames are built on demand. The node frame
of a base module writes column assignments and deletions back into the table (as
Jaxley's `module.nodes`, which *is* the table): `cell.nodes["path_dist"] = d` adds a
column that is kept, `branch.nodes["controlled_by_param"] = ...` sets parameter sharing
for `make_trainable`. Frames derived from it (`.loc`, arithmetic, copies) and the frames of
views are plain DataFrames.
"""

from __future__ import annotations

import warnings

import pandas as pd

__all__ = ["NodeFrame"]


class NodeFrame(pd.DataFrame):
    """The node table of a base module; column writes go back to the module."""

    _metadata = ["_dendrax_module"]

    @property
    def _constructor(self):
        return pd.DataFrame

    def _module(self):
        return self.__dict__.get("_dendrax_module")

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        module = self._module()
        if module is not None and isinstance(key, str):
            module._write_node_column(key, self[key].to_numpy())

    def __delitem__(self, key) -> None:
        module = self._module()
        if module is not None and isinstance(key, str):
            module._delete_node_columns([key])
        super().__delitem__(key)

    def drop(self, labels=None, *, axis=0, index=None, columns=None, inplace=False, **kwargs):
        if inplace and self._module() is not None:
            names = columns if columns is not None else (labels if axis in (1, "columns") else None)
            if names is not None:
                names = [names] if isinstance(names, str) else list(names)
                self._module()._delete_node_columns(names)
            elif labels is not None or index is not None:
                raise ValueError(
                    "Dropping rows of `module.nodes` in place cannot remove compartments; "
                    "drop a copy (`module.nodes.drop(...)`) instead."
                )
        with warnings.catch_warnings():
            # pandas >= 3.1 deprecates `inplace`; Jaxley code uses it on `module.nodes`.
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            return super().drop(
                labels=labels, axis=axis, index=index, columns=columns, inplace=inplace, **kwargs
            )


def node_frame(columns: dict, index, module=None) -> pd.DataFrame:
    """A DataFrame of `columns`; a `NodeFrame` writing back to `module` if one is given."""
    if module is None:
        return pd.DataFrame(columns, index=pd.Index(index))
    frame = NodeFrame(columns, index=pd.Index(index))
    object.__setattr__(frame, "_dendrax_module", module)
    return frame
