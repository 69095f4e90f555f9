"""`read_mod` on hostile and broken files: nothing of the file runs as Python, and every
semantic error is reported at import time, naming the file, the block and the line.

References: NEURON's hh.mod (the mechanism a hostile name must not change: its generated
source is compared text for text) and hand-computed currents of small mechanisms.
"""

import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("neuron")
import neuron  # noqa: E402

from dendrax.io.nmodl import (  # noqa: E402
    NmodlError,
    NmodlUnsupportedError,
    mod_to_source,
    read_mod,
    read_mod_text,
)
from dendrax.io.nmodl._runtime import namespace  # noqa: E402
from dendrax.io.nmodl._verify import GeneratedCodeError, check_source  # noqa: E402

HH_MOD = Path(neuron.__file__).parent / ".data" / "share" / "modfile" / "hh.mod"
if not HH_MOD.exists():
    pytest.skip("NEURON's hh.mod not found in the neuron wheel", allow_module_level=True)
HH = HH_MOD.read_text()
MARKER = "PWNED_MARKER"


def _mod(body: str, suffix: str = "p") -> str:
    """A mechanism with a nonspecific current i = ... (mA/cm²) and g = 0.001 (S/cm²)."""
    head = f"NEURON {{ SUFFIX {suffix} NONSPECIFIC_CURRENT i }}\n"
    head += "PARAMETER { g = 0.001 }\nASSIGNED { v i }\n"
    return head + textwrap.dedent(body)


def _current(cls, v):
    """compute_current of a fresh instance at membrane potentials `v` (mV) -> mA/cm²."""
    ch = cls()
    v = np.asarray(v, dtype=float)
    states = {k: np.full_like(v, x) for k, x in ch.channel_states.items()}
    params = {k: np.full_like(v, x) for k, x in ch.channel_params.items()}
    return np.asarray(ch.compute_current(states, v, params))


# -- nothing of the file reaches exec -------------------------------------------------------

HOSTILE_NAMES = [
    f"x\nimport os; os.system('touch {MARKER}')\n#.mod",
    f'a"""; open("{MARKER}", "w"); """.mod',
    f"b'''; open('{MARKER}', 'w'); '''.mod",
    f"c\\\nopen('{MARKER}', 'w') #.mod",
    f"d\r__import__('os').system('touch {MARKER}')\r#.mod",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_name_runs_nothing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)  # where the payloads would create the marker
    path = tmp_path / name
    path.write_text(HH)
    cls = read_mod(path)
    assert not (tmp_path / MARKER).exists()
    # The file name is not part of the code: the source equals that of the plain file.
    assert cls.__nmodl_source__ == read_mod(HH_MOD).__nmodl_source__
    assert cls.__nmodl_info__["file"] == str(path) and repr(str(path)) in cls.__doc__
    assert cls().channel_params["hh_gnabar"] == 0.12


def test_hostile_title_comments_and_units_do_not_reach_the_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = f'"""; import os; os.system("touch {MARKER}") #'
    text = HH.replace("TITLE hh.mod", f"TITLE {payload}")
    text = f": {payload}\nCOMMENT\n{payload}\n{payload}\nENDCOMMENT\n" + text
    text = text.replace("gnabar = .12 (S/cm2)", "gnabar = .12 (S/cm2) : ''' # os.system")
    cls = read_mod_text(text, filename="title.mod")
    assert not (tmp_path / MARKER).exists()
    assert cls.__nmodl_source__ == read_mod(HH_MOD).__nmodl_source__
    assert "os" not in cls.__nmodl_source__.replace("pos", "")


@pytest.mark.parametrize("suffix", ["lambda", "jnp", "env", "dict", "self", "compute_current"])
def test_suffix_that_is_a_python_name_used_by_the_code(suffix):
    cls = read_mod_text(HH.replace("SUFFIX hh", f"SUFFIX {suffix}"), filename="s.mod")
    plain = read_mod(HH_MOD)
    assert cls().name == suffix and f"{suffix}_gnabar" in cls().channel_params
    assert cls.__name__ == f"Mechanism_{suffix}"  # a keyword or a name the code binds
    v = np.linspace(-80.0, 40.0, 7)
    np.testing.assert_array_equal(_current(cls, v), _current(plain, v))


