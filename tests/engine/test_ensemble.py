"""run_ensemble: determinism under any chunking and thread count, members equal single runs,
failures marked, kill-and-resume, dask, bad input refused before any work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numba
import numpy as np
import pytest
import xarray as xr
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine import ensemble
from engine.solvers import Info, Status
from engine.store import DONE
from tests.engine.test_store import decay

ROOT = Path(__file__).resolve().parents[2]
PRIORS = {"characteristic_time": ("uniform", 5, 15), "room_temperature": ("normal", 70, 5)}
RUN = dict(start=0, stop=30, dt=0.125, saveper=1, progress=False)


def assert_trees_identical(a: xr.DataTree, b: xr.DataTree) -> None:
    assert sorted(n.path for n in a.subtree) == sorted(n.path for n in b.subtree)
    for node in a.subtree:
        left = node.to_dataset(inherit=False).load()
        right = (
            b[node.path].to_dataset(inherit=False).load()
            if node.path != "/"
            else b.to_dataset(inherit=False).load()
        )
        xr.testing.assert_identical(left[sorted(left.variables)], right[sorted(right.variables)])


@pytest.fixture(scope="module")
def reference(teacup):
    return engine.run_ensemble(teacup, n=37, seed=11, design="lhs", priors=PRIORS, **RUN)


def test_tree_layout(reference):
    assert set(reference.children) == {"all", "summary"}
    temperature = reference["all"]["teacup_temperature"]
    assert temperature.dims == ("member", "time") and temperature.shape == (37, 31)
    root = reference.to_dataset(inherit=False)
    assert root["status"].dims == ("member",) and np.all(root["status"].values == 0)
    assert list(root["parameter"].values) == ["characteristic_time", "room_temperature"]
    assert root["sample"].shape == (37, 2)
    assert reference.attrs["complete"] and reference.attrs["failed_members"] == 0


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunk_size=st.integers(1, 40))
def test_results_do_not_depend_on_chunk_size(teacup, reference, chunk_size):
    tree = engine.run_ensemble(
        teacup, n=37, seed=11, design="lhs", priors=PRIORS, chunk_size=chunk_size, **RUN
    )
    for name in ("teacup_temperature", "heat_loss"):
        np.testing.assert_array_equal(tree["all"][name].values, reference["all"][name].values)
    np.testing.assert_array_equal(
        tree["summary/all"]["heat_loss"].values, reference["summary/all"]["heat_loss"].values
    )


def test_results_do_not_depend_on_kernel_calls_per_chunk(teacup, reference, monkeypatch):
    """A chunk of members runs in several kernel calls when its output block is larger than
    one call's (budgets.CHUNK_BYTES): the members' values are those of one call."""
    from engine import budgets

    monkeypatch.setattr(budgets, "CHUNK_BYTES", 1)  # kernel calls of 16 members (the least)
    timing = {k: v for k, v in RUN.items() if k != "progress"}
    plan, _, _ = ensemble.plan_ensemble(
        teacup, n=37, seed=11, design="lhs", priors=PRIORS, **timing
    )
    assert plan.block == 16 and plan.layout.chunk_size == 37  # three calls: 16, 16, 5
    tree = engine.run_ensemble(teacup, n=37, seed=11, design="lhs", priors=PRIORS, **RUN)
    assert tree.attrs["chunk_size"] == 37
    for name in ("teacup_temperature", "heat_loss"):
        np.testing.assert_array_equal(tree["all"][name].values, reference["all"][name].values)


def test_default_chunk_holds_several_kernel_calls():
    from engine import budgets

    per_member = 5 * 2**20  # bytes of output a member: 16 members a kernel call (the least)
    n_save, n_cols = 64, per_member // (64 * 8)
    assert budgets.kernel_block(10_000, n_save, n_cols) == 16
    assert budgets.default_chunk_size(10_000, n_save, n_cols) == 16 * budgets.KERNEL_CALLS
    assert budgets.default_chunk_size(40, n_save, n_cols) == 40  # never more than the members
    # small outputs: at most MAX_CHUNK members a chunk, whatever the calls
    assert budgets.default_chunk_size(10**6, 10, 1) == budgets.MAX_CHUNK
    assert budgets.kernel_block(10**6, 10, 1) == budgets.MAX_CHUNK


def test_results_do_not_depend_on_thread_count(teacup, reference):
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = engine.run_ensemble(
            teacup, n=37, seed=11, design="lhs", priors=PRIORS, chunk_size=37, **RUN
        )
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(
        one["all"]["teacup_temperature"].values, reference["all"]["teacup_temperature"].values
    )


def test_member_i_is_a_single_run_with_design_row_i(teacup, reference):
    sample = reference.to_dataset(inherit=False)["sample"]
    for member in (0, 17, 36):
        params = {
            str(p): float(sample.sel(member=member, parameter=p))
            for p in sample["parameter"].values
        }
        ds = engine.simulate(teacup, params=params, start=0, stop=30, dt=0.125, saveper=1)
        np.testing.assert_allclose(
            reference["all"]["teacup_temperature"].values[member],
            ds["teacup_temperature"].values,
            rtol=1e-13,
        )
        assert (
            float(reference["characteristic_time"].values[member]) == params["characteristic_time"]
        )


def test_memory_store_and_zarr_store_hold_the_same_tree(teacup, reference, tmp_path):
    tree = engine.run_ensemble(
        teacup,
        n=37,
        seed=11,
        design="lhs",
        priors=PRIORS,
        chunk_size=10,
        store=tmp_path / "s.zarr",
        **RUN,
    )
    on_disk = engine.open_store(tmp_path / "s.zarr")
    assert_trees_identical(tree, on_disk)
    for group in ("all", "summary/all"):
        xr.testing.assert_identical(
            tree[group].to_dataset(inherit=False).load(), reference[group].to_dataset(inherit=False)
        )


def test_default_horizons_of_a_yearly_model():
    model = decay()
    tree = engine.run_ensemble(
        model,
        n=5,
        seed=0,
        priors={"k": ("uniform", 0.01, 0.2)},
        start=2025,
        stop=2100,
        dt=0.25,
        outputs=["x"],
        progress=False,
    )
    assert {"short", "medium", "long", "summary"} <= set(tree.children)
    assert tree["short"]["x"].shape == (5, 20)
    np.testing.assert_allclose(tree["medium"]["time"].values, np.arange(2030, 2045))
    np.testing.assert_allclose(tree["long"]["time"].values, np.arange(2045, 2101, 5))
    assert set(tree["long"].data_vars) == {"x"}  # only the outputs asked for
    ds = engine.simulate(
        model, params={"k": float(tree["sample"].values[3, 0])}, start=2025, stop=2100, dt=0.25
    )
    np.testing.assert_allclose(
        tree["long"]["x"].values[3],
        ds["x"].sel(time=tree["long"]["time"].values).values,
        rtol=1e-13,
    )


FAILING = dict(
    n=12,
    seed=0,
    design="lhs",
    priors={"k": ("choice", [0.0, 0.1, 0.2])},
    start=0,
    stop=2,
    dt=0.5,
    horizons={"all": (0, None, None)},
    progress=False,
)


def test_failed_members_are_marked_and_the_sweep_goes_on():
    with pytest.warns(
        RuntimeWarning,
        match=r"4 of 12 members failed.*member \d+: half_life "
        r"at time 0",
    ):
        tree = engine.run_ensemble(decay(), chunk_size=5, **FAILING)
    k = tree["sample"].values[:, 0]
    status = tree["status"].values
    assert np.array_equal(status != 0, k == 0) and (k == 0).sum() == 4
    assert np.all(np.isnan(tree["all"]["x"].values[k == 0]))
    assert np.all(np.isfinite(tree["all"]["x"].values[k != 0]))
    assert tree.attrs["failed_members"] == 4
    assert "half_life" in tree.attrs["failures"]
    # summaries leave failed members out
    expected = np.quantile(tree["all"]["x"].values[k != 0], 0.5, axis=0)
    np.testing.assert_allclose(tree["summary/all"]["x"].sel(quantile=0.5).values, expected)


def test_failed_members_after_good_chunks_are_nan_not_the_reused_block():
    """Chunks reuse one output block: a member that fails at its first step leaves its rows
    unwritten, and they must read NaN, not the previous chunk's member in that row."""
    arguments = {**FAILING, "design": "random", "n": 40, "seed": 3}
    with pytest.warns(RuntimeWarning, match="members failed"):
        whole = engine.run_ensemble(decay(), chunk_size=40, **arguments)
    with pytest.warns(RuntimeWarning, match="members failed"):
        chunked = engine.run_ensemble(decay(), chunk_size=3, **arguments)
    failed = chunked["status"].values != 0
    assert failed.any() and not failed.all()
    assert np.all(np.isnan(chunked["all"]["x"].values[failed]))
    assert chunked["all"]["x"].values.tobytes() == whole["all"]["x"].values.tobytes()


