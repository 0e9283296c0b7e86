"""Compiler: generate numba source for a model's kernels, compile it once, cache it on disk.

The generated module (kept inspectable as :attr:`CompiledModel.source`) defines, over flat
float64 arrays ``y`` (stocks), ``p`` (parameters and lookup tables), ``a`` (auxiliaries and
flows) and ``z`` (discrete state such as fixed-delay pipelines):

- ``init(t, p, y, a, z, h)``: initial stocks, constant auxiliaries, INITIAL values;
- ``aux(t, y, p, a, z, h)``: every time-varying auxiliary and flow the stocks' rates need;
- ``aux_out(t, y, p, a, z, h)``: the other time-varying auxiliaries, only at save times;
- ``deriv(t, y, p, a, z, h, dydt)``: ``aux`` then the net rate of every stock;
- ``_euler_rates`` / ``_euler_update``: the Euler step split in two, ``aux`` plus the rates of
  stocks given a net rate, then ``y += h * rate`` with the flows of flow-fed stocks summed in
  place (no ``dydt`` pass; the same operations, so the same bits as ``deriv``);
- ``pre_step`` / ``post_step``: discrete updates (fixed delays, cohort shifts, clamping);
- ``run_euler``, ``run_rk4``, ``run_rk45``: the solvers of :mod:`engine.solvers`, and
  ``run_members_<method>``: one ensemble chunk, numba ``prange`` over members.

Model-independent helpers (Vensim builtins, saving, work arrays) are imported from
:mod:`engine.kernels`, compiled once per machine rather than once per model.

Identifiers in generated code are produced by the compiler (slot offsets, loop counters,
table numbers); model names appear only as ``repr`` (ASCII-escaped, so on one line) inside
comments, so a hostile model file cannot inject code. Before it is written or loaded, the
module's shape is checked with :mod:`ast` (:mod:`engine.codecheck`). Modules are kept in the
private cache directory (:mod:`engine.cache`) keyed by the source's hash, run from the
checked text, and compiled with numba ``cache=True``, so a second process loads machine code
from disk. In-process caches are keyed by :meth:`~engine.spec.Model.content_hash`, so a
model changed after a run is compiled again.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import kernels, solvers
from .cache import cache_dir, load_module
from .codecheck import check_module
from .equations import Binary, Call, Expr, InlineLookup, Num, Reduce, Ref, Time, Unary
from .errors import SpecError
from .graph import Binding, DimResolver, Index, PieceIndex, Plan, _Checker, build_plan
from .spec import Model, Variable

__all__ = ["CompiledModel", "compile_model", "cache_dir", "generate_source"]

_LOCK = threading.Lock()
_LOADED: dict[str, ModuleType] = {}  # by source hash
_COMPILED: dict[str, CompiledModel] = {}  # by model content hash

_FUNCS_1 = {"abs": "abs({})", "exp": "np.exp({})", "ln": "np.log({})", "log10": "np.log10({})",
            "sqrt": "np.sqrt({})", "sin": "np.sin({})", "cos": "np.cos({})", "tan": "np.tan({})",
            "arcsin": "np.arcsin({})", "arccos": "np.arccos({})", "arctan": "np.arctan({})",
            "sinh": "np.sinh({})", "cosh": "np.cosh({})", "tanh": "np.tanh({})",
            "integer": "_integer({})", "sign": "np.sign({})"}
_FUNCS_N = {"min": "min({}, {})", "max": "max({}, {})", "power": "({} ** {})",
            "modulo": "_modulo({}, {})", "xidz": "_xidz({}, {}, {})", "zidz": "_zidz({}, {})",
            "log": "(np.log({}) / np.log({}))", "quantum": "_quantum({}, {})"}
_CMP = {"==", "!=", "<", "<=", ">", ">="}
_P_CONST = re.compile(r"\bp\[(\d+)\]")
# Generated expressions nest at most this deep in brackets (Python refuses more than 200).
_MAX_NESTING = 180
# Above this many lines of rate code, the Euler step calls the rate function instead of
# inlining it: numba's inlining of a large function costs more compile time than it saves.
_INLINE_LINES = 150


@dataclass
class CompiledModel:
    """A model compiled to numba kernels, with the layout needed to use them.

    Attributes
    ----------
    model : Model
    plan : Plan
        Where every variable lives in the flat arrays.
    source : str
        The generated Python source (inspect it to see what runs).
    module : module
        The loaded kernel module.
    key : str
        Hash of the source (the disk-cache key).
    p0 : ndarray
        The default parameter vector (parameter values and lookup tables).
    compile_seconds : float
        Time spent generating, loading and compiling (or loading from the disk cache).
    """

    model: Model
    plan: Plan
    source: str
    module: ModuleType
    key: str
    p0: np.ndarray
    controls: dict[str, int]
    compile_seconds: float = 0.0

    @property
    def discrete(self) -> bool:
        """True when the model has discrete updates (fixed delays, cohort shifts)."""
        return bool(self.controls.get("_discrete", 0))

    def runner(self, method: str) -> Any:
        if method not in solvers.METHODS:
            raise SpecError(f"unknown method {method!r}; choose one of {solvers.METHODS}.")
        return getattr(self.module, "run_" + method)


def compile_model(model: Model, *, method: str | None = "euler") -> CompiledModel:
    """Compile ``model`` (or fetch it from the in-process and disk caches).

    ``method`` names the solver to compile eagerly (None: compile lazily at first use).
    """
    started = time.perf_counter()
    content = model.content_hash()
    with _LOCK:
        cached = _COMPILED.get(content)
    if cached is not None and cached.model is model:
        return cached
    plan = build_plan(model)
    source, p0, controls = generate_source(plan)
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    with _LOCK:
        module = _load_module(source, key, model.name)
    compiled = CompiledModel(model, plan, source, module, key, p0, controls)
    if method is not None:
        _warm(compiled, method)
    compiled.compile_seconds = time.perf_counter() - started
    with _LOCK:
        _COMPILED[content] = compiled
    return compiled


def _warm(compiled: CompiledModel, method: str) -> None:
    """Trigger numba compilation (or cache loading) of ``method``'s kernels with a 0-step run."""
    sizes = compiled.plan.sizes
    y = np.zeros(sizes["y"])
    a = np.zeros(sizes["a"])
    z = discrete_state(compiled, 0)
    info = np.zeros(8)
    out = np.zeros((2, 0))
    save = np.ones(1, dtype=np.int64)
    with np.errstate(all="ignore"):
        compiled.runner(method)(compiled.p0.copy(), y, a, z, 0.0, 1.0, 0, save,
                                np.zeros((0, 4), dtype=np.int64), out, info)


