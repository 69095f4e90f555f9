"""Property-based fuzzer of the SWC reader over mutations of the shared real files.

Every mutation (line deletions, duplications and swaps, fields replaced by hostile tokens,
byte flips, inserted bytes, truncation) must give either a morphology with finite, positive
geometry, or an ``SWCError`` whose message starts with the file's name and names a line of
the mutated file. Nothing else: no other exception type, no numpy RuntimeWarning (the sign
of a NaN or inf computed on the way), no hang. Mutations that do not change the points
(line endings, BOM, comments holding Unicode line breaks, spacing, ``12`` written as
``12.0``) must give exactly the original morphology. The vectorized and the line-by-line
text parsers must agree on every input.

Runs derandomized (the same examples every time) in about 20 s. Files larger than 100 kB
are left out to keep it so.
"""

from __future__ import annotations

import contextlib
import re
import signal
import warnings

import numpy as np
import pytest

from dendrax.morphology import Morphology, SWCError, parse_swc_text, swc_to_morphology
from dendrax.morphology.swc_parse import points_from_rows

from .swc_factory import SWC_DIR, requires_swc_dir

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (the test extra) is absent")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SOURCE = "/fuzz/mutated.swc"
FILES = (
    {p.name: p.read_bytes() for p in sorted(SWC_DIR.glob("*.swc")) if p.stat().st_size < 100_000}
    if SWC_DIR.is_dir()
    else {}
)
SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = [
    b"1e20", b"1e200", b"-1e400", b"1e-320", b"4.9e-324", b"nan", b"NaN", b"-inf", b"Infinity",
    b"9007199254740993", b"1" + b"0" * 30, b"0" * 25 + b"7", b"1000001", b"1e6", b"1e-7",
    "١٢".encode(), "１２".encode(), "٣.٥".encode(), "\u00a012".encode(), "12\u2028".encode(),
    b"0x10", b"1_000", b"1,5", b"", b"-", b".", b"+.5e-3", b"1.0", b"1.5", b"-2", b"-1",
    b"0", b"-0", b"1.", b"#", b"\t", b"\r", b"\xff\xfe",
]  # fmt: skip
TOKENS = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(HOSTILE),  # twice: weighted towards the known-hostile tokens
    st.integers(-(2**70), 2**70).map(lambda i: str(i).encode()),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).encode()),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4).map(str.encode),
    st.text(max_size=5).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
COMMENTS = st.text(
    st.sampled_from(["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "é", "#", " ", "1", "x"]),
    max_size=8,
)


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Fail instead of hanging: SIGALRM after ``seconds`` (where the platform has it)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise TimeoutError(f"reading a mutated SWC file took more than {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _read(data: bytes) -> Morphology | SWCError:
    """The morphology, or the SWCError; anything else propagates and fails the test."""
    with _time_limit(20.0), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)  # overflow / invalid value: NaN ahead
        try:
            points = points_from_rows(parse_swc_text(data, SOURCE), SOURCE)
            return swc_to_morphology(points, ncomp=2)
        except SWCError as err:
            return err


def _check(outcome, data: bytes) -> None:
    if isinstance(outcome, SWCError):
        msg = str(outcome)
        assert msg.startswith(SOURCE), msg
        n_lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        lines = [int(k) for k in re.findall(r"\blines? (\d+)", msg)]
        if "no points" not in msg and "UTF-16" not in msg:  # whole-file problems
            assert lines, f"the message names no line: {msg}"
        assert all(1 <= k <= n_lines for k in lines), msg
        return
    assert isinstance(outcome, Morphology)
    for key in ("length", "radius", "area", "volume", "resistive_load_in", "resistive_load_out"):
        values = getattr(outcome, key)
        assert np.all(np.isfinite(values)) and np.all(values > 0), key
    assert all(np.isfinite(xyzr).all() for xyzr in outcome.xyzr)


def _same(a, b) -> None:
    assert isinstance(a, Morphology) and isinstance(b, Morphology), (a, b)
    for key in ("parents", "ncomp_per_branch", "length", "radius", "area", "volume", "type_id"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    for key in ("resistive_load_in", "resistive_load_out"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    assert len(a.xyzr) == len(b.xyzr)
    for x, y in zip(a.xyzr, b.xyzr, strict=True):
        np.testing.assert_array_equal(x, y)


def _paths_agree(data: bytes) -> None:
    """The vectorized and the line-by-line parser give the same rows or the same error."""
    results = []
    for fast in (True, False):
        try:
            results.append(parse_swc_text(data, SOURCE, fast=fast))
        except SWCError as err:
            results.append(str(err))
    fast, slow = results
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
        return
    for key in ("ids", "types", "xyz", "radius", "parents", "line_numbers"):
        a, b = getattr(fast, key), getattr(slow, key)
        np.testing.assert_array_equal(a, b, err_msg=key)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b), err_msg=key)


def _data_lines(lines: list[bytes]) -> list[int]:
    return [k for k, line in enumerate(lines) if line.split(b"#")[0].strip()]


@st.composite
def _damaged(draw):
    """A shared file with one to three destructive mutations."""
    name = draw(st.sampled_from(sorted(FILES)))
    data = FILES[name]
    for _ in range(draw(st.integers(1, 3))):
        lines = data.split(b"\n")
        op = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "flip", "insert", "cut"] + ["field"] * 4
            )
        )
        k = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == "field":
            rows = _data_lines(lines)
            if rows:
                k = draw(st.sampled_from(rows))
                fields = lines[k].split()
                c = draw(st.integers(0, len(fields) - 1))
                fields[c] = draw(TOKENS)
                lines[k] = b" ".join(fields)
        data = b"\n".join(lines)
        if op in ("flip", "insert", "cut") and data:
            pos = draw(st.integers(0, len(data) - 1))
            if op == "flip":
                data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
            elif op == "insert":
                data = data[:pos] + draw(st.binary(min_size=1, max_size=6)) + data[pos:]
            else:
                data = data[:pos]
    return name, data


