"""The strict SWC reader (issue 21): line splitting, BOM, integer fields, finite and plausible
geometry, ASCII digits, coincident points, no temporary files; and validation on arrays
shared by every reader (issue 20), so MorphIO-read files are reported by their own name."""

import ast
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from dendrax.io.swc import read_morphology_arrays, read_swc
from dendrax.morphology import SWCError, parse_swc, parse_swc_text, validate_points
from dendrax.morphology.swc_parse import points_from_rows

GOOD = "1 1 0 0 0 5 -1\n2 3 6 0 0 1 1\n3 3 10 0 0 1 2\n"


def _write(tmp_path, data, name="cell.swc"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _raises(tmp_path, data, pattern):
    """parse_swc(file) raises an SWCError that starts with the file's name and matches."""
    path = _write(tmp_path, data)
    with pytest.raises(SWCError, match=pattern) as err:
        parse_swc(path)
    assert str(err.value).startswith(f"{path}, line "), str(err.value)
    # The line-by-line parser (used when the vectorized one declines) says the same.
    with pytest.raises(SWCError) as slow:
        points_from_rows(parse_swc_text(path.read_bytes(), str(path), fast=False), str(path))
    assert str(slow.value) == str(err.value)
    return str(err.value)


def _same_points(a, b, lines=True):
    keys = ("ids", "types", "xyz", "radius", "parent_ids", "parent_index")
    for key in keys + (("line_numbers",) if lines else ()):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)


# ---- lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c"])
def test_unicode_line_breaks_in_comments_do_not_shift_line_numbers(tmp_path, char):
    # str.splitlines() splits at each of these; an editor shows the bad line as line 5.
    text = f"# traced by {char} someone{char}\n" + GOOD + "4 3 12 0 0 1 33\n"
    msg = _raises(tmp_path, text, r"line 5, column 7 \(parent\): parent id 33 of point 4")
    assert "line 5" in msg
    points = parse_swc(_write(tmp_path, f"# a{char}b\n" + GOOD))
    np.testing.assert_array_equal(points.line_numbers, [2, 3, 4])


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_lone_cr_line_endings(tmp_path, newline):
    plain = parse_swc(_write(tmp_path, "# x\n" + GOOD, "plain.swc"))
    other = parse_swc(_write(tmp_path, ("# x\n" + GOOD).replace("\n", newline)))
    _same_points(plain, other)
    _raises(tmp_path, (GOOD + "4 3 12 0 0 1\n").replace("\n", newline), r"line 4: expected 7")


def test_utf8_bom_is_stripped_whether_or_not_pandas_is_loaded(tmp_path, monkeypatch):
    plain = parse_swc(_write(tmp_path, GOOD, "plain.swc"))
    path = _write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode())
    pd = sys.modules.get("pandas")
    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    _same_points(plain, parse_swc(path))
    if pd is not None:
        monkeypatch.setitem(sys.modules, "pandas", pd)
        _same_points(plain, parse_swc(path))
    # The BOM does not shift line numbers, and a BOM before an error keeps it on line 1.
    _raises(tmp_path, b"\xef\xbb\xbf1 1 0 0 0 5\n", r"line 1: expected 7 columns")


def test_utf16_file_is_named_as_such(tmp_path):
    path = _write(tmp_path, GOOD.encode("utf-16"))
    with pytest.raises(SWCError, match=r"cell.swc: the file is UTF-16 encoded; save it as ASCII"):
        parse_swc(path)
    with pytest.raises(TypeError, match=r"SWC text must be bytes or str, got \w*Path"):
        parse_swc_text(path)


def test_comments_may_hold_any_bytes(tmp_path):
    latin1 = "# Zelle aus dem Kortex, Präparat 3\n".encode("latin-1")
    points = parse_swc(_write(tmp_path, latin1 + GOOD.encode()))
    _same_points(parse_swc(_write(tmp_path, GOOD, "a.swc")), points, lines=False)
    np.testing.assert_array_equal(points.line_numbers, [2, 3, 4])


