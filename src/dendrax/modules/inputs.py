"""Mixin: recordings, current stimuli and clamps (and their jittable `data_*` twins)."""

from __future__ import annotations

import numpy as np

from dendrax.checks.values import check_values, table_range
from dendrax.modules.selection import unknown_name_error

__all__ = ["InputsMixin"]


def _time_series(name: str, values, n_rows: int, allow_traced: bool = False):
    """Validate a (T,) or (n_rows, T) series; returns (n_rows, T)."""
    import jax

    # Concrete jax arrays become numpy (and are checked); only traced ones stay jnp.
    if allow_traced and isinstance(values, jax.core.Tracer):
        import jax.numpy as jnp

        arr = jnp.asarray(values)
        lib = jnp
    else:
        arr = np.asarray(values, dtype=float)
        lib = np
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"The {name} contains NaN or inf values.")
    if arr.ndim == 1:
        return lib.broadcast_to(arr[None, :], (n_rows, arr.shape[0]))
    if arr.ndim == 2 and arr.shape[0] == n_rows:
        return arr
    raise ValueError(
        f"The {name} has shape {tuple(arr.shape)}, but the view has {n_rows} row(s): pass a 1-D "
        f"array (T,) to apply it everywhere in view, or a 2-D array ({n_rows}, T)."
    )


