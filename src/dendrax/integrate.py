"""`integrate`: simulate a module and return its recordings (Jaxley-compatible)."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.compiler import _last_wins
from dendrax.compiler import compile as compile_module
from dendrax.simulator.branchpoint_states import with_branchpoints, without_branchpoints

__all__ = ["integrate", "build_init_and_step_fn", "add_stimuli", "add_clamps"]


def _concat_rows(old_inds, old_values, inds, values, pad: bool):
    """Append rows (inds (k,), values (k, T)) to an external; `pad` zero-pads the shorter
    series to the longer (stimuli), else both are cut to the shorter (clamps)."""
    old_values, values = jnp.asarray(old_values, dtype=float), jnp.asarray(values, dtype=float)
    t_old, t_new = old_values.shape[1], values.shape[1]
    if pad:
        t_len = max(t_old, t_new)
        old_values = jnp.pad(old_values, ((0, 0), (0, t_len - t_old)))
        values = jnp.pad(values, ((0, 0), (0, t_len - t_new)))
    else:
        t_len = min(t_old, t_new)
        old_values, values = old_values[:, :t_len], values[:, :t_len]
    return (
        np.concatenate([np.asarray(old_inds), np.asarray(inds)]),
        jnp.concatenate([old_values, values], axis=0),
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
            external_inds["i"], externals["i"] = np.asarray(rows), jnp.asarray(series, float)
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
            external_inds[state], externals[state] = np.asarray(rows), jnp.asarray(series, float)
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

    Returns:
        (n_recordings, n_steps + 1) array (column 0 = initial state); with `return_states`,
        a tuple `(recordings, final_states)`.

    Each call compiles the module into a `Simulator` (`dendrax.compile`, cheap: the
    structure is cached on the module) and runs it. XLA code is cached on the simulator's
    static part (structure, solvers, trainables, recordings, input rows), so a changed
    trainable or recording compiles again, while table values stay runtime inputs and `set`
    does not (see `simulator.params.uniform_parameters` for the one exception, under a
    transformation of `params`).
    """
    sim = compile_module(
        module,
        solver=solver,
        voltage_solver=voltage_solver,
        delta_t=delta_t,
        data_stimuli=data_stimuli,
        data_clamps=data_clamps,
        param_state=param_state,
    )
    if t_max is not None:
        if isinstance(t_max, (str, bytes)) or not math.isfinite(float(t_max)) or t_max < 0:
            raise ValueError(f"t_max must be a finite duration >= 0 (ms); got {t_max!r}.")
    if params is not None and not sim.spec.trainables and isinstance(params, (list, tuple)):
        # Jaxley's idiom `integrate(m, params=[{}])` sets nothing; without trainables a
        # list of empty dicts carries no values, so it is the same as `[]`.
        if params and all(isinstance(e, dict) and not e for e in params):
            params = []
    result = sim.run(
        params,
        t_max=t_max,
        all_states=all_states,
        checkpoint_lengths=checkpoint_lengths,
        return_states=return_states,
    )
    _warn_if_not_finite(result[0] if return_states else result, delta_t, sim.spec.scheme)
    return result


def _warn_if_not_finite(recordings, delta_t, solver) -> None:
    """Report numerical blow-up of a concrete (non-traced) result instead of silent NaN."""
    if isinstance(recordings, jax.core.Tracer):
        return
    values = np.asarray(recordings)
    bad = ~np.isfinite(values) | (np.abs(values) > 1e9)  # no physical state reaches 1e9
    if not bad.any():
        return
    rec, step = np.argwhere(bad)[0]
    warnings.warn(
        f"The simulation blew up: recording {rec} is NaN, inf or beyond 1e9 from time step "
        f"{step} on "
        f"(t = {step * float(delta_t):g} ms, solver {solver.name!r}, {values.dtype}). Try "
        "jax.config.update('jax_enable_x64', True), a smaller delta_t, or solver='bwd_euler'.",
        RuntimeWarning,
        stacklevel=3,
    )


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
        states, all_params = sim.init(params, all_states=all_states)
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
