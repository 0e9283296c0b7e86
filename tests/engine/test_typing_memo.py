"""The memo of numba's call typing used while compiling generated modules
(:mod:`engine.compiler.typing_memo`): same types and results as numba's own typing, numba's
method restored afterwards, nothing done when numba's internals differ."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from numba.core import errors
from numba.core.types import functions

from engine.compiler import typing_memo


def _body(x, y, n):
    # Call forms repeated across call sites (the memo's hits) and a few distinct ones.
    s = 0.0
    for i in range(n):
        s += x[i] * y[i] + np.exp(-x[i]) - min(x[i], y[i]) + math.sqrt(abs(y[i]))
        s += max(x[i] * 2.0, y[i] * 0.5) + np.minimum(x[i], 1.0) + int(n > i) * 0.25
    return s + x.sum() + np.maximum(s, 0.0)


def _typed(function):
    """The typemap and call types of ``function``'s one compiled signature, as text."""
    (overload,) = function.overloads.values()
    annotation = overload.type_annotation
    typemap = sorted((str(k), str(v)) for k, v in annotation.typemap.items())
    calltypes = sorted(str(v) for v in annotation.calltypes.values())
    return typemap, calltypes


def test_memo_types_and_computes_as_numba_does():
    x = np.linspace(-2.0, 3.0, 17)
    y = np.cos(x) + 1.5
    plain = njit(_body)
    expected = plain(x, y, 17)
    memoised = njit(_body)
    before = dict(typing_memo.stats)
    with typing_memo.memo():
        assert functions.BaseFunction.get_call_type is typing_memo._get_call_type
        got = memoised(x, y, 17)
    assert typing_memo.stats["hits"] > before["hits"]  # call forms were reused
    assert typing_memo.stats["unhashable"] == before["unhashable"]
    assert functions.BaseFunction.get_call_type is typing_memo._original
    assert got == expected  # bit for bit
    assert _typed(memoised) == _typed(plain)


def test_memo_reports_typing_errors_as_numba_does():
    def bad(x):
        return np.exp(x, x, x, x)

    with pytest.raises(errors.TypingError) as plain:
        njit(bad)(1.0)
    with typing_memo.memo(), pytest.raises(errors.TypingError) as memoised:
        njit(bad)(1.0)
    assert "np.exp" in str(plain.value) or "exp" in str(plain.value)
    assert str(memoised.value).split("\n")[0] == str(plain.value).split("\n")[0]
    assert functions.BaseFunction.get_call_type is typing_memo._original


def test_memo_restores_numba_after_an_error():
    with pytest.raises(RuntimeError), typing_memo.memo():
        raise RuntimeError("boom")
    assert functions.BaseFunction.get_call_type is typing_memo._original
    assert typing_memo._winners is None


def test_memo_does_nothing_with_other_numba_internals(monkeypatch):
    monkeypatch.setattr(typing_memo, "_KNOWN", frozenset({"not numba's source"}))
    assert not typing_memo.supported()
    x = np.arange(5.0)
    expected = njit(_body)(x, x + 1.0, 5)
    before = dict(typing_memo.stats)
    with typing_memo.memo():
        assert functions.BaseFunction.get_call_type is typing_memo._original
        assert njit(_body)(x, x + 1.0, 5) == expected
    assert typing_memo.stats == before
    assert functions.BaseFunction.get_call_type is typing_memo._original
