"""simulate: run one model once and return a labelled xarray Dataset."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import solvers
from .budgets import check_allocation
from .compiler import CompiledModel, compile_model, discrete_state
from .errors import IntegrationError, ParameterError, SpecError, suggest
from .spec import Model

__all__ = ["simulate", "compiled", "RunSettings", "resolve_times", "parameter_vector",
           "output_layout"]


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
        return int(self.save.sum())

    def save_times(self) -> np.ndarray:
        cached: np.ndarray | None = self.__dict__.get("_times")
        if cached is not None:
            return cached
        steps = np.flatnonzero(self.save)
        times = self.start + self.dt * steps
        decimals = max(0, -int(math.floor(math.log10(self.dt * 1e-5))))
        self.__dict__["_times"] = times = np.round(times, decimals)
        return times


def compiled(model: Model, method: str | None = "euler") -> CompiledModel:
    """The compiled kernels of ``model`` (compiled on first use, then reused).

    ``method`` names the solver compiled eagerly; None compiles at first call."""
    cache = getattr(model, "_compiled_cache", None)
    revision = _revision(model)
    if cache is not None and cache[0] == revision:
        result: CompiledModel = cache[1]
        if method is not None and method not in cache[2]:
            compile_warm(result, method)
            cache[2].add(method)
        return result
    result = compile_model(model, method=method)
    model._compiled_cache = (revision, result, {method})  # type: ignore[attr-defined]
    return result


def compile_warm(result: CompiledModel, method: str) -> None:
    from .compiler import _warm

    _warm(result, method)


def _revision(model: Model) -> str:
    # Everything that changes the numbers: a parameter's value or an equation changed after a
    # run must be compiled (or at least given its new parameter vector) again.
    return model.content_hash()


def resolve_times(model: Model, start: float | None, stop: float | None, dt: float | None,
                  saveper: float | None, method: str) -> RunSettings:
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
            raise SpecError(f"model {model.name!r} declares no {role} time; pass {role}=... "
                            f"to simulate or declare it in Model({model.name!r}, {role}=...).")
    assert start is not None and stop is not None
    if stop < start:
        raise SpecError(f"stop={stop} is before start={start}; swap them.")
    if dt is None:
        if method != "rk45":
            raise SpecError(f"model {model.name!r} declares no time step; pass dt=... "
                            "(or use method='rk45', which chooses its own steps).")
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
        check_allocation(f"the {n_periods + 1:,} save times (saveper={saveper:g} from "
                         f"{start:g} to {stop:g})", 24.0 * (n_periods + 1),
                         "choose a larger saveper.")
        return RunSettings(float(start), float(stop), float(saveper), float(saveper),
                           n_periods, np.ones(n_periods + 1, dtype=np.int64))
    ratio = saveper / dt
    save_every = int(round(ratio))
    whole = save_every >= 1 and abs(ratio - save_every) <= 1e-6 * max(1.0, ratio)
    if not whole and model.source == "dsl":
        raise SpecError(f"saveper={saveper} is not a whole multiple of dt={dt}; choose a "
                        f"saveper of {max(save_every, 1) * dt:g} or a dt dividing it.")
    n_steps = _whole_steps(start, stop, dt, "dt")
    check_allocation(f"the time grid of {n_steps + 1:,} steps (dt={dt:g} from {start:g} to "
                     f"{stop:g})", 24.0 * (n_steps + 1), "choose a larger dt.")
    steps = np.arange(n_steps + 1)
    if whole:
        save = (steps % save_every == 0).astype(np.int64)
    else:
        # Vensim's rule: save the steps within 1e-5 dt of a multiple of SAVEPER.
        elapsed = steps * dt
        prec = dt * 1e-5
        save = ((np.mod(elapsed, saveper) < prec) | (np.mod(-elapsed, saveper) < prec)
                ).astype(np.int64)
    return RunSettings(float(start), float(stop), float(dt), float(saveper), n_steps, save)


def _time_value(role: str, value: Any, model: Model) -> float | None:
    """A run time as a float: None stays None; anything but a finite real number is refused."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise SpecError(f"{role}={value!r} is not a number; give {role} as a number in the "
                        f"model's time unit ({model.time_unit or 'its time unit'}).")
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
    raise SpecError(f"{role}={step:g} does not divide the run from {start:g} to {stop:g} "
                    f"({ratio:.6g} steps), so it would end at {start + math.ceil(ratio) * step:g}"
                    f", past stop. Choose a {role} that divides {stop - start:g} (e.g. "
                    f"{_dividing_step(stop - start, step):.6g}) or "
                    f"stop={start + math.floor(ratio) * step:g}.")