def blow_up() -> engine.Model:
    """A stock that turns infinite at the Euler step after ``t_c`` (its inflow divides by
    zero at time ``t_c``), between save times."""
    m = engine.Model("blow_up", time_unit="year")
    m.param("t_c", 1.5)
    m.stock("x", initial=0.0)
    m.flow("inflow", "1 / (t_c - time)", into="x")
    m.aux("double_t_c", "2 * t_c")
    return m


@pytest.mark.parametrize("outputs", [["double_t_c"], ["x"]])
def test_failure_time_of_a_member_is_the_exact_step(outputs):
    """A non-finite stock is found after the fact (at the end, or when an output derived from
    it is non-finite); the member then runs again step by step, so the failure time is the
    step's, 1.75, not the next save time 2, and the stock is named, not an output."""
    with pytest.warns(RuntimeWarning, match=r"1 of 2 members failed.*member \d+: x at time 1.75"):
        tree = engine.run_ensemble(
            blow_up(),
            n=2,
            seed=0,
            design="lhs",
            priors={"t_c": ("choice", [1.5, 10.0])},
            start=0,
            stop=3,
            dt=0.25,
            outputs=outputs,
            horizons={"all": (0, None, 1.0)},
            progress=False,
        )
    failed = tree["sample"].values[:, 0] == 1.5
    assert np.array_equal(tree["status"].values != 0, failed)
    assert np.all(tree["failure_time"].values[failed] == 1.75)
    assert np.all(np.isnan(tree["all"][outputs[0]].values[failed]))
    assert np.all(np.isfinite(tree["all"][outputs[0]].values[~failed]))
    with pytest.raises(engine.IntegrationError, match=r"stock 'x' became non-finite at time 1.75"):
        engine.simulate(blow_up(), start=0, stop=3, dt=0.25, outputs=outputs)


