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


def test_direct_chunks_are_the_bytes_zarr_writes_and_read_back(tmp_path):
    group = zarr.open_group(integrity.ChecksummedStore.open(tmp_path, read_only=False), mode="w")
    direct, by_zarr = _array(group, "h/direct"), _array(group, "h/zarr")
    values = np.random.default_rng(5).normal(size=(10, 7, 3))
    values[3, 6, 2] = np.nan
    enc = encoder(direct)
    assert enc is not None
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


def test_a_failed_write_is_recorded_and_stops_the_batch(tmp_path, monkeypatch):
    import errno
    import os

    import zarr.storage._local as local

    store = integrity.ChecksummedStore.open(Path(tmp_path), read_only=False)
    group = zarr.open_group(store, mode="w")
    enc = encoder(_array(group, "a"))
    calls = []

    def full(path, value, exclusive=False):
        calls.append(path)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(local, "_put", full)
    with pytest.raises(OSError):
        write_direct([(enc, slice(0, 4), np.zeros((4, 7, 3)))])
    assert len(calls) == 1  # three chunk files, the first refused: nothing more written
    assert store.state.failure is not None and store.state.failure.key.startswith("a/c/0/")


def test_without_zarrs_private_local_write_chunks_go_through_zarr(tmp_path, monkeypatch):
    """A zarr release without ``zarr.storage._local._put``: local stores get the same chunks
    through zarr's public ``set`` (no AttributeError mid-sweep)."""
    from engine.store import chunks

    monkeypatch.setattr(chunks, "_zarr_local_put", lambda: None)  # (zarr's own set still uses it)
    values = np.random.default_rng(2).normal(size=(4, 7, 3))
    group = zarr.open_group(zarr.storage.LocalStore(tmp_path / "fallback"), mode="w")
    array = _array(group, "a")
    write_direct([(encoder(array), slice(0, 4), values)])
    np.testing.assert_array_equal(array[:4], values)