def _dividing_step(span: float, step: float) -> float:
    """A round step no larger than ``step`` that divides ``span`` (for error messages)."""
    scale = 10.0 ** math.floor(math.log10(step))
    for exponent in range(4):
        for mantissa in (5.0, 2.5, 2.0, 1.0, 0.5, 0.25, 0.2, 0.125):
            candidate = mantissa * scale / 10.0 ** exponent
            if candidate <= step and abs(span / candidate - round(span / candidate)) <= 1e-9:
                return candidate
    return span / math.ceil(span / step)


def check_tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    """rtol and atol of the adaptive solver as floats: positive finite numbers (as scipy, an
    rtol below 100 machine epsilons cannot be met in float64)."""
    values = []
    for role, value in (("rtol", rtol), ("atol", atol)):
        if (isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not math.isfinite(value) or value <= 0):
            raise ParameterError(f"{role}={value!r} must be a positive finite number (rk45's "
                                 "defaults are rtol=1e-6, atol=1e-9).")
        values.append(float(value))
    floor = 100 * np.finfo(float).eps
    if values[0] < floor:
        raise ParameterError(f"rtol={rtol!r} is below what float64 can resolve; give "
                             f"rtol={floor:.1e} or more.")
    return values[0], values[1]


def parameter_vector(result: CompiledModel, params: Mapping[str, Any] | None,
                     settings: RunSettings | None = None) -> np.ndarray:
    """The parameter vector for one run: defaults, then ``params`` overrides (checked)."""
    p = result.p0.copy()
    model = result.model
    if settings is not None:
        _set_controls(result, p, settings)
    if params is None:
        return p
    if not isinstance(params, Mapping):
        raise ParameterError(f"params must be a mapping from parameter name to value, e.g. "
                             f"{{'k': 0.5}}; got a {type(params).__name__}.")
    for name, value in params.items():
        var = model.variables.get(name)
        if var is None or var.kind != "param":
            known = [v.name for v in model.variables.values() if v.kind == "param"]
            why = (f"{name!r} is a {var.kind}, not a parameter" if var is not None
                   else f"unknown parameter {name!r}")
            raise ParameterError(f"{why} of model {model.name!r}." + suggest(name, known))
        slot = result.plan.slots[name]
        try:
            if isinstance(value, (str, bytes)):
                raise TypeError
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {name!r}: value {value!r} is not a number (or an "
                                 f"array of numbers of shape {slot.shape}).") from None
        if array.ndim == 0:
            array = np.full(slot.shape, float(array))
        if array.shape != slot.shape:
            raise ParameterError(f"parameter {name!r} has shape {slot.shape} (dims {var.dims}); "
                                 f"the value given has shape {array.shape}.")
        low, high = var.bounds
        if not np.all(np.isfinite(array)):
            raise ParameterError(f"parameter {name!r}: value must be finite, got {value!r}.")
        if (low is not None and np.any(array < low)) or (high is not None
                                                         and np.any(array > high)):
            raise ParameterError(f"parameter {name!r}: value {array.tolist()} is outside its "
                                 f"bounds [{low}, {high}].")
        p[slot.offset: slot.offset + slot.size] = array.ravel()
    return p


