"""SWC text -> point arrays, strictly: the text layer of the SWC reader.

An SWC file has one traced point per line, seven fields separated by spaces or tabs::

    id  type  x  y  z  radius  parent

``#`` starts a comment that runs to the end of the line. The rules this parser enforces,
and why:

* Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (universal newlines) and nowhere else,
  so the line numbers in messages are the ones an editor shows. ``str.splitlines`` would
  also split at U+2028, U+0085 or a form feed inside a comment.
* A leading UTF-8 byte-order mark is dropped. Comments may hold any bytes (Latin-1
  headers are common); the data fields must be ASCII.
* ``id``, ``type`` and ``parent`` are integers written as such (``12``, or ``12.0`` as some
  tools write them, which must be exactly integral); a float token such as ``1e20`` or
  ``3.5`` is an error, never rounded.
* ``x y z radius`` are decimal numbers with ASCII digits only (``nan``, ``inf``, hex, digit
  grouping or non-ASCII digits such as ``١٢`` are errors; ``float()`` would accept some).

Values are not checked for range or meaning here: that is
:func:`dendrax.morphology.swc_parse.validate_points`, shared with the readers of other
formats. The common case is parsed by vectorized numpy over the file's bytes
(:mod:`dendrax.morphology.swc_fast`); any line that path cannot vouch for sends the whole
file through a line-by-line parser, which is authoritative and names the first bad line
and field.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .swc_fast import fast_rows

__all__ = [
    "COLUMNS",
    "MAX_ID",
    "MAX_TYPE",
    "RANGES",
    "SWCError",
    "SWCRows",
    "parse_swc_text",
    "user_stacklevel",
]

COLUMNS = ("id", "type", "x", "y", "z", "radius", "parent")
_NAMES = (
    "id",
    "type",
    "x coordinate (µm)",
    "y coordinate (µm)",
    "z coordinate (µm)",
    "radius (µm)",
    "parent id",
)
# Ids up to 2^53 - 1: float64, in which many tools hold SWC tables, keeps every one of them
# distinct. Types are small codes; 2^31 - 1 is generous.
MAX_ID = 2**53 - 1
MAX_TYPE = 2**31 - 1
RANGES = {
    0: "ids are integers from 0 to 2^53 - 1",
    1: "types are integers from 0 to 2^31 - 1 (0 undefined, 1 soma, 2 axon, 3 basal, "
    "4 apical, 5 and up custom)",
    6: "a parent is -1 (a root) or the id of a point, an integer from 0 to 2^53 - 1",
}
_INT_COLUMNS = (0, 1, 6)
_BOM = b"\xef\xbb\xbf"
_COMMENT = re.compile(rb"#[^\n]*")
_BLANKS = re.compile(rb"[ \t]+")
_INT = re.compile(rb"[+-]?[0-9]+(?:\.0*)?")
_FLOAT = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64_MAX = np.iinfo(np.int64).max
_ROW = re.compile(  # one data line, stripped: seven fields, one group each
    _BLANKS.pattern.join(
        rb"(" + (_INT if c in _INT_COLUMNS else _FLOAT).pattern + rb")" for c in range(7)
    )
)
_PACKAGE = str(Path(__file__).resolve().parents[1])


def user_stacklevel() -> int:
    """``stacklevel`` for ``warnings.warn`` that points at the first caller outside dendrax
    (the reader is reached through several dendrax layers: read_swc, parse_swc, ...)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


class SWCError(ValueError):
    """A morphology file that cannot be turned into a morphology.

    The message names the file and, for text formats, the 1-based line (and field) of the
    first problem, and says how to fix it.
    """


@dataclass(frozen=True)
class SWCRows:
    """The point table of an SWC text, in file order, not yet validated.

    Attributes:
        ids: (n,) int64, point ids.
        types: (n,) int64, structure type ids.
        xyz: (n, 3) float64, coordinates (µm).
        radius: (n,) float64, radii (µm).
        parents: (n,) int64, parent ids (-1 for a root).
        line_numbers: (n,) int64, 1-based line of every point.
    """

    ids: np.ndarray
    types: np.ndarray
    xyz: np.ndarray
    radius: np.ndarray
    parents: np.ndarray
    line_numbers: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, n: int) -> SWCRows:
        """The first ``n`` points (in file order)."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"the number of lines must be a non-negative integer, got {n!r}")
        n = int(n)
        return SWCRows(
            self.ids[:n],
            self.types[:n],
            self.xyz[:n],
            self.radius[:n],
            self.parents[:n],
            self.line_numbers[:n],
        )


def _show(line: bytes) -> str:
    return repr(line.decode("utf-8", errors="replace").strip())


def _fail(source: str, line_no: int, why: str, line: bytes | None = None) -> SWCError:
    text = f": {_show(line)}" if line is not None else ""
    return SWCError(f"{source}, line {line_no}: {why}{text}")


def _normalize(data: bytes | str) -> bytes:
    """Bytes with the BOM dropped and every line ending turned into ``\\n``."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


# ---- the slow path: line by line, authoritative ------------------------------------------


def _token_problem(token: bytes, column: int) -> str | None:
    """Why ``token`` (printable ASCII) is not a valid field of ``column`` (0-based), or None."""
    name = _NAMES[column]
    text = token.decode("ascii", errors="replace")
    where = f"column {column + 1} ({text!r})"
    if column in _INT_COLUMNS:
        if _INT.fullmatch(token):
            return None
        if _FLOAT.fullmatch(token):
            return (
                f"{where} is not an integer: id, type and parent must be integers, written "
                "as such (e.g. 12 or 12.0)"
            )
        return f"{where} is not a number: the {name} must be an integer"
    if _FLOAT.fullmatch(token):
        return None
    if text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        return f"{where} is a non-finite value: the {name} must be a finite number"
    return (
        f"{where} is not a number: the {name} must be a decimal such as 1.5 or -2e3 (ASCII digits)"
    )