def discrete_state(compiled: CompiledModel, n_steps: int) -> np.ndarray:
    """The ``z`` array for a run of ``n_steps``: a fixed-delay pipeline per element, each
    able to hold the whole run (z[0] is that capacity)."""
    count = compiled.controls.get("_zcount", 0)
    cap = n_steps + 1
    z = np.zeros(1 + count * (cap + 2))
    z[0] = cap
    return z


def _load_module(source: str, key: str, model_name: str) -> ModuleType:
    """The kernel module of ``source``: shape-checked, then run from this very text."""
    module = _LOADED.get(key)
    if module is not None:
        return module
    check_module(source, kernels.NAMES, model=model_name)
    module = load_module(source, key, cache_dir())
    _LOADED[key] = module
    return module


# ------------------------------------------------------------------------ code generation
class _Gen:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.model = plan.model
        self.dims = DimResolver(self.model)
        self.checker = _Checker(self.model, self.dims, plan)
        self.globals: list[str] = []
        self.shifts_seen: set[tuple[str, int, int]] = set()
        self.known_ranges: dict[str, tuple[int, int]] = {}
        self._tables: dict[tuple[Any, ...], str] = {}
        self._tmp = 0

    # -- module-level constant arrays
    def table(self, values: tuple[Any, ...], dtype: str = "np.int64") -> str:
        key = (dtype, values)
        name = self._tables.get(key)
        if name is None:
            name = f"T{len(self._tables)}"
            self._tables[key] = name
            body = ", ".join(repr(v) for v in values)
            self.globals.append(f"{name} = np.array([{body}], dtype={dtype})")
        return name

    def fresh(self, prefix: str) -> str:
        self._tmp += 1
        return f"{prefix}{self._tmp}"

    # -- references
    def index_expr(self, indices: list[Index], strides: tuple[int, ...], offset: int) -> str:
        const = offset
        terms = []
        for index, stride in zip(indices, strides):
            if index.const is not None:
                const += index.const * stride
                continue
            assert index.var is not None
            term = index.var if index.table is None else f"{self.table(index.table)}[{index.var}]"
            if index.shift:
                term = f"({term} + {index.shift})"
            terms.append(term if stride == 1 else f"{term} * {stride}")
        return " + ".join([str(const)] + terms) if terms else str(const)

    def ref(self, var: Variable, ref: Ref, env: dict[str, Binding]) -> str:
        target = self.model.variables[ref.name]
        indices = self.checker.resolve_ref(var, ref, env)
        slot = self.plan.slots[ref.name]
        if target.kind == "lookup":
            raise SpecError(f"{var.kind} {var.name!r}: lookup {ref.name!r} is used as a value; "
                            f"call it, e.g. {ref.name}(x).")
        shifted = [i for i in indices if i.shift]
        if not shifted:
            return f"{slot.array}[{self.index_expr(indices, slot.strides(), slot.offset)}]"
        for i in shifted:
            assert i.var is not None
            self.shifts_seen.add((i.var, i.shift, i.size))
        known = [self.known_ranges.get(i.var or "") for i in shifted]
        if all(k is not None for k in known):
            inside = [k is not None and 0 <= k[0] + i.shift and k[1] + i.shift < i.size
                      for i, k in zip(shifted, known)]
            outside = [k is not None and (k[1] + i.shift < 0 or k[0] + i.shift >= i.size)
                       for i, k in zip(shifted, known)]
            if any(outside):
                return "0.0"
            if all(inside):
                return f"{slot.array}[{self.index_expr(indices, slot.strides(), slot.offset)}]"
        # Read a clamped (always valid) element and select 0 outside the dimension: no
        # branch around the load, so the loop can still be vectorised.
        clamped = [Index(var=f"min(max({i.var} + {i.shift}, 0), {i.size - 1})")
                   if i.shift else i for i in indices]
        value = f"{slot.array}[{self.index_expr(clamped, slot.strides(), slot.offset)}]"
        bounds = " and ".join(f"0 <= {i.var} + {i.shift} < {i.size}" for i in shifted)
        return f"({value} if {bounds} else 0.0)"

    # -- expressions: return (statements, expression)
    def expr(self, var: Variable, e: Expr, env: dict[str, Binding]) -> tuple[list[str], str]:
        if isinstance(e, Num):
            return [], _number(e.value)
        if isinstance(e, Time):
            return [], "t"
        if isinstance(e, Ref):
            return [], self.ref(var, e, env)
        if isinstance(e, Unary):
            pre, inner = self.expr(var, e.operand, env)
            if e.op == "-":
                return pre, f"(-{inner})"
            pre2, cond = self.cond(var, e.operand, env)
            return pre2, f"(0.0 if {cond} else 1.0)"
        if isinstance(e, Binary):
            if e.op in _CMP or e.op in ("and", "or"):
                pre, cond = self.cond(var, e, env)
                return pre, f"(1.0 if {cond} else 0.0)"
            lpre, left = self.expr(var, e.left, env)
            rpre, right = self.expr(var, e.right, env)
            return lpre + rpre, f"({left} {e.op} {right})"
        if isinstance(e, Reduce):
            return self.reduce(var, e, env)
        if isinstance(e, InlineLookup):
            xs = self.table(tuple(float(x) for x in e.xs), "np.float64")
            ys = self.table(tuple(float(v) for v in e.ys), "np.float64")
            pre, arg = self.expr(var, e.arg, env)
            return pre, f"_interp({xs}, {ys}, {arg})"
        if isinstance(e, Call):
            return self.call(var, e, env)
        raise SpecError(f"{var.kind} {var.name!r}: cannot compile {e!r}.")

    def cond(self, var: Variable, e: Expr, env: dict[str, Binding]) -> tuple[list[str], str]:
        if isinstance(e, Binary) and e.op in _CMP:
            lpre, left = self.expr(var, e.left, env)
            rpre, right = self.expr(var, e.right, env)
            return lpre + rpre, f"({left} {e.op} {right})"
        if isinstance(e, Binary) and e.op in ("and", "or"):
            lpre, left = self.cond(var, e.left, env)
            rpre, right = self.cond(var, e.right, env)
            return lpre + rpre, f"({left} {e.op} {right})"
        if isinstance(e, Unary) and e.op == "not":
            pre, inner = self.cond(var, e.operand, env)
            return pre, f"(not {inner})"
        pre, value = self.expr(var, e, env)
        return pre, f"({value} != 0.0)"

    def reduce(self, var: Variable, e: Reduce, env: dict[str, Binding]) -> tuple[list[str], str]:
        inner = dict(env)
        loops = []
        for dim in e.dims:
            loop_var = self.fresh("r")
            inner[dim] = Binding(loop_var, dim)
            loops.append((loop_var, len(self.model.dims[dim])))
        body_pre, body = self.expr(var, e.body, inner)
        acc = self.fresh("acc")
        start = {"sum": "0.0", "prod": "1.0", "min": "np.inf", "max": "-np.inf"}[e.op]
        update = {"sum": f"{acc} + {body}", "prod": f"{acc} * {body}",
                  "min": f"min({acc}, {body})", "max": f"max({acc}, {body})"}[e.op]
        lines = [f"{acc} = {start}"]
        indent = ""
        for loop_var, n in loops:
            lines.append(f"{indent}for {loop_var} in range({n}):")
            indent += "    "
        lines += [indent + line for line in body_pre]
        lines.append(f"{indent}{acc} = {update}")
        return lines, acc

    def call(self, var: Variable, e: Call, env: dict[str, Binding]) -> tuple[list[str], str]:
        func = e.func
        if func == "elmcount":
            arg = e.args[0]
            assert isinstance(arg, Ref)
            return [], repr(float(len(self.model.dims[arg.name])))
        if func == "lookup" or (func in self.model.variables
                                and self.model.variables[func].kind == "lookup"):
            if func == "lookup":
                table_ref, x = e.args
                assert isinstance(table_ref, Ref)
            else:
                table_ref, x = Ref(func), e.args[0]
            return self.lookup(var, table_ref, x, env)
        pres: list[str] = []
        args = []
        for arg in e.args:
            pre, text = self.expr(var, arg, env)
            pres += pre
            args.append(text)
        if func == "if_then_else":
            cpre, cond = self.cond(var, e.args[0], env)
            return pres + cpre, f"({args[1]} if {cond} else {args[2]})"
        if func in _FUNCS_1:
            return pres, _FUNCS_1[func].format(*args)
        if func in _FUNCS_N:
            return pres, _FUNCS_N[func].format(*args)
        if func == "step":
            return pres, f"_step(t, h, {args[0]}, {args[1]})"
        if func == "time_step":
            return pres, "h"
        if func == "random_uniform":
            # Counter-based: the draw depends only on (seed, time, call site, element), so
            # runs are reproducible and independent of threads and chunking.
            site = self.fresh("")
            element = " + ".join([f"{b.var} * {7919 * (k + 1)}"
                                  for k, b in enumerate(env.values())] or ["0"])
            return pres, (f"_random_uniform({args[0]}, {args[1]}, {args[2]}, t, "
                          f"{site} * 1000003 + {element})")
        if func == "ramp":
            finish = args[2] if len(args) > 2 else "np.inf"
            return pres, f"_ramp(t, {args[0]}, {args[1]}, {finish})"
        if func == "pulse":
            width = args[1] if len(args) > 1 else "0.0"
            return pres, f"_pulse(t, h, {args[0]}, {width})"
        if func == "pulse_train":
            return pres, f"_pulse_train(t, h, {', '.join(args)})"
        if func == "lookup_extrapolate":
            table_ref = e.args[0]
            if not isinstance(table_ref, Ref):
                raise SpecError(f"{var.kind} {var.name!r}: lookup_extrapolate needs a table.")
            return self.lookup(var, table_ref, e.args[1], env, extrapolate=True)
        raise SpecError(f"{var.kind} {var.name!r}: function {func!r} is not supported here.")

    def lookup(self, var: Variable, table_ref: Ref, x: Expr, env: dict[str, Binding],
               extrapolate: bool = False) -> tuple[list[str], str]:
        table = self.model.variables.get(table_ref.name)
        if table is None or table.kind != "lookup":
            raise SpecError(f"{var.kind} {var.name!r}: {table_ref.name!r} is not a lookup.")
        pre, arg = self.expr(var, x, env)
        entries = self.plan.lookup_tables[table_ref.name]
        func = "_lookup_extrapolate" if (extrapolate or table.extrapolate) else "_lookup"
        if len(entries) == 1:
            off, n = entries[0]
            return pre, f"{func}(p, {off}, {n}, {arg})"
        indices = self.checker.resolve_ref(var, table_ref, env)
        shape = tuple(len(self.model.dims[d]) for d in table.dims)
        strides = _strides(shape)
        flat = self.index_expr(indices, strides, 0)
        offs = self.table(tuple(o for o, _ in entries))
        ns = self.table(tuple(n for _, n in entries))
        return pre, f"{func}(p, {offs}[{flat}], {ns}[{flat}], {arg})"

    # -- statements
    def assign(self, var: Variable, pieces_role: str, target_array: str,
               target_offset: int, indent: str = "    ") -> list[str]:
        """Code computing every piece of ``var`` (role "eq", "init" or "rate") into
        ``target_array`` at ``target_offset`` (row-major over var's dims)."""
        pieces = {"eq": var.pieces, "init": var.init_pieces, "rate": var.rate}[pieces_role]
        assert pieces is not None
        shape = tuple(len(self.model.dims[d]) for d in var.dims)
        strides = _strides(shape)
        lines = [f"{indent}# {_comment(var.name)} ({pieces_role})"]
        for k, piece in enumerate(pieces):
            index = self.plan.pieces[(var.name, pieces_role, k)]
            target = self.index_expr([Index(var=v) for v in index.loop_vars], strides,
                                     target_offset)
            self.shifts_seen = set()
            self.known_ranges = {}
            pre, value = self.expr(var, piece.expr, dict(index.env))
            _check_nesting(var, pre + [value])
            segments = self.segments(index) if self.shifts_seen else None
            if not segments:
                body = pre + [f"{target_array}[{target}] = {value}"]
                lines += self.loops(index, body, indent)
                continue
            # Shifted subscripts: one loop per stretch where each shifted read is known to
            # fall inside (or outside) its dimension, so no element needs a bounds test.
            for ranges in segments:
                self.known_ranges = {v: (r[0], r[-1]) for v, r in zip(index.loop_vars, ranges)}
                pre, value = self.expr(var, piece.expr, dict(index.env))
                body = pre + [f"{target_array}[{target}] = {value}"]
                part = PieceIndex(list(ranges), None, index.env, index.loop_vars)
                lines += self.loops(part, body, indent)
            self.known_ranges = {}
        return lines

    def segments(self, index: Any) -> list[list[tuple[int, ...]]] | None:
        """Split a rectangular piece's loops at the positions where a shifted read
        (``x[d - 1]``) enters or leaves its dimension."""
        if index.points is not None:
            return None
        per_var: list[list[tuple[int, ...]]] = []
        for loop_var, positions in zip(index.loop_vars, index.ranges):
            cuts: set[int] = set()
            for seen_var, shift, size in self.shifts_seen:
                if seen_var == loop_var:
                    cuts.update((-shift, size - shift))
            if not cuts:
                per_var.append([positions])
                continue
            pieces: list[tuple[int, ...]] = []
            current: list[int] = []
            for position in positions:
                if position in cuts and current:
                    pieces.append(tuple(current))
                    current = []
                current.append(position)
            if current:
                pieces.append(tuple(current))
            per_var.append(pieces)
        import itertools as _it

        return [list(combo) for combo in _it.product(*per_var)]

    def loops(self, index: Any, body: list[str], indent: str) -> list[str]:
        lines = []
        if index.points is not None:
            points = self.table(tuple(index.points.ravel().tolist()))
            count = index.points.shape[0]
            ndim = max(index.points.shape[1], 1)
            k = self.fresh("k")
            lines.append(f"{indent}for {k} in range({count}):")
            inner = indent + "    "
            for pos, loop_var in enumerate(index.loop_vars):
                lines.append(f"{inner}{loop_var} = {points}[{k} * {ndim} + {pos}]")
            return lines + [inner + b for b in body]
        for loop_var, positions in zip(index.loop_vars, index.ranges):
            if len(positions) == 1:
                lines.append(f"{indent}{loop_var} = {positions[0]}")
                continue
            if positions == tuple(range(positions[0], positions[0] + len(positions))):
                lines.append(f"{indent}for {loop_var} in range({positions[0]}, "
                             f"{positions[0] + len(positions)}):")
            else:
                lines.append(f"{indent}for {loop_var} in {self.table(positions)}:")
            indent += "    "
        return lines + [indent + b for b in body]


