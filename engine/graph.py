"""Model graph: resolve names and dimensions, order the computation, find algebraic loops.

:func:`build_plan` turns a :class:`~engine.spec.Model` into a :class:`Plan`: where every
variable lives in the flat float64 arrays the kernels see (``y`` stocks, ``p`` parameters and
lookup tables, ``a`` auxiliaries and flows, ``z`` discrete state), which elements each
equation piece computes, and the order in which equations run at initialisation and at every
step. Subscript resolution (which element of a referenced variable an equation reads) is
done here too, so that errors name the variable and subscript before any code is generated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .builtins import names as builtin_names
from .equations import MAX_DEPTH, Call, Expr, Reduce, Ref, Time, depth, split_shift, walk
from .errors import SpecError, suggest
from .spec import Model, Piece, Variable

__all__ = ["Plan", "Slot", "PieceIndex", "build_plan", "Binding", "Index"]

_ARRAY_OF_KIND = {
    "stock": "y",
    "param": "p",
    "lookup": "p",
    "aux": "a",
    "flow": "a",
    "initial": "a",
    "delay_fixed": "a",
}


@dataclass(frozen=True)
class Slot:
    """Where a variable's values live: ``array[offset : offset + size]``, row-major."""

    array: str
    offset: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def strides(self) -> tuple[int, ...]:
        out = []
        step = 1
        for n in reversed(self.shape):
            out.append(step)
            step *= n
        return tuple(reversed(out))


@dataclass(frozen=True)
class Binding:
    """A subscript name in scope: loop variable ``var`` runs over positions of ``dim``."""

    var: str
    dim: str


@dataclass(frozen=True)
class Index:
    """How one subscript of a reference picks an element: a constant position, or the
    position held by loop variable ``var``, optionally mapped through ``table``."""

    const: int | None = None
    var: str | None = None
    table: tuple[int, ...] | None = None
    shift: int = 0  # read the element this many places along (0 outside the dimension)
    size: int = 0  # the dimension's length, for the bounds of a shift


@dataclass
class PieceIndex:
    """The elements one equation piece computes.

    ``ranges`` gives, per dimension, the positions the piece loops over (rectangular pieces);
    ``points`` lists explicit position tuples when exclusions make the piece non-rectangular.
    ``env`` maps subscript names on the left-hand side to their loop binding.
    """

    ranges: list[tuple[int, ...]]
    points: np.ndarray | None
    env: dict[str, Binding]
    loop_vars: tuple[str, ...]


@dataclass
class Plan:
    """A checked, ordered model: where each variable lives (``slots``), in which order it is
    computed, the elements each equation piece computes (``pieces``) and the ``resolver`` that
    resolved every reference's subscripts while checking (the compiler reads it again)."""

    model: Model
    slots: dict[str, Slot]
    sizes: dict[str, int]
    init_order: list[str]
    dynamic_order: list[str]
    static: set[str]
    pieces: dict[tuple[str, str, int], PieceIndex]
    resolver: SubscriptResolver
    output_only: set[str] = field(default_factory=set)
    uses_time_discretely: bool = False
    lookup_tables: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def variable(self, name: str) -> Variable:
        return self.model.variables[name]


