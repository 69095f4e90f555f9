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

from dendrax.errors import unknown_name_error

__all__ = ["NodeFrame", "node_frame", "show_columns"]


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


#: Index columns shown by `Module.show(indices=True)`, in Jaxley's order.
SHOW_INDEX_COLUMNS = (
    "local_comp_index",
    "global_comp_index",
    "local_branch_index",
    "global_branch_index",
    "local_cell_index",
    "global_cell_index",
)
#: Compartment parameters shown by `Module.show(params=True)` before the channels' ones.
COMPARTMENT_PARAMS = ("length", "radius", "axial_resistivity", "capacitance")


def _names(value, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a name or a list of names; got {value!r}.") from None
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what} must be a name or a list of names; got {value!r}.")
    return names


def show_columns(
    columns,
    channels,
    diffused=(),
    *,
    param_names=None,
    indices=True,
    params=True,
    states=True,
    channel_names=None,
) -> list[str]:
    """The columns `Module.show` returns, in order, without duplicates.

    Args:
        columns: the columns of the node frame in view.
        channels: the mechanisms present in view (`Channel` objects).
        diffused: names of the diffusing states (their `axial_diffusion_<state>` are
            parameters).
        param_names: a name or list of names: exactly these columns (any column of the
            node frame, e.g. `"HH_gNa"`, `"v"`, `"area"`) follow the indices, whatever
            `params` and `states` say (as in Jaxley). None: chosen by `params`/`states`.
        indices: the six local/global cell, branch and compartment indices first.
        params: the compartment parameters (length µm, radius µm, axial_resistivity
            Ω·cm, capacitance µF/cm², `axial_diffusion_*` µm²/ms) and the channels'.
        states: the voltage `v` (mV) and the channels' states.
        channel_names: a name or list of channel names whose boolean "inserted here"
            columns are shown after the indices (None: none).

    Raises:
        KeyError: a name in `param_names` or `channel_names` that is not a column / a
            channel in view, with the valid names.
        TypeError: names that are not strings.
    """
    available = list(columns)
    cols = [c for c in SHOW_INDEX_COLUMNS if c in available] if indices else []
    if channel_names is not None:
        valid = [ch.name for ch in channels]
        for name in _names(channel_names, "channel_names"):
            if name not in valid:
                raise unknown_name_error("channel", name, valid)
            cols.append(name)
    if param_names is not None:
        for name in _names(param_names, "param_names"):
            if name not in available:
                raise unknown_name_error("node column", name, available)
            cols.append(name)
    else:
        if params:
            cols += [c for c in COMPARTMENT_PARAMS if c in available]
            cols += [f"axial_diffusion_{s}" for s in diffused]
            cols += [k for ch in channels for k in ch.channel_params]
        if states:
            cols += ["v"] + [k for ch in channels for k in ch.channel_states]
    return [c for c in dict.fromkeys(cols) if c in available]
