"""Mapping PySD's expression structures into :mod:`engine.equations` trees.

:class:`_ExpressionMapper` is the part of the mapper (:class:`engine.vensim.mapper._Mapper`)
that reads one equation: arithmetic and logic, references, calls of builtin functions
(:mod:`engine.builtins`, under the names PySD gives them), reductions over subscripts, lookups,
and the functions with memory (SMOOTH, DELAY, TREND, FORECAST...), whose order is fixed at the
initial time as Vensim fixes it (:meth:`~_ExpressionMapper.initial_value` evaluates constants
over the parsed tree, never with ``eval``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..builtins import names as builtin_names
from ..equations import (
    Binary,
    Call,
    Expr,
    InlineLookup,
    Num,
    Reduce,
    Ref,
    Time,
    Unary,
)
from ..errors import SpecError
from ..spec import MAX_ORDER, Model, Variable

_CONTROL = {"initial_time": "start", "final_time": "stop", "time_step": "dt", "saveper": "saveper"}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}
_LOGIC = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# PySD functions that are ours under the same name and arguments (engine.builtins)
_SAME = builtin_names(vensim=True)
_REDUCE = {"sum": "sum", "prod": "prod", "vmin": "min", "vmax": "max"}


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


class _ExpressionMapper:
    """Equations of PySD's AbstractModel as :mod:`engine.equations` trees.

    The state it reads (names in scope, lookups, constants, the section being mapped) is set
    by :class:`engine.vensim.mapper._Mapper`, which also expands macro calls.
    """

    path: Path
    model: Model
    section: Any
    macros: dict[str, Any]
    names: dict[str, str]  # normalised -> original element name
    dim_names: dict[str, str]  # normalised -> original range name
    constants: dict[str, float]
    lookups: set[str]
    current: str

    def macro_call(self, name: str, args: list[Any]) -> Expr:
        raise NotImplementedError  # the mapper's

    def fail(self, what: str) -> SpecError:
        return SpecError(f"{str(self.path)!r}: variable {self.current!r}: {what}")

    def const_value(self, expr: Any) -> float | None:
        if _is_number(expr):
            return float(expr)
        kind = type(expr).__name__
        if kind == "ReferenceStructure" and expr.subscripts is None:
            return self.constants.get(expr.reference)
        return None

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Any) -> Expr:
        if _is_number(node):
            return Num(float(node))
        if isinstance(node, np.ndarray):
            raise self.fail("a list of numbers can only be the whole equation of a constant.")
        kind = type(node).__name__
        method = getattr(self, "x_" + kind, None)
        if method is None:
            raise self.fail(f"{_construct(kind)} is not supported.")
        result: Expr = method(node)
        return result

    def x_ArithmeticStructure(self, node: Any) -> Expr:
        ops, args = list(node.operators), list(node.arguments)
        if ops == ["negative"]:
            inner = self.expr(args[0])
            return Num(-inner.value) if isinstance(inner, Num) else Unary("-", inner)
        for op in ops:
            if op not in _ARITH:
                raise self.fail(f"operator {op!r} is not supported.")
        if set(ops) == {"^"}:
            # Exponentiation groups to the right in Vensim and XMILE: 4^3^2 is 4^(3^2).
            out = self.expr(args[-1])
            for arg in reversed(args[:-1]):
                out = Binary("**", self.expr(arg), out)
            return out
        out = self.expr(args[0])
        for op, arg in zip(ops, args[1:]):
            out = Binary(_ARITH[op], out, self.expr(arg))
        return out

    def x_LogicStructure(self, node: Any) -> Expr:
        ops, args = list(node.operators), list(node.arguments)
        if ops == [":NOT:"]:
            return Unary("not", self.expr(args[0]))
        if len(ops) == 1 and ops[0] in _LOGIC:
            return Binary(_LOGIC[ops[0]], self.expr(args[0]), self.expr(args[1]))
        # :AND: / :OR: chains group to the right (as Vensim and PySD evaluate them).
        out = self.expr(args[-1])
        for op, arg in zip(reversed(ops), reversed(args[:-1])):
            name = {":AND:": "and", ":OR:": "or"}.get(op)
            if name is None:
                raise self.fail(f"logical operator {op!r} is not supported here.")
            out = Binary(name, self.expr(arg), out)
        return out

    def x_ReferenceStructure(self, node: Any) -> Expr:
        ref = node.reference
        if ref == "time":
            return Time()
        subs = None if node.subscripts is None else list(node.subscripts.subscripts)
        if ref in _CONTROL and ref in self.names:
            return Ref(self.names[ref])
        if ref in self.names:
            if ref in self.lookups:
                raise self.fail(f"lookup {self.names[ref]!r} is used without an argument.")
            if subs is not None:
                self.check_repeated_range(ref, subs)
            return Ref(self.names[ref], None if subs is None else tuple(subs))
        if ref in self.dim_names and subs is None:
            return self.range_number(self.dim_names[ref])
        position = self.element_number(ref)
        if position is not None and subs is None:
            return Num(float(position))
        raise self.fail(f"unknown name {ref!r}.")

    def check_repeated_range(self, ref: str, subs: list[str]) -> None:
        """A variable over one range twice (its second a copy, ``dim~2``) is read by element
        at that position: a range name there could mean the diagonal or the whole row, so it
        is refused rather than guessed."""
        element = next((e for e in self.section.elements if _norm(e.name) == ref), None)
        if element is None or len(subs) < 2:
            return
        dims = self.element_dims(list(element.components))
        for dim, sub in zip(dims, subs):
            if dim.endswith("~2") and sub.rstrip("!") in self.model.dims:
                raise self.fail(
                    f"{self.names[ref]!r} is subscripted by range {dim[:-2]!r} twice; read "
                    f"it with element names at the second position (not the range "
                    f"{sub.rstrip('!')!r}), which corridor does not support."
                )

    def main_range(self, elements: tuple[str, ...]) -> tuple[str, ...]:
        """The elements of the largest range holding all of ``elements`` (its main range)."""
        holders = [d.elements for d in self.model.dims.values() if set(elements) <= set(d.elements)]
        return max(holders, key=len)

    def range_number(self, name: str) -> Expr:
        """A subscript range used as a number: each element's position (from 1) in its main
        range, as Vensim (and PySD) read ``dim - 1`` in an equation over ``dim``."""
        elements = tuple(self.model.dims[name].elements)
        main = self.main_range(elements)
        hidden = f"{name}~number"
        if hidden not in self.model.variables:
            values = np.array([main.index(e) + 1 for e in elements], dtype=float)
            self.model.variables[hidden] = Variable(
                hidden, "param", (name,), value=values, hidden=True
            )
        return Ref(hidden, (name,))

    def element_number(self, ref: str) -> int | None:
        """A subscript element used as a number: its position (from 1) in its main range."""
        for dim in self.model.dims.values():
            for element in dim.elements:
                if _norm(element) == ref:
                    return self.main_range((element,)).index(element) + 1
        return None

    def x_CallStructure(self, node: Any) -> Expr:
        func = node.function.reference
        args = list(node.arguments)
        if func in self.lookups:
            if len(args) != 1:
                raise self.fail(f"lookup {self.names[func]!r} takes one argument.")
            subs = node.function.subscripts
            table = Ref(self.names[func], None if subs is None else tuple(subs.subscripts))
            return Call("lookup", (table, self.expr(args[0])))
        if func in self.macros:
            return self.macro_call(func, args)
        if func in _REDUCE:
            return self.reduction(_REDUCE[func], args[0])
        if func == "elmcount":
            dim = args[0]
            name = self.dim_names.get(getattr(dim, "reference", ""))
            if name is None:
                raise self.fail("ELMCOUNT needs a subscript range.")
            return Call("elmcount", (Ref(name),))
        if func == "pulse_train":  # pysd gives (start, interval, width, end)
            start, interval, width, end = (self.expr(a) for a in args)
            return Call("pulse_train", (start, width, interval, end))
        if func == "active_initial":
            raise self.fail("ACTIVE INITIAL must be the whole equation of the variable.")
        if func == "vector_select":
            return self.vector_select(args)
        if func == "get_time_value":
            return self.time_value(args)
        if func == "pi" and not args:  # XMILE's PI()
            return Num(math.pi)
        if func in ("vmin_xmile", "vmax_xmile") and len(args) == 1:  # XMILE's MIN(array)
            return self.whole_array(func[1:4], args[0])
        if func in _SAME:
            return Call(func, tuple(self.expr(a) for a in args))
        raise self.fail(f"function {func.upper()} is not supported.")

    def vector_select(self, args: list[Any]) -> Expr:
        """VECTOR SELECT(selection[d!], expression[d!], missing, action, error action), as
        reductions over the marked subscripts of the elements whose selection is not zero
        (Vensim's actions 0-10, as PySD implements them; a missing value when none is)."""
        if len(args) != 5:
            raise self.fail("VECTOR SELECT takes five arguments.")
        if self.initial_value(self.expr(args[4])) != 0 or not self.is_constant(self.expr(args[4])):
            raise self.fail(
                "VECTOR SELECT is supported with error action 0 only (the others stop the "
                "run on too few or too many selected elements)."
            )
        banged: list[str] = []
        selection = self._unbang(self.expr(args[0]), banged)
        value = self._unbang(self.expr(args[1]), banged)
        dims = tuple(dict.fromkeys(banged))
        if not dims:
            raise self.fail("VECTOR SELECT needs subscripts marked with '!'.")
        chosen = Binary("!=", selection, Num(0.0))
        weighted = Binary("*", selection, value)

        def over(op: str, body: Expr, other: float) -> Expr:
            return Reduce(op, dims, Call("if_then_else", (chosen, body, Num(other))))

        count = over("sum", Num(1.0), 0.0)
        actions: dict[int, Expr] = {
            0: over("sum", weighted, 0.0),
            1: over("prod", weighted, 1.0),
            2: over("min", weighted, math.inf),
            3: over("max", weighted, -math.inf),
            4: Binary("/", over("sum", weighted, 0.0), count),
            5: over("prod", Binary("**", value, selection), 1.0),
            6: over("sum", value, 0.0),
            7: over("prod", value, 1.0),
            8: over("min", value, math.inf),
            9: over("max", value, -math.inf),
            10: Binary("/", over("sum", value, 0.0), count),
        }
        action = self.expr(args[3])
        known = self.initial_value(action) if self.is_constant(action) else None
        if known is not None:
            if known not in actions:
                raise self.fail(f"VECTOR SELECT's action is {known:g}; it must be 0 to 10.")
            result = actions[int(known)]
        else:
            raise self.fail(
                "VECTOR SELECT's action must be a constant (0 to 10); an action that "
                "changes during the run is not supported."
            )
        missing = self.expr(args[2])
        return Call("if_then_else", (Binary("==", count, Num(0.0)), missing, result))

    def x_AllocateByPriorityStructure(self, node: Any) -> Expr:
        """ALLOCATE BY PRIORITY(request[..., d], priority[..., d], size, width, supply): the
        supply shared over the last subscript ``d`` of the request (Vensim's semantics, as
        PySD computes them: :func:`engine.kernels._allocate_by_priority`). Each element
        reads the whole request and priority over ``d`` (the compiler's rule) and its own
        position in ``d`` (a hidden variable)."""
        request, dim = self.allocation_request("ALLOCATE BY PRIORITY", node.request)
        priority = self.expr(node.priority)
        args = (request, priority, self.expr(node.width), self.expr(node.supply))
        return Call("allocate_by_priority", (*args, self.position(dim)))

    def x_AllocateAvailableStructure(self, node: Any) -> Expr:
        """ALLOCATE AVAILABLE(request[..., d], pp[..., d, ptype], avail): the supply shared
        over the last subscript ``d`` of the request by the targets' priority profiles, the
        four elements of pp's last range from the one named (ptype, ppriority, pwidth,
        pextra), as Vensim documents them (:func:`engine.kernels._allocate_available`:
        profiles 1-4; 0, fixed quantity, and 5, constant elasticity, give a non-finite
        value, which stops the run, as PySD refuses them)."""
        request, dim = self.allocation_request("ALLOCATE AVAILABLE", node.request)
        pp = self.expr(node.pp)
        ref = getattr(node.pp, "reference", None)
        element = next((e for e in self.section.elements if _norm(e.name) == ref), None)
        if not isinstance(pp, Ref) or not pp.subs or element is None or len(pp.subs) < 2:
            raise self.fail(
                "ALLOCATE AVAILABLE's priority profiles must be a variable subscripted by "
                "the request's range and the first element of its profile, e.g. pp[d, ptype]."
            )
        if pp.subs[-2] != dim:
            raise self.fail(
                f"ALLOCATE AVAILABLE's priority profiles must have the request's last "
                f"subscript, {dim!r}, before the profile's element."
            )
        profile = self.model.dims[self.element_dims(list(element.components))[-1]].elements
        first = (
            [e.lower() for e in profile].index(pp.subs[-1].lower())
            if any(e.lower() == pp.subs[-1].lower() for e in profile)
            else -1
        )
        if first < 0 or first + 4 > len(profile):
            raise self.fail(
                f"ALLOCATE AVAILABLE's priority profiles: {pp.subs[-1]!r} must be an element "
                f"of {self.names[str(ref)]!r}'s last range followed by three more (ptype, "
                f"ppriority, pwidth, pextra)."
            )
        self.check_profiles(element, list(profile), first)
        columns = tuple(Ref(pp.name, (*pp.subs[:-1], e)) for e in profile[first : first + 4])
        args = (request, *columns, self.expr(node.avail))
        return Call("allocate_available", (*args, self.position(dim)))

    def check_profiles(self, element: Any, profile: list[str], first: int) -> None:
        """Refuse, when the model gives them as numbers, the profiles ALLOCATE AVAILABLE does
        not support: 0 (fixed quantity) and 5 (constant elasticity), or any other than 1-4.
        (A profile given by an equation is checked at run time: a non-finite share.)"""
        ptype = profile[first].lower()
        for component in element.components:
            last = str(component.subscripts[0][-1])
            value = component.ast
            if last.lower() == ptype and (_is_number(value) or isinstance(value, np.ndarray)):
                kinds = np.ravel(np.asarray(value, dtype=float))
            elif last in self.model.dims and isinstance(value, np.ndarray):
                names = [e.lower() for e in self.model.dims[last].elements]
                if ptype not in names or value.shape[-1] != len(names):
                    continue
                kinds = np.ravel(value[..., names.index(ptype)])
            else:
                continue
            unknown = sorted({float(k) for k in kinds} - {1.0, 2.0, 3.0, 4.0})
            if unknown:
                raise self.fail(
                    f"ALLOCATE AVAILABLE's priority profile {unknown[0]:g} is not supported "
                    f"(only 1 rectangular, 2 triangular, 3 normal and 4 exponential; 0, fixed "
                    f"quantity, and 5, constant elasticity, are not)."
                )

    def allocation_request(self, construct: str, node: Any) -> tuple[Ref, str]:
        """An allocation's request and the range it allocates over (its last subscript)."""
        request = self.expr(node)
        if not isinstance(request, Ref) or not request.subs:
            raise self.fail(
                f"{construct}'s request must be a subscripted variable, e.g. demand[region]."
            )
        dim = request.subs[-1]
        if dim not in self.model.dims:
            raise self.fail(
                f"{construct} allocates over the last subscript of the request, which must be "
                f"a subscript range ({dim!r} is not)."
            )
        return request, dim

    def position(self, dim: str) -> Ref:
        """Each element's position (from 0) in range ``dim``: a hidden constant."""
        hidden = f"{dim}~position"
        if hidden not in self.model.variables:
            values = np.arange(len(self.model.dims[dim].elements), dtype=float)
            self.model.variables[hidden] = Variable(
                hidden, "param", (dim,), value=values, hidden=True
            )
        return Ref(hidden, (dim,))

    def time_value(self, args: list[Any]) -> Expr:
        """GET TIME VALUE(relative to, offset, measure): the model's time plus the offset
        (relative to 0, measure 0). The other cases read the initial time or the computer's
        clock in calendar units, which a forecasting run does not reproduce: refused."""
        if len(args) != 3:
            raise self.fail("GET TIME VALUE takes three arguments.")
        relative, measure = (self.initial_value(self.expr(a)) for a in (args[0], args[2]))
        if relative != 0 or measure != 0:
            raise self.fail(
                "GET TIME VALUE is supported relative to the current time (0) in the "
                "model's units of time (0) only; the initial time (1) and the computer's "
                "clock (2), and calendar measures, are not."
            )
        return Binary("+", Time(), self.expr(args[1]))

    def whole_array(self, op: str, arg: Any) -> Expr:
        """XMILE's one-argument MIN/MAX: the smallest/largest element of an array."""
        ref = getattr(arg, "reference", None)
        element = next(
            (e for e in self.section.elements if _norm(e.name) == ref),
            None,
        )
        if type(arg).__name__ != "ReferenceStructure" or arg.subscripts or element is None:
            raise self.fail(
                f"{op.upper()} with one argument needs the name of an arrayed variable."
            )
        dims = self.element_dims(list(element.components))
        name = self.names[str(ref)]
        if not dims:
            return Ref(name)
        return Reduce(op, dims, Ref(name, dims))

    def element_dims(self, components: list[Any]) -> tuple[str, ...]:
        raise NotImplementedError  # the mapper's

    def reduction(self, op: str, arg: Any) -> Expr:
        banged: list[str] = []
        body = self.expr(arg)
        body = self._unbang(body, banged)
        if not banged:
            raise self.fail("SUM/PROD/VMIN/VMAX need a subscript marked with '!'.")
        return Reduce(op, tuple(dict.fromkeys(banged)), body)

    def _unbang(self, expr: Expr, banged: list[str]) -> Expr:
        if isinstance(expr, Ref) and expr.subs is not None:
            subs = []
            for sub in expr.subs:
                if sub.endswith("!"):
                    sub = sub[:-1]
                    banged.append(sub)
                subs.append(sub)
            return Ref(expr.name, tuple(subs))
        if isinstance(expr, Unary):
            return Unary(expr.op, self._unbang(expr.operand, banged))
        if isinstance(expr, Binary):
            return Binary(
                expr.op, self._unbang(expr.left, banged), self._unbang(expr.right, banged)
            )
        if isinstance(expr, Call):
            return Call(expr.func, tuple(self._unbang(a, banged) for a in expr.args))
        if isinstance(expr, InlineLookup):
            return InlineLookup(expr.xs, expr.ys, self._unbang(expr.arg, banged))
        return expr

    def x_GameStructure(self, node: Any) -> Expr:
        return self.expr(node.expression)

    def x_SampleIfTrueStructure(self, node: Any) -> Expr:
        return Call(
            "sample_if_true",
            (self.expr(node.condition), self.expr(node.input), self.expr(node.initial)),
        )

    def x_InitialStructure(self, node: Any) -> Expr:
        return Call("initial", (self.expr(node.initial),))

    def x_DelayStructure(self, node: Any) -> Expr:
        delay = self.expr(node.delay_time)
        order = self.reduced_order(int(node.order), delay)
        return Call(
            "delay_n", (self.expr(node.input), delay, self.expr(node.initial), Num(float(order)))
        )

    def x_DelayNStructure(self, node: Any) -> Expr:
        delay = self.expr(node.delay_time)
        order = self.reduced_order(int(self.order(node.order, "DELAY N").value), delay)
        func = "delay_n" if self.is_constant(delay) else "delay_n_lagged"
        return Call(
            func, (self.expr(node.input), delay, self.expr(node.initial), Num(float(order)))
        )

    def is_constant(self, expr: Expr, depth: int = 0) -> bool:
        """True when ``expr`` cannot change during a run (numbers and constants only)."""
        if depth > 50:
            return False
        if isinstance(expr, Num):
            return True
        if isinstance(expr, Ref):
            key = _norm(expr.name)
            if key in self.constants:
                return True
            element = next((e for e in self.section.elements if _norm(e.name) == key), None)
            if element is None:
                return False
            return all(
                _is_number(c.ast) or isinstance(c.ast, np.ndarray) for c in element.components
            )
        if isinstance(expr, Unary):
            return self.is_constant(expr.operand, depth + 1)
        if isinstance(expr, Binary):
            return self.is_constant(expr.left, depth + 1) and self.is_constant(
                expr.right, depth + 1
            )
        return False

    def reduced_order(self, order: int, delay: Expr) -> int:
        """Vensim (and PySD) lower a delay's order while order * TIME STEP exceeds the delay
        time at initialisation."""
        value = self.initial_value(delay)
        dt = self.constants.get("time_step")
        if value is None or dt is None or not (dt > 0 and math.isfinite(value)):
            return order
        if order * dt > value:  # the largest k < order with k * dt <= value, at least 1
            order = max(1, min(order - 1, int(math.floor(value / dt)) + 1))
            while order > 1 and order * dt > value:
                order -= 1
        return order

    def x_DelayFixedStructure(self, node: Any) -> Expr:
        return Call(
            "delay_fixed",
            (self.expr(node.input), self.expr(node.delay_time), self.expr(node.initial)),
        )

    def x_SmoothStructure(self, node: Any) -> Expr:
        func = {1: "smoothi", 3: "smooth3i"}[int(node.order)]
        return Call(
            func, (self.expr(node.input), self.expr(node.smooth_time), self.expr(node.initial))
        )

    def x_SmoothNStructure(self, node: Any) -> Expr:
        return Call(
            "smooth_n",
            (
                self.expr(node.input),
                self.expr(node.smooth_time),
                self.expr(node.initial),
                self.order(node.order, "SMOOTH N"),
            ),
        )

    def x_TrendStructure(self, node: Any) -> Expr:
        return Call(
            "trend",
            (self.expr(node.input), self.expr(node.average_time), self.expr(node.initial_trend)),
        )

    def x_ForecastStructure(self, node: Any) -> Expr:
        if self.const_value(node.initial_trend) not in (0.0, None):
            raise self.fail("FORECAST with an initial trend is not supported.")
        return Call(
            "forecast",
            (self.expr(node.input), self.expr(node.average_time), self.expr(node.horizon)),
        )

    def x_InlineLookupsStructure(self, node: Any) -> Expr:
        table = node.lookups
        return InlineLookup(
            tuple(float(x) for x in table.x),
            tuple(float(y) for y in table.y),
            self.expr(node.argument),
        )

    def order(self, node: Any, what: str) -> Num:
        # Vensim and PySD fix the order at initialisation: evaluate it at INITIAL TIME.
        value = self.initial_value(self.expr(node))
        if value is None or not math.isfinite(value) or value < 1:
            raise self.fail(f"the order of {what} must be a constant positive number.")
        if int(value) > MAX_ORDER:
            raise self.fail(
                f"the order of {what} is {value:g}, above the maximum of "
                f"{MAX_ORDER} (each order is a stock); use an order of 10 or less, "
                "or DELAY FIXED for a pipeline."
            )
        return Num(float(int(value)))

    def initial_value(self, expr: Expr, depth: int = 0) -> float | None:
        """The value of a scalar expression at the initial time, when it depends only on
        constants and time (evaluated over the parsed tree; None when it cannot be)."""
        if depth > 50:
            return None
        if isinstance(expr, Num):
            return expr.value
        if isinstance(expr, Time):
            return self.constants.get("initial_time")
        if isinstance(expr, Ref) and not expr.subs:
            key = _norm(expr.name)
            if key in self.constants:
                return self.constants[key]
            element = next((e for e in self.section.elements if _norm(e.name) == key), None)
            if element is None or len(element.components) != 1:
                return None
            try:
                return self.initial_value(self.expr(element.components[0].ast), depth + 1)
            except SpecError:
                return None
        if isinstance(expr, Unary):
            inner = self.initial_value(expr.operand, depth + 1)
            if inner is None:
                return None
            return -inner if expr.op == "-" else float(not inner)
        if isinstance(expr, Binary):
            left = self.initial_value(expr.left, depth + 1)
            right = self.initial_value(expr.right, depth + 1)
            if left is None or right is None:
                return None
            return _BINARY_VALUE[expr.op](left, right)
        if isinstance(expr, Call):
            args = [self.initial_value(a, depth + 1) for a in expr.args]
            if any(a is None for a in args):
                return None
            t = self.constants.get("initial_time", 0.0)
            h = self.constants.get("time_step", 1.0)
            values = [float(a) for a in args if a is not None]
            if expr.func == "step":
                return values[0] if t + h / 2 > values[1] else 0.0
            if expr.func in ("min", "max"):
                return float(min(values) if expr.func == "min" else max(values))
            if expr.func == "if_then_else":
                return values[1] if values[0] else values[2]
            if expr.func == "integer":
                return float(int(values[0]))
        return None


_BINARY_VALUE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.inf,
    "**": lambda a, b: a**b,
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "and": lambda a, b: float(bool(a) and bool(b)),
    "or": lambda a, b: float(bool(a) or bool(b)),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _construct(kind: str) -> str:
    names = {
        "SampleIfTrueStructure": "SAMPLE IF TRUE",
        "AllocateAvailableStructure": "ALLOCATE AVAILABLE",
        "AllocateByPriorityStructure": "ALLOCATE BY PRIORITY",
        "GetDataStructure": "GET DATA",
        "GetConstantsStructure": "GET CONSTANTS",
        "GetLookupsStructure": "GET LOOKUPS",
        "DataStructure": "a data variable",
        "LookupsStructure": "a lookup table inside an equation",
    }
    return names.get(kind, kind.replace("Structure", "").upper())
