"""What an agency reads: a self-contained HTML report, and tidy CSV / Excel exports.

:func:`write_report` renders the scenario, the parameters, per-horizon summary tables,
fan charts (embedded as PNG, so the page is one file) and the provenance of a result.
:func:`export_table` writes results in tidy long format (one row per value) to CSV or Excel.
Both take a ``simulate`` Dataset or an ensemble's horizon DataTree.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .analyze import is_count
from .errors import EngineError, SelectionError, suggest
from .exports import about_sheet, export_members
from .files import check_output_file
from .plot import fan_chart, horizon_groups, plain_text
from .store import completion, unfinished_note
from .tables import TOTAL

__all__ = [
    "write_report",
    "write_backtest_report",
    "export_table",
    "tidy_frame",
    "summary_frame",
    "about_sheet",
]

QUANTILES = (0.05, 0.5, 0.95)


def _done_members(results: xr.Dataset | xr.DataTree) -> np.ndarray | None:
    """Indices of the members run so far in an unfinished sweep (None: all of them)."""
    if completion(results) is None or not isinstance(results, xr.DataTree):
        return None
    root = results.to_dataset(inherit=False)
    if "status" not in root:
        return None
    return np.flatnonzero(np.asarray(root["status"].values) >= 0)


def tidy_frame(
    results: xr.Dataset | xr.DataTree, variables: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per value: horizon, variable, units, time, member, the model's dims, value.

    Of an unfinished sweep, only the members run so far (a UserWarning says how many)."""
    frames = []
    done = _done_members(results)
    if done is not None:
        import warnings

        warnings.warn(
            f"{unfinished_note(results)}; only those are exported. Run the sweep "
            "again with the same arguments to finish it.",
            UserWarning,
            stacklevel=3,
        )
    for horizon, ds in horizon_groups(results):
        if done is not None and "member" in ds.dims:
            ds = ds.isel(member=done)
        names = [str(v) for v in ds.data_vars] if variables is None else list(variables)
        for name in names:
            if name not in ds:
                continue
            da = ds[name]
            if not np.issubdtype(da.dtype, np.number):
                continue
            if da.ndim == 0:
                frame = pd.DataFrame({"value": [float(da.values)]})
            else:
                frame = da.to_dataframe(name="value").reset_index()
            frame.insert(0, "variable", str(da.attrs.get("name", name)))
            frame.insert(0, "horizon", horizon)
            frame["units"] = da.attrs.get("units", "")
            frames.append(frame)
    if variables is not None:
        held = sorted({str(v) for _, ds in horizon_groups(results) for v in ds.data_vars})
        for name in variables:
            if name not in held:
                raise SelectionError(
                    f"no variable {name!r} to export; the results hold "
                    f"{', '.join(held[:12])}{' ...' if len(held) > 12 else ''}."
                    + suggest(name, held)
                )
    if not frames:
        raise EngineError("nothing to export: no numeric variables found.")
    out = pd.concat(frames, ignore_index=True, sort=False)
    scenario = results.attrs.get("scenario")
    if scenario:
        out.insert(0, "scenario", str(scenario))  # a CSV has no attributes: a column
    leading = [
        c for c in ("scenario", "horizon", "variable", "units", "time", "member") if c in out
    ]
    rest = [c for c in out.columns if c not in leading and c != "value"]
    return out[leading + rest + ["value"]]


