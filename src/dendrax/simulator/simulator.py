"""`Simulator`: a compiled model as an immutable pytree, and its pure `init`, `step`, `run`.

A `Simulator` is made by `dendrax.compile(module, ...)`. It holds no module: its static
part (`SimulatorSpec`: structure, solver objects, index maps of trainables, recordings and
inputs, delay plan) decides what is compiled, and its leaves (the parameter and state
columns, input series, `data_set` values) are runtime data. JAX caches compiled code on the
static part, so a changed trainable, recording, stimulus location or clamp gives a new
compilation, and a changed value (`set`, a new stimulus amplitude) does not.

Units: v mV, t ms, stimuli nA, channel currents mA/cm² (see `dendrax.simulator.step`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.simulator.model import StaticArray
from dendrax.simulator.params import check_params_structure, uniform_parameters
from dendrax.simulator.run import (
    exp_euler_transitions,
    initial_values,
    make_step,
    static_geometry,
)
from dendrax.simulator.scan import check_checkpoint_lengths, scan_steps
from dendrax.simulator.structure import Structure
from dendrax.simulator.xla_options import TopLevelJit
from dendrax.utils.jax_utils import take_static
from dendrax.utils.series import fit_length

__all__ = ["Simulator", "SimulatorSpec", "RunTables"]


class RunTables(NamedTuple):
    """The table view the building blocks of `simulator.run` read (numpy or traced)."""

    nodes: dict
    edges: dict
    trainables: tuple
    frustum: np.ndarray


@dataclass(frozen=True, eq=False)
class SimulatorSpec:
    """The static part of a `Simulator`: everything that decides the compiled code.

    Attributes:
        structure: the compiled `Structure` (tree, mechanism groups).
        scheme: the `TimeScheme` object; linear_solver: the `LinearSolver` object.
        trainables: `Trainable` records, in `get_parameters()` order.
        frustum: (n_comp,) bool.
        recordings: `(state, rows (k,))` gathers, and `order` (n_rec,) putting the gathered
            rows in recording order.
        inputs: `(name, rows (k,))` per input: "i" (stimulated compartments) or a clamped
            state (its compartment or synapse rows).
        param_state: `(key, indices)` of the `data_set` entries.
        delay_plan: synaptic delay ring buffer plan, or None.
        shared_drive: synapse groups updated per presynaptic compartment.
        delta_t: the time step (ms) when concrete, else None (then it is a leaf).
    """

    structure: Structure
    scheme: object
    linear_solver: object
    trainables: tuple
    frustum: np.ndarray
    recordings: tuple
    order: np.ndarray
    inputs: tuple
    param_state: tuple
    delay_plan: object
    shared_drive: tuple
    delta_t: float | None
    _key: tuple = field(init=False, repr=False)

    def __post_init__(self):
        key = (
            id(self.structure),
            self.scheme,
            self.linear_solver,
            tuple(t.static_key() for t in self.trainables),
            StaticArray(self.frustum),
            tuple((s, StaticArray(r)) for s, r in self.recordings),
            StaticArray(self.order),
            tuple((n, StaticArray(r)) for n, r in self.inputs),
            tuple((k, StaticArray(i)) for k, i in self.param_state),
            None if self.delay_plan is None else self.delay_plan.key(),
            self.shared_drive,
            self.delta_t,
        )
        object.__setattr__(self, "_key", key)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, SimulatorSpec)
            and self.structure is other.structure
            and self._key == other._key
        )

    def record(self, states: dict):
        """(n_rec,) recorded values of `states`, in recording order."""
        parts = [take_static(states[name], rows) for name, rows in self.recordings]
        out = parts[0] if len(parts) == 1 else jnp.concatenate(parts)
        order = self.order
        return out if np.array_equal(order, np.arange(order.size)) else take_static(out, order)


@jax.tree_util.register_pytree_node_class
class Simulator:
    """A compiled model: `init`, `step` and `run` are pure and work under `jit`, `vmap`,
    `grad` and with sharded inputs. Build it with `dendrax.compile(module, ...)`.

    Attributes:
        spec: the static `SimulatorSpec`.
        nodes: compartment columns (n_comp,) and synapse columns (n_edges,) by name: the
            parameters and initial states of the model (the builder's values when compiled).
        inputs: `{name: (k, T) values}` in the layout of `spec.inputs` (stimuli nA, clamp
            values in the state's unit).
        param_values: the `data_set` values, one per entry of `spec.param_state`.
        transition: propagators of `customize_solver_exp_euler`, or None.
        delta_t: the time step (ms); a leaf only when it was traced at compile time.
    """

    def __init__(self, spec, nodes, inputs, param_values, transition=None, delta_t=None):
        self.spec = spec
        self.nodes = nodes
        self.inputs = inputs
        self.param_values = tuple(param_values)
        self.transition = transition
        self.delta_t = spec.delta_t if delta_t is None else delta_t

    def tree_flatten(self):
        traced_dt = None if self.spec.delta_t is not None else self.delta_t
        children = (self.nodes, self.inputs, self.param_values, self.transition, traced_dt)
        return children, self.spec

    @classmethod
    def tree_unflatten(cls, spec, children):
        nodes, inputs, param_values, transition, traced_dt = children
        return cls(spec, nodes, inputs, param_values, transition, traced_dt)

    def __repr__(self) -> str:
        s = self.spec.structure
        return (
            f"Simulator(n_comp={s.n_comp}, n_edges={s.n_edges}, solver={self.spec.scheme.name!r}, "
            f"voltage_solver={self.spec.linear_solver.name!r}, "
            f"trainables={len(self.spec.trainables)}, recordings={self.spec.order.size})"
        )

    # ------------------------------------------------------------------ views
    @property
    def structure(self) -> Structure:
        return self.spec.structure

    def _tables(self) -> RunTables:
        return RunTables(self.nodes, self.nodes, self.spec.trainables, self.spec.frustum)

    def _param_state(self, param_values=None) -> list:
        values = self.param_values if param_values is None else tuple(param_values)
        if len(values) != len(self.spec.param_state):
            raise ValueError(
                f"Expected {len(self.spec.param_state)} data_set value(s), got {len(values)}."
            )
        return [
            {"key": k, "indices": i, "val": v}
            for (k, i), v in zip(self.spec.param_state, values, strict=True)
        ]

    # ------------------------------------------------------------------ init / step
    def init(self, params=None, *, param_values=None, all_states=None):
        """Initial states and all parameters.

        Args:
            params: trainable values, a list like `module.get_parameters()`, or None (the
                tables' values are used, as in Jaxley).
            param_values: `data_set` values replacing the compiled ones (same layout).
            all_states: states to start from (a previous run's `return_states`).

        Returns:
            `(states, all_params)`: dicts of (n_comp,) compartment and (n_edges,) synapse
            arrays; `all_params["axial"]` holds the cable coefficients.
        """
        spec = self.spec
        states, all_params = initial_values(
            self._tables(),
            spec.structure,
            params,
            self._param_state(param_values),
            all_states,
            node_values=self.nodes,
            delay_plan=spec.delay_plan,
        )
        if spec.scheme.uses_transition:
            transition = self.transition
            if transition is None:
                transition = exp_euler_transitions(spec.structure, all_params, self.delta_t)
            all_params["exp_euler_transition"] = transition
        return states, all_params

    def step(self, states, all_params, inputs=None):
        """One time step of `delta_t` ms.

        Args:
            states: as returned by `init` (or a previous `step`).
            all_params: as returned by `init`.
            inputs: `{name: values (k,)}` at this step, in the compiled layout
                (`spec.inputs`), or `{name: (rows (k,), values (k,))}` for any rows:
                "i" injects currents (nA), a state name clamps it.
        """
        layout = dict(self.spec.inputs)
        externals = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, tuple):
                externals[name] = value
            elif name in layout:
                externals[name] = (layout[name], value)
            else:
                raise KeyError(
                    f"{name!r} is not an input of this simulator (inputs: {sorted(layout)}); "
                    "pass (rows, values) to give its rows."
                )
        return _step_fn(self.spec)(dict(states), all_params, externals, self.delta_t)

    def record(self, states):
        """(n_rec,) recorded values of `states`, in recording order."""
        return self.spec.record(states)

    # ------------------------------------------------------------------ run
    def n_steps_for(self, t_max=None) -> int:
        """Steps of a run: `int(t_max // delta_t) + 1`, else the longest input series."""
        if t_max is not None:
            return int(t_max // self.delta_t + 1)
        lengths = [int(np.shape(v)[1]) for v in self.inputs.values()]
        if not lengths:
            raise ValueError(
                "integrate() needs a duration: pass t_max=... (ms) or add a stimulus or clamp."
            )
        return max(lengths)

    def run(
        self,
        params=None,
        *,
        t_max=None,
        n_steps=None,
        inputs=None,
        param_values=None,
        all_states=None,
        checkpoint_lengths=None,
        return_states=False,
    ):
        """Simulate and return the recordings.

        Args:
            params: trainable values (a list like `module.get_parameters()`), or None.
            t_max: duration (ms): `int(t_max // delta_t) + 1` steps. Or give `n_steps`;
                without either, one step per time point of the longest input.
            inputs: `{name: (k, T) values}` replacing the compiled input series (same rows).
                Stimuli shorter than the run are zero-padded; clamps must cover the run.
            param_values: `data_set` values replacing the compiled ones.
            all_states: states to start from (from `return_states=True`).
            checkpoint_lengths: nested checkpointing of the time loop (product >= steps).
            return_states: also return the final states.

        Returns:
            (n_recordings, n_steps + 1) array (column 0 = initial state); with
            `return_states`, a tuple `(recordings, final_states)`.

        Called outside a transformation, the run is compiled with
        `dendrax.compiler_options()` (on CPU: its loops are not split over threads; see
        `dendrax.simulator.xla_options`); inside a caller's `jax.jit`, the caller's
        compile options apply.
        """
        spec = self.spec
        if n_steps is None:
            n_steps = self.n_steps_for(t_max)
        n_steps = int(n_steps)
        lengths = check_checkpoint_lengths(checkpoint_lengths, n_steps)
        if params is not None:
            check_params_structure(spec.trainables, params)
        xs = _input_series({**self.inputs, **(inputs or {})}, dict(spec.inputs), n_steps)
        param_state = self._param_state(param_values)
        traced = _is_traced(params) or _is_traced(self.nodes)
        concrete_tables = not _is_traced(self.nodes)
        uniform = (
            uniform_parameters(self._tables(), spec.structure, param_state)
            if concrete_tables
            else ()
        )
        bake_uniform = _is_traced(params)
        static = None
        if not traced and spec.delta_t is not None:
            static = static_geometry(
                self._tables(), spec.structure, params, param_state, spec.scheme, spec.delta_t
            )
        dynamic = {
            "static": static,
            "params": params,
            "param_vals": [item["val"] for item in param_state],
            "nodes": self.nodes,
            "xs": xs,
            "all_states": all_states,
            "transition": self.transition,
            # a concrete time step stays a Python float in the compiled code
            "delta_t": self.delta_t if spec.delta_t is None else None,
        }
        options = _RunOptions(
            n_steps=n_steps,
            checkpoint_lengths=lengths,
            return_states=bool(return_states),
            uniform=uniform if bake_uniform else tuple(k for k, _ in uniform),
            bake_uniform=bake_uniform,
            has_static=static is not None,
            from_states=all_states is not None,
            has_transition=self.transition is not None,
        )
        if spec.delta_t is None:  # a traced delta_t: traced in place, not cached
            return _make_runner(spec, options, uniform)(dynamic)
        plain, jitted = _runners(spec, options, uniform if bake_uniform else ())
        # With traced parameters (grad, vmap) the runner is traced in place: a nested jit
        # would be traced to a jaxpr first and then transformed as a whole (more tracing
        # for a cell's gradient). Otherwise the jitted runner, reused by eager calls.
        return plain(dynamic) if bake_uniform else jitted(dynamic)


class _RunOptions(NamedTuple):
    n_steps: int
    checkpoint_lengths: tuple | None
    return_states: bool
    uniform: tuple
    bake_uniform: bool
    has_static: bool
    from_states: bool
    has_transition: bool


def _is_traced(tree) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(tree))


def _input_series(series: dict, layout: dict, n_steps: int) -> dict:
    """`{name: (n_steps, k)}` time-major input series, stimuli padded, clamps cut."""
    xs = {}
    for name, values in series.items():
        if name not in layout:
            raise KeyError(f"{name!r} is not an input of this simulator ({sorted(layout)}).")
        t_len = int(np.shape(values)[1])
        if t_len >= n_steps or name == "i":
            values = fit_length(values, n_steps)  # numpy unless traced
        else:
            raise ValueError(
                f"The clamp of {name!r} has {t_len} time points but the simulation runs "
                f"{n_steps} steps; make it at least that long."
            )
        xs[name] = values.T
    return xs


@functools.lru_cache(maxsize=256)
def _step_fn(spec: SimulatorSpec):
    return make_step(
        spec.structure, spec.scheme, spec.delay_plan, spec.linear_solver, spec.shared_drive
    )


@functools.lru_cache(maxsize=32)
def _runners(spec: SimulatorSpec, options: _RunOptions, uniform: tuple):
    # Bounded: a compiled run holds its executable; old models' runs are evicted. Called at
    # top level, the jitted runner compiles with dendrax's XLA options (`xla_options`: on
    # CPU, loops are not split over threads); traced in a caller's jit, it is a plain jit.
    run = _make_runner(spec, options, uniform)
    return run, TopLevelJit(run)


def _make_runner(spec: SimulatorSpec, options: _RunOptions, uniform: tuple):
    """The pure run function of `dynamic` (params, tables, inputs) for fixed options."""
    step = _step_fn(spec)
    structure, scheme = spec.structure, spec.scheme
    tables_static = (spec.trainables, spec.frustum)

    def run(dynamic):
        delta_t = spec.delta_t if spec.delta_t is not None else dynamic["delta_t"]
        pstate = [
            {"key": k, "indices": i, "val": v}
            for (k, i), v in zip(spec.param_state, dynamic["param_vals"], strict=True)
        ]
        nodes = dynamic["nodes"]
        tables = RunTables(nodes, nodes, *tables_static)
        states, all_params = initial_values(
            tables,
            structure,
            dynamic["params"],
            pstate,
            dynamic["all_states"],
            node_values=nodes,
            delay_plan=spec.delay_plan,
            static=dynamic["static"],
        )
        if scheme.uses_transition:
            transition = dynamic["transition"]
            if transition is None:  # once per call, outside the time loop
                transition = exp_euler_transitions(structure, all_params, delta_t)
            all_params = {**all_params, "exp_euler_transition": transition}
        if scheme.implicit and "implicit" not in all_params["axial"]:
            # once per call, outside the time loop
            system = scheme.prepare(structure, all_params["axial"], delta_t)
            all_params = {**all_params, "axial": {**all_params["axial"], "implicit": system}}

        # Uniform parameters enter the loop as scalars (see `uniform_parameters`).
        if options.bake_uniform:
            scalars = {k: (value, all_params[k].shape) for k, value in uniform}
        else:
            scalars = {k: (nodes[k][0], all_params[k].shape) for k in options.uniform}
        loop_params = {k: v for k, v in all_params.items() if k not in scalars}
        loop_dtype = states["v"].dtype
        layout = dict(spec.inputs)

        def body(carry, x):
            externals = {name: (layout[name], x[name]) for name in x}
            step_params = dict(loop_params)
            for key, (value, shape) in scalars.items():
                step_params[key] = jnp.broadcast_to(jnp.asarray(value, loop_dtype), shape)
            new = step(carry, step_params, externals, delta_t)
            return new, spec.record(new)

        final, traces = scan_steps(
            body,
            states,
            dynamic["xs"],
            options.n_steps,
            options.checkpoint_lengths,
            final_needed=options.return_states,
        )
        out = jnp.concatenate([spec.record(states)[:, None], traces.T], axis=1)
        if options.return_states:
            return out, final
        return out

    return run
