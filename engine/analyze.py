"""Analysis of an ensemble: quantile summaries per horizon and Sobol / Morris sensitivity.

Summaries (``/summary/<horizon>``) hold, for every output over time, the 5, 25, 50, 75 and 95%
quantiles across members (a ``quantile`` dim; failed members, which are NaN, are left out).
Sensitivity indices (``/sensitivity/<horizon>``) are computed at the horizon's last save time,
per output element (an ``output`` dim, "name" or "name[element,...]") and sampled parameter
(a ``parameter`` dim): first-order and total Sobol indices ``S1``, ``ST`` with their 95%
confidence half-widths ``S1_conf``, ``ST_conf`` for a "saltelli" design; ``mu``, ``mu_star``,
``sigma`` and ``mu_star_conf`` (elementary effects on the unit design scale) for "morris".
An output that does not vary, or that has failed members, gets NaN indices.

Both read the store a block at a time, so a sweep larger than memory can be summarised.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity indices.
Computer Physics Communications 145, 280-297.
Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics
Communications 117, 35-43.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environmental Modelling & Software 22, 1509-1518.
Herman, J. & Usher, W. (2017). SALib: an open-source Python library for sensitivity analysis.
Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from numba import njit, prange

from . import budgets
from .errors import EngineError
from .store import Layout, Reader, Sink, horizon_names

__all__ = [
    "QUANTILES",
    "summarize",
    "analyze_sensitivity",
    "summaries",
    "sensitivity_groups",
    "is_count",
    "aggregated",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95


class _TreeReader:
    """Reads variables of a horizon DataTree (names as in the tree, decoded)."""

    def __init__(self, tree: xr.DataTree) -> None:
        self.tree = tree

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        node = self.tree if group == "/" else _node(self.tree, group)
        return np.asarray(node[name].variable[index].values)

    def chunks(self, group: str, name: str) -> tuple[int | None, int | None]:
        """(members, times) of a stored chunk of the variable; None where not chunked."""
        var = _node(self.tree, group)[name]
        encoding = var.encoding
        preferred = encoding.get("preferred_chunks", {})
        found = []
        for axis, dim in enumerate(("member", "time")):
            size = preferred.get(dim)
            if size is None and encoding.get("chunks"):
                size = encoding["chunks"][axis]
            found.append(None if size is None else int(size))
        return found[0], found[1]

    def release(self) -> None:
        budgets.release_memory()


def _series(
    tree: xr.DataTree,
) -> dict[str, list[tuple[str, tuple[str, ...], tuple[int, ...], dict[str, Any]]]]:
    """Per horizon group, its member-by-time variables: (name, dims, element shape, attrs)."""
    out = {}
    for group in _horizon_names(tree):
        ds = _node(tree, group).to_dataset(inherit=False)
        items = []
        for name, var in ds.data_vars.items():
            if var.dims[:2] == ("member", "time"):
                items.append(
                    (str(name), tuple(map(str, var.dims[2:])), var.shape[2:], dict(var.attrs))
                )
        out[group] = items
    return out


def _horizon_names(tree: xr.DataTree) -> list[str]:
    """The horizons of an ensemble's tree: those with a ``member`` dim."""
    return [name for name in horizon_names(tree) if "member" in _node(tree, name).dims]


def _node(tree: xr.DataTree, group: str) -> xr.DataTree:
    node = tree[group]
    assert isinstance(node, xr.DataTree)
    return node


def _element_coords(node: xr.DataTree) -> dict[str, Sequence[str]]:
    return {
        str(d): [str(e) for e in np.asarray(node[str(d)].values)]
        for d in node.dims
        if d not in ("member", "time") and d in node.coords
    }


def _element_labels(
    name: str, dims: Sequence[str], coords: Mapping[str, Sequence[str]]
) -> list[str]:
    if not dims:
        return [name]
    grids = np.meshgrid(*[np.asarray(coords[d], dtype=str) for d in dims], indexing="ij")
    labels = [",".join(parts) for parts in zip(*(g.ravel() for g in grids))]
    return [f"{name}[{label}]" for label in labels]


# ---------------------------------------------------------------------------- summaries


# The most histogram bins a column's order statistics use (the scratch is made this long).
_MAX_BINS = 4096


