"""`dendrax.compile(module, ...)`: from the builder to an immutable `Simulator`.

The builder is mutable; a `Simulator` is not. `compile` takes a read-only snapshot of the
module's tables (`dendrax.modules.export`), resolves the solver names to registered
objects, and lays out recordings, stimuli, clamps and `data_set` entries as index maps.
Changing the module afterwards does not change a compiled simulator: compile again.

Example::

    sim = dendrax.compile(cell, delta_t=0.025)
    traces = jax.jit(lambda p: sim.run(p, t_max=20.0))(cell.get_parameters())
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from dendrax.checks.inputs import check_time_step
from dendrax.modules.export import cached_compile, model_tables, module_structure
from dendrax.simulator.model import frozen_array
from dendrax.simulator.presynaptic_drive import presynaptic_sharing
from dendrax.simulator.run import node_table_values
from dendrax.simulator.simulator import Simulator, SimulatorSpec
from dendrax.simulator.synapse_step import make_delay_plan
from dendrax.solvers.registry import linear_solver, time_scheme
from dendrax.utils.series import join_rows

__all__ = ["compile", "collect_inputs", "recording_plan"]


def recording_plan(recordings, required: bool = True):
    """`(gathers, order)`: `(state, rows)` per recorded state and the permutation back to
    recording order, from `(state, kind, row)` records."""
    if not recordings:
        if required:
            raise ValueError("No recordings are set. Call e.g. `module.comp(0).record('v')` first.")
        return (), np.zeros(0, np.int64)
    plan = {}
    for position, (state, kind, row) in enumerate(recordings):
        plan.setdefault((state, kind), ([], []))
        plan[(state, kind)][0].append(row)
        plan[(state, kind)][1].append(position)
    order = np.argsort(np.concatenate([np.asarray(p) for _, p in plan.values()]))
    gathers = tuple((state, frozen_array(rows)) for (state, _), (rows, _) in plan.items())
    return gathers, frozen_array(order)


def _last_wins(inds, values):
    """Drop rows clamped again later: a later clamp of the same row overrides an earlier one
    (so `data_clamp` overrides `clamp`, as in Jaxley)."""
    inds = np.asarray(inds)
    _, last_rev = np.unique(inds[::-1], return_index=True)
    keep = np.sort(inds.size - 1 - last_rev)
    if keep.size == inds.size:
        return inds, values
    return inds[keep], values[keep]


def collect_inputs(stimuli, clamps, data_stimuli=None, data_clamps=None):
    """Input layout and series of a run.

    Args:
        stimuli: `(rows, currents (k, T))` of `stimulate` calls; clamps: `(state, kind,
            rows, values (k, T))` of `clamp` calls.
        data_stimuli: output of `data_stimulate`; data_clamps: output of `data_clamp`.

    Returns:
        `(layout, series)`: `{name: rows (k,)}` and `{name: (k, T)}`, "i" for stimuli
        (shorter series zero-padded to the longest) and one entry per clamped state (series
        cut to the shortest; a row clamped twice keeps its last clamp).
    """
    layout, series = {}, {}
    entries = list(stimuli) + [(rows, s) for _, rows, s in (data_stimuli or [])]
    if entries:
        t_len = max(int(np.shape(s)[1]) for _, s in entries)
        layout["i"] = np.concatenate([np.asarray(r) for r, _ in entries]).astype(np.int64)
        series["i"] = join_rows([s for _, s in entries], t_len)  # numpy unless traced
    grouped = {}
    for state, kind, rows, values in list(clamps) + list(data_clamps or []):
        grouped.setdefault(state, []).append((kind, rows, values))
    for state, items in grouped.items():
        t_len = min(int(np.shape(v)[1]) for _, _, v in items)
        inds = np.concatenate([np.asarray(r) for _, r, _ in items]).astype(np.int64)
        values = join_rows([v for _, _, v in items], t_len, pad=False)
        layout[state], series[state] = _last_wins(inds, values)
    return layout, series


def _check_diffusion_coefficients(nodes, structure) -> None:
    for state in structure.diffused_states:
        key = f"axial_diffusion_{state}"
        values = np.asarray(nodes[key])
        if np.any(~np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(
                f"{key!r} must be finite and > 0 everywhere (µm²/ms); got "
                f"{values[(values <= 0) | ~np.isfinite(values)][:5].tolist()}. Use "
                f"delete_diffusion({state!r}) to switch diffusion off."
            )


def _custom_transition(stored, structure, scheme):
    """The propagator stored by `customize_solver_exp_euler`, checked against the model."""
    if not scheme.uses_transition or stored is None:
        return None
    expected = (1 + len(structure.diffused_states), structure.n_comp, structure.n_comp)
    if tuple(stored.shape) != expected:
        raise ValueError(
            f"The exp_euler transition set by customize_solver_exp_euler has shape "
            f"{tuple(stored.shape)} but the model needs {expected}; rebuild it with "
            "build_exp_euler_transition_matrix(delta_t)."
        )
    return stored


class _ModulePart(NamedTuple):
    """What a `Simulator` takes from the module alone (not from `data_*` arguments)."""

    tables: object
    structure: object
    transition: object
    gathers: tuple
    order: np.ndarray
    delay_plan: object
    values: dict


def _module_part(module, scheme, delta_t, require_recordings: bool) -> _ModulePart:
    tables = model_tables(module)
    structure = module_structure(module, tables)
    _check_diffusion_coefficients(tables.nodes, structure)
    transition = _custom_transition(tables.exp_euler_transition, structure, scheme)
    gathers, order = recording_plan(tables.recordings, require_recordings)
    delay_plan = None
    if structure.n_edges:
        delay_plan = make_delay_plan(structure, tables.edges["delay"], delta_t)
    values = node_table_values(tables, structure)
    return _ModulePart(tables, structure, transition, gathers, order, delay_plan, values)


def _untraced(value) -> bool:
    """No JAX tracer among the leaves of `value` (only then may it outlive this call)."""
    leaves = jax.tree_util.tree_leaves(value)
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def _hashable(*items) -> bool:
    try:
        hash(items)
    except TypeError:
        return False
    return True


def _cached(module, key, build):
    """`build()` cached on the module under `key` (see `cached_compile`), when `key` is
    hashable and the result holds no tracer; else built afresh."""
    if key is None or not _hashable(key):
        return build()

    def build_and_check():
        value = build()
        return value, _untraced(value)

    return cached_compile(module, key, build_and_check)


def _simulator(part, scheme, linear, delta_t, data_stimuli, data_clamps, param_state):
    tables, structure = part.tables, part.structure
    layout, series = collect_inputs(tables.stimuli, tables.clamps, data_stimuli, data_clamps)
    param_state = list(param_state or [])
    shared_drive = presynaptic_sharing(tables, structure, param_state, part.delay_plan)
    traced_dt = isinstance(delta_t, jax.core.Tracer)
    spec = SimulatorSpec(
        structure=structure,
        scheme=scheme,
        linear_solver=linear,
        trainables=tables.trainables,
        frustum=tables.frustum,
        recordings=part.gathers,
        order=part.order,
        inputs=tuple((name, frozen_array(rows)) for name, rows in layout.items()),
        param_state=tuple(
            (item["key"], frozen_array(np.asarray(item["indices"]))) for item in param_state
        ),
        delay_plan=part.delay_plan,
        shared_drive=shared_drive,
        delta_t=None if traced_dt else float(delta_t),
    )
    return Simulator(
        spec,
        part.values,
        series,
        [item["val"] for item in param_state],
        part.transition,
        delta_t if traced_dt else None,
    )


def compile(  # noqa: A001 - `dendrax.compile`, as the design names it
    module,
    *,
    solver="bwd_euler",
    voltage_solver="jaxley.dhs",
    delta_t=0.025,
    data_stimuli=None,
    data_clamps=None,
    param_state=None,
    require_recordings: bool = True,
) -> Simulator:
    """Compile `module` into an immutable `Simulator`.

    Args:
        module: a Compartment, Branch, Cell or Network (or a view of one: its base).
        solver: time scheme, a registered name ("bwd_euler", "crank_nicolson",
            "fwd_euler", "exp_euler") or a `TimeScheme` object.
        voltage_solver: linear solver, a registered name (Jaxley's "jaxley.dhs*",
            "jaxley.stone", "jax.sparse", or "tree", "level_parallel", "sparse", "dense")
            or an object; "jaxley.dhs" is "level_parallel" on GPU backends, "tree.native"
            on CPU (pure-JAX "tree" where its kernel is not built), else "tree".
        delta_t: time step (ms).
        data_stimuli: output of `data_stimulate` (their rows become part of the layout).
        data_clamps: output of `data_clamp`.
        param_state: output of `data_set` calls (keys and rows static, values leaves).
        require_recordings: raise if the module records nothing.

    Returns:
        A `Simulator`; see its `init`, `step` and `run`.

    The result is cached on the module under (its `version`, the options): compiling an
    unchanged module again returns the same `Simulator` without re-reading the tables
    (with `data_*` arguments, the part taken from the module is reused), and any mutation
    of the module (`set`, `record`, `make_trainable`, ...) gives a fresh one. Nothing is
    cached for a traced `delta_t`.
    """
    check_time_step(delta_t)
    scheme = time_scheme(solver)
    linear = linear_solver(voltage_solver)
    require_recordings = bool(require_recordings)
    concrete_dt = not isinstance(delta_t, jax.core.Tracer)
    dt_key = float(delta_t) if concrete_dt else None
    part_key = ("module part", scheme, dt_key, require_recordings) if concrete_dt else None
    part = _cached(
        module, part_key, lambda: _module_part(module, scheme, delta_t, require_recordings)
    )

    def build():
        return _simulator(part, scheme, linear, delta_t, data_stimuli, data_clamps, param_state)

    if data_stimuli or data_clamps or param_state or not concrete_dt:
        return build()
    return _cached(module, ("simulator", scheme, linear, dt_key, require_recordings), build)
