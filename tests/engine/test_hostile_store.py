"""Hostile and unlucky stores (issue 11, D4 D6 D7 D8 D9 D14 D18): interrupted creation, partial
stores read, damaged chunks, directories that are not ours, two writers, runs too large for
memory; and SIGKILL at random points of a sweep, then the same sweep finishing bit-identical."""

from __future__ import annotations

import errno
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import engine
from engine import budgets, ensemble
from engine import store as stores
from engine.store import integrity
from tests.engine.test_ensemble import assert_trees_identical
from tests.engine.test_store import decay, sweep

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model():
    return decay()


@pytest.fixture(scope="module")
def reference(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "s.zarr"
    sweep(model, path)
    return engine.open_store(path)


def assert_data_identical(tree: xr.DataTree, reference: xr.DataTree) -> None:
    """Every group's values and attrs bit for bit; root attrs but for nothing volatile."""
    assert_trees_identical(tree, reference)
    assert tree.attrs == reference.attrs


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def chunk_file(path: Path, group: str, name: str, member_chunk: int) -> Path:
    """The first chunk file of a chunk of members: ``c.<k>.<t>...`` in the array's directory
    (engine.store.zarr.CHUNK_SEPARATOR), or ``c/<k>/<t>/...`` in a store made before."""
    files = sorted((path / group / name).glob(f"c.{member_chunk}.*"))
    files += sorted((path / group / name / "c" / str(member_chunk)).rglob("*"))
    return [f for f in files if f.is_file() and f.name.replace(".", "").lstrip("c").isdigit()][0]


def interrupt_at_chunk(monkeypatch, k: int) -> None:
    original = ensemble.EnsemblePlan.run_chunk

    def run_chunk(self, chunk):
        if chunk == k:
            raise KeyboardInterrupt
        return original(self, chunk)

    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", run_chunk)


# ---------------------------------------------------------------------------- D4


def test_d04_interrupted_store_creation_leaves_no_store_and_the_rerun_finishes(
    model, reference, tmp_path, monkeypatch
):
    path = tmp_path / "s.zarr"
    calls = []
    original = stores.ZarrStore.create.__func__  # type: ignore[attr-defined]

    def create(cls, directory, layout, attrs):
        import zarr

        make = zarr.Group.create_array

        def create_array(self, *args, **kwargs):  # Ctrl-C after a few arrays
            calls.append(args)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return make(self, *args, **kwargs)

        monkeypatch.setattr(zarr.Group, "create_array", create_array)
        try:
            return original(cls, directory, layout, attrs)
        finally:
            monkeypatch.setattr(zarr.Group, "create_array", make)

    monkeypatch.setattr(stores.ZarrStore, "create", classmethod(create))
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    assert len(calls) == 3
    assert not path.exists()  # no half-made store at the path
    assert siblings(path) == [integrity.lock_path(path).name]  # its own temporary is gone
    monkeypatch.undo()
    assert_data_identical(sweep(model, path), reference)

    # A temporary left by a killed sweep (as SIGKILL leaves it) is removed by the next one;
    # a look-alike without corridor's marker, or a symlink, is someone else's and is kept.
    path = tmp_path / "t.zarr"
    monkeypatch.setattr(integrity.shutil, "rmtree", lambda *a, **k: None)
    monkeypatch.setattr(stores.ZarrStore, "create", classmethod(create))
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    monkeypatch.undo()
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".t.zarr.corridor-new-")]
    assert len(stale) == 1
    foreign = tmp_path / ".t.zarr.corridor-new-theirs"
    foreign.mkdir()
    (foreign / "data.txt").write_text("keep me")
    link = tmp_path / ".t.zarr.corridor-new-link"
    link.symlink_to(stale[0])
    assert_data_identical(sweep(model, path), reference)
    assert not stale[0].exists()
    assert (foreign / "data.txt").read_text() == "keep me"
    assert link.is_symlink()


# ---------------------------------------------------------------------------- D6


