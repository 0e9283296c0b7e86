"""Demography's uncertainty (issue 17, points 2 and 3): off by default, and its ensemble's
intervals against WPP 2022's probabilistic projections (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine
from models import _demography_uncertainty as uncertain
from models import demography, wpp
from models.data import build_uncertainty

MEMBERS = 200
INTERVALS = uncertain.DATA / "wpp2022_intervals.csv.gz"


def test_off_by_default_and_the_deterministic_model_is_unchanged():
    plain = demography.build(["Europe"], stop=2024)
    assert "tfr_deviation" not in plain.variables
    assert (
        plain.content_hash()
        == demography.build(["Europe"], stop=2024, uncertainty=False).content_hash()
    )
    shocked = demography.build(["Europe"], stop=2024, uncertainty=True)
    assert {"tfr_deviation", "migration_rate_shock"} <= set(shocked.variables)
    assert shocked.content_hash() != plain.content_hash()


def test_shipped_spreads_come_from_the_build_script():
    shared = build_uncertainty.SHARED
    if not (shared / "tfrproj80l.txt").exists():
        pytest.skip("../shared/data/wpp2022 is absent")
    table = pd.read_csv(uncertain.DATA / "demography_uncertainty.csv").set_index("location")
    fresh = build_uncertainty.uncertainty_table(shared).set_index("location")
    for loc in ("Europe", "Sub-Saharan Africa", "Micronesia", "Nigeria"):
        for column in ("tfr_sd", "e0_sd", "migration_rate_sd", "migration_persistence"):
            assert fresh.loc[loc, column] == pytest.approx(table.loc[loc, column], rel=1e-4)


def test_a_country_aggregate_spread_shrinks_with_independent_members():
    sd = pd.Series({1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5})
    weight = pd.Series({1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0})
    alone = build_uncertainty.aggregate_sd(sd, weight, [1], 0.2)
    assert alone == pytest.approx(0.5)
    four = build_uncertainty.aggregate_sd(sd, weight, [1, 2, 3, 4], 0.2)
    assert four == pytest.approx(0.5 * np.sqrt(0.2 + 0.8 / 4))
    assert build_uncertainty.aggregate_sd(sd, weight, [1, 2, 3, 4], 1.0) == pytest.approx(0.5)


def test_tfr_deviation_starts_at_zero_and_varies_by_member():
    m = demography.build(["Europe", "Western Africa"], stop=2030, uncertainty=True)
    runs = [engine.simulate(m, seed=s, outputs=["tfr_deviation"]) for s in (1, 2)]
    first = runs[0]["tfr_deviation"]
    assert np.all(first.isel(time=0).values == 0.0)
    assert not np.allclose(first.isel(time=-1).values, runs[1]["tfr_deviation"].isel(time=-1))


def ensemble_ratios(locations: list[str]) -> pd.DataFrame:
    """Width of the ensemble's intervals over WPP 2022's, and the median's error, by location
    and year (2050, 2100)."""
    m = demography.build(locations, uncertainty=True)
    tree = engine.run_ensemble(
        m,
        n=MEMBERS,
        seed=2022,
        outputs=["total_population", "tfr", "life_expectancy"],
        horizons={"all": (28, None, 1)},
        progress=False,
    )
    ds = tree["all"].to_dataset()
    iv = pd.read_csv(INTERVALS)

    def width(x, lo):
        return np.quantile(x, 1 - lo) - np.quantile(x, lo)

    rows = []
    for loc in locations:
        for year in (2050, 2100):
            at = {"region": loc, "time": float(year)}
            pop = ds["total_population"].sel(at).values / 1000  # WPP's are thousands
            tfr = ds["tfr"].sel(at).values
            e0 = ds["life_expectancy"].sel(at).mean("sex").values
            ref = iv[(iv.location == loc) & (iv.year == year)].set_index("variable")
            rows.append(
                {
                    "location": loc,
                    "year": year,
                    "pop80": width(pop, 0.1)
                    / np.ptp(ref.loc["population", ["lower80", "upper80"]]),
                    "pop95": width(pop, 0.025)
                    / np.ptp(ref.loc["population", ["lower95", "upper95"]]),
                    "median": np.median(pop) / ref.loc["population", "median"] - 1,
                    "tfr80": width(tfr, 0.1) / np.ptp(ref.loc["tfr", ["lower80", "upper80"]]),
                    "e080": width(e0, 0.1) / np.ptp(ref.loc["e0", ["lower80", "upper80"]]),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module", params=["subregions", "default"])
def ratios(request):
    locations = list(
        wpp.SUBREGIONS if request.param == "subregions" else demography.DEFAULT_LOCATIONS
    )
    return ensemble_ratios(locations)


def _misses(df: pd.DataFrame, column: str, low: float, high: float) -> pd.DataFrame:
    return df[(df[column] < low) | (df[column] > high)][["location", "year", column]]


@pytest.mark.slow
@pytest.mark.parametrize("column", ["pop80", "pop95"])
def test_population_interval_widths_are_08_to_15_times_wpps(ratios, column):
    misses = _misses(ratios, column, 0.8, 1.5)
    assert misses.empty, f"\n{misses.round(3).to_string()}"


@pytest.mark.slow
def test_population_medians_within_2_percent_of_wpps_medium_in_2050(ratios):
    misses = ratios[(ratios.year == 2050) & (ratios["median"].abs() > 0.02)]
    assert misses.empty, f"\n{misses[['location', 'median']].round(4).to_string()}"


@pytest.mark.slow
def test_tfr_interval_widths_are_08_to_15_times_wpps(ratios):
    misses = _misses(ratios, "tfr80", 0.8, 1.5)
    assert misses.empty, f"\n{misses.round(3).to_string()}"


@pytest.mark.slow
def test_e0_interval_widths_are_08_to_15_times_wpps(ratios):
    misses = _misses(ratios, "e080", 0.8, 1.5)
    assert misses.empty, f"\n{misses.round(3).to_string()}"