def _number(value: float) -> str:
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "(-np.inf)"
    return repr(float(value))


def _check_nesting(var: Variable, lines: list[str]) -> None:
    """Refuse code nesting brackets deeper than Python compiles (an equation within
    :data:`engine.equations.MAX_DEPTH` can still nest two brackets a level, as ``log(x, b)``)."""
    for line in lines:
        if len(line) <= _MAX_NESTING:
            continue
        level = deepest = 0
        for char in line:
            if char in "([":
                level += 1
                deepest = max(deepest, level)
            elif char in ")]":
                level -= 1
        if deepest > _MAX_NESTING:
            raise SpecError(f"{var.kind} {var.name!r}: the equation compiles to code nested "
                            f"{deepest} brackets deep, more than Python accepts; split it into "
                            "intermediate variables.")


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    step = 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


def _comment(name: str) -> str:
    """``name`` as it may appear in a comment: its ``repr``, ASCII-escaped, so that no line
    break of any kind (``\\n``, ``\\r``, ``\\x0c``, ``\\x85``, U+2028...) can end the comment."""
    return ascii(name)


def generate_source(plan: Plan) -> tuple[str, np.ndarray, dict[str, int]]:
    """The kernel module's source, the default parameter vector and control offsets."""
    model = plan.model
    gen = _Gen(plan)
    variables = model.variables
    controls: dict[str, int] = {}

    # Parameter vector: values, lookup tables, then control slots appended at the end.
    n_p = plan.sizes["p"]
    extra_p = len(model.shifts)
    p0 = np.zeros(n_p + extra_p)
    for var in variables.values():
        if var.kind == "param":
            slot = plan.slots[var.name]
            assert var.value is not None
            p0[slot.offset: slot.offset + slot.size] = np.asarray(var.value, float).ravel()
        elif var.kind == "lookup":
            assert var.tables is not None
            for (off, n), (xs, ys) in zip(plan.lookup_tables[var.name], var.tables):
                p0[off: off + n] = xs
                p0[off + n: off + 2 * n] = ys
    for k, _shift in enumerate(model.shifts):
        controls[f"_shift{k}"] = n_p + k

    # init
    init_lines: list[str] = []
    for name in plan.init_order:
        var = variables[name]
        slot = plan.slots[name]
        if var.kind == "stock":
            init_lines += gen.assign(var, "eq", "y", slot.offset)
        elif var.kind in ("aux", "flow"):
            role = "init" if var.init_pieces is not None else "eq"
            init_lines += gen.assign(var, role, "a", slot.offset)
        elif var.kind == "initial":
            init_lines += gen.assign(var, "eq", "a", slot.offset)
        elif var.kind == "delay_fixed":
            init_lines += _delay_fixed_init(gen, var, slot.offset, controls)
    # aux
    aux_lines: list[str] = []
    for var in variables.values():
        if var.kind == "delay_fixed":
            aux_lines += _delay_fixed_read(gen, var, plan.slots[var.name].offset, controls)
    out_lines: list[str] = []
    limits = _nonnegative_limits(gen)
    pending = [(set(flows), lines) for flows, lines in limits]
    for name in plan.dynamic_order:
        lines = gen.assign(variables[name], "eq", "a", plan.slots[name].offset)
        if name in plan.output_only:
            out_lines += lines
        else:
            aux_lines += lines
        # limit a non-negative stock's outflows as soon as the last of them is computed, and
        # its negative inflows once all its flows are
        for flows, limit in pending:
            if name in flows:
                flows.discard(name)
                if not flows:
                    aux_lines += limit
    # deriv; the Euler step computes only the rates of stocks given one directly (in
    # _euler_rates) and adds the flows of the others to the stocks in one pass (_euler_update)
    deriv_lines = ["    aux(t, y, p, a, z, h)"]
    euler_rate_lines: list[str] = []
    update_lines: list[str] = []
    for var in variables.values():
        if var.kind != "stock":
            continue
        rate_lines = _stock_rate(gen, var)
        deriv_lines += rate_lines
        if var.rate is not None:
            euler_rate_lines += rate_lines
        update_lines += _stock_update(gen, var)
    # discrete updates
    pre_lines: list[str] = []
    for var in variables.values():
        if var.kind == "delay_fixed":
            pre_lines += _delay_fixed_push(gen, var, controls)
    post_lines: list[str] = []
    for k, shift in enumerate(model.shifts):
        post_lines += _cohort_shift(gen, shift, controls[f"_shift{k}"])
    for var in variables.values():
        # Stocks given a net rate directly (Vensim/XMILE INTEG) are clamped after the step;
        # stocks fed by flows are kept non-negative by limiting their outflows instead.
        if var.kind == "stock" and var.non_negative and var.rate is not None:
            slot = plan.slots[var.name]
            post_lines += [f"    for i in range({slot.offset}, {slot.offset + slot.size}):",
                           "        if y[i] < 0.0:", "            y[i] = 0.0"]
    controls["_discrete"] = int(bool(pre_lines) or bool(model.shifts))
    init_lines, aux_lines, out_lines = (fuse_loops(init_lines), fuse_loops(aux_lines),
                                        fuse_loops(out_lines))
    deriv_lines, euler_rate_lines = fuse_loops(deriv_lines), fuse_loops(euler_rate_lines)
    update_lines = fuse_loops(update_lines, independent=True)

    def body(lines: list[str]) -> str:
        return "\n".join(lines) if lines else "    pass"

    def hoisted(lines: list[str]) -> str:
        # Parameters never change during a run: read each scalar slot once per call, so the
        # compiler need not reload it after every store to another array.
        # Comments are skipped: they hold model names, which are not code.
        slots = sorted({int(m) for line in lines if not _is_comment(line)
                        for m in _P_CONST.findall(line)})
        if not slots:
            return body(lines)
        head = [f"    _p{k} = p[{k}]" for k in slots]
        return "\n".join(head + [line if _is_comment(line) else
                                  _P_CONST.sub(lambda m: f"_p{m.group(1)}", line)
                                  for line in lines])

    deco = '@njit(cache=True, error_model="numpy")'
    inline = '@njit(cache=True, error_model="numpy", inline="always")'
    if len(aux_lines) <= _INLINE_LINES:
        # The rate functions inlined into the Euler loop: one function per step lets LLVM
        # keep values in registers and vectorise across what were call boundaries.
        euler_step = [
            inline, "def _aux_inline(t, y, p, a, z, h):", hoisted(aux_lines), "",
            inline, "def _euler_rates(t, y, p, a, z, h, dydt):",
            body(["    _aux_inline(t, y, p, a, z, h)"] + euler_rate_lines), "",
            inline, "def _euler_update(y, a, h, dydt):", body(update_lines), ""]
    else:
        # A large model: inlining would cost more compile time than the call saves.
        euler_step = [deco, "def _euler_rates(t, y, p, a, z, h, dydt):",
                      body(["    aux(t, y, p, a, z, h)"] + euler_rate_lines), "",
                      deco, "def _euler_update(y, a, h, dydt):", body(update_lines), ""]
    parts = [
        '"""Kernels generated by corridor. Do not edit."""',
        f"# model: {_comment(model.name)}",
        "import numpy as np",
        "from numba import njit, prange",
        "",
        f"NY = {plan.sizes['y']}",
        f"NA = {plan.sizes['a']}",
        *gen.globals,
        f"# shared helpers: engine.kernels {kernels.SOURCE_HASH}",
        f"from engine.kernels import {', '.join(kernels.NAMES)}",
        "",
        deco, "def init(t, p, y, a, z, h):", body(init_lines), "",
        deco, "def aux(t, y, p, a, z, h):", hoisted(aux_lines), "",
        deco, "def aux_out(t, y, p, a, z, h):", hoisted(out_lines), "",
        deco, "def deriv(t, y, p, a, z, h, dydt):", body(deriv_lines), "",
        *euler_step,
        deco, "def pre_step(t, y, p, a, z, h):", body(pre_lines), "",
        deco, "def post_step(step, y, p, a, z, h):", body(post_lines), "",
        *(_drop_empty_calls(solvers.SOURCE[name], pre_lines, post_lines)
          for name in (*solvers.METHODS, *(f"members_{m}" for m in solvers.METHODS))),
    ]
    if model.dynamic_control:
        for role in ("dt", "stop", "saveper"):
            control_name = model.control.get(role)
            found = plan.slots.get(control_name) if control_name else None
            if found is None or found.array not in ("a", "p"):
                raise SpecError(f"model {model.name!r}: run setting {role!r} is not defined; "
                                "define TIME STEP, FINAL TIME and SAVEPER.")
            parts += [deco, f"def _control_{role}(a, p):",
                      f"    return {found.array}[{found.offset}]", ""]
        if controls.get("_zcount"):
            raise SpecError(f"model {model.name!r}: DELAY FIXED with run settings that change "
                            "during the run is not supported.")
        parts.append(_drop_empty_calls(solvers.SOURCE["euler_dynamic"], pre_lines, post_lines))
    return "\n".join(parts) + "\n", p0, controls


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _drop_empty_calls(source: str, pre_lines: list[str], post_lines: list[str]) -> str:
    """A solver's source without its calls of ``pre_step`` / ``post_step`` when the model has
    no discrete update: the calls would do nothing, and each called function costs numba a
    compilation of its own (about 0.15 s cold). Without ``post_step`` code, the checks marked
    ``# discrete`` go too (:data:`engine.solvers.SOURCE`, ``run_euler``)."""
    drop = [name for name, lines in (("pre_step(", pre_lines), ("post_step(", post_lines))
            if not lines]
    if not drop:
        return source
    keep = [line for line in source.split("\n")
            if not any(line.strip().startswith(name) for name in drop)]
    if not post_lines:  # no value can leave the stocks but by a flow: see run_euler
        keep = [line for line in keep if not line.endswith("  # discrete")]
    return "\n".join(keep)