def _set_controls(result: CompiledModel, p: np.ndarray, settings: RunSettings) -> None:
    model = result.model
    values = {"start": settings.start, "stop": settings.stop, "dt": settings.dt,
              "saveper": settings.saveper}
    for role, name in model.control.items():
        slot = result.plan.slots.get(name)
        if slot is not None and slot.array == "p":
            p[slot.offset] = values[role]
    for k, shift in enumerate(model.shifts):
        steps = shift.every / settings.dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise SpecError(f"cohort shift of {shift.stock!r} every {shift.every} needs a dt "
                            f"that divides it; dt={settings.dt} does not.")
        p[result.controls[f"_shift{k}"]] = round(steps)


def output_layout(result: CompiledModel, outputs: Sequence[str] | None
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names of the output variables, and per output column the array kind and index."""
    model = result.model
    cache = result.__dict__.setdefault("_layouts", {})
    if outputs is not None and not isinstance(outputs, str) and not isinstance(outputs,
                                                                                Sequence):
        raise SpecError(f"outputs must be a list of variable names; got {outputs!r}.")
    key = None if outputs is None else (outputs,) if isinstance(outputs, str) else tuple(
        str(o) if not isinstance(o, str) else o for o in outputs)
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    if outputs is None:
        names = [v.name for v in model.variables.values()
                 if not v.hidden and v.kind not in ("lookup",)]
    else:
        if isinstance(outputs, str):
            outputs = [outputs]
        names = []
        for name in outputs:
            if not isinstance(name, str):
                raise SpecError(f"outputs must be variable names (strings); got {name!r}.")
            var = model.variables.get(name)
            if var is None or var.hidden:
                raise SpecError(f"unknown output {name!r} of model {model.name!r}."
                                + suggest(name, [v.name for v in model.variables.values()
                                                 if not v.hidden]))
            if var.kind == "lookup":
                raise SpecError(f"{name!r} is a lookup table, not an output; output a variable "
                                "that calls it.")
            names.append(name)
    kinds: list[int] = []
    idx: list[int] = []
    code = {"y": 0, "a": 1, "p": 2}
    for name in names:
        slot = result.plan.slots[name]
        if slot.array == "p":
            continue
        allowed = 3 if _may_be_missing(model.variables[name]) else 0
        kinds += [code[slot.array] + allowed] * slot.size
        idx += range(slot.offset, slot.offset + slot.size)
    layout = (names, np.array(kinds, dtype=np.int64), np.array(idx, dtype=np.int64))
    cache[key] = layout
    return layout


def _may_be_missing(var: Any) -> bool:
    """A variable whose equation holds an explicit missing value (Vensim's :NA:) may be NaN."""
    from .equations import Num, walk

    for piece in var.pieces + (var.init_pieces or []):
        if any(isinstance(n, Num) and math.isnan(n.value) for n in walk(piece.expr)):
            return True
    return False


def output_runs(kinds: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The output columns as contiguous copy runs: rows of (kind, source offset, first
    column, length), which the kernels copy block by block."""
    key = (kinds.tobytes(), idx.tobytes())
    runs = _RUNS.get(key)
    if runs is not None:
        return runs
    rows: list[list[int]] = []
    for column, (kind, index) in enumerate(zip(kinds.tolist(), idx.tolist())):
        if rows and rows[-1][0] == kind and rows[-1][1] + rows[-1][3] == index:
            rows[-1][3] += 1
        else:
            rows.append([kind, index, column, 1])
    runs = np.array(rows, dtype=np.int64).reshape(len(rows), 4)
    if len(_RUNS) > 256:
        _RUNS.clear()
    _RUNS[key] = runs
    return runs


_RUNS: dict[tuple[bytes, bytes], np.ndarray] = {}


def simulate(model: Model, *, start: float | None = None, stop: float | None = None,
             dt: float | None = None, saveper: float | None = None, method: str = "euler",
             params: Mapping[str, Any] | None = None, outputs: Sequence[str] | None = None,
             rtol: float = 1e-6, atol: float = 1e-9) -> xr.Dataset:
    """Run ``model`` once and return its trajectory as an :class:`xarray.Dataset`.

    Parameters
    ----------
    model : Model
        A model from the DSL or :func:`engine.load`.
    start, stop, dt, saveper : float, optional
        Run times; default to the model's own (Vensim's INITIAL TIME, FINAL TIME, TIME STEP,
        SAVEPER). ``saveper`` defaults to ``dt``.
    method : {"euler", "rk4", "rk45"}
        Euler with Vensim semantics, classical RK4, or adaptive Dormand-Prince 5(4).
    params : mapping, optional
        Parameter overrides by name (scalars broadcast over a parameter's dims).
    outputs : sequence of str, optional
        Variables to return (default: every named variable).
    rtol, atol : float
        Tolerances of ``rk45``.

    Returns
    -------
    xarray.Dataset
        Dims ``time`` and the model's own; coordinates are element names; each variable
        carries ``units`` and ``doc`` attrs. Parameters appear without a ``time`` dim.

    Raises
    ------
    SpecError, ParameterError, IntegrationError

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="year")
    >>> m.param("k", 0.5)
    >>> m.stock("x", initial=1.0)
    >>> m.flow("loss", "k * x", out_of="x")
    >>> ds = engine.simulate(m, start=0, stop=2, dt=0.5)
    >>> float(ds["x"].sel(time=2.0))
    0.31640625
    """
    if method not in solvers.METHODS:
        raise SpecError(f"unknown method {method!r}; choose one of {', '.join(solvers.METHODS)}.")
    rtol, atol = check_tolerances(rtol, atol)
    if model.dynamic_control:
        return _simulate_dynamic(model, start, stop, dt, saveper, method, params, outputs)
    result = compiled(model, method)
    if method == "rk45" and result.discrete:
        raise SpecError(f"model {model.name!r} has discrete updates (fixed delays or cohort "
                        "shifts), which need fixed steps; use method='euler' or 'rk4'.")
    known = result.__dict__.setdefault("_settings", {})
    key = (start, stop, dt, saveper, method, model.start, model.stop, model.dt, model.saveper)
    try:
        settings = known.get(key)
    except TypeError:  # an unhashable time: resolve_times names it
        settings = None
    if settings is None:
        settings = known[key] = resolve_times(model, start, stop, dt, saveper, method)
    p = parameter_vector(result, params, settings)
    names, kinds, idx = output_layout(result, outputs)
    data, info = run_kernel(result, p, settings, kinds, idx, method, rtol, atol,
                            first_step=dt if dt is not None else model.dt)
    check_status(result, info, kinds, idx)
    return build_dataset(result, names, data, p, settings.save_times())


def run_kernel(result: CompiledModel, p: np.ndarray, settings: RunSettings, kinds: np.ndarray,
               idx: np.ndarray, method: str, rtol: float = 1e-6, atol: float = 1e-9,
               first_step: float | None = None, check_every_step: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    sizes = result.plan.sizes
    y = np.zeros(sizes["y"])
    a = np.zeros(sizes["a"])
    check_allocation(f"the output of {result.model.name!r} ({settings.n_save:,} save times x "
                     f"{kinds.shape[0]:,} columns)", 8.0 * settings.n_save * kinds.shape[0],
                     "choose fewer outputs (outputs=[...]) or a larger saveper.")
    z = discrete_state(result, settings.n_steps)
    out = np.empty((settings.n_save, kinds.shape[0]))
    info = np.zeros(8)
    info[2], info[3] = rtol, atol
    info[4] = first_step or 0.0
    info[6] = float(check_every_step)
    with np.errstate(all="ignore"):
        status = result.runner(method)(p, y, a, z, settings.start, settings.dt,
                                       settings.n_steps, settings.save,
                                       output_runs(kinds, idx), out,
                                       info)
    if status == solvers.NONFINITE_STATE and method == "euler" and not check_every_step:
        # Found after the fact (see run_euler): run again checking every step, to name the
        # exact time.
        return run_kernel(result, p, settings, kinds, idx, method, rtol, atol, first_step,
                          check_every_step=True)
    info[7] = status
    return out, info


def _simulate_dynamic(model: Model, start: float | None, stop: float | None, dt: float | None,
                      saveper: float | None, method: str, params: Mapping[str, Any] | None,
                      outputs: Sequence[str] | None) -> xr.Dataset:
    """Run a model whose run settings are equations (re-evaluated every step)."""
    if any(v is not None for v in (start, stop, dt, saveper)) or method != "euler":
        raise SpecError(f"model {model.name!r} computes its own run settings during the run "
                        f"({', '.join(model.control.values())}); run it with its own settings "
                        "and method='euler', or make them constants in the model.")
    result = compiled(model, None)
    assert model.start is not None
    p = parameter_vector(result, params)
    names, kinds, idx = output_layout(result, outputs)
    rows = 1024
    while True:
        y = np.zeros(result.plan.sizes["y"])
        a = np.zeros(result.plan.sizes["a"])
        z = discrete_state(result, 0)
        out = np.empty((rows, kinds.shape[0]))
        times = np.empty(rows)
        info = np.zeros(8)
        with np.errstate(all="ignore"):
            status = result.module.run_euler_dynamic(p, y, a, z, float(model.start),
                                                     output_runs(kinds, idx),
                                                     out, times, info)
        if status != solvers.OUT_OF_ROOM:
            break
        rows *= 4
    info[7] = status
    check_status(result, info, kinds, idx)
    count = int(info[5])
    return build_dataset(result, names, out[:count], p, np.round(times[:count], 10))


def run_members(result: CompiledModel, P: np.ndarray, settings: RunSettings,
                kinds: np.ndarray, idx: np.ndarray, method: str = "euler", rtol: float = 1e-6,
                atol: float = 1e-9, first_step: float | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Run one chunk of ensemble members in parallel (numba prange over members).

    ``P`` holds one full parameter vector per row (see :func:`parameter_vector`). Returns
    ``out`` (members x save times x output columns) and ``info`` (members x 8; column 7 is the
    member's status code, see :mod:`engine.solvers`, columns 0-1 the time and slot at fault).
    """
    P = np.ascontiguousarray(P, dtype=float)
    members = P.shape[0]
    check_allocation(f"the output block of {members:,} members ({settings.n_save:,} save times "
                     f"x {kinds.shape[0]:,} columns)",
                     8.0 * members * settings.n_save * kinds.shape[0],
                     "choose a smaller chunk_size, fewer outputs or a larger saveper.")
    out = np.empty((members, settings.n_save, kinds.shape[0]))
    info = np.zeros((members, 8))
    info[:, 2], info[:, 3] = rtol, atol
    info[:, 4] = first_step or 0.0
    z = discrete_state(result, settings.n_steps)
    kernel = getattr(result.module, f"run_members_{method}")
    with np.errstate(all="ignore"):
        kernel(P, settings.start, settings.dt, settings.n_steps, settings.save,
               output_runs(kinds, idx), out, info, z.shape[0], z[0])
    return out, info


def check_status(result: CompiledModel, info: np.ndarray, kinds: np.ndarray,
                 idx: np.ndarray, member: int | None = None) -> None:
    status = int(info[7])
    if status == solvers.OK:
        return
    t = float(info[0])
    who = "" if member is None else f" (member {member})"
    if status == solvers.NONFINITE_STATE:
        name = element_name(result, "y", int(info[1]))
        raise IntegrationError(f"stock {name!r} became non-finite at time {t:g}{who}. Check "
                               "the flows into it for division by zero or overflow, or use "
                               "a smaller dt.", variable=name, time=t, member=member)
    if status == solvers.NONFINITE_OUTPUT:
        column = int(info[1])
        array = {0: "y", 1: "a", 2: "p"}[int(kinds[column]) % 3]
        name = element_name(result, array, int(idx[column]))
        raise IntegrationError(f"{name!r} is non-finite at time {t:g}{who}. Check its equation "
                               "for division by zero, log of a non-positive number or "
                               "overflow.", variable=name, time=t, member=member)
    if status == solvers.TOO_MANY_STEPS:
        raise IntegrationError(f"the adaptive solver took more than 10,000,000 steps before "
                               f"time {t:g}{who}; the model may be stiff or oscillate fast: "
                               "loosen rtol/atol, or use method='euler' or 'rk4' with a small "
                               "dt.", time=t, member=member)
    raise IntegrationError(f"the adaptive solver's step fell below 1e-12 at time {t:g}{who} "
                           "with every value finite: the model may be stiff, have a "
                           "discontinuity there or grow without bound; loosen rtol/atol, or use "
                           "method='euler' or 'rk4' with a small dt.", time=t, member=member)


def element_name(result: CompiledModel, array: str, index: int) -> str:
    """``name[element,...]`` of the value at ``array[index]``."""
    model = result.model
    for name, slot in result.plan.slots.items():
        if slot.array == array and slot.offset <= index < slot.offset + slot.size:
            var = model.variables[name]
            shown = name.split("~")[0]
            if not slot.shape:
                return shown
            position = np.unravel_index(index - slot.offset, slot.shape)
            labels = [model.dims[d].elements[i] for d, i in zip(var.dims, position)]
            return f"{shown}[{','.join(labels)}]"
    return f"{array}[{index}]"


def build_dataset(result: CompiledModel, names: list[str], data: np.ndarray, p: np.ndarray,
                  times: np.ndarray) -> xr.Dataset:
    model = result.model
    variables: dict[str, xr.Variable] = {}
    column = 0
    n_time = data.shape[0]
    used_dims: set[str] = set()
    for name in names:
        var = model.variables[name]
        slot = result.plan.slots[name]
        attrs = {"units": var.units, "doc": var.doc, "kind": var.kind}
        used_dims.update(var.dims)
        if slot.array == "p":
            values = p[slot.offset: slot.offset + slot.size].reshape(slot.shape)
            variables[name] = xr.Variable(var.dims, values.copy(), attrs)
            continue
        block = data[:, column: column + slot.size]
        column += slot.size
        variables[name] = xr.Variable(("time", *var.dims), block.reshape((n_time, *slot.shape)),
                                      attrs)
    coords = {"time": xr.Variable("time", times, {"units": model.time_unit})}
    for dim in model.dims:
        if dim in used_dims:
            coords[dim] = xr.Variable(dim, np.array(model.dims[dim].elements, dtype=object))
    attrs = {"model": model.name, "time_unit": model.time_unit}
    return dataset(variables, coords, attrs)


def dataset(variables: dict[str, xr.Variable], coords: dict[str, xr.Variable],
            attrs: dict[str, Any]) -> xr.Dataset:
    """``xr.Dataset(variables, coords=coords, attrs=attrs)`` for variables known to be aligned.

    The public constructor merges and aligns its inputs, which costs ~0.3 ms even for a tiny
    model, more than the simulation itself; here every variable is built on the same
    coordinates, so the Dataset is assembled directly from indexed coordinates. Falls back to
    the public constructor if xarray's internals change.
    """
    try:
        from xarray.core.indexes import PandasIndex

        indexes: dict[Any, Any] = {}
        everything = dict(variables)
        for name, coord in coords.items():
            index = PandasIndex(pd.Index(coord.values), name)
            indexes[name] = index
            everything[name] = index.create_variables({name: coord})[name]
        sizes: dict[Any, int] = {}
        for var in everything.values():
            sizes.update(zip(var.dims, var.shape))
        return xr.Dataset._construct_direct(everything, set(coords), sizes, attrs, indexes)
    except Exception:  # pragma: no cover - depends on xarray's private API
        return xr.Dataset(variables, coords=coords, attrs=attrs)
