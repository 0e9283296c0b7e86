"""Demography's uncertainty (issue 17, points 2 and 3): off by default, and its ensemble's
intervals against WPP 2022's probabilistic projections (slow)."""

from __future__ import annotations

import functools

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
        for column in ("tfr_sd_2050", "e0_sd_2100", "migration_rate_sd", "migration_persistence"):
            assert fresh.loc[loc, column] == pytest.approx(table.loc[loc, column], rel=1e-4)


def test_a_country_aggregate_spread_shrinks_with_independent_members():
    sd = pd.Series({1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5})
    weight = pd.Series({1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0})
    alone = build_uncertainty.aggregate_sd(sd, weight, [1], 0.2)
    assert alone == pytest.approx(0.5)
    four = build_uncertainty.aggregate_sd(sd, weight, [1, 2, 3, 4], 0.2)
    assert four == pytest.approx(0.5 * np.sqrt(0.2 + 0.8 / 4))
    assert build_uncertainty.aggregate_sd(sd, weight, [1, 2, 3, 4], 1.0) == pytest.approx(0.5)


def test_deviations_differ_by_member_and_the_log_hazards_start_unshifted():
    m = demography.build(["Europe", "Western Africa"], stop=2030, uncertainty=True)
    outputs = ["tfr_deviation", "mortality_deviation", "migration_rate_shock"]
    runs = [engine.simulate(m, seed=s, outputs=outputs) for s in (1, 2)]
    assert np.all(runs[0]["mortality_deviation"].isel(time=0).values == 0.0)
    assert np.all(runs[0]["migration_rate_shock"].isel(time=0).values == 0.0)
    for name in outputs:
        last = [r[name].isel(time=-1).values for r in runs]
        assert np.all(last[0] != last[1]), name


@functools.cache
def _model(which: str) -> engine.Model:
    locations = wpp.SUBREGIONS if which == "subregions" else demography.DEFAULT_LOCATIONS
    return demography.build(list(locations), uncertainty=True)


@functools.cache
def ensemble_ratios(which: str, migration_shocks: bool) -> pd.DataFrame:
    """Width of the ensemble's intervals over WPP 2022's, and the median's error, by location
    and year (2050, 2100). Without migration shocks the ensemble has WPP's components (WPP
    2022's intervals hold migration at its medium path)."""
    m = _model(which)
    tree = engine.run_ensemble(
        m,
        n=MEMBERS,
        seed=2022,
        params=None if migration_shocks else {"migration_rate_sd": 0.0},
        outputs=["total_population", "tfr", "life_expectancy"],
        horizons={"all": (28, None, 1)},
        progress=False,
    )
    ds = tree["all"].to_dataset()
    # two names have two codes (an SDG region and a region), with the same figures
    iv = pd.read_csv(INTERVALS).drop_duplicates(["location", "variable", "year"])

    def width(x, lo):
        return np.quantile(x, 1 - lo) - np.quantile(x, lo)

    def wpp_width(ref, variable, level):
        return ref.loc[variable, f"upper{level}"] - ref.loc[variable, f"lower{level}"]

    rows = []
    for loc in m.dims["region"].elements:
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
                    "pop80": width(pop, 0.1) / wpp_width(ref, "population", 80),
                    "pop95": width(pop, 0.025) / wpp_width(ref, "population", 95),
                    "median": np.median(pop) / ref.loc["population", "median"] - 1,
                    "tfr80": width(tfr, 0.1) / wpp_width(ref, "tfr", 80),
                    "e080": width(e0, 0.1) / wpp_width(ref, "e0", 80),
                }
            )
    return pd.DataFrame(rows)


def _misses(df: pd.DataFrame, columns: list[str], low: float, high: float) -> str:
    bad = df[((df[columns] < low) | (df[columns] > high)).any(axis=1)]
    return "" if bad.empty else "\n" + bad[["location", "year", *columns]].round(3).to_string()


