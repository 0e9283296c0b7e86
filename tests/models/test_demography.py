"""Demography: exact Leslie ageing, accounting, WPP 2022 data handling and projection errors."""

import numpy as np
import pytest

import engine
from models import demography

REGIONS = ["Northern Africa", "Sub-Saharan Africa", "Europe", "Northern America"]


@pytest.fixture(scope="module")
def model():
    return demography.build(REGIONS, start=2022, stop=2100)


@pytest.fixture(scope="module")
def projection(model):
    return engine.simulate(model, outputs=["population", "total_population", "births",
                                           "deaths", "net_migration", "fertility",
                                           "mortality_probability"])


def test_split_keeps_group_totals_and_is_non_negative():
    groups = demography._groups("population", "Sub-Saharan Africa", 2022) * 1000.0
    single = demography.split_age_groups(groups)
    assert single.shape == (101,) and np.all(single >= 0)
    np.testing.assert_allclose(single[:100].reshape(20, 5).sum(axis=1), groups[:20], rtol=1e-12)
    assert single[100] == groups[20]


def test_fertility_by_single_age_keeps_tfr():
    rates = demography._groups("fertility", "Europe", 2022)
    single = demography.fertility_by_single_age("Europe", 2022)
    np.testing.assert_allclose(single.sum(), 5 * rates.sum() / 1000, rtol=1e-12)
    assert single[:10].sum() == 0 and single[55:].sum() == 0


def test_base_year_population_is_wpp(projection):
    total = projection["total_population"].sel(time=2022.0).values
    wpp = [demography.wpp_total_population(r, 2022) for r in REGIONS]
    np.testing.assert_allclose(total, wpp, rtol=1e-9)
    pop = projection["population"].sel(time=2022.0)
    males_per_female_at_birth = pop.sel(age="0", sex="male") / pop.sel(age="0", sex="female")
    assert np.all((males_per_female_at_birth > 1.02) & (males_per_female_at_birth < 1.07))


def test_labels_follow_conventions(projection):
    pop = projection["population"]
    assert pop.dims == ("time", "region", "sex", "age")
    assert list(pop["sex"].values) == ["female", "male"]
    assert list(pop["age"].values) == [str(a) for a in range(101)]  # strings, "100" is 100+
    assert pop.attrs["units"] == "person"


def test_leslie_matrix_equality(model):
    """No migration, annual Euler steps: a two-sex Leslie projection, to 1e-9 relative."""
    ds = engine.simulate(model, stop=2060, params={"net_migration_rate": 0.0},
                         outputs=["population", "fertility", "mortality_probability"])
    share = np.asarray(model["sex_share_at_birth"].value)
    for r in range(len(REGIONS)):
        n = ds["population"].isel(region=r).sel(time=2022.0).values.copy()  # (sex, age)
        for year in range(2022, 2060):
            f = ds["fertility"].isel(region=r).sel(time=float(year)).values
            q = ds["mortality_probability"].isel(region=r).sel(time=float(year)).values
            births = f @ n[0]
            new = np.zeros_like(n)
            for s in range(2):
                survivors = n[s] * (1 - q[s])
                new[s, 1:] = survivors[:-1]
                new[s, -1] += survivors[-1]
                new[s, 0] = births * share[s]
            n = new
            got = ds["population"].isel(region=r).sel(time=float(year + 1)).values
            np.testing.assert_allclose(got, n, rtol=1e-9)


def test_balance_identity(projection):
    """Change of population = births - deaths + net migration, every year and region."""
    tot = projection["total_population"]
    flows = (projection["births"] - projection["deaths"]
             + projection["net_migration"]).sum(("sex", "age"))
    change = tot.diff("time").values
    np.testing.assert_allclose(change, flows.isel(time=slice(0, -1)).values, rtol=1e-9,
                               atol=1e-6 * float(tot.max()))


def test_no_negative_population(projection):
    assert float(projection["population"].min()) >= 0.0


