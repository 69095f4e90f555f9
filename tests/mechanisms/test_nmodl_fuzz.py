"""Property-based fuzzing of `read_mod` with mutations of real `.mod` files.

Seeds: the mechanisms that import from NEURON's wheel (hh, passive, demo channels) and the
Hay et al. channels of the bluepyemodel wheel (see `hay_model.py`; skipped without it).
Mutations: delete/duplicate/swap lines, flip a byte, truncate, insert a token (garbage,
NMODL keywords, Python payloads), rename an identifier (to names the generated code uses,
`t`, `dt`, ...). Each mutant must give

* an `NmodlError` whose message starts with the file name, or
* a mechanism whose generated source equals the seed's (a comment changed, ...), or
* a mechanism that runs: a 3 ms simulation of one compartment is finite, or non-finite
  with dendrax's blow-up warning (a mutant may be a valid but unstable mechanism).

Never another exception, a hang (60 s per example) or a silent NaN.
"""

import contextlib
import re
import signal
import warnings
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("neuron")
import neuron  # noqa: E402
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dendrax as jx  # noqa: E402
from dendrax.io.nmodl import NmodlError, read_mod_text  # noqa: E402

from .hay_model import _IN_WHEEL, _WHEEL_GLOB, _wheel_dirs  # noqa: E402

SHARE = Path(neuron.__file__).parent / ".data" / "share"
NEURON_SEEDS = [
    SHARE / "modfile" / "hh.mod",
    SHARE / "modfile" / "passive.mod",
    *(SHARE / "nrn" / "demo" / "release" / n for n in ("nachan.mod", "khhchan.mod")),
    SHARE / "nrn" / "demo" / "release" / "camchan.mod",
]
TOKENS = [
    *"{}()'=+-*/^<>!,:?~[]",
    ">=", "&&", "||", "<->", "\n", '"', '"""', "\x00", "\xe9", "\\",
    "if", "else", "LOCAL x", "SOLVE", "METHOD", "FUNCTION", "PROCEDURE f()", "BREAKPOINT",
    "NEURON", "SUFFIX", "STATE", "ASSIGNED", "PARAMETER", "DERIVATIVE", "INITIAL", "KINETIC",
    "TABLE", "UNITSOFF", "VERBATIM", "ENDVERBATIM", "COMMENT", "ENDCOMMENT", "INCLUDE",
    "FROM", "USEION na READ ena WRITE ina", "NONSPECIFIC_CURRENT i", "m'", "1e999", "0",
    "-1", "1/0", "exp(", "t", "dt", "v", "celsius", "lambda", "env", "jnp",
    "__import__('os').system('true')", "\"\"\"; import os #",
]  # fmt: skip
NAMES = [
    "t", "dt", "v", "celsius", "lambda", "env", "jnp", "self", "dict", "x", "exp", "PI",
    "FARADAY", "m", "h", "n", "minf", "rates", "states", "ina", "ik", "ena", "i", "g",
]  # fmt: skip
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _wheel_seeds():
    for folder in _wheel_dirs():
        for wheel in sorted(folder.glob(_WHEEL_GLOB)) if folder.is_dir() else []:
            with zipfile.ZipFile(wheel) as zf:
                members = [n for n in zf.namelist() if n.startswith(_IN_WHEEL)]
                return {Path(n).name: zf.read(n) for n in members if n.endswith(".mod")}
    return {}


@cache
def seeds() -> dict:
    """name -> (bytes, generated source) of every seed that imports."""
    found = {p.name: p.read_bytes() for p in NEURON_SEEDS if p.exists()}
    found.update(_wheel_seeds())
    out = {}
    for name, data in found.items():
        try:
            out[name] = (data, read_mod_text(data, filename=name).__nmodl_source__)
        except NmodlError:
            pass  # outside the supported subset (KINETIC, concentration writes, ...)
    return out


if "hh.mod" not in seeds():
    pytest.skip("NEURON's hh.mod not found in the neuron wheel", allow_module_level=True)


def mutate(data: bytes, op: tuple) -> bytes:
    """Apply one mutation; positions are taken modulo the length of what they index."""
    kind, *args = op
    lines = data.split(b"\n")
    if kind == "delete":
        del lines[args[0] % len(lines)]
    elif kind == "duplicate":
        i = args[0] % len(lines)
        lines.insert(i, lines[i])
    elif kind == "swap":
        i, j = args[0] % len(lines), args[1] % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "flip":
        if not data:
            return data
        b = bytearray(data)
        b[args[0] % len(b)] = args[1]
        return bytes(b)
    elif kind == "truncate":
        return data[: args[0] % (len(data) + 1)]
    elif kind == "insert":
        i = args[0] % (len(data) + 1)
        return data[:i] + b" " + args[1].encode("utf-8") + b" " + data[i:]
    elif kind == "rename":
        found = list(_IDENT.finditer(data))
        if not found:
            return data
        m = found[args[0] % len(found)]
        return data[: m.start()] + args[1].encode() + data[m.end() :]
    return b"\n".join(lines)


POS = st.integers(0, 10**6)
MUTATION = st.one_of(
    st.tuples(st.just("delete"), POS),
    st.tuples(st.just("duplicate"), POS),
    st.tuples(st.just("swap"), POS, POS),
    st.tuples(st.just("flip"), POS, st.integers(0, 255)),
    st.tuples(st.just("truncate"), POS),
    st.tuples(st.just("insert"), POS, st.sampled_from(TOKENS)),
    st.tuples(st.just("rename"), POS, st.sampled_from(NAMES)),
)


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    """Fail an example that runs longer than `seconds` (where SIGALRM exists)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hang(*_):
        raise _Hang(f"read_mod or the simulation ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def simulate(cls) -> tuple[np.ndarray, bool]:
    """v (mV) of one compartment with the mechanism, 3 ms, and whether a blow-up warned."""
    comp = jx.Compartment()
    comp.insert(cls())
    comp.set("v", -65.0)
    comp.init_states()
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(0.5, 1.0, 0.02, 0.025, 3.0), verbose=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = np.asarray(jx.integrate(comp, t_max=3.0, delta_t=0.025))
    return v, any("blew up" in str(w.message) for w in caught)


def check_mutant(seed: str, data: bytes) -> str:
    """The outcome of importing (and running) a mutant; raises on a forbidden one."""
    name = f"mutant_{seed}"
    try:
        cls = read_mod_text(data, filename=name)
    except NmodlError as err:
        assert str(err).startswith(f"{name}: "), f"message does not name the file: {err}"
        return "clear error"
    if cls.__nmodl_source__ == seeds()[seed][1]:
        return "same as the seed"
    v, warned = simulate(cls)
    assert np.all(np.isfinite(v)) or warned, f"silent non-finite result for {seed} mutant"
    return "finite" if np.all(np.isfinite(v)) else "blow-up warned"


def test_seeds_import_and_run():
    for name, (data, _) in seeds().items():
        v, warned = simulate(read_mod_text(data, filename=name))
        assert np.all(np.isfinite(v)) and not warned, name


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,  # jit compilation of a new mechanism varies; _time_limit catches hangs
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.sampled_from(sorted(seeds())), ops=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_files_import_cleanly_or_fail_clearly(seed, ops):
    data = seeds()[seed][0]
    for op in ops:
        data = mutate(data, op)
    with _time_limit(60):
        event(check_mutant(seed, data))
