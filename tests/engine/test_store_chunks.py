"""Whole zarr chunks written directly (engine.store.chunks): the same files as zarr's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")

from engine.store import integrity  # noqa: E402
from engine.store.chunks import encoder, write_direct  # noqa: E402


def _array(group, name, compressors=None):
    return group.create_array(
        name,
        shape=(10, 7, 3),
        chunks=(4, 3, 3),
        dtype="float64",
        fill_value=np.nan,
        compressors=compressors or integrity.compressors(),
        config=integrity.WRITE_CONFIG,
    )


def _earlier_zstd():
    """The codecs of stores made before blosc (zstd level -1, or 0 earlier): still written
    directly when such a store resumes."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    return (ZstdCodec(level=-1, checksum=False), Crc32cCodec())


@pytest.mark.parametrize("codecs", ["current", "zstd"])
def test_direct_chunks_are_the_bytes_zarr_writes_and_read_back(tmp_path, codecs):
    compressors = integrity.compressors() if codecs == "current" else _earlier_zstd()
    group = zarr.open_group(integrity.ChecksummedStore.open(tmp_path, read_only=False), mode="w")
    direct = _array(group, "h/direct", compressors)
    by_zarr = _array(group, "h/zarr", compressors)
    values = np.random.default_rng(5).normal(size=(10, 7, 3))
    values[3, 6, 2] = np.nan
    values[4:8] = np.cumsum(values[4:8], axis=1)  # a compressible chunk too
    enc = encoder(direct)
    assert enc is not None
    assert direct.metadata.to_dict()["codecs"][1]["name"] == (
        "blosc" if codecs == "current" else "zstd"
    )
    for m0 in range(0, 10, 4):  # the last chunk of members and of times are partial
        where = slice(m0, min(10, m0 + 4))
        assert enc.aligned(where, values[where])
        write_direct([(enc, where, values[where])])
        by_zarr[where] = values[where]
    files = sorted(p.relative_to(tmp_path / "h/zarr") for p in (tmp_path / "h/zarr/c").rglob("*"))
    assert len([f for f in files if (tmp_path / "h/zarr" / f).is_file()]) == 9  # 3 x 3 chunks
    for name in files:
        ours, theirs = tmp_path / "h/direct" / name, tmp_path / "h/zarr" / name
        assert ours.is_file() == theirs.is_file()
        if theirs.is_file():
            assert ours.read_bytes() == theirs.read_bytes(), name
    reread = zarr.open_group(integrity.ChecksummedStore.open(tmp_path, read_only=True), mode="r")
    np.testing.assert_array_equal(reread["h/direct"][:], values)


def test_writes_not_covering_whole_chunks_and_other_codecs_are_left_to_zarr(tmp_path):
    group = zarr.open_group(str(tmp_path), mode="w")
    enc = encoder(_array(group, "a"))
    values = np.zeros((4, 7, 3))
    assert enc is not None
    assert not enc.aligned(slice(1, 5), values)  # across two chunks of members
    assert not enc.aligned(slice(0, 4), values[:, :5])  # part of the times
    assert not enc.aligned(slice(0, 2), values[:2])  # part of a chunk that is not the last
    from zarr.codecs import ZstdCodec

    assert encoder(_array(group, "b", compressors=(ZstdCodec(level=0),))) is None


@pytest.mark.parametrize("writers", [1, 2])
def test_a_failed_write_is_recorded_and_stops_the_batch(tmp_path, monkeypatch, writers):
    """The first refused file is recorded in the store's state and raised; once it has failed
    no writer starts another file (with two writers one more may already be under way)."""
    import errno
    import os
    import threading

    from engine.store import chunks

    monkeypatch.setattr(chunks, "WRITERS", writers)
    store = integrity.ChecksummedStore.open(Path(tmp_path), read_only=False)
    group = zarr.open_group(store, mode="w")
    enc = encoder(_array(group, "a"))
    calls = []
    lock = threading.Lock()
    write_file = chunks.write_file

    def full(path, contents):
        with lock:
            calls.append(path)
            refused = len(calls) == 2  # the disk is full from the second file on
        if refused:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_file(path, contents)

    monkeypatch.setattr(chunks, "write_file", full)
    with pytest.raises(OSError):
        write_direct([(enc, slice(0, 4), np.zeros((4, 7, 3)))])
    # three chunk files, the second refused: nothing more written (one writer), at most the
    # one a second writer had already started
    assert len(calls) == 2 if writers == 1 else 2 <= len(calls) <= 3
    assert store.state.failure is not None and store.state.failure.key.startswith("a/c/0/")
    assert store.state.failure.key == str(calls[1].relative_to(tmp_path))
    assert calls[0].exists() and not calls[1].exists() and not list(tmp_path.rglob("*.partial"))


