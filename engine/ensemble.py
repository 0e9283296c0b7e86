"""run_ensemble: Monte Carlo and sensitivity sweeps, one compiled kernel call per chunk.

A sweep is planned once: the design matrix (:mod:`engine.sampling`), the save steps of every
horizon (:mod:`engine.store`) and the output columns. Members then run in chunks, each chunk one
call of the model's ``run_members_<method>`` kernel (numba ``prange`` over members, no
fastmath), and each chunk is written to the store as soon as it is done, so memory holds one
chunk at a time. Member
``i`` always takes design row ``i`` and runs alone in its thread, so the numbers do not depend on
the chunk size, the thread count, or whether chunks run here or as dask tasks.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import priors as priors_mod
from . import sampling, solvers
from . import store as stores
from .budgets import check_allocation, default_chunk_size, kernel_block
from .compiler import CompiledModel
from .errors import (
    EngineError,
    IntegrationError,
    ParameterError,
    SelectionError,
    SpecError,
    suggest,
)
from .simulation import Runner
from .solvers import Info, Status
from .spec import Model
from .times import RunSettings, check_tolerances, resolve_times

__all__ = ["run_ensemble", "plan_ensemble", "EnsemblePlan"]

ON_ERROR = ("mark", "raise")
MAX_LISTED_FAILURES = 100


@dataclass(frozen=True)
class EnsemblePlan:
    """Everything needed to run any chunk of a sweep, anywhere (picklable for dask: the
    runner travels as its configuration and compiles once per process)."""

    runner: Runner
    base: np.ndarray
    assign: tuple[tuple[int, np.ndarray], ...]
    design: sampling.Design | sampling.RandomDesign
    layout: stores.Layout
    block: int | None = None  # members a kernel call (a chunk may take several calls)
    scratch: ChunkBuffer | None = field(default=None, compare=False, repr=False)

    @property
    def settings(self) -> RunSettings:
        assert self.runner.settings is not None
        return self.runner.settings

    def parameters(self, k: int) -> np.ndarray:
        start, stop = self.layout.bounds(k)
        _, values = self.design.block(start, stop)
        P = sampling.parameter_rows(self.base, values, self.assign)
        # The key of the model's random draws: the sweep's seed and each member's index, so a
        # member's shocks do not depend on its chunk or thread.
        return self.runner.result.keyed(P, self.design.seed, np.arange(start, stop))

    def run_chunk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run chunk ``k``: (out, info, P); failed members' outputs are NaN."""
        P = self.parameters(k)
        buffer = None if self.scratch is None else self.scratch.get(P.shape[0], self.runner)
        out, info = self.runner.run_members(P, self.block, out=buffer)
        failed = info[:, Info.STATUS] != Status.OK
        if failed.any():
            out[failed] = np.nan
        return out, info, P


class ChunkBuffer:
    """One output block reused by every chunk a process runs (the kernel writes a member's
    every value; a failed member's are set to NaN after it), so a sweep touches a chunk's
    memory once, not once a chunk: on a host that pays for freshly touched memory (~9 s a GB
    on the virtual machine of issue 18) the chunks' first touch was a large share of a sweep.
    The block is valid until the next chunk runs: a sink must copy or write it before then.
    Pickles empty (a dask task makes its own block)."""

    def __init__(self) -> None:
        self.block: np.ndarray | None = None

    def get(self, members: int, runner: Runner) -> np.ndarray:
        assert runner.settings is not None
        shape = (runner.settings.n_save, int(runner.kinds.shape[0]))
        if self.block is None or self.block.shape[1:] != shape or self.block.shape[0] < members:
            self.block = None  # freed before the new one is made
            self.block = np.empty((members, *shape))
        return self.block[:members]

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return ChunkBuffer, ()


