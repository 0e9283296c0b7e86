"""The units of expressions inferred from their terms, and the checks of a model's equations
against its declared units (:func:`check_units`)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..equations import Binary, Call, Expr, InlineLookup, Num, Reduce, Ref, Time, Unary, parse
from ..errors import SpecError
from ..spec import Model, Piece, Variable
from .rules import UNITS_RULES
from .strings import TIME_UNKNOWN, number_text, parse_with, registry

__all__ = ["check_units", "infer_units", "UnitFinding", "UnitsError"]


class UnitsError(SpecError):
    """A model whose units disagree, raised by :func:`check_units` with ``strict=True``."""


@dataclass(frozen=True)
class UnitFinding:
    """One units disagreement: the variable, what was declared, what its equation gives.

    ``terms`` holds the terms of the right-hand side with their inferred units, as text.
    """

    variable: str
    message: str
    declared: str = ""
    inferred: str = ""
    terms: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _U:
    """Inferred units: ``q`` None when unknown; ``number`` for a bare number (it adopts the
    units its context needs); ``scaled`` when a number other than 1 multiplies it."""

    q: Any
    number: bool = False
    scaled: bool = False


_UNKNOWN = _U(None)


class _Mismatch(Exception):
    def __init__(self, message: str, terms: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.terms = tuple(terms)


class _Checker:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.reg = registry()
        self.findings: list[UnitFinding] = []
        self.declared: dict[str, Any] = {}
        try:  # "Time" (XMILE's default time_units) names no unit
            generic = model.time_unit.strip().lower() in ("", "time")
            self.time = None if generic else parse_with(self.reg, model.time_unit)
        except ValueError:
            self.time = None
        time = TIME_UNKNOWN if self.time is None else self.time
        for var in model.variables.values():
            self.declared[var.name] = None
            if var.hidden:
                continue
            try:
                self.declared[var.name] = parse_with(self.reg, var.units, time)
            except LookupError:  # units per Time in a model of unknown time unit
                continue
            except ValueError as exc:
                self.findings.append(
                    UnitFinding(
                        var.name,
                        f"{var.kind} {var.name!r}: {exc}; write units as words joined by "
                        "'*', '/' and '^' (e.g. 'person/year').",
                        declared=var.units,
                    )
                )
        self.hidden: dict[str, _U] = {}
        self.hosts_reported: set[str] = set()

    # -- comparisons
    def same(self, a: _U, b: _U) -> bool:
        if a.q is None or b.q is None or a.number or b.number:
            return True
        ratio = _ratio(a.q, b.q)
        if ratio is None:
            return False
        return math.isclose(ratio, 1.0, rel_tol=1e-9) or a.scaled or b.scaled

    def why(self, a: _U, b: _U) -> str:
        ratio = None if a.q is None or b.q is None else _ratio(a.q, b.q)
        if ratio is not None and ratio > 0:
            factor = ratio if ratio >= 1 else 1 / ratio
            return f" (of one dimension, but a factor {number_text(factor)} apart)"
        return ""

    def show(self, u: _U) -> str:
        if u.number:
            return "a number"
        return self.reg.show(u.q)

    def agree(self, parts: list[tuple[Expr, _U]], what: str) -> _U:
        known = [(e, u) for e, u in parts if u.q is not None and not u.number]
        if not known:
            if parts and all(u.number for _, u in parts):
                return parts[0][1]
            return _UNKNOWN
        first_expr, first = known[0]
        for expr, u in known[1:]:
            if not self.same(first, u):
                raise _Mismatch(
                    f"{what} terms of different units: {_text(first_expr)!r} is in "
                    f"{self.show(first)} but {_text(expr)!r} is in {self.show(u)}"
                    f"{self.why(first, u)}",
                    [(_text(e), self.show(v)) for e, v in parts],
                )
        return _U(first.q, scaled=any(u.scaled for _, u in known))

    def need(self, expr: Expr, u: _U, target: _U, what: str) -> None:
        if not self.same(u, target):
            raise _Mismatch(
                f"{what}: {_text(expr)!r} is in {self.show(u)}, not {self.show(target)}"
                f"{self.why(u, target)}",
                [(_text(expr), self.show(u))],
            )

    def dimensionless(self, expr: Expr, u: _U, what: str) -> None:
        if u.q is not None and not u.number and not u.q.dimensionless:
            raise _Mismatch(
                f"{what} needs a dimensionless argument: {_text(expr)!r} is in {self.show(u)}",
                [(_text(expr), self.show(u))],
            )

    # -- inference
    def units_of(self, name: str) -> _U:
        var = self.model.variables.get(name)
        if var is None:
            return _UNKNOWN
        if not var.hidden:
            q = self.declared.get(name)
            return _UNKNOWN if q is None else _U(q)
        found = self.hidden.get(name)
        if found is None:
            self.hidden[name] = _UNKNOWN  # a cycle through hidden variables stays unknown
            try:
                found = self.hidden_units(var)
            except RecursionError:  # a chain of thousands of stages, each from the one before
                found = _UNKNOWN
            self.hidden[name] = found
        return found

    def hidden_units(self, var: Variable) -> _U:
        """A hidden variable's units, from its equations (the host's units were only copied
        onto it when a function with memory was lowered).

        A hidden stock takes its initial value's units unless a number is part of it (a
        material delay starts at ``initial * stage time``: with ``initial`` 0 that says
        nothing of the input's units); then its rate's times the time unit, or its first
        inflow's.
        """
        first = self.safe(var.pieces[0].expr) if var.pieces else _UNKNOWN
        if var.kind != "stock" or (first.q is not None and not first.number and not first.scaled):
            return first
        if self.time is not None:
            rate = self.safe(var.rate[0].expr) if var.rate else _UNKNOWN
            if rate.q is not None and not rate.number:
                return _U(rate.q * self.time, scaled=rate.scaled)
            flow = self.units_of(var.inflows[0]) if var.inflows else _UNKNOWN
            if flow.q is not None and not flow.number:
                return _U(flow.q * self.time)
        return first

    def infer(self, expr: Expr) -> _U:
        if isinstance(expr, Num):
            return _U(self.reg.unit(""), number=True, scaled=expr.value != 1.0)
        if isinstance(expr, Ref):
            if expr.name in self.model.variables:
                return self.units_of(expr.name)
            return _UNKNOWN
        if isinstance(expr, Time):
            return _UNKNOWN if self.time is None else _U(self.time)
        if isinstance(expr, Unary):
            inner = self.infer(expr.operand)
            return inner if expr.op == "-" else _U(self.reg.unit(""))
        if isinstance(expr, Binary):
            return self.binary(expr)
        if isinstance(expr, Call):
            return self.call(expr)
        if isinstance(expr, Reduce):
            body = self.infer(expr.body)
            if expr.op != "prod" or body.q is None or body.number:
                return body
            count = 1
            for dim in expr.dims:
                if dim not in self.model.dims:
                    return _UNKNOWN
                count *= len(self.model.dims[dim])
            return _U(body.q**count, scaled=body.scaled)
        if isinstance(expr, InlineLookup):
            self.infer(expr.arg)
            return _UNKNOWN  # an inline table has no units of its own
        return _UNKNOWN

    def binary(self, expr: Binary) -> _U:
        op = expr.op
        left, right = self.infer(expr.left), self.infer(expr.right)
        if op in ("+", "-"):
            return self.agree([(expr.left, left), (expr.right, right)], "adds or subtracts")
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self.agree([(expr.left, left), (expr.right, right)], "compares")
            return _U(self.reg.unit(""))
        if op in ("and", "or"):
            return _U(self.reg.unit(""))
        if op in ("*", "/"):
            if left.q is None or right.q is None:
                return _UNKNOWN
            q = left.q * right.q if op == "*" else left.q / right.q
            number = left.number and right.number
            return _U(q, number=number, scaled=left.scaled or right.scaled)
        if op == "**":
            return self.power(expr.left, left, expr.right, right)
        return _UNKNOWN

    def power(self, base_expr: Expr, base: _U, exp_expr: Expr, exponent: _U) -> _U:
        self.dimensionless(exp_expr, exponent, "a power")
        if base.q is None or base.number or base.q.dimensionless:
            return base
        value = _constant(exp_expr, self.model)
        if value is None:
            raise _Mismatch(
                f"raises {_text(base_expr)!r} (in {self.show(base)}) to a power that is not "
                f"a constant ({_text(exp_expr)!r}); make the base dimensionless",
                [(_text(base_expr), self.show(base)), (_text(exp_expr), self.show(exponent))],
            )
        return _U(base.q**value, scaled=base.scaled)

    def call(self, expr: Call) -> _U:
        func, args = expr.func, expr.args
        if func == "elmcount":
            return _U(self.reg.unit(""), number=True, scaled=True)
        target = self.model.variables.get(func)
        if func == "lookup" or (target is not None and target.kind == "lookup"):
            table, x = (args[0], args[1]) if func == "lookup" else (Ref(func), args[0])
            return self.lookup(table, x)
        rule = UNITS_RULES.get(func)
        if rule is None:
            for arg in args:
                self.infer(arg)
            return _UNKNOWN
        if rule.result == "table":
            return self.lookup(args[0], args[1])
        units = [self.infer(arg) for arg in args]
        name = func.upper()
        present = [k for k in rule.agree if k < len(args)]
        result = (
            self.agree([(args[k], units[k]) for k in present], f"{name} has")
            if present
            else _UNKNOWN
        )
        time = _UNKNOWN if self.time is None else _U(self.time)
        for k in rule.time:
            if k < len(args):
                self.need(args[k], units[k], time, f"{name} takes a time in {self.show(time)}")
        for k in rule.dimensionless:
            if k < len(args):
                self.dimensionless(args[k], units[k], name)
        if rule.result == "dimensionless":
            result = _U(self.reg.unit(""))
        elif rule.result == "time":
            result = time
        elif rule.result == "per_time":
            result = _UNKNOWN if self.time is None else _U(1 / self.time)
        elif rule.result == "times_time":
            first = units[0]
            result = _UNKNOWN if first.q is None or self.time is None else _U(first.q * self.time)
        elif rule.result == "ratio":
            a, b = units[0], units[1]
            result = _UNKNOWN if a.q is None or b.q is None else _U(a.q / b.q)
        elif rule.result == "sqrt":
            first = units[0]
            result = first if first.q is None or first.number else _U(first.q**0.5)
        elif rule.result == "power":
            result = self.power(args[0], units[0], args[1], units[1])
        for k in rule.as_result:
            if k < len(args):
                self.need(args[k], units[k], result, f"{name}'s argument {k + 1}")
        return result

    def lookup(self, table: Expr, x: Expr) -> _U:
        self.infer(x)  # checked inside; a table declares no units for its input
        if not isinstance(table, Ref):
            return _UNKNOWN
        return self.units_of(table.name)

    # -- checks
    def report(self, var: Variable, message: str, declared: str = "", inferred: str = "",
               terms: Iterable[tuple[str, str]] = ()) -> None:  # fmt: skip
        host = var.name.split("~")[0] if var.hidden else var.name
        if var.hidden:  # the stages of a function's state (a delay of order 10) say it once
            if host in self.hosts_reported:
                return
            self.hosts_reported.add(host)
        self.findings.append(UnitFinding(host, message, declared, inferred, tuple(terms)))

    def label(self, var: Variable, piece: Piece | None = None) -> str:
        if var.hidden:
            host = var.name.split("~")[0]
            kind = self.model.variables[host].kind if host in self.model.variables else "variable"
            what = re.sub(r"\d+$", "", var.name.split("~")[-1])
            return f"{kind} {host!r} (in the state of its {what})"
        where = ""
        if piece is not None and piece.subs and len(var.pieces) > 1:
            where = "[" + ", ".join(piece.subs) + "]"
        return f"{var.kind} {var.name!r}{where}"

    def equation(self, var: Variable, piece: Piece, target: _U, side: str = "") -> None:
        """Check one equation piece of ``var`` against the units ``target``."""
        label = self.label(var, piece) + side
        try:
            found = self.infer(piece.expr)
        except _Mismatch as exc:
            self.report(var, f"{label}: {exc.message}.", self.show(target), "", exc.terms)
            return
        if self.same(found, target):
            return
        terms = [(_text(e), self.show(self.safe(e))) for e in _terms(piece.expr)]
        shown = "; ".join(f"{t}: {u}" for t, u in terms)
        self.report(
            var,
            f"{label}: left and right units do not match: the left side is in "
            f"{self.show(target)}, the right side {_text(piece.expr)!r} is in "
            f"{self.show(found)}{self.why(found, target)} (terms: {shown}).",
            self.show(target),
            self.show(found),
            terms,
        )

    def safe(self, expr: Expr) -> _U:
        try:
            return self.infer(expr)
        except _Mismatch:
            return _UNKNOWN

    def run(self) -> list[UnitFinding]:
        per_time = None if self.time is None else 1 / self.time
        for var in self.model.variables.values():
            if var.hidden:  # in the order made: each stage of a chain after the one it reads
                self.units_of(var.name)
        for var in self.model.variables.values():
            if var.kind in ("param", "lookup"):
                continue
            own = self.units_of(var.name)
            if own.q is None:
                continue
            if var.kind == "delay_fixed":
                self.delay_fixed(var, own)
                continue
            if var.hidden and var.kind != "stock":
                continue
            pieces = var.pieces + (var.init_pieces or [])
            if var.kind == "stock":
                if not var.hidden:  # a hidden stock's units come from its initial value
                    for piece in var.pieces:
                        self.equation(var, piece, own, " (initial value)")
                if per_time is not None:
                    rate = _U(own.q * per_time)
                    for piece in var.rate or []:
                        self.equation(var, piece, rate, " (rate of change)")
                    self.flows(var, rate)
                continue
            for piece in pieces:
                self.equation(var, piece, own)
        return self.findings

    def flows(self, stock: Variable, rate: _U) -> None:
        for names, verb in ((stock.inflows, "fills"), (stock.outflows, "drains")):
            for name in names:
                flow = self.units_of(name)
                if not self.same(flow, rate):
                    self.report(
                        self.model.variables[name],
                        f"flow {name!r} (in {self.show(flow)}) {verb} stock "
                        f"{stock.name!r} (in {self.show(_U(self.units_of(stock.name).q))}): a "
                        f"flow must be in its stock's units per time unit, "
                        f"{self.show(rate)}{self.why(flow, rate)}.",
                        self.show(rate),
                        self.show(flow),
                        [(name, self.show(flow))],
                    )

    def delay_fixed(self, var: Variable, own: _U) -> None:
        if len(var.pieces) < 3:
            return
        label = self.label(var)
        time = _UNKNOWN if self.time is None else _U(self.time)
        try:
            delay = var.pieces[1].expr
            self.need(delay, self.infer(delay), time, "DELAY FIXED takes a delay time")
            initial = var.pieces[2].expr
            self.need(initial, self.infer(initial), own, "DELAY FIXED's initial value")
        except _Mismatch as exc:
            self.report(var, f"{label}: {exc.message}.", "", "", exc.terms)


def _ratio(a: Any, b: Any) -> float | None:
    """How many ``b`` make one ``a`` when both are of one dimension (exponents compared to
    1e-9, so that ``person^0.6 * person^0.4`` is a ``person``), else None."""
    try:
        root = (a / b).to_root_units()
    except (OverflowError, ZeroDivisionError):  # powers beyond a float (person^900)
        return None
    if any(abs(power) > 1e-9 for _, power in root.unit_items()):
        return None
    return float(root.magnitude)


def _constant(expr: Expr, model: Model | None = None) -> float | None:
    """The value of a constant expression: numbers, and parameters of one value each (the
    model's current value, when ``model`` is given)."""
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Ref) and model is not None:
        var = model.variables.get(expr.name)
        if var is None or var.kind != "param" or var.value is None or not var.value.size:
            return None
        values = var.value.ravel()
        return float(values[0]) if (values == values[0]).all() else None
    if isinstance(expr, Unary) and expr.op == "-":
        inner = _constant(expr.operand, model)
        return None if inner is None else -inner
    if isinstance(expr, Binary) and expr.op in ("+", "-", "*", "/"):
        a, b = _constant(expr.left, model), _constant(expr.right, model)
        if a is None or b is None or (expr.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[expr.op]
    return None


def _terms(expr: Expr) -> list[Expr]:
    """The terms of a sum, or the factors of a product, at the top of ``expr``."""
    if isinstance(expr, Binary) and expr.op in ("+", "-", "*", "/"):
        group = ("+", "-") if expr.op in ("+", "-") else ("*", "/")
        out: list[Expr] = []
        stack: list[Expr] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, Binary) and node.op in group:
                stack += [node.right, node.left]
            else:
                out.append(node)
        return out
    if isinstance(expr, Call):
        return list(expr.args)
    return [expr]


