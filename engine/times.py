"""Run times: start, stop, time step and save period, taken from the arguments or the model,
checked, and laid out as the save grid (:class:`RunSettings`).

The run must end exactly at ``stop``, so a step that does not divide the horizon is refused
(PySD and Vensim step on while the time is below FINAL TIME).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .budgets import check_allocation
from .errors import ParameterError, SpecError
from .spec import Model

__all__ = ["RunSettings", "resolve_times", "check_tolerances"]


@dataclass(frozen=True)
class RunSettings:
    """Times of one run: ``n_steps`` steps of ``dt`` from ``start``; outputs are saved at the
    steps flagged in ``save`` (length ``n_steps + 1``)."""

    start: float
    stop: float
    dt: float
    saveper: float
    n_steps: int
    save: np.ndarray

    @property
    def n_save(self) -> int:
        cached: int | None = self.__dict__.get("_n_save")
        if cached is None:  # counted once: ``save`` is never changed after construction
            cached = self.__dict__["_n_save"] = int(self.save.sum())
        return cached

    def save_times(self) -> np.ndarray:
        cached: np.ndarray | None = self.__dict__.get("_times")
        if cached is not None:
            return cached
        steps = np.flatnonzero(self.save)
        times = self.start + self.dt * steps
        decimals = max(0, -int(math.floor(math.log10(self.dt * 1e-5))))
        self.__dict__["_times"] = times = np.round(times, decimals)
        return times


def resolve_times(
    model: Model,
    start: float | None,
    stop: float | None,
    dt: float | None,
    saveper: float | None,
    method: str,
) -> RunSettings:
    """Fill run times from the arguments, else the model's own; check them.

    The run must end exactly at ``stop``: a ``dt`` (for rk45, a ``saveper``) that does not
    divide ``stop - start`` is refused rather than run past ``stop`` (PySD and Vensim step on
    while the time is below FINAL TIME, so stop=1, dt=0.3 would end at 1.2).
    """
    start = _time_value("start", model.start if start is None else start, model)
    stop = _time_value("stop", model.stop if stop is None else stop, model)
    dt = _time_value("dt", model.dt if dt is None else dt, model)
    saveper = _time_value("saveper", saveper, model)
    for role, value in (("start", start), ("stop", stop)):
        if value is None:
            raise SpecError(
                f"model {model.name!r} declares no {role} time; pass {role}=... "
                f"to simulate or declare it in Model({model.name!r}, {role}=...)."
            )
    assert start is not None and stop is not None
    if stop < start:
        raise SpecError(f"stop={stop} is before start={start}; swap them.")
    if dt is None:
        if method != "rk45":
            raise SpecError(
                f"model {model.name!r} declares no time step; pass dt=... "
                "(or use method='rk45', which chooses its own steps)."
            )
        dt = saveper if saveper is not None else model.saveper
        if dt is None:
            dt = (stop - start) / 100.0 if stop > start else 1.0
    if saveper is None:
        saveper = model.saveper if model.saveper is not None else dt
    if dt <= 0:
        raise SpecError(f"dt={dt} must be positive.")
    if saveper <= 0:
        raise SpecError(f"saveper={saveper} must be positive.")
    if method == "rk45":
        n_periods = _whole_steps(start, stop, saveper, "saveper")
        check_allocation(
            f"the {n_periods + 1:,} save times (saveper={saveper:g} from {start:g} to {stop:g})",
            24.0 * (n_periods + 1),
            "choose a larger saveper.",
        )
        return RunSettings(
            float(start),
            float(stop),
            float(saveper),
            float(saveper),
            n_periods,
            np.ones(n_periods + 1, dtype=np.int64),
        )
    ratio = saveper / dt
    save_every = int(round(ratio))
    whole = save_every >= 1 and abs(ratio - save_every) <= 1e-6 * max(1.0, ratio)
    if not whole and model.source == "dsl":
        raise SpecError(
            f"saveper={saveper} is not a whole multiple of dt={dt}; choose a "
            f"saveper of {max(save_every, 1) * dt:g} or a dt dividing it."
        )
    n_steps = _whole_steps(start, stop, dt, "dt")
    check_allocation(
        f"the time grid of {n_steps + 1:,} steps (dt={dt:g} from {start:g} to {stop:g})",
        24.0 * (n_steps + 1),
        "choose a larger dt.",
    )
    steps = np.arange(n_steps + 1)
    if whole:
        save = (steps % save_every == 0).astype(np.int64)
    else:
        # Vensim's rule: save the steps within 1e-5 dt of a multiple of SAVEPER.
        elapsed = steps * dt
        prec = dt * 1e-5
        save = ((np.mod(elapsed, saveper) < prec) | (np.mod(-elapsed, saveper) < prec)).astype(
            np.int64
        )
    return RunSettings(float(start), float(stop), float(dt), float(saveper), n_steps, save)


def _time_value(role: str, value: Any, model: Model) -> float | None:
    """A run time as a float: None stays None; anything but a finite real number is refused."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise SpecError(
            f"{role}={value!r} is not a number; give {role} as a number in the "
            f"model's time unit ({model.time_unit or 'its time unit'})."
        )
    value = float(value)
    if not math.isfinite(value):
        raise SpecError(f"{role}={value} is not a finite number; give a finite {role}.")
    return value


def _whole_steps(start: float, stop: float, step: float, role: str) -> int:
    """The number of ``step``s from ``start`` to ``stop``, which must be whole (within Vensim's
    1e-5 of a step)."""
    ratio = (stop - start) / step
    n = int(round(ratio))
    if abs(ratio - n) <= 1e-5:
        return n
    raise SpecError(
        f"{role}={step:g} does not divide the run from {start:g} to {stop:g} "
        f"({ratio:.6g} steps), so it would end at {start + math.ceil(ratio) * step:g}"
        f", past stop. Choose a {role} that divides {stop - start:g} (e.g. "
        f"{_dividing_step(stop - start, step):.6g}) or "
        f"stop={start + math.floor(ratio) * step:g}."
    )


def _dividing_step(span: float, step: float) -> float:
    """A round step no larger than ``step`` that divides ``span`` (for error messages)."""
    scale = 10.0 ** math.floor(math.log10(step))
    for exponent in range(4):
        for mantissa in (5.0, 2.5, 2.0, 1.0, 0.5, 0.25, 0.2, 0.125):
            candidate = mantissa * scale / 10.0**exponent
            if candidate <= step and abs(span / candidate - round(span / candidate)) <= 1e-9:
                return candidate
    return span / math.ceil(span / step)


def check_seed(seed: Any) -> int:
    """``seed`` as an int: a non-negative integer below 2**53 (it travels in a float64 slot)."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= int(seed) < 2**53
    ):
        raise ParameterError(
            f"seed={seed!r} must be a non-negative integer below 2**53; seeds are always "
            "explicit, so that a run can be repeated."
        )
    return int(seed)


def check_tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    """rtol and atol of the adaptive solver as floats: positive finite numbers (as scipy, an
    rtol below 100 machine epsilons cannot be met in float64)."""
    values = []
    for role, value in (("rtol", rtol), ("atol", atol)):
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ParameterError(
                f"{role}={value!r} must be a positive finite number (rk45's "
                "defaults are rtol=1e-6, atol=1e-9)."
            )
        values.append(float(value))
    floor = 100 * np.finfo(float).eps
    if values[0] < floor:
        raise ParameterError(
            f"rtol={rtol!r} is below what float64 can resolve; give rtol={floor:.1e} or more."
        )
    return values[0], values[1]
