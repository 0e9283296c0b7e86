"""The command line: each command end to end, and errors as one line with a non-zero exit."""

from __future__ import annotations

import json

import pytest

from engine import ParameterError
from engine.cli import main


def test_run_example_prints_a_summary(capsys):
    assert main(["run", "example", "--stop", "2030"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("example: 9 saves from 2022 to 2030 year")
    assert "diaspora" in out and "person" in out


def test_run_json_and_set(capsys):
    assert main(["run", "example", "--json", "--set", "return_rate=0.5", "--stop", "2025"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == "example" and summary["final"]["return_rate"] == 0.5


def test_describe_lists_units_bounds_priors(capsys):
    assert main(["describe", "example"]) == 0
    out = capsys.readouterr().out
    assert "base_emigration_rate (1/year) bounds [0, 0.1] prior ('uniform', 0.001, 0.004)" in out
    assert "stocks (2):" in out


def test_errors_are_one_line(capsys):
    assert main(["run", "example", "--set", "nope=1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("corridor: error: unknown parameter 'nope'") and "\n" not in err
    assert main(["run", "no_such_model"]) == 1
    assert "unknown model 'no_such_model'" in capsys.readouterr().err
    with pytest.raises(ParameterError):
        main(["--debug", "run", "example", "--set", "nope=1"])


def test_plot_report_export_from_a_stored_run(tmp_path, capsys):
    store = tmp_path / "run.nc"
    assert main(["run", "example", "--stop", "2040", "--out", str(store), "--quiet"]) == 0
    assert main(["run", "example", "--out", str(store), "--quiet"]) == 1  # never overwritten
    assert "exists" in capsys.readouterr().err
    assert (
        main(["plot", str(store), "-v", "diaspora", "--out", str(tmp_path / "figs"), "--quiet"])
        == 0
    )
    assert (tmp_path / "figs" / "fan_diaspora.png").exists()
    assert (tmp_path / "figs" / "fan_diaspora.svg").exists()
    assert main(["report", str(store), "--out", str(tmp_path / "r.html"), "--quiet"]) == 0
    assert "<img" in (tmp_path / "r.html").read_text()
    assert main(["export", str(store), "--out", str(tmp_path / "r.csv"), "--quiet"]) == 0
    assert (tmp_path / "r.csv").read_text().startswith("horizon,variable,units,time,value")


def test_sweep_writes_a_store_that_plot_and_report_read(tmp_path, capsys):
    store = tmp_path / "sweep.zarr"
    assert (
        main(
            [
                "sweep",
                "example",
                "-n",
                "16",
                "--seed",
                "3",
                "--store",
                str(store),
                "--output",
                "diaspora",
                "--stop",
                "2050",
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary == {
        "model": "example",
        "members": 16,
        "failed": 0,
        "horizons": summary["horizons"],
        "store": str(store),
    }
    assert set(summary["horizons"]) >= {"short", "medium", "long"}
    assert (
        main(
            [
                "plot",
                str(store),
                "-v",
                "diaspora",
                "--out",
                str(tmp_path / "f"),
                "--format",
                "png",
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "f" / "fan_diaspora.png").exists()
    assert main(["report", str(store), "--out", str(tmp_path / "r.html"), "--quiet"]) == 0
    assert main(["sweep", "example", "-n", "0", "--quiet"]) == 1
    assert main(["sweep", "example", "-n", "4", "--prior", "bogus=uniform,0,1", "--quiet"]) == 1
    assert "bogus" in capsys.readouterr().err


def test_sensitivity_sweep_plots_sobol_bars(tmp_path):
    store = tmp_path / "sobol.zarr"
    assert (
        main(
            [
                "sweep",
                "example",
                "-n",
                "8",
                "--design",
                "saltelli",
                "--store",
                str(store),
                "--output",
                "diaspora",
                "--stop",
                "2030",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "plot",
                str(store),
                "--sensitivity",
                "diaspora",
                "--out",
                str(tmp_path / "f"),
                "--format",
                "svg",
                "--quiet",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "f").glob("sobol_*.svg"))
    assert main(["plot", str(store), "--sensitivity", "nothing", "--quiet"]) == 1


@pytest.fixture
def tiny_model(monkeypatch):
    """The tiny migration model of tests/tiny.py, registered by name for the command line."""
    from engine import registry
    from tests import tiny

    monkeypatch.setitem(registry._BUILTIN, "tiny", tiny.build)
    return tiny


def test_run_prints_the_headline_per_region(tiny_model, capsys):
    assert main(["run", "tiny", "--scenario", "high", "--years", "2030", "2040"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "model tiny - scenario high (High mobility) - years 2030, 2040"
    for region in ("North", "South", "all regions"):
        assert any(line.startswith(region) for line in lines)
    for name in (
        "population (millions)",
        "immigration",
        "emigration",
        "net_migration",
        "migrant_stock",
        "births",
        "deaths",
    ):
        assert name in out
    assert main(["run", "tiny", "--region", "South", "--years", "2030", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "tiny" and data["scenario"] == "low" and data["years"] == [2030.0]
    (row,) = data["rows"]
    import engine

    ds = engine.simulate(tiny_model.build("low"))
    expected = float(ds["population"].sel(time=2030.0, region="South").sum())
    assert row["region"] == "South" and row["population"] == pytest.approx(expected)


def test_run_errors_name_the_nearest_with_a_suggestion(tiny_model, capsys):
    assert main(["run", "tiny", "--region", "Nrth"]) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown region 'Nrth'" in err and "Did you mean 'North'" in err and "\n" not in err
    assert main(["run", "tiny", "--years", "2030.5"]) == 1
    assert "nearest saved times are 2030 and 2031" in capsys.readouterr().err
    assert main(["run", "tiny", "--scenario", "hihg"]) == 1
    assert "Did you mean 'high'" in capsys.readouterr().err


def test_scenarios_listed_and_described(tiny_model, capsys):
    assert main(["scenarios", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "high" in out and "High mobility" in out and "low" in out
    assert main(["describe", "tiny", "--scenario", "high"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("scenario high: High mobility")
    assert "emigration_rate = {'North': 0.004, 'South': 0.02} (1/year)" in out
    assert main(["scenarios", "example"]) == 0
    assert "has no scenarios" in capsys.readouterr().out


def test_sweep_years_and_a_pyramid_of_a_year_not_saved(tiny_model, tmp_path, capsys):
    store = str(tmp_path / "t.zarr")
    assert (
        main(
            [
                "sweep",
                "tiny",
                "-n",
                "4",
                "--seed",
                "1",
                "--store",
                store,
                "--quiet",
                "--stop",
                "2060",
                "--years",
                "2043",
                "--output",
                "population",
            ]
        )
        == 0
    )
    import engine

    assert 2043.0 in engine.open_store(store)["long"]["time"].values
    out = str(tmp_path / "figs")
    assert main(["plot", store, "--pyramid", "2043", "--out", out, "--quiet"]) == 0
    assert main(["plot", store, "--pyramid", "2052", "--out", out, "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "time 2052 was not saved; the nearest saved times are 2050 and 2055" in err


def test_misspelt_names_get_one_line_with_a_suggestion(tiny_model, tmp_path, capsys):
    store = str(tmp_path / "t.zarr")
    args = ["sweep", "tiny", "-n", "4", "--store", store, "--quiet", "--output", "population"]
    assert main(args) == 0
    out = str(tmp_path / "figs")
    cases = [
        (["plot", store, "-v", "popluation", "--out", out], "Did you mean 'population'"),
        (
            ["plot", store, "-v", "population", "--select", "region=Nort", "--out", out],
            "Did you mean 'North'",
        ),
        (
            ["plot", store, "-v", "population", "--select", "regoin=North", "--out", out],
            "Did you mean 'region'",
        ),
        (
            ["export", store, "-v", "populaton", "--out", str(tmp_path / "x.csv")],
            "Did you mean 'population'",
        ),
        (["sweep", "tiny", "--scenario", "lwo", "-n", "4"], "Did you mean 'low'"),
    ]
    for argv, hint in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("corridor: error: ") and "\n" not in err and hint in err, err


def test_plot_with_nothing_to_plot_is_an_error_and_regions_get_their_own_files(
    tiny_model, tmp_path, capsys
):
    store = str(tmp_path / "t.zarr")
    assert main(["sweep", "tiny", "-n", "4", "--store", store, "--quiet"]) == 0
    out = tmp_path / "figs"
    assert main(["plot", store, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "nothing to plot" in err and "population" in err
    assert not out.exists()
    argv = ["plot", store, "-v", "population", "--select", "region=North"]
    argv += ["--select", "region=South", "--out", str(out), "--format", "png", "--quiet"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "fan_population_region-North.png",
        "fan_population_region-South.png",
    ]


def test_debug_and_version_work_before_or_after_the_command(capsys):
    with pytest.raises(ParameterError):
        main(["run", "example", "--set", "nope=1", "--debug"])
    with pytest.raises(ParameterError):
        main(["--debug", "run", "example", "--set", "nope=1"])
    for argv in (["--version"], ["run", "--version"], ["sweep", "example", "--version"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
        from engine import __version__

        assert capsys.readouterr().out.strip() == f"corridor {__version__}"


def test_every_option_has_help():
    import argparse

    from engine.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = []
    for name, command in sub.choices.items():
        for action in command._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing
    assert set(sub.choices) >= {
        "run",
        "sweep",
        "describe",
        "plot",
        "report",
        "export",
        "scenarios",
        "compare",
    }


def test_parse_errors_show_line_and_column_of_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.mdl"
    bad.write_text(
        "{UTF-8}\nstock = INTEG(inflow, 1)\n\t~\t~\t|\n\ninflow = 2 + * 3\n\t~\t~\t|\n\n"
        "INITIAL TIME = 0\n\t~\t~\t|\nFINAL TIME = 10\n\t~\t~\t|\nTIME STEP = 1\n\t~\t~\t|\n"
        "SAVEPER = 1\n\t~\t~\t|\n"
    )
    assert main(["run", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 5, column 11 of the file" in err and "\n" not in err.strip()


def test_a_first_run_says_it_is_compiling(monkeypatch, tmp_path, capsys):
    import uuid

    from engine import registry
    from tests import tiny

    probe = f"probe_{uuid.uuid4().hex[:8]}"  # new equations: kernels in no cache

    def fresh(**options):
        m = tiny.build(**options)
        m.aux(probe, "2 * fertility", units="1/year")
        return m

    monkeypatch.setitem(registry._BUILTIN, "fresh", fresh)
    assert main(["run", "fresh", "--years", "2030"]) == 0
    err = capsys.readouterr().err
    assert "compiling model 'tiny'" in err and "later runs load it from the cache" in err
    assert main(["run", "fresh", "--years", "2030"]) == 0
    assert "compiling" not in capsys.readouterr().err


def test_compare_scenarios_and_stores(tiny_model, tmp_path, capsys):
    store = str(tmp_path / "high.zarr")
    sweep = ["sweep", "tiny", "--scenario", "high", "-n", "8", "--store", store, "--quiet"]
    assert main(sweep) == 0
    out = tmp_path / "cmp"
    argv = ["compare", "low", store, "--model", "tiny", "-n", "8", "--years", "2030"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenarios"] == ["low", "high"] and data["reference"] == "low"
    rows = {(r["variable"], r["region"]): r for r in data["rows"]}
    south = rows[("net_migration", "South")]
    assert south["high - low"] == pytest.approx(south["high"] - south["low"])
    assert south["high"] < south["low"]
    names = sorted(p.name for p in out.iterdir())
    assert "comparison.html" in names and "differences.csv" in names
    assert "compare_population_North.png" in names
    assert main([*argv, "--out", str(out)]) == 1  # never overwritten
    assert "comparison.html" in capsys.readouterr().err
    assert main(["compare", "low", "--model", "tiny", "--out", str(out)]) == 1
    assert "at least two" in capsys.readouterr().err


def test_export_quantiles_members_and_netcdf(tiny_model, tmp_path, capsys):
    import pandas as pd

    store = str(tmp_path / "t.zarr")
    argv = ["sweep", "tiny", "-n", "8", "--store", store, "--quiet", "--output", "population"]
    assert main(argv) == 0
    quantiles = tmp_path / "q.csv"
    assert main(["export", store, "--out", str(quantiles), "--quiet"]) == 0
    table = pd.read_csv(quantiles)
    assert {"median", "lower_80", "upper_95", "region", "sex", "year"} <= set(table.columns)
    assert "age" not in table.columns and "member" not in table.columns
    members = tmp_path / "m.csv"
    assert main(["export", store, "--members", "--out", str(members), "--quiet"]) == 0
    assert set(pd.read_csv(members)["member"]) == set(range(8))
    assert main(["export", store, "--format", "netcdf", "--out", str(tmp_path / "x.nc")]) == 0
    import engine

    back = engine.open_store(tmp_path / "x.nc")
    assert back.attrs["scenario"] == "low" and "long" in back.children
    flat = tmp_path / "flat.nc"
    assert main(["export", store, "--format", "netcdf", "--flat", "--out", str(flat)]) == 0
    assert "time" in engine.open_store(flat)["population"].dims
    assert main(["export", store, "--format", "netcdf", "--out", str(tmp_path / "x.csv")]) == 1
    assert "writes a .nc file" in capsys.readouterr().err


def test_sensitivity_of_a_total_is_plotted(tiny_model, tmp_path):
    store = str(tmp_path / "s.zarr")
    argv = ["sweep", "tiny", "-n", "8", "--design", "saltelli", "--store", store, "--quiet"]
    argv += ["--output", "population", "--prior", "mortality=uniform,0.005,0.015"]
    assert main(argv) == 0
    out = tmp_path / "f"
    argv = ["plot", store, "--sensitivity", "population", "--sensitivity", "population[North]"]
    assert main([*argv, "--out", str(out), "--format", "png", "--quiet"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "sobol_population_long.png" in names and "sobol_population_North__long.png" in names


def test_a_report_of_several_stores_compares_their_scenarios(tiny_model, tmp_path):
    stores = []
    for scenario in ("low", "high"):
        store = str(tmp_path / f"{scenario}.zarr")
        argv = ["sweep", "tiny", "--scenario", scenario, "-n", "4", "--store", store, "--quiet"]
        assert main(argv) == 0
        stores.append(store)
    page = tmp_path / "both.html"
    assert main(["report", *stores, "--out", str(page), "--quiet"]) == 0
    text = page.read_text()
    assert "Low mobility" in text and "High mobility" in text and "<h3>North</h3>" in text


def test_sweep_with_grouped_sensitivity(tiny_model, tmp_path):
    store = str(tmp_path / "g.zarr")
    argv = ["sweep", "tiny", "-n", "4", "--design", "saltelli", "--store", store, "--quiet"]
    argv += ["--prior", "mortality=uniform,0.005,0.015", "--prior", "fertility=uniform,0.02,0.04"]
    argv += ["--prior", "emigration_rate=uniform,0.001,0.02", "--output", "population"]
    argv += ["--group", "mortality=vital", "--group", "fertility=vital"]
    assert main(argv) == 0
    import engine

    tree = engine.open_store(store)
    assert tree.sizes["member"] == 4 * (2 * 2 + 2)
    out = tmp_path / "f"
    argv = ["plot", store, "--sensitivity", "population", "--out", str(out), "--format", "png"]
    assert main([*argv, "--quiet"]) == 0
    assert (out / "sobol_population_long.png").exists()