# Measured with 200 members, seed 2022 (the runs are bit-identical, so these stay):
NARROW_WITHOUT_MIGRATION = (
    "Middle Africa 2100: 0.77 (80 %), 0.74 (95 %); Northern Africa 2100: 0.78 (80 %): "
    "narrower than WPP's (their TFR 80 % intervals are 0.83 and 0.75 of WPP's in 2100). "
    "Cause (measured 2026-12-02, 200 members, Middle, Northern and Western Africa and Europe, "
    "migration shocks off): the TFR deviation's persistence, phase III's 0.9 per five years "
    "for regions still in phase II, where bayesTFR's trajectories keep each country's uncertain "
    "double-logistic parameters along the whole path and add random-walk errors (Alkema et al. "
    "2011), deviations that persist; with 0.97 per five years the 2100 widths "
    "are Middle Africa 0.99/0.85, Northern Africa 1.11/0.99, Western Africa 1.03/0.92 "
    "(0.88/0.70, 0.85/0.89, 0.82/0.76 with 0.9) and Europe's stay 1.07/1.13 (1.05/0.95)"
)
WIDE_WITH_MIGRATION = (
    "migration shocks widen where migration matters, as WPP's intervals have none: in 2050 "
    "Micronesia 4.1, Southern Europe 2.5, Central Asia 2.0, Australia/New Zealand 1.8, "
    "Polynesia 1.6, Melanesia 1.5, Caribbean 1.4-1.6, Central America 1.4-1.6 (80 %-95 %); "
    "among the default regions Central America 1.5-1.7 and Sub-Saharan Africa 1.5 in 2050"
)
TFR_NARROW = (
    "TFR 80 % in 2100: Northern Africa 0.75, Western Asia 0.76, Central Asia 0.78, Caribbean "
    "0.79; Central America 2050 0.79 (aggregates whose WPP spread exceeds our correlated "
    "aggregation of their countries')"
)
E0_NARROW = (
    "e0 80 %: Caribbean 0.80 (2050) and 0.69 (2100), Middle Africa 0.79 (2100); Northern "
    "Africa (a default region) 0.76 (2100)"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "which",
    [
        pytest.param(
            "subregions", marks=pytest.mark.xfail(strict=True, reason=NARROW_WITHOUT_MIGRATION)
        ),
        "default",
    ],
)
def test_population_intervals_without_migration_shocks_are_08_to_15_times_wpps(which):
    misses = _misses(ensemble_ratios(which, False), ["pop80", "pop95"], 0.8, 1.5)
    assert not misses, misses


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=WIDE_WITH_MIGRATION)
@pytest.mark.parametrize("which", ["subregions", "default"])
def test_population_intervals_with_every_component_are_08_to_15_times_wpps(which):
    misses = _misses(ensemble_ratios(which, True), ["pop80", "pop95"], 0.8, 1.5)
    assert not misses, misses


@pytest.mark.slow
@pytest.mark.parametrize("which", ["subregions", "default"])
def test_migration_shocks_widen_the_population_intervals(which):
    without, with_ = ensemble_ratios(which, False), ensemble_ratios(which, True)
    for column in ("pop80", "pop95"):
        assert (with_[column] >= 0.9 * without[column]).all()
    assert (with_["pop95"] > without["pop95"]).mean() > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("which", ["subregions", "default"])
def test_population_medians_within_2_percent_of_wpps_medium_in_2050(which):
    df = ensemble_ratios(which, True)
    in_2050 = df[df.year == 2050]
    assert not _misses(in_2050, ["median"], -0.02, 0.02), _misses(in_2050, ["median"], -0.02, 0.02)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=TFR_NARROW)
@pytest.mark.parametrize("which", ["subregions", "default"])
def test_tfr_intervals_are_08_to_15_times_wpps(which):
    misses = _misses(ensemble_ratios(which, True), ["tfr80"], 0.8, 1.5)
    assert not misses, misses


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=E0_NARROW)
@pytest.mark.parametrize("which", ["subregions", "default"])
def test_e0_intervals_are_08_to_15_times_wpps(which):
    misses = _misses(ensemble_ratios(which, True), ["e080"], 0.8, 1.5)
    assert not misses, misses


@pytest.mark.slow
def test_migration_shocks_scale_is_a_student_t_mixture_of_unit_variance():
    from scipy import stats

    m = demography.build(["Micronesia", "Western Europe"], stop=2024, uncertainty=True)
    dof = dict(zip(m.dims["region"].elements, m.variables["migration_tail_dof"].value))
    tree = engine.run_ensemble(m, n=400, seed=7, outputs=["migration_tail_scale"], progress=False)
    scale = tree["short"].to_dataset()["migration_tail_scale"].isel(time=-1)
    for region, nu in dof.items():
        x = scale.sel(region=region).values
        assert np.all(
            x
            == tree["short"]
            .to_dataset()["migration_tail_scale"]
            .sel(region=region)
            .isel(time=0)
            .values
        )
        # (nu - 2) / x**2 is a chi-square with nu degrees of freedom
        assert stats.kstest((nu - 2) / x**2, stats.chi2(nu).cdf).pvalue > 1e-3
    assert dof["Micronesia"] < dof["Western Europe"]  # crises: heavier tails
