"""simulate(): the result Dataset, overrides, errors, subscripts, lookups, stateful functions."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import engine
from engine import IntegrationError, ParameterError, SpecError
from engine.solvers import Info, Status
from tests.conftest import teacup_model


def test_readme_teacup_example(teacup):
    ds = engine.simulate(teacup, start=0, stop=30, dt=0.125, method="rk4")
    assert isinstance(ds, xr.Dataset)
    assert ds.sizes["time"] == 241
    assert ds["teacup_temperature"].attrs["units"] == "degF"
    assert ds["heat_loss"].attrs["units"] == "degF/minute"
    assert ds["time"].attrs["units"] == "minute"
    assert ds["room_temperature"].dims == ()
    assert float(ds["teacup_temperature"][0]) == 180.0


def test_outputs_select_variables(teacup):
    ds = engine.simulate(teacup, start=0, stop=1, dt=0.5, outputs=["heat_loss"])
    assert list(ds.data_vars) == ["heat_loss"]
    with pytest.raises(SpecError, match="unknown output 'heat_los'.*heat_loss"):
        engine.simulate(teacup, start=0, stop=1, dt=0.5, outputs=["heat_los"])


def test_params_override_and_defaults_restored(teacup):
    hot = engine.simulate(teacup, start=0, stop=10, dt=1, params={"room_temperature": 100})
    assert float(hot["room_temperature"]) == 100
    base = engine.simulate(teacup, start=0, stop=10, dt=1)
    assert float(base["room_temperature"]) == 70
    assert float(hot["teacup_temperature"][-1]) > float(base["teacup_temperature"][-1])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"room_temp": 1}, "unknown parameter 'room_temp'.*room_temperature"),
        ({"heat_loss": 1}, "'heat_loss' is a flow, not a parameter"),
        ({"characteristic_time": 0.0}, "outside its bounds"),
        ({"room_temperature": [1, 2]}, "shape"),
        ({"room_temperature": float("nan")}, "finite"),
    ],
)
def test_parameter_errors(teacup, params, message):
    with pytest.raises(ParameterError, match=message):
        engine.simulate(teacup, start=0, stop=1, dt=1, params=params)


def test_time_errors(teacup):
    with pytest.raises(SpecError, match="declares no start"):
        engine.simulate(teacup, stop=1, dt=1)
    with pytest.raises(SpecError, match="not a whole multiple"):
        engine.simulate(teacup, start=0, stop=1, dt=0.3, saveper=0.5)
    with pytest.raises(SpecError, match="unknown method"):
        engine.simulate(teacup, start=0, stop=1, dt=1, method="heun")
    with pytest.raises(SpecError, match="before start"):
        engine.simulate(teacup, start=5, stop=1, dt=1)


def test_model_declared_times():
    m = engine.Model("own", time_unit="year", start=2000, stop=2010, dt=0.5, saveper=1)
    m.stock("s", initial=1)
    m.flow("f", "1", into="s")
    ds = engine.simulate(m)
    np.testing.assert_allclose(ds["time"].values, np.arange(2000, 2011))
    np.testing.assert_allclose(ds["s"].values, 1 + np.arange(11.0))


def test_nonfinite_value_names_variable_and_time():
    m = engine.Model("blowup")
    m.param("threshold", 3)
    m.stock("x", initial=1)
    m.aux("rate", "1 / (threshold - time)")
    m.flow("f", "rate", into="x")
    with pytest.raises(IntegrationError, match=r"'rate' is non-finite at time 3") as info:
        engine.simulate(m, start=0, stop=5, dt=1)
    assert info.value.variable == "rate" and info.value.time == 3.0


def test_nonfinite_stock_is_reported():
    m = engine.Model("overflow")
    m.stock("x", initial=10)
    m.flow("f", "x ** 50", into="x")
    with pytest.raises(IntegrationError, match="stock 'x' became non-finite at time") as info:
        engine.simulate(m, start=0, stop=5, dt=1, outputs=["x"])
    assert info.value.variable == "x"


def test_nonnegative_stock_is_held_at_zero_and_conserves():
    m = engine.Model("drain")
    m.stock("tank", initial=10, non_negative=True)
    m.stock("sink", initial=0)
    m.flow("outflow", "4", out_of="tank", into="sink")
    ds = engine.simulate(m, start=0, stop=6, dt=1)
    np.testing.assert_allclose(ds["tank"].values, [10, 6, 2, 0, 0, 0, 0])
    np.testing.assert_allclose(ds["outflow"].values, [4, 4, 2, 0, 0, 0, 0])
    np.testing.assert_allclose(ds["tank"] + ds["sink"], 10)


def subscripted_model():
    m = engine.Model("regions", time_unit="year")
    m.dimension("region", ["north", "south", "east"])
    m.dimension("sex", ["female", "male"])
    m.param("growth", {"north": 0.01, "south": 0.03, "east": 0.0}, dims="region")
    m.param("share", [0.5, 0.5], dims="sex")
    m.stock("pop", initial="100 * share[sex]", dims=("region", "sex"))
    m.flow("births", "growth[region] * pop[region, sex]", into="pop", dims=("region", "sex"))
    m.aux("total", "sum(pop, 'region', 'sex')")
    m.aux("by_region", "sum(pop[region, sex], 'sex')", dims="region")
    m.aux("north_share", 'by_region["north"] / total')
    return m


def test_subscripted_dims_coords_and_sums():
    ds = engine.simulate(subscripted_model(), start=0, stop=2, dt=1)
    assert ds["pop"].dims == ("time", "region", "sex")
    assert list(ds["region"].values) == ["north", "south", "east"]
    np.testing.assert_allclose(
        ds["pop"].sel(time=2, sex="male").values, 50 * np.array([1.01, 1.03, 1.0]) ** 2
    )
    np.testing.assert_allclose(ds["total"], ds["pop"].sum(["region", "sex"]))
    np.testing.assert_allclose(ds["by_region"], ds["pop"].sum("sex"))
    np.testing.assert_allclose(ds["north_share"], ds["by_region"].sel(region="north") / ds["total"])


def test_dimension_errors_name_the_element():
    m = engine.Model("bad")
    m.dimension("region", ["a", "b"])
    with pytest.raises(SpecError, match="unknown dimension 'regoin'.*'region'"):
        m.param("x", 1, dims="regoin")
    m.param("x", [1, 2], dims="region")
    m.aux("y", "x[age]", dims="region")
    with pytest.raises(SpecError, match="'age' is not an element of 'region'"):
        engine.simulate(m, start=0, stop=1, dt=1)


def test_algebraic_loop_is_reported_by_name():
    m = engine.Model("loop")
    m.aux("a", "b + 1")
    m.aux("b", "c * 2")
    m.aux("c", "a - 1")
    m.aux("d", "a")
    with pytest.raises(SpecError, match="algebraic loop.*'a'.*'b'.*'c'"):
        engine.simulate(m, start=0, stop=1, dt=1)


def test_unknown_name_and_function_suggest_fixes():
    m = engine.Model("typo")
    m.param("growth_rate", 1)
    m.aux("y", "growth_rte * 2")
    with pytest.raises(SpecError, match="unknown name 'growth_rte'.*'growth_rate'"):
        engine.simulate(m, start=0, stop=1, dt=1)
    m2 = engine.Model("typo2")
    m2.aux("y", "maxx(1, 2)")
    with pytest.raises(SpecError, match="unknown function 'maxx'.*'max'"):
        engine.simulate(m2, start=0, stop=1, dt=1)


def test_spec_errors_on_declaration():
    m = engine.Model("decl")
    m.stock("reservoir")
    with pytest.raises(SpecError, match="already declared"):
        m.aux("reservoir", 1)
    with pytest.raises(SpecError, match="connects no stock"):
        m.flow("f", 1)
    with pytest.raises(SpecError, match="'resevoir' is not a declared stock.*'reservoir'"):
        m.flow("f", 1, into="resevoir")
    with pytest.raises(SpecError, match="outside its bounds"):
        m.param("p", 5, bounds=(0, 1))
    with pytest.raises(SpecError, match="unknown prior distribution 'gaussian'"):
        m.param("q", 1, prior=("gaussian", 0, 1))
    with pytest.raises(SpecError, match="must not decrease"):
        m.lookup("table", [(0, 0), (2, 1), (1, 3)])
    with pytest.raises(SpecError, match="reserved"):
        m.aux("time", 1)


def test_lookup_interpolates_and_clamps():
    m = engine.Model("lookups")
    m.lookup("effect", [(0, 0), (1, 10), (2, 15)])
    m.aux("value", "effect(time - 1)")
    ds = engine.simulate(m, start=0, stop=4, dt=0.5)
    expected = np.interp(ds["time"].values - 1, [0, 1, 2], [0, 10, 15])
    np.testing.assert_allclose(ds["value"].values, expected)


def test_smooth_delay_and_initial():
    m = engine.Model("stateful")
    m.aux("input", "step(10, 1)")
    m.smooth("smoothed", "input", 2.0)
    m.delay("delayed", "input", 3.0, order=1)
    m.aux("first", "initial(time + 5)")
    ds = engine.simulate(m, start=0, stop=4, dt=0.25)
    t = ds["time"].values
    # first-order smooth and delay of a step: 10 * (1 - exp(-(t - 1) / T)) in the Euler limit
    assert np.all(ds["smoothed"].values[t <= 1] == 0)
    assert 0 < float(ds["smoothed"].sel(time=4)) < 10
    assert float(ds["delayed"].sel(time=4)) < float(ds["smoothed"].sel(time=4))
    np.testing.assert_allclose(ds["first"].values, 5.0)
    # explicit Euler recurrence of the smooth
    s = 0.0
    for k, tk in enumerate(t):
        assert ds["smoothed"].values[k] == pytest.approx(s, rel=1e-12, abs=1e-12)
        s += 0.25 * ((10.0 if tk + 0.125 > 1 else 0.0) - s) / 2.0


def test_cohort_shift_reproduces_leslie_matrix():
    ages = 6
    fertility = np.array([0, 0.3, 0.8, 0.4, 0.0, 0.0])
    mortality = np.array([0.05, 0.01, 0.01, 0.02, 0.1, 0.3])
    m = engine.Model("leslie", time_unit="year")
    m.dimension("age", ages)
    m.param("fertility", fertility, dims="age")
    m.param("mortality", mortality, dims="age")
    m.stock("population", initial=100, dims="age")
    m.flow("deaths", "mortality[age] * population[age]", out_of="population", dims="age")
    m.aux("total_births", "sum(fertility[age] * population[age], 'age')")
    m.flow(
        "births",
        "if_then_else(age_index == 0, total_births, 0)".replace(
            "age_index == 0", "first_age[age] > 0"
        ),
        into="population",
        dims="age",
    )
    m.param("first_age", [1, 0, 0, 0, 0, 0], dims="age")
    m.cohort_shift("population", "age", every=1, entry=["births"])
    ds = engine.simulate(m, start=0, stop=20, dt=1)
    leslie = np.zeros((ages, ages))
    leslie[0, :] = fertility
    for a in range(ages - 1):
        leslie[a + 1, a] = 1 - mortality[a]
    leslie[-1, -1] += 1 - mortality[-1]
    n = np.full(ages, 100.0)
    for year in range(21):
        np.testing.assert_allclose(ds["population"].sel(time=year).values, n, rtol=1e-12)
        n = leslie @ n


def test_cohort_shift_needs_dt_dividing_interval():
    m = engine.Model("shift")
    m.dimension("age", 3)
    m.stock("population", initial=1, dims="age")
    m.cohort_shift("population", "age", every=1)
    with pytest.raises(SpecError, match="needs a dt that divides it"):
        engine.simulate(m, start=0, stop=2.1, dt=0.3)
    with pytest.raises(SpecError, match="discrete updates"):
        engine.simulate(m, start=0, stop=2, dt=0.5, method="rk45")
    ds = engine.simulate(m, start=0, stop=2, dt=0.25)
    np.testing.assert_allclose(ds["population"].sel(time=2).values, [0, 0, 3])


def test_shifted_subscripts_make_a_chain():
    """x[stage - 1] reads the previous element (0 before the first): a conserving chain."""
    m = engine.Model("chain")
    m.dimension("stage", 5)
    m.stock("x", initial=0.0, dims="stage")
    m.param("entry", [2.0, 0, 0, 0, 0], dims="stage")
    m.flow("inflow", "x[stage - 1] * 0.5 + entry", into="x", dims="stage")
    m.flow("outflow", "x * 0.5", out_of="x", dims="stage")
    m.aux("next", "x[stage + 1]", dims="stage")
    ds = engine.simulate(m, start=0, stop=3, dt=1)
    x = np.zeros(5)
    for k in range(4):
        np.testing.assert_allclose(ds["x"].isel(time=k).values, x)
        np.testing.assert_allclose(ds["next"].isel(time=k).values, np.r_[x[1:], 0.0])
        x = x + np.r_[2.0, 0.5 * x[:-1]] - 0.5 * x
    with pytest.raises(SpecError, match="uses dimension .stage., which is not a dimension"):
        m2 = engine.Model("bad_shift")
        m2.dimension("stage", 3)
        m2.param("y", [1, 2, 3], dims="stage")
        m2.aux("z", "y[stage - 1]")
        engine.simulate(m2, start=0, stop=1, dt=1)


def test_variables_reading_limited_outflows_see_the_limited_values():
    m = engine.Model("limited")
    m.stock("tank", initial=3, non_negative=True)
    m.stock("a_sink", initial=0)
    m.stock("b_sink", initial=0)
    m.flow("to_a", "2", out_of="tank", into="a_sink")
    m.flow("to_b", "2", out_of="tank", into="b_sink")
    m.aux("total_out", "to_a + to_b")
    ds = engine.simulate(m, start=0, stop=2, dt=1)
    np.testing.assert_allclose(ds["total_out"].values, [3, 0, 0])
    np.testing.assert_allclose(ds["to_a"].values, [1.5, 0, 0])
    np.testing.assert_allclose(ds["tank"].values, [3, 0, 0])


# ---------------------------------------------------------------------------- Runner


def _same_dataset(a: xr.Dataset, b: xr.Dataset) -> None:
    """Identical to the last bit: names, dims, coordinates, attrs and values."""
    xr.testing.assert_identical(a, b)
    for name in a.variables:
        left, right = a[name].values, b[name].values
        if left.dtype == object:  # element names: the strings, not their addresses
            assert left.tolist() == right.tolist(), name
        else:
            assert left.tobytes() == right.tobytes(), name


@pytest.mark.parametrize("method, dt", [("euler", 0.125), ("rk4", 0.5), ("rk45", None)])
def test_runner_gives_the_bits_of_simulate(teacup, method, dt):
    times = {"start": 0, "stop": 30, "dt": dt, "saveper": 1.0, "method": method}
    params = {"characteristic_time": 7.25}
    runner = engine.Runner(teacup, **times)
    _same_dataset(runner.run(params), engine.simulate(teacup, params=params, **times))
    _same_dataset(runner.run(), engine.simulate(teacup, **times))
    data = runner.run_arrays(params)  # columns: the stock, then the flow (parameters: none)
    assert runner.names == [
        "room_temperature",
        "characteristic_time",
        "teacup_temperature",
        "heat_loss",
    ]
    ds = runner.run(params)
    assert data.tobytes() == np.column_stack([ds["teacup_temperature"], ds["heat_loss"]]).tobytes()
    assert np.array_equal(runner.times, runner.run()["time"].values)


def test_runner_runs_many_times_without_compiling_again(teacup, monkeypatch):
    from engine import simulation

    values = [5.0, 7.5, 12.0, 20.0]
    expected = [
        engine.simulate(teacup, start=0, stop=10, dt=0.25, params={"characteristic_time": v})
        for v in values
    ]
    runner = engine.Runner(teacup, start=0, stop=10, dt=0.25)
    result = runner.result

    def no_compile(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(simulation, "compile_model", no_compile)
    monkeypatch.setattr(simulation, "resolve_times", no_compile)
    monkeypatch.setattr(simulation, "output_layout", no_compile)
    for value, reference in zip(values, expected):
        _same_dataset(runner.run({"characteristic_time": value}), reference)
    assert runner.result is result
    assert runner.base.tobytes() == runner.parameters().tobytes() == result.p0.tobytes()
    # each run has its own arrays: an earlier result is not overwritten by a later run
    first = runner.run_arrays({"characteristic_time": 5.0})
    runner.run_arrays({"characteristic_time": 20.0})
    assert first[:, 0].tobytes() == expected[0]["teacup_temperature"].values.tobytes()


def test_runner_members_match_single_runs(teacup):
    runner = engine.Runner(teacup, start=0, stop=10, dt=0.5, outputs=["teacup_temperature"])
    rows = np.stack([runner.parameters({"characteristic_time": v}) for v in (4.0, 9.0, 16.0)])
    out, info = runner.run_members(rows)
    assert out.shape == (3, runner.times.size, 1)
    assert np.all(info[:, Info.STATUS] == Status.OK)
    for row, member in zip(rows, out):
        assert member.tobytes() == runner.run_arrays(row).tobytes()


def test_runner_members_in_several_kernel_calls(teacup):
    runner = engine.Runner(teacup, start=0, stop=10, dt=0.5, outputs=["teacup_temperature"])
    values = np.linspace(3.0, 20.0, 7)
    rows = np.stack([runner.parameters({"characteristic_time": v}) for v in values])
    whole, info = runner.run_members(rows)
    for block in (1, 2, 3, 7, 50):
        out, parts = runner.run_members(rows, block=block)
        assert out.tobytes() == whole.tobytes() and parts.tobytes() == info.tobytes()


def test_runner_members_into_a_given_block_overwrite_every_value(teacup):
    """run_members(out=...): a block already holding other values (a buffer reused across an
    ensemble's chunks) ends with the same bytes as a new one; a wrong block is refused."""
    runner = engine.Runner(teacup, start=0, stop=10, dt=0.5)
    values = np.linspace(3.0, 20.0, 5)
    rows = np.stack([runner.parameters({"characteristic_time": v}) for v in values])
    fresh, info = runner.run_members(rows, block=2)
    for stale in (np.nan, -7.5, np.inf):
        block = np.full(fresh.shape, stale)
        out, again = runner.run_members(rows, block=2, out=block)
        assert out is block
        assert out.tobytes() == fresh.tobytes() and again.tobytes() == info.tobytes()
    for wrong in (
        np.empty((4, *fresh.shape[1:])),
        np.empty(fresh.shape, dtype=np.float32),
        np.empty(fresh.shape[::-1]).T,
    ):
        with pytest.raises(ValueError, match="out must be"):
            runner.run_members(rows, out=wrong)


def test_runner_checks_params_as_set_value_does(teacup):
    runner = engine.Runner(teacup, start=0, stop=1, dt=0.5)
    for name, value in [
        ("characteristic_time", -1.0),
        ("room_temperature", float("nan")),
        ("characteristic_tim", 1.0),
        ("heat_loss", 1.0),
        ("room_temperature", "warm"),
        ("room_temperature", [1.0, 2.0]),
    ]:
        with pytest.raises(ParameterError) as raised:
            runner.run({name: value})
        model = teacup_model()
        with pytest.raises(ParameterError) as reference:
            model.set_value(name, value)
        assert str(raised.value) == str(reference.value)
    with pytest.raises(ParameterError, match="mapping"):
        runner.run([("room_temperature", 1.0)])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="shape"):
        runner.run(np.zeros(1))


