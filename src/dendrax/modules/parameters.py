"""Mixin: setting parameters and states, inserting channels, initializing states."""

from __future__ import annotations

import warnings

import numpy as np

from dendrax.channels.channel import Channel, call_convention
from dendrax.checks.values import check_values, table_range
from dendrax.errors import ModelError
from dendrax.modules.selection import unknown_name_error
from dendrax.synapses.edges import EDGE_INDEX_COLUMNS
from dendrax.tables import GEOMETRY_COLUMNS, INDEX_COLUMNS, cylinder_geometry

__all__ = ["ParametersMixin", "validate_values"]


def validate_values(
    key: str, values, where: str = "", base=None, rows=None, row_name: str = "compartment"
) -> np.ndarray:
    """Check that values for `key` are finite and in its valid range; return a float array.

    The range is that of `dendrax.checks.ranges` (of `base`'s mechanisms when given, else
    of the table columns alone); `rows` (one per value) name the compartments (or
    synapses, `row_name`) in the message.
    """
    arr = np.asarray(values, dtype=float)
    check_values(f"{key!r}{where}", arr.reshape(-1), rows, row_name, table_range(base, key))
    return arr


class ParametersMixin:
    """`set`, `insert`, `init_states` and the jittable `data_set`."""

    def _settable_node_columns(self):
        base = self.base
        skip = set(INDEX_COLUMNS) | set(base._groups) | set(self._channel_names())
        return [k for k in base._nodes if k not in skip and k not in GEOMETRY_COLUMNS]

    def _value_array(self, key, val, n_rows):
        arr = np.asarray(val, dtype=float)
        if arr.ndim == 0:
            return np.full(n_rows, float(arr))
        if arr.shape != (n_rows,):
            raise ValueError(
                f"set({key!r}, ...) got an array of shape {arr.shape}; expected a scalar or "
                f"shape ({n_rows},) (one value per row in view)."
            )
        return arr

    def set(self, key: str, val) -> None:
        """Set parameter or state `key` of every compartment (or synapse) in view.

        `val` is a scalar or one value per row in view. Rows where `key` does not exist
        (the channel is not inserted there) are skipped. Setting `radius` or `length`
        recomputes area, volume and resistive loads as cylinders.
        """
        base = self.base
        if key in base._edges and key not in EDGE_INDEX_COLUMNS:
            rows = self._edge_view_inds()
            if rows.size == 0:
                raise ValueError(f"No synapses in view to set {key!r} on.")
            vals = self._value_array(key, val, rows.size)
            vals = validate_values(key, vals, base=base, rows=rows, row_name="synapse")
            if key == "delay" and np.any(vals < 0):
                bad = vals[vals < 0][:5].tolist()
                raise ValueError(f"Synaptic delays must be >= 0 ms; got {bad}.")
            present = ~np.isnan(base._edges[key][rows])
            base._edges[key][rows[present]] = vals[present]
            self._touch()
            return
        if key in GEOMETRY_COLUMNS:
            self._set_geometry(key, val)
            return
        if key not in self._settable_node_columns():
            if key in INDEX_COLUMNS:
                raise KeyError(f"{key!r} is an index column and cannot be set.")
            valid = self._settable_node_columns() + [
                k for k in base._edges if k not in EDGE_INDEX_COLUMNS
            ]
            raise unknown_name_error("parameter or state", key, valid)
        rows = self._inds
        vals = self._value_array(key, val, rows.size)
        present = ~np.isnan(base._nodes[key][rows])
        rows = rows[present]
        vals = validate_values(key, vals[present], base=base, rows=rows)
        base._nodes[key][rows] = vals
        if key in ("radius", "length"):
            if np.any(base._frustum[rows]):
                warnings.warn(
                    f"Setting {key!r} on compartments with traced (SWC) geometry replaces their "
                    "frustum area and resistive loads by those of cylinders.",
                    stacklevel=2,
                )
            geometry = cylinder_geometry(base._nodes["radius"][rows], base._nodes["length"][rows])
            for name, col in geometry.items():
                base._nodes[name][rows] = col
            base._frustum[rows] = False
        self._touch()

    def _set_geometry(self, key: str, val) -> None:
        """Set `area` (µm²), `volume` (µm³) or `resistive_load_in/out` (1/µm) directly.

        As in Jaxley, the values are then used as given (like traced SWC geometry) until
        `radius` or `length` is set again, which recomputes all four as cylinders.
        """
        base = self.base
        rows = self._inds
        vals = self._value_array(key, val, rows.size)
        vals = validate_values(key, vals, base=base, rows=rows)
        if np.any(vals <= 0):
            raise ValueError(f"{key!r} must be > 0; got {vals[vals <= 0][:5].tolist()}.")
        base._nodes[key][rows] = vals
        base._frustum[rows] = True
        self._touch()

    def data_set(self, key: str, val, param_state=None):
        """Jittable `set`: returns `param_state` extended by this assignment.

        Pass the result to `integrate(..., param_state=...)`. `val` may be a traced array
        (scalar, or one value per row in view where `key` exists).
        """
        base = self.base
        if key in base._edges:
            if key == "delay":
                raise ValueError("Delays set the simulation's structure; use set('delay', ...).")
            rows = self._edge_view_inds()
            rows = rows[~np.isnan(base._edges[key][rows])]
        elif key in self._settable_node_columns():
            rows = self._inds
            rows = rows[~np.isnan(base._nodes[key][rows])]
        else:
            raise unknown_name_error("parameter or state", key, self._settable_node_columns())
        if rows.size == 0:
            raise ValueError(f"{key!r} exists nowhere in view.")
        size = int(np.prod(np.shape(val)))  # works for traced values too
        if size not in (1, rows.size):
            raise ValueError(
                f"Incompatible shapes for broadcasting: data_set({key!r}) got {size} values "
                f"for {rows.size} rows in view (give a scalar or one value per row)."
            )
        row_name = "synapse" if key in base._edges else "compartment"
        valid = table_range(base, key)  # concrete values now, traced ones in integrate
        check_values(f"{key!r} (data_set)", val, rows if size > 1 else rows[:1], row_name, valid)
        entry = {"key": key, "val": val, "indices": rows}
        return (list(param_state) if param_state is not None else []) + [entry]

    def insert(self, channel: Channel) -> None:
        """Insert `channel` into every compartment in view, with its default parameters."""
        if isinstance(channel, type):
            raise TypeError(
                f"insert() takes a channel instance; call it: insert({channel.__name__}())."
            )
        if not isinstance(channel, Channel):
            raise TypeError(f"insert() takes a Channel instance; got {type(channel).__name__}.")
        call_convention(channel)  # validates the class's call convention early
        base = self.base
        rows = self._inds
        n = base._inds.size
        names = self._channel_names()
        if channel.name in base._groups:
            raise ValueError(f"{channel.name!r} is already a group name; rename the channel.")
        if channel.name in names:
            existing = base._channels[names.index(channel.name)]
            if type(existing) is not type(channel):
                raise ValueError(
                    f"A different channel named {channel.name!r} is already inserted; use "
                    "channel.change_name(...) to give this one another name."
                )
        else:
            base._channels.append(channel)
            base._nodes[channel.name] = np.zeros(n, dtype=bool)
        newly = rows[~base._nodes[channel.name][rows]]
        base._nodes[channel.name][rows] = True
        for key, default in {**channel.channel_params, **channel.channel_states}.items():
            if key not in base._nodes:
                base._nodes[key] = np.full(n, np.nan)
            col = base._nodes[key]
            fill = newly[np.isnan(col[newly])]
            col[fill] = default
        self._touch(layout=True)

    def delete(self, channel: Channel) -> None:
        """Remove `channel` (a channel or pump) from every compartment in view.

        As Jaxley's `Module.delete`: in the compartments in view the channel's flag becomes
        False and its parameters and states NaN, except those also declared by another
        channel that is inserted there (shared names such as `eCa` keep their values). When
        the channel is left in no compartment at all, it is dropped from `channels` and its
        columns leave the node table, again except the names another channel declares.
        Diffused states keep their values (the ion still diffuses there).
        """
        if not isinstance(channel, Channel):
            raise TypeError(f"delete() takes a Channel instance; got {type(channel).__name__}.")
        base = self.base
        names = self._channel_names()
        name = channel.name
        rows = self._inds
        if name not in names or not base._nodes[name][rows].any():
            present = [c.name for c in self.channels]
            raise ModelError(
                f"Channel {name!r} is not inserted in any compartment in view; channels in "
                f"view: {present}."
            )
        # The inserted instance is authoritative for the names (the argument may differ).
        inserted = base._channels[names.index(name)]
        keys = list(dict.fromkeys([*inserted.channel_params, *inserted.channel_states]))
        others = [c for c in base._channels if c.name != name]
        diffused = set(base.__dict__.get("_diffused_states", []))
        flag = base._nodes[name].copy()
        flag[rows] = False
        gone = not flag.any()
        n = base._inds.size
        blanked, dropped = {}, []
        for key in keys:
            if key in diffused:
                if gone and not any(key in c.channel_states for c in others):
                    raise ModelError(
                        f"{key!r} diffuses; call delete_diffusion({key!r}) before deleting "
                        f"{name!r}, the last channel that declares it."
                    )
                continue
            users = [c for c in others if key in c.channel_params or key in c.channel_states]
            kept = np.zeros(n, dtype=bool)
            for c in users:
                kept |= base._nodes[c.name]
            if gone and not users:
                dropped.append(key)
            else:
                blanked[key] = rows[~kept[rows]]
        current = inserted.current_name
        if gone and current and all(c.current_name != current for c in others):
            dropped.append(current)  # no column, but recordings of it would dangle
        self._check_unused_by_inputs(name, dropped, blanked)
        base._nodes[name] = flag
        for key, where in blanked.items():
            base._nodes[key][where] = np.nan
        if gone:
            del base._channels[names.index(name)]
            for key in [name, *dropped]:
                base._nodes.pop(key, None)
        self._touch(layout=True)

    def delete_channel(self, channel: Channel) -> None:
        """Alias of `delete(channel)` (Jaxley 0.13's name)."""
        self.delete(channel)

    def _check_unused_by_inputs(self, name, dropped, blanked) -> None:
        """Refuse to delete values that trainables, recordings or clamps still refer to."""
        base = self.base
        used = [
            (t["key"], np.asarray(t["rows"]), "trainable")
            for t in base._trainables
            if t["kind"] == "node"
        ]
        used += [(r[0], np.array([r[2]]), "recording") for r in base._recordings if r[1] == "node"]
        used += [(c[0], np.asarray(c[2]), "clamp") for c in base._clamps if c[1] == "node"]
        for key, rows, what in used:
            if key in dropped or (key in blanked and np.isin(rows, blanked[key]).any()):
                raise ModelError(
                    f"Cannot delete {name!r}: a {what} uses its {key!r} in compartments in "
                    f"view. Delete it first (delete_{what}s())."
                )

    def init_states(self, delta_t: float = 0.025) -> None:
        """Set every channel state to its steady state at the current voltage (in view)."""
        import jax.numpy as jnp

        base = self.base
        rows_in_view = self._inds
        for channel in base._channels:
            rows = rows_in_view[base._nodes[channel.name][rows_in_view]]
            if rows.size == 0:
                continue
            states = {k: jnp.asarray(base._nodes[k][rows]) for k in channel.channel_states}
            params = {k: jnp.asarray(base._nodes[k][rows]) for k in channel.channel_params}
            for k in ("radius", "length", "axial_resistivity", "capacitance", "area"):
                params[k] = jnp.asarray(base._nodes[k][rows])
            v = jnp.asarray(base._nodes["v"][rows])
            if call_convention(channel) == "scalar":
                import jax

                new = jax.vmap(channel.init_state, in_axes=(0, 0, 0, None))(
                    states, params, v, delta_t
                )
            else:
                new = channel.init_state(states, v, params, delta_t)
            for k, value in (new or {}).items():
                if k not in base._nodes:
                    raise KeyError(
                        f"{type(channel).__name__}.init_state returned unknown state {k!r}."
                    )
                base._nodes[k][rows] = np.asarray(value, dtype=float)
        self._touch()
