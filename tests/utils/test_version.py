"""`dendrax.__version__`: a string attribute and, as in Jaxley, a module of its own
(`from jaxley.__version__ import __version__`), both equal to pyproject.toml's version."""

import subprocess
import sys
import tomllib
from pathlib import Path

import dendrax

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _declared_version() -> str:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]


def test_version_attribute_and_module_match_pyproject():
    from dendrax.__version__ import __version__ as from_module

    assert dendrax.__version__ == from_module == _declared_version()
    assert isinstance(dendrax.__version__, str)
    assert all(part.isdigit() for part in dendrax.__version__.split("."))


def test_version_module_imported_first_leaves_the_attribute_a_string():
    """In a fresh interpreter, importing the submodule first must not shadow the string."""
    code = (
        "from dendrax.__version__ import __version__ as v\n"
        "import dendrax\n"
        "assert isinstance(dendrax.__version__, str), type(dendrax.__version__)\n"
        "print(v, dendrax.__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [_declared_version()] * 2