# Calibrated to WPP 1990-2021 (CALIBRATED defaults; the net migration level refitted to
# 2000-2021) and projected from WPP 2022, net migration held to 2050, then linearly to zero in
# 2100 (WPP 2022 medium). Measured, 2050 / 2100: Europe +2.0% / +4.0%; Northern Africa -1.4% /
# +1.4%; Sub-Saharan Africa -0.5% / +6.2%; Northern America +0.6% / -7.6%; Central America
# (not required) -3.7% / -7.7%. The 2100 errors depend on the net-migration window: fitted to
# all of 1990-2021, Northern America is +4.4% in 2050; fitted to 2010-2021, Sub-Saharan Africa
# is +9.9% in 2100 (its calibrated mortality is too low and emigration too high, a confound
# that age structures alone do not resolve; see the module docstring).
@pytest.mark.parametrize("region", ["Europe", "Sub-Saharan Africa", "Northern Africa",
                                    "Northern America"])
def test_matches_wpp_medium_variant(projection, region):
    i = REGIONS.index(region)
    for year, tolerance in ((2050, 0.03), (2100, 0.08)):
        sim = float(projection["total_population"].sel(time=float(year))[i])
        wpp = demography.wpp_total_population(region, year)
        assert abs(sim / wpp - 1) < tolerance, (region, year, sim / wpp - 1)


@pytest.mark.slow
def test_calibration_reproduces_defaults_and_backtest():
    fit = demography.calibrate(["Europe"])
    assert fit.success and fit.rmse < 0.3
    for name in demography.CALIBRATED_PARAMETERS:
        want = demography.CALIBRATED["Europe"][name]
        assert abs(float(fit.values[name][0]) - want) <= 1e-3 + 5 * float(
            np.nan_to_num(fit.standard_errors[name][0], nan=1.0)), name
    errors = demography.backtest(["Europe"])
    assert list(errors["horizon"].values) == list(range(1, 12))
    assert float(abs(errors).max()) < 0.03
    fit = demography.calibrate(["Europe"], 1990, 2010)
    band = demography.backtest_band(["Europe"], fit=fit, members=40)
    assert list(band["horizon"].values) == list(range(1, 12))
    # the band holds the median; "inside" is WPP within it; coverage is its share of horizons
    assert bool((band["lower"] <= band["error"]).all() & (band["error"] <= band["upper"]).all())
    assert bool((band["inside"] == ((band["lower"] <= 0) & (band["upper"] >= 0))).all())
    np.testing.assert_allclose(band["coverage"], band["inside"].mean("horizon"))
    # the median is the deterministic backtest, up to the spread of the draws
    assert float(abs(band["error"] - errors.values).max()) < 0.005


def test_life_expectancy_output_is_the_life_table_of_the_hazards(model):
    """The model's e0 equals the period life table of its mortality (numpy, independently)."""
    ds = engine.simulate(model, stop=2030, outputs=["life_expectancy", "mortality_probability",
                                                    "life_expectancy_both_sexes"])
    q = ds["mortality_probability"].values  # (time, region, sex, age)
    survivors = np.concatenate([np.ones(q.shape[:-1] + (1,)),
                                np.cumprod(1 - q[..., :-1], axis=-1)], axis=-1)
    e0 = survivors[..., :-1].sum(axis=-1) + survivors[..., -1] / q[..., -1] - 0.5
    np.testing.assert_allclose(ds["life_expectancy"].values, e0, rtol=1e-12)
    share = np.asarray(model["sex_share_at_birth"].value)
    np.testing.assert_allclose(ds["life_expectancy_both_sexes"].values, e0 @ share, rtol=1e-12)
    # women outlive men; e0 rises with mortality improvement
    assert np.all(e0[:, :, 0] > e0[:, :, 1])
    assert np.all(np.diff(ds["life_expectancy"].values, axis=0) > 0)


def test_gapminder_life_expectancy_covers_only_well_covered_regions():
    table = demography.gapminder_life_expectancy()
    assert ("Europe", 2007) not in table  # Gapminder holds 69% of Europe's population
    assert 45 < table[("Sub-Saharan Africa", 2007)] < 60
    obs = demography.observed(["Northern Africa"], 1990, 2010, life_expectancy=True)
    years = obs["life_expectancy_both_sexes"].dropna("time")["time"].values.tolist()
    assert years == [1992.0, 1997.0, 2002.0, 2007.0]