def _integer(token: bytes) -> int | None:
    """The value of a token matching `_INT`, or None if it does not fit in int64."""
    if len(token) < 19 and b"." not in token:
        return int(token)
    digits = token.split(b".")[0]
    sign = -1 if digits.startswith(b"-") else 1
    digits = digits.lstrip(b"+-").lstrip(b"0") or b"0"
    if len(digits) > 19:  # also keeps int() clear of Python's limit on digit strings
        return None
    value = sign * int(digits)
    return value if abs(value) <= _INT64_MAX else None


def _odd_character(line: bytes) -> str | None:
    """A message for the first character of a data line that is not printable ASCII or a
    tab (no-break spaces, non-ASCII digits, control characters), or None."""
    text = line.decode("utf-8", errors="replace")
    for k, c in enumerate(text):
        if not (c == "\t" or (c.isascii() and c.isprintable())):
            what = "a byte that is not UTF-8" if c == "\ufffd" else f"{c!r} (U+{ord(c):04X})"
            return (
                f"character {k + 1} of the line is {what}: fields are numbers written with "
                "ASCII digits and separated by spaces or tabs"
            )
    return None


def _row_error(line: bytes, line_no: int, source: str, raw: bytes) -> SWCError:
    """The error for a data line (comment removed) that does not parse: its first bad
    character or field."""
    odd = _odd_character(line)
    if odd is not None:
        return _fail(source, line_no, odd, raw)
    tokens = _BLANKS.split(line.strip(b" \t"))
    if len(tokens) != 7:
        why = f"expected 7 columns (id type x y z radius parent), found {len(tokens)}"
        return _fail(source, line_no, why, raw)
    for column, token in enumerate(tokens):
        problem = _token_problem(token, column)
        if problem is None and column in _INT_COLUMNS and _integer(token) is None:
            problem = f"column {column + 1} ({token.decode()!r}) is out of range: {RANGES[column]}"
        if problem is not None:
            return _fail(source, line_no, problem, raw)
    raise AssertionError("unreachable: _row_error called on a valid row")  # pragma: no cover


def _slow_rows(data: bytes, source: str, raw_lines: list[bytes]) -> SWCRows:
    """Line-by-line parse of normalized bytes; raises an SWCError at the first bad line."""
    ints: list[tuple[int, int, int]] = []
    floats: list[tuple[float, float, float, float]] = []
    numbers: list[int] = []
    for k, line in enumerate(data.split(b"\n")):
        fields = line.strip(b" \t")
        if not fields:
            continue
        match = _ROW.fullmatch(fields)
        row = None
        if match is not None:
            tokens = match.groups()
            row = [_integer(tokens[c]) for c in _INT_COLUMNS]
        if row is None or None in row:
            raise _row_error(line, k + 1, source, raw_lines[k])
        ints.append(tuple(row))
        floats.append((float(tokens[2]), float(tokens[3]), float(tokens[4]), float(tokens[5])))
        numbers.append(k + 1)
    if not numbers:
        raise SWCError(f"{source}: the file contains no points (empty or only comments)")
    int_arr = np.asarray(ints, dtype=np.int64).reshape(-1, 3)
    flt = np.asarray(floats, dtype=np.float64).reshape(-1, 4)
    return SWCRows(
        ids=int_arr[:, 0].copy(),
        types=int_arr[:, 1].copy(),
        xyz=flt[:, :3].copy(),
        radius=flt[:, 3].copy(),
        parents=int_arr[:, 2].copy(),
        line_numbers=np.asarray(numbers, dtype=np.int64),
    )


def parse_swc_text(data: bytes | str, source: str = "<text>", *, fast: bool = True) -> SWCRows:
    """Parse SWC text into point arrays (file order), checking only its syntax.

    Args:
        data: the file's content (bytes as read from disk, or str).
        source: name used in messages (the file's path).
        fast: use the vectorized parser where it applies (the result is the same either way;
            ``False`` is for testing).

    Returns:
        :class:`SWCRows`.

    Raises:
        SWCError: no points; a line without exactly 7 fields; a field that is not a number,
            or not an integer in the id, type or parent column; a non-ASCII character in a
            field; UTF-16 text. The message names ``source``, the line and the column.
        TypeError: ``data`` is neither bytes nor str.
    """
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"SWC text must be bytes or str, got {type(data).__name__}")
    if bytes(data[:2]) in (b"\xff\xfe", b"\xfe\xff"):
        raise SWCError(f"{source}: the file is UTF-16 encoded; save it as ASCII or UTF-8")
    text = _normalize(bytes(data) if not isinstance(data, str) else data)
    body = _COMMENT.sub(b"", text) if b"#" in text else text
    if not body.endswith(b"\n"):
        body += b"\n"
    parsed = fast_rows(body) if fast else None
    if parsed is not None:
        ints, floats, line_numbers = parsed
        return SWCRows(
            ids=ints[:, 0].copy(),
            types=ints[:, 1].copy(),
            xyz=floats[:, :3].copy(),
            radius=floats[:, 3].copy(),
            parents=ints[:, 2].copy(),
            line_numbers=line_numbers,
        )
    return _slow_rows(body, source, text.split(b"\n"))