@st.composite
def _reworded(draw):
    """A shared file rewritten without changing its points."""
    name = draw(st.sampled_from(sorted(FILES)))
    lines = FILES[name].split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["comment", "trailing", "spacing", "integral", "leading0"]))
        rows = _data_lines(lines)
        k = draw(st.sampled_from(rows)) if rows else 0
        if op == "comment":
            lines.insert(k, b"#" + draw(COMMENTS).encode())
        elif op == "trailing":
            lines[k] += b" # " + draw(COMMENTS).encode()
        elif rows:
            data_part, hash_, comment = lines[k].partition(b"#")
            fields = data_part.split()
            if op == "spacing":
                seps = [draw(st.sampled_from([b" ", b"\t", b"  ", b" \t "])) for _ in fields]
                data_part = b"".join(s + f for s, f in zip(seps, fields, strict=True))
            else:
                c = draw(st.sampled_from([0, 1, 6]))
                f = fields[c]
                if op == "integral":
                    if b"." not in f:
                        fields[c] = f + draw(st.sampled_from([b".0", b".", b".000"]))
                elif not f.startswith((b"-", b"+")):
                    fields[c] = b"+" + f if draw(st.booleans()) else b"00" + f
                data_part = b" ".join(fields)
            lines[k] = data_part + hash_ + comment
    data = b"\n".join(lines)
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    data = data.replace(b"\n", newline)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return name, data


@requires_swc_dir
@SETTINGS
@given(_damaged())
def test_damaged_files_give_a_clear_error_or_a_finite_morphology(case):
    name, data = case
    outcome = _read(data)
    _check(outcome, data)
    if data == FILES[name] and isinstance(outcome, Morphology):
        _same(outcome, _read(FILES[name]))
    _paths_agree(data)


@requires_swc_dir
@SETTINGS
@given(_reworded())
def test_rewording_keeps_the_original_result(case):
    name, data = case
    original, outcome = _read(FILES[name]), _read(data)
    if isinstance(original, SWCError):  # a shared file that is invalid stays invalid
        assert isinstance(outcome, SWCError), outcome
        _check(outcome, data)
    else:
        _same(original, outcome)
    _paths_agree(data)


@requires_swc_dir
@pytest.mark.parametrize("name", ["morph_3_types.swc", "morph_ca1_n120_250_single_point_soma.swc"])
def test_every_hostile_token_in_every_column(name):
    """Exhaustive companion of the fuzzer: each hostile token in each field of the first,
    a middle and the last point."""
    lines = FILES[name].split(b"\n")
    rows = _data_lines(lines)
    for k in (rows[0], rows[len(rows) // 2], rows[-1]):
        for column in range(7):
            for token in HOSTILE:
                fields = lines[k].split()
                fields[column] = token
                data = b"\n".join(lines[:k] + [b" ".join(fields)] + lines[k + 1 :])
                _check(_read(data), data)
                _paths_agree(data)


@requires_swc_dir
def test_the_fuzzer_has_files():
    """The fuzzer runs on the shared files (their absence skips it, with a reason)."""
    assert len(FILES) >= 10, sorted(FILES)
