"""An ensemble streamed to a zarr (format 3) store: creation, the writer's lock, chunk writes.

A store is created once with the whole layout (atomically: see :mod:`engine.store.integrity`),
every chunk of members writes its own zarr regions, then marks itself done; one process writes
a store at a time, and a store reopened by the same configuration resumes, its damaged chunks
recomputed.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..budgets import release_memory
from ..errors import StoreError
from . import integrity
from .failure import FULL, write_error, writing
from .integrity import CONSOLIDATED
from .layout import DESIGN_VARIABLES, DONE, Layout, VariableLayout, _write_status
from .names import _encode_dataset, encode_name, jsonable
from .read import _done_chunks, _zarr_group, open_store

__all__ = ["ZarrStore", "write_zarr_chunk", "check_writable", "open_or_create"]


class ZarrStore:
    """An ensemble streamed to a zarr (format 3) store; each chunk writes its own regions.
    A :class:`~engine.store.sink.Sink`.

    Holds the store's writer lock (:class:`engine.store.integrity.StoreLock`) until
    :meth:`close`.
    """

    def __init__(
        self,
        path: Path,
        layout: Layout,
        lock: integrity.StoreLock | None = None,
        done: Iterable[int] | None = None,
    ) -> None:
        self.path = path
        self.layout = layout
        self.lock = lock
        self._done = set(done or ())
        self._group: Any = None
        self._arrays: dict[str, Any] = {}
        self._encoders: dict[int, Any] = {}  # id(array) -> engine.store.chunks encoder
        self._infos: dict[str, Any] = {}  # key -> what integrity knows of the array

    @property
    def group(self) -> Any:
        if self._group is None:
            # reads check that every chunk marked done is on disk (self._done grows as
            # chunks are written)
            self._group = _zarr_group(
                self.path,
                mode="r+",
                done=self._done,
                chunk_size=getattr(self.layout, "chunk_size", None),
            )
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
            encoding[str(name)] = _encoding()
            if name in root.data_vars:
                chunks = (1,) if name == DONE else (layout.chunk_size, *small.shape[1:])
                encoding[str(name)]["chunks"] = chunks
        root.to_zarr(
            str(path),
            mode="a",
            zarr_format=3,
            consolidated=False,
            encoding=encoding,
            write_empty_chunks=True,
        )
        for group in layout.groups:
            ds = layout.group_dataset(group, lazy=True, data_vars=False)
            ds.to_zarr(
                str(path),
                group=group,
                mode="a",
                zarr_format=3,
                consolidated=False,
                encoding={str(v): _encoding() for v in ds.variables},
                write_empty_chunks=True,
            )
        import zarr

        store = zarr.open_group(str(path), mode="r+")
        arrays: list[tuple[str, dict[str, Any]]] = []
        for name, description in DESIGN_VARIABLES.items():
            arrays.append(
                (
                    name,
                    dict(
                        shape=(layout.members, len(layout.inputs)),
                        chunks=(layout.chunk_size, max(1, len(layout.inputs))),
                        dimension_names=("member", "parameter"),
                        attributes=dict(description),
                    ),
                )
            )
        for var in outputs:
            places = (
                [("", ())]
                if var.column < 0
                else [(g + "/", (times.size,)) for g, (times, _) in layout.groups.items()]
            )
            for prefix, middle in places:
                dims = ("member", "time", *var.dims) if middle else ("member", *var.dims)
                shape = (layout.members, *middle, *var.shape)
                chunks = (layout.chunk_size, *shape[1:])
                if middle:
                    chunks = (layout.chunk_size, layout.time_chunk(var, middle[0]), *var.shape)
                arrays.append(
                    (
                        prefix + encode_name(var.name),
                        dict(
                            shape=shape,
                            chunks=chunks,
                            dimension_names=dims,
                            attributes=_var_attrs(var),
                        ),
                    )
                )
        _create_arrays(store, Path(path), arrays)

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
        write_zarr_chunk(
            self.path,
            self.layout,
            k,
            out,
            info,
            P,
            group=self.group,
            arrays=self.array,
            encoders=self._encoders,
        )
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
        """After a chunk is written or a summary block done: see
        :func:`engine.budgets.release_memory`."""
        release_memory()

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        """Values of a variable; the arrays corridor writes are read from their chunk files
        directly (:func:`engine.store.chunks.read_direct`, every chunk checked as zarr's
        reads through the checked store are), others by zarr."""
        from .chunks import read_direct

        key = encode_name(name) if group == "/" else f"{group}/{encode_name(name)}"
        array = self.array(key)
        enc = self._encoder(array)
        if enc is not None:
            if key not in self._infos:
                self._infos[key] = integrity._array_info(
                    key, array.metadata.to_dict(), getattr(self.layout, "chunk_size", None)
                )
            state = _state(self.group)
            done = None if state is None else state.done
            values = read_direct(enc, index, self._infos[key], done, self.path)
            if values is not None:
                return values
        return np.asarray(array[index])

    def _encoder(self, array: Any) -> Any:
        from .chunks import encoder

        if id(array) not in self._encoders:
            self._encoders[id(array)] = encoder(array)
        return self._encoders[id(array)]

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        """Update the root attributes; ``complete=True`` (the end of a sweep) also
        consolidates the store's metadata (:func:`consolidate`)."""
        self._unconsolidate()
        group = self.group
        with writing(self.path, "updating the store's attributes", _state(group)):
            group.attrs.update(jsonable(attrs))
        if attrs.get("complete") is True:
            consolidate(self.path)

    def _unconsolidate(self) -> None:
        """Drop the consolidated metadata before anything in the store changes (it would
        go stale), and the group and arrays opened through it."""
        if unconsolidate(self.path):
            self._group = None
            self._arrays.clear()
            self._encoders.clear()

    def write_group(self, path: str, ds: xr.Dataset) -> None:
        self._unconsolidate()
        ds = _encode_dataset(ds)
        # written whole: a group cut short by a full disk is found damaged on resume and
        # written again (engine.store.integrity.scan)
        target = _writer(self.path)
        direct = _whole_arrays(ds)
        kept = ds.drop_vars(direct[1:])
        encoding = {str(v): _encoding() for v in kept.variables}
        if direct:
            encoding[direct[0]]["chunks"] = ds[direct[0]].shape  # one chunk (small: quantiles)
        with writing(self.path, f"writing the group {path!r}", target.state):
            kept.to_zarr(
                target,
                group=path,
                mode="w",
                zarr_format=3,
                consolidated=False,
                encoding=encoding,
                write_empty_chunks=True,
            )
            if len(direct) > 1:
                _write_like(target, path, ds, direct)

    def tree(self) -> xr.DataTree:
        tree = open_store(self.path)
        assert isinstance(tree, xr.DataTree)
        return tree


