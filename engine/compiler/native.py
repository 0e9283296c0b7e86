"""A large model's functions compiled straight to LLVM IR, without numba's front end.

numba spends most of a large model's cold compile in Python: bytecode analysis, SSA, type
inference and lowering of ~15,000 IR statements (the default corridor: ~9 of its ~14 s of
CPU), work that is the same for every statement of the simple code the compiler generates.
The functions a large model's Euler kernels call through pointers (its initialisation, rates
and output code, see :func:`engine.compiler.assembly._by_pointer`) are, almost always, a
small subset of Python: assignments to locals and to elements of the float64 arrays, ``for``
loops over ``range`` with a constant step, ``if``, arithmetic, comparisons, ``min``/``max``/
``abs``/``int``/``np.uint64``/numpy's scalar math (``np.exp``, ``np.sqrt``, ``np.sin``...)
and calls of the scalar helpers of
:mod:`engine.kernels`. This module translates that subset, read with :mod:`ast` from the
generated module (the compiler's own text, already shape-checked; never a model's text),
into LLVM IR that computes what numba's lowering computes, operation for operation:

- integers are int64 or uint64 as numba types them (a literal is int64; an int64 mixed with a
  uint64, which numba makes float64, is not translated), floats float64, comparisons i1;
- ``+ - * /`` are LLVM's integer and IEEE operations (no fast-math flags, as numba);
  ``/`` of integers converts both to float64 first; float ``**`` float is ``llvm.pow``;
  unary minus of a float is ``fsub -0.0, x`` (numba's ``negate_real``);
- ``min``/``max`` fold left to right with ``select(v < acc, v, acc)`` (``>`` for max), the
  operands unified pairwise, as numba's ``do_minmax`` (so NaNs fall where Python's do);
- ``abs`` of a float is ``llvm.fabs``; ``np.exp``/``log``/``log10``/``sin``/``cos`` are LLVM's
  intrinsics and ``np.sqrt``/``tan``/``arcsin``/``arccos``/``arctan``/``sinh``/``cosh``/``tanh``
  the C library's functions, declared as numba declares them (``numba.np.math.mathimpl``);
- an element ``x[i]`` with a signed index wraps a negative index once (numba's
  ``fix_integer_index``), an unsigned one is used as it is; no bounds check (numba's default);
- a helper of :mod:`engine.kernels` is called as numba calls it (its own compiled code, linked
  in, through numba's calling convention);
- the code goes through numba's own code generator (:mod:`numba.core.codegen`: the same
  LLVM passes, target machine and JIT), and its entry point has the signature of numba's C
  wrapper, so the Euler kernels call it through the same first-class function type.

Anything else (another construct, call or mix of types) raises :class:`Unsupported` while
translating, and that function is compiled by numba as before: a function is translated
whole or not at all. Results are bit-identical to numba's (tests compare every output of the
bundled models and of generated random functions, bit for bit).

The object code is cached beside the kernel module (``corridor_<key>.<function>.native``,
keyed by the source's hash and numba's code-generator magic: CPU name and features), written
atomically; a file that does not match is ignored and rewritten.
"""

from __future__ import annotations

import ast
import hashlib
import json
import operator
import struct
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llvmlite
import llvmlite.binding as ll
import numba
import numpy as np
from llvmlite import ir as ll_ir
from numba.core import types
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import cpu_target
from numba.extending import typeof_impl

from .. import kernels
from ..cache import cache_dir, write_atomic_bytes

_ARRAY = "{ptr, ptr, i64, i64, ptr, [1 x i64], [1 x i64]}"
# The scalar types: int64, uint64, float64, bool (i1).
_LL = {"i": "i64", "u": "i64", "f": "double", "b": "i1"}
# numba freezes a global array into the code only up to this size (numba.core.base
# BaseContext.make_constant_array, lower_array_limit); a larger one it reads at run time
_FROZEN_LIMIT = 1_000_000
_NB = {"i": types.int64, "u": types.uint64, "f": types.float64, "b": types.boolean}
_KIND = {ty: kind for kind, ty in _NB.items()}
# The generated functions' arguments: the one signature loading gives each (by its
# arguments' names: t and h float64, step int64, the rest contiguous float64 arrays).
_ARRAY_TYPE = types.float64[::1]


def _kind(ty: Any) -> str:
    """An argument's type as the translator names it ("array" for a float64 C array)."""
    if ty == _ARRAY_TYPE:
        return "array"
    kind = _KIND.get(ty)
    if kind not in ("f", "i"):
        raise Unsupported(f"an argument of type {ty}")
    return kind


