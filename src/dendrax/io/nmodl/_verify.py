"""An independent check of generated source before it is compiled.

The translator only writes checked identifiers and finite numbers; this module proves it
on the result, whatever the translator did: the source is parsed with `ast` and every
node must be of an allowed kind, every name one the generated module binds or the
runtime provides, every attribute a listed `jnp` function or a `_ModChannel` helper,
every constant a finite number or a string that is an identifier (an env key). So the
compiled code can do nothing but arithmetic on arrays and calls of those functions, and no
text of the `.mod` file can run as Python.
"""

from __future__ import annotations

import ast
import math
import re

#: Names provided by `_runtime.namespace` (and the two builtins the code uses).
RUNTIME_NAMES = frozenset(
    "jnp _ModChannel _exprelr _integrate _select dict frozenset _GLOBALS".split()
)
#: Names the generated functions bind (arguments, locals, class attributes and methods).
LOCAL_NAMES = frozenset(
    "self states v params dt delta_t env env_outer x _k compute_current update_states "
    "init_state _SUFFIX _PARAMS _SHARED _STATES _ASSIGNED _CURRENT".split()
)
_GENERATED = re.compile(r"_(?:fn|proc)_[A-Za-z0-9_]+|_(?:then|else|rhs)\d+|_a\d+")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:@\d+)?")
JNP_FUNCTIONS = frozenset(
    "exp log log10 sqrt sin cos tan tanh sinh cosh floor ceil abs arctan arcsin arccos "
    "power minimum maximum arctan2 divide logical_and logical_or logical_not".split()
)
SELF_ATTRIBUTES = frozenset({"_env", "_states", "_current"})
_NODES = frozenset(
    (
        ast.Module,
        ast.ClassDef,
        ast.FunctionDef,
        ast.arguments,
        ast.arg,
        ast.Return,
        ast.Expr,
        ast.Assign,
        ast.For,
        ast.If,
        ast.Call,
        ast.Name,
        ast.Load,
        ast.Store,
        ast.Constant,
        ast.Attribute,
        ast.Subscript,
        ast.BinOp,
        ast.UnaryOp,
        ast.Compare,
        ast.Dict,
        ast.List,
        ast.Add,
        ast.Sub,
        ast.Mult,
        ast.USub,
        ast.Lt,
        ast.Gt,
        ast.LtE,
        ast.GtE,
        ast.Eq,
        ast.NotEq,
        ast.In,
    )
)


class GeneratedCodeError(RuntimeError):
    """Generated source failed the check: a bug in dendrax's translator (please report)."""


def check_source(source: str, class_name: str) -> ast.Module:
    """Raise GeneratedCodeError unless `source` passes the checks of the module docstring.

    Returns the parsed module (compile it rather than the text: what was checked runs).
    """
    names = RUNTIME_NAMES | LOCAL_NAMES | {class_name}
    base = ast.dump(_base())

    def bad(node, why):
        raise GeneratedCodeError(
            f"generated NMODL code failed its safety check at line "
            f"{getattr(node, 'lineno', '?')}: {why} "
            "(a bug in dendrax.io.nmodl; please report it with the .mod file)"
        )

    tree = ast.parse(source, mode="exec")
    for node in ast.walk(tree):
        t = type(node)
        if t not in _NODES:
            bad(node, t.__name__)
        if t is ast.Name:
            name = node.id
        elif t is ast.arg:
            name = node.arg
        elif t is ast.FunctionDef or t is ast.ClassDef:
            name = node.name
            if node.decorator_list:
                bad(node, "decorator")
            if t is ast.ClassDef and (node.keywords or [ast.dump(b) for b in node.bases] != [base]):
                bad(node, "class bases")
        elif t is ast.Attribute:
            owner = node.value.id if type(node.value) is ast.Name else None
            allowed = JNP_FUNCTIONS if owner == "jnp" else SELF_ATTRIBUTES
            if owner not in ("jnp", "self") or node.attr not in allowed:
                bad(node, f"attribute {node.attr!r}")
            continue
        elif t is ast.Constant:
            value = node.value
            if type(value) is str:
                if _KEY.fullmatch(value) is None:
                    bad(node, f"string {value!r}")
            elif type(value) is float:
                if not math.isfinite(value):
                    bad(node, f"number {value!r}")
            elif not (value is None or type(value) in (int, bool)):
                bad(node, f"constant {value!r}")
            continue
        else:
            continue
        if name not in names and _GENERATED.fullmatch(name) is None:
            bad(node, f"name {name!r}")
    return tree


def _base():
    return ast.Name(id="_ModChannel", ctx=ast.Load())