#: The separator of the chunk keys of every array a new store has (zarr's default chunk key
#: encoding): "." puts every chunk file of an array in the array's directory
#: (``long/x/c.3.0``), where "/" made a directory per chunk of members and of times
#: (``long/x/c/3/0``), so that a sweep spent as much time creating directories as writing
#: files (a ``mkdir`` costs about as much as creating a file). The outputs' arrays have used
#: "." since 2026-12-01; the arrays xarray writes (the root's per-member arrays, coordinates,
#: summaries and sensitivity indices) since 2026-12-04. Stores made with "/" are read and
#: resumed as they are (each array's own metadata says how its chunks are named).
CHUNK_SEPARATOR = "."


def _encoding() -> dict[str, Any]:
    """The zarr encoding of an array xarray writes into a store: corridor's codecs and chunk
    key separator."""
    return {
        "compressors": integrity.compressors(),
        "chunk_key_encoding": {"name": "default", "separator": CHUNK_SEPARATOR},
    }


def _create_arrays(store: Any, path: Path, arrays: list[tuple[str, dict[str, Any]]]) -> None:
    """Create the empty float64 arrays ``(key, shape/chunks/dimension_names/attributes)`` of
    a new store in the directory ``path``.

    zarr's ``create_array`` costs about 2.5 ms an array (its metadata objects, an event-loop
    round trip, a check of the path): the first array is made by zarr, and every other one
    gets a copy of its ``zarr.json`` with its own shape, chunks, dims and attributes, written
    by an atomic file write as zarr's (:func:`engine.store.chunks.put_local`). The files are
    what zarr writes (plain zarr reads them; a test compares them with zarr's own)."""
    from .chunks import put_local

    if not arrays:
        return
    first, spec = arrays[0]
    made = store.create_array(
        first,
        dtype="float64",
        fill_value=np.nan,
        compressors=integrity.compressors(),
        config=integrity.WRITE_CONFIG,
        chunk_key_encoding={"name": "default", "separator": CHUNK_SEPARATOR},
        **spec,
    )
    template = json.loads((path / first / "zarr.json").read_bytes())
    if template.get("node_type") != "array" or made.metadata.zarr_format != 3:
        raise AssertionError("zarr wrote an unexpected array")  # pragma: no cover
    puts = []
    for key, spec in arrays[1:]:
        meta = _metadata_like(
            template, spec["shape"], spec["chunks"], spec["dimension_names"], spec["attributes"]
        )
        puts.append((f"{key}/zarr.json", meta))
    put_local(path, puts)


