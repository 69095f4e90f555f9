"""Build the standard model of a registered mechanism (see `dendrax.mechanisms_registry`).

`build(entry)` returns a `Standard`: the module, the name of the trainable parameter, its
initial value and `loss(params)`, the time-mean of the observed trace (a scalar). Only
the public builder API and `dendrax.integrate` are used, so these models keep working
whatever the simulator does inside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp

import dendrax as jx
from dendrax.mechanisms_registry import MECHANISMS, RegisteredMechanism


@dataclasses.dataclass
class Standard:
    """A built standard model.

    Attributes:
        module: the Cell or Network, with recordings (row 0: v at the stimulus site, mV;
            last row: `observe` at the observation site; one row if both are the same,
            as identical recordings are merged) and one trainable.
        param: name of the trainable parameter (formatted with the instance name).
        value: its initial value, shape (1,).
        loss: `loss(params) -> scalar`, the time-mean of the last recorded trace.
        run: `run(params) -> (n_recordings, n_steps + 1)` array of traces.
    """

    module: object
    param: str
    value: jnp.ndarray
    loss: Callable
    run: Callable

    def params_with(self, value) -> list[dict]:
        """`get_parameters()`-shaped params with the trainable set to `value` (shape (1,))."""
        return [{self.param: jnp.reshape(jnp.asarray(value), (1,))}]


def _cell(model) -> jx.Cell:
    branch = jx.Branch(jx.Compartment(), ncomp=model.ncomp)
    return jx.Cell(branch, parents=[-1] + [0] * (model.nbranches - 1))


def _insert_all(module, names, mechanism) -> None:
    for other in names:
        module.insert(MECHANISMS.get(other).cls())
    if mechanism is not None:
        module.insert(mechanism)


def build(entry: RegisteredMechanism) -> Standard:
    """The standard model of `entry`, with its stimulus, recordings and trainable."""
    model = entry.model
    mechanism = entry.cls()
    fill = {"name": mechanism.name}
    if entry.kind == "synapse":
        cell = _cell(model)
        module = jx.Network([cell, cell])
        _insert_all(module, model.with_mechanisms, None)
        last = model.nbranches - 1
        jx.connect(
            module.cell(0).branch(0).comp(0),
            module.cell(1).branch(last).comp(model.ncomp - 1),
            mechanism,
        )
        stim_site = module.cell(0).branch(0).comp(0)
        obs_site = module.cell(1).branch(last).comp(model.ncomp - 1)
    else:
        module = _cell(model)
        _insert_all(module, model.with_mechanisms, mechanism)
        stim_site = module.branch(0).comp(0)
        obs_site = module.branch(model.nbranches - 1).comp(model.ncomp - 1)
    for key, value in model.settings:
        module.set(key.format(**fill), value)
    module.init_states()
    amplitude, delay, duration = model.stimulus
    current = jx.step_current(delay, duration, amplitude, model.delta_t, model.t_max)
    stim_site.stimulate(current, verbose=False)
    stim_site.record("v", verbose=False)
    obs_site.record(model.observe, verbose=False)
    param = model.param.format(**fill)
    own = {}
    if entry.kind == "synapse":
        own = {**mechanism.synapse_params, **mechanism.synapse_states}
    if param in own:  # one value shared by all synapses of the type
        getattr(module, mechanism.name).make_trainable(param, verbose=False)
    else:
        module.make_trainable(param, verbose=False)
    value = jnp.asarray(module.get_parameters()[0][param])

    def run(params):
        return jx.integrate(module, params=params, t_max=model.t_max, delta_t=model.delta_t)

    def loss(params):
        return jnp.mean(run(params)[-1])

    return Standard(module, param, value, loss, run)