def _flow_terms(gen: _Gen, var: Variable) -> list[str]:
    """A stock's inflows and outflows as terms " + a[i + off]" (i: the stock's slot)."""
    plan = gen.plan
    slot = plan.slots[var.name]
    terms = []
    for sign, flows in (("+", var.inflows), ("-", var.outflows)):
        for flow in flows:
            off = plan.slots[flow].offset - slot.offset
            terms.append(f" {sign} a[i + {off}]")
    return terms


def _flow_sum(terms: list[str]) -> str:
    expression = "".join(terms).strip() or "0.0"
    if expression.startswith("+ "):
        expression = expression[2:]
    elif expression.startswith("- "):
        expression = "-" + expression[2:]
    return expression


def _stock_rate(gen: _Gen, var: Variable) -> list[str]:
    slot = gen.plan.slots[var.name]
    lines = []
    terms = _flow_terms(gen, var)
    if var.rate is not None:
        lines += gen.assign(var, "rate", "dydt", slot.offset)
        if terms:
            lines.append(f"    for i in range({slot.offset}, {slot.offset + slot.size}):")
            lines.append(f"        dydt[i] = dydt[i]{''.join(terms)}")
        return lines
    lines.append(f"    for i in range({slot.offset}, {slot.offset + slot.size}):")
    lines.append(f"        dydt[i] = {_flow_sum(terms)}")
    return lines


