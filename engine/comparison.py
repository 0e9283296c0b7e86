"""Scenarios side by side: a table of differences at chosen years, a chart per variable and
region with every scenario's median and band, and a page holding both.

Each input is a result as corridor writes it (a :func:`engine.simulate` Dataset or an
ensemble's horizon tree), labelled by its scenario. Values are by region: counts summed over
their other dims member by member, then the median (and band) over members
(:func:`engine.tables.regional_series`); rates are never summed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import EngineError, SelectionError, suggest
from .files import check_output_file
from .plot import _pyplot, _reference_line, plain_text
from .store import match_times, unfinished_note
from .tables import TOTAL, is_count, regional_series

__all__ = ["compare", "comparison_chart", "write_comparison", "scenario_label"]

_COLOURS = ("#1f4e79", "#c44e52", "#55a868", "#8172b2", "#ccb974", "#64b5cd", "#937860")


def scenario_label(results: xr.Dataset | xr.DataTree, fallback: str = "") -> str:
    """The name a result goes by in a comparison: its scenario, else ``fallback``."""
    return str(results.attrs.get("scenario") or fallback or results.attrs.get("model", "?"))


def _check_inputs(results: Mapping[str, Any]) -> None:
    if not isinstance(results, Mapping) or len(results) < 2:
        raise EngineError(
            "compare needs at least two results, as {scenario name: result}; got "
            f"{len(results) if isinstance(results, Mapping) else type(results).__name__}."
        )


def _at(series: xr.DataArray, region: str, year: float, quantile: float) -> float:
    at = series.sel(time=year)
    if region == TOTAL:
        at = at.sum("region", skipna=False)
    else:
        labels = [str(r) for r in at["region"].values]
        if region not in labels:
            return float("nan")
        at = at.sel(region=at["region"].values[labels.index(region)])
    values = np.atleast_1d(np.asarray(at.values, dtype=float))
    values = values[np.isfinite(values)]
    return float(np.quantile(values, quantile)) if values.size else float("nan")


def compare(
    results: Mapping[str, xr.Dataset | xr.DataTree],
    *,
    variables: Sequence[str] = ("population", "net_migration"),
    regions: Sequence[str] | None = None,
    years: Sequence[float] | None = None,
    quantile: float = 0.5,
) -> pd.DataFrame:
    """A table of scenarios' values and their differences from the first (the reference).

    Parameters
    ----------
    results : mapping of str to Dataset or DataTree
        ``{scenario: result}``, at least two; the first is the reference.
    variables : sequence of str
        Variables to compare (counts are totalled by region; net migration is derived from
        immigration and emigration where a result has no ``net_migration``).
    regions : sequence of str, optional
        Regions (default: every region of the reference, and their total for counts).
    years : sequence of float, optional
        Saved times (default: 2030, 2050 and 2100 where saved, else the last); a time one of
        the results did not save is a SelectionError naming the nearest.
    quantile : float
        Of ensembles: the quantile over members of each member's totals (default: median).

    Returns
    -------
    pandas.DataFrame
        Index (variable, region, year); a column per scenario, then ``<scenario> - <ref>``
        for each other scenario. ``attrs``: reference, scenarios, units.
    """
    _check_inputs(results)
    names = list(results)
    series: dict[str, dict[str, xr.DataArray]] = {name: {} for name in names}
    units: dict[str, str] = {}
    for variable in variables:
        for name in names:
            series[name][variable] = _series(results[name], variable, name)
        units[variable] = str(series[names[0]][variable].attrs.get("units", ""))
    reference = series[names[0]][variables[0]]
    chosen = _years(results, series, years)
    known = [str(r) for r in reference["region"].values]
    if regions is None:
        shown = known + ([TOTAL] if len(known) > 1 else [])
    else:
        for region in regions:
            if region not in known and region != TOTAL:
                raise SelectionError(
                    f"unknown region {region!r}; the regions are {', '.join(known)}."
                    + suggest(region, [*known, TOTAL])
                )
        shown = list(regions)
    rows, index = [], []
    for variable in variables:
        count = is_count(units[variable]) or variable == "net_migration"
        for region in shown:
            if region == TOTAL and not count:
                continue  # a rate's total is not a sum of rates
            for year in chosen:
                row = {name: _at(series[name][variable], region, year, quantile) for name in names}
                for name in names[1:]:
                    row[f"{name} - {names[0]}"] = row[name] - row[names[0]]
                rows.append(row)
                index.append((variable, region, float(year)))
    table = pd.DataFrame(
        rows, index=pd.MultiIndex.from_tuples(index, names=["variable", "region", "year"])
    )
    table.attrs = {"reference": names[0], "scenarios": names, "units": units}
    return table


def _series(result: xr.Dataset | xr.DataTree, variable: str, name: str) -> xr.DataArray:
    try:
        da = regional_series(result, variable)
    except SelectionError:
        if variable != "net_migration":
            raise
        try:
            da = regional_series(result, "immigration") - regional_series(result, "emigration")
        except SelectionError:
            raise SelectionError(
                f"scenario {name!r} has no net_migration, nor immigration and emigration to "
                "derive it from."
            ) from None
        da.attrs["units"] = "person/year"
    return da


def _years(
    results: Mapping[str, Any],
    series: dict[str, dict[str, xr.DataArray]],
    years: Sequence[float] | None,
) -> list[float]:
    common: set[float] | None = None
    for by_variable in series.values():
        for da in by_variable.values():
            times = {round(float(t), 9) for t in da["time"].values}
            common = times if common is None else common & times
    saved = np.array(sorted(common or ()))
    if years is None:
        wanted = [y for y in (2030.0, 2050.0, 2100.0) if round(y, 9) in (common or ())]
        return wanted or ([float(saved[-1])] if saved.size else [])
    try:
        return match_times(saved, list(years))
    except SelectionError as error:
        raise SelectionError(f"{error} (times saved by every compared result)") from None


def comparison_chart(
    results: Mapping[str, xr.Dataset | xr.DataTree],
    variable: str,
    *,
    region: str | None = None,
    ax: Any = None,
    reference: xr.Dataset | None = None,
) -> Any:
    """Every scenario's median (line) and 90% band (shade) of ``variable`` in ``region`` (or
    the total of the regions, for a count), on one chart. ``reference``: a Dataset whose
    ``variable`` (by ``time`` and ``region``) is drawn as a dashed line where it is the same
    thing, as on :func:`engine.plot.fan_chart` (e.g. WPP 2022 for demography and corridor)."""
    _check_inputs(results)
    plt = _pyplot()
    with plain_text():
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 4.5))
        else:
            fig = ax.figure
        units = ""
        scale, label = 1.0, ""
        line = None
        for k, (name, result) in enumerate(results.items()):
            da = _series(result, variable, name)
            charted = da
            units = str(da.attrs.get("units", units))
            if region is None or region == TOTAL:
                if not is_count(units) and variable != "net_migration":
                    raise SelectionError(
                        f"{variable!r} ({units}) is not a count: choose a region to chart."
                    )
                da = da.sum("region", skipna=False)
            else:
                labels = [str(r) for r in da["region"].values]
                if region not in labels:
                    raise SelectionError(
                        f"unknown region {region!r}; the regions are {', '.join(labels)}."
                        + suggest(region, labels)
                    )
                da = da.sel(region=da["region"].values[labels.index(region)])
            t = np.asarray(da["time"].values, dtype=float)
            if "member" in da.dims:
                values = da.transpose("time", "member").values
                q = np.nanquantile(values, [0.05, 0.5, 0.95], axis=1)
            else:
                q = np.tile(np.asarray(da.values, dtype=float), (3, 1))
            if k == 0:
                scale, label = _axis_scale(q[1], units)
                where = None if region is None or region == TOTAL else region
                line = _reference_line(reference, variable, {"region": where}, charted, t)
            colour = _COLOURS[k % len(_COLOURS)]
            if "member" in da.dims:
                ax.fill_between(t, q[0] / scale, q[2] / scale, color=colour, alpha=0.2, lw=0)
            note = unfinished_note(result)
            ax.plot(
                t, q[1] / scale, color=colour, lw=1.8, label=name + (f" ({note})" if note else "")
            )
        if line is not None and reference is not None:
            title = str(reference.attrs.get("title", "reference"))
            ax.plot(line[0], line[1] / scale, color="black", lw=1.2, ls="--", label=title)
        where = region or TOTAL
        ax.set_title(f"{variable}, {where}: {' vs '.join(results)}")
        ax.set_ylabel(f"{variable} ({label})" if label else variable)
        ax.set_xlabel("year")
        ax.legend(fontsize=8, title="scenario (median, 90% band)", title_fontsize=8)
        fig.tight_layout()
    return fig


def _axis_scale(values: np.ndarray, units: str) -> tuple[float, str]:
    """A readable axis: millions or thousands of the units (not "1e9 person")."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, f"millions of {units}" if units else "millions"
    if top >= 1e3:
        return 1e3, f"thousands of {units}" if units else "thousands"
    return 1.0, units


