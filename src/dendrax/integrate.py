"""`integrate`: simulate a module and return its recordings (Jaxley-compatible)."""

from __future__ import annotations

import numpy as np

from dendrax.checks.inputs import check_integrate_arguments, check_output_size
from dendrax.checks.traced import check_result, report
from dendrax.checks.values import check_blocks, integrate_blocks
from dendrax.compiler import _last_wins
from dendrax.compiler import compile as compile_module
from dendrax.simulator.branchpoint_states import with_branchpoints, without_branchpoints
from dendrax.simulator.params import check_params_structure
from dendrax.utils.series import as_series, join_rows

__all__ = ["integrate", "build_init_and_step_fn", "add_stimuli", "add_clamps"]


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
        voltage_solver: Jaxley's names ("jaxley.dhs.cpu", "jaxley.stone" -> the tree
            solver; "jaxley.dhs.gpu" -> the level-parallel solver; "jaxley.dhs" -> the
            level-parallel solver on GPU backends, the compiled tree solve "tree.native"
            on CPU (the pure-JAX tree solve where its kernel is not built); "jax.sparse"
            -> sparse direct solve) or dendrax's "tree", "tree.native", "branched",
            "level_parallel", "sparse", "dense".
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

    Each call compiles the module into a `Simulator` (`dendrax.compile`, cached on the
    module's `version`: an unchanged module reuses its simulator) and runs it. XLA code
    is cached on the simulator's static part (structure, solvers, trainables, recordings,
    input rows), so a changed trainable or recording compiles again, while table values
    stay runtime inputs and `set` does not (see `simulator.params.uniform_parameters` for
    the one exception, under a transformation of `params`).
    """
    check_integrate_arguments(  # types and values of the arguments (dendrax.checks.inputs)
        t_max=t_max,
        delta_t=delta_t,
        checkpoint_lengths=checkpoint_lengths,
        all_states=all_states,
        return_states=return_states,
        checks=checks,
    )
    sim = compile_module(
        module,
        solver=solver,
        voltage_solver=voltage_solver,
        delta_t=delta_t,
        data_stimuli=data_stimuli,
        data_clamps=data_clamps,
        param_state=param_state,
    )
    n_steps = sim.n_steps_for(t_max)
    check_output_size(int(sim.spec.order.size), n_steps)  # dendrax.checks.inputs
    if params is not None and not sim.spec.trainables and isinstance(params, (list, tuple)):
        # Jaxley's idiom `integrate(m, params=[{}])` sets nothing; without trainables a
        # list of empty dicts carries no values, so it is the same as `[]`.
        if params and all(isinstance(e, dict) and not e for e in params):
            params = []
    if params is not None:
        check_params_structure(sim.spec.trainables, params)
    # dendrax.checks.values: concrete values raise now, traced ones are checked at run time
    traced_blocks = check_blocks(
        integrate_blocks(
            module.base, params, param_state, data_stimuli, data_clamps, all_states, delta_t
        )
    )
    result = sim.run(
        params,
        n_steps=n_steps,
        all_states=all_states,
        checkpoint_lengths=checkpoint_lengths,
        return_states=return_states,
    )
    # dendrax.checks.traced: traced values and the recordings (blow-up)
    return check_result(traced_blocks, result, return_states, delta_t, sim.spec.scheme.name, checks)


def build_init_and_step_fn(module, voltage_solver: str = "jaxley.dhs", solver: str = "bwd_euler"):
    """Pure `init_fn` and `step_fn` for hand-written simulation loops.

    The states have Jaxley's layout: every compartment-level state (voltage, channel
    states and currents) is an (n_comp + n_branchpoints,) array whose last entries belong
    to the branchpoint nodes (one per branch with children): there `v` is the branchpoint's
    voltage (mV) after a step (-1 after `init_fn`, as Jaxley), channel states are -1 and
    currents 0. `step_fn` also accepts (n_comp,) arrays.

    Returns:
        `init_fn(params, all_states=None, param_state=None, delta_t=0.025) -> (states, all_params)`
        and `step_fn(states, all_params, externals, external_inds, delta_t=0.025) -> states`,
        where `externals` maps "i" (currents, nA) or a clamped state name to its values at
        this step and `external_inds` maps the same names to compartment indices.
    """

    def simulator(param_state, delta_t):
        # compiled at each call: init reads the module's current values (as Jaxley's
        # init_fn does), and compiling reuses the cached structure
        return compile_module(
            module,
            solver=solver,
            voltage_solver=voltage_solver,
            delta_t=delta_t,
            param_state=param_state,
            require_recordings=False,
        )

    def init_fn(params, all_states=None, param_state=None, delta_t=0.025):
        sim = simulator(param_state, delta_t)
        structure = sim.structure
        if all_states is not None:
            all_states = without_branchpoints(structure, all_states)
        # concrete values raise now; traced ones are checked when the computation runs,
        # attached to the initial voltages (dendrax.checks.traced)
        blocks = check_blocks(
            integrate_blocks(
                module.base, params, list(param_state or []), None, None, all_states, delta_t
            )
        )
        states, all_params = sim.init(params, all_states=all_states)
        if blocks:
            checked = report(blocks, states["v"][None, :], delta_t, sim.spec.scheme.name)
            states = {**states, "v": checked[0]}
        return with_branchpoints(structure, states), all_params

    def step_fn(all_states, all_params, externals, external_inds=None, delta_t=0.025):
        sim = simulator(None, delta_t)
        structure = sim.structure
        external_inds = external_inds or {}
        merged = {name: (external_inds[name], values) for name, values in externals.items()}
        states = without_branchpoints(structure, all_states)
        new = sim.step(states, all_params, merged)
        return with_branchpoints(structure, new, all_params)

    return init_fn, step_fn
