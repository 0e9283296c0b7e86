"""The compiler: inspectable source, disk cache across processes, sanitised identifiers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import engine
from engine.compiler import cache_dir, discrete_state
from engine.solvers import Info, Status


def test_source_is_inspectable_and_deterministic(teacup):
    first = engine.compile_model(teacup)
    second = engine.compile_model(teacup)
    assert first.source == second.source
    assert "def run_euler" in first.source and "def deriv" in first.source
    assert "# 'heat_loss'" in first.source  # names only as repr in comments


def test_shared_helpers_are_imported_and_key_the_cache(teacup, monkeypatch):
    """Model-independent helpers come from engine.kernels (compiled once per machine), not
    copies per model; the module's hash is in every source, so changing it changes every
    model's cache key."""
    from engine import compiler, kernels
    from engine.graph import build_plan

    source = engine.compile_model(teacup).source
    assert f"from engine.kernels import {', '.join(kernels.NAMES)}" in source
    assert not any(f"def {name}(" in source for name in kernels.NAMES)
    assert {"_lookup", "_save", "_first_nonfinite", "_zeros"} <= set(kernels.NAMES)
    assert "pre_step(" not in source.split("def run_euler(")[1]  # nothing to do: no call
    monkeypatch.setattr(kernels, "SOURCE_HASH", "0" * 16)
    changed, _, _ = compiler.generate_source(build_plan(teacup))
    assert changed != source and kernels.SOURCE_HASH in changed


def test_disk_cache_is_reused_by_a_second_process(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        sys.path.insert(0, %r)
        from tests.conftest import teacup_model
        import engine
        import numba  # initialise numba before timing what corridor itself does
        start = time.perf_counter()
        compiled = engine.compile_model(teacup_model())
        print(compiled.key, time.perf_counter() - start)
    """) % str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, CORRIDOR_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0][0] == runs[1][0]
    index_files = list((tmp_path / "__pycache__").glob("*.nbi"))
    assert index_files, "numba wrote no cache index"
    # the second process loads machine code instead of compiling: several times faster
    assert float(runs[1][1]) < float(runs[0][1]) / 2


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CORRIDOR_CACHE_DIR", str(tmp_path / "kernels"))
    assert cache_dir() == tmp_path / "kernels"
    assert (tmp_path / "kernels").is_dir()


def test_hostile_names_cannot_inject_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"x\nimport os; os.system('touch {marker}')\n#"
    m = engine.Model(f"evil\n__import__('os').system('touch {marker}')")
    m.dimension(f"d\n{evil}", [f"e'\"\n{evil}", "ok"])
    m.param(evil, [1.0, 2.0], dims=(f"d\n{evil}",))
    m.stock(f"s'); {evil}", initial=1.0)
    m.flow(f'f""" {evil}', "1", into=f"s'); {evil}")
    compiled = engine.compile_model(m)
    assert "os.system" not in "".join(
        line for line in compiled.source.splitlines() if not line.lstrip().startswith("#")
    )
    ds = engine.simulate(m, start=0, stop=2, dt=1)
    assert not marker.exists()
    np.testing.assert_allclose(ds[f"s'); {evil}"].values, [1, 2, 3])
    assert list(ds[f"d\n{evil}"].values) == [f"e'\"\n{evil}", "ok"]


def test_fast_dataset_equals_public_constructor():
    from tests.engine.test_simulation import subscripted_model

    ds = engine.simulate(subscripted_model(), start=0, stop=2, dt=1)
    public = xr.Dataset(
        {k: v.variable for k, v in ds.data_vars.items()},
        coords={k: v.variable for k, v in ds.coords.items()},
        attrs=ds.attrs,
    )
    xr.testing.assert_identical(ds, public)


def _fusion_model() -> engine.Model:
    """Loops over the same dims that may fuse, and reads that forbid it (a shifted element,
    a sum over the dim, a later write of what an earlier loop reads)."""
    m = engine.Model("fusion", time_unit="year", start=0, stop=5, dt=0.25)
    m.dimension("region", ["north", "south", "east"])
    m.dimension("stage", ["a", "b", "c", "d"])
    m.param("rate", [0.1, 0.2, 0.3], dims="region")
    m.stock("x", initial="1 + rate[region]", dims=("region", "stage"), non_negative=True)
    m.stock("w", initial="x[region, stage] * 2", dims=("region", "stage"))
    m.aux("u", "x[region, stage] * rate[region]", dims=("region", "stage"))
    m.aux("v", "u[region, stage] + u[region, stage - 1]", dims=("region", "stage"))
    m.aux("s", "sum(v[region, stage], 'stage') / 4", dims=("region",))
    m.aux("q", "v[region, stage] - s[region] + u[region, stage]", dims=("region", "stage"))
    m.flow("growth", "q[region, stage] * 0.1 + 0.05", into="x", dims=("region", "stage"))
    m.flow("loss", "x[region, stage] * rate[region] * 2", out_of="x", dims=("region", "stage"))
    m.flow("gain", "u[region, stage]", into="w", dims=("region", "stage"))
    return m


def _states(compiled: engine.CompiledModel, method: str, n_steps: int) -> list[np.ndarray]:
    """Stocks and auxiliaries after 0..n_steps steps, from the kernel alone (no outputs)."""
    states = []
    for steps in range(n_steps + 1):
        y = np.zeros(compiled.plan.sizes["y"])
        a = np.zeros(compiled.plan.sizes["a"])
        info = np.zeros(8)
        info[2], info[3] = 1e-6, 1e-9  # rtol, atol (rk45)
        status = compiled.runner(method)(
            compiled.p0.copy(),
            y,
            a,
            discrete_state(compiled, steps),
            0.0,
            0.25,
            steps,
            np.zeros(steps + 1, dtype=np.int64),
            np.zeros((0, 4), dtype=np.int64),
            np.zeros((steps + 1, 0)),
            info,
        )
        assert status == 0
        states += [y, a]
    return states


