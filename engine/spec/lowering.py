"""Lowering of functions with memory into hidden variables.

A call of ``smooth``, ``delay3``, ``delay_fixed``, ``initial``, ``trend``, ``forecast``... (every
builtin with ``memory``, :mod:`engine.builtins`) in an equation is replaced by a reference to
hidden variables of the host's dims and piece that hold its state: chains of first-order
stocks, a fixed-delay pipeline, an INITIAL slot. The compiler then sees only stocks, algebra
and a few discrete updates.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..equations import Binary, Call, Expr, InlineLookup, Num, Reduce, Ref, Unary, parse
from ..errors import SpecError
from .parts import MAX_ORDER, Piece, Variable

if TYPE_CHECKING:
    from .model import Model


def _stateful_call(
    kind: str, order: int, input: Any, delay_time: Any, initial: Any, name: str
) -> Call:
    args = [parse(input, where=f"{kind} {name!r}"), parse(delay_time, where=f"{kind} {name!r}")]
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise SpecError(f"{kind} {name!r}: order must be a positive integer, got {order!r}.")
    order = int(_Lowering.order(Num(float(order)), kind, name))
    init = None if initial is None else parse(initial, where=f"{kind} {name!r}")
    if order in (1, 3):
        func = {
            ("smooth", 1): "smooth",
            ("smooth", 3): "smooth3",
            ("delay", 1): "delay1",
            ("delay", 3): "delay3",
        }[(kind, order)]
        if init is not None:
            func += "i"
            args.append(init)
        return Call(func, tuple(args))
    if init is None:
        init = args[0]
    return Call(f"{kind}_n", (args[0], args[1], init, Num(float(order))))


class _Lowering:
    """Rewrites stateful calls into hidden variables of the host's dims and piece."""

    def __init__(self, model: Model, host: Variable, piece: Piece) -> None:
        self.model = model
        self.host = host
        self.piece = piece

    def visit(self, expr: Expr) -> Expr:
        if isinstance(expr, Unary):
            return Unary(expr.op, self.visit(expr.operand))
        if isinstance(expr, Binary):
            return Binary(expr.op, self.visit(expr.left), self.visit(expr.right))
        if isinstance(expr, Reduce):
            return Reduce(expr.op, expr.dims, self.visit(expr.body))
        if isinstance(expr, InlineLookup):
            return InlineLookup(expr.xs, expr.ys, self.visit(expr.arg))
        if isinstance(expr, Call):
            args = tuple(self.visit(a) for a in expr.args)
            method = getattr(self, "lower_" + expr.func, None)
            if method is not None:
                result: Expr = method(*args)
                return result
            return Call(expr.func, args)
        return expr

    # -- helpers
    def ref(self, name: str) -> Ref:
        return Ref(name, self.piece.subs)

    def new(self, what: str, kind: str, pieces: list[Expr], **fields: Any) -> str:
        name = self.model.hidden_name(self.host.name, what)
        var = Variable(name, kind, self.host.dims, hidden=True, units=self.host.units, **fields)
        var.pieces = [Piece(self.piece.subs, e, self.piece.exclude) for e in pieces]
        self.model.variables[name] = var
        return name

    def stock(self, what: str, initial: Expr, rate: Expr) -> str:
        name = self.new(what, "stock", [initial])
        self.model.variables[name].rate = [Piece(self.piece.subs, rate, self.piece.exclude)]
        return name

    def chain(
        self, what: str, input: Expr, delay: Expr, initial: Expr, n: int, material: bool
    ) -> Expr:
        """n first-order stages; returns the last stage's output."""
        stage_time = delay if n == 1 else Binary("/", delay, Num(float(n)))
        names = [self.model.hidden_name(self.host.name, what) for _ in range(n)]
        previous = input
        for name in names:
            init: Expr
            if material:
                init = Binary("*", initial, stage_time)
                level = Ref(name, self.piece.subs)
                rate = Binary("-", previous, Binary("/", level, stage_time))
                out: Expr = Binary("/", level, stage_time)
            else:
                init = initial
                level = Ref(name, self.piece.subs)
                rate = Binary("/", Binary("-", previous, level), stage_time)
                out = level
            var = Variable(name, "stock", self.host.dims, hidden=True, units=self.host.units)
            var.pieces = [Piece(self.piece.subs, init, self.piece.exclude)]
            var.rate = [Piece(self.piece.subs, rate, self.piece.exclude)]
            self.model.variables[name] = var
            previous = out
        return previous

    @staticmethod
    def order(n: Expr, what: str, host: str) -> int:
        """The order of a smooth or delay: a constant whole number from 1 to MAX_ORDER."""
        if not isinstance(n, Num):
            raise SpecError(
                f"{host!r}: the order of {what} must be a constant positive integer, "
                f"got {n!r}; give a number."
            )
        value = n.value
        if not (math.isfinite(value) and value >= 1 and value == math.floor(value)):
            raise SpecError(
                f"{host!r}: the order of {what} must be a whole number from 1 to "
                f"{MAX_ORDER}, got {value!r}."
            )
        if value > MAX_ORDER:
            raise SpecError(
                f"{host!r}: the order of {what} is {value:g}, above the maximum of "
                f"{MAX_ORDER} (each order is a stock); use an order of 10 or less, "
                "or a fixed delay (delay_fixed / DELAY FIXED) for a pipeline."
            )
        return int(value)

    # -- smooths
    def lower_smooth(self, input: Expr, delay: Expr, initial: Expr | None = None) -> Expr:
        return self.chain("smooth", input, delay, initial or input, 1, material=False)

    def lower_smoothi(self, input: Expr, delay: Expr, initial: Expr) -> Expr:
        return self.chain("smooth", input, delay, initial, 1, material=False)

    def lower_smooth3(self, input: Expr, delay: Expr, initial: Expr | None = None) -> Expr:
        return self.chain("smooth", input, delay, initial or input, 3, material=False)

    def lower_smooth3i(self, input: Expr, delay: Expr, initial: Expr) -> Expr:
        return self.chain("smooth", input, delay, initial, 3, material=False)

    def lower_smooth_n(self, input: Expr, delay: Expr, initial: Expr, n: Expr) -> Expr:
        return self.chain(
            "smooth",
            input,
            delay,
            initial,
            self.order(n, "smooth_n", self.host.name),
            material=False,
        )

    # -- material delays
    def lower_delay1(self, input: Expr, delay: Expr, initial: Expr | None = None) -> Expr:
        return self.chain("delay", input, delay, initial or input, 1, material=True)

    def lower_delay1i(self, input: Expr, delay: Expr, initial: Expr) -> Expr:
        return self.chain("delay", input, delay, initial, 1, material=True)

    def lower_delay3(self, input: Expr, delay: Expr, initial: Expr | None = None) -> Expr:
        return self.chain("delay", input, delay, initial or input, 3, material=True)

    def lower_delay3i(self, input: Expr, delay: Expr, initial: Expr) -> Expr:
        return self.chain("delay", input, delay, initial, 3, material=True)

    def lower_delay_n(self, input: Expr, delay: Expr, initial: Expr, n: Expr) -> Expr:
        return self.chain(
            "delay", input, delay, initial, self.order(n, "delay_n", self.host.name), material=True
        )

    def lower_delay_n_lagged(self, input: Expr, delay: Expr, initial: Expr, n: Expr) -> Expr:
        """DELAY N whose stages keep the delay time in force when material entered them (as
        Vensim and PySD do for a delay time that changes): stage k drains with the delay time
        of k steps ago; the output divides by the delay time of the previous step."""
        order = self.order(n, "delay_n", self.host.name)
        lags: list[Expr] = [delay]
        for k in range(1, max(order, 2)):
            lags.append(
                self.lower_delay_fixed(
                    delay, Binary("*", Num(float(k)), Call("time_step", ())), delay
                )
            )
        names = [self.model.hidden_name(self.host.name, "delay") for _ in range(order)]
        previous = input
        scale = Num(float(order))
        for k, name in enumerate(names):
            level = Ref(name, self.piece.subs)
            out = Binary("/", Binary("*", level, scale), lags[k])
            var = Variable(name, "stock", self.host.dims, hidden=True, units=self.host.units)
            var.pieces = [
                Piece(
                    self.piece.subs,
                    Binary("/", Binary("*", initial, delay), scale),
                    self.piece.exclude,
                )
            ]
            var.rate = [Piece(self.piece.subs, Binary("-", previous, out), self.piece.exclude)]
            self.model.variables[name] = var
            previous = out
        return Binary("/", Binary("*", Ref(names[-1], self.piece.subs), scale), lags[1])

    def lower_delay_fixed(self, input: Expr, delay: Expr, initial: Expr) -> Expr:
        # The input is held in a hidden auxiliary so that the pipeline can record its value
        # at each step; the delay time is read once, at initialisation (as Vensim does). A
        # delay longer than the run holds the initial value throughout (the pipeline is capped
        # at the run's length); one that is not a number fills it with NaN, which the run
        # reports as an IntegrationError.
        if isinstance(delay, Num) and not (math.isfinite(delay.value) and delay.value >= 0):
            raise SpecError(
                f"{self.host.name!r}: the delay time of a fixed delay is "
                f"{delay.value!r}; give a finite delay time of zero or more."
            )
        feed = self.new("delay_input", "aux", [input])
        name = self.new("delay_fixed", "delay_fixed", [input, delay, initial])
        self.model.variables[name].extra["input"] = feed
        return self.ref(name)

    # -- others
    def lower_sample_if_true(self, condition: Expr, input: Expr, initial: Expr) -> Expr:
        # Vensim's SAMPLE IF TRUE: the input while the condition holds, else the value it had
        # at the previous step (the initial value before any). The held value is a hidden
        # stock with no rate, which every solver leaves alone, set to the function's value
        # before each step (a discrete update, engine.compiler.stocks._sample_push).
        held = self.stock("sample_held", initial, Num(0.0))
        value = self.new(
            "sample_if_true", "aux", [Call("if_then_else", (condition, input, self.ref(held)))]
        )
        self.model.variables[held].extra["sample_from"] = value
        return self.ref(value)

    def lower_initial(self, value: Expr) -> Expr:
        return self.ref(self.new("initial", "initial", [value]))

    def lower_trend(self, input: Expr, average_time: Expr, initial_trend: Expr) -> Expr:
        # Vensim TREND: a first-order smooth of the input, initialised so that the trend starts
        # at initial_trend; the trend is (input - smooth) / (average_time * |smooth|).
        init = Binary("/", input, Binary("+", Num(1.0), Binary("*", initial_trend, average_time)))
        level = self.chain("trend", input, average_time, init, 1, material=False)
        return Call(
            "zidz", (Binary("-", input, level), Binary("*", average_time, Call("abs", (level,))))
        )

    def lower_forecast(self, input: Expr, average_time: Expr, horizon: Expr) -> Expr:
        level = self.chain("forecast", input, average_time, input, 1, material=False)
        trend = Call("zidz", (Binary("-", input, level), Binary("*", average_time, level)))
        return Binary("*", input, Binary("+", Num(1.0), Binary("*", trend, horizon)))

    # -- stochastic processes (engine.kernels: _ar1_next, _walk_next)
    def process(self, what: str, initial: Expr, step: Call) -> Expr:
        """A hidden stock that an Euler step moves from its value to ``step`` (the process one
        step on): its rate is (step - value) / dt."""
        name = self.model.hidden_name(self.host.name, what)
        level = Ref(name, self.piece.subs)
        rate = Binary(
            "/",
            Binary("-", Call(step.func, (level, *step.args)), level),
            Call("time_step", ()),
        )
        var = Variable(name, "stock", self.host.dims, hidden=True, units=self.host.units)
        var.pieces = [Piece(self.piece.subs, initial, self.piece.exclude)]
        var.rate = [Piece(self.piece.subs, rate, self.piece.exclude)]
        self.model.variables[name] = var
        return level

    def lower_ar1(
        self, mean: Expr, sd: Expr, persistence: Expr, initial: Expr | None = None
    ) -> Expr:
        # Starts at ``initial`` (by default its mean: a known jump-off); deviations reach the
        # stationary spread sd as persistence ** t decays.
        step = Call("ar1_step", (mean, sd, persistence))
        return self.process("ar1", mean if initial is None else initial, step)

    def lower_random_walk(self, scale: Expr) -> Expr:
        return self.process("random_walk", Num(0.0), Call("walk_step", (scale,)))