@njit(cache=True, error_model="numpy")
def _order_statistics(
    buf: np.ndarray,
    n: int,
    ranks: np.ndarray,
    values: np.ndarray,
    binned: np.ndarray,
    counts: np.ndarray,
    slot: np.ndarray,
    tmp: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``values[r]`` = the ``ranks[r]``-th smallest of ``buf[:n]`` (finite or infinite, no
    NaN; ``ranks`` ascending). All equal (a column no member changes): that value. Else a
    histogram over [min, max] finds each rank's bin (bins are monotone in the value, so counts
    place ranks exactly); only those bins are gathered, and sorted unless all their values are
    equal. ``binned``, ``counts``, ``slot`` and ``tmp`` are scratch (at least
    ``n``, :data:`_MAX_BINS`, :data:`_MAX_BINS` and ``n`` long), reused across columns."""
    lo = buf[0]
    hi = buf[0]
    for i in range(1, n):
        v = buf[i]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    if lo == hi:  # every member the same value (also +-inf): every order statistic is it
        for r in range(ranks.shape[0]):
            values[r] = lo
        return
    bins = max(1, min(_MAX_BINS, n // 4))
    scale = bins / (hi - lo)
    if not np.isfinite(scale):
        scale = 0.0  # infinite or huge range: one bin (then a sort of everything)
    counts[:bins] = 0
    slot[:bins] = -1
    for i in range(n):
        b = int((buf[i] - lo) * scale) if scale > 0.0 else 0
        if b >= bins:
            b = bins - 1
        elif b < 0:
            b = 0
        binned[i] = b
        counts[b] += 1
    # each rank's bin, and where each of those bins' elements go in tmp
    nr = ranks.shape[0]
    start = np.zeros(nr + 1, np.int64)
    rank_bin = np.empty(nr, np.int64)
    rank_before = np.empty(nr, np.int64)  # elements in the bins below
    used = 0
    before = 0
    b = 0
    for r in range(nr):
        while before + counts[b] <= ranks[r]:
            before += counts[b]
            b += 1
        rank_bin[r] = b
        rank_before[r] = before
        if slot[b] < 0:
            slot[b] = used
            start[used + 1] = start[used] + counts[b]
            used += 1
    fill = start[:used].copy()
    for i in range(n):
        k = slot[binned[i]]
        if k >= 0:
            tmp[fill[k]] = buf[i]
            fill[k] += 1
    for k in range(used):
        part = tmp[start[k] : start[k + 1]]
        first = part[0]
        for i in range(1, part.shape[0]):
            if part[i] != first:
                part.sort()
                break
    for r in range(nr):
        values[r] = tmp[start[slot[rank_bin[r]]] + ranks[r] - rank_before[r]]


_TILE = 8  # columns gathered together: one 64-byte cache line of a row


@njit(cache=True, error_model="numpy")
def _rank_plan(
    n: int, q: np.ndarray, ranks: np.ndarray, below: np.ndarray, above: np.ndarray
) -> int:  # pragma: no cover - compiled
    """numpy's "linear" rule for ``n`` values: each quantile's neighbours floor((n - 1) q)
    and the next (clipped), as positions ``below``/``above`` in ``ranks[:count]``, the
    distinct ranks ascending; returns ``count``."""
    last = n - 1
    nq = q.shape[0]
    lower = np.empty(nq, np.int64)
    upper = np.empty(nq, np.int64)
    for k in range(nq):
        index = last * q[k]
        lower[k] = last if index >= last else int(np.floor(index))
        upper[k] = min(lower[k] + 1, last)
    unique = np.unique(np.concatenate((lower, upper)))
    count = unique.shape[0]
    ranks[:count] = unique
    for k in range(nq):
        below[k] = np.searchsorted(unique, lower[k])
        above[k] = np.searchsorted(unique, upper[k])
    return count


@njit(cache=True, parallel=True, error_model="numpy")
def _column_quantiles(
    raw: np.ndarray, q: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    # numpy's "linear" rule: index (n - 1) q, neighbours floor and floor + 1 (clipped), and
    # numpy's _lerp, so the result has the bits of np.quantile; NaN members are left out.
    # Columns are gathered a tile at a time, so each cache line of raw is read once; scratch
    # and the ranks (the same for every column with the same count) are made once a tile.
    members = raw.shape[0]
    columns = raw.shape[1]
    nq = q.shape[0]
    tiles = (columns + _TILE - 1) // _TILE
    for tile in prange(tiles):
        c0 = tile * _TILE
        width = min(_TILE, columns - c0)
        bufs = np.empty((width, members))
        counts = np.zeros(width, np.int64)
        for m in range(members):
            for j in range(width):
                v = raw[m, c0 + j]
                if not np.isnan(v):
                    bufs[j, counts[j]] = v
                    counts[j] += 1
        binned = np.empty(members, np.int32)
        hist = np.empty(_MAX_BINS, np.int64)
        slot = np.empty(_MAX_BINS, np.int64)
        tmp = np.empty(members)
        ranks = np.empty(2 * nq, np.int64)
        below = np.empty(nq, np.int64)
        above = np.empty(nq, np.int64)
        values = np.empty(2 * nq)
        planned = -1
        distinct = 0
        for j in range(width):
            c = c0 + j
            n = counts[j]
            if n == 0:
                for k in range(nq):
                    out[k, c] = np.nan
                continue
            if n != planned:
                distinct = _rank_plan(n, q, ranks, below, above)
                planned = n
            _order_statistics(bufs[j], n, ranks[:distinct], values, binned, hist, slot, tmp)
            last = n - 1
            for k in range(nq):
                a = values[below[k]]
                b = values[above[k]]
                index = last * q[k]
                gamma = index - (-1.0 if index >= last else np.floor(index))
                diff = b - a
                if gamma >= 0.5:
                    out[k, c] = b - diff * (1.0 - gamma)
                else:
                    out[k, c] = a + diff * gamma


def member_quantiles(raw: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` over axis 0 leaving NaN (failed members) out: the bits of
    ``np.quantile`` (linear interpolation) on the members that are not NaN, all NaN where none
    is left. Columns run in parallel (numba), each a selection, not a sort; a column whose
    members all hold one value costs one pass."""
    q = np.asarray(q, dtype=float)
    flat = np.ascontiguousarray(raw.reshape(raw.shape[0], -1), dtype=float)
    out = np.empty((q.size, flat.shape[1]))
    if flat.shape[0] and flat.shape[1]:
        _column_quantiles(flat, q, out)
    else:
        out[:] = np.nan
    return out.reshape((q.size, *raw.shape[1:]))