def test_loop_fusion_changes_no_bit_and_fuses():
    """Fused and unfused kernels (``compile_model(fuse=False)``) give identical states with
    every method; fusing reduced the loops (numba's compile time grows with their number)."""
    fused = engine.compile_model(_fusion_model())
    plain = engine.compile_model(_fusion_model(), fuse=False)
    assert plain.source.count(" for ") > fused.source.count(" for ")
    for method in ("euler", "rk4", "rk45"):
        for mine, theirs in zip(
            _states(fused, method, 20), _states(plain, method, 20), strict=True
        ):
            np.testing.assert_array_equal(mine, theirs)


def _nested_model() -> engine.Model:
    """Loops nested three deep (a small inner dimension, a larger middle one), a sum over a
    dimension and non-negative stocks: the loops whose counts a large model's code changes."""
    m = engine.Model("nested", time_unit="year", start=0, stop=5, dt=0.25)
    m.dimension("region", ["north", "south", "east"])
    m.dimension("age", [f"a{k}" for k in range(7)])
    m.dimension("sex", ["female", "male"])
    m.param("rate", [0.1, 0.2, 0.3], dims="region")
    m.stock("pop", initial="10 + rate[region]", dims=("region", "age", "sex"), non_negative=True)
    m.aux(
        "hazard", "rate[region] * (1 + pop[region, age, sex] / 100)", dims=("region", "age", "sex")
    )
    m.aux("total", "sum(pop[region, age, sex], 'age')", dims=("region", "sex"))
    m.flow("births", "total[region, sex] * 0.01", into="pop", dims=("region", "age", "sex"))
    m.flow(
        "deaths",
        "pop[region, age, sex] * hazard[region, age, sex]",
        out_of="pop",
        dims=("region", "age", "sex"),
    )
    # read by nothing: output-only code (aux_out), cut into pieces in a large model
    m.aux("share", "pop[region, age, sex] / total[region, sex]", dims=("region", "age", "sex"))
    m.aux("oldest", "pop[region, a6, sex] * 2", dims=("region", "sex"))
    return m


def _saved(compiled: engine.CompiledModel, method: str, n_steps: int) -> np.ndarray:
    """Every stock and auxiliary saved at every step of one run (output-only code included)."""
    ny, na = compiled.plan.sizes["y"], compiled.plan.sizes["a"]
    out = np.zeros((n_steps + 1, ny + na))
    info = np.zeros(8)
    info[2], info[3] = 1e-6, 1e-9  # rtol, atol (rk45)
    status = compiled.runner(method)(
        compiled.p0.copy(),
        np.zeros(ny),
        np.zeros(na),
        discrete_state(compiled, n_steps),
        0.0,
        0.25,
        n_steps,
        np.ones(n_steps + 1, dtype=np.int64),
        np.array([[0, 0, 0, ny], [1, 0, ny, na]], dtype=np.int64),
        out,
        info,
    )
    assert status == 0
    return out


def test_large_model_code_changes_no_bit(monkeypatch):
    """A large model's code (its loops counted at run time, the rate code written into the
    Euler step's rates function and cut into several) gives the same states bit for bit as a
    small model's, with every method; small nested loops and reductions keep their literal
    counts."""
    from engine.compiler import assembly

    small = engine.compile_model(_nested_model())
    monkeypatch.setattr(assembly, "_INLINE_LINES", 0)  # every model counts as large
    monkeypatch.setattr(assembly, "_CHUNK_LINES", 5)
    large = engine.compile_model(_nested_model())
    assert "+ _u" not in small.source
    # a small model's step written into run_euler itself: no call to a rates function
    small_step = small.source.split("def run_euler(")[1].split("@njit")[0]
    assert "_euler_rates(" not in small_step and "_euler_update(" not in small_step
    assert "+= h * " in small_step and "inline=" not in small.source
    # computed indices cast to unsigned in a large model's code only (no negative-index test)
    assert "np.uint64(" in large.source and "np.uint64(" not in small.source
    rates = large.source.split("def _euler_rates(")[1].split("@njit")[0]
    assert "_rates0(t, y, p, a, z, h, dydt)" in rates and "aux(" not in rates
    assert "_rates1(t, y, p, a, z, h, dydt)" in rates
    # run_euler calls the chunks itself (a level of calls less for numba to compile again),
    # through pointers: the functions are its last argument, fns, each the function the
    # _fn:<name> control names (numba links a function called directly into its caller and
    # compiles it there again)
    step = large.source.split("def run_euler(")[1].split("@njit")[0]
    assert step.startswith("p, y, a, z, t0, h, n_steps, save, runs, out, info, fns):")
    assert "_euler_rates(" not in step and "_rates0(" not in step and "init(" not in step
    by_position = {k: name[4:] for name, k in large.controls.items() if name.startswith("_fn:")}
    step = re.sub(r"fns\[(\d+)\]\(", lambda m: by_position[int(m.group(1))] + "(", step)
    assert "init(t0, p, y, a, z, h)" in step and "_euler_update(y, a, h, dydt)" in step
    members = large.source.split("def run_members_euler(")[1].split("@njit")[0]
    assert members.count("out[m], info[m], fns)") == 2
    for name in by_position.values():  # with the C wrapper a pointer calls
        assert f"no_cpython_wrapper=True)\ndef {name}(" in large.source
    assert len(large.runner("euler").functions) == len(by_position)
    assert not hasattr(large.runner("rk4"), "functions")  # the other solvers call directly

    def chunk_calls(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip().startswith("_rates")]

    assert chunk_calls(step) == chunk_calls(rates) and len(chunk_calls(step)) > 1
    first = large.source.split("def _rates0(")[1].split("@njit")[0]
    assert "_u = min(y.shape[0] - NY, 0)" in first
    assert "in range(0, 7 + _u):" in large.source  # the outermost / larger loops
    assert "in range(0, 2):" in large.source  # a nested loop over two sexes
    reductions = [line for line in large.source.splitlines() if line.lstrip().startswith("for r")]
    assert reductions and not any("_u" in line for line in reductions)
    out_calls = [line.strip() for line in step.splitlines() if line.strip().startswith("_out")]
    assert len(out_calls) > 1 and "aux_out(" not in step  # output-only code called directly
    for method in ("euler", "rk4", "rk45"):
        for mine, theirs in zip(
            _states(large, method, 20), _states(small, method, 20), strict=True
        ):
            np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(_saved(large, method, 20), _saved(small, method, 20))


