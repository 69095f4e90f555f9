"""Save and load modules and trained parameters without pickle.

A saved file is one ``.npz`` archive: a JSON description (member ``__dendrax__``: format,
version, class, and every attribute of the module as a tagged tree, see
:mod:`dendrax.io.codec`) plus the numpy arrays it refers to (``a0``, ``a1``, ...). It is read
with ``np.load(..., allow_pickle=False)``, and nothing in it can make the loader import a
module or run code: channel, pump and synapse objects are rebuilt only from dendrax's own
registered classes (:mod:`dendrax.io.registry`) or from a ``classes=`` mapping the caller
passes, and the rebuilt module is checked for consistency (:mod:`dendrax.io.module_checks`)
before it is returned. Malformed or tampered files raise :class:`ModelFileError`.

``pickle.dump(module)`` also works (and is what ``copy.deepcopy`` uses), but loading a pickle
runs whatever code the file names: only unpickle files you made yourself. Use
:func:`save_module` / :func:`load_module` to exchange models.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from dendrax.channels.channel import Channel
from dendrax.io.atomic import atomic_write
from dendrax.io.codec import Decoder, Encoder, ModelFileError
from dendrax.io.module_checks import check_module_state
from dendrax.io.registry import is_registered, registered_classes, registered_functions
from dendrax.synapses.synapse import Synapse

__all__ = ["save_module", "load_module", "save_params", "load_params", "ModelFileError"]

_MEMBER = "__dendrax__"
_MODULE_FORMAT = "dendrax-module"
_PARAMS_FORMAT = "dendrax-params"
_VERSION = 1
#: Caches and the self-reference, rebuilt on load.
_NOT_SAVED = ("base", "_sim_cache", "_compile_cache", "_jit_cache")


def _write(path: str | os.PathLike, doc: dict, arrays: dict) -> None:
    text = json.dumps(doc, allow_nan=False)
    members = {_MEMBER: np.array(text), **arrays}
    atomic_write(path, lambda f: np.savez(f, **members))


def save_module(module: Any, path: str | os.PathLike) -> None:
    """Save a Compartment, Branch, Cell or Network to ``path`` in dendrax's safe format.

    Everything that defines the model is kept: the node and synapse tables (geometry,
    parameters, states, groups), morphology (traced points), channels and synapse types,
    trainables (``get_parameters()`` and what they set), recordings, stimuli and clamps.
    Caches are not. The file is written atomically.

    Args:
        module: a base module (not a view: save ``view.base``).
        path: the file to write (conventionally ``.npz``; the name is used as given).

    Raises:
        TypeError: if ``module`` is not a module, is a view, or holds a value (e.g. an
            attribute set by the user) that has no safe representation; the message names it.
    """
    from dendrax import __version__
    from dendrax.modules.base import Module, View
    from dendrax.modules.construct import saved_state

    if isinstance(module, View):
        raise TypeError("save_module saves whole modules, not views: pass `view.base`")
    if not isinstance(module, Module):
        raise TypeError(f"save_module takes a dendrax module, got {type(module).__name__}")
    enc = Encoder(is_registered)
    attributes = {
        name: enc.encode(value, f"module.{name}")
        for name, value in saved_state(module).items()
        if name not in _NOT_SAVED
    }
    cls = type(module)
    doc = {
        "format": _MODULE_FORMAT,
        "version": _VERSION,
        "dendrax_version": __version__,
        "class": cls.__name__,
        "builtin": is_registered(cls),
        "module": cls.__module__,  # informational; never imported
        "attributes": attributes,
    }
    _write(path, doc, enc.arrays)


def _reject_constant(name: str):
    raise ValueError(f"the JSON holds the non-standard constant {name}")


def _read(path: str | os.PathLike, expected: str) -> tuple[dict, dict]:
    """The JSON description and the arrays of a saved file (`ModelFileError` if damaged)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no saved file at {path!r}")
    what = "module" if expected == _MODULE_FORMAT else "parameter"
    # Our own handle: numpy leaks the one it opens when an archive is damaged.
    with open(path, "rb") as handle:
        doc, arrays = _read_archive(handle, path, what)
    if not isinstance(doc, dict) or doc.get("format") != expected:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise ModelFileError(f"{path!r} is not a dendrax {what} file (format {found!r})")
    if doc.get("version") != _VERSION:
        raise ModelFileError(
            f"{path!r} has format version {doc.get('version')!r}; this dendrax reads "
            f"version {_VERSION}"
        )
    return doc, arrays


