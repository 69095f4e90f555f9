"""The synaptic part of a time step: synapse states, linearized currents, delays.

Synapses are point processes on the postsynaptic compartment. Every step, each synapse
type (a `SynapseGroup`) advances its states with the pre- and postsynaptic voltages of the
step's start, then computes its current I (nA, outward +) at `v_post` and `v_post + δ`
(δ = 1e-3 mV). `I` and the slope `dI/dv_post` are scatter-added into the postsynaptic
compartments as densities `I * 1e5 / area_µm²` (µA/cm²), so the voltage solve treats them
implicitly, like channel currents.

Delays (a dendrax extension): a synapse with delay `d` ms reads the presynaptic voltage
(and, for Jaxley 1.0 synapses, the presynaptic node states) of `round(d / dt)` steps
earlier, from a ring buffer carried in the state (`BUFFER`, shape (L, n_names, m) over the
`m` presynaptic compartments, and the write position `POINTER`). Before the first step the
buffer holds the initial values.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.simulator.presynaptic_drive import update_with_shared_drive

__all__ = [
    "DelayPlan",
    "make_delay_plan",
    "synapse_step",
    "initial_synapse_currents",
    "initial_delay_buffer",
    "BUFFER",
    "POINTER",
]

DELTA_V = 1e-3  # mV
NA_PER_UM2_TO_UA_PER_CM2 = 1e5
BUFFER = "__delay_buffer"
POINTER = "__delay_pointer"


@dataclass(frozen=True, eq=False)
class DelayPlan:
    """Static description of the delay ring buffer.

    `length` L = max lag + 1 (steps); `rows` (m,) buffered compartments; `names` the buffered
    node states; per synapse group, `slots[g]` (k,) position of each edge's presynaptic
    compartment in `rows` and `lags[g]` (k,) its delay in steps.
    """

    length: int
    rows: np.ndarray
    names: tuple
    slots: tuple
    lags: tuple

    def key(self) -> tuple:
        return (
            self.length,
            self.rows.tobytes(),
            self.names,
            tuple(s.tobytes() for s in self.slots),
            tuple(lag.tobytes() for lag in self.lags),
        )


def make_delay_plan(structure, delays_ms: np.ndarray, delta_t: float):
    """A `DelayPlan` for per-edge delays (ms), or None when all delays are zero."""
    if structure.n_edges == 0:
        return None
    delays_ms = np.asarray(delays_ms, dtype=float)
    if np.any(~np.isfinite(delays_ms)) or np.any(delays_ms < 0):
        raise ValueError("Synaptic delays must be finite and >= 0 ms.")
    if not np.any(delays_ms > 0):
        return None
    if isinstance(delta_t, jax.core.Tracer):
        raise ValueError("Synaptic delays need a concrete (non-traced) delta_t.")
    lags = np.rint(delays_ms / float(delta_t)).astype(np.int64)
    rows = np.unique(np.concatenate([g.pre for g in structure.synapses]))
    names = ("v",)
    if any(g.convention == "scalar" for g in structure.synapses):
        names = tuple(structure.node_state_names)
    return DelayPlan(
        length=int(lags.max()) + 1,
        rows=rows,
        names=names,
        slots=tuple(np.searchsorted(rows, g.pre) for g in structure.synapses),
        lags=tuple(lags[g.rows] for g in structure.synapses),
    )


def initial_delay_buffer(plan: DelayPlan, states: dict) -> dict:
    """Buffer entries of the initial state: every slot holds the initial values."""
    now = jnp.stack([states[n][plan.rows] for n in plan.names])
    return {
        BUFFER: jnp.broadcast_to(now, (plan.length,) + now.shape),
        POINTER: jnp.zeros((), jnp.int32),
    }


def _take(values, group):
    return values if group.covers_all else values[group.rows]


def _node_dicts(structure, states, params, comps):
    node_states = {k: states[k][comps] for k in structure.node_state_names}
    node_states.update({k: states[k][comps] for k in structure.current_names})
    node_params = {k: params[k][comps] for k in structure.node_param_names}
    return node_states, node_params


def _call(group, method, syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes, dt):
    fn = getattr(group.mechanism, method)
    if group.convention == "array":
        if method == "update_states":
            return fn(syn_states, dt, pre_v, post_v, syn_params)
        return fn(syn_states, pre_v, post_v, syn_params)
    (pre_s, pre_p), (post_s, post_p) = pre_nodes, post_nodes
    return jax.vmap(lambda a, b, c, d, e, f, g, h: fn(a, b, c, d, e, f, g, h, dt))(
        syn_states, syn_params, pre_v, post_v, pre_s, post_s, pre_p, post_p
    )


def _inputs(structure, group, states, params, delayed):
    """Synapse states/params and pre/post voltages (and node dicts) of one group."""
    syn_states = {k: _take(states[k], group) for k in group.state_names}
    syn_params = {k: _take(params[k], group) for k in group.param_names}
    post_v = states["v"][group.post]
    pre_nodes = post_nodes = (None, None)
    if group.convention == "scalar":
        pre_nodes = _node_dicts(structure, states, params, group.pre)
        post_nodes = _node_dicts(structure, states, params, group.post)
    if delayed is None:
        pre_v = states["v"][group.pre]
    else:
        pre_v = delayed["v"]
        if group.convention == "scalar":
            pre_nodes = ({**pre_nodes[0], **delayed}, pre_nodes[1])
    return syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes


def _read_delayed(plan, g_index, buffer, pointer):
    time_slot = (pointer - jnp.asarray(plan.lags[g_index], jnp.int32)) % plan.length
    values = buffer[time_slot, :, plan.slots[g_index]]  # (k, n_names)
    return {name: values[:, i] for i, name in enumerate(plan.names)}


def synapse_step(
    structure,
    states: dict,
    params: dict,
    dt,
    plan: DelayPlan | None = None,
    clamps: dict | None = None,
    shared_drive: tuple = (),
):
    """Advance synapse states and return `(states, current, slope)`.

    `clamps` maps a state name to `(edge rows, values)`; clamped synapse states are written
    after the state update, before the currents are computed (as Jaxley does). A clamped
    synaptic current (`i_<Name>`, nA) replaces the computed one, with zero slope.
    `shared_drive` (from `presynaptic_sharing`) marks the groups updated with one
    presynaptic drive per presynaptic compartment (`presynaptic_drive.py`).

    `current` and `slope` are (n_comp,) densities in µA/cm² and µA/cm²/mV to add to the
    membrane current; `states` gains the new synapse states and `i_<Name>` (nA, per edge).
    """
    states = dict(states)
    v = states["v"]
    # Row 0: current (nA), row 1: slope dI/dv_post (nA/mV), summed per compartment.
    totals = jnp.zeros((2,) + v.shape, v.dtype)
    buffer = pointer = None
    if plan is not None:
        pointer = states[POINTER]
        now = jnp.stack([states[n][plan.rows] for n in plan.names])
        buffer = states[BUFFER].at[pointer].set(now)
        states[BUFFER] = buffer
        states[POINTER] = (pointer + 1) % plan.length
    inputs = []
    for g_index, group in enumerate(structure.synapses):
        delayed = None if plan is None else _read_delayed(plan, g_index, buffer, pointer)
        syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes = _inputs(
            structure, group, states, params, delayed
        )
        inputs.append((syn_params, pre_v, post_v, pre_nodes, post_nodes))
        if g_index < len(shared_drive) and shared_drive[g_index]:
            new = update_with_shared_drive(group, syn_states, syn_params, states["v"], dt)
        else:
            args = (syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes, dt)
            new = _call(group, "update_states", *args)
        new = new or {}
        for key, value in new.items():
            if key not in group.state_names:
                raise KeyError(
                    f"{type(group.mechanism).__name__}.update_states returned "
                    f"{key!r}, which is not one of its synapse_states."
                )
            states[key] = value if group.covers_all else states[key].at[group.rows].set(value)
    for name, (rows, values) in (clamps or {}).items():
        if name in structure.edge_state_names:
            states[name] = states[name].at[rows].set(values)
    for group, (syn_params, pre_v, post_v, pre_nodes, post_nodes) in zip(
        structure.synapses, inputs, strict=True
    ):
        syn_states = {k: _take(states[k], group) for k in group.state_names}
        args = (group, syn_states, syn_params, pre_v, pre_nodes, post_nodes, dt)
        i0 = _current_at(*args, post_v)
        i1 = _current_at(*args, post_v + DELTA_V)
        name = f"i_{group.mechanism.name}"
        if name in (clamps or {}):
            i0, i1 = _clamped_current(structure, group, clamps[name], i0, i1)
        states[name] = i0 if group.covers_all else states[name].at[group.rows].set(i0)
        totals = totals.at[:, group.post].add(jnp.stack([i0, (i1 - i0) / DELTA_V]))
    totals = totals * (NA_PER_UM2_TO_UA_PER_CM2 / params["area"])
    return states, totals[0], totals[1]


def _clamped_current(structure, group, clamp, i0, i1):
    """`(i0, i1)` of a group with its clamped edges set to the clamp value (nA) at both
    voltages: a clamped synaptic current drives the membrane with no slope dI/dv."""
    rows, values = clamp
    n = structure.n_edges
    full0 = jnp.zeros(n, i0.dtype).at[group.rows].set(i0).at[rows].set(values)
    full1 = jnp.zeros(n, i1.dtype).at[group.rows].set(i1).at[rows].set(values)
    return full0[group.rows], full1[group.rows]


def _current_at(group, syn_states, syn_params, pre_v, pre_nodes, post_nodes, dt, post_v):
    """Synaptic current (nA, one per edge of the group) at postsynaptic voltage `post_v`."""
    current = _call(
        group, "compute_current", syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes, dt
    )
    return jnp.broadcast_to(current, post_v.shape)


def initial_synapse_currents(structure, states: dict, params: dict, dt) -> dict:
    """`i_<Name>` (n_edges,) of the initial states (no state update), for recording."""
    out = {}
    for group in structure.synapses:
        syn_states, syn_params, pre_v, post_v, pre_nodes, post_nodes = _inputs(
            structure, group, states, params, None
        )
        i0 = _current_at(group, syn_states, syn_params, pre_v, pre_nodes, post_nodes, dt, post_v)
        name = f"i_{group.mechanism.name}"
        base = out.get(name, jnp.zeros(structure.n_edges, dtype=v_dtype(states)))
        out[name] = i0 if group.covers_all else base.at[group.rows].set(i0)
    return out


def v_dtype(states):
    return states["v"].dtype
