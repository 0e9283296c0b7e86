"""Hostile and faulty inputs of issue 11 (D10-D13, D16-D18, D20): each is refused with an
EngineError naming the element and a fix, or gives the right numbers; none runs past a limit,
hangs, or surfaces as a raw Python exception."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import EngineError, IntegrationError, ParameterError, SpecError, StoreError
from engine.cli import main

METHODS = ("euler", "rk4", "rk45")

CONTROL = """INITIAL TIME = 0
\t~\t~\t|
FINAL TIME = 4
\t~\t~\t|
TIME STEP = 1
\t~\t~\t|
SAVEPER = TIME STEP
\t~\t~\t|
"""


def write_mdl(folder: Path, name: str, equations: str) -> Path:
    """A Vensim file of ``equations`` (``name = expression`` lines) and the run settings."""
    lines = ["{UTF-8}"]
    for line in equations.strip().splitlines():
        lines += [line.strip(), "\t~\t~\t|"]
    path = folder / name
    path.write_text("\n".join(lines) + "\n" + CONTROL)
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("corridor: error:") and "\n" not in err, err
    return err


# ---------------------------------------------------------------------------------- D10


@pytest.mark.parametrize("method", METHODS)
def test_d10_rate_stock_is_held_at_zero_under_every_method(method):
    m = engine.Model("d10_rate", time_unit="year")
    m.stock("s", initial=10.0, rate="-100", non_negative=True)
    ds = engine.simulate(m, start=0, stop=3, dt=1, method=method)
    np.testing.assert_array_equal(ds["s"].values, [10.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("method", METHODS)
def test_d10_negative_inflow_cannot_drain_a_non_negative_stock(method):
    # A negative inflow is an outflow: it is limited to what the stock holds (Stella's rule),
    # and the flow itself is limited, so what leaves `a` arrives in `b`.
    m = engine.Model("d10_inflow", time_unit="year")
    m.stock("a", initial=10.0, non_negative=True)
    m.stock("b", initial=0.0)
    m.flow("transfer", "-100", out_of="b", into="a")
    ds = engine.simulate(m, start=0, stop=3, dt=1, method=method)
    a = ds["a"].values
    assert np.all(a >= 0.0), a
    np.testing.assert_allclose(a + ds["b"].values, 10.0, rtol=0, atol=1e-9)
    if method == "euler":
        np.testing.assert_array_equal(a, [10.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("method", METHODS)
def test_d10_outflows_come_before_negative_inflows(method):
    m = engine.Model("d10_both", time_unit="year")
    m.stock("a", initial=10.0, non_negative=True)
    m.stock("b", initial=0.0)
    m.stock("c", initial=0.0)
    m.flow("use", "8", out_of="a", into="c")
    m.flow("transfer", "-100", out_of="b", into="a")
    ds = engine.simulate(m, start=0, stop=2, dt=1, method=method)
    assert np.all(ds["a"].values >= 0.0)
    total = ds["a"].values + ds["b"].values + ds["c"].values
    np.testing.assert_allclose(total, 10.0, rtol=0, atol=1e-9)
    if method == "euler":  # the outflow takes 8 of the 10; the negative inflow gets the rest
        np.testing.assert_array_equal(ds["c"].values, [0.0, 8.0, 8.0])
        np.testing.assert_array_equal(ds["b"].values, [0.0, 2.0, 2.0])


def test_d10_vensim_integ_stock_stays_non_negative_under_rk45(tmp_path):
    # XMILE non-negative stocks map to stocks given a rate, the case rk45 left unclamped
    path = tmp_path / "nonneg.xmile"
    path.write_text("""<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
