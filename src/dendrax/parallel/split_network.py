"""`split_network`: one network simulated across the devices of a mesh axis (model parallel).

The cells are partitioned over the devices of the axis (`dendrax.parallel.partition`);
each device advances only its own cells: their tree solves, channels, and the synapses
whose postsynaptic compartment it owns (`dendrax.parallel.local_model`). Presynaptic values
of synapses that cross devices are exchanged with one `all_gather` inside `shard_map`,
every step or every min-delay window (`dendrax.parallel.exchange`).

Devices have different local models (cells, trees, synapses), but `shard_map` runs one
program: the program holds every device's step, and `lax.switch` on the device's position
along the axis (`lax.axis_index`) runs that device's own. Each device's states (and
parameters) are flattened into one vector, padded with zeros to the longest device's
length, so that the branches have equal shapes; the padding is never read.

Units: v mV, t ms, currents as in `Simulator.run`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from dendrax.compiler import compile as compile_module
from dendrax.parallel.exchange import exchange_plan
from dendrax.parallel.local_model import local_models
from dendrax.parallel.mesh import axis_size, check_axis
from dendrax.parallel.partition import cell_of_compartments, make_partition
from dendrax.parallel.placement import gather, place
from dendrax.simulator.run import initial_values, make_step_halves, static_geometry
from dendrax.simulator.simulator import RunTables, Simulator
from dendrax.simulator.synapse_step import BUFFER, POINTER
from dendrax.utils.jax_utils import take_static
from dendrax.utils.series import fit_length

__all__ = ["split_network", "SplitNetwork"]


def split_network(
    net_or_simulator, mesh, *, axis=None, partition=None, window=None, **compile_kwargs
):
    """Split a network's cells over the devices of a mesh axis.

    Args:
        net_or_simulator: a `Network` (compiled here with `dendrax.compile(net,
            **compile_kwargs)`, e.g. `delta_t=`) or a `Simulator` of one.
        mesh: a `jax.sharding.Mesh` (e.g. `dendrax.parallel.make_mesh(8)`).
        axis: the mesh axis the cells are split over; None: the mesh's only axis, or
            "batch" for a mesh of several axes. Other axes hold copies.
        partition: "greedy" (default: largest cells first onto the device with the fewest
            compartments), "blocks" (contiguous runs of cells of about equal compartment
            counts), or one device index (0 .. n - 1, position along `axis`) per cell.
        window: steps between exchanges when every synapse crossing devices has a delay
            (at most their minimum delay in steps; None: that minimum).

    Returns:
        A `SplitNetwork`: `.run(t_max=...)` gives the recordings of `dendrax.integrate`,
        `.describe()` the partition table, `.exchanged_bytes()` the exchange volume.

    Raises:
        MeshError: the mesh has no axis `axis`.
        PartitionError: a partition that leaves a device without cells (more devices than
            cells, or an explicit assignment missing a device), an explicit partition of the
            wrong length or with device indices out of range, a window larger than the
            minimum delay of the synapses that cross devices.
        NotImplementedError: a model the split does not support (see `SplitNetwork`).
    """
    sim = net_or_simulator
    if not isinstance(sim, Simulator):
        sim = compile_module(net_or_simulator, **compile_kwargs)
    elif compile_kwargs:
        raise TypeError(
            f"split_network got compile options {sorted(compile_kwargs)} with a Simulator, "
            "which is compiled already; pass the network instead, or compile it with them."
        )
    if axis is None:
        names = tuple(getattr(mesh, "axis_names", ()))
        axis = names[0] if len(names) == 1 else "batch"
    check_axis(mesh, axis)
    return SplitNetwork(sim, mesh, axis, partition, window)


def _check_supported(sim):
    spec = sim.spec
    s = spec.structure
    problems = []
    if spec.delta_t is None:
        problems.append("a traced delta_t (compile with a number)")
    if s.diffused_states:
        problems.append(f"intracellular diffusion of {list(s.diffused_states)}")
    if spec.scheme.uses_transition:
        problems.append(f"the {spec.scheme.name!r} solver (use bwd_euler or crank_nicolson)")
    if spec.param_state:
        problems.append("data_set values (set them with .set before compiling)")
    if problems:
        raise NotImplementedError(
            "split_network does not support " + "; ".join(problems) + ". Run it unsplit."
        )


@jax.jit
def _initial_states(sim):
    """The unsplit network's initial states (a module-level function: compiled once per
    `SimulatorSpec`)."""
    return sim.init()[0]


def _local_states(sim, model, global_states: dict) -> dict:
    """A device's initial states: the unsplit network's (numpy) at its compartments
    (own and ghosts), synapses and delay-buffer rows."""
    structure, local = sim.spec.structure, model.structure
    node_keys = set(structure.node_state_names) | set(structure.current_names)
    edge_keys = set(local.edge_state_names) | set(local.synapse_current_names)
    out = {}
    for key, value in global_states.items():
        if key in node_keys:
            out[key] = value[model.comps]
        elif key in edge_keys:
            out[key] = value[model.edges]
    if model.delay_plan is not None:
        rows = model.comps[model.delay_plan.rows]  # global compartments of the local rows
        slots = np.searchsorted(sim.spec.delay_plan.rows, rows)
        out[BUFFER] = global_states[BUFFER][:, :, slots]
        out[POINTER] = global_states[POINTER]
    return out


def _local_params(sim, model) -> dict:
    """A device's parameters: its columns, geometry and implicit system (numpy)."""
    spec, local = sim.spec, model.structure
    tables = RunTables(model.nodes, model.nodes, (), model.frustum)
    static = static_geometry(tables, local, None, [], spec.scheme, spec.delta_t)
    if static is None:  # an explicit scheme: as `Simulator.init`
        _, params = initial_values(tables, local, None, [], None, node_values=model.nodes)
        return params
    dtype = jnp.result_type(float)
    params = {k: np.asarray(model.nodes[k], dtype) for k in local.node_param_names}
    params.update(static["geometry"])
    params["axial"] = static["axial"]
    params.update({k: np.asarray(model.nodes[k], dtype) for k in local.edge_param_names})
    return params