def _quantile_dataset(
    reader: Reader,
    group: str,
    times: np.ndarray,
    items: Sequence[tuple[str, tuple[str, ...], tuple[int, ...], dict[str, Any]]],
    coords: Mapping[str, Sequence[str]],
    members: int,
    quantiles: Sequence[float],
) -> xr.Dataset:
    q = np.asarray(quantiles, dtype=float)
    data = {}
    used: set[str] = set()
    for name, dims, shape, attrs in items:
        values = np.empty((q.size, times.size, *shape))
        aggregate = aggregated(dims, str(attrs.get("units", ""))) and not any(
            other == f"{name}{TOTAL_SUFFIX}" for other, *_ in items
        )
        region = dims.index(REGION) if REGION in dims else None
        totals = (
            np.zeros((members, times.size, shape[region] if region is not None else 1))
            if aggregate
            else None
        )
        for where in _blocks(reader.chunks(group, name), members, times.size, shape):
            raw = _read_block(reader, group, name, where, members)
            values[(slice(None), *where[1:])] = member_quantiles(raw, q)
            if totals is not None:
                _add_totals(totals, raw, where, region)
            reader.release()
        keep = {k: attrs[k] for k in ("units", "long_name", "kind", "name") if k in attrs}
        data[name] = xr.Variable(("quantile", "time", *dims), values, keep)
        used.update(dims)
        if totals is not None:
            kept = (REGION,) if region is not None else ()
            total = member_quantiles(totals if kept else totals[:, :, 0], q)
            over = ", ".join(d for d in dims if d != REGION)
            data[f"{name}{TOTAL_SUFFIX}"] = xr.Variable(
                ("quantile", "time", *kept),
                total,
                {
                    **keep,
                    "name": f"{keep.get('name', name)}{TOTAL_SUFFIX}",
                    "long_name": f"{keep.get('long_name', name)}, total over {over} "
                    "(each member's total, then the quantiles)",
                },
            )
    ds_coords: dict[str, Any] = {"quantile": q, "time": times}
    ds_coords.update({d: np.array(coords[d], dtype=object) for d in used})
    return xr.Dataset(data, coords=ds_coords)


#: The dim a total keeps (DESIGN.md: regions are the dim ``region``).
REGION = "region"
#: Suffix of the variables of totals in summaries (``population_total``).
TOTAL_SUFFIX = "_total"


def is_count(units: str) -> bool:
    """True for units of people or money that add up (``person``, ``person/year``, ``USD``);
    False for rates, shares, ages and everything else, which are never summed."""
    text = units.replace(" ", "").lower()
    if not text or text in ("1", "dmnl", "year", "years") or text.startswith("1/"):
        return False
    head = text.split("/")[0]
    return any(word in head for word in ("person", "people", "usd", "migrant", "household"))