def _stock_update(gen: _Gen, var: Variable) -> list[str]:
    """The Euler update of a stock: ``y += h * dydt``, with a stock fed by flows summing them
    in place (the same operations as its ``dydt`` in :func:`_stock_rate`, so the same bits;
    flows are not changed by the update or by ``pre_step``, which writes only ``z``)."""
    slot = gen.plan.slots[var.name]
    rate = "dydt[i]" if var.rate is not None else f"({_flow_sum(_flow_terms(gen, var))})"
    return [f"    for i in range({slot.offset}, {slot.offset + slot.size}):",
            f"        y[i] += h * {rate}"]


def _nonnegative_limits(gen: _Gen) -> list[tuple[list[str], list[str]]]:
    """Per non-negative stock, the code limiting its flows so that one step cannot take the
    stock below zero, each with the flows that must be computed before it runs.

    First the outflows: they share what the stock holds at the start of the step, in
    proportion to their demands. Then, once every flow of the stock is computed, its negative
    inflows (a negative inflow drains the stock like an outflow, as Stella's biflows do) share
    what the outflows left. Limiting the flows themselves (not the stock afterwards) keeps every
    flow's outflow equal to its inflow elsewhere, so totals are conserved exactly; the limits
    do not count on same-step inflows, so they do not depend on the order stocks are processed
    in. (What reads an inflow before all the stock's flows are computed sees it unlimited: the
    graph orders readers after sibling outflows only, since an inflow often depends on what
    reads an outflow.)
    """
    plan = gen.plan
    out: list[tuple[list[str], list[str]]] = []
    for var in gen.model.variables.values():
        if var.kind != "stock" or not var.non_negative:
            continue
        slot = plan.slots[var.name]
        if var.outflows:
            outs = " + ".join(f"max(a[{plan.slots[f].offset} + i], 0.0)" for f in var.outflows)
            lines = [
                f"    # limit outflows of non-negative stock {_comment(var.name)}",
                f"    for i in range({slot.size}):",
                f"        avail = max(y[{slot.offset} + i], 0.0) / h",
                f"        total = {outs}",
                "        if total > avail:",
                "            f = avail / total",
            ]
            for flow in var.outflows:
                off = plan.slots[flow].offset
                lines += [f"            if a[{off} + i] > 0.0:",
                          f"                a[{off} + i] *= f"]
            out.append((list(var.outflows), lines))
        if var.inflows:
            outs = " - ".join([f"max(y[{slot.offset} + i], 0.0) / h"]
                              + [f"max(a[{plan.slots[f].offset} + i], 0.0)"
                                 for f in var.outflows])
            negative = " + ".join(f"max(-a[{plan.slots[f].offset} + i], 0.0)"
                                  for f in var.inflows)
            lines = [
                f"    # limit negative inflows of non-negative stock {_comment(var.name)}",
                f"    for i in range({slot.size}):",
                f"        total = {negative}",
                "        if total > 0.0:",
                f"            room = max({outs}, 0.0)",
                "            if total > room:",
                "                f = room / total",
            ]
            for flow in var.inflows:
                off = plan.slots[flow].offset
                lines += [f"                if a[{off} + i] < 0.0:",
                          f"                    a[{off} + i] *= f"]
            out.append(([*var.outflows, *var.inflows], lines))
    return out


