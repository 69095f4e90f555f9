"""The small model the parallel tests sweep and train (imported in their subprocesses too).

A two-branch HH cell with two compartments per branch, a step current into branch 0 and the
voltage recorded there; 5 ms of 0.025 ms steps (201 time points). The batches vary the
trainable Na and K conductances (S/cm²) or the stimulus amplitude (nA).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as dx
from dendrax.channels import HH

T_MAX = 5.0  # ms
DT = 0.025  # ms


def small_cell():
    comp = dx.Compartment()
    branch = dx.Branch(comp, ncomp=2)
    cell = dx.Cell(branch, parents=[-1, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(0).comp(0).stimulate(dx.step_current(0.5, 2.0, 0.3, DT, T_MAX), verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    cell.make_trainable("HH_gK", verbose=False)
    return cell


def simulator():
    """`(sim, params)`: the compiled cell and its trainable values."""
    cell = small_cell()
    return dx.compile(cell, delta_t=DT), cell.get_parameters()


def param_batch(n: int):
    """`n` parameter sets (leading batch axis), gNa 0.08..0.16 and gK 0.02..0.05 S/cm²."""
    g_na = np.linspace(0.08, 0.16, n)[:, None]
    g_k = np.linspace(0.05, 0.02, n)[:, None]
    return [{"HH_gNa": g_na}, {"HH_gK": g_k}]


def stimulus_batch(sim, n: int):
    """`{"i": (n, k, T)}`: the compiled stimulus scaled by 0.2..1.5."""
    base = np.asarray(sim.inputs["i"])
    return {"i": np.linspace(0.2, 1.5, n)[:, None, None] * base[None]}


def element(batch, i: int):
    return jax.tree.map(lambda x: x[i], batch)


def reference_runs(sim, params_batch, n: int):
    """(n, 1, 201) recordings, one `sim.run` per parameter set (no sweep)."""
    return np.stack([np.asarray(sim.run(element(params_batch, i), t_max=T_MAX)) for i in range(n)])


def fit_problem(sim, n_samples: int = 8):
    """`(loss_fn, params, batches)` for 3 steps of fit: match final voltages of scaled
    stimuli (the batch is the stimulus scale and the target, mV)."""
    base = jnp.asarray(sim.inputs["i"])

    def loss_fn(params, scales, targets):
        def one(scale):
            return sim.run(params, inputs={"i": scale * base}, t_max=2.0)[0, -1]

        v = jax.vmap(one)(scales)
        return jnp.mean((v - targets) ** 2)

    rng = np.random.default_rng(3)
    batches = [
        (rng.uniform(0.3, 1.5, n_samples), rng.uniform(-70.0, 20.0, n_samples)) for _ in range(3)
    ]
    return loss_fn, batches
