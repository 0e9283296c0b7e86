"""Figures a forecaster reads: fan charts by horizon, population pyramids, sensitivity bars.

Every function takes results as corridor writes them (a ``simulate`` Dataset, or the horizon
DataTree of an ensemble with a ``member`` dim per group) and returns a matplotlib Figure,
labelled with units and scenario. :func:`save_figure` writes PNG and/or SVG. matplotlib is
imported lazily with the non-interactive Agg backend, so nothing here needs a display.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xarray as xr

from .analyze import is_count
from .errors import EngineError, SelectionError, suggest
from .store import horizon_names, match_times

__all__ = ["fan_chart", "population_pyramid", "sensitivity_chart", "save_figure", "horizon_groups"]

#: Shades of successive horizons in a fan chart (the default short, medium, long in turn).
_SHADES = ("#d9e7f5", "#eef3e2", "#f7ecdf")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


_F = TypeVar("_F", bound=Callable[..., Any])


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    """Math text off while figures are made and drawn: names and units come from model
    files, and a ``$`` in them is shown as written, not parsed as TeX (which can fail)."""
    with _pyplot().rc_context({"text.parse_math": False}):
        yield


def _plain_text(function: _F) -> _F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plain_text():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def horizon_groups(results: xr.Dataset | xr.DataTree) -> list[tuple[str, xr.Dataset]]:
    """(horizon name, Dataset) pairs in time order; a plain Dataset is one group "all".

    The horizons of a tree are read by :func:`engine.store.horizon_names`: the groups its
    ``horizons`` attribute names (as :func:`engine.horizons` and :func:`engine.run_ensemble`
    write it), whatever their names; without that attribute, every child group with a
    ``time`` dim but ``summary`` and ``sensitivity``.
    """
    if isinstance(results, xr.Dataset):
        return [("all", results)]
    groups = [(name, results[name].to_dataset()) for name in horizon_names(results)]
    if not groups and "time" in results.ds.dims:
        groups.append(("all", results.to_dataset()))  # a single run stored as a tree
    if not groups:
        raise EngineError(
            "the results hold no horizon groups with a time dim; the tree's "
            f"groups are {sorted(map(str, results.children))}."
        )
    return groups


def _pick(da: xr.DataArray, dim: str, value: Any) -> xr.DataArray:
    """``da`` at element ``value`` of ``dim`` (None: summed over it); a dim or element it does
    not have is a SelectionError with a suggestion."""
    if dim not in da.dims:
        dims = [str(d) for d in da.dims if d not in ("time", "member")]
        raise SelectionError(
            f"{da.name!r} has no dimension {dim!r}; its dims are {', '.join(dims) or 'none'}."
            + suggest(str(dim), dims)
        )
    if value is None:
        return da.sum(dim, skipna=False)
    labels = [str(v) for v in da[dim].values]
    if str(value) not in labels:
        raise SelectionError(
            f"{dim} {value!r} is not in {da.name!r}; its {dim} elements are "
            f"{', '.join(labels[:12])}{' ...' if len(labels) > 12 else ''}."
            + suggest(str(value), labels)
        )
    return da.sel({dim: da[dim].values[labels.index(str(value))]})


def _select(da: xr.DataArray, selection: dict[str, Any] | None) -> xr.DataArray:
    for dim, value in (selection or {}).items():
        da = _pick(da, dim, value)
    other = [d for d in da.dims if d not in ("time", "member")]
    if other:
        units = str(da.attrs.get("units", ""))
        if not is_count(units):
            raise SelectionError(
                f"{da.name!r} ({units or 'no units'}) is not a count, so it is not summed over "
                f"{', '.join(map(str, other))}: choose an element of each (select "
                f"{{{other[0]!r}: ...}}, --select {other[0]}=...)."
            )
        # totals over what was not selected (ages, sexes); a failed member stays NaN
        da = da.sum(other, skipna=False)
    return da


def readable_scale(values: np.ndarray) -> tuple[float, str]:
    """(divisor, word) putting ``values`` in readable units: millions, thousands or as they
    are (1.0, "")."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, "millions"
    if top >= 1e4:
        return 1e3, "thousands"
    return 1.0, ""


def _label(da: xr.DataArray, name: str) -> str:
    units = da.attrs.get("units", "")
    return f"{name} ({units})" if units else name