# ---------------------------------------------------------------------------------- dims
class DimResolver:
    """Answers questions about dimensions, subranges and mappings of one model."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.positions = {
            name: {e: i for i, e in enumerate(d.elements)} for name, d in model.dims.items()
        }
        self._owner: dict[str, list[str]] = {}
        for name, dim in model.dims.items():
            for element in dim.elements:
                self._owner.setdefault(element, []).append(name)

    def element_position(self, dim: str, element: str) -> int | None:
        return self.positions[dim].get(element)

    def table(self, source: str, target: str) -> tuple[int, ...] | None:
        """Positions in ``target`` of the elements of ``source`` (None when identical);
        raises KeyError when the two are unrelated."""
        if source == target:
            return None
        dims = self.model.dims
        src, tgt = dims[source], dims[target]
        if src.elements == tgt.elements:
            return None
        if target in src.mappings:
            mapped = src.mappings[target]
            return tuple(self.positions[target].get(e, -1) for e in mapped)
        if source in tgt.mappings:
            mapped = tgt.mappings[source]
            back = {e: i for i, e in enumerate(mapped)}
            return tuple(back.get(e, -1) for e in src.elements)
        pos = self.positions[target]
        hits = [pos.get(e, -1) for e in src.elements]
        if all(h < 0 for h in hits):
            raise KeyError((source, target))
        return tuple(hits)

    def related(self, a: str, b: str) -> bool:
        try:
            self.table(a, b)
            return True
        except KeyError:
            return False


# ---------------------------------------------------------------------------------- plan
def build_plan(model: Model) -> Plan:
    """Resolve and order ``model``; raise SpecError for anything that cannot run."""
    dims = DimResolver(model)
    variables = model.variables
    slots: dict[str, Slot] = {}
    sizes = {"y": 0, "p": 0, "a": 0, "z": 0}
    lookup_tables: dict[str, list[tuple[int, int]]] = {}
    for var in variables.values():
        shape = tuple(len(model.dims[d]) for d in var.dims)
        array = _ARRAY_OF_KIND[var.kind]
        if var.kind == "lookup":
            assert var.tables is not None
            count = int(np.prod(shape)) if shape else 1
            if len(var.tables) != count:
                raise SpecError(
                    f"lookup {var.name!r} has {len(var.tables)} tables for {count} elements."
                )
            entries = []
            for xs, _ys in var.tables:
                entries.append((sizes["p"], len(xs)))
                sizes["p"] += 2 * len(xs)
            lookup_tables[var.name] = entries
            slots[var.name] = Slot("p", entries[0][0], shape)
            continue
        slot = Slot(array, sizes[array], shape)
        slots[var.name] = slot
        sizes[array] += slot.size

    resolver = SubscriptResolver(model, dims)
    plan = Plan(model, slots, sizes, [], [], set(), {}, resolver, lookup_tables=lookup_tables)
    checker = _Checker(resolver)
    deps_init: dict[str, set[str]] = {}
    deps_dyn: dict[str, set[str]] = {}
    uses_time: dict[str, bool] = {}
    for var in variables.values():
        if var.kind in ("param", "lookup"):
            continue
        groups: list[tuple[str, list[Piece]]] = [("eq", var.pieces)]
        if var.init_pieces is not None:
            groups.append(("init", var.init_pieces))
        if var.rate is not None:
            groups.append(("rate", var.rate))
        refs: dict[str, set[str]] = {}
        timed = False
        for role, pieces in groups:
            found: set[str] = set()
            for k, piece in enumerate(pieces):
                found_depth = depth(piece.expr)
                if found_depth > MAX_DEPTH:
                    raise SpecError(
                        f"{var.kind} {var.name!r}: the equation nests {found_depth} "
                        f"levels deep, more than {MAX_DEPTH}; split it into "
                        "intermediate variables."
                    )
                index = checker.piece_index(var, piece, role, k)
                plan.pieces[(var.name, role, k)] = index
                found |= checker.check_expr(var, piece.expr, index.env, role)
                timed = timed or any(_is_timed(n) for n in walk(piece.expr))
            refs[role] = found
        uses_time[var.name] = timed
        if var.kind == "stock":
            deps_init[var.name] = refs["eq"]
            deps_dyn[var.name] = set()
        elif var.kind == "delay_fixed":
            deps_init[var.name] = refs["eq"]
            deps_dyn[var.name] = set()
        elif var.kind == "initial":
            deps_init[var.name] = refs["eq"]
            deps_dyn[var.name] = set()
        else:
            deps_init[var.name] = refs["init"] if "init" in refs else refs["eq"]
            deps_dyn[var.name] = refs["eq"]
    _check_flows(model)

    # Static auxiliaries: constant over a run, so computed once at initialisation.
    kinds = {name: v.kind for name, v in variables.items()}
    static: set[str] = set()
    changed = True
    candidates = [n for n, v in variables.items() if v.kind == "aux" and v.init_pieces is None]
    while changed:
        changed = False
        for name in candidates:
            if name in static or uses_time[name]:
                continue
            if all(
                kinds[d] in ("param", "lookup", "initial") or d in static for d in deps_dyn[name]
            ):
                static.add(name)
                changed = True
    plan.static = static

    init_nodes = [n for n in variables if kinds[n] not in ("param", "lookup")]
    init_graph = {
        n: {d for d in deps_init[n] if kinds[d] not in ("param", "lookup")} for n in init_nodes
    }
    order = _toposort(init_graph, "initialisation")
    # Initialisation computes only what stocks, INITIAL values, fixed delays and constant
    # auxiliaries need; everything else is computed by the first step (smaller kernels).
    needed: set[str] = set()
    stack = [
        n for n in init_nodes if kinds[n] in ("stock", "initial", "delay_fixed") or n in static
    ]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(init_graph[name] - needed)
    plan.init_order = [n for n in order if n in needed]
    dyn_nodes = [n for n in variables if kinds[n] in ("aux", "flow") and n not in static]
    dyn_graph = {n: {d for d in deps_dyn[n] if d in set(dyn_nodes)} for n in dyn_nodes}
    # The outflows of a non-negative stock are limited together once all are computed; what
    # reads one of them must come after all of them, so it sees the limited values.
    for var in variables.values():
        if var.kind == "stock" and var.non_negative and len(var.outflows) > 1:
            siblings = set(var.outflows)
            for node, deps in dyn_graph.items():
                if deps & siblings and node not in siblings:
                    deps |= siblings
    plan.dynamic_order = _toposort(dyn_graph, "simulation")
    plan.output_only = _output_only(model, dyn_graph)
    return plan


def _output_only(model: Model, graph: Mapping[str, set[str]]) -> set[str]:
    """Time-varying auxiliaries no stock rate needs: computed only when results are saved."""
    roots: set[str] = set()
    for var in model.variables.values():
        if var.kind == "flow":
            roots.add(var.name)
        elif var.kind == "stock":
            for piece in var.rate or []:
                roots.update(n.name for n in walk(piece.expr) if isinstance(n, Ref))
                roots.update(n.func for n in walk(piece.expr) if isinstance(n, Call))
        elif var.kind == "delay_fixed":
            roots.add(var.extra["input"])
        if "sample_from" in var.extra:  # read before every step (SAMPLE IF TRUE)
            roots.add(var.extra["sample_from"])
    if model.dynamic_control:
        roots.update(model.control.values())
    needed: set[str] = set()
    stack = [r for r in roots if r in graph]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(d for d in graph[name] if d not in needed)
    return set(graph) - needed


# functions whose value moves with time when their arguments do not (engine.builtins)
_TIME_FUNCTIONS = builtin_names(timed=True)


def _is_timed(node: Expr) -> bool:
    return isinstance(node, Time) or (isinstance(node, Call) and node.func in _TIME_FUNCTIONS)


def _check_flows(model: Model) -> None:
    for var in model.variables.values():
        if var.kind != "stock":
            continue
        for flow in var.inflows + var.outflows:
            if flow not in model.variables or model.variables[flow].kind != "flow":
                raise SpecError(
                    f"stock {var.name!r} lists {flow!r} as a flow, but no such flow is declared."
                )


def _toposort(graph: Mapping[str, set[str]], phase: str) -> list[str]:
    order: list[str] = []
    indegree = {n: len(d) for n, d in graph.items()}
    users: dict[str, list[str]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for dep in deps:
            users[dep].append(node)
    ready = [n for n in graph if indegree[n] == 0]
    ready.reverse()
    while ready:
        node = ready.pop()
        order.append(node)
        for user in users[node]:
            indegree[user] -= 1
            if indegree[user] == 0:
                ready.append(user)
    if len(order) < len(graph):
        cycle = _find_cycle({n: graph[n] for n in graph if indegree[n] > 0})
        shown = " -> ".join(repr(n) for n in cycle + cycle[:1])
        raise SpecError(
            f"algebraic loop during {phase}: {shown}. Every feedback loop needs a stock; "
            "break the loop with a stock (or a smooth/delay) on one of these variables."
        )
    return order


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    start = next(iter(graph))
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(d for d in sorted(graph[node]) if d in graph)
    return path[seen[node] :]


class SubscriptResolver:
    """How each subscript of a reference picks an element of its variable, in the scope of
    the loops around it: a constant position, a loop variable, a loop variable mapped through
    a table (subranges, mappings) or shifted (``age - 1``).

    :func:`build_plan` resolves (and so checks) every reference with it and keeps it on the
    :class:`Plan`; the compiler asks it again for the code of each reference and gets what was
    resolved then (kept by reference and scope), so subscripts are resolved in one place, once.
    """

    def __init__(self, model: Model, dims: DimResolver) -> None:
        self.model = model
        self.dims = dims
        self._resolved: dict[tuple[Ref, tuple[tuple[str, str], ...]], tuple[Index, ...]] = {}

    def fail(self, var: Variable, message: str) -> SpecError:
        return SpecError(f"{var.kind} {var.name!r}: {message}")

    def resolve_ref(self, var: Variable, ref: Ref, env: Mapping[str, Binding]) -> list[Index]:
        """The index of each subscript of ``ref`` (checked), in the scope ``env``.

        Kept by reference and scope up to the names of the loop variables (the compiler names
        a reduction's loops its own way): an index is stored with the subscript name its loop
        variable is bound to, and given back with the loop variable of ``env``.
        """
        key = (ref, tuple((sub, binding.dim) for sub, binding in env.items()))
        found = self._resolved.get(key)
        if found is None:
            bound = {binding.var: sub for sub, binding in env.items()}
            assert len(bound) == len(env)
            found = self._resolved[key] = tuple(
                index if index.var is None else replace(index, var=bound[index.var])
                for index in self._resolve_ref(var, ref, env)
            )
        return [
            index if index.var is None else replace(index, var=env[index.var].var)
            for index in found
        ]

    def _resolve_ref(self, var: Variable, ref: Ref, env: Mapping[str, Binding]) -> list[Index]:
        target = self.model.variables.get(ref.name)
        if target is None:
            raise self.fail(
                var, f"unknown name {ref.name!r}." + suggest(ref.name, self.model.variables)
            )
        subs = ref.subs if ref.subs is not None else target.dims
        if len(subs) != len(target.dims):
            raise self.fail(
                var,
                f"{ref.name!r} has dims {list(target.dims)} but is referenced "
                f"with {len(subs)} subscript(s) {list(subs)}.",
            )
        out = []
        for sub, dim in zip(subs, target.dims):
            out.append(self.resolve_sub(var, ref.name, sub, dim, env))
        return out

    def resolve_sub(
        self, var: Variable, name: str, sub: str, dim: str, env: Mapping[str, Binding]
    ) -> Index:
        base, offset = split_shift(sub)
        if offset:
            index = self.resolve_sub(var, name, base, dim, env)
            if index.var is None or index.table is not None:
                raise self.fail(
                    var,
                    f"in {name}[...], a shifted subscript ({base} "
                    f"{offset:+d}) needs {base!r} to be the dimension "
                    f"{dim!r} of {var.name!r} itself.",
                )
            return Index(var=index.var, shift=offset, size=len(self.model.dims[dim]))
        binding = env.get(sub)
        if binding is None and sub not in self.model.dims:
            pos = self.dims.element_position(dim, sub)
            if pos is None:
                raise self.fail(
                    var,
                    f"in {name}[...], {sub!r} is not an element of {dim!r} "
                    "nor a dimension in scope."
                    + suggest(sub, list(self.model.dims[dim].elements) + list(env)),
                )
            return Index(const=pos)
        if binding is None:
            mapped = self.mapped_index(sub, dim, env)
            if mapped is not None:
                return mapped
            # A dimension not bound by name: accept one bound through a related dimension.
            for candidate in env.values():
                if self.dims.related(candidate.dim, sub) or self.dims.related(sub, candidate.dim):
                    if self.dims.related(candidate.dim, dim):
                        binding = candidate
                        break
            if binding is None:
                raise self.fail(
                    var,
                    f"{name}[...] uses dimension {sub!r}, which is not a "
                    f"dimension of {var.name!r}; aggregate it with sum(..., "
                    f"{sub!r}) or add {sub!r} to the dims of {var.name!r}.",
                )
        try:
            table = self.dims.table(binding.dim, dim)
        except KeyError:
            raise self.fail(
                var,
                f"in {name}[...], dimension {sub!r} cannot index {dim!r} "
                "(no shared elements or mapping).",
            ) from None
        return Index(var=binding.var, table=table)

    def mapped_index(self, sub: str, dim: str, env: Mapping[str, Binding]) -> Index | None:
        """Index ``dim`` by subscript ``sub`` through a mapping between ``sub`` and a
        subscript bound on the left-hand side (Vensim's ``a: a1, a2 -> b``)."""
        dims = self.model.dims
        source = dims[sub]
        for bound, binding in env.items():
            if bound not in dims or bound == sub:
                continue
            other = dims[bound]
            if bound in source.mappings:  # source element j <-> bound element mapped[j]
                pairs = dict(zip(source.mappings[bound], source.elements))
            elif sub in other.mappings:  # bound element k <-> sub element mapped[k]
                pairs = dict(zip(other.elements, other.mappings[sub]))
            else:
                continue
            loop_dim = dims[binding.dim]
            target = self.dims.positions[dim]
            table = []
            for element in loop_dim.elements:
                partner = pairs.get(element)
                table.append(-1 if partner is None else target.get(partner, -1))
            return Index(var=binding.var, table=tuple(table))
        return None


class _Checker:
    """Checks a model's equations: the elements each piece computes, and every reference
    (resolved by the plan's :class:`SubscriptResolver`), function and lookup call in them."""

    def __init__(self, resolver: SubscriptResolver) -> None:
        self.model = resolver.model
        self.dims = resolver.dims
        self.fail = resolver.fail
        self.resolve_ref = resolver.resolve_ref
        self._counter = itertools.count()

    def piece_index(self, var: Variable, piece: Piece, role: str, k: int) -> PieceIndex:
        if len(piece.subs) != len(var.dims):
            raise self.fail(
                var,
                f"equation subscripts {list(piece.subs)} do not match its dims {list(var.dims)}.",
            )
        env: dict[str, Binding] = {}
        ranges: list[tuple[int, ...]] = []
        loop_vars = []
        for position, (dim, sub) in enumerate(zip(var.dims, piece.subs)):
            loop_var = f"i{position}"
            loop_vars.append(loop_var)
            if sub in self.model.dims:
                try:
                    table = self.dims.table(sub, dim)
                except KeyError:
                    raise self.fail(
                        var, f"subscript {sub!r} is not related to its dimension {dim!r}."
                    ) from None
                if table is None:
                    ranges.append(tuple(range(len(self.model.dims[dim]))))
                else:
                    if min(table) < 0:
                        raise self.fail(var, f"subscript {sub!r} has elements outside {dim!r}.")
                    ranges.append(table)
                env[sub] = Binding(loop_var, dim)
            else:
                pos = self.dims.element_position(dim, sub)
                if pos is None:
                    raise self.fail(
                        var,
                        f"{sub!r} is neither a dimension nor an element of "
                        f"{dim!r}." + suggest(sub, self.model.dims[dim].elements),
                    )
                ranges.append((pos,))
        points = None
        if piece.exclude:
            excluded: set[tuple[int, ...]] = set()
            for combo in piece.exclude:
                per_dim = []
                for dim, sub in zip(var.dims, combo):
                    if sub in self.model.dims:
                        table = self.dims.table(sub, dim)
                        per_dim.append(range(len(self.model.dims[dim])) if table is None else table)
                    else:
                        pos = self.dims.element_position(dim, sub)
                        if pos is None:
                            raise self.fail(
                                var, f":EXCEPT: names {sub!r}, not an element of {dim!r}."
                            )
                        per_dim.append((pos,))
                excluded.update(itertools.product(*per_dim))
            kept = [c for c in itertools.product(*ranges) if c not in excluded]
            points = np.array(kept, dtype=np.int64).reshape(len(kept), len(var.dims))
        return PieceIndex(ranges, points, env, tuple(loop_vars))

    def check_expr(
        self, var: Variable, expr: Expr, env: Mapping[str, Binding], role: str
    ) -> set[str]:
        """Check every reference in ``expr``; return the names it depends on."""
        found: set[str] = set()
        self._check(var, expr, dict(env), found)
        return found

    def _check(self, var: Variable, expr: Expr, env: dict[str, Binding], found: set[str]) -> None:
        if isinstance(expr, Ref):
            self.resolve_ref(var, expr, env)
            found.add(expr.name)
            return
        if isinstance(expr, Reduce):
            inner = dict(env)
            for d in expr.dims:
                if d not in self.model.dims:
                    raise self.fail(
                        var,
                        f"{expr.op} over unknown dimension {d!r}." + suggest(d, self.model.dims),
                    )
                inner[d] = Binding(f"r{next(self._counter)}", d)
            self._check(var, expr.body, inner, found)
            return
        if isinstance(expr, Call):
            if expr.func == "elmcount":
                arg = expr.args[0]
                if not isinstance(arg, Ref) or arg.name not in self.model.dims:
                    raise self.fail(var, "elmcount() takes a dimension name.")
                return
            if expr.func == "lookup":
                table = expr.args[0]
                assert isinstance(table, Ref)
                target = self.model.variables.get(table.name)
                if target is None or target.kind != "lookup":
                    raise self.fail(var, f"{table.name!r} is not a lookup table.")
                self.resolve_ref(var, table, env)
                found.add(table.name)
                self._check(var, expr.args[1], env, found)
                return
            from .equations import FUNCTIONS

            if expr.func not in FUNCTIONS:
                target = self.model.variables.get(expr.func)
                if target is not None and target.kind == "lookup":
                    found.add(expr.func)
                    for arg in expr.args:
                        self._check(var, arg, env, found)
                    if len(expr.args) != 1:
                        raise self.fail(var, f"lookup {expr.func!r} takes one argument.")
                    return
                raise self.fail(
                    var,
                    f"unknown function {expr.func!r}."
                    + suggest(
                        expr.func,
                        list(FUNCTIONS)
                        + [v.name for v in self.model.variables.values() if v.kind == "lookup"],
                    ),
                )
            for arg in expr.args:
                self._check(var, arg, env, found)
            return
        for child in _children(expr):
            self._check(var, child, env, found)


def _children(expr: Expr) -> Iterable[Expr]:
    from .equations import Binary, InlineLookup, Unary

    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, InlineLookup):
        return (expr.arg,)
    return ()
