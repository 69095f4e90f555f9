"""The pure time step: gates, linearized currents, implicit voltage solve, clamps.

Units: v mV, t ms, channel currents mA/cm², stimuli nA, capacitance µF/cm², areas µm²,
axial resistivity Ω·cm, resistive loads 1/µm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.simulator.structure import Structure
from dendrax.utils.jax_utils import scatter_add_static, select, take_static

__all__ = [
    "axial_coefficients",
    "coupling_coefficients",
    "diffusion_coefficients",
    "update_channels",
    "channel_currents",
    "voltage_step",
    "DELTA_V",
]

#: Finite-difference step (mV) used to linearize currents, as NEURON does.
DELTA_V = 1e-3
#: nA / µm² -> µA/cm².
NA_PER_UM2_TO_UA_PER_CM2 = 1e5
#: 1 / (Ω·cm/µm · µm² · µF/cm²) -> 1/ms.
AXIAL_TO_PER_MS = 1e7


def coupling_coefficients(structure: Structure, resistivity, load_in, load_out, scale) -> dict:
    """Off-diagonal coefficients of a diffusion on the compartment tree.

    The edge between node `i` and its parent has resistance `Σ resistivity · load` over the
    two adjacent half-compartments; its conductance enters compartment rows multiplied by
    `scale` (n_comp,) and branchpoint rows unscaled (there it is the weight `w`).

    Returns (all (n_nodes,)): `child_row` = coupling of the parent into the child's row,
    `parent_row` = the child's entry in the parent's row, `diag` the row sums. numpy inputs
    give numpy outputs (`simulator.run.static_geometry`), otherwise jnp.
    """
    n = structure.n_comp
    on_host = all(isinstance(x, np.ndarray) for x in (resistivity, load_in, load_out, scale))
    xp = np if on_host else jnp  # numpy inputs: computed once at trace time, in numpy
    if not structure.coupled:  # only unconnected compartments: no coupling
        zeros = xp.zeros(structure.n_nodes, dtype=xp.result_type(resistivity))
        return {"child_row": zeros, "parent_row": zeros, "diag": zeros}
    take = (lambda x, rows: x[rows]) if on_host else take_static
    # The resistances of all half-compartments, inner (load_in) halves first, then outer
    # ones, then a zero for "no half"; every edge sums two of them.
    halves = xp.concatenate([resistivity * load_in, resistivity * load_out, xp.zeros(1)])

    def half_index(comp, is_out):
        return np.where(comp == n, 2 * n, comp + n * is_out)

    resistance = take(halves, half_index(structure.half_a, structure.half_a_is_out))
    resistance = resistance + take(halves, half_index(structure.half_b, structure.half_b_is_out))
    has_parent = structure.tree_parent >= 0  # roots (resistance 0) get conductance 0
    if on_host:
        conductance = np.where(has_parent, 1.0 / np.where(has_parent, resistance, 1.0), 0.0)
    else:
        conductance = select(has_parent, 1.0 / select(has_parent, resistance, 1.0), 0.0)
    row_scale = xp.concatenate([scale, xp.ones(structure.n_nodes - n)])
    parent = np.where(has_parent, structure.tree_parent, 0).astype(np.uint32)
    child_row = conductance * row_scale
    parent_row = conductance * take(row_scale, parent)
    if on_host:
        children_sum = np.bincount(parent, weights=parent_row, minlength=structure.n_nodes)
    else:
        zeros = jnp.zeros(structure.n_nodes, parent_row.dtype)
        children_sum = scatter_add_static(zeros, parent, parent_row)
    return {"child_row": child_row, "parent_row": parent_row, "diag": child_row + children_sum}


def axial_coefficients(structure: Structure, params: dict, geom: dict) -> dict:
    """Cable coefficients (1/ms in compartment rows), computed once per simulation.

    Conductances `1 / (Ra · load)` (Ra Ω·cm, loads 1/µm) scaled by `1e7 / (area · c_m)`.
    See `coupling_coefficients` for the returned dict.
    """
    scale = AXIAL_TO_PER_MS / (geom["area"] * params["capacitance"])  # (n_comp,)
    return coupling_coefficients(
        structure,
        params["axial_resistivity"],
        geom["resistive_load_in"],
        geom["resistive_load_out"],
        scale,
    )


def diffusion_coefficients(structure: Structure, params: dict, geom: dict, state: str) -> dict:
    """Coefficients (1/ms) of the intracellular diffusion of `state` (e.g. `CaCon_i`).

    Conductances `D / load` (D = `axial_diffusion_<state>`, µm²/ms; loads 1/µm) divided by
    the compartment volume (µm³): no 1e7, no capacitance. Zero-flux (sealed) ends.
    """
    return coupling_coefficients(
        structure,
        1.0 / params[f"axial_diffusion_{state}"],
        geom["resistive_load_in"],
        geom["resistive_load_out"],
        1.0 / geom["volume"],
    )


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


def _pump_of_diffused_ion(structure: Structure, group) -> bool:
    return group.ion_flux and group.mechanism.ion_name in structure.diffused_states


def _linearized_flux(group, st: dict, pr: dict, new: dict):
    """`(-d[ion]/dt, its slope in [ion])` of a pump, both (k,) (mM/ms, 1/ms)."""
    mech = group.mechanism
    merged = {**st, **new}
    conc = st[mech.ion_name]
    return jax.jvp(lambda c: mech.ion_flux(merged, c, pr), (conc,), (jnp.ones_like(conc),))


def update_channels(
    structure: Structure, states: dict, params: dict, geom: dict, dt, ion_terms=None
) -> dict:
    """Advance every channel's states with the voltage at the start of the step.

    Pumps of a diffused ion do not update it here: their flux, linearized in the
    concentration, is added into `ion_terms[ion] = (flux, slope)` ((n_comp,) each, mM/ms and
    1/ms) for the implicit diffusion solve (pass a dict when ions diffuse).
    """
    states = dict(states)
    n = structure.n_comp
    for group in structure.channels:
        v = states["v"] if group.covers_all else states["v"][group.rows]
        st = mechanism_states(group, states, structure.current_names)
        pr = mechanism_params(group, params, geom, states)
        new = dict(_call(group, "update_states", st, pr, v, dt) or {})
        if ion_terms is not None and _pump_of_diffused_ion(structure, group):
            ion = group.mechanism.ion_name
            new.pop(ion, None)
            flux, lin = _linearized_flux(group, st, pr, new)
            old_flux, old_lin = ion_terms.get(ion, (jnp.zeros(n), jnp.zeros(n)))
            if group.covers_all:
                ion_terms[ion] = (old_flux + flux, old_lin + lin)
            else:
                ion_terms[ion] = (
                    old_flux.at[group.rows].add(flux),
                    old_lin.at[group.rows].add(lin),
                )
        for key, value in new.items():
            if key not in states:
                raise KeyError(
                    f"{type(group.mechanism).__name__}.update_states returned {key!r}, which "
                    "is not one of its channel_states."
                )
            states[key] = value if group.covers_all else states[key].at[group.rows].set(value)
    return states


def _current_and_slope(group, st, pr, v, dt, with_slope: bool):
    """Current at `v` and (if `with_slope`) dI/dv: exact where the channel gives it,
    else the finite difference over `DELTA_V`, as NEURON linearizes."""
    i0 = _call(group, "compute_current", st, pr, v, dt)
    if not with_slope:
        return i0, None
    if group.exact_slope:
        return i0, group.mechanism.current_slope(st, v, pr)
    i1 = _call(group, "compute_current", st, pr, v + DELTA_V, dt)
    return i0, (i1 - i0) / DELTA_V


def channel_currents(
    structure: Structure, states: dict, params: dict, geom: dict, dt, with_slope: bool = True
):
    """Total channel current (mA/cm²) at v and its slope dI/dv (by finite difference).

    Returns `(current, slope, per_name)` with per_name = {current_name: (n_comp,)}; `slope`
    is None when `with_slope` is False (e.g. for the currents recorded at t = 0).
    """
    v_all = states["v"]
    total = jnp.zeros_like(v_all)
    slope = jnp.zeros_like(v_all) if with_slope else None
    per_name = {name: jnp.zeros_like(v_all) for name in structure.current_names}
    for group in structure.channels:
        v = v_all if group.covers_all else v_all[group.rows]
        st = mechanism_states(group, states, structure.current_names)
        pr = mechanism_params(group, params, geom, states)
        i0, s = _current_and_slope(group, st, pr, v, dt, with_slope)
        if group.covers_all:
            total = total + i0
        else:
            total = total.at[group.rows].add(i0)
        if with_slope:
            slope = slope + s if group.covers_all else slope.at[group.rows].add(s)
        name = group.mechanism.current_name
        if name:
            per_name[name] = (
                per_name[name] + i0 if group.covers_all else per_name[name].at[group.rows].add(i0)
            )
    return total, slope, per_name


def clamp_channel_currents(structure: Structure, states, params, geom, dt, clamps, totals):
    """Replace clamped channel currents (e.g. `clamp("i_HH", ...)`, mA/cm²) by their values.

    A clamped current is what the membrane receives from that channel in the clamped
    compartments (it also is what is recorded): the channel's computed current and its
    slope dI/dv are taken out of the totals there and the clamp value is put in.

    Args:
        clamps: {current_name: (rows (k,), values (k,))}, only channel current names.
        totals: `(current, slope, per_name)` from `channel_currents`.

    Returns:
        The updated `(current, slope, per_name)`.
    """
    current, slope, per_name = totals
    per_name = dict(per_name)
    for name, (rows, values) in clamps.items():
        own_slope = jnp.zeros_like(current)
        for group in structure.channels:
            if group.mechanism.current_name != name:
                continue
            v = states["v"] if group.covers_all else states["v"][group.rows]
            st = mechanism_states(group, states, structure.current_names)
            pr = mechanism_params(group, params, geom, states)
            _, s = _current_and_slope(group, st, pr, v, dt, True)
            own_slope = own_slope + s if group.covers_all else own_slope.at[group.rows].add(s)
        values = jnp.asarray(values, dtype=current.dtype)
        current = current.at[rows].add(values - per_name[name][rows])
        slope = slope.at[rows].add(-own_slope[rows])
        per_name[name] = per_name[name].at[rows].set(values)
    return current, slope, per_name


def voltage_step(
    structure,
    scheme,
    v,
    current,
    slope,
    i_ext,
    cm,
    axial,
    dt,
    linear_solver,
    prepared=None,
):
    """Advance compartment voltages (or a diffused concentration) by one step.

    Args:
        v: (n_comp,) mV at the start of the step.
        current, slope: (n_comp,) linearized membrane current in µA/cm² and µA/cm²/mV.
        i_ext: (n_comp,) injected current density, µA/cm².
        cm: (n_comp,) µF/cm².
        axial: output of `axial_coefficients` (or `diffusion_coefficients`).
        scheme: a `dendrax.solvers.TimeScheme`; linear_solver: a `LinearSolver`.
        prepared: the scheme's once-per-run data (`scheme.prepare`), or None (then
            computed in the step).

    For a concentration (mM) pass `current` = flux `-d[c]/dt` (mM/ms), `slope` its
    derivative in [c] (1/ms), `i_ext` = 0 and `cm` = 1.
    """
    return scheme.advance(
        structure, v, current, slope, i_ext, cm, axial, dt, linear_solver, prepared
    )
