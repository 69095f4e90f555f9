"""A pure functional API: initial states and simulations as functions of arrays.

Everything here is a pure function of (possibly traced) arrays, so it works under `jit`,
`grad` and `vmap`; the module only supplies the static structure (compartments, mechanisms,
recordings). Beyond Jaxley:

- `steady_state_init` is the traceable twin of `module.init_states()`: channel gates at
  their steady state for the (possibly trained) voltages and parameters.
- `simulate` takes the stimulus location as an integer array, so `jax.vmap` over stimulus
  sites (or amplitudes, or parameters) needs no Python loop and one compilation.

Example::

    sites = jnp.array([0, 3, 5])
    traces = jax.vmap(lambda i: simulate(cell, params, i, current, t_max=10.0))(sites)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.compiler import compile as compile_module
from dendrax.simulator.scan import scan_steps
from dendrax.simulator.step import channel_currents, mechanism_params, mechanism_states
from dendrax.simulator.structure import Structure
from dendrax.simulator.synapse_step import initial_delay_buffer, initial_synapse_currents

__all__ = ["steady_state_init", "simulate"]


def _check_dt(delta_t) -> None:
    if isinstance(delta_t, jax.core.Tracer):
        return
    if not math.isfinite(float(delta_t)) or float(delta_t) <= 0:
        raise ValueError(f"delta_t must be a finite number > 0 (ms); got {delta_t!r}.")


def _channel_steady_states(structure: Structure, states: dict, all_params: dict, delta_t) -> dict:
    """Replace each channel's states by its `init_state` at the current voltage."""
    states = dict(states)
    for group in structure.channels:
        v = states["v"] if group.covers_all else states["v"][group.rows]
        st = mechanism_states(group, states, structure.current_names)
        pr = mechanism_params(group, all_params, all_params)
        fn = group.mechanism.init_state
        if group.convention == "scalar":
            new = jax.vmap(fn, in_axes=(0, 0, 0, None))(st, pr, v, delta_t)
        else:
            new = fn(st, v, pr, delta_t)
        for key, value in (new or {}).items():
            if key not in states:
                raise KeyError(
                    f"{type(group.mechanism).__name__}.init_state returned {key!r}, which is not "
                    "one of its channel_states."
                )
            value = jnp.broadcast_to(jnp.asarray(value, states[key].dtype), v.shape)
            states[key] = value if group.covers_all else states[key].at[group.rows].set(value)
    return states


def steady_state_init(module, params=None, delta_t: float = 0.025, param_state=None) -> dict:
    """Initial states with every channel at steady state, as a traceable function of `params`.

    The functional twin of `module.init_states()`: each channel's `init_state` is evaluated
    at the initial voltage (including a trainable initial `v`) with the parameters in
    `params` / `param_state`, which may be traced (`jit`, `grad`, `vmap`). Channel and
    synaptic currents are recomputed for the new gates.

    Args:
        module: a Compartment, Branch, Cell or Network (or a view; the whole base is used).
        params: trainable values, a list like `module.get_parameters()` (or None).
        delta_t: time step in ms (some channels' steady states depend on it).
        param_state: output of `data_set` calls (or None).

    Returns:
        `all_states`: dict of jnp arrays ((n_comp,) per compartment state and current,
        (n_edges,) per synapse state), to pass as `integrate(..., all_states=...)` together
        with the same `params`, or to `simulate(..., all_states=...)`.
    """
    _check_dt(delta_t)
    sim = compile_module(module, delta_t=delta_t, param_state=param_state, require_recordings=False)
    structure, plan = sim.structure, sim.spec.delay_plan
    states, all_params = sim.init(params)
    states = _channel_steady_states(structure, states, all_params, delta_t)
    _, _, per_name = channel_currents(
        structure, states, all_params, all_params, delta_t, with_slope=False
    )
    states.update(per_name)
    if structure.synapses:
        states.update(initial_synapse_currents(structure, states, all_params, delta_t))
    if plan is not None:
        states.update(initial_delay_buffer(plan, states))
    return states