def _metadata_like(
    template: dict[str, Any],
    shape: Any,
    chunks: Any,
    dims: Any,
    attributes: dict[str, Any],
) -> bytes:
    """The ``zarr.json`` of an array like ``template`` (its dtype, codecs, fill value and
    chunk key encoding) with its own shape, chunks, dimension names and attributes, written
    as zarr writes it."""
    meta = dict(template)
    meta["shape"] = [int(n) for n in shape]
    meta["chunk_grid"] = {
        "name": "regular",
        "configuration": {"chunk_shape": [int(c) for c in chunks]},
    }
    meta["dimension_names"] = [str(d) for d in dims]
    meta["attributes"] = attributes
    return json.dumps(meta, allow_nan=True, indent=_json_indent()).encode()


#: Largest array of a group written whole (summaries, sensitivity indices) that is written
#: in one chunk by :func:`_write_like` rather than chunked by zarr.
WHOLE_ARRAY_BYTES = 16 * 2**20


def _whole_arrays(ds: xr.Dataset) -> list[str]:
    """The data variables of ``ds`` that :func:`_write_like` writes (float64, at least one
    dim, no encoding of their own, not empty, at most :data:`WHOLE_ARRAY_BYTES`), the first of them
    written by xarray as the template of the others; none when ``ds`` has coordinates that
    are not dims (xarray would name them in each variable's attributes)."""
    if any(name not in ds.dims for name in ds.coords):
        return []
    return [
        str(name)
        for name, var in ds.data_vars.items()
        if var.dtype == np.float64
        and var.ndim >= 1
        and not var.encoding
        and 0 < var.size * 8 <= WHOLE_ARRAY_BYTES
    ]


def _write_like(target: Any, group: str, ds: xr.Dataset, names: list[str]) -> None:
    """Write the variables ``names[1:]`` of ``ds`` into the group ``group`` as xarray wrote
    ``names[0]``: its ``zarr.json`` with their own shape, dims and attributes, and their one
    chunk encoded directly (:mod:`engine.store.chunks`). xarray's ``to_zarr`` costs about
    5 ms an array whatever its size (a summary group has one array per output); this costs
    the bytes. A test compares the result with xarray's own writing of the same Dataset."""
    from .chunks import ChunkEncoder, encoder, put_files, write_direct

    root = Path(str(getattr(getattr(target, "_store", None), "root", "")))
    template = json.loads((root / group / names[0] / "zarr.json").read_bytes())
    first = zarr_array(target, f"{group}/{names[0]}")
    model = encoder(first)
    fill = template["attributes"].get("_FillValue")
    if model is None or fill is None:  # pragma: no cover - xarray or zarr changed
        raise AssertionError(f"unexpected array written by xarray: {template}")
    metas = []
    writes = []
    for name in names[1:]:
        var = ds[name]
        attributes = {**jsonable(dict(var.attrs)), "_FillValue": fill}
        meta = _metadata_like(template, var.shape, var.shape, var.dims, attributes)
        metas.append((f"{group}/{name}/zarr.json", meta))
        enc = ChunkEncoder(
            store=model.store,
            path=f"{group}/{name}",
            shape=tuple(var.shape),
            chunks=tuple(var.shape),
            fill=model.fill,
            codec=model.codec,
            key=model.key,
        )
        writes.append((enc, slice(0, var.shape[0]), np.asarray(var.values, dtype="<f8")))
    put_files(target, metas)
    write_direct(writes)


def zarr_array(store: Any, key: str) -> Any:
    """The zarr array ``key`` of ``store``."""
    import zarr

    return zarr.open_array(store, path=key, mode="r+")


