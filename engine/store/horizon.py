"""Horizons: the groups of a result, defined once.

Forecast users think in horizons (DESIGN.md, "Horizons"): ``short`` (the first 5 years, saved
quarterly, or every step when dt is larger), ``medium`` (years 5 to 20, yearly) and ``long``
(year 20 to the end, every 5 years). Horizons count from the start time, start inclusive and end
exclusive; the last group also holds the stop time. A model whose time unit is not a year gets
one group, ``all``, unless horizons are given.

Whatever their names, a result's horizons are read back with :func:`horizon_names`: the
groups its root's ``horizons`` attribute lists (written by :func:`horizons` and
:func:`engine.run_ensemble`), else every group over ``time``, in time order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import SelectionError, StoreError
from .names import _encode_dataset

__all__ = [
    "HORIZONS",
    "ANALYSIS_GROUPS",
    "horizon_spec",
    "select_horizons",
    "horizons",
    "horizon_names",
    "match_times",
]

HORIZONS: dict[str, tuple[float, float | None, float | None]] = {
    "short": (0.0, 5.0, 0.25),
    "medium": (5.0, 20.0, 1.0),
    "long": (20.0, None, 5.0),
}
_YEARS = {"year", "years", "yr", "yrs", "a", "annum"}
#: Groups of an ensemble's tree that hold analyses of the horizons, not horizons.
ANALYSIS_GROUPS = ("summary", "sensitivity")


def horizon_spec(
    time_unit: str, horizons: Mapping[str, Sequence[float | None]] | None = None
) -> dict[str, tuple[float, float | None, float | None]]:
    """The horizons in force: ``horizons`` checked, else the defaults for ``time_unit``.

    ``horizons`` maps a group name to ``(from, to, resolution)``: offsets from the start time in
    the model's time unit (``to`` None: to the end) and the spacing of saved times (None: every
    saved time).
    """
    if horizons is None:
        if time_unit.strip().lower() in _YEARS:
            return dict(HORIZONS)
        return {"all": (0.0, None, None)}
    if not isinstance(horizons, Mapping) or not horizons:
        raise StoreError(
            "horizons must be a non-empty mapping {name: (from, to, resolution)}, "
            "e.g. {'short': (0, 5, 0.25), 'long': (5, None, 1)}."
        )
    spec: dict[str, tuple[float, float | None, float | None]] = {}
    for name, value in horizons.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise StoreError(f"horizon name {name!r} must be a non-empty string without '/'.")
        try:
            low, high, resolution = value
            low = float(low)  # type: ignore[arg-type]
            high = None if high is None else float(high)
            resolution = None if resolution is None else float(resolution)
        except (TypeError, ValueError):
            raise StoreError(
                f"horizon {name!r}: give (from, to, resolution) numbers (to and "
                f"resolution may be None), got {value!r}."
            ) from None
        if high is not None and not high > low:
            raise StoreError(f"horizon {name!r}: its end {high} must be after its start {low}.")
        if resolution is not None and not resolution > 0:
            raise StoreError(f"horizon {name!r}: resolution {resolution} must be positive.")
        spec[name] = (low, high, resolution)
    return spec


def select_horizons(
    times: np.ndarray,
    start: float,
    stop: float,
    spec: Mapping[str, tuple[float, float | None, float | None]],
    saved: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Indices into ``times`` (increasing) of each horizon's times; empty horizons are left out.

    A horizon keeps, for each point of its grid, the nearest of ``times`` (so every time when
    they are sparser than the grid). The grid is round: the multiples of ``resolution`` inside
    the horizon (2045, 2050, ... for a long horizon from 2042 every 5 years; every year and
    quarter in the short and medium ones), so that the years a forecaster asks for are saved.
    With no resolution it keeps the times flagged in ``saved`` (default: all). The last
    horizon also keeps the stop time. ``extra`` (indices into ``times``) are kept too, each in
    the horizon that holds it: times asked for (``save_times=``).
    """
    times = np.asarray(times, dtype=float)
    if saved is None:
        saved = np.ones(times.shape, dtype=bool)
    scale = max(1.0, abs(start), abs(stop))
    tol = 1e-9 * scale
    out: dict[str, np.ndarray] = {}
    stop_taken = False
    for name, (low, high, resolution) in spec.items():
        t0 = start + low
        t1 = stop if high is None else min(stop, start + high)
        includes_stop = high is None or start + high >= stop - tol
        if stop_taken and t0 >= stop - tol:
            continue  # it would hold only the stop time, which an earlier horizon holds
        stop_taken = stop_taken or includes_stop
        inside = (times >= t0 - tol) & ((times < t1 - tol) | (includes_stop & (times <= t1 + tol)))
        candidates = np.flatnonzero(inside)
        if candidates.size == 0:
            continue
        if resolution is None:
            chosen = candidates[saved[candidates].astype(bool)]
            if includes_stop and abs(times[candidates[-1]] - stop) <= tol:
                chosen = np.union1d(chosen, candidates[-1:])
        else:
            local = times[candidates]
            first = math.ceil((local[0] - tol) / resolution - 1e-9) * resolution
            count = int(math.floor((local[-1] - first) / resolution + 1e-6)) + 1
            if count <= 0:  # no round time inside: the horizon's first time
                first, count = float(local[0]), 1
            grid = first + resolution * np.arange(count)
            right = (
                np.clip(np.searchsorted(local, grid), 1, local.size - 1)
                if local.size > 1
                else np.zeros(count, dtype=np.int64)
            )
            left = np.maximum(right - 1, 0)
            nearest = np.where(
                np.abs(local[left] - grid) <= np.abs(local[right] - grid), left, right
            )
            chosen = candidates[np.unique(nearest)]
            if includes_stop and abs(times[candidates[-1]] - stop) <= tol:
                chosen = np.union1d(chosen, candidates[-1:])
        if extra is not None and len(extra):
            asked = np.asarray(extra, dtype=np.int64)
            chosen = np.union1d(chosen, asked[inside[asked]])
        if chosen.size:
            out[name] = chosen.astype(np.int64)
    return out