# ---- integer fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,pattern",
    [
        (
            "1e20 3 12 0 0 1 3",
            r"line 4: column 1 \('1e20'\) is not an integer: id, type and parent",
        ),
        ("4 3 12 0 0 1 3.5", r"line 4: column 7 \('3.5'\) is not an integer"),
        ("4 3.5 12 0 0 1 3", r"line 4: column 2 \('3.5'\) is not an integer"),
        ("4 3 12 0 0 1 3.0000000000000001", r"column 7 \('3.0000000000000001'\) is not an integer"),
        ("4 3 12 0 0 1 x", r"line 4: column 7 \('x'\) is not a number: the parent id must be"),
        ("9007199254740993 3 12 0 0 1 3", r"line 4, column 1 \(id\): id 9007199254740993 is out"),
        (
            "1" + "0" * 30 + " 3 12 0 0 1 3",
            r"column 1 \('1000000000000000000000000000000'\) is out",
        ),
        ("4 3 12 0 0 1 9007199254740993", r"line 4, column 7 \(parent\): parent id 90071992547"),
        ("4 -3 12 0 0 1 3", r"line 4, column 2 \(type\): type -3 is out of range: types are"),
        ("4 2147483648 12 0 0 1 3", r"line 4, column 2 \(type\): type 2147483648 is out"),
        ("-4 3 12 0 0 1 3", r"line 4, column 1 \(id\): id -4 is out of range: ids are integers"),
    ],
)
def test_ids_types_and_parents_are_integers_in_range(tmp_path, line, pattern):
    _raises(tmp_path, GOOD + line + "\n", pattern)


def test_ids_above_2_to_the_53_are_not_reported_as_duplicates(tmp_path):
    text = f"{2**53} 1 0 0 0 5 -1\n{2**53 + 1} 3 6 0 0 1 {2**53}\n"
    _raises(tmp_path, text, r"line 1, column 1 \(id\): id 9007199254740992 is out of range")


def test_integral_decimals_are_accepted_as_integers(tmp_path):
    # Some tools write ids as 12.0; such a field must be exactly integral.
    text = "1.0 1. 0 0 0 5 -1.0\n+2 003 6 0 0 1 1.000\n3 3 10 0 0 1 2\n"
    _same_points(parse_swc(_write(tmp_path, GOOD, "a.swc")), parse_swc(_write(tmp_path, text)))


# ---- coordinates and radii ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line,pattern",
    [
        ("4 3 1e200 0 0 1 3", r"line 4, column 3 \(x\): coordinate 1e\+200 µm is beyond ±1e6 µm"),
        ("4 3 0 -1000001 0 1 3", r"line 4, column 4 \(y\): coordinate -1e\+06 µm is beyond"),
        ("4 3 0 0 1e400 1 3", r"line 4, column 5 \(z\): coordinate inf is not finite"),
        ("4 3 0 0 0 1e200 3", r"line 4, column 6 \(radius\): radius 1e\+200 µm is beyond 1e6"),
        ("4 3 12 0 0 -1 3", r"line 4, column 6 \(radius\): radius must be positive, got -1 µm"),
        ("4 3 12 0 0 0 3", r"radius must be positive, got 0 µm \(point id 4\) \(pass min_radius"),
        ("4 3 12 0 0 1e-300 3", r"line 4, column 6 \(radius\): radius 1e-300 µm is below 1e-6"),
        ("4 3 nan 0 0 1 3", r"line 4: column 3 \('nan'\) is a non-finite value: the x coordinate"),
        ("4 3 12 0 0 -Infinity 3", r"column 6 \('-Infinity'\) is a non-finite value"),
        ("4 3 0x1A 0 0 1 3", r"line 4: column 3 \('0x1A'\) is not a number: the x coordinate"),
        ("4 3 1_000 0 0 1 3", r"line 4: column 3 \('1_000'\) is not a number"),
    ],
)
def test_coordinates_and_radii_are_finite_and_plausible(tmp_path, line, pattern):
    _raises(tmp_path, GOOD + line + "\n", pattern)


def test_huge_coordinate_no_longer_gives_nan_geometry(tmp_path):
    path = _write(tmp_path, GOOD + "4 3 1e200 0 0 1 3\n")
    with pytest.raises(SWCError, match=r"line 4, column 3 \(x\)"):
        read_morphology_arrays(path, 2)


