"""Translation of a checked `.mod` AST into the Python source of a `Channel` subclass.

No text of the file reaches the source except names checked to be ASCII identifiers,
written as string literals (`env['m']`) or behind a fixed prefix (`_fn_rates`); numbers are
written as `repr(float)` of finite values. File name, comments, TITLE and units never
appear. `_verify.check_source` re-checks the result before it is compiled.

While translating, every name is resolved (LOCAL, argument, UNITS/CONSTANT factor, declared
variable), so that undefined variables, calls with the wrong number of arguments, recursion
and the like are reported at import time with file, block and line, not at simulation time.
"""

from __future__ import annotations

import keyword

from ._interface import SPECIAL, ModFile, kind, lookup, rendering
from ._runtime import ION_DEFAULTS

#: NMODL built-in functions: the jnp expression and the number of arguments.
BUILTINS = {
    n: (f"jnp.{n}", 1)
    for n in ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh")
}
BUILTINS.update({n: (f"jnp.{n}", 1) for n in ("floor", "ceil")})
BUILTINS.update(
    fabs=("jnp.abs", 1),
    atan=("jnp.arctan", 1),
    asin=("jnp.arcsin", 1),
    acos=("jnp.arccos", 1),
    exprelr=("_exprelr", 1),
    pow=("jnp.power", 2),
    fmin=("jnp.minimum", 2),
    fmax=("jnp.maximum", 2),
    atan2=("jnp.arctan2", 2),
)
_COMPARE = {"<", ">", "<=", ">=", "==", "!="}
_ARITH = {"+": "+", "-": "-", "*": "*"}
#: Nesting limits that keep the generated source within Python's parser limits.
MAX_DEPTH, MAX_IF_DEPTH = 64, 24
METHODS = ("cnexp", "derivimplicit", "euler")
#: Names the generated module binds itself; a SUFFIX among them gets another class name.
RESERVED = frozenset(
    "jnp dict frozenset env env_outer self states v params dt delta_t x _k _GLOBALS "
    "compute_current update_states init_state".split()
)


class _Usage:
    """Globals read and written, and callables called, by one block (for checks)."""

    def __init__(self):
        self.reads, self.writes, self.calls = set(), set(), set()