def horizons(
    ds: xr.Dataset,
    horizons: Mapping[str, Sequence[float | None]] | None = None,
    *,
    start: float | None = None,
    stop: float | None = None,
) -> xr.DataTree:
    """Split a run's Dataset into the horizon :class:`xarray.DataTree`.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`engine.simulate` (a ``time`` dim; ``time_unit`` in its attrs).
    horizons : mapping, optional
        ``{name: (from, to, resolution)}`` offsets from the start; default: DESIGN.md's short /
        medium / long for models in years, else one group ``all``.
    start, stop : float, optional
        The run's start and stop (default: the first and last time of ``ds``).

    Returns
    -------
    xarray.DataTree
        One group per horizon with its own ``time`` coordinate; variables without a time dim
        (parameters) and the Dataset's attrs in the root. Names with "/" are encoded (U+2215;
        see :func:`restore_names`).

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="year")
    >>> m.param("k", 0.1)
    >>> m.stock("x", initial=1.0)
    >>> m.flow("loss", "k * x", out_of="x")
    >>> tree = engine.horizons(engine.simulate(m, start=2025, stop=2100, dt=0.25))
    >>> [len(tree[h].time) for h in ("short", "medium", "long")]
    [20, 15, 12]
    """
    if "time" not in ds.dims:
        raise StoreError("horizons() needs a Dataset with a 'time' dim (a result of simulate).")
    times = np.asarray(ds["time"].values, dtype=float)
    first = float(times[0]) if start is None else float(start)
    last = float(times[-1]) if stop is None else float(stop)
    unit = str(ds.attrs.get("time_unit", ds["time"].attrs.get("units", "")))
    spec = horizon_spec(unit, horizons)
    chosen = select_horizons(times, first, last, spec)
    timed = [name for name, var in ds.data_vars.items() if "time" in var.dims]
    root = _encode_dataset(ds.drop_vars(timed).drop_dims("time", errors="ignore"))
    root.attrs = {**ds.attrs, "horizons": json.dumps(spec)}
    groups = {"/": root}
    for name, index in chosen.items():
        part = ds[timed].isel(time=index)
        part.attrs = {}
        groups[name] = _encode_dataset(part)
    return xr.DataTree.from_dict(groups)


