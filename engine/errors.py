"""Exceptions raised by corridor.

Every error names the offending element and, where one exists, suggests a fix.
All derive from :class:`EngineError`, so callers can catch one type.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "EngineError",
    "SpecError",
    "ParameterError",
    "IntegrationError",
    "StoreError",
    "CacheError",
    "ResourceError",
    "SelectionError",
    "suggest",
]


class EngineError(Exception):
    """Base class of every error raised by the engine."""


class SpecError(EngineError, ValueError):
    """The model is malformed: unknown name, dimension mismatch, algebraic loop, bad lookup,
    unsupported construct or unparsable equation."""


class ParameterError(EngineError, ValueError):
    """A parameter override or prior is invalid: unknown name, wrong shape, outside bounds."""


class IntegrationError(EngineError, ArithmeticError):
    """A run produced a non-finite value.

    Attributes
    ----------
    variable : str
        Name (with element, if subscripted) of the first non-finite variable found.
    time : float
        Simulation time at which it was found.
    member : int or None
        Ensemble member index, when raised from an ensemble run.
    """

    def __init__(
        self,
        message: str,
        *,
        variable: str = "",
        time: float = float("nan"),
        member: int | None = None,
    ) -> None:
        super().__init__(message)
        self.variable = variable
        self.time = time
        self.member = member


class StoreError(EngineError, OSError):
    """A result store cannot be used: made from another configuration, unreadable, unwritable."""


class CacheError(EngineError, OSError):
    """The cache directory cannot be trusted: not owned by this user, or open to others.

    The kernel cache holds code that is run (generated modules and numba's machine code), so
    it must be a directory that only the current user can write (mode 0700)."""


class ResourceError(EngineError, MemoryError):
    """A run would need more memory than is available (estimated before allocating)."""


class SelectionError(EngineError, LookupError):
    """A selection from a result names what it does not hold: a region, variable, scenario,
    dimension or a time that was not saved. The message names the nearest there are."""


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate names, or an empty string."""
    pool = list(candidates)
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        close = [lowered[c] for c in close]
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