def test_runner_is_a_snapshot_of_the_model():
    model = teacup_model()
    runner = engine.Runner(model, start=0, stop=5, dt=1)
    before = runner.run_arrays()
    model.set_value("room_temperature", 20.0)
    assert runner.run_arrays().tobytes() == before.tobytes()
    fresh = engine.Runner(model, start=0, stop=5, dt=1).run()
    assert float(fresh["room_temperature"]) == 20.0
    _same_dataset(fresh, engine.simulate(model, start=0, stop=5, dt=1))


def test_runner_pickles_as_its_configuration(teacup):
    import pickle

    runner = engine.Runner(teacup, start=0, stop=5, dt=0.5, method="rk4")
    clone = pickle.loads(pickle.dumps(runner))
    assert clone.run_arrays().tobytes() == runner.run_arrays().tobytes()
    assert runner.result is not None  # the original keeps its compiled kernels


def test_runner_refuses_what_simulate_refuses(teacup):
    with pytest.raises(SpecError, match="unknown method"):
        engine.Runner(teacup, start=0, stop=1, dt=0.5, method="heun")
    with pytest.raises(ParameterError, match="rtol"):
        engine.Runner(teacup, start=0, stop=1, dt=0.5, method="rk45", rtol=0)
    with pytest.raises(SpecError, match="does not divide"):
        engine.Runner(teacup, start=0, stop=1, dt=0.3)


