"""Mixin: the tables as JAX arrays (`to_jax`) and every parameter after updates
(`get_all_parameters`), with Jaxley's names."""

from __future__ import annotations

import numpy as np

from dendrax.modules.export import model_tables, module_structure
from dendrax.simulator.params import apply_parameter_updates, geometry
from dendrax.simulator.run import effective_frustum

__all__ = ["JaxTablesMixin"]


class JaxTablesMixin:
    """`to_jax()` fills `jaxnodes` / `jaxedges`; `get_all_parameters(pstate)` applies a
    parameter state (from `data_set` or `params_to_pstate`) to the tables."""

    def to_jax(self) -> None:
        """Store the numeric node columns in `self.jaxnodes` and the synaptic parameters and
        states in `self.jaxedges`, as jnp arrays.

        `jaxnodes[key]` is (n_comp,) over all compartments of the base module (NaN where a
        channel is absent). `jaxedges[key]` holds one entry per synapse *of the type that
        owns `key`*, in edge-table order (as Jaxley).
        """
        import jax.numpy as jnp

        base = self.base
        self.jaxnodes = {
            k: jnp.asarray(col) for k, col in base._nodes.items() if col.dtype.kind in "fiub"
        }
        self.jaxedges = {}
        for key, rows in self._synapse_columns().items():
            self.jaxedges[key] = jnp.asarray(np.asarray(base._edges[key], float)[rows])

    def _synapse_columns(self) -> dict:
        """{synaptic parameter or state: (k,) rows of the edges of its synapse type}."""
        base = self.base
        out = {}
        for synapse in base._synapses:
            rows = np.flatnonzero(base._edges["type"] == synapse.name)
            for key in (*synapse.synapse_params, *synapse.synapse_states):
                out.setdefault(key, rows)
        return out

    def get_all_parameters(self, pstate=None, voltage_solver=None) -> dict:
        """Every parameter of the base module with `pstate` applied.

        Args:
            pstate: list of `{"key", "val", "indices"}` from `data_set` or
                `dendrax.utils.cell_utils.params_to_pstate`, or None.
            voltage_solver: accepted for Jaxley compatibility; unused.

        Returns:
            {name: jnp array}: compartment parameters (n_comp,) including the geometry
            (`area` µm², `volume` µm³, `resistive_load_in/out` 1/µm) recomputed from
            radius and length where those are cylinders; synaptic parameters with one
            entry per synapse of their type (edge-table order).
        """
        import jax.numpy as jnp

        base = self.base
        tables = model_tables(base)
        structure = module_structure(base, tables)
        raw = {k: jnp.asarray(base._nodes[k], float) for k in structure.node_param_names}
        raw = apply_parameter_updates(raw, [], [], pstate, "node")
        params = {**raw, **geometry(raw, effective_frustum(tables, (), pstate))}
        synapse_rows = self._synapse_columns()
        edge = {k: jnp.asarray(base._edges[k], float) for k in structure.edge_param_names}
        edge = apply_parameter_updates(edge, [], [], pstate, "edge")
        for key, values in edge.items():
            params[key] = values[synapse_rows[key]] if key in synapse_rows else values
        return params
