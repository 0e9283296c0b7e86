"""Code for equations: expressions, references, lookups and the loops over a variable's
elements (``_Gen``), with identifiers of the compiler's own making only."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from ..builtins import BUILTINS, RANDOM, names
from ..equations import Binary, Call, Expr, InlineLookup, Num, Reduce, Ref, Time, Unary, walk
from ..errors import SpecError
from ..graph import Binding, Index, PieceIndex, Plan
from ..spec import Variable

# Vensim's allocations: arguments read over a range (engine.builtins: over_range)
OVER_RANGE = names(over_range=True)
# Builtins compiled by a rule of their own below; every other one by its code in
# engine.builtins (a function with memory never gets here: spec lowers it).
_OWN_RULES = frozenset({"if_then_else", "lookup_extrapolate"}) | RANDOM | OVER_RANGE
# The kernel helper of each draw (engine.kernels); its arguments follow the key.
_DRAWS = {
    "random_uniform": "_random_uniform",
    "random_0_1": "_random_0_1",
    "random_normal": "_random_normal",
    "random_exponential": "_random_exponential",
    "random_poisson": "_random_poisson",
    "standard_normal": "_standard_normal",
    "chi_square": "_chi_square",
    "ar1_step": "_ar1_next",
    "walk_step": "_walk_next",
}
_CMP = {"==", "!=", "<", "<=", ">", ">="}
# Generated expressions nest at most this deep in brackets (Python refuses more than 200).
_MAX_NESTING = 180


class _Gen:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.model = plan.model
        # subscripts as graph resolved them when it checked the model
        self.resolver = plan.resolver
        self.globals: list[str] = []
        self.shifts_seen: set[tuple[str, int, int]] = set()
        self.known_ranges: dict[str, tuple[int, int]] = {}
        self._tables: dict[tuple[Any, ...], str] = {}
        self._tmp = 0
        # Draws: the offset of the key slots in p (seed, member), set by the assembly when
        # the model draws; the element being computed and the piece's call sites.
        self.key_offset: int | None = None
        self.element = "0"
        self.site_base = ""
        self.site_count = 0

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
        indices = self.resolver.resolve_ref(var, ref, env)
        slot = self.plan.slots[ref.name]
        if target.kind == "lookup":
            raise SpecError(
                f"{var.kind} {var.name!r}: lookup {ref.name!r} is used as a value; "
                f"call it, e.g. {ref.name}(x)."
            )
        shifted = [i for i in indices if i.shift]
        if not shifted:
            return f"{slot.array}[{self.index_expr(indices, slot.strides(), slot.offset)}]"
        for i in shifted:
            assert i.var is not None
            self.shifts_seen.add((i.var, i.shift, i.size))
        known = [self.known_ranges.get(i.var or "") for i in shifted]
        if all(k is not None for k in known):
            inside = [
                k is not None and 0 <= k[0] + i.shift and k[1] + i.shift < i.size
                for i, k in zip(shifted, known)
            ]
            outside = [
                k is not None and (k[1] + i.shift < 0 or k[0] + i.shift >= i.size)
                for i, k in zip(shifted, known)
            ]
            if any(outside):
                return "0.0"
            if all(inside):
                return f"{slot.array}[{self.index_expr(indices, slot.strides(), slot.offset)}]"
        # Read a clamped (always valid) element and select 0 outside the dimension: no
        # branch around the load, so the loop can still be vectorised.
        clamped = [
            Index(var=f"min(max({i.var} + {i.shift}, 0), {i.size - 1})") if i.shift else i
            for i in indices
        ]
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
        # A draw inside the reduction is one per element summed over: the reduced positions
        # join the element's number in its key.
        outer = self.element
        for loop_var, n in loops:
            self.element = f"(({self.element}) * {n} + {loop_var})"
        body_pre, body = self.expr(var, e.body, inner)
        self.element = outer
        acc = self.fresh("acc")
        start = {"sum": "0.0", "prod": "1.0", "min": "np.inf", "max": "-np.inf"}[e.op]
        update = {
            "sum": f"{acc} + {body}",
            "prod": f"{acc} * {body}",
            "min": f"min({acc}, {body})",
            "max": f"max({acc}, {body})",
        }[e.op]
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
        if func == "lookup" or (
            func in self.model.variables and self.model.variables[func].kind == "lookup"
        ):
            if func == "lookup":
                table_ref, x = e.args
                assert isinstance(table_ref, Ref)
            else:
                table_ref, x = Ref(func), e.args[0]
            return self.lookup(var, table_ref, x, env)
        if func == "lookup_extrapolate":  # its first argument is a table, not a value
            table_ref = e.args[0]
            if not isinstance(table_ref, Ref):
                raise SpecError(f"{var.kind} {var.name!r}: lookup_extrapolate needs a table.")
            return self.lookup(var, table_ref, e.args[1], env, extrapolate=True)
        if func in OVER_RANGE:
            return self.allocation(var, e, env)
        pres: list[str] = []
        args = []
        for arg in e.args:
            pre, text = self.expr(var, arg, env)
            pres += pre
            args.append(text)
        if func == "if_then_else":
            cpre, cond = self.cond(var, e.args[0], env)
            return pres + cpre, f"({args[1]} if {cond} else {args[2]})"
        builtin = BUILTINS.get(func)
        if builtin is not None and builtin.code is not None:
            defaults = builtin.defaults[len(args) - builtin.min_args :]
            return pres, builtin.code.format(*args, *defaults)
        if func in RANDOM:
            return pres, self.draw(var, func, args)
        raise SpecError(f"{var.kind} {var.name!r}: function {func!r} is not supported here.")

    def allocation(self, var: Variable, e: Call, env: dict[str, Binding]) -> tuple[list[str], str]:
        """Vensim's allocations, over the range of their last argument (a hidden ``position``
        variable, the element's position in that range): the arguments given over the range
        (request and priority; or request and the four columns of the priority profiles) are
        gathered into work arrays, then the kernel computes this element's share.

        - allocate_by_priority(request, priority, width, supply, position);
        - allocate_available(request, ptype, ppriority, pwidth, pextra, avail, position)."""
        gathered = {"allocate_by_priority": 2, "allocate_available": 5}[e.func]
        position = e.args[-1]
        if not isinstance(position, Ref) or not position.name.endswith("~position"):
            raise SpecError(
                f"{var.kind} {var.name!r}: {e.func} is Vensim's "
                f"{e.func.upper().replace('_', ' ')}, read from a Vensim model only."
            )
        dim = self.model.variables[position.name].dims[0]
        n = len(self.model.dims[dim])
        loop_var = self.fresh("r")
        inner = dict(env)
        inner[dim] = Binding(loop_var, dim)
        lines: list[str] = []
        body: list[str] = []
        arrays = []
        outer = self.element  # a draw in the gathered arguments: one per position, as in reduce
        self.element = f"(({self.element}) * {n} + {loop_var})"
        for arg in e.args[:gathered]:
            array = self.fresh("w")
            pre, text = self.expr(var, arg, inner)
            lines.append(f"{array} = _zeros({n})")
            body += ["    " + line for line in pre] + [f"    {array}[{loop_var}] = {text}"]
            arrays.append(array)
        self.element = outer
        lines += [f"for {loop_var} in range({n}):"] + body
        texts = []
        for arg in e.args[gathered:]:
            pre, text = self.expr(var, arg, env)
            lines += pre
            texts.append(text)
        texts[-1] = f"int({texts[-1]})"
        return lines, f"_{e.func}({', '.join(arrays + texts)})"

    def draw(self, var: Variable, func: str, args: list[str]) -> str:
        """A counter-based draw: its key is the run's seed and member (slots of ``p``), the
        time, a stable number for the call site (a hash of the variable's name, its piece and
        the call's place in it) and the flat position of the element being computed."""
        if self.key_offset is None:  # pragma: no cover - the assembly sets it for draws
            raise SpecError(f"{var.kind} {var.name!r}: no random-number key in this module.")
        self.site_count += 1
        text = f"{self.site_base}\0{self.site_count}".encode()
        site = int.from_bytes(hashlib.sha256(text).digest()[:7], "little")
        key = f"p, {self.key_offset}, t, {site}, {self.element}"
        if func in ("ar1_step", "walk_step"):
            args = [args[0], "h", *args[1:]]
        return f"{_DRAWS[func]}({', '.join([key, *args])})"

    def lookup(
        self,
        var: Variable,
        table_ref: Ref,
        x: Expr,
        env: dict[str, Binding],
        extrapolate: bool = False,
    ) -> tuple[list[str], str]:
        table = self.model.variables.get(table_ref.name)
        if table is None or table.kind != "lookup":
            raise SpecError(f"{var.kind} {var.name!r}: {table_ref.name!r} is not a lookup.")
        pre, arg = self.expr(var, x, env)
        entries = self.plan.lookup_tables[table_ref.name]
        func = "_lookup_extrapolate" if (extrapolate or table.extrapolate) else "_lookup"
        if len(entries) == 1:
            off, n = entries[0]
            return pre, f"{func}(p, {off}, {n}, {arg})"
        indices = self.resolver.resolve_ref(var, table_ref, env)
        shape = tuple(len(self.model.dims[d]) for d in table.dims)
        strides = _strides(shape)
        flat = self.index_expr(indices, strides, 0)
        offs = self.table(tuple(o for o, _ in entries))
        ns = self.table(tuple(n for _, n in entries))
        return pre, f"{func}(p, {offs}[{flat}], {ns}[{flat}], {arg})"

    # -- statements
    def assign(
        self,
        var: Variable,
        pieces_role: str,
        target_array: str,
        target_offset: int,
        indent: str = "    ",
    ) -> list[str]:
        """Code computing every piece of ``var`` (role "eq", "init" or "rate") into
        ``target_array`` at ``target_offset`` (row-major over var's dims)."""
        pieces = {"eq": var.pieces, "init": var.init_pieces, "rate": var.rate}[pieces_role]
        assert pieces is not None
        shape = tuple(len(self.model.dims[d]) for d in var.dims)
        strides = _strides(shape)
        lines = [f"{indent}# {_comment(var.name)} ({pieces_role})"]
        for k, piece in enumerate(pieces):
            index = self.plan.pieces[(var.name, pieces_role, k)]
            target = self.index_expr(
                [Index(var=v) for v in index.loop_vars], strides, target_offset
            )
            self.shifts_seen = set()
            self.known_ranges = {}
            self.element = self.index_expr([Index(var=v) for v in index.loop_vars], strides, 0)
            self.site_base = f"{var.name}\0{pieces_role}\0{k}"
            self.site_count = 0
            pre, value = self.expr(var, piece.expr, dict(index.env))
            _check_nesting(var, pre + [value])
            # A reduction reads the values of other variables only (unless the equation reads
            # its own variable), so it can be computed outside the loops it does not depend on.
            hoist = not any(isinstance(n, Ref) and n.name == var.name for n in walk(piece.expr))
            segments = self.segments(index) if self.shifts_seen else None
            if not segments:
                body = pre + [f"{target_array}[{target}] = {value}"]
                lines += self.loops(index, body, indent, hoist)
                continue
            # Shifted subscripts: one loop per stretch where each shifted read is known to
            # fall inside (or outside) its dimension, so no element needs a bounds test.
            for ranges in segments:
                self.known_ranges = {v: (r[0], r[-1]) for v, r in zip(index.loop_vars, ranges)}
                self.site_count = 0
                pre, value = self.expr(var, piece.expr, dict(index.env))
                body = pre + [f"{target_array}[{target}] = {value}"]
                part = PieceIndex(list(ranges), None, index.env, index.loop_vars)
                lines += self.loops(part, body, indent, hoist)
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

    def loops(self, index: Any, body: list[str], indent: str, hoist: bool = False) -> list[str]:
        """``body`` (statements computing locals, then the assignment of one element) inside
        the loops of ``index``. With ``hoist``, each block of statements (a reduction, say) is
        placed in the outermost loop whose variables it reads, so a sum over one dimension
        that does not depend on the inner loops is computed once per outer element rather
        than once per element (the same operations in the same order: the same bits); a
        block that reads a local of another stays below it."""
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
        # the body's blocks by the loop level they go in (0: before the loops)
        placed: list[list[str]] = [[] for _ in range(len(index.loop_vars) + 1)]
        if hoist:
            level_of: dict[str, int] = {}  # loop variables and the blocks' locals
            for depth, loop_var in enumerate(index.loop_vars):
                level_of[loop_var] = depth + 1
            for block in _blocks(body[:-1]):
                names = set(_NAME.findall("\n".join(block)))
                level = max((level_of.get(n, 0) for n in names), default=0)
                placed[level] += block
                for line in block:
                    m = _LOCAL.match(line)
                    if m is not None:
                        level_of.setdefault(m.group(1), level)
        else:
            placed[-1] += body[:-1]
        placed[-1].append(body[-1])
        lines += [indent + b for b in placed[0]]
        for depth, (loop_var, positions) in enumerate(zip(index.loop_vars, index.ranges)):
            if len(positions) == 1:
                lines.append(f"{indent}{loop_var} = {positions[0]}")
            else:
                if positions == tuple(range(positions[0], positions[0] + len(positions))):
                    lines.append(
                        f"{indent}for {loop_var} in range({positions[0]}, "
                        f"{positions[0] + len(positions)}):"
                    )
                else:
                    lines.append(f"{indent}for {loop_var} in {self.table(positions)}:")
                indent += "    "
            lines += [indent + b for b in placed[depth + 1]]
        return lines


_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_LOCAL = re.compile(r"^(\w+) = ")
_WRITE = re.compile(r"^\s*(\w+)(?:\[[^=]*\])? = ")


def _blocks(lines: list[str]) -> list[list[str]]:
    """``lines`` (statements at indentation 0) cut into blocks that compute their locals
    together: a statement with the lines indented under it, joined to the block before when
    it writes a local that block writes (a reduction: its accumulator's start, then its loop
    adding to it)."""
    statements: list[list[str]] = []
    for line in lines:
        if statements and line.startswith(" "):
            statements[-1].append(line)
        else:
            statements.append([line])
    out: list[list[str]] = []
    written: list[set[str]] = []
    for statement in statements:
        names = {m.group(1) for m in map(_WRITE.match, statement) if m is not None}
        if out and names & written[-1]:
            out[-1] += statement
            written[-1] |= names
        else:
            out.append(statement)
            written.append(names)
    return out


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
            raise SpecError(
                f"{var.kind} {var.name!r}: the equation compiles to code nested "
                f"{deepest} brackets deep, more than Python accepts; split it into "
                "intermediate variables."
            )


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