def test_large_model_members_call_functions_through_pointers(monkeypatch):
    """A large model's ensemble kernel hands the functions to run_euler (a pointer each):
    every member the bits of the small model's run with the same parameters."""
    from engine.compiler import assembly

    small = engine.Runner(_nested_model(), outputs=["pop", "share", "oldest"])
    monkeypatch.setattr(assembly, "_INLINE_LINES", 0)
    monkeypatch.setattr(assembly, "_CHUNK_LINES", 5)
    large = engine.Runner(_nested_model(), outputs=["pop", "share", "oldest"])
    assert any(name.startswith("_fn:") for name in large.result.controls)
    assert "fns[" in large.result.source and "fns[" not in small.result.source
    rows = np.stack([large.parameters({"rate": [0.1 * k, 0.2, 0.05]}) for k in (1, 2, 3)])
    out, info = large.run_members(rows)
    assert np.all(info[:, Info.STATUS] == Status.OK)
    assert rows.shape[1] == small.base.size
    for row, member in zip(rows, out):
        assert member.tobytes() == small.run_arrays(row).tobytes()


@pytest.mark.parametrize("large", [False, True])
def test_output_only_code_runs_for_the_outputs_saved(monkeypatch, large):
    """Output-only code runs only when the run saves its variable or one reading it (a flag in
    p per block, set by the Runner): outputs are the same bits as a run saving everything,
    the code of the others is skipped (their slots of ``a`` stay untouched), and a parameter
    vector made for other outputs is given this run's flags (a copy; the vector is kept)."""
    from engine.compiler import assembly
    from engine.simulation import output_flags

    if large:
        monkeypatch.setattr(assembly, "_INLINE_LINES", 0)
        monkeypatch.setattr(assembly, "_CHUNK_LINES", 5)
    model = _nested_model()
    # a sum (its own loop, not fused with share's): its block reads another block
    model.aux("share_total", "sum(share[region, age, sex], 'age')", dims=("region", "sex"))
    everything = engine.Runner(model)
    full = everything.run()
    chain = engine.Runner(model, outputs=["share_total"])
    stocks = engine.Runner(model, outputs=["pop"])
    compiled = chain.result
    assert {"share", "oldest", "share_total"} <= compiled.plan.output_only

    def flag(runner: engine.Runner, name: str) -> float:
        return float(runner.base[compiled.controls[f"_need:{name}"]])

    assert compiled.controls["_need:share"] != compiled.controls["_need:share_total"]
    assert flag(chain, "share_total") == flag(chain, "share") == 1.0  # read by share_total
    assert flag(chain, "oldest") == 0.0
    assert all(flag(stocks, n) == 0.0 for n in ("share", "oldest", "share_total"))
    assert all(flag(everything, n) == 1.0 for n in ("share", "oldest", "share_total"))
    slots, values = output_flags(compiled, stocks.kinds, stocks.idx)
    assert slots.size >= 2 and not values.any()
    for runner, name in ((chain, "share_total"), (stocks, "pop")):
        ds = runner.run()
        np.testing.assert_array_equal(ds[name].values, full[name].values)
    foreign = stocks.parameters()
    kept = foreign.copy()
    np.testing.assert_array_equal(chain.run_arrays(foreign), chain.run_arrays())
    np.testing.assert_array_equal(foreign, kept)
    # the slots of output-only variables no saved output needs are never written
    settings = stocks.settings
    assert settings is not None
    na = compiled.plan.sizes["a"]
    written = {}
    for label, p in (("skipped", stocks.base), ("all", compiled.p0)):
        a = np.zeros(na)
        compiled.runner("euler")(
            p.copy(),
            np.zeros(compiled.plan.sizes["y"]),
            a,
            discrete_state(compiled, settings.n_steps),
            settings.start,
            settings.dt,
            settings.n_steps,
            settings.save,
            stocks._runs,
            np.empty((settings.n_save, stocks.kinds.shape[0])),
            np.zeros(8),
        )
        written[label] = a
    for name in ("share", "oldest", "share_total"):
        slot = compiled.plan.slots[name]
        assert not written["skipped"][slot.offset : slot.offset + slot.size].any()
        assert written["all"][slot.offset : slot.offset + slot.size].all()


def test_sum_is_computed_outside_the_loops_it_does_not_depend_on():
    """A sum that does not depend on a variable's inner loops (here: over ages, in a variable
    looped by region, sex, then age) is computed once per outer element, before the inner
    loop, not once per element; the same operations in the same order as the sum written as
    a variable of its own, so the same bits."""
    m = _nested_model()
    m.aux(
        "age_share",
        "pop[region, age, sex] / sum(pop[region, age, sex], 'age')",
        dims=("region", "sex", "age"),
    )
    m.aux("age_total", "sum(pop[region, age, sex], 'age')", dims=("region", "sex"))
    m.aux(
        "age_share_apart",
        "pop[region, age, sex] / age_total[region, sex]",
        dims=("region", "sex", "age"),
    )
    compiled = engine.compile_model(m)
    code = compiled.source.split("# 'age_share' (eq)")[1].split("# ")[0].splitlines()
    start = next(line for line in code if line.lstrip().startswith("acc"))
    ages = next(line for line in code if "for i2 in range(" in line)
    assert len(start) - len(start.lstrip()) == len(ages) - len(ages.lstrip())
    ds = engine.simulate(m, outputs=["age_share", "age_share_apart"])
    assert np.array_equal(ds["age_share"].values, ds["age_share_apart"].values)
    assert ds["age_share"].sum("age").values == pytest.approx(1.0, rel=1e-12)


def _draining_model(cells: int) -> engine.Model:
    """``cells`` non-negative tanks drained by two outflows and fed by an inflow that turns
    negative: some elements' limits bind at some steps, the others' never."""
    m = engine.Model("drains", time_unit="year", start=0, stop=6, dt=1)
    m.dimension("cell", [f"c{k}" for k in range(cells)])
    m.param("speed", [0.05 + 1.5 * (k % 7) / 6 for k in range(cells)], dims="cell")
    m.stock("tank", initial=10, dims="cell", non_negative=True)
    m.stock("sink", initial=0, dims="cell")
    m.flow("drain", "speed * 6", out_of="tank", into="sink", dims="cell")
    m.flow("leak", "speed * tank", out_of="tank", into="sink", dims="cell")
    m.flow("feed", "3 - speed * time", into="tank", dims="cell")
    return m


