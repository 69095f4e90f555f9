"""Pure simulation building blocks shared by `integrate` and `build_init_and_step_fn`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.simulator.params import (
    apply_parameter_updates,
    check_params_structure,
    geometry,
    pstate_rows,
)
from dendrax.simulator.step import (
    NA_PER_UM2_TO_UA_PER_CM2,
    axial_coefficients,
    channel_currents,
    clamp_channel_currents,
    diffusion_coefficients,
    update_channels,
    voltage_step,
)
from dendrax.simulator.structure import Structure
from dendrax.simulator.synapse_step import (
    initial_delay_buffer,
    initial_synapse_currents,
    synapse_step,
)
from dendrax.solvers.exponential_euler import exp_euler_transition
from dendrax.solvers.tree import TreeSolver
from dendrax.utils.jax_utils import select

__all__ = [
    "initial_values",
    "make_step",
    "make_step_halves",
    "effective_frustum",
    "node_table_values",
    "exp_euler_transitions",
]

_MA_TO_UA = 1000.0


def _float(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def effective_frustum(tables, trainables, param_state) -> np.ndarray:
    """Frustum flags, cleared where radius or length are trained or set by `data_set`.

    `trainables` are those whose values the simulation applies: none where `params` are not
    given. As in Jaxley, a trainable radius of a traced (SWC) cell turns its compartments
    into cylinders only when its values are passed, not by `make_trainable` alone.
    """
    frustum = np.array(tables.frustum, copy=True)
    for t in trainables:
        if t["key"] in ("radius", "length"):
            frustum[t["rows"]] = False
    for item in param_state or []:
        if item["key"] in ("radius", "length"):
            frustum[pstate_rows(item)[0]] = False
    return frustum


def initial_values(
    tables,
    structure: Structure,
    params=None,
    param_state=None,
    all_states=None,
    node_values=None,
    delay_plan=None,
    static=None,
):
    """Parameters (incl. derived geometry and axial coefficients) and initial states.

    `static`, if given, holds the geometry and axial coefficients computed beforehand in
    numpy (`static_geometry`).

    Returns `(states, all_params)`: dicts of jnp arrays, (n_comp,) for compartments and
    (n_edges,) for synapse parameters/states/currents. `all_params["axial"]` holds the
    cable coefficients of `axial_coefficients`. With a `delay_plan`, the states also hold
    the delay ring buffer.
    """
    # As in Jaxley: without `params` (None), trainables are not applied (the tables' values
    # are); an explicit list must match the trainables.
    trainables = () if params is None else tables.trainables
    params = [] if params is None else params
    if trainables:
        check_params_structure(trainables, params)
    nodes = node_table_values(tables, structure) if node_values is None else node_values
    raw = {k: _float(nodes[k]) for k in structure.node_param_names}
    raw = apply_parameter_updates(raw, trainables, params, param_state, "node")
    _check_geometry(raw)
    if static is None:
        geom = geometry(raw, effective_frustum(tables, trainables, param_state))
        all_params = {**raw, **geom}
        all_params["axial"] = axial_coefficients(structure, all_params, geom)
    else:
        geom = static["geometry"]
        all_params = {**raw, **geom, "axial": static["axial"]}
    if structure.diffused_states:
        _check_positive(raw, [f"axial_diffusion_{s}" for s in structure.diffused_states])
        all_params["ion_axial"] = {
            s: diffusion_coefficients(structure, all_params, geom, s)
            for s in structure.diffused_states
        }
    edge_params = {k: _float(nodes[k]) for k in structure.edge_param_names}
    edge_params = apply_parameter_updates(edge_params, trainables, params, param_state, "edge")
    all_params.update(edge_params)
    if all_states is None:
        states = {k: _float(nodes[k]) for k in structure.node_state_names}
        states = apply_parameter_updates(states, trainables, params, param_state, "node")
        for name in structure.current_names:
            states[name] = jnp.zeros_like(states["v"])
        _, _, per_name = channel_currents(
            structure, states, all_params, geom, 0.025, with_slope=False
        )
        states.update(per_name)
        edge_states = {k: _float(nodes[k]) for k in structure.edge_state_names}
        states.update(apply_parameter_updates(edge_states, trainables, params, param_state, "edge"))
        states.update(initial_synapse_currents(structure, states, all_params, 0.025))
        if delay_plan is not None:
            states.update(initial_delay_buffer(delay_plan, states))
    else:
        missing = set(structure.node_state_names + structure.edge_state_names) - set(all_states)
        if delay_plan is not None and "__delay_buffer" not in all_states:
            missing.add("__delay_buffer")
        if missing:
            raise ValueError(
                f"all_states lacks the states {sorted(missing)}; pass the states "
                "returned by integrate(..., return_states=True)."
            )
        states = dict(all_states)
    return states, all_params


def static_geometry(tables, structure: Structure, params, param_state, scheme, delta_t):
    """`{"geometry": ..., "axial": ...}` in numpy, when nothing they use is traced.

    `geometry` as `params.geometry` (area, volume, resistive loads), `axial` the axial
    coefficients with their `"implicit"` system. Outside a transformation of the
    parameters the geometry is known when `integrate` is traced: numpy then computes it
    once, and it enters the compiled simulation as inputs (a later `set` still does not
    compile again) instead of as the ~8 setup kernels XLA would compile for it (and the
    tracing of their operations). Returns None for solvers without an
    implicit system and when `delta_t` or a `data_set` value is traced (`integrate` does
    not call it with traced `params`). Trainables and `data_set` values are applied as in
    `initial_values`.
    """
    if not scheme.implicit or isinstance(delta_t, jax.core.Tracer):
        return None
    if any(isinstance(item["val"], jax.core.Tracer) for item in param_state or []):
        return None
    raw = {k: np.array(tables.nodes[k], np.float64) for k in structure.node_param_names}
    trainables = () if params is None else tables.trainables  # as `initial_values`
    for t, entry in zip(trainables, params or [], strict=True):
        if t["kind"] == "node" and t["key"] in raw:
            values = np.asarray(entry[t["key"]], np.float64).reshape(-1)
            raw[t["key"]][t["rows"]] = values[t["param_of_row"]]
    for item in param_state or []:
        if item["key"] in raw:
            rows, value_of_row = pstate_rows(item)
            value = np.asarray(item["val"], np.float64)
            if value_of_row is not None:
                value = value.reshape(-1)[value_of_row]
            raw[item["key"]][rows] = value.reshape(-1) if value.ndim else value
    with np.errstate(all="ignore"):  # bad geometry is reported by `initial_values`
        geom = geometry(raw, effective_frustum(tables, trainables, param_state))
        axial = axial_coefficients(structure, raw, geom)
        implicit = scheme.prepare(structure, axial, delta_t)
    return {"geometry": geom, "axial": {**axial, "implicit": implicit}}


def node_table_values(tables, structure: Structure) -> dict:
    """The numeric node and edge columns a simulation reads (parameters and states), numpy."""
    names = structure.node_param_names + structure.node_state_names
    values = {k: tables.nodes[k] for k in names}
    for k in structure.edge_param_names + structure.edge_state_names:
        values[k] = tables.edges[k]
    return values


def exp_euler_transitions(structure: Structure, all_params: dict, delta_t):
    """(1 + n_diffused, n_comp, n_comp) propagators `expm(G dt)`: voltage, then each ion."""
    coefficients = [all_params["axial"]] + [
        all_params["ion_axial"][s] for s in structure.diffused_states
    ]
    return jnp.stack([exp_euler_transition(structure, c, delta_t) for c in coefficients])


def _check_geometry(raw):
    _check_positive(raw, ("radius", "length", "axial_resistivity", "capacitance"))


def _check_positive(raw, keys):
    for key in keys:
        value = raw[key]
        if not isinstance(value, jnp.ndarray) or not hasattr(value, "__array__"):
            continue
        try:
            arr = np.asarray(value)
        except Exception:  # traced values are checked by the user's transforms
            continue
        if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
            bad = arr[(arr <= 0) | ~np.isfinite(arr)][:5].tolist()
            raise ValueError(f"{key!r} must be finite and > 0 everywhere; got {bad}.")


#: Up to this many stimulated compartments are added as masked vectors instead of a scatter.
FEW_STIMULI = 4


def _add_injected(i_ext, inds, amps):
    """`i_ext` (n_comp,) plus `amps` (k,) nA added at compartment rows `inds` (k,).

    For a few stimuli the sum is written as `k` masked vector adds: XLA's CPU backend turns
    a scatter at one or a few rows into a slice update, which then prevents LLVM from
    vectorizing the whole fused right-hand side of the voltage equation. Many stimuli use
    one scatter-add.
    """
    if inds.shape[0] > FEW_STIMULI:
        return i_ext.at[inds].add(amps)
    if isinstance(inds, np.ndarray):
        rows = np.arange(i_ext.shape[0])
        for k in range(inds.shape[0]):
            mask = rows == inds[k]
            i_ext = i_ext + (amps[k] if mask.all() else select(mask, amps[k], 0.0))
        return i_ext
    rows = jnp.arange(i_ext.shape[0])
    for k in range(inds.shape[0]):
        i_ext = i_ext + jnp.where(rows == inds[k], amps[k], 0.0)
    return i_ext


def _prepared(scheme, axial: dict, transitions, k: int):
    """The once-per-run data of `scheme` for coupling `axial` (k-th propagator), or None."""
    if scheme.uses_transition:
        return None if transitions is None else transitions[k]
    return axial.get("implicit") if scheme.implicit else None


def make_step_halves(
    structure: Structure,
    scheme,
    delay_plan=None,
    linear_solver=None,
    shared_drive: tuple = (),
):
    """The time step of `make_step` cut in two: `(channel_part, rest)`.

    `channel_part(states, all_params, externals, delta_t) -> (states, ion_terms)` advances
    the channel states and writes the state clamps; `rest(states, ion_terms, all_params,
    externals, delta_t) -> states` does the rest of the step (currents, synapses, voltage
    solve, voltage clamps). Between the two, `states` hold what the synapses of this step
    read from their presynaptic compartments (the voltage at the start of the step and the
    updated channel states): a network split over devices exchanges them there
    (`dendrax.parallel.split_network`). `make_step` is the two halves in sequence.
    """

    if linear_solver is None:
        linear_solver = TreeSolver()

    def channel_part(states, all_params, externals, delta_t):
        geom = all_params
        ion_terms = {} if structure.diffused_states else None
        states = update_channels(structure, states, all_params, geom, delta_t, ion_terms)
        for name, (inds, values) in externals.items():
            if name not in ("i", "v"):
                states[name] = states[name].at[inds].set(values)
        return states, ion_terms

    def rest(states, ion_terms, all_params, externals, delta_t):
        geom = all_params
        current, slope, per_name = channel_currents(structure, states, all_params, geom, delta_t)
        clamped = {n: externals[n] for n in structure.current_names if n in externals}
        if clamped:
            current, slope, per_name = clamp_channel_currents(
                structure, states, all_params, geom, delta_t, clamped, (current, slope, per_name)
            )
        states.update(per_name)
        current, slope = current * _MA_TO_UA, slope * _MA_TO_UA
        if structure.synapses:
            states, syn_current, syn_slope = synapse_step(
                structure, states, all_params, delta_t, delay_plan, externals, shared_drive
            )
            current, slope = current + syn_current, slope + syn_slope
        i_ext = jnp.zeros(structure.n_comp, dtype=states["v"].dtype)
        if "i" in externals:
            inds, amps = externals["i"]
            i_ext = _add_injected(i_ext, inds, amps)
        i_ext = i_ext * NA_PER_UM2_TO_UA_PER_CM2 / all_params["area"]
        transitions = all_params.get("exp_euler_transition") if scheme.uses_transition else None
        v = voltage_step(
            structure,
            scheme,
            states["v"],
            current,
            slope,
            i_ext,
            all_params["capacitance"],
            all_params["axial"],
            delta_t,
            linear_solver,
            _prepared(scheme, all_params["axial"], transitions, 0),
        )
        for k, name in enumerate(structure.diffused_states):
            zeros = jnp.zeros_like(v)
            flux, lin = ion_terms.get(name, (zeros, zeros))
            ion_axial = all_params["ion_axial"][name]
            states[name] = voltage_step(
                structure,
                scheme,
                states[name],
                flux,
                lin,
                zeros,
                jnp.ones_like(v),
                ion_axial,
                delta_t,
                linear_solver,
                _prepared(scheme, ion_axial, transitions, 1 + k),
            )
        if "v" in externals:
            inds, values = externals["v"]
            v = v.at[inds].set(values)
        states["v"] = v
        return states

    return channel_part, rest


def make_step(
    structure: Structure,
    scheme,
    delay_plan=None,
    linear_solver=None,
    shared_drive: tuple = (),
):
    """The pure one-step function `step(states, all_params, externals, delta_t)`.

    `externals` is a dict: `"i"`: (inds (k,), currents nA (k,)) and, per clamped state,
    `(inds (k,), values (k,))` (compartment rows, or edge rows for synapse states).
    Order: channel states, synapse states, clamps, linearized channel and synaptic
    currents (a clamped current, e.g. "i_HH", replaces that channel's current and slope in
    its rows), implicit voltage solve (and diffused-ion solves), voltage clamps.
    `scheme` is a `dendrax.solvers.TimeScheme`, `linear_solver` a `LinearSolver` (default:
    the tree solver). A scheme that `uses_transition` reads its propagators from
    `all_params["exp_euler_transition"]` when present (`exp_euler_transitions`), else
    computes them in every step; an implicit one reads its system from
    `all_params["axial"]["implicit"]` when present. `shared_drive` (from
    `presynaptic_sharing`) selects synapse groups updated per presynaptic compartment.
    """

    channel_part, rest = make_step_halves(
        structure, scheme, delay_plan, linear_solver, shared_drive
    )

    def step(states, all_params, externals, delta_t):
        states, ion_terms = channel_part(states, all_params, externals, delta_t)
        return rest(states, ion_terms, all_params, externals, delta_t)

    return step
