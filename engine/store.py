"""The horizon store: results as an ``xarray.DataTree`` with one group per horizon.

Forecast users think in horizons (DESIGN.md, "Horizons"): ``short`` (the first 5 years, saved
quarterly, or every step when dt is larger), ``medium`` (years 5 to 20, yearly) and ``long``
(year 20 to the end, every 5 years). Horizons count from the start time, start inclusive and end
exclusive; the last group also holds the stop time. A model whose time unit is not a year gets
one group, ``all``, unless horizons are given.

An ensemble's store is zarr (format 3). Its root group holds per-member variables (``status``,
the design ``sample``), provenance attributes and a private record of the chunks written, which
makes a sweep resumable: a store is created once with the whole layout, every chunk of members
writes its own zarr regions, then marks itself done. netCDF is an export of a finished store
(:func:`export_netcdf`). Creation is atomic, one process writes a store at a time, and every
chunk carries a checksum verified on read and on resume (:mod:`engine.integrity`); a store read
before its sweep finished says so (:func:`completion`).

Variable names containing "/" (which zarr and netCDF read as a group path) are written with
U+2215 DIVISION SLASH and the original kept in the variable's ``name`` attribute. A DataTree
cannot hold "/" in a variable name, so the tree keeps the U+2215 form; a group read as a Dataset
(``open_store(path, group=...)``, :func:`restore_names`) has the original names back.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import integrity
from .errors import StoreError

__all__ = ["HORIZONS", "horizons", "horizon_spec", "select_horizons", "open_store",
           "restore_names",
           "export_netcdf", "encode_name", "decode_name", "Layout", "VariableLayout",
           "MemoryStore", "ZarrStore", "open_or_create", "completion"]

HORIZONS: dict[str, tuple[float, float | None, float | None]] = {
    "short": (0.0, 5.0, 0.25),
    "medium": (5.0, 20.0, 1.0),
    "long": (20.0, None, 5.0),
}
SLASH = "\u2215"
DONE = "_chunk_done"  # root array: 1 once a chunk of members is fully written
DESIGN_VARIABLES: dict[str, dict[str, Any]] = {
    "sample": {"long_name": "sampled parameter values (design matrix)"},
    "sample_unit": {"long_name": "design points in the unit hypercube"}}
ZARR_CHUNK_BYTES = 4 * 2**20  # most bytes of a zarr chunk of a horizon variable
_YEARS = {"year", "years", "yr", "yrs", "a", "annum"}


# ---------------------------------------------------------------------------- names

def encode_name(name: str) -> str:
    """``name`` as written in a store: "/" becomes U+2215 (DIVISION SLASH)."""
    return name.replace("/", SLASH)


def decode_name(name: str, attrs: Mapping[str, Any]) -> str:
    """The original name of a stored variable (its ``name`` attr when it was encoded)."""
    original = attrs.get("name")
    if isinstance(original, str) and encode_name(original) == name:
        return original
    return name


def _encode_dataset(ds: xr.Dataset) -> xr.Dataset:
    renames = {}
    for name in list(ds.data_vars):
        text = str(name)
        if "/" in text:
            renames[name] = encode_name(text)
            ds[name].attrs["name"] = text
    return ds.rename(renames) if renames else ds


def _decode_dataset(ds: xr.Dataset) -> xr.Dataset:
    renames = {}
    for name, var in ds.data_vars.items():
        original = decode_name(str(name), var.attrs)
        if original != name:
            renames[name] = original
    return ds.rename(renames) if renames else ds


# ---------------------------------------------------------------------------- horizons

def horizon_spec(time_unit: str, horizons: Mapping[str, Sequence[float | None]] | None = None
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
        raise StoreError("horizons must be a non-empty mapping {name: (from, to, resolution)}, "
                         "e.g. {'short': (0, 5, 0.25), 'long': (5, None, 1)}.")
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
            raise StoreError(f"horizon {name!r}: give (from, to, resolution) numbers (to and "
                             f"resolution may be None), got {value!r}.") from None
        if high is not None and not high > low:
            raise StoreError(f"horizon {name!r}: its end {high} must be after its start {low}.")
        if resolution is not None and not resolution > 0:
            raise StoreError(f"horizon {name!r}: resolution {resolution} must be positive.")
        spec[name] = (low, high, resolution)
    return spec


def select_horizons(times: np.ndarray, start: float, stop: float,
                    spec: Mapping[str, tuple[float, float | None, float | None]],
                    saved: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Indices into ``times`` (increasing) of each horizon's times; empty horizons are left out.

    A horizon keeps, for each point of its grid (from its first time, every ``resolution``),
    the nearest of ``times`` (so every time when they are sparser than the grid). With no
    resolution it keeps the times flagged in ``saved`` (default: all).
    """
    times = np.asarray(times, dtype=float)
    if saved is None:
        saved = np.ones(times.shape, dtype=bool)
    scale = max(1.0, abs(start), abs(stop))
    tol = 1e-9 * scale
    out: dict[str, np.ndarray] = {}
    for name, (low, high, resolution) in spec.items():
        t0 = start + low
        t1 = stop if high is None else min(stop, start + high)
        includes_stop = high is None or start + high >= stop - tol
        inside = (times >= t0 - tol) & ((times < t1 - tol)
                                        | (includes_stop & (times <= t1 + tol)))
        candidates = np.flatnonzero(inside)
        if candidates.size == 0:
            continue
        if resolution is None:
            chosen = candidates[saved[candidates].astype(bool)]
            if includes_stop and abs(times[candidates[-1]] - stop) <= tol:
                chosen = np.union1d(chosen, candidates[-1:])
        else:
            local = times[candidates]
            count = int(math.floor((local[-1] - local[0]) / resolution + 1e-6)) + 1
            grid = local[0] + resolution * np.arange(count)
            right = np.clip(np.searchsorted(local, grid), 1, local.size - 1) \
                if local.size > 1 else np.zeros(count, dtype=np.int64)
            left = np.maximum(right - 1, 0)
            nearest = np.where(np.abs(local[left] - grid) <= np.abs(local[right] - grid),
                               left, right)
            chosen = candidates[np.unique(nearest)]
            if includes_stop and abs(times[candidates[-1]] - stop) <= tol:
                chosen = np.union1d(chosen, candidates[-1:])
        if chosen.size:
            out[name] = chosen.astype(np.int64)
    return out


