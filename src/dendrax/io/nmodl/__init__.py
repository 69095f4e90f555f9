"""Import NEURON `.mod` files (NMODL) as dendrax `Channel` classes: `read_mod(path, celsius)`.

The file is parsed with the NMODL parser bundled in the `neuron` wheel; its AST is checked
and translated into the Python source of a `Channel` subclass (array convention,
`jax.numpy`). The source is checked once more (`_verify.check_source`: only arithmetic,
listed `jnp` functions, identifiers and finite numbers) and executed in a namespace that
holds only the runtime helpers (`_runtime.namespace`, no other builtins). No text of the
file (name, comments, TITLE, units) is part of the source; names reach it only as checked
ASCII identifiers. The source is kept in `cls.__nmodl_source__`, the interface in
`cls.__nmodl_info__`.

Supported (HH subset): NEURON (SUFFIX, USEION READ/WRITE of reversal potentials and currents,
RANGE, GLOBAL, NONSPECIFIC_CURRENT), UNITS factors (FARADAY, R, PI, k, e), CONSTANT,
PARAMETER/STATE/ASSIGNED defaults, BREAKPOINT with `SOLVE <b> METHOD cnexp|derivimplicit|euler`
and current assignments, DERIVATIVE equations linear in their state (cnexp = exact
exponential step, as NEURON), PROCEDURE/FUNCTION (LOCAL, if/else -> `jnp.where` over both
branches), INITIAL. Parameters/states are named `<SUFFIX>_<name>`; USEION reads (`ena`, `ek`,
`eca`, `cai`, ...) and `celsius` (°C; default 6.3 or the `celsius` argument) are shared
unprefixed parameters with NEURON's defaults. The current (mA/cm², outward +) sums written
ion and nonspecific currents; it is named `i_Na`/`i_K`/`i_Ca`... when exactly one ion
current is written, else `i_<SUFFIX>`. ASSIGNED values read but not computed by BREAKPOINT
become states. `TABLE` is ignored (results equal NEURON's with `usetable_<suffix> = 0`).

Errors, all at import time and naming the file, block and line (`NmodlError`, a
`ValueError`): syntax errors, undefined or twice-declared variables, ion variables of
another ion, calls with the wrong number of arguments, a missing NEURON block or SUFFIX.
Valid NMODL outside the subset raises `NmodlUnsupportedError` (also a
`NotImplementedError`): KINETIC, NET_RECEIVE, VERBATIM, POINTER, INCLUDE, LINEAR/NONLINEAR,
FROM, while, POINT_PROCESS, concentration writes, recursive FUNCTIONs, the time `t`,
assignments to STATEs in BREAKPOINT and nonlinear DERIVATIVE equations. Files are read as
UTF-8, else Latin-1.
"""

from __future__ import annotations

import math
from pathlib import Path

from ._runtime import (
    FACTORS,
    ION_DEFAULTS,
    NmodlError,
    NmodlUnsupportedError,
    _exprelr,
    _integrate,
    _ModChannel,
    _select,
    namespace,
)
from ._source import decode, read_text
from ._verify import GeneratedCodeError, check_source

__all__ = ["read_mod", "read_mod_text", "mod_to_source", "NmodlError", "NmodlUnsupportedError"]
# Re-exported for dendrax.io.neuroml and older imports of these helpers.
_ = (FACTORS, ION_DEFAULTS, _exprelr, _integrate, _ModChannel, _select, GeneratedCodeError)


def _celsius(celsius) -> float:
    """The temperature argument (°C): NEURON's 6.3 when None, else a finite real > -273.15."""
    if celsius is None:
        return 6.3
    try:
        if isinstance(celsius, str | bytes | bool):
            raise TypeError
        value = float(celsius)
    except (TypeError, ValueError):
        raise TypeError(
            f"celsius must be a number (°C) or None, got {type(celsius).__name__}."
        ) from None
    if not math.isfinite(value) or value <= -273.15:
        raise ValueError(f"celsius must be a finite temperature above -273.15 °C, got {value}.")
    return value


def _translator(text: str, filename: str, celsius):
    from ._translate import Translator

    if not isinstance(text, str):
        raise TypeError(f"the NMODL text must be a str, got {type(text).__name__}.")
    return Translator(text, filename, _celsius(celsius))


def mod_to_source(text: str, celsius: float | None = None, filename: str = "<string>"):
    """Translate NMODL `text` into Python source; returns `(class_name, source)`.

    The source runs in the namespace `dendrax.io.nmodl._runtime.namespace(...)` (it imports
    nothing). `filename` only names the text in error messages.
    """
    tr = _translator(text, filename, celsius)
    cls, source = tr.generate()
    check_source(source, cls)
    return cls, source


def _build(tr, file: str):
    name, source = tr.generate()
    tree = check_source(source, name)
    ns = namespace(f"dendrax.io.nmodl.generated.{name}")
    exec(compile(tree, "<dendrax.io.nmodl generated>", "exec"), ns)  # noqa: S102 (checked)
    cls = ns[name]
    cls.__doc__ = f"NMODL mechanism SUFFIX {tr.suffix} imported by `read_mod` from {file!r}."
    cls.__nmodl_source__ = source
    cls.__nmodl_info__ = {
        "suffix": tr.suffix,
        "ion_reads": tr.reads,
        "ion_currents": tr.ion_currents,
        "nonspecific_currents": tr.nonspecific,
        "parameters": dict(tr.params),
        "states": list(tr.states),
        "celsius": tr.celsius,
        "file": file,
    }
    return cls


def read_mod(path, celsius: float | None = None):
    """Import the `.mod` file at `path` as a `Channel` subclass (see the module docstring).

    `celsius` (°C) is the default of the shared parameter `celsius` (NEURON's 6.3 when None;
    also settable with `module.set("celsius", ...)`). Raises `NmodlError` (a `ValueError`)
    for invalid files and `NmodlUnsupportedError` (also a `NotImplementedError`) for
    constructs outside the supported subset, naming the file, block and line; `OSError`
    when the file cannot be read.
    """
    path = Path(path)
    tr = _translator(read_text(path), path.name, celsius)
    return _build(tr, str(path))


def read_mod_text(text: str, celsius: float | None = None, filename: str = "<string>"):
    """`read_mod` for NMODL source in a string (`bytes`: decoded as `read_mod` does)."""
    if isinstance(text, bytes | bytearray):
        text = decode(bytes(text), filename)
    return _build(_translator(text, filename, celsius), filename)
