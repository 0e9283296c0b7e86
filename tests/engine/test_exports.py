"""Exports that scale: the quantile table (members' totals before quantiles), members streamed
a block at a time to CSV / Parquet, Excel only when it fits, netCDF checked against CF."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import engine
from engine import budgets, exports
from engine.exports import BANDS, export_members, export_quantiles, quantile_frame
from engine.report import tidy_frame
from tests import tiny


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("exp") / "high.zarr"
    engine.run_ensemble(
        tiny.build("high"),
        n=24,
        seed=5,
        store=path,
        progress=False,
        outputs=["population", "emigration", "emigrants_per_resident"],
    )
    return path


def test_quantile_table_is_of_members_totals_over_age(store):
    tree = engine.open_store(store)
    table = quantile_frame(tree, ["population"])
    assert list(table.columns[:4]) == ["scenario", "variable", "units", "horizon"]
    assert {"region", "sex", "year", *BANDS, "members"} <= set(table.columns)
    assert "age" not in table.columns
    long = tree["long"].to_dataset()
    members = long["population"].sel(time=2040.0, region="South", sex="male").sum("age").values
    row = table[(table.year == 2040.0) & (table.region == "South") & (table.sex == "male")]
    for band, q in BANDS.items():
        assert row[band].item() == pytest.approx(np.quantile(members, q))
    assert (table["lower_95"] <= table["lower_80"]).all()
    assert (table["upper_80"] <= table["upper_95"]).all()
    assert set(table["scenario"]) == {"high"} and set(table["members"]) == {24}


def test_rates_keep_their_dims_and_blocks_do_not_change_numbers(store, monkeypatch):
    tree = engine.open_store(store)
    whole = quantile_frame(tree, ["emigrants_per_resident", "population"])
    rate = whole[whole.variable == "emigrants_per_resident"]
    assert set(rate["region"]) == set(tiny.REGIONS)  # by region, never summed
    monkeypatch.setattr(budgets, "EXPORT_ROWS", 7)  # blocks of one member
    blocks = list(exports.member_blocks(tree["long"]["population"], None))
    assert len(blocks) == 24 and all(b.sizes["member"] == 1 for b in blocks)
    pd.testing.assert_frame_equal(
        quantile_frame(tree, ["emigrants_per_resident", "population"]), whole
    )


def test_members_streamed_to_csv_and_parquet_match_the_tidy_table(store, tmp_path, monkeypatch):
    tree = engine.open_store(store)
    expected = tidy_frame(tree, ["population"])
    monkeypatch.setattr(budgets, "EXPORT_ROWS", 500)  # many blocks
    csv = export_members(tree, tmp_path / "m.csv", variables=["population"])
    back = pd.read_csv(csv)
    assert len(back) == len(expected)
    assert back["value"].sum() == pytest.approx(expected["value"].sum())
    assert list(back.columns[:6]) == ["scenario", "horizon", "variable", "units", "time", "member"]
    pytest.importorskip("pyarrow")
    parquet = export_members(tree, tmp_path / "m.parquet", variables=["population"])
    frame = pd.read_parquet(parquet)
    assert len(frame) == len(expected)
    assert frame["value"].sum() == pytest.approx(expected["value"].sum())


def test_excel_is_refused_when_members_do_not_fit(store, tmp_path, monkeypatch):
    tree = engine.open_store(store)
    monkeypatch.setattr(exports, "EXCEL_ROWS", 1000)
    with pytest.raises(engine.EngineError, match="do not fit an Excel sheet.*netCDF"):
        export_members(tree, tmp_path / "m.xlsx", variables=["population"])
    assert not (tmp_path / "m.xlsx").exists()
    quantiles = export_quantiles(tree, tmp_path / "q.xlsx", variables=["emigrants_per_resident"])
    sheets = pd.read_excel(quantiles, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["short", "medium", "long", "about"]


def test_flat_netcdf_passes_the_cf_checker(store, tmp_path):
    runner = pytest.importorskip("compliance_checker.runner")
    path = engine.export_netcdf(store, tmp_path / "flat.nc", flat=True)
    suite = runner.CheckSuite()
    suite.load_all_available_checkers()
    report = tmp_path / "cf.json"
    runner.ComplianceChecker.run_checker(
        str(path), ["cf:1.10"], 1, "normal", output_filename=str(report), output_format="json"
    )
    (result,) = json.loads(report.read_text()).values()
    high = [item for item in result["high_priorities"] if item["msgs"]]
    assert high == []
    medium = [item["name"] for item in result["medium_priorities"] if item["msgs"]]
    # years as the unit of a time axis are legal CF, "not recommended": decimal years are the
    # model's time (WPP's mid-year labels); nothing else is reported
    assert medium in ([], ["§4.4 Time Coordinate"])
    back = engine.open_store(path)
    assert back["population"].attrs["units"] == "person"
    assert back.attrs["scenario"] == "high"
    times = back["time"].values
    assert 2040.0 in times and list(times) == sorted(times)


def test_an_unfinished_sweep_is_flagged_in_the_quantile_csv(tmp_path, monkeypatch):
    """Each row says whether the sweep was finished (a column pandas and R read as is)."""
    import zarr

    from engine.cli import main
    from engine.store import DONE

    path = tmp_path / "cut.zarr"
    engine.run_ensemble(
        tiny.build("high"),
        n=24,
        seed=5,
        store=path,
        progress=False,
        outputs=["population"],
        chunk_size=8,
    )
    finished = tmp_path / "finished.csv"
    assert main(["export", str(path), "--out", str(finished), "--quiet"]) == 0
    table = pd.read_csv(finished)
    assert table["complete"].dtype == bool and table["complete"].all()
    assert (table["members"] == 24).all()
    group = zarr.open_group(str(path), mode="r+")
    group[DONE][1:] = 0  # as a sweep stopped after its first chunk leaves it
    group.attrs["complete"] = False
    cut = tmp_path / "cut.csv"
    with pytest.warns(UserWarning, match="unfinished sweep: 8 of 24"):
        frame = quantile_frame(engine.open_store(path), ["population"])
    assert not frame["complete"].any() and (frame["members"] == 8).all()
    assert main(["export", str(path), "--out", str(cut), "--quiet"]) == 0
    table = pd.read_csv(cut)
    assert table["complete"].dtype == bool and not table["complete"].any()
    assert (table["members"] == 8).all()
