"""The true ODE state of a module as a flat vector (for Jacobians, dynamax, Lyapunov spectra).

`build_init_and_step_fn` works with `all_states`: a dict of every recordable state, including
*observables* that are functions of the others (channel and synaptic currents) and NaN
padding where a mechanism is absent from some compartments or synapses. The helpers built
here strip those to leave only the dynamic states, turn them into one flat array and back,
and re-add the observables before a step.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from dendrax.modules.export import module_structure
from dendrax.simulator.branchpoint_states import with_branchpoints, without_branchpoints
from dendrax.simulator.step import channel_currents
from dendrax.simulator.synapse_step import initial_synapse_currents

__all__ = ["build_dynamic_state_utils"]


def _defined_rows(table: dict, names, n_rows: int) -> dict:
    """{state: (k,) rows where the state is defined (not NaN) in `table`}."""
    rows = {}
    for name in names:
        column = table.get(name)
        if column is None:
            rows[name] = np.arange(n_rows)
        else:
            rows[name] = np.flatnonzero(~np.isnan(np.asarray(column, dtype=float)))
    return rows


def build_dynamic_state_utils(module) -> tuple[Callable, Callable, Callable, Callable]:
    """Functions converting between `all_states` and the vector of dynamic (ODE) states.

    The dynamic states are the compartment voltages, the channel states (only in the
    compartments that carry the channel) and the synapse states (only on synapses of the
    type that owns them). Currents (`i_HH`, `i_<Synapse>`, ...) are observables: they are
    recomputed from the dynamic states by `add_observables`.

    Args:
        module: the module (or a view of it) used with `build_init_and_step_fn`. Its
            structure (mechanisms and where they sit) must not change afterwards.

    Returns:
        `(remove_observables, add_observables, flatten, unflatten)`:

        - `remove_observables(all_states) -> dynamic_states`: drops currents and NaN padding;
          every entry becomes a (k,) array over the rows where the state is defined.
        - `add_observables(dynamic_states, all_params, delta_t) -> all_states`: restores
          the padding (NaN) and the branchpoint entries of `build_init_and_step_fn`'s
          layout (v and states -1, currents 0), and recomputes channel currents (mA/cm²)
          and synaptic currents (nA) at the given states, as `init_fn` does; `delta_t` in ms.
        - `flatten(dynamic_states) -> (n,) array` and `unflatten((n,) array) -> dynamic_states`,
          with a fixed order of states (`n` = number of dynamic state values).

    Raises:
        ValueError: if the module has synapses with transmission delays (their history
            buffer is not part of the flat state).
    """
    tables = module.base.tables
    structure = module_structure(module)
    edges = tables.edges
    if structure.n_edges and np.any(np.asarray(edges.get("delay", [0.0]), dtype=float) > 0):
        raise ValueError(
            "build_dynamic_state_utils does not support synaptic delays: the delay buffer is "
            "history, not an ODE state. Set the delays to 0 to use it."
        )
    node_rows = _defined_rows(tables.nodes, structure.node_state_names, structure.n_comp)
    node_rows["v"] = np.arange(structure.n_comp)
    edge_rows = _defined_rows(edges, structure.edge_state_names, structure.n_edges)
    observables = set(structure.current_names) | set(structure.synapse_current_names)
    sizes = {k: structure.n_comp for k in node_rows}
    sizes.update({k: structure.n_edges for k in edge_rows})
    # Ion currents that pumps read (e.g. `i_Ca`) are node states too, but observables.
    rows = {k: r for k, r in {**node_rows, **edge_rows}.items() if k not in observables}
    dtype = jnp.result_type(float)
    template = {name: jnp.zeros(r.size, dtype) for name, r in rows.items()}
    _, unflatten_template = ravel_pytree(template)

    def remove_observables(all_states: dict) -> dict:
        """Dynamic states: currents dropped, each state restricted to its defined rows."""
        missing = set(rows) - set(all_states)
        if missing:
            raise KeyError(f"all_states lacks the states {sorted(missing)}.")
        out = {}
        for name, value in all_states.items():
            if name in observables:
                continue
            out[name] = value[rows[name]] if name in rows else value
        return out

    def add_observables(dynamic_states: dict, all_params: dict, delta_t: float) -> dict:
        """`all_states` for `step_fn`: NaN padding restored, currents recomputed."""
        states = {}
        all_params = without_branchpoints(structure, all_params)
        for name, value in dynamic_states.items():
            if name in rows:
                value = jnp.asarray(value)
                full = jnp.full(sizes[name], jnp.nan, dtype=value.dtype)
                states[name] = full.at[rows[name]].set(value)
            else:
                states[name] = value
        for name in structure.current_names:
            states[name] = jnp.zeros_like(states["v"])
        _, _, per_name = channel_currents(
            structure, states, all_params, all_params, delta_t, with_slope=False
        )
        states.update(per_name)
        if structure.synapses:
            states.update(initial_synapse_currents(structure, states, all_params, delta_t))
        return with_branchpoints(structure, states)

    def flatten(dynamic_states: dict):
        """(n,) vector of the dynamic states (order: states sorted by name)."""
        unknown = set(dynamic_states) - set(rows)
        if unknown:
            raise KeyError(f"Not dynamic states of this module: {sorted(unknown)}.")
        return ravel_pytree({name: dynamic_states[name] for name in rows})[0]

    def unflatten(vector):
        """Dynamic states (dict of (k,) arrays) from the (n,) vector made by `flatten`."""
        vector = jnp.asarray(vector)
        expected = sum(r.size for r in rows.values())
        if vector.shape != (expected,):
            raise ValueError(f"Expected a state vector of shape ({expected},); got {vector.shape}.")
        return unflatten_template(vector)

    return remove_observables, add_observables, flatten, unflatten
