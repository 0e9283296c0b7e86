"""Hostile and unlucky stores (issue 11, D4 D6 D7 D8 D9 D14): interrupted creation, partial
stores read, damaged chunks, directories that are not ours, two writers, runs too large for
memory; and SIGKILL at random points of a sweep, then the same sweep finishing bit-identical."""

from __future__ import annotations

import os
import pickle
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
from engine import budgets, ensemble, integrity
from engine import store as stores
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
    files = sorted((path / group / name / "c" / str(member_chunk)).rglob("*"))
    return [f for f in files if f.is_file() and f.name.isdigit()][0]


def interrupt_at_chunk(monkeypatch, k: int) -> None:
    original = ensemble.EnsemblePlan.run_chunk

    def run_chunk(self, chunk):
        if chunk == k:
            raise KeyboardInterrupt
        return original(self, chunk)

    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", run_chunk)


# ---------------------------------------------------------------------------- D4

def test_d04_interrupted_store_creation_leaves_no_store_and_the_rerun_finishes(
        model, reference, tmp_path, monkeypatch):
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

def test_d06_report_export_and_plot_flag_an_unfinished_store(model, tmp_path, monkeypatch,
                                                              capsys):
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
def test_d07_damaged_chunks_raise_on_read_and_are_recomputed_on_resume(model, reference,
                                                                       tmp_path, damage):
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
        model, reference, tmp_path):
    path = tmp_path / "s.zarr"
    sweep(model, path)
    (path / "summary" / "long" / "x" / "c" / "0" / "0").unlink()
    with pytest.raises(engine.StoreError, match="variable 'x' of group 'summary/long'.*missing"):
        engine.open_store(path, group="summary/long")["x"].values  # noqa: B018
    with pytest.warns(RuntimeWarning, match="damaged chunk"):
        assert_data_identical(sweep(model, path), reference)

    time = next(p for p in (path / "long" / "time" / "c").rglob("*") if p.is_file())
    time.write_bytes(time.read_bytes()[:-1])
    with pytest.raises(engine.StoreError, match="variable 'time' of group 'long'.*cannot be "
                       "recomputed: delete the store"):
        sweep(model, path)


