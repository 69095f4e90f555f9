"""The pure time step: gates, linearized currents, implicit voltage solve, clamps.

Units: v mV, t ms, channel currents mA/cm², stimuli nA, capacitance µF/cm², areas µm²,
axial resistivity Ω·cm, resistive loads 1/µm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dendrax.simulator.structure import Structure
from dendrax.solvers.tree import tree_offdiag_matvec, tree_solve

__all__ = ["axial_coefficients", "update_channels", "channel_currents", "voltage_step", "DELTA_V"]

#: Finite-difference step (mV) used to linearize currents, as NEURON does.
DELTA_V = 1e-3
#: nA / µm² -> µA/cm².
NA_PER_UM2_TO_UA_PER_CM2 = 1e5
#: 1 / (Ω·cm/µm · µm² · µF/cm²) -> 1/ms.
AXIAL_TO_PER_MS = 1e7


def axial_coefficients(structure: Structure, params: dict, geom: dict) -> dict:
    """Off-diagonal coefficients of the cable equation, computed once per simulation.

    Returns (all (n_nodes,)): `child_row` (1/ms for compartment rows, conductance weight for
    branchpoint rows) = coupling of parent into child's row; `parent_row` likewise for the
    child's entry in the parent's row; `diag` the row sums; `is_comp` row type.
    """
    n = structure.n_comp
    ra = jnp.concatenate([params["axial_resistivity"], jnp.zeros(1)])
    load_in = jnp.concatenate([geom["resistive_load_in"], jnp.zeros(1)])
    load_out = jnp.concatenate([geom["resistive_load_out"], jnp.zeros(1)])

    def half(idx, is_out):
        return ra[idx] * jnp.where(is_out, load_out[idx], load_in[idx])

    resistance = half(structure.half_a, structure.half_a_is_out) + half(
        structure.half_b, structure.half_b_is_out
    )
    has_parent = structure.tree_parent >= 0
    conductance = jnp.where(has_parent, 1.0 / jnp.where(has_parent, resistance, 1.0), 0.0)
    scale = AXIAL_TO_PER_MS / (geom["area"] * params["capacitance"])  # (n_comp,)
    row_scale = jnp.concatenate([scale, jnp.ones(structure.n_nodes - n)])
    parent = jnp.where(has_parent, structure.tree_parent, 0)
    child_row = conductance * row_scale
    parent_row = conductance * row_scale[parent]
    diag = child_row + jnp.zeros(structure.n_nodes).at[parent].add(parent_row)
    return {"child_row": child_row, "parent_row": parent_row, "diag": diag}


def _gather(group, full: dict, names) -> dict:
    if group.covers_all:
        return {k: full[k] for k in names}
    return {k: full[k][group.rows] for k in names}


def _call(group, method: str, states, params, v, dt):
    fn = getattr(group.mechanism, method)
    if group.convention == "scalar":
        if method == "compute_current":
            return jax.vmap(lambda s, p, vv: fn(s, p, vv, dt))(states, params, v)
        return jax.vmap(lambda s, p, vv: fn(s, p, vv, dt))(states, params, v)
    if method == "compute_current":
        return fn(states, v, params)
    return fn(states, dt, v, params)


_GEOMETRY_FOR_MECHANISMS = (
    "radius",
    "length",
    "axial_resistivity",
    "capacitance",
    "area",
    "volume",
)


def mechanism_params(group, params: dict, geom: dict, states: dict | None = None) -> dict:
    """Parameters (and geometry) of a mechanism's compartments.

    A parameter that is also a state (e.g. `eCa`, written by a Nernst mechanism and read
    by Ca channels) is read from `states`.
    """
    merged = {**params, **geom}
    if states is not None:
        merged.update({k: states[k] for k in group.param_names if k in states})
    return _gather(group, merged, group.param_names + _GEOMETRY_FOR_MECHANISMS)


def mechanism_states(group, states: dict, current_names) -> dict:
    return _gather(group, states, group.state_names + tuple(current_names))


def update_channels(structure: Structure, states: dict, params: dict, geom: dict, dt) -> dict:
    """Advance every channel's states with the voltage at the start of the step."""
    states = dict(states)
    for group in structure.channels:
        v = states["v"] if group.covers_all else states["v"][group.rows]
        new = _call(
            group,
            "update_states",
            mechanism_states(group, states, structure.current_names),
            mechanism_params(group, params, geom, states),
            v,
            dt,
        )
        for key, value in (new or {}).items():
            if key not in states:
                raise KeyError(
                    f"{type(group.mechanism).__name__}.update_states returned {key!r}, which "
                    "is not one of its channel_states."
                )
            states[key] = value if group.covers_all else states[key].at[group.rows].set(value)
    return states