def test_on_error_raise_stops_with_integration_error(tmp_path):
    with pytest.raises(engine.IntegrationError, match=r"'half_life'.*member \d+") as info:
        engine.run_ensemble(decay(), on_error="raise", store=tmp_path / "s.zarr", **FAILING)
    assert info.value.member is not None and info.value.variable == "half_life"


def test_sensitivity_designs_set_the_number_of_members(teacup):
    tree = engine.run_ensemble(teacup, n=4, seed=0, design="saltelli", priors=PRIORS, **RUN)
    assert tree.sizes["member"] == 4 * (2 * 2 + 2)
    assert "sensitivity" in tree.children
    tree = engine.run_ensemble(teacup, n=3, seed=0, design="morris", priors=PRIORS, **RUN)
    assert tree.sizes["member"] == 3 * 3


def test_fixed_params_apply_to_every_member(teacup):
    tree = engine.run_ensemble(
        teacup,
        n=4,
        seed=0,
        priors={"characteristic_time": ("uniform", 5, 15)},
        params={"room_temperature": 20.0},
        **RUN,
    )
    assert np.all(tree["all"]["teacup_temperature"].values[:, -1] < 40)
    with pytest.raises(engine.ParameterError, match="outside its bounds"):
        engine.run_ensemble(
            teacup,
            n=4,
            seed=0,
            priors={"characteristic_time": ("uniform", 5, 15)},
            params={"room_temperature": 1000.0},
            **RUN,
        )


def test_progress_bar(teacup, capsys):
    engine.run_ensemble(teacup, n=8, seed=0, priors=PRIORS, **{**RUN, "progress": True})
    assert "member" in capsys.readouterr().err
    engine.run_ensemble(teacup, n=8, seed=0, priors=PRIORS, **RUN)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------- bad input


def fresh_teacup() -> engine.Model:
    from tests.conftest import teacup_model

    return teacup_model()


@pytest.mark.parametrize(
    "changes, error, message",
    [
        (
            {"priors": {"characteristic_tme": ("uniform", 5, 15)}},
            engine.ParameterError,
            "unknown parameter 'characteristic_tme'.*Did you mean 'characteristic_time'",
        ),
        (
            {"priors": {"characteristic_time": ("uniform", 0, 15)}},
            engine.ParameterError,
            r"outside the parameter's bounds \[0.1, None\]",
        ),
        ({"n": 0}, engine.ParameterError, "n=0 must be a positive integer"),
        ({"params": {"room_temp": 3}}, engine.ParameterError, "unknown parameter 'room_temp'"),
        ({"store": "/proc/corridor/runs/x.zarr"}, engine.StoreError, "not a writable directory"),
        ({"design": "halton"}, engine.ParameterError, "unknown design"),
        ({"chunk_size": 0}, engine.ParameterError, "chunk_size"),
        ({"on_error": "ignore"}, engine.ParameterError, "on_error"),
        ({"horizons": {"a": (3, 1, 1)}}, engine.StoreError, "must be after"),
    ],
)
def test_bad_input_fails_before_any_work(changes, error, message, tmp_path):
    model = fresh_teacup()
    arguments = dict(n=10, seed=0, priors=PRIORS, store=tmp_path / "s.zarr", **RUN)
    arguments.update(changes)
    with pytest.raises(error, match=message):
        engine.run_ensemble(model, **arguments)
    assert not hasattr(model, "_compiled_cache")  # nothing compiled
    assert not (tmp_path / "s.zarr").exists()  # no store created


# ---------------------------------------------------------------------------- streaming