class _Device:
    """The compiled pieces of one device's share (host side, static)."""

    def __init__(self, sim, model, names, global_states):
        spec = sim.spec
        self.model = model
        structure = model.structure
        states = _local_states(sim, model, global_states)
        params = _local_params(sim, model)
        self.keys = tuple(states)
        self.shapes = tuple(jnp.shape(states[k]) for k in self.keys)
        self.dtypes = tuple(jnp.asarray(states[k]).dtype for k in self.keys)
        self.flat_states = np.concatenate([np.ravel(np.asarray(states[k])) for k in self.keys])
        flat_params, self.unravel_params = ravel_pytree(params)
        self.flat_params = np.asarray(flat_params)
        self.halves = make_step_halves(
            structure, spec.scheme, model.delay_plan, spec.linear_solver, model.shared_drive
        )
        self.send_rows = model.send_rows
        self.names = names
        if model.delay_plan is not None and model.n_ghost:
            self.ghost_buffer_slots = np.searchsorted(model.delay_plan.rows, model.ghost_rows)
        self.recordings = ()  # (name, local rows) groups, set by SplitNetwork
        self.inputs = {}  # name: (columns of the global series, local rows)

    # ------------------------------------------------------------------ flat states
    def unpack(self, flat):
        out, start = {}, 0
        for key, shape, dtype in zip(self.keys, self.shapes, self.dtypes, strict=True):
            size = int(np.prod(shape, dtype=np.int64))
            out[key] = flat[start : start + size].reshape(shape).astype(dtype)
            start += size
        return out

    def pack(self, states, length: int, dtype):
        parts = [jnp.ravel(states[k]).astype(dtype) for k in self.keys]
        used = sum(p.size for p in parts)
        return jnp.concatenate(parts + [jnp.zeros(length - used, dtype)])

    # ------------------------------------------------------------------ pieces of a step
    def externals(self, x):
        return {
            name: (rows, take_static(x[name], cols)) for name, (cols, rows) in self.inputs.items()
        }

    def record(self, states, n_rec: int, dtype):
        parts = [take_static(states[name], rows).astype(dtype) for name, rows in self.recordings]
        used = sum(int(p.shape[0]) for p in parts)
        return jnp.concatenate(parts + [jnp.zeros(n_rec - used, dtype)])

    def send(self, states, n_send: int, dtype):
        rows = np.zeros(n_send, np.int64)
        rows[: self.send_rows.size] = self.send_rows
        return jnp.stack([take_static(states[n], rows).astype(dtype) for n in self.names])

    def receive_states(self, states, got):
        """Ghost states set from `got` (n_dev, n_names, n_send), the values of this step."""
        m = self.model
        if m.n_ghost == 0:
            return states
        values = got[m.ghost_src, :, m.ghost_slot]  # (n_ghost, n_names)
        rows = m.ghost_rows
        for i, name in enumerate(self.names):
            states[name] = states[name].at[rows].set(values[:, i].astype(states[name].dtype))
        return states

    def receive_buffer(self, states, got, window: int, buffer_index):
        """Ghost slots of the delay buffer set from `got` (n_dev, window, n_names, n_send),
        the values of the last `window` steps."""
        m = self.model
        if m.n_ghost == 0:
            return states
        plan = m.delay_plan
        values = got[m.ghost_src, :, :, m.ghost_slot]  # (n_ghost, window, n_names)
        first = (states[POINTER] - window) % plan.length
        times = (first + jnp.arange(window, dtype=jnp.int32)) % plan.length
        buffer = states[BUFFER]
        slots = self.ghost_buffer_slots[None, :]
        for i, b in enumerate(buffer_index):
            buffer = buffer.at[times[:, None], b, slots].set(values[:, :, i].T.astype(buffer.dtype))
        states[BUFFER] = buffer
        return states