def test_limits_tested_first_change_no_bit(monkeypatch):
    """A large stock's limits run only when an element needs limiting, found by a loop that
    only reads: the same bits as the limits run directly, with limits binding at some
    steps (tanks held at zero, both outflows and the negative inflow scaled down) and
    totals conserved."""
    from engine.compiler import stocks

    cells = stocks._TESTED_SIZE
    tested = engine.Runner(_draining_model(cells)).run()
    test = re.compile(r"over\d+ = False")
    assert test.search(engine.compile_model(_draining_model(cells)).source)
    monkeypatch.setattr(stocks, "_TESTED_SIZE", 10**9)
    direct_model = _draining_model(cells)
    assert not test.search(engine.compile_model(direct_model).source)
    direct = engine.Runner(direct_model).run()
    for name in ("tank", "sink", "drain", "leak", "feed"):
        np.testing.assert_array_equal(tested[name].values, direct[name].values)
    tank = tested["tank"].values
    assert (tank == 0.0).any() and (tank > 0.0).any()  # some limits bound, others did not
    demand = np.array([0.05 + 1.5 * (k % 7) / 6 for k in range(cells)]) * 6
    assert (tested["drain"].values < demand).any()  # outflows scaled down
    assert (tested["feed"].values < 0).any()
    np.testing.assert_allclose(
        (tested["tank"] + tested["sink"]).values[-1],
        10 + (tested["feed"].values[:-1].sum(axis=0)),
        rtol=1e-12,
    )


def test_fuse_loops_keeps_dependent_loops_apart():
    from engine.compiler import fuse_loops

    head = ["    for i0 in range(0, 3):"]
    same = head + ["        a[0 + i0] = y[0 + i0]"] + head + ["        a[3 + i0] = a[0 + i0] * 2.0"]
    assert fuse_loops(same) == head + [
        "        a[0 + i0] = y[0 + i0]",
        "        a[3 + i0] = a[0 + i0] * 2.0",
    ]
    # reading the element before: written at the iteration before, so fusing is exact
    behind = (
        head
        + ["        a[0 + i0] = y[0 + i0]"]
        + head
        + ["        a[3 + i0] = (a[0 + i0 - 1] if i0 > 0 else 0.0)"]
    )
    assert fuse_loops(behind) == behind[:2] + behind[3:]
    # reading the element after: not yet written at this iteration, so no fusion
    ahead = (
        head
        + ["        a[0 + i0] = y[0 + i0]"]
        + head
        + ["        a[3 + i0] = (a[0 + i0 + 1] if i0 < 2 else 0.0)"]
    )
    assert fuse_loops(ahead) == ahead
    # overwriting what an earlier loop read at a later iteration: no fusion
    overwrite = head + ["        a[0 + i0] = y[2 - i0]"] + head + ["        y[0 + i0] = 1.0"]
    assert fuse_loops(overwrite) == overwrite
    opaque = head + ["        a[0 + i0] = y[0 + i0]"] + head + ["        a[3 + i0] = _f(a, i0)"]
    assert fuse_loops(opaque) == opaque
    fixed = head + ["        a[0 + i0] = y[0 + i0]"] + head + ["        a[3 + i0] = a[2]"]
    assert fuse_loops(fixed) == fixed
    anti = head + ["        a[0 + i0] = a[3]"] + head + ["        a[3 + i0] = y[0 + i0]"]
    assert fuse_loops(anti) == anti
    twice = head + ["        a[0 + i0] = 1.0"] + head + ["        a[1 + i0] = 2.0"]
    assert fuse_loops(twice) == twice
    other = (
        head
        + ["        a[0 + i0] = 1.0"]
        + ["    for i0 in range(0, 4):", "        a[3 + i0] = 2.0"]
    )
    assert fuse_loops(other) == other
    flat = [
        "    for i in range(0, 3):",
        "        y[i] += h * dydt[i]",
        "    for i in range(3, 7):",
        "        y[i] += h * dydt[i]",
    ]
    assert fuse_loops(flat, independent=True) == [
        "    for i in range(0, 7):",
        "        y[i] += h * dydt[i]",
    ]
    assert fuse_loops(flat) == flat


def test_solver_templates_mark_their_optional_steps():
    """Hooks are named placeholders: a template line is dropped only when it is marked with a
    hook the model lacks, never because of what its text (or a comment) starts with."""
    from engine import solvers
    from engine.compiler.assembly import _fill_hooks

    template = (
        "    # pre_step(t) would be a comment, kept\n"
        "    {pre_step} pre_step(t, y, p, a, z, h)\n"
        "        {post_step} post_step(1, y, p, a, z, h)  # discrete\n"
        "    pre_step_count = 0"
    )
    assert _fill_hooks(template, {"pre_step": False, "post_step": True}) == (
        "    # pre_step(t) would be a comment, kept\n"
        "        post_step(1, y, p, a, z, h)  # discrete\n"
        "    pre_step_count = 0"
    )
    with pytest.raises(AssertionError, match="unknown hook"):
        _fill_hooks("    {pre-step} pre_step(t)", {"pre_step": True, "post_step": True})
    for name, template in solvers.SOURCE.items():
        for hooks in ({h: False for h in solvers.HOOKS}, {h: True for h in solvers.HOOKS}):
            filled = _fill_hooks(template, hooks)
            assert "{" not in filled and "}" not in filled, name
            compile(filled, name, "exec")


def test_compiler_reads_the_subscripts_graph_resolved(monkeypatch):
    """The plan carries graph's SubscriptResolver; generating code resolves no reference again,
    reductions (whose loops the compiler names its own way) and shifts included."""
    from engine import compiler, graph

    m = _fusion_model()
    m.lookup("curve", [(0.0, 0.0), (1.0, 2.0)])
    m.aux(
        "c",
        "curve(s[region]) + sum(u[region, stage] * v[region, stage], 'stage')",
        dims=("region",),
    )
    expected, _, _ = compiler.generate_source(graph.build_plan(m))
    plan = graph.build_plan(m)  # what checking the model resolved, and nothing more

    def refuse(*args):
        raise AssertionError(f"resolved again: {args[1:3]}")

    monkeypatch.setattr(graph.SubscriptResolver, "_resolve_ref", refuse)
    source, _, _ = compiler.generate_source(plan)
    assert source == expected
    assert not hasattr(compiler.expressions, "_Checker")