def test_arguments_named_like_python_and_generated_names():
    # f(lambda, env, jnp) = lambda + env * jnp; i = g * f(v, 2, 3) = 0.001 * (v + 6)
    text = _mod("""
        BREAKPOINT { i = g * f(v, 2, 3) }
        FUNCTION f(lambda, env, jnp) { f = lambda + env * jnp }
    """)
    cls = read_mod_text(text, filename="args.mod")
    v = np.array([-70.0, 0.0, 12.5])
    np.testing.assert_allclose(_current(cls, v), 0.001 * (v + 6.0), rtol=1e-15)


def test_python_keywords_and_builtins_as_nmodl_names():
    # SUFFIX import, PARAMETER class, LOCAL exec, FUNCTION open(eval, os) = eval + os:
    # i = class * open(v, 2) = 0.001 * (v + 2).
    text = textwrap.dedent("""
        NEURON { SUFFIX import NONSPECIFIC_CURRENT i }
        PARAMETER { class = 0.001 }
        ASSIGNED { v i }
        BREAKPOINT { LOCAL exec
            exec = 2
            i = class * open(v, exec) }
        FUNCTION open(eval, os) { open = eval + os }
    """)
    cls = read_mod_text(text, filename="kw.mod")
    assert cls.__name__ == "Mechanism_import" and "import_class" in cls().channel_params
    v = np.array([1.0, -40.0])
    np.testing.assert_allclose(_current(cls, v), 0.001 * (v + 2.0), rtol=1e-15)


def test_generated_source_is_checked_before_it_runs():
    _, source = mod_to_source(HH, filename="hh.mod")
    check_source(source, "hh")  # passes
    for bad, why in [
        ("import os\n", "Import"),
        ("x = __import__('os')\n", "name '__import__'"),
        ("x = jnp.__class__\n", "attribute '__class__'"),
        ("x = jnp.load\n", "attribute 'load'"),
        ("x = env['a b']\n", "string 'a b'"),
        ("x = open\n", "name 'open'"),
        ("x = lambda: 0\n", "Lambda"),
        ("class hh(object):\n    pass\n", "class bases"),
    ]:
        with pytest.raises(GeneratedCodeError, match=why):
            check_source(source + bad, "hh")


def test_generated_code_runs_without_builtins():
    ns = namespace("m")
    assert set(ns["__builtins__"]) == {"__build_class__", "dict", "frozenset"}
    with pytest.raises(NameError, match="open"):
        exec("open('x')", ns)  # noqa: S102 - what the namespace allows


# -- semantic errors at import time ---------------------------------------------------------

