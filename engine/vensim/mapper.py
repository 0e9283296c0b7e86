"""Mapping PySD's AbstractModel into :class:`engine.spec.Model`.

Constants become parameters, INTEG elements stocks, graphical functions lookups, and every
other element an auxiliary whose equation is an :mod:`engine.equations` tree. Names are kept
exactly as Vensim writes them; subscript ranges become dimensions; macros are expanded into
hidden copies of their variables. A construct the engine cannot reproduce raises
:class:`~engine.errors.SpecError` naming the variable and the construct.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from ..equations import MAX_DEPTH, Call, Expr, Num, Ref, Time, depth
from ..errors import SpecError
from ..spec import Model, Piece, Variable
from .expressions import _CONTROL, _ExpressionMapper, _is_number, _norm
from .external import ExternalReader


class _Mapper(_ExpressionMapper):
    def __init__(
        self, path: Path, abstract: Any, written: list[dict[str, list[str]]] | None = None
    ) -> None:
        self.path = path
        self.abstract = abstract
        self.written = written or []
        self.section = abstract.sections[0]
        self.macros = {s.name: s for s in abstract.sections[1:]}
        self.macro_calls = 0
        self.expanding: list[str] = []  # macros being expanded, outermost first
        self.model = Model(path.stem, time_unit="", doc="")
        self.model.source = "vensim" if path.suffix.lower() == ".mdl" else "xmile"
        self.names: dict[str, str] = {}  # normalised -> original element name
        self.dim_names: dict[str, str] = {}  # normalised -> original range name
        self.constants: dict[str, float] = {}
        self.lookups: set[str] = set()
        self.current = ""
        self.external = ExternalReader(path, self.fail)

    # ------------------------------------------------------------------ entry
    def build(self) -> Model:
        self.declare_dims()
        for k, section in enumerate(self.abstract.sections):
            self.refuse_duplicates(section, self.written[k] if k < len(self.written) else {})
        elements = list(self.section.elements)
        for element in elements:
            self.names[_norm(element.name)] = element.name
        for element in elements:
            if _is_lookup(element):
                self.lookups.add(_norm(element.name))
        self.collect_constants(elements)
        # INITIAL TIME first: other run settings may be evaluated at it.
        elements.sort(key=lambda e: _norm(e.name) != "initial_time")
        for element in elements:
            self.current = element.name
            try:
                self.element(element)
            except RecursionError:
                raise self.fail(
                    "the equation nests too deeply to translate; split it into "
                    "intermediate variables."
                ) from None
            except OverflowError:
                raise self.fail(
                    "a number in the equation is too large for a float "
                    "(above 1.8e308); write it in range."
                ) from None
            self.check_depth(element.name)
        self.model.time_unit = self.time_unit(elements)
        return self.model

    def check_depth(self, name: str) -> None:
        """Refuse equations nested deeper than :data:`engine.equations.MAX_DEPTH` (every
        later pass over an expression is recursive)."""
        var = self.model.variables.get(name)
        if var is None:
            return
        for piece in [*var.pieces, *(var.init_pieces or ()), *(var.rate or ())]:
            found = depth(piece.expr)
            if found > MAX_DEPTH:
                raise self.fail(
                    f"the equation nests {found} levels deep, more than the "
                    f"{MAX_DEPTH} corridor compiles (a long sum a + b + c + ... "
                    "nests one level per term); split it into intermediate "
                    "variables, or use SUM over a subscript."
                )

    def refuse_duplicates(self, section: Any, written: dict[str, list[str]]) -> None:
        """Refuse two equations for the same variable (or the same elements of it): Vensim
        refuses such a file, and taking the last would silently drop the other. Equations of
        distinct elements (``x[a1] = 1``, ``x[a2] = 2``) are one definition."""
        for element in section.elements:
            components = list(element.components)
            if len(components) < 2:
                continue
            names = written.get(_norm(element.name), [])
            if len(names) != len(components):
                names = [element.name] * len(components)
            seen: dict[tuple[str, ...], int] = {}
            for k, component in enumerate(components):
                for cell in self.cells(component):
                    first = seen.setdefault(cell, k)
                    if first == k:
                        continue
                    where = f" (element [{', '.join(cell)}])" if cell else ""
                    same = (
                        ""
                        if names[first] == names[k]
                        else " (names differing only in "
                        "case, spaces or underscores are the same variable)"
                    )
                    raise SpecError(
                        f"{str(self.path)!r}: variable {element.name!r} is defined twice"
                        f"{where}: by its equation {first + 1} "
                        f"{self.shown(names[first], components[first])!r} and its equation "
                        f"{k + 1} {self.shown(names[k], component)!r}{same}. Vensim refuses "
                        "such a model: remove one of the definitions or rename its variable."
                    )

    def cells(self, component: Any) -> set[tuple[str, ...]]:
        """The elements an equation defines: its subscripts, less its :EXCEPT: groups."""
        subs, excepts = component.subscripts
        cells = set(itertools.product(*[self.sub_elements(str(s)) for s in subs]))
        for group in excepts:
            cells -= set(itertools.product(*[self.sub_elements(str(s)) for s in group]))
        return cells

    @staticmethod
    def shown(name: str, component: Any) -> str:
        subs = component.subscripts[0]
        return f"{name}[{','.join(str(s) for s in subs)}]" if subs else name

    def time_unit(self, elements: list[Any]) -> str:
        for element in elements:
            if _norm(element.name) == "time_step" and element.units:
                return str(element.units).split("[")[0].strip()
        return ""

    # ------------------------------------------------------------------ dims
    def declare_dims(self) -> None:
        ranges = {r.name: r for r in self.section.subscripts}
        expanded: dict[str, list[str]] = {}

        def expand(name: str, seen: tuple[str, ...] = ()) -> list[str]:
            if name in expanded:
                return expanded[name]
            if name in seen:
                raise SpecError(
                    f"{str(self.path)!r}: subscript range {name!r} is defined in terms of itself."
                )
            rng = ranges[name]
            subs = rng.subscripts
            if isinstance(subs, str):
                subs = [subs]
            if isinstance(subs, dict):  # GET XLS/DIRECT SUBSCRIPT
                self.current = name
                subs = self.external.subscripts(subs)
            out: list[str] = []
            for sub in subs:
                if sub in ranges and sub != name:
                    out += expand(sub, seen + (name,))
                else:
                    out.append(sub)
            expanded[name] = out
            return out

        for name in ranges:
            expand(name)
        for name, rng in ranges.items():
            mappings = {}
            for target in rng.mapping or []:
                target = str(target)
                if target not in ranges:
                    raise SpecError(
                        f"{str(self.path)!r}: range {name!r} maps to unknown range {target!r}."
                    )
                if len(expanded[target]) != len(expanded[name]):
                    raise SpecError(
                        f"{str(self.path)!r}: range {name!r} maps to {target!r} "
                        "of another length; element-wise mappings are not "
                        "supported."
                    )
                mappings[target] = tuple(expanded[target])
            if isinstance(rng.subscripts, str):  # a copy: DimCopy <-> DimA
                mappings[rng.subscripts] = tuple(expanded[rng.subscripts])
            self.model.dimension(name, expanded[name], mappings=mappings)
            self.dim_names[_norm(name)] = name

    def dim_for(self, position_sets: list[set[str]], named: list[list[str]]) -> tuple[str, ...]:
        dims: list[str] = []
        for k, elements in enumerate(position_sets):
            exact = [
                d
                for d, dim in self.model.dims.items()
                if set(dim.elements) == elements and d not in dims
            ]
            preferred = [d for d in named[k] if d in exact]
            if preferred:
                dims.append(preferred[0])
                continue
            if exact:
                dims.append(exact[0])
                continue
            supersets = [d for d, dim in self.model.dims.items() if elements <= set(dim.elements)]
            if not supersets:
                raise self.fail(
                    f"its subscripts {sorted(elements)} belong to no single subscript range."
                )
            dim = min(supersets, key=lambda d: len(self.model.dims[d]))
            dims.append(self.second_copy(dim) if dim in dims else dim)
        return tuple(dims)

    def second_copy(self, name: str) -> str:
        """A copy of range ``name`` for a variable that uses it twice (``matrix[A, dim]``
        over ``dim: A, B`` is a dim x dim table): a result cannot have one dimension twice."""
        copy = f"{name}~2"
        if copy not in self.model.dims:
            elements = tuple(self.model.dims[name].elements)
            self.model.dimension(copy, list(elements), mappings={name: elements})
        return copy

    def sub_elements(self, sub: str) -> list[str]:
        if sub in self.model.dims:
            return list(self.model.dims[sub].elements)
        return [sub]

    def element_dims(self, components: list[Any]) -> tuple[str, ...]:
        first = components[0].subscripts[0]
        n = len(first)
        if any(len(c.subscripts[0]) != n for c in components):
            raise self.fail("its equations have different numbers of subscripts.")
        sets: list[set[str]] = [set() for _ in range(n)]
        named: list[list[str]] = [[] for _ in range(n)]
        for component in components:
            for k, sub in enumerate(component.subscripts[0]):
                sets[k].update(self.sub_elements(sub))
                if sub in self.model.dims:
                    named[k].append(sub)
        return self.dim_for(sets, named)

    # ------------------------------------------------------------------ constants
    def collect_constants(self, elements: list[Any]) -> None:
        for element in elements:
            comps = element.components
            if len(comps) == 1 and not comps[0].subscripts[0]:
                value = comps[0].ast
                if _is_number(value):
                    self.constants[_norm(element.name)] = float(value)

    # ------------------------------------------------------------------ elements
    def element(self, element: Any) -> None:
        comps = list(element.components)
        name = element.name
        units = str(element.units or "")
        doc = str(element.documentation or "").strip()
        key = _norm(name)
        if key in _CONTROL:
            self.control(element, key, units, doc)
            return
        if _is_lookup(element):
            self.lookup(element, comps, units, doc)
            return
        dims = self.element_dims(comps)
        asts = [self.read_external(element, c, dims) for c in comps]
        ast_kinds = {type(a).__name__ for a in asts}
        if ast_kinds == {"IntegStructure"}:
            var = Variable(name, "stock", dims, units=units, doc=doc)
            self.model.variables[name] = var
            var.non_negative = any(bool(a.non_negative) for a in asts)
            var.pieces, var.rate = [], []
            for comp in comps:
                subs, exclude = self.piece_subs(comp)
                shell = Piece(subs, Num(0.0), exclude)
                var.pieces.append(
                    Piece(subs, self.model.lower(var, shell, self.expr(comp.ast.initial)), exclude)
                )
                var.rate.append(
                    Piece(subs, self.model.lower(var, shell, self.expr(comp.ast.flow)), exclude)
                )
            return
        if "IntegStructure" in ast_kinds:
            raise self.fail("INTEG must be the whole equation of a stock (for every element).")
        if all(_is_number(a) or isinstance(a, np.ndarray) for a in asts):
            value = self.constant_array(comps, dims, asts)
            var = Variable(
                name, "param", dims, units=units, doc=doc, value=value, bounds=(None, None)
            )
            self.model.variables[name] = var
            return
        var = Variable(name, "aux", dims, units=units, doc=doc)
        self.model.variables[name] = var
        var.pieces = []
        init_pieces: list[Piece] = []
        active = False
        for comp, comp_ast in zip(comps, asts):
            subs, exclude = self.piece_subs(comp)
            for psubs, ast in self.split_arrays(comp_ast, subs):
                shell = Piece(psubs, Num(0.0), exclude)
                if _is_call(ast, "active_initial"):
                    active = True
                    run_expr = self.expr(ast.arguments[0])
                    init_expr = self.expr(ast.arguments[1])
                else:
                    run_expr = init_expr = self.expr(ast)
                var.pieces.append(Piece(psubs, self.model.lower(var, shell, run_expr), exclude))
                init_pieces.append(Piece(psubs, self.model.lower(var, shell, init_expr), exclude))
        if active:
            var.init_pieces = init_pieces

    def split_arrays(self, ast: Any, subs: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
        """A piece whose equation is a number array becomes one piece per element."""
        if not isinstance(ast, np.ndarray):
            return [(subs, ast)]
        per_dim = [self.sub_elements(s) for s in subs]
        values = np.asarray(ast, dtype=float).ravel()
        combos = list(itertools.product(*per_dim))
        if values.size != len(combos):
            raise self.fail(f"{values.size} values given for {len(combos)} elements.")
        return [(tuple(c), float(v)) for c, v in zip(combos, values)]

    def piece_subs(self, comp: Any) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        subs, excepts = comp.subscripts
        return tuple(subs), tuple(tuple(group) for group in excepts)

    def constant_array(
        self, comps: list[Any], dims: tuple[str, ...], asts: list[Any]
    ) -> np.ndarray:
        shape = tuple(len(self.model.dims[d]) for d in dims)
        array = np.zeros(shape)
        for comp, value in zip(comps, asts):
            subs, excepts = comp.subscripts
            positions = []
            for dim, sub in zip(dims, subs):
                elements = self.model.dims[dim].elements
                positions.append([elements.index(e) for e in self.sub_elements(sub)])
            excluded: set[tuple[int, ...]] = set()
            for group in excepts:
                per = [
                    [self.model.dims[d].elements.index(e) for e in self.sub_elements(s)]
                    for d, s in zip(dims, group)
                ]
                excluded.update(itertools.product(*per))
            if isinstance(value, np.ndarray):
                sub_shape = tuple(len(p) for p in positions)
                flat = np.asarray(value, dtype=float)
                if flat.size != int(np.prod(sub_shape)):
                    raise self.fail(
                        f"{flat.size} values given for {int(np.prod(sub_shape))} elements."
                    )
                block = flat.reshape(sub_shape)
                for combo in itertools.product(*[range(len(p)) for p in positions]):
                    index = tuple(positions[k][i] for k, i in enumerate(combo))
                    if index not in excluded:
                        array[index] = block[combo]
            else:
                for index in itertools.product(*positions):
                    if index not in excluded:
                        array[index] = float(value)
        return array

    def control(self, element: Any, key: str, units: str, doc: str) -> None:
        comp = element.components[0]
        value = self.const_value(comp.ast)
        role = _CONTROL[key]
        if value is None:
            # A run setting that changes during the run (Vensim re-evaluates these every step;
            # INITIAL TIME once, at time 0). It becomes an auxiliary the solver reads.
            expr = self.expr(comp.ast)
            saved = self.constants.get("initial_time")
            if role == "start":
                self.constants["initial_time"] = 0.0
            value = self.initial_value(expr)
            if saved is None:
                self.constants.pop("initial_time", None)
            else:
                self.constants["initial_time"] = saved
            if value is None:
                raise self.fail("this run setting cannot be evaluated at the initial time.")
            if role == "start":
                self.constants["initial_time"] = value
            setattr(self.model, role, value)
            var = Variable(element.name, "aux", (), units=units, doc=doc)
            var.pieces = [Piece((), self.model.lower(var, Piece((), Num(0.0)), expr))]
            self.model.variables[element.name] = var
            self.model.control[role] = element.name
            self.model.dynamic_control = True
            return
        self.constants[key] = value
        setattr(self.model, role, value)
        self.model.variables[element.name] = Variable(
            element.name, "param", (), units=units, doc=doc, value=np.array(value)
        )
        self.model.control[role] = element.name

    def lookup(self, element: Any, comps: list[Any], units: str, doc: str) -> None:
        dims = self.element_dims(comps)
        shape = tuple(len(self.model.dims[d]) for d in dims)
        tables: list[Any] = [None] * (int(np.prod(shape)) if shape else 1)
        extrapolate = False
        for comp in comps:
            ast = comp.ast
            subs, excepts = comp.subscripts
            per = [
                [self.model.dims[d].elements.index(e) for e in self.sub_elements(s)]
                for d, s in zip(dims, subs)
            ]
            if type(ast).__name__ == "GetLookupsStructure":
                read = self.external.tables(ast, self.coords(dims, subs), data=False)
            elif type(ast).__name__ == "LookupsStructure":
                if getattr(ast, "type", "interpolate") not in ("interpolate", "extrapolate"):
                    raise self.fail(f"lookup interpolation {ast.type!r} is not supported.")
                extrapolate = extrapolate or ast.type == "extrapolate"
                table = (np.asarray(ast.x, dtype=float), np.asarray(ast.y, dtype=float))
                read = [table] * int(np.prod([len(p) for p in per]))
            else:
                raise self.fail(f"lookup defined by {_construct_name(ast)} is not supported.")
            for index, table in zip(itertools.product(*per), read):
                flat = int(np.ravel_multi_index(index, shape)) if shape else 0
                tables[flat] = table
        # A table defined for some elements of a range only (Vensim allows it): the others
        # give NaN if read, never a number.
        tables = [_UNDEFINED_TABLE if t is None else t for t in tables]
        var = Variable(
            element.name,
            "lookup",
            dims,
            units=units,
            doc=doc,
            tables=tables,
            extrapolate=extrapolate,
        )
        self.model.variables[element.name] = var

    def macro_call(self, name: str, args: list[Any]) -> Expr:
        """Expand one call of a macro: a private copy of the macro's variables, its inputs
        bound to hidden auxiliaries holding the call's arguments."""
        section = self.macros[name]
        if name in self.expanding:
            chain = " -> ".join([*self.expanding, name])
            raise self.fail(f"macro {name!r} calls itself ({chain}); a macro cannot be recursive.")
        host = self.model.variables.get(self.current)
        if host is not None and host.dims:
            raise self.fail(
                f"macro {name!r} is called from a subscripted variable; "
                "subscripted macro calls are not supported."
            )
        if len(args) != len(section.params):
            raise self.fail(
                f"macro {name!r} takes {len(section.params)} arguments "
                f"({', '.join(section.params)}), got {len(args)}."
            )
        self.macro_calls += 1
        prefix = f"{self.current}~{name}{self.macro_calls}~"
        scope: dict[str, str] = {}
        for param, arg in zip(section.params, args):
            var = Variable(prefix + param, "aux", (), hidden=True)
            var.pieces = [Piece((), self.model.lower(var, Piece((), Num(0.0)), self.expr(arg)))]
            self.model.variables[var.name] = var
            scope[_norm(param)] = var.name
        for element in section.elements:
            scope[_norm(element.name)] = prefix + element.name
        if name not in scope:
            raise self.fail(f"macro {name!r} defines no variable named after itself.")
        saved = (self.names, self.current, self.lookups)
        self.names = scope
        self.lookups = {
            _norm(e.name)
            for e in section.elements
            if type(e.components[0]).__name__ == "AbstractLookup"
        }
        self.expanding.append(name)
        try:
            for element in section.elements:
                self.current = prefix + element.name
                self.element(_Renamed(element, prefix + element.name))
                self.check_depth(prefix + element.name)
                self.model.variables[prefix + element.name].hidden = True
        finally:
            self.expanding.pop()
            self.names, self.current, self.lookups = saved
        return Ref(scope[name])

    # ------------------------------------------------------------------ data from files
    def coords(self, dims: tuple[str, ...], subs: Any) -> dict[str, list[str]]:
        """The elements an equation's subscripts cover, one entry a position (the keys are
        private: a variable may use one range twice)."""
        return {
            f"{dim}~{k}": self.sub_elements(str(s)) for k, (dim, s) in enumerate(zip(dims, subs))
        }

    def read_external(self, element: Any, comp: Any, dims: tuple[str, ...]) -> Any:
        """An equation's structure, with the values of GET CONSTANTS read in (an array) and a
        data variable's series turned into a hidden table read at ``Time``."""
        ast = comp.ast
        kind = type(ast).__name__
        subs = comp.subscripts[0]
        if kind == "GetConstantsStructure":
            return self.external.constants(ast, self.coords(dims, subs))
        if kind == "CallStructure" and getattr(ast.function, "reference", "") == "invert_matrix":
            return self.inverted(ast, subs)
        if type(comp).__name__ != "AbstractData":
            return ast
        if kind != "GetDataStructure":
            raise self.fail(
                "a data variable (:=) whose values come from a data file given at run time "
                "(Vensim's .vdf/.tab data) is not supported; read the series with "
                "GET DIRECT DATA or GET XLS DATA."
            )
        mode = getattr(comp, "keyword", None)
        read = self.external.tables(ast, self.coords(dims, subs), data=True, mode=mode)
        table = self.data_table(element.name, dims)
        shape = tuple(len(self.model.dims[d]) for d in dims)
        per = [
            [self.model.dims[d].elements.index(e) for e in self.sub_elements(str(s))]
            for d, s in zip(dims, subs)
        ]
        assert table.tables is not None
        for index, cell_table in zip(itertools.product(*per), read):
            table.tables[int(np.ravel_multi_index(index, shape)) if shape else 0] = cell_table
        return _TimeLookup(table.name, tuple(str(s) for s in subs))

    def inverted(self, ast: Any, subs: list[str]) -> np.ndarray:
        """INVERT MATRIX of a constant matrix, computed once at load time (the last two
        subscripts are the matrix, any before them index separate matrices)."""
        arg = ast.arguments[0] if ast.arguments else None
        ref = getattr(arg, "reference", None)
        element = next((e for e in self.section.elements if _norm(e.name) == ref), None)
        arg_subs = list(getattr(getattr(arg, "subscripts", None), "subscripts", None) or [])
        if element is None or len(subs) < 2:
            raise self.fail(
                "INVERT MATRIX needs a constant matrix variable, subscripted by at least two "
                "ranges, as its argument."
            )
        components = list(element.components)
        arg_dims = self.element_dims(components)
        values = [self.read_external(element, c, arg_dims) for c in components]
        if (
            arg_subs != list(subs)
            or list(subs) != list(arg_dims)
            or not all(_is_number(v) or isinstance(v, np.ndarray) for v in values)
        ):
            raise self.fail(
                "INVERT MATRIX is supported for a constant matrix read over the same full "
                f"ranges as the result ({', '.join(map(str, subs))}); its argument changes "
                "during the run or is read over other subscripts."
            )
        matrix = self.constant_array(components, arg_dims, values)
        if matrix.shape[-1] != matrix.shape[-2]:
            raise self.fail(f"INVERT MATRIX of a {matrix.shape[-2]}x{matrix.shape[-1]} matrix.")
        try:
            return np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            raise self.fail("INVERT MATRIX of a singular matrix.") from None

    def data_table(self, name: str, dims: tuple[str, ...]) -> Variable:
        """The hidden lookup variable holding a data variable's series, one per element."""
        hidden = f"{name}~data"
        var = self.model.variables.get(hidden)
        if var is None:
            size = int(np.prod([len(self.model.dims[d]) for d in dims])) if dims else 1
            # elements the data does not define (given by other equations) are never read
            var = Variable(hidden, "lookup", dims, hidden=True, tables=[_UNDEFINED_TABLE] * size)
            self.model.variables[hidden] = var
        return var

    def x__TimeLookup(self, node: _TimeLookup) -> Expr:
        return Call("lookup", (Ref(node.table, node.subs or None), Time()))


_UNDEFINED_TABLE = (np.zeros(1), np.full(1, np.nan))


class _TimeLookup:
    """A data variable's equation: its hidden table read at the current time."""

    def __init__(self, table: str, subs: tuple[str, ...]) -> None:
        self.table = table
        self.subs = subs


def _is_lookup(element: Any) -> bool:
    """Every equation of the element is a table: written out, or read by GET ... LOOKUPS."""
    return all(
        type(c).__name__ == "AbstractLookup"
        or type(getattr(c, "ast", None)).__name__ == "GetLookupsStructure"
        for c in element.components
    )


def _construct_name(ast: Any) -> str:
    return type(ast).__name__.replace("Structure", "").upper()


class _Renamed:
    """An abstract element seen under another name (a macro instance's copy)."""

    def __init__(self, element: Any, name: str) -> None:
        self.name = name
        self.components = element.components
        self.units = element.units
        self.documentation = element.documentation


def _is_call(node: Any, name: str) -> bool:
    return (
        type(node).__name__ == "CallStructure" and getattr(node.function, "reference", None) == name
    )