def _chain_model(shifted: str = "x[age - 1]") -> engine.Model:
    """An ageing chain (an inflow reading the element below, ``shifted``), a scalar stock
    given a rate (Vensim's INTEG) and one fed by the chain's outflow."""
    m = engine.Model("fused_chain", time_unit="year", start=0, stop=5, dt=0.25)
    m.dimension("age", [f"a{k}" for k in range(6)])
    m.param("tau", 1.3)
    m.param("mortality", 0.011)
    m.param("entry", [1.0, 0, 0, 0, 0, 0], dims="age")
    m.stock("x", initial="10 + entry[age] * 3", dims=("age",))
    m.flow("inflow", f"entry[age] * 7 + {shifted} / tau", into="x", dims=("age",))
    m.flow("outflow", "x[age] / tau + mortality * x[age]", out_of="x", dims=("age",))
    m.stock("dead", initial=0.0)
    m.flow("dying", "sum(x[age], 'age') * mortality", into="dead")
    m.stock("level", initial=2.0, rate="0.1 * level + mortality")
    return m


def _diffusion_model() -> engine.Model:
    """A flow reading both neighbours of its stock element: no order of one fused loop runs
    it before the updates of both, so the step must not be fused."""
    m = engine.Model("fused_refused", time_unit="year", start=0, stop=5, dt=0.25)
    m.dimension("cell", [f"c{k}" for k in range(6)])
    m.param("k", 0.2)
    m.stock("u", initial="1", dims=("cell",))
    m.param("bump", [0, 0, 5.0, 0, 0, 0], dims="cell")
    m.flow(
        "spread",
        "k * (u[cell - 1] + u[cell + 1] - 2 * u[cell]) + bump[cell]",
        into="u",
        dims=("cell",),
    )
    return m


def _euler_states(compiled: engine.CompiledModel, n_steps: int, every: int) -> list[np.ndarray]:
    """Stocks and auxiliaries after 0..n_steps Euler steps, saving (nothing) every ``every``
    steps (0: never): the fused step runs at the steps that save nothing."""
    states = []
    for steps in range(n_steps + 1):
        y = np.zeros(compiled.plan.sizes["y"])
        a = np.zeros(compiled.plan.sizes["a"])
        save = np.zeros(steps + 1, dtype=np.int64)
        if every:
            save[::every] = 1
        status = compiled.runner("euler")(
            compiled.p0.copy(),
            y,
            a,
            discrete_state(compiled, steps),
            0.0,
            0.25,
            steps,
            save,
            np.zeros((0, 4), dtype=np.int64),
            np.zeros((int(save.sum()), 0)),
            np.zeros(8),
        )
        assert status == 0
        states += [y, a]
    return states


@pytest.mark.parametrize(
    "build, fused_as",
    [
        # x[age - 1] / tau: the outflow's x[age] / tau one element down, carried forwards
        (_chain_model, "carried"),
        (lambda: _chain_model("x[age + 1]"), "carried"),
        # x[age - 1] * 1.5 (nothing to carry): read before its update only going down
        (lambda: _chain_model("x[age - 1] * 1.5"), "backwards"),
        (lambda: _chain_model("x[age + 1] * 1.5"), "forwards"),
        (_fusion_model, None),  # nested loops, and limits reading every flow: nothing joins
        (_diffusion_model, None),  # refused: no order reads both neighbours before updates
    ],
)
def test_fused_euler_step_changes_no_bit(build, fused_as):
    """The fused Euler step (rates and update in one pass at the steps saving nothing) gives
    the states of the unfused step bit for bit, whatever the saving; it carries a value one
    element computes for the next, runs a loop backwards when the flows read the element below
    and nothing can be carried, and is refused when no order is safe."""
    fused = engine.compile_model(build())
    plain = engine.compile_model(build(), fuse=False)
    # the fused step is written into run_euler, under the test of a step saving nothing
    skipping = "if step < n_steps and not save[step]:"
    assert skipping not in plain.source
    if fused_as is None:
        assert skipping not in fused.source
    else:
        step = fused.source.split(skipping)[1].split("continue\n")[0]
        assert (", -1):" in step) == (fused_as == "backwards")
        assert ("_d0 = _c0" in step) == (fused_as == "carried")
        assert "y[fk] += h * " in step  # an update inside a rate loop
    for every in (0, 1, 4):
        for mine, theirs in zip(
            _euler_states(fused, 13, every), _euler_states(plain, 13, every), strict=True
        ):
            np.testing.assert_array_equal(mine, theirs)