def horizons(ds: xr.Dataset, horizons: Mapping[str, Sequence[float | None]] | None = None, *,
             start: float | None = None, stop: float | None = None) -> xr.DataTree:
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


# ---------------------------------------------------------------------------- reading

def _zarr_group(path: str | os.PathLike[str], mode: str = "r", *,
                done: Iterable[int] | None = None, chunk_size: int | None = None) -> Any:
    """The root group of the store at ``path``, every chunk read checked (see
    :class:`engine.integrity.ChecksummedStore`)."""
    import zarr

    checked = integrity.ChecksummedStore.open(Path(path), read_only=mode == "r", done=done,
                                              chunk_size=chunk_size)
    try:
        return zarr.open_group(checked, mode=mode)  # type: ignore[arg-type]
    except StoreError:
        raise
    except Exception as error:  # zarr raises several types for "not a group"
        raise StoreError(f"{str(path)!r} is not a readable zarr store ({error}).") from None


def _done_chunks(group: Any, path: Path) -> list[int]:
    """The sweep's chunks marked done; a marker that cannot be read counts as not done."""
    try:
        marks = group[DONE]
    except KeyError:
        raise StoreError(f"the store {str(path)!r} has no record of its "
                         f"chunks ({DONE!r}); it was not made by run_ensemble, or was damaged: "
                         "delete it and run the sweep again.") from None
    try:
        return [int(k) for k in np.flatnonzero(np.asarray(marks[:]) == 1)]
    except StoreError:
        done = []
        for k in range(int(marks.shape[0])):
            try:
                if int(marks[k]) == 1:
                    done.append(k)
            except StoreError:
                continue  # a damaged marker: the chunk is recomputed
        return done


