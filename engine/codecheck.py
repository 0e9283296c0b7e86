"""The shape check of generated kernel modules, run before a module is written or loaded.

:mod:`engine.compiler` builds kernel source from an expression tree with identifiers of its
own making; model text reaches it only through ``repr`` in comments. :func:`check_module`
verifies that the result has the shape the compiler produces and nothing else, so that a
mistake in escaping cannot become code that runs:

- top level: the docstring, ``import numpy as np``, ``from numba import njit, prange``,
  ``from engine.kernels import <helpers>``, constant assignments (``NY = 3``,
  ``T0 = np.array([...], dtype=np.int64)``) and functions decorated with ``njit(...)``;
- inside functions: assignments, loops, conditionals, returns and calls (no imports, no
  nested functions or classes, no ``global``, ``with``, ``try``, ``lambda``, comprehensions);
- names: the module's own (its functions, their arguments and locals, its constants and
  imports) and a few builtins (``range``, ``min``, ``max``, ``abs``, ``int``, ``float``);
  nothing named with a leading double underscore;
- attributes: ``np.<function>`` from a fixed list and ``.shape``; constants: numbers, booleans
  and the two strings the decorators use.
"""

from __future__ import annotations

import ast

from .errors import SpecError

__all__ = ["check_module"]

_BUILTINS = {"range", "min", "max", "abs", "int", "float", "bool", "len", "True", "False"}
_NUMPY = {
    "exp",
    "log",
    "log10",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "sign",
    "round",
    "floor",
    "ceil",
    "isfinite",
    "isnan",
    "array",
    "int64",
    "float64",
    "uint64",
    "inf",
    "nan",
    "zeros",
    "empty",
    "abs",
    "minimum",
    "maximum",
}
_ATTRIBUTES = {"shape"}
_STRINGS = {"numpy", "always"}
_EXPRESSIONS = (
    ast.Expr,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.List,
    ast.Name,
    ast.Constant,
    ast.Attribute,
    ast.keyword,
    ast.Load,
    ast.Store,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
_STATEMENTS = (
    ast.Assign,
    ast.AugAssign,
    ast.For,
    ast.While,
    ast.If,
    ast.Return,
    ast.Pass,
    ast.Break,
    ast.Continue,
)


class _Refused(Exception):
    def __init__(self, node: ast.AST, why: str) -> None:
        super().__init__(why)
        self.line = getattr(node, "lineno", 0)


def check_module(source: str, helpers: tuple[str, ...], *, model: str) -> ast.Module:
    """Parse ``source`` and verify its shape (see the module docstring); return its tree.

    Raises
    ------
    SpecError
        Naming ``model``, the line and the construct, when the source is not valid Python
        or holds anything outside that shape.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        raise SpecError(
            f"model {model!r}: the generated kernel module is not valid Python"
            f"{f' (line {line})' if line else ''}: "
            f"{getattr(exc, 'msg', None) or type(exc).__name__}. An equation is "
            "probably nested too deeply; split it into intermediate variables."
        ) from None
    try:
        _check(tree, set(helpers))
    except _Refused as exc:
        lines = source.splitlines()
        text = lines[exc.line - 1].strip() if 0 < exc.line <= len(lines) else ""
        raise SpecError(
            f"model {model!r}: the generated kernel module holds {exc} at line "
            f"{exc.line} ({text[:80]!r}); it was not loaded. This is a bug in "
            "corridor's code generation or a hostile model: please report it with "
            "the model file."
        ) from None
    return tree


def _check(tree: ast.Module, helpers: set[str]) -> None:
    bound = set(_BUILTINS)
    body = list(tree.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]  # the docstring
    functions = []
    for node in body:
        if isinstance(node, ast.Import):
            if [(a.name, a.asname) for a in node.names] != [("numpy", "np")]:
                raise _Refused(node, "an import other than numpy")
            bound.add("np")
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if any(a.asname for a in node.names) or node.level:
                raise _Refused(node, "a renamed or relative import")
            if node.module == "numba" and set(names) <= {"njit", "prange"}:
                pass
            elif node.module == "engine.kernels" and set(names) <= helpers:
                pass
            else:
                raise _Refused(node, f"an import from {node.module!r}")
            bound.update(names)
        elif isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise _Refused(node, "a module-level assignment to something not a name")
            _check_expression(node.value)
            bound.add(node.targets[0].id)
        elif isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if not (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Name)
                    and deco.func.id == "njit"
                    and not deco.args
                    and all(isinstance(k.value, ast.Constant) for k in deco.keywords)
                ):
                    raise _Refused(node, "a decorator other than njit(...)")
                _check_expression(deco)
            functions.append(node)
            bound.add(node.name)
        else:
            raise _Refused(node, f"a module-level {type(node).__name__}")
    for node in body:
        if not isinstance(node, (ast.Assign, ast.FunctionDef)):
            continue
        for sub in (
            ast.walk(node.value)
            if isinstance(node, ast.Assign)
            else [n for deco in node.decorator_list for n in ast.walk(deco)]
        ):
            if isinstance(sub, ast.Name) and sub.id not in bound:
                raise _Refused(sub, f"the unknown name {sub.id!r}")
    for function in functions:
        args = function.args
        if (
            args.vararg
            or args.kwarg
            or args.kwonlyargs
            or args.posonlyargs
            or args.defaults
            or any(a.annotation for a in args.args)
            or function.returns
        ):
            raise _Refused(function, "a function signature outside the generated shape")
        local = {a.arg for a in args.args}
        for sub in ast.walk(function):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                local.add(sub.id)
        for statement in function.body:
            _check_statement(statement)
        for sub in ast.walk(function):
            if isinstance(sub, ast.Name) and sub.id not in bound and sub.id not in local:
                raise _Refused(sub, f"the unknown name {sub.id!r}")
    for sub in ast.walk(tree):
        name = getattr(sub, "id", None) or getattr(sub, "name", None) or getattr(sub, "arg", None)
        if isinstance(name, str) and name.startswith("__"):
            raise _Refused(sub, f"the name {name!r}")


def _check_statement(node: ast.AST) -> None:
    if not isinstance(node, _STATEMENTS) and not (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    ):
        raise _Refused(node, f"a {type(node).__name__} statement")
    for _field, value in ast.iter_fields(node):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ast.stmt):
                _check_statement(item)
            elif isinstance(item, ast.AST):
                _check_expression(item)


def _check_expression(node: ast.AST) -> None:
    for sub in ast.walk(node):
        if not isinstance(sub, _EXPRESSIONS):
            raise _Refused(sub, f"a {type(sub).__name__} expression")
        if isinstance(sub, ast.Attribute):
            owner = sub.value
            if isinstance(owner, ast.Name) and owner.id == "np":
                if sub.attr not in _NUMPY:
                    raise _Refused(sub, f"the attribute np.{sub.attr}")
            elif sub.attr not in _ATTRIBUTES:
                raise _Refused(sub, f"the attribute .{sub.attr}")
        elif isinstance(sub, ast.Constant):
            value = sub.value
            if isinstance(value, str):
                if value not in _STRINGS:
                    raise _Refused(sub, f"the string {value[:40]!r}")
            elif not isinstance(value, (int, float, bool)) or isinstance(value, complex):
                raise _Refused(sub, f"the constant {value!r}")
        elif isinstance(sub, ast.keyword) and sub.arg is None:
            raise _Refused(sub, "a ** argument")