# Helpers of engine.kernels a translated function may call: functions of scalars and arrays
# that never raise (checked by a test against their source); the fixed delays' write the
# arrays they are given and return nothing (called as statements).
HELPERS = frozenset(
    {
        "_delay_fixed_length",
        "_delay_fixed_fill",
        "_delay_fixed_read",
        "_delay_fixed_push",
        "_lookup",
        "_lookup_extrapolate",
        "_integer",
        "_modulo",
        "_xidz",
        "_zidz",
        "_step",
        "_ramp",
        "_pulse",
        "_pulse_train",
        "_quantum",
        "_standard_normal",
        "_chi_square",
        "_random_0_1",
        "_random_uniform",
        "_random_normal",
        "_random_exponential",
        "_random_poisson",
    }
)
_INTRINSICS = {
    "pow": "declare double @llvm.pow.f64(double, double)",
    "fabs": "declare double @llvm.fabs.f64(double)",
}
#: ``np.<name>`` of a float64, as numba lowers it (``numba.np.math.mathimpl``: an LLVM
#: intrinsic for ``unary_math_intr``, a C library function declared ``readonly nounwind``, as
#: ``cgutils.insert_pure_function`` declares it, for ``unary_math_extern``); an integer
#: argument is converted to float64 first, as numba's ufunc loop ``d->d`` does.
_UNARY_MATH = {
    "exp": ("llvm.exp.f64", "declare double @llvm.exp.f64(double)"),
    "log": ("llvm.log.f64", "declare double @llvm.log.f64(double)"),
    "log10": ("llvm.log10.f64", "declare double @llvm.log10.f64(double)"),
    "sin": ("llvm.sin.f64", "declare double @llvm.sin.f64(double)"),
    "cos": ("llvm.cos.f64", "declare double @llvm.cos.f64(double)"),
    **{
        name: (c, f"declare double @{c}(double) nounwind readonly")
        for name, c in (
            ("sqrt", "sqrt"),
            ("tan", "tan"),
            ("arcsin", "asin"),
            ("arccos", "acos"),
            ("arctan", "atan"),
            ("sinh", "sinh"),
            ("cosh", "cosh"),
            ("tanh", "tanh"),
        )
    },
}
_FCMP = {
    ast.Lt: "olt",
    ast.LtE: "ole",
    ast.Gt: "ogt",
    ast.GtE: "oge",
    ast.Eq: "oeq",
    ast.NotEq: "une",
}
_ICMP = {
    ast.Lt: "slt",
    ast.LtE: "sle",
    ast.Gt: "sgt",
    ast.GtE: "sge",
    ast.Eq: "eq",
    ast.NotEq: "ne",
}
_UCMP = {
    ast.Lt: "ult",
    ast.LtE: "ule",
    ast.Gt: "ugt",
    ast.GtE: "uge",
    ast.Eq: "eq",
    ast.NotEq: "ne",
}
_ARITH = {ast.Add: ("add", "fadd"), ast.Sub: ("sub", "fsub"), ast.Mult: ("mul", "fmul")}


class Unsupported(Exception):
    """The function uses something this translator does not (numba compiles it)."""


def _float(value: float) -> str:
    return "0x" + struct.pack(">d", value).hex().upper()


