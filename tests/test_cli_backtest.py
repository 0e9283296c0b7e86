"""``corridor backtest``: through the command line's entry point (in-process and as the
``python -m engine.cli`` process the ``corridor`` script runs)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from engine import EngineError
from engine.cli import main
from engine.cli.backtest import parse_horizons


def test_horizons_parse_ranges_and_lists():
    assert parse_horizons("1-3,10") == [1, 2, 3, 10]
    assert parse_horizons("5") == [5]
    for bad in ("0-3", "a-b", ""):
        with pytest.raises(EngineError, match="horizons"):
            parse_horizons(bad)


def test_a_model_without_backtests_is_one_clear_error(capsys, tmp_path):
    assert main(["backtest", "example", "--out", str(tmp_path / "b.nc"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "has no backtests" in err and "demography" in err


@pytest.mark.slow
def test_backtest_writes_results_and_a_report(tmp_path, capsys):
    """Japan from 2010, an 8-member ensemble with the demography's shocks: the Dataset has
    the summary by horizon (coverage a share, cases counted), the page its chart; a second
    run refuses to overwrite; one run (--members 0) has no bands, into zarr."""
    out, page = tmp_path / "b.nc", tmp_path / "b.html"
    args = ["backtest", "demography", "--location", "Japan", "--jump-off", "2010"]
    args += ["--horizons", "5,10", "--members", "8", "--output", "total_population"]
    assert main([*args, "--out", str(out), "--report", str(page)]) == 0
    printed = capsys.readouterr().out
    assert "total_population" in printed and "beats naive" in printed
    ds = xr.open_dataset(out)
    assert list(ds["horizon"].values) == [5, 10] and ds.sizes["member"] == 8
    assert ds.attrs["model"] == "demography" and ds.attrs["uncertainty"] == 1
    cover = ds["summary_total_population_coverage_80"].values
    assert np.all((cover >= 0) & (cover <= 1))
    assert list(ds["summary_total_population_cases"].values) == [1, 1]
    assert "Band coverage" not in page.read_text() and "<img" in page.read_text()
    assert main([*args, "--out", str(out), "--quiet"]) == 1
    assert "exists" in capsys.readouterr().err
    store = tmp_path / "one.zarr"
    assert main([*args[:-4], "--horizons", "5", "--members", "0", "--out", str(store)]) == 0
    one = xr.open_dataset(store, engine="zarr", consolidated=False)
    assert one.sizes["member"] == 1
    assert np.isnan(one["summary_total_population_coverage_80"].values).all()


@pytest.mark.slow
def test_the_corridor_process_runs_a_backtest(tmp_path):
    """The process ``corridor backtest`` starts: exit 0, the file written and named."""
    out = tmp_path / "p.nc"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "backtest",
            "--location",
            "Japan",
            "--jump-off",
            "2010",
            "--horizons",
            "5",
            "--members",
            "0",
            "--output",
            "total_population",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr
    assert str(out) in run.stdout and out.exists()
    assert float(xr.open_dataset(out)["summary_total_population_mean_ape"].values[0]) < 0.05
