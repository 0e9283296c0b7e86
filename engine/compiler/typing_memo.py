"""A memo of numba's call typing while the engine compiles a generated module.

numba types a call ``f(x, y)`` of a builtin or ``@overload``-ed function (``operator.add``,
``np.exp``, ...) with :meth:`numba.core.types.functions.BaseFunction.get_call_type`, which tries
the function's templates in order at every call site: for ``operator.mul`` on two float64 a
dozen templates (those of lists, sets, datetimes, NumPy's ufuncs, overloads of other
libraries) fail before one matches, and nothing is remembered from one call site to the next.
A large model's generated code has thousands of call sites of a few dozen distinct forms, so
most of numba's type inference for it is those failed matches (the default corridor: ~107k
failed template applications, about a third of its cold compile).

While :func:`memo` is active, a call form (the function type, the argument types, the keyword
types, numba's target and the inherited compile flags) remembers which template matched it
(and whether with literal or plain arguments); the next call site of the same form applies
that template only. The template is applied (not its signature reused), so its side effects
are numba's own: an ``@overload``'s compiled implementation is registered for the caller's
flags, the function type keeps the implementation key that lowering reads. The templates
skipped are those that failed for this very form before: typing a call form is a pure
function of it, so they would fail again. A form not seen before, or whose remembered
template does not match again, is typed exactly as numba does.

The memo replaces ``get_call_type`` with a copy of numba's loop that records the winner, so it
depends on numba's internals: it is used only when the method's source is the one it was
written against (numba 0.68: :data:`_KNOWN`); with any other numba, :func:`memo` does
nothing (compiles are correct, only slower). It holds numba's compiler lock for its duration,
so no other thread compiles (or types) while numba's method is replaced, and restores it on
exit.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from numba.core import errors, targetconfig, utils
from numba.core.compiler_lock import global_compiler_lock
from numba.core.target_extension import get_local_target

functions: Any = importlib.import_module("numba.core.types.functions")

# sha256 of inspect.getsource(BaseFunction.get_call_type) of the numba versions the copy
# below follows.
_KNOWN = frozenset({"6559c167bfc0ad36ab4af049ed2f2b9ddc28ce1eedbc2e3462b69b62079e850e"})
# The compile flags overloads inherit from their caller (numba.core.cpu's finalize).
_INHERITED = ("nrt", "fastmath", "error_model", "forceinline", "boundscheck", "debuginfo")

_original = functions.BaseFunction.get_call_type
_winners: dict[Any, tuple[type, bool]] | None = None
# Call sites typed from a remembered template, typed by the full loop, typed by numba's own
# method (a call form with an unhashable type).
stats = {"hits": 0, "misses": 0, "unhashable": 0}


@functools.cache
def _source_hash() -> str:
    """sha256 of numba's method's source, read once a process (reading it costs ~2 ms: the
    memo is entered at every model load, cached or not)."""
    try:
        source = inspect.getsource(_original)
    except (OSError, TypeError):
        return ""
    return hashlib.sha256(source.encode()).hexdigest()


def supported() -> bool:
    """True when numba's ``get_call_type`` is the one the memo's copy follows."""
    helpers = ("_ResolutionFailures", "_unlit_non_poison")
    return all(hasattr(functions, name) for name in helpers) and _source_hash() in _KNOWN


def _flags_key() -> Any:
    flags = targetconfig.ConfigStack.top_or_none()
    if flags is None:
        return None
    return tuple(_hashable(getattr(flags, name, None)) for name in _INHERITED)


def _hashable(value: Any) -> Any:
    """``value``, or for numba's fastmath options (a set inside) its flags, frozen."""
    inner = getattr(value, "flags", None)
    if isinstance(inner, (set, frozenset)):
        return (type(value).__name__, frozenset(inner))
    return value


def _get_call_type(self: Any, context: Any, args: Any, kws: Any) -> Any:
    """numba's ``BaseFunction.get_call_type``, trying first the template that matched the same
    call form before (see the module docstring)."""
    winners = _winners
    if winners is None:
        return _original(self, context, args, kws)
    target_hw = get_local_target(context)
    try:
        key = (self, context, target_hw, tuple(args), tuple(kws.items()), _flags_key())
        hash(key)
    except TypeError:  # an unhashable type: type it as numba does
        stats["unhashable"] += 1
        return _original(self, context, args, kws)
    known = winners.get(key)
    if known is not None:
        temp_cls, uselit = known
        temp = temp_cls(context)
        sig = _apply(temp, uselit, args, kws)
        if sig is not None:
            stats["hits"] += 1
            self._impl_keys[sig.args] = temp.get_impl_key(sig)
            return sig
    stats["misses"] += 1
    # numba's loop (numba/core/types/functions.py), recording the template that matched.
    prefer_lit = [True, False]
    prefer_not = [False, True]
    failures = functions._ResolutionFailures(context, self, args, kws, depth=self._depth)
    order = utils.order_by_target_specificity(target_hw, self.templates, fnkey=self.key[0])
    self._depth += 1
    for temp_cls in order:
        temp = temp_cls(context)
        choice = prefer_lit if temp.prefer_literal else prefer_not
        for uselit in choice:
            try:
                if uselit:
                    sig = temp.apply(args, kws)
                else:
                    nolitargs = tuple([functions._unlit_non_poison(a) for a in args])
                    nolitkws = {k: functions._unlit_non_poison(v) for k, v in kws.items()}
                    sig = temp.apply(nolitargs, nolitkws)
            except Exception as e:
                if not isinstance(e, errors.NumbaError):
                    raise e
                sig = None
                failures.add_error(temp, False, e, uselit)
            else:
                if sig is not None:
                    self._impl_keys[sig.args] = temp.get_impl_key(sig)
                    self._depth -= 1
                    winners[key] = (temp_cls, uselit)
                    return sig
                registered_sigs = getattr(temp, "cases", None)
                if registered_sigs is not None:
                    msg = "No match for registered cases:\n%s"
                    msg = msg % "\n".join(f" * {x}" for x in registered_sigs)
                else:
                    msg = "No match."
                failures.add_error(temp, True, msg, uselit)
    failures.raise_error()


def _apply(temp: Any, uselit: bool, args: Any, kws: Any) -> Any:
    """``temp`` applied as numba's loop applies it for ``uselit``; None if it does not match
    (then numba's full loop runs)."""
    try:
        if uselit:
            return temp.apply(args, kws)
        nolitargs = tuple([functions._unlit_non_poison(a) for a in args])
        nolitkws = {k: functions._unlit_non_poison(v) for k, v in kws.items()}
        return temp.apply(nolitargs, nolitkws)
    except errors.NumbaError:
        return None


@contextmanager
def memo() -> Iterator[None]:
    """Within this block, numba's call typing remembers which template matched each call form
    (see the module docstring); nothing when numba's internals differ (:func:`supported`).
    Nested blocks share the outer block's memo."""
    global _winners
    with global_compiler_lock:
        if not supported() or _winners is not None:
            yield
            return
        _winners = {}
        functions.BaseFunction.get_call_type = _get_call_type  # type: ignore[method-assign]
        try:
            yield
        finally:
            functions.BaseFunction.get_call_type = _original  # type: ignore[method-assign]
            _winners = None