class _Translator:
    """One function's LLVM IR."""

    def __init__(
        self, fdef: ast.FunctionDef, env: dict[str, Any], symbol: str, signature: Any
    ) -> None:
        self.fdef = fdef
        self.signature = signature
        self.env = env
        self.symbol = symbol
        self.body: list[str] = []
        self.allocas: list[str] = []
        self.declares: set[str] = set()
        self.helpers: dict[str, Any] = {}  # mangled name -> compile result
        self.locals: dict[str, tuple[str, str]] = {}  # name -> (alloca, type)
        self.arrays: dict[str, tuple[str, str]] = {}  # name -> (struct value, data pointer)
        self.zeroed: list[str] = []  # the locals' zero stores, at entry
        self.count = 0
        self.open = True  # the current block has no terminator yet

    # ---------------------------------------------------------------------- plumbing
    def tmp(self) -> str:
        self.count += 1
        return f"%t{self.count}"

    def label(self) -> str:
        self.count += 1
        return f"L{self.count}"

    def emit(self, line: str) -> None:
        if not self.open:  # unreachable code after a return: a block of its own
            self.body.append(f"{self.label()}:")
            self.open = True
        self.body.append("  " + line)

    def op(self, text: str) -> str:
        name = self.tmp()
        self.emit(f"{name} = {text}")
        return name

    def branch(self, text: str) -> None:
        self.emit(text)
        self.open = False

    def start(self, label: str) -> None:
        if self.open:
            self.branch(f"br label %{label}")
        self.body.append(f"{label}:")
        self.open = True

    def alloca(self, ty: str) -> str:
        self.count += 1
        name = f"%v{self.count}"
        self.allocas.append(f"  {name} = alloca {ty}")
        return name

    # ---------------------------------------------------------------------- the function
    def translate(self) -> str:
        fdef = self.fdef
        args = fdef.args
        if args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults:
            raise Unsupported("arguments")
        if len(self.signature.args) != len(args.args):
            raise Unsupported("arguments not those of the signature")
        params = []
        prologue = []
        for arg, argtype in zip(args.args, self.signature.args, strict=True):
            name = arg.arg
            ty = _kind(argtype)
            if ty != "array":
                params.append(f"{_LL[ty]} %a.{name}")
                slot = self.alloca(_LL[ty])
                prologue.append(f"  store {_LL[ty]} %a.{name}, ptr {slot}")
                self.locals[name] = (slot, ty)
            else:
                params.append(f"{_ARRAY} %a.{name}")
                prologue.append(f"  %d.{name} = extractvalue {_ARRAY} %a.{name}, 4")
                self.arrays[name] = (f"%a.{name}", f"%d.{name}")
        for statement in fdef.body:
            self.statement(statement)
        if self.open:
            self.branch("ret ptr null")
        lines = [f'define ptr @"{self.symbol}"({", ".join(params)}) {{', "entry:"]
        lines += self.allocas + prologue + self.zeroed
        lines += ["  br label %body", "body:"] + self.body + ["}"]
        return "\n".join(sorted(self.declares) + lines) + "\n"

    # ---------------------------------------------------------------------- statements
    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                raise Unsupported("chained assignment")
            self.assign(node.targets[0], self.expr(node.value))
        elif isinstance(node, ast.AugAssign):
            target = node.target
            current = self.expr(_load(target))
            self.assign(target, self.binop(node.op, current, self.expr(node.value)))
        elif isinstance(node, ast.For):
            self.loop(node)
        elif isinstance(node, ast.If):
            self.conditional(node)
        elif isinstance(node, ast.Pass):
            return
        elif isinstance(node, ast.Return) and node.value is None:
            self.branch("ret ptr null")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a docstring
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            name = call.func.id if isinstance(call.func, ast.Name) else None
            if (
                call.keywords
                or name not in HELPERS
                or self.env.get(name) is not getattr(kernels, name, None)
            ):
                raise Unsupported("a call as a statement")
            self.helper(name, call.args, statement=True)
        else:
            raise Unsupported(type(node).__name__)

    def assign(self, target: ast.expr, value: tuple[str, str]) -> None:
        if isinstance(target, ast.Name):
            name = target.id
            if name in self.arrays or name in self.env and name not in self.locals:
                raise Unsupported(f"assignment to {name}")
            if name not in self.locals:
                # numba reads a variable not assigned on the path taken as zero
                slot = self.alloca(_LL[value[1]])
                zero = {"f": "0.0", "b": "false"}.get(value[1], "0")
                self.zeroed.append(f"  store {_LL[value[1]]} {zero}, ptr {slot}")
                self.locals[name] = (slot, value[1])
            slot, ty = self.locals[name]
            if ty != value[1]:
                raise Unsupported(f"{name} changes type")
            self.emit(f"store {_LL[ty]} {value[0]}, ptr {slot}")
        elif isinstance(target, ast.Subscript):
            address = self.element(target)
            number = self.cast(value, "f")
            self.emit(f"store double {number}, ptr {address}")
        else:
            raise Unsupported("assignment target")

    def loop(self, node: ast.For) -> None:
        if node.orelse or not isinstance(node.target, ast.Name):
            raise Unsupported("for")
        call = node.iter
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "range"
            and "range" not in self.locals
            and "range" not in self.env
            and not call.keywords
            and 1 <= len(call.args) <= 3
        ):
            raise Unsupported("for over anything but range")
        step = 1
        if len(call.args) == 3:
            step = _constant_int(call.args[2])
            if step == 0:
                raise Unsupported("range step 0")
        bounds = [self.expr(a) for a in call.args[:2]]
        if any(ty != "i" for _, ty in bounds):
            raise Unsupported("range of non-int64")
        start, stop = ("0", bounds[0][0]) if len(bounds) == 1 else (bounds[0][0], bounds[1][0])
        # numba's range iterator (numba/cpython/rangeobj.py): the count of values computed
        # first, then counted down, the value stepped without overflow checks
        diff = self.op(f"sub i64 {stop}, {start}")
        positive = self.op(f"icmp sgt i64 {diff}, 0")
        differs = self.op(f"xor i1 {positive}, {'true' if step > 0 else 'false'}")
        rem = self.op(f"srem i64 {diff}, {step}")
        negated = self.op(f"sub i64 0, {rem}")
        rem = self.op(f"select i1 {positive}, i64 {rem}, i64 {negated}")
        uneven = self.op(f"icmp sgt i64 {rem}, 0")
        quotient = self.op(f"sdiv i64 {diff}, {step}")
        extra = self.op(f"select i1 {uneven}, i64 1, i64 0")
        count = self.op(f"add i64 {quotient}, {extra}")
        count = self.op(f"select i1 {differs}, i64 0, i64 {count}")
        left, current = self.alloca("i64"), self.alloca("i64")
        self.emit(f"store i64 {count}, ptr {left}")
        self.emit(f"store i64 {start}, ptr {current}")
        test, body, end = self.label(), self.label(), self.label()
        self.start(test)
        remaining = self.op(f"load i64, ptr {left}")
        more = self.op(f"icmp sgt i64 {remaining}, 0")
        self.branch(f"br i1 {more}, label %{body}, label %{end}")
        self.start(body)
        value = self.op(f"load i64, ptr {current}")
        fewer = self.op(f"sub nsw i64 {remaining}, 1")
        self.emit(f"store i64 {fewer}, ptr {left}")
        following = self.op(f"add i64 {value}, {step}")
        self.emit(f"store i64 {following}, ptr {current}")
        self.assign(node.target, (value, "i"))
        for statement in node.body:
            self.statement(statement)
        if self.open:
            self.branch(f"br label %{test}")
        self.start(end)

    def conditional(self, node: ast.If) -> None:
        condition = self.truth(self.expr(node.test))
        then, other, end = self.label(), self.label(), self.label()
        self.branch(f"br i1 {condition}, label %{then}, label %{other}")
        self.start(then)
        for statement in node.body:
            self.statement(statement)
        if self.open:
            self.branch(f"br label %{end}")
        self.start(other)
        for statement in node.orelse:
            self.statement(statement)
        self.start(end)

    # ---------------------------------------------------------------------- expressions
    def expr(self, node: ast.expr) -> tuple[str, str]:
        node = _fold(node)
        if isinstance(node, ast.Constant):
            return _constant(node.value, "constant")
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Subscript):
            if _is_shape(node):
                owner = node.value.value.id  # type: ignore[attr-defined]
                if owner not in self.arrays:
                    raise Unsupported(f"{owner}.shape")
                array = self.arrays[owner]
                return (self.op(f"extractvalue {_ARRAY} {array[0]}, 5, 0"), "i")
            if isinstance(node.value, ast.Name) and node.value.id not in self.arrays:
                return self.frozen_element(node)
            address = self.element(node)
            return (self.op(f"load double, ptr {address}"), "f")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.IfExp):
            return self.choice(node)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
        raise Unsupported(type(node).__name__)

    def name(self, name: str) -> tuple[str, str]:
        if name in self.locals:
            slot, ty = self.locals[name]
            return (self.op(f"load {_LL[ty]}, ptr {slot}"), ty)
        if name in self.arrays:
            raise Unsupported(f"array {name} as a value")
        if name not in self.env:
            raise Unsupported(f"unknown name {name}")
        return _constant(self.env[name], f"global {name}")

    def element(self, node: ast.Subscript) -> str:
        """The address of the float64 element ``node`` names."""
        if not isinstance(node.value, ast.Name) or node.value.id not in self.arrays:
            raise Unsupported("subscript of anything but an array argument")
        struct_value, data = self.arrays[node.value.id]
        index = self.index(
            node.slice, lambda: self.op(f"extractvalue {_ARRAY} {struct_value}, 5, 0")
        )
        return self.op(f"getelementptr double, ptr {data}, i64 {index}")

    def index(self, node: ast.expr, size: Callable[[], str]) -> str:
        """An element's index: a signed one wrapped once if negative (numba's
        ``fix_integer_index``: plus the length ``size()`` gives), an unsigned one as it is."""
        index, ty = self.expr(node)
        if ty == "i":
            wrapped = self.op(f"add i64 {index}, {size()}")
            negative = self.op(f"icmp slt i64 {index}, 0")
            return self.op(f"select i1 {negative}, i64 {wrapped}, i64 {index}")
        if ty != "u":
            raise Unsupported("index type")
        return index

    def frozen_element(self, node: ast.Subscript) -> tuple[str, str]:
        """An element of a module's global array (an index table ``T1``), read only: numba
        freezes such an array into the code as a constant, and so does this (a private
        constant of the module), indexed as an array argument is (a negative signed index
        wrapped once, no bounds check)."""
        name = node.value.id  # type: ignore[attr-defined]
        array = self.env.get(name)
        if (
            name in self.locals
            # a plain, C-contiguous array of at most numba's lower_array_limit (1e6 bytes) is
            # what numba freezes into the code; a larger one, a view or a subclass (a masked
            # array) it reads from the live buffer, which a constant here would not follow
            or type(array) is not np.ndarray
            or not array.flags.c_contiguous
            or array.nbytes > _FROZEN_LIMIT
            or array.ndim != 1
            or array.size == 0
            or array.dtype not in (np.dtype("int64"), np.dtype("float64"))
        ):
            raise Unsupported("subscript of anything but an array argument or index table")
        kind = "i" if array.dtype == np.dtype("int64") else "f"
        element = _LL[kind]
        symbol = f'@"{self.symbol}.{name}"'
        if kind == "i":
            values = ", ".join(f"i64 {int(v)}" for v in array)
        else:
            values = ", ".join(f"double {_float(float(v))}" for v in array)
        self.declares.add(
            f"{symbol} = private unnamed_addr constant [{array.size} x {element}] [{values}]"
        )
        index = self.index(node.slice, lambda: str(array.size))
        address = self.op(f"getelementptr {element}, ptr {symbol}, i64 {index}")
        return (self.op(f"load {element}, ptr {address}"), kind)

    def cast(self, value: tuple[str, str], to: str) -> str:
        text, ty = value
        if ty == to or {ty, to} == {"i", "u"}:
            return text
        if to == "f":
            how = {"i": "sitofp", "u": "uitofp", "b": "uitofp"}[ty]
            return self.op(f"{how} {_LL[ty]} {text} to double")
        if ty == "b":
            return self.op(f"zext i1 {text} to i64")
        if ty == "f":
            how = "fptosi" if to == "i" else "fptoui"
            return self.op(f"{how} double {text} to i64")
        raise Unsupported(f"cast {ty} -> {to}")

    def truth(self, value: tuple[str, str]) -> str:
        text, ty = value
        if ty == "b":
            return text
        if ty == "f":
            return self.op(f"fcmp une double {text}, 0.0")
        return self.op(f"icmp ne i64 {text}, 0")

    def binop(
        self, op: ast.operator, left: tuple[str, str], right: tuple[str, str]
    ) -> tuple[str, str]:
        kinds = {left[1], right[1]}
        if "b" in kinds:
            if kinds == {"b"} and isinstance(op, (ast.BitOr, ast.BitAnd)):
                how = "or" if isinstance(op, ast.BitOr) else "and"
                return (self.op(f"{how} i1 {left[0]}, {right[0]}"), "b")
            raise Unsupported("arithmetic on booleans")
        if kinds == {"i", "u"}:
            raise Unsupported("int64 mixed with uint64")
        if type(op) in _ARITH:
            integer, real = _ARITH[type(op)]
            if "f" not in kinds:
                ty = left[1]
                # numba's _int_arith_flags: signed overflow is ignored (nsw), unsigned wraps
                flags = " nsw" if ty == "i" else ""
                return (self.op(f"{integer}{flags} i64 {left[0]}, {right[0]}"), ty)
            a, b = self.cast(left, "f"), self.cast(right, "f")
            return (self.op(f"{real} double {a}, {b}"), "f")
        if isinstance(op, ast.Div):
            a, b = self.cast(left, "f"), self.cast(right, "f")
            return (self.op(f"fdiv double {a}, {b}"), "f")
        if isinstance(op, ast.Pow):
            if right[1] != "f":
                raise Unsupported("power with an integer exponent")
            a = self.cast(left, "f")
            self.declares.add(_INTRINSICS["pow"])
            return (self.op(f"call double @llvm.pow.f64(double {a}, double {right[0]})"), "f")
        raise Unsupported(type(op).__name__)

    def unary(self, node: ast.UnaryOp) -> tuple[str, str]:
        value = self.expr(node.operand)
        if isinstance(node.op, ast.UAdd) and value[1] in ("i", "u", "f"):
            return value
        if isinstance(node.op, ast.USub):
            if value[1] == "f":
                return (self.op(f"fsub double -0.0, {value[0]}"), "f")
            if value[1] == "i":
                return (self.op(f"sub i64 0, {value[0]}"), "i")
        if isinstance(node.op, ast.Not):
            return (self.op(f"xor i1 {self.truth(value)}, true"), "b")
        raise Unsupported("unary operator")

    def compare(self, node: ast.Compare) -> tuple[str, str]:
        if len(node.ops) != 1:
            raise Unsupported("chained comparison")
        op = type(node.ops[0])
        if op not in _FCMP:
            raise Unsupported("comparison")
        left, right = self.expr(node.left), self.expr(node.comparators[0])
        kinds = {left[1], right[1]}
        if "b" in kinds or kinds == {"i", "u"}:
            raise Unsupported("comparison of these types")
        if "f" in kinds:
            a, b = self.cast(left, "f"), self.cast(right, "f")
            return (self.op(f"fcmp {_FCMP[op]} double {a}, {b}"), "b")
        table = _UCMP if kinds == {"u"} else _ICMP
        return (self.op(f"icmp {table[op]} i64 {left[0]}, {right[0]}"), "b")

    def choice(self, node: ast.IfExp) -> tuple[str, str]:
        condition = self.truth(self.expr(node.test))
        then, other, end = self.label(), self.label(), self.label()
        self.branch(f"br i1 {condition}, label %{then}, label %{other}")
        self.start(then)
        first = self.expr(node.body)
        slot = self.alloca(_LL[first[1]])
        self.emit(f"store {_LL[first[1]]} {first[0]}, ptr {slot}")
        self.branch(f"br label %{end}")
        self.start(other)
        second = self.expr(node.orelse)
        if second[1] != first[1]:
            raise Unsupported("conditional expression of two types")
        self.emit(f"store {_LL[first[1]]} {second[0]}, ptr {slot}")
        self.start(end)
        return (self.op(f"load {_LL[first[1]]}, ptr {slot}"), first[1])

    def boolean(self, node: ast.BoolOp) -> tuple[str, str]:
        slot = self.alloca("i1")
        end = self.label()
        is_and = isinstance(node.op, ast.And)
        for k, operand in enumerate(node.values):
            value = self.expr(operand)
            if value[1] != "b":
                raise Unsupported("and/or of non-booleans")
            self.emit(f"store i1 {value[0]}, ptr {slot}")
            if k < len(node.values) - 1:
                following = self.label()
                targets = (following, end) if is_and else (end, following)
                self.branch(f"br i1 {value[0]}, label %{targets[0]}, label %{targets[1]}")
                self.start(following)
        self.start(end)
        return (self.op(f"load i1, ptr {slot}"), "b")

    def call(self, node: ast.Call) -> tuple[str, str]:
        if node.keywords:
            raise Unsupported("keywords")
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id != "np" or self.env.get("np") is not np or "np" in self.locals:
                raise Unsupported("attribute call")
            return self.numpy(func.attr, node.args)
        if not isinstance(func, ast.Name) or func.id in self.locals:
            raise Unsupported("call")
        name = func.id
        if name in ("min", "max") and name not in self.env and len(node.args) >= 2:
            values = [self.expr(a) for a in node.args]
            return self.minmax(name, values)
        if name == "abs" and name not in self.env and len(node.args) == 1:
            value = self.expr(node.args[0])
            if value[1] == "f":
                self.declares.add(_INTRINSICS["fabs"])
                return (self.op(f"call double @llvm.fabs.f64(double {value[0]})"), "f")
            if value[1] == "i":
                negative = self.op(f"icmp slt i64 {value[0]}, 0")
                negated = self.op(f"sub i64 0, {value[0]}")
                return (self.op(f"select i1 {negative}, i64 {negated}, i64 {value[0]}"), "i")
            raise Unsupported("abs")
        if name in ("int", "float") and name not in self.env and len(node.args) == 1:
            value = self.expr(node.args[0])
            if value[1] in ("u", "b"):
                raise Unsupported(f"{name} of this type")
            to = "i" if name == "int" else "f"
            return (self.cast(value, to), to)
        if name in HELPERS and self.env.get(name) is getattr(kernels, name, None):
            return self.helper(name, node.args)
        raise Unsupported(f"call of {name}")

    def numpy(self, attr: str, args: list[ast.expr]) -> tuple[str, str]:
        if len(args) != 1:
            raise Unsupported(f"np.{attr}")
        value = self.expr(args[0])
        if attr == "uint64":
            if isinstance(args[0], ast.Constant) and value[1] == "i":
                if int(value[0]) < 0:
                    raise Unsupported("negative uint64 constant")
                return (value[0], "u")
            if value[1] in ("i", "u"):
                return (value[0], "u")
            if value[1] == "f":
                return (self.cast(value, "u"), "u")
            raise Unsupported("np.uint64 of a boolean")
        if attr in _UNARY_MATH:
            if value[1] == "b":
                raise Unsupported(f"np.{attr} of a boolean")
            number = self.cast(value, "f")
            symbol, declaration = _UNARY_MATH[attr]
            self.declares.add(declaration)
            return (self.op(f"call double @{symbol}(double {number})"), "f")
        raise Unsupported(f"np.{attr}")

    def minmax(self, name: str, values: list[tuple[str, str]]) -> tuple[str, str]:
        op = ast.Lt() if name == "min" else ast.Gt()
        acc = values[0]
        for value in values[1:]:
            kinds = {acc[1], value[1]}
            if "b" in kinds or kinds == {"i", "u"}:
                raise Unsupported(f"{name} of these types")
            ty = "f" if "f" in kinds else acc[1]
            a, v = self.cast(acc, ty), self.cast(value, ty)
            if ty == "f":
                predicate = self.op(f"fcmp {_FCMP[type(op)]} double {v}, {a}")
            else:
                table = _UCMP if ty == "u" else _ICMP
                predicate = self.op(f"icmp {table[type(op)]} i64 {v}, {a}")
            acc = (self.op(f"select i1 {predicate}, {_LL[ty]} {v}, {_LL[ty]} {a}"), ty)
        return acc

    def helper(self, name: str, args: list[ast.expr], statement: bool = False) -> tuple[str, str]:
        dispatcher = getattr(kernels, name)
        values: list[tuple[str, str]] = []
        argtypes: list[Any] = []
        for arg in args:
            if isinstance(arg, ast.Name) and arg.id in self.arrays:
                values.append((arg.id, "array"))
                argtypes.append(_ARRAY_TYPE)
            else:
                value = self.expr(arg)
                values.append(value)
                argtypes.append(_NB[value[1]])
        key = tuple(argtypes)
        if name in kernels._SIGNATURES:
            # typed once for one signature (int64 offsets) by kernels.typed, as numba uses it
            if len(dispatcher.overloads) != 1:
                raise Unsupported(f"{name} not typed")
            result = next(iter(dispatcher.overloads.values()))
        else:
            if key not in dispatcher.overloads:
                try:
                    dispatcher.compile(key)
                except Exception as error:  # noqa: BLE001 - numba reports it when it compiles
                    raise Unsupported(f"{name} for {key}") from error
            result = dispatcher.overloads[key]
        signature = result.signature
        # numba returns a boolean as a byte: not read here; nothing (none) only as a statement
        returns = {types.float64: "f", types.int64: "i"}.get(signature.return_type)
        if statement and signature.return_type == types.none:
            returns = "void"
        if returns is None or len(signature.args) != len(values):
            raise Unsupported(f"{name} returns {signature.return_type}")
        flat: list[str] = []
        for value, want in zip(values, signature.args, strict=True):
            if value[1] == "array":
                if want != _ARRAY_TYPE:
                    raise Unsupported(f"{name}: array argument")
                struct_value = self.arrays[value[0]][0]
                fields = ["ptr", "ptr", "i64", "i64", "ptr"]
                for k, ll in enumerate(fields):
                    flat.append(f"{ll} {self.op(f'extractvalue {_ARRAY} {struct_value}, {k}')}")
                for k in (5, 6):
                    flat.append(f"i64 {self.op(f'extractvalue {_ARRAY} {struct_value}, {k}, 0')}")
                continue
            kind = _KIND.get(want)
            if kind is None or value[1] == "b" and kind != "b" or kind == "b" and value[1] != "b":
                raise Unsupported(f"{name}: argument of type {want}")
            if {kind, value[1]} == {"i", "u"}:
                raise Unsupported(f"{name}: int64 and uint64")
            flat.append(f"{_LL[kind]} {self.cast(value, kind)}")
        context = cpu_target.target_context
        fnty = context.call_conv.get_function_type(signature.return_type, signature.args)
        mangled = result.fndesc.mangled_name
        expected = ["ptr", "ptr"] + [f.split(" ")[0] for f in flat]
        if [_ll_type(t) for t in fnty.args] != expected or str(fnty.return_type) != "i32":
            raise Unsupported(f"{name}: calling convention {fnty}")
        self.declares.add(f'declare i32 @"{mangled}"({", ".join(expected)})')
        self.helpers[mangled] = result
        # the slot numba's convention returns a value through (a none's is never read)
        out = self.alloca("i64" if returns == "void" else _LL[returns])
        info = self.alloca("ptr")
        self.emit(f'call i32 @"{mangled}"(ptr {out}, ptr {info}, {", ".join(flat)})')
        if returns == "void":
            return ("", "void")
        return (self.op(f"load {_LL[returns]}, ptr {out}"), returns)


