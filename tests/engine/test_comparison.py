"""Scenarios compared: the table of differences (members' totals before quantiles), a chart
per variable and region, the comparison page (rendered in a headless browser)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import engine
from engine.comparison import comparison_chart, write_comparison
from engine.tables import TOTAL
from tests import tiny


@pytest.fixture(scope="module")
def runs():
    return {s: engine.simulate(tiny.build(s)) for s in ("low", "high")}


@pytest.fixture(scope="module")
def sweeps():
    return {
        s: engine.run_ensemble(
            tiny.build(s),
            n=12,
            seed=2,
            progress=False,
            outputs=["population", "immigration", "emigration"],
        )
        for s in ("low", "high")
    }


def test_table_of_differences_of_single_runs(runs):
    table = engine.compare(runs, years=[2030, 2040])
    assert list(table.columns) == ["low", "high", "high - low"]
    for scenario, ds in runs.items():
        for region in tiny.REGIONS:
            expected = float(ds["population"].sel(time=2040.0, region=region).sum())
            got = table.loc[("population", region, 2040.0), scenario]
            assert got == pytest.approx(expected, rel=1e-12)
    row = table.loc[("net_migration", "South", 2030.0)]
    assert row["high - low"] == pytest.approx(row["high"] - row["low"])
    assert row["high"] < row["low"] < 0  # more mobility: more people leave the South


def test_ensembles_compare_medians_of_members_totals(sweeps):
    table = engine.compare(sweeps, variables=["population"], years=[2040])
    long = sweeps["high"]["long"].to_dataset()
    totals = long["population"].sel(time=2040.0).sum(["region", "sex", "age"]).values
    assert table.loc[("population", TOTAL, 2040.0), "high"] == pytest.approx(np.median(totals))


def test_rates_are_not_totalled_and_names_are_checked(runs):
    with pytest.raises(engine.SelectionError, match="Did you mean 'population'"):
        engine.compare(runs, variables=["populaton"])
    with pytest.raises(engine.SelectionError, match="nearest saved times are 2030 and 2031"):
        engine.compare(runs, years=[2030.5])
    with pytest.raises(engine.EngineError, match="at least two"):
        engine.compare({"low": runs["low"]})
    # a rate over region only: compared by region, no total row
    table = engine.compare(runs, variables=["emigrants_per_resident"], years=[2030])
    regions = set(table.index.get_level_values("region"))
    assert regions == set(tiny.REGIONS)


def test_chart_has_every_scenario_and_readable_units(sweeps):
    fig = comparison_chart(sweeps, "population", region="North")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["low", "high"]
    assert "millions" in ax.get_ylabel() and "North" in ax.get_title()
    assert len(ax.collections) == 2  # a band per scenario


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless browser (Debian's chromium)")
def test_comparison_page_renders_with_scenarios_and_regions(sweeps, tmp_path):
    path = write_comparison(sweeps, tmp_path / "comparison.html", years=[2030, 2040])
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [_browser(), *flags, "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "Low mobility" in dom and "High mobility" in dom
    for region in (*tiny.REGIONS, TOTAL):
        assert f"<h3>{region}</h3>" in dom
    assert dom.count("<img") == 2 * 3  # population and net migration, by region and total
    shot = tmp_path / "comparison.png"
    subprocess.run(
        [_browser(), *flags, f"--screenshot={shot}", "--window-size=1000,1400", path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 20_000
    keep = os.environ.get("CORRIDOR_TEST_ARTIFACTS")
    if keep:  # CI keeps the screenshot as an artefact
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, keep)
