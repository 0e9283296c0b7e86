"""Reading a store: :func:`open_store`, how complete it is, and netCDF export.

Every chunk read is checked (:mod:`engine.store.integrity`); a store read before its sweep
finished says so (:func:`completion`). netCDF is an export of a finished store
(:func:`export_netcdf`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import StoreError
from . import integrity
from .layout import DONE
from .names import _encode_dataset, restore_names

__all__ = ["open_store", "completion", "unfinished_note", "export_netcdf"]


def _zarr_group(
    path: str | os.PathLike[str],
    mode: str = "r",
    *,
    done: Iterable[int] | None = None,
    chunk_size: int | None = None,
) -> Any:
    """The root group of the store at ``path``, every chunk read checked (see
    :class:`engine.store.integrity.ChecksummedStore`)."""
    import zarr

    checked = integrity.ChecksummedStore.open(
        Path(path), read_only=mode == "r", done=done, chunk_size=chunk_size
    )
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
        raise StoreError(
            f"the store {str(path)!r} has no record of its "
            f"chunks ({DONE!r}); it was not made by run_ensemble, or was damaged: "
            "delete it and run the sweep again."
        ) from None
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


def open_store(path: str | os.PathLike[str], group: str | None = None) -> xr.DataTree | xr.Dataset:
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
            # times are decimal years (a CF axis in the file): kept as numbers
            tree = xr.open_datatree(str(path), engine="h5netcdf", decode_times=False)
        else:
            root = _zarr_group(path)
            chunk_size = root.attrs.get("chunk_size")
            if isinstance(chunk_size, int) and DONE in root:
                done = _done_chunks(root, path)
                members = int(root.attrs.get("members", root[DONE].shape[0] * chunk_size))
                members_done = sum(
                    min(members, (k + 1) * chunk_size) - k * chunk_size for k in done
                )
            checked = integrity.ChecksummedStore.open(
                path, read_only=True, done=done, chunk_size=chunk_size
            )
            # a finished sweep's metadata is consolidated in the root (engine.store.zarr.
            # consolidate): one file read instead of one per array
            consolidated = getattr(root.metadata, "consolidated_metadata", None) is not None
            tree = xr.open_datatree(checked, engine="zarr", consolidated=consolidated)
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
                run[k * chunk_size : (k + 1) * chunk_size] = True
            status[~run] = -1
            tree["status"] = root_ds["status"].copy(data=status)
    if group is None:
        return tree
    try:
        node = tree[group]
    except KeyError:
        raise StoreError(
            f"the store {str(path)!r} has no group {group!r}; its groups are "
            f"{sorted(n.path for n in tree.subtree)}."
        ) from None
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
    """ "unfinished sweep: 42 of 200 members done" for an unfinished ensemble, else ""."""
    state = completion(results)
    if state is None:
        return ""
    return f"unfinished sweep: {state[0]} of {state[1]} members done"


def _clean_tree(tree: xr.DataTree) -> xr.DataTree:
    groups: dict[str, xr.Dataset] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if node.is_root and DONE in ds:
            ds = ds.drop_vars(DONE).drop_dims("chunk", errors="ignore")
        for name, coord in ds.coords.items():
            if coord.dtype.kind == "T":  # numpy's StringDType from zarr: labels as in memory
                ds = ds.assign_coords({name: coord.astype(object)})
        for name in ds.variables:
            own = ds[name].attrs.get("corridor_units")
            if isinstance(own, str):  # a netCDF export: the model's units, not UDUNITS'
                attrs = dict(ds[name].attrs)
                attrs["units"] = attrs.pop("corridor_units")
                ds[name].attrs = attrs
        if "year" in ds.coords and ds["year"].attrs.get("corridor_time") == 1:
            # a netCDF export's calendar axis: the model's decimal years again
            ds = ds.assign_coords(
                time=xr.Variable(
                    "time", np.asarray(ds["year"].values, dtype=float), {"units": "year"}
                )
            ).drop_vars("year")
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)


#: long_name of coordinates a store writes without one (CF 3.3 recommends one on every variable)
_COORD_NAMES = {
    "member": "ensemble member",
    "parameter": "sampled parameter",
    "quantile": "quantile over members",
    "output": "output variable",
    "horizon": "forecast horizon",
    "time": "time",
}


#: Words of corridor's units that UDUNITS (CF's units) does not know: counts of them are
#: written as "1" (a count), the model's own units kept in ``corridor_units``.
_COUNTED = re.compile(r"\b(persons?|people|migrants?|households?|USD)\b")
_YEAR_UNITS = {"year", "years", "yr", "a"}


def _cf_units(units: str) -> str:
    """``units`` as UDUNITS reads them: "person/year" -> "1/year", "USD" -> "1"."""
    out = _COUNTED.sub("1", units).replace(" ", "")
    out = re.sub(r"^1(\*1)+", "1", out)
    return out or "1"


def _cf_variables(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with netCDF-ready attributes: text values as strings, flag values as numbers of
    their variable's type, a long_name on every variable, units UDUNITS knows (the model's
    own kept in ``corridor_units``), a CF time axis of decimal years, no fill value on
    coordinates."""
    for name, var in ds.variables.items():
        if var.dtype.kind in "OUT":
            ds[name] = var.astype(str)
        attrs = dict(ds[name].attrs)
        flags = attrs.get("flag_values")
        if isinstance(flags, str):
            attrs["flag_values"] = np.array(flags.split(), dtype=ds[name].dtype)
        if "long_name" not in attrs and "standard_name" not in attrs:
            attrs["long_name"] = _COORD_NAMES.get(str(name), str(attrs.get("doc") or name))
        units = attrs.get("units")
        if isinstance(units, str) and units and name != "time":
            cf = _cf_units(units)
            if cf != units:
                attrs["corridor_units"] = units
                attrs["units"] = cf
        ds[name].attrs = attrs
        if name in ds.dims:
            ds[name].encoding["_FillValue"] = None
    if "time" in ds.dims and str(ds["time"].attrs.get("units", "")).lower() in _YEAR_UNITS:
        ds = _calendar_time(ds)
    return ds