_FOLD = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FOLD_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _fold(node: ast.expr) -> ast.expr:
    """``node`` with arithmetic on numeric constants done, as CPython's compiler does it
    before numba reads the bytecode (``1.0 / 3.0`` is a constant to numba, and
    ``2 ** 63`` a uint64 one): a result that is not an int64 or a float is not translated."""
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = _fold(node.left), _fold(node.right)
        if not (_number(left) and _number(right)):
            return (
                node
                if (left, right) == (node.left, node.right)
                else ast.BinOp(left, node.op, right)
            )
        try:
            value = _FOLD[type(node.op)](left.value, right.value)  # type: ignore[attr-defined]
        except (ArithmeticError, ValueError):
            return ast.BinOp(left, node.op, right)  # left to run time, as CPython does
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _FOLD_UNARY:
        operand = _fold(node.operand)
        if not _number(operand):
            return node if operand is node.operand else ast.UnaryOp(node.op, operand)
        value = _FOLD_UNARY[type(node.op)](operand.value)  # type: ignore[attr-defined]
    else:
        return node
    if type(value) is float or type(value) is int and -(2**63) <= value < 2**63:
        return ast.Constant(value)
    raise Unsupported("a constant expression numba types otherwise")


def _ll_type(ty: Any) -> str:
    """An llvmlite IR type as the opaque-pointer IR this module writes names it."""
    return "ptr" if isinstance(ty, ll_ir.PointerType) else str(ty)


