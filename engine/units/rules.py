"""Each builtin function's units rule, beside the table of builtins
(:data:`engine.builtins.BUILTINS`): how its result's units follow from its arguments'."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UnitsRule", "UNITS_RULES"]


@dataclass(frozen=True)
class UnitsRule:
    """How a builtin function's units follow from its arguments' (by argument position).

    ``result`` is ``"agreed"`` (the units the ``agree`` arguments share), ``"dimensionless"``,
    ``"time"`` (the model's time unit), ``"per_time"`` (its inverse), ``"times_time"`` (the
    first argument times the time unit), ``"ratio"`` (first / second), ``"sqrt"``, ``"power"``
    (first to the constant second) or ``"table"`` (the declared units of the lookup table given
    as first argument). ``agree`` arguments must share units, ``time`` ones be in the time
    unit, ``dimensionless`` ones be dimensionless, ``as_result`` ones have the result's units.
    """

    result: str
    agree: tuple[int, ...] = ()
    time: tuple[int, ...] = ()
    dimensionless: tuple[int, ...] = ()
    as_result: tuple[int, ...] = ()


_SAME = UnitsRule("agreed", agree=(0,))
_PURE = UnitsRule("dimensionless", dimensionless=(0,))
_SMOOTH = UnitsRule("agreed", agree=(0, 2), time=(1,), dimensionless=(3,))

#: The units rule of every builtin of :data:`engine.builtins.BUILTINS`, by name.
UNITS_RULES: dict[str, UnitsRule] = {
    "if_then_else": UnitsRule("agreed", agree=(1, 2)),
    "min": UnitsRule("agreed", agree=(0, 1)),
    "max": UnitsRule("agreed", agree=(0, 1)),
    "abs": _SAME,
    "integer": _SAME,
    "sign": UnitsRule("dimensionless"),
    "exp": _PURE,
    "ln": _PURE,
    "log": UnitsRule("dimensionless", dimensionless=(0, 1)),
    "log10": _PURE,
    "sin": _PURE,
    "cos": _PURE,
    "tan": _PURE,
    "arcsin": _PURE,
    "arccos": _PURE,
    "arctan": _PURE,
    "sinh": _PURE,
    "cosh": _PURE,
    "tanh": _PURE,
    "sqrt": UnitsRule("sqrt"),
    "power": UnitsRule("power"),
    "modulo": UnitsRule("agreed", agree=(0, 1)),
    "quantum": UnitsRule("agreed", agree=(0, 1)),
    "xidz": UnitsRule("ratio", as_result=(2,)),
    "zidz": UnitsRule("ratio"),
    "step": UnitsRule("agreed", agree=(0,), time=(1,)),
    "ramp": UnitsRule("times_time", time=(1, 2)),
    "pulse": UnitsRule("dimensionless", time=(0, 1)),
    "pulse_train": UnitsRule("dimensionless", time=(0, 1, 2, 3)),
    "lookup_extrapolate": UnitsRule("table"),
    "time_step": UnitsRule("time"),
    "allocate_by_priority": UnitsRule("agreed", agree=(0, 3), dimensionless=(4,)),
    "allocate_available": UnitsRule("agreed", agree=(0, 5), dimensionless=(1, 6)),
    "random_uniform": UnitsRule("agreed", agree=(0, 1)),
    "random_0_1": UnitsRule("dimensionless"),
    "random_normal": UnitsRule("agreed", agree=(0, 1, 2, 3)),
    "random_exponential": UnitsRule("agreed", agree=(0, 1, 2, 3)),
    "random_poisson": UnitsRule("agreed", agree=(0, 1, 3, 4), dimensionless=(2,)),
    "standard_normal": UnitsRule("dimensionless"),
    "chi_square": _PURE,
    "ar1": UnitsRule("agreed", agree=(0, 1, 3), dimensionless=(2,)),
    # (the scale is in the walk's units: its spread after one time unit)
    "random_walk": _SAME,
    "ar1_step": UnitsRule("agreed", agree=(0, 1, 2), dimensionless=(3,)),
    "walk_step": UnitsRule("agreed", agree=(0, 1)),
    "smooth": _SMOOTH,
    "smoothi": _SMOOTH,
    "smooth3": _SMOOTH,
    "smooth3i": _SMOOTH,
    "smooth_n": _SMOOTH,
    "delay1": _SMOOTH,
    "delay1i": _SMOOTH,
    "delay3": _SMOOTH,
    "delay3i": _SMOOTH,
    "delay_n": _SMOOTH,
    "delay_n_lagged": _SMOOTH,
    "delay_fixed": _SMOOTH,
    "trend": UnitsRule("per_time", time=(1,), as_result=(2,)),
    "forecast": UnitsRule("agreed", agree=(0,), time=(1, 2)),
    "initial": _SAME,
    # the input and the initial value agree; the condition is read as true or false
    "sample_if_true": UnitsRule("agreed", agree=(1, 2)),
}