def test_output_runs_are_the_maximal_runs_of_the_columns():
    """The copy runs cover every column once, in order, each run one kind with consecutive
    indices, and no two neighbouring runs could be one (so each is as long as it can be)."""
    from engine.simulation import output_runs

    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        kinds = rng.integers(0, 6, n).astype(np.int64)
        idx = (np.cumsum(rng.integers(0, 3, n)) - int(rng.integers(0, 3))).astype(np.int64)
        runs = output_runs(kinds, idx)
        assert runs.dtype == np.int64 and runs.shape == (runs.shape[0], 4)
        assert runs[:, 3].sum() == n and (runs[:, 3] > 0).all()
        np.testing.assert_array_equal(runs[:, 2], np.cumsum(runs[:, 3]) - runs[:, 3])
        np.testing.assert_array_equal(np.repeat(runs[:, 0], runs[:, 3]), kinds)
        rebuilt = [i + k for _kind, i, _column, length in runs.tolist() for k in range(length)]
        np.testing.assert_array_equal(rebuilt, idx)
        for one, two in zip(runs[:-1].tolist(), runs[1:].tolist()):
            assert one[0] != two[0] or one[1] + one[3] != two[1]


def test_compiled_model_keeps_bounded_caches_of_run_preparation(teacup):
    """A Runner's layout, output flags and settings are kept on the compiled model's own
    fields (not in its ``__dict__`` by name), each cache bounded, the least recently used
    entry dropped first."""
    from engine.compiler.loading import Memo

    times = {"start": 0.0, "stop": 10.0, "dt": 0.25}
    runner = engine.Runner(teacup, outputs=["teacup_temperature"], **times)
    result = runner.result
    assert not {"_flags", "_layouts", "_settings"} & set(vars(result))
    key = (runner.kinds.tobytes(), runner.idx.tobytes())
    assert result.flags.get(key) is runner._flags
    assert result.layouts.get(("teacup_temperature",)) is not None
    again = engine.Runner(teacup, outputs=["teacup_temperature"], **times)
    assert again._flags is runner._flags  # worked out once
    memo = Memo(3)
    for k in range(4):
        memo.put(k, str(k))
        if k == 2:
            assert memo.get(0) == "0"  # 0 now the most recently used: 1 goes first
    assert len(memo) == 3 and memo.get(1) is None
    assert [memo.get(k) for k in (0, 2, 3)] == ["0", "2", "3"]


