"""Nothing outside the builder (`src/dendrax/modules/`) touches its private state.

The builder's private names are read from `dendrax.modules` itself: the underscore
attributes of the builder classes (methods, properties, class attributes) and every
underscore attribute that code in `modules/` stores on an object outside a non-builder
class (`base._nodes = ...`, `view._loc_at = ...`), plus the names of
`construct.BUILDER_STATE`. Every other file of the package is parsed with `ast`; an access
of such a name on any object (`x._nodes`, `getattr(x, "_nodes")`,
`x.__dict__["_nodes"]`, `x.__dict__.get("_nodes")`) fails the test. Code outside the
builder reads `module.tables`, `node_indices`, `edge_indices`, `version` and writes
through the builder's named methods. There is no allow-list.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import dendrax
from dendrax.modules import Branch, Cell, Compartment, Module, Network, View
from dendrax.modules.construct import BUILDER_STATE

SRC = Path(dendrax.__file__).resolve().parent
BUILDER_DIR = SRC / "modules"
BUILDER_CLASSES = (Module, View, Compartment, Branch, Cell, Network)
_ACCESSORS = {"getattr", "setattr", "hasattr", "delattr"}
_DICT_METHODS = {"get", "pop", "setdefault"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _class_names() -> set[str]:
    return {c.__name__ for cls in BUILDER_CLASSES for c in cls.__mro__ if c is not object}


def _class_attributes() -> set[str]:
    return {
        name
        for cls in BUILDER_CLASSES
        for c in inspect.getmro(cls)
        if c is not object
        for name in vars(c)
        if _private(name)
    }


class _Stores(ast.NodeVisitor):
    """Underscore attributes stored in builder code (outside non-builder classes)."""

    def __init__(self, builder_classes: set[str]):
        self.builder_classes = builder_classes
        self.classes: list[str] = []
        self.names: set[str] = set()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        inside_other = self.classes and self.classes[-1] not in self.builder_classes
        if isinstance(node.ctx, ast.Store) and _private(node.attr) and not inside_other:
            self.names.add(node.attr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        # `base.__dict__.setdefault("_diffused_states", [])` and the like
        func = node.func
        is_dict_call = (
            isinstance(func, ast.Attribute)
            and func.attr in _DICT_METHODS
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "__dict__"
        )
        if is_dict_call and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str) and _private(node.args[0].value):
                self.names.add(node.args[0].value)
        self.generic_visit(node)


def builder_private_names() -> set[str]:
    stores = _Stores(_class_names())
    for path in BUILDER_DIR.rglob("*.py"):
        stores.visit(ast.parse(path.read_text(), str(path)))
    return stores.names | _class_attributes() | {n for n in BUILDER_STATE if _private(n)}


def private_accesses(source: str, names: set[str], filename: str = "<string>") -> list[str]:
    """`file:line: code` of every access to one of `names` in `source`."""
    found = []

    def hit(node, what):
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr in names:
            hit(node, ast.unparse(node))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            func, key = node.func, node.args[1]
            if (
                isinstance(func, ast.Name)
                and func.id in _ACCESSORS
                and isinstance(key, ast.Constant)
                and key.value in names
            ):
                hit(node, ast.unparse(node))
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            owner, key = node.func.value, node.args[0]
            if (
                node.func.attr in _DICT_METHODS
                and isinstance(owner, ast.Attribute)
                and owner.attr == "__dict__"
                and isinstance(key, ast.Constant)
                and key.value in names
            ):
                hit(node, ast.unparse(node))
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            key = node.slice
            if node.value.attr == "__dict__" and isinstance(key, ast.Constant):
                if key.value in names:
                    hit(node, ast.unparse(node))
    return found


def _outside_files():
    return [p for p in sorted(SRC.rglob("*.py")) if BUILDER_DIR not in p.parents]


def test_the_private_names_are_the_builders():
    names = builder_private_names()
    # A broken collector would find nothing and let everything pass.
    expected = {"_nodes", "_edges", "_branch_parents", "_ncomp_per_branch", "_xyzr", "_frustum"}
    expected |= {"_trainables", "_recordings", "_stimuli", "_clamps", "_version", "_inds"}
    expected |= {"_col", "_level", "_loc_at", "_diffused_states", "_touch", "_init_base"}
    assert expected <= names
    # pandas' subclass hooks of the node frame (modules/frames.py) are not builder state
    assert not {"_constructor", "_metadata"} & names


def test_the_checker_finds_every_kind_of_access():
    names = {"_nodes", "_edges"}
    source = (
        "a = cell.base._nodes\n"
        "net._edges = {}\n"
        "b = getattr(view, '_nodes', None)\n"
        "c = cell.__dict__['_edges']\n"
        "d = cell.__dict__.get('_nodes')\n"
        "e = cell.nodes, cell._name, getattr(cell, 'tables')\n"
    )
    found = private_accesses(source, names)
    assert [f.split(":")[1] for f in found] == ["1", "2", "3", "4", "5"]


def test_nothing_outside_the_builder_touches_its_private_state():
    names = builder_private_names()
    files = _outside_files()
    assert len(files) > 100  # the whole package outside modules/ is checked
    found = []
    for path in files:
        found += private_accesses(path.read_text(), names, str(path.relative_to(SRC.parent)))
    assert not found, (
        "private builder state used outside src/dendrax/modules/ (read `module.tables`, "
        "`node_indices`, `edge_indices`, `version`, or add a named builder method):\n"
        + "\n".join(found)
    )