def _dask_chunk(plan: EnsemblePlan, k: int, path: str | None) -> Any:
    """A dask task: run chunk ``k``; write it to the store at ``path`` (returning its status),
    or return the whole block when there is no store."""
    out, info, P = plan.run_chunk(k)
    if path is None:
        return out, info, P
    stores.write_zarr_chunk(path, plan.layout, k, out, info, P)
    return None, info, None


# ---------------------------------------------------------------------------- planning


def _save_plan(
    model: Model,
    settings: RunSettings,
    spec: Mapping[str, tuple[float, float | None, float | None]],
    save_times: Sequence[float] | None = None,
) -> tuple[RunSettings, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Run settings saving exactly the union of the horizons' times (and ``save_times``, each
    in the horizon that holds it), and per horizon its times and rows in the saved block."""
    steps = np.arange(settings.n_steps + 1)
    scale = max(1.0, abs(settings.start), abs(settings.stop))
    times = np.round(settings.start + settings.dt * steps, 12 - int(math.log10(scale)))
    extra = _save_steps(times, save_times)
    chosen = stores.select_horizons(
        times, settings.start, settings.stop, spec, saved=settings.save.astype(bool), extra=extra
    )
    if not chosen:
        raise SpecError("no horizon holds a save time of this run; check horizons=.")
    union = np.unique(np.concatenate(list(chosen.values())))
    save = np.zeros(settings.n_steps + 1, dtype=np.int64)
    save[union] = 1
    fixed = RunSettings(
        settings.start, settings.stop, settings.dt, settings.saveper, settings.n_steps, save
    )
    saved_times = fixed.save_times()
    groups = {}
    for name, index in chosen.items():
        rows = np.searchsorted(union, index)
        groups[name] = (saved_times[rows], rows.astype(np.int64))
    return fixed, groups


def _save_steps(times: np.ndarray, save_times: Sequence[float] | None) -> np.ndarray | None:
    """The steps of ``save_times``: each must be a time step of the run (else a
    SelectionError naming the nearest steps)."""
    if save_times is None:
        return None
    if isinstance(save_times, (str, bytes)) or not isinstance(save_times, Sequence):
        raise ParameterError(
            f"save_times must be a sequence of times, e.g. [2030, 2050]; got {save_times!r}."
        )
    try:
        matched = stores.match_times(times, list(save_times))
    except SelectionError as error:
        raise SelectionError(
            str(error)
            .replace("was not saved", "is not a time step of the run")
            .replace("nearest saved times", "nearest steps")
            .replace("nearest saved time", "nearest step")
            .replace(
                " Run again saving it (--years / save_times=).",
                " Choose a step, or a dt that reaches it.",
            )
        ) from None
    return np.searchsorted(
        times, np.asarray(matched, dtype=float) - 1e-9 * max(1.0, abs(times[-1]))
    )


def _variables(result: CompiledModel, names: list[str]) -> tuple[stores.VariableLayout, ...]:
    model = result.model
    out = []
    column = 0
    for name in names:
        var = model.variables[name]
        slot = result.plan.slots[name]
        attrs = {"units": var.units, "long_name": var.doc or name, "kind": var.kind}
        if slot.array == "p":
            out.append(
                stores.VariableLayout(
                    name, var.dims, tuple(slot.shape), attrs, -1, slot.size, slot.offset
                )
            )
            continue
        out.append(
            stores.VariableLayout(name, var.dims, tuple(slot.shape), attrs, column, slot.size)
        )
        column += slot.size
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (read once per process:
    reading package metadata costs ~40 ms)."""
    from importlib import metadata

    versions = {}
    for package in ("corridor", "numpy", "numba", "scipy", "xarray", "zarr", "SALib", "dask"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.lru_cache(maxsize=1)
def _engine_versions() -> dict[str, str]:
    """The versions that decide a member's numbers: the engine's, numba's (and llvmlite's,
    which compiles), numpy's."""
    from ._version import __version__

    versions = _versions()
    out = {"engine": __version__}
    for package in ("corridor", "numba", "numpy"):
        if package in versions:
            out[package] = versions[package]
    try:
        from importlib import metadata

        out["llvmlite"] = metadata.version("llvmlite")
    except Exception:  # noqa: BLE001 - not installed separately
        pass
    return out


def _check_params_early(model: Model, params: Mapping[str, Any] | None) -> None:
    if params is not None and not isinstance(params, Mapping):
        raise ParameterError(
            f"params must be a mapping from parameter name to value, e.g. "
            f"{{'k': 0.5}}; got a {type(params).__name__}."
        )
    for name, value in (params or {}).items():
        model.parameter_value(name, value)


def plan_ensemble(
    model: Model,
    *,
    n: int,
    seed: int,
    design: str = "random",
    priors: Mapping[str, Any] | None = None,
    correlations: Mapping[Any, float] | None = None,
    params: Mapping[str, Any] | None = None,
    start: float | None = None,
    stop: float | None = None,
    dt: float | None = None,
    saveper: float | None = None,
    method: str = "euler",
    outputs: Sequence[str] | None = None,
    chunk_size: int | None = None,
    horizons: Mapping[str, Sequence[float | None]] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    save_times: Sequence[float] | None = None,
    groups: Mapping[str, str] | None = None,
) -> tuple[EnsemblePlan, dict[str, Any], dict[str, Any]]:
    """Check a sweep's arguments and plan it: (plan, provenance attrs, configuration).

    Every check that needs no compiled kernel comes first, so bad input fails at once.
    """
    if method not in solvers.METHODS:
        raise SpecError(f"unknown method {method!r}; choose one of {', '.join(solvers.METHODS)}.")
    n, seed = sampling.check_design(design, n, seed)
    rtol, atol = check_tolerances(rtol, atol)
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise ParameterError(f"chunk_size={chunk_size!r} must be a positive integer.")
    if model.dynamic_control:
        raise SpecError(
            f"model {model.name!r} computes its run settings during the run; "
            "ensembles need constant run settings."
        )
    priors_resolved = sampling.resolve_priors(model, priors)
    if correlations is None and priors is None:  # the model's own, as its priors
        correlations = priors_mod.declared_correlations(model)
    correlation = priors_mod.resolve_correlations(priors_resolved, correlations)
    priors_mod.check_correlated_design(design, correlation)
    _check_params_early(model, params)
    resolve_times(model, start, stop, dt, saveper, method)  # bad times fail before compiling
    spec = stores.horizon_spec(model.time_unit, horizons)
    per_input = _input_groups(design, priors_resolved, groups)
    rows = sampling.design_rows(
        design,
        n,
        len(priors_resolved) if per_input is None else len(sampling.group_names(per_input)),
    )
    if design != "random":
        # Made whole (lhs strata, sobol, saltelli and morris sequences span all rows) and
        # kept with its unit-cube points; sampling makes about as much again in temporaries.
        # A random design makes each chunk's rows when the chunk runs.
        check_allocation(
            f"the {design} design matrix ({rows:,} members x "
            f"{len(priors_resolved)} sampled parameters)",
            8.0 * 4 * rows * max(1, len(priors_resolved)),
            "choose fewer members (n), fewer sampled parameters, or the "
            "'random' design, which is made a chunk at a time.",
        )
    # rk45 starts with the save period (first_step=0), as it always has in a sweep.
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
        first_step=0.0,
    )
    result = runner.result
    base = runner.parameters(params)
    names, kinds = runner.names, runner.kinds
    assert runner.settings is not None
    settings, saved = _save_plan(model, runner.settings, spec, save_times)
    runner = runner._replace(settings=settings)
    if chunk_size is None:
        chunk_size = default_chunk_size(rows, settings.n_save, int(kinds.shape[0]))
    chunk_size = int(min(chunk_size, rows))
    block = min(chunk_size, kernel_block(rows, settings.n_save, int(kinds.shape[0])))
    check_allocation(
        f"the output block of a chunk of {chunk_size:,} members "
        f"({settings.n_save:,} save times x {kinds.shape[0]:,} columns)",
        8.0 * chunk_size * settings.n_save * kinds.shape[0],
        "choose a smaller chunk_size, fewer outputs or a larger dt / saveper.",
    )
    matrix = sampling.plan_design(design, n, seed, priors_resolved, correlation, per_input)
    coords = {d: tuple(model.dims[d].elements) for d in model.dims}
    layout = stores.Layout(
        rows,
        chunk_size,
        model.time_unit,
        saved,
        _variables(result, names),
        coords,
        tuple(matrix.inputs),
        matrix,
    )
    assign = tuple(sampling.assignments(priors_resolved, result.plan.slots))
    plan = EnsemblePlan(runner, base, assign, matrix, layout, block)
    parameters = {v.name: _param_value(base, result, v.name) for v in model.params}
    described = {p.key: p.describe() for p in priors_resolved}
    config = {
        "model_hash": model.content_hash(),
        "design": design,
        "n": n,
        "seed": seed,
        "priors": described,
        "params": {k: np.asarray(v, float).tolist() for k, v in (params or {}).items()},
        "method": method,
        "start": settings.start,
        "stop": settings.stop,
        "dt": settings.dt,
        "saveper": settings.saveper,
        "outputs": names,
        "horizons": spec,
        "rtol": rtol if method == "rk45" else None,
        "atol": atol if method == "rk45" else None,
        # chunks computed by another engine or numba may differ in the last bits: a resume
        # must not mix them
        "versions": _engine_versions(),
    }
    if correlation is not None:  # (absent otherwise, so earlier stores still resume)
        config["correlation"] = correlation.tolist()
    if save_times is not None:
        config["save_times"] = sorted(float(t) for t in save_times)
    if per_input is not None:
        config["groups"] = list(per_input)
    scenario = getattr(model, "attrs", {}).get("scenario")
    if scenario is not None:
        config["scenario"] = scenario  # so that a store reused for another one says so
    attrs = {
        **getattr(model, "attrs", {}),
        "title": f"{model.name}: ensemble of {rows} members ({design} design)"
        + (f", scenario {scenario}" if scenario else ""),
        "model": model.name,
        "model_hash": config["model_hash"],
        "design": design,
        "n": n,
        "members": rows,
        "seed": seed,
        "method": method,
        "start": settings.start,
        "stop": settings.stop,
        "dt": settings.dt,
        "time_unit": model.time_unit,
        "priors": json.dumps(described),
        "parameters": json.dumps(parameters),
        "horizons": json.dumps(spec),
        "outputs": json.dumps(names),
        "package_versions": json.dumps(_versions()),
        "data_versions": json.dumps(getattr(model, "data_versions", {}) or {}, default=str),
        "Conventions": "CF-1.10",
    }
    if correlation is not None:
        attrs["correlation"] = json.dumps(config["correlation"])
    if per_input is not None:
        attrs["groups"] = json.dumps(dict(zip((p.key for p in priors_resolved), per_input)))
    return plan, attrs, config


