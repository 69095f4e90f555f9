"""``dendrax.nn``: small functional network layers with Rockpool's JAX module API.

Modules are JAX pytrees (``jit``/``grad`` work on whole networks) and are immutable:
``set_attributes`` and ``reset_state`` return new modules. Calling a module returns
``(output, new_state, record)``; ``(T, N)`` inputs are treated as ``(1, T, N)``.

Example::

    net = Sequential(Linear((2, 8)), Instant(8, jnp.tanh), Linear((8, 3)))
    out, state, rec = net(x)            # x: (T, 2) -> out: (1, T, 3)
"""

from dendrax.nn.combinators import JaxSequential, Sequential
from dendrax.nn.modules import (
    LIF,
    ExpSyn,
    ExpSynJax,
    Instant,
    InstantJax,
    JaxModule,
    LIFJax,
    Linear,
    LinearJax,
    Module,
    Rate,
    RateJax,
    step_pwl,
)

__all__ = [
    "Module",
    "JaxModule",
    "Sequential",
    "JaxSequential",
    "Linear",
    "LinearJax",
    "Instant",
    "InstantJax",
    "Rate",
    "RateJax",
    "LIF",
    "LIFJax",
    "ExpSyn",
    "ExpSynJax",
    "step_pwl",
]
