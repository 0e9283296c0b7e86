"""simulate, and the prepared run it stands on.

A :class:`Runner` puts a run together once, as diffrax's ``diffeqsolve`` puts together term,
solver, step-size controller and save points: the compiled kernels, the times, the output
columns and the default parameter vector. :func:`simulate`, the ensembles, calibration and the
benchmarks all run through it. A kernel returns a :class:`engine.solvers.Status`;
:func:`check_status` is the one place it becomes an exception.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import solvers
from .budgets import check_allocation
from .compiler import CompiledModel, compile_model, discrete_state
from .compiler.layout import columns, copy_runs, default_outputs
from .compiler.loading import Memo
from .equations import Ref, walk
from .errors import IntegrationError, ParameterError, SpecError, suggest
from .frame import Frame
from .solvers import Info, Status
from .spec import Model
from .times import RunSettings, check_seed, check_tolerances, resolve_times

__all__ = [
    "simulate",
    "Runner",
    "compiled",
    "RunSettings",
    "resolve_times",
    "parameter_vector",
    "output_layout",
    "check_status",
]


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


def parameter_vector(
    result: CompiledModel, params: Mapping[str, Any] | None, settings: RunSettings | None = None
) -> np.ndarray:
    """The parameter vector for one run: defaults, then ``params`` overrides (checked)."""
    p = result.p0.copy()
    if settings is not None:
        _set_controls(result, p, settings)
    return _override(result, p, params)


def _override(result: CompiledModel, p: np.ndarray, params: Mapping[str, Any] | None) -> np.ndarray:
    """``p`` with the values of ``params`` written in, each checked by
    :meth:`Model.parameter_value` (the checks of :meth:`Model.set_value`)."""
    if params is None:
        return p
    if not isinstance(params, Mapping):
        raise ParameterError(
            f"params must be a mapping from parameter name to value, e.g. "
            f"{{'k': 0.5}}; got a {type(params).__name__}."
        )
    model = result.model
    for name, value in params.items():
        array = model.parameter_value(name, value)
        slot = result.plan.slots[name]
        p[slot.offset : slot.offset + slot.size] = array.ravel()
    return p


def _set_controls(result: CompiledModel, p: np.ndarray, settings: RunSettings) -> None:
    model = result.model
    values = {
        "start": settings.start,
        "stop": settings.stop,
        "dt": settings.dt,
        "saveper": settings.saveper,
    }
    for role, name in model.control.items():
        slot = result.plan.slots.get(name)
        if slot is not None and slot.array == "p":
            p[slot.offset] = values[role]
    for k, shift in enumerate(model.shifts):
        steps = shift.every / settings.dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise SpecError(
                f"cohort shift of {shift.stock!r} every {shift.every} needs a dt "
                f"that divides it; dt={settings.dt} does not."
            )
        p[result.controls[f"_shift{k}"]] = round(steps)


def output_layout(
    result: CompiledModel, outputs: Sequence[str] | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names of the output variables, and per output column the array kind and index."""
    model = result.model
    if outputs is not None and not isinstance(outputs, str) and not isinstance(outputs, Sequence):
        raise SpecError(f"outputs must be a list of variable names; got {outputs!r}.")
    key = (
        None
        if outputs is None
        else (outputs,)
        if isinstance(outputs, str)
        else tuple(str(o) if not isinstance(o, str) else o for o in outputs)
    )
    found = result.layouts.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    if outputs is None:
        names = default_outputs(model)
    else:
        if isinstance(outputs, str):
            outputs = [outputs]
        names = []
        for name in outputs:
            if not isinstance(name, str):
                raise SpecError(f"outputs must be variable names (strings); got {name!r}.")
            var = model.variables.get(name)
            if var is None or var.hidden:
                raise SpecError(
                    f"unknown output {name!r} of model {model.name!r}."
                    + suggest(name, [v.name for v in model.variables.values() if not v.hidden])
                )
            if var.kind == "lookup":
                raise SpecError(
                    f"{name!r} is a lookup table, not an output; output a variable that calls it."
                )
            names.append(name)
    kinds, idx = columns(result.plan, names)
    layout = (names, kinds, idx)
    return result.layouts.put(key, layout)  # type: ignore[no-any-return]