def open_store(path: str | os.PathLike[str], group: str | None = None
               ) -> xr.DataTree | xr.Dataset:
    """Open an ensemble store written by :func:`engine.run_ensemble` (lazily), or a netCDF
    file written by :func:`export_netcdf`.

    Parameters
    ----------
    path : path
        The zarr store (a directory) or netCDF file.
    group : str, optional
        Return this group (e.g. ``"short"`` or ``"summary/long"``) as a Dataset whose variable
        names are restored to their original form ("/" included). Without it, the whole
        DataTree, where (as in any DataTree) names keep the U+2215 form and the original in
        their ``name`` attr; :func:`restore_names` turns a group's Dataset back.

    Raises
    ------
    StoreError
        If ``path`` is not a store, or has no such group.
    """
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no store at {str(path)!r}.")
    netcdf = path.is_file()
    members_done = None
    done: list[int] | None = None
    chunk_size: Any = None
    try:
        if netcdf:
            tree = xr.open_datatree(str(path), engine="h5netcdf")
        else:
            root = _zarr_group(path)
            chunk_size = root.attrs.get("chunk_size")
            if isinstance(chunk_size, int) and DONE in root:
                done = _done_chunks(root, path)
                members = int(root.attrs.get("members", root[DONE].shape[0] * chunk_size))
                members_done = sum(min(members, (k + 1) * chunk_size) - k * chunk_size
                                   for k in done)
            checked = integrity.ChecksummedStore.open(path, read_only=True, done=done,
                                                      chunk_size=chunk_size)
            tree = xr.open_datatree(checked, engine="zarr", consolidated=False)
    except StoreError:
        raise
    except Exception as error:
        kind = "netCDF file" if netcdf else "zarr store"
        raise StoreError(f"cannot read {str(path)!r} as a {kind} ({error}).") from None
    tree = _clean_tree(tree)
    if tree.attrs.get("complete") is False and members_done is not None and done is not None:
        tree.attrs["members_done"] = members_done
        root_ds = tree.to_dataset(inherit=False)
        if "status" in root_ds:
            # A member counts as run once its chunk is marked done (its status is written
            # just before the mark): the members of a chunk cut short read as not run.
            status = np.asarray(root_ds["status"].values).copy()
            run = np.zeros(status.shape, dtype=bool)
            for k in done:
                run[k * chunk_size: (k + 1) * chunk_size] = True
            status[~run] = -1
            tree["status"] = root_ds["status"].copy(data=status)
    if group is None:
        return tree
    try:
        node = tree[group]
    except KeyError:
        raise StoreError(f"the store {str(path)!r} has no group {group!r}; its groups are "
                         f"{sorted(n.path for n in tree.subtree)}.") from None
    assert isinstance(node, xr.DataTree)
    return restore_names(node.to_dataset())


def completion(results: xr.Dataset | xr.DataTree) -> tuple[int, int] | None:
    """(members done, members) of an ensemble whose sweep has not finished; None for a
    finished ensemble or a single run. Everything that presents a store says so."""
    if not isinstance(results, xr.DataTree) or results.attrs.get("complete") is not False:
        return None
    root = results.to_dataset(inherit=False)
    total = int(results.attrs.get("members", root.sizes.get("member", 0)))
    done = results.attrs.get("members_done")
    if done is None:
        done = int((np.asarray(root["status"].values) >= 0).sum()) if "status" in root else 0
    return int(done), total


def unfinished_note(results: xr.Dataset | xr.DataTree) -> str:
    """"unfinished sweep: 42 of 200 members done" for an unfinished ensemble, else ""."""
    state = completion(results)
    if state is None:
        return ""
    return f"unfinished sweep: {state[0]} of {state[1]} members done"


def restore_names(ds: xr.Dataset) -> xr.Dataset:
    """A stored group's Dataset with its variables' original names ("/" for U+2215)."""
    return _decode_dataset(ds)


def _clean_tree(tree: xr.DataTree) -> xr.DataTree:
    groups: dict[str, xr.Dataset] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if node.is_root and DONE in ds:
            ds = ds.drop_vars(DONE).drop_dims("chunk", errors="ignore")
        for name, coord in ds.coords.items():
            if coord.dtype.kind == "T":  # numpy's StringDType from zarr: labels as in memory
                ds = ds.assign_coords({name: coord.astype(object)})
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)


def export_netcdf(store: str | os.PathLike[str] | xr.DataTree, path: str | os.PathLike[str]
                  ) -> Path:
    """Export a finished store (or a horizon DataTree) to one netCDF-4 file, groups kept.

    Raises StoreError if the store is unfinished (a sweep still to be resumed).
    """
    tree = open_store(store) if not isinstance(store, xr.DataTree) else store
    assert isinstance(tree, xr.DataTree)
    if tree.attrs.get("complete") is False:
        raise StoreError(f"the store {str(store)!r} is unfinished; run the sweep again with "
                         "the same arguments to complete it before exporting.")
    groups = {}
    for node in tree.subtree:
        ds = _encode_dataset(node.to_dataset(inherit=False).load())
        for name, var in ds.variables.items():
            if var.dtype.kind in "OUT":
                ds[name] = var.astype(str)
        ds.attrs = {k: (v if isinstance(v, (str, int, float, np.number)) else json.dumps(v))
                    for k, v in ds.attrs.items()}
        ds.attrs.pop("complete", None)
        if node.is_root:
            ds.attrs["complete"] = 1
        groups[node.path] = ds
    target = Path(path)
    try:
        xr.DataTree.from_dict(groups).to_netcdf(str(target), engine="h5netcdf")
    except OSError as error:
        raise StoreError(f"cannot write {str(target)!r}: {error}") from None
    return target


