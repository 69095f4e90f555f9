"""Jaxley's state layout for hand-written loops: compartments followed by branchpoints.

dendrax simulates compartment states only: branchpoints carry no capacitance, and their
voltage is eliminated in each linear solve. Jaxley 0.14's `build_init_and_step_fn` instead
returns every compartment-level state as an (n_comp + n_branchpoints,) array, and scripts
(and `build_dynamic_state_utils`) rely on that length. These helpers convert between the
two layouts at the boundary of the step API.
"""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.simulator.structure import Structure
from dendrax.solvers.tree import tree_offdiag_matvec

__all__ = ["with_branchpoints", "without_branchpoints", "node_level_names"]

#: Jaxley's filler for a non-voltage state at a branchpoint (and for v before a step).
BRANCHPOINT_FILLER = -1.0


def node_level_names(structure: Structure, states: dict) -> list[str]:
    """Names in `states` that hold one value per compartment (not per synapse)."""
    per_edge = set(structure.edge_state_names) | set(structure.synapse_current_names)
    return [name for name in states if name not in per_edge]


def _branchpoint_voltage(structure: Structure, v, axial: dict):
    """(n_bp,) voltages (mV) of the branchpoints given compartment voltages `v` (n_comp,).

    A branchpoint has no membrane, so its row of the implicit system is a current balance:
    `v_bp = Σ_j w_j v_j / Σ_j w_j` over its neighbouring compartments, which is what the
    solve gives at the new time level.
    """
    n = structure.n_comp
    n_bp = structure.n_nodes - n
    nodes = jnp.concatenate([v, jnp.zeros(n_bp, v.dtype)])
    offdiag = tree_offdiag_matvec(structure.tree, -axial["child_row"], -axial["parent_row"], nodes)
    return -offdiag[n:] / axial["diag"][n:]


def with_branchpoints(structure: Structure, states: dict, all_params: dict | None = None):
    """States with branchpoint entries appended to every compartment-level array.

    With `all_params` (from `init_fn`), `v` gets the branchpoints' voltages; without it,
    Jaxley's filler -1. Other states get -1, currents (`i_*`) 0.
    """
    n_bp = structure.n_nodes - structure.n_comp
    if n_bp == 0:
        return dict(states)
    out = dict(states)
    currents = set(structure.current_names)
    for name in node_level_names(structure, states):
        value = jnp.asarray(states[name])
        if value.ndim != 1 or value.shape[0] != structure.n_comp:
            continue
        if name == "v" and all_params is not None and structure.coupled:
            extra = _branchpoint_voltage(structure, value, all_params["axial"])
        else:
            fill = 0.0 if name in currents or name.startswith("i_") else BRANCHPOINT_FILLER
            extra = jnp.full(n_bp, fill, value.dtype)
        out[name] = jnp.concatenate([value, extra])
    return out


def without_branchpoints(structure: Structure, states: dict) -> dict:
    """States cut back to (n_comp,) compartment arrays (inverse of `with_branchpoints`)."""
    if structure.n_nodes == structure.n_comp:
        return dict(states)
    out = dict(states)
    for name in node_level_names(structure, states):
        value = states[name]
        if getattr(value, "ndim", 0) == 1 and value.shape[0] == structure.n_nodes:
            out[name] = value[: structure.n_comp]
    return out