@_plain_text
def fan_chart(
    results: xr.Dataset | xr.DataTree,
    variable: str,
    *,
    select: dict[str, Any] | None = None,
    title: str | None = None,
    ax: Any = None,
    reference: xr.Dataset | None = None,
) -> Any:
    """Median and 50% / 90% bands of ``variable`` over time, shaded by horizon.

    ``select`` picks elements (``{"region": "Europe"}``); other dims are summed. Without a
    ``member`` dim (a single run) the line is drawn alone. ``reference``: a Dataset to draw
    ``variable`` against as a dashed line (WPP's population, say; its ``title`` attribute is
    the legend), with the same selection and sum; left out when it does not hold that
    variable, selection or the same elements of a summed dim.
    """
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    groups = horizon_groups(results)
    label = variable
    times, lines, spans = [], [], []
    has_members = False
    for name, ds in groups:
        if variable not in ds:
            held = sorted(map(str, ds.data_vars))
            raise SelectionError(
                f"no variable {variable!r} in the {name!r} horizon; it holds "
                f"{', '.join(held[:12])}{' ...' if len(held) > 12 else ''}."
                + suggest(variable, held)
            )
        da = _select(ds[variable], select)
        label = _label(da, variable)
        t = np.asarray(da["time"].values, dtype=float)
        if "member" in da.dims:
            has_members = True
            values = da.transpose("time", "member").values
            lines.append(np.nanquantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1))
        else:
            lines.append(np.tile(np.asarray(da.values, dtype=float), (5, 1)))
        times.append(t)
        if len(t):
            spans.append((name, t[0]))
    # one continuous line across horizons; each horizon shaded up to where the next begins
    t_all = np.concatenate(times)
    q = np.concatenate(lines, axis=1)
    scale, scaled = readable_scale(q[2])
    if scale != 1.0:  # millions of persons, not "1e9 person" in the corner
        q = q / scale
        units = str(groups[0][1][variable].attrs.get("units", ""))
        label = f"{variable} ({scaled}{' of ' + units if units else ''})"
    for k, (name, begin) in enumerate(spans):
        end = spans[k + 1][1] if k + 1 < len(spans) else t_all[-1]
        if len(spans) > 1 or name != "all":  # a single run's one group needs no label
            ax.axvspan(begin, end, color=_SHADES[k % len(_SHADES)], alpha=0.6, lw=0)
            ax.text(
                begin,
                1.0,
                f" {name}",
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize=8,
                color="#555555",
            )
    if has_members:
        ax.fill_between(t_all, q[0], q[4], color="#1f77b4", alpha=0.25, lw=0)
        ax.fill_between(t_all, q[1], q[3], color="#1f77b4", alpha=0.45, lw=0)
    ax.plot(t_all, q[2], color="#1f4e79", lw=1.8)
    line = _reference_line(reference, variable, select, groups[0][1][variable], t_all)
    ref_label = ""
    if line is not None:
        ref_label = str(reference.attrs.get("title", "reference"))  # type: ignore[union-attr]
        ax.plot(line[0], line[1] / scale, color="#b03a2e", lw=1.3, ls="--", label=ref_label)
    scenario = _attr(results, "scenario")
    where = ", ".join(f"{k}={v}" for k, v in (select or {}).items() if v is not None)
    ax.set_title(
        _flagged(
            results,
            title
            or " - ".join(x for x in (label, where, scenario and f"scenario {scenario}") if x),
        )
    )
    ax.set_xlabel(f"time ({_attr(results, 'time_unit') or 'model time'})")
    ax.set_ylabel(label)
    handles = []
    if has_members:
        from matplotlib.patches import Patch

        handles = [
            Patch(color="#1f77b4", alpha=0.25, label="90% band"),
            Patch(color="#1f77b4", alpha=0.45, label="50% band"),
            plt.Line2D([], [], color="#1f4e79", label="median"),
        ]
    if line is not None:
        if not handles:
            handles = [plt.Line2D([], [], color="#1f4e79", label="model")]
        handles.append(plt.Line2D([], [], color="#b03a2e", ls="--", label=ref_label))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _reference_line(
    reference: xr.Dataset | None,
    variable: str,
    select: dict[str, Any] | None,
    charted: xr.DataArray,
    times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, values) of ``reference[variable]`` over the chart's time span, selected and
    summed as the chart's ``charted`` variable; None where it would not be the same thing."""
    if reference is None or variable not in reference or "time" not in reference[variable].dims:
        return None
    da = reference[variable]
    for dim, value in (select or {}).items():
        if value is None:
            continue
        if dim not in da.dims or str(value) not in {str(v) for v in da[dim].values}:
            return None  # no reference for this selection (e.g. one sex, both in the data)
        da = da.isel({dim: [str(v) for v in da[dim].values].index(str(value))})
    for kept in [d for d in da.dims if d != "time"]:
        # a sum is the same only over the same elements as the chart's
        if kept not in charted.dims or {str(v) for v in da[kept].values} != {
            str(v) for v in charted[kept].values
        }:
            return None
    # a time the reference has no figure for (a flow's last year) is left out, not summed to 0
    da = da.sum([d for d in da.dims if d != "time"], min_count=1)
    t = np.asarray(da["time"].values, dtype=float)
    values = np.asarray(da.values, dtype=float)
    inside = (t >= times[0]) & (t <= times[-1]) & np.isfinite(values)
    if not inside.any():
        return None
    return t[inside], values[inside]