def _input_groups(
    design: str, priors: Sequence[sampling.Prior], groups: Mapping[str, str] | None
) -> tuple[str, ...] | None:
    """The group of each sampled input (a parameter's group covers its elements' priors; an
    input in no group is a group of its own), or None without groups."""
    if groups is None:
        return None
    if design != "saltelli":
        raise ParameterError(
            f"groups are for the 'saltelli' design (Sobol indices by group); this sweep's "
            f"design is {design!r}."
        )
    if not isinstance(groups, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in groups.items()
    ):
        raise ParameterError(
            "groups must map a sampled parameter to a group name, e.g. "
            "{'fertility': 'demography', 'mortality': 'demography'}."
        )
    keys = [p.key for p in priors]
    known = set(keys) | {p.parameter for p in priors}
    for name in groups:
        if name not in known:
            raise ParameterError(
                f"groups: {name!r} is not a sampled parameter; those are {', '.join(keys)}."
                + suggest(name, sorted(known))
            )
    return tuple(groups.get(p.key, groups.get(p.parameter, p.key)) for p in priors)


def _param_value(p: np.ndarray, result: CompiledModel, name: str) -> Any:
    slot = result.plan.slots[name]
    values = p[slot.offset : slot.offset + slot.size]
    return float(values[0]) if not slot.shape else values.reshape(slot.shape).tolist()


