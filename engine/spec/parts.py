"""The parts a :class:`~engine.spec.Model` is made of: dimensions, variables, the pieces of
their equations and cohort shifts, with the kinds of variable and the priors they may carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..equations import Expr
from .tracking import TrackedDict, changed, tracked

__all__ = [
    "Dimension",
    "Piece",
    "Variable",
    "CohortShift",
    "KINDS",
    "PRIOR_DISTRIBUTIONS",
    "MAX_ORDER",
]

KINDS = ("stock", "flow", "aux", "param", "lookup", "initial", "delay_fixed")
PRIOR_DISTRIBUTIONS = {
    "uniform": 2,
    "normal": 2,
    "truncnorm": 4,
    "lognormal": 2,
    "triangular": 3,
    "beta": 4,
    "choice": 1,
}
#: The highest order of a smooth or delay (``smooth_n``, ``delay_n``, Vensim's SMOOTH N and
#: DELAY N): each order is a hidden stock, so an order of 100,000 would build a model of
#: 100,000 stocks. Models in practice use 1 to 10 (Vensim's manual: 3 is usual).
MAX_ORDER = 1000


#: Variable fields holding lists or dicts, kept as tracked containers (engine.spec.tracking)
_CONTAINERS = frozenset(("pieces", "init_pieces", "inflows", "outflows", "rate", "tables", "extra"))


@dataclass(frozen=True)
class Dimension:
    """A named, ordered set of elements (a Vensim subscript range).

    ``parent`` names the dimension this one is a subrange of (its elements are a subset of the
    parent's). ``mappings`` maps another dimension's name to the elements of that dimension
    corresponding, position by position, to this one's elements (Vensim's ``-> target``).
    """

    name: str
    elements: tuple[str, ...]
    parent: str | None = None
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the mappings' changes are tracked (engine.spec.tracking); the rest is frozen
        if not isinstance(self.mappings, TrackedDict):
            object.__setattr__(self, "mappings", TrackedDict(self.mappings))

    def __len__(self) -> int:
        return len(self.elements)


@dataclass
class Piece:
    """One equation of a (possibly) piecewise-defined variable.

    ``subs`` holds, per dimension of the variable, the subscript bound on the left-hand side:
    the dimension's own name, a subrange name or a single element name. ``exclude`` lists
    subscript combinations left out (Vensim ``:EXCEPT:``). Inside ``expr`` a subscript naming
    one of ``subs`` refers to the element being computed.
    """

    subs: tuple[str, ...]
    expr: Expr
    exclude: tuple[tuple[str, ...], ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        changed()  # engine.spec.tracking: the model's content hash is made again
        object.__setattr__(self, name, value)


@dataclass
class Variable:
    """A model variable. Most fields only matter for some kinds (see :data:`KINDS`)."""

    name: str
    kind: str
    dims: tuple[str, ...] = ()
    pieces: list[Piece] = field(default_factory=list)  # equation; a stock's initial value
    init_pieces: list[Piece] | None = None  # equation used while initialising (ACTIVE INITIAL)
    units: str = ""
    doc: str = ""
    hidden: bool = False
    # stocks
    inflows: list[str] = field(default_factory=list)
    outflows: list[str] = field(default_factory=list)
    rate: list[Piece] | None = None
    non_negative: bool = False
    # parameters
    value: np.ndarray | None = None
    bounds: tuple[float | None, float | None] = (None, None)
    prior: Any = None
    # one draw per element (else one shared by all), their pairwise rank correlation
    prior_per_element: bool = False
    prior_correlation: float | None = None
    # lookups: one (xs, ys) table per element, in row-major element order
    tables: list[tuple[np.ndarray, np.ndarray]] | None = None
    extrapolate: bool = False
    # delay_fixed: pieces of (input, delay time, initial) held in pieces[0..2]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.extra.get("_shape", ()))

    def __setattr__(self, name: str, value: Any) -> None:
        # engine.spec.tracking: any change makes the model's content hash again; lists and
        # dicts are kept as tracked copies so that changing their items does too
        changed()
        object.__setattr__(self, name, tracked(value) if name in _CONTAINERS else value)


@dataclass
class CohortShift:
    """An exact conveyor: every ``every`` time units, the contents of ``stock`` move one
    element along ``along``; the last element accumulates. What the ``entry`` flows brought
    into the first element since the previous shift stays there (newborns stay age 0)."""

    stock: str
    along: str
    every: float
    entry: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        changed()  # engine.spec.tracking: the model's content hash is made again
        object.__setattr__(self, name, value)
