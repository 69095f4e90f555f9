"""Mixin: trainable parameters (`make_trainable`, `get_parameters`, ...)."""

from __future__ import annotations

import numpy as np

from dendrax.modules.selection import unknown_name_error

__all__ = ["TrainablesMixin"]


class TrainablesMixin:
    """Jaxley's sharing rules: one trainable value per distinct unit of the last selection.

    A base module or group shares one value; `cell(...)` gives one per cell, `branch(...)` one
    per branch, `comp/loc/select` one per compartment, synapse views one per synapse.
    """

    def make_trainable(self, key: str, init_val=None, verbose: bool = True) -> None:
        """Register `key` (a parameter or an initial state) as trainable in this view."""
        base = self.base
        from dendrax.synapses.edges import EDGE_INDEX_COLUMNS

        if key in base._edges and key not in EDGE_INDEX_COLUMNS:
            if key == "delay":
                raise ValueError("Synaptic delays are whole time steps and cannot be trained.")
            kind, table = "edge", base._edges
            rows = self._edge_view_inds()
            sharing = getattr(self, "_edge_sharing", np.zeros(rows.size, np.int64))
        elif key in self._settable_node_columns():
            kind, table = "node", base._nodes
            rows, sharing = self._inds, self._sharing
        else:
            valid = self._settable_node_columns() + list(base._edges)
            raise unknown_name_error("parameter or state", key, valid)
        present = ~np.isnan(table[key][rows])
        rows, sharing = rows[present], sharing[present]
        if rows.size == 0:
            raise ValueError(f"{key!r} exists nowhere in view; insert the mechanism first.")
        _, first, groups = np.unique(sharing, return_index=True, return_inverse=True)
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        param_of_row = rank[groups.reshape(-1)]
        n_params = order.size
        if init_val is None:
            sums = np.bincount(param_of_row, weights=table[key][rows], minlength=n_params)
            values = sums / np.bincount(param_of_row, minlength=n_params)
        else:
            values = np.asarray(init_val, dtype=float)
            if values.ndim == 0:
                values = np.full(n_params, float(values))
            elif values.shape != (n_params,):
                raise ValueError(
                    f"init_val for {key!r} has shape {values.shape}; this view has {n_params} "
                    f"trainable value(s) (pass a scalar or shape ({n_params},))."
                )
        from dendrax.modules.parameters import validate_values

        validate_values(key, values, " (init_val)")
        base._trainables.append(
            {
                "key": key,
                "kind": kind,
                "rows": rows.copy(),
                "param_of_row": param_of_row,
                "init": values,
            }
        )
        if verbose:
            print(
                f"Number of newly added trainable parameters: {n_params}. Total number of "
                f"trainable parameters: {self.num_trainable_params}"
            )

    @property
    def num_trainable_params(self) -> int:
        return int(sum(t["init"].size for t in self.base._trainables))

    @property
    def trainable_params(self):
        import jax.numpy as jnp

        return [{t["key"]: jnp.asarray(t["init"])} for t in self.base._trainables]

    def get_parameters(self):
        """Trainable parameters as a list of `{key: array(n_values)}`, in creation order."""
        return self.trainable_params

    @property
    def indices_set_by_trainables(self):
        """Rows set by each trainable: (n_values, rows_per_value) where sizes are equal."""
        out = []
        for t in self.base._trainables:
            groups = [t["rows"][t["param_of_row"] == i] for i in range(t["init"].size)]
            sizes = {g.size for g in groups}
            out.append(np.stack(groups) if len(sizes) == 1 else groups)
        return out

    def delete_trainables(self) -> None:
        """Delete all trainables (on a view: those touching rows in view)."""
        base = self.base
        if self is base:
            base._trainables = []
        else:
            inside = set(self._inds.tolist())
            edges = set(self._edge_view_inds().tolist())
            base._trainables = [
                t
                for t in base._trainables
                if not (inside if t["kind"] == "node" else edges).intersection(t["rows"].tolist())
            ]

    def write_trainables(self, params) -> None:
        """Write trained values (same structure as `get_parameters()`) into the tables."""
        base = self.base
        if self is not base:
            raise ValueError("write_trainables() works on base modules only, not on views.")
        from dendrax.simulator.params import check_params_structure

        check_params_structure(base, params)
        for t, entry in zip(base._trainables, params, strict=True):
            values = np.asarray(entry[t["key"]], dtype=float)
            table = base._nodes if t["kind"] == "node" else base._edges
            table[t["key"]][t["rows"]] = values[t["param_of_row"]]
            if t["key"] in ("radius", "length"):
                from dendrax.modules.tables import cylinder_geometry

                rows = t["rows"]
                geometry = cylinder_geometry(
                    base._nodes["radius"][rows], base._nodes["length"][rows]
                )
                for name, col in geometry.items():
                    base._nodes[name][rows] = col
                base._frustum[rows] = False
        base._trainables = []
        base._sim_cache = None