def _load(target: ast.expr) -> ast.expr:
    """``target`` (an assignment's) read as a value."""
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    raise Unsupported("augmented assignment target")


def _is_shape(node: ast.Subscript) -> bool:
    """``x.shape[0]``."""
    value = node.value
    return (
        isinstance(value, ast.Attribute)
        and value.attr == "shape"
        and isinstance(value.value, ast.Name)
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is int
        and node.slice.value == 0
    )


def _constant_int(node: ast.expr) -> int:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_constant_int(node.operand)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    raise Unsupported("a range step that is not a constant")


def _constant(value: Any, what: str) -> tuple[str, str]:
    """A literal or a module global (numba freezes both) as an IR constant and its type."""
    if isinstance(value, (bool, np.bool_)):
        return ("true" if value else "false", "b")
    if isinstance(value, np.uint64):
        return _int_constant(int(value), "u")
    if isinstance(value, (int, np.int64)):
        return _int_constant(int(value), "i")
    if isinstance(value, (float, np.float64)):
        return (_float(float(value)), "f")
    raise Unsupported(what)


def _int_constant(value: int, ty: str) -> tuple[str, str]:
    if ty == "i" and not -(2**63) <= value < 2**63 or ty == "u" and not 0 <= value < 2**64:
        raise Unsupported("integer constant out of range")
    if ty == "u" and value >= 2**63:
        value -= 2**64  # LLVM writes i64 constants signed
    return (str(value), ty)


