"""The vectorized fast path of the SWC text parser (numpy over the file's bytes).

:func:`fast_rows` parses the common case, a file whose every data line is seven valid
fields, without a Python loop over lines or tokens: byte classes by table lookup, the token
grammar by counting signs and dots per token, and numbers assembled from their digits in
int64 (exact), then converted to float64 by Clinger's fast path. That conversion is
correctly rounded (the same float as Python's ``float()``) when the mantissa is at most 2^53
and the power of ten at most 22 in magnitude. The rest (more than 18 digits, or an exponent
such as ``1e-05``, rare in SWC files) goes through a regular expression and ``float()``,
token by token. Whatever it cannot vouch for, it returns None for, and the caller falls
back to the line-by-line parser, which is authoritative and names the bad line. The fuzzer
in tests/morphology/test_swc_fuzz.py checks that the two paths agree.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["fast_rows"]

# Byte classes.
_OTHER, _DIGIT, _SIGN, _DOT, _EXP, _BLANK, _NEWLINE = range(7)
_CLASS = np.zeros(256, np.int8)
_CLASS[np.frombuffer(b"0123456789", np.uint8)] = _DIGIT
_CLASS[np.frombuffer(b"+-", np.uint8)] = _SIGN
_CLASS[ord(".")] = _DOT
_CLASS[np.frombuffer(b"eE", np.uint8)] = _EXP
_CLASS[np.frombuffer(b" \t", np.uint8)] = _BLANK
_CLASS[ord("\n")] = _NEWLINE

_FLOAT = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_POW10_FLOAT = 10.0 ** np.arange(23)  # exact doubles
_MAX_DIGITS = 18  # every 18-digit integer fits in int64
# _TERM[rank * 10 + digit] = digit * 10**rank, for ranks 0..18 (18 stands for "too many").
_TERM = np.arange(10, dtype=np.int64)[None, :] * 10 ** np.arange(19, dtype=np.int64)[:, None]
_TERM = _TERM.ravel()
_INT_COLUMN = np.array([True, True, False, False, False, False, True])


def _exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _token_of(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Index of the token holding each byte position (positions inside tokens)."""
    return np.searchsorted(starts, positions, side="right") - 1


def fast_rows(data: bytes):
    """Parse normalized, comment-free SWC bytes ending in ``\\n``.

    Returns:
        ``(ints, floats, line_numbers)``: (n, 3) int64 id, type, parent; (n, 4) float64
        x, y, z, radius; (n,) int64 1-based lines. None when the bytes hold no token, a
        line without 7 fields, a byte other than ASCII digits, sign, dot, e/E, space, tab or
        newline, a malformed number, or an integer field that is not a plain integer of at
        most 18 digits.
    """
    b = np.frombuffer(data, np.uint8)
    cls = _CLASS[b]
    if not cls.all():  # a byte of class _OTHER (0)
        return None
    in_tok = cls < _BLANK
    edge = np.diff(in_tok.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    n_tok = len(starts)
    if n_tok == 0:
        return None
    newlines = np.flatnonzero(cls == _NEWLINE)
    per_line = np.bincount(np.searchsorted(newlines, starts), minlength=len(newlines))
    if not np.all((per_line == 0) | (per_line == 7)):
        return None
    n_rows = n_tok // 7
    int_col = np.tile(_INT_COLUMN, n_rows)

    # Tokens with an exponent are left to float() below; the others must read
    # [+-]?digits[.digits] or [+-]?.digits: a sign only first, at most one dot, one digit.
    special = np.flatnonzero((cls > _DIGIT) & in_tok)  # signs, dots and e's, one pass
    special_cls = cls[special]
    special_tok = _token_of(starts, special)
    is_e = special_cls == _EXP
    has_e = np.zeros(n_tok, bool)
    has_e[special_tok[is_e]] = True
    if (has_e & int_col).any():
        return None
    sign_pos = special[special_cls == _SIGN]
    inner = sign_pos[edge[sign_pos] != 1]
    if len(inner) and not (cls[inner - 1] == _EXP).all():
        return None
    signed = cls[starts] == _SIGN
    is_dot = special_cls == _DOT
    dot_pos, dot_tok = special[is_dot], special_tok[is_dot]
    n_dot = np.bincount(dot_tok, minlength=n_tok)
    n_frac = np.zeros(n_tok, np.int64)
    n_frac[dot_tok] = ends[dot_tok] - dot_pos - 1
    plain = ~has_e
    length = ends - starts
    n_mant = length - signed - n_dot
    if (n_dot[plain] > 1).any() or (n_mant[plain] < 1).any():
        return None

    # Every token's digits as one integer: sum of digit * 10^(digits after it).
    n_digits = length - np.bincount(special_tok, minlength=n_tok)
    digits = b[cls == _DIGIT]
    first = _exclusive_cumsum(n_digits)
    rank = np.repeat(first + n_digits - 1, n_digits) - np.arange(len(digits))
    np.minimum(rank, _MAX_DIGITS, out=rank)
    terms = _TERM[rank * 10 + (digits - 48)]
    mantissa = np.zeros(n_tok, np.int64)
    has_digit = np.flatnonzero(n_digits)
    mantissa[has_digit] = np.add.reduceat(terms, first[has_digit])
    negative = b[starts] == ord("-")

    # Integer fields: at most 18 digits, one before the dot, nothing but zeros after it.
    if np.any(int_col & ((n_mant > _MAX_DIGITS) | (n_mant == n_frac))):
        return None
    if (n_frac[int_col] > 0).any():
        frac_digit = rank < np.repeat(n_frac, n_digits)
        token = np.repeat(np.arange(n_tok), n_digits)
        if (int_col[token[frac_digit & (digits != 48)]]).any():
            return None
    pow10 = 10 ** np.arange(_MAX_DIGITS + 1, dtype=np.int64)
    whole = mantissa // pow10[np.minimum(n_frac, _MAX_DIGITS)]
    ints = np.where(negative, -whole, whole)[int_col].reshape(n_rows, 3)

    # Floats: m / 10^f, exactly rounded on Clinger's fast path, float() for the rest.
    flt = ~int_col
    m, f = mantissa[flt], n_frac[flt]
    exact = plain[flt] & (n_mant[flt] <= _MAX_DIGITS) & (m <= 2**53) & (f <= 22)
    val = m.astype(np.float64) / _POW10_FLOAT[np.minimum(f, 22)]
    val = np.where(negative[flt], -val, val)
    if not exact.all():
        at = np.flatnonzero(flt)
        for k in np.flatnonzero(~exact):
            token = data[starts[at[k]] : ends[at[k]]]
            if not _FLOAT.fullmatch(token):
                return None
            val[k] = float(token)
    line_numbers = np.flatnonzero(per_line).astype(np.int64) + 1
    return ints, val.reshape(n_rows, 4), line_numbers