def _json_indent() -> Any:
    """The indent of zarr's metadata files (its ``json_indent`` setting)."""
    try:
        import zarr

        return zarr.config.get("json_indent")
    except (ImportError, KeyError):  # pragma: no cover - zarr moved
        return 2


def write_zarr_chunk(
    path: Path | str,
    layout: Layout,
    k: int,
    out: np.ndarray,
    info: np.ndarray,
    P: np.ndarray,
    group: Any = None,
    arrays: Any = None,
    encoders: dict[int, Any] | None = None,
) -> None:
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
    done = arrays(DONE)
    # An OSError (a full disk) becomes one StoreError once zarr's writes have settled
    # (engine.store.failure); after it nothing more is written, so the mark is never set.
    state = _state(group)
    with writing(path, f"writing members {m0} to {m1 - 1} (chunk {k})", state):
        _set_all(writes, encoders)
        _write_status(_Arrays(arrays), slice(m0, m1), info)
    with writing(path, f"marking chunk {k} (members {m0} to {m1 - 1}) done", state):
        done[k] = 1  # last: a chunk marked done has all its data


def consolidate(path: Path) -> None:
    """Copy the metadata of every group and array into the root's ``zarr.json`` (zarr's
    consolidated metadata), so that opening the finished store reads one file instead of one
    per array (~1,000 for the five-region model's every output: 1.5 s warm, more cold).

    Written only when a sweep is complete, and dropped (:func:`unconsolidate`) before anything
    in the store changes again, so it is never stale. Readers that do not know it (it is not yet
    part of the zarr v3 specification) read the store file by file as before."""
    import warnings

    import zarr

    with warnings.catch_warnings():
        # zarr's note that consolidated metadata is not yet in the v3 specification
        warnings.simplefilter("ignore")
        with writing(path, "consolidating the store's metadata"):
            zarr.consolidate_metadata(_writer(path))


def unconsolidate(path: Path) -> bool:
    """Drop the root's consolidated metadata, if any (atomically: a new ``zarr.json`` written
    beside the old one, then renamed over it); True if there was some."""
    root = Path(path) / "zarr.json"
    try:
        meta = json.loads(root.read_bytes())
    except (OSError, ValueError):
        return False  # not a readable root: left for the reader to report
    if meta.get(CONSOLIDATED) is None:
        return False
    del meta[CONSOLIDATED]
    from .chunks import write_file

    with writing(path, "updating the store's root metadata"):
        write_file(root, json.dumps(meta, indent=2).encode())  # a store file: 0666 less umask
    return True


def _writer(path: Path) -> Any:
    """A zarr store over ``path`` for writing whole arrays, which records its first failed
    write (engine.store.failure) and checks what it reads."""
    return integrity.ChecksummedStore.open(Path(path), read_only=False)


def _state(group: Any) -> Any:
    """The record of a checked store's group (its first failed write), or None."""
    return getattr(getattr(group, "store", None), "state", None)


def _open_array(group: Any, key: str, path: Path) -> Any:
    """The array ``key`` of ``group``, writing every chunk (fill-valued ones too: a chunk
    marked done must exist, see :mod:`engine.store.integrity`)."""
    try:
        array = group[key]
    except KeyError:
        raise StoreError(
            f"the store {str(path)!r} has no array {key!r}; it was damaged or "
            "made by another program. Delete it and run the sweep again."
        ) from None
    return array.with_config(integrity.WRITE_CONFIG)


class _Arrays:
    def __init__(self, get: Any) -> None:
        self.get = get

    def __getitem__(self, key: str) -> Any:
        return self.get(key)


def _set_all(
    writes: list[tuple[Any, slice, np.ndarray]], encoders: dict[int, Any] | None = None
) -> None:
    """``array[where] = values`` for every write: whole chunks encoded directly and put in one
    batch (:mod:`engine.store.chunks`), the others by zarr concurrently (each zarr call
    otherwise waits a round trip of zarr's event loop). ``encoders`` caches each array's
    encoder by ``id(array)`` (arrays opened once and kept)."""
    from .chunks import encoder, write_direct

    direct = []
    rest = []
    for array, where, values in writes:
        if encoders is None:
            enc = encoder(array)
        else:
            if id(array) not in encoders:
                encoders[id(array)] = encoder(array)
            enc = encoders[id(array)]
        if enc is not None and enc.aligned(where, values):
            direct.append((enc, where, values))
        else:
            rest.append((array, where, values))
    if direct:
        write_direct(direct)
    writes = rest
    if not writes:
        return
    try:
        import asyncio

        from zarr.core.sync import sync

        async def _gather() -> None:
            await asyncio.gather(
                *(array._async_array.setitem(where, values) for array, where, values in writes)
            )

        sync(_gather())
    except (ImportError, AttributeError):  # pragma: no cover - zarr's internals moved
        for array, where, values in writes:
            array[where] = values


