"""Store integrity: atomic creation, one writer at a time, checksummed chunks.

A sweep's zarr store must never be stranded nor silently wrong, whatever happens to the process
writing it (Ctrl-C, SIGKILL, a full disk, a second sweep on the same path) or to the files
afterwards (a flipped bit, a deleted or truncated chunk). Three mechanisms, all here:

- **Atomic creation.** A new store is built in a temporary sibling directory
  (``.<name>.corridor-new-XXXX``, with a marker naming the store it will become) and renamed
  into place with one ``rename(2)``: a store path holds a whole store skeleton or nothing.
  ``rename`` refuses to replace a non-empty directory, so nothing found at the path is ever
  deleted; a sibling left by a killed sweep is removed (under the store's lock) only when it is
  this user's directory and its marker proves it was made for this path.
- **A writer's lock.** The writer holds ``fcntl.flock`` on a hidden sibling of the store
  (``.<name>.corridor-lock``, which can exist before the store does, so that two sweeps creating
  the same store cannot both proceed). A second writer gets :class:`~engine.errors.StoreError`
  naming the first one's pid. The kernel releases the lock when its holder dies.
- **Checksums.** Every array is written with zarr's ``crc32c`` codec after ``blosc``; every chunk
  read through :class:`ChecksummedStore` is checked before it is decoded (a changed or truncated
  chunk raises StoreError naming the variable and the chunk), and a chunk that should exist
  but does not raises too, instead of reading as NaN: every chunk of an array written whole
  (coordinates, summaries), and of a per-member array every chunk of members marked done.
  Resuming a sweep scans the chunks marked done (:func:`scan`) and recomputes the damaged ones.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError
from .names import decode_name, split_chunk_key

__all__ = [
    "compressors",
    "WRITE_CONFIG",
    "StoreLock",
    "lock_path",
    "create_atomically",
    "remove_stale",
    "ChecksummedStore",
    "scan",
    "Damage",
    "chunk_checksum_ok",
    "check_chunk",
]

LOCK_TAG = ".corridor-lock"
TEMP_TAG = ".corridor-new-"
MARKER_NAME = "corridor-under-construction.json"
MARKER_KIND = "corridor store under construction"
# Chunks equal to the fill value are written too: a chunk marked done must exist on disk.
WRITE_CONFIG: Any = {"write_empty_chunks": True}


#: The compressor of every array corridor writes (stores made since 2026-12-03 evening): blosc
#: with lz4 at level 1 after a byte shuffle (zarr's ``blosc`` codec, typesize the item size).
#: A sweep's float64 outputs barely compress byte by byte (zstd level -1 kept 0.674 of a
#: sample of the five-region model's chunks, and a population chunk not a byte less); shuffled,
#: lz4 keeps 0.549 of them and encodes about 1.6x and decodes about 4x faster (300 chunks, 220
#: MB, single thread, 2026-12-03). Earlier stores (zstd level -1, or 0 before that) are read,
#: checked and resumed with their own codecs.
BLOSC: dict[str, Any] = {"cname": "lz4", "clevel": 1, "shuffle": "shuffle"}


#: The key of a root ``zarr.json`` that holds every node's metadata once a sweep is complete
#: (engine.store.zarr.consolidate).
CONSOLIDATED = "consolidated_metadata"


def compressors() -> tuple[Any, ...]:
    """The bytes-to-bytes codecs of every array corridor writes: blosc (:data:`BLOSC`), then a
    crc32c checksum of the compressed bytes (standard zarr v3 codecs: any zarr reads them)."""
    from zarr.codecs import BloscCodec, Crc32cCodec

    return (BloscCodec(**BLOSC), Crc32cCodec())


# ---------------------------------------------------------------------------- the lock


def lock_path(path: Path) -> Path:
    """The lock file of the store at ``path``: a hidden sibling, so that it exists before the
    store does and stays out of the zarr hierarchy."""
    return path.parent / f".{path.name}{LOCK_TAG}"


class StoreLock:
    """An exclusive ``flock`` on the store's lock file (:func:`lock_path`), held until
    :meth:`release` or the process ends (the kernel releases it however the process dies)."""

    def __init__(self, fd: int | None, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def acquire(cls, path: Path) -> StoreLock:
        """Lock the store at ``path`` (which need not exist yet) for this process.

        Raises StoreError when another process holds it."""
        target = lock_path(path)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, flags, 0o644)
        except OSError as error:
            raise StoreError(
                f"cannot lock the store {str(path)!r}: cannot write its lock file "
                f"{str(target)!r} ({error.strerror}). Choose a store in a directory "
                "you can write to."
            ) from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            return cls(fd, path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _read_record(fd).get("pid", "unknown")
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(
                    f"the store {str(path)!r} is being written by another "
                    f"process (pid {holder}); wait for it to finish, or choose "
                    "another path."
                ) from None
            raise StoreError(f"cannot lock the store {str(path)!r} ({error}).") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "store": path.name}).encode(), 0)
        except OSError as error:
            os.close(fd)
            from .failure import write_error

            raise write_error(
                path, f"writing its lock file {str(target)!r}", error, created=False
            ) from None
        return cls(fd, path)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the flock
            self.fd = None


def _read_record(fd: int) -> dict[str, Any]:
    try:
        value = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------- creation


def create_atomically(path: Path, config_hash: str, build: Callable[[Path], None]) -> None:
    """Build a store with ``build(directory)`` in a temporary sibling of ``path`` and rename
    it into place. The caller holds the store's lock.

    An empty directory at ``path`` is replaced by the rename; a non-empty one (files written
    into it meanwhile) makes ``rename`` fail, and StoreError is raised with ``path`` untouched.
    Only the temporary directory made here is ever removed (on any failure).
    """
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    # The marker sits beside the store being built, not in it (zarr warns of unknown files).
    temp = Path(tempfile.mkdtemp(prefix=f".{path.name}{TEMP_TAG}", dir=parent))
    try:
        (temp / MARKER_NAME).write_text(
            json.dumps({"kind": MARKER_KIND, "target": path.name, "config": config_hash})
        )
        (temp / "store").mkdir()
        build(temp / "store")
        os.rename(temp / "store", path)
        shutil.rmtree(temp, ignore_errors=True)
    except BaseException as error:
        from .failure import settle, write_error

        if isinstance(error, Exception):
            settle()  # zarr's writes still in flight would recreate what is removed here
        shutil.rmtree(temp, ignore_errors=True)  # made above by this process
        if isinstance(error, StoreError):
            raise
        if isinstance(error, OSError) and error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise StoreError(
                f"{str(path)!r} is not empty any more and is not a zarr store; "
                "it is left untouched. Choose another path."
            ) from None
        if isinstance(error, OSError):
            raise write_error(path, "creating the store", error, created=False) from None
        raise


def remove_stale(path: Path) -> list[Path]:
    """Remove temporary siblings of ``path`` left by killed sweeps; return them. The caller
    holds the store's lock, so no live sweep is building one.

    Only a real directory (not a symlink) owned by this user, named as :func:`create_atomically`
    names them and proven to be one of its by its marker, is removed."""
    import stat

    removed: list[Path] = []
    prefix = f".{path.name}{TEMP_TAG}"
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for candidate in candidates:
        try:
            info = candidate.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        if _is_ours(candidate, path.name):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _is_ours(candidate: Path, target: str) -> bool:
    try:
        record = json.loads((candidate / MARKER_NAME).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(record, dict)
        and record.get("kind") == MARKER_KIND
        and record.get("target") == target
    )


# ---------------------------------------------------------------------------- checksums


def chunk_checksum_ok(data: Any) -> bool:
    """Whether ``data`` (a chunk's bytes) ends with the crc32c of the bytes before it."""
    import google_crc32c

    raw = (
        np.frombuffer(data, dtype=np.uint8)
        if isinstance(data, bytes)
        else np.asarray(data, dtype=np.uint8).reshape(-1)
    )
    if raw.size < 4:
        return False
    return bool(google_crc32c.value(raw[:-4]) == int.from_bytes(raw[-4:].tobytes(), "little"))


@dataclass
class _ArrayInfo:
    name: str  # as the user knows it ("/" restored)
    group: str
    checksummed: bool
    member_first: bool  # member-chunks of this array are the sweep's chunks
    shape: tuple[int, ...]
    chunks: tuple[int, ...]


def _array_info(key: str, meta: dict[str, Any], chunk_size: int | None) -> _ArrayInfo:
    group, _, leaf = key.rpartition("/")
    codecs = meta.get("codecs") or []
    names = [c.get("name") if isinstance(c, dict) else c for c in codecs]
    dims = meta.get("dimension_names") or []
    grid = (meta.get("chunk_grid") or {}).get("configuration", {})
    chunks = tuple(int(c) for c in grid.get("chunk_shape", ()))
    shape = tuple(int(s) for s in meta.get("shape", ()))
    attrs = meta.get("attributes") or {}
    member_first = (
        bool(dims)
        and dims[0] == "member"
        and leaf != "member"
        and bool(chunks)
        and chunks[0] == chunk_size
    )
    return _ArrayInfo(
        decode_name(leaf, attrs), group or "/", "crc32c" in names, bool(member_first), shape, chunks
    )


def _damaged(info: _ArrayInfo, coords: tuple[int, ...], path: Any, what: str) -> StoreError:
    where = f"chunk {'.'.join(map(str, coords)) or '0'}"
    if info.member_first and coords and info.chunks:
        m0 = coords[0] * info.chunks[0]
        m1 = min(info.shape[0], m0 + info.chunks[0])
        where += f" (members {m0} to {m1 - 1})"
    group = "" if info.group == "/" else f" of group {info.group!r}"
    return StoreError(
        f"the store {str(path)!r} is damaged: variable {info.name!r}{group}, "
        f"{where} {what}. Run the sweep again with the same arguments to "
        "recompute it (damaged chunks are recomputed), or delete the store."
    )


def check_chunk(
    info: _ArrayInfo, coords: tuple[int, ...], data: Any, path: Any, done: set[int] | None
) -> bool:
    """Whether the chunk ``coords`` of an array (its bytes ``data``, None when the file is
    missing) is there and sound (True), or missing where a missing chunk means fill values
    (False); raises StoreError when it is damaged, or missing where it must exist.

    Arrays with checksums were written with every chunk (:data:`WRITE_CONFIG`); older stores
    left out chunks of fill values, so a missing chunk says nothing there. ``done``: the
    sweep's chunks marked done (None: not known, a missing member chunk reads as fill)."""
    if data is None:
        if not info.checksummed:
            return False
        if not info.member_first:
            raise _damaged(info, coords, path, "is missing")
        if done is not None and coords and coords[0] in done:
            raise _damaged(info, coords, path, "is missing although its members are marked done")
        return False
    raw = data if isinstance(data, bytes) else data.as_numpy_array()
    if info.checksummed and not chunk_checksum_ok(raw):
        raise _damaged(info, coords, path, "fails its checksum (changed or truncated on disk)")
    return True


class ChecksummedStore:
    """Factory of zarr stores that check every chunk read (see the module docstring)."""

    @staticmethod
    def open(
        path: Path,
        *,
        read_only: bool,
        done: Iterable[int] | None = None,
        chunk_size: int | None = None,
    ) -> Any:
        """A zarr store over the directory ``path`` that verifies chunks on read.

        ``done``: the sweep's chunks marked done (member chunks of ``chunk_size``); a chunk of
        theirs that is missing raises StoreError. None: missing chunks read as fill values."""
        from zarr.storage import LocalStore

        return _checked_class()(
            LocalStore(str(path), read_only=read_only),
            _State(path, None if done is None else set(done), chunk_size),
        )


@dataclass
class _State:
    path: Path
    done: set[int] | None
    chunk_size: int | None
    arrays: dict[str, _ArrayInfo] = field(default_factory=dict)
    failure: Any = None  # the first write that failed (engine.store.failure.Failure)


_CHECKED: Any = None


def _checked_class() -> Any:
    """The WrapperStore subclass (made on first use: zarr is imported lazily)."""
    global _CHECKED
    if _CHECKED is not None:
        return _CHECKED
    from zarr.core.buffer import default_buffer_prototype
    from zarr.storage import WrapperStore

    class _Checked(WrapperStore):  # type: ignore[misc,type-arg]
        def __init__(self, store: Any, state: _State | None = None) -> None:
            super().__init__(store)
            self.state = state or _State(Path(str(getattr(store, "root", ""))), None, None)

        def _with_store(self, store: Any) -> Any:
            return type(self)(store, self.state)

        async def _info(self, array: str) -> _ArrayInfo | None:
            known = self.state.arrays.get(array)
            if known is None:
                raw = await self._store.get(f"{array}/zarr.json", default_buffer_prototype())
                if raw is None:
                    # the array's own file is gone: a finished store's root still describes it
                    # (consolidated metadata), and its chunks are checked all the same
                    raw = await self._store.get("zarr.json", default_buffer_prototype())
                if raw is None:
                    return None
                try:
                    meta = json.loads(raw.to_bytes())
                except ValueError:
                    return None
                if meta.get("node_type") == "group":
                    nodes = (meta.get(CONSOLIDATED) or {}).get("metadata") or {}
                    meta = nodes.get(array) or {}
                if meta.get("node_type") != "array":
                    return None
                known = _array_info(array, meta, self.state.chunk_size)
                self.state.arrays[array] = known
            return known

        async def set(self, key: str, value: Any) -> None:
            await self._write(self._store.set, key, value)

        async def set_if_not_exists(self, key: str, value: Any) -> None:
            await self._write(self._store.set_if_not_exists, key, value)

        async def _write(self, write: Any, key: str, value: Any) -> None:
            # After one write failed (a full disk), every later one fails at once: nothing
            # more reaches the disk (no chunk is marked done after its data failed), and the
            # concurrent writes still queued end quickly (engine.store.failure).
            failed = self.state.failure
            if failed is not None:
                raise OSError(failed.error.errno, failed.error.strerror)
            try:
                await write(key, value)
            except OSError as error:
                if self.state.failure is None:
                    from .failure import Failure

                    self.state.failure = Failure(key, error)
                raise

        async def get(self, key: str, prototype: Any, byte_range: Any = None) -> Any:
            value = await self._store.get(key, prototype, byte_range)
            split = split_chunk_key(key) if byte_range is None else None
            if split is None:
                return value
            info = await self._info(split[0])
            if info is None:
                return value
            if check_chunk(info, split[1], value, self.state.path, self.state.done):
                return value
            return None

    _CHECKED = _Checked
    return _CHECKED


# ---------------------------------------------------------------------------- resume scan


@dataclass
class Damage:
    """What :func:`scan` found: member chunks to recompute, and whether anything else (the
    summaries, written at the end) needs rewriting."""

    chunks: set[int] = field(default_factory=set)
    other: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _walk(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """(key, metadata) of every array below the store at ``path``."""
    for meta_path in sorted(path.rglob("zarr.json")):
        if meta_path.parent == path:
            continue
        try:
            meta = json.loads(meta_path.read_bytes())
        except (OSError, ValueError):
            continue
        if meta.get("node_type") == "array":
            yield meta_path.parent.relative_to(path).as_posix(), meta


def scan(path: Path, done: Iterable[int], chunk_size: int) -> Damage:
    """Check every chunk that should be on disk: those of the member chunks marked ``done``
    and every chunk of the arrays that are not per member. Reads raw bytes (no decoding)."""
    done = sorted(set(done))
    damage = Damage()
    for key, meta in _walk(path):
        info = _array_info(key, meta, chunk_size)
        if not info.chunks:
            continue
        grid = [range(-(-s // c)) for s, c in zip(info.shape, info.chunks)]
        encoding = meta.get("chunk_key_encoding") or {}
        separator = (encoding.get("configuration") or {}).get("separator", "/")
        if info.member_first:
            grids: Iterable[tuple[int, ...]] = (
                (k, *rest) for k in done for rest in product(*grid[1:])
            )
        else:
            grids = product(*grid)
        for coords in grids:
            name = f"{key}/c" + "".join(f"{separator}{c}" for c in coords)
            try:
                data = (path / name).read_bytes()
            except FileNotFoundError:
                if not info.checksummed:
                    continue  # made before chunks were checksummed: fill values not written
                data = None
            except OSError as error:
                data = None
                damage.messages.append(f"{name}: {error}")
            if data is not None and (not info.checksummed or chunk_checksum_ok(data)):
                continue
            what = "is missing" if data is None else "fails its checksum"
            damage.messages.append(str(_damaged(info, coords, path, what)))
            if info.member_first:
                damage.chunks.add(coords[0])
            else:
                damage.other.append(key)
    return damage
