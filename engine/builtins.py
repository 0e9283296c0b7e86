"""Builtin functions: the one table that the parser, graph, compiler and Vensim front-end read.

Each :class:`Builtin` says how many arguments a function takes, whether its value moves with
time when its arguments do not, whether it keeps state between steps, how it is compiled and
whether PySD's Vensim/XMILE translator names it the same. The readers:

- :mod:`engine.equations` accepts a call by its name and arity (``FUNCTIONS``,
  ``STATEFUL_FUNCTIONS`` are views of this table);
- :mod:`engine.spec.lowering` lowers a function with ``memory`` into hidden stocks and slots (its
  ``_Lowering.lower_<name>``);
- :mod:`engine.graph` treats a ``timed`` function as a dependence on time (so a variable calling
  it is not a constant);
- :mod:`engine.compiler` writes ``code`` with the arguments' code in place of each ``{}``
  (missing optional arguments take ``defaults``); a function without ``code`` and without
  memory has a rule of its own there (``if_then_else``, the draws of :data:`RANDOM`,
  ``lookup_extrapolate``, ``allocate_by_priority``, ``allocate_available``);
- :mod:`engine.vensim.expressions` maps a PySD call of a ``vensim`` function onto the same name.

Helpers called by ``code`` (``_step``, ``_xidz``...) are defined once in :mod:`engine.kernels`.
``elmcount``, the reductions (``sum``, ``prod``, ``vmin``, ``vmax``) and lookup tables called
by name are syntax of their own, not functions of this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Builtin", "BUILTINS", "ALIASES", "RANDOM", "PROCESS_STEPS", "names"]


@dataclass(frozen=True)
class Builtin:
    """One builtin function.

    Attributes
    ----------
    name : str
        The name in equations (lower case, words joined by ``_``).
    min_args, max_args : int
        How many arguments it takes.
    code : str or None
        Generated code, one ``{}`` per argument; None when the compiler has a rule of its own
        or the function has ``memory``.
    defaults : tuple of str
        Code of the optional arguments (``max_args - min_args`` of them) when left out.
    timed : bool
        Its value changes with time even when its arguments do not (it reads ``t``).
    memory : bool
        It keeps state between steps; :mod:`engine.spec.lowering` lowers it into hidden stocks.
    vensim : bool
        PySD's translator calls it by this name with the same arguments.
    over_range : bool
        It reads its first arguments over a whole subscript range and its last argument is the
        element's position there, a hidden variable only :mod:`engine.vensim` writes (Vensim's
        allocations); the compiler refuses it in other models.
    """

    name: str
    min_args: int
    max_args: int
    code: str | None = None
    defaults: tuple[str, ...] = ()
    timed: bool = False
    memory: bool = False
    vensim: bool = False
    over_range: bool = False


def _f(
    name: str,
    args: int | tuple[int, int],
    code: str | None = None,
    defaults: tuple[str, ...] = (),
    *,
    timed: bool = False,
    memory: bool = False,
    vensim: bool = False,
    over_range: bool = False,
) -> Builtin:
    low, high = (args, args) if isinstance(args, int) else args
    return Builtin(name, low, high, code, defaults, timed, memory, vensim, over_range)


_TABLE = [
    # choice
    _f("if_then_else", 3, vensim=True),
    # arithmetic
    _f("min", 2, "min({}, {})", vensim=True),
    _f("max", 2, "max({}, {})", vensim=True),
    _f("abs", 1, "abs({})", vensim=True),
    _f("exp", 1, "np.exp({})", vensim=True),
    _f("ln", 1, "np.log({})", vensim=True),
    _f("log", 2, "(np.log({}) / np.log({}))", vensim=True),
    _f("log10", 1, "np.log10({})"),
    _f("sqrt", 1, "np.sqrt({})", vensim=True),
    _f("power", 2, "({} ** {})", vensim=True),
    _f("sin", 1, "np.sin({})", vensim=True),
    _f("cos", 1, "np.cos({})", vensim=True),
    _f("tan", 1, "np.tan({})", vensim=True),
    _f("arcsin", 1, "np.arcsin({})", vensim=True),
    _f("arccos", 1, "np.arccos({})", vensim=True),
    _f("arctan", 1, "np.arctan({})", vensim=True),
    _f("sinh", 1, "np.sinh({})", vensim=True),
    _f("cosh", 1, "np.cosh({})", vensim=True),
    _f("tanh", 1, "np.tanh({})", vensim=True),
    _f("integer", 1, "_integer({})", vensim=True),
    _f("modulo", 2, "_modulo({}, {})", vensim=True),
    _f("quantum", 2, "_quantum({}, {})", vensim=True),
    _f("sign", 1, "np.sign({})"),
    _f("xidz", 3, "_xidz({}, {}, {})", vensim=True),
    _f("zidz", 2, "_zidz({}, {})", vensim=True),
    # time
    _f("step", 2, "_step(t, h, {}, {})", timed=True, vensim=True),
    _f("ramp", (2, 3), "_ramp(t, {}, {}, {})", ("np.inf",), timed=True, vensim=True),
    _f("pulse", (1, 2), "_pulse(t, h, {}, {})", ("0.0",), timed=True, vensim=True),
    # PySD gives PULSE TRAIN's arguments in another order: engine.vensim maps it itself.
    _f("pulse_train", 4, "_pulse_train(t, h, {}, {}, {}, {})", timed=True),
    # a table called beyond its ends: a rule in engine.compiler
    _f("lookup_extrapolate", 2),
    _f("time_step", 0, "h"),
    # allocation over the last subscript of the request: a rule in engine.compiler; its
    # last argument is the element's position (a hidden variable engine.vensim adds)
    _f("allocate_by_priority", 5, over_range=True),
    _f("allocate_available", 7, over_range=True),
    # counter-based draws (engine.kernels: Philox4x64-10) keyed by the run's seed, the member,
    # the time, the call site and the element: a rule in engine.compiler. Vensim's semantics:
    # a new draw each time step, truncated to [min, max].
    _f("random_uniform", 3, timed=True, vensim=True),
    _f("random_0_1", 0, timed=True, vensim=True),
    _f("random_normal", 5, timed=True, vensim=True),
    _f("random_exponential", 5, timed=True, vensim=True),
    _f("random_poisson", 6, timed=True, vensim=True),
    _f("standard_normal", 0, timed=True),
    # a chi-square of real degrees of freedom (Marsaglia & Tsang's gamma): with a standard
    # normal, a Student t; initial(chi_square(nu)) once per run, a Student-t process's scale
    _f("chi_square", 1, timed=True),
    # processes: lowered by engine.spec into a hidden stock stepped by ar1_step / walk_step
    _f("ar1", (3, 4), memory=True),
    _f("random_walk", 1, memory=True),
    _f("ar1_step", 4, timed=True),
    _f("walk_step", 2, timed=True),
    # memory: lowered by engine.spec into hidden stocks and slots
    _f("smooth", (2, 3), memory=True),
    _f("smoothi", 3, memory=True),
    _f("smooth3", (2, 3), memory=True),
    _f("smooth3i", 3, memory=True),
    _f("smooth_n", 4, memory=True),
    _f("delay1", (2, 3), memory=True),
    _f("delay1i", 3, memory=True),
    _f("delay3", (2, 3), memory=True),
    _f("delay3i", 3, memory=True),
    _f("delay_n", 4, memory=True),
    _f("delay_fixed", 3, memory=True),
    _f("delay_n_lagged", 4, memory=True),
    _f("trend", 3, memory=True),
    _f("forecast", 3, memory=True),
    _f("initial", 1, memory=True),
    _f("sample_if_true", 3, memory=True),
]
#: Every builtin by name.
BUILTINS: dict[str, Builtin] = {b.name: b for b in _TABLE}
#: Functions that draw random numbers (compiled by engine.compiler's rule for draws).
RANDOM = frozenset(
    {
        "random_uniform",
        "random_0_1",
        "random_normal",
        "random_exponential",
        "random_poisson",
        "standard_normal",
        "chi_square",
        "ar1_step",
        "walk_step",
    }
)
#: The steps of processes (ar1, random_walk), which need fixed Euler steps.
PROCESS_STEPS = frozenset({"ar1_step", "walk_step"})
#: Other spellings the parser accepts (Vensim's and Python's names).
ALIASES = {
    "int": "integer",
    "mod": "modulo",
    "log_e": "ln",
    "delay": "delay3",
    "if": "if_then_else",
    "where": "if_then_else",
    "smooth1": "smooth",
}


def names(
    *,
    timed: bool | None = None,
    memory: bool | None = None,
    vensim: bool | None = None,
    over_range: bool | None = None,
) -> frozenset[str]:
    """Names of the builtins with the given properties (None: either)."""
    return frozenset(
        b.name
        for b in _TABLE
        if (timed is None or b.timed == timed)
        and (memory is None or b.memory == memory)
        and (vensim is None or b.vensim == vensim)
        and (over_range is None or b.over_range == over_range)
    )


def _check() -> None:
    for b in _TABLE:
        assert 0 <= b.min_args <= b.max_args, b
        assert len(b.defaults) == (b.max_args - b.min_args if b.code else 0), b
        assert b.code is None or b.code.count("{}") == b.max_args, b
        assert not (b.memory and b.code), b
        assert not (b.over_range and (b.code or b.memory)), b
    assert len(BUILTINS) == len(_TABLE)
    assert RANDOM <= set(BUILTINS) and all(BUILTINS[n].timed for n in RANDOM)
    assert not set(ALIASES) & set(BUILTINS) and set(ALIASES.values()) <= set(BUILTINS)


_check()