def export_table(
    results: xr.Dataset | xr.DataTree,
    path: str | Path,
    *,
    variables: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``results`` in tidy long format (one row per value and member) to ``.csv`` or
    ``.parquet``, streamed a block of members at a time, or ``.xlsx`` (a sheet a horizon)
    when it fits (:func:`engine.exports.export_members`). The quantile table is
    :func:`engine.exports.export_quantiles`."""
    return export_members(results, path, variables=variables, overwrite=overwrite)


def summary_frame(results: xr.Dataset | xr.DataTree, variables: Sequence[str]) -> pd.DataFrame:
    """Per horizon, variable and region: the value at the horizon's last save time, as 5% /
    median / 95% over members (or the single value of one run).

    Counts are summed over their dims but ``region`` member by member before the quantiles,
    with a row for all regions together; other variables (rates, shares) are never summed: a
    row per region when ``region`` is their only dim, else they are left out.
    """
    rows = []
    for horizon, ds in horizon_groups(results):
        for name in variables:
            if name not in ds or "time" not in ds[name].dims:
                continue
            da = ds[name].isel(time=-1)
            units = str(ds[name].attrs.get("units", ""))
            other = [d for d in da.dims if d not in ("member", "region")]
            if other and not is_count(units):
                continue  # a rate over ages or sexes: no total to show
            if other:
                da = da.sum(other, skipna=False)
            parts = (
                [(str(r), da.sel(region=r)) for r in da["region"].values]
                if ("region" in da.dims)
                else []
            )
            if "region" not in da.dims:
                parts.append(("", da))
            elif is_count(units) and len(parts) > 1:
                parts.append((TOTAL, da.sum("region", skipna=False)))
            for region, part in parts:
                values = np.atleast_1d(np.asarray(part.values, dtype=float))
                finite = values[np.isfinite(values)]
                low, mid, high = (
                    (np.quantile(finite, q) if finite.size else np.nan) for q in QUANTILES
                )
                rows.append(
                    {
                        "horizon": horizon,
                        "variable": name,
                        "region": region,
                        "time": float(ds["time"].values[-1]),
                        "p5": low,
                        "median": mid,
                        "p95": high,
                        "units": units,
                    }
                )
    frame = pd.DataFrame(rows)
    if len(frame) and not frame["region"].astype(bool).any():
        frame = frame.drop(columns="region")
    return frame


def _figure_tag(fig: Any, alt: str) -> str:
    buffer = io.BytesIO()
    with plain_text():
        fig.savefig(buffer, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img class="figure" alt="{html.escape(alt)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}'
        "</figcaption></figure>"
    )


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:,.4g}", border=0, classes="table", escape=True
    )


def write_report(
    results: xr.Dataset | xr.DataTree,
    path: str | Path,
    *,
    variables: Sequence[str] | None = None,
    title: str | None = None,
    overwrite: bool = False,
    reference: xr.Dataset | None = None,
) -> Path:
    """Write a self-contained HTML report of ``results`` to ``path`` (``.html``; an existing
    file only with ``overwrite``).

    ``variables`` chooses what is charted and summarised (default: up to six time-varying
    variables, stocks first). ``reference``: a Dataset the fan charts draw as a dashed line
    where it holds the variable and selection (:func:`engine.plot.fan_chart`), e.g. WPP's
    population (``corridor report`` fills it from the model's ``reference`` function).
    """
    path = check_output_file(path, suffixes=(".html", ".htm"), overwrite=overwrite, what="report")
    groups = horizon_groups(results)
    first = groups[0][1]
    if variables is None:
        timed = [
            str(v)
            for v in first.data_vars
            if "time" in first[v].dims and np.issubdtype(first[v].dtype, np.number)
        ]
        stocks = [v for v in timed if first[v].attrs.get("kind") == "stock"]
        variables = (stocks + [v for v in timed if v not in stocks])[:6]
    attrs = dict(results.attrs)
    model = attrs.get("model", "")
    scenario = attrs.get("scenario", "")
    heading = title or f"corridor report: {model}" + (f", scenario {scenario}" if scenario else "")
    parts = [f"<h1>{html.escape(heading)}</h1>"]
    about = " ".join(
        str(attrs[k]) for k in ("scenario_title", "scenario_description") if attrs.get(k)
    )
    if about:
        parts.append(
            f'<p class="scenario">Scenario {html.escape(str(scenario))}: '
            + html.escape(about)
            + "</p>"
        )
    count = first.sizes.get("member")
    members = "" if count is None else str(count)
    note = unfinished_note(results)
    if note:
        heading += f" ({note})"
        parts[0] = f"<h1>{html.escape(heading)}</h1>"  # the scenario's paragraph follows
        parts.append(
            '<p class="warning"><strong>'
            + html.escape(
                f"Warning: {note}. Members not yet run are left out of the summaries and charts; "
                "run the sweep again with the same arguments to finish it."
            )
            + "</strong></p>"
        )
        state = completion(results)
        assert state is not None
        members = f"{state[0]} of {state[1]}"
    parts.append(
        "<p>"
        + html.escape(
            f"{len(groups)} horizon group(s): "
            + ", ".join(
                f"{name} ({float(ds.time.values[0]):g} to {float(ds.time.values[-1]):g})"
                for name, ds in groups
            )
            + (f"; {members} ensemble members." if members else "; a single run.")
        )
        + "</p>"
    )
    parts.append("<h2>Summary by horizon</h2>")
    summary = summary_frame(results, variables)
    parts.append(_table(summary) if len(summary) else "<p>No time-varying variables.</p>")
    parts += _fan_charts(results, first, variables, reference)
    parameters = _parameters(attrs)
    if parameters is not None:
        parts.append("<h2>Parameters</h2>" + _table(parameters))
    provenance = pd.DataFrame(
        [{"key": k, "value": _short(v)} for k, v in attrs.items() if k not in ("parameters",)]
    )
    parts.append(
        "<h2>Provenance</h2>" + (_table(provenance) if len(provenance) else "<p>None recorded.</p>")
    )
    path.write_text(page(heading, parts), encoding="utf-8")
    return path


_STYLE = (
    "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
    "table.table{border-collapse:collapse;font-size:90%}"
    "table.table td,table.table th{padding:3px 8px;border-bottom:1px solid #ddd;"
    "text-align:right}figure{margin:1.5em 0}img.figure{max-width:100%}"
    "p.warning{background:#fff3cd;border:1px solid #e0b100;padding:0.6em}"
)


def page(heading: str, parts: Sequence[str]) -> str:
    """A self-contained HTML page: ``heading`` as its title, ``parts`` (HTML) as its body."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def _fan_charts(
    results: xr.Dataset | xr.DataTree,
    first: xr.Dataset,
    variables: Sequence[str],
    reference: xr.Dataset | None = None,
) -> list[str]:
    """Fan charts: of each count's total, then a section per region with each variable in
    that region (a rate is drawn per region only, never summed)."""
    parts = ["<h2>Fan charts</h2>"]
    bands = "median, 50% and 90% bands by horizon"
    if reference is not None and any(name in reference for name in variables):
        drawn = ", ".join(name for name in variables if name in reference)
        parts.append(
            '<p class="reference">Dashed line: '
            + html.escape(f"{reference.attrs.get('title', 'reference')} ({drawn})")
            + "</p>"
        )
    chart = functools.partial(fan_chart, reference=reference)
    regions: list[str] = []
    for name in variables:
        da = first[name]
        units = str(da.attrs.get("units", ""))
        other = [d for d in da.dims if d not in ("member", "time", "region")]
        if "region" in da.dims:
            regions += [str(r) for r in da["region"].values if str(r) not in regions]
        if is_count(units) or not (other or "region" in da.dims):
            where = f", {TOTAL}" if "region" in da.dims else ""
            parts.append(_figure_tag(chart(results, name), f"{name}{where}: {bands}"))
    for region in regions:
        charts = []
        for name in variables:
            da = first[name]
            other = [d for d in da.dims if d not in ("member", "time", "region")]
            if "region" not in da.dims or (other and not is_count(str(da.attrs.get("units")))):
                continue
            fig = chart(results, name, select={"region": region})
            charts.append(_figure_tag(fig, f"{name}, {region}: {bands}"))
        if charts:
            parts.append(
                f'<section class="region"><h3>{html.escape(region)}</h3>'
                + "".join(charts)
                + "</section>"
            )
    return parts


def _parameters(attrs: dict[str, Any]) -> pd.DataFrame | None:
    raw = attrs.get("parameters")
    if raw is None:
        return None
    try:
        values = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        return pd.DataFrame([{"parameters": _short(raw)}])
    return pd.DataFrame([{"parameter": k, "value": _short(v)} for k, v in values.items()])


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------- backtests
#: What issue 17 asks of a backtest's bands and median (drawn as guides on the charts).
BACKTEST_COVERAGE = {"coverage_80": (0.7, 0.9), "coverage_95": (0.9, 1.0)}
BACKTEST_BETTER = 0.6


def write_backtest_report(
    ds: xr.Dataset,
    path: str | Path,
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a self-contained HTML page of a backtest (:func:`engine.backtest_dataset`):
    for each scored variable, its error by horizon (mean absolute percentage error of the
    median, model and naive baseline), the share of cases where the model's median is closer
    than the baseline's, the coverage of the 80 % and 95 % bands (with issue 17's targets:
    70-90 %, >= 90 %, >= 60 %), and the table of every summary by horizon."""
    path = check_output_file(
        path, suffixes=(".html", ".htm"), overwrite=overwrite, what="backtest report"
    )
    summary = [str(v) for v in ds.data_vars if str(v).startswith("summary_")]
    names = backtest_names(ds)
    if not names:
        raise EngineError(
            "write_backtest_report: no summary_<name>_mean_ape in the Dataset; give "
            "engine.backtest_dataset(forecast, baseline)'s result."
        )
    attrs = dict(ds.attrs)
    heading = title or f"corridor backtest: {attrs.get('model', 'model')}"
    jump_offs = ", ".join(f"{int(j)}" for j in ds["jump_off"].values)
    members = attrs.get("members", ds.sizes.get("member", 1))
    parts = [
        f"<h1>{html.escape(heading)}</h1>",
        "<p>"
        + html.escape(
            f"Rolling-origin forecasts from jump-offs {jump_offs}, horizons "
            f"{int(ds['horizon'].min())} to {int(ds['horizon'].max())} years, "
            f"{members} member(s) each, scored against what was observed (cases without an "
            "observation left out). The naive baseline holds the rates of the jump-off."
        )
        + "</p>",
    ]
    for name in names:
        table = pd.DataFrame({"horizon": ds["horizon"].values})
        for column in [v for v in summary if v.startswith(f"summary_{name}_")]:
            table[column[len(f"summary_{name}_") :]] = ds[column].values
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(
            _figure_tag(_backtest_figure(ds, name), f"{name}: error and coverage by horizon")
        )
        parts.append(_table(table))
    provenance = pd.DataFrame([{"key": k, "value": _short(v)} for k, v in attrs.items()])
    parts.append(
        "<h2>Provenance</h2>" + (_table(provenance) if len(provenance) else "<p>None recorded.</p>")
    )
    path.write_text(page(heading, parts), encoding="utf-8")
    return path


def backtest_names(ds: xr.Dataset) -> list[str]:
    """The scored variables of a backtest Dataset (:func:`engine.backtest_dataset`): each
    ``<name>`` with a ``summary_<name>_mean_ape`` (the naive baseline's columns are not names)."""
    return [
        str(v)[len("summary_") : -len("_mean_ape")]
        for v in ds.data_vars
        if str(v).startswith("summary_")
        and str(v).endswith("_mean_ape")
        and not str(v).endswith("_naive_mean_ape")
    ]


def _backtest_figure(ds: xr.Dataset, name: str) -> Any:
    """Three panels by horizon: mean APE (model, naive), the share better than naive, the
    bands' coverage, each with its target."""
    import matplotlib.pyplot as plt

    horizon = ds["horizon"].values
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))

    def series(key: str) -> np.ndarray | None:
        full = f"summary_{name}_{key}"
        return None if full not in ds else np.asarray(ds[full].values, dtype=float)

    ape, naive = series("mean_ape"), series("naive_mean_ape")
    axes[0].plot(horizon, 100 * ape, marker="o", label="model")  # type: ignore[operator]
    if naive is not None:
        axes[0].plot(horizon, 100 * naive, marker="s", linestyle="--", label="naive")
    axes[0].set(title="Mean absolute % error of the median", xlabel="horizon (years)", ylabel="%")
    axes[0].legend()
    better = series("better_than_naive")
    if better is not None:
        axes[1].plot(horizon, 100 * better, marker="o")
        axes[1].axhline(100 * BACKTEST_BETTER, color="grey", linestyle=":")
    axes[1].set(
        title="Cases where the model beats naive",
        xlabel="horizon (years)",
        ylabel="%",
        ylim=(0, 100),
    )
    for key, style in (("coverage_80", "o"), ("coverage_95", "s")):
        values = series(key)
        if values is not None and np.isfinite(values).any():
            (line,) = axes[2].plot(
                horizon, 100 * values, marker=style, label=key.replace("_", " ") + " %"
            )
            low, high = BACKTEST_COVERAGE[key]
            if key == "coverage_80":
                axes[2].axhspan(100 * low, 100 * high, color=line.get_color(), alpha=0.12)
            else:
                axes[2].axhline(100 * low, color=line.get_color(), linestyle=":")
    axes[2].set(title="Band coverage", xlabel="horizon (years)", ylabel="%", ylim=(0, 100))
    if axes[2].lines:
        axes[2].legend()
    fig.tight_layout()
    return fig