class SplitNetwork:
    """A network split over the devices of a mesh axis; made by `split_network`.

    Limits: `run` takes `t_max`, `n_steps` and `inputs` (stimuli and clamps, as
    `Simulator.run`), not trainable `params`, `param_values`, `all_states`,
    `checkpoint_lengths` or `return_states`; it is not meant for `grad`. Intracellular
    ion diffusion, `data_set` values and the exp_euler solver are not supported. The
    program of every device contains the step of every device (one `lax.switch` branch
    each): its compilation grows faster than the number of devices
    (docs/parallel_network.md gives figures).
    """

    def __init__(self, sim, mesh, axis, partition=None, window=None):
        _check_supported(sim)
        structure = sim.spec.structure
        self.sim, self.mesh, self.axis = sim, mesh, axis
        self.n_devices = axis_size(mesh, axis)
        cells = cell_of_compartments(structure.tree_parent, structure.n_comp)
        self.partition = make_partition(cells, self.n_devices, partition)
        self.models = local_models(sim, self.partition)
        self.plan = exchange_plan(sim, self.models, window)
        # the unsplit initial states, computed once (one compilation), then cut per device
        initial = _initial_states(sim)
        initial = {k: np.asarray(v) for k, v in initial.items()}
        self.devices = [_Device(sim, m, self.plan.names, initial) for m in self.models]
        self.dtype = np.dtype(jnp.result_type(float))  # float64 with x64, else float32
        self._layout_recordings()
        self._layout_inputs()
        self._programs = {}

    # ------------------------------------------------------------------ layout
    def _owner_and_row(self, rows: np.ndarray, edge: bool):
        """`(device, local row)` of global compartment (or synapse, `edge`) rows: the
        device owning the compartment (the synapse's postsynaptic compartment)."""
        n_global = self.sim.spec.structure.n_edges if edge else self.sim.spec.structure.n_comp
        local = np.full(n_global, -1, np.int64)
        device = np.full(n_global, -1, np.int64)
        for m in self.models:
            ids = m.edges if edge else m.comps[: m.n_own]
            local[ids] = np.arange(ids.size)
            device[ids] = m.device
        return device[rows], local[rows]

    def _is_edge(self, name: str) -> bool:
        s = self.sim.spec.structure
        return name in s.edge_state_names or name in s.synapse_current_names

    def _layout_recordings(self):
        spec = self.sim.spec
        entries = []
        for name, rows in spec.recordings:
            dev, loc = self._owner_and_row(np.asarray(rows), self._is_edge(name))
            entries += [(name, int(d), int(r)) for d, r in zip(dev, loc, strict=True)]
        entries = [entries[i] for i in np.asarray(spec.order)]  # recording order
        self.rec_device = np.array([d for _, d, _ in entries], np.int64)
        self.rec_position = np.zeros(len(entries), np.int64)
        for dev in self.devices:
            d = dev.model.device
            mine = [j for j, e in enumerate(entries) if e[1] == d]
            groups, position = {}, 0
            for j in mine:
                groups.setdefault(entries[j][0], []).append(j)
            recs = []
            for name, js in groups.items():
                recs.append((name, np.array([entries[j][2] for j in js], np.int64)))
                self.rec_position[js] = position + np.arange(len(js))
                position += len(js)
            dev.recordings = tuple(recs)
        counts = np.bincount(self.rec_device, minlength=self.n_devices)
        self.n_rec = max(int(counts.max()) if counts.size else 0, 1)

    def _layout_inputs(self):
        for name, rows in self.sim.spec.inputs:
            dev, loc = self._owner_and_row(np.asarray(rows), self._is_edge(name))
            for device in self.devices:
                cols = np.flatnonzero(dev == device.model.device)
                if cols.size:
                    device.inputs[name] = (cols, loc[cols])

    # ------------------------------------------------------------------ the program
    def _program(self, n_steps: int):
        if n_steps in self._programs:
            return self._programs[n_steps]
        devices, plan, axis = self.devices, self.plan, self.axis
        dt, dtype = self.sim.delta_t, self.dtype
        n_state = max(d.flat_states.size for d in devices)
        n_rec, n_send, window = self.n_rec, plan.n_send, plan.window
        per_window, n_run = self._run_length(n_steps)

        def first_part(dev):
            def run(flat, p, x):
                states = dev.unpack(flat)
                params = dev.unravel_params(p[: dev.flat_params.size])
                states, _ = dev.halves[0](states, params, dev.externals(x), dt)
                return dev.pack(states, n_state, dtype), dev.send(states, n_send, dtype)

            return run

        def second_part(dev):
            def run(flat, p, x, got):
                states = dev.receive_states(dev.unpack(flat), got)
                params = dev.unravel_params(p[: dev.flat_params.size])
                states = dev.halves[1](states, None, params, dev.externals(x), dt)
                return dev.pack(states, n_state, dtype), dev.record(states, n_rec, dtype)

            return run

        def local_window(dev):
            """`window` steps without exchange (all steps in mode "none")."""

            def run(flat, p, xw):
                params = dev.unravel_params(p[: dev.flat_params.size])

                def one(states, x):
                    externals = dev.externals(x)
                    states, _ = dev.halves[0](states, params, externals, dt)
                    sent = dev.send(states, n_send, dtype) if plan.mode == "window" else None
                    states = dev.halves[1](states, None, params, externals, dt)
                    return states, (sent, dev.record(states, n_rec, dtype))

                states, (sent, recs) = jax.lax.scan(one, dev.unpack(flat), xw, length=per_window)
                return dev.pack(states, n_state, dtype), sent, recs

            return run

        def receive_window(dev):
            def run(flat, got):
                states = dev.receive_buffer(dev.unpack(flat), got, window, plan.buffer_index)
                return dev.pack(states, n_state, dtype)

            return run

        def record_initial(dev):
            return lambda flat: dev.record(dev.unpack(flat), n_rec, dtype)

        def local(flat_states, flat_params, xs):
            d = jax.lax.axis_index(axis)
            s, p = flat_states[0], flat_params[0]
            rec0 = jax.lax.switch(d, [record_initial(dev) for dev in devices], s)
            if plan.mode == "step":
                firsts = [first_part(dev) for dev in devices]
                seconds = [second_part(dev) for dev in devices]

                def body(s, x):
                    s, sent = jax.lax.switch(d, firsts, s, p, x)
                    got = jax.lax.all_gather(sent, axis)
                    return jax.lax.switch(d, seconds, s, p, x, got)

                _, recs = jax.lax.scan(body, s, xs, length=n_run)
            else:
                steps = [local_window(dev) for dev in devices]
                receives = [receive_window(dev) for dev in devices]

                def body(s, xw):
                    s, sent, recs = jax.lax.switch(d, steps, s, p, xw)
                    if plan.mode == "window":
                        got = jax.lax.all_gather(sent, axis)
                        s = jax.lax.switch(d, receives, s, got)
                    return s, recs

                _, recs = jax.lax.scan(body, s, xs, length=n_run // per_window)
                recs = recs.reshape((-1, n_rec))[:n_steps]
            return jnp.concatenate([rec0[None], recs])[None]

        # check_vma=False: the branches of `lax.switch` mix values that differ per device
        # with ones that do not, which the replication check cannot follow
        mapped = jax.shard_map(
            local,
            mesh=self.mesh,
            in_specs=(P(axis), P(axis), P()),
            out_specs=P(axis),
            check_vma=False,
        )
        program = jax.jit(mapped)
        self._programs[n_steps] = program
        return program

    def _run_length(self, n_steps: int) -> tuple:
        """`(steps per exchange, steps run)`: a whole number of windows (cut after)."""
        per_window = {"window": self.plan.window, "step": 1, "none": n_steps}[self.plan.mode]
        return per_window, -(-n_steps // per_window) * per_window

    def _series(self, inputs, n_steps: int) -> dict:
        """`{name: (n_run, k)}` time-major inputs, `n_run` a multiple of the window."""
        layout = dict(self.sim.spec.inputs)
        series = {**self.sim.inputs, **(inputs or {})}
        per_window, n_run = self._run_length(n_steps)
        xs = {}
        for name, values in series.items():
            if name not in layout:
                raise KeyError(f"{name!r} is not an input of this network ({sorted(layout)}).")
            values = np.asarray(values, dtype=self.dtype)
            if name != "i" and values.shape[1] < n_steps:
                raise ValueError(
                    f"The clamp of {name!r} has {values.shape[1]} time points but the "
                    f"simulation runs {n_steps} steps; make it at least that long."
                )
            values = fit_length(values, n_steps).astype(self.dtype)
            values = np.pad(values, ((0, 0), (0, n_run - n_steps)), mode="edge")
            xs[name] = values.T
            if self.plan.mode != "step":
                xs[name] = xs[name].reshape(n_run // per_window, per_window, -1)
        return xs

    # ------------------------------------------------------------------ public
    def run(self, *, t_max=None, n_steps=None, inputs=None, **unsupported):
        """Simulate and return the recordings, as `dendrax.integrate` / `Simulator.run`.

        Args:
            t_max: duration (ms): `int(t_max // delta_t) + 1` steps; or give `n_steps`.
            inputs: `{name: (k, T) values}` replacing the compiled stimuli or clamps.

        Returns:
            (n_recordings, n_steps + 1) array, recordings in the network's order, column 0
            the initial state; readable from every process.
        """
        if unsupported:
            raise NotImplementedError(
                f"SplitNetwork.run does not take {sorted(unsupported)}; it runs the network's "
                "own parameters (set them before compiling) from its initial states."
            )
        if n_steps is None:
            n_steps = self.sim.n_steps_for(t_max)
        n_steps = int(n_steps)
        program = self._program(n_steps)
        sharded = NamedSharding(self.mesh, P(self.axis))
        states = place(self._stacked("flat_states"), sharded)
        params = place(self._stacked("flat_params"), sharded)
        xs = place(self._series(inputs, n_steps), NamedSharding(self.mesh, P()))
        out = np.asarray(gather(program(states, params, xs), self.mesh))  # (n_dev, T, n_rec)
        return jnp.asarray(out[self.rec_device, :, self.rec_position])

    def _stacked(self, name: str) -> np.ndarray:
        arrays = [np.asarray(getattr(d, name), self.dtype) for d in self.devices]
        length = max(a.size for a in arrays)
        return np.stack([np.pad(a, (0, length - a.size)) for a in arrays])

    def exchanged_bytes(self) -> dict:
        """Bytes exchanged, in the run's float dtype.

        Returns:
            `{"mode", "window" (steps per exchange), "names" (exchanged states),
            "sent_per_exchange" (by one device), "received_per_exchange" (by one device:
            the `all_gather` result), "received_per_step" (by one device, averaged over a
            window), "full_state" (bytes of the unsplit network's states)}`.
        """
        itemsize = np.dtype(self.dtype).itemsize
        volume = self.plan.bytes_per_exchange(self.n_devices, itemsize)
        per_step = volume["received"] / self.plan.window if self.plan.window else 0.0
        states = jax.eval_shape(self.sim.init)[0]
        full = sum(int(np.prod(x.shape)) * itemsize for x in jax.tree.leaves(states))
        return {
            "mode": self.plan.mode,
            "window": self.plan.window,
            "names": self.plan.names,
            "sent_per_exchange": volume["sent"],
            "received_per_exchange": volume["received"],
            "received_per_step": per_step,
            "full_state": full,
        }

    def describe(self) -> str:
        """A table of the partition: per device its cells, compartments (own and ghost),
        synapses, cut synapses (presynaptic compartment on another device), sent values,
        and the exchange mode."""
        header = ("device", "cells", "comps", "ghosts", "synapses", "cut", "sends", "state")
        rows = [header]
        for dev in self.devices:
            m = dev.model
            rows.append(
                (
                    m.device,
                    m.n_cells,
                    m.n_own,
                    m.n_ghost,
                    m.edges.size,
                    m.n_cut,
                    m.send_rows.size,
                    dev.flat_states.size,
                )
            )
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
        lines = ["  ".join(str(v).rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        volume = self.exchanged_bytes()
        plan = self.plan
        padded = max(d.flat_states.size for d in self.devices)
        lines.append(
            f"partition: {self.partition.strategy} over mesh axis {self.axis!r} "
            f"({self.n_devices} devices); states padded to {padded} values per device"
        )
        lines.append(f"exchange: {plan.mode} ({plan.reason})")
        if plan.mode != "none":
            lines.append(
                f"  every {plan.window} step(s), all_gather of {list(plan.names)} of "
                f"{plan.n_send} compartment(s) per device: {volume['received_per_exchange']} B "
                f"received per device per exchange, {volume['received_per_step']:g} B per step "
                f"(full state: {volume['full_state']} B)"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"SplitNetwork(cells={self.partition.n_cells}, devices={self.n_devices}, "
            f"axis={self.axis!r}, exchange={self.plan.mode!r})"
        )
