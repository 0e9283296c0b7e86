"""A property: on generated arithmetic, the engine computes what PySD computes.

Expressions over the operators and functions both support (``+ - * / ^``, unary minus,
comparisons inside IF THEN ELSE, ABS, MIN, MAX, SQRT, EXP, LN, INTEGER), written with and
without parentheses so that precedence and grouping (``a^b^c``, ``-a^b``, ``a - b - c``) are
exercised, in one Vensim model per example, run by both (PySD is the reference).
Denominators and the arguments of SQRT and LN are kept positive, so both stay finite.
"""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

from hypothesis import HealthCheck, given, settings  # noqa: E402

from engine.testing import assert_frames_close  # noqa: E402
from tests.engine.test_vensim import run_both, write_mdl  # noqa: E402

LEAVES = st.sampled_from(["Time", "a", "b", "c", "0.5", "2", "3", "1.25"])
SMALL = st.sampled_from(["0.5", "2", "1.5", "a", "0.25"])  # a = 1.5


def positive(text: str) -> str:
    return f"(ABS({text}) + 1)"


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(LEAVES)
    kind = draw(st.sampled_from(["+", "-", "*", "/", "^", "neg", "fn", "if", "chain"]))
    left = draw(expressions(depth + 1))
    wrap = draw(st.booleans())
    shown = f"({left})" if wrap else left
    if kind in ("+", "-", "*"):
        right = draw(expressions(depth + 1))
        right = f"({right})" if draw(st.booleans()) else right
        return f"{shown} {kind} {right}"
    if kind == "/":
        return f"{shown} / {positive(draw(expressions(depth + 1)))}"
    if kind == "^":  # a positive base, a small exponent, grouped or not
        exponent = draw(SMALL)
        if draw(st.booleans()):
            return f"{positive(left)} ^ {exponent} ^ {draw(SMALL)}"
        return f"{positive(left)} ^ {exponent}"
    if kind == "neg":
        return f"-{draw(SMALL)} ^ 2 + {shown}" if draw(st.booleans()) else f"-({left})"
    if kind == "fn":
        fn = draw(st.sampled_from(["ABS", "MIN", "MAX", "SQRT", "EXP", "LN", "INTEGER"]))
        if fn in ("MIN", "MAX"):
            return f"{fn}({left}, {draw(expressions(depth + 1))})"
        if fn in ("SQRT", "LN"):
            return f"{fn}({positive(left)})"
        if fn == "EXP":
            return f"EXP(MIN({left}, 5))"
        return f"{fn}({left})"
    if kind == "if":
        op = draw(st.sampled_from(["<", ">", "=", "<>", "<=", ">="]))
        other = draw(expressions(depth + 1))
        return f"IF THEN ELSE({left} {op} {other}, {other}, {left})"
    # a chain of one precedence level, left to right: a - b - c, a / b / c
    op = draw(st.sampled_from(["-", "/"]))
    terms = [left, *draw(st.lists(LEAVES, min_size=2, max_size=3))]
    if op == "/":
        return " / ".join([terms[0], *(positive(t) for t in terms[1:])])
    return " - ".join(terms)


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(expressions(), min_size=3, max_size=6))
def test_engine_computes_what_pysd_computes(tmp_path, texts):
    equations = "a = 1.5 | b = -2 | c = 3 |\n" + "\n".join(
        f"e{k} = {text} |" for k, text in enumerate(texts)
    )
    path = write_mdl(tmp_path / "arithmetic.mdl", equations, final=3, dt=0.5)
    ours, reference = run_both(path)
    columns = [f"e{k}" for k in range(len(texts))]
    assert_frames_close(ours, reference, rtol=1e-9, atol=1e-9, columns=columns)
