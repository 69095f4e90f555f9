"""Import NEURON `.mod` files (NMODL) as dendrax `Channel` classes: `read_mod(path, celsius)`.

The file is parsed with the NMODL parser bundled in the `neuron` wheel; its AST is translated
into the Python source of a `Channel` subclass (array convention, `jax.numpy`), compiled with
`exec`; the source is kept in `cls.__nmodl_source__`, the interface in `cls.__nmodl_info__`.

Supported (HH subset): NEURON (SUFFIX, USEION READ/WRITE of reversal potentials and currents,
RANGE, GLOBAL, NONSPECIFIC_CURRENT), UNITS factors (FARADAY, R, PI), PARAMETER/STATE/ASSIGNED
defaults, BREAKPOINT with `SOLVE <b> METHOD cnexp|derivimplicit|euler` and current
assignments, DERIVATIVE equations linear in their state (cnexp = exact exponential step, as
NEURON), PROCEDURE/FUNCTION (LOCAL, if/else -> `jnp.where` over both branches), INITIAL.
Parameters/states are named `<SUFFIX>_<name>`; USEION reads (`ena`, `ek`, `eca`, `cai`, ...)
and `celsius` (°C; default 6.3 or the `celsius` argument) are shared unprefixed parameters
with NEURON's defaults. The current (mA/cm², outward +) sums written ion and nonspecific
currents; it is named `i_Na`/`i_K`/`i_Ca`... when exactly one ion current is written, else
`i_<SUFFIX>`. ASSIGNED values read but not computed by BREAKPOINT become states. `TABLE` is
ignored (results equal NEURON's with `usetable_<suffix> = 0`). KINETIC, NET_RECEIVE,
VERBATIM, POINTER, LINEAR/NONLINEAR, FROM, while, POINT_PROCESS, concentration writes and
nonlinear DERIVATIVE equations raise `NotImplementedError` naming the block and line.
"""

from __future__ import annotations

import re
from pathlib import Path

import jax
import jax.numpy as jnp

from dendrax.channels.channel import Channel

__all__ = ["read_mod", "mod_to_source"]

#: Default values of ion variables (NEURON's defaults; eca at 6.3 °C from cai/cao).
ION_DEFAULTS = {
    "ena": 50.0,
    "ek": -77.0,
    "eca": 132.4579341637009,
    "nai": 10.0,
    "nao": 140.0,
    "ki": 54.4,
    "ko": 2.5,
    "cai": 5e-5,
    "cao": 2.0,
}
#: Physical constants of UNITS factor definitions (NEURON 9, 2019 SI values).
FACTORS = {
    "faraday": 96485.33212331001,
    "k-mole": 8.31446261815324,
    "pi": 3.141592653589793,
    "R": 8.31446261815324,
}
_BUILTINS = {
    n: f"jnp.{n}"
    for n in (
        "exp",
        "log",
        "log10",
        "sqrt",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sinh",
        "cosh",
        "floor",
        "ceil",
    )
}
_BUILTINS.update(
    fabs="jnp.abs",
    pow="jnp.power",
    atan="jnp.arctan",
    asin="jnp.arcsin",
    acos="jnp.arccos",
    fmin="jnp.minimum",
    fmax="jnp.maximum",
    exprelr="_exprelr",
)
_BINOPS = {"+", "-", "*", "/", "<", ">", "<=", ">=", "==", "!="}
_CHILDREN = (
    "blocks",
    "statements",
    "statement_block",
    "expression",
    "lhs",
    "rhs",
    "arguments",
    "elseifs",
    "elses",
    "condition",
    "definitions",
)
_UNSUPPORTED = dict(  # AST node type -> NMODL keyword
    KineticBlock="KINETIC",
    NetReceiveBlock="NET_RECEIVE",
    Verbatim="VERBATIM",
    Pointer="POINTER",
    BbcorePointer="BBCOREPOINTER",
    LinearBlock="LINEAR",
    NonLinearBlock="NONLINEAR",
    DiscreteBlock="DISCRETE",
    FunctionTableBlock="FUNCTION_TABLE",
    WhileStatement="while",
    FromStatement="FROM",
    ForNetcon="FOR_NETCONS",
    WatchStatement="WATCH",
    LagStatement="LAG",
    ConstructorBlock="CONSTRUCTOR",
    DestructorBlock="DESTRUCTOR",
    External="EXTERNAL",
    BeforeBlock="BEFORE",
    AfterBlock="AFTER",
    ConserveStatement="CONSERVE",
    IndexedName="array variable",
    ElectrodeCurrent="ELECTRODE_CURRENT",
)
_IGNORED = {
    "LineComment",
    "BlockComment",
    "TableStatement",
    "UnitState",
    "ThreadSafe",
    "Model",
    "UnitBlock",
    "IndependentBlock",
    "ConstantBlock",
    "Range",
    "Global",
}