# ---------------------------------------------------------------------------- running


def _progress_bar(total: int, initial: int, progress: bool | None, desc: str) -> Any:
    if progress is None:
        progress = _interactive()
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, disable=not progress, unit="member", desc=desc, leave=False
    )


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def run_ensemble(
    model: Model,
    *,
    n: int,
    seed: int,
    design: str = "random",
    priors: Mapping[str, Any] | None = None,
    correlations: Mapping[Any, float] | None = None,
    params: Mapping[str, Any] | None = None,
    start: float | None = None,
    stop: float | None = None,
    dt: float | None = None,
    saveper: float | None = None,
    method: str = "euler",
    outputs: Sequence[str] | None = None,
    chunk_size: int | None = None,
    store: str | Path | None = None,
    client: Any = None,
    on_error: str = "mark",
    horizons: Mapping[str, Sequence[float | None]] | None = None,
    progress: bool | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    save_times: Sequence[float] | None = None,
    groups: Mapping[str, str] | None = None,
) -> xr.DataTree:
    """Run ``model`` for every row of a sampling design and return the horizon DataTree.

    Parameters
    ----------
    model : Model
    n : int
        Members for "random", "lhs" and "sobol"; base sample N for "saltelli" (N (2D + 2)
        members for D sampled inputs); trajectories for "morris" (n (D + 1) members).
    seed : int
        Seed of the design matrix and of the model's random draws (member ``i`` draws its
        shocks with key (seed, i); see :mod:`engine.kernels`): the only randomness of a sweep.
    design : {"random", "lhs", "sobol", "saltelli", "morris"}
    priors : mapping, optional
        ``{"parameter": prior, "parameter[element]": prior}`` with priors as
        ``(distribution, *parameters)`` tuples (see DESIGN.md) or scipy frozen distributions.
        Default: the priors declared on the model's parameters.
    correlations : mapping, optional
        Spearman rank correlations between sampled inputs, imposed by a Gaussian copula:
        ``{("a", "b[north]"): 0.5}`` for a pair of prior keys, ``{"fertility": 0.7}`` for every
        pair of a parameter's ``"fertility[element]"`` priors (see :mod:`engine.priors`).
        Part of the design: the matrix is made once from (design, seed, n, priors,
        correlations). Default: those the model declares (``prior_correlation``) when
        ``priors`` is None.
    params : mapping, optional
        Fixed parameter overrides (a scenario) applied to every member before sampling.
    start, stop, dt, saveper, method, rtol, atol
        As for :func:`engine.simulate`. ``saveper`` sets the resolution of horizons that have
        none (the single ``all`` group of a model not in years).
    outputs : sequence of str, optional
        Variables to keep (default: every named variable). Only these, at the horizons' save
        times, are ever stored.
    chunk_size : int, optional
        Members per chunk: a zarr chunk along ``member`` and a resumable unit, run in kernel
        calls of about 64 MB of output each (default: four such calls, about 256 MB of output
        a chunk: fewer, larger files). Results do not depend on it.
    store : path, optional
        A zarr (format 3) store to stream chunks into; a sweep stopped part-way resumes when
        run again with the same arguments. None keeps everything in memory.
    client : dask.distributed.Client, optional
        Run chunks as dask tasks, each writing its own zarr regions.
    on_error : {"mark", "raise"}
        A member with non-finite values is marked in ``status`` with NaN outputs and the
        sweep goes on ("mark", with a RuntimeWarning listing failures), or the sweep stops
        with IntegrationError ("raise").
    horizons : mapping, optional
        ``{name: (from, to, resolution)}``; default DESIGN.md's short / medium / long for
        models in years, else one group ``all``.
    progress : bool, optional
        Show a progress bar (tqdm; default: on in notebooks and terminals).
    save_times : sequence of float, optional
        Times to save besides the horizons' round ones (every year in the short and medium
        horizons, every 5 years from a multiple of 5 in the long one, and the stop time), each
        in the horizon that holds it; each must be a time step of the run.
    groups : mapping, optional
        "saltelli" only: ``{parameter: group}`` (SALib groups). Sobol indices are computed per
        group (a parameter in no group is its own), with N (2G + 2) members for G groups
        instead of N (2D + 2): 39 priors in 6 groups cost 14 N runs, not 80 N.

    Returns
    -------
    xarray.DataTree
        Root: ``status``, ``sample`` (member x parameter) and provenance attrs; one group per
        horizon with dims ``member``, ``time`` and the model's own; ``/summary/<horizon>``
        with a ``quantile`` dim; ``/sensitivity/<horizon>`` for saltelli and morris designs.

    Raises
    ------
    ParameterError, SpecError, StoreError
        Bad input, before any member runs.
    IntegrationError
        A member failed and ``on_error="raise"``.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="day")
    >>> m.param("k", 0.5, bounds=(0, None))
    >>> m.stock("x", initial=1.0)
    >>> m.flow("loss", "k * x", out_of="x")
    >>> tree = engine.run_ensemble(m, n=8, seed=1, design="lhs",
    ...                            priors={"k": ("uniform", 0.1, 1.0)}, start=0, stop=4, dt=0.5,
    ...                            progress=False)
    >>> tree["all"]["x"].shape
    (8, 9)
    """
    if on_error not in ON_ERROR:
        raise ParameterError(f"on_error={on_error!r}; choose 'mark' or 'raise'.")
    path = None if store is None else stores.check_writable(store)
    plan, attrs, config = plan_ensemble(
        model,
        n=n,
        seed=seed,
        design=design,
        priors=priors,
        correlations=correlations,
        params=params,
        start=start,
        stop=stop,
        dt=dt,
        saveper=saveper,
        method=method,
        outputs=outputs,
        chunk_size=chunk_size,
        horizons=horizons,
        rtol=rtol,
        atol=atol,
        save_times=save_times,
        groups=groups,
    )
    sink: stores.Sink
    if path is None:
        columns = sum(v.size for v in plan.layout.variables if v.column >= 0)
        saved = sum(times.size for times, _ in plan.layout.groups.values())
        check_allocation(
            f"the whole ensemble in memory ({plan.layout.members:,} members x "
            f"{saved:,} save times x {columns:,} columns)",
            8.0 * plan.layout.members * saved * columns,
            "give store='runs/name.zarr' to stream chunks to disk, or choose "
            "fewer members, fewer outputs or a larger saveper.",
        )
        sink = stores.MemoryStore(
            plan.layout,
            {
                **stores.jsonable(attrs),
                "chunk_size": plan.layout.chunk_size,
                "corridor_config": json.dumps(stores.jsonable(config), sort_keys=True),
                "complete": False,
            },
        )
    else:
        sink = stores.open_or_create(path, plan.layout, attrs, config)
        if sink.layout is not plan.layout:
            plan = replace(plan, layout=sink.layout)
    try:
        if isinstance(sink, stores.ZarrStore) and sink.group.attrs.get("complete") is True:
            return sink.tree()  # a finished sweep: nothing to do, nothing changed
        _run_pending(plan, sink, path, client, on_error, progress, model.name)
        _finish(plan, sink)
        return sink.tree()
    finally:
        sink.close()


