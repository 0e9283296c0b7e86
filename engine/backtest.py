"""backtest: rolling-origin evaluation of a model's forecasts against what happened.

For each jump-off year J a *factory* builds the model from what was known in J (the engine
cannot know what that is: the factory's job, e.g. a demography built from data up to J), the
model runs from J (once, or as an ensemble), and its forecast of each output at J + h is set
beside the observed value for every horizon h. The result is one :class:`xarray.Dataset` with
dims ``(jump_off, horizon, <the outputs' own dims>, member)``; :func:`score_backtest` turns it
into the scores forecasters use, each per case (jump-off, horizon, element):

- ``ape``: absolute percentage error of the median, ``|median - observed| / |observed|``
  (Tayman, Smith & Lin 2007; NaN where the observed value is 0);
- ``coverage_80``, ``coverage_95``: 1 where the central 80 % (95 %) band of the members holds
  the observed value, else 0 (NaN for a single run, whose band is a point);
- ``crps``: the continuous ranked probability score of the members' empirical distribution
  (Gneiting & Raftery 2007), computed by ``scoringrules``; for a single run it is the
  absolute error.

:func:`summarize_scores` averages them by horizon over jump-offs and elements, and
:func:`compare_scores` gives, by horizon, the share of cases where a forecast's error is lower
than a baseline's (the same backtest with a naive model's factory).

References
----------
Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. Journal of the American Statistical Association 102(477), 359-378.
Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and review.
International Journal of Forecasting 16(4), 437-450 (rolling-origin evaluation).
Tayman, J., Smith, S. K. & Lin, J. (2007). Precision, bias, and uncertainty for state
population forecasts: an exploratory analysis of time series models. Population Research and
Policy Review 26, 347-369.
Zamo, M. & Naveau, P. (2018). Estimation of the continuous ranked probability score with
limited information and applications to ensemble weather forecasts. Mathematical Geosciences
50, 209-234 (the ensemble CRPS estimators of scoringrules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .ensemble import run_ensemble
from .errors import EngineError, ParameterError, SpecError, suggest
from .files import check_output_file
from .simulation import simulate
from .spec import Model

__all__ = [
    "backtest",
    "score_backtest",
    "summarize_scores",
    "compare_scores",
    "summarize_backtest",
    "backtest_dataset",
    "write_backtest",
    "JUMP_OFFS",
    "HORIZONS",
    "QUANTILES",
    "BANDS",
]

JUMP_OFFS = (1995, 2000, 2005, 2010)
HORIZONS = tuple(range(1, 26))
#: Quantiles kept beside the members: the median and the bounds of the 80 % and 95 % bands.
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
BANDS = (0.8, 0.95)
_HORIZON_GROUP = "backtest"


def backtest(
    factory: Callable[[int], Model],
    observed: xr.Dataset,
    *,
    jump_offs: Iterable[int] = JUMP_OFFS,
    horizons: Iterable[int] = HORIZONS,
    ensemble: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    quantiles: Sequence[float] = QUANTILES,
) -> xr.Dataset:
    """Forecast from each jump-off with the model known then; set beside what was observed.

    Parameters
    ----------
    factory : callable
        ``factory(jump_off) -> Model``: the model built from what was known in ``jump_off``
        (no later data). It runs from ``jump_off`` to ``jump_off + max(horizons)``.
    observed : xarray.Dataset
        The outcomes: variables named as the model's outputs, with a ``time`` dim (years, the
        model's time unit) and any of the output's own dims, with the same element names.
        Times not observed (past the data's end) give NaN observations, not errors.
    jump_offs, horizons : iterables of int
        Jump-off years, and horizons in years after each.
    ensemble : mapping, optional
        Keyword arguments of :func:`engine.run_ensemble` (at least ``n`` and ``seed``, e.g.
        ``{"n": 200, "seed": 1}``): each forecast is an ensemble over the model's priors.
        None (the default): one run of :func:`engine.simulate`, a ``member`` dim of size 1.
    params : mapping, optional
        Parameter values of every run (a scenario), as in :func:`engine.simulate`.
    quantiles : sequence of float
        Quantiles of the members kept as ``<name>_quantile``.

    Returns
    -------
    xarray.Dataset
        For each observed variable ``<name>``: ``<name>_forecast`` (jump_off, horizon, ...,
        member), ``<name>_quantile`` (jump_off, horizon, ..., quantile) and
        ``<name>_observed`` (jump_off, horizon, ...). Attrs: ``members``.

    Examples
    --------
    >>> import engine, xarray as xr, numpy as np
    >>> def factory(j):
    ...     m = engine.Model("growth", time_unit="year", start=j, stop=j + 3, dt=1)
    ...     m.param("r", 0.01)
    ...     m.stock("x", initial=float(np.exp(0.02 * (j - 2000))))
    ...     m.flow("gain", "r * x", into="x")
    ...     return m
    >>> years = np.arange(1990, 2011.0)
    >>> observed = xr.Dataset({"x": ("time", np.exp(0.02 * (years - 2000)))},
    ...                       coords={"time": years})
    >>> ds = engine.backtest(factory, observed, jump_offs=[2000, 2005], horizons=[1, 2, 3])
    >>> ds["x_forecast"].dims
    ('jump_off', 'horizon', 'member')
    """
    jump_offs = [int(j) for j in jump_offs]
    horizons = sorted({int(h) for h in horizons})
    if not jump_offs or not horizons or horizons[0] < 1:
        raise ParameterError(
            f"backtest: give jump-offs and horizons >= 1, got {jump_offs} and {horizons}; "
            "e.g. jump_offs=(1995, 2000), horizons=range(1, 26)."
        )
    if "time" not in observed.dims or not observed.data_vars:
        raise SpecError(
            "backtest: observed must be a Dataset of variables named as model outputs with "
            "a 'time' dim (years)."
        )
    names = [str(v) for v in observed.data_vars]
    q = np.asarray(quantiles, dtype=float)
    if q.size == 0 or np.any((q < 0) | (q > 1)):
        raise ParameterError(f"backtest: quantiles must be in [0, 1], got {list(quantiles)}.")
    rows: dict[str, list[xr.DataArray]] = {name: [] for name in names}
    for jump_off in jump_offs:
        model = factory(jump_off)
        if not isinstance(model, Model):
            raise SpecError(
                f"backtest: factory({jump_off}) returned {type(model).__name__}; it must "
                "return an engine.Model built from what was known in that year."
            )
        runs = _forecast(model, names, jump_off, horizons, ensemble, params)
        for name in names:
            rows[name].append(runs[name])
    out: dict[str, xr.DataArray] = {}
    coords = {"jump_off": jump_offs, "horizon": horizons}
    for name in names:
        forecast = xr.concat(rows[name], dim="jump_off").assign_coords(coords)
        dims = ("jump_off", "horizon") + tuple(
            d for d in forecast.dims if d not in ("jump_off", "horizon", "member")
        )
        forecast = forecast.transpose(*dims, "member")
        forecast.attrs = dict(rows[name][0].attrs)
        out[f"{name}_forecast"] = forecast
        out[f"{name}_quantile"] = forecast.quantile(q, dim="member", skipna=True).transpose(
            *dims, "quantile"
        )
        out[f"{name}_observed"] = _observed(observed[name], forecast, jump_offs, horizons)
    members = int(out[f"{names[0]}_forecast"].sizes["member"])
    return xr.Dataset(out, attrs={"members": members, "ensemble": int(ensemble is not None)})


def _forecast(
    model: Model,
    names: list[str],
    jump_off: int,
    horizons: list[int],
    ensemble: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
) -> dict[str, xr.DataArray]:
    """Each output at jump_off + horizon, dims (horizon, ..., member)."""
    start, stop = float(jump_off), float(jump_off + horizons[-1])
    times = np.array([jump_off + h for h in horizons], dtype=float)
    unknown = [n for n in names if n not in model.variables]
    if unknown:
        raise SpecError(
            f"backtest: observed variable {unknown[0]!r} is no output of model "
            f"{model.name!r}.{suggest(unknown[0], list(model.variables))}"
        )
    if ensemble is None:
        ds = simulate(model, start=start, stop=stop, params=params, outputs=names)
        group = ds.expand_dims(member=[0], axis=-1)
    else:
        options = dict(ensemble)
        if "n" not in options or "seed" not in options:
            raise ParameterError(
                "backtest: ensemble needs 'n' and 'seed' (run_ensemble's arguments), e.g. "
                "ensemble={'n': 200, 'seed': 1}."
            )
        options.setdefault("progress", False)
        tree = run_ensemble(
            model,
            start=start,
            stop=stop,
            params=params,
            outputs=names,
            horizons={_HORIZON_GROUP: (0.0, None, 1.0)},
            **options,
        )
        group = tree[_HORIZON_GROUP].to_dataset()
    out = {}
    for name in names:
        data = group[name].sel(time=times, method="nearest", tolerance=1e-6)
        data = data.assign_coords(time=np.asarray(horizons)).rename(time="horizon")
        out[name] = data.transpose("horizon", ..., "member")
    return out


def _observed(
    observed: xr.DataArray, forecast: xr.DataArray, jump_offs: list[int], horizons: list[int]
) -> xr.DataArray:
    """The observations at jump_off + horizon, aligned to the forecast's element coords."""
    extra = [d for d in observed.dims if d != "time" and d not in forecast.dims]
    if extra:
        raise SpecError(
            f"backtest: observed {observed.name!r} has dims {extra} that the model's output "
            f"has not (it has {list(forecast.dims)})."
        )
    years = np.add.outer(np.asarray(jump_offs), np.asarray(horizons)).astype(float)
    flat = observed.astype(float).reindex(time=years.ravel())
    data = flat.values.reshape(years.shape + flat.shape[1:])
    out = xr.DataArray(
        data,
        dims=("jump_off", "horizon") + tuple(d for d in observed.dims if d != "time"),
        coords={"jump_off": jump_offs, "horizon": horizons},
    )
    for dim in out.dims[2:]:
        out = out.assign_coords({dim: observed[dim].values})
    template = forecast.isel(member=0, drop=True)
    return out.reindex_like(template).transpose(*template.dims)


# ------------------------------------------------------------------------------------ scores
def _band(level: float) -> str:
    return f"coverage_{round(level * 100):d}"


def score_backtest(ds: xr.Dataset, bands: Sequence[float] = BANDS) -> xr.Dataset:
    """The scores of each case (jump-off, horizon, element) of a :func:`backtest`.

    For each variable ``<name>``: ``<name>_ape`` (absolute percentage error of the median, a
    fraction), ``<name>_coverage_80`` / ``_95`` (1 inside the band, 0 outside; NaN for a
    single run or a missing observation) and ``<name>_crps`` (in the variable's units).
    """
    import scoringrules

    out: dict[str, xr.DataArray] = {}
    for forecast_name in [str(v) for v in ds.data_vars if str(v).endswith("_forecast")]:
        name = forecast_name[: -len("_forecast")]
        forecast = ds[forecast_name]
        obs = ds[f"{name}_observed"]
        members = forecast.sizes["member"]
        median = forecast.median("member", skipna=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            ape = abs(median - obs) / abs(obs)
        out[f"{name}_ape"] = ape.where(obs != 0)
        for level in bands:
            low = forecast.quantile(0.5 - level / 2, dim="member", skipna=True, method="linear")
            high = forecast.quantile(0.5 + level / 2, dim="member", skipna=True, method="linear")
            inside = (
                ((obs >= low) & (obs <= high)).astype(float).drop_vars("quantile", errors="ignore")
            )
            out[f"{name}_{_band(level)}"] = inside.where(obs.notnull() & (members > 1))
        values = np.asarray(
            scoringrules.crps_ensemble(obs.values, forecast.values, m_axis=-1, estimator="qd")
        )
        out[f"{name}_crps"] = obs.copy(data=np.where(obs.notnull(), values, np.nan))
    if not out:
        raise SpecError("score_backtest: no '<name>_forecast' variable; give backtest()'s result.")
    return xr.Dataset(out, attrs=dict(ds.attrs))


def summarize_scores(scores: xr.Dataset) -> xr.Dataset:
    """Each score's mean by horizon over jump-offs and elements (NaN cases left out), with
    ``cases``: the number of scored cases of each variable by horizon."""
    out: dict[str, xr.DataArray] = {}
    for name, data in scores.data_vars.items():
        others = [d for d in data.dims if d != "horizon"]
        out[str(name)] = data.mean(others, skipna=True)
        if str(name).endswith("_ape"):
            base = str(name)[: -len("_ape")]
            out[f"{base}_cases"] = data.notnull().sum(others)
    return xr.Dataset(out, attrs=dict(scores.attrs))


def compare_scores(scores: xr.Dataset, baseline: xr.Dataset, score: str = "ape") -> xr.Dataset:
    """By horizon, the share of cases where ``scores`` is lower than ``baseline``'s.

    Both are :func:`score_backtest` results over the same cases. For each variable,
    ``<name>_better_than_baseline`` is that share (ties count as not better) over the cases
    both scored; ``<name>_compared`` the number of those cases.
    """
    out: dict[str, xr.DataArray] = {}
    for name in [str(v) for v in scores.data_vars if str(v).endswith(f"_{score}")]:
        if name not in baseline:
            raise SpecError(
                f"compare_scores: the baseline has no {name!r}; score the baseline's backtest "
                f"with score_backtest.{suggest(name, [str(v) for v in baseline.data_vars])}"
            )
        ours, theirs = xr.align(scores[name], baseline[name], join="exact")
        both = ours.notnull() & theirs.notnull()
        others = [d for d in ours.dims if d != "horizon"]
        count = both.sum(others)
        better = ((ours < theirs) & both).sum(others)
        base = name[: -len(f"_{score}")]
        out[f"{base}_better_than_baseline"] = (better / count).where(count > 0)
        out[f"{base}_compared"] = count
    return xr.Dataset(out)


# ------------------------------------------------------------------------ summary and files
def summarize_backtest(forecast: xr.Dataset, baseline: xr.Dataset | None = None) -> xr.Dataset:
    """By horizon, for each variable of a :func:`backtest`: ``<name>_mean_ape``,
    ``<name>_median_ape``, ``<name>_coverage_80`` / ``_95`` (NaN for a single run),
    ``<name>_crps`` and ``<name>_cases``; with a ``baseline`` (the same cases, e.g. a naive
    model's backtest) also ``<name>_naive_mean_ape``, ``<name>_naive_median_ape``,
    ``<name>_naive_crps`` and ``<name>_better_than_naive`` (the share of cases where the
    forecast's median is closer, :func:`compare_scores`)."""
    ours = score_backtest(forecast)
    summary = summarize_scores(ours)
    theirs = None if baseline is None else score_backtest(baseline)
    naive = None if theirs is None else summarize_scores(theirs)
    out: dict[str, xr.DataArray] = {}
    for name in [str(v)[: -len("_ape")] for v in ours.data_vars if str(v).endswith("_ape")]:
        others = [d for d in ours[f"{name}_ape"].dims if d != "horizon"]
        out[f"{name}_mean_ape"] = summary[f"{name}_ape"]
        out[f"{name}_median_ape"] = ours[f"{name}_ape"].median(others, skipna=True)
        for band in BANDS:
            out[f"{name}_{_band(band)}"] = summary[f"{name}_{_band(band)}"]
        out[f"{name}_crps"] = summary[f"{name}_crps"]
        out[f"{name}_cases"] = summary[f"{name}_cases"]
        if theirs is not None and naive is not None:
            out[f"{name}_naive_mean_ape"] = naive[f"{name}_ape"]
            out[f"{name}_naive_median_ape"] = theirs[f"{name}_ape"].median(others, skipna=True)
            out[f"{name}_naive_crps"] = naive[f"{name}_crps"]
            share = compare_scores(ours[[f"{name}_ape"]], theirs[[f"{name}_ape"]])
            out[f"{name}_better_than_naive"] = share[f"{name}_better_than_baseline"]
    return xr.Dataset(out, attrs=dict(forecast.attrs))


def backtest_dataset(
    forecast: xr.Dataset, baseline: xr.Dataset | None = None, **attrs: Any
) -> xr.Dataset:
    """One Dataset of a backtest: the forecast's variables, the baseline's forecasts as
    ``naive_<name>_forecast`` (its one run, no ``member`` dim), and the summary by horizon
    (:func:`summarize_backtest`) as ``summary_<...>``; ``attrs`` (numbers and strings) added."""
    out = forecast.copy()
    if baseline is not None:
        for name in [str(v) for v in baseline.data_vars if str(v).endswith("_forecast")]:
            out[f"naive_{name}"] = baseline[name].median("member")
    summary = summarize_backtest(forecast, baseline)
    for key in summary.data_vars:
        out[f"summary_{key}"] = summary[key]
    out.attrs.update({k: v for k, v in attrs.items() if v is not None})
    return out


def write_backtest(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a :func:`backtest_dataset` to ``path``: netCDF (``.nc``) or zarr (``.zarr``,
    unconsolidated as the engine's stores: open it with ``consolidated=False``); an existing
    file or store only with ``overwrite``. Returns the path."""
    path = Path(path)
    if path.suffix.lower() == ".zarr":
        if path.exists() and not overwrite:
            raise EngineError(f"{path} exists; pass overwrite=True (--overwrite) to replace it.")
        # zarr's mode "w" empties what is there: only a zarr store (or a new path) may be
        # replaced, as for the engine's stores; any other file or folder is refused untouched.
        from .store.zarr import check_writable

        check_writable(path)
        ds.to_zarr(path, mode="w", consolidated=False)
        return path
    path = check_output_file(path, suffixes=(".nc", ".zarr"), overwrite=overwrite, what="backtest")
    ds.to_netcdf(path)
    return path