def _children(node):
    for name in _CHILDREN:
        child = getattr(node, name, None)
        for c in child if isinstance(child, list) else [child]:
            if c is not None and hasattr(c, "accept"):
                yield c


def _line(text: str, pattern: str) -> int | str:
    for i, row in enumerate(text.splitlines(), 1):
        if re.search(pattern, row.split(":")[0]):
            return i
    return "?"


def _exprelr(x):  # NEURON's exprelr: x / (exp(x) - 1)
    small = jnp.abs(x) < 1e-5
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2.0, safe / (jnp.exp(safe) - 1.0))


def _select(cond, a, b, before):
    out = {}
    for k in set(a) | set(b):
        x, y = a.get(k, before.get(k, 0.0)), b.get(k, before.get(k, 0.0))
        out[k] = x if x is y else jnp.where(cond, x, y)
    return out


def _integrate(method, rhs, x, dt):
    """One step of x' = rhs(x), rhs affine in x: cnexp (exact), derivimplicit, euler."""
    if method == "none":
        return x
    f, b = jax.jvp(rhs, (x,), (jnp.ones_like(x),))
    if method == "euler":
        return x + dt * f
    if method == "derivimplicit":
        return x + dt * f / (1.0 - dt * b)
    tiny = jnp.abs(b) * dt < 1e-12
    safe = jnp.where(tiny, -1.0, b)
    return jnp.where(tiny, x + dt * f, x + jnp.expm1(safe * dt) * f / safe)


class _ModChannel(Channel):
    """Base of generated classes: names `<name>_<x>` for PARAMETER/STATE, shared ion vars."""

    call_convention = "array"
    _SUFFIX, _PARAMS, _SHARED, _STATES, _ASSIGNED, _CURRENT = "", {}, {}, {}, [], None

    def __init__(self, name=None):
        super().__init__(self._SUFFIX if name is None else name)
        p = self._name
        self.channel_params = {f"{p}_{k}": v for k, v in self._PARAMS.items()}
        self.channel_params.update(self._SHARED)
        self.channel_states = {f"{p}_{k}": v for k, v in self._STATES.items()}
        self.current_name = self._CURRENT

    def _env(self, states, v, params):
        p = self._name
        env = {k: params[f"{p}_{k}"] for k in self._PARAMS}
        env.update({k: params[k] for k in self._SHARED})
        env.update({k: states[f"{p}_{k}"] for k in self._STATES})
        env.update({k: 0.0 for k in self._ASSIGNED})
        env["v"] = v
        return env

    def _states(self, env):
        shape = jnp.shape(env["v"])
        return {f"{self._name}_{k}": jnp.broadcast_to(env[k], shape) for k in self._STATES}


