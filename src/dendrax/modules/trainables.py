"""Mixin: trainable parameters (`make_trainable`, `get_parameters`, ...)."""

from __future__ import annotations

import numpy as np

from dendrax.checks.values import check_blocks, first_rows, trainable_blocks
from dendrax.errors import ModelError
from dendrax.modules.export import frozen_trainables
from dendrax.modules.parameters import validate_values
from dendrax.modules.selection import unknown_name_error
from dendrax.simulator.params import check_params_structure
from dendrax.synapses.edges import EDGE_INDEX_COLUMNS, n_edges
from dendrax.tables import cylinder_geometry

__all__ = ["TrainablesMixin"]


class TrainablesMixin:
    """Jaxley's sharing rules: one trainable value per distinct unit of the last selection.

    A base module or group shares one value; `cell(...)` gives one per cell, `branch(...)` one
    per branch, `comp/loc/select` one per compartment, synapse views one per synapse.
    """

    def make_trainable(self, key: str, init_val=None, verbose: bool = True) -> None:
        """Register `key` (a parameter or an initial state) as trainable in this view."""
        base = self.base
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
        # One value per distinct `controlled_by_param`, in increasing order of it (Jaxley
        # groups by that column): per cell/branch/comp in global index order; `select`
        # numbers its rows in the order given.
        _, groups = np.unique(sharing, return_inverse=True)
        param_of_row = groups.reshape(-1)
        n_params = int(param_of_row.max()) + 1
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
        import jax.numpy as jnp

        first = first_rows(rows, param_of_row, n_params)
        row_name = "compartment" if kind == "node" else "synapse"
        validate_values(key, values, " (init_val)", base=base, rows=first, row_name=row_name)
        base._trainables.append(
            {
                "key": key,
                "kind": kind,
                "rows": rows.copy(),
                "param_of_row": param_of_row,
                "init": values,
                # The dict `get_parameters()` hands out: as in Jaxley, the module keeps it,
                # so `params[i][key] = ...` on the returned list changes the stored value.
                "value": {key: jnp.asarray(values)},
            }
        )
        self._touch()
        if verbose:
            print(
                f"Number of newly added trainable parameters: {n_params}. Total number of "
                f"trainable parameters: {base.num_trainable_params}"
            )

    def _rows_in_view(self) -> dict[str, np.ndarray]:
        """Masks of the base module's compartments (`"node"`) and synapses (`"edge"`) in view."""
        base = self.base
        in_view = {"node": np.zeros(base._inds.size, dtype=bool)}
        in_view["node"][self._inds] = True
        in_view["edge"] = np.zeros(n_edges(base._edges), dtype=bool)
        in_view["edge"][self._edge_view_inds()] = True
        return in_view

    def _trainables_in_view(self) -> list[tuple[dict, np.ndarray]]:
        """(trainable, values) for the trainables with values that set rows in view.

        On a base module every value of every trainable; on a view the values (positions
        into the trainable's values) of which at least one row is in view.
        """
        base = self.base
        if self is base:
            return [(t, np.arange(t["init"].size)) for t in base._trainables]
        in_view = self._rows_in_view()
        out = []
        for t in base._trainables:
            values = np.unique(t["param_of_row"][in_view[t["kind"]][t["rows"]]])
            if values.size:
                out.append((t, values))
        return out

    @property
    def num_trainable_params(self) -> int:
        """Number of trainable values (on a view: of those setting rows in view)."""
        return int(sum(values.size for _, values in self._trainables_in_view()))

    @property
    def trainable_params(self):
        """Initial values of the trainables, `[{key: (n_values,)}]` (on a view: in view)."""
        import jax.numpy as jnp

        if self is self.base:
            return [t["value"] for t in self.base._trainables]
        return [
            {t["key"]: jnp.asarray(t["value"][t["key"]])[v]} for t, v in self._trainables_in_view()
        ]

    def get_parameters(self):
        """Trainable parameters as a list of `{key: array(n_values)}`, in creation order."""
        return self.trainable_params

    @property
    def indices_set_by_trainables(self) -> list[np.ndarray]:
        """Rows (compartments or synapses) set by each trainable value.

        One (n_values, rows_per_value) int array per trainable; row `i` lists the rows value
        `i` sets, padded with -1 where values set different numbers of rows (as Jaxley).
        """
        out = []
        for t, values in self._trainables_in_view():
            groups = [t["rows"][t["param_of_row"] == i] for i in values]
            width = max(g.size for g in groups)
            padded = np.full((len(groups), width), -1, dtype=np.int64)
            for i, g in enumerate(groups):
                padded[i, : g.size] = g
            out.append(padded)
        return out

    def delete_trainables(self) -> None:
        """Delete all trainables; on a view, stop training the rows in view.

        Values left without rows are removed, trainables left without values too.
        """
        base = self.base
        self._touch()
        if self is base:
            base._trainables = []
            return
        import jax.numpy as jnp

        in_view = self._rows_in_view()
        kept = []
        for t in base._trainables:
            outside = ~in_view[t["kind"]][t["rows"]]
            if outside.all():
                kept.append(t)
            elif outside.any():
                used, param_of_row = np.unique(t["param_of_row"][outside], return_inverse=True)
                kept.append(
                    {
                        **t,
                        "rows": t["rows"][outside],
                        "param_of_row": param_of_row.reshape(-1),
                        "init": t["init"][used],
                        "value": {t["key"]: jnp.asarray(t["value"][t["key"]])[used]},
                    }
                )
        base._trainables = kept

    def write_trainables(self, params) -> None:
        """Write trained values (same structure as `get_parameters()`) into the tables."""
        base = self.base
        if self is not base:
            raise ModelError(
                "write_trainables() works on base modules only, not on views: call it on "
                "the module whose get_parameters() gave `params`."
            )

        check_params_structure(frozen_trainables(base), params)
        check_blocks(trainable_blocks(base, params))  # before anything is written
        for t, entry in zip(base._trainables, params, strict=True):
            values = np.asarray(entry[t["key"]], dtype=float)
            table = base._nodes if t["kind"] == "node" else base._edges
            table[t["key"]][t["rows"]] = values[t["param_of_row"]]
            if t["key"] in ("radius", "length"):
                rows = t["rows"]
                geometry = cylinder_geometry(
                    base._nodes["radius"][rows], base._nodes["length"][rows]
                )
                for name, col in geometry.items():
                    base._nodes[name][rows] = col
                base._frustum[rows] = False
        base._trainables = []
        self._touch()
