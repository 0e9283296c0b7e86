"""The headline table a forecaster reads first: per region and year, population, births,
deaths, immigration, emigration, net migration and migrant stock.

:func:`headline` builds it from any result that has some of DESIGN.md's standard outputs
(``population``, ``births``, ``deaths``, ``immigration``, ``emigration``, ``net_migration``,
``migrant_stock``); an output the model does not have is NaN (shown as "-"). Counts are summed
over age and sex (and over origins for the migrant stock living in a region); rates are never
summed: :data:`RATES` are computed from summed numerators and denominators. Of an ensemble,
each member's totals come first and the quantile over members after, so the median of a
region's total is the median of totals, not a sum of medians.
:func:`format_headline` renders it in readable units (millions, thousands) for the command
line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .analyze import is_count
from .errors import EngineError, SelectionError, suggest
from .plot import horizon_groups
from .store import match_times

__all__ = [
    "HEADLINE",
    "RATES",
    "TOTAL",
    "headline",
    "format_headline",
    "headline_records",
    "regional_series",
    "is_count",
]

#: The standard outputs of the table, in its column order.
HEADLINE = (
    "population",
    "births",
    "deaths",
    "immigration",
    "emigration",
    "net_migration",
    "migrant_stock",
)
#: Rates per 1,000 residents: (numerator, denominator), each a column of the table, so that
#: the rate of a total is the ratio of totals.
RATES = {
    "net_migration_per_1000": ("net_migration", "population"),
    "emigration_per_1000": ("emigration", "population"),
}
#: The label of the row summed over every region of the model.
TOTAL = "all regions"
#: For an origin-destination output without a ``region`` dim, the dim that is its region.
_REGION_DIMS = {
    "immigration": ("destination",),
    "migrant_stock": ("destination",),
    "emigration": ("origin",),
}


def _region_dim(name: str, da: xr.DataArray) -> str | None:
    for dim in ("region", *_REGION_DIMS.get(name, ())):
        if dim in da.dims:
            return dim
    return None


def _regional(name: str, da: xr.DataArray) -> xr.DataArray:
    """``da`` summed over every dim but time, member and its region (renamed ``region``)."""
    dim = _region_dim(name, da)
    keep = {"time", "member", dim}
    other = [d for d in da.dims if d not in keep]
    out = da.sum(other, skipna=False) if other else da
    if dim is None:
        return out.expand_dims(region=[TOTAL])
    return out.rename({dim: "region"}) if dim != "region" else out


def regional_series(results: xr.Dataset | xr.DataTree, variable: str) -> xr.DataArray:
    """``variable`` over all saved times, by region (dims member, time, region): counts
    summed over their other dims (ages, sexes; origins for a stock living in a region).

    Raises
    ------
    SelectionError
        For a variable the results do not hold (with a suggestion), or a rate or share with
        dims besides its region, which cannot be totalled by summing.
    """
    parts = []
    held: set[str] = set()
    for _, ds in horizon_groups(results):
        held.update(str(v) for v in ds.data_vars)
        if variable in ds and "time" in ds[variable].dims:
            da = ds[variable]
            dim = _region_dim(variable, da)
            other = [d for d in da.dims if d not in ("time", "member", dim)]
            if other and not is_count(str(da.attrs.get("units", ""))):
                raise SelectionError(
                    f"{variable!r} ({da.attrs.get('units', 'no units')}) is not a count, so it "
                    f"is not summed over {', '.join(map(str, other))}; compare a count (a "
                    "rate's numerator and denominator) instead."
                )
            parts.append(_regional(variable, da))
    if not parts:
        raise SelectionError(
            f"no variable {variable!r} (over time) in these results; they hold "
            f"{', '.join(sorted(held)[:12])}." + suggest(variable, sorted(held))
        )
    return _concat(parts)


def _default_years(times: np.ndarray, unit: str) -> list[float]:
    first, last = float(times[0]), float(times[-1])
    if unit.strip().lower() not in {"year", "years", "yr", "a"}:
        return [first, last]
    wanted = [first] + [y for y in (2030.0, 2050.0, 2100.0) if first < y < last] + [last]
    saved = set(np.round(times, 9).tolist())
    return [y for y in dict.fromkeys(wanted) if round(y, 9) in saved]


def headline(
    results: xr.Dataset | xr.DataTree,
    *,
    years: Iterable[float] | None = None,
    regions: Sequence[str] | None = None,
    quantile: float = 0.5,
    total: bool = True,
) -> pd.DataFrame:
    """The headline table of ``results``, one row per region and year.

    Parameters
    ----------
    results : xarray.Dataset or xarray.DataTree
        A :func:`engine.simulate` Dataset, or an ensemble's (or :func:`engine.horizons`')
        horizon tree.
    years : iterable of float, optional
        Saved times to show (default: the first, 2030, 2050, 2100 where saved, and the last).
        A time that was not saved is a :class:`SelectionError` naming the nearest saved ones.
    regions : sequence of str, optional
        Regions to show (default: all); a misspelt one is a SelectionError with a suggestion.
    quantile : float
        Of an ensemble: the quantile over members of each member's totals (default median).
    total : bool
        Add a row summed over all the model's regions (:data:`TOTAL`) when there are several.

    Returns
    -------
    pandas.DataFrame
        Index (region, year); columns :data:`HEADLINE` then :data:`RATES` (per 1,000
        residents), in persons (stocks) and persons per year (flows); NaN where the model has
        no such output. ``attrs`` holds model, scenario, the units, the outputs found and
        which ones were derived.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("tiny", time_unit="year")
    >>> _ = m.dimension("region", ["North", "South"])
    >>> _ = m.stock("population", initial=1e6, dims=("region",), units="person")
    >>> _ = m.flow("births", "0.02 * population", into="population", dims=("region",),
    ...            units="person/year")
    >>> table = headline(engine.simulate(m, start=2020, stop=2030, dt=1), years=[2030])
    >>> round(float(table.loc[("North", 2030.0), "population"]))
    1218994
    """
    groups = horizon_groups(results)
    found: dict[str, list[xr.DataArray]] = {}
    for _, ds in groups:
        for name in HEADLINE:
            if name in ds and "time" in ds[name].dims:
                found.setdefault(name, []).append(_regional(name, ds[name]))
    if not found:
        raise EngineError(
            "no headline outputs in these results: they hold none of "
            f"{', '.join(HEADLINE)} (as time series)."
        )
    series = {name: _concat(parts) for name, parts in found.items()}
    derived = []
    if "net_migration" not in series and {"immigration", "emigration"} <= set(series):
        series["net_migration"] = series["immigration"] - series["emigration"]
        derived.append("net_migration")
    saved = np.unique(
        np.concatenate([np.asarray(s["time"].values, float) for s in series.values()])
    )
    unit = str(results.attrs.get("time_unit", ""))
    chosen = _default_years(saved, unit) if years is None else match_times(saved, list(years))
    all_regions = list(dict.fromkeys(str(r) for s in series.values() for r in s["region"].values))
    shown = _check_regions(regions, all_regions)
    rows = []
    index = []
    for region in shown + ([TOTAL] if total and len(all_regions) > 1 and regions is None else []):
        for year in chosen:
            row = {}
            for name in HEADLINE:
                row[name] = _value(series.get(name), region, year, quantile)
            rows.append(row)
            index.append((region, float(year)))
    table = pd.DataFrame(
        rows, index=pd.MultiIndex.from_tuples(index, names=["region", "year"]), columns=HEADLINE
    )
    for rate, (numerator, denominator) in RATES.items():
        table[rate] = 1000.0 * table[numerator] / table[denominator]
    units = {}
    for name in HEADLINE:
        declared = [str(ds[name].attrs.get("units", "")) for _, ds in groups if name in ds]
        flow = name not in ("population", "migrant_stock")
        units[name] = declared[0] if declared else ("person/year" if flow else "person")
    if "net_migration" in derived:
        units["net_migration"] = units.get("immigration", "person/year")
    units.update({rate: "per 1000 residents a year" for rate in RATES})
    members = any("member" in s.dims for s in series.values())
    table.attrs = {
        "model": str(results.attrs.get("model", "")),
        "scenario": str(results.attrs.get("scenario", "")),
        "scenario_title": str(results.attrs.get("scenario_title", "")),
        "time_unit": unit,
        "units": units,
        "outputs": sorted(found),
        "derived": derived,
        "statistic": f"quantile {quantile:g} of members' totals" if members else "single run",
    }
    return table


def _concat(parts: list[xr.DataArray]) -> xr.DataArray:
    if len(parts) == 1:
        return parts[0]
    out = xr.concat(parts, dim="time")
    _, first = np.unique(np.asarray(out["time"].values), return_index=True)
    return out.isel(time=np.sort(first))


def _check_regions(regions: Sequence[str] | None, known: list[str]) -> list[str]:
    if regions is None:
        return known
    out = []
    for region in regions:
        if region not in known and region != TOTAL:
            raise SelectionError(
                f"unknown region {region!r}; the regions are {', '.join(known)}."
                + suggest(region, [*known, TOTAL])
            )
        out.append(region)
    return out


def _value(da: xr.DataArray | None, region: str, year: float, quantile: float) -> float:
    if da is None:
        return float("nan")
    at = da.sel(time=year)
    if region == TOTAL:
        at = at.sum("region", skipna=False)
    elif region in [str(r) for r in at["region"].values]:
        at = at.sel(region=region)
    else:
        return float("nan")  # an output that does not cover this region
    if "member" in at.dims:
        values = np.asarray(at.values, dtype=float)
        values = values[np.isfinite(values)]
        return float(np.quantile(values, quantile)) if values.size else float("nan")
    return float(at.values)


def _scale(values: np.ndarray) -> tuple[float, str]:
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, "millions"
    if top >= 1e3:
        return 1e3, "thousands"
    return 1.0, ""


def format_headline(table: pd.DataFrame) -> str:
    """``table`` (of :func:`headline`) as text: a heading with model, scenario and years, then
    a block per region with a line per output, each in millions or thousands as its size calls
    for, "-" where the model has no such output."""
    attrs = table.attrs
    years = sorted({float(y) for y in table.index.get_level_values("year")})
    heading = [f"model {attrs.get('model') or '?'}"]
    if attrs.get("scenario"):
        title = attrs.get("scenario_title")
        heading.append(f"scenario {attrs['scenario']}" + (f" ({title})" if title else ""))
    heading.append("years " + ", ".join(f"{y:g}" for y in years))
    lines = [" - ".join(heading)]
    if attrs.get("statistic") and attrs["statistic"] != "single run":
        lines.append(f"({attrs['statistic']})")
    units = attrs.get("units", {})
    width = 12
    for region in dict.fromkeys(table.index.get_level_values("region")):
        part = table.xs(region, level="region")
        lines.append("")
        lines.append(f"{region:<46}" + "".join(f"{y:>{width}g}" for y in part.index))
        for name in table.columns:
            values = np.asarray(part[name].values, dtype=float)
            if name in RATES:
                label, factor, digits = "residents, a year", 1.0, 1
            else:
                factor, label = _scale(values)
                digits = 2 if factor == 1e6 else 1 if factor == 1e3 else 0
                if str(units.get(name, "")).endswith("/year"):
                    label = f"{label} a year" if label else "a year"
            cells = ["-" if not np.isfinite(v) else f"{v / factor:,.{digits}f}" for v in values]
            text = f"  {name}" + (f" ({label})" if label else "")
            lines.append(f"{text:<46}" + "".join(f"{c:>{width}}" for c in cells))
    missing = [
        n
        for n in HEADLINE
        if n not in attrs.get("outputs", []) and n not in attrs.get("derived", [])
    ]
    lines.append("")
    if missing:
        lines.append(f"-: the model has no {', '.join(missing)}")
    if attrs.get("derived"):
        lines.append("net_migration = immigration - emigration (the model has no net_migration)")
    lines.append("rates: totals of numerators over totals of residents (never a sum of rates)")
    return "\n".join(lines)


def headline_records(table: pd.DataFrame) -> dict[str, Any]:
    """``table`` as JSON-ready data: the heading's fields and one record per row (null where
    the model has no such output)."""
    records = []
    for (region, year), row in table.iterrows():
        record: dict[str, Any] = {"region": region, "year": float(year)}
        for name, value in row.items():
            record[str(name)] = None if not np.isfinite(value) else float(value)
        records.append(record)
    return {**table.attrs, "years": sorted({r["year"] for r in records}), "rows": records}