def write_comparison(
    results: Mapping[str, xr.Dataset | xr.DataTree],
    path: str | Path,
    *,
    variables: Sequence[str] = ("population", "net_migration"),
    regions: Sequence[str] | None = None,
    years: Sequence[float] | None = None,
    overwrite: bool = False,
    reference: xr.Dataset | None = None,
) -> Path:
    """A self-contained HTML page comparing the scenarios: their descriptions, the table of
    differences (:func:`compare`) and a chart per variable and region (with ``reference``'s
    line where it has the variable and region, see :func:`comparison_chart`)."""
    from .report import _figure_tag, _table, page

    path = check_output_file(path, suffixes=(".html", ".htm"), overwrite=overwrite, what="page")
    table = compare(results, variables=variables, regions=regions, years=years)
    names = list(results)
    heading = f"corridor comparison: {' vs '.join(names)}"
    parts = [f"<h1>{html.escape(heading)}</h1>", "<h2>Scenarios</h2><ul>"]
    for name, result in results.items():
        about = " ".join(
            str(result.attrs[k])
            for k in ("scenario_title", "scenario_description")
            if result.attrs.get(k)
        )
        note = unfinished_note(result)
        parts.append(
            f"<li><strong>{html.escape(name)}</strong>: {html.escape(about or 'no description')}"
            + (f" <em>({html.escape(note)})</em>" if note else "")
            + "</li>"
        )
    parts.append("</ul>")
    parts.append(f"<h2>Differences from {html.escape(names[0])}</h2>")
    parts.append(_table(table.reset_index()))
    shown_regions = sorted({str(r) for r in table.index.get_level_values("region")}, key=_order)
    for variable in variables:
        parts.append(f"<h2>{html.escape(variable)}</h2>")
        for region in shown_regions:
            if (variable, region) not in {(v, r) for v, r, _ in table.index}:
                continue
            parts.append(f'<section class="region"><h3>{html.escape(region)}</h3>')
            fig = comparison_chart(results, variable, region=region, reference=reference)
            parts.append(_figure_tag(fig, f"{variable}, {region}: {' vs '.join(names)}"))
            parts.append("</section>")
    path.write_text(page(heading, parts), encoding="utf-8")
    return path


def _order(region: str) -> tuple[int, str]:
    return (1 if region == TOTAL else 0, region)
