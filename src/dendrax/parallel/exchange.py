"""What a split network exchanges between devices, and how often.

Only presynaptic values of *cut* synapses (postsynaptic cell on one device, presynaptic
compartment on another) cross devices. Each device sends the values of its compartments
that drive cut synapses elsewhere (each compartment once, however many synapses it
drives), padded to the longest send list, with one `all_gather` over the mesh axis; each
device then copies the values it needs into its ghost compartments.

What is sent: the voltage, and for Jaxley 1.0 ("scalar") synapses the presynaptic node
states they read (found by tracing their `update_states` and `compute_current`, e.g.
`Fire_spikes` for `SpikeSynapse`). Their values are those a synapse of the step reads: after
the channel update of the step, before the synapse update.

When: the three modes.

- "none": no synapse is cut; nothing is exchanged.
- "step": some cut synapse has no delay (or reads a presynaptic value the delay buffer does
  not hold): one exchange per step, between the channel update and the synapse update.
- "window": every cut synapse has a delay of at least `D` steps (`D` = the minimum over cut
  synapses, as NEURON's and Arbor's min-delay rule): devices run `window <= D` steps
  (default `D`) without exchanging, then exchange all `window` steps' values at once and
  write them into the ghosts' slots of the delay ring buffer. No synapse reads a value
  within `D` steps of its time, so every read finds the exchanged value.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.parallel.errors import PartitionError
from dendrax.parallel.local_model import edge_lags

__all__ = ["ExchangePlan", "exchange_plan", "presynaptic_reads", "MODES"]

MODES = ("none", "step", "window")


@dataclass(frozen=True)
class ExchangePlan:
    """How a split network exchanges presynaptic values (static).

    Attributes:
        mode: "none", "step" or "window" (see the module docstring).
        window: steps per exchange (1 in "step" mode, 0 in "none").
        names: the exchanged state names ("v" first).
        buffer_index: position of each name in the delay buffer's names ("window" mode).
        n_send: values of each name one device sends per step (padded to the longest).
        min_delay: minimum delay (steps) of the cut synapses, None without cut synapses.
        reason: why this mode, in words.
    """

    mode: str
    window: int
    names: tuple
    buffer_index: tuple
    n_send: int
    min_delay: int | None
    reason: str

    def bytes_per_exchange(self, n_devices: int, itemsize: int) -> dict:
        """`{"sent": ..., "received": ...}` bytes per device and exchange (`all_gather`)."""
        sent = self.window * len(self.names) * self.n_send * itemsize if self.mode != "none" else 0
        return {"sent": sent, "received": sent * n_devices}


def presynaptic_reads(group, structure) -> tuple:
    """Names of the presynaptic node states and currents a "scalar" synapse group reads.

    Traces the mechanism's `update_states` and `compute_current` for one synapse and keeps
    the `pre_states` entries that enter the computation.
    """
    names = tuple(structure.node_state_names) + tuple(structure.current_names)
    mech = group.mechanism
    zero = jnp.zeros(())

    def scalars(keys, value=zero):
        return {k: value for k in keys}

    syn_states = scalars(group.state_names)
    syn_params = scalars(group.param_names, jnp.ones(()))
    node_params = scalars(structure.node_param_names, jnp.ones(()))
    post_states = scalars(names)

    def both(pre_states):
        args = (syn_states, syn_params, zero, zero, pre_states, post_states)
        args = args + (node_params, node_params, 0.025)
        return mech.update_states(*args), mech.compute_current(*args)

    keys = sorted(names)  # a dict's leaves, in JAX's flattening order
    jaxpr = jax.make_jaxpr(both)({k: zero for k in keys}).jaxpr
    used = {id(v) for eqn in jaxpr.eqns for v in eqn.invars}
    used |= {id(v) for v in jaxpr.outvars}
    return tuple(k for k, var in zip(keys, jaxpr.invars, strict=True) if id(var) in used)


def _cut_edges(models) -> np.ndarray:
    """Global indices of the cut synapses."""
    parts = []
    for m in models:
        if m.n_cut:
            pre_local = np.zeros(m.structure.n_edges, np.int64)
            for g in m.structure.synapses:
                pre_local[g.rows] = g.pre
            parts.append(m.edges[pre_local >= m.n_own])
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def exchange_plan(sim, models, window=None) -> ExchangePlan:
    """The `ExchangePlan` of a network `sim` split into `models` (`local_models`).

    Args:
        window: steps per exchange with delays (int >= 1, at most the minimum delay of the
            cut synapses in steps), or None for that minimum.

    Raises:
        PartitionError: `window` is not a positive int, or larger than the minimum delay
            (in steps) of the cut synapses.
    """
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int | np.integer)
    ):
        raise PartitionError(f"window must be a positive int (steps) or None, got {window!r}")
    if window is not None and window < 1:
        raise PartitionError(f"window must be >= 1 step, got {window}")
    structure = sim.spec.structure
    plan = sim.spec.delay_plan
    cut = _cut_edges(models)
    n_send = max([m.send_rows.size for m in models] + [1])
    if cut.size == 0:
        return ExchangePlan("none", 0, (), (), 0, None, "no synapse crosses devices")
    names = ["v"]
    cut_mask = np.zeros(structure.n_edges, bool)
    cut_mask[cut] = True
    for group in structure.synapses:
        if group.convention == "scalar" and np.any(cut_mask[group.rows]):
            names += [n for n in presynaptic_reads(group, structure) if n not in names]
    names = tuple(names)
    min_delay = int(edge_lags(structure, plan)[cut].min())
    dt = sim.delta_t
    if window is not None and window > max(min_delay, 1):
        raise PartitionError(
            f"window={window} steps is larger than the minimum delay of the synapses that "
            f"cross devices, {min_delay} step(s) ({min_delay * dt:g} ms at delta_t={dt:g} ms): "
            "a synapse would read a presynaptic value before it is exchanged. Use "
            f"window <= {max(min_delay, 1)} (or None for the minimum delay)."
        )
    unbuffered = [n for n in names if plan is None or n not in plan.names]
    if min_delay == 0:
        return ExchangePlan("step", 1, names, (), n_send, 0, "a cut synapse has no delay")
    if unbuffered:
        reason = f"cut synapses read {unbuffered}, which the delay buffer does not hold"
        return ExchangePlan("step", 1, names, (), n_send, min_delay, reason)
    index = tuple(plan.names.index(n) for n in names)
    reason = f"every cut synapse has a delay >= {min_delay} steps"
    return ExchangePlan("window", window or min_delay, names, index, n_send, min_delay, reason)
