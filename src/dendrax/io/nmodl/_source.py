"""The text of a `.mod` file: decoding, and line numbers for error messages.

NEURON's NMODL parser (Python bindings) gives no source positions for AST nodes, so lines
are found here: the text is split into tokens (comments, TITLE lines and VERBATIM bodies
removed), top-level blocks are located by their keyword (and name), and a node is located
by searching the tokens of its NMODL rendering inside its block.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ._runtime import NmodlError

#: Keywords that open a top-level NMODL block (or a top-level statement).
BLOCK_KEYWORDS = frozenset(
    "NEURON UNITS PARAMETER ASSIGNED STATE BREAKPOINT INITIAL DERIVATIVE PROCEDURE FUNCTION "
    "KINETIC NET_RECEIVE CONSTANT INDEPENDENT LINEAR NONLINEAR DISCRETE PARTIAL "
    "FUNCTION_TABLE CONSTRUCTOR DESTRUCTOR BEFORE AFTER LOCAL DEFINE INCLUDE VERBATIM "
    "TITLE COMMENT".split()
)
#: Block keywords followed by the block's name.
NAMED_BLOCKS = frozenset(
    "DERIVATIVE PROCEDURE FUNCTION KINETIC LINEAR NONLINEAR DISCRETE PARTIAL FUNCTION_TABLE".split()
)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|\S")
_LOCATION = re.compile(r"\[Location : (\d+)\.\d+")


def decode(data: bytes, filename: str) -> str:
    """The text of a `.mod` file: UTF-8 (a BOM is dropped), else Latin-1 (never fails).

    NMODL itself is ASCII; other bytes occur in comments (authors' names, µ, °), written
    by editors in UTF-8 or Latin-1. `filename` names the file in the error for bytes that
    are text in neither (NUL).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise NmodlError(
            f"{filename}: NUL byte (line {line}): not a text file; an NMODL file is text "
            "(UTF-8 or Latin-1)."
        )
    return text


def read_text(path: Path) -> str:
    """Read and decode the `.mod` file at `path` (see `decode`)."""
    return decode(Path(path).read_bytes(), Path(path).name)


@dataclass(frozen=True)
class Block:
    """A top-level block of the file: keyword, name (named blocks), line, token range."""

    keyword: str
    name: str | None
    line: int
    start: int
    stop: int


def _strip(lines: list[str], unterminated: list):
    """Yield (line number, code) with comments, TITLE lines and VERBATIM bodies removed.

    An unclosed COMMENT/VERBATIM is appended to `unterminated` as (keyword, line).
    """
    skip_until, opened = None, 0
    for number, row in enumerate(lines, 1):
        words = row.split()
        if skip_until is not None:
            if skip_until in row:
                skip_until = None
            continue
        first = words[0] if words else ""
        if first in ("COMMENT", "VERBATIM"):
            skip_until, opened = "END" + first, number
            yield number, first  # the block keyword, located like other blocks
            continue
        if first == "TITLE":
            yield number, "TITLE"
            continue
        yield number, re.split(r"[:?]", row, maxsplit=1)[0]
    if skip_until is not None:
        unterminated.append((skip_until[3:], opened))


class SourceMap:
    """Tokens of the text (with line numbers) and its top-level blocks, for error messages."""

    def __init__(self, text: str):
        self.lines = text.split("\n")  # the NMODL lexer counts "\n" only
        self.unterminated: list[tuple[str, int]] = []
        self.tokens: list[tuple[int, str]] = [
            (number, tok)
            for number, code in _strip(self.lines, self.unterminated)
            for tok in _TOKEN.findall(code)
        ]
        self.blocks: list[Block] = []
        depth, opened = 0, []
        for i, (number, tok) in enumerate(self.tokens):
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth = max(depth - 1, 0)
            elif depth == 0 and tok in BLOCK_KEYWORDS:
                name = None
                if tok in NAMED_BLOCKS and i + 1 < len(self.tokens):
                    name = self.tokens[i + 1][1]
                opened.append((tok, name, number, i))
        for k, (kw, name, number, start) in enumerate(opened):
            stop = opened[k + 1][3] if k + 1 < len(opened) else len(self.tokens)
            self.blocks.append(Block(kw, name, number, start, stop))

    def block(self, keyword: str, name: str | None = None, occurrence: int = 0):
        """The `occurrence`-th top-level block `keyword` (with `name`), or None."""
        found = [b for b in self.blocks if b.keyword == keyword and name in (None, b.name)]
        return found[occurrence] if occurrence < len(found) else None

    def find(self, rendering: str, block: Block | None, after: int = 0) -> int | None:
        """Line of the first occurrence of the tokens of `rendering` in `block` (or anywhere)
        on a line after `after` (the second of two identical statements).

        The first six tokens are matched (case-insensitively: the NMODL printer may spell
        keywords differently), then the first two, then the first one.
        """
        wanted = [t.lower() for t in _TOKEN.findall(rendering)]
        if not wanted:
            return None
        start, stop = (block.start, block.stop) if block is not None else (0, len(self.tokens))
        while start < stop and self.tokens[start][0] <= after:
            start += 1
        toks = [t.lower() for _, t in self.tokens[start:stop]]
        for n in (min(len(wanted), 6), min(len(wanted), 2), 1):
            head = wanted[:n]
            for i in range(len(toks) - n + 1):
                if toks[i : i + n] == head:
                    return self.tokens[start + i][0]
        return None

    def first(self, keyword: str) -> int | None:
        """Line of the first token `keyword` outside comments (e.g. INCLUDE), or None."""
        for number, tok in self.tokens:
            if tok == keyword:
                return number
        return None

    def text_of(self, line: int) -> str:
        """Line `line` (1-based) of the file, stripped, at most 80 characters."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].strip()[:80]
        return ""


@contextlib.contextmanager
def native_output():
    """Collect what native code writes to stdout/stderr (fds 1, 2) into `box[0]`.

    NEURON's parser prints some errors ("ERROR: Unexpected end of file in COPY_MODE!")
    instead of raising them; they become part of the NmodlError, not console noise. Where
    the descriptors cannot be redirected (no fds 1/2), nothing is collected.
    """
    box = [""]
    with _REDIRECTING:  # two threads swapping fds 1/2 at once could lose stdout for good
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = (os.dup(1), os.dup(2))
        except (OSError, ValueError, AttributeError):
            yield box
            return
        with _redirected(saved, box):
            yield box


_REDIRECTING = threading.Lock()


@contextlib.contextmanager
def _redirected(saved, box):
    libc = _libc()
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield box
        finally:
            if libc is not None:
                libc.fflush(None)  # C stdio buffers, before the fds go back
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            box[0] = tmp.read().decode("utf-8", "replace")


def _libc():
    try:
        import ctypes

        return ctypes.CDLL(None)
    except (OSError, TypeError, AttributeError):
        return None


def parser_error(err: RuntimeError, filename: str, source: SourceMap) -> NmodlError:
    """The NmodlError for an exception of NEURON's NMODL parser (line from its location)."""
    message = str(err)
    found = _LOCATION.search(message)
    what = message.split("[Location")[0].replace("NMODL Parser Error :", "").strip()
    what = what or "the NMODL parser rejected the file"
    if found is None:
        return NmodlError(f"{filename}: {what} (NMODL parser).")
    line = int(found.group(1))
    near = source.text_of(line)
    near = f": {near!r}" if near else ""
    return NmodlError(f"{filename}: {what} (line {line}){near}.")