def test_d07_a_store_made_without_checksums_still_resumes(model, reference, tmp_path,
                                                           monkeypatch):
    path = tmp_path / "s.zarr"
    zstd_only = integrity.compressors()[:1]
    monkeypatch.setattr(integrity, "compressors", lambda: zstd_only)
    monkeypatch.setattr(integrity, "WRITE_CONFIG", {"write_empty_chunks": False})
    interrupt_at_chunk(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        sweep(model, path)
    monkeypatch.undo()
    assert_data_identical(sweep(model, path), reference)


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
        model, reference, tmp_path, monkeypatch):
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
    (foreign / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", '
                                       '"attributes": {}}')
    with pytest.raises(engine.StoreError, match="not written by run_ensemble"):
        sweep(model, foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["zarr.json"]


# ---------------------------------------------------------------------------- D9

LOCKER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from engine.integrity import StoreLock
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
    racers = [subprocess.Popen([sys.executable, "-c", RACER.format(
        root=str(ROOT), path=str(tmp_path / "raced.zarr"))], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(racer.wait(), racer.communicate()) for racer in racers]
    assert 0 in [code for code, _ in results], results
    for code, (out, err) in results:
        assert code == 0 or (code == 3 and "being written by another process" in out), (out, err)
        assert "Traceback" not in err
    assert_data_identical(engine.open_store(tmp_path / "raced.zarr"), reference)


def test_d09_a_second_writer_is_refused_while_the_first_lives(model, reference, tmp_path):
    path = tmp_path / "s.zarr"
    child = subprocess.Popen([sys.executable, "-c", LOCKER.format(root=str(ROOT),
                                                                   path=str(path))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(engine.StoreError,
                           match=rf"being written by another process \(pid {child.pid}\)"):
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
    arguments = dict(seed=1, design="lhs", priors={"k": ("uniform", 0.05, 0.2)},
                     start=2025, stop=2060, dt=0.5, progress=False)
    with pytest.raises(engine.ResourceError, match=r"lhs design matrix \(5,000,000,000 "
                       r"members.*GiB.*fewer members"):
        engine.run_ensemble(model, n=5_000_000_000, **arguments)
    with pytest.raises(engine.ResourceError, match="the whole ensemble in memory.*store="):
        engine.run_ensemble(model, n=50_000_000, **{**arguments, "design": "random"})
    with pytest.raises(engine.ResourceError, match="time grid.*dt=1e-09.*larger dt"):
        engine.simulate(model, start=0, stop=100, dt=1e-9)
    with pytest.raises(engine.ResourceError, match="time grid.*larger dt"):
        engine.run_ensemble(model, n=4, store=tmp_path / "s.zarr",
                            **{**arguments, "dt": 1e-9})
    assert not (tmp_path / "s.zarr").exists()
    with pytest.raises(MemoryError):  # a ResourceError is a MemoryError too
        engine.simulate(model, start=0, stop=100, dt=1e-9)
    assert issubclass(engine.ResourceError, engine.EngineError)

    # A random design is never made whole: each chunk makes its own rows, with the bits of
    # the same rows of the whole matrix, so 5e9 members plan in no memory at all.
    arguments.pop("progress")
    plan, _, _ = ensemble.plan_ensemble(model, n=5_000_000_000, chunk_size=1000,
                                        **{**arguments, "design": "random"})
    assert len(pickle.dumps(plan.design)) < 100_000  # the whole matrix: 80 GB
    assert plan.parameters(4_999_999).shape == (1000, plan.base.size)


def test_d14_random_design_rows_made_per_chunk_are_the_whole_matrix_bit_for_bit():
    from engine.sampling import make_design, plan_design, resolve_priors

    m = engine.Model("priors")
    for name in "abcdefg":
        m.param(name, 1.0)
    priors = resolve_priors(m, {"a": ("uniform", 1, 2), "b": ("normal", 0, 3),
                                "c": ("lognormal", 0.1, 0.5), "d": ("truncnorm", 1, 2, 0, 3),
                                "e": ("triangular", 0, 1, 4), "f": ("beta", 2, 3, 0, 10),
                                "g": ("choice", [1.0, 2.0, 5.0])})
    whole = make_design("random", 1001, 17, priors)
    streamed = plan_design("random", 1001, 17, priors)
    for size in (1, 7, 64, 1000, 1001):
        for start in range(0, 1001, size):
            unit, values = streamed.block(start, min(1001, start + size))
            assert np.array_equal(unit, whole.unit[start:start + size])
            assert np.array_equal(values, whole.values[start:start + size])


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
    original_write = store.write_zarr_chunk
    def write(*args, **kwargs):
        announce()
        return original_write(*args, **kwargs)
    store.write_zarr_chunk = write
else:
    original_summaries = analyze.summaries
    def summaries(*args, **kwargs):
        announce()
        return original_summaries(*args, **kwargs)
    analyze.summaries = summaries
engine.run_ensemble(decay(), store={store!r}, **{arguments!r})
sys.stdout.write("finished\\n")
"""
KILL_ARGUMENTS = dict(n=40, seed=7, design="sobol", priors={"k": ("uniform", 0.05, 0.2)},
                      start=2025, stop=2060, dt=0.5, chunk_size=2, progress=False)


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
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phase=st.sampled_from(["create", "chunks", "summaries"]),
       delay=st.floats(0.0, 0.15))
def test_sigkill_at_random_points_then_the_same_sweep_finishes_bit_identical(
        model, kill_reference, tmp_path, phase, delay):
    directory = Path(tmp_path) / f"{phase}-{delay:.6f}-{time.monotonic_ns()}"
    directory.mkdir()
    path = directory / "killed.zarr"
    script = directory / "child.py"
    script.write_text(CHILD.format(root=str(ROOT), phase=phase, store=str(path),
                                   arguments=KILL_ARGUMENTS))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             env=os.environ.copy())
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
        [".killed.zarr.corridor-lock", "child.py", "killed.zarr"])
    assert np.all(np.asarray(resumed["status"].values) == 0)
