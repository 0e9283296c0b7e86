"""Every result names its scenario: Dataset, DataTree, zarr store, netCDF, exports, figures,
the report; a store reused for another scenario says which."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr

import engine
from engine.plot import fan_chart
from engine.report import export_table, write_report
from tests import tiny

EXPECTED = {
    "scenario": "high",
    "scenario_title": "High mobility",
    "scenario_description": "Many people move.",
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("scen") / "high.zarr"
    engine.run_ensemble(
        tiny.build("high"),
        n=8,
        seed=1,
        design="random",
        store=path,
        progress=False,
        outputs=["population", "emigration"],
    )
    return path


def test_simulate_and_horizons_carry_the_scenario():
    ds = engine.simulate(tiny.build("high"), outputs=["population"])
    assert {k: ds.attrs[k] for k in EXPECTED} == EXPECTED
    assert {k: engine.horizons(ds).attrs[k] for k in EXPECTED} == EXPECTED


def test_store_and_netcdf_carry_the_scenario(stored, tmp_path):
    tree = engine.open_store(stored)
    assert {k: tree.attrs[k] for k in EXPECTED} == EXPECTED
    assert "scenario high" in tree.attrs["title"]
    nc = engine.export_netcdf(stored, tmp_path / "high.nc")
    with xr.open_datatree(nc, engine="h5netcdf") as back:
        assert {k: back.attrs[k] for k in EXPECTED} == EXPECTED


def test_a_store_reused_for_another_scenario_says_so_by_name(stored):
    with pytest.raises(engine.StoreError, match="made for scenario 'high', not 'low'"):
        engine.run_ensemble(
            tiny.build("low"),
            n=8,
            seed=1,
            design="random",
            store=stored,
            progress=False,
            outputs=["population", "emigration"],
        )


def test_exports_figures_and_report_name_the_scenario(stored, tmp_path):
    tree = engine.open_store(stored)
    csv = export_table(tree, tmp_path / "t.csv", variables=["population"])
    assert set(pd.read_csv(csv, usecols=["scenario"])["scenario"]) == {"high"}
    fig = fan_chart(tree, "population", select={"region": "North"})
    assert "scenario high" in fig.axes[0].get_title()
    page = write_report(tree, tmp_path / "r.html", variables=["population"]).read_text()
    assert "scenario high" in page and "Many people move." in page