def output_flags(
    result: CompiledModel, kinds: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The flags of a run saving the columns ``kinds``, ``idx`` (see :func:`output_layout`):
    (slots of ``p``, values). Each block of output-only code (variables no stock rate needs)
    runs under a flag of its own (:mod:`engine.compiler`), 1.0 when the run saves one of its
    variables or a variable that reads one of them (at any remove), else 0.0, so that a run
    saving a few outputs does not compute the others at every save time."""
    key = (kinds.tobytes(), idx.tobytes())
    found = result.flags.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    needs = {
        name[len("_need:") :]: slot
        for name, slot in result.controls.items()
        if name.startswith("_need:")
    }
    saved = np.sort(idx[kinds % 3 == 1])
    stack = []
    for name in needs:
        slot = result.plan.slots[name]
        first = np.searchsorted(saved, slot.offset)
        if first < saved.size and saved[first] < slot.offset + slot.size:
            stack.append(name)
    needed: set[str] = set()
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        for piece in result.model.variables[name].pieces:
            stack.extend(n.name for n in walk(piece.expr) if isinstance(n, Ref) and n.name in needs)
    slots = np.array(sorted(set(needs.values())), dtype=np.int64)
    on = {needs[name] for name in needed}
    values = np.array([1.0 if k in on else 0.0 for k in slots.tolist()])
    return result.flags.put(key, (slots, values))  # type: ignore[no-any-return]


def output_runs(kinds: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The output columns as contiguous copy runs: rows of (kind, source offset, first
    column, length), which the kernels copy block by block."""
    key = (kinds.tobytes(), idx.tobytes())
    found = _RUNS.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    runs = copy_runs(kinds, idx)
    return _RUNS.put(key, runs)  # type: ignore[no-any-return]


_RUNS = Memo(256)  # by the columns' kinds and indices


class Runner:
    """A run prepared once and run many times: model, times, method and outputs put together.

    Preparing compiles the model (or takes it from the caches), resolves and checks the run
    times, lays out the output columns and builds the default parameter vector; each run then
    only writes its parameter overrides and calls the kernel. :func:`simulate` is
    ``Runner(model, ...).run(params)``; ensembles and :func:`engine.calibrate` run through a
    Runner too.

    Parameters
    ----------
    model : Model
        A model from the DSL or :func:`engine.load`.
    start, stop, dt, saveper, method, outputs, rtol, atol
        As for :func:`simulate`.
    first_step : float, optional
        rk45's first step: by default ``dt`` (else the model's time step); 0 starts with the
        save period.

    Attributes
    ----------
    model : Model
    method : str
    settings : RunSettings or None
        The run's times and save steps (None for a model whose run settings are equations,
        whose times are known only after a run).
    names : list of str
        The output variables.
    times : numpy.ndarray or None
        The save times (rows of :meth:`run_arrays`).
    base : numpy.ndarray
        The default parameter vector (see :meth:`parameters`).

    Notes
    -----
    A Runner is a snapshot of the model as it was when prepared: a later
    :meth:`Model.set_value` or new equation is not seen by it (prepare a new one; vary values
    between runs with ``params``). Each run returns a new output array, so results of earlier
    runs are never overwritten; its work arrays come from a pool of the Runner's own, one run
    at a time each, so a Runner may be shared between threads.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="year")
    >>> _ = m.param("k", 0.5)
    >>> _ = m.stock("x", initial=1.0)
    >>> _ = m.flow("loss", "k * x", out_of="x")
    >>> runner = engine.Runner(m, start=0, stop=2, dt=0.5, outputs=["x"])
    >>> float(runner.run({"k": 0.5})["x"].sel(time=2.0))
    0.31640625
    >>> runner.run_arrays({"k": 1.0})[:, 0].tolist()
    [1.0, 0.5, 0.25, 0.125, 0.0625]
    """

    def __init__(
        self,
        model: Model,
        *,
        start: float | None = None,
        stop: float | None = None,
        dt: float | None = None,
        saveper: float | None = None,
        method: str = "euler",
        outputs: Sequence[str] | None = None,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        first_step: float | None = None,
    ) -> None:
        if method not in solvers.METHODS:
            raise SpecError(
                f"unknown method {method!r}; choose one of {', '.join(solvers.METHODS)}."
            )
        self.rtol, self.atol = check_tolerances(rtol, atol)
        self.model = model
        self.method = method
        self.settings: RunSettings | None
        if model.dynamic_control:
            if any(v is not None for v in (start, stop, dt, saveper)) or method != "euler":
                raise SpecError(
                    f"model {model.name!r} computes its own run settings during the "
                    f"run ({', '.join(model.control.values())}); run it with its "
                    "own settings and method='euler', or make them constants in "
                    "the model."
                )
            result = compiled(model, None)
            self.settings = None
        else:
            result = compiled(model, method)
            result.check_method(method)
            self.settings = _known_settings(result, start, stop, dt, saveper, method)
        self._result: CompiledModel | None = result
        self.base = parameter_vector(result, None, self.settings)
        if first_step is None:
            first_step = dt if dt is not None else model.dt
        self.first_step = float(first_step or 0.0)
        self.names, self.kinds, self.idx = output_layout(result, outputs)
        self._prepare_output()

    def _prepare_output(self) -> None:
        self._frame: Frame | None = None  # the run's Dataset but its values, made on first run
        # A run's work arrays, made on first run (see _take): the solver kernel, the scratch
        # sets free for a run, the values a set starts each run from, the output's shape
        self._kernel: Any = None
        self._pool: list[tuple[Any, ...]] = []
        self._start: memoryview | None = None
        self._call_args: tuple[Any, ...] = ()
        self._runs = output_runs(self.kinds, self.idx)
        # the output-only code this run's outputs need (output_flags), written into base
        self._flags = output_flags(self.result, self.kinds, self.idx)
        self._flag_items = tuple(zip(self._flags[0].tolist(), self._flags[1].tolist()))
        self.base = self._flagged(self.base)
        self._shape = self.base.shape  # a run's vector's shape (compared in _vector)
        settings = self.settings
        self.times = None if settings is None else settings.save_times()
        if settings is not None:
            check_allocation(
                f"the output of {self.model.name!r} ({settings.n_save:,} save times "
                f"x {self.kinds.shape[0]:,} columns)",
                8.0 * settings.n_save * self.kinds.shape[0],
                "choose fewer outputs (outputs=[...]) or a larger saveper.",
            )

    def _replace(
        self,
        *,
        settings: RunSettings | None = None,
        columns: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Runner:
        """A copy saving at other steps (``settings``, same times and step) or other output
        columns (``columns``: array kinds and indices, as :func:`output_layout` gives)."""
        clone = copy.copy(self)
        if settings is not None:
            clone.settings = settings
        if columns is not None:
            clone.kinds, clone.idx = columns
            clone.names = []
        clone._prepare_output()
        return clone

    # A Runner travels to dask workers as its configuration; each process compiles (or loads
    # from the disk cache) its kernels once per model hash.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_result"] = None
        state["_frame"] = None
        state["_kernel"], state["_pool"], state["_start"], state["_call_args"] = None, [], None, ()
        state["model"] = _portable(self.model)
        return state

    @property
    def result(self) -> CompiledModel:
        """The compiled model."""
        if self._result is None:
            self._result = _process_compiled(self.model, self.method)
        return self._result

    def parameters(self, params: Mapping[str, Any] | np.ndarray | None = None) -> np.ndarray:
        """The full parameter vector of a run: the defaults with ``params`` written in.

        ``params`` maps parameter names to values (checked as :meth:`Model.set_value` checks
        them); a vector from this method is taken as it is (not copied).
        """
        if params is None:
            return self.base.copy()
        return self._vector(params)

    def _vector(self, params: Mapping[str, Any] | np.ndarray | None) -> np.ndarray:
        """:meth:`parameters` for one run: the defaults themselves when nothing is overridden
        (the kernels only read ``p``, and :func:`build_dataset` copies what it shows)."""
        if params is None:
            return self.base
        if (  # the common case first, in a few cheap checks: a vector from parameters()
            params.__class__ is np.ndarray
            and params.dtype is _FLOAT64
            and params.shape == self._shape
            and params.flags.c_contiguous
            and not self._flag_items
        ):
            return params
        if isinstance(params, np.ndarray):
            if params.shape != self.base.shape or params.dtype != np.float64:
                raise ParameterError(
                    f"a parameter vector of model {self.model.name!r} is "
                    f"float64 of shape {self.base.shape}; got {params.dtype} "
                    f"of shape {params.shape}. Give params as a mapping."
                )
            if not params.flags.c_contiguous:  # the kernel is called for contiguous vectors
                params = params.copy()
            return self._flagged(params)
        return _override(self.result, self.base.copy(), params)

    def _flagged(self, P: np.ndarray) -> np.ndarray:
        """``P`` (a parameter vector, or one a row) with this run's output flags
        (:func:`output_flags`): itself when they are already set (a vector from
        :meth:`parameters`), else a copy with them set (a vector made for other outputs)."""
        slots, values = self._flags
        if not self._flag_items:
            return P
        if P.ndim == 1:  # one run: a few scalar reads (numpy's calls cost microseconds)
            if all(P.item(k) == v for k, v in self._flag_items):
                return P
        elif bool(np.all(P[..., slots] == values)):
            return P
        P = P.copy()
        P[..., slots] = values
        return P

    def run(self, params: Mapping[str, Any] | np.ndarray | None = None) -> xr.Dataset:
        """Run once and return the :class:`xarray.Dataset` that :func:`simulate` returns.

        Raises
        ------
        ParameterError, IntegrationError
        """
        p = self._vector(params)
        if self.times is None:
            data, times = self._run_dynamic(p)
        else:
            data, times = self._run_checked(p), self.times
        frame = self._frame
        if frame is None:
            frame = self._frame = Frame(self.result, self.names)
        ds = frame.dataset(data, p, times)
        # the model's own attributes (its scenario): not part of the content hash, so taken
        # from this Runner's model, not from the compiled model shared by content
        ds.attrs.update(getattr(self.model, "attrs", {}) or {})
        return ds

    def run_arrays(self, params: Mapping[str, Any] | np.ndarray | None = None) -> np.ndarray:
        """Run once and return the outputs as an array: one row per save time
        (:attr:`times`), one column per output element (the variables of :attr:`names` in
        order, each flattened in C order; parameters have no column).

        Raises
        ------
        ParameterError, IntegrationError
        """
        if self.settings is None:
            raise SpecError(
                f"model {self.model.name!r} computes its run settings during the "
                "run, so its save times are known only after it: use run()."
            )
        return self._run_checked(self._vector(params))

    def run_members(
        self, rows: np.ndarray, block: int | None = None, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run one chunk of ensemble members in parallel (numba ``prange`` over members).

        ``rows`` holds one full parameter vector per member (see :meth:`parameters`). Returns
        ``out`` (members x save times x output columns) and ``info`` (members x
        :attr:`Info.SIZE <engine.solvers.Info>`): column ``Info.STATUS`` is the member's
        :class:`~engine.solvers.Status`, ``Info.TIME`` and ``Info.INDEX`` when and where it
        failed (pass a row to :meth:`check` for the exception). Failed members are not raised.
        ``block``: at most this many members a kernel call (each call fills its rows of
        ``out`` in place; a member's values do not depend on its call), default all at once.
        ``out``: an array to write the output block into (members x save times x output
        columns, float64, C order; e.g. one buffer reused across an ensemble's chunks, so its
        memory is touched once), default a new one. Every value of a member that runs to the
        end is written; a failed member's values after its failure are left as they were.
        """
        settings = self.settings
        if settings is None:
            raise SpecError(
                f"model {self.model.name!r} computes its run settings during the "
                "run; ensembles need constant run settings."
            )
        P = self._flagged(np.ascontiguousarray(rows, dtype=float))
        members = P.shape[0]
        check_allocation(
            f"the output block of {members:,} members ({settings.n_save:,} save "
            f"times x {self.kinds.shape[0]:,} columns)",
            8.0 * members * settings.n_save * self.kinds.shape[0],
            "choose a smaller chunk_size, fewer outputs or a larger saveper.",
        )
        result = self.result
        shape = (members, settings.n_save, self.kinds.shape[0])
        if out is None:
            out = np.empty(shape)
        elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(
                f"run_members: out must be a C-ordered float64 array of shape {shape}; "
                f"got {out.dtype} {out.shape}."
            )
        info = np.zeros((members, Info.SIZE))
        info[:, Info.RTOL], info[:, Info.ATOL] = self.rtol, self.atol
        info[:, Info.STEPS] = self.first_step
        kernel = result.members(self.method)
        z = discrete_state(result, settings.n_steps)  # the kernel takes its size and capacity
        step = members if block is None else max(1, int(block))
        for first in range(0, members, step):
            last = min(members, first + step)
            with np.errstate(all="ignore"):
                kernel(
                    P[first:last],
                    settings.start,
                    settings.dt,
                    settings.n_steps,
                    settings.save,
                    self._runs,
                    out[first:last],
                    info[first:last],
                    z.shape[0],
                    z[0],
                )
        return out, info

    def check(self, info: np.ndarray, member: int | None = None) -> None:
        """Raise :class:`engine.IntegrationError` if ``info`` (a run's, or a member's row)
        holds a failure (see :func:`check_status`)."""
        check_status(self.result, info, self.kinds, self.idx, member)

    def _run_checked(self, p: np.ndarray) -> np.ndarray:
        """One run's output (a new array), the run's failure raised (:func:`check_status`).

        The work arrays ``y``, ``a``, ``z`` and ``info`` are views of one scratch buffer,
        made once and reused: each run takes a buffer from this Runner's pool (``list.pop``
        and ``append`` are atomic, so threads sharing a Runner never share a buffer; a
        thread finding the pool empty makes one), restores it to the run's starting values in
        one copy (zeros; ``z[0]`` the delay pipelines' capacity, :func:`discrete_state`;
        ``info``'s inputs), and calls the kernel. Without ``np.errstate``: the kernels are
        numba code, which never consults numpy's floating-point error state.
        """
        pool = self._pool
        try:
            scratch = pool.pop()
        except IndexError:
            scratch = self._scratch()
        try:  # the call written out: a run's Python is most of a small model's run
            raw, y, a, z, info = scratch
            raw[:] = self._start  # memoryviews of bytes: ~0.1 us (a numpy copy ~0.45 us)
            shape, start, dt, n_steps, save, runs = self._call_args
            out = np.empty(shape)
            status = self._kernel(p, y, a, z, start, dt, n_steps, save, runs, out, info)
            if status != 0:  # Status.OK: the checks and messages only for a failed run
                out = self._failed(p, scratch, out, status)
        finally:
            if len(pool) < _POOLED:
                pool.append(scratch)
        return out

    def _call_checking_every_step(
        self, p: np.ndarray, scratch: tuple[Any, ...], out: np.ndarray
    ) -> int:
        """The kernel run once on ``scratch`` restored to its starting values, checking the
        stocks at every step (a failed Euler run made again; :meth:`_run_checked` makes the
        plain call itself, written out on the hot path)."""
        raw, y, a, z, info = scratch
        raw[:] = self._start
        info[Info.CHECK_EVERY_STEP] = 1.0
        _, start, dt, n_steps, save, runs = self._call_args
        status: int = self._kernel(p, y, a, z, start, dt, n_steps, save, runs, out, info)
        return status

    def _scratch(self) -> tuple[Any, ...]:
        """A new scratch buffer (its bytes) and its views y, a, z, info; on first use also the
        kernel, the buffer's starting values (their bytes) and the kernel's other arguments."""
        settings = self.settings
        assert settings is not None
        result = self.result
        sizes = result.plan.sizes
        z0 = discrete_state(result, settings.n_steps)
        parts = (Info.SIZE, z0.shape[0], sizes["y"], sizes["a"])
        bounds = np.cumsum((0,) + parts).tolist()
        if self._start is None:
            start = np.zeros(bounds[-1])
            info = start[: Info.SIZE]
            info[Info.RTOL], info[Info.ATOL] = self.rtol, self.atol
            info[Info.STEPS] = self.first_step
            start[bounds[1] : bounds[2]] = z0
            self._call_args = (
                (settings.n_save, self.kinds.shape[0]),
                float(settings.start),
                float(settings.dt),
                int(settings.n_steps),
                settings.save,
                self._runs,
            )
            self._kernel = _entry_point(
                result.runner(self.method), self.base, start, self._call_args
            )
            self._start = start.data.cast("B")
        buffer = np.frombuffer(self._start, dtype=np.float64).copy()
        info, z, y, a = (buffer[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:]))
        return buffer.data.cast("B"), y, a, z, info

    def _failed(
        self, p: np.ndarray, scratch: tuple[Any, ...], out: np.ndarray, status: int
    ) -> np.ndarray:
        """A run that returned ``status`` (not OK): raised by :func:`check_status`. Euler finds a
        non-finite stock after the fact (see ``run_euler``): the run is made again checking
        every step, to name the exact time."""
        if status == Status.NONFINITE_STATE and self.method == "euler":
            out = np.empty(self._call_args[0])
            status = self._call_checking_every_step(p, scratch, out)
        info = scratch[4].copy()
        info[Info.CHECK_EVERY_STEP] = 0.0
        info[Info.STATUS] = status
        check_status(self.result, info, self.kinds, self.idx)
        return out

    def _run_dynamic(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run a model whose run settings are equations (re-evaluated every step)."""
        result = self.result
        model = self.model
        assert model.start is not None
        rows = 1024
        while True:
            y = np.zeros(result.plan.sizes["y"])
            a = np.zeros(result.plan.sizes["a"])
            z = discrete_state(result, 0)
            out = np.empty((rows, self.kinds.shape[0]))
            times = np.empty(rows)
            info = np.zeros(Info.SIZE)
            with np.errstate(all="ignore"):
                status = result.module.run_euler_dynamic(
                    p, y, a, z, float(model.start), self._runs, out, times, info
                )
            if status != Status.OUT_OF_ROOM:
                break
            rows *= 4
        info[Info.STATUS] = status
        check_status(result, info, self.kinds, self.idx)
        count = int(info[Info.ROWS])
        return out[:count], np.round(times[:count], 10)


def _entry_point(kernel: Any, p: np.ndarray, buffer: np.ndarray, args: tuple[Any, ...]) -> Any:
    """The compiled function behind the numba dispatcher ``kernel`` for the argument types of
    :meth:`Runner._run_checked` (``p`` a C-contiguous float64 vector, the work arrays views of the
    float64 ``buffer``): the same machine code, called without the dispatcher's choice of
    overload by the types of eleven arguments (~0.5 us a call). Every argument of a Runner's
    call has these types (:meth:`Runner._vector` makes ``p`` contiguous; a read-only ``p``
    is read alike, the kernels never write it); ``kernel`` itself for anything else (a
    wrapper, a numba without ``Dispatcher.compile``)."""
    shape, start, dt, n_steps, save, runs = args
    # the types that may differ between Runners of one kernel (numba's typeof costs ~10 us)
    key = (save.dtype.str, save.ndim, runs.dtype.str, runs.ndim)
    try:
        known = _ENTRIES[kernel].get(key)
    except (KeyError, TypeError):  # not yet, or not weakly referable
        known = None
    if known is not None:
        return known
    try:
        from numba import typeof

        view = buffer[:1]
        values = (p, view, view, view, start, dt, n_steps, save, runs, np.empty(shape), view)
        types = tuple(typeof(value) for value in values)
        known = kernel.overloads.get(types)  # compiled: a dict look-up (compile() takes a lock)
        entry = kernel.compile(types) if known is None else known.entry_point
    except Exception:  # not a numba dispatcher: called as it is
        return kernel
    _ENTRIES.setdefault(kernel, {})[key] = entry
    return entry


_ENTRIES: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()


def _known_settings(
    result: CompiledModel,
    start: float | None,
    stop: float | None,
    dt: float | None,
    saveper: float | None,
    method: str,
) -> RunSettings:
    """:func:`resolve_times`, remembered per compiled model and arguments."""
    model = result.model
    key = (start, stop, dt, saveper, method, model.start, model.stop, model.dt, model.saveper)
    try:
        settings: RunSettings | None = result.settings.get(key)
    except TypeError:  # an unhashable time: resolve_times names it
        return resolve_times(model, start, stop, dt, saveper, method)
    if settings is None:
        settings = result.settings.put(key, resolve_times(model, start, stop, dt, saveper, method))
    return settings


def _portable(model: Model) -> Model:
    """A shallow copy of ``model`` without its compiled kernels (which do not pickle)."""
    clone = copy.copy(model)
    clone.__dict__.pop("_compiled_cache", None)
    clone.__dict__.pop("_runners", None)
    return clone


_PROCESS_MODELS: dict[str, Model] = {}


def _process_compiled(model: Model, method: str) -> CompiledModel:
    """The compiled model in this process, compiled (or loaded from numba's cache) once per
    model hash: dask tasks each unpickle their own copy of the model."""
    known = _PROCESS_MODELS.setdefault(model.content_hash(), model)
    return compiled(known, method)


_KEPT_RUNNERS = 8  # prepared runs kept per model by simulate
_FLOAT64 = np.dtype(np.float64)
_POOLED = 4  # scratch buffers kept per Runner (see Runner._run_checked)


def _runner_key(model: Model, *args: Any) -> tuple[Any, ...] | None:
    """The key of simulate's kept prepared runs: the model's content hash (a Runner is a
    snapshot of the model) and the arguments; None for arguments the Runner will refuse."""
    *times, outputs, rtol, atol = args
    if outputs is not None:
        if isinstance(outputs, str) or not isinstance(outputs, Sequence):
            return None
        outputs = tuple(outputs)
    key = (model.content_hash(), *times, outputs, rtol, atol)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def simulate(
    model: Model,
    *,
    start: float | None = None,
    stop: float | None = None,
    dt: float | None = None,
    saveper: float | None = None,
    method: str = "euler",
    params: Mapping[str, Any] | None = None,
    outputs: Sequence[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    seed: int = 0,
) -> xr.Dataset:
    """Run ``model`` once and return its trajectory as an :class:`xarray.Dataset`.

    ``Runner(model, ...).run(params)``: to run one model many times, prepare a
    :class:`Runner` once.

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
    seed : int
        The key of the model's random draws (``random_normal``, ``ar1``...; see
        :mod:`engine.kernels`): the same seed gives the same run, bit for bit. The run draws
        as member 0 of an ensemble with this seed.

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
    >>> _ = m.param("k", 0.5)
    >>> _ = m.stock("x", initial=1.0)
    >>> _ = m.flow("loss", "k * x", out_of="x")
    >>> ds = engine.simulate(m, start=0, stop=2, dt=0.5)
    >>> float(ds["x"].sel(time=2.0))
    0.31640625
    """
    # The prepared run of the same model content and arguments is reused: a Runner is a
    # snapshot of the model, and the content hash changes with any change of the model.
    runners: dict[Any, Runner] = model.__dict__.setdefault("_runners", {})
    key = _runner_key(model, start, stop, dt, saveper, method, outputs, rtol, atol)
    runner = None if key is None else runners.get(key)
    if runner is None:
        runner = Runner(
            model,
            start=start,
            stop=stop,
            dt=dt,
            saveper=saveper,
            method=method,
            outputs=outputs,
            rtol=rtol,
            atol=atol,
        )
        if key is not None:
            if len(runners) >= _KEPT_RUNNERS:
                runners.pop(next(iter(runners)))
            runners[key] = runner
    seed = check_seed(seed)
    if not runner.result.draws:
        return runner.run(params)
    return runner.run(runner.result.keyed(runner.parameters(params), seed))


def check_status(
    result: CompiledModel,
    info: np.ndarray,
    kinds: np.ndarray,
    idx: np.ndarray,
    member: int | None = None,
) -> None:
    """The boundary where a kernel's :class:`~engine.solvers.Status` becomes an exception.

    ``info`` is a run's info array (or an ensemble member's row, ``member`` its index);
    ``kinds`` and ``idx`` the output columns of the run, to name a non-finite output.

    Raises
    ------
    IntegrationError
        Naming the variable (and element), the time and the member, unless the status is OK.
    """
    status = int(info[Info.STATUS])
    if status == Status.OK:
        return
    t = float(info[Info.TIME])
    who = "" if member is None else f" (member {member})"
    if status == Status.NONFINITE_STATE:
        name = element_name(result, "y", int(info[Info.INDEX]))
        raise IntegrationError(
            f"stock {name!r} became non-finite at time {t:g}{who}. Check "
            "the flows into it for division by zero or overflow, or use "
            "a smaller dt.",
            variable=name,
            time=t,
            member=member,
        )
    if status == Status.NONFINITE_OUTPUT:
        column = int(info[Info.INDEX])
        array = {0: "y", 1: "a", 2: "p"}[int(kinds[column]) % 3]
        name = element_name(result, array, int(idx[column]))
        raise IntegrationError(
            f"{name!r} is non-finite at time {t:g}{who}. Check its equation "
            "for division by zero, log of a non-positive number or "
            "overflow.",
            variable=name,
            time=t,
            member=member,
        )
    if status == Status.TOO_MANY_STEPS:
        raise IntegrationError(
            f"the adaptive solver took more than 10,000,000 steps before "
            f"time {t:g}{who}; the model may be stiff or oscillate fast: "
            "loosen rtol/atol, or use method='euler' or 'rk4' with a small "
            "dt.",
            time=t,
            member=member,
        )
    raise IntegrationError(
        f"the adaptive solver's step fell below 1e-12 at time {t:g}{who} "
        "with every value finite: the model may be stiff, have a "
        "discontinuity there or grow without bound; loosen rtol/atol, or use "
        "method='euler' or 'rk4' with a small dt.",
        time=t,
        member=member,
    )


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


def build_dataset(
    result: CompiledModel, names: list[str], data: np.ndarray, p: np.ndarray, times: np.ndarray
) -> xr.Dataset:
    """The Dataset of a run (a :class:`engine.frame.Frame` made for it; a Runner keeps one)."""
    return Frame(result, names).dataset(data, p, times)


def dataset(
    variables: dict[str, xr.Variable], coords: dict[str, xr.Variable], attrs: dict[str, Any]
) -> xr.Dataset:
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