def _delay_fixed_init(gen: _Gen, var: Variable, offset: int, controls: dict[str, int]
                      ) -> list[str]:
    """Fixed delays keep a ring buffer per element in z. z[0] holds the capacity (steps + 1);
    each element has [pointer, length, buffer...] of capacity + 2 slots after its base."""
    base = controls.setdefault("_zcount", 0)
    size = gen.plan.slots[var.name].size
    controls[f"_dfbase:{var.name}"] = base
    controls["_zcount"] = base + size
    tmp = gen.plan.sizes["a"]
    lines = [f"    # fixed delay {_comment(var.name)}: the output starts at its initial value"]
    # delay time into a scratch copy of the output slot, then the initial value.
    lines += gen.assign(_role_var(var, 1), "eq", "a", offset)
    # The length in steps is capped at the run's before it is made an integer (a delay of
    # 1e19 or infinity would overflow it); a NaN delay is marked in the pointer slot z[b]
    # and fills the pipeline with NaN, so that the run fails naming what it reaches.
    lines.append("    cap = int(z[0])")
    lines.append(f"    for e in range({size}):")
    lines.append(f"        b = 1 + ({base} + e) * (cap + 2)")
    lines.append(f"        steps = a[{offset} + e] / h")
    lines.append("        z[b] = 0.0")
    lines.append("        if steps != steps:")
    lines.append("            z[b] = 1.0")
    lines.append("            n = cap")
    lines.append("        elif steps >= cap:")
    lines.append("            n = cap")
    lines.append("        else:")
    lines.append("            n = int(np.round(max(steps, 1.0) + 1e-6))")
    lines.append("        z[b + 1] = n")
    lines += gen.assign(_role_var(var, 2), "eq", "a", offset)
    lines.append(f"    for e in range({size}):")
    lines.append(f"        b = 1 + ({base} + e) * (cap + 2)")
    lines.append(f"        v = a[{offset} + e] if z[b] == 0.0 else np.nan")
    lines.append("        z[b] = 0.0")
    lines.append("        for k in range(int(z[b + 1])):")
    lines.append("            z[b + 2 + k] = v")
    del tmp
    return lines