@_plain_text
def population_pyramid(
    results: xr.Dataset | xr.DataTree,
    years: Sequence[float],
    *,
    variable: str = "population",
    region: str | None = None,
    ax: Any = None,
) -> Any:
    """Population by age and sex for the chosen years (the median over members)."""
    plt = _pyplot()
    frames = []
    for _, ds in horizon_groups(results):
        if variable in ds:
            frames.append(ds[variable])
    if not frames:
        raise EngineError(f"no variable {variable!r} to draw a pyramid from.")
    da = xr.concat(frames, dim="time") if len(frames) > 1 else frames[0]
    for dim in ("age", "sex"):
        if dim not in da.dims:
            raise EngineError(
                f"{variable!r} has no {dim!r} dimension; a pyramid needs age and sex."
            )
    if region is not None:
        da = _pick(da, "region", region)
    elif "region" in da.dims:
        da = da.sum("region", skipna=False)
    if "member" in da.dims:
        da = da.median("member")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 6))
    else:
        fig = ax.figure
    ages = np.arange(da.sizes["age"])
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.8, len(years)))
    # exactly the years asked for: one that was not saved is an error naming the nearest
    exact = match_times(np.asarray(da["time"].values, dtype=float), list(years))
    for colour, year in zip(colours, exact):
        snap = da.sel(time=year)
        female = snap.sel(sex="female").values
        male = snap.sel(sex="male").values
        ax.step(-male, ages, where="mid", color=colour, label=f"{float(snap.time):g}")
        ax.step(female, ages, where="mid", color=colour)
    ax.axvline(0, color="black", lw=0.8)
    units = da.attrs.get("units", "")
    ax.set_xlabel(f"male (left) / female (right) {units}".strip())
    ax.set_ylabel("age")
    where = region or "all regions"
    scenario = _attr(results, "scenario")
    ax.set_title(
        _flagged(
            results,
            f"{variable} by age and sex, {where}" + (f" - scenario {scenario}" if scenario else ""),
        )
    )
    ax.legend(title="year", fontsize=8)
    fig.tight_layout()
    return fig


@_plain_text
def sensitivity_chart(
    indices: xr.Dataset,
    output: str,
    *,
    horizon: str = "",
    top: int = 15,
    ax: Any = None,
    scenario: str = "",
) -> Any:
    """A tornado of first-order (S1) and total (ST) Sobol indices of ``output``.

    ``indices`` is a ``/sensitivity/<horizon>`` group: variables ``S1`` and ``ST`` (and
    optionally ``S1_conf``, ``ST_conf``) with dims ``output`` and ``parameter``.
    """
    plt = _pyplot()
    for needed in ("S1", "ST"):
        if needed not in indices:
            raise EngineError(
                f"sensitivity results need {needed!r}; found {sorted(map(str, indices.data_vars))}."
            )
    s1 = indices["S1"].sel(output=output).values
    st = indices["ST"].sel(output=output).values
    factor = "group" if "group" in indices["ST"].dims else "parameter"  # SALib groups
    params = [str(p) for p in indices[factor].values]
    order = np.argsort(st)[::-1][:top][::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(order) + 1.5))
    else:
        fig = ax.figure
    y = np.arange(len(order))
    ax.barh(y + 0.2, st[order], height=0.4, color="#c44e52", label="total (ST)")
    ax.barh(y - 0.2, s1[order], height=0.4, color="#4c72b0", label="first order (S1)")
    for name, colour, offset in (("ST_conf", "#7a2e30", 0.2), ("S1_conf", "#2a4570", -0.2)):
        if name in indices:
            conf = indices[name].sel(output=output).values[order]
            values = (st if name == "ST_conf" else s1)[order]
            ax.errorbar(values, y + offset, xerr=conf, fmt="none", ecolor=colour, lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([params[i] for i in order])
    ax.set_xlabel("Sobol index (share of output variance)")
    ax.set_title(
        f"sensitivity of {output}"
        + (f", {horizon} horizon" if horizon else "")
        + (f" - scenario {scenario}" if scenario else "")
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@_plain_text
def save_figure(fig: Any, path: str | Path, formats: Iterable[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``; returns the files."""
    path = Path(path)
    written = []
    for fmt in formats:
        target = path.with_suffix("." + fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=120, format=fmt)
        written.append(target)
    _pyplot().close(fig)
    return written


def _flagged(results: xr.Dataset | xr.DataTree, title: str) -> str:
    """``title``, with a second line saying so when the results are an unfinished sweep."""
    from .store import unfinished_note

    note = unfinished_note(results)
    return f"{title}\n({note})" if note else title


def _attr(results: xr.Dataset | xr.DataTree, key: str) -> str:
    value = results.attrs.get(key, "")
    return "" if value is None else str(value)
