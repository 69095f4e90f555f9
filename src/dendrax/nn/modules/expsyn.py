"""Exponential synapses (leaky current integrators), Rockpool's ``ExpSynJax``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from dendrax.nn.modules.base import Module, batch_state, default_rng_key, scan_time

__all__ = ["ExpSyn", "ExpSynJax"]


class ExpSyn(Module):
    """Bank of exponential synapses: each input event adds 1 to a current that decays with tau.

    Per time step ``dt``: ``isyn <- isyn * exp(-dt / tau) + x_t + noise_std * N(0, 1)``;
    the output is ``isyn``. A single input event at step 0 therefore gives
    ``isyn[k] = exp(-k * dt / tau)``.

    Args:
        shape: ``(N,)`` synapses.
        tau: time constants (s), scalar or ``(N,)``; default 10 ms (family ``"taus"``).
        noise_std: additive noise per step; dt: time step (s).
        rng_key: JAX key or int seed (None: drawn from ``np.random``).

    State: ``isyn`` ``(N,)`` and ``rng_key``. Record: ``isyn`` ``(batch, T, N)``.
    """

    def __init__(
        self,
        shape: Any,
        tau: Any = 10e-3,
        noise_std: float = 0.0,
        dt: float = 1e-3,
        rng_key: Any = None,
        spiking_input: bool = True,
        spiking_output: bool = False,
    ):
        super().__init__(shape, spiking_input=spiking_input, spiking_output=spiking_output)
        if len(self.shape) == 2 and self.shape[0] != self.shape[1]:
            raise ValueError(f"ExpSyn needs N_in == N_out, got shape {self.shape}")
        n = self.size_out
        self._register("parameter", "tau", tau, family="taus", shape=(n,))
        self._register("simulation", "dt", dt, shape=())
        self._register("simulation", "noise_std", noise_std, shape=())
        self._register("state", "isyn", 0.0, shape=(n,))
        self._register("state", "rng_key", default_rng_key(rng_key)[0], dtype=jnp.uint32)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        key, sub = jax.random.split(self.rng_key)
        noise = self.noise_std * jax.random.normal(sub, x.shape, x.dtype)
        decay = jnp.exp(-self.dt / self.tau)

        def step(isyn, inp):
            x_t, n_t = inp
            isyn = isyn * decay + x_t + n_t
            return isyn, isyn

        final, out = scan_time(step, batch_state(self.isyn, x.shape[0]), (x, noise))
        rec = {"isyn": out} if record else {}
        return out, {"isyn": final[0], "rng_key": key}, rec


class ExpSynJax(ExpSyn):
    """Rockpool name for :class:`ExpSyn` (identical; keeps Rockpool's submodule names)."""