def _var_attrs(var: VariableLayout) -> dict[str, Any]:
    attrs = jsonable(var.attrs)
    if "/" in var.name:
        attrs["name"] = var.name
    return dict(attrs)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The store path, checked before any work: a new path whose nearest existing parent is a
    writable directory, or an existing zarr store (opened later). Raises StoreError."""
    target = Path(path).expanduser()
    if target.exists():
        if not target.is_dir():
            raise StoreError(
                f"store path {str(target)!r} is a file, not a zarr store; choose "
                "another path (a directory ending in .zarr)."
            )
        if not (target / "zarr.json").exists() and any(target.iterdir()):
            raise StoreError(
                f"{str(target)!r} exists and is not a zarr store; choose another "
                "path (it is left untouched)."
            )
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
    except OSError as error:
        if error.errno in FULL:
            raise write_error(
                target, f"creating a directory in {str(parent)!r}", error, created=False
            ) from None
        raise StoreError(
            f"cannot create the store {str(target)!r}: {str(parent)!r} is not a "
            "writable directory. Choose a path you can write to."
        ) from None
    return target


def open_or_create(
    path: Path, layout: Layout, attrs: dict[str, Any], config: dict[str, Any]
) -> ZarrStore:
    """The store at ``path``, locked for this process: created for this sweep (atomically:
    see :mod:`engine.store.integrity`), or reopened if it was made by the same configuration
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
            raise StoreError(
                f"store path {str(path)!r} is not a directory; choose another "
                "path (it is left untouched)."
            )
        if path.exists() and any(path.iterdir()):
            raise StoreError(
                f"{str(path)!r} exists and is not a zarr store; choose another "
                "path (it is left untouched)."
            )
        import hashlib

        full = {**jsonable(attrs), "corridor_config": text, "chunk_size": layout.chunk_size}
        integrity.create_atomically(
            path,
            hashlib.sha256(text.encode()).hexdigest(),
            lambda directory: ZarrStore.create(directory, layout, full),
        )
        return ZarrStore(path, layout, lock)
    except BaseException:
        lock.release()
        raise


def _reopen(
    path: Path, layout: Layout, config: dict[str, Any], lock: integrity.StoreLock
) -> ZarrStore:
    existing = _zarr_group(path, mode="r")
    raw = existing.attrs.get("corridor_config")
    if raw is None:
        raise StoreError(
            f"{str(path)!r} is a zarr store not written by run_ensemble; "
            "choose another path (it is left untouched)."
        )
    stored = json.loads(raw)
    if stored != config:
        differ = sorted(k for k in set(stored) | set(config) if stored.get(k) != config.get(k))
        old, new = stored.get("scenario"), config.get("scenario")
        which = (
            f"was made for scenario {old!r}, not {new!r}"
            if "scenario" in differ and old is not None and new is not None
            else "was made by another configuration"
        )
        raise StoreError(
            f"the store {str(path)!r} {which} "
            f"(differs in: {', '.join(differ)}); it is left untouched. Use "
            "another path, or the original arguments to resume it."
        )
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
        raise StoreError(
            damage.messages[0].split(". Run the sweep")[0] + "; this part is "
            "written once, at creation, and cannot be recomputed: delete the "
            "store and run the sweep again."
        )
    marks = sink.array(DONE)
    with writing(sink.path, "marking damaged chunks to be recomputed", _state(sink.group)):
        for k in sorted(damage.chunks):
            marks[k] = 0
    sink.set_attrs({"complete": False})
    warnings.warn(
        f"{len(damage.messages)} damaged chunk(s) in {str(sink.path)!r} will be "
        f"recomputed: " + "; ".join(damage.messages[:3]),
        RuntimeWarning,
        stacklevel=4,
    )


def _with_chunk_size(layout: Layout, chunk_size: int) -> Layout:
    from dataclasses import replace

    return replace(layout, chunk_size=chunk_size)