def _run_pending(
    plan: EnsemblePlan,
    sink: stores.Sink,
    path: Path | None,
    client: Any,
    on_error: str,
    progress: bool | None,
    name: str,
) -> None:
    pending = sink.pending()
    layout = plan.layout
    done_members = layout.members - sum(np.diff(layout.bounds(k))[0] for k in pending)
    bar = _progress_bar(layout.members, done_members, progress, name)
    try:
        if client is None:
            # one output block for every chunk (each sink copies or writes it before the next)
            plan = replace(plan, scratch=ChunkBuffer())
            for k in pending:
                out, info, P = plan.run_chunk(k)
                _check_chunk(plan, k, info, on_error)
                sink.write_chunk(k, out, info, P)
                bar.update(out.shape[0])
                del out, info, P  # the block is the buffer the next chunk reuses
                sink.release()
        else:
            _run_dask(client, plan, pending, sink, path, on_error, bar)
    finally:
        bar.close()


def _check_chunk(plan: EnsemblePlan, k: int, info: np.ndarray, on_error: str) -> None:
    if on_error != "raise":
        return
    bad = np.flatnonzero(info[:, Info.STATUS] != Status.OK)
    if bad.size:
        m0, _ = plan.layout.bounds(k)
        plan.runner.check(info[bad[0]], member=int(m0 + bad[0]))


