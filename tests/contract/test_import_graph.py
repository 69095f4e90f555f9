"""Layering of dendrax, from its import graph (read with `ast`, see `import_graph.py`).

(i) No import cycles among module-level imports. (ii) Nothing in the core layers imports
the builder (`dendrax.modules`, `dendrax.integrate`, `dendrax.connect`, or the root
package, which re-exports the builder), neither at module level nor inside a function.
(iii) Imports inside functions are allowed only where `LAZY_IMPORTS` lists them, with the
reason.

Today's exceptions are listed in `KNOWN_VIOLATIONS`, `KNOWN_CYCLES` and `LAZY_IMPORTS`;
each test fails on a new exception and on a listed one that no longer exists, so the lists
stay honest: delete an entry when its cause is removed. Run this file as a script to print
the graph's lazy imports and layer violations.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import dendrax

if __package__:
    from .import_graph import Import, cycles, import_graph
else:  # run as a script
    from import_graph import Import, cycles, import_graph

ROOT = Path(dendrax.__file__).resolve().parents[1]
PACKAGE = "dendrax"

CORE = (
    "dendrax.simulator",
    "dendrax.solvers",
    "dendrax.morphology",
    "dendrax.channels",
    "dendrax.synapses",
    "dendrax.pumps",
    "dendrax.utils.jax_utils",
    # Leaf modules the layers above share (numpy/dataclasses only).
    "dendrax.tables",
    "dendrax.errors",
    "dendrax.mechanisms_registry",
)
BUILDER = (
    "dendrax.modules",
    "dendrax.integrate",
    "dendrax.compiler",
    "dendrax.connect",
    "dendrax.functional",
)

#: (core module, builder module it imports): why, until the lead removes it.
KNOWN_VIOLATIONS: dict = {}

#: Strongly connected components of the module-level import graph: why they exist.
KNOWN_CYCLES = {
    frozenset({"dendrax.io.graph", "dendrax.io.graph_tools"}): (
        "io/graph.py re-exports graph_tools' helpers (last line), graph_tools imports "
        "io.graph's `_nx`; io/graph*.py are being reworked in another branch"
    ),
}

#: (module, module it imports inside a function): why the import is deferred.
LAZY_IMPORTS = {
    ("dendrax.cli", "dendrax"): "`dendrax --help` and argument errors need no JAX start-up",
    ("dendrax.cli", "dendrax.io.nmodl"): "optional NEURON dependency; its ImportError is reported",
    ("dendrax.cli", "dendrax.io.swc"): "`dendrax --help` needs no JAX start-up",
    ("dendrax.io.nmodl", "dendrax.io.nmodl._translate"): (
        "the translator pulls in NEURON's NMODL parser (optional): only when a file is read"
    ),
    # modules/base.py imports io.graph at module level (Module.to_graph), and io.graph runs
    # io/__init__, which imports io.swc: io may reach the builder only inside functions.
    ("dendrax.io.graph", "dendrax.modules.cell"): "the builder imports io.graph",
    ("dendrax.io.graph", "dendrax.modules.network"): "the builder imports io.graph",
    ("dendrax.io.swc", "dendrax.modules.cell"): "the builder imports io (through io.graph)",
    ("dendrax.io.registry", "dendrax.modules"): "the builder imports io (through io.graph)",
    ("dendrax.io.save_load", "dendrax.modules.base"): "the builder imports io (through io.graph)",
    ("dendrax.io.save_load", "dendrax.modules.construct"): (
        "the builder imports io (through io.graph); its saved state comes from the builder"
    ),
    ("dendrax.io.save_load", "dendrax.__version__"): (
        "importing dendrax's package __init__ from io would run the builder's imports"
    ),
    # No cycle: deferred only; io/graph.py and io/morphology.py are being reworked elsewhere.
    ("dendrax.io.graph", "dendrax.io.swc"): "no cycle (io reader rework pending)",
    ("dendrax.io.graph", "dendrax.morphology.layout"): "no cycle (io reader rework pending)",
    ("dendrax.io.graph", "dendrax.morphology.swc_parse"): "no cycle (io reader rework pending)",
    ("dendrax.io.morphology", "dendrax.io.swc"): "no cycle (io reader rework pending)",
    ("dendrax.modules.base", "dendrax.modules.frames"): "pandas is imported on first `.nodes`",
    ("dendrax.morphology.connect", "dendrax.morphology.editing"): (
        "editing re-exports morph_connect at module level; connect uses editing's helpers"
    ),
}


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@functools.cache
def _graph() -> list[Import]:
    return import_graph(ROOT, PACKAGE)


def _module_level_edges(graph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in graph:
        if not imp.lazy:
            edges.setdefault(imp.source, set()).add(imp.target)
    return edges


def layer_violations(graph) -> dict[tuple[str, str], list[Import]]:
    """Imports (module level or lazy) from a core module into the builder or the root."""
    found: dict[tuple[str, str], list[Import]] = {}
    for imp in graph:
        if _under(imp.source, CORE) and (_under(imp.target, BUILDER) or imp.target == PACKAGE):
            found.setdefault((imp.source, imp.target), []).append(imp)
    return found


def lazy_imports(graph) -> dict[tuple[str, str], list[Import]]:
    found: dict[tuple[str, str], list[Import]] = {}
    for imp in graph:
        if imp.lazy:
            found.setdefault((imp.source, imp.target), []).append(imp)
    return found


def _where(imports: list[Import]) -> str:
    return ", ".join(f"{i.source.replace('.', '/')}.py:{i.line}" for i in imports)


def _compare(found: dict, listed: dict, what: str, fix: str) -> None:
    new = sorted(set(found) - set(listed))
    gone = sorted(set(listed) - set(found))
    messages = [f"new {what}: {key} at {_where(found[key])}; {fix}" for key in new]
    messages += [f"listed {what} no longer exists: {key}; delete its entry" for key in gone]
    assert not messages, "\n".join(messages)


def test_the_graph_sees_the_package():
    graph = _graph()
    sources = {imp.source for imp in graph}
    # A broken parser would find nothing and pass every test below.
    assert {"dendrax", "dendrax.modules.base", "dendrax.channels.hh"} <= sources
    assert any(
        (i.source, i.target, i.lazy) == ("dendrax.modules.cell", "dendrax.modules.base", False)
        for i in graph
    )
    assert any(i.lazy for i in graph) and not all(i.lazy for i in graph)


def test_no_cycles_among_module_level_imports():
    found = {frozenset(c): c for c in cycles(_module_level_edges(_graph()))}
    new = [found[c] for c in found if c not in KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not new, f"new import cycles (break them, or defer one import with a reason): {new}"
    assert not gone, f"listed cycles no longer exist; delete them from KNOWN_CYCLES: {gone}"


def test_core_layers_do_not_import_the_builder():
    _compare(
        layer_violations(_graph()),
        KNOWN_VIOLATIONS,
        "import from a core layer into the builder",
        "move what is needed into the core (e.g. dendrax.tables) instead",
    )


def test_imports_inside_functions_are_listed_with_a_reason():
    assert all(isinstance(r, str) and r for r in LAZY_IMPORTS.values())
    _compare(
        lazy_imports(_graph()),
        LAZY_IMPORTS,
        "import inside a function",
        "import it at module level, or add it to LAZY_IMPORTS with the reason",
    )


if __name__ == "__main__":
    graph = _graph()
    print("Imports inside functions:")
    for key, imports in sorted(lazy_imports(graph).items()):
        print(f"  {key[0]} -> {key[1]}  ({_where(imports)}): {LAZY_IMPORTS.get(key, 'UNLISTED')}")
    print("Core -> builder imports:")
    for key, imports in sorted(layer_violations(graph).items()):
        print(f"  {key[0]} -> {key[1]}  ({_where(imports)})")
    print("Cycles:", cycles(_module_level_edges(graph)))
    sys.exit(0)
