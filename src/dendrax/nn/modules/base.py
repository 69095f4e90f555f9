"""Base class for functional, pytree-registered network modules (Rockpool ``JaxModule`` API).

A :class:`Module` holds three kinds of registered arrays, plus submodules:

* **parameters** (trainable, each tagged with a family: ``"weights"``, ``"taus"``, ``"biases"``,
  ``"thresholds"``),
* **state** (evolves during simulation, reset by :meth:`Module.reset_state`),
* **simulation parameters** (fixed during training, e.g. ``dt``).

Modules are immutable pytrees: arrays are leaves, everything else (shape, name, activation
functions) is static. ``jax.jit``/``jax.grad`` therefore work on whole modules, and every "setter"
(:meth:`Module.set_attributes`, :meth:`Module.reset_state`) returns a new module.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Module", "JaxModule", "as_shape", "default_rng_key"]

_KINDS = ("parameter", "state", "simulation", "init")


def as_shape(shape: Any) -> tuple[int, ...]:
    """Normalise ``int`` or sequence of ints to a tuple of positive ints (``TypeError`` if not)."""
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if not shape or any(s <= 0 for s in shape):
        raise ValueError(f"shape must be non-empty with positive sizes, got {shape}")
    return shape


def default_rng_key(rng_key: Any) -> tuple[jax.Array, np.random.Generator]:
    """Return ``(key, rng)``: a raw ``uint32[2]`` JAX key and a numpy Generator derived from it.

    ``rng_key`` may be a JAX key, an int seed, or None (a seed is drawn from ``np.random``, so
    ``np.random.seed`` makes initialisation reproducible, as in Rockpool). Initial values are drawn
    with numpy, which avoids compiling a JAX random kernel for every new layer shape.
    """
    if rng_key is None:
        rng_key = int(np.random.randint(0, 2**31 - 1))
    if isinstance(rng_key, int | np.integer):
        # identical to jax.random.PRNGKey(seed) for 0 <= seed < 2**32, without a compilation
        key = np.array([0, int(rng_key) & 0xFFFFFFFF], dtype=np.uint32)
    else:
        key = np.asarray(
            jax.random.key_data(rng_key)
            if jnp.issubdtype(jnp.asarray(rng_key).dtype, jax.dtypes.prng_key)
            else rng_key,
            dtype=np.uint32,
        )
    return jnp.asarray(key), np.random.default_rng(key.tolist())


def _float_dtype() -> Any:
    return jnp.asarray(0.0).dtype


class Module:
    """Base class of all ``dendrax.nn`` modules (Rockpool's ``JaxModule``).

    Subclasses call :meth:`_register` in ``__init__`` and implement
    ``_evolve(x, record) -> (output, new_state, record_dict)`` on batched input ``x`` of shape
    ``(batch, T, size_in)``.

    Args:
        shape: ``(N,)`` for a layer of N units or ``(N_in, N_out)`` for a mapping.
        spiking_input, spiking_output: flags describing the signals (informational).
    """

    def __init__(self, shape: Any, spiking_input: bool = False, spiking_output: bool = False):
        object.__setattr__(self, "_shape", as_shape(shape))
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_meta", {})  # name -> (kind, family)
        object.__setattr__(self, "_modules", {})
        object.__setattr__(
            self, "_static", {"spiking_input": spiking_input, "spiking_output": spiking_output}
        )
        object.__setattr__(self, "_name", None)

    # ------------------------------------------------------------------ registration
    def _register(
        self,
        kind: str,
        name: str,
        value: Any,
        family: str | None = None,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown attribute kind {kind!r}")
        arr = jnp.asarray(value, dtype=dtype if dtype is not None else _float_dtype())
        if shape is not None:
            try:
                arr = jnp.broadcast_to(arr, shape)
            except ValueError:
                raise ValueError(
                    f"{type(self).__name__}: {name} has shape {arr.shape}, expected {shape} "
                    "(or a scalar)"
                ) from None
        self._values[name] = arr
        self._meta[name] = (kind, family)
        if kind == "state":
            self._values["_init_" + name] = arr
            self._meta["_init_" + name] = ("init", None)

    def _set_static(self, **kwargs: Any) -> None:
        self._static.update(kwargs)

    def _add_module(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"submodule {name!r} must be a dendrax.nn Module, got {type(module)}")
        module = module._copy()
        object.__setattr__(module, "_name", name)
        self._modules[name] = module

    # ------------------------------------------------------------------ pytree protocol
    def _tree_flatten(self):
        names = tuple(self._values)
        mod_names = tuple(self._modules)
        children = (tuple(self._values[n] for n in names), tuple(self._modules.values()))
        aux = (
            names,
            tuple(self._meta[n] for n in names),
            mod_names,
            self._shape,
            self._name,
            tuple(self._static.items()),
        )
        return children, aux

    @classmethod
    def _tree_unflatten(cls, aux, children):
        names, metas, mod_names, shape, name, static = aux
        obj = object.__new__(cls)
        object.__setattr__(obj, "_shape", shape)
        object.__setattr__(obj, "_values", dict(zip(names, children[0], strict=True)))
        object.__setattr__(obj, "_meta", dict(zip(names, metas, strict=True)))
        object.__setattr__(obj, "_modules", dict(zip(mod_names, children[1], strict=True)))
        object.__setattr__(obj, "_static", dict(static))
        object.__setattr__(obj, "_name", name)
        return obj

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_node(cls, cls._tree_flatten, cls._tree_unflatten)

    def _copy(self) -> Module:
        children, aux = self._tree_flatten()
        return type(self)._tree_unflatten(aux, children)

    # ------------------------------------------------------------------ attribute access
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if name in d.get("_values", {}) and d["_meta"][name][0] != "init":
            return d["_values"][name]
        if name in d.get("_modules", {}):
            return d["_modules"][name]
        if name in d.get("_static", {}):
            return d["_static"][name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"dendrax.nn modules are immutable; use `module = module.set_attributes({{{name!r}: "
            "value}})` instead of attribute assignment"
        )

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        """Module shape: ``(N,)`` or ``(N_in, N_out)``."""
        return self._shape

    @property
    def size_in(self) -> int:
        """Number of input channels (``shape[0]``)."""
        return self._shape[0]

    @property
    def size_out(self) -> int:
        """Number of output channels (``shape[-1]``)."""
        return self._shape[-1]

    @property
    def size(self) -> int:
        return self._shape[-1]

    @property
    def name(self) -> str | None:
        """Name given by the parent module (``None`` for a top-level module)."""
        return self._name

    @property
    def class_name(self) -> str:
        return type(self).__name__

    @property
    def full_name(self) -> str:
        return f"{self.class_name} '{self._name}'" if self._name else self.class_name

    # ------------------------------------------------------------------ attribute trees
    def _collect(self, kind: str, family: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for n, (k, fam) in self._meta.items():
            if k == kind and (family is None or fam == family):
                out[n] = self._values[n]
        for n, m in self._modules.items():
            sub = m._collect(kind, family)
            if sub:
                out[n] = sub
        return out

    def parameters(self, family: str | None = None) -> dict[str, Any]:
        """Nested dict of trainable parameters (optionally one ``family``), incl. submodules."""
        return self._collect("parameter", family)

    def state(self, family: str | None = None) -> dict[str, Any]:
        """Nested dict of the current state arrays, incl. submodules."""
        return self._collect("state", family)

    def simulation_parameters(self, family: str | None = None) -> dict[str, Any]:
        """Nested dict of non-trainable simulation parameters (``dt``, noise level, ...)."""
        return self._collect("simulation", family)

    def modules(self) -> dict[str, Module]:
        """Ordered dict of direct submodules."""
        return dict(self._modules)

    def attributes_named(self, name: str) -> dict[str, Any]:
        """Nested dict of every registered attribute called ``name``, in this module and below."""
        out: dict[str, Any] = {}
        if name in self._meta and self._meta[name][0] != "init":
            out[name] = self._values[name]
        for n, m in self._modules.items():
            sub = m.attributes_named(name)
            if sub:
                out[n] = sub
        return out

    def set_attributes(self, tree: Mapping[str, Any]) -> Module:
        """Return a copy with registered attributes replaced by the entries of ``tree``.

        ``tree`` is a (possibly partial) nested dict as returned by :meth:`parameters`,
        :meth:`state` or :meth:`simulation_parameters`. Each new value must have the shape of the
        attribute it replaces (or broadcast to it).

        Raises:
            TypeError: if ``tree`` (or a submodule entry) is not a mapping.
            ValueError: for unknown names or incompatible shapes.
        """
        if not isinstance(tree, Mapping):
            raise TypeError(f"set_attributes expects a dict, got {type(tree).__name__}")
        new = self._copy()
        for key, value in tree.items():
            if key in new._modules:
                new._modules[key] = new._modules[key].set_attributes(value)
            elif key in new._meta and new._meta[key][0] != "init":
                old = new._values[key]
                value = jnp.asarray(value, dtype=old.dtype)
                try:
                    value = jnp.broadcast_to(value, old.shape)
                except ValueError:
                    raise ValueError(
                        f"{self.full_name}: cannot set {key!r} of shape {old.shape} to a value of "
                        f"shape {value.shape}"
                    ) from None
                new._values[key] = value
            else:
                valid = [n for n, (k, _) in new._meta.items() if k != "init"] + list(new._modules)
                raise ValueError(
                    f"{self.full_name} has no attribute or submodule {key!r}; valid keys: {valid}"
                )
        return new

    def reset_state(self) -> Module:
        """Return a copy whose state (and all submodules' state) is back at its initial value."""
        new = self._copy()
        for n, (kind, _) in new._meta.items():
            if kind == "state":
                new._values[n] = new._values["_init_" + n]
        for n, m in new._modules.items():
            new._modules[n] = m.reset_state()
        return new

    # ------------------------------------------------------------------ evolution
    def _auto_batch(self, x: Any) -> jax.Array:
        """Cast input to the default float dtype and reshape to ``(batch, T, size_in)``.

        ``(T, N)`` becomes ``(1, T, N)``; a channel dimension of size 1 is broadcast to
        ``size_in``; ``(T,)`` is accepted for single-channel modules.
        """
        x = jnp.asarray(x, dtype=_float_dtype())
        if x.ndim == 1 and self.size_in == 1:
            x = x[None, :, None]
        elif x.ndim == 2:
            x = x[None]
        if x.ndim != 3:
            raise ValueError(
                f"{self.full_name} expects input of shape (T, {self.size_in}) or "
                f"(batch, T, {self.size_in}); got shape {x.shape}"
            )
        if x.shape[-1] == 1 and self.size_in != 1:
            x = jnp.broadcast_to(x, x.shape[:-1] + (self.size_in,))
        if x.shape[-1] != self.size_in:
            raise ValueError(
                f"{self.full_name} has {self.size_in} input channels but the input has "
                f"{x.shape[-1]} (input shape {x.shape})"
            )
        return x

    def evolve(self, input: Any, record: bool = False) -> tuple[jax.Array, dict, dict]:
        """Simulate the module on ``input``.

        Args:
            input: array ``(T, size_in)`` or ``(batch, T, size_in)`` (or a previous module's
                ``(output, state, record)`` tuple, whose output is used).
            record: if True, return internal traces in the record dict.

        Returns:
            ``(output, new_state, record_dict)``: output ``(batch, T, size_out)``; new_state is the
            final state of batch element 0 (apply it with :meth:`set_attributes`).
        """
        if isinstance(input, tuple) and len(input) == 3:
            input = input[0]
        return _jit_evolve(self, self._auto_batch(input), bool(record))

    def __call__(self, input: Any, record: bool = False) -> tuple[jax.Array, dict, dict]:
        return self.evolve(input, record)

    def _evolve(self, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
        raise NotImplementedError(f"{type(self).__name__} does not implement _evolve")

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        head = self.full_name + f" with shape {self._shape}"
        if not self._modules:
            return head
        body = "\n".join(
            "    " + line for m in self._modules.values() for line in repr(m).splitlines()
        )
        return head + " {\n" + body + "\n}"


@functools.partial(jax.jit, static_argnames="record")
def _jit_evolve(module: Module, x: jax.Array, record: bool) -> tuple[jax.Array, dict, dict]:
    # Modules are pytrees whose static part (class, shapes, functions) keys the compilation
    # cache, so repeated calls on same-structured modules reuse one compiled simulation.
    return module._evolve(x, record)


#: Rockpool's name for the base class.
JaxModule = Module


def scan_time(step, carry, xs):
    """``jax.lax.scan`` over the time axis of batched inputs.

    ``xs`` is a tuple of arrays ``(batch, T, ...)``; ``step(carry, x_t) -> (carry, y_t)`` sees
    slices ``(batch, ...)``. Outputs are returned as ``(batch, T, ...)``.
    """
    xs_t = jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), xs)
    carry, ys = jax.lax.scan(step, carry, xs_t)
    return carry, jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), ys)


def batch_state(value: jax.Array, batch: int) -> jax.Array:
    """Replicate one module state for every batch element: ``(...) -> (batch, ...)``."""
    return jnp.broadcast_to(value, (batch,) + value.shape)
