"""Plots, the HTML report (checked in a headless browser) and tidy exports."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import engine
from engine.errors import EngineError
from engine.plot import fan_chart, population_pyramid, save_figure, sensitivity_chart
from engine.report import export_table, summary_frame, tidy_frame, write_report


@pytest.fixture(scope="module")
def ensemble_tree():
    """A small ensemble as a horizon DataTree (members differ in one parameter)."""
    m = engine.Model("growth", time_unit="year")
    m.dimension("region", ["north", "south"])
    m.param("rate", [0.01, 0.02], dims="region")
    m.stock("people", initial=100, dims="region", units="person")
    m.flow("births", "rate[region] * people", into="people", dims="region", units="person/year")
    runs = [
        engine.simulate(
            m, start=2022, stop=2060, dt=0.25, saveper=0.25, params={"rate": [r, 2 * r]}
        )
        for r in np.linspace(0.005, 0.02, 20)
    ]
    ens = xr.concat(runs, dim="member")
    tree = xr.DataTree.from_dict(
        {
            "short": ens.sel(time=slice(2022, 2026.99)),
            "medium": ens.sel(time=slice(2027, 2041.99)).isel(time=slice(None, None, 4)),
            "long": ens.sel(time=slice(2042, None)).isel(time=slice(None, None, 20)),
        }
    )
    tree.attrs.update(
        model="growth",
        scenario="test",
        time_unit="year",
        parameters='{"rate": ["uniform", 0.005, 0.02]}',
    )
    return tree, ens


def test_fan_chart_png_and_svg(ensemble_tree, tmp_path):
    tree, _ = ensemble_tree
    fig = fan_chart(tree, "people", select={"region": "north"})
    ax = fig.axes[0]
    assert "person" in ax.get_ylabel() and "scenario test" in ax.get_title()
    files = save_figure(fig, tmp_path / "fan")
    assert [f.suffix for f in files] == [".png", ".svg"]
    assert all(f.stat().st_size > 10_000 for f in files)
    with pytest.raises(EngineError, match="no variable 'peeple'"):
        fan_chart(tree, "peeple")


def test_pyramid_and_sensitivity_chart(tmp_path):
    ages = [str(a) for a in range(5)]
    da = xr.DataArray(
        np.random.default_rng(0).random((3, 2, 5)),
        dims=("time", "sex", "age"),
        coords={"time": [2022.0, 2050.0, 2100.0], "sex": ["female", "male"], "age": ages},
        attrs={"units": "person"},
    )
    fig = population_pyramid(xr.Dataset({"population": da}), [2022, 2100])
    assert len(fig.axes[0].lines) == 2 * 2 + 1  # a line per sex and year, and the axis
    save_figure(fig, tmp_path / "pyramid", formats=["png"])
    indices = xr.Dataset(
        {
            "S1": (("output", "parameter"), [[0.5, 0.2, 0.1]]),
            "ST": (("output", "parameter"), [[0.6, 0.3, 0.1]]),
            "S1_conf": (("output", "parameter"), [[0.05, 0.02, 0.01]]),
        },
        coords={"output": ["people"], "parameter": ["a", "b", "c"]},
    )
    fig = sensitivity_chart(indices, "people", horizon="long")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["c", "b", "a"]


def test_summary_matches_numpy_on_members(ensemble_tree):
    tree, ens = ensemble_tree
    summary = summary_frame(tree, ["people"]).set_index(["horizon", "region"])
    last = tree["long"]["people"].isel(time=-1)
    total = last.sum("region").values
    assert summary.loc[("long", "all regions"), "median"] == pytest.approx(np.median(total))
    assert summary.loc[("long", "all regions"), "p95"] == pytest.approx(np.quantile(total, 0.95))
    south = last.sel(region="south").values
    assert summary.loc[("long", "south"), "p95"] == pytest.approx(np.quantile(south, 0.95))


def test_tidy_exports_csv_and_excel(ensemble_tree, tmp_path):
    tree, _ = ensemble_tree
    frame = tidy_frame(tree, ["people"])
    assert list(frame.columns[:6]) == [
        "scenario",
        "horizon",
        "variable",
        "units",
        "time",
        "member",
    ]
    assert set(frame["scenario"]) == {"test"}
    n = sum(tree[h]["people"].size for h in ("short", "medium", "long"))
    assert len(frame) == n
    path = export_table(tree, tmp_path / "out.csv", variables=["people"])
    back = pd.read_csv(path)
    assert np.isclose(back["value"].sum(), frame["value"].sum())
    with pytest.raises(EngineError, match="exists"):
        export_table(tree, path)
    xlsx = export_table(tree, tmp_path / "out.xlsx", variables=["people"])
    sheets = pd.read_excel(xlsx, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["short", "medium", "long", "about"]
    about = sheets["about"].set_index("key")["value"]
    assert about["scenario"] == "test" and about["model"] == "growth"


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_report_is_self_contained(ensemble_tree, tmp_path):
    tree, _ = ensemble_tree
    path = write_report(tree, tmp_path / "report.html", variables=["people", "births"])
    text = path.read_text()
    # each variable's total, then a section per region (north, south) with both variables
    assert text.count('<img class="figure"') == 2 + 2 * 2
    assert text.count('<section class="region">') == 2
    assert 'src="data:image/png;base64,' in text
    assert "http://" not in text and "https://" not in text
    for section in ("Summary by horizon", "Parameters", "Provenance", "scenario test"):
        assert section in text


@pytest.mark.skipif(_browser() is None, reason="no headless browser (Debian's chromium)")
def test_report_renders_in_a_headless_browser(ensemble_tree, tmp_path):
    tree, _ = ensemble_tree
    path = write_report(tree, tmp_path / "report.html", variables=["people", "births"])
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
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
    assert dom.count("<img") == 2 + 2 * 2 and "Summary by horizon" in dom
    assert "<h3>north</h3>" in dom and "<h3>south</h3>" in dom and "scenario test" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [_browser(), *flags, f"--screenshot={shot}", "--window-size=1000,1400", path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists()
    # a rendered page with figures is far from uniform: its PNG does not compress to nothing
    assert len(zlib.compress(shot.read_bytes())) > 20_000
    keep = os.environ.get("CORRIDOR_TEST_ARTIFACTS")
    if keep:  # CI keeps the screenshot as an artefact (.ci/run)
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, "report.png"))


def test_failed_members_are_left_out_not_counted_as_zero(ensemble_tree):
    tree, _ = ensemble_tree
    broken = tree.copy(deep=True)
    long = broken["long"].to_dataset()
    long["people"][0] = np.nan  # member 0 failed
    broken["long"] = xr.DataTree(long)
    summary = summary_frame(broken, ["people"]).set_index(["horizon", "region"])
    last = tree["long"]["people"].isel(time=-1).sum("region").values[1:]
    assert summary.loc[("long", "all regions"), "p5"] == pytest.approx(np.quantile(last, 0.05))
    fig = fan_chart(broken, "people")
    assert fig.axes[0].get_ylim()[0] > 0
