"""The import graph of a Python package, read with `ast` (no module is imported).

`import_graph(root, package)` returns one `Import` per imported package-internal module and
statement: `lazy` is True for imports inside a function or method (run when it is called),
False for those run when the module is imported (module level, also inside `if`/`try` or a
class body). `from pkg import name` counts as an import of `pkg.name` when that is a module,
else of `pkg`. Imports of modules outside `package` are left out.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Import:
    """`source` imports `target` (dotted module names) at line `line`."""

    source: str
    target: str
    line: int
    lazy: bool


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every `.py` file of the package at `root/package`."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name of `from <...> import` in module `source`."""
    if node.level == 0:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str, modules: dict) -> str:
    """`name`, or its longest prefix that is a module (for `import pkg.mod.attr` forms)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str, is_package: bool, modules: dict, package: str):
        self.source, self.is_package = source, is_package
        self.modules, self.package = modules, package
        self.depth = 0  # > 0 inside a function body
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.stmt) -> None:
        if target == self.package or target.startswith(self.package + "."):
            target = _known(target, self.modules)
            if target and target != self.source:
                self.found.append(Import(self.source, target, node.lineno, self.depth > 0))

    def _function(self, node) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.source, self.is_package, node)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in self.modules else base, node)


def import_graph(root: Path, package: str) -> list[Import]:
    """Every package-internal import of every module under `root/package`, sorted."""
    modules = module_names(root, package)
    found: list[Import] = []
    for name, path in modules.items():
        collector = _Collector(name, path.name == "__init__.py", modules, package)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.found)
    return sorted(set(found), key=lambda i: (i.source, i.target, i.line))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative), each
    sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)