def _delayed_blowup():
    """A stock, a fixed delay of it (discrete state ``z``) and a rate that is non-finite at
    time ``threshold`` when that falls on a step."""
    m = engine.Model("delayed_blowup")
    m.param("threshold", 100.0)
    m.param("k", 0.1)
    m.stock("x", initial=1)
    m.aux("lagged", "delay_fixed(x, 2, 0.5)")
    m.aux("rate", "k * lagged + 1 / (threshold - time)")
    m.flow("f", "rate", into="x")
    return m


def test_runner_work_arrays_are_restored_every_run():
    # A Runner reuses its work arrays (y, a, z, info): each run, after a failed one too, gives
    # the values of a run of a new Runner, bit for bit.
    m = _delayed_blowup()
    runner = engine.Runner(m, start=0, stop=8, dt=0.5)
    cases = [{"k": 0.1}, {"k": 0.3}, {"threshold": 4.0}, {"k": 0.1}, {"k": 0.3}]
    for params in cases:
        fresh = engine.Runner(m, start=0, stop=8, dt=0.5)
        if "threshold" in params:
            with pytest.raises(IntegrationError, match=r"'rate' is non-finite at time 4"):
                runner.run_arrays(params)
            with pytest.raises(IntegrationError, match=r"'rate' is non-finite at time 4"):
                fresh.run_arrays(params)
            continue
        got = runner.run_arrays(params)
        np.testing.assert_array_equal(got, fresh.run_arrays(params))
        assert got is not runner.run_arrays(params)  # a new output array every run
    assert len(runner._pool) == 1