def horizon_names(tree: xr.DataTree) -> list[str]:
    """The horizon groups of a result tree, in time order, whatever their names.

    The groups named in the root's ``horizons`` attribute (a JSON mapping, as
    :func:`horizons` and :func:`engine.run_ensemble` write it) that the tree holds with a
    ``time`` dim; when the attribute is absent, is not such a mapping (a store's attributes
    are not trusted) or names none of the tree's groups, every child group with a ``time``
    dim but the analyses (:data:`ANALYSIS_GROUPS`). Ordered by their first time (stable: the
    declared order breaks ties; a group with no times goes last).

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("decay", time_unit="year")
    >>> m.param("k", 0.1)
    >>> m.stock("x", initial=1.0)
    >>> m.flow("loss", "k * x", out_of="x")
    >>> run = engine.simulate(m, start=0, stop=30, dt=1)
    >>> horizon_names(engine.horizons(run, {"near": (0, 10, 1), "far": (10, None, 5)}))
    ['near', 'far']
    """

    def timed(names: list[str]) -> list[tuple[str, xr.DataTree]]:
        nodes = [(name, tree.children[name]) for name in names if name in tree.children]
        return [(name, node) for name, node in nodes if "time" in node.dims]

    groups = timed(_declared_horizons(tree))
    if not groups:
        groups = timed([str(n) for n in tree.children if n not in ANALYSIS_GROUPS])

    def first_time(group: tuple[str, xr.DataTree]) -> float:
        times = np.asarray(group[1].coords["time"].values)
        return float(times[0]) if times.size else math.inf

    return [name for name, _ in sorted(groups, key=first_time)]


def _declared_horizons(tree: xr.DataTree) -> list[str]:
    """The names in the tree's ``horizons`` attribute (a JSON object); [] if it is not one."""
    text = tree.attrs.get("horizons")
    if not isinstance(text, str):
        return []
    try:
        spec = json.loads(text)
    except ValueError:
        return []
    return [str(name) for name in spec] if isinstance(spec, dict) else []


def match_times(saved: Sequence[float] | np.ndarray, wanted: Sequence[float]) -> list[float]:
    """The saved times equal to each of ``wanted`` (to rounding): never the nearest in their
    place, so a pyramid asked for 2050 never silently shows 2052.

    Raises
    ------
    SelectionError
        For a time that was not saved, naming the nearest saved times on either side (and
        how to save it: ``--years`` / ``save_times=``).

    Examples
    --------
    >>> match_times([2045.0, 2050.0, 2055.0], [2050])
    [2050.0]
    >>> match_times([2042.0, 2047.0, 2052.0], [2050])
    Traceback (most recent call last):
    ...
    engine.errors.SelectionError: time 2050 was not saved; the nearest saved times are 2047 and \
2052. Run again saving it (--years / save_times=).
    """
    times = np.sort(np.asarray(saved, dtype=float))
    if times.size == 0:
        raise SelectionError("the results hold no saved times.")
    scale = max(1.0, float(np.abs(times).max()))
    out = []
    for value in wanted:
        try:
            target = float(value)
        except (TypeError, ValueError):
            raise SelectionError(f"time {value!r} is not a number.") from None
        k = int(np.searchsorted(times, target))
        near = [times[i] for i in (k - 1, k) if 0 <= i < times.size]
        hit = [t for t in near if abs(t - target) <= 1e-9 * scale]
        if hit:
            out.append(float(hit[0]))
            continue
        names = " and ".join(f"{t:g}" for t in near)
        raise SelectionError(
            f"time {target:g} was not saved; the nearest saved "
            f"time{'s are' if len(near) > 1 else ' is'} {names}. Run again saving it "
            "(--years / save_times=)."
        )
    return out