# fmt: off
CASES = [
    ("undefined variable", _mod("BREAKPOINT { i = g * (v - zz) }"), NmodlError,
     r"undefined variable 'zz' in BREAKPOINT \(line 4\); declare it"),
    ("undeclared target", _mod("BREAKPOINT { yy = 1\n i = g * v }"), NmodlError,
     r"assignment to undeclared variable 'yy' in BREAKPOINT \(line 4\)"),
    ("recursion", _mod("""
        BREAKPOINT { i = g * f(v) }
        FUNCTION f(x) { if (x > 0) { f = f(x - 1) } else { f = 0 } }
     """), NmodlUnsupportedError, r"recursive FUNCTION f \(line 6\) \(f -> f\)"),
    ("mutual recursion", _mod("""
        BREAKPOINT { i = g * f(v) }
        FUNCTION f(x) { f = h(x) }
        FUNCTION h(x) { h = f(x) }
     """), NmodlUnsupportedError, r"recursive FUNCTION f \(line 6\) \(f -> h -> f\)"),
    ("arity", _mod("BREAKPOINT { i = g * f(v, 2) }\nFUNCTION f(x) { f = x }"), NmodlError,
     r"call of FUNCTION f in BREAKPOINT \(line 4\) has 2 argument\(s\); FUNCTION f takes 1"),
    ("builtin arity", _mod("BREAKPOINT { i = g * exp(v, 2) }"), NmodlError,
     r"call of exp\(\) in BREAKPOINT \(line 4\) has 2 argument\(s\); exp\(\) takes 1"),
    ("duplicate PARAMETER", HH.replace("gl = .0003", "gl = .0003\n gl = 1"), NmodlError,
     r"gl \(line 38\) is declared twice \(first at line 37\)"),
    ("PARAMETER and ASSIGNED", _mod("ASSIGNED { g }\nBREAKPOINT { i = g * v }"), NmodlError,
     r"g \(line 4\) is declared twice \(first at line 2\)"),
    ("duplicate USEION", HH.replace("USEION k READ ek WRITE ik", "USEION na READ ena"),
     NmodlError, r"USEION na \(line 26\) is declared twice \(first at line 25\)"),
    ("foreign ion variable", HH.replace("USEION na READ ena", "USEION na READ ek"), NmodlError,
     r"USEION na READ ek \(line 25\) is not a variable of ion na"),
    ("duplicate FUNCTION", HH + "FUNCTION vtrap(x, y) { vtrap = 0 }\n", NmodlError,
     r"FUNCTION vtrap \(line 126\) is defined twice \(first at line 117\)"),
    ("second BREAKPOINT", HH + "BREAKPOINT { il = 0 }\n", NmodlError,
     r"a second BREAKPOINT block \(line 126\)"),
    ("second SUFFIX", HH.replace("SUFFIX hh", "SUFFIX hh SUFFIX hh2"), NmodlError,
     r"a second SUFFIX \(line 24\)"),
    ("two arguments of a name", _mod("BREAKPOINT { i = f(v, v) }\nFUNCTION f(x, x) { f = x }"),
     NmodlError, r"FUNCTION f \(line 5\) has two arguments named x"),
    ("FUNCTION named like a variable", _mod("BREAKPOINT { i = g * v }\nFUNCTION g() { g = 1 }"),
     NmodlError, r"FUNCTION g \(line 5\) has the name of a variable"),
    ("variable used as FUNCTION", _mod("BREAKPOINT { i = f * v }\nFUNCTION f() { f = 1 }"),
     NmodlError, r"f in BREAKPOINT \(line 4\) is a block, not a variable \(missing '\(\)'\?\)"),
    ("PROCEDURE as value", _mod("BREAKPOINT { i = p(v) }\nPROCEDURE p(x) { }"),
     NmodlUnsupportedError, r"PROCEDURE p used as a value in BREAKPOINT \(line 4\)"),
    ("time t", _mod("BREAKPOINT { i = g * v * t }"), NmodlUnsupportedError,
     r"the time t in BREAKPOINT \(line 4\) is not available"),
    ("dt in BREAKPOINT", _mod("BREAKPOINT { i = g * v * dt }"), NmodlUnsupportedError,
     r"dt in BREAKPOINT \(line 4\)"),
    ("assign dt", _mod("INITIAL { dt = 1 }\nBREAKPOINT { i = g * v }"), NmodlError,
     r"assignment to dt in INITIAL \(line 4\)"),
    ("assign a constant", _mod("UNITS { F = (faraday) (coulomb) }\nINITIAL { F = 1 }\n"
                              "BREAKPOINT { i = g * v * F }"), NmodlError,
     r"assignment to the constant F in INITIAL \(line 5\)"),
    ("infinite number", _mod("BREAKPOINT { i = g * v }").replace("0.001", "1e999"),
     NmodlError, r"g = 1e999 \(line 2\) is not a finite number"),
    ("STATE written in BREAKPOINT", _mod("STATE { m }\nBREAKPOINT { m = 1\n i = g * m * v }"),
     NmodlUnsupportedError, r"assignment to STATE m in BREAKPOINT \(line 5\)"),
    ("derivative of a non-STATE", _mod("""
        STATE { m }
        BREAKPOINT { SOLVE s METHOD cnexp
            i = g * m * v }
        DERIVATIVE s { g' = -g }
     """), NmodlError, r"DERIVATIVE equation g' \(line 8\): g is not a STATE"),
    ("SOLVE without METHOD", HH.replace("METHOD cnexp", ""), NmodlUnsupportedError,
     r"SOLVE states without METHOD \(line 62\)"),
    ("second SOLVE", HH.replace("SOLVE states METHOD cnexp", "SOLVE states METHOD cnexp\n"
                                "SOLVE states METHOD cnexp"), NmodlUnsupportedError,
     r"a second SOLVE \(line 63\) \(the first at line 62"),
    ("SOLVE in a PROCEDURE",
     HH.replace("UNITSOFF\n        q10", "SOLVE states METHOD cnexp\nUNITSOFF\n q10"),
     NmodlUnsupportedError, r"SOLVE in PROCEDURE rates \(line 95\)"),
    ("derivative in an expression", _mod("STATE { m }\nINITIAL { m = m' }\nBREAKPOINT { i = v }"),
     NmodlUnsupportedError, r"derivative m' in an expression \(line 5\)"),
    ("deep expression", _mod("BREAKPOINT { i = g * " + "(" * 80 + "v" + ")" * 80 + " }"),
     NmodlUnsupportedError, r"expression nested more than 64 levels deep \(line 4\)"),
    ("deep if", _mod("BREAKPOINT { i = 0 " + "if (v > 0) { " * 30 + "i = v" + " }" * 30 + " }"),
     NmodlUnsupportedError, r"if/else if nested more than 24 deep \(line 4\)"),
    ("array STATE", _mod("STATE { m[3] }\nBREAKPOINT { i = g * v }"), NmodlUnsupportedError,
     r"array variable \(line 4\)"),
    ("INCLUDE", 'INCLUDE "/etc/passwd"\n' + HH, NmodlUnsupportedError,
     r"INCLUDE \(line 1\) is not supported: dendrax reads only the file it is given"),
    ("unterminated COMMENT", HH + "COMMENT\nnever closed\n", NmodlError,
     r"COMMENT \(line 126\) has no ENDCOMMENT"),
    ("syntax error", HH.replace("SUFFIX hh", "SUFFIX"), NmodlError,
     r"syntax error, unexpected USEION, expecting NAME \(line 25\): 'USEION na READ ena"),
    ("empty file", "", NmodlError, r"no NEURON block: a density mechanism needs one"),
    ("comments only", ": nothing\nCOMMENT\nx\nENDCOMMENT\n", NmodlError, r"no NEURON block"),
    ("NEURON without SUFFIX", "NEURON {\n RANGE g\n}\n", NmodlError,
     r"NEURON block \(line 1\) has no SUFFIX; add SUFFIX name"),
    ("NUL byte", HH.replace("SUFFIX hh", "SUFFIX h\x00h"), NmodlError,
     r"NUL byte \(line 24\): not a text file"),
    ("KINETIC", _mod("STATE { c o }\nKINETIC k { ~ c <-> o (1, 1) }\nBREAKPOINT { i = v }"),
     NmodlUnsupportedError, r"KINETIC block \(line 5\) is not supported"),
    ("VERBATIM", _mod("BREAKPOINT { i = v }\nVERBATIM\n system(\"rm -rf /\");\nENDVERBATIM\n"),
     NmodlUnsupportedError, r"VERBATIM block \(line 5\) is not supported"),
    ("file-level LOCAL", "LOCAL x\n" + HH, NmodlUnsupportedError,
     r"LOCAL at file level \(line 1\)"),
]
# fmt: on