def test_runner_does_not_need_numpy_error_state():
    # The kernels are numba code: numpy's floating-point error state does not reach them, so a
    # run needs no np.errstate, and a failure is an IntegrationError even when numpy raises.
    m = _delayed_blowup()
    runner = engine.Runner(m, start=0, stop=8, dt=0.5)
    expected = runner.run_arrays()
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(runner.run_arrays(), expected)
        with pytest.raises(IntegrationError, match=r"'rate' is non-finite at time 4"):
            runner.run_arrays({"threshold": 4.0})


def test_runner_shared_between_threads():
    from concurrent.futures import ThreadPoolExecutor

    m = _delayed_blowup()
    runner = engine.Runner(m, start=0, stop=8, dt=0.5)
    ks = np.linspace(0.0, 0.5, 64)
    expected = [engine.Runner(m, start=0, stop=8, dt=0.5).run_arrays({"k": k}) for k in ks]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            got = list(pool.map(lambda k: runner.run_arrays({"k": k}), ks))
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
    assert 1 <= len(runner._pool) <= 4


def test_runner_takes_a_strided_parameter_vector():
    m = _delayed_blowup()
    runner = engine.Runner(m, start=0, stop=8, dt=0.5)
    p = runner.parameters({"k": 0.2})
    strided = np.zeros((p.size, 3))
    strided[:, 1] = p
    np.testing.assert_array_equal(runner.run_arrays(strided[:, 1]), runner.run_arrays(p))