def test_d06_report_export_and_plot_flag_an_unfinished_store(model, tmp_path, monkeypatch, capsys):
    from engine.cli import main
    from engine.plot import fan_chart
    from engine.report import export_table, write_report

    path = tmp_path / "s.zarr"
    interrupt_at_chunk(monkeypatch, 1)  # chunk 0 (members 0-4) done, then Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    monkeypatch.undo()
    import zarr

    # a chunk cut short after its status, before its done mark, counts as not run
    zarr.open_group(str(path), mode="r+")["status"][5:10] = 0
    tree = engine.open_store(path)
    assert stores.completion(tree) == (5, 12)
    assert list(tree["status"].values) == [0] * 5 + [-1] * 7
    note = "unfinished sweep: 5 of 12 members done"

    page = write_report(tree, tmp_path / "r.html").read_text()
    assert note in page and "; 12 ensemble members" not in page
    assert "5 of 12 ensemble members" in page

    with pytest.warns(UserWarning, match=note):
        table = export_table(tree, tmp_path / "t.csv")
    import pandas as pd

    frame = pd.read_csv(table)
    assert sorted(frame["member"].unique()) == [0, 1, 2, 3, 4]
    assert frame["value"].notna().all()

    fig = fan_chart(tree, "x")
    assert note in fig.axes[0].get_title()

    capsys.readouterr()
    assert main(["report", str(path), "--out", str(tmp_path / "r2.html"), "--quiet"]) == 0
    assert note in capsys.readouterr().err
    assert main(["export", str(path), "--out", str(tmp_path / "t2.csv"), "--quiet"]) == 0
    assert note in capsys.readouterr().err
    assert main(["plot", str(path), "-v", "x", "--out", str(tmp_path / "fig"), "--quiet"]) == 0
    assert note in capsys.readouterr().err

    # finished: nothing flagged
    finished = sweep(model, path)
    assert stores.completion(engine.open_store(path)) is None
    assert stores.completion(finished) is None


# ---------------------------------------------------------------------------- D7