_PRECEDENCE = {"or": 1, "and": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
               "+": 4, "-": 4, "*": 5, "/": 5, "**": 7}  # fmt: skip


def _text(expr: Expr, outer: int = 0) -> str:
    """An expression as equation text, for messages (hidden state shown by what it holds)."""
    if isinstance(expr, Num):
        return number_text(expr.value)
    if isinstance(expr, Ref):
        name = expr.name
        if "~" in name:
            name = f"<{re.sub(r'[0-9]+$', '', name.split('~')[-1])} of {name.split('~')[0]}>"
        return name + (f"[{', '.join(expr.subs)}]" if expr.subs else "")
    if isinstance(expr, Time):
        return "time"
    if isinstance(expr, Unary):
        inner = _text(expr.operand, 6)
        return f"-{inner}" if expr.op == "-" else f"not {inner}"
    if isinstance(expr, Binary):
        level = _PRECEDENCE.get(expr.op, 0)
        right_level = level + (0 if expr.op in ("+", "*", "**") else 1)
        text = f"{_text(expr.left, level)} {expr.op} {_text(expr.right, right_level)}"
        return f"({text})" if level < outer else text
    if isinstance(expr, Call):
        if expr.func == "lookup" and expr.args:
            return f"{_text(expr.args[0])}({', '.join(_text(a) for a in expr.args[1:])})"
        return f"{expr.func}({', '.join(_text(a) for a in expr.args)})"
    if isinstance(expr, Reduce):
        return f"{expr.op}({_text(expr.body)}, {', '.join(map(repr, expr.dims))})"
    if isinstance(expr, InlineLookup):
        return f"with_lookup({_text(expr.arg)}, ...)"
    return type(expr).__name__