def aggregated(dims: Sequence[str], units: str) -> bool:
    """Whether a variable gets totals (summaries ``<name>_total``, sensitivity outputs
    ``name`` and ``name[region]``): a count with dims to sum over besides ``region``."""
    return is_count(units) and any(d != REGION for d in dims)


def _add_totals(
    totals: np.ndarray, raw: np.ndarray, where: tuple[slice, ...], region: int | None
) -> None:
    """Add a block's values (members, times, elements...) summed over every element dim but
    ``region`` into ``totals`` (members, times, regions); NaN (a failed member) stays NaN."""
    axes = tuple(2 + i for i in range(raw.ndim - 2) if i != region)
    summed = raw.sum(axis=axes) if axes else raw
    if region is None:
        totals[:, where[1], 0] += summed
    elif region == 0 and len(where) > 2:
        totals[:, where[1], where[2]] += summed  # the block's rows of regions
    else:
        totals[:, where[1], :] += summed


def _blocks(
    chunks: tuple[int | None, int | None], members: int, times: int, shape: tuple[int, ...]
) -> list[tuple[slice, ...]]:
    """Index tuples (all members, a block of times[, a block of the first element dim]) of
    about :data:`engine.budgets.SUMMARY_BLOCK_BYTES` each, whole stored chunks along time
    where they fit."""
    size = int(np.prod(shape, dtype=np.int64))
    block = budgets.time_block(members, size, times)
    stored = chunks[1]
    if stored and stored <= block:
        block -= block % stored  # decompress each stored chunk once
    rows = [(0, shape[0])] if shape else [(0, 0)]
    if shape and block == 1 and members * size * 8 > budgets.SUMMARY_BLOCK_BYTES:
        # one time step of all members is too large: split the first element dim too
        inner = max(1, size // shape[0])
        step = max(1, budgets.SUMMARY_BLOCK_BYTES // (members * inner * 8))
        rows = [(e0, min(shape[0], e0 + step)) for e0 in range(0, shape[0], step)]
    out: list[tuple[slice, ...]] = []
    for t0 in range(0, times, block):
        t = slice(t0, min(times, t0 + block))
        for e0, e1 in rows:
            out.append((slice(None), t, slice(e0, e1)) if shape else (slice(None), t))
    return out


def _read_block(
    reader: Reader, group: str, name: str, where: tuple[slice, ...], members: int
) -> np.ndarray:
    """One block of all members. Stored chunks are decompressed whole: when they span more
    times than the block (a store made before horizon variables were chunked along time),
    read a chunk of members at a time, so memory holds the block and one chunk, never a whole
    variable; else read the block at once (zarr decodes its chunks concurrently)."""
    step, stored = reader.chunks(group, name)
    span = where[1].stop - where[1].start
    if step is None or step >= members or (stored is not None and stored <= span):
        return reader.read(group, name, where)
    raw = np.empty((members, span, *reader.read(group, name, (slice(0, 0), *where[1:])).shape[2:]))
    for m0 in range(0, members, step):
        m1 = min(members, m0 + step)
        raw[m0:m1] = reader.read(group, name, (slice(m0, m1), *where[1:]))
    return raw


def summaries(
    sink: Sink, layout: Layout, quantiles: Sequence[float] = QUANTILES
) -> dict[str, xr.Dataset]:
    """Quantile summaries of an ensemble being written (``sink`` of :mod:`engine.store`)."""
    out = {}
    for group, (times, _) in layout.groups.items():
        items = [(v.name, v.dims, v.shape, v.attrs) for v in layout.variables if v.column >= 0]
        out[group] = _quantile_dataset(
            sink, group, times, items, layout.coords, layout.members, quantiles
        )
    return out


def summarize(tree: xr.DataTree, quantiles: Sequence[float] = QUANTILES) -> xr.DataTree:
    """Quantiles across members of every output, per horizon.

    Parameters
    ----------
    tree : xarray.DataTree
        An ensemble's horizon tree (from :func:`engine.run_ensemble` or
        :func:`engine.open_store`).
    quantiles : sequence of float
        Default 0.05, 0.25, 0.5, 0.75, 0.95.

    Returns
    -------
    xarray.DataTree
        One group per horizon; each variable has dims ``quantile``, ``time`` and its own.
        Failed (NaN) members are left out.
    """
    groups: dict[str, xr.Dataset] = {}
    for group, items in _series(tree).items():
        node = _node(tree, group)
        groups[group] = _quantile_dataset(
            _TreeReader(tree),
            group,
            np.asarray(node["time"].values, dtype=float),
            items,
            _element_coords(node),
            node.sizes["member"],
            quantiles,
        )
    if not groups:
        raise EngineError("no horizon group with 'member' and 'time' dims to summarise.")
    return xr.DataTree.from_dict(groups)


# ---------------------------------------------------------------------------- sensitivity


def _analyze_columns(
    kind: str,
    Y: np.ndarray,
    unit: np.ndarray,
    inputs: Sequence[str],
    seed: int,
    groups: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Indices for every column of ``Y`` (members x columns): name -> (columns x inputs), or
    (columns x groups) with SALib groups (in order of first appearance)."""
    problem: dict[str, Any] = {
        "num_vars": len(inputs),
        "names": list(inputs),
        "bounds": [[0.0, 1.0]] * len(inputs),
    }
    width = len(inputs)
    if groups is not None:
        problem["groups"] = list(groups)
        width = len(dict.fromkeys(groups))
    names = (
        ("S1", "S1_conf", "ST", "ST_conf")
        if kind == "saltelli"
        else ("mu", "mu_star", "sigma", "mu_star_conf")
    )
    out = {k: np.full((Y.shape[1], width), np.nan) for k in names}
    for column in range(Y.shape[1]):
        y = np.ascontiguousarray(Y[:, column])
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0.0:
            continue  # undefined: a failed member, or an output that does not vary
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if kind == "saltelli":
                from SALib.analyze import sobol

                # SALib reseeds only for a truthy seed; seed + 1 keeps seed=0 reproducible.
                result = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=True,
                    num_resamples=NUM_RESAMPLES,
                    conf_level=CONF_LEVEL,
                    print_to_console=False,
                    seed=seed + 1,
                )
            else:
                from SALib.analyze import morris

                from .sampling import MORRIS_LEVELS

                result = morris.analyze(
                    problem,
                    unit,
                    y,
                    num_resamples=NUM_RESAMPLES,
                    conf_level=CONF_LEVEL,
                    print_to_console=False,
                    num_levels=MORRIS_LEVELS,
                    seed=seed + 1,
                )
        for k in names:
            out[k][column] = np.asarray(result[k], dtype=float)
    return out


_LONG_NAMES = {
    "S1": "first-order Sobol index",
    "S1_conf": "S1 confidence half-width (95%)",
    "ST": "total Sobol index",
    "ST_conf": "ST confidence half-width (95%)",
    "mu": "mean elementary effect",
    "mu_star": "mean absolute elementary effect",
    "sigma": "standard deviation of elementary effects",
    "mu_star_conf": "mu_star confidence half-width (95%)",
}


def _sensitivity_dataset(
    reader: Reader,
    group: str,
    time: float,
    items: Sequence[tuple[str, str, tuple[str, ...], tuple[int, ...], str]],
    coords: Mapping[str, Sequence[str]],
    kind: str,
    unit: np.ndarray,
    inputs: Sequence[str],
    seed: int,
    groups: Sequence[str] | None = None,
) -> xr.Dataset:
    labels: list[str] = []
    factors = list(inputs) if groups is None else list(dict.fromkeys(groups))
    # grouped indices are by group: a dim of their own (the tree's "parameter" is the inputs)
    factor_dim = "parameter" if groups is None else "group"
    blocks: dict[str, list[np.ndarray]] = {}
    for name, label, dims, shape, units in items:
        raw = reader.read(group, name, (slice(None), -1))
        Y = raw.reshape(raw.shape[0], int(np.prod(shape, dtype=np.int64)))
        names = _element_labels(label, dims, coords)
        if aggregated(dims, units):
            # totals member by member: the output's total, and each region's
            columns = [Y.sum(axis=1)]
            names = [label, *names] if label not in names else names
            if REGION in dims:
                axis = dims.index(REGION)
                other = tuple(1 + i for i in range(len(dims)) if i != axis)
                by_region = raw.reshape(raw.shape[0], *shape).sum(axis=other)
                columns += [by_region[:, k] for k in range(by_region.shape[1])]
                names[1:1] = [f"{label}[{r}]" for r in coords[REGION]]
            Y = np.column_stack([*columns, Y])
        for k, v in _analyze_columns(kind, Y, unit, inputs, seed, groups).items():
            blocks.setdefault(k, []).append(v)
        labels += names
    data = {
        k: xr.Variable(
            ("output", factor_dim),
            np.concatenate(v) if v else np.empty((0, len(factors))),
            {"long_name": _LONG_NAMES[k], "units": "1"},
        )
        for k, v in blocks.items()
    }
    attrs: dict[str, Any] = {"time": float(time), "method": kind}
    if kind == "saltelli" and data:
        attrs["unresolved"] = _unresolved(data, group, unit.shape[0], len(factors))
    return xr.Dataset(
        data,
        coords={
            "output": np.array(labels, dtype=object),
            factor_dim: np.array(factors, dtype=object),
        },
        attrs=attrs,
    )


#: A Sobol index whose confidence half-width exceeds both the index and this is unresolved.
UNRESOLVED_WIDTH = 0.05


def _unresolved(data: dict[str, xr.Variable], group: str, rows: int, inputs: int) -> int:
    """How many Sobol indices have a confidence half-width wider than the index itself (and
    than 0.05: an index of 0.001 +- 0.01 is resolved as unimportant); warns when there are
    any (the indices are then noise: the base sample is too small)."""
    count = 0
    for index in ("S1", "ST"):
        value = np.asarray(data[index].values)
        conf = np.asarray(data[f"{index}_conf"].values)
        ok = np.isfinite(value) & np.isfinite(conf)
        count += int(np.sum(ok & (conf > np.maximum(np.abs(value), UNRESOLVED_WIDTH))))
    if count:
        base = rows // (2 * inputs + 2) if inputs else rows
        warnings.warn(
            f"sensitivity/{group}: {count} Sobol index(es) have a 95% confidence "
            f"half-width wider than the index (base sample n={base}); they are not "
            "resolved: run the sweep with a larger n (n >= 512, a power of 2).",
            UserWarning,
            stacklevel=3,
        )
    return count


def sensitivity_groups(sink: Sink, layout: Layout, design: Any) -> dict[str, xr.Dataset]:
    """Sensitivity indices of an ensemble being written, per horizon."""
    out = {}
    items = [
        (v.name, v.name, v.dims, v.shape, str(v.attrs.get("units", "")))
        for v in layout.variables
        if v.column >= 0
    ]
    for group, (times, _) in layout.groups.items():
        out[group] = _sensitivity_dataset(
            sink,
            group,
            times[-1],
            items,
            layout.coords,
            design.name,
            np.asarray(design.unit),
            list(design.inputs),
            design.seed,
            getattr(design, "groups", None),
        )
    return out


def analyze_sensitivity(tree: xr.DataTree) -> xr.DataTree:
    """Sobol (saltelli design) or Morris (morris design) indices of every output, per horizon,
    at the horizon's last save time.

    Parameters
    ----------
    tree : xarray.DataTree
        The tree of a "saltelli" or "morris" sweep (its root holds ``sample_unit`` and the
        ``design`` and ``seed`` attrs).

    Returns
    -------
    xarray.DataTree
        One group per horizon with variables over (``output``, ``parameter``).
    """
    kind = tree.attrs.get("design")
    if kind not in ("saltelli", "morris"):
        raise EngineError(
            f"sensitivity indices need a 'saltelli' or 'morris' design; this "
            f"sweep used {kind!r}. Run run_ensemble(..., design='saltelli')."
        )
    root = tree.to_dataset(inherit=False)
    unit = np.asarray(root["sample_unit"].values)
    inputs = [str(p) for p in root["parameter"].values]
    seed = int(tree.attrs.get("seed", 0))
    by_input = _stored_groups(tree.attrs.get("groups"), inputs)
    groups = {}
    for group, items in _series(tree).items():
        node = _node(tree, group)
        groups[group] = _sensitivity_dataset(
            _TreeReader(tree),
            group,
            float(np.asarray(node["time"].values)[-1]),
            [(n, str(a.get("name", n)), d, s, str(a.get("units", ""))) for n, d, s, a in items],
            _element_coords(node),
            kind,
            unit,
            inputs,
            seed,
            by_input,
        )
    return xr.DataTree.from_dict(groups)


def _stored_groups(text: Any, inputs: Sequence[str]) -> list[str] | None:
    """The group of each input from a tree's ``groups`` attribute (JSON {input: group});
    None when there is none or it is not such a mapping (a store's attributes are not
    trusted: they never reach code)."""
    import json

    if not isinstance(text, str):
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        return None
    if not isinstance(mapping, dict) or not mapping:
        return None
    return [str(mapping.get(name, name)) for name in inputs]
