"""The classes and functions a saved module file may name.

A class is registered when it is a module class (``Compartment``, ``Branch``, ``Cell``,
``Network``) or a channel, pump or synapse exported by ``dendrax.channels``,
``dendrax.pumps`` or ``dendrax.synapses`` (their ``__all__``). Files refer to classes by
their ``__name__``; user classes are rebuilt only from a mapping the caller passes.

Some mechanisms hold a function (the ``nonlinearity`` of Jaxley 1.0 synapses, e.g.
``jax.nn.sigmoid``). The activation functions of ``jax.nn`` and a few elementwise
``jax.numpy`` functions are registered under their dotted names; other functions are
rebuilt only from a ``functions=`` mapping.
"""

from __future__ import annotations

import functools

from dendrax import channels, pumps, synapses
from dendrax.channels.channel import Channel
from dendrax.pumps.pump import Pump
from dendrax.synapses.synapse import Synapse

__all__ = ["registered_classes", "is_registered", "registered_functions", "function_name"]

_JNP_FUNCTIONS = (
    "abs", "arctan", "cos", "exp", "expm1", "log", "log1p", "negative", "sign", "sin",
    "sqrt", "square", "tanh",
)  # fmt: skip


@functools.cache
def registered_classes() -> dict[str, type]:
    """``{class name: class}`` of every registered module and mechanism class."""
    from dendrax.modules import Branch, Cell, Compartment, Network

    out: dict[str, type] = {c.__name__: c for c in (Compartment, Branch, Cell, Network)}
    bases = (Channel, Synapse, Pump)
    for package in (channels, pumps, synapses):
        for export in package.__all__:
            obj = getattr(package, export)
            if isinstance(obj, type) and issubclass(obj, bases[:2]) and obj not in bases:
                if out.setdefault(obj.__name__, obj) is not obj:
                    raise RuntimeError(  # a dendrax bug: two exported classes share a name
                        f"two registered classes are called {obj.__name__!r}"
                    )
    return out


def is_registered(cls: type) -> bool:
    """Whether ``cls`` itself (not a subclass or namesake) is registered."""
    return registered_classes().get(cls.__name__) is cls


@functools.cache
def registered_functions() -> dict[str, object]:
    """``{dotted name: function}``: the callables of ``jax.nn`` and some of ``jax.numpy``."""
    import jax
    import jax.numpy as jnp

    out: dict[str, object] = {}
    for name in sorted(dir(jax.nn)):
        fn = getattr(jax.nn, name)
        if not name.startswith("_") and callable(fn) and not isinstance(fn, type):
            out[f"jax.nn.{name}"] = fn
    for name in _JNP_FUNCTIONS:
        out[f"jax.numpy.{name}"] = getattr(jnp, name)
    return out


def function_name(fn: object) -> str | None:
    """The registered name of ``fn`` (compared by identity), or ``None``."""
    for name, registered in registered_functions().items():
        if registered is fn:
            return name
    return None