def check_units(model: Model, *, strict: bool = False) -> list[UnitFinding]:
    """Check that every equation of ``model`` agrees with its variable's declared units.

    Each auxiliary's and flow's equation is compared with the variable's units, each stock's
    initial value with its units and each of its flows with its units per time unit, as
    Vensim's units check does; variables without units are not checked (see
    :mod:`engine.units` for the conventions).

    Parameters
    ----------
    model : Model
        A model from the DSL or from :func:`engine.load`.
    strict : bool
        Raise :class:`UnitsError` listing the findings instead of returning them.

    Returns
    -------
    list of UnitFinding
        One per equation whose two sides disagree (empty when the model is consistent); each
        names the variable and gives both sides' units and those of the right side's terms.

    Raises
    ------
    UnitsError
        With ``strict=True``, when there is a finding.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="year")
    >>> _ = m.param("lifetime", 10, units="year")
    >>> _ = m.stock("amount", initial=100, units="kg")
    >>> _ = m.flow("decay", "amount / lifetime", out_of="amount", units="kg/year")
    >>> engine.check_units(m)
    []
    """
    findings = _Checker(model).run()
    if strict and findings:
        listed = "\n".join(f"- {f.message}" for f in findings)
        raise UnitsError(
            f"model {model.name!r}: {len(findings)} units disagreement(s):\n{listed}\n"
            "Correct the units (or the equations) named above, or check with strict=False "
            "to get them as warnings."
        )
    return findings


def infer_units(model: Model, equation: str | Expr) -> str:
    """The units of ``equation`` (DSL syntax) in the context of ``model``, as text.

    Raises
    ------
    UnitsError
        When the equation's terms disagree.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("m")
    >>> _ = m.param("people", 10, units="persons")
    >>> _ = m.param("span", 2, units="Year")
    >>> infer_units(m, "people / span")
    'person/year'
    """
    expr = equation if isinstance(equation, Expr) else parse(equation, where="infer_units")
    checker = _Checker(model)
    try:
        return checker.show(checker.infer(expr))
    except _Mismatch as exc:
        raise UnitsError(f"{_text(expr)!r}: {exc.message}.") from None