class Translator(ModFile):
    """`Translator(text, filename, celsius).generate()` -> (class name, Python source)."""

    def __init__(self, text: str, filename: str, celsius: float):
        super().__init__(text, filename)
        self.celsius = celsius
        self.lines, self.counter = [], 0

    # -- scopes ----------------------------------------------------------------------------

    def enter(self, context: str, usage: _Usage | None = None):
        self.context, self.scopes, self.if_depth = context, [{}], 0
        self.usage = usage if usage is not None else _Usage()

    def local(self, name: str, node) -> str:
        """Declare a LOCAL/argument in the innermost scope; returns its env key."""
        name = self.ident(name, node)
        visible = name in self.globals or name in self.factors or name in self.callables
        visible = visible or any(name in s for s in self.scopes)
        key = f"{name}@{self.counter + 1}" if visible else name
        self.counter += visible
        self.scopes[-1][name] = key
        return key

    def resolve(self, name: str, node, write: bool = False) -> str | None:
        """The env key of a variable (None: a constant factor), or raise naming the file."""
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        where = f"in {self.context}"
        if name in self.factors:
            if write:
                self.invalid(f"assignment to the constant {name} {where}", node)
            return None
        if name in self.globals:
            if write and name == "dt":
                self.invalid(f"assignment to dt {where}", node, "(dt is set by the simulator)")
            (self.usage.writes if write else self.usage.reads).add(name)
            return name
        if name == "t":
            self.unsupported(f"the time t {where}", node, "is not available to dendrax channels")
        if name in self.callables or name in self.derivatives:
            self.invalid(f"{name} {where}", node, "is a block, not a variable (missing '()'?)")
        action = "assignment to undeclared variable" if write else "undefined variable"
        self.invalid(
            f"{action} {name!r} {where}",
            node,
            "; declare it in PARAMETER, ASSIGNED or STATE, or as LOCAL",
        )

    # -- expressions -----------------------------------------------------------------------

    def expr(self, node, cond: bool = False, depth: int = 0) -> str:
        """Python expression of an NMODL expression; `cond`: a truth value is wanted."""
        k = kind(node)
        if depth > MAX_DEPTH:
            self.unsupported(f"expression nested more than {MAX_DEPTH} levels deep", node)
        if k in ("Double", "Integer", "Float"):
            return repr(self.number(node, "number"))
        if k == "DoubleUnit":
            return self.expr(node.value, cond, depth)
        if k == "WrappedExpression":
            return self.expr(node.expression, cond, depth)
        if k == "ParenExpression":
            return f"({self.expr(node.expression, cond, depth + 1)})"
        if k in ("Name", "VarName"):
            if kind(getattr(node, "name", None)) == "PrimeName":
                self.unsupported(f"derivative {rendering(node)} in an expression", node)
            key = self.resolve(node.get_node_name(), node)
            return repr(self.factors[node.get_node_name()]) if key is None else f"env[{key!r}]"
        if k == "BinaryExpression":
            return self.binary(node, cond, depth + 1)
        if k == "UnaryExpression":
            op = node.op.eval()
            if op == "!":
                inner = self.expr(node.expression, True, depth + 1)
                return self.truth(f"jnp.logical_not({inner})", cond)
            if op == "-":
                return f"(-{self.expr(node.expression, False, depth + 1)})"
            self.unsupported(f"operator {op!r}", node)
        if k == "FunctionCall":
            return self.call(node, depth + 1)
        self.unsupported(f"expression {rendering(node)[:40]!r} ({k}) in {self.context}", node)

    @staticmethod
    def truth(text: str, cond: bool) -> str:
        """A truth value as 1.0/0.0 where a number is wanted (C semantics; never a bool)."""
        return text if cond else f"({text} * 1.0)"

    def binary(self, node, cond: bool, depth: int) -> str:
        op = node.op.eval()
        if op in ("&&", "||"):
            lhs, rhs = self.expr(node.lhs, True, depth), self.expr(node.rhs, True, depth)
            fn = "logical_and" if op == "&&" else "logical_or"
            return self.truth(f"jnp.{fn}({lhs}, {rhs})", cond)
        lhs, rhs = self.expr(node.lhs, False, depth), self.expr(node.rhs, False, depth)
        if op == "^":
            return f"jnp.power({lhs}, {rhs})"
        if op == "/":  # jnp: x / 0 is inf (reported by the simulator), never ZeroDivisionError
            return f"jnp.divide({lhs}, {rhs})"
        if op in _ARITH:
            return f"({lhs} {op} {rhs})"
        if op in _COMPARE:
            return self.truth(f"({lhs} {op} {rhs})", cond)
        if op == "=":
            self.invalid(f"assignment inside an expression in {self.context}", node)
        self.unsupported(f"operator {op!r}", node)

    def arguments(self, node, expected: int, what: str, depth: int) -> list[str]:
        args = list(node.arguments)
        if len(args) != expected:
            s = "" if expected == 1 else "s"
            self.invalid(
                f"call of {what} in {self.context}",
                node,
                f"has {len(args)} argument(s); {what} takes {expected} argument{s}",
            )
        return [self.expr(a, False, depth) for a in args]

    def call(self, node, depth: int) -> str:
        name = node.name.get_node_name()
        if name in self.callables:
            keyword_, _, params = self.callables[name]
            if keyword_ == "PROCEDURE":
                self.unsupported(
                    f"PROCEDURE {name} used as a value in {self.context}",
                    node,
                    "(only FUNCTIONs return values) is not supported",
                )
            args = self.arguments(node, len(params), f"FUNCTION {name}", depth)
            self.usage.calls.add(name)
            return f"_fn_{self.ident(name, node)}({', '.join(['env', *args])})"
        if name in BUILTINS:
            fn, n = BUILTINS[name]
            return f"{fn}({', '.join(self.arguments(node, n, f'{name}()', depth))})"
        if name in self.derivatives:
            self.invalid(f"call of DERIVATIVE {name} in {self.context}", node, "; use SOLVE")
        self.unsupported(
            f"function {name}() in {self.context}",
            node,
            "is neither a FUNCTION of this file nor a supported built-in "
            f"({', '.join(sorted(BUILTINS))})",
        )

    # -- statements ------------------------------------------------------------------------

    def emit(self, indent: int, line: str):
        self.lines.append("    " * indent + line)

    def block(self, statements, indent: int, diffeq: str | None = None):
        for s in statements:
            self.statement(s, indent, diffeq)

    def statement(self, s, indent: int, diffeq: str | None):
        k = kind(s)
        if k in ("LineComment", "BlockComment", "TableStatement", "UnitState"):
            return  # TABLE: results equal NEURON's with usetable = 0
        if k == "LocalListStatement":
            for var in s.variables:
                self.emit(indent, f"env[{self.local(var.name.get_node_name(), s)!r}] = 0.0")
            return
        if k == "IfStatement":
            self.if_statement(s, indent, diffeq)
            return
        if k != "ExpressionStatement":
            self.unsupported(f"statement {rendering(s)[:40]!r} in {self.context}", s)
        e = s.expression
        if kind(e) == "WrappedExpression":
            e = e.expression
        ek = kind(e)
        if ek == "SolveBlock":
            self.solve_statement(e, s)
        elif ek == "DiffEqExpression":
            if diffeq is None:
                self.unsupported(f"derivative equation in {self.context}", s, why=_DIFFEQ_ONLY)
            self.diff_eq(e.expression, indent, diffeq, s)
        elif ek == "BinaryExpression" and e.op.eval() == "=":
            if kind(e.lhs) not in ("Name", "VarName") or kind(e.lhs.name) == "PrimeName":
                self.unsupported(f"assignment to {rendering(e.lhs)!r} in {self.context}", s)
            value = self.expr(e.rhs)
            self.emit(indent, f"env[{self.resolve(e.lhs.get_node_name(), s, True)!r}] = {value}")
        elif ek == "FunctionCall":
            name = e.name.get_node_name()
            if name in self.callables:
                keyword_, _, params = self.callables[name]
                args = self.arguments(e, len(params), f"{keyword_} {name}", 1)
                self.usage.calls.add(name)
                prefix = "_fn_" if keyword_ == "FUNCTION" else "_proc_"
                self.emit(indent, f"{prefix}{self.ident(name, s)}({', '.join(['env', *args])})")
            else:
                self.call(e, 1)  # a built-in's value is dropped: nothing to emit
        else:
            self.unsupported(f"statement {rendering(s)[:40]!r} in {self.context}", s)

    def solve_statement(self, e, s):
        if self.context != "BREAKPOINT" or len(self.scopes) > 1:
            self.unsupported(f"SOLVE in {self.context}", s, why="(only at the top of BREAKPOINT)")
        if self.solve is not None:
            first = self.line_of(self.solve_node)
            self.unsupported(
                "a second SOLVE",
                why=f"(the first at line {first}; one DERIVATIVE block) is not supported",
                line=self.line_of(s, after=first or 0),
            )
        name = e.block_name.get_node_name()
        if getattr(e, "steadystate", None) is not None:
            self.unsupported(f"SOLVE {name} STEADYSTATE", s)
        method = e.method.get_node_name() if e.method is not None else None
        if name not in self.derivatives:
            self.unsupported(f"SOLVE {name}", s, "(only DERIVATIVE blocks can be solved)")
        if method not in METHODS:
            self.unsupported(
                f"SOLVE {name} METHOD {method}" if method else f"SOLVE {name} without METHOD",
                s,
                f"is not supported (use METHOD {', '.join(METHODS)})",
            )
        self.solve, self.solve_node = (name, method), s

    def if_statement(self, s, indent, diffeq):
        branches = [(s.condition, s.statement_block.statements)]
        branches += [(b.condition, b.statement_block.statements) for b in s.elseifs]
        otherwise = s.elses.statement_block.statements if s.elses is not None else []
        if self.if_depth + len(branches) > MAX_IF_DEPTH:
            self.unsupported(f"if/else if nested more than {MAX_IF_DEPTH} deep", s)
        self.if_depth += len(branches)
        self.nested(branches, otherwise, indent, diffeq)
        self.if_depth -= len(branches)

    def nested(self, branches, otherwise, indent, diffeq):
        self.counter = k = self.counter + 1
        cond = self.expr(branches[0][0], cond=True)
        for label, body in (("_then", branches[0][1]), ("_else", None)):
            self.emit(indent, f"def {label}{k}(env):")
            self.emit(indent + 1, "env = dict(env)")
            self.scopes.append({})
            if body is not None:
                self.block(body, indent + 1, diffeq)
            elif len(branches) > 1:
                self.nested(branches[1:], otherwise, indent + 1, diffeq)
            else:
                self.block(otherwise, indent + 1, diffeq)
            self.scopes.pop()
            self.emit(indent + 1, "return env")
        self.emit(indent, f"env = _select({cond}, _then{k}(env), _else{k}(env), env)")

    def diff_eq(self, e, indent, diffeq, s):
        lhs = e.lhs
        state = lhs.get_node_name()
        order = rendering(lhs).count("'")
        if order != 1:
            self.unsupported(f"DERIVATIVE equation {rendering(lhs)} (order {order})", s)
        if state not in self.states:
            self.invalid(f"DERIVATIVE equation {state}'", s, f": {state} is not a STATE")
        if self.degree(e.rhs, state) > 1:
            self.unsupported(
                f"DERIVATIVE equation {state}'", s, f"is not linear in {state}, as cnexp requires"
            )
        key = self.resolve(state, s, write=True)
        if key != state:
            self.invalid(f"DERIVATIVE equation {state}'", s, f": {state} is a LOCAL here")
        self.counter = k = self.counter + 1
        self.emit(indent, f"def _rhs{k}(x, env=env):")
        self.emit(indent + 1, f"env = {{**env, {key!r}: x}}")
        self.emit(indent + 1, f"return {self.expr(e.rhs)}")
        step = f"_integrate({diffeq!r}, _rhs{k}, env[{key!r}], env['dt'])"
        self.emit(indent, f"env[{key!r}] = {step}")

    def degree(self, node, state) -> int:
        """Polynomial degree of an expression in `state` (99: not a polynomial)."""
        k = kind(node)
        if k in ("WrappedExpression", "ParenExpression", "UnaryExpression", "DoubleUnit"):
            return self.degree(getattr(node, "expression", None) or node.value, state)
        if k in ("Name", "VarName"):
            return int(node.get_node_name() == state)
        if k == "FunctionCall":
            return 0 if all(self.degree(x, state) == 0 for x in node.arguments) else 99
        if k != "BinaryExpression":
            return 0
        op, a, b = node.op.eval(), self.degree(node.lhs, state), self.degree(node.rhs, state)
        if op in ("+", "-"):
            return max(a, b)
        if op == "*":
            return a + b
        if op == "/" and b == 0:
            return a
        return 0 if a == b == 0 else 99

    # -- blocks ----------------------------------------------------------------------------

    def check_recursion(self):
        """FUNCTION/PROCEDURE calls must not form a cycle (if/else evaluates both branches)."""
        from neuron.nmodl import ast

        calls = {}
        for name, (_, block, _) in self.callables.items():
            found = lookup(block, [ast.AstNodeType.FUNCTION_CALL])
            calls[name] = [c.name.get_node_name() for c in found]
        state, self.order = {}, []

        def visit(name, path):
            state[name] = "open"
            for callee in calls[name]:
                if callee not in calls:
                    continue
                if state.get(callee) == "open":
                    cycle = " -> ".join([*path[path.index(callee) :], callee])
                    keyword_, block, _ = self.callables[callee]
                    self.unsupported(
                        f"recursive {keyword_} {callee}",
                        block,
                        f"({cycle}) is not supported: both branches of an if are evaluated, so "
                        "the recursion would not end",
                    )
                if callee not in state:
                    visit(callee, [*path, callee])
            state[name] = "done"
            self.order.append(name)  # callees before callers

        for name in calls:
            if name not in state:
                visit(name, [name])

    def callable_def(self, name: str):
        keyword_, block, params = self.callables[name]
        self.enter(f"{keyword_} {name}")
        is_function = keyword_ == "FUNCTION"
        slots = [f"_a{i}" for i in range(len(params))]
        prefix = "_fn_" if is_function else "_proc_"
        self.emit(0, f"def {prefix}{self.ident(name, block)}({', '.join(['env_outer', *slots])}):")
        self.emit(1, "env = dict(env_outer)")
        for param, slot in zip(params, slots, strict=True):
            self.emit(1, f"env[{self.local(param, block)!r}] = {slot}")
        result = name if is_function else None  # no variable has a FUNCTION's name
        if result is not None:
            self.scopes[-1][name] = name
            self.emit(1, f"env[{result!r}] = 0.0")
        self.block(block.statement_block.statements, 1)
        self.emit(1, "for _k in _GLOBALS:")
        self.emit(2, "if _k in env:")
        self.emit(3, "env_outer[_k] = env[_k]")
        if result is not None:
            self.emit(1, f"return env[{result!r}]")
        return self.usage

    def closure(self, usage: _Usage) -> _Usage:
        """`usage` plus that of everything it calls (callee usages are complete already)."""
        out = _Usage()
        out.reads, out.writes, out.calls = set(usage.reads), set(usage.writes), set(usage.calls)
        for callee in usage.calls:
            inner = self.usages[callee]
            out.reads |= inner.reads
            out.writes |= inner.writes
            out.calls |= inner.calls
        return out

    def translate(self, context: str, statements, indent: int, diffeq=None) -> list[str]:
        """Lines of a block's statements (checked); `self.usage` holds what they touch."""
        saved, self.lines = self.lines, []
        self.enter(context)
        self.block(statements, indent, diffeq)
        lines, self.lines = self.lines, saved
        return lines

    def class_name(self) -> str:
        name = self.suffix
        if keyword.iskeyword(name) or name in RESERVED or name.startswith("_"):
            return "Mechanism_" + name.lstrip("_")
        return name

    def generate(self) -> tuple[str, str]:
        self.check_supported()
        self.read_interface()
        self.check_names()
        sfx, self.solve = self.suffix, None
        currents = self.ion_currents + self.nonspecific
        shared = {r: ION_DEFAULTS.get(r, 0.0) for r in self.reads if r not in self.ion_currents}
        shared["celsius"] = self.celsius
        params = {
            k: (0.0 if v is None else v)
            for k, v in self.params.items()
            if k not in SPECIAL and k != "t" and k not in shared
        }
        for k, v in self.params.items():  # PARAMETER may redeclare ion variables
            if k in shared and v is not None:
                shared[k] = v
        declared = set(self.params) | set(self.states) | set(self.assigned)
        self.globals = declared | set(self.reads) | set(currents) | set(SPECIAL)
        self.globals.discard("t")
        self.check_recursion()

        self.usages, functions = {}, []
        for name in self.order:
            saved, self.lines = self.lines, []
            self.usages[name] = self.closure(self.callable_def(name))
            functions += self.lines
            self.lines = saved
        bp_stmts = self.breakpoint.statement_block.statements if self.breakpoint else []
        breakpoint_lines = self.translate("BREAKPOINT", bp_stmts, 2)
        bp = self.closure(self.usage)
        if "dt" in bp.reads:
            self.unsupported("dt in BREAKPOINT", self.breakpoint, "(currents do not see dt)")
        for state in sorted(bp.writes & set(self.states)):
            self.unsupported(
                f"assignment to STATE {state} in BREAKPOINT",
                self.breakpoint,
                "is not supported: update states in the DERIVATIVE block that SOLVE names",
            )
        derivative_lines = {}
        for name, block in self.derivatives.items():
            method = self.solve[1] if self.solve and self.solve[0] == name else "cnexp"
            statements = block.statement_block.statements
            derivative_lines[name] = self.translate(f"DERIVATIVE {name}", statements, 2, method)
            if self.solve and self.solve[0] == name:
                solved = self.closure(self.usage)
        initial = self.initial.statement_block.statements if self.initial else []
        initial_lines = self.translate("INITIAL", initial, 2)
        init = self.closure(self.usage)

        # ASSIGNED values a block reads but does not compute keep their value between steps
        # in NEURON: they become states (set by INITIAL, or by the solved DERIVATIVE).
        special = set(SPECIAL) | {"t"}
        plain = [a for a in self.assigned if a not in shared and a not in currents]
        plain = [a for a in plain if a not in special]
        kept = [a for a in plain if a in bp.reads and a not in bp.writes]
        if self.solve is not None:
            carried = [a for a in plain if a in solved.reads and a not in solved.writes]
            for a in carried:
                if a in bp.writes and a not in init.writes:
                    self.unsupported(
                        f"ASSIGNED {a}, read by DERIVATIVE {self.solve[0]} and computed only "
                        "in BREAKPOINT,",
                        self.derivatives[self.solve[0]],
                        "is not supported (compute it in the DERIVATIVE block or INITIAL)",
                    )
            kept += [a for a in carried if a not in kept]
        states = {**{s: 0.0 for s in self.states}, **{a: 0.0 for a in kept}}
        ion = None
        if len(self.ion_currents) == 1 and not self.nonspecific:
            ion = self.ion_currents[0][1:].capitalize()
        current_name = f"i_{ion}" if ion else f"i_{sfx}"
        assigned = [a for a in self.assigned if a not in states and a not in shared]
        assigned = [a for a in assigned if a not in special]
        assigned += [c for c in currents if c not in assigned and c not in declared]
        module_vars = set(params) | set(shared) | set(states) | set(assigned) | {"v"}

        self.emit(0, "# Generated by dendrax.io.nmodl.read_mod (runs in _runtime.namespace)")
        self.emit(0, f"_GLOBALS = frozenset({sorted(module_vars)!r})")
        self.lines += functions
        cls = self.class_name()
        self.emit(0, f"class {cls}(_ModChannel):")
        for key, value in (
            ("SUFFIX", sfx),
            ("PARAMS", params),
            ("SHARED", shared),
            ("STATES", states),
            ("ASSIGNED", assigned),
            ("CURRENT", current_name),
        ):
            self.emit(1, f"_{key} = {value!r}")
        self.emit(1, "def compute_current(self, states, v, params):")
        self.emit(2, "env = self._env(states, v, params)")
        self.lines += breakpoint_lines
        total = " + ".join(f"env[{c!r}]" for c in currents) or "0.0"
        self.emit(2, f"return self._current({total}, v)")
        self.emit(1, "def update_states(self, states, dt, v, params):")
        self.emit(2, "env = self._env(states, v, params)")
        self.emit(2, "env['dt'] = dt")
        if self.solve is not None:
            self.lines += derivative_lines[self.solve[0]]
        self.emit(2, "return self._states(env)")
        self.emit(1, "def init_state(self, states, v, params, delta_t):")
        self.emit(2, "env = self._env(states, v, params)")
        self.emit(2, "env['dt'] = delta_t")
        self.lines += initial_lines
        if self.solve is not None and kept:  # assigned values needed by BREAKPOINT
            name = self.solve[0]
            statements = self.derivatives[name].statement_block.statements
            self.lines += self.translate(f"DERIVATIVE {name}", statements, 2, "none")
        self.emit(2, "return self._states(env)")
        return cls, "\n".join(self.lines) + "\n"


_DIFFEQ_ONLY = "is not supported (derivative equations belong in a DERIVATIVE block)"
