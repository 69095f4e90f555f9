"""Leaky integrate-and-fire neurons with a surrogate gradient, Rockpool's ``LIFJax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from dendrax.nn.modules.base import Module, batch_state, default_rng_key, scan_time
from dendrax.nn.modules.linear import kaiming

__all__ = ["LIF", "LIFJax", "step_pwl"]


@jax.custom_jvp
def step_pwl(
    v: jax.Array, threshold: jax.Array, window: float = 0.5, max_spikes_per_dt: float = 2.0**16
) -> jax.Array:
    """Number of spikes emitted in one step: ``clip(floor(v / threshold), 0, max)`` if v >= θ.

    The surrogate derivative (custom JVP) is piecewise linear::

        d spikes = [v >= threshold - window] * (dv / threshold - dthreshold * v / threshold**2)
    """
    spikes = jnp.where(v >= threshold, jnp.floor(v / threshold), 0.0)
    return jnp.clip(spikes, 0.0, max_spikes_per_dt)


@step_pwl.defjvp
def _step_pwl_jvp(primals, tangents):
    v, threshold, window, max_spikes = primals
    dv, dthreshold, _, _ = tangents
    out = step_pwl(v, threshold, window, max_spikes)
    gate = (v >= threshold - window).astype(v.dtype)
    return out, gate * (dv / threshold - dthreshold * v / threshold**2)


class LIF(Module):
    """Current-based LIF neurons with exponential synapses and subtractive reset.

    Per time step ``dt`` (``S`` are spike counts)::

        isyn += S_in + S_prev @ w_rec            (reshaped to (N_out, N_syn))
        vmem *= exp(-dt / tau_mem);  isyn *= exp(-dt / tau_syn)
        vmem += sum_syn(isyn) + bias + noise_std * N(0, 1)
        S     = step_pwl(vmem, threshold)        (multiple spikes per step allowed)
        vmem -= S * threshold

    Args:
        shape: ``(N,)`` (one synapse per neuron) or ``(N_in, N_out)`` with
            ``N_in = N_out * N_syn`` (input channel ``j`` feeds neuron ``j // N_syn``).
        tau_mem: membrane time constants (s), ``(N_out,)``; default 20 ms.
        tau_syn: synaptic time constants (s), ``(N_out, N_syn)``; default 20 ms.
        bias: ``(N_out,)`` constant input per step; threshold: ``(N_out,)`` firing threshold.
        w_rec: ``(N_out, N_in)`` recurrent weights; implies ``has_rec=True``.
        noise_std: membrane noise per step; max_spikes_per_dt: spike-count clip; dt: step (s).
        rng_key: JAX key or int seed (None: drawn from ``np.random``).

    State: ``spikes``, ``isyn``, ``vmem``, ``rng_key``. The record dict always holds ``irec``,
    ``spikes``, ``isyn`` and ``vmem`` as in Rockpool.
    """

    def __init__(
        self,
        shape: Any,
        tau_mem: Any = 20e-3,
        tau_syn: Any = 20e-3,
        bias: Any = 0.0,
        w_rec: Any = None,
        has_rec: bool = False,
        weight_init_func: Callable = kaiming,
        threshold: Any = 1.0,
        noise_std: float = 0.0,
        max_spikes_per_dt: float = 2.0**16,
        dt: float = 1e-3,
        rng_key: Any = None,
        spiking_input: bool = False,
        spiking_output: bool = True,
    ):
        super().__init__(shape, spiking_input=spiking_input, spiking_output=spiking_output)
        n_in, n_out = self.size_in, self.size_out
        if n_in % n_out:
            raise ValueError(
                f"LIF shape (N_in, N_out)={self.shape}: N_in must be a multiple of N_out"
            )
        n_syn = n_in // n_out
        key, rng = default_rng_key(rng_key)
        self._register("parameter", "tau_mem", tau_mem, family="taus", shape=(n_out,))
        self._register("parameter", "tau_syn", tau_syn, family="taus", shape=(n_out, n_syn))
        self._register("parameter", "bias", bias, family="biases", shape=(n_out,))
        self._register("parameter", "threshold", threshold, family="thresholds", shape=(n_out,))
        has_rec = bool(has_rec or w_rec is not None)
        if has_rec:
            if w_rec is None:
                w_rec = weight_init_func(rng, (n_out, n_in))
            self._register("parameter", "w_rec", w_rec, family="weights", shape=(n_out, n_in))
        self._register("simulation", "dt", dt, shape=())
        self._register("simulation", "noise_std", noise_std, shape=())
        self._register("simulation", "max_spikes_per_dt", max_spikes_per_dt, shape=())
        self._register("state", "spikes", 0.0, shape=(n_out,))
        self._register("state", "isyn", 0.0, shape=(n_out, n_syn))
        self._register("state", "vmem", 0.0, shape=(n_out,))
        self._register("state", "rng_key", key, dtype=jnp.uint32)
        self._set_static(has_rec=has_rec, n_syn=n_syn)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        batch, t_steps, _ = x.shape
        n_out, n_syn = self.size_out, self._static["n_syn"]
        has_rec = self._static["has_rec"]
        key, sub = jax.random.split(self.rng_key)
        noise = self.noise_std * jax.random.normal(sub, (batch, t_steps, n_out), x.dtype)
        alpha = jnp.exp(-self.dt / self.tau_syn)
        beta = jnp.exp(-self.dt / self.tau_mem)
        x_syn = x.reshape(batch, t_steps, n_out, n_syn)

        def step(carry, inp):
            spikes, isyn, vmem = carry
            s_in, noise_t = inp
            if has_rec:
                irec = (spikes @ self.w_rec).reshape(batch, n_out, n_syn)
            else:
                irec = jnp.zeros_like(isyn)
            isyn = (isyn + s_in + irec) * alpha
            vmem = vmem * beta + isyn.sum(-1) + self.bias + noise_t
            spikes = step_pwl(vmem, self.threshold, 0.5, self.max_spikes_per_dt)
            vmem = vmem - spikes * self.threshold
            return (spikes, isyn, vmem), (irec, spikes, isyn, vmem)

        carry0 = tuple(batch_state(s, batch) for s in (self.spikes, self.isyn, self.vmem))
        (spikes, isyn, vmem), (irec, s_t, isyn_t, v_t) = scan_time(step, carry0, (x_syn, noise))
        new_state = {"spikes": spikes[0], "isyn": isyn[0], "vmem": vmem[0], "rng_key": key}
        rec = {"irec": irec, "spikes": s_t, "isyn": isyn_t, "vmem": v_t}
        return s_t, new_state, rec


class LIFJax(LIF):
    """Rockpool name for :class:`LIF` (identical; keeps Rockpool's submodule names)."""