def _delay_fixed_read(gen: _Gen, var: Variable, offset: int, controls: dict[str, int]
                      ) -> list[str]:
    base = controls[f"_dfbase:{var.name}"]
    size = gen.plan.slots[var.name].size
    return [f"    # fixed delay {_comment(var.name)}: output",
            "    cap = int(z[0])",
            f"    for e in range({size}):",
            f"        b = 1 + ({base} + e) * (cap + 2)",
            f"        a[{offset} + e] = z[b + 2 + int(z[b])]"]


def _delay_fixed_push(gen: _Gen, var: Variable, controls: dict[str, int]) -> list[str]:
    base = controls[f"_dfbase:{var.name}"]
    size = gen.plan.slots[var.name].size
    input_var = var.extra["input"]
    in_offset = gen.plan.slots[input_var].offset
    return [f"    # fixed delay {_comment(var.name)}: push the input",
            "    cap = int(z[0])",
            f"    for e in range({size}):",
            f"        b = 1 + ({base} + e) * (cap + 2)",
            "        ptr = int(z[b])",
            f"        z[b + 2 + ptr] = a[{in_offset} + e]",
            "        ptr += 1",
            "        if ptr >= int(z[b + 1]):",
            "            ptr = 0",
            "        z[b] = ptr"]


def _role_var(var: Variable, k: int) -> Variable:
    """A view of a delay_fixed variable whose equation is its k-th piece (delay, initial)."""
    from .spec import Piece

    view = Variable(var.name, var.kind, var.dims, units=var.units)
    view.pieces = [Piece(var.pieces[k].subs, var.pieces[k].expr, var.pieces[k].exclude)]
    return view


def _cohort_shift(gen: _Gen, shift: Any, period_slot: int) -> list[str]:
    model = gen.model
    stock = model.variables[shift.stock]
    slot = gen.plan.slots[shift.stock]
    axis = stock.dims.index(shift.along)
    shape = slot.shape
    strides = _strides(shape)
    n = shape[axis]
    stride = strides[axis]
    entry = gen.plan.slots[f"{shift.stock}~entry"].offset if shift.entry else None
    outer = [range(m) for i, m in enumerate(shape) if i != axis]
    outer_strides = [s for i, s in enumerate(strides) if i != axis]
    bases = []
    import itertools

    for combo in itertools.product(*outer):
        bases.append(sum(c * s for c, s in zip(combo, outer_strides)))
    table = gen.table(tuple(bases))
    lines = [f"    # cohort shift of {_comment(shift.stock)} along {_comment(shift.along)}",
             f"    period = int(p[{period_slot}])",
             "    if period > 0 and step % period == 0:",
             f"        for base in {table}:"]
    if entry is None:
        lines += [
            f"            last = y[{slot.offset} + base + {(n - 1) * stride}]",
            f"            for k in range({n - 1}, 0, -1):",
            f"                y[{slot.offset} + base + k * {stride}] = "
            f"y[{slot.offset} + base + (k - 1) * {stride}]",
            f"            y[{slot.offset} + base + {(n - 1) * stride}] += last",
            f"            y[{slot.offset} + base] = 0.0",
        ]
    else:
        lines += [
            f"            last = y[{slot.offset} + base + {(n - 1) * stride}] - "
            f"y[{entry} + base + {(n - 1) * stride}]",
            f"            for k in range({n - 1}, 0, -1):",
            f"                y[{slot.offset} + base + k * {stride}] = "
            f"y[{slot.offset} + base + (k - 1) * {stride}] - y[{entry} + base + (k - 1) * {stride}]"
            f" + y[{entry} + base + k * {stride}]",
            f"            y[{slot.offset} + base + {(n - 1) * stride}] += last",
            f"            y[{slot.offset} + base] = y[{entry} + base]",
            f"            for k in range({n}):",
            f"                y[{entry} + base + k * {stride}] = 0.0",
        ]
    return lines