@pytest.mark.slow
def test_memory_stays_flat_as_members_grow(teacup, tmp_path, monkeypatch):
    from engine import budgets

    # Summaries read blocks of time steps of all members (exact quantiles need them).
    monkeypatch.setattr(budgets, "SUMMARY_BLOCK_BYTES", 2**20)
    arguments = dict(seed=0, priors=PRIORS, chunk_size=500, **{**RUN, "saveper": 0.125})

    def peak(n: int) -> int:
        tracemalloc.start()
        engine.run_ensemble(teacup, n=n, store=tmp_path / f"m{n}.zarr", **arguments)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(500)  # warm (imports, compiled kernel)
    small, large = peak(1000), peak(8000)
    output = 8000 * 241 * 2 * 8  # bytes of the large sweep's outputs (31 MB)
    assert large - small < 0.25 * output, (small, large, output)


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
import engine
from engine import ensemble
from tests.conftest import teacup_model

original = ensemble.EnsemblePlan.run_chunk

def slow(self, k):
    time.sleep(0.1)
    return original(self, k)

ensemble.EnsemblePlan.run_chunk = slow
engine.run_ensemble(teacup_model(), store={store!r}, **{arguments!r})
"""


@pytest.mark.slow
def test_sigkill_then_resume_finishes_missing_chunks_only(teacup, tmp_path, monkeypatch):
    arguments = dict(
        n=400,
        seed=3,
        design="sobol",
        priors=PRIORS,
        chunk_size=10,
        start=0,
        stop=30,
        dt=0.125,
        saveper=1,
        progress=False,
    )
    path = tmp_path / "killed.zarr"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT), store=str(path), arguments=arguments))
    child = subprocess.Popen([sys.executable, str(script)], env=os.environ.copy())

    def finished() -> int:
        # every marker is written at creation (as 0); zarr writes each chunk file under a
        # temporary ".partial" name, then renames it, so a read sees whole markers
        if not (path / "zarr.json").exists():
            return 0
        return int((zarr.open_group(str(path), mode="r")[DONE][:] == 1).sum())

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if finished() >= 5:
            break
        if child.poll() is not None:
            pytest.fail(f"the sweep ended (code {child.returncode}) before it was killed")
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    finished_before = finished()
    assert 5 <= finished_before < 40
    assert engine.open_store(path).attrs["complete"] is False

    runs: list[int] = []
    original = ensemble.EnsemblePlan.run_chunk

    def counting(self, k):
        runs.append(k)
        return original(self, k)

    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", counting)
    resumed = engine.run_ensemble(teacup, store=path, **arguments)
    assert len(runs) == 40 - finished_before
    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", original)

    uninterrupted = engine.run_ensemble(teacup, store=tmp_path / "whole.zarr", **arguments)
    assert_trees_identical(resumed, uninterrupted)
    assert resumed.attrs == uninterrupted.attrs


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_result(teacup, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    arguments = dict(n=300, seed=9, design="sobol", priors=PRIORS, chunk_size=40, **RUN)
    local = engine.run_ensemble(teacup, store=tmp_path / "local.zarr", **arguments)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = engine.run_ensemble(
            teacup, store=tmp_path / "dask.zarr", client=client, **arguments
        )
        in_memory = engine.run_ensemble(teacup, client=client, **arguments)
    assert_trees_identical(local, remote)
    assert_trees_identical(local, in_memory)


# ---------------------------------------------------------------------------- on_error="raise"


def test_a_failing_member_stops_the_sweep_after_the_chunks_before_it(tmp_path, monkeypatch):
    """on_error='raise': the member's error is raised after the chunks before its own are
    written and marked done, so a rerun with on_error='mark' runs only the chunks left."""
    import zarr

    path = tmp_path / "s.zarr"
    model = decay()
    arguments = dict(
        n=12,
        seed=5,
        chunk_size=4,
        start=0,
        stop=5,
        dt=0.25,
        progress=False,
        priors={"k": ("uniform", 0.05, 0.2)},
    )
    original = ensemble.EnsemblePlan.run_chunk

    def failing(self, k):
        out, info, P = original(self, k)
        if k == 1:
            info[0, Info.STATUS] = Status.NONFINITE_STATE
        return out, info, P

    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", failing)
    with pytest.raises(engine.IntegrationError):
        engine.run_ensemble(model, store=path, on_error="raise", **arguments)
    done = zarr.open_group(str(path), mode="r")[DONE][:]
    assert done.tolist() == [1, 0, 0]
    runs: list[int] = []

    def counting(self, k):
        runs.append(k)
        return original(self, k)

    monkeypatch.setattr(ensemble.EnsemblePlan, "run_chunk", counting)
    engine.run_ensemble(model, store=path, on_error="mark", **arguments)
    assert runs == [1, 2]
