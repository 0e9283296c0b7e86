"""Changes to a model's content, tracked so that its content hash is made once per state.

Every change of a model part (an attribute of a :class:`~engine.spec.Model`, a
:class:`~engine.spec.Variable`, a :class:`~engine.spec.Piece` or a
:class:`~engine.spec.CohortShift`; an item put in or taken out of their lists and dicts)
replaces one process-wide token. :meth:`Model.content_hash` keeps the text of a model's
structure with the token it was made under and makes it again only when the token changed,
so a simulate loop over an unchanged model does not re-hash it, and a changed model is never
served a kernel or a prepared run of its old content (the security issue's rule). Parameter
values and lookup tables are arrays that may be written in place: they are hashed on every
call (their bytes, which is cheap), not tracked.

The token is an object compared by identity, never a number: a kept token copied into
another process (a pickled model) can never equal that process's current one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, SupportsIndex, TypeVar

__all__ = ["changed", "token", "TrackedList", "TrackedDict", "tracked"]

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")

_TOKEN: list[object] = [object()]


def changed() -> None:
    """Record that some model's content changed: every kept hash is made again."""
    _TOKEN[0] = object()


def token() -> object:
    """The current token (the same object until the next :func:`changed`)."""
    return _TOKEN[0]


class TrackedList(list[_T]):
    """A list whose changes call :func:`changed` (a model's pieces, flows, shifts...)."""

    __slots__ = ()

    def __setitem__(self, index: Any, value: Any) -> None:
        changed()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        changed()
        super().__delitem__(index)

    def __iadd__(self, values: Iterable[_T]) -> TrackedList[_T]:  # type: ignore[override,misc]
        changed()
        super().__iadd__(values)
        return self

    def __imul__(self, count: SupportsIndex) -> TrackedList[_T]:
        changed()
        super().__imul__(count)
        return self

    def append(self, value: _T) -> None:
        changed()
        super().append(value)

    def extend(self, values: Iterable[_T]) -> None:
        changed()
        super().extend(values)

    def insert(self, index: SupportsIndex, value: _T) -> None:
        changed()
        super().insert(index, value)

    def remove(self, value: _T) -> None:
        changed()
        super().remove(value)

    def pop(self, index: SupportsIndex = -1) -> _T:
        changed()
        return super().pop(index)

    def clear(self) -> None:
        changed()
        super().clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        changed()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        changed()
        super().reverse()


class TrackedDict(dict[_K, _V]):
    """A dict whose changes call :func:`changed` (a model's variables, dims, controls...)."""

    __slots__ = ()

    def __setitem__(self, key: _K, value: _V) -> None:
        changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: _K) -> None:
        changed()
        super().__delitem__(key)

    def __ior__(self, other: Any) -> TrackedDict[_K, _V]:  # type: ignore[override,misc]
        changed()
        super().__ior__(other)
        return self

    def pop(self, *args: Any) -> Any:
        changed()
        return super().pop(*args)

    def popitem(self) -> tuple[_K, _V]:
        changed()
        return super().popitem()

    def clear(self) -> None:
        changed()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        changed()
        super().update(*args, **kwargs)

    def setdefault(self, key: _K, default: Any = None) -> Any:
        changed()
        return super().setdefault(key, default)


def tracked(value: Any) -> Any:
    """``value`` as a tracked container if it is a plain list or dict (a copy: changes made
    later through the caller's own list are not the model's), else ``value`` itself."""
    if isinstance(value, (TrackedList, TrackedDict)):
        return value
    if isinstance(value, list):
        return TrackedList(value)
    if isinstance(value, dict):
        return TrackedDict(value)
    return value