class _Translator:
    def __init__(self, text: str, filename: str, celsius: float | None):
        from neuron.nmodl import dsl

        self.text, self.filename = text, filename
        self.celsius = 6.3 if celsius is None else float(celsius)
        self.tree = dsl.NmodlDriver().parse_string(text)
        self.lines, self.counter, self.factors = [], 0, {}

    def fail(self, what: str, pattern: str, why: str = "is not supported"):
        line = _line(self.text, pattern)
        raise NotImplementedError(
            f"{self.filename}: {what} (line {line}) {why} (dendrax NMODL import)."
        )

    def fail_node(self, what: str, node):
        from neuron import nmodl

        first = nmodl.to_nmodl(node).strip().splitlines()[0][:40]
        self.fail(what, re.escape(first).replace("\\ ", r"\s*"))

    def check_supported(self):
        def walk(node):
            kind = type(node).__name__
            if kind in _UNSUPPORTED:
                kw = _UNSUPPORTED[kind]
                self.fail(f"{kw} block" if kw.isupper() else kw, rf"\b{re.escape(kw)}\b")
            for child in _children(node):
                walk(child)

        walk(self.tree)

    def read_interface(self):
        from neuron.nmodl import ast

        self.suffix, self.reads, self.ion_currents, self.nonspecific = None, [], [], []
        self.params, self.states, self.assigned = {}, {}, []
        self.functions, self.procedures, self.derivatives = {}, {}, {}
        self.initial = self.breakpoint = None
        named = {
            "FunctionBlock": self.functions,
            "ProcedureBlock": self.procedures,
            "DerivativeBlock": self.derivatives,
        }
        for block in self.tree.blocks:
            if isinstance(block, ast.NeuronBlock):
                for s in block.statement_block.statements:
                    if isinstance(s, ast.Suffix):
                        if s.type.get_node_name() != "SUFFIX":
                            self.fail(
                                s.type.get_node_name(),
                                rf"\b{s.type.get_node_name()}\b",
                                "(only density mechanisms, SUFFIX) is not supported",
                            )
                        self.suffix = s.name.get_node_name()
                    elif isinstance(s, ast.Useion):
                        for r in s.readlist:
                            self.reads.append(r.name.get_node_name())
                        for w in s.writelist:
                            name = w.name.get_node_name()
                            if not name.startswith("i"):
                                self.fail(
                                    f"USEION {s.name.get_node_name()} WRITE {name}",
                                    rf"WRITE.*\b{name}\b",
                                    "(a concentration write) is not supported; use dendrax.pumps",
                                )
                            self.ion_currents.append(name)
                    elif isinstance(s, ast.Nonspecific):
                        self.nonspecific += [c.name.get_node_name() for c in s.currents]
            elif isinstance(block, ast.ParamBlock):
                for s in block.statements:
                    self.params[s.name.get_node_name()] = s.value and s.value.eval()
            elif isinstance(block, ast.StateBlock):
                for d in block.definitions:
                    self.states[d.name.get_node_name()] = 0.0
            elif isinstance(block, ast.AssignedBlock):
                self.assigned += [d.name.get_node_name() for d in block.definitions]
            elif isinstance(block, ast.UnitBlock):
                for d in block.definitions:
                    if type(d).__name__ == "FactorDef":
                        self.read_factor(d)
            elif type(block).__name__ in named:
                named[type(block).__name__][block.name.get_node_name()] = block
            elif isinstance(block, ast.InitialBlock):
                self.initial = block
            elif isinstance(block, ast.BreakpointBlock):
                self.breakpoint = block
            elif type(block).__name__ not in _IGNORED:
                kind = type(block).__name__
                self.fail(kind, rf"\b{kind.upper()[:5]}", "is not supported")
        if self.suffix is None:
            self.fail("NEURON block", r"\bNEURON\b", "without SUFFIX is not supported")

    def read_factor(self, d):
        name = d.name.get_node_name()
        value = getattr(d, "value", None)
        unit1 = getattr(d, "unit1", None)
        unit = (unit1.get_node_name() if unit1 is not None else "").strip("()")
        if value is not None and hasattr(value, "eval"):
            self.factors[name] = float(value.eval())
        elif unit in FACTORS:
            self.factors[name] = FACTORS[unit]
        else:
            self.fail(f"UNITS factor {name}", rf"\b{name}\b\s*=", "has an unknown unit")

    def expr(self, node) -> str:
        kind = type(node).__name__
        if kind in ("Double", "Integer", "Float"):
            return repr(float(node.eval()))
        if kind == "DoubleUnit":
            return self.expr(node.value)
        if kind == "WrappedExpression":
            return self.expr(node.expression)
        if kind == "ParenExpression":
            return f"({self.expr(node.expression)})"
        if kind in ("Name", "VarName"):
            name = node.get_node_name()
            if name in self.factors:
                return repr(self.factors[name])
            return f"env[{name!r}]"
        if kind == "BinaryExpression":
            op, lhs, rhs = node.op.eval(), self.expr(node.lhs), self.expr(node.rhs)
            if op == "^":
                return f"jnp.power({lhs}, {rhs})"
            if op == "&&":
                return f"jnp.logical_and({lhs}, {rhs})"
            if op == "||":
                return f"jnp.logical_or({lhs}, {rhs})"
            if op in _BINOPS:
                return f"({lhs} {op} {rhs})"
            self.fail(f"operator {op!r}", re.escape(op))
        if kind == "UnaryExpression":
            op = node.op.eval()
            inner = self.expr(node.expression)
            return f"jnp.logical_not({inner})" if op == "!" else f"(-{inner})"
        if kind == "FunctionCall":
            name = node.name.get_node_name()
            args = [self.expr(a) for a in node.arguments]
            if name in self.functions:
                return f"_fn_{name}(env, {', '.join(args)})"
            if name in _BUILTINS:
                return f"{_BUILTINS[name]}({', '.join(args)})"
            self.fail(f"function {name}()", rf"\b{name}\s*\(")
        self.fail_node(f"expression {kind}", node)

    def emit(self, indent: int, line: str):
        self.lines.append("    " * indent + line)

    def block(self, statements, indent: int, diffeq: str | None = None):
        for s in statements:
            self.statement(s, indent, diffeq)

    def statement(self, s, indent: int, diffeq: str | None):
        kind = type(s).__name__
        if kind in _IGNORED:
            return
        if kind == "LocalListStatement":
            for v in s.variables:
                self.emit(indent, f"env[{v.name.get_node_name()!r}] = 0.0")
            return
        if kind == "IfStatement":
            self.if_statement(s, indent, diffeq)
            return
        if kind != "ExpressionStatement":
            self.fail_node(kind, s)
        e = s.expression
        ekind = type(e).__name__
        if ekind == "WrappedExpression":
            e, ekind = e.expression, type(e.expression).__name__
        if ekind == "SolveBlock":
            method = e.method.get_node_name() if e.method is not None else ""
            self.solve = (e.block_name.get_node_name(), method)
        elif ekind == "DiffEqExpression":
            if diffeq is None:
                self.fail("derivative equation outside DERIVATIVE", r"'")
            self.diff_eq(e.expression, indent, diffeq)
        elif ekind == "BinaryExpression" and e.op.eval() == "=":
            target = e.lhs.get_node_name()
            self.emit(indent, f"env[{target!r}] = {self.expr(e.rhs)}")
        elif ekind == "FunctionCall":
            name = e.name.get_node_name()
            args = ", ".join(self.expr(a) for a in e.arguments)
            if name in self.procedures:
                self.emit(indent, f"_proc_{name}(env, {args})")
            elif name in self.functions:
                self.emit(indent, f"_fn_{name}(env, {args})")
            else:
                self.fail(f"call of {name}()", rf"\b{name}\s*\(")
        else:
            self.fail_node(f"statement {ekind}", s)

    def if_statement(self, s, indent, diffeq):
        branches = [(s.condition, s.statement_block.statements)]
        branches += [(b.condition, b.statement_block.statements) for b in s.elseifs]
        otherwise = s.elses.statement_block.statements if s.elses is not None else []
        self.nested(branches, otherwise, indent, diffeq)

    def nested(self, branches, otherwise, indent, diffeq):
        self.counter = k = self.counter + 1
        cond = self.expr(branches[0][0])
        self.emit(indent, f"def _then{k}(env):")
        self.emit(indent + 1, "env = dict(env)")
        self.block(branches[0][1], indent + 1, diffeq)
        self.emit(indent + 1, "return env")
        self.emit(indent, f"def _else{k}(env):")
        self.emit(indent + 1, "env = dict(env)")
        if len(branches) > 1:
            self.nested(branches[1:], otherwise, indent + 1, diffeq)
        else:
            self.block(otherwise, indent + 1, diffeq)
        self.emit(indent + 1, "return env")
        self.emit(indent, f"env = _select({cond}, _then{k}(env), _else{k}(env), env)")

    def diff_eq(self, e, indent, diffeq):
        state = e.lhs.get_node_name()
        if self.degree(e.rhs, state) > 1:
            self.fail(
                f"DERIVATIVE equation {state}'",
                rf"\b{state}\s*'",
                f"is not linear in {state}, as cnexp requires",
            )
        self.counter = k = self.counter + 1
        self.emit(indent, f"def _rhs{k}(x, env=env):")
        self.emit(indent + 1, f"env = {{**env, {state!r}: x}}")
        self.emit(indent + 1, f"return {self.expr(e.rhs)}")
        self.emit(indent, f"env[{state!r}] = _integrate({diffeq!r}, _rhs{k}, env[{state!r}], dt)")

    def degree(self, node, state) -> int:
        """Polynomial degree of an expression in `state` (99: not a polynomial)."""
        kind = type(node).__name__
        if kind in ("WrappedExpression", "ParenExpression", "UnaryExpression"):
            return self.degree(node.expression, state)
        if kind in ("Name", "VarName"):
            return int(node.get_node_name() == state)
        if kind == "FunctionCall":
            return 0 if all(self.degree(x, state) == 0 for x in node.arguments) else 99
        if kind != "BinaryExpression":
            return 0
        op, a, b = node.op.eval(), self.degree(node.lhs, state), self.degree(node.rhs, state)
        if op in ("+", "-"):
            return max(a, b)
        if op == "*":
            return a + b
        if op == "/" and b == 0:
            return a
        return 0 if a == b == 0 else 99

    def scan(self, node, reads: set, writes: set, seen: set):
        """Names read and assigned by a block, following PROCEDURE calls."""
        kind = type(node).__name__
        if kind == "VarName":
            reads.add(node.get_node_name())
        elif kind == "BinaryExpression" and node.op.eval() == "=":
            writes.add(node.lhs.get_node_name())
            return self.scan(node.rhs, reads, writes, seen)
        elif kind == "FunctionCall" and node.name.get_node_name() in self.procedures:
            name = node.name.get_node_name()
            if name not in seen:
                seen.add(name)
                self.scan(self.procedures[name].statement_block, reads, writes, seen)
        for child in _children(node):
            self.scan(child, reads, writes, seen)

    def callable_def(self, block, is_function: bool):
        name = block.name.get_node_name()
        args = [a.name.get_node_name() for a in block.parameters]
        kind = "fn" if is_function else "proc"
        self.emit(0, f"def _{kind}_{name}(env_outer, {', '.join(args)}):")
        self.emit(1, "env = dict(env_outer)")
        for a in args:
            self.emit(1, f"env[{a!r}] = {a}")
        if is_function:
            self.emit(1, f"env[{name!r}] = 0.0")
        self.block(block.statement_block.statements, 1)
        locals_ = set(args) | {name}
        for s in block.statement_block.statements:
            if type(s).__name__ == "LocalListStatement":
                locals_ |= {v.name.get_node_name() for v in s.variables}
        self.emit(1, f"for _k in _GLOBALS - frozenset({sorted(locals_)!r}):")
        self.emit(2, "if _k in env:")
        self.emit(3, "env_outer[_k] = env[_k]")
        if is_function:
            self.emit(1, f"return env[{name!r}]")

    def generate(self) -> tuple[str, str]:
        self.check_supported()
        self.read_interface()
        sfx = self.suffix
        self.solve = None
        currents = self.ion_currents + self.nonspecific
        shared = {r: ION_DEFAULTS.get(r, 0.0) for r in self.reads if r not in self.ion_currents}
        shared["celsius"] = self.celsius
        params = {
            k: (0.0 if v is None else float(v))
            for k, v in self.params.items()
            if k not in ("v", "celsius") and k not in shared
        }
        for k, v in self.params.items():  # PARAMETER may redeclare ion variables
            if k in shared and v is not None:
                shared[k] = float(v)
        bp_reads, bp_writes = set(), set()
        if self.breakpoint is not None:
            self.scan(self.breakpoint.statement_block, bp_reads, bp_writes, set())
        kept = [
            a
            for a in self.assigned
            if a in bp_reads
            and a not in bp_writes
            and a not in shared
            and a not in currents
            and a not in ("v", "celsius", "dt")
        ]
        states = {**self.states, **{a: 0.0 for a in kept}}
        ion = None
        if len(self.ion_currents) == 1 and not self.nonspecific:
            ion = self.ion_currents[0][1:].capitalize()
        current_name = f"i_{ion}" if ion else f"i_{sfx}"
        module_vars = set(params) | set(shared) | set(states) | set(self.assigned) | {"v"}

        self.emit(0, f"# Generated by dendrax.io.nmodl from {self.filename}")
        self.emit(0, f"_GLOBALS = frozenset({sorted(module_vars)!r})")
        for block in self.functions.values():
            self.callable_def(block, True)
        for block in self.procedures.values():
            self.callable_def(block, False)
        cls = re.sub(r"\W", "_", sfx)
        assigned = [a for a in self.assigned if a not in states and a not in shared and a != "v"]
        self.emit(0, f"class {cls}(_ModChannel):")
        self.emit(1, f'"""Imported from {self.filename} (SUFFIX {sfx}); see `read_mod`."""')
        for key, value in (
            ("SUFFIX", sfx),
            ("PARAMS", params),
            ("SHARED", shared),
            ("STATES", states),
            ("ASSIGNED", assigned),
            ("CURRENT", current_name),
        ):
            self.emit(1, f"_{key} = {value!r}")
        bp = self.breakpoint.statement_block.statements if self.breakpoint is not None else []
        self.emit(1, "def compute_current(self, states, v, params):")
        self.emit(2, "env = self._env(states, v, params)")
        self.block(bp, 2)
        self.emit(2, f"return {' + '.join(f'env[{c!r}]' for c in currents) or '0.0 * v'}")
        self.emit(1, "def update_states(self, states, dt, v, params):")
        self.emit(2, "env = self._env(states, v, params)")
        if self.solve is not None:
            block_name, method = self.solve
            if method not in ("cnexp", "derivimplicit", "euler"):
                self.fail(f"SOLVE {block_name} METHOD {method}", rf"METHOD\s+{method}")
            if block_name not in self.derivatives:
                self.fail(
                    f"SOLVE {block_name}",
                    rf"SOLVE\s+{block_name}",
                    "(only DERIVATIVE blocks can be solved)",
                )
            self.block(self.derivatives[block_name].statement_block.statements, 2, method)
        self.emit(2, "return self._states(env)")
        self.emit(1, "def init_state(self, states, v, params, delta_t):")
        self.emit(2, "env = self._env(states, v, params)")
        if self.initial is not None:
            self.block(self.initial.statement_block.statements, 2)
        if self.solve is not None and kept:  # assigned values needed by BREAKPOINT
            self.block(self.derivatives[self.solve[0]].statement_block.statements, 2, "none")
        self.emit(2, "return self._states(env)")
        return cls, "\n".join(self.lines) + "\n"