@pytest.mark.parametrize("text, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_errors_name_file_block_and_line(tmp_path, text, error, pattern):
    path = tmp_path / "broken.mod"
    path.write_text(text)
    with pytest.raises(error, match=rf"^broken\.mod: {pattern}"):
        read_mod(path)


def test_unsupported_is_also_not_implemented_and_invalid_is_value_error():
    assert issubclass(NmodlUnsupportedError, NotImplementedError)
    assert issubclass(NmodlUnsupportedError, NmodlError) and issubclass(NmodlError, ValueError)


# -- encodings and values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        ("COMMENT\n auteur: J\xe9r\xf4me, 25 \xb5m\nENDCOMMENT\n" + HH).encode("latin-1"),
        b"\xef\xbb\xbf" + HH.encode("utf-8"),  # UTF-8 with a BOM
        (": Ma\u00ebl, 25 \u00b5m\n" + HH).encode("utf-8"),
    ],
    ids=["latin-1", "utf-8-bom", "utf-8"],
)
def test_encodings(tmp_path, data):
    path = tmp_path / "enc.mod"
    path.write_bytes(data)
    assert read_mod(path).__nmodl_source__ == read_mod(HH_MOD).__nmodl_source__


def test_truth_values_are_numbers_and_branch_locals_stay_local():
    # i = g * -(v > 0): -g where v > 0, else 0 (C semantics of a comparison's value).
    neg = read_mod_text(_mod("BREAKPOINT { i = g * -(v > 0) }"), filename="neg.mod")
    np.testing.assert_array_equal(_current(neg, [-10.0, 10.0]), [0.0, -0.001])
    # A LOCAL i declared in a branch must not change the current i = g * v.
    text = _mod("BREAKPOINT { i = g * v\n if (v > -100) {\n LOCAL i\n i = 5 } }")
    shadow = read_mod_text(text, filename="shadow.mod")
    np.testing.assert_allclose(_current(shadow, [-10.0, 10.0]), [-0.01, 0.01], rtol=1e-15)


