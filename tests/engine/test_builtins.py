"""The table of builtin functions: every function in it parses and compiles, and the parser,
graph, compiler and Vensim front-end read it rather than lists of their own."""

from __future__ import annotations

import re

import numpy as np
import pytest

import engine
from engine import equations, graph, kernels
from engine.builtins import ALIASES, BUILTINS, names
from engine.compiler import expressions
from engine.spec.lowering import _Lowering
from engine.vensim import expressions as front_end

# Arguments that make sense for every builtin: a value in (0, 1) that moves with time, a
# delay time, an order (a whole number) or a table.
_X = "0.5 + 0.1 * time"
_ARGUMENTS = {
    "lookup_extrapolate": ["table", "time"],
    "smooth_n": [_X, "2", "1", "2"],
    "delay_n": [_X, "2", "1", "2"],
    "delay_n_lagged": [_X, "2", "1", "2"],
    "random_normal": ["0", "1", _X, "0.1", "0"],
    "random_exponential": ["0", "5", _X, "1", "0"],
    "random_poisson": ["0", "10", "2", _X, "1", "0"],
    "ar1": [_X, "0.1", "0.5"],
}


def _calls() -> list[tuple[str, str]]:
    calls = []
    for b in BUILTINS.values():
        if b.over_range:  # Vensim's allocations: test_vensim_allocation.py
            continue
        for count in sorted({b.min_args, b.max_args}):
            args = _ARGUMENTS.get(b.name, [_X, "2", "3", "4"][:count])
            calls.append((f"{b.name}_{count}", f"{b.name}({', '.join(args[:count])})"))
    return calls


def test_every_builtin_parses_compiles_and_runs():
    m = engine.Model("builtins", time_unit="year", start=0, stop=3, dt=0.5)
    m.lookup("table", [(0.0, 1.0), (1.0, 2.0)])
    for name, equation in _calls():
        m.aux(name, equation)
    ds = engine.simulate(m)
    for name, _ in _calls():
        assert name in ds and ds[name].sizes["time"] == 7
    assert np.isfinite(ds["exp_1"]).all()
    # beyond the table's end (x = 1) the line goes on: 1 + 3 at time 3
    assert float(ds["lookup_extrapolate_2"][-1]) == pytest.approx(4.0)


def test_a_function_over_a_range_is_refused_outside_a_vensim_model():
    """Vensim's allocations read their request over a whole range and the element's position
    from a hidden variable, which only engine.vensim writes."""
    for name in names(over_range=True):
        m = engine.Model("allocation", time_unit="year", start=0, stop=1, dt=1)
        m.dimension("region", ["a", "b"])
        m.param("x", [1.0, 2.0], dims=("region",))
        args = ", ".join(["x[region]"] * BUILTINS[name].min_args)
        m.aux("share", f"{name}({args})", dims=("region",))
        with pytest.raises(engine.SpecError, match=r"'share'.*read from a Vensim model only"):
            engine.simulate(m)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_parser_takes_the_arity_of_the_table(name):
    b = BUILTINS[name]
    args = ["x"] * b.min_args
    assert equations.parse(f"{name}({', '.join(args)})") == equations.Call(
        name, tuple(equations.Ref("x") for _ in args)
    )
    with pytest.raises(engine.SpecError, match="arguments"):
        equations.parse(f"{name}({', '.join(['x'] * (b.max_args + 1))})")


def test_the_readers_agree_with_the_table():
    """Nothing listed in one place only: each reader's set is a view of engine.builtins."""
    assert set(equations.FUNCTIONS) | set(equations.STATEFUL_FUNCTIONS) == set(BUILTINS)
    assert set(equations.STATEFUL_FUNCTIONS) == names(memory=True)
    assert {n: (b.min_args, b.max_args) for n, b in BUILTINS.items()} == {
        **equations.FUNCTIONS,
        **equations.STATEFUL_FUNCTIONS,
    }
    assert equations._ALIASES is ALIASES
    assert graph._TIME_FUNCTIONS == names(timed=True)
    assert front_end._SAME == names(vensim=True) and front_end._SAME <= set(BUILTINS)
    # the compiler: a code template or a rule of its own for every function without memory
    own = {n for n, b in BUILTINS.items() if b.code is None and not b.memory}
    assert own == expressions._OWN_RULES
    assert not hasattr(expressions, "_FUNCS_1") and not hasattr(expressions, "_FUNCS_N")
    # spec lowers every function with memory
    for name in names(memory=True):
        assert callable(getattr(_Lowering, f"lower_{name}", None)), name
    # helpers called by generated code are the shared kernels'
    for b in BUILTINS.values():
        for helper in re.findall(r"\b(_\w+)\(", b.code or ""):
            assert helper in kernels.NAMES, (b.name, helper)
