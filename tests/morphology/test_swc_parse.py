"""Malformed SWC input: every case raises with the file name and line number."""

import re
import warnings

import numpy as np
import pytest

from dendrax.io.swc import read_morphology_arrays, read_swc
from dendrax.morphology.swc_parse import SWCError, parse_swc

GOOD = """# comment
1 1 0 0 0 5 -1
2 3 6 0 0 1 1   # trailing comment
3 3 10 0 0 1 2
"""


def _write(tmp_path, text, name="cell.swc"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _raises(tmp_path, text, line, pattern, **kw):
    path = _write(tmp_path, text)
    with pytest.raises(SWCError) as err:
        parse_swc(path, **kw)
    msg = str(err.value)
    assert str(path) in msg and f"line {line}" in msg, msg
    assert re.search(pattern, msg), msg
    return msg


def test_good_file_is_parsed_in_id_order(tmp_path):
    text = "2 3 6 0 0 1 1\n1 1 0 0 0 5 -1\n3 3 10 0 0 1 2\n"
    pts = parse_swc(_write(tmp_path, text))
    np.testing.assert_array_equal(pts.ids, [1, 2, 3])
    np.testing.assert_array_equal(pts.parent_index, [-1, 0, 1])
    np.testing.assert_array_equal(pts.line_numbers, [2, 1, 3])
    assert len(parse_swc(_write(tmp_path, GOOD))) == 3


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.swc"):
        parse_swc(tmp_path / "nope.swc")


@pytest.mark.parametrize("text", ["", "# only a comment\n\n   \n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(SWCError, match="no points") as err:
        parse_swc(path)
    assert str(path) in str(err.value)


def test_wrong_column_count(tmp_path):
    msg = _raises(tmp_path, GOOD + "4 3 12 0 0 1\n", 5, "expected 7 columns.*found 6")
    assert "'4 3 12 0 0 1'" in msg


def test_unparsable_field(tmp_path):
    _raises(tmp_path, GOOD.replace("10 0 0", "1O 0 0"), 4, r"column 3 \('1O'\) is not a number")


def test_non_integer_id(tmp_path):
    _raises(tmp_path, GOOD + "4.5 3 12 0 0 1 3\n", 5, "must be integers")


def test_non_finite(tmp_path):
    _raises(tmp_path, GOOD + "4 3 nan 0 0 1 3\n", 5, "non-finite")


def test_duplicate_id(tmp_path):
    pattern = r"duplicate point id 3 \(first defined on line 4\)"
    _raises(tmp_path, GOOD + "3 3 12 0 0 1 2\n", 5, pattern)


def test_self_parent(tmp_path):
    _raises(tmp_path, GOOD + "4 3 12 0 0 1 4\n", 5, "its own parent")


def test_missing_parent(tmp_path):
    _raises(tmp_path, GOOD + "4 3 12 0 0 1 9\n", 5, "parent id 9 of point 4 does not exist")


def test_bad_parent_value(tmp_path):
    _raises(tmp_path, GOOD + "4 3 12 0 0 1 -7\n", 5, "parent id must be -1")


def test_cycle(tmp_path):
    text = GOOD + "4 3 12 0 0 1 6\n5 3 13 0 0 1 4\n6 3 14 0 0 1 5\n"
    _raises(tmp_path, text, 5, r"cycle through point ids \[.*4.*\]")


@pytest.mark.parametrize("radius,line", [("0", 4), ("-2", 4)])
def test_non_positive_radius(tmp_path, radius, line):
    text = GOOD.replace("3 3 10 0 0 1 2", f"3 3 10 0 0 {radius} 2")
    _raises(tmp_path, text, line, f"radius must be positive, got {radius} µm")


def test_zero_radius_allowed_with_min_radius(tmp_path):
    path = _write(tmp_path, GOOD.replace("3 3 10 0 0 1 2", "3 3 10 0 0 0 2"))
    with pytest.raises(SWCError, match="line 4"):
        read_morphology_arrays(path, 2)
    morph = read_morphology_arrays(path, 2, min_radius=0.5)
    assert np.all(morph.radius >= 0.5) and np.all(np.isfinite(morph.resistive_load_out))


def test_several_roots(tmp_path):
    text = GOOD + "10 3 50 0 0 1 -1\n11 3 55 0 0 1 10\n"
    path = _write(tmp_path, text)
    with pytest.raises(SWCError, match=r"2 root points .* lines 2, 5"):
        parse_swc(path, allow_multiple_roots=False)
    with pytest.raises(SWCError, match=str(path)):
        read_morphology_arrays(path, 1, allow_multiple_roots=False)
    with pytest.warns(UserWarning, match="root points"):
        parse_swc(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        morph = read_morphology_arrays(path, 1)
    messages = " ".join(str(w.message) for w in caught)
    assert "root points" in messages and "not connected" in messages
    assert morph.n_branches >= 1


def test_nanometre_coordinates_warn(tmp_path):
    text = "1 1 0 0 0 5000 -1\n2 3 6000 0 0 1000 1\n3 3 12000 0 0 1000 2\n"
    with pytest.warns(UserWarning, match="nanometres"):
        parse_swc(_write(tmp_path, text))


def test_read_swc_rejects_unknown_backend(tmp_path):
    with pytest.raises(ValueError, match="backend must be 'graph'"):
        read_swc(_write(tmp_path, GOOD), 1, backend="custom")


@pytest.mark.parametrize(
    "kw",
    [
        {"ncomp": 0},
        {"ncomp": 1.5},
        {"ncomp": 1, "max_branch_len": 0},
        {"ncomp": 1, "min_radius": -1.0},
    ],
)
def test_bad_arguments(tmp_path, kw):
    with pytest.raises(ValueError):
        read_morphology_arrays(_write(tmp_path, GOOD), **kw)


def test_pandas_and_numpy_readers_agree(tmp_path, monkeypatch):
    import sys

    pd = pytest.importorskip("pandas")
    path = _write(tmp_path, GOOD + "4 4 12 1 0 0.5 3\n")
    monkeypatch.setitem(sys.modules, "pandas", pd)
    with_pandas = parse_swc(path)
    monkeypatch.delitem(sys.modules, "pandas")
    without = parse_swc(path)
    np.testing.assert_array_equal(with_pandas.xyzr, without.xyzr)
    np.testing.assert_array_equal(with_pandas.line_numbers, without.line_numbers)