def test_fuse_step_proves_each_order_by_its_dependences(monkeypatch):
    """fuse_step fuses the update into the rate loops forwards when every read of a stock
    element comes before its update (or reads a value carried from before it), backwards when
    only that order gives it, only the tail that can when an earlier loop forbids both, and
    nothing when no loop can join."""
    from engine.compiler import fusion
    from engine.compiler.fusion import fuse_step

    monkeypatch.setattr(fusion, "_recall", lambda key: (fusion._MISSING, None))  # prove each

    update = ["    for i in range(0, 4):", "        y[i] += h * (a[i + 0] - a[i + 4])"]
    same = [
        "    for i0 in range(0, 4):",
        "        a[0 + i0] = y[0 + i0] * 2.0",
        "    for i0 in range(0, 4):",
        "        a[4 + i0] = y[0 + i0] * 0.5",
    ]
    assert fuse_step(same, update) == [
        "    for fk in range(0, 4):",
        "        a[0 + fk] = y[0 + fk] * 2.0",
        "        a[4 + fk] = y[0 + fk] * 0.5",
        "        y[fk] += h * (a[fk + 0] - a[fk + 4])",
    ]
    below = [
        "    i0 = 0",
        "    a[0 + i0] = 1.0",
        "    for i0 in range(1, 4):",
        "        a[0 + i0] = y[0 + (i0 + -1)] * 2.0",
    ] + same[2:]
    assert fuse_step(below, update) == [
        "    for fk in range(3, 0, -1):",
        "        a[0 + fk] = y[0 + (fk + -1)] * 2.0",
        "        a[4 + fk] = y[0 + fk] * 0.5",
        "        y[fk] += h * (a[fk + 0] - a[fk + 4])",
        "    i0 = 0",
        "    a[0 + i0] = 1.0",
        "    fk = 0",
        "    a[4 + fk] = y[0 + fk] * 0.5",
        "    fk = 0",
        "    y[fk] += h * (a[fk + 0] - a[fk + 4])",
    ]
    # the same read divided as the next element's outflow divides it: carried forwards, the
    # first value from the element written out before the loop
    carry = [
        "    i0 = 0",
        "    a[0 + i0] = 1.0",
        "    for i0 in range(1, 4):",
        "        a[0 + i0] = y[0 + (i0 + -1)] / p[1]",
        "    for i0 in range(0, 4):",
        "        a[4 + i0] = (y[0 + i0] / p[1]) * 0.5",
    ]
    assert fuse_step(carry, update) == [
        "    i0 = 0",
        "    a[0 + i0] = 1.0",
        "    fk = 0",
        "    _d0 = y[0 + fk] / p[1]",
        "    a[4 + fk] = (_d0) * 0.5",
        "    fk = 0",
        "    y[fk] += h * (a[fk + 0] - a[fk + 4])",
        "    for fk in range(1, 4):",
        "        _c0 = y[0 + fk] / p[1]",
        "        a[0 + fk] = _d0",
        "        a[4 + fk] = (_c0) * 0.5",
        "        y[fk] += h * (a[fk + 0] - a[fk + 4])",
        "        _d0 = _c0",
    ]
    # ... but not when the outflow divides by another parameter
    other = carry[:-1] + ["        a[4 + i0] = (y[0 + i0] / p[2]) * 0.5"]
    assert "_d0" not in "\n".join(fuse_step(other, update) or [])
    # both neighbours read by the first loop: it stays whole before the fused tail
    both = [
        "    for i0 in range(1, 3):",
        "        a[0 + i0] = y[0 + (i0 + -1)] + y[0 + (i0 + 1)]",
    ] + same[2:]
    fused = fuse_step(both, update)
    assert fused is not None and fused[:2] == both[:2]
    assert fused[2:4] == ["    for fk in range(0, 4):", "        a[4 + fk] = y[0 + fk] * 0.5"]
    # ... and nothing when it is the only rate loop
    assert fuse_step(both[:2], update) is None
    # code that is not analysed (a condition) moves before the loops it commutes with, and
    # only those: here it scales an element the first loop reads (a[12], with *=), or not
    loops = [
        "    for i0 in range(0, 4):",
        "        a[0 + i0] = y[0 + i0] * 2.0",
        "        a[8 + i0] = a[12] * 2.0",
        "    for i0 in range(0, 4):",
        "        a[4 + i0] = y[0 + i0] * 0.5",
    ]
    scale = ["    for r in range(1):", "        if h > 0.0:", "            a[12] *= 2.0"]
    fused = fuse_step(loops[:3] + scale + loops[3:], update)
    assert fused is not None and fused[:6] == loops[:3] + scale
    other = [line.replace("a[12]", "a[13]") for line in scale]
    fused = fuse_step(loops[:3] + other + loops[3:], update)
    assert fused is not None and fused[:3] == other and "        a[8 + fk] = a[12] * 2.0" in fused
    # a statement reading a stock element at an index it cannot evaluate, or a whole array
    assert fuse_step(["    for i0 in range(0, 4):", "        a[0 + i0] = y[k]"], update) is None
    assert (
        fuse_step(["    for i0 in range(0, 4):", "        a[0 + i0] = _f(y, i0)"], update) is None
    )


def _run_orders(blocks, order, written, carried):
    """fusion._same_dependences' decision by running both orders statement instance by
    statement instance (the proof as it was before it was computed over arrays)."""
    from engine.compiler.fusion import _accesses

    original = [(b, v, lines) for b, block in enumerate(blocks) for v, lines in block.instances]
    if sorted((b, v) for b, v, _ in order if b >= 0) != sorted((b, v) for b, v, _ in original):
        return False
    carried = carried or {}
    needed = {}
    for source, elements in carried.values():
        needed.setdefault(source, set()).update(elements)
    seen, finals = [], []
    for k, schedule in enumerate((original, order)):
        last, observed, snapshots = {}, {}, {}
        for b, v, lines in schedule:
            if b < 0:
                snapshots[("top", v)] = {e: last.get(e) for e in needed.get(("top", v), ())}
                continue
            env = {blocks[b].var: v} if blocks[b].var is not None else {}
            for s, line in enumerate(lines):
                found = _accesses(line, env, {})
                if found is None or found[1][0] not in written:
                    return False
                reads, write = found
                here = (b, v, s)
                if k == 1 and here in needed:
                    snapshots[here] = {e: last.get(e) for e in needed[here]}
                reuse = carried.get(here)
                if reuse is not None:
                    reads = list(reads)
                    for e in reuse[1]:
                        reads.remove(e)
                    if k == 1 and reuse[0] not in snapshots:
                        return False
                    for e in reuse[1]:
                        then = snapshots[reuse[0]] if k == 1 else last
                        observed[(here, e, "carried")] = then.get(e)
                for e in reads:
                    observed[(here, e)] = last.get(e)
                last[write] = here
        seen.append(observed)
        finals.append(last)
    return seen[0] == seen[1] and finals[0] == finals[1]