def _calendar_time(ds: xr.Dataset) -> xr.Dataset:
    """Decimal years as a CF time axis any reader decodes (days since 1970-01-01: year Y
    plus a fraction f is the date that fraction into calendar year Y, 2030.0 being 1 January
    2030), with the decimal years themselves kept as the ``year`` coordinate; reading the
    file back (:func:`open_store`) restores them as ``time``."""
    years = np.asarray(ds["time"].values, dtype=float)
    whole = np.floor(years)
    first = whole.astype(np.int64).astype(str).astype("datetime64[D]")
    nxt = (whole + 1).astype(np.int64).astype(str).astype("datetime64[D]")
    epoch = np.datetime64("1970-01-01", "D")
    days = (first - epoch).astype(float) + (years - whole) * (nxt - first).astype(float)
    time_attrs = {
        "units": "days since 1970-01-01 00:00:00",
        "calendar": "proleptic_gregorian",
        "standard_name": "time",
        "axis": "T",
        "long_name": "time",
    }
    year_attrs = {
        "units": "year",
        "long_name": "time in decimal years, as the model counts it",
        "corridor_time": 1,
    }
    out = ds.assign_coords(
        time=xr.Variable("time", days, time_attrs),
        year=xr.Variable("time", years, year_attrs),
    )
    out["time"].encoding["_FillValue"] = None
    out["year"].encoding["_FillValue"] = None
    return out


def _cf_attrs(attrs: dict[str, Any], root: bool) -> dict[str, Any]:
    out = {
        k: (v if isinstance(v, (str, int, float, np.number)) else json.dumps(v))
        for k, v in attrs.items()
    }
    out.pop("complete", None)
    if root:
        out["complete"] = 1
        from datetime import datetime, timezone

        from .._version import __version__

        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out["history"] = f"{stamp}: exported by corridor {__version__} (engine.export_netcdf)"
        out.setdefault("Conventions", "CF-1.10")
    return out