def _read_archive(handle, path: str, what: str) -> tuple[Any, dict]:
    try:
        archive = np.load(handle, allow_pickle=False)
    except ValueError as err:  # numpy: "Cannot load file containing pickled data ..."
        raise ModelFileError(
            f"{path!r} is not a dendrax {what} file ({err}). If it is a pickle, note that "
            "loading a pickle runs code: only unpickle files you trust."
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path!r} is unreadable ({type(err).__name__}: {err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path!r} is a single numpy array, not a dendrax {what} file")
    try:
        with archive:
            if _MEMBER not in archive.files:
                raise ModelFileError(f"{path!r} is an .npz archive but not a dendrax {what} file")
            text = archive[_MEMBER]
            if text.dtype.kind != "U" or text.ndim != 0:
                raise ModelFileError(f"{path!r}: the description is not a JSON string")
            doc = json.loads(str(text), parse_constant=_reject_constant)
            arrays = {name: archive[name] for name in archive.files if name != _MEMBER}
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(f"{path!r}: the JSON description is nested too deeply") from None
    except ValueError as err:  # bad JSON, or a member that holds pickled objects
        raise ModelFileError(f"{path!r} is malformed ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise ModelFileError(f"{path!r} is damaged ({type(err).__name__}: {err})") from None
    return doc, arrays


def _check_classes(classes: Mapping[str, type] | None) -> dict[str, type]:
    if classes is None:
        return {}
    if not isinstance(classes, Mapping):
        raise TypeError("classes must be a mapping {class name: class}")
    for name, cls in classes.items():
        if not isinstance(name, str) or not isinstance(cls, type):
            raise TypeError(f"classes must map class names (str) to classes; got {name!r}: {cls!r}")
    return dict(classes)


def _check_functions(functions: Mapping[str, Any] | None) -> dict[str, Any]:
    if functions is None:
        return {}
    if not isinstance(functions, Mapping) or not all(
        isinstance(k, str) and callable(v) for k, v in functions.items()
    ):
        raise TypeError("functions must be a mapping {function name: function}")
    return dict(functions)


def _function_resolver(functions: dict[str, Any], path: str):

    def resolve(name: str, builtin: bool, where: str) -> Any:
        short = name.rsplit(".", 1)[-1]
        for key in (name, short):
            if key in functions:
                return functions[key]
        if builtin and name in registered_functions():
            return registered_functions()[name]
        raise ModelFileError(
            f"{path!r}, {where}: cannot rebuild function {name!r}: it is not one of the "
            f"registered jax.nn / jax.numpy functions. If you trust the file, pass "
            f"functions={{{short!r}: <the function>}} to load_module (the file's module paths "
            "are never imported)."
        )

    return resolve


def _resolver(classes: dict[str, type], path: str):
    """``resolve(name, builtin, module, where) -> class`` for `Decoder` and the module class."""
    registered = registered_classes()

    def resolve(name: str, builtin: bool, module: str, where: str, kinds: tuple) -> type:
        if name in classes:
            cls = classes[name]
        elif builtin and name in registered:
            cls = registered[name]
        else:
            hint = (
                f"it is not one of dendrax's own classes {sorted(registered)}"
                if builtin
                else f"it was defined in {module!r}, outside dendrax"
            )
            raise ModelFileError(
                f"{path!r}, {where}: cannot rebuild class {name!r}: {hint}. If you trust the "
                f"file, pass classes={{{name!r}: <the class>}} to load_module (the file's "
                "module paths are never imported)."
            )
        if not issubclass(cls, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise ModelFileError(f"{path!r}, {where}: class {name!r} is not a {names} class")
        return cls

    return resolve


def load_module(
    path: str | os.PathLike,
    classes: Mapping[str, type] | None = None,
    functions: Mapping[str, Any] | None = None,
) -> Any:
    """Load a module saved by :func:`save_module`.

    Args:
        path: the saved file.
        classes: ``{class name: class}`` for channels, pumps, synapses or module classes that
            are not dendrax's own (your own mechanisms, NMODL imports, subclasses of
            ``Cell``...). Entries override dendrax's classes of the same name.
        functions: ``{name: function}`` for functions held by mechanisms (e.g. a synapse's
            ``nonlinearity``) other than those of ``jax.nn`` and the elementwise
            ``jax.numpy`` functions; the name is the function's ``__qualname__`` or its
            dotted ``module.qualname``, as the error message shows.

    Returns:
        The module, ready to simulate (it integrates to the same trace as the saved one).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ModelFileError: if the file is not a dendrax module file, is damaged or tampered
            with (the message names the part at fault), or names a class or function that
            is neither dendrax's (or JAX's) nor in ``classes`` / ``functions``.
    """
    from dendrax.modules.base import Module, View
    from dendrax.modules.construct import restored_module

    classes = _check_classes(classes)
    functions = _check_functions(functions)
    doc, arrays = _read(path, _MODULE_FORMAT)
    resolve = _resolver(classes, os.fspath(path))
    name, builtin = doc.get("class"), doc.get("builtin")
    if not isinstance(name, str) or not isinstance(builtin, bool):
        raise ModelFileError(f"{os.fspath(path)!r}: the module class is not recorded")
    cls = resolve(name, builtin, str(doc.get("module")), "module class", (Module,))
    if issubclass(cls, View):
        raise ModelFileError(f"{os.fspath(path)!r}: views cannot be loaded as modules")
    attributes = doc.get("attributes")
    if not isinstance(attributes, dict):
        raise ModelFileError(f"{os.fspath(path)!r}: 'attributes' must be a JSON object")
    bad = [k for k in attributes if not k.isidentifier() or k.startswith("__") or k in _NOT_SAVED]
    if bad:
        raise ModelFileError(f"{os.fspath(path)!r}: invalid attribute names {bad}")

    def mechanism(name, builtin, module, where):
        return resolve(name, builtin, module, where, (Channel, Synapse))

    decoder = Decoder(arrays, mechanism, _function_resolver(functions, os.fspath(path)))
    try:
        state = {k: decoder.decode(v, f"module.{k}") for k, v in attributes.items()}
        check_module_state(state)
    except ModelFileError as err:
        raise ModelFileError(f"{os.fspath(path)!r}: {err}") from None
    return restored_module(cls, state)


def _check_params(params: Any, where: str = "params") -> None:
    if isinstance(params, dict):
        for k, v in params.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings, got {k!r}")
            _check_params(v, f"{where}[{k!r}]")
    elif isinstance(params, list | tuple):
        for i, v in enumerate(params):
            _check_params(v, f"{where}[{i}]")
    else:
        import jax

        if not isinstance(params, np.ndarray | np.generic | jax.Array | float | int):
            raise TypeError(
                f"{where}: expected arrays in lists/dicts (as from get_parameters()), got "
                f"{type(params).__name__}"
            )


def save_params(params: Any, path: str | os.PathLike) -> None:
    """Save trainable parameters (as from ``module.get_parameters()``) without pickle.

    Args:
        params: a list of ``{name: array}`` dicts, or any nesting of lists, tuples and
            string-keyed dicts with numpy/JAX arrays or numbers as leaves.
        path: the file to write (``.npz``), atomically.

    Raises:
        TypeError: if ``params`` holds anything else; the message names the entry.
    """
    _check_params(params)
    enc = Encoder(is_registered, allow_mechanisms=False)
    doc = {"format": _PARAMS_FORMAT, "version": _VERSION, "params": enc.encode(params, "params")}
    _write(path, doc, enc.arrays)


def load_params(path: str | os.PathLike) -> Any:
    """Load parameters saved by :func:`save_params` (same nesting; JAX arrays stay JAX arrays).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ModelFileError: if the file is not a dendrax parameter file or is damaged.
    """
    doc, arrays = _read(path, _PARAMS_FORMAT)
    try:
        params = Decoder(arrays, None).decode(doc.get("params"), "params")
        _check_params(params)
    except TypeError as err:
        raise ModelFileError(f"{os.fspath(path)!r}: {err}") from None
    except ModelFileError as err:
        raise ModelFileError(f"{os.fspath(path)!r}: {err}") from None
    return params