@pytest.mark.parametrize("shifted", ["x[age - 1]", "x[age + 1]", "x[age - 1] * 1.5"])
def test_fused_step_proof_decides_as_running_both_orders(shifted, monkeypatch):
    """The fused step's dependence proof (over arrays of statement instances) decides as
    running the unfused and the fused order instance by instance and comparing each read's
    writer and each element's last writer: on every order fuse_step tries for an ageing
    chain, and on orders and carried values it would not make (entries swapped or moved,
    the order reversed, an instance left out, a value reused from another instance)."""
    import random

    from engine.compiler import fusion
    from engine.compiler.assembly import generate_source
    from engine.graph import build_plan

    proof = fusion._same_dependences
    rng = random.Random(5)
    decided = []

    def both(blocks, order, written, carried=None):
        mine = proof(blocks, order, written, carried)
        assert mine == _run_orders(blocks, order, written, carried)
        decided.append(mine)
        return mine

    def checked(blocks, order, written, carried=None, table=None):
        mine = both(blocks, order, written, carried)
        n = len(order)
        for _ in range(6):
            other = list(order)
            i, j = rng.randrange(n), rng.randrange(n)
            other[i], other[j] = other[j], other[i]
            both(blocks, other, written, carried)
            other = list(order)
            i = rng.randrange(n - 1)
            other[i : i + 2] = other[i : i + 2][::-1]
            both(blocks, other, written, carried)
            other = list(order)
            other.insert(rng.randrange(n), other.pop(rng.randrange(n)))
            both(blocks, other, written, carried)
        both(blocks, order[::-1], written, carried)
        both(blocks, order[1:], written, carried)
        both(blocks, order, set(sorted(written)[1:]), carried)
        for here in list(carried or {})[:6]:
            for source in (("top", -5), here, rng.choice(list(carried.values()))[0]):
                both(blocks, order, written, {**carried, here: (source, carried[here][1])})
        return mine

    monkeypatch.setattr(fusion, "_same_dependences", checked)
    monkeypatch.setattr(fusion, "_recall", lambda key: (fusion._MISSING, None))  # prove each
    generate_source(build_plan(_chain_model(shifted)), fuse=True)
    assert True in decided and False in decided