def translate(
    fdef: ast.FunctionDef, env: dict[str, Any], symbol: str, signature: Any
) -> tuple[str, dict[str, Any]]:
    """LLVM IR of the function ``fdef`` for ``signature`` (its C entry point named
    ``symbol``, with the arguments numba's C wrapper takes for that signature) and the
    compiled helpers it calls (by mangled name). Raises :class:`Unsupported`."""
    translator = _Translator(fdef, env, symbol, signature)
    if fdef.decorator_list and not all(_is_njit(d) for d in fdef.decorator_list):
        raise Unsupported("decorator")
    return translator.translate(), translator.helpers


# njit's options that do not change what the code computes (the generated functions': the
# cache, the wrappers); error_model="numpy" is required (Python's raises on a division by
# zero), and anything else (fastmath, boundscheck, ...) leaves the function to numba.
_NEUTRAL_OPTIONS = {"cache", "no_cpython_wrapper", "no_cfunc_wrapper", "nogil"}


def _is_njit(node: ast.expr) -> bool:
    """``@njit(error_model="numpy", ...)`` with only options that change no result."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    options = {k.arg: k.value for k in node.keywords}
    model = options.pop("error_model", None)
    return (
        node.func.id == "njit"
        and not node.args
        and isinstance(model, ast.Constant)
        and model.value == "numpy"
        and set(options) <= _NEUTRAL_OPTIONS
    )


# -------------------------------------------------------------------------- compiled code
class Native(types.WrapperAddressProtocol):
    """A function compiled here: its C entry point's address, numba type and signature (as
    :class:`engine.compiler.loading._Pointer` for numba's)."""

    def __init__(self, library: Any, symbol: str, signature: Any) -> None:
        self.library = library  # keeps the machine code alive
        self.address = library.get_pointer_to_function(symbol)
        self._signature = signature
        self.type = types.FunctionType(signature)

    def __wrapper_address__(self) -> int:
        return int(self.address)

    def signature(self) -> Any:
        return self._signature


