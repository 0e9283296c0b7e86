"""Writing whole zarr chunks directly: the store's cost is the bytes, not the arrays.

zarr spends about 3 ms of CPU per array written (its codec pipeline, indexing and event-loop
round trips), whatever the array's size; a sweep saving the corridor model's every output writes
~860 arrays a chunk of members, so zarr's bookkeeping, not the bytes, set the pace (issue 18).
A chunk of members covers whole zarr chunks of every per-member array (zarr chunks along
``member`` are the ensemble's chunks), so they are encoded here exactly as zarr encodes them
(the ``bytes`` codec, little-endian C order; ``blosc``, or ``zstd`` in stores made before it;
``crc32c`` of the compressed bytes) and
all the chunk files of a chunk of members go to the store in one batch. The files are standard
zarr format 3 chunks: plain zarr and ``xr.open_datatree(engine="zarr")`` read them, the
checksums are zarr's own, and writes still pass through the store that records the first
failed write (:mod:`engine.store.failure`). An array with other codecs or a write not aligned
with its chunks is written by zarr itself. The summaries read the chunks back the same way
(:func:`read_direct`: each chunk file checked as the checked store checks it, then
decompressed), so reading a block back costs its bytes too.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import Contents, write_atomic_bytes

__all__ = [
    "ChunkEncoder",
    "encoder",
    "write_direct",
    "read_direct",
    "put_files",
    "put_local",
    "write_file",
]


@dataclass(frozen=True)
class ChunkEncoder:
    """How to encode whole chunks of one zarr array (what its metadata says)."""

    store: Any
    path: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    fill: float
    codec: Any  # the numcodecs compressor of the array's bytes-to-bytes codec
    key: Any  # chunk coordinates -> key under the array

    def aligned(self, where: slice, values: np.ndarray) -> bool:
        """Whether ``array[where] = values`` covers whole chunks along ``member`` and the
        array's whole extent along every other dimension."""
        m0, m1 = where.start or 0, where.stop
        if m1 is None or values.shape[1:] != self.shape[1:] or values.shape[0] != m1 - m0:
            return False
        return m0 % self.chunks[0] == 0 and (
            (m1 - m0) == self.chunks[0] or (m1 == self.shape[0] and m1 - m0 <= self.chunks[0])
        )

    def encode(self, where: slice, values: np.ndarray) -> Iterator[tuple[str, tuple[bytes, ...]]]:
        """(store key, encoded bytes) of every zarr chunk ``values`` covers, one at a time; the
        bytes are the compressed chunk and its 4-byte checksum, in that order (the file's
        contents, written without joining them: :func:`write_file`)."""
        import google_crc32c

        codec = self.codec
        first = (where.start or 0) // self.chunks[0]
        grid = [range(-(-n // c)) for n, c in zip(self.shape[1:], self.chunks[1:])]
        for rest in product(*grid):
            index = (slice(None),) + tuple(
                slice(i * c, (i + 1) * c) for i, c in zip(rest, self.chunks[1:])
            )
            block = values[index]
            if block.shape != self.chunks:  # the last chunk of members or of times: padded
                full = np.full(self.chunks, self.fill, dtype="<f8")
                full[tuple(slice(0, n) for n in block.shape)] = block
                block = full
            # a copy only when the block is not already contiguous little-endian float64
            packed = codec.encode(np.ascontiguousarray(block, dtype="<f8"))
            if not isinstance(packed, bytes):  # pragma: no cover - numcodecs returns bytes
                packed = bytes(packed)
            checksum = _CRC.pack(google_crc32c.value(packed))
            key = self.key((first, *rest))
            yield (f"{self.path}/{key}" if self.path else key, (packed, checksum))


#: zarr's crc32c codec appends the checksum as a little-endian uint32.
_CRC = struct.Struct("<I")


def encoder(array: Any) -> ChunkEncoder | None:
    """The direct encoder of a zarr array, or None if it is not one corridor's writer makes
    (float64, regular chunks, codecs exactly ``bytes`` (little-endian), ``blosc`` (stores made
    since 2026-12-03 evening) or ``zstd`` without its checksum (earlier ones), ``crc32c``)."""
    try:
        from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, ZstdCodec
        from zarr.core.chunk_grids import RegularChunkGrid

        meta = array.metadata
        if getattr(meta, "zarr_format", None) != 3 or np.dtype(array.dtype) != np.float64:
            return None
        codecs = tuple(meta.codecs)
        if not isinstance(meta.chunk_grid, RegularChunkGrid) or len(codecs) != 3:
            return None
        first, compressor, crc = codecs
        if not (
            isinstance(first, BytesCodec)
            and str(getattr(first.endian, "value", first.endian)) in ("little", "None")
            and isinstance(crc, Crc32cCodec)
        ):
            return None
        codec: Any
        if isinstance(compressor, ZstdCodec) and not compressor.checksum:
            from numcodecs.zstd import Zstd

            codec = Zstd(level=int(compressor.level))
        elif isinstance(compressor, BloscCodec) and int(compressor.typesize) == 8:
            from numcodecs.blosc import Blosc

            # the float64 chunk's own item size is the typesize zarr records (8)
            codec = Blosc(
                cname=str(getattr(compressor.cname, "value", compressor.cname)),
                clevel=int(compressor.clevel),
                shuffle=_BLOSC_SHUFFLE[str(getattr(compressor.shuffle, "value", ""))],
                blocksize=int(compressor.blocksize),
            )
        else:
            return None
        return ChunkEncoder(
            store=array.store_path.store,
            path=array.store_path.path,
            shape=tuple(int(n) for n in array.shape),
            chunks=tuple(int(c) for c in meta.chunk_grid.chunk_shape),
            fill=float(meta.fill_value),
            codec=codec,
            key=meta.chunk_key_encoding.encode_chunk_key,
        )
    except (ImportError, AttributeError, TypeError, ValueError, KeyError):  # pragma: no cover
        return None  # zarr or numcodecs moved


_BLOSC_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def write_direct(writes: list[tuple[ChunkEncoder, slice, np.ndarray]]) -> None:
    """Encode every write's chunks and put them in their stores.

    A store on the local disk gets them by :func:`write_file` (a temporary file renamed into
    place, as zarr writes its files) from two writer threads while this thread encodes the
    next ones; the first failed write is recorded as the checked store records it
    (:mod:`engine.store.integrity`) and stops the batch. Other stores get them concurrently
    through zarr. Returns once every file is written."""
    batches: dict[int, tuple[Any, list[tuple[ChunkEncoder, slice, np.ndarray]]]] = {}
    for write in writes:
        batches.setdefault(id(write[0].store), (write[0].store, []))[1].append(write)
    for store, items in batches.values():
        put_files(store, (kv for enc, where, values in items for kv in enc.encode(where, values)))


def put_files(store: Any, puts: Iterable[tuple[str, Contents]]) -> None:
    """Put files ``(key, contents)`` in a zarr store: a local one by :func:`write_file` (from
    writer threads), others concurrently through zarr (see :func:`write_direct`)."""
    root = _local_root(store)
    if root is None:
        _put_async(store, [(key, _joined(data)) for key, data in puts])
    else:
        _put_local(Path(str(root)), getattr(store, "state", None), puts)


def put_local(root: Path, puts: Iterable[tuple[str, Contents]]) -> None:
    """Write files ``(key, contents)`` under the local directory ``root`` (a store being
    made) by :func:`write_file`."""
    _put_local(Path(root), None, puts)


def _local_root(store: Any) -> Any:
    """The directory of a (wrapped) zarr LocalStore, or None for another store."""
    from zarr.storage import LocalStore

    inner = store
    while not isinstance(inner, LocalStore):
        inner = getattr(inner, "_store", None)
        if inner is None:
            return None
    if getattr(inner, "read_only", False):
        return None  # zarr raises its own error
    return inner.root


def write_file(path: Path, contents: Contents) -> None:
    """Write a store's file atomically, as zarr's local store does (a temporary file beside
    it, renamed over it once written; removed if the write fails; mode 0666 less the umask),
    by :func:`engine.cache.write_atomic_bytes`, without zarr's Buffer objects, a copy to join
    the checksum to the chunk, or a ``mkdir`` per file (only when the directory is missing).

    The lowest write of corridor's own chunk and metadata files: every byte they put on disk
    passes here (the disk-full tests refuse writes here and in zarr's ``_put``)."""
    write_atomic_bytes(path, contents, private=False)


def _joined(contents: Contents) -> bytes:
    return contents if isinstance(contents, bytes) else b"".join(bytes(p) for p in contents)


#: Encoded chunks waiting for the writer threads (each at most a zarr chunk's bytes, 4 MiB).
QUEUED_FILES = 8
#: Writer threads: a file's creation and write are kernel work that releases the GIL, and one
#: thread writing set the pace of a sweep's write phase (the encoder waited on it).
WRITERS = 2


def _put_local(root: Path, state: Any, puts: Iterable[tuple[str, Contents]]) -> None:
    """Write ``puts`` by :func:`write_file` from :data:`WRITERS` writer threads while ``puts``
    (a generator that encodes) runs here (compression releases the GIL, so do file writes);
    stop at the first failure (recorded in ``state``) and raise it: once a write has failed, no
    writer starts another. The files are independent (a chunk of members counts as written only
    when its marker is, after all of them), so their order on disk does not matter.

    Measured against writing from this thread (300 members of the five-region sweep, every
    output, loaded host, alternating): 14.6-20.3 s against 17.9-20.7 s; two writer threads
    against one (500 members, three rounds alternating): best 12.9 s against 15.4 s."""
    import queue
    import threading

    from .failure import Failure

    pending: queue.Queue[tuple[str, Contents] | None] = queue.Queue(maxsize=QUEUED_FILES)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer() -> None:
        while True:
            item = pending.get()
            if item is None:
                return
            if errors:
                continue  # a write failed: nothing more reaches the disk
            key, data = item
            try:
                failed = getattr(state, "failure", None)
                if failed is not None:
                    raise OSError(failed.error.errno, failed.error.strerror)
                try:
                    write_file(root / key, data)
                except OSError as error:
                    with lock:
                        if state is not None and state.failure is None:
                            state.failure = Failure(key, error)
                    raise
            except BaseException as error:  # noqa: BLE001 - raised in the caller's thread
                with lock:
                    errors.append(error)

    threads = [
        threading.Thread(target=writer, name=f"corridor-store-writer-{i}", daemon=True)
        for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    try:
        for item in puts:
            if errors:
                break
            pending.put(item)
    finally:
        for _ in threads:
            pending.put(None)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]


def _put_async(store: Any, puts: list[tuple[str, bytes]]) -> None:
    import asyncio

    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    prototype = default_buffer_prototype()

    async def _gather() -> None:
        await asyncio.gather(
            *(store.set(key, prototype.buffer.from_bytes(data)) for key, data in puts)
        )

    sync(_gather())


def read_direct(
    enc: ChunkEncoder, index: Any, info: Any, done: set[int] | None, path: Any
) -> np.ndarray | None:
    """``array[index]`` read from the chunk files themselves, or None when the array is not in
    a local directory or ``index`` is not a tuple of slices with unit steps (zarr reads those).

    Every chunk is checked as :class:`engine.store.integrity.ChecksummedStore` checks it (the
    same :func:`~engine.store.integrity.check_chunk`: a changed chunk, or a missing one that
    must exist, raises StoreError; a missing one that may be reads as the fill value), then
    decompressed straight into the result where the result holds it whole. One Python call per
    chunk file, none of zarr's per-array codec pipeline and event-loop round trips: reading a
    block back for the summaries costs what decompressing its bytes costs."""
    from .integrity import check_chunk

    root = _local_root(enc.store)
    if root is None:
        return None
    if not isinstance(index, tuple):
        index = (index,)
    if len(index) > len(enc.shape) or not all(
        isinstance(i, slice) and i.step in (None, 1) for i in index
    ):
        return None
    full = index + (slice(None),) * (len(enc.shape) - len(index))
    bounds = [(a, max(a, b)) for a, b, _ in (s.indices(n) for s, n in zip(full, enc.shape))]
    out = np.empty(tuple(b - a for a, b in bounds), dtype="<f8")
    if out.size == 0:
        return out
    codec = enc.codec
    base = Path(str(root)) / enc.path if enc.path else Path(str(root))
    grids = [range(a // c, -(-b // c)) for (a, b), c in zip(bounds, enc.chunks)]
    for coords in product(*grids):
        lo = [i * c for i, c in zip(coords, enc.chunks)]
        # the part of this chunk inside the selection, in chunk and in result coordinates
        inner = tuple(
            slice(max(a, s) - s, min(b, s + c) - s) for (a, b), s, c in zip(bounds, lo, enc.chunks)
        )
        target = tuple(
            slice(max(a, s) - a, min(b, s + c) - a) for (a, b), s, c in zip(bounds, lo, enc.chunks)
        )
        try:
            data: bytes | None = (base / enc.key(coords)).read_bytes()
        except FileNotFoundError:
            data = None
        if not check_chunk(info, coords, data, path, done):
            out[target] = enc.fill
            continue
        assert data is not None
        whole = all(s.start == 0 and s.stop == c for s, c in zip(inner, enc.chunks))
        view = out[target]
        if whole and view.flags.c_contiguous:
            codec.decode(memoryview(data)[:-4], out=view)
        else:
            block = np.frombuffer(codec.decode(memoryview(data)[:-4]), dtype="<f8")
            view[...] = block.reshape(enc.chunks)[inner]
    return out
