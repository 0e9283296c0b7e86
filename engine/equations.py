"""Equations: the expression tree and the safe parser of the DSL's equation strings.

An equation is parsed with :mod:`ast` into corridor's own small expression tree. Only a
whitelist of syntax is accepted (numbers, names, subscripts, arithmetic, comparisons,
boolean logic, conditional expressions and calls of known functions by name); anything
else (attribute access, lambdas, comprehensions, keyword arguments, starred arguments...)
raises :class:`~engine.errors.SpecError`. Nothing is ever passed to ``eval`` or ``exec``.

The tree is also what the Vensim/XMILE importer produces, so both front-ends meet here.

Names are taken exactly as written: Python folds identifiers to Unicode NFKC form (``ｘ``
would silently mean ``x``), so a name that this folding changes is refused, with the ASCII
spelling it would have become suggested. Equations nesting deeper than :data:`MAX_DEPTH`
levels, and numbers beyond the range of a float, are refused too.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .builtins import ALIASES, BUILTINS
from .errors import SpecError

__all__ = [
    "Expr",
    "Num",
    "Ref",
    "Time",
    "Unary",
    "Binary",
    "Call",
    "Reduce",
    "InlineLookup",
    "parse",
    "walk",
    "FUNCTIONS",
    "STATEFUL_FUNCTIONS",
    "REDUCTIONS",
    "shifted",
    "split_shift",
    "MAX_DEPTH",
    "depth",
    "check_name",
]

#: The deepest nesting of an equation corridor compiles. Every pass over an expression tree
#: is recursive, and generated code must stay within Python's 200 nested brackets; a long
#: sum ``a + b + c + ...`` nests one level per term.
MAX_DEPTH = 120

# A subscript "age - 1" (the element before) is held as "age" + SHIFT + "-1"; the separator
# cannot occur in a name written in an equation string.
SHIFT = "\x1f"


def shifted(dim: str, offset: int) -> str:
    """The subscript naming the element ``offset`` places after the current one along ``dim``."""
    return f"{dim}{SHIFT}{offset:+d}"


def split_shift(sub: str) -> tuple[str, int]:
    """``(dim, offset)`` of a shifted subscript, ``(sub, 0)`` of any other."""
    if SHIFT not in sub:
        return sub, 0
    dim, offset = sub.split(SHIFT, 1)
    return dim, int(offset)


class Expr:
    """Base class of expression nodes (immutable, hashable)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Num(Expr):
    value: float


@dataclass(frozen=True, slots=True)
class Ref(Expr):
    """A reference to a model variable.

    ``subs`` is ``None`` for a bare name (its own dimensions are implied and must be in scope)
    or a tuple of subscripts, each a dimension (or subrange) name or an element name.
    """

    name: str
    subs: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Time(Expr):
    """The simulation time."""


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-", "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # + - * / ** and or == != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Reduce(Expr):
    """``op`` (sum, prod, min, max) of ``body`` over the dimensions ``dims``."""

    op: str
    dims: tuple[str, ...]
    body: Expr


@dataclass(frozen=True, slots=True)
class InlineLookup(Expr):
    """A graphical function given inline: piecewise-linear in ``xs``/``ys``, clamped outside."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    arg: Expr


# name -> (min args, max args), views of engine.builtins (the one table of builtins). Lookup
# tables are called by their own name.
FUNCTIONS: dict[str, tuple[int, int]] = {
    b.name: (b.min_args, b.max_args) for b in BUILTINS.values() if not b.memory
}
# Functions with memory; spec lowers them into hidden stocks / slots.
STATEFUL_FUNCTIONS: dict[str, tuple[int, int]] = {
    b.name: (b.min_args, b.max_args) for b in BUILTINS.values() if b.memory
}
REDUCTIONS = {"sum": "sum", "prod": "prod", "vmin": "min", "vmax": "max"}
_ALIASES = ALIASES

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield ``expr`` and all its sub-expressions, depth first."""
    yield expr
    if isinstance(expr, Unary):
        yield from walk(expr.operand)
    elif isinstance(expr, Binary):
        yield from walk(expr.left)
        yield from walk(expr.right)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from walk(arg)
    elif isinstance(expr, Reduce):
        yield from walk(expr.body)
    elif isinstance(expr, InlineLookup):
        yield from walk(expr.arg)