@pytest.mark.parametrize("damage", ["flip", "delete", "truncate"])
def test_d07_damaged_chunks_raise_on_read_and_are_recomputed_on_resume(
    model, reference, tmp_path, damage
):
    path = tmp_path / "s.zarr"
    sweep(model, path)
    target = chunk_file(path, "long", "x", 1)  # members 5 to 9
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x10
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(bytes(data[: len(data) // 2]))
    else:
        target.unlink()
    what = "is missing" if damage == "delete" else "fails its checksum"
    message = rf"variable 'x' of group 'long', chunk 1\.0 \(members 5 to 9\) {what}"
    with pytest.raises(engine.StoreError, match=message):
        engine.open_store(path)["long"]["x"].values  # noqa: B018
    with pytest.raises(engine.StoreError, match="Run the sweep again"):
        engine.open_store(path, group="long")["x"].values  # noqa: B018
    with pytest.raises(engine.StoreError, match=message):
        engine.export_netcdf(path, tmp_path / "s.nc")

    runs = []
    original = ensemble.EnsemblePlan.run_chunk

    def counting(self, k):
        runs.append(k)
        return original(self, k)

    ensemble.EnsemblePlan.run_chunk = counting  # type: ignore[method-assign]
    try:
        with pytest.warns(RuntimeWarning, match="damaged chunk"):
            repaired = sweep(model, path)
    finally:
        ensemble.EnsemblePlan.run_chunk = original  # type: ignore[method-assign]
    assert runs == [1]  # only the damaged chunk is recomputed
    assert_data_identical(repaired, reference)
    assert_data_identical(engine.open_store(path), reference)


def test_d07_damaged_summaries_are_rewritten_and_damaged_coordinates_reported(
    model, reference, tmp_path
):
    path = tmp_path / "s.zarr"
    sweep(model, path)
    (path / "summary" / "long" / "x" / "c.0.0").unlink()
    with pytest.raises(engine.StoreError, match="variable 'x' of group 'summary/long'.*missing"):
        engine.open_store(path, group="summary/long")["x"].values  # noqa: B018
    with pytest.warns(RuntimeWarning, match="damaged chunk"):
        assert_data_identical(sweep(model, path), reference)

    time = next(p for p in (path / "long" / "time").glob("c.*") if p.is_file())
    time.write_bytes(time.read_bytes()[:-1])
    with pytest.raises(
        engine.StoreError,
        match="variable 'time' of group 'long'.*cannot be recomputed: delete the store",
    ):
        sweep(model, path)


def test_d07_a_store_made_without_checksums_still_resumes(model, reference, tmp_path, monkeypatch):
    path = tmp_path / "s.zarr"
    zstd_only = integrity.compressors()[:1]
    monkeypatch.setattr(integrity, "compressors", lambda: zstd_only)
    monkeypatch.setattr(integrity, "WRITE_CONFIG", {"write_empty_chunks": False})
    interrupt_at_chunk(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    monkeypatch.undo()
    assert_data_identical(sweep(model, path), reference)


def test_d07_a_store_of_the_previous_layout_resumes_and_is_checked(
    model, reference, tmp_path, monkeypatch
):
    """Stores made before chunk keys used "." (a directory per chunk, ``long/x/c/1/0``) are
    resumed in their own layout, bit-identical, and their chunks still checked."""
    import importlib

    writer = importlib.import_module("engine.store.zarr")
    path = tmp_path / "s.zarr"
    monkeypatch.setattr(writer, "CHUNK_SEPARATOR", "/")
    interrupt_at_chunk(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    monkeypatch.undo()
    assert (path / "long" / "x" / "c" / "1").is_dir() and not list(path.glob("long/x/c.*"))
    assert_data_identical(sweep(model, path), reference)
    assert (path / "long" / "x" / "c" / "2").is_dir() and not list(path.glob("long/x/c.*"))
    target = chunk_file(path, "long", "x", 1)
    target.write_bytes(target.read_bytes()[:-1])
    with pytest.raises(engine.StoreError, match=r"'x' of group 'long', chunk 1\.0 .*checksum"):
        engine.open_store(path)["long"]["x"].values  # noqa: B018
    with pytest.warns(RuntimeWarning, match="damaged chunk"):
        assert_data_identical(sweep(model, path), reference)


def test_d07_every_array_of_a_new_store_has_its_chunks_in_its_own_directory(model, tmp_path):
    """Chunk keys with "." (``c.1.0``), not a directory per chunk (``c/1/0``), for every array:
    outputs, coordinates, the root's per-member arrays, summaries."""
    import json

    path = tmp_path / "s.zarr"
    sweep(model, path)
    arrays = {}
    for meta in path.rglob("zarr.json"):
        node = json.loads(meta.read_bytes())
        if node["node_type"] == "array":
            arrays[str(meta.parent.relative_to(path))] = node["chunk_key_encoding"]
    assert {"long/x", "long/time", "status", "summary/long/x"} <= set(arrays)
    assert all(e["configuration"]["separator"] == "." for e in arrays.values()), arrays
    assert not [p for p in path.rglob("*") if p.is_dir() and p.name == "c"]
    assert list((path / "summary" / "long" / "x").glob("c.*"))


def test_d07_every_array_carries_a_crc32c_checksum(model, tmp_path):
    import zarr

    path = tmp_path / "s.zarr"
    sweep(model, path, design="saltelli", n=4)
    arrays = list(zarr.open_group(str(path), mode="r").arrays())
    for _, group in zarr.open_group(str(path), mode="r").groups():
        arrays += list(group.arrays())
        for _, inner in group.groups():
            arrays += list(inner.arrays())
    assert len(arrays) > 20
    for name, array in arrays:
        assert "crc32c" in [c.to_dict()["name"] for c in array.metadata.codecs], name


# ---------------------------------------------------------------------------- D8


def test_d08_an_empty_directory_is_used_but_nothing_put_there_is_ever_deleted(
    model, reference, tmp_path, monkeypatch
):
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    assert_data_identical(sweep(model, empty), reference)

    path = tmp_path / "mine.zarr"
    path.mkdir()
    original = ensemble.plan_ensemble

    def plan_then_someone_writes(*args, **kwargs):
        planned = original(*args, **kwargs)  # compiles: seconds for a large model
        (path / "notes.txt").write_text("written meanwhile")
        return planned

    monkeypatch.setattr(ensemble, "plan_ensemble", plan_then_someone_writes)
    with pytest.raises(engine.StoreError, match="left untouched"):
        sweep(model, path)
    assert (path / "notes.txt").read_text() == "written meanwhile"
    assert sorted(p.name for p in path.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if "corridor-new" in p.name]

    monkeypatch.undo()
    foreign = tmp_path / "foreign.zarr"
    foreign.mkdir()
    (foreign / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", "attributes": {}}')
    with pytest.raises(engine.StoreError, match="not written by run_ensemble"):
        sweep(model, foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["zarr.json"]


# ---------------------------------------------------------------------------- D9

LOCKER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from engine.store.integrity import StoreLock
lock = StoreLock.acquire(Path({path!r}))
print("locked", flush=True)
sys.stdin.read()
"""


RACER = """
import sys
sys.path.insert(0, {root!r})
import engine
from tests.engine.test_store import decay, sweep
try:
    sweep(decay(), {path!r})
except engine.StoreError as error:
    print(error)
    sys.exit(3)
"""


@pytest.mark.slow
def test_d09_two_sweeps_started_together_on_a_new_store(reference, tmp_path):
    # each finishes the store or is told who writes it; never a raw error, never a bad store
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER.format(root=str(ROOT), path=str(tmp_path / "raced.zarr"))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(racer.wait(), racer.communicate()) for racer in racers]
    assert 0 in [code for code, _ in results], results
    for code, (out, err) in results:
        assert code == 0 or (code == 3 and "being written by another process" in out), (out, err)
        assert "Traceback" not in err
    assert_data_identical(engine.open_store(tmp_path / "raced.zarr"), reference)


def test_d09_a_second_writer_is_refused_while_the_first_lives(model, reference, tmp_path):
    path = tmp_path / "s.zarr"
    child = subprocess.Popen(
        [sys.executable, "-c", LOCKER.format(root=str(ROOT), path=str(path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(
            engine.StoreError, match=rf"being written by another process \(pid {child.pid}\)"
        ):
            sweep(model, path)
        assert not path.exists()
    finally:
        child.kill()  # SIGKILL: the kernel releases its lock
        child.wait()
    assert_data_identical(sweep(model, path), reference)

    # in one process too (two opens of the lock file), and on an existing store
    held = integrity.StoreLock.acquire(path)
    try:
        with pytest.raises(engine.StoreError, match=rf"\(pid {os.getpid()}\)"):
            sweep(model, path)
    finally:
        held.release()
    assert_data_identical(sweep(model, path), reference)


# ---------------------------------------------------------------------------- D14


def test_d14_memory_is_estimated_before_any_large_allocation(model, tmp_path, monkeypatch):
    monkeypatch.setattr(budgets, "available_memory", lambda: 2**30)  # 1 GiB
    arguments = dict(
        seed=1,
        design="lhs",
        priors={"k": ("uniform", 0.05, 0.2)},
        start=2025,
        stop=2060,
        dt=0.5,
        progress=False,
    )
    with pytest.raises(
        engine.ResourceError,
        match=r"lhs design matrix \(5,000,000,000 "
        r"members.*GiB.*fewer members",
    ):
        engine.run_ensemble(model, n=5_000_000_000, **arguments)
    with pytest.raises(engine.ResourceError, match="the whole ensemble in memory.*store="):
        engine.run_ensemble(model, n=50_000_000, **{**arguments, "design": "random"})
    with pytest.raises(engine.ResourceError, match="time grid.*dt=1e-09.*larger dt"):
        engine.simulate(model, start=0, stop=100, dt=1e-9)
    with pytest.raises(engine.ResourceError, match="time grid.*larger dt"):
        engine.run_ensemble(model, n=4, store=tmp_path / "s.zarr", **{**arguments, "dt": 1e-9})
    assert not (tmp_path / "s.zarr").exists()
    with pytest.raises(MemoryError):  # a ResourceError is a MemoryError too
        engine.simulate(model, start=0, stop=100, dt=1e-9)
    assert issubclass(engine.ResourceError, engine.EngineError)

    # A random design is never made whole: each chunk makes its own rows, with the bits of
    # the same rows of the whole matrix, so 5e9 members plan in no memory at all.
    arguments.pop("progress")
    plan, _, _ = ensemble.plan_ensemble(
        model, n=5_000_000_000, chunk_size=1000, **{**arguments, "design": "random"}
    )
    assert len(pickle.dumps(plan.design)) < 100_000  # the whole matrix: 80 GB
    assert plan.parameters(4_999_999).shape == (1000, plan.base.size)


def test_d14_random_design_rows_made_per_chunk_are_the_whole_matrix_bit_for_bit():
    from engine.sampling import make_design, plan_design, resolve_priors

    m = engine.Model("priors")
    for name in "abcdefg":
        m.param(name, 1.0)
    priors = resolve_priors(
        m,
        {
            "a": ("uniform", 1, 2),
            "b": ("normal", 0, 3),
            "c": ("lognormal", 0.1, 0.5),
            "d": ("truncnorm", 1, 2, 0, 3),
            "e": ("triangular", 0, 1, 4),
            "f": ("beta", 2, 3, 0, 10),
            "g": ("choice", [1.0, 2.0, 5.0]),
        },
    )
    whole = make_design("random", 1001, 17, priors)
    streamed = plan_design("random", 1001, 17, priors)
    for size in (1, 7, 64, 1000, 1001):
        for start in range(0, 1001, size):
            unit, values = streamed.block(start, min(1001, start + size))
            assert np.array_equal(unit, whole.unit[start : start + size])
            assert np.array_equal(values, whole.values[start : start + size])


# ---------------------------------------------------------------------------- D18 disk full

FULL_MESSAGE = (
    r"No space left on device \(ENOSPC\)\. To finish the sweep, free space or "
    r"choose another --store .*; then run the same command again"
)
SPAM = ("Traceback", "never retrieved", "Task was destroyed", "Future exception")


class DiskFull:
    """The lowest writes refusing with ENOSPC, as a full disk does: zarr's
    (``zarr.storage._local._put``, under every LocalStore write) and corridor's own chunk and
    metadata files (``engine.store.chunks.write_file``); once ``budget`` bytes are written, or
    from the first write whose path ``at`` matches; every later write too, until :meth:`free`."""

    def __init__(self, monkeypatch, budget: int | None = None, at=None) -> None:
        import zarr.storage._local as local

        from engine.store import chunks

        self.local, self.original = local, local._put
        self.chunks, self.write_file = chunks, chunks.write_file
        self.budget, self.at = budget, at
        self.used = self.refused = 0
        self.full = False

        def refuse(path, size):
            if not self.full and (
                (self.at is not None and self.at(str(path)))
                or (self.budget is not None and self.used + size > self.budget)
            ):
                self.full = True
            if self.full:
                self.refused += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.used += size

        def put(path, value, exclusive=False):
            refuse(path, memoryview(value.as_buffer_like()).nbytes)
            return self.original(path, value, exclusive=exclusive)

        def write_file(path, contents):
            parts = [contents] if isinstance(contents, bytes) else contents
            refuse(path, sum(memoryview(p).nbytes for p in parts))
            return self.write_file(path, contents)

        self.monkeypatch = monkeypatch
        monkeypatch.setattr(local, "_put", put)
        monkeypatch.setattr(chunks, "write_file", write_file)

    def free(self) -> None:
        self.monkeypatch.setattr(self.local, "_put", self.original)
        self.monkeypatch.setattr(self.chunks, "write_file", self.write_file)


def assert_no_spam(capfd, caplog) -> None:
    import gc

    gc.collect()  # tasks left pending or unretrieved would log now
    err = capfd.readouterr().err
    assert not any(word in err for word in SPAM), err[:3000]
    logged = [r for r in caplog.records if r.name == "asyncio" or "zarr" in r.name]
    assert not logged, [r.getMessage()[:300] for r in logged]


def done_marks(path: Path) -> list[int]:
    import zarr

    return [
        int(k) for k in np.flatnonzero(zarr.open_group(str(path), mode="r")[stores.DONE][:] == 1)
    ]


@pytest.mark.parametrize("where", ["create", "chunk", "done", "summaries", "budget"])
def test_d18_disk_full_is_one_store_error_and_the_rerun_resumes_bit_identical(
    model, reference, tmp_path, monkeypatch, capfd, caplog, where
):
    path = tmp_path / "s.zarr"
    at = {
        "create": lambda p: ".corridor-new-" in p and "/long/" in p,
        "chunk": lambda p: "/long/x/c.1." in p,  # the data of chunk 1 (members 5 to 9)
        "done": lambda p: re.search(rf"{stores.DONE}/c[./]1$", p) and "corridor-new-" not in p,
        "summaries": lambda p: "/summary/long/" in p,
        "budget": None,
    }[where]
    disk = DiskFull(monkeypatch, budget=35000 if where == "budget" else None, at=at)
    caplog.set_level("DEBUG", logger="asyncio")
    with pytest.raises(engine.StoreError, match=FULL_MESSAGE) as raised:
        sweep(model, path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(
        f"the store {str(path)!r} could not be written while "
    )
    assert (
        raised.value.__cause__ is None
        and raised.value.__context__ is None
        or raised.value.__suppress_context__
    )
    expected = {
        "create": "while creating the store: ",
        "chunk": "while writing members 5 to 9 (chunk 1) (variable 'x' of group 'long', zarr "
        "chunk 1.0): ",
        "done": "while marking chunk 1 (members 5 to 9) done (the done marker of chunk 1): ",
        "summaries": "while writing the group 'summary/long' (",
        "budget": "while writing members ",
    }[where]
    assert expected in message, message
    # Every write zarr had in flight ended before the error was raised: none comes later.
    refused, used = disk.refused, disk.used
    time.sleep(0.2)
    assert (disk.refused, disk.used) == (refused, used)
    assert_no_spam(capfd, caplog)
    cut = re.search(r"while (?:writing members \d+ to \d+ \(chunk|marking chunk) (\d+)", message)
    if "while creating the store" in message:
        assert not path.exists() and siblings(path) == [integrity.lock_path(path).name]
    else:
        assert engine.open_store(path).attrs["complete"] is False
        if where != "summaries":
            assert cut is not None
            assert int(cut.group(1)) not in done_marks(path)  # its data failed: not done
    disk.free()  # space freed: the same sweep resumes where it stopped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cut-short summary is rewritten
        assert_data_identical(sweep(model, path), reference)
    assert_data_identical(engine.open_store(path), reference)


CLI_CHILD = """
import errno, os, sys, time
sys.path.insert(0, {root!r})
import zarr.storage._local as local
from engine.store import chunks
original, write_file = local._put, chunks.write_file
state = {{"used": 0}}
def refuse(size):
    if {full!r} and state["used"] + size > {budget!r}:
        time.sleep(0.05)  # a real disk's latency: zarr's other writes are still in flight
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    state["used"] += size
def put(path, value, exclusive=False):
    refuse(memoryview(value.as_buffer_like()).nbytes)
    return original(path, value, exclusive=exclusive)
def own(path, contents):
    parts = [contents] if isinstance(contents, bytes) else contents
    refuse(sum(memoryview(p).nbytes for p in parts))
    return write_file(path, contents)
local._put = put
chunks.write_file = own
from engine.cli import main
sys.exit(main({argv!r}))
"""


def test_d18_disk_full_on_the_cli_is_one_line_and_the_same_command_resumes(tmp_path):
    """The whole process, as a user runs it: tasks left pending at exit were printed by
    asyncio then (thousands of lines), so this runs in a subprocess."""
    path = tmp_path / "s.zarr"
    argv = [
        "sweep",
        "example",
        "-n",
        "512",
        "--chunk-size",
        "64",
        "--seed",
        "3",
        "--store",
        str(path),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def run(full: bool, argv=argv) -> subprocess.CompletedProcess:
        code = CLI_CHILD.format(root=str(ROOT), full=full, budget=200_000, argv=argv)
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
        )

    failed = run(full=True)
    assert failed.returncode == 1, failed.stderr[-3000:]
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr[:3000]
    assert lines[0].startswith(
        f"corridor: error: the store {str(path)!r} could not be written while "
    )
    assert "No space left on device" in lines[0] and "--store" in lines[0]
    resumed = run(full=False)
    assert resumed.returncode == 0 and resumed.stderr.strip() == "", resumed.stderr[-3000:]
    whole = tmp_path / "whole.zarr"
    assert run(full=False, argv=[*argv[:-2], str(whole), "--quiet"]).returncode == 0
    assert_data_identical(engine.open_store(path), engine.open_store(whole))


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs (a real full disk), mounted for the test; skipped where mounting is not
    permitted (not root, or a sandbox without CAP_SYS_ADMIN)."""
    import shutil as sh

    mount = sh.which("mount")
    if mount is None:
        pytest.skip("no mount(8) here: the real-disk-full test needs a tmpfs")
    where = tmp_path / "disk"
    where.mkdir()
    made = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {made.stderr.strip()}")

    def resize(size: str) -> None:
        subprocess.run([mount, "-o", f"remount,size={size}", str(where)], check=True)

    try:
        yield where, resize
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("size", ["120k", "300k", "450k"])  # creation, chunks, summaries
def test_d18_disk_full_on_a_real_tmpfs(model, reference, tmpfs, capfd, caplog, size):
    where, resize = tmpfs
    resize(size)
    path = where / "s.zarr"
    caplog.set_level("DEBUG", logger="asyncio")
    with pytest.raises(engine.StoreError, match=FULL_MESSAGE) as raised:
        sweep(model, path)
    assert str(raised.value).startswith(f"the store {str(path)!r} could not be written while ")
    assert_no_spam(capfd, caplog)
    resize("8m")  # space freed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_data_identical(sweep(model, path), reference)


# ---------------------------------------------------------------------------- kill tests

CHILD = """
import sys, os
sys.path.insert(0, {root!r})
import engine
from engine import analyze, store
from tests.engine.test_store import decay

phase = {phase!r}
told = []

def announce():
    if not told:
        told.append(1)
        sys.stdout.write("go\\n")
        sys.stdout.flush()

if phase == "create":
    original = store.ZarrStore.create.__func__
    def create(cls, *args):
        announce()
        return original(cls, *args)
    store.ZarrStore.create = classmethod(create)
elif phase == "chunks":
    from engine.store import zarr as zarr_store
    original_write = zarr_store.write_zarr_chunk
    def write(*args, **kwargs):
        announce()
        return original_write(*args, **kwargs)
    zarr_store.write_zarr_chunk = write
else:
    original_summaries = analyze.summaries
    def summaries(*args, **kwargs):
        announce()
        return original_summaries(*args, **kwargs)
    analyze.summaries = summaries
engine.run_ensemble(decay(), store={store!r}, **{arguments!r})
sys.stdout.write("finished\\n")
"""
KILL_ARGUMENTS = dict(
    n=40,
    seed=7,
    design="sobol",
    priors={"k": ("uniform", 0.05, 0.2)},
    start=2025,
    stop=2060,
    dt=0.5,
    chunk_size=2,
    progress=False,
)


def _state(path: Path) -> str:
    if not path.exists():
        return "no store yet"
    import zarr

    root = zarr.open_group(str(path), mode="r")
    done = int((root[stores.DONE][:] == 1).sum())
    return f"{done} chunks done, complete={root.attrs.get('complete')}"


@pytest.fixture(scope="module")
def kill_reference(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("kill") / "whole.zarr"
    engine.run_ensemble(model, store=path, **KILL_ARGUMENTS)
    return engine.open_store(path)


@pytest.mark.slow
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(phase=st.sampled_from(["create", "chunks", "summaries"]), delay=st.floats(0.0, 0.15))
def test_sigkill_at_random_points_then_the_same_sweep_finishes_bit_identical(
    model, kill_reference, tmp_path, phase, delay
):
    directory = Path(tmp_path) / f"{phase}-{delay:.6f}-{time.monotonic_ns()}"
    directory.mkdir()
    path = directory / "killed.zarr"
    script = directory / "child.py"
    script.write_text(
        CHILD.format(root=str(ROOT), phase=phase, store=str(path), arguments=KILL_ARGUMENTS)
    )
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "go", "the child ended before the phase"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL  # killed inside the sweep, not after it
    event(f"killed in {phase}: " + _state(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a chunk damaged by the kill, if any
        resumed = engine.run_ensemble(model, store=path, **KILL_ARGUMENTS)
    assert_data_identical(resumed, kill_reference)
    assert_data_identical(engine.open_store(path), kill_reference)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [".killed.zarr.corridor-lock", "child.py", "killed.zarr"]
    )
    assert np.all(np.asarray(resumed["status"].values) == 0)
