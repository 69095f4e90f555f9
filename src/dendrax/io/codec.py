"""A data-only encoding of Python values as JSON plus numpy arrays (no pickle, no imports).

:func:`encode` turns a value built from ``None``, ``bool``, ``int``, ``float``, ``str``,
lists, tuples, dicts, numpy arrays and scalars, JAX arrays, mechanism objects (channels,
pumps, synapses) and functions (by name) into a JSON-serialisable tree; arrays are moved
into a separate ``{name: ndarray}`` dict (stored as ``.npy`` members of an ``.npz``).
Anything else is refused with the path of the offending value. Non-JSON values are tagged dicts
(``{"$": "tuple", "items": [...]}``), so plain JSON lists and scalars stand for themselves.

:func:`decode` rebuilds the value and checks every tag, key and type on the way, raising
:class:`ModelFileError` with the path of the first problem. Mechanism objects are rebuilt
only from classes in an explicit ``{class name: class}`` table (dendrax's own mechanisms and
any the caller supplies): the module path recorded in the file is informational and never
imported, and the object is created with ``cls.__new__`` and given its saved attributes, so
no constructor or other code named by the file runs. Functions likewise come only from a
table of registered ones (``jax.nn.sigmoid``, ...) or from the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dendrax.channels.channel import Channel
from dendrax.io.registry import function_name
from dendrax.synapses.synapse import Synapse

__all__ = ["ModelFileError", "encode", "decode", "ALLOWED_DTYPE_KINDS"]

#: bool, signed/unsigned int, float, complex, unicode: everything else is refused on load.
ALLOWED_DTYPE_KINDS = "biufcU"
_MAX_DEPTH = 64
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class ModelFileError(ValueError):
    """A saved module or parameter file is malformed, tampered with or cannot be rebuilt."""


def _mechanism_bases() -> tuple[type, ...]:

    return (Channel, Synapse)


class Encoder:
    """Collects arrays while encoding; ``builtin(cls)`` says whether dendrax registers ``cls``."""

    def __init__(self, builtin: Callable[[type], bool], allow_mechanisms: bool = True):
        self.arrays: dict[str, np.ndarray] = {}
        self._builtin = builtin
        self._allow_mechanisms = allow_mechanisms

    def _array(self, arr: np.ndarray, tag: str, path: str) -> dict:
        extra = {}
        if arr.dtype == object:
            if not all(isinstance(x, str) for x in arr.reshape(-1)):
                raise TypeError(
                    f"cannot save {path}: an object array that does not hold only strings "
                    "(only numeric, boolean and string arrays are saved)"
                )
            arr = arr.astype(str) if arr.size else np.zeros(arr.shape, dtype="<U1")
            extra["object"] = True
        elif arr.dtype.kind not in ALLOWED_DTYPE_KINDS:
            raise TypeError(f"cannot save {path}: arrays of dtype {arr.dtype} are not supported")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = arr
        return {"$": tag, "ref": name, **extra}

    @staticmethod
    def _function(fn: Any, path: str) -> dict:
        """A function by name: registered (``jax.nn.sigmoid``) or a module-level user function."""
        import types

        name = function_name(fn)
        if name is not None:
            return {"$": "function", "name": name, "builtin": True}
        qualname = getattr(fn, "__qualname__", "")
        if isinstance(fn, types.FunctionType) and "<" not in qualname:
            return {"$": "function", "name": f"{fn.__module__}.{qualname}", "builtin": False}
        raise TypeError(
            f"cannot save {path}: {fn!r} is a lambda, a local function or another callable "
            "object; use a module-level function (and pass it in `functions=` when loading)"
        )

    def encode(self, value: Any, path: str = "value") -> Any:
        """The JSON tree of ``value`` (``path`` names it in error messages)."""
        import jax

        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if isinstance(value, np.generic):
            return self._array(np.asarray(value), "scalar", path)
        if isinstance(value, np.ndarray):
            return self._array(value, "ndarray", path)
        if isinstance(value, jax.Array):
            return self._array(np.asarray(value), "jax", path)
        if isinstance(value, list):
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {
                "$": "tuple",
                "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)],
            }
        if isinstance(value, dict):
            return {
                "$": "dict",
                "items": [
                    [self.encode(k, f"{path} key {k!r}"), self.encode(v, f"{path}[{k!r}]")]
                    for k, v in value.items()
                ],
            }
        if self._allow_mechanisms and isinstance(value, _mechanism_bases()):
            cls = type(value)
            return {
                "$": "mechanism",
                "class": cls.__name__,
                "builtin": bool(self._builtin(cls)),
                "module": cls.__module__,  # for the reader's information only; never imported
                "state": {
                    "$": "dict",
                    "items": [
                        [k, self.encode(v, f"{path}({cls.__name__}).{k}")]
                        for k, v in vars(value).items()
                    ],
                },
            }
        if self._allow_mechanisms and callable(value) and not isinstance(value, type):
            return self._function(value, path)
        raise TypeError(
            f"cannot save {path}: values of type {type(value).__module__}."
            f"{type(value).__qualname__} have no safe (non-pickle) representation"
        )


def _fail(path: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: {problem}")


class Decoder:
    """Rebuilds values from a JSON tree and the loaded arrays (see the module docstring).

    Args:
        arrays: ``{name: ndarray}`` read from the file (only referenced names are read).
        resolve: ``resolve(class_name, builtin, module, path) -> class`` for mechanisms, or
            ``None`` when the file may not contain any.
        resolve_function: ``resolve_function(name, builtin, path) -> function`` for
            functions held by mechanisms, or ``None`` when the file may not contain any.
    """

    def __init__(
        self,
        arrays: Mapping[str, Any],
        resolve: Callable | None,
        resolve_function: Callable | None = None,
    ):
        self._arrays = arrays
        self._resolve = resolve
        self._resolve_function = resolve_function

    def _array(self, node: dict, path: str) -> np.ndarray:
        ref = node.get("ref")
        if not isinstance(ref, str) or ref not in self._arrays:
            raise _fail(path, f"refers to an array {ref!r} that the file does not contain")
        try:
            arr = self._arrays[ref]
        except ValueError as err:  # numpy refuses object (pickled) members
            raise _fail(path, f"array {ref!r} cannot be read without pickle ({err})") from None
        arr = np.asarray(arr)
        if arr.dtype.kind not in ALLOWED_DTYPE_KINDS:
            raise _fail(path, f"array {ref!r} has unsupported dtype {arr.dtype}")
        if node.get("object"):
            if arr.dtype.kind != "U":
                raise _fail(path, f"array {ref!r} should hold strings, got {arr.dtype}")
            arr = arr.astype(object)
        elif arr.dtype.kind == "U" and node["$"] != "ndarray":
            raise _fail(path, f"array {ref!r} holds strings where numbers are expected")
        return arr

    def decode(self, node: Any, path: str = "value", depth: int = 0) -> Any:
        """The value the JSON tree ``node`` describes."""
        if depth > _MAX_DEPTH:
            raise _fail(path, f"nested deeper than {_MAX_DEPTH} levels")
        if node is None or isinstance(node, bool | int | str):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, list):
            return [self.decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            raise _fail(path, f"unexpected JSON value of type {type(node).__name__}")
        tag = node.get("$")
        if tag == "float":
            if node.get("v") not in _NONFINITE:
                raise _fail(path, f"bad non-finite float {node.get('v')!r}")
            return _NONFINITE[node["v"]]
        if tag in ("ndarray", "scalar", "jax"):
            arr = self._array(node, path)
            if tag == "scalar":
                if arr.ndim != 0:
                    raise _fail(path, f"a scalar stored as an array of shape {arr.shape}")
                return arr[()]
            if tag == "jax":
                import jax.numpy as jnp

                return jnp.asarray(arr)
            return arr
        if tag == "tuple":
            items = self._list(node, "items", path)
            return tuple(self.decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(items))
        if tag == "dict":
            out = {}
            for i, pair in enumerate(self._list(node, "items", path)):
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise _fail(path, f"dict entry {i} is not a [key, value] pair")
                key = self.decode(pair[0], f"{path} key {i}", depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise _fail(
                        path, f"dict key {i} ({type(key).__name__}) is unhashable"
                    ) from None
                out[key] = self.decode(pair[1], f"{path}[{key!r}]", depth + 1)
            return out
        if tag == "mechanism":
            return self._mechanism(node, path, depth)
        if tag == "function":
            if self._resolve_function is None:
                raise _fail(path, "functions are not allowed in this kind of file")
            name, builtin = node.get("name"), node.get("builtin")
            if not isinstance(name, str) or not isinstance(builtin, bool):
                raise _fail(path, "a function entry needs a string 'name' and a bool 'builtin'")
            return self._resolve_function(name, builtin, path)
        raise _fail(path, f"unknown tag {tag!r}")

    @staticmethod
    def _list(node: dict, key: str, path: str) -> list:
        value = node.get(key)
        if not isinstance(value, list):
            raise _fail(path, f"field {key!r} must be a list")
        return value

    def _mechanism(self, node: dict, path: str, depth: int) -> Any:
        if self._resolve is None:
            raise _fail(path, "mechanism objects are not allowed in this kind of file")
        name, builtin, module = node.get("class"), node.get("builtin"), node.get("module")
        if not isinstance(name, str) or not isinstance(builtin, bool):
            raise _fail(path, "a mechanism entry needs a string 'class' and a bool 'builtin'")
        cls = self._resolve(name, builtin, module if isinstance(module, str) else "?", path)
        state = self.decode(node.get("state"), f"{path}.__dict__", depth + 1)
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise _fail(path, f"the attributes of {name} must be a dict with string keys")
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        return obj


def encode(value: Any, builtin: Callable[[type], bool], allow_mechanisms: bool = True):
    """``(json_tree, arrays)`` for ``value`` (see :class:`Encoder`)."""
    enc = Encoder(builtin, allow_mechanisms)
    return enc.encode(value), enc.arrays


def decode(
    node: Any,
    arrays: Mapping[str, Any],
    resolve: Callable | None,
    resolve_function: Callable | None = None,
) -> Any:
    """The value of ``node`` (see :class:`Decoder`)."""
    return Decoder(arrays, resolve, resolve_function).decode(node)
