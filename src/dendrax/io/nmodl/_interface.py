"""Parsing a `.mod` text and reading its interface (NEURON block, declarations, blocks).

`ModFile(text, filename)` parses with NEURON's NMODL parser, rejects constructs outside the
supported subset (an allowlist of AST node types, so that nothing unknown passes
silently) and reads the declarations, checking them: one NEURON block with one SUFFIX,
ion variables that belong to their ion, no name declared twice, identifiers that are
plain ASCII names. Every error names the file, the block and the line.
"""

from __future__ import annotations

import math
import re

from ._runtime import FACTORS, NmodlError, NmodlUnsupportedError
from ._source import NAMED_BLOCKS, SourceMap, native_output, parser_error

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: AST node types of the supported subset; any other node is reported as unsupported.
SUPPORTED = frozenset(
    "Program NeuronBlock StatementBlock Suffix Useion ReadIonVar WriteIonVar Valence "
    "Nonspecific NonspecificCurVar Range RangeVar Global GlobalVar ThreadSafe UnitBlock "
    "UnitDef FactorDef Unit ParamBlock ParamAssign Limits StateBlock AssignedBlock "
    "AssignedDefinition BreakpointBlock InitialBlock DerivativeBlock ProcedureBlock "
    "FunctionBlock Argument ExpressionStatement BinaryExpression UnaryExpression "
    "ParenExpression WrappedExpression DoubleUnit Double Integer Float Name String VarName "
    "PrimeName DiffEqExpression FunctionCall SolveBlock IfStatement ElseIfStatement "
    "ElseStatement LocalListStatement LocalVar TableStatement UnitState LineComment "
    "BlockComment Model IndependentBlock ConstantBlock ConstantStatement ConstantVar "
    "OntologyStatement".split()
)
#: How unsupported node types are named in messages (others: their type name).
UNSUPPORTED_NAMES = dict(
    KineticBlock="KINETIC block",
    NetReceiveBlock="NET_RECEIVE block",
    Verbatim="VERBATIM block",
    Pointer="POINTER block",
    BbcorePointer="BBCOREPOINTER block",
    LinearBlock="LINEAR block",
    NonLinearBlock="NONLINEAR block",
    DiscreteBlock="DISCRETE block",
    FunctionTableBlock="FUNCTION_TABLE block",
    WhileStatement="while",
    FromStatement="FROM block",
    ForNetcon="FOR_NETCONS block",
    WatchStatement="WATCH",
    LagStatement="LAG",
    ConstructorBlock="CONSTRUCTOR block",
    DestructorBlock="DESTRUCTOR block",
    External="EXTERNAL",
    BeforeBlock="BEFORE block",
    AfterBlock="AFTER block",
    Conserve="CONSERVE",
    IndexedName="array variable",
    ElectrodeCurrent="ELECTRODE_CURRENT block",
    Include="INCLUDE",
    Define="DEFINE",
    RandomVarList="RANDOM",
    ProtectStatement="PROTECT",
    MutexLock="MUTEXLOCK",
    MutexUnlock="MUTEXUNLOCK",
    CvodeBlock="CVODE block",
    LonDiffuse="LONGITUDINAL_DIFFUSION",
    Compartment="COMPARTMENT",
    ReactionStatement="reaction",
    LinEquation="LINEAR equation",
    NonLinEquation="NONLINEAR equation",
    UpdateDt="dt update",
)
#: Keyword opening each kind of top-level block (for line numbers).
BLOCK_KEYWORD = dict(
    NeuronBlock="NEURON",
    UnitBlock="UNITS",
    ParamBlock="PARAMETER",
    AssignedBlock="ASSIGNED",
    StateBlock="STATE",
    BreakpointBlock="BREAKPOINT",
    InitialBlock="INITIAL",
    DerivativeBlock="DERIVATIVE",
    ProcedureBlock="PROCEDURE",
    FunctionBlock="FUNCTION",
    KineticBlock="KINETIC",
    NetReceiveBlock="NET_RECEIVE",
    ConstantBlock="CONSTANT",
    IndependentBlock="INDEPENDENT",
    LinearBlock="LINEAR",
    NonLinearBlock="NONLINEAR",
    DiscreteBlock="DISCRETE",
    FunctionTableBlock="FUNCTION_TABLE",
    ConstructorBlock="CONSTRUCTOR",
    DestructorBlock="DESTRUCTOR",
    BeforeBlock="BEFORE",
    AfterBlock="AFTER",
    LocalListStatement="LOCAL",
    Define="DEFINE",
    Include="INCLUDE",
    Verbatim="VERBATIM",
    Model="TITLE",
    BlockComment="COMMENT",
)
#: Variables every mechanism can read without declaring them (besides USEION ones).
SPECIAL = ("v", "celsius", "dt")
#: Constants NMODL defines without a UNITS declaration.
BUILTIN_CONSTANTS = {"PI": math.pi}
_ION_VARS = ("e{}", "{}i", "{}o", "i{}")


