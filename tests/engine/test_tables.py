"""The headline table: per region and year, from the standard outputs; totals of members
before quantiles; rates from summed numerators and denominators; missing outputs as NaN."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.tables import HEADLINE, TOTAL, format_headline, headline, headline_records
from tests import tiny


@pytest.fixture(scope="module")
def run():
    return engine.simulate(tiny.build("high"))


def test_headline_sums_counts_over_age_and_sex_per_region(run):
    table = headline(run, years=[2025, 2040])
    assert list(table.columns[: len(HEADLINE)]) == list(HEADLINE)
    for region in tiny.REGIONS:
        for year in (2025.0, 2040.0):
            expected = float(run["population"].sel(time=year, region=region).sum())
            assert table.loc[(region, year), "population"] == pytest.approx(expected, rel=1e-12)
            births = float(run["births"].sel(time=year, region=region).sum())
            assert table.loc[(region, year), "births"] == pytest.approx(births, rel=1e-12)
    # the migrant stock of a region is the stock living there: summed over origins
    stock = float(run["migrant_stock"].sel(time=2040.0, destination="North").sum())
    assert table.loc[("North", 2040.0), "migrant_stock"] == pytest.approx(stock)


def test_total_row_and_rates_are_never_sums_of_rates(run):
    table = headline(run, years=[2030])
    total = table.loc[(TOTAL, 2030.0)]
    regions = table.drop(index=TOTAL, level="region")
    assert total["population"] == pytest.approx(regions["population"].sum())
    expected = 1000 * regions["emigration"].sum() / regions["population"].sum()
    assert total["emigration_per_1000"] == pytest.approx(expected)
    assert abs(total["emigration_per_1000"] - regions["emigration_per_1000"].sum()) > 1.0
    # the closed system: net migration sums to zero over its regions
    assert abs(total["net_migration"]) <= 1e-9 * total["immigration"]


def test_missing_outputs_are_nan_and_shown_as_dash():
    ds = engine.simulate(tiny.build("low", standard=False), outputs=["population", "births"])
    table = headline(ds, years=[2030])
    assert np.isnan(table["migrant_stock"]).all() and np.isnan(table["emigration"]).all()
    assert np.isnan(table["net_migration"]).all()  # nothing to derive it from
    text = format_headline(table)
    assert "-: the model has no deaths, immigration, emigration, net_migration, migrant_stock" in (
        text
    )
    record = headline_records(table)["rows"][0]
    assert record["migrant_stock"] is None and record["population"] > 0


def test_heading_names_model_scenario_and_years(run):
    text = format_headline(headline(run, years=[2030, 2040], regions=["South"]))
    first = text.splitlines()[0]
    assert first == "model tiny - scenario high (High mobility) - years 2030, 2040"
    assert "North" not in text and "millions" in text


def test_a_time_not_saved_names_the_nearest_saved_times(run):
    with pytest.raises(engine.SelectionError, match="nearest saved times are 2030 and 2031"):
        headline(run, years=[2030.5])
    with pytest.raises(engine.SelectionError, match="Did you mean 'South'"):
        headline(run, regions=["Suoth"])


def test_ensemble_headline_is_the_quantile_of_members_totals():
    tree = engine.run_ensemble(
        tiny.build("low"),
        n=16,
        seed=3,
        design="random",
        progress=False,
        outputs=["population", "emigration", "immigration"],
    )
    table = headline(tree, years=[2040])
    assert table.attrs["scenario"] == "low"
    long = tree["long"].to_dataset()
    totals = long["population"].sel(time=2040.0).sum(["region", "sex", "age"]).values
    assert table.loc[(TOTAL, 2040.0), "population"] == pytest.approx(np.median(totals))
    north = long["population"].sel(time=2040.0, region="North").sum(["sex", "age"]).values
    assert table.loc[("North", 2040.0), "population"] == pytest.approx(np.median(north))
    upper = headline(tree, years=[2040], quantile=0.95)
    assert upper.loc[("North", 2040.0), "population"] == pytest.approx(np.quantile(north, 0.95))