_PRELUDE = """import jax.numpy as jnp

from dendrax.io.nmodl import _ModChannel, _exprelr, _integrate, _select  # noqa: F401
"""


def mod_to_source(text: str, celsius: float | None = None, filename: str = "<string>"):
    """Translate NMODL `text` into Python source; returns `(class_name, source)`."""
    cls, body = _Translator(text, filename, celsius).generate()
    return cls, _PRELUDE + "\n\n" + body


def read_mod(path, celsius: float | None = None):
    """Import the `.mod` file at `path` as a `Channel` subclass (see the module docstring).

    `celsius` (°C) is the default of the shared parameter `celsius` (NEURON's 6.3 when None;
    also settable with `module.set("celsius", ...)`). Raises `NotImplementedError` for
    constructs outside the supported subset, naming the block and the line.
    """
    path = Path(path)
    tr = _Translator(path.read_text(), path.name, celsius)
    name, body = tr.generate()
    source = _PRELUDE + "\n\n" + body
    namespace: dict = {"__name__": f"dendrax.io.nmodl.generated.{name}"}
    exec(compile(source, f"<nmodl:{path.name}>", "exec"), namespace)  # noqa: S102
    cls = namespace[name]
    cls.__nmodl_source__ = source
    cls.__nmodl_info__ = {
        "suffix": tr.suffix,
        "ion_reads": tr.reads,
        "ion_currents": tr.ion_currents,
        "nonspecific_currents": tr.nonspecific,
        "parameters": dict(tr.params),
        "states": list(tr.states),
        "celsius": tr.celsius,
        "file": str(path),
    }
    return cls