def kind(node) -> str:
    return type(node).__name__


def _all_node_types():
    from neuron.nmodl import ast

    # Operators are value members of their expressions, not nodes the lookup can return.
    names = [n for n in dir(ast.AstNodeType) if n.isupper() and not n.endswith("_OPERATOR")]
    return [getattr(ast.AstNodeType, n) for n in names]


def lookup(node, types=None) -> list:
    """All nodes below `node` (pre-order, file order) of the given AstNodeTypes (default all)."""
    from neuron.nmodl.dsl import visitor

    return list(visitor.AstLookupVisitor().lookup(node, types or _all_node_types()))


def rendering(node) -> str:
    from neuron import nmodl

    return nmodl.to_nmodl(node)


class ModFile:
    """A parsed `.mod` text and its declarations (see the module docstring)."""

    def __init__(self, text: str, filename: str):
        from neuron.nmodl import dsl

        self.filename, self.src = filename, SourceMap(text)
        include = self.src.first("INCLUDE")
        if include is not None:  # the parser would read (and echo) any file on disk
            raise NmodlUnsupportedError(
                f"{filename}: INCLUDE (line {include}) is not supported: dendrax reads only "
                "the file it is given; paste the included text into it."
            )
        for keyword, line in self.src.unterminated:
            raise NmodlError(
                f"{filename}: {keyword} (line {line}) has no END{keyword}; close it with "
                f"END{keyword} on a line of its own."
            )
        with native_output() as printed:
            try:
                tree = dsl.NmodlDriver().parse_string(text)
            except Exception as err:  # the parser's RuntimeError (or a binding error)
                tree = err
        if isinstance(tree, Exception):
            raise parser_error(tree, filename, self.src) from None
        if "ERROR" in printed[0]:  # reported by printing only: the AST may be partial
            said = " ".join(printed[0].split())[:200]
            raise NmodlError(f"{filename}: the NMODL parser reports: {said}")
        self.tree = tree
        self.blocks = list(self.tree.blocks)  # kept alive: node identity is used below
        self._keys, seen = {}, {}
        for block in self.blocks:
            kw = BLOCK_KEYWORD.get(kind(block))
            name = block.name.get_node_name() if kw in NAMED_BLOCKS else None
            occurrence = seen.get((kw, name), 0)
            seen[(kw, name)] = occurrence + 1
            self._keys[id(block)] = (kw, name, occurrence)

    # -- locations and errors ------------------------------------------------------------

    def top(self, node):
        """The top-level block that contains `node` (or `node` itself)."""
        while node is not None and node.parent is not None and kind(node.parent) != "Program":
            node = node.parent
        return node

    def line_of(self, node, after: int = 0) -> int | None:
        """Line of `node` in the file (its block's line where it cannot be found); `after`:
        the line of an identical earlier statement."""
        if node is None:
            return None
        top = self.top(node)
        key = self._keys.get(id(top))
        block = self.src.block(*key) if key is not None and key[0] is not None else None
        if node is top or block is None:
            return block.line if block is not None else self.src.find(rendering(node), None)
        return self.src.find(rendering(node), block, after) or block.line

    def message(self, what: str, node=None, why: str = "", line: int | None = None) -> str:
        line = self.line_of(node) if line is None else line
        where = f" (line {line})" if line else ""
        if why and why[0] not in ";:,.":
            why = " " + why
        return f"{self.filename}: {what}{where}{why}."

    def invalid(self, what: str, node=None, why: str = "", line=None):
        raise NmodlError(self.message(what, node, why, line))

    def unsupported(self, what: str, node=None, why: str = "", line=None):
        why = why or "is not supported (dendrax NMODL import)"
        raise NmodlUnsupportedError(self.message(what, node, why, line))

    def ident(self, name: str, node) -> str:
        """`name`, checked to be a plain ASCII identifier (as NMODL's lexer makes them)."""
        if not isinstance(name, str) or IDENT.fullmatch(name) is None:
            self.invalid(f"name {name!r}", node, "is not an NMODL identifier")
        return name

    # -- checks and declarations ---------------------------------------------------------

    def check_supported(self):
        for node in lookup(self.tree):
            k = kind(node)
            if k not in SUPPORTED:
                what = UNSUPPORTED_NAMES.get(k) or re.sub(r"(?<!^)(?=[A-Z])", " ", k)
                self.unsupported(what, node)

    def read_interface(self):
        self.suffix, self.reads, self.ion_currents, self.nonspecific = None, [], [], []
        self.params, self.states, self.assigned = {}, [], []
        self.factors = dict(BUILTIN_CONSTANTS)
        self.callables, self.derivatives = {}, {}
        self.initial = self.breakpoint = None
        self._declared, self._ions = {}, {}
        neuron = [b for b in self.blocks if kind(b) == "NeuronBlock"]
        if not neuron:
            raise NmodlError(
                f"{self.filename}: no NEURON block: a density mechanism needs one, e.g. "
                "NEURON { SUFFIX name ... } (is this an NMODL .mod file?)."
            )
        if len(neuron) > 1:
            self.unsupported("a second NEURON block", neuron[1], "(one per file) is not supported")
        for s in neuron[0].statement_block.statements:
            self.neuron_statement(s)
        if self.suffix is None:
            self.invalid("NEURON block", neuron[0], "has no SUFFIX; add SUFFIX name")
        for block in self.blocks:
            self.top_block(block)

    def neuron_statement(self, s):
        k = kind(s)
        if k == "Suffix":
            keyword = s.type.get_node_name()
            if keyword != "SUFFIX":
                self.unsupported(keyword, s, "(only density mechanisms, SUFFIX) is not supported")
            if self.suffix is not None:
                self.invalid("a second SUFFIX", s, "(one per NEURON block)")
            self.suffix = self.ident(s.name.get_node_name(), s)
        elif k == "Useion":
            self.useion(s)
        elif k == "Nonspecific":
            for c in s.currents:
                name = self.ident(c.name.get_node_name(), s)
                if name in self.nonspecific or name in self.ion_currents:
                    self.invalid(f"current {name}", s, "is declared twice")
                self.nonspecific.append(name)
        elif k not in ("Range", "Global", "ThreadSafe", "LineComment", "BlockComment"):
            self.unsupported(f"{k} in the NEURON block", s)

    def useion(self, s):
        ion = self.ident(s.name.get_node_name(), s)
        if ion in self._ions:
            first = self.line_of(self._ions[ion])
            self.invalid(
                f"USEION {ion}",
                why=f"is declared twice (first at line {first}); merge the two statements",
                line=self.line_of(s, after=first or 0),
            )
        self._ions[ion] = s
        allowed = [p.format(ion) for p in _ION_VARS]
        for r in s.readlist:
            name = self.ident(r.name.get_node_name(), s)
            if name not in allowed:
                self.invalid(
                    f"USEION {ion} READ {name}", s, f"is not a variable of ion {ion} ({allowed})"
                )
            if name not in self.reads:
                self.reads.append(name)
        for w in s.writelist:
            name = self.ident(w.name.get_node_name(), s)
            if name not in allowed:
                self.invalid(
                    f"USEION {ion} WRITE {name}", s, f"is not a variable of ion {ion} ({allowed})"
                )
            if name != f"i{ion}":
                what = "a reversal potential" if name == f"e{ion}" else "a concentration"
                self.unsupported(
                    f"USEION {ion} WRITE {name}",
                    s,
                    f"({what} write) is not supported; use dendrax.pumps",
                )
            self.ion_currents.append(name)

    def declare(self, name: str, node):
        """Record a PARAMETER/STATE/ASSIGNED declaration; a second one is an error."""
        name = self.ident(name, node)
        if name in self._declared:
            first = self.line_of(self._declared[name])
            self.invalid(
                f"{name}",
                why=f"is declared twice (first at line {first}); keep one declaration",
                line=self.line_of(node, after=first or 0),
            )
        self._declared[name] = node
        return name

    def number(self, node, what: str) -> float:
        """The finite value of a number node (Double.eval() gives the text as written)."""
        try:
            value = float(node.eval())
        except (TypeError, ValueError, OverflowError):
            self.invalid(f"{what}", node, "is not a number")
        if not math.isfinite(value):
            self.invalid(f"{what} = {rendering(node)}", node, "is not a finite number")
        return value

    def definitions(self, block):
        for d in block.definitions:
            if kind(d) != "AssignedDefinition":
                continue
            if d.length is not None:
                self.unsupported("array variable", d)
            yield self.declare(d.name.get_node_name(), d)

    def top_block(self, block):
        k = kind(block)
        if k == "ParamBlock":
            for s in block.statements:
                if kind(s) == "ParamAssign":
                    name = self.declare(s.name.get_node_name(), s)
                    value = s.value
                    self.params[name] = None if value is None else self.number(value, name)
        elif k == "StateBlock":
            self.states += list(self.definitions(block))
        elif k == "AssignedBlock":
            self.assigned += list(self.definitions(block))
        elif k == "UnitBlock":
            for d in block.definitions:
                if kind(d) == "FactorDef":
                    self.read_factor(d)
        elif k == "ConstantBlock":
            for s in block.statements:
                c = s.constant
                name = self.ident(c.name.get_node_name(), s)
                self.factors[name] = self.number(c.value, f"CONSTANT {name}")
        elif k in ("FunctionBlock", "ProcedureBlock", "DerivativeBlock"):
            self.named_block(block)
        elif k in ("InitialBlock", "BreakpointBlock"):
            attr = "initial" if k == "InitialBlock" else "breakpoint"
            if getattr(self, attr) is not None:
                self.invalid(f"a second {BLOCK_KEYWORD[k]} block", block, "(one per file)")
            setattr(self, attr, block)
        elif k == "LocalListStatement":
            self.unsupported("LOCAL at file level", block, "(a variable shared by all blocks)")
        elif k not in _IGNORED_TOP:
            self.unsupported(BLOCK_KEYWORD.get(k, k), block)

    def named_block(self, block):
        keyword = BLOCK_KEYWORD[kind(block)]
        name = self.ident(block.name.get_node_name(), block)
        earlier = self.callables.get(name) or self.derivatives.get(name)
        if earlier is not None:
            first = self.line_of(earlier[1] if isinstance(earlier, tuple) else earlier)
            self.invalid(f"{keyword} {name}", block, f"is defined twice (first at line {first})")
        if keyword == "DERIVATIVE":
            self.derivatives[name] = block
            return
        args = []
        for a in block.parameters:
            arg = self.ident(a.name.get_node_name(), block)
            if arg in args or arg == name:
                what = "two arguments named" if arg in args else "an argument with its name,"
                self.invalid(f"{keyword} {name}", block, f"has {what} {arg}")
            args.append(arg)
        self.callables[name] = (keyword, block, args)

    def read_factor(self, d):
        name = self.ident(d.name.get_node_name(), d)
        value = getattr(d, "value", None)
        unit1 = getattr(d, "unit1", None)
        unit = (unit1.get_node_name() if unit1 is not None else "").strip("()")
        if value is not None and hasattr(value, "eval"):
            self.factors[name] = self.number(value, f"UNITS factor {name}")
        elif unit in FACTORS:
            self.factors[name] = FACTORS[unit]
        else:
            self.unsupported(f"UNITS factor {name}", d, f"has an unknown unit ({unit})")

    def check_names(self):
        """Names of blocks, variables and constants must not collide."""
        variables = set(self._declared) | set(self.reads) | set(self.ion_currents)
        variables |= set(self.nonspecific)
        for name, (keyword, block, _) in self.callables.items():
            if name in variables:
                self.invalid(f"{keyword} {name}", block, "has the name of a variable")
        for name, block in self.derivatives.items():
            if name in variables:
                self.invalid(f"DERIVATIVE {name}", block, "has the name of a variable")
        for name in list(self.factors):
            if name in variables and name in BUILTIN_CONSTANTS:
                del self.factors[name]  # a declared variable PI hides the constant
            elif name in variables:
                node = self._declared.get(name)
                self.invalid(f"{name}", node, "is both a UNITS/CONSTANT factor and a variable")


_IGNORED_TOP = frozenset(
    "NeuronBlock Model LineComment BlockComment IndependentBlock UnitState ThreadSafe".split()
)