def channel_currents(structure: Structure, states: dict, params: dict, geom: dict, dt):
    """Total channel current (mA/cm²) at v and its slope dI/dv (by finite difference).

    Returns `(current, slope, per_name)` with per_name = {current_name: (n_comp,)}.
    """
    v_all = states["v"]
    total = jnp.zeros_like(v_all)
    slope = jnp.zeros_like(v_all)
    per_name = {name: jnp.zeros_like(v_all) for name in structure.current_names}
    for group in structure.channels:
        v = v_all if group.covers_all else v_all[group.rows]
        st = mechanism_states(group, states, structure.current_names)
        pr = mechanism_params(group, params, geom, states)
        i0 = _call(group, "compute_current", st, pr, v, dt)
        i1 = _call(group, "compute_current", st, pr, v + DELTA_V, dt)
        s = (i1 - i0) / DELTA_V
        if group.covers_all:
            total, slope = total + i0, slope + s
        else:
            total, slope = total.at[group.rows].add(i0), slope.at[group.rows].add(s)
        name = group.mechanism.current_name
        if name:
            per_name[name] = (
                per_name[name] + i0 if group.covers_all else per_name[name].at[group.rows].add(i0)
            )
    return total, slope, per_name


def voltage_step(structure, solver, v, current, slope, i_ext, cm, axial, dt):
    """Advance compartment voltages by one step of the cable equation.

    Args:
        v: (n_comp,) mV at the start of the step.
        current, slope: (n_comp,) linearized membrane current in µA/cm² and µA/cm²/mV.
        i_ext: (n_comp,) injected current density, µA/cm².
        cm: (n_comp,) µF/cm².
        axial: output of `axial_coefficients`.
        solver: "bwd_euler", "crank_nicolson" or "fwd_euler".
    """
    n = structure.n_comp
    n_bp = structure.n_nodes - n
    drive = (slope * v - current + i_ext) / cm
    if solver == "fwd_euler":
        offdiag_comp = tree_offdiag_matvec(
            structure.tree,
            -axial["child_row"],
            -axial["parent_row"],
            jnp.concatenate([v, jnp.zeros(n_bp, v.dtype)]),
        )
        v_bp = -offdiag_comp[n:] / axial["diag"][n:] if n_bp else jnp.zeros(0, v.dtype)
        v_nodes = jnp.concatenate([v, v_bp])
        flux = (
            -tree_offdiag_matvec(
                structure.tree, -axial["child_row"], -axial["parent_row"], v_nodes
            )[:n]
            - axial["diag"][:n] * v
        )
        return v + dt * ((i_ext - current) / cm + flux)
    h = dt / 2.0 if solver == "crank_nicolson" else dt
    is_comp = jnp.arange(structure.n_nodes) < n
    row = jnp.where(is_comp, h, 1.0)
    parent = jnp.where(structure.tree_parent >= 0, structure.tree_parent, 0)
    diag = jnp.concatenate([1.0 + h * slope / cm, jnp.zeros(n_bp, v.dtype)]) + row * axial["diag"]
    upper = -row * axial["child_row"]
    lower = -row[parent] * axial["parent_row"]
    rhs = jnp.concatenate([v + h * drive, jnp.zeros(n_bp, v.dtype)])
    if structure.n_nodes == 1:
        solution = rhs / diag
    else:
        solution = tree_solve(structure.tree, diag, upper, lower, rhs)
    v_new = solution[:n]
    if solver == "crank_nicolson":
        v_new = 2.0 * v_new - v
    return v_new
