"""`integrate`: simulate a module and return its recordings (Jaxley-compatible)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.checks.inputs import check_integrate_arguments, check_output_size
from dendrax.checks.traced import check_result
from dendrax.checks.values import check_blocks, integrate_blocks
from dendrax.simulator.params import check_params_structure, uniform_parameters
from dendrax.simulator.presynaptic_drive import presynaptic_sharing
from dendrax.simulator.run import (
    effective_frustum,
    exp_euler_transitions,
    initial_values,
    make_step,
    node_table_values,
    static_geometry,
)
from dendrax.simulator.step import implicit_coefficients, implicit_step_size
from dendrax.simulator.structure import compile_structure
from dendrax.simulator.synapse_step import make_delay_plan
from dendrax.solvers import resolve_solver, resolve_voltage_solver
from dendrax.solvers.tree import SOLUTION_NAME
from dendrax.utils.jax_utils import take_static
from dendrax.utils.series import as_series, fit_length, join_rows

__all__ = ["integrate", "build_init_and_step_fn", "add_stimuli", "add_clamps"]


def _collect_stimuli(module, data_stimuli=None):
    """The module's stimuli and `data_stimuli` as (inds (k,), currents (k, T)), or None.

    Stimuli of different lengths are zero-padded to the longest.
    """
    entries = [(rows, series) for rows, series in module.base._stimuli]
    entries += [(rows, series) for _, rows, series in (data_stimuli or [])]
    if not entries:
        return None
    t_len = max(int(s.shape[1]) for _, s in entries)
    inds = np.concatenate([np.asarray(r) for r, _ in entries])
    return inds, join_rows([s for _, s in entries], t_len)  # numpy unless traced


def _last_wins(inds, values):
    """Drop rows clamped again later: a later clamp of the same row overrides an earlier one
    (so `data_clamp` overrides `clamp`, as in Jaxley)."""
    inds = np.asarray(inds)
    _, last_rev = np.unique(inds[::-1], return_index=True)
    keep = np.sort(inds.size - 1 - last_rev)
    if keep.size == inds.size:
        return inds, values
    return inds[keep], values[keep]


def _collect_clamps(module, data_clamps=None):
    """Clamps as {state: (kind, inds (k,), values (k, T))}; per state, series are cut to
    the shortest and a row clamped twice keeps its last clamp (`data_clamps` come last)."""
    grouped = {}
    for state, kind, rows, series in list(module.base._clamps) + list(data_clamps or []):
        grouped.setdefault(state, []).append((kind, rows, series))
    out = {}
    for state, items in grouped.items():
        t_len = min(int(s.shape[1]) for _, _, s in items)
        inds = np.concatenate([np.asarray(r) for _, r, _ in items])
        values = join_rows([s for _, _, s in items], t_len, pad=False)  # numpy unless traced
        inds, values = _last_wins(inds, values)
        out[state] = (items[0][0], inds, values)
    return out


def _concat_rows(old_inds, old_values, inds, values, pad: bool):
    """Append rows (inds (k,), values (k, T)) to an external; `pad` zero-pads the shorter
    series to the longer (stimuli), else both are cut to the shorter (clamps)."""
    t_old, t_new = old_values.shape[1], values.shape[1]
    t_len = max(t_old, t_new) if pad else min(t_old, t_new)
    return (
        np.concatenate([np.asarray(old_inds), np.asarray(inds)]),
        join_rows([old_values, values], t_len, pad=pad),  # numpy unless traced
    )


def add_stimuli(externals: dict, external_inds: dict, data_stimuli=None):
    """Add `data_stimuli` (from `data_stimulate`) to `externals` / `external_inds`.

    Jaxley's helper for hand-written loops over `build_init_and_step_fn`'s `step_fn`.

    Args:
        externals: {name: (k, T) array}, e.g. `module.externals` (not modified).
        external_inds: {name: (k,) int array}, e.g. `module.external_inds` (not modified).
        data_stimuli: output of `data_stimulate` (currents in nA), or None.

    Returns:
        `(externals, external_inds)`, new dicts whose "i" entry has the data stimuli
        appended (rows after the existing ones; the shorter series zero-padded).
    """
    externals, external_inds = dict(externals), dict(external_inds)
    for _, rows, series in data_stimuli or []:
        if "i" in externals:
            external_inds["i"], externals["i"] = _concat_rows(
                external_inds["i"], externals["i"], rows, series, pad=True
            )
        else:
            external_inds["i"], externals["i"] = np.asarray(rows), as_series(series)
    return externals, external_inds


def add_clamps(externals: dict, external_inds: dict, data_clamps=None):
    """Add `data_clamps` (from `data_clamp`) to `externals` / `external_inds`.

    Args:
        externals: as for `add_stimuli` (not modified).
        external_inds: as for `add_stimuli` (not modified).
        data_clamps: output of `data_clamp`, or None.

    Returns:
        `(externals, external_inds)`, new dicts with one entry per clamped state; a row
        clamped twice keeps the later clamp, series are cut to the shorter.
    """
    externals, external_inds = dict(externals), dict(external_inds)
    for state, _kind, rows, series in data_clamps or []:
        if state in externals:
            inds, values = _concat_rows(
                external_inds[state], externals[state], rows, series, pad=False
            )
            external_inds[state], externals[state] = _last_wins(inds, values)
        else:
            external_inds[state], externals[state] = np.asarray(rows), as_series(series)
    return externals, external_inds


def _delay_plan(module, structure, delta_t):
    """The ring-buffer plan of the synaptic delays (None without delays)."""
    if structure.n_edges == 0:
        return None
    return make_delay_plan(structure, module.base._edges["delay"], delta_t)


def _recording_plan(module):
    recs = module.base._recordings
    if not recs:
        raise ValueError("No recordings are set. Call e.g. `module.comp(0).record('v')` first.")
    plan = {}
    for position, (state, kind, row) in enumerate(recs):
        plan.setdefault((state, kind), ([], []))
        plan[(state, kind)][0].append(row)
        plan[(state, kind)][1].append(position)
    order = np.argsort(np.concatenate([np.asarray(p) for _, p in plan.values()]))
    gathers = [(state, np.asarray(rows)) for (state, _), (rows, _) in plan.items()]
    return gathers, order


_SAVE_TREE_SOLUTION = jax.checkpoint_policies.save_only_these_names(SOLUTION_NAME)


def _remat_in_scan(fn):
    """`jax.checkpoint` for a body that runs inside a scan (see `_scan`)."""
    return jax.checkpoint(fn, prevent_cse=False)


def _scan(step_body, init, xs, n_steps, checkpoint_lengths, final_needed=True):
    """Scan `step_body` over `n_steps` steps, optionally with nested checkpointing.

    With checkpointing, the loop runs `prod(checkpoint_lengths) >= n_steps` steps, the
    inputs `xs` padded with zeros. The outputs of the padded steps are dropped, and they
    cannot change the earlier ones. With `final_needed`, the padded steps keep the carry
    unchanged (a step index travels in `xs`, selecting old or new carry), so that the
    final carry is the state at `n_steps`; without it, they run unmasked and the returned
    final carry is that of the last padded step. The selection costs ~10 % of a CA1 cell's
    forward run and of its gradient's compile time (XLA fuses the step less), hence only
    when the final state is used (`return_states=True`).
    """
    # Every step is rematerialized in reverse mode: its backward pass recomputes the step
    # from the carry instead of storing its ~50 intermediate (n_comp,) arrays, which cuts
    # gradient memory ~7x for HH cells and is faster on CPU (less memory traffic). Only the
    # solution of the tree solve is stored, one (n_comp,) array per step: recomputing it
    # would repeat two sequential sweeps over the nodes (CA1 gradient: 0.37 -> 0.32 s).
    # `prevent_cse=False`: the step runs inside a scan, whose loop boundaries already keep
    # XLA from merging the recomputation with the forward pass; the default barriers only
    # split the backward step into more kernels (CA1 gradient 0.292 -> 0.262 s).
    step_body = jax.checkpoint(step_body, policy=_SAVE_TREE_SOLUTION, prevent_cse=False)
    if checkpoint_lengths is None:
        return jax.lax.scan(step_body, init, xs, length=n_steps)
    lengths = [int(x) for x in checkpoint_lengths]
    if any(x < 1 for x in lengths):
        raise ValueError(f"checkpoint_lengths must be positive integers; got {checkpoint_lengths}.")
    total = int(np.prod(lengths))
    if total < n_steps:
        raise ValueError(
            f"The product of checkpoint_lengths ({total}) is smaller than the number of steps "
            f"({n_steps}); choose lengths whose product is at least {n_steps}."
        )
    from dendrax.utils.jax_utils import nested_checkpoint_scan

    body = step_body
    if total > n_steps:
        xs = jax.tree_util.tree_map(
            lambda x: jnp.concatenate([x, jnp.zeros((total - n_steps,) + x.shape[1:], x.dtype)]),
            xs,
        )
    if total > n_steps and final_needed:
        xs = (jnp.arange(total), xs)

        def body(carry, x):
            t, inner = x
            new, y = step_body(carry, inner)
            active = t < n_steps
            new = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, carry)
            return new, y

    final, ys = nested_checkpoint_scan(
        body, init, xs, length=total, nested_lengths=lengths, checkpoint_fn=_remat_in_scan
    )
    ys = jax.tree_util.tree_map(lambda y: y[:n_steps], ys)
    return final, ys


def integrate(
    module,
    params=None,
    *,
    param_state=None,
    data_stimuli=None,
    data_clamps=None,
    t_max: float | None = None,
    delta_t: float = 0.025,
    solver: str = "bwd_euler",
    voltage_solver: str = "jaxley.dhs",
    checkpoint_lengths=None,
    all_states=None,
    return_states: bool = False,
    checks=True,
):
    """Simulate `module` and return its recordings.

    Args:
        module: a Compartment, Branch, Cell or Network (or a view of one).
        params: trainable values, a list like `module.get_parameters()`.
        param_state: output of `data_set` calls.
        data_stimuli: output of `data_stimulate` (currents in nA per step).
        data_clamps: output of `data_clamp`.
        t_max: duration in ms; `int(t_max // delta_t) + 1` steps are taken. Without it,
            the number of steps is the longest of the stimuli and clamps (time points).
        delta_t: time step in ms.
        solver: "bwd_euler" (default), "crank_nicolson", "fwd_euler" or "exp_euler" (the
            propagator `expm(G dt)` is computed once per call, outside the time loop, or
            taken from `module.customize_solver_exp_euler(...)`).
        voltage_solver: Jaxley's names ("jaxley.dhs*", "jaxley.stone" -> the tree solver;
            "jax.sparse" -> sparse direct solve) or dendrax's "tree", "sparse", "dense".
        checkpoint_lengths: nested checkpointing of the time loop (product >= steps).
        all_states: states to start from (from a previous `return_states=True` run).
        return_states: also return the final states.
        checks: how values are checked (in the spirit of Diffrax's `throw=`). Concrete
            values (parameters, `data_set` values, data stimuli and clamps, `all_states`)
            are always checked before anything runs (`ValueError` naming the quantity,
            compartment, time step, value and valid range; see `dendrax.checks.ranges`).
            Traced values, under a caller's `jit` / `grad` / `vmap`, and the recordings
            are checked when the computation runs: `True` (default) raises the same
            message for an invalid value (re-raised by JAX as `JaxRuntimeError` or
            `ValueError`: `dendrax.checks.RUN_TIME_ERRORS`) and warns (`RuntimeWarning`)
            when the simulation blew up, naming the recording and time step;
            `"checkify"` makes them `jax.experimental.checkify` checks, for callers that
            wrap the computation in `checkify.checkify`; `False` checks nothing at run
            time.

    Returns:
        (n_recordings, n_steps + 1) array (column 0 = initial state); with `return_states`,
        a tuple `(recordings, final_states)`.

    Compiled runs are cached on the module; table values stay runtime inputs, so `set`
    does not compile again (see `simulator.params.uniform_parameters` for the one
    exception, under a transformation of `params`).
    """
    check_integrate_arguments(  # types and values of the arguments (dendrax.checks.inputs)
        t_max=t_max,
        delta_t=delta_t,
        checkpoint_lengths=checkpoint_lengths,
        all_states=all_states,
        return_states=return_states,
        checks=checks,
    )
    solver = resolve_solver(solver)
    voltage_solver = resolve_voltage_solver(voltage_solver)
    structure = compile_structure(module)
    gathers, order = _recording_plan(module)
    transition = _custom_transition(module, structure, solver)
    _check_diffusion_coefficients(module, structure)
    stimuli = _collect_stimuli(module, data_stimuli)
    clamps = _collect_clamps(module, data_clamps)
    if t_max is not None:
        n_steps = int(t_max // delta_t + 1)
    elif stimuli is not None or clamps:
        # As Jaxley: without t_max, one step per time point of the stimuli and clamps.
        lengths = [int(v.shape[1]) for _, _, v in clamps.values()]
        lengths += [] if stimuli is None else [int(stimuli[1].shape[1])]
        n_steps = max(lengths)
    else:
        raise ValueError(
            "integrate() needs a duration: pass t_max=... (ms) or add a stimulus or clamp."
        )
    check_output_size(len(module.base._recordings), n_steps)  # dendrax.checks.inputs

    xs = {}
    externals_static = {}
    if stimuli is not None:
        inds, series = stimuli
        xs["i"] = fit_length(series, n_steps).T  # numpy unless traced
        externals_static["i"] = inds
    for state, (_kind, inds, values) in clamps.items():
        if values.shape[1] < n_steps:
            raise ValueError(
                f"The clamp of {state!r} has {values.shape[1]} time points but the simulation "
                f"runs {n_steps} steps; make it at least that long."
            )
        xs[state] = values[:, :n_steps].T
        externals_static[state] = inds

    delay_plan = _delay_plan(module, structure, delta_t)
    shared_drive = presynaptic_sharing(module.base, structure, param_state, delay_plan)
    if params is not None:  # None: the tables' values are used, as in Jaxley
        if not module.base._trainables and isinstance(params, (list, tuple)) and params:
            # Jaxley's idiom `integrate(m, params=[{}])` sets nothing; without trainables a
            # list of empty dicts carries no values, so it is the same as `[]`.
            if all(isinstance(e, dict) and not e for e in params):
                params = []
        check_params_structure(module.base, params)
    param_state = list(param_state or [])
    # dendrax.checks.values: concrete values raise now, traced ones are checked at run time
    traced_blocks = check_blocks(
        integrate_blocks(
            module.base, params, param_state, data_stimuli, data_clamps, all_states, delta_t
        )
    )
    uniform = uniform_parameters(module.base, structure, param_state)
    bake_uniform = any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(params))
    uniform_key = uniform if bake_uniform else tuple(k for k, _ in uniform)
    static = (
        None
        if bake_uniform
        else static_geometry(module, structure, params, param_state, solver, delta_t)
    )
    dynamic = {
        "static": static,
        "params": params,
        "param_vals": [item["val"] for item in param_state],
        "nodes": node_table_values(module.base, structure),
        "xs": xs,
        "all_states": all_states,
        "transition": transition,
    }
    static_dt = None if isinstance(delta_t, jax.core.Tracer) else float(delta_t)
    static_key = (
        id(structure),
        tuple((s, r.tobytes()) for s, r in gathers),
        order.tobytes(),
        tuple((k, v.tobytes()) for k, v in externals_static.items()),
        tuple((item["key"], np.asarray(item["indices"]).tobytes()) for item in param_state),
        effective_frustum(module.base, param_state).tobytes(),
        solver,
        voltage_solver,
        transition is None,
        n_steps,
        None if checkpoint_lengths is None else tuple(checkpoint_lengths),
        static_dt,
        all_states is None,
        return_states,
        None if delay_plan is None else delay_plan.key(),
        shared_drive,
        uniform_key,
        bake_uniform,
        static is None,
    )
    cache = module.base.__dict__.setdefault("_jit_cache", {})
    if static_dt is None or static_key not in cache:
        run = _make_runner(
            module,
            structure,
            gathers,
            order,
            externals_static,
            param_state,
            solver,
            n_steps,
            checkpoint_lengths,
            delta_t,
            return_states,
            delay_plan,
            voltage_solver,
            shared_drive,
            uniform,
            bake_uniform,
        )
        if static_dt is None:  # a traced delta_t: no cache
            cache = {static_key: (run, None)}
        else:
            if len(cache) > 32:
                cache.clear()
            cache[static_key] = (run, jax.jit(run))
    plain, jitted = cache[static_key]
    # With traced parameters (grad, vmap) the runner is traced in place: a nested jit would
    # be traced to a jaxpr first and then transformed as a whole, ~50 ms more tracing for
    # the CA1 gradient. Otherwise the jitted runner: reused by eager calls, and inside a
    # user's jit XLA fuses the 100-cell network's step better behind it (180 vs 200 ms).
    result = plain(dynamic) if bake_uniform or jitted is None else jitted(dynamic)
    # dendrax.checks.traced: traced values and the recordings (blow-up)
    return check_result(traced_blocks, result, return_states, delta_t, solver, checks)


def _make_runner(
    module,
    structure,
    gathers,
    order,
    externals_static,
    param_state,
    solver,
    n_steps,
    checkpoint_lengths,
    delta_t,
    return_states,
    delay_plan=None,
    voltage_solver="tree",
    shared_drive=(),
    uniform=(),
    bake_uniform=False,
):
    step = make_step(structure, solver, delay_plan, voltage_solver, shared_drive)
    keys_and_inds = [(item["key"], item["indices"]) for item in param_state]

    def record(states):
        parts = [take_static(states[name], rows) for name, rows in gathers]
        out = parts[0] if len(parts) == 1 else jnp.concatenate(parts)
        return out if np.array_equal(order, np.arange(order.size)) else take_static(out, order)

    def run(dynamic):
        pstate = [
            {"key": k, "indices": i, "val": v}
            for (k, i), v in zip(keys_and_inds, dynamic["param_vals"], strict=True)
        ]
        states, all_params = initial_values(
            module,
            structure,
            dynamic["params"],
            pstate,
            dynamic["all_states"],
            node_values=dynamic["nodes"],
            delay_plan=delay_plan,
            static=dynamic["static"],
        )
        if solver == "exp_euler":
            transition = dynamic["transition"]
            if transition is None:  # once per call, outside the time loop
                transition = exp_euler_transitions(structure, all_params, delta_t)
            all_params = {**all_params, "exp_euler_transition": transition}

        if solver in ("bwd_euler", "crank_nicolson") and "implicit" not in all_params["axial"]:
            # once per call, outside the time loop
            h = implicit_step_size(solver, delta_t)
            system = implicit_coefficients(structure, all_params["axial"], h)
            all_params = {**all_params, "axial": {**all_params["axial"], "implicit": system}}

        # Uniform parameters enter the loop as scalars (see `uniform_parameters`).
        if bake_uniform:
            scalars = {k: (value, all_params[k].shape) for k, value in uniform}
        else:
            scalars = {k: (dynamic["nodes"][k][0], all_params[k].shape) for k, _ in uniform}
        loop_params = {k: v for k, v in all_params.items() if k not in scalars}
        loop_dtype = states["v"].dtype

        def body(carry, x):
            externals = {name: (externals_static[name], x[name]) for name in x}
            step_params = dict(loop_params)
            for key, (value, shape) in scalars.items():
                step_params[key] = jnp.broadcast_to(jnp.asarray(value, loop_dtype), shape)
            new = step(carry, step_params, externals, delta_t)
            return new, record(new)

        final, traces = _scan(
            body, states, dynamic["xs"], n_steps, checkpoint_lengths, final_needed=return_states
        )
        out = jnp.concatenate([record(states)[:, None], traces.T], axis=1)
        if return_states:
            return out, final
        return out

    return run


def _check_diffusion_coefficients(module, structure):
    for state in structure.diffused_states:
        key = f"axial_diffusion_{state}"
        values = np.asarray(module.base._nodes[key])
        if np.any(~np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(
                f"{key!r} must be finite and > 0 everywhere (µm²/ms); got "
                f"{values[(values <= 0) | ~np.isfinite(values)][:5].tolist()}. Use "
                f"delete_diffusion({state!r}) to switch diffusion off."
            )


def _custom_transition(module, structure, solver):
    """The propagator stored by `customize_solver_exp_euler`, checked against the model."""
    stored = module.base.__dict__.get("_exp_euler_transition")
    if solver != "exp_euler" or stored is None:
        return None
    expected = (1 + len(structure.diffused_states), structure.n_comp, structure.n_comp)
    if tuple(stored.shape) != expected:
        raise ValueError(
            f"The exp_euler transition set by customize_solver_exp_euler has shape "
            f"{tuple(stored.shape)} but the model needs {expected}; rebuild it with "
            "build_exp_euler_transition_matrix(delta_t)."
        )
    return stored


def build_init_and_step_fn(module, voltage_solver: str = "jaxley.dhs", solver: str = "bwd_euler"):
    """Pure `init_fn` and `step_fn` for hand-written simulation loops.

    Returns:
        `init_fn(params, all_states=None, param_state=None, delta_t=0.025) -> (states, all_params)`
        and `step_fn(states, all_params, externals, external_inds, delta_t=0.025) -> states`,
        where `externals` maps "i" (currents, nA) or a clamped state name to its values at
        this step and `external_inds` maps the same names to compartment indices.
    """
    solver = resolve_solver(solver)
    voltage_solver = resolve_voltage_solver(voltage_solver)
    structure = compile_structure(module)
    _check_diffusion_coefficients(module, structure)
    steps = {}

    def init_fn(params, all_states=None, param_state=None, delta_t=0.025):
        plan = _delay_plan(module, structure, delta_t)
        states, all_params = initial_values(
            module, structure, params, param_state, all_states, delay_plan=plan
        )
        if solver == "exp_euler":
            transition = _custom_transition(module, structure, solver)
            if transition is None:
                transition = exp_euler_transitions(structure, all_params, delta_t)
            all_params["exp_euler_transition"] = transition
        return states, all_params

    def step_fn(all_states, all_params, externals, external_inds=None, delta_t=0.025):
        plan = _delay_plan(module, structure, delta_t)
        key = None if plan is None else plan.key()
        if key not in steps:
            steps[key] = make_step(structure, solver, plan, voltage_solver)
        external_inds = external_inds or {}
        merged = {name: (external_inds[name], values) for name, values in externals.items()}
        return steps[key](dict(all_states), all_params, merged, delta_t)

    return init_fn, step_fn