def test_division_by_a_zero_local_gives_inf_not_an_exception():
    cls = read_mod_text(_mod("BREAKPOINT { LOCAL a\n i = g * v / a }"), filename="z.mod")
    assert np.all(np.isinf(_current(cls, [-10.0, 10.0])))  # reported by integrate's check


@pytest.mark.parametrize(
    "celsius, error, pattern",
    [
        ("hot", TypeError, r"celsius must be a number \(°C\) or None, got str"),
        (float("nan"), ValueError, r"celsius must be a finite temperature above -273.15"),
        (-300.0, ValueError, r"celsius must be a finite temperature above -273.15"),
    ],
)
def test_celsius_is_checked(celsius, error, pattern):
    with pytest.raises(error, match=pattern):
        read_mod(HH_MOD, celsius=celsius)


def test_cli_prints_the_clear_error(tmp_path, capsys):
    from dendrax.cli import main

    path = tmp_path / "undef.mod"
    path.write_text(_mod("BREAKPOINT { i = g * (v - zz) }"))
    assert main(["nmodl", str(path)]) == 1
    err = capsys.readouterr().err
    assert "does not import: undef.mod: undefined variable 'zz' in BREAKPOINT (line 4)" in err
    latin = tmp_path / "latin.mod"
    latin.write_bytes((": J\xe9r\xf4me\n" + HH).encode("latin-1"))
    assert main(["nmodl", str(latin)]) == 0
    assert "SUFFIX hh" in capsys.readouterr().out


_DECAY = _mod("""
    STATE { m }
    ASSIGNED { tau }
    INITIAL { tau = 2  m = 1 }
    BREAKPOINT { SOLVE s METHOD cnexp
        i = g * m * v }
    DERIVATIVE s { m' = -m / tau }
""")


def test_assigned_value_from_initial_persists_into_derivative():
    # tau is set in INITIAL only; as in NEURON it keeps its value: m(dt) = exp(-dt / tau).
    ch = read_mod_text(_DECAY, filename="decay.mod")()
    v = np.array([-65.0])
    params = {k: np.full(1, x) for k, x in ch.channel_params.items()}
    states = {k: np.full(1, x) for k, x in ch.channel_states.items()}
    states = ch.init_state(states, v, params, 0.1)
    states = ch.update_states(states, 0.1, v, params)
    np.testing.assert_allclose(states["p_m"], np.exp(-0.1 / 2.0), rtol=1e-14)


def test_assigned_value_from_breakpoint_into_derivative_is_rejected():
    text = _DECAY.replace("INITIAL { tau = 2  m = 1 }", "INITIAL { m = 1 }")
    text = text.replace("i = g * m * v }", "tau = 2\n i = g * m * v }")
    with pytest.raises(NmodlUnsupportedError, match=r"^b\.mod: ASSIGNED tau, read by DERIVATIVE"):
        read_mod_text(text, filename="b.mod")