def test_rk45_runner_starts_every_run_from_its_first_step():
    # rk45 reads its first step from info and writes the steps it took there: a reused info
    # must be restored, or a second run would start from another step and differ.
    m = engine.Model("decay45")
    m.param("k", 0.7)
    m.stock("x", initial=1)
    m.flow("loss", "k * x * (1 + 0.5 * sin(3 * time))", out_of="x")
    runner = engine.Runner(m, start=0, stop=10, dt=0.25, method="rk45", rtol=1e-4)
    first = runner.run_arrays()
    for _ in range(2):
        np.testing.assert_array_equal(runner.run_arrays(), first)
    fresh = engine.Runner(m, start=0, stop=10, dt=0.25, method="rk45", rtol=1e-4)
    np.testing.assert_array_equal(fresh.run_arrays(), first)


def test_default_outputs_saved_written_out_as_by_the_runs_table():
    # A small model's Euler kernel saves its default outputs by copies written into it
    # (chosen once per run, when the run's copy runs are the default ones); other outputs go
    # through the runs table (engine.kernels._save). Same bits, same failures.
    m = subscripted_model()
    assert "    default = runs.shape[0] == " in engine.simulation.compiled(m).source
    every = engine.Runner(m, start=0, stop=3, dt=0.25)
    reversed_ = engine.Runner(m, start=0, stop=3, dt=0.25, outputs=every.names[::-1])
    assert not np.array_equal(every._runs, reversed_._runs)
    ds, other = every.run(), reversed_.run()
    for name in every.names:
        np.testing.assert_array_equal(ds[name].values, other[name].values)
    blowup = engine.Model("blowup")
    blowup.param("threshold", 3)
    blowup.stock("x", initial=1)
    blowup.aux("rate", "1 / (threshold - time)")
    blowup.flow("f", "rate", into="x")
    for outputs in (None, ["rate", "x"]):
        with pytest.raises(IntegrationError, match=r"'rate' is non-finite at time 3"):
            engine.Runner(blowup, start=0, stop=5, dt=1, outputs=outputs).run()
    # the element at fault in a block of several (a copy loop of assembly._default_save)
    regions = engine.Model("regions_blowup")
    regions.dimension("region", ["north", "south", "east"])
    regions.param("threshold", [10.0, 3.0, 10.0], dims="region")
    regions.stock("x", initial=1, dims="region")
    regions.aux("rate", "1 / (threshold[region] - time)", dims="region")
    regions.flow("f", "rate[region]", into="x", dims="region")
    messages = []
    for outputs in (None, ["rate", "x"]):
        with pytest.raises(IntegrationError, match=r"non-finite at time 3") as info:
            engine.Runner(regions, start=0, stop=5, dt=1, outputs=outputs).run()
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "south" in messages[0]


