"""Reading a store: :func:`open_store`, how complete it is, and netCDF export.

Every chunk read is checked (:mod:`engine.store.integrity`); a store read before its sweep
finished says so (:func:`completion`). netCDF is an export of a finished store
(:func:`export_netcdf`).
"""

from __future__ import annotations

import json
import os
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
            tree = xr.open_datatree(str(path), engine="h5netcdf")
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
        groups[node.path] = ds
    return xr.DataTree.from_dict(groups)


def export_netcdf(
    store: str | os.PathLike[str] | xr.DataTree, path: str | os.PathLike[str]
) -> Path:
    """Export a finished store (or a horizon DataTree) to one netCDF-4 file, groups kept.

    Raises StoreError if the store is unfinished (a sweep still to be resumed).
    """
    tree = open_store(store) if not isinstance(store, xr.DataTree) else store
    assert isinstance(tree, xr.DataTree)
    if tree.attrs.get("complete") is False:
        raise StoreError(
            f"the store {str(store)!r} is unfinished; run the sweep again with "
            "the same arguments to complete it before exporting."
        )
    groups = {}
    for node in tree.subtree:
        ds = _encode_dataset(node.to_dataset(inherit=False).load())
        for name, var in ds.variables.items():
            if var.dtype.kind in "OUT":
                ds[name] = var.astype(str)
        ds.attrs = {
            k: (v if isinstance(v, (str, int, float, np.number)) else json.dumps(v))
            for k, v in ds.attrs.items()
        }
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