class InputsMixin:
    """`record`, `stimulate`, `clamp`, their deletions and `data_stimulate`/`data_clamp`."""

    # --------------------------------------------------------------- state names
    def _node_state_names(self):
        base = self.base
        names = ["v"]
        for channel in base._channels:
            names += list(channel.channel_states)
            if channel.current_name:
                names.append(channel.current_name)
        return list(dict.fromkeys(names))

    def _edge_state_names(self):
        names = []
        for synapse in self.base._synapses:
            names += list(synapse.synapse_states) + [f"i_{synapse.name}"]
        return names

    def _target_rows(self, state: str):
        """("node"|"edge", row indices in view) where `state` lives."""
        if state in self._node_state_names():
            rows = self._inds
            if state != "v" and state in self.base._nodes:
                rows = rows[~np.isnan(self.base._nodes[state][rows])]
            if rows.size == 0:
                raise ValueError(f"State {state!r} exists in no compartment in view.")
            return "node", rows
        if state in self._edge_state_names():
            rows = self._edge_view_inds()
            type_of = {
                name: s.name
                for s in self.base._synapses
                for name in list(s.synapse_states) + [f"i_{s.name}"]
            }
            rows = rows[self.base._edges["type"][rows] == type_of[state]]
            if rows.size == 0:
                raise ValueError(f"No synapse in view carries state {state!r}.")
            return "edge", rows
        raise unknown_name_error(
            "state", state, self._node_state_names() + self._edge_state_names()
        )

    # --------------------------------------------------------------- recordings
    def record(self, state: str = "v", verbose: bool = True) -> None:
        """Record `state` at every compartment (or synapse) in view, in view order."""
        kind, rows = self._target_rows(state)
        recorded = np.array(
            [r[2] for r in self.base._recordings if r[0] == state and r[1] == kind], dtype=np.int64
        )
        _, first = np.unique(rows, return_index=True)  # drop duplicates, keep view order
        rows = rows[np.sort(first)]
        new_rows = rows[~np.isin(rows, recorded)]
        self.base._recordings.extend((state, kind, int(row)) for row in new_rows)
        self._touch()
        added = new_rows.size
        if verbose:
            print(f"Added {added} recordings. See `.recordings` for details.")

    @property
    def recordings(self):
        """Recorded states as a DataFrame (`rec_index`, `state`, `kind`), in output order.

        On a view, only the recordings of rows in view (index: position in the output).
        """
        import pandas as pd

        recs = self.base._recordings
        frame = pd.DataFrame(
            {
                "rec_index": [r[2] for r in recs],
                "state": [r[0] for r in recs],
                "kind": [r[1] for r in recs],
            }
        )
        if self is self.base or frame.empty:
            return frame
        nodes = np.isin(frame["rec_index"].to_numpy(), self._inds)
        edges = np.isin(frame["rec_index"].to_numpy(), self._edge_view_inds())
        node_kind = frame["kind"].to_numpy() == "node"
        return frame[np.where(node_kind, nodes, edges)]

    @property
    def rec_info(self):
        """Alias of `recordings` (Jaxley 1.0 name)."""
        return self.recordings

    def delete_recordings(self) -> None:
        """Delete all recordings (on a view: only those of rows in view)."""
        base = self.base
        self._touch()
        if self is base:
            base._recordings = []
            return
        nodes, edges = set(self._inds.tolist()), set(self._edge_view_inds().tolist())
        base._recordings = [
            r for r in base._recordings if r[2] not in (nodes if r[1] == "node" else edges)
        ]

    # --------------------------------------------------------------- stimuli
    def stimulate(self, current, verbose: bool = True) -> None:
        """Inject `current` (nA) into every compartment in view.

        `current` is (T,) (same current everywhere in view) or (n_comps_in_view, T); entry
        `n` applies during time step `n`.
        """
        rows = self._inds
        series = np.array(_time_series("stimulus current", current, rows.size))
        self.base._stimuli.append((rows.copy(), series))
        self._touch()
        if verbose:
            print(f"Added {rows.size} external_states. See `.externals` for details.")

    def data_stimulate(self, current, data_stimuli=None, verbose: bool = False):
        """Jittable `stimulate`: returns `data_stimuli` extended (pass it to `integrate`)."""
        rows = self._inds
        series = _time_series("stimulus current", current, rows.size, allow_traced=True)
        return (list(data_stimuli) if data_stimuli is not None else []) + [
            ("i", rows.copy(), series)
        ]

    def delete_stimuli(self) -> None:
        """Delete all stimuli (on a view: the stimuli of compartments in view)."""
        base = self.base
        self._touch()
        if self is base:
            base._stimuli = []
            return
        kept = []
        for rows, series in base._stimuli:
            keep = ~np.isin(rows, self._inds)
            if keep.any():
                kept.append((rows[keep], series[keep]))
        base._stimuli = kept

    def _external_entries(self):
        """{name: [(rows (k,), series (k, T)), ...]}: stimuli under "i", clamps by state.

        On a view, only the rows in view.
        """
        base = self.base
        entries = [("i", "node", rows, series) for rows, series in base._stimuli]
        entries += list(base._clamps)
        out = {}
        for name, kind, rows, series in entries:
            if self is not base:
                keep = np.isin(rows, self._inds if kind == "node" else self._edge_view_inds())
                if not keep.any():
                    continue
                rows, series = rows[keep], series[keep]
            out.setdefault(name, []).append((rows, series))
        return out

    @property
    def externals(self):
        """Stimuli and clamps as {name: (n, T) array}: currents (nA) under "i", clamps by state.

        Rows line up with `external_inds`; stimuli of different lengths are zero-padded to
        the longest, clamps are cut to the shortest (as `integrate` does).
        """
        out = {}
        for name, items in self._external_entries().items():
            lengths = [s.shape[1] for _, s in items]
            t_len = max(lengths) if name == "i" else min(lengths)
            out[name] = np.concatenate(
                [np.pad(s, ((0, 0), (0, max(t_len - s.shape[1], 0))))[:, :t_len] for _, s in items]
            )
        return out

    @property
    def external_inds(self):
        """{name: (n,) int array}: compartment (or synapse) rows of each row of `externals`."""
        return {
            name: np.concatenate([np.asarray(r, dtype=np.int64) for r, _ in items])
            for name, items in self._external_entries().items()
        }

    # --------------------------------------------------------------- clamps
    def clamp(self, state_name: str, state_array, verbose: bool = True) -> None:
        """Clamp `state_name` of every row in view to a time series ((T,) or (n, T))."""
        kind, rows = self._target_rows(state_name)
        series = np.array(_time_series(f"clamp of {state_name!r}", state_array, rows.size))
        self._check_clamp(state_name, kind, rows, series)
        self.base._clamps.append((state_name, kind, rows.copy(), series))
        self._touch()
        if verbose:
            print(f"Added {rows.size} clamps of {state_name!r}.")

    def data_clamp(self, state_name: str, state_array, data_clamps=None, verbose: bool = False):
        """Jittable `clamp`: returns `data_clamps` extended (pass it to `integrate`)."""
        kind, rows = self._target_rows(state_name)
        series = _time_series(f"clamp of {state_name!r}", state_array, rows.size, allow_traced=True)
        self._check_clamp(state_name, kind, rows, series)  # traced ones: in integrate
        return (list(data_clamps) if data_clamps is not None else []) + [
            (state_name, kind, rows.copy(), series)
        ]

    def _check_clamp(self, state, kind, rows, series) -> None:
        """Clamped values must lie in the state's valid range (`dendrax.checks.ranges`)."""
        row_name = "compartment" if kind == "node" else "synapse"
        valid = table_range(self.base, state)
        check_values(f"the clamp of {state!r}", series, rows, row_name, valid, "time step")

    def delete_clamps(self, state_name: str | None = None) -> None:
        """Delete clamps (of `state_name` only, if given; on a view: rows in view only)."""
        base = self.base
        kept = []
        for state, kind, rows, series in base._clamps:
            if state_name is not None and state != state_name:
                kept.append((state, kind, rows, series))
                continue
            if self is base:
                continue
            inside = self._inds if kind == "node" else self._edge_view_inds()
            keep = ~np.isin(rows, inside)
            if keep.any():
                kept.append((state, kind, rows[keep], series[keep]))
        base._clamps = kept
        self._touch()
