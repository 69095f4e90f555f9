"""Load examples/rockpool_regression.py as a module (examples/ is not a package)."""

import importlib.util
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "examples" / "rockpool_regression.py"


def load():
    spec = importlib.util.spec_from_file_location("rockpool_regression", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