def export_netcdf(
    store: str | os.PathLike[str] | xr.DataTree,
    path: str | os.PathLike[str],
    *,
    flat: bool = False,
) -> Path:
    """Export a finished store (or a horizon DataTree) to one netCDF-4 file.

    With ``flat=False`` the groups are kept (one per horizon, ``summary/<horizon>``,
    ``sensitivity/<horizon>``). With ``flat=True`` the file has no groups, for tools that read
    none: the horizons joined along one ``time`` axis (they are disjoint and ordered), with a
    ``horizon`` label per time; the summaries as ``<name>_quantiles`` over (quantile, time,
    ...); the sensitivity indices as ``<index>_sensitivity`` with a ``sensitivity_horizon``
    dim. Both carry the CF attributes a checker asks for (``Conventions``, ``history``, a
    ``long_name`` on every variable, numeric ``flag_values``).

    Raises StoreError if the store is unfinished (a sweep still to be resumed).
    """
    tree = open_store(store) if not isinstance(store, xr.DataTree) else store
    assert isinstance(tree, xr.DataTree)
    if tree.attrs.get("complete") is False:
        raise StoreError(
            f"the store {str(store)!r} is unfinished; run the sweep again with "
            "the same arguments to complete it before exporting."
        )
    target = Path(path)
    try:
        if flat:
            _encode_dataset(_flat_dataset(tree)).to_netcdf(str(target), engine="h5netcdf")
        else:
            groups = {}
            for node in tree.subtree:
                ds = _cf_variables(_encode_dataset(node.to_dataset(inherit=False).load()))
                ds.attrs = _cf_attrs(dict(ds.attrs), node.is_root)
                groups[node.path] = ds
            xr.DataTree.from_dict(groups).to_netcdf(str(target), engine="h5netcdf")
    except OSError as error:
        raise StoreError(f"cannot write {str(target)!r}: {error}") from None
    return target


def _flat_dataset(tree: xr.DataTree) -> xr.Dataset:
    from .horizon import horizon_names

    root = tree.to_dataset(inherit=False).load()
    names = horizon_names(tree)
    parts = []
    for name in names:
        ds = tree.children[name].to_dataset(inherit=False).load()
        ds = ds.assign_coords(horizon=("time", np.full(ds.sizes["time"], name, dtype=object)))
        parts.append(ds)
    data = xr.concat(
        parts, dim="time", data_vars="all", coords="different", compat="equals", join="outer"
    )
    out = xr.merge([root, data], compat="override", combine_attrs="override")
    summary = tree.children.get("summary")
    if summary is not None:
        quantiles = [
            summary.children[h].to_dataset(inherit=False).load()
            for h in names
            if h in summary.children
        ]
        if quantiles:
            joined = xr.concat(quantiles, dim="time", data_vars="all", join="outer")
            renamed = joined.rename({v: f"{v}_quantiles" for v in joined.data_vars})
            for v in renamed.data_vars:
                renamed[v].attrs["long_name"] = f"quantiles over members of {str(v)[:-10]}"
            out = xr.merge([out, renamed], compat="override", combine_attrs="override")
    sensitivity = tree.children.get("sensitivity")
    if sensitivity is not None and sensitivity.children:
        labels = list(sensitivity.children)
        indices = xr.concat(
            [sensitivity.children[h].to_dataset(inherit=False).load() for h in labels],
            dim="sensitivity_horizon",
            join="outer",
        ).assign_coords(sensitivity_horizon=np.array(labels, dtype=object))
        out = xr.merge(
            [out, indices.rename({v: f"{v}_sensitivity" for v in indices.data_vars})],
            compat="override",
            combine_attrs="override",
        )
    for variable in list(out.data_vars):
        if "time" in out[variable].dims:  # CF 2.4: time right of the other dims
            rest = [d for d in out[variable].dims if d != "time"]
            out[variable] = out[variable].transpose(*rest, "time")
    out = _cf_variables(out)
    out.attrs = _cf_attrs({str(k): v for k, v in tree.attrs.items()}, True)
    return out
