"""Module combinators: :class:`Sequential` (Rockpool's ``Sequential`` / ``JaxSequential``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from dendrax.nn.modules.base import Module

__all__ = ["Sequential", "JaxSequential"]


class Sequential(Module):
    """Chain of modules; the output of each is the input of the next.

    ``Sequential(m0, m1, ...)`` names submodules ``"{i}_{ClassName}"`` (e.g. ``"0_Linear"``,
    or ``"0_LinearJax"`` for the Rockpool-named classes); ``Sequential({"name": m, ...})``
    keeps the given names. Submodules are reachable as ``net[0]``, ``net["0_Linear"]`` or
    attributes (``net.0_Linear`` is not valid Python, hence indexing).

    Shapes are checked end to end: ``m_i.size_out == m_{i+1}.size_in``.

    Calling returns ``(output, new_state, record)``: ``new_state`` is ``{name: state}`` for each
    submodule with state; with ``record=True`` the record dict holds each submodule's record under
    its name plus its output under ``"{name}_output"``.

    Raises:
        TypeError: if an element is not a ``dendrax.nn`` module.
        ValueError: for empty chains or mismatched shapes.
    """

    def __init__(self, *modules: Any):
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            named = list(modules[0].items())
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(
                        f"Sequential element {i} is a {type(m).__name__}, not a dendrax.nn Module"
                    )
            named = [(f"{i}_{type(m).__name__}", m) for i, m in enumerate(modules)]
        if not named:
            raise ValueError("Sequential needs at least one module")
        for name, m in named:
            if not isinstance(name, str):
                raise TypeError(f"submodule names must be strings, got {name!r}")
            if not isinstance(m, Module):
                raise TypeError(f"submodule {name!r} is a {type(m).__name__}, not a Module")
        _check_chain(named)
        super().__init__((named[0][1].size_in, named[-1][1].size_out))
        for name, m in named:
            self._add_module(name, m)

    def __getitem__(self, item: int | str) -> Module:
        names = list(self._modules)
        if isinstance(item, int):
            try:
                return self._modules[names[item]]
            except IndexError:
                raise IndexError(
                    f"Sequential has {len(names)} modules; index {item} is out of range"
                ) from None
        if isinstance(item, str):
            if item not in self._modules:
                raise KeyError(f"no submodule named {item!r}; names: {names}")
            return self._modules[item]
        raise TypeError(f"index Sequential with an int or a name, not {type(item).__name__}")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module, name: str | None = None) -> Sequential:
        """Return a new Sequential with ``module`` appended (named ``"{i}_{ClassName}"``)."""
        if not isinstance(module, Module):
            raise TypeError(f"can only append a dendrax.nn Module, got {type(module).__name__}")
        named = dict(self._modules)
        if name is None:
            name = f"{len(named)}_{type(module).__name__}"
        if name in named:
            raise ValueError(f"a submodule named {name!r} already exists")
        named[name] = module
        return type(self)(named)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        states: dict[str, Any] = {}
        records: dict[str, Any] = {}
        for name, mod in self._modules.items():
            x, state, rec = mod._evolve(mod._auto_batch(x), record)
            if state:
                states[name] = state
            if record:
                records[name] = rec
                records[f"{name}_output"] = x
        return x, states, records


def _check_chain(named: list[tuple[str, Module]]) -> None:
    for (n_a, a), (n_b, b) in zip(named[:-1], named[1:], strict=True):
        if a.size_out != b.size_in:
            raise ValueError(
                f"shape mismatch in Sequential: {n_a!r} {a.class_name} has shape {a.shape} "
                f"(output size {a.size_out}) but {n_b!r} {b.class_name} has shape {b.shape} "
                f"(input size {b.size_in})"
            )


class JaxSequential(Sequential):
    """Rockpool's class name for a :class:`Sequential` of JAX modules (identical)."""