def test_default_outputs_save_of_no_columns_and_of_columns_that_may_be_nan(tmp_path):
    # The written-out save's edge cases (conformance model_doc and test_na): no output
    # columns (only parameters), and outputs that may all be NaN (an explicit :NA:).
    consts = engine.Model("consts")
    consts.param("k", 2.0)
    assert float(engine.simulate(consts, start=0, stop=2, dt=1)["k"]) == 2.0
    (tmp_path / "na.mdl").write_text(
        "variable = IF THEN ELSE(Time > 5, :NA:, Time)\n ~ ~ |\n"
        "FINAL TIME = 10\n ~ Month ~ |\nINITIAL TIME = 0\n ~ Month ~ |\n"
        "SAVEPER = TIME STEP\n ~ Month ~ |\nTIME STEP = 1\n ~ Month ~ |\n"
    )
    values = engine.simulate(engine.load(tmp_path / "na.mdl"))["variable"].values
    np.testing.assert_array_equal(values[:6], np.arange(6.0))
    assert np.isnan(values[6:]).all()


def test_a_runs_variables_are_what_xarrays_constructor_makes(monkeypatch):
    """engine.frame sets a run's Variables' slots directly (issue 18: per-run overhead): the
    Dataset is identical, bit for bit, to the one made with xarray's constructor, and its
    variables behave as xarray's own (copies, attrs of their own, encoding, pickling)."""
    import pickle

    from engine import frame

    m = engine.Model("framed")
    m.dimension("region", ["north", "south"])
    m.param("rate", [0.1, 0.2], dims="region", units="1/year")
    m.param("first", [100.0, 50.0], dims="region", units="person")
    m.stock("people", initial="first", dims="region", units="person")
    m.flow("growth", "rate * people", into="people", dims="region", units="person/year")
    m.aux("total", "sum(people, 'region')", units="person")
    assert frame._VARIABLE is frame._slotted  # this xarray's Variable is the one it knows
    runner = engine.Runner(m, start=0, stop=3, dt=0.5)
    fast = runner.run()
    monkeypatch.setattr(frame, "_VARIABLE", frame._constructed)
    _same_dataset(fast, engine.Runner(m, start=0, stop=3, dt=0.5).run())
    for name, var in fast.variables.items():
        assert var.encoding == {}, name
        assert isinstance(var.attrs, dict)
    again = runner.run()
    again["people"].attrs["units"] = "changed"
    assert fast["people"].attrs["units"] == "person"  # each run's attrs are its own
    _same_dataset(pickle.loads(pickle.dumps(fast)), fast)
    doubled = fast["people"] * 2
    assert np.array_equal(doubled.values, 2 * fast["people"].values)
    copy = fast.copy(deep=True)
    copy["people"].values[0, 0] = -1.0
    assert fast["people"].values[0, 0] == 100.0


def test_variables_are_made_by_the_constructor_when_xarray_changes(monkeypatch):
    from engine import frame

    class Changed(xr.Variable):
        __slots__ = ("_extra",)

    monkeypatch.setattr(frame.xr, "Variable", Changed)
    assert frame._variable_maker() is frame._constructed