def depth(expr: Expr) -> int:
    """The nesting depth of ``expr`` (1 for a leaf), found without recursion."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, Unary):
            stack.append((node.operand, level + 1))
        elif isinstance(node, Binary):
            stack += [(node.left, level + 1), (node.right, level + 1)]
        elif isinstance(node, Call):
            stack += [(arg, level + 1) for arg in node.args]
        elif isinstance(node, Reduce):
            stack.append((node.body, level + 1))
        elif isinstance(node, InlineLookup):
            stack.append((node.arg, level + 1))
    return deepest


def check_name(name: str, where: str) -> None:
    """Refuse a name that Unicode NFKC normalisation changes (``ｘ`` would become ``x``)."""
    folded = unicodedata.normalize("NFKC", name)
    if folded != name:
        raise SpecError(
            f"{where}: the name {name!r} contains characters that Python folds "
            f"into others (it would read as {folded!r}); spell it {folded!r} or "
            "use another ASCII name, so that no two names can mean the same "
            "variable."
        )


def _ast_depth(tree: ast.AST) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack += [(child, level + 1) for child in ast.iter_child_nodes(node)]
    return deepest


def parse(text: str | float | int | Expr, *, where: str = "equation") -> Expr:
    """Parse an equation string of the DSL into an expression tree.

    Parameters
    ----------
    text : str, number or Expr
        The equation, e.g. ``"(teacup_temperature - room_temperature) / characteristic_time"``.
        Numbers become :class:`Num`; an :class:`Expr` is returned as is.
    where : str
        What is being parsed (named in error messages), e.g. ``"flow 'heat_loss'"``.

    Raises
    ------
    SpecError
        On a syntax error or any construct outside the grammar.

    Examples
    --------
    >>> parse("2 * x[age] + sum(y, 'age')")  # doctest: +ELLIPSIS
    Binary(op='+', ...)
    """
    if isinstance(text, Expr):
        found = depth(text)
        if found > MAX_DEPTH:
            raise SpecError(
                f"{where}: the equation nests {found} levels deep, more than "
                f"{MAX_DEPTH}; split it into intermediate variables."
            )
        return text
    if isinstance(text, bool):
        return Num(float(text))
    if isinstance(text, (int, float)):
        return Num(_finite(text, where))
    if not isinstance(text, str):
        raise SpecError(
            f"{where}: expected an equation string or number, got {type(text).__name__}."
        )
    source = text.strip()
    if not source:
        raise SpecError(f"{where}: the equation is empty.")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(
            f"{where}: cannot parse {text!r}: {exc.msg} at column {exc.offset}. "
            "Equations use Python arithmetic syntax, e.g. 'a * (b - c) / d'."
        ) from None
    except (RecursionError, MemoryError):
        raise SpecError(
            f"{where}: the equation nests too deeply to parse; split it into "
            "intermediate variables."
        ) from None
    # Python nests about two syntax nodes per level of the equation tree.
    if _ast_depth(tree.body) > 2 * MAX_DEPTH:
        raise SpecError(
            f"{where}: the equation nests more than {MAX_DEPTH} levels deep (a long "
            "sum a + b + c + ... nests one level per term); split it into "
            "intermediate variables, or sum over a dimension with sum(x, 'dim')."
        )
    converter = _Converter(where, source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            written = ast.get_source_segment(source, node)
            if written is not None and written != node.id:
                check_name(written, where)
    expr = converter.convert(tree.body)
    found = depth(expr)
    if found > MAX_DEPTH:
        raise SpecError(
            f"{where}: the equation nests {found} levels deep, more than "
            f"{MAX_DEPTH}; split it into intermediate variables."
        )
    return expr


def _finite(value: int | float, where: str) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number) and not (isinstance(value, float) and math.isinf(value)):
        digits = (
            str(value)
            if isinstance(value, float)
            else f"of about {int(abs(value).bit_length() * 0.30103) + 1} digits"
        )
        raise SpecError(
            f"{where}: the number {digits} is too large for a float (above "
            "1.8e308); write it in range."
        )
    return number


class _Converter:
    def __init__(self, where: str, source: str) -> None:
        self.where = where
        self.source = source

    def fail(self, node: ast.AST, why: str) -> SpecError:
        snippet = ast.get_source_segment(self.source, node) or type(node).__name__
        return SpecError(f"{self.where}: {why} in {snippet!r}.")

    def convert(self, node: ast.AST) -> Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.fail(node, "only numeric constants are allowed")
            if isinstance(node.value, float) and math.isinf(node.value):
                written = ast.get_source_segment(self.source, node) or "the number"
                raise self.fail(node, f"{written[:40]} is too large for a float (above 1.8e308)")
            return Num(_finite(node.value, self.where))
        if isinstance(node, ast.Name):
            if node.id == "time":
                return Time()
            return Ref(node.id)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.fail(
                    node,
                    f"operator {type(node.op).__name__} is not supported "
                    "(use + - * / ** or modulo())",
                )
            return Binary(op, self.convert(node.left), self.convert(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                operand = self.convert(node.operand)
                if isinstance(operand, Num):
                    return Num(-operand.value)
                return Unary("-", operand)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand)
            if isinstance(node.op, ast.Not):
                return Unary("not", self.convert(node.operand))
            raise self.fail(node, "bitwise operators are not supported")
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            values = [self.convert(v) for v in node.values]
            out = values[0]
            for value in values[1:]:
                out = Binary(op, out, value)
            return out
        if isinstance(node, ast.Compare):
            parts: list[Expr] = []
            left = self.convert(node.left)
            for cmp, right_node in zip(node.ops, node.comparators):
                op = _CMPOPS.get(type(cmp))
                if op is None:
                    raise self.fail(node, "'is' and 'in' are not supported")
                right = self.convert(right_node)
                parts.append(Binary(op, left, right))
                left = right
            out = parts[0]
            for part in parts[1:]:
                out = Binary("and", out, part)
            return out
        if isinstance(node, ast.IfExp):
            return Call(
                "if_then_else",
                (self.convert(node.test), self.convert(node.body), self.convert(node.orelse)),
            )
        if isinstance(node, ast.Subscript):
            if not isinstance(node.value, ast.Name):
                raise self.fail(node, "only a variable name can be subscripted")
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            subs = tuple(self.subscript(item) for item in items)
            return Ref(node.value.id, subs)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(node, f"{type(node).__name__} is not allowed in an equation")

    def subscript(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, (ast.Add, ast.Sub))
            and isinstance(node.left, ast.Name)
            and isinstance(node.right, ast.Constant)
            and isinstance(node.right.value, int)
            and not isinstance(node.right.value, bool)
        ):
            offset = node.right.value if isinstance(node.op, ast.Add) else -node.right.value
            return shifted(node.left.id, offset)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (str, int))
            and not isinstance(node.value, bool)
        ):
            return str(node.value)
        raise self.fail(
            node,
            "a subscript must be a dimension name, an element name or "
            "a dimension shifted by a whole number (age - 1)",
        )

    def call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only functions called by name are allowed")
        if node.keywords:
            raise self.fail(node, "keyword arguments are not supported")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, "starred arguments are not supported")
        name = _ALIASES.get(node.func.id.lower(), node.func.id.lower())
        if name in REDUCTIONS:
            if len(node.args) < 2:
                raise self.fail(
                    node, f"{name}(expression, 'dim', ...) needs the dimension(s) to reduce over"
                )
            dims = tuple(self.subscript(a) for a in node.args[1:])
            return Reduce(REDUCTIONS[name], dims, self.convert(node.args[0]))
        if name == "elmcount":
            if len(node.args) != 1:
                raise self.fail(node, "elmcount('dim') takes one dimension name")
            return Call("elmcount", (Ref(self.subscript(node.args[0])),))
        args = tuple(self.convert(a) for a in node.args)
        arity = FUNCTIONS.get(name) or STATEFUL_FUNCTIONS.get(name)
        if arity is None:
            # Possibly a lookup table called by name; resolved against the model later.
            return Call(node.func.id, args)
        low, high = arity
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise self.fail(node, f"{name}() takes {expected} arguments, got {len(args)}")
        return Call(name, args)
