"""The :class:`Model` type: declaring dimensions and variables, checking parameter values,
the content hash every cache is keyed by."""

from __future__ import annotations

import contextlib
import hashlib
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..equations import Expr, Num, Ref, check_name, parse
from ..errors import ParameterError, SpecError, suggest
from .hashing import hash_parts
from .lowering import _Lowering, _stateful_call
from .parts import PRIOR_DISTRIBUTIONS, CohortShift, Dimension, Piece, Variable
from .tracking import changed, token, tracked

__all__ = ["Model", "sanitise", "iter_refs"]

_RESERVED = {"time"}  # the equations keyword; generated code never uses model names


class Model:
    """A stock-and-flow model.

    Parameters
    ----------
    name : str
        The model's name.
    time_unit : str
        Unit of time (``"year"``, ``"month"``, ``"minute"``...); also the unit of rates.
    start, stop, dt, saveper : float, optional
        The model's own time settings, used by :func:`engine.simulate` when none are given.
    doc : str
        A description.
    attrs : mapping of str to str, optional
        Attributes every result of the model carries (Dataset, DataTree, store, exports):
        a model with scenarios sets ``scenario`` and ``scenario_description``. They do not
        change the numbers, so they are not part of :meth:`content_hash`.
    """

    def __init__(
        self,
        name: str,
        time_unit: str = "year",
        *,
        start: float | None = None,
        stop: float | None = None,
        dt: float | None = None,
        saveper: float | None = None,
        doc: str = "",
        attrs: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.attrs: dict[str, str] = {str(k): str(v) for k, v in (attrs or {}).items()}
        self.time_unit = time_unit
        self.start = start
        self.stop = stop
        self.dt = dt
        self.saveper = saveper
        self.doc = doc
        self.dims: dict[str, Dimension] = {}
        self.variables: dict[str, Variable] = {}
        self.shifts: list[CohortShift] = []
        self.control: dict[str, str] = {}  # role (start/stop/dt/saveper) -> variable name
        # True when run settings are variables that change during the run (Vensim allows it)
        self.dynamic_control = False
        self.source: str = "dsl"
        self._hidden_count = 0

    # ------------------------------------------------------------------ dimensions
    def dimension(
        self,
        name: str,
        elements: Sequence[str | int] | int,
        *,
        parent: str | None = None,
        mappings: Mapping[str, Sequence[str]] | None = None,
    ) -> Dimension:
        """Declare a dimension (``elements`` as names, or an int n for ``"0".."n-1"``).

        A subrange gives ``parent``: its elements must all be elements of the parent.
        """
        self._check_new_name(name, "dimension", dims=True)
        if isinstance(elements, int):
            elements = [str(i) for i in range(elements)]
        labels = tuple(str(e) for e in elements)
        if not labels:
            raise SpecError(f"dimension {name!r} has no elements; give at least one.")
        if len(set(labels)) != len(labels):
            dup = sorted({e for e in labels if labels.count(e) > 1})
            raise SpecError(f"dimension {name!r} repeats the element(s) {dup}.")
        if parent is not None:
            if parent not in self.dims:
                raise SpecError(
                    f"subrange {name!r}: unknown parent dimension {parent!r}."
                    + suggest(parent, self.dims)
                )
            missing = [e for e in labels if e not in self.dims[parent].elements]
            if missing:
                raise SpecError(f"subrange {name!r}: {missing} are not elements of {parent!r}.")
        maps = {k: tuple(str(e) for e in v) for k, v in (mappings or {}).items()}
        dim = Dimension(name, labels, parent, maps)
        self.dims[name] = dim
        return dim

    def subrange(self, name: str, parent: str, elements: Sequence[str | int]) -> Dimension:
        """Declare a subrange of ``parent``: a dimension whose elements are some of its elements."""
        return self.dimension(name, elements, parent=parent)

    # ------------------------------------------------------------------ variables
    def param(
        self,
        name: str,
        value: float | Sequence[Any] | np.ndarray | Mapping[str, float],
        *,
        units: str = "",
        dims: Sequence[str] = (),
        bounds: tuple[float | None, float | None] = (None, None),
        prior: Any = None,
        doc: str = "",
        prior_per_element: bool = False,
        prior_correlation: float | None = None,
    ) -> Variable:
        """Declare a parameter: a constant that runs and ensembles may override.

        ``value`` is a number (broadcast over ``dims``), an array of the dims' shape, or a
        mapping from element name to value for a one-dimensional parameter. ``prior`` is the
        parameter's uncertainty in sweeps: one draw shared by its elements, or with
        ``prior_per_element`` one draw per element (a region's own), whose pairs have the rank
        correlation ``prior_correlation`` (default independent; :mod:`engine.priors`).
        """
        dims = self._check_dims(name, dims)
        low, high = bounds
        if low is not None and high is not None and low > high:
            raise SpecError(f"parameter {name!r}: bounds {bounds} are reversed; give (low, high).")
        array = self._param_array(name, value, dims, (low, high), None, SpecError)
        if prior is not None:
            _check_prior(name, prior)
        _check_prior_elements(name, prior, dims, prior_per_element, prior_correlation)
        var = Variable(
            name, "param", dims, units=units, doc=doc, value=array, bounds=(low, high), prior=prior
        )
        var.prior_per_element = bool(prior_per_element)
        var.prior_correlation = None if prior_correlation is None else float(prior_correlation)
        return self._add(var)

    def set_value(
        self, name: str, value: float | Sequence[Any] | np.ndarray | Mapping[Any, float]
    ) -> None:
        """Set the value of parameter ``name``: the one way to change a declared parameter.

        The model's content hash changes with the value, so compiled kernels, parsed-model
        entries and stores keyed by it see the new value (nothing keyed on the old one is
        reused for it).

        Parameters
        ----------
        name : str
            A declared parameter.
        value : number, array or mapping
            A number (every element), an array of the parameter's shape, or a mapping from
            element to value that changes only the elements it names: element names for a
            parameter of one dimension, tuples of element names (one per dimension) for more.

        Raises
        ------
        ParameterError
            Unknown parameter (with the closest names), a variable that is not a parameter,
            an unknown element (with the closest elements), a value that is not a number, of
            the wrong shape, not finite, or outside the parameter's bounds.

        Examples
        --------
        >>> import engine
        >>> m = engine.Model("m")
        >>> _ = m.dimension("region", ["north", "south"])
        >>> _ = m.param("rate", 0.1, dims=("region",), bounds=(0, 1))
        >>> m.set_value("rate", {"south": 0.3})
        >>> m["rate"].value.tolist()
        [0.1, 0.3]
        """
        self.variables[name].value = self.parameter_value(name, value)

    def parameter_value(self, name: str, value: Any) -> np.ndarray:
        """``value`` for parameter ``name``, checked as :meth:`set_value` checks it, as a float
        array of the parameter's shape; the model is left unchanged (run overrides,
        ``params=``, are checked here).

        Raises
        ------
        ParameterError
            As :meth:`set_value`.
        """
        var = self.variables.get(name)
        if var is None or var.kind != "param":
            known = [v.name for v in self.variables.values() if v.kind == "param"]
            why = (
                f"{name!r} is a {var.kind}, not a parameter"
                if var is not None
                else f"unknown parameter {name!r}"
            )
            raise ParameterError(f"{why} of model {self.name!r}." + suggest(name, known))
        return self._param_array(name, value, var.dims, var.bounds, var.value, ParameterError)

    def stock(
        self,
        name: str,
        initial: str | float | Expr = 0.0,
        *,
        units: str = "",
        dims: Sequence[str] = (),
        non_negative: bool = False,
        doc: str = "",
        rate: str | Expr | None = None,
    ) -> Variable:
        """Declare a stock (a level). Flows attach with ``flow(..., out_of=, into=)``;
        ``rate`` optionally gives an extra net rate of change directly (Vensim's INTEG).

        A ``non_negative`` stock is held at zero under every method (Stella's rule): what
        drains it (its outflows, and the negative part of an inflow) is limited to what it
        holds, so flows stay conserved; with a ``rate`` it is also clamped at zero after each
        step.
        """
        dims = self._check_dims(name, dims)
        var = Variable(name, "stock", dims, units=units, doc=doc, non_negative=non_negative)
        with self._declaring(var):
            var.pieces = [self._piece(var, initial, "initial value")]
            if rate is not None:
                var.rate = [self._piece(var, rate, "rate")]
        return var

    def flow(
        self,
        name: str,
        equation: str | float | Expr,
        *,
        out_of: str | None = None,
        into: str | None = None,
        units: str = "",
        dims: Sequence[str] = (),
        doc: str = "",
    ) -> Variable:
        """Declare a flow: a rate (per time unit) draining ``out_of`` and/or filling ``into``."""
        dims = self._check_dims(name, dims)
        if out_of is None and into is None:
            raise SpecError(
                f"flow {name!r} connects no stock; give out_of= and/or into= "
                "(or declare it with aux() if it is not a flow)."
            )
        for role, stock in (("out_of", out_of), ("into", into)):
            if stock is None:
                continue
            target = self.variables.get(stock)
            if target is None or target.kind != "stock":
                raise SpecError(
                    f"flow {name!r}: {role}={stock!r} is not a declared stock."
                    + suggest(stock, [v.name for v in self.variables.values() if v.kind == "stock"])
                )
            if target.dims != dims:
                raise SpecError(
                    f"flow {name!r} has dims {dims} but stock {stock!r} has "
                    f"{target.dims}; a flow must have the dims of its stocks."
                )
        if out_of is not None and out_of == into:
            raise SpecError(f"flow {name!r} goes out of and into the same stock {out_of!r}.")
        var = Variable(name, "flow", dims, units=units, doc=doc)
        with self._declaring(var):
            var.pieces = [self._piece(var, equation, "equation")]
        if out_of is not None:
            self.variables[out_of].outflows.append(name)
        if into is not None:
            self.variables[into].inflows.append(name)
        return var

    def aux(
        self,
        name: str,
        equation: str | float | Expr,
        *,
        units: str = "",
        dims: Sequence[str] = (),
        doc: str = "",
    ) -> Variable:
        """Declare an auxiliary: a variable computed from others at every time."""
        dims = self._check_dims(name, dims)
        var = Variable(name, "aux", dims, units=units, doc=doc)
        with self._declaring(var):
            var.pieces = [self._piece(var, equation, "equation")]
        return var

    def lookup(
        self,
        name: str,
        points: Sequence[tuple[float, float]] | tuple[Sequence[float], Sequence[float]],
        *,
        units: str = "",
        doc: str = "",
        extrapolate: bool = False,
    ) -> Variable:
        """Declare a graphical function, called in equations as ``name(x)``.

        ``points`` are (x, y) pairs or an ``(xs, ys)`` pair of sequences; x must increase.
        Outside the x range the value is clamped to the end points (Vensim's rule) unless
        ``extrapolate`` is set (Vensim's LOOKUP EXTRAPOLATE).
        """
        xs, ys = _lookup_points(name, points)
        var = Variable(
            name, "lookup", (), units=units, doc=doc, tables=[(xs, ys)], extrapolate=extrapolate
        )
        return self._add(var)

    def smooth(
        self,
        name: str,
        input: str | Expr,
        delay_time: str | float | Expr,
        *,
        order: int = 1,
        initial: str | float | Expr | None = None,
        units: str = "",
        dims: Sequence[str] = (),
        doc: str = "",
    ) -> Variable:
        """An exponential smooth of ``input`` of the given order (1, 3 or n)."""
        call = _stateful_call("smooth", order, input, delay_time, initial, name)
        return self.aux(name, call, units=units, dims=dims, doc=doc)

    def delay(
        self,
        name: str,
        input: str | Expr,
        delay_time: str | float | Expr,
        *,
        order: int = 3,
        initial: str | float | Expr | None = None,
        units: str = "",
        dims: Sequence[str] = (),
        doc: str = "",
    ) -> Variable:
        """A material delay of ``input`` of the given order (1, 3 or n) conserving its content."""
        call = _stateful_call("delay", order, input, delay_time, initial, name)
        return self.aux(name, call, units=units, dims=dims, doc=doc)

    def cohort_shift(
        self, stock: str, along: str, *, every: float = 1.0, entry: Sequence[str] = ()
    ) -> CohortShift:
        """Age ``stock`` exactly along dimension ``along`` every ``every`` time units.

        The contents of element k move to element k+1 at each shift time (start + k*every); the
        last element keeps its contents and receives those of the one before (an open-ended
        group such as 100+). Flows named in ``entry`` feed the first element (births): what
        they brought since the previous shift stays in the first element. With Euler steps of
        ``every`` this reproduces a Leslie-matrix projection exactly.
        """
        var = self.variables.get(stock)
        if var is None or var.kind != "stock":
            raise SpecError(
                f"cohort_shift: {stock!r} is not a stock."
                + suggest(stock, [v.name for v in self.variables.values() if v.kind == "stock"])
            )
        if along not in var.dims:
            raise SpecError(
                f"cohort_shift: stock {stock!r} has no dimension {along!r}; its "
                f"dims are {var.dims}."
            )
        if not every > 0:
            raise SpecError(f"cohort_shift of {stock!r}: every={every} must be positive.")
        for flow in entry:
            if flow not in var.inflows:
                raise SpecError(
                    f"cohort_shift of {stock!r}: entry flow {flow!r} is not an "
                    f"inflow of it; its inflows are {var.inflows}."
                )
        for other in self.shifts:
            if other.stock == stock:
                raise SpecError(
                    f"cohort_shift of {stock!r} is already declared (along "
                    f"{other.along!r} every {other.every:g}); a stock ages once: "
                    "remove the second declaration."
                )
        shift = CohortShift(stock, along, float(every), tuple(entry))
        if entry:
            # What the entry flows bring between two shifts, so the shift can leave it in place.
            name = f"{stock}~entry"
            if name in self.variables:
                raise SpecError(f"cohort_shift of {stock!r} is already declared.")
            acc = Variable(
                name, "stock", var.dims, hidden=True, units=var.units, inflows=list(entry)
            )
            acc.pieces = [Piece(var.dims, Num(0.0))]
            self.variables[name] = acc
        self.shifts.append(shift)
        return shift

    # ------------------------------------------------------------------ queries
    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise SpecError(
                f"model {self.name!r} has no variable {name!r}." + suggest(name, self.variables)
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    @property
    def stocks(self) -> list[Variable]:
        return [v for v in self.variables.values() if v.kind == "stock" and not v.hidden]

    @property
    def params(self) -> list[Variable]:
        return [v for v in self.variables.values() if v.kind == "param"]

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for var in self.variables.values():
            if not var.hidden:
                counts[var.kind] = counts.get(var.kind, 0) + 1
        parts = ", ".join(f"{n} {k}s" for k, n in counts.items())
        return f"<Model {self.name!r}: {parts}; dims {list(self.dims)}>"

    def __setattr__(self, name: str, value: Any) -> None:
        # engine.spec.tracking: a change of content makes the content hash again (private
        # attributes are caches); dims, variables, controls and shifts are tracked copies
        if not name.startswith("_"):
            changed()
            value = tracked(value)
        object.__setattr__(self, name, value)

    def content_hash(self) -> str:
        """A hash of everything that determines the model's numbers.

        The text of the structure is made once per state of the model's parts (tracked:
        :mod:`engine.spec.tracking`); parameter values and lookup tables, arrays that may be
        written in place, are hashed on every call.
        """
        now = token()
        kept = self.__dict__.get("_hash_parts")
        if kept is None or kept[0] is not now:
            kept = self.__dict__["_hash_parts"] = (now, hash_parts(self))
        h = hashlib.sha256()
        for part, as_float in kept[1]:
            if as_float is None:
                h.update(part)
            elif as_float:
                h.update(np.ascontiguousarray(part, dtype=float).tobytes())
            else:
                h.update(part.tobytes())
        return h.hexdigest()

    # ------------------------------------------------------------------ internals
    def _check_new_name(self, name: str, what: str, dims: bool = False) -> None:
        if not isinstance(name, str) or not name.strip():
            raise SpecError(f"a {what} needs a non-empty name, got {name!r}.")
        if name.lower() in _RESERVED and self.source == "dsl":
            raise SpecError(f"{what} name {name!r} is reserved; choose another name.")
        if self.source == "dsl":
            check_name(name, f"{what} {name!r}")
        if name in self.variables or name in self.dims:
            raise SpecError(
                f"{what} {name!r} is already declared in model {self.name!r}; "
                "names must be unique (rename one of them)."
            )

    def _check_dims(self, name: str, dims: Sequence[str] | str) -> tuple[str, ...]:
        if isinstance(dims, str):
            dims = (dims,)
        out = tuple(dims)
        for dim in out:
            if dim not in self.dims:
                raise SpecError(
                    f"variable {name!r}: unknown dimension {dim!r}; declare it with "
                    "model.dimension()." + suggest(dim, self.dims)
                )
        if len(set(out)) != len(out):
            raise SpecError(f"variable {name!r} repeats a dimension in {out}.")
        return out

    @contextlib.contextmanager
    def _declaring(self, var: Variable) -> Iterator[None]:
        """Add ``var`` while its equations are parsed; if that fails, the model is left as it
        was (no half-declared variable, no hidden variables of its functions with memory)."""
        before = set(self.variables)
        self._add(var)
        try:
            yield
        except BaseException:
            for name in [n for n in self.variables if n not in before]:
                del self.variables[name]
            raise

    def _add(self, var: Variable) -> Variable:
        self._check_new_name(var.name, var.kind)
        self.variables[var.name] = var
        return var

    def _param_array(
        self,
        name: str,
        value: Any,
        dims: tuple[str, ...],
        bounds: tuple[float | None, float | None],
        current: np.ndarray | None,
        error: type[SpecError] | type[ParameterError],
    ) -> np.ndarray:
        """``value`` of parameter ``name`` as a checked float array of its dims' shape.

        A mapping names elements (tuples of them for several dims); with a ``current`` value
        the elements it leaves out keep theirs, without one every element needs a value.
        Declarations raise ``SpecError``, later changes ``ParameterError``.
        """
        shape = tuple(len(self.dims[d]) for d in dims)
        if isinstance(value, Mapping):
            array = self._mapped_values(name, value, dims, shape, current, error)
        else:
            array = _float_array(name, value, error)
            if array.ndim == 0:
                array = np.full(shape, float(array))
            if array.shape != shape:
                raise error(
                    f"parameter {name!r} has shape {shape} (dims {dims}); the value "
                    f"given has shape {array.shape}."
                )
        bad = ~np.isfinite(array)
        if bad.any():
            raise error(
                f"parameter {name!r}: value must be finite, got {value!r}{_at(self, dims, bad)}."
            )
        low, high = bounds
        outside = np.zeros(shape, dtype=bool)
        if low is not None:
            outside |= array < low
        if high is not None:
            outside |= array > high
        if outside.any():
            shown = array.tolist() if array.size <= 12 else array[outside][:12].tolist()
            raise error(
                f"parameter {name!r}: value {shown} is outside its bounds "
                f"[{low}, {high}]{_at(self, dims, outside)}; give a value within them."
            )
        return array

    def _mapped_values(
        self,
        name: str,
        value: Mapping[Any, Any],
        dims: tuple[str, ...],
        shape: tuple[int, ...],
        current: np.ndarray | None,
        error: type[SpecError] | type[ParameterError],
    ) -> np.ndarray:
        if not dims:
            raise error(f"parameter {name!r} has no dims; give a number, not a mapping.")
        elements = [self.dims[d].elements for d in dims]
        array = (
            np.full(shape, np.nan)
            if current is None
            else np.array(current, dtype=float, copy=True).reshape(shape)
        )
        given = np.zeros(shape, dtype=bool)
        for key, item in value.items():
            keys = key if isinstance(key, tuple) else (key,)
            if len(keys) != len(dims):
                raise error(
                    f"parameter {name!r}: key {key!r} names {len(keys)} element(s); "
                    f"give one for each of its dims {dims}, as a tuple."
                )
            index = []
            for dim, known, element in zip(dims, elements, keys):
                label = str(element)
                if label not in known:
                    raise error(
                        f"parameter {name!r}: {label!r} is not an element of {dim!r}."
                        + suggest(label, known)
                    )
                index.append(known.index(label))
            number = _float_array(f"{name}[{', '.join(str(k) for k in keys)}]", item, error)
            if number.ndim != 0:
                raise error(
                    f"parameter {name!r}: the value for {key!r} must be a number, got {item!r}."
                )
            array[tuple(index)] = float(number)
            given[tuple(index)] = True
        if current is None and not given.all():
            missing = [
                ", ".join(known[i] for known, i in zip(elements, idx))
                for idx in zip(*np.nonzero(~given))
            ]
            raise error(f"parameter {name!r}: no value for elements {missing[:12]}.")
        return array

    def _piece(self, var: Variable, equation: str | float | Expr, what: str) -> Piece:
        expr = parse(equation, where=f"{var.kind} {var.name!r} ({what})")
        piece = Piece(var.dims, expr)
        piece.expr = self.lower(var, piece, expr)
        return piece

    def lower(self, var: Variable, piece: Piece, expr: Expr) -> Expr:
        """Replace functions with memory inside ``expr`` (an equation of ``var``'s ``piece``)
        by references to hidden variables holding their state."""
        return _Lowering(self, var, piece).visit(expr)

    def hidden_name(self, host: str, what: str) -> str:
        self._hidden_count += 1
        return f"{host}~{what}{self._hidden_count}"


def _float_array(
    name: str, value: Any, error: type[SpecError] | type[ParameterError]
) -> np.ndarray:
    """``value`` as a float array; numbers only (neither "1.5" nor None becomes a float)."""
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" and not all(
            isinstance(x, numbers.Real) for x in np.ravel(np.asarray(value, dtype=object))
        ):
            raise TypeError  # a string, None or another object numpy would turn into a float
        return np.array(array, dtype=float)
    except (TypeError, ValueError):
        raise error(
            f"parameter {name!r}: value {value!r} is not a number (or an array of numbers)."
        ) from None
    except OverflowError:
        raise error(
            f"parameter {name!r}: a value is too large for a float (above 1.8e308); "
            "give it in range."
        ) from None


def _at(model: Model, dims: tuple[str, ...], mask: np.ndarray) -> str:
    """ " at element(s) [...]" for the True cells of ``mask``, when the parameter has dims."""
    if not dims:
        return ""
    cells = [
        ", ".join(model.dims[d].elements[i] for d, i in zip(dims, idx))
        for idx in zip(*np.nonzero(mask))
    ]
    more = f" and {len(cells) - 6} more" if len(cells) > 6 else ""
    return f" at {cells[:6]}{more}"


def _lookup_points(name: str, points: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        if (
            isinstance(points, tuple)
            and len(points) == 2
            and all(isinstance(p, (list, tuple, np.ndarray)) for p in points)
            and len(points[0]) != 2
        ):
            xs, ys = np.asarray(points[0], float), np.asarray(points[1], float)
        else:
            array = np.asarray(points, float)
            if array.ndim != 2 or array.shape[1] != 2:
                raise ValueError
            xs, ys = array[:, 0].copy(), array[:, 1].copy()
    except (TypeError, ValueError):
        raise SpecError(f"lookup {name!r}: give (x, y) pairs or an (xs, ys) pair.") from None
    if xs.shape != ys.shape or xs.size == 0:
        raise SpecError(
            f"lookup {name!r}: xs and ys must be non-empty and of equal length "
            f"(got {xs.size} and {ys.size})."
        )
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise SpecError(f"lookup {name!r}: points must be finite numbers.")
    if np.any(np.diff(xs) < 0):
        raise SpecError(
            f"lookup {name!r}: x values must not decrease; got {xs.tolist()}. Sort the points by x."
        )
    return xs, ys


def _check_prior_elements(
    name: str, prior: Any, dims: Sequence[str], per_element: bool, correlation: float | None
) -> None:
    if per_element and (prior is None or not dims):
        raise SpecError(
            f"parameter {name!r}: prior_per_element needs a prior and dims (one draw per element)."
        )
    if correlation is not None and not (per_element and -1 < float(correlation) < 1):
        raise SpecError(
            f"parameter {name!r}: prior_correlation={correlation!r} needs prior_per_element=True "
            "and a rank correlation strictly between -1 and 1."
        )


def _check_prior(name: str, prior: Any) -> None:
    if hasattr(prior, "ppf") and hasattr(prior, "rvs"):
        return
    if not isinstance(prior, (tuple, list)) or not prior or not isinstance(prior[0], str):
        raise SpecError(
            f"parameter {name!r}: prior {prior!r} must be a tuple "
            "(distribution, *parameters), e.g. ('uniform', 5, 15)."
        )
    dist = prior[0]
    if dist not in PRIOR_DISTRIBUTIONS:
        raise SpecError(
            f"parameter {name!r}: unknown prior distribution {dist!r}."
            + suggest(dist, PRIOR_DISTRIBUTIONS)
        )
    if len(prior) - 1 != PRIOR_DISTRIBUTIONS[dist]:
        raise SpecError(
            f"parameter {name!r}: a {dist} prior takes "
            f"{PRIOR_DISTRIBUTIONS[dist]} parameter(s), got {len(prior) - 1}."
        )


_IDENT = re.compile(r"[^0-9A-Za-z_]")


def sanitise(name: str) -> str:
    """A Python identifier derived from ``name`` (used only in comments and debug names)."""
    out = _IDENT.sub("_", name)
    return out if out and not out[0].isdigit() else "_" + out


def iter_refs(expr: Expr) -> Iterable[Ref]:
    from ..equations import walk

    for node in walk(expr):
        if isinstance(node, Ref):
            yield node