def test_a_file_write_is_atomic_and_leaves_nothing_when_it_fails(tmp_path, monkeypatch):
    """engine.store.chunks.write_file: the file appears whole or not at all (a temporary file
    renamed into place, as zarr writes), a missing directory is made, parts are written in
    order, and a failed write leaves neither the file nor its temporary file."""
    import errno
    import os

    from engine.store import chunks

    target = tmp_path / "new" / "dir" / "c.0.0"
    chunks.write_file(target, (b"abc", np.arange(3, dtype="<f8").tobytes(), b"", b"\x01"))
    assert target.read_bytes() == b"abc" + np.arange(3, dtype="<f8").tobytes() + b"\x01"
    chunks.write_file(target, b"replaced")
    assert target.read_bytes() == b"replaced"
    assert sorted(p.name for p in target.parent.iterdir()) == ["c.0.0"]

    real = os.writev
    written = []

    def short(fd, parts):  # writes one byte at a time, as writev may
        written.append(1)
        return os.write(fd, bytes(parts[0][:1]))

    monkeypatch.setattr(os, "writev", short)
    chunks.write_file(target, (b"xy", b"z"))
    assert target.read_bytes() == b"xyz" and written
    monkeypatch.setattr(os, "writev", real)

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError):
        chunks.write_file(target, b"never")
    assert target.read_bytes() == b"xyz"  # the old file is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["c.0.0"]


@pytest.mark.parametrize("codecs", ["current", "zstd"])
def test_direct_reads_are_zarrs_values_and_check_every_chunk(tmp_path, codecs):
    """engine.store.chunks.read_direct: any block of unit-step slices, the same values as
    zarr's read; a changed chunk raises, a missing one is fill only where it may be."""
    from engine.errors import StoreError
    from engine.store.chunks import read_direct

    compressors = integrity.compressors() if codecs == "current" else _earlier_zstd()
    group = zarr.open_group(integrity.ChecksummedStore.open(tmp_path, read_only=False), mode="w")
    array = _array(group, "h/x", compressors)
    values = np.random.default_rng(7).normal(size=(10, 7, 3))
    array[:8] = values[:8]  # members 8 and 9 (chunk 2) never written
    enc = encoder(array)
    meta = array.metadata.to_dict()
    info = integrity._array_info("h/x", {**meta, "dimension_names": ["member", "t", "e"]}, 4)
    expected = values.copy()
    expected[8:] = np.nan
    plain = zarr.open_group(str(tmp_path), mode="r")["h/x"]  # zarr's own read, unchecked
    for index in [
        (),
        (slice(None), slice(3, 6)),  # one stored chunk of times: decoded in place
        (slice(1, 9), slice(2, 7), slice(1, 2)),  # across chunks, parts of each
        (slice(0, 4), slice(6, 7)),  # the last, partial chunk of times
        (slice(5, 5),),
    ]:
        got = read_direct(enc, index, info, {0, 1}, tmp_path)
        np.testing.assert_array_equal(got, expected[index])
        np.testing.assert_array_equal(got, plain[index])
    assert read_direct(enc, (slice(0, 4, 2),), info, None, tmp_path) is None  # zarr's
    with pytest.raises(StoreError, match="chunk 2.0.0 .members 8 to 9. is missing although"):
        read_direct(enc, (), info, {0, 1, 2}, tmp_path)  # chunk 2 marked done: must exist
    chunk = tmp_path / "h/x/c/1/2/0"
    data = bytearray(chunk.read_bytes())
    data[5] ^= 1
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="chunk 1.2.0 .members 4 to 7. fails its checksum"):
        read_direct(enc, (slice(4, 5),), info, {0, 1}, tmp_path)
    np.testing.assert_array_equal(
        read_direct(enc, (slice(0, 4),), info, {0, 1}, tmp_path), values[:4]
    )


def test_arrays_created_from_a_template_are_the_files_zarr_writes(tmp_path):
    """engine.store.zarr._create_arrays copies the first array's zarr.json for the others:
    each file is byte for byte what zarr's create_array writes for that array."""
    from engine.store.zarr import _create_arrays

    arrays = [
        ("x", dict(shape=(10, 4), chunks=(4, 4), dimension_names=("member", "parameter"))),
        (
            "long/y∕z",
            dict(shape=(10, 7, 3), chunks=(4, 2, 3), dimension_names=("member", "time", "region")),
        ),
        ("long/w", dict(shape=(10, 7), chunks=(4, 7), dimension_names=("member", "time"))),
    ]
    attributes = [{"long_name": "x"}, {"units": "person", "name": "y/z"}, {}]
    specs = [(k, {**s, "attributes": a}) for (k, s), a in zip(arrays, attributes)]
    for folder in ("ours", "zarrs"):
        zarr.open_group(str(tmp_path / folder), mode="w").create_group("long")
    _create_arrays(zarr.open_group(str(tmp_path / "ours"), mode="r+"), tmp_path / "ours", specs)
    theirs = zarr.open_group(str(tmp_path / "zarrs"), mode="r+")
    for key, spec in specs:
        theirs.create_array(
            key,
            dtype="float64",
            fill_value=np.nan,
            compressors=integrity.compressors(),
            config=integrity.WRITE_CONFIG,
            chunk_key_encoding={"name": "default", "separator": "."},
            **spec,
        )
        ours = (tmp_path / "ours" / key / "zarr.json").read_bytes()
        assert ours == (tmp_path / "zarrs" / key / "zarr.json").read_bytes(), key
    opened = zarr.open_group(str(tmp_path / "ours"), mode="r")["long/y∕z"]
    assert opened.shape == (10, 7, 3) and opened.chunks == (4, 2, 3)
    assert encoder(opened) is not None