@typeof_impl.register(Native)
def _typeof_native(value: Native, context: Any) -> Any:
    return value.type


_LOCK = threading.Lock()
_DONE: dict[tuple[str, str], Native | None] = {}  # (module key, function): compiled or None
_FORMAT = 1


# This file's own hash: a cached object is the translation this code made.
_SELF_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _magic() -> str:
    """What a cached object must have been made with: this translator, numba's code generator
    (its CPU name and features), numba's and llvmlite's versions."""
    codegen = cpu_target.target_context.codegen()
    return json.dumps(
        [_FORMAT, _SELF_HASH, list(codegen.magic_tuple()), numba.__version__, llvmlite.__version__]
    )


def compile_function(
    module: Any, key: str, name: str, signature: Any, source: str
) -> Native | None:
    """The function ``name`` of the generated ``module`` (its text ``source``, hash ``key``)
    compiled from LLVM IR of our own, from the cache or now; None when it uses something the
    translator does not (numba compiles it then). Once a process for each function: its
    symbol is defined once in numba's JIT. Should compiling the translation fail (a bug of
    the translator, or a numba whose code generator differs), a RuntimeWarning says so and
    numba compiles the function: the results are the same, only the compile is slower."""
    with global_compiler_lock:  # numba's (re-entrant): one compile at a time, as numba's
        if (key, name) not in _DONE:
            try:
                done = _compile(module, key, name, signature, source)
            except Exception as error:  # noqa: BLE001 - numba's own path is the safe one
                warnings.warn(
                    f"corridor: the generated function {name!r} (module {key}) could not be "
                    f"compiled from its LLVM IR ({type(error).__name__}: {error}); numba "
                    "compiles it instead (slower to compile, the same results). Please "
                    "report this.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                done = None
            _DONE[(key, name)] = done
        return _DONE[(key, name)]


_TREES: dict[str, dict[str, ast.FunctionDef]] = {}  # by source hash (a few models)


def _function_def(source: str, name: str) -> ast.FunctionDef:
    key = hashlib.sha256(source.encode()).hexdigest()
    with _LOCK:
        functions = _TREES.get(key)
    if functions is None:
        functions = {
            node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
        }
        with _LOCK:
            if len(_TREES) > 8:
                _TREES.clear()
            _TREES[key] = functions
    if name not in functions:
        raise Unsupported(f"no function {name}")
    return functions[name]


def _compile(module: Any, key: str, name: str, signature: Any, source: str) -> Native | None:
    symbol = f"corridor_native_{key}_{name}"
    path = cache_dir() / f"corridor_{key}.{name}.native"
    magic = _magic()
    codegen = cpu_target.target_context.codegen()
    cached = _read(path, magic, symbol)
    if cached is not None:
        library = codegen.unserialize_library((symbol, "object", cached))
        return Native(library, symbol, signature)
    try:
        ir_text, helpers = translate(_function_def(source, name), vars(module), symbol, signature)
    except Unsupported:
        return None
    library = codegen.create_library(symbol)
    library.enable_object_caching()
    parsed = ll.parse_assembly(ir_text)
    parsed.triple = ll.get_process_triple()
    parsed.verify()
    parsed.data_layout = codegen._data_layout
    # numba's add_llvm_module runs LLVM's O3 function pipeline on each function as it comes,
    # then prunes reference counts, and finalize runs the O3 module pipeline, which holds
    # the function pipeline again: this code has no reference counts, and the first O3 run
    # only costs time (~1/3 of the corridor's translated functions' LLVM time)
    library._final_module.link_in(parsed)
    for result in helpers.values():
        library.add_linking_library(result.library)
    library.finalize()
    native = Native(library, symbol, signature)
    _, _, (object_code, bitcode) = library.serialize_using_object_code()
    try:
        _write(path, magic, symbol, object_code, bitcode)
    except OSError:
        pass  # not cached (a full disk, a read-only folder): compiled again next time, as numba
    return native


def _write(path: Path, magic: str, symbol: str, object_code: bytes, bitcode: bytes) -> None:
    header = json.dumps(
        {
            "magic": magic,
            "symbol": symbol,
            "object": len(object_code),
            "bitcode": len(bitcode),
            "sha256": hashlib.sha256(object_code + bitcode).hexdigest(),
        }
    ).encode()
    write_atomic_bytes(path, header + b"\n" + object_code + bitcode)


def _read(path: Path, magic: str, symbol: str) -> tuple[bytes, bytes] | None:
    """The cached object code and bitcode at ``path``, or None when absent or not ours."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, _, rest = data.partition(b"\n")
    try:
        header = json.loads(head)
        sizes = int(header["object"]), int(header["bitcode"])
        ok = header["magic"] == magic and header["symbol"] == symbol
    except (ValueError, KeyError, TypeError):
        return None
    if not ok or len(rest) != sum(sizes):
        return None
    if hashlib.sha256(rest).hexdigest() != header.get("sha256"):
        return None
    return rest[: sizes[0]], rest[sizes[0] :]


__all__ = ["HELPERS", "Native", "Unsupported", "compile_function", "translate"]