def _run_dask(
    client: Any,
    plan: EnsemblePlan,
    pending: list[int],
    sink: stores.Sink,
    path: Path | None,
    on_error: str,
    bar: Any,
) -> None:
    from dask.distributed import as_completed

    shared = client.scatter(plan, broadcast=True)
    target = None if path is None else str(path)
    futures = {client.submit(_dask_chunk, shared, k, target, pure=False): k for k in pending}
    try:
        for future in as_completed(futures):
            k = futures[future]
            out, info, P = future.result()
            _check_chunk(plan, k, info, on_error)
            if out is not None:
                sink.write_chunk(k, out, info, P)
            elif isinstance(sink, stores.ZarrStore):
                sink.mark_written(k)  # written by the worker
            del out, info, P
            sink.release()
            m0, m1 = plan.layout.bounds(k)
            bar.update(m1 - m0)
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _failures(plan: EnsemblePlan, sink: stores.Sink) -> tuple[int, list[str]]:
    status = sink.read("/", "status")
    bad = np.flatnonzero(status > 0)
    if bad.size == 0:
        return 0, []
    times = sink.read("/", "failure_time")
    index = sink.read("/", "failure_index")
    listed = []
    for member in bad[:MAX_LISTED_FAILURES]:
        code = int(status[member])
        info = np.zeros(Info.SIZE)
        info[Info.TIME], info[Info.INDEX], info[Info.STATUS] = times[member], index[member], code
        try:
            plan.runner.check(info, member=int(member))
        except IntegrationError as error:
            where = error.variable or "solver"
            listed.append(f"member {member}: {where} at time {error.time:g}")
    return int(bad.size), listed


def _finish(plan: EnsemblePlan, sink: stores.Sink) -> None:
    from . import analyze

    if sink.pending():
        raise EngineError("internal: chunks left unwritten at the end of a sweep.")
    count, listed = _failures(plan, sink)
    for horizon, ds in analyze.summaries(sink, plan.layout).items():
        sink.write_group(f"summary/{horizon}", ds)
    if plan.design.name in ("saltelli", "morris"):
        for horizon, ds in analyze.sensitivity_groups(sink, plan.layout, plan.design).items():
            sink.write_group(f"sensitivity/{horizon}", ds)
    sink.set_attrs({"failed_members": count, "failures": json.dumps(listed), "complete": True})
    if count:
        more = f" (first {len(listed)} listed)" if count > len(listed) else ""
        warnings.warn(
            f"{count} of {plan.layout.members} members failed and are marked in "
            f"'status' with NaN values{more}: " + "; ".join(listed[:5]),
            RuntimeWarning,
            stacklevel=3,
        )