<header><vendor>test</vendor><product version="1">test</product></header>
<sim_specs><start>0</start><stop>3</stop><dt>1</dt></sim_specs>
<model><variables>
<stock name="s"><eqn>10</eqn><outflow>drain</outflow><non_negative/></stock>
<flow name="drain"><eqn>100</eqn></flow>
</variables></model></xmile>""")
    model = engine.load(path)
    for method in METHODS:
        values = engine.simulate(model, method=method)["s"].values
        assert np.all(values >= 0.0) and values[-1] == 0.0, (method, values)


# ---------------------------------------------------------------------------------- D11


@pytest.mark.parametrize(
    "equations, first, second",
    [
        ("x = 1\nx = 2", "'x'", "'x'"),
        ("k = 1\ns = INTEG(k, 0)\ns = INTEG(-k, 1)", "'s'", "'s'"),
        ("Foo Bar = 3\nfoo_bar = 4", "'Foo Bar'", "'foo_bar'"),
        ("Sub: a1, a2\ny[Sub] = 1\ny[a1] = 2", "'y[Sub]'", "'y[a1]'"),
    ],
)
def test_d11_duplicate_vensim_definitions_are_refused(tmp_path, equations, first, second):
    path = write_mdl(tmp_path, "dup.mdl", equations)
    with pytest.raises(SpecError, match="defined twice") as info:
        engine.load(path)
    message = str(info.value)
    assert first in message and second in message and "remove one" in message


def test_d11_element_by_element_definitions_still_load(tmp_path):
    path = write_mdl(
        tmp_path,
        "elements.mdl",
        """
        Sub: a1, a2, a3
        y[a1] = 1
        y[a2] = 2
        z[Sub] :EXCEPT: [a1] = 5
        z[a1] = 4
        s[a1] = INTEG(y[a1], 0)
        s[a2] = INTEG(y[a2], 1)
        s[a3] = INTEG(0, 2)
    """,
    )
    ds = engine.simulate(engine.load(path))
    np.testing.assert_array_equal(ds["z"].values, [4, 5, 5])
    np.testing.assert_array_equal(ds["s"].sel(time=4).values, [4, 9, 2])


# ---------------------------------------------------------------------------------- D12


def test_d12_delay_fixed_longer_than_the_run_holds_its_initial_value():
    m = engine.Model("d12_long", time_unit="year")
    m.aux("x", "time")
    m.aux("y", "delay_fixed(x, 1e19, -1)")
    ds = engine.simulate(m, start=0, stop=5, dt=1)
    np.testing.assert_array_equal(ds["y"].values, -1.0)


def test_d12_delay_fixed_with_nan_delay_is_an_error():
    m = engine.Model("d12_nan", time_unit="year")
    m.aux("x", "time")
    m.aux("y", "delay_fixed(x, sqrt(0 - 1), -1)")
    with pytest.raises(IntegrationError, match="'y'"):
        engine.simulate(m, start=0, stop=5, dt=1, outputs=["y"])
    bad = engine.Model("d12_negative", time_unit="year")
    bad.aux("x", "time")
    with pytest.raises(SpecError, match="delay time of a fixed delay"):
        bad.aux("y", "delay_fixed(x, -3, 0)")


# ---------------------------------------------------------------------------------- D13


def test_d13_orders_are_capped_with_a_named_error(tmp_path):
    m = engine.Model("d13", time_unit="year")
    m.aux("x", "time")
    began = time.perf_counter()
    with pytest.raises(SpecError, match=r"'y'.*above the maximum of 1000"):
        m.aux("y", "smooth_n(x, 1, 1, 100000)")
    with pytest.raises(SpecError, match="whole number from 1 to 1000"):
        m.smooth("z", "x", 1, order=np.int64(-2))
    with pytest.raises(SpecError, match="positive integer"):
        m.delay("w", "x", 1, order=float("nan"))  # type: ignore[arg-type]
    path = write_mdl(tmp_path, "order.mdl", "x = 1\ny = DELAY N(x, 10, x, 1e12)")
    with pytest.raises(SpecError, match="above the maximum of 1000"):
        engine.load(path)
    assert time.perf_counter() - began < 30


def test_d13_model_files_are_checked_before_reading(tmp_path):
    device = tmp_path / "zero.mdl"
    device.symlink_to("/dev/zero")
    with pytest.raises(SpecError, match="not a regular file"):
        engine.load(device)
    huge = tmp_path / "huge.mdl"
    with huge.open("wb") as handle:  # sparse: no disk used
        handle.truncate(65 * 2**20)
    with pytest.raises(SpecError, match="64 MiB"):
        engine.load(huge)
    folder = tmp_path / "folder.mdl"
    folder.mkdir()
    with pytest.raises(SpecError, match="is a directory"):
        engine.load(folder)


# ---------------------------------------------------------------------------------- D16


def test_d16_dt_must_divide_the_horizon(teacup):
    with pytest.raises(SpecError, match=r"dt=0.3 does not divide.*end at 1.2.*e\.g\. 0\.25"):
        engine.simulate(teacup, start=0, stop=1, dt=0.3)
    with pytest.raises(SpecError, match="saveper=0.3 does not divide"):
        engine.simulate(teacup, start=0, stop=1, saveper=0.3, method="rk45")
    with pytest.raises(SpecError, match="not a whole multiple of dt"):
        engine.simulate(teacup, start=0, stop=1, dt=0.25, saveper=0.3)
    ds = engine.simulate(teacup, start=0, stop=0.9, dt=0.3)
    assert ds["time"].values[-1] == pytest.approx(0.9)


# ---------------------------------------------------------------------------------- D17


def test_d17_saltelli_needs_a_minimum_n(teacup, capsys):
    priors = {"characteristic_time": ("uniform", 5, 15)}
    with pytest.raises(ParameterError, match=r"n >= 4"):
        engine.run_ensemble(
            teacup, n=1, seed=0, design="saltelli", priors=priors, start=0, stop=2, dt=1
        )
    assert main(["sweep", "example", "-n", "1", "--design", "saltelli", "--quiet"]) == 1
    assert "n >= 4" in one_line_error(capsys)


def test_d17_unresolved_sobol_indices_warn(teacup):
    priors = {"characteristic_time": ("uniform", 5, 15), "room_temperature": ("uniform", 60, 80)}
    with pytest.warns(UserWarning, match="not resolved"):
        tree = engine.run_ensemble(
            teacup,
            n=4,
            seed=0,
            design="saltelli",
            priors=priors,
            start=0,
            stop=4,
            dt=1,
            progress=False,
        )
    assert tree["sensitivity/all"].attrs["unresolved"] > 0


# ---------------------------------------------------------------------------------- D18


@pytest.mark.parametrize(
    "times, match",
    [
        ({"start": "0"}, "start='0' is not a number"),
        ({"stop": float("nan")}, "stop=nan is not a finite number"),
        ({"dt": float("inf")}, "dt=inf is not a finite number"),
        ({"start": [0]}, r"start=\[0\] is not a number"),
    ],
)
def test_d18_times_must_be_finite_numbers(teacup, times, match):
    kwargs = {"start": 0, "stop": 2, "dt": 1, **times}
    with pytest.raises(SpecError, match=match):
        engine.simulate(teacup, **kwargs)


def test_d18_params_must_be_a_mapping_of_numbers(teacup):
    with pytest.raises(ParameterError, match="must be a mapping"):
        engine.simulate(teacup, start=0, stop=2, dt=1, params=[("room_temperature", 1)])
    with pytest.raises(ParameterError, match="'room_temperature'.*not a number"):
        engine.simulate(teacup, start=0, stop=2, dt=1, params={"room_temperature": "warm"})
    with pytest.raises(ParameterError, match="must be a mapping"):
        engine.run_ensemble(
            teacup,
            n=2,
            seed=0,
            params=["room_temperature"],
            priors={"characteristic_time": ("uniform", 5, 15)},
            start=0,
            stop=2,
            dt=1,
        )


def test_d18_outputs_must_be_names(teacup):
    for outputs in (5, [5], [["teacup_temperature"]]):
        with pytest.raises(SpecError, match="outputs must be"):
            engine.simulate(teacup, start=0, stop=2, dt=1, outputs=outputs)


def test_d18_directory_or_unknown_name_as_model(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 1
    assert "is a directory, not a model" in one_line_error(capsys)
    folder = tmp_path / "model.mdl"
    folder.mkdir()
    assert main(["run", str(folder)]) == 1
    assert "is a directory" in one_line_error(capsys)


def test_d18_only_bundled_models_are_imported(capsys):
    sys.modules.pop("models.data.build_wpp", None)
    assert main(["run", "data.build_wpp"]) == 1
    assert "unknown model 'data.build_wpp'" in one_line_error(capsys)
    assert "models.data.build_wpp" not in sys.modules
    assert main(["run", "demography", "--scenario", "baseline"]) == 1
    assert "has no scenarios" in one_line_error(capsys)


def test_d18_unwritable_out_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    def no_run(*args, **kwargs):
        raise AssertionError("the model ran before --out was checked")

    monkeypatch.setattr(engine, "simulate", no_run)
    assert main(["run", "example", "--out", "/proc/corridor-test/x.csv"]) == 1
    assert "does not exist" in one_line_error(capsys)
    assert main(["run", "example", "--out", "/proc/x.csv"]) == 1
    assert "not writable" in one_line_error(capsys)
    assert main(["run", "example", "--out", str(tmp_path)]) == 1
    assert "is a directory" in one_line_error(capsys)
    assert main(["run", "example", "--out", str(tmp_path / "x.txt")]) == 1
    assert "unknown format '.txt'" in one_line_error(capsys)
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["run", "example", "--out", str(locked / "x.csv")]) == 1
        assert "not writable" in one_line_error(capsys)


def test_d18_existing_outputs_are_never_overwritten(tmp_path, capsys):
    store = tmp_path / "run.nc"
    assert main(["run", "example", "--stop", "2025", "--out", str(store), "--quiet"]) == 0
    figures = tmp_path / "figs"
    figures.mkdir()
    (figures / "fan_diaspora.png").write_text("keep me")
    assert (
        main(
            [
                "plot",
                str(store),
                "-v",
                "diaspora",
                "--out",
                str(figures),
                "--format",
                "png",
                "--quiet",
            ]
        )
        == 1
    )
    assert "fan_diaspora.png" in one_line_error(capsys)
    assert (figures / "fan_diaspora.png").read_text() == "keep me"
    assert main(["plot", str(store), "-v", "diaspora", "--out", str(store), "--quiet"]) == 1
    assert "is a file, not a folder" in one_line_error(capsys)
    assert (
        main(
            [
                "plot",
                str(store),
                "-v",
                "diaspora",
                "--out",
                str(figures),
                "--format",
                "png",
                "--overwrite",
                "--quiet",
            ]
        )
        == 0
    )
    assert (figures / "fan_diaspora.png").read_bytes().startswith(b"\x89PNG")
    for command in ("report", "export"):
        assert main([command, str(store), "--out", str(figures), "--overwrite", "--quiet"]) == 1
        assert "is a directory" in one_line_error(capsys)


def test_d18_scenarios_are_checked():
    corridor = pytest.importorskip("models.corridor")
    with pytest.raises(ParameterError, match="unknown scenario 'nope'"):
        corridor.load_scenario("nope")
    m = engine.Model("scenario_values", time_unit="year")
    m.dimension("region", ["A", "B"])
    m.param("lever", 0.5, bounds=(0, 1), dims=("region",))
    for value, match in (
        ("high", "not a number"),
        (float("nan"), "must be finite"),
        ({"A": "high"}, "not a number"),
        ({"A": float("nan")}, "must be finite"),
        (["0.5", 1], "not a number"),
    ):
        with pytest.raises(ParameterError, match=match):
            corridor.set_param(m, "lever", value)
    np.testing.assert_array_equal(m["lever"].value, [0.5, 0.5])


def test_d18_scenario_file_with_bad_values(tmp_path):
    corridor = pytest.importorskip("models.corridor")
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nparams = "not a table"\n')
    with pytest.raises(ParameterError, match="'params' must be a table"):
        corridor.load_scenario(str(path))
    path.write_text("name = [unclosed\n")
    with pytest.raises(ParameterError, match="not valid TOML"):
        corridor.load_scenario(str(path))


# ---------------------------------------------------------------------------------- D20


def test_d20_sweep_whose_every_member_failed_exits_non_zero(tmp_path, capsys):
    path = write_mdl(tmp_path, "blowup.mdl", "k = 1\ns = INTEG(k * 1e308 * (1 + s), 1)")
    code = main(["sweep", str(path), "-n", "4", "--prior", "k=uniform,1,2", "--quiet"])
    assert code == 1
    assert "all 4 members failed" in one_line_error(capsys)


def test_d20_duplicate_priors_are_refused(teacup, capsys):
    priors = {"characteristic_time": ("uniform", 5, 15), " characteristic_time": ("uniform", 6, 16)}
    with pytest.raises(ParameterError, match="both for 'characteristic_time'"):
        engine.run_ensemble(teacup, n=2, seed=0, priors=priors, start=0, stop=2, dt=1)
    assert (
        main(
            [
                "sweep",
                "example",
                "-n",
                "2",
                "--prior",
                "network_effect=uniform,0,1",
                "--prior",
                "network_effect=uniform,0,2",
                "--quiet",
            ]
        )
        == 1
    )
    assert "given twice" in one_line_error(capsys)


def test_d20_cohort_shift_declared_twice_is_refused():
    m = engine.Model("ageing", time_unit="year")
    m.dimension("age", 3)
    m.stock("population", initial=1, dims="age")
    m.cohort_shift("population", "age")
    with pytest.raises(SpecError, match="already declared"):
        m.cohort_shift("population", "age")
    assert len(m.shifts) == 1


@pytest.mark.parametrize(
    "rtol, atol",
    [
        (-1, 1e-9),
        (0, 1e-9),
        (1e-6, float("nan")),
        (float("inf"), 1e-9),
        ("1e-6", 1e-9),
        (1e-20, 1e-9),
    ],
)
def test_d20_tolerances_are_checked(teacup, rtol, atol):
    with pytest.raises(ParameterError, match="rtol|atol"):
        engine.simulate(teacup, start=0, stop=2, method="rk45", rtol=rtol, atol=atol)
    with pytest.raises(ParameterError, match="rtol|atol"):
        engine.run_ensemble(
            teacup,
            n=2,
            seed=0,
            method="rk45",
            rtol=rtol,
            atol=atol,
            priors={"characteristic_time": ("uniform", 5, 15)},
            start=0,
            stop=2,
        )


def test_d20_rk45_overflow_is_reported_as_overflow():
    m = engine.Model("overflow", time_unit="year")
    m.stock("s", initial=1.0, rate="exp(s) * 1e300")
    with pytest.raises(IntegrationError, match="'s' became non-finite") as info:
        engine.simulate(m, start=0, stop=2, dt=0.1, method="rk45")
    assert "stiff" not in str(info.value) and info.value.variable == "s"


def test_d20_rk45_with_stop_equal_to_start_gives_the_initial_point(teacup):
    ds = engine.simulate(teacup, start=3, stop=3, method="rk45")
    np.testing.assert_array_equal(ds["time"].values, [3.0])
    assert float(ds["teacup_temperature"][0]) == 180.0


def test_d20_parse_errors_are_readable(tmp_path, capsys):
    path = write_mdl(tmp_path, "broken.mdl", "x = (1 +")
    with pytest.raises(SpecError) as info:
        engine.load(path)
    message = str(info.value)
    assert "bound method" not in message and "'(1 +'" in message
    assert main(["describe", str(path)]) == 1
    assert "bound method" not in one_line_error(capsys)


def test_d20_scenario_names_stay_in_the_scenarios_folder(tmp_path):
    corridor = pytest.importorskip("models.corridor")
    outside = tmp_path / "outside.toml"
    outside.write_text('name = "outside"\n[params]\n')
    sneaky = os.path.relpath(tmp_path / "outside", corridor.SCENARIO_DIR)
    with pytest.raises(ParameterError, match="unknown scenario"):
        corridor.load_scenario(sneaky)
    assert corridor.load_scenario(str(outside))["name"] == "outside"  # an explicit file


def test_d20_report_refuses_formats_it_does_not_write(tmp_path, teacup, capsys):
    from engine.report import export_table, write_report

    ds = engine.simulate(teacup, start=0, stop=2, dt=1)
    with pytest.raises(EngineError, match="unknown format '.pdf'"):
        write_report(ds, tmp_path / "x.pdf")
    with pytest.raises(EngineError, match="unknown format '.xls'"):
        export_table(ds, tmp_path / "x.xls")
    assert not (tmp_path / "x.pdf").exists()
    store = tmp_path / "run.nc"
    assert main(["run", "example", "--stop", "2025", "--out", str(store), "--quiet"]) == 0
    assert main(["report", str(store), "--out", str(tmp_path / "r.pdf"), "--quiet"]) == 1
    assert ".html" in one_line_error(capsys)


def test_d20_resume_check_includes_engine_and_numba_versions(teacup, tmp_path, monkeypatch):
    from engine import ensemble

    run = {
        "n": 2,
        "seed": 0,
        "priors": {"characteristic_time": ("uniform", 5, 15)},
        "start": 0,
        "stop": 2,
        "dt": 1,
        "progress": False,
    }
    _, _, config = ensemble.plan_ensemble(
        teacup, n=2, seed=0, priors=run["priors"], start=0, stop=2, dt=1
    )
    assert {"engine", "numba", "numpy"} <= set(config["versions"])
    store = tmp_path / "s.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        engine.run_ensemble(teacup, store=store, **run)
        versions = dict(ensemble._engine_versions(), numba="0.0.1")
        monkeypatch.setattr(ensemble, "_engine_versions", lambda: versions)
        with pytest.raises(StoreError, match="versions"):
            engine.run_ensemble(teacup, store=store, **run)
