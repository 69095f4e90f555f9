"""What generated NMODL channels run on: the base class, numerical helpers, error classes.

The generated module gets exactly these objects (and `jax.numpy`) in its namespace; it
imports nothing itself (see `_verify.RUNTIME_NAMES`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dendrax.channels.channel import Channel

#: Default values of ion variables (NEURON's defaults; eca at 6.3 °C from cai/cao).
ION_DEFAULTS = {
    "ena": 50.0,
    "ek": -77.0,
    "eca": 132.4579341637009,
    "nai": 10.0,
    "nao": 140.0,
    "ki": 54.4,
    "ko": 2.5,
    "cai": 5e-5,
    "cao": 2.0,
}
#: Physical constants of UNITS factor definitions (NEURON 9, 2019 SI values).
FACTORS = {
    "faraday": 96485.33212331001,
    "k-mole": 8.31446261815324,
    "pi": 3.141592653589793,
    "R": 8.31446261815324,
    "k": 1.380649e-23,  # Boltzmann constant, J/K
    "e": 1.602176634e-19,  # elementary charge, C
}


class NmodlError(ValueError):
    """A `.mod` file that cannot be imported: the message names the file, block and line.

    Raised by `read_mod` for files that are not valid NMODL (syntax errors, undefined
    variables, calls with the wrong number of arguments, duplicate declarations, ...).
    """


class NmodlUnsupportedError(NmodlError, NotImplementedError):
    """Valid NMODL outside the subset dendrax imports (KINETIC, NET_RECEIVE, recursion, ...).

    A `NotImplementedError` (what earlier versions raised) and an :class:`NmodlError`.
    """


def _exprelr(x):  # NEURON's exprelr: x / (exp(x) - 1)
    small = jnp.abs(x) < 1e-5
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2.0, safe / (jnp.exp(safe) - 1.0))


def _select(cond, a, b, before):
    """Merge the environments of the two branches of an `if` (both are evaluated)."""
    out = {}
    for k in set(a) | set(b):
        x, y = a.get(k, before.get(k, 0.0)), b.get(k, before.get(k, 0.0))
        out[k] = x if x is y else jnp.where(cond, x, y)
    return out


def _integrate(method, rhs, x, dt):
    """One step of x' = rhs(x), rhs affine in x: cnexp (exact), derivimplicit, euler."""
    if method == "none":
        return x
    f, b = jax.jvp(rhs, (x,), (jnp.ones_like(x),))
    if method == "euler":
        return x + dt * f
    if method == "derivimplicit":
        return x + dt * f / (1.0 - dt * b)
    tiny = jnp.abs(b) * dt < 1e-12
    safe = jnp.where(tiny, -1.0, b)
    return jnp.where(tiny, x + dt * f, x + jnp.expm1(safe * dt) * f / safe)


class _ModChannel(Channel):
    """Base of generated classes: names `<name>_<x>` for PARAMETER/STATE, shared ion vars."""

    call_convention = "array"
    _SUFFIX, _PARAMS, _SHARED, _STATES, _ASSIGNED, _CURRENT = "", {}, {}, {}, [], None

    def __init__(self, name=None):
        super().__init__(self._SUFFIX if name is None else name)
        p = self._name
        self.channel_params = {f"{p}_{k}": v for k, v in self._PARAMS.items()}
        self.channel_params.update(self._SHARED)
        self.channel_states = {f"{p}_{k}": v for k, v in self._STATES.items()}
        self.current_name = self._CURRENT

    def _env(self, states, v, params):
        p = self._name
        env = {k: params[f"{p}_{k}"] for k in self._PARAMS}
        env.update({k: params[k] for k in self._SHARED})
        env.update({k: states[f"{p}_{k}"] for k in self._STATES})
        env.update({k: 0.0 for k in self._ASSIGNED})
        env["v"] = v
        return env

    def _current(self, total, v):
        """The summed current density (mA/cm²) as an array of the shape of `v`."""
        return jnp.broadcast_to(total, jnp.shape(v))

    def _states(self, env):
        shape = jnp.shape(env["v"])
        return {f"{self._name}_{k}": jnp.broadcast_to(env[k], shape) for k in self._STATES}


#: The namespace a generated module runs in: these objects, and no builtins but these.
def namespace(module_name: str) -> dict:
    """A fresh globals dict for `exec` of generated source (see `_verify.RUNTIME_NAMES`)."""
    import builtins

    return {
        "__name__": module_name,
        "__builtins__": {
            "__build_class__": builtins.__build_class__,
            "dict": dict,
            "frozenset": frozenset,
        },
        "jnp": jnp,
        "_ModChannel": _ModChannel,
        "_exprelr": _exprelr,
        "_integrate": _integrate,
        "_select": _select,
    }