def _stimulus_arrays(stim_comp_index, stim_current, n_comp: int):
    """(k,) int indices and (k, T) currents from a scalar/(k,) index and (T,)/(k, T) current."""
    index = jnp.atleast_1d(jnp.asarray(stim_comp_index))
    if not jnp.issubdtype(index.dtype, jnp.integer) or index.ndim != 1:
        raise TypeError(
            f"stim_comp_index must be an int or a 1-D int array; got dtype {index.dtype}, "
            f"shape {index.shape}."
        )
    if not isinstance(index, jax.core.Tracer):
        bad = np.asarray(index)[(np.asarray(index) < 0) | (np.asarray(index) >= n_comp)]
        if bad.size:
            raise IndexError(f"stim_comp_index {bad.tolist()} outside [0, {n_comp}).")
    current = jnp.asarray(stim_current, dtype=jnp.result_type(float))
    if current.ndim == 1:
        current = jnp.broadcast_to(current[None, :], (index.size, current.shape[0]))
    if current.ndim != 2 or current.shape[0] != index.size:
        raise ValueError(
            f"stim_current has shape {tuple(current.shape)}; expected (T,) or "
            f"({index.size}, T) for {index.size} stimulus site(s)."
        )
    return index, current


def simulate(
    module,
    params,
    stim_comp_index,
    stim_current,
    t_max: float,
    delta_t: float = 0.025,
    *,
    param_state=None,
    all_states=None,
    solver: str = "bwd_euler",
    checkpoint_lengths=None,
):
    """Simulate `module` with a current injected at array-valued compartment indices.

    A pure function of `params`, `stim_comp_index`, `stim_current` and `all_states`: all
    may be traced, so `jax.vmap` over stimulus locations, amplitudes or parameter sets works
    with one compilation. The module supplies the structure and the recordings; its own
    `stimulate`/`clamp` inputs are ignored (pass `data_stimuli` to `integrate` for those).

    Args:
        module: a Compartment, Branch, Cell or Network with recordings.
        params: trainable values, a list like `module.get_parameters()` (or None / []).
        stim_comp_index: int or (k,) ints, global compartment indices of the stimuli. A
            traced index is not range-checked (out-of-range injections are dropped).
        stim_current: (T,) nA, the same current at every site, or (k, T). Entry n applies
            during step n; padded with zeros or cut to the number of steps.
        t_max: duration in ms (static): `int(t_max // delta_t) + 1` steps, as `integrate`.
        delta_t: time step in ms (static).
        param_state: output of `data_set` calls (or None).
        all_states: initial states, e.g. from `steady_state_init` (default: the module's).
        solver: "bwd_euler", "crank_nicolson" or "fwd_euler".
        checkpoint_lengths: nested checkpointing of the time loop (product >= steps).

    Returns:
        (n_recordings, n_steps + 1) array, column 0 the initial state (as `integrate`).
    """
    _check_dt(delta_t)
    if t_max is None or not math.isfinite(float(t_max)) or float(t_max) < 0:
        raise ValueError(f"t_max must be a finite duration >= 0 (ms); got {t_max!r}.")
    sim = compile_module(module, solver=solver, delta_t=delta_t, param_state=param_state)
    structure = sim.structure
    n_steps = int(t_max // delta_t + 1)
    index, current = _stimulus_arrays(stim_comp_index, stim_current, structure.n_comp)
    t_len = current.shape[1]
    current = (
        current[:, :n_steps]
        if t_len >= n_steps
        else jnp.pad(current, ((0, 0), (0, n_steps - t_len)))
    )
    states, all_params = sim.init([] if params is None else params, all_states=all_states)
    if sim.spec.scheme.implicit:  # once per call, outside the time loop
        system = sim.spec.scheme.prepare(structure, all_params["axial"], delta_t)
        all_params = {**all_params, "axial": {**all_params["axial"], "implicit": system}}

    def body(carry, amps):
        new = sim.step(carry, all_params, {"i": (index, amps)})
        return new, sim.record(new)

    _, traces = scan_steps(body, states, current.T, n_steps, checkpoint_lengths, final_needed=False)
    return jnp.concatenate([sim.record(states)[:, None], traces.T], axis=1)