def test_coincident_points_warn(tmp_path):
    text = GOOD + "4 3 10 0 0 0.5 3\n5 3 10 0 0.000001 0.5 4\n6 3 20 0 0 0.5 5\n"
    pattern = (
        r"2 point\(s\) lie at their parent's position \(first: line 4 \(point id 4\)\); each "
        r"makes an edge of length 0, counted as 1e-5 µm \(a branch of such points only becomes "
        r"0.1 µm long\)"
    )
    with pytest.warns(UserWarning, match=pattern):
        parse_swc(_write(tmp_path, text))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_swc(_write(tmp_path, GOOD, "apart.swc"))  # no warning without coincident points


# ---- ASCII only --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token,char",
    [("١٢", "'١' (U+0661)"), ("１２", "'１' (U+FF11)"), ("१२", "'१' (U+0967)"), ("１2", "'１'")],
)
def test_only_ascii_digits_are_numbers(tmp_path, token, char):
    assert float(token) == 12.0  # Python's float() accepts them
    msg = _raises(tmp_path, GOOD + f"4 3 {token} 0 0 1 3\n", r"line 4: character 5 of the line is")
    assert char in msg and "ASCII digits" in msg


def test_bytes_that_are_not_utf8_in_a_field(tmp_path):
    _raises(
        tmp_path,
        GOOD.encode() + b"4 3 1\xe92 0 0 1 3\n",
        r"line 4: character 6 of the line is a byte that is not UTF-8",
    )


@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\u2028", "\u00a0"])
def test_fields_are_separated_by_spaces_or_tabs_only(tmp_path, sep):
    _raises(tmp_path, GOOD + f"4 3 12{sep}0 0 1 3\n", r"line 4: character 7 of the line is")
    _same_points(  # tabs are fine
        parse_swc(_write(tmp_path, GOOD, "a.swc")),
        parse_swc(_write(tmp_path, GOOD.replace(" ", "\t"), "tabs.swc")),
    )


# ---- arrays, other readers, no temporary files ------------------------------------------


def test_validate_points_names_source_and_point_id():
    ids, types = np.array([1, 2, 3]), np.array([1, 3, 3])
    xyz = np.array([[0.0, 0, 0], [6, 0, 0], [10, 0, 0]])
    parents = np.array([-1, 1, 2])
    points = validate_points(ids, types, xyz, [5.0, 1, 1], parents, source="cell.asc")
    np.testing.assert_array_equal(points.parent_index, [-1, 0, 1])
    assert points.line_numbers is None
    with pytest.raises(SWCError, match=r"^cell.asc, point id 2, radius: radius must be positive"):
        validate_points(ids, types, xyz, [5.0, -1, 1], parents, source="cell.asc")
    bad = xyz.copy()
    bad[2, 1] = np.nan
    with pytest.raises(SWCError, match=r"^cell.asc, point id 3, y: coordinate nan is not finite"):
        validate_points(ids, types, bad, [5.0, 1, 1], parents, source="cell.asc")
    with pytest.raises(SWCError, match=r"^cell.asc: ids must be integers, got 2.5 at row 1"):
        validate_points([1, 2.5, 3], types, xyz, [5.0, 1, 1], parents, source="cell.asc")
    with pytest.raises(SWCError, match=r"^cell.asc: xyz needs a numeric array of shape \(3, 3\)"):
        validate_points(ids, types, xyz[:, :2], [5.0, 1, 1], parents, source="cell.asc")


def _asc(tmp_path, far="45.0"):
    asc = tmp_path / "cell.asc"
    asc.write_text(
        '("CellBody"\n (Color Red)\n (CellBody)\n'
        " ( -5.0 0.0 0.0 0.1)\n ( 0.0 5.0 0.0 0.1)\n ( 5.0 0.0 0.0 0.1)\n"
        " ( 0.0 -5.0 0.0 0.1)\n)\n"
        f"( (Color Blue)\n (Dendrite)\n ( 0.0 5.0 0.0 2.0)\n ( 0.0 25.0 0.0 2.0)\n"
        f" ( 0.0 {far} 0.0 1.0)\n)\n"
    )
    return asc