def test_a_group_written_whole_is_what_xarray_writes(tmp_path):
    """ZarrStore.write_group (summaries, sensitivity): xarray writes the coordinates and the
    first float64 variable, the others are copies of its metadata with their own chunk; every
    file is byte for byte what xarray's to_zarr writes, and the group reads back the same."""
    import xarray as xr

    from engine.store import ZarrStore
    from engine.store.names import _encode_dataset

    rng = np.random.default_rng(3)
    ds = xr.Dataset(
        {
            "a": (("quantile", "time"), rng.normal(size=(5, 4)), {"units": "person"}),
            "b/c": (("quantile", "time", "region"), rng.normal(size=(5, 4, 3)), {"kind": "aux"}),
            "n": (("time",), np.arange(4)),  # not float64: xarray's
            "d": (("quantile", "time"), np.full((5, 4), np.nan), {"long_name": "all NaN"}),
        },
        coords={
            "quantile": [0.05, 0.25, 0.5, 0.75, 0.95],
            "time": [2025.0, 2030.0, 2035.0, 2040.0],
            "region": np.array(["x", "y", "z"], dtype=object),
        },
    )
    for folder in ("ours", "xarrays"):
        zarr.open_group(str(tmp_path / folder), mode="w")
    ZarrStore(tmp_path / "ours", None).write_group("summary/long", ds)  # type: ignore[arg-type]
    encoded = _encode_dataset(ds.copy())
    encoding = {
        str(v): {
            "compressors": integrity.compressors(),
            "chunk_key_encoding": {"name": "default", "separator": "."},
        }
        for v in encoded.variables
    }
    for name in ("a", "b∕c", "d"):
        encoding[name]["chunks"] = encoded[name].shape
    encoded.to_zarr(
        str(tmp_path / "xarrays"),
        group="summary/long",
        mode="w",
        zarr_format=3,
        consolidated=False,
        encoding=encoding,
        write_empty_chunks=True,
    )
    ours = sorted(p.relative_to(tmp_path / "ours") for p in (tmp_path / "ours").rglob("*"))
    theirs = sorted(p.relative_to(tmp_path / "xarrays") for p in (tmp_path / "xarrays").rglob("*"))
    assert ours == theirs and len(ours) > 20
    for name in ours:
        if (tmp_path / "ours" / name).is_file():
            mine = (tmp_path / "ours" / name).read_bytes()
            assert mine == (tmp_path / "xarrays" / name).read_bytes(), name
    back = xr.open_datatree(str(tmp_path / "ours"), engine="zarr", consolidated=False)
    xr.testing.assert_identical(
        back["summary/long"].to_dataset(), encoded.assign_coords(region=["x", "y", "z"])
    )


def test_cache_files_are_private_and_a_stores_files_follow_the_umask(tmp_path):
    """One atomic writer (engine.cache.write_atomic_bytes) for both: the caches' files are the
    user's alone (0600); a store's, its root metadata rewritten when a finished store is
    changed included, are 0666 less the umask, as zarr makes the others, so that a store
    shared with a group stays readable by it."""
    import os
    import stat

    import engine
    from engine import cache
    from engine.store import chunks
    from engine.store.zarr import consolidate, unconsolidate
    from tests.engine.test_store import decay

    old = os.umask(0o022)
    try:
        cache.write_atomic(tmp_path / "kernels.py", "x = 1\n")
        chunks.write_file(tmp_path / "s" / "c.0", b"abc")
        path = tmp_path / "sweep.zarr"
        engine.run_ensemble(
            decay(),
            n=4,
            seed=0,
            priors={"k": ("uniform", 0.05, 0.2)},
            start=0,
            stop=2,
            dt=0.5,
            progress=False,
            store=path,
        )
        assert unconsolidate(path)  # a finished store's metadata, as a change drops it
    finally:
        os.umask(old)

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(tmp_path / "kernels.py") == 0o600
    assert mode(tmp_path / "s" / "c.0") == 0o644
    modes = {mode(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert modes == {0o644}, modes
    assert mode(path / "zarr.json") == 0o644
    consolidate(path)
    assert not list(tmp_path.rglob("*.partial"))