def test_fuse_step_results_are_kept_by_their_lines_and_code(tmp_path, monkeypatch):
    """fuse_step's result is kept in the process and in the cache directory (``fusion/``),
    keyed by the lines and the fusion module's code: a new process (an empty memo) reads it
    without the proof; other lines or other code are another key; a file that is not what
    was written (damaged, or holding something else) is ignored and written anew."""
    import json

    from engine.compiler import fusion

    monkeypatch.setenv("CORRIDOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fusion, "_MEMO", {})
    proofs = []
    real = fusion._fuse_step

    def counted(rate_lines, update_lines):
        proofs.append(1)
        return real(rate_lines, update_lines)

    monkeypatch.setattr(fusion, "_fuse_step", counted)
    update = ["    for i in range(0, 4):", "        y[i] += h * (a[i + 0] - a[i + 4])"]
    rates = ["    for i0 in range(0, 4):", "        a[0 + i0] = y[0 + i0] * 2.0"]
    rates += ["    for i0 in range(0, 4):", "        a[4 + i0] = y[0 + i0] * 0.5"]
    never = ["    for i0 in range(0, 4):", "        a[0 + i0] = y[k]"]
    first, nothing = fusion.fuse_step(rates, update), fusion.fuse_step(never, update)
    assert first is not None and nothing is None and len(proofs) == 2
    first.append("changed by the caller")  # a copy: the kept result is not the caller's
    files = sorted((tmp_path / "cache" / "fusion").iterdir())
    assert len(files) == 2
    for _ in range(2):  # in the process, then from the files as a new process would
        assert fusion.fuse_step(rates, update) == first[:-1]
        assert fusion.fuse_step(never, update) is None
        assert len(proofs) == 2
        monkeypatch.setattr(fusion, "_MEMO", {})
    key = fusion._memo_key(rates, update)
    path = tmp_path / "cache" / "fusion" / f"{key}.json"
    for damaged in ("{not json", json.dumps({"key": key, "fused": [1, 2]}), "[]"):
        path.write_text(damaged)
        monkeypatch.setattr(fusion, "_MEMO", {})
        assert fusion.fuse_step(rates, update) == first[:-1]
        assert json.loads(path.read_text()) == {"key": key, "fused": first[:-1]}
    assert len(proofs) == 5
    assert fusion._memo_key(rates[:2], update) != key
    monkeypatch.setattr(fusion, "_code_digest", lambda: "other code")
    assert fusion._memo_key(rates, update) != key


def test_hoisted_indices_computes_each_index_once_per_loop():
    """A large model's indices (a literal plus loop counters times strides) are computed in
    steps at the heads of the loops whose counters they use, shared by the indices with the
    same counters and strides; an index used twice in a loop is computed once there; an index
    with a name that is not a loop counter is left as it is."""
    from engine.compiler.assembly import _hoisted_indices

    constants: set[int] = set()
    lines = [
        "    for i0 in range(0, 14 + _u):",
        "        for i1 in range(0, 101 + _u):",
        "            a[np.uint64(321 + i0 * 101 + i1)] = a[np.uint64(9 + i0 * 101 + i1)]"
        " * a[np.uint64(9 + i0 * 101 + i1)] + y[np.uint64(k + 3)]",
    ]
    assert _hoisted_indices(lines, constants) == [
        "    for i0 in range(0, 14 + _u):",
        "        _x1 = i0 * 101",
        "        for i1 in range(0, 101 + _u):",
        "            _x2 = np.uint64(_x1 + i1)",
        "            _x3 = _x2 + _U321",
        "            _x4 = _x2 + _U9",
        "            a[_x3] = a[_x4] * a[_x4] + y[np.uint64(k + 3)]",
    ]
    assert constants == {321, 9}
    # outside the loop its counter is not known: the index stays
    assert _hoisted_indices(["    a[np.uint64(5 + i0)] = 1.0"], set()) == [
        "    a[np.uint64(5 + i0)] = 1.0"
    ]


def test_helpers_taking_offsets_are_compiled_once_for_every_call_site():
    """Lookups and fixed delays call helpers of engine.kernels with literal integer offsets;
    numba would compile a copy of the helper for each set of literals (each table, each
    delay of each model). Typed for one signature, each has one compiled version whatever
    the models, and the delays' and lookups' values are those of their definitions."""
    from engine import kernels

    m = engine.Model("offsets")
    m.lookup("first", [(0, 0), (1, 10), (2, 15)])
    m.lookup("second", [(0, 1), (4, 3)])
    m.stock("x", initial=1)
    m.flow("f", "first(time) + second(time - 1)", into="x")
    m.aux("lagged", "delay_fixed(x, 1, 0.5)")
    m.aux("later", "delay_fixed(x, 2, -1)")
    ds = engine.simulate(m, start=0, stop=4, dt=0.5)
    other = engine.Model("offsets2")  # other offsets, another model
    other.param("pad", 3.0)
    other.lookup("third", [(0, 2), (1, 4), (3, 5), (5, 9)])
    other.stock("w", initial=2)
    other.flow("g", "third(time)", into="w")
    other.aux("held", "delay_fixed(w, 1.5, 7)")
    engine.simulate(other, start=0, stop=4, dt=0.5)
    for name in kernels._SIGNATURES:
        if name in ("_lookup_extrapolate",):
            continue
        assert len(getattr(kernels, name).overloads) == 1, name
    x, t = ds["x"].values, ds["time"].values
    np.testing.assert_array_equal(ds["lagged"].values, np.where(t < 1, 0.5, np.roll(x, 2)))
    np.testing.assert_array_equal(ds["later"].values, np.where(t < 2, -1.0, np.roll(x, 4)))
    expected = np.interp(t, [0, 1, 2], [0, 10, 15]) + np.interp(t - 1, [0, 4], [1, 3])
    np.testing.assert_allclose(ds["f"].values, expected, rtol=1e-15)


def test_code_written_into_run_euler_may_not_reuse_its_names():
    # The check is cached per pair of texts; a clash must still raise every time.
    from engine.compiler.assembly import _check_inlined

    template = "def run_euler(y, a):\n    total = 0.0\n    total += a[0]\n"
    _check_inlined(template, ["b = 2.0\ny[0] = b\n"])  # names of its own: no clash
    for _ in range(2):
        with pytest.raises(AssertionError, match="total"):
            _check_inlined(template, ["total = 1.0\n"])
    # a loop counter both use clashes too: written inside run_euler's loop over i, the inner
    # loop would leave its last i for the rest of the outer iteration
    looping = "def run_euler(y, a):\n    for i in range(3):\n        y[i] = a[i]\n"
    _check_inlined(looping, ["for j in range(2):\n    y[j] += 1.0\n"])
    with pytest.raises(AssertionError, match="'i'"):
        _check_inlined(looping, ["for i in range(2):\n    y[i] += 1.0\n"])


def _run_lines(lines, y):
    """Run generated-style loop code (the test's own text, not a model's) on copies of
    ``y`` and a zeroed ``a``; returns (a, y)."""
    a, y = np.zeros(64), y.copy()
    code = "def _f(a, y):\n" + "\n".join(lines) + "\n"
    scope: dict = {}
    exec(compile(code, "<fuse_nests test>", "exec"), scope)
    scope["_f"](a, y)
    return a, y


def test_fuse_nests_joins_outer_loops_only_where_exact():
    from engine.compiler.fusion import fuse_nests

    head = ["    for i0 in range(0, 3):"]
    # a reduction and a two-level nest over the same outer loop: joined, inner loops kept
    reduce = head + [
        "        acc1 = 0.0",
        "        for r0 in range(4):",
        "            acc1 = acc1 + y[0 + i0 * 4 + r0]",
        "        a[0 + i0] = acc1",
    ]
    nested = head + [
        "        for i1 in range(0, 2):",
        "            a[3 + i0 * 2 + i1] = a[0 + i0] * y[20 + i1]",
    ]
    joined = fuse_nests(reduce + ["    # 'x' (eq)"] + nested)
    assert joined == reduce + ["        # 'x' (eq)"] + nested[1:]
    # reading the element the earlier nest writes at a later outer iteration: kept apart
    ahead = head + [
        "        for i1 in range(0, 2):",
        "            a[3 + i0 * 2 + i1] = (a[0 + i0 + 1] if i0 < 2 else 0.0)",
    ]
    assert fuse_nests(reduce + ahead) == reduce + ahead
    # overwriting what the earlier nest reads at a later outer iteration: kept apart
    overwrite = head + ["        for i1 in range(0, 2):", "            y[8 + i0 * 2 + i1] = 1.0"]
    assert fuse_nests(reduce + overwrite) == reduce + overwrite
    # the same element written by both, a local of one read by the other, an array passed
    # whole, a statement not understood: kept apart
    twice = head + ["        for i1 in range(0, 2):", "            a[0 + i0 * 0 + i1 * 0] = 2.0"]
    assert fuse_nests(reduce + twice) == reduce + twice
    local = head + ["        a[10 + i0] = acc1"]
    assert fuse_nests(reduce + local) == reduce + local
    whole = head + ["        a[10 + i0] = _g(a, i0)"]
    assert fuse_nests(reduce + whole) == reduce + whole
    branch = head + ["        if i0 > 0:", "            a[10 + i0] = 1.0"]
    assert fuse_nests(reduce + branch) == reduce + branch
    # joined inner loops of joined outer loops
    inner = [
        "    for i0 in range(0, 2):",
        "        for i1 in range(0, 3):",
        "            a[0 + i0 * 3 + i1] = y[i0 * 3 + i1]",
        "    for i0 in range(0, 2):",
        "        for i1 in range(0, 3):",
        "            a[6 + i0 * 3 + i1] = a[0 + i0 * 3 + i1] + 1.0",
    ]
    assert fuse_nests(inner) == inner[:3] + inner[5:]


def test_fuse_nests_gives_the_same_values():
    """Random chains of nests reading and writing overlapping elements: whatever fuse_nests
    joins, running the code gives the same values as the nests one after the other."""
    from engine.compiler.fusion import fuse_nests

    rng = np.random.default_rng(7)
    joined_some = 0
    for _ in range(200):
        lines = []
        for k in range(4):
            src, dst = rng.choice(["a", "y"]), rng.choice(["a", "y"])
            shift, where = int(rng.integers(-2, 3)), int(rng.integers(0, 3)) * 8
            read = f"{src}[{where + 4} + i0 * 2 + i1 + {shift}]"
            lines += [
                f"    # 'v{k}' (eq)",
                "    for i0 in range(0, 3):",
                "        for i1 in range(0, 2):",
                f"            {dst}[{int(rng.integers(0, 3)) * 8 + 4} + i0 * 2 + i1] = "
                f"{read} * {k + 2}.0 + 1.0",
            ]
        fused = fuse_nests(lines)
        joined_some += fused != lines
        y = rng.standard_normal(64)
        for want, got in zip(_run_lines(lines, y), _run_lines(fused, y)):
            assert np.array_equal(want, got)
    assert joined_some > 10