# ------------------------------------------------------------------------------ loop fusion
# Every subscripted variable is its own loop nest. Numba's compile time grows with the number
# of loops far more than with their bodies (a model of 14 subscripted delays: 36 s to 9 s), so
# adjacent nests over the same ranges are fused when that cannot change a result, checked
# element by element (see _Accesses). Anything else (temporaries, inner loops, conditional
# statements, indices that are not integer arithmetic of the loop variables) keeps its loop.
_FUSE = True  # tests switch it off to compare
_FOR = re.compile(r"^for (\w+) in range\((\d+), (\d+)\):$")
_SIMPLE = re.compile(r"^(\w+)\[([^\[\]=]+)\] = (.*)$")
_INDEXED = re.compile(r"\b(\w+)\[([^\[\]]*)\]")
_LEADING = re.compile(r"^(\d+) \+ (.+)$")
_WHOLE = re.compile(r"\b(a|y|z|dydt)\b(?!\[)")
_FLAT = re.compile(r"^    for i in range\((\d+), (\d+)\):$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _loop_items(lines: list[str]) -> list[list[Any]]:
    """Body lines (indent 4) as ["loop", headers, body, comments] or ["other", lines]."""
    items: list[list[Any]] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        if _indent(line) == 4 and _FOR.match(line.strip()):
            j = k + 1
            while j < len(lines) and _indent(lines[j]) > 4:
                j += 1
            headers, rest, level = [line], lines[k + 1: j], 8
            while (rest and _indent(rest[0]) == level and _FOR.match(rest[0].strip())
                   and all(_indent(x) > level for x in rest[1:])):
                headers.append(rest[0])
                rest = rest[1:]
                level += 4
            items.append(["loop", tuple(headers), list(rest), []])
            k = j
        else:
            items.append(["other", [line]])
            k += 1
    return items


class _Accesses:
    """Which elements the statements of a fused loop body write and read, at which iteration.

    Index expressions are evaluated over the loop's iterations (parsed with :mod:`ast`, only
    integer arithmetic of the loop variables). A statement joins the loop when, for every
    element, a read still sees the value the unfused code saw: a value an earlier statement
    writes only at the same or an earlier iteration; a value an earlier statement reads only
    at the same or an earlier iteration than this one overwrites it; nothing written twice.
    """

    def __init__(self, headers: tuple[str, ...]) -> None:
        ranges, names = [], []
        for header in headers:
            m = _FOR.match(header.strip())
            assert m is not None
            names.append(m.group(1))
            ranges.append(np.arange(int(m.group(2)), int(m.group(3)), dtype=np.int64))
        grids = np.meshgrid(*ranges, indexing="ij") if ranges else []
        self.grid = {n: g.ravel() for n, g in zip(names, grids)}
        size = int(np.prod([r.size for r in ranges])) if ranges else 0
        self.iteration = np.arange(size, dtype=np.int64)
        self.writes: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.reads: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.opaque: set[str] = set()  # arrays read at indices not understood
        self.known: dict[str, np.ndarray | None] = {}

    def _index(self, text: str) -> np.ndarray | None:
        """The element index ``text`` gives at every iteration (None: not understood)."""
        text = text.strip()
        base = 0
        m = _LEADING.match(text)
        if m is not None:  # "offset + rest": the rest recurs across variables
            base, text = int(m.group(1)), m.group(2)
        if text not in self.known:
            self.known[text] = self._evaluate(text)
        found = self.known[text]
        return None if found is None else found + base

    def _evaluate(self, text: str) -> np.ndarray | None:
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError:
            return None
        ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
               ast.FloorDiv: np.floor_divide, ast.Mod: np.mod}

        def value(node: ast.AST) -> Any:
            if isinstance(node, ast.Constant) and type(node.value) is int:
                return node.value
            if isinstance(node, ast.Name) and node.id in self.grid:
                return self.grid[node.id]
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                inner = value(node.operand)
                return None if inner is None else -inner
            if isinstance(node, ast.BinOp) and type(node.op) in ops:
                left, right = value(node.left), value(node.right)
                if left is None or right is None:
                    return None
                return ops[type(node.op)](left, right)
            return None

        out = value(tree)
        if out is None:
            return None
        return np.zeros(self.iteration.shape, dtype=np.int64) + out

    @staticmethod
    def _table(table: dict[str, list[tuple[np.ndarray, np.ndarray]]],
               array: str) -> tuple[np.ndarray, np.ndarray]:
        """(elements, iterations) of ``array`` in ``table``, sorted by element."""
        parts = table[array]
        if len(parts) > 1:
            elements = np.concatenate([e for e, _ in parts])
            when = np.concatenate([w for _, w in parts])
            order = np.argsort(elements, kind="stable")
            parts[:] = [(elements[order], when[order])]
        else:
            elements, when = parts[0]
            if np.any(elements[1:] < elements[:-1]):
                order = np.argsort(elements, kind="stable")
                parts[:] = [(elements[order], when[order])]
        return parts[0]

    def add(self, body: list[str], check: bool = True) -> bool:
        """Take ``body`` (one original loop's statements) if that is safe; else change nothing."""
        writes: list[tuple[str, np.ndarray]] = []
        reads: list[tuple[str, np.ndarray]] = []
        opaque: set[str] = set()
        for line in body:
            m = _SIMPLE.match(line.strip())
            if m is None:
                return False
            target = self._index(m.group(2))
            if target is None:
                return False
            if np.unique(target).size != target.size:
                return False
            writes.append((m.group(1), target))
            opaque.update(_WHOLE.findall(m.group(3)))  # an array passed whole
            for access in _INDEXED.finditer(m.group(3)):
                index = self._index(access.group(2))
                if index is None:
                    opaque.add(access.group(1))
                else:
                    reads.append((access.group(1), index))
        if check:
            for array in opaque:
                if array in self.writes:
                    return False
            for array, elements in reads:  # read after write: written at iteration <= now
                if array not in self.writes:
                    continue
                done, when = self._table(self.writes, array)
                at = np.minimum(np.searchsorted(done, elements), done.size - 1)
                hit = done[at] == elements
                if np.any(when[at[hit]] > self.iteration[hit]):
                    return False
            for array, elements in writes:
                if array in self.opaque:
                    return False
                if array in self.writes:
                    done, _ = self._table(self.writes, array)
                    at = np.minimum(np.searchsorted(done, elements), done.size - 1)
                    if np.any(done[at] == elements):
                        return False  # written twice
                if array in self.reads:  # write after read: read at iteration <= now
                    seen, when = self._table(self.reads, array)
                    order = np.argsort(elements, kind="stable")
                    mine, mine_when = elements[order], self.iteration[order]
                    at = np.minimum(np.searchsorted(mine, seen), mine.size - 1)
                    hit = mine[at] == seen
                    if np.any(when[hit] > mine_when[at[hit]]):
                        return False
        for array, elements in writes:
            self.writes.setdefault(array, []).append((elements, self.iteration))
        for array, elements in reads:
            self.reads.setdefault(array, []).append((elements, self.iteration))
        self.opaque |= opaque
        return True


def fuse_loops(lines: list[str], independent: bool = False) -> list[str]:
    """Fuse adjacent loop nests of ``lines`` where it is safe (see above).

    ``independent`` says every statement writes only its own variable's slots and reads none
    another writes (the stock updates), so one-level loops over adjacent ranges with the same
    body also become one loop.
    """
    if not _FUSE:
        return lines
    out: list[list[Any]] = []
    comments: list[str] = []
    accesses: _Accesses | None = None
    for item in _loop_items(lines):
        if item[0] == "other" and item[1][0].lstrip().startswith("#"):
            comments += item[1]
            continue
        last = out[-1] if out else None
        if item[0] == "loop" and last is not None and last[0] == "loop":
            if last[1] == item[1] and accesses is not None and accesses.add(item[2]):
                last[2] += item[2]
                last[3] += comments
                comments = []
                continue
            m1, m2 = _FLAT.match(last[1][0]), _FLAT.match(item[1][0])
            if (independent and len(last[1]) == len(item[1]) == 1 and m1 and m2
                    and m1.group(2) == m2.group(1) and last[2] == item[2]):
                last[1] = (f"    for i in range({m1.group(1)}, {m2.group(2)}):",)
                last[3] += comments
                comments = []
                accesses = None
                continue
        if item[0] == "loop":
            item[3] = comments
            accesses = _Accesses(item[1])
            if not accesses.add(item[2], check=False):
                accesses = None
        else:
            item[1] = comments + item[1]
            accesses = None
        comments = []
        out.append(item)
    result: list[str] = []
    for item in out:
        result += (item[3] + list(item[1]) + item[2]) if item[0] == "loop" else item[1]
    return result + comments