# ---------------------------------------------------------------------------- ensemble layout

@dataclass(frozen=True)
class VariableLayout:
    """Where an output variable's columns sit in a chunk's output block."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    attrs: dict[str, Any]
    column: int  # first column in the output block; -1 for a parameter (taken from P)
    size: int
    offset: int = -1  # a parameter's offset in the parameter vector


@dataclass(frozen=True)
class Layout:
    """Everything about an ensemble's arrays that does not depend on its values."""

    members: int
    chunk_size: int
    time_unit: str
    groups: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (times, rows of saved block)
    variables: tuple[VariableLayout, ...]
    coords: dict[str, tuple[str, ...]]
    inputs: tuple[str, ...]
    design: Any = field(repr=False)  # rows by block(start, stop) -> (unit, values)

    @property
    def n_chunks(self) -> int:
        return -(-self.members // self.chunk_size)

    def bounds(self, k: int) -> tuple[int, int]:
        return k * self.chunk_size, min(self.members, (k + 1) * self.chunk_size)

    def time_chunk(self, var: VariableLayout, times: int) -> int:
        """Save times per zarr chunk of a horizon variable: at most :data:`ZARR_CHUNK_BYTES`
        a chunk (zarr encodes several chunks at once, each with its copies: small chunks keep
        a write's memory small), and at most one summary block of all members
        (:func:`engine.analyze.time_block`), so that summaries, which need every member of a
        block of times, decompress each chunk once and hold one block, whatever the members."""
        from .analyze import time_block

        budget = max(1, ZARR_CHUNK_BYTES // max(1, self.chunk_size * var.size * 8))
        return min(time_block(self.members, var.size, times), budget)

    def blocks(self, out: np.ndarray, P: np.ndarray, k: int
               ) -> Iterable[tuple[str | None, str, np.ndarray]]:
        """(group, variable, values) of chunk ``k``'s output block ``out`` (members x saved x
        columns); group None for the root (its design rows, parameters, member-only)."""
        unit, values = self.design.block(*self.bounds(k))
        yield None, "sample", values
        yield None, "sample_unit", unit
        for var in self.variables:
            if var.column < 0:
                yield None, var.name, P[:, var.offset: var.offset + var.size].reshape(
                    (P.shape[0], *var.shape))
        for group, (_, rows) in self.groups.items():
            if rows.size and rows[-1] - rows[0] == rows.size - 1:
                part = out[:, rows[0]: rows[-1] + 1]  # consecutive rows: a view, no copy
            else:
                part = out[:, rows]
            for var in self.variables:
                if var.column >= 0:
                    values = part[:, :, var.column: var.column + var.size]
                    yield group, var.name, values.reshape((out.shape[0], rows.size, *var.shape))

    def root_dataset(self, attrs: dict[str, Any], lazy: bool) -> xr.Dataset:
        members = np.arange(self.members, dtype=np.int64)
        design_shape = (self.members, len(self.inputs))
        data = {
            "status": xr.Variable("member", np.full(self.members, -1, dtype=np.int8),
                                  {"long_name": "member status", "flag_values": "-1 0 1 2 3 4",
                                   "flag_meanings": "not_run ok nonfinite_stock "
                                                    "nonfinite_output solver_failure "
                                                    "solver_failure"}),
            "failure_time": xr.Variable("member", np.full(self.members, np.nan),
                                        {"long_name": "time of failure",
                                         "units": self.time_unit}),
            "failure_index": xr.Variable("member", np.full(self.members, -1, dtype=np.int64),
                                         {"long_name": "internal index of the failing value"}),
            DONE: xr.Variable("chunk", np.zeros(self.n_chunks, dtype=np.int8)),
        }
        if not lazy:  # a zarr store creates these arrays empty itself (ZarrStore.create)
            # design rows are written with their chunk (a random design is never whole)
            for name, description in DESIGN_VARIABLES.items():
                data[name] = xr.Variable(("member", "parameter"), np.full(design_shape, np.nan),
                                         dict(description))
            for var in self.variables:
                if var.column < 0:
                    shape = (self.members, *var.shape)
                    data[var.name] = xr.Variable(("member", *var.dims), np.full(shape, np.nan),
                                                 var.attrs)
        coords = {"member": members, "parameter": np.array(self.inputs, dtype=object)}
        coords.update(self._dim_coords(v.dims for v in self.variables if v.column < 0))
        return _encode_dataset(xr.Dataset(data, coords=coords, attrs=attrs))

    def group_dataset(self, group: str, lazy: bool) -> xr.Dataset:
        times, _ = self.groups[group]
        data = {}
        for var in self.variables:
            if var.column >= 0:
                shape = (self.members, times.size, *var.shape)
                data[var.name] = xr.Variable(("member", "time", *var.dims),
                                             _blank(shape, self.chunk_size, lazy), var.attrs)
        coords: dict[str, Any] = {
            "time": xr.Variable("time", times, {"units": self.time_unit, "long_name": "time"})}
        coords.update(self._dim_coords(v.dims for v in self.variables if v.column >= 0))
        return _encode_dataset(xr.Dataset(data, coords=coords))

    def _dim_coords(self, dims: Iterable[tuple[str, ...]]) -> dict[str, Any]:
        used = {d for group in dims for d in group}
        return {d: np.array(self.coords[d], dtype=object) for d in self.coords if d in used}


def _blank(shape: tuple[int, ...], chunk: int, lazy: bool) -> Any:
    if lazy:
        import dask.array as da

        return da.full(shape, np.nan, chunks=(chunk, *shape[1:]))
    return np.full(shape, np.nan)


# ---------------------------------------------------------------------------- sinks

def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (another C library, or not Linux)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Give memory freed by the C allocator back to the system (glibc only; else nothing).

    A streamed sweep frees each chunk and each summary block once written or summarised, but
    glibc keeps freed blocks in per-thread arenas (zarr encodes and decodes in a pool of
    threads, so in several arenas), and the resident size would creep up with every chunk
    until each arena had held its largest block. Trimming after each chunk and block keeps it
    at what a chunk and a block need, whatever the number of members.
    """
    if _TRIM is not None:
        _TRIM(0)


class MemoryStore:
    """An ensemble kept in memory (``store=None``)."""

    def __init__(self, layout: Layout, attrs: dict[str, Any]) -> None:
        self.layout = layout
        self.root = layout.root_dataset(attrs, lazy=False)
        self.groups = {g: layout.group_dataset(g, lazy=False) for g in layout.groups}
        self.extra: dict[str, xr.Dataset] = {}

    def pending(self) -> list[int]:
        return list(np.flatnonzero(self.root[DONE].values == 0))

    def write_chunk(self, k: int, out: np.ndarray, info: np.ndarray, P: np.ndarray) -> None:
        m0, m1 = self.layout.bounds(k)
        for group, name, values in self.layout.blocks(out, P, k):
            target = self.root if group is None else self.groups[group]
            target[encode_name(name)].values[m0:m1] = values
        _write_status(self.root, slice(m0, m1), info)
        self.root[DONE].values[k] = 1

    def chunks(self, group: str, name: str) -> tuple[int | None, int | None]:
        return None, None  # in memory: read all members at once, any block of times

    def release(self) -> None:
        """Nothing to give back: the whole ensemble is held."""

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        ds = self.root if group == "/" else self.groups[group]
        return np.asarray(ds[encode_name(name)].values[index])

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        self.root.attrs.update(attrs)

    def write_group(self, path: str, ds: xr.Dataset) -> None:
        self.extra[path] = _encode_dataset(ds)

    def tree(self) -> xr.DataTree:
        groups: dict[str, xr.Dataset] = {"/": self.root, **self.groups, **self.extra}
        return _clean_tree(xr.DataTree.from_dict(groups))


def _write_status(root: Any, where: slice, info: np.ndarray) -> None:
    status = info[:, 7].astype(np.int8)
    failed = status != 0
    times = np.where(failed, info[:, 0], np.nan)
    index = np.where(failed, info[:, 1], -1).astype(np.int64)
    if isinstance(root, xr.Dataset):
        root["status"].values[where] = status
        root["failure_time"].values[where] = times
        root["failure_index"].values[where] = index
    else:
        root["failure_time"][where] = times
        root["failure_index"][where] = index
        root["status"][where] = status  # last: a member with a status has all its values


class ZarrStore:
    """An ensemble streamed to a zarr (format 3) store; each chunk writes its own regions.

    Holds the store's writer lock (:class:`engine.integrity.StoreLock`) until :meth:`close`.
    """

    def __init__(self, path: Path, layout: Layout, lock: integrity.StoreLock | None = None,
                 done: Iterable[int] | None = None) -> None:
        self.path = path
        self.layout = layout
        self.lock = lock
        self._done = set(done or ())
        self._group: Any = None
        self._arrays: dict[str, Any] = {}

    @property
    def group(self) -> Any:
        if self._group is None:
            # reads check that every chunk marked done is on disk (self._done grows as
            # chunks are written)
            self._group = _zarr_group(self.path, mode="r+", done=self._done,
                                      chunk_size=getattr(self.layout, "chunk_size", None))
            self._group.store.state.done = self._done
        return self._group

    def close(self) -> None:
        """Release the writer's lock."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    @classmethod
    def create(cls, path: Path, layout: Layout, attrs: dict[str, Any]) -> None:
        """Write the whole layout of a new store into the (empty) directory ``path``."""
        # xarray writes the coordinates and the small per-member arrays; the output arrays are
        # created empty with zarr directly (xarray's lazy-template path costs ~30 ms an array).
        root = layout.root_dataset({**attrs, "complete": False}, lazy=True)
        outputs = list(layout.variables)
        encoding: dict[str, Any] = {}
        for name, small in root.variables.items():
            encoding[str(name)] = {"compressors": integrity.compressors()}
            if name in root.data_vars:
                chunks = (1,) if name == DONE else (layout.chunk_size, *small.shape[1:])
                encoding[str(name)]["chunks"] = chunks
        root.to_zarr(str(path), mode="a", zarr_format=3, consolidated=False,
                     encoding=encoding, write_empty_chunks=True)
        for group in layout.groups:
            ds = layout.group_dataset(group, lazy=True)
            ds = ds.drop_vars(list(ds.data_vars))
            ds.to_zarr(str(path), group=group, mode="a", zarr_format=3, consolidated=False,
                       encoding={str(v): {"compressors": integrity.compressors()}
                                 for v in ds.variables},
                       write_empty_chunks=True)
        import zarr

        store = zarr.open_group(str(path), mode="r+")
        for name, description in DESIGN_VARIABLES.items():
            store.create_array(name, shape=(layout.members, len(layout.inputs)),
                               chunks=(layout.chunk_size, max(1, len(layout.inputs))),
                               dtype="float64", fill_value=np.nan,
                               dimension_names=("member", "parameter"),
                               attributes=dict(description),
                               compressors=integrity.compressors(),
                               config=integrity.WRITE_CONFIG)
        for var in outputs:
            places = ([("", ())] if var.column < 0 else
                      [(g + "/", (times.size,)) for g, (times, _) in layout.groups.items()])
            for prefix, middle in places:
                dims = ("member", "time", *var.dims) if middle else ("member", *var.dims)
                shape = (layout.members, *middle, *var.shape)
                chunks = (layout.chunk_size, *shape[1:])
                if middle:
                    chunks = (layout.chunk_size, layout.time_chunk(var, middle[0]),
                              *var.shape)
                store.create_array(prefix + encode_name(var.name), shape=shape,
                                   chunks=chunks, dtype="float64",
                                   fill_value=np.nan, dimension_names=dims,
                                   attributes=_var_attrs(var),
                                   compressors=integrity.compressors(),
                                   config=integrity.WRITE_CONFIG)

    def pending(self) -> list[int]:
        done = set(_done_chunks(self.group, self.path))
        self._done.clear()
        self._done.update(done)
        return [k for k in range(self.layout.n_chunks) if k not in done]

    def array(self, key: str) -> Any:
        """The zarr array at ``key`` (opened once: opening reads its metadata file)."""
        if key not in self._arrays:
            self._arrays[key] = _open_array(self.group, key, self.path)
        return self._arrays[key]

    def write_chunk(self, k: int, out: np.ndarray, info: np.ndarray, P: np.ndarray) -> None:
        write_zarr_chunk(self.path, self.layout, k, out, info, P, group=self.group,
                         arrays=self.array)
        self.mark_written(k)

    def mark_written(self, k: int) -> None:
        """Chunk ``k`` is on disk (written here or by a dask worker): reading it checks it."""
        self._done.add(k)

    def chunks(self, group: str, name: str) -> tuple[int | None, int | None]:
        """(members, times) of the variable's zarr chunks (a store made before horizon
        variables were chunked along time has all its times in one chunk)."""
        key = encode_name(name) if group == "/" else f"{group}/{encode_name(name)}"
        shape = tuple(self.array(key).chunks)
        return int(shape[0]), (int(shape[1]) if len(shape) > 1 else None)

    def release(self) -> None:
        """After a chunk is written or a summary block done: see :func:`release_memory`."""
        release_memory()

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        key = encode_name(name) if group == "/" else f"{group}/{encode_name(name)}"
        return np.asarray(self.array(key)[index])

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        self.group.attrs.update(jsonable(attrs))

    def write_group(self, path: str, ds: xr.Dataset) -> None:
        ds = _encode_dataset(ds)
        ds.to_zarr(str(self.path), group=path, mode="w", zarr_format=3, consolidated=False,
                   encoding={str(v): {"compressors": integrity.compressors()}
                             for v in ds.variables},
                   write_empty_chunks=True)

    def tree(self) -> xr.DataTree:
        tree = open_store(self.path)
        assert isinstance(tree, xr.DataTree)
        return tree


def write_zarr_chunk(path: Path | str, layout: Layout, k: int, out: np.ndarray,
                     info: np.ndarray, P: np.ndarray, group: Any = None,
                     arrays: Any = None) -> None:
    """Write chunk ``k`` into its own regions of the store at ``path``, then mark it done.

    Safe to run concurrently for different chunks (in dask workers): zarr chunks along
    ``member`` are the ensemble's chunks, so no two writers touch the same zarr chunk.
    """
    if group is None:
        group = _zarr_group(path, mode="r+")
    if arrays is None:
        arrays = functools.partial(_open_array, group, path=Path(path))
    m0, m1 = layout.bounds(k)
    writes = []
    for name_group, name, values in layout.blocks(out, P, k):
        key = encode_name(name) if name_group is None else f"{name_group}/{encode_name(name)}"
        writes.append((arrays(key), slice(m0, m1), values))
    _set_all(writes)
    _write_status(_Arrays(arrays), slice(m0, m1), info)
    arrays(DONE)[k] = 1  # last: a chunk marked done has all its data


def _open_array(group: Any, key: str, path: Path) -> Any:
    """The array ``key`` of ``group``, writing every chunk (fill-valued ones too: a chunk
    marked done must exist, see :mod:`engine.integrity`)."""
    try:
        array = group[key]
    except KeyError:
        raise StoreError(f"the store {str(path)!r} has no array {key!r}; it was damaged or "
                         "made by another program. Delete it and run the sweep again.") from None
    return array.with_config(integrity.WRITE_CONFIG)


class _Arrays:
    def __init__(self, get: Any) -> None:
        self.get = get

    def __getitem__(self, key: str) -> Any:
        return self.get(key)


def _set_all(writes: list[tuple[Any, slice, np.ndarray]]) -> None:
    """``array[where] = values`` for every write, concurrently (each zarr call otherwise waits
    a round trip of zarr's event loop)."""
    try:
        import asyncio

        from zarr.core.sync import sync

        async def _gather() -> None:
            await asyncio.gather(*(array._async_array.setitem(where, values)
                                   for array, where, values in writes))

        sync(_gather())
    except (ImportError, AttributeError):  # pragma: no cover - zarr's internals moved
        for array, where, values in writes:
            array[where] = values


def _var_attrs(var: VariableLayout) -> dict[str, Any]:
    attrs = jsonable(var.attrs)
    if "/" in var.name:
        attrs["name"] = var.name
    return dict(attrs)


# ---------------------------------------------------------------------------- opening

def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (numpy scalars and arrays converted)."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The store path, checked before any work: a new path whose nearest existing parent is a
    writable directory, or an existing zarr store (opened later). Raises StoreError."""
    target = Path(path).expanduser()
    if target.exists():
        if not target.is_dir():
            raise StoreError(f"store path {str(target)!r} is a file, not a zarr store; choose "
                             "another path (a directory ending in .zarr).")
        if not (target / "zarr.json").exists() and any(target.iterdir()):
            raise StoreError(f"{str(target)!r} exists and is not a zarr store; choose another "
                             "path (it is left untouched).")
        if not os.access(target, os.W_OK):
            raise StoreError(f"store {str(target)!r} is not writable.")
        return target
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    try:
        if not parent.is_dir():
            raise NotADirectoryError(str(parent))
        # Permissions alone do not tell (root, read-only mounts, /proc): try it.
        os.rmdir(tempfile.mkdtemp(prefix=".corridor-probe-", dir=parent))
    except OSError:
        raise StoreError(f"cannot create the store {str(target)!r}: {str(parent)!r} is not a "
                         "writable directory. Choose a path you can write to.") from None
    return target


def open_or_create(path: Path, layout: Layout, attrs: dict[str, Any], config: dict[str, Any]
                   ) -> ZarrStore:
    """The store at ``path``, locked for this process: created for this sweep (atomically:
    see :mod:`engine.integrity`), or reopened if it was made by the same configuration
    (``config``), with its damaged chunks found and marked to be recomputed. A store made
    otherwise, or any other directory that is not empty, raises StoreError and is left as is.
    """
    config = jsonable(config)
    text = json.dumps(config, sort_keys=True)
    lock = integrity.StoreLock.acquire(path)
    try:
        if (path / "zarr.json").exists():
            return _reopen(path, layout, config, lock)
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise StoreError(f"store path {str(path)!r} is not a directory; choose another "
                             "path (it is left untouched).")
        if path.exists() and any(path.iterdir()):
            raise StoreError(f"{str(path)!r} exists and is not a zarr store; choose another "
                             "path (it is left untouched).")
        import hashlib

        full = {**jsonable(attrs), "corridor_config": text, "chunk_size": layout.chunk_size}
        integrity.create_atomically(path, hashlib.sha256(text.encode()).hexdigest(),
                                    lambda directory: ZarrStore.create(directory, layout, full))
        return ZarrStore(path, layout, lock)
    except BaseException:
        lock.release()
        raise


def _reopen(path: Path, layout: Layout, config: dict[str, Any], lock: integrity.StoreLock
            ) -> ZarrStore:
    existing = _zarr_group(path, mode="r")
    raw = existing.attrs.get("corridor_config")
    if raw is None:
        raise StoreError(f"{str(path)!r} is a zarr store not written by run_ensemble; "
                         "choose another path (it is left untouched).")
    stored = json.loads(raw)
    if stored != config:
        differ = sorted(k for k in set(stored) | set(config)
                        if stored.get(k) != config.get(k))
        raise StoreError(f"the store {str(path)!r} was made by another configuration "
                         f"(differs in: {', '.join(differ)}); it is left untouched. Use "
                         "another path, or the original arguments to resume it.")
    chunk_size = int(existing.attrs["chunk_size"])
    if chunk_size != layout.chunk_size:
        # Results do not depend on the chunking; the store's own chunks are kept.
        layout = _with_chunk_size(layout, chunk_size)
    sink = ZarrStore(path, layout, lock)
    _repair(sink)
    return sink


def _repair(sink: ZarrStore) -> None:
    """Check every chunk that should be on disk; mark damaged member chunks to be recomputed
    (and the summaries to be rewritten). Damage that a rerun cannot repair raises."""
    import warnings

    done = _done_chunks(sink.group, sink.path)
    damage = integrity.scan(sink.path, done, sink.layout.chunk_size)
    if not damage.messages:
        return
    ends = ("summary/", "sensitivity/")
    lost = [key for key in damage.other if not key.startswith(ends)]
    if lost:
        raise StoreError(damage.messages[0].split(". Run the sweep")[0] + "; this part is "
                         "written once, at creation, and cannot be recomputed: delete the "
                         "store and run the sweep again.")
    marks = sink.array(DONE)
    for k in sorted(damage.chunks):
        marks[k] = 0
    sink.set_attrs({"complete": False})
    warnings.warn(f"{len(damage.messages)} damaged chunk(s) in {str(sink.path)!r} will be "
                  f"recomputed: " + "; ".join(damage.messages[:3]), RuntimeWarning,
                  stacklevel=4)


def _with_chunk_size(layout: Layout, chunk_size: int) -> Layout:
    from dataclasses import replace

    return replace(layout, chunk_size=chunk_size)