def test_morphio_files_are_validated_under_their_own_name(tmp_path, monkeypatch):
    pytest.importorskip("morphio", reason="MorphIO (the morph extra) is not installed")
    from dendrax.io import read_morphology

    def no_temp_files(*args, **kwargs):
        raise AssertionError("read_morphology wrote a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temp_files)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_temp_files)
    cell = read_morphology(_asc(tmp_path), 1)
    assert cell.basal.nodes["length"].sum() == pytest.approx(40.0)
    path = _asc(tmp_path, far="4e7")
    with pytest.raises(SWCError, match=r"point id 7, y: coordinate 4e\+07 µm is beyond") as err:
        read_morphology(path, 1)
    assert str(err.value).startswith(f"{path}, ")


def test_morphio_read_failure_names_the_file(tmp_path):
    pytest.importorskip("morphio", reason="MorphIO (the morph extra) is not installed")
    from dendrax.io import read_morphology

    path = tmp_path / "broken.asc"
    path.write_text('("CellBody"\n (CellBody)\n ( 0 0 0\n')
    with pytest.raises(SWCError, match=re.escape(f"{path}: MorphIO cannot read this file")):
        read_morphology(path, 1)


def test_to_swc_graph_writes_no_temporary_file(tmp_path, monkeypatch):
    pytest.importorskip("networkx")
    from dendrax.io.graph import build_compartment_graph, from_graph, to_swc_graph

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = _write(tmp_path, "# header\n# more\n" + GOOD + "4 3 14 0 0 1 3\n")
    graph = to_swc_graph(path, num_lines=3)  # data lines, as Jaxley's np.loadtxt(...)[:3]
    assert sorted(graph.nodes) == [1, 2, 3]
    cell = from_graph(build_compartment_graph(to_swc_graph(path), ncomp=1))
    np.testing.assert_allclose(cell.nodes["length"].sum(), read_swc(path, 1).nodes["length"].sum())
    assert list(scratch.iterdir()) == []
    with pytest.raises(SWCError, match=r"cell.swc, line 3, column 7 \(parent\): parent id 9"):
        to_swc_graph(_write(tmp_path, "# h\n1 1 0 0 0 5 -1\n2 3 6 0 0 1 9\n"))


def test_swc_reader_does_not_import_the_builder():
    """morphology/ is below the builder: its SWC modules import nothing from dendrax.modules."""
    folder = Path(__file__).resolve().parents[2] / "src" / "dendrax" / "morphology"
    for name in ("swc_text.py", "swc_fast.py", "swc_parse.py", "swc_branches.py"):
        tree = ast.parse((folder / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                assert "modules" not in target, f"{name} imports {target}"
            elif isinstance(node, ast.Import):
                assert not any("dendrax.modules" in a.name for a in node.names), name


def test_branch_of_coincident_points_becomes_a_short_cylinder(tmp_path):
    """A branch whose points all lie at one place had area 0 (NaN in the simulation); it
    becomes 0.1 µm long, a cylinder of its radius, with a warning."""
    # Point 3 branches into a dendrite (to 4) and a duplicate of itself (5, a tip).
    text = "1 1 0 0 0 8 -1\n2 1 10 0 0 8 1\n3 3 20 0 0 2 2\n4 3 30 0 0 2 3\n5 3 20 0 0 2 3\n"
    path = _write(tmp_path, text)
    with pytest.warns(UserWarning) as caught:
        morph = read_morphology_arrays(path, 2)
    messages = [str(w.message) for w in caught]
    assert any(
        re.search(r"1 branch\(es\) of length 0 .* all lie at one position", m) for m in messages
    )
    assert any("1 point(s) lie at their parent's position (first: line 5" in m for m in messages)
    np.testing.assert_allclose(morph.branch_length, [20.0, 10.0, 0.1])
    flat = morph.branch_index == 2
    np.testing.assert_allclose(morph.length[flat], [0.05, 0.05])
    np.testing.assert_allclose(morph.area[flat], 2 * np.pi * 2 * 0.05)
    np.testing.assert_allclose(morph.volume[flat], np.pi * 4 * 0.05)
    np.testing.assert_allclose(morph.resistive_load_in[flat], 0.025 / (np.pi * 4))
    assert np.all(morph.area > 0)
