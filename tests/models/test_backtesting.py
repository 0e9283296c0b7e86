"""models.backtesting: demography backtests use only what was known at the jump-off."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from models import backtesting, life_tables, vital_rates, wpp

JUMP_OFF = 2005
STOP = 2009.0


def _forecast(location: str = "Japan") -> np.ndarray:
    model = backtesting.model_factory([location])(JUMP_OFF)
    ds = engine.simulate(model, stop=STOP, outputs=list(backtesting.OUTPUTS))
    return np.concatenate([ds[name].values.ravel() for name in backtesting.OUTPUTS])


def _perturb_after(monkeypatch: pytest.MonkeyPatch, year: int, factor: float = 1.3) -> None:
    """Every WPP figure of a year after ``year`` (periods of death rates that end after it)
    multiplied by ``factor``."""
    annual, groups, fertility, death = (
        wpp.annual,
        wpp.population_groups,
        wpp.fertility_groups,
        wpp.death_rates,
    )

    def annual_(name, column, first=wpp.FIRST_YEAR, last=wpp.LAST_YEAR):
        out = annual(name, column, first, last)
        return np.where(np.arange(first, last + 1) > year, out * factor, out)

    def groups_(name, y):
        return groups(name, y) * (factor if y > year else 1.0)

    def fertility_(name, y):
        return fertility(name, y) * (factor if y > year else 1.0)

    def death_(name, sex):
        out = death(name, sex)
        period_end = 1955 + 5 * np.arange(out.shape[0])
        return np.where((period_end > year)[:, None], out * factor, out)

    monkeypatch.setattr(wpp, "annual", annual_)
    monkeypatch.setattr(wpp, "population_groups", groups_)
    monkeypatch.setattr(wpp, "fertility_groups", fertility_)
    monkeypatch.setattr(wpp, "death_rates", death_)


def _uses_nothing_after_the_jump_off(monkeypatch, compute, before):
    """``compute()`` gives ``before`` again with every WPP figure after the jump-off changed,
    and something else with the jump-off year's own changed too (the check can fail); returns
    the latter."""
    with monkeypatch.context() as patch:
        _perturb_after(patch, JUMP_OFF)
        np.testing.assert_array_equal(compute(), before)
    with monkeypatch.context() as patch:
        _perturb_after(patch, JUMP_OFF - 1)
        peeked = compute()
    assert np.max(np.abs(peeked - before)) > 0
    return peeked


@pytest.mark.slow
def test_no_peeking_data_after_the_jump_off_change_nothing(monkeypatch):
    """WPP's figures after the jump-off (all of them, 30 % off) leave the forecast unchanged;
    the same change from the jump-off year on does change it (the test can fail)."""
    before = _forecast()
    peeked = _uses_nothing_after_the_jump_off(monkeypatch, _forecast, before)
    assert np.max(np.abs(peeked / before - 1)) > 0.01


@pytest.mark.slow
def test_naive_baseline_holds_the_jump_off_rates():
    """The baseline's hazards and TFR stay at the jump-off's: Japan (TFR held by the model too,
    below the floor with no recovery) has at most the model's population, whose mortality
    continues its decline; Nigeria's TFR falls in the model and not in the baseline. Both start
    from the same population, and the baseline's net migration is the model's (the same
    five-year mean)."""
    locations = ["Japan", "Nigeria"]
    outputs = ["total_population", "net_migration_total", "tfr", "life_expectancy"]
    model = backtesting.model_factory(locations)(JUMP_OFF)
    naive = backtesting.naive_factory(locations)(JUMP_OFF)
    ds = engine.simulate(model, stop=2020.0, outputs=outputs)
    nv = engine.simulate(naive, stop=2020.0, outputs=outputs)
    np.testing.assert_allclose(
        nv["total_population"].isel(time=0), ds["total_population"].isel(time=0)
    )
    np.testing.assert_allclose(nv["net_migration_total"], ds["net_migration_total"])
    japan = {"region": "Japan"}
    assert (
        nv["total_population"].sel(japan) <= ds["total_population"].sel(japan) * (1 + 1e-12)
    ).all()
    assert (nv["life_expectancy"].isel(time=-1) < ds["life_expectancy"].isel(time=-1)).all()
    held = nv["tfr"].sel(time=slice(JUMP_OFF + 1.0, None))
    np.testing.assert_allclose(held, held.isel(time=0).broadcast_like(held), rtol=1e-12)
    nigeria = ds["tfr"].sel(region="Nigeria")
    assert float(nigeria.isel(time=-1)) < float(nigeria.sel(time=JUMP_OFF + 1.0)) - 0.1
    known = wpp.annual("Japan", "net_migration", JUMP_OFF - 4, JUMP_OFF).mean() * 1000.0
    np.testing.assert_allclose(
        nv["net_migration_total"].sel(region="Japan").isel(time=-1), known, rtol=1e-9
    )


def _history(values: list[float], last: int = 2010) -> tuple[np.ndarray, np.ndarray]:
    """Five-yearly TFRs to ``last``, made annual by linear interpolation."""
    five = np.arange(last - 5 * (len(values) - 1), last + 1, 5)
    years = np.arange(five[0], last + 1)
    return np.interp(years, five, values), years


def test_projected_tfr_phase_three_is_the_ar1_toward_replacement():
    """Below 2 and two successive five-year rises by the jump-off (bayesTFR's start of phase
    III): the AR(1) of bayesTFR's constant parameters, rho = 0.8859 per five years to 2.1."""
    history, years = _history([2.6, 1.8, 1.5, 1.6, 1.7])
    assert vital_rates.tfr_phase(history, years) == 3
    future = np.arange(2011, 2036)
    path = vital_rates.projected_tfr(history, years, future)
    np.testing.assert_allclose(path[future == 2015], 2.1 - 0.4 * 0.8859, rtol=1e-12)
    np.testing.assert_allclose(path[future == 2035], 2.1 - 0.4 * 0.8859**5, rtol=1e-12)
    assert np.all(np.diff(path) > 0)


def test_projected_tfr_phase_two_continues_the_pace_toward_the_floor():
    """A decline of 0.1 a year over the 15 years to the jump-off continues at that pace at
    first, slows, and never crosses the floor of 1.85; one rise below 2 is no phase III."""
    history, years = _history([6.0, 5.5, 5.0, 4.5])
    assert vital_rates.tfr_phase(history, years) == 2
    future = np.arange(2011, 2101)
    path = vital_rates.projected_tfr(history, years, future)
    np.testing.assert_allclose(4.5 - path[0], 0.1, rtol=0.05)
    assert np.all(np.diff(path) < 0) and path.min() > vital_rates.TFR_FLOOR
    assert path[-1] < vital_rates.TFR_FLOOR + 0.1  # (4.5 - 1.85) exp(-0.1 / 2.65 * 90) = 0.09
    stalled, years = _history([6.0, 6.1, 6.2, 6.3])
    np.testing.assert_allclose(vital_rates.projected_tfr(stalled, years, future), 6.3)
    low, years = _history([2.5, 1.9, 1.5, 1.4, 1.45])
    assert vital_rates.tfr_phase(low, years) == 2
    np.testing.assert_allclose(vital_rates.projected_tfr(low, years, future), 1.45)


def test_projected_tfr_phase_two_takes_the_recent_pace_where_the_decline_slowed():
    """A decline of 0.1 a year for ten years that stalls in the last five (a stall, Bongaarts
    2006) is held; one that slowed to 0.02 a year goes on at 0.02, not at the 15 years' pace;
    one that sped up keeps the 15 years' pace."""
    future = np.arange(2011, 2101)
    stalled, years = _history([6.0, 5.5, 5.0, 5.0])
    np.testing.assert_allclose(vital_rates.projected_tfr(stalled, years, future), 5.0)
    slowed, years = _history([6.0, 5.5, 5.0, 4.9])
    path = vital_rates.projected_tfr(slowed, years, future)
    np.testing.assert_allclose(4.9 - path[0], 0.02, rtol=0.05)
    faster, years = _history([6.0, 5.9, 5.8, 5.0])
    path = vital_rates.projected_tfr(faster, years, future)
    fifteen = -np.polyfit(years[years >= 1995], faster[years >= 1995], 1)[0]
    np.testing.assert_allclose(5.0 - path[0], fifteen, rtol=0.05)
    assert fifteen < 0.1


def test_e0_gain_curve_recovers_the_gains_by_level():
    """Countries whose e0 gains g(e) = 0.5 - 0.02 (e - 50) a year (0 above 75) from different
    starts: the pooled median gain by level is their gain over the next five years (a year's
    mean) at the levels they passed, the nearest measured level's beyond, never below 0;
    projected_e0 follows it year by year."""
    rng = np.random.default_rng(3)
    years = 60
    series = np.empty((40, years))
    series[:, 0] = rng.uniform(35.0, 70.0, 40)

    def gain(e):
        return np.clip(0.5 - 0.02 * (e - 50.0), 0.0, None)

    for t in range(1, years):
        series[:, t] = series[:, t - 1] + gain(series[:, t - 1])
    curve = vital_rates.e0_gain_curve(series)
    levels = vital_rates.E0_GAIN_LEVELS
    passed = (levels >= 45.0) & (levels <= 70.0)
    five = levels.copy()
    for _ in range(vital_rates.E0_GAIN_YEARS):
        five = five + gain(five)
    expected = (five - levels) / vital_rates.E0_GAIN_YEARS
    np.testing.assert_allclose(curve[passed], expected[passed], atol=0.015)  # a window of 5 years
    assert curve.min() >= 0.0 and np.allclose(curve[levels < 30.0], curve[levels == 30.0][0])
    path = vital_rates.projected_e0(np.array([60.0]), curve, np.array([1, 2, 10]))
    step = np.interp(60.0, levels, curve)
    np.testing.assert_allclose(path[0], 60.0 + step)
    assert path[1] > path[0] and path[2] < 60.0 + 10 * step  # gains fall with the level


def test_along_drift_reaches_the_e0_path_slowing_the_drift_or_adding_a_level():
    """Projected log hazards reach the e0 path: below what the 10-year drift gives, along the
    drift's age pattern (changes in a fixed ratio between ages) at a slower pace; above it, the
    drift's hazards with all ages lower alike; a drift of 0 at every age gives the latter."""
    log_h = np.log(life_tables.single_year_death_rates(wpp.death_rates("Japan", "female")[10]))
    drift = -np.linspace(0.03, 0.005, 101)
    e0 = float(life_tables.life_expectancy(np.exp(log_h), "female"))
    gaps = np.array([10.0, 10.0])
    by_trend = float(life_tables.life_expectancy(np.exp(log_h + 10.0 * drift), "female"))
    target = np.array([(e0 + by_trend) / 2, by_trend + 1.0])
    out = vital_rates._along_drift(log_h, drift, gaps, target, "female")
    reached = [life_tables.life_expectancy(np.exp(out[:, k]), "female") for k in range(2)]
    np.testing.assert_allclose(reached, target, atol=1e-6)
    slower = out[:, 0] - log_h
    np.testing.assert_allclose(slower / drift, slower[0] / drift[0], rtol=1e-9)
    assert 0 < slower[0] / drift[0] < 10.0
    extra = out[:, 1] - (log_h + 10.0 * drift)
    assert extra[0] < 0 and np.allclose(extra, extra[0], atol=1e-12)
    flat = vital_rates._along_drift(log_h, np.zeros(101), gaps, target, "female")
    assert np.isfinite(flat).all() and np.allclose(np.diff(flat - log_h[:, None], axis=0), 0.0)


def test_projected_e0_uses_nothing_after_the_jump_off(monkeypatch):
    """The pooled gains by level of a 2005 jump-off (every country's e0 to 2005) and the e0
    path they give are the same when every WPP figure after 2005 changes, and change with
    2005's own."""

    def path() -> np.ndarray:
        history = wpp.annual("Nigeria", "e0_female", wpp.FIRST_YEAR, JUMP_OFF)
        curve = vital_rates.e0_gain_curve(vital_rates.country_e0("female", JUMP_OFF))
        return vital_rates.projected_e0(history, curve, np.array([1, 10, 25]))

    before = path()
    assert np.all(np.diff(before) > 0)
    _uses_nothing_after_the_jump_off(monkeypatch, path, before)


def test_default_locations_are_the_subregions_and_the_most_populous_countries():
    assert len(backtesting.DEFAULT_LOCATIONS) == 30
    assert len(set(backtesting.DEFAULT_LOCATIONS)) == 30
    countries = [x for x in wpp.locations().values() if x.kind == "country" and x.has_data]
    population = {x.name: wpp.population_groups(x.name, 2021).sum() for x in countries}
    top = sorted(population, key=population.__getitem__, reverse=True)[:8]
    assert list(backtesting.MOST_POPULOUS_COUNTRIES) == top


def test_observed_ends_with_the_estimates():
    data = backtesting.observed(["Japan"], 2000, 2021)
    assert float(data["time"].max()) == 2021.0
    np.testing.assert_allclose(
        data["net_migration_total"].sel(region="Japan").values,
        wpp.annual("Japan", "net_migration", 2000, 2021) * 1000.0,
    )
    with pytest.raises(engine.SpecError, match="projection"):
        backtesting.observed(["Japan"], 2000, 2030)


@pytest.mark.slow
def test_backtest_scores_of_two_locations():
    """Japan and Nigeria from 2010: every case to 2021 scored, APE small at one year (the
    start is WPP's own population), growing with the horizon."""
    forecast, baseline = backtesting.run(["Japan", "Nigeria"], jump_offs=[2010])
    table = backtesting.measure(forecast, baseline)
    cases = table["total_population_cases"]
    assert int(cases.sel(horizon=11)) == 2 and int(cases.sel(horizon=12)) == 0
    ape = table["total_population_mean_ape"]
    assert float(ape.sel(horizon=1)) < 0.005
    assert float(ape.sel(horizon=11)) > float(ape.sel(horizon=1))
    assert table["total_population_coverage_80"].isnull().all()  # one run: no band


@pytest.mark.slow
def test_an_ensemble_over_the_demography_priors_is_scored_with_bands():
    """With run_ensemble's arguments the model's priors (today the mortality improvement
    shift) make members, and the bands' coverage is scored: 0 or 1 per case."""
    forecast, baseline = backtesting.run(
        ["Japan"], jump_offs=[2010], horizons=[5, 10], ensemble={"n": 16, "seed": 2}
    )
    assert forecast.sizes["member"] == 16 and baseline.sizes["member"] == 1
    spread = forecast["total_population_forecast"].sel(horizon=10).std("member")
    assert float(spread.max()) > 0
    table = backtesting.measure(forecast, baseline)
    coverage = table["total_population_coverage_95"]
    assert coverage.notnull().all() and ((coverage >= 0) & (coverage <= 1)).all()


# ------------------------------------------------------------------ issue 17's acceptance
@pytest.fixture(scope="module")
def acceptance():
    """The 30 default locations, jump-offs 1995-2010, an ensemble over the demography's own
    priors and shocks (``uncertainty=True``: spreads from what was known at each jump-off), and
    the naive baseline: about 4 minutes."""
    forecast, baseline = backtesting.run(
        ensemble={"n": 100, "seed": 17}, outputs=["total_population"], uncertainty=True
    )
    return backtesting.measure(forecast, baseline)


@pytest.mark.slow
def test_acceptance_median_beats_the_naive_baseline(acceptance):
    """Issue 17's line at every horizon from 10 years. Measured 2026-12-03 with mortality's e0
    gains by level pooled over WPP's countries to the jump-off (models.vital_rates; 100
    members, uncertainty=True): the median beats the naive constant-rates baseline in 65.8 %
    and 63.3 % of the cases at 10 and 11 years, 63.3-68.3 % at 12-25 (seed 17); seed 18: 65.8 %
    and 65.8 %, 63.3-70.0 % at 12-25; seed 19: 61.7 % and 63.3 %, 66.7-70.0 %; the deterministic
    model 66.7 % and 64.2 %, 62.2-73.3 %. With each age's 10-year trend alone (the rule before):
    seed 17 57.5 % and 59.2 %, seed 18 60.0 % and 60.0 %, seed 19 63.3 % and 62.5 %,
    deterministic 60.0 % and 59.2 % (a strict xfail). The losses left at 10 years: Northern
    America and the United States at all four jump-offs (above the outcome: migration held at
    the 1990s' level, fertility fell after 2007; naive wins by holding mortality flat), Western
    and Northern Africa, Central and Western Asia (fertility declines that stalled or reversed
    after the jump-off, migration), and COVID-19's deaths in the outcomes of 2020-2021 (jump-off
    2010: Northern and Southern Europe, South America)."""
    share = acceptance["total_population_better_than_naive"].sel(horizon=slice(10, None))
    assert (share >= 0.6).all(), share.values


@pytest.mark.slow
def test_acceptance_median_beats_the_naive_baseline_over_the_cases_of_10_years_and_more(
    acceptance,
):
    """Issue 17's line read over all its cases (horizons 10-25 pooled, 1,110 cases): measured
    65.9 % on 2026-12-03 with mortality's e0 gains by level (seed 18: 67.0 %, seed 19: 67.3 %,
    deterministic 65.1 %); with each age's 10-year trend alone 61.9 % (seed 18: 62.3 %, seed 19:
    65.0 %); before phase II's recent pace 60.3 %; 60.0 % without migration's pooled floor; 34 %
    with fertility held at the jump-off's. The test above reads it at every horizon."""
    later = {"horizon": slice(10, None)}
    share = acceptance["total_population_better_than_naive"].sel(later)
    cases = acceptance["total_population_cases"].sel(later)
    assert int(cases.sum()) == 1110
    assert float((share * cases).sum() / cases.sum()) >= 0.6


@pytest.mark.slow
def test_acceptance_80_percent_bands_cover_70_to_90_percent(acceptance):
    """Measured 2026-12-03 (100 members, seed 17; spreads from the rules' past errors to each
    jump-off, the TFR's relative to its level, their growth chain-linked over common origins,
    migration shocks as persistent as the migration rule's errors, never below its errors
    pooled over the locations, and Student-t with the tails of those pooled errors at the
    spread's median absolute value; phase II's TFR deviation a random walk): 77.5 % of the cases
    at 5 years, 79.2-87.8 % at 6-21 and 90.0 % at 22-25 (27 of the 30 cases of 1995; Australia/
    New Zealand 1995 just outside, at 1.07 of the half-width); seed 18: 78.3-90.0 %; seed 19:
    77.5-90 % but 93.3 % at 22 and 24 (28 of 30), as before the t tails (seed 19: 93.3 % at 22
    and 23): the 30 cases of 1995 alone make those horizons, one case is 3.3 points. With the
    tails of a t of 2 degrees of freedom (integer draws) 93.3 % at 22-25 with seeds 17 and 18.
    Before the t tails 75.8 % at 5 years, 77.5-86.7 % at 6-21, 90.0 % at 22-25; before the
    spreads' growth was chain-linked, 93.3 % at 22-25; 80.3 % over 5-25 without the pooled
    floor. With phase II's decline at the last five years' pace where it slowed (2026-12-03):
    80.8 % at 5 years, 80.8-90.0 % at 6-25 (seed 18: 81.7-90.0 %; seed 19: 80.0-93.3 %, 93.3 % at
    22-23 as before it). With mortality's e0 gains by level and e0's spread from that rule's past
    errors (2026-12-03): 79.2 % at 5 years, 81.7-90.0 % at 6-25 (seed 18: 82.5-90.0 %; seed 19:
    80.0-91.7 %, 91.1-91.7 % at 15-21)."""
    cover80 = acceptance["total_population_coverage_80"].sel(horizon=slice(5, 25))
    assert ((cover80 >= 0.7) & (cover80 <= 0.9)).all(), cover80.values


@pytest.mark.slow
def test_acceptance_95_percent_bands_cover_at_least_90_percent(acceptance):
    """Measured 2026-12-03 with the spreads of the 80 % test above: 92.5 % of the cases at 5 years
    (111 of 120), 93.3-96.7 % at 6-25 (seed 18: 90.8 % at 5 and 6, 92.5-98.3 % at 7-25). The
    migration shocks' Student t has 2.1-2.3 degrees of freedom, fitted by maximum likelihood to
    the migration rule's past errors over their spread pooled over the 30 locations: the shape
    of those errors, whose 95th percentile of |error| is 4.6-5.1 times their median (a normal's
    2.9, a t of 2.2 degrees' 4.9), while the spread keeps its median absolute value. Before the
    t tails (kurtosis of each location's AR(1) innovations, 5-30 degrees, the spread as the t's
    scale) 89.2 % at 5 years (107 of 120), 90.8-91.7 % at 6-11; the misses left at 5 years are
    Middle Africa 1995 and 2000 (1994's refugees in the five-year mean held), Western Asia 2005,
    the Caribbean 2010 (not migration), Northern Europe 2000, Southern Africa 2005 and 2010,
    Bangladesh 2005 and Southern Europe 2000. With phase II's decline at the last five years'
    pace where it slowed (2026-12-03): 94.2 % at 5 years, 93.3-96.7 % at 6-25 (seed 18: 91.7 % at
    5, 93.3-98.3 % at 6-25; seed 19: 93.3-96.7 %). With mortality's e0 gains by level: 93.3 % at
    5 years, 93.3-98.3 % at 6-25 (seed 18: 92.5 % at 5, 93.3-98.3 % at 6-25; seed 19:
    93.3-97.5 %)."""
    cover95 = acceptance["total_population_coverage_95"].sel(horizon=slice(5, 25))
    assert (cover95 >= 0.9).all(), cover95.values


def test_backtest_spreads_use_nothing_after_the_jump_off(monkeypatch):
    """The uncertainty of a backtest from 2005 (its rules' past errors, its migration AR(1)) is
    the same when every WPP figure after 2005 changes, and changes with 2005's own."""
    from models import _uncertainty_history as past

    horizons = np.array([0, 1, 5, 10, 25])

    def spreads() -> np.ndarray:
        name = "Nigeria"
        return np.concatenate(
            [
                past.tfr_sd(name, JUMP_OFF, horizons),
                past.e0_sd(name, JUMP_OFF, horizons),
                past.migration_sd(name, JUMP_OFF, horizons),
                past.pooled_migration_sd([name, "Northern Europe"], JUMP_OFF, horizons),
                past.migration_ar1(name, JUMP_OFF),
                [past.migration_error_persistence(name, JUMP_OFF)],
                [past.pooled_migration_tail_dof([name, "Northern Europe"], JUMP_OFF, 1.0, 30.0)],
            ]
        )

    before = spreads()
    assert before[0] == 0 and np.all(np.diff(before[:5]) >= 0) and before[4] > before[1]
    _uses_nothing_after_the_jump_off(monkeypatch, spreads, before)


def test_backtest_migration_spread_is_never_below_the_pooled_one():
    """A backtest's migration spread by knot is each location's own, floored by the migration
    rule's errors pooled over the model's locations: the pooled sd of one location is its own,
    and over a calm and a volatile location the floor lifts the calm one and leaves the other."""
    from types import SimpleNamespace

    from models import _demography_uncertainty as uncertainty
    from models import _uncertainty_history as past

    offsets = np.array(uncertainty.BACKTEST_KNOT_OFFSETS)
    locations = ["Brazil", "Southern Europe", "Western Asia"]
    own = np.array([past.migration_sd(x, JUMP_OFF, offsets) for x in locations])
    np.testing.assert_array_equal(past.pooled_migration_sd(["Brazil"], JUMP_OFF, offsets), own[0])
    pooled = past.pooled_migration_sd(locations, JUMP_OFF, offsets)
    parts = SimpleNamespace(jump_off=JUMP_OFF, locations=locations)
    spread = uncertainty._past(parts, "migration_sd")  # type: ignore[arg-type]
    np.testing.assert_array_equal(spread, np.maximum(own, pooled))
    later = offsets > 0
    assert np.all(pooled[later] > 0)
    assert np.all(spread[0, later] > own[0, later])  # Brazil's calm past is lifted
    assert np.all(pooled[later] < own.max(axis=0)[later])  # the volatile keep their own


def test_spread_growth_is_chain_linked_over_common_origins():
    """Errors of ``level(origin) * h`` with a turbulent era (origins before 1980, ten times the
    level): a plain sd by horizon would mix eras (the long horizons only see 1965-80); the
    chain-linked sd grows exactly as h from the one-year level over every origin."""
    from models import _uncertainty_history as past

    jump_off = 1995
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    observed = np.zeros(years.size)

    def rule(history, history_years, future):
        level = 10.0 if history_years[-1] < 1980 else 1.0
        return level * (future - history_years[-1])

    horizons = np.arange(0, 26)
    sd = past._error_sd_by_horizon(years, observed, rule, jump_off, horizons)
    one = past.MAD_TO_SD * np.median(np.where(np.arange(past.FIRST_ORIGIN, jump_off) < 1980, 10, 1))
    measured = horizons[1 : past.MEASURED_HORIZON + 1]
    np.testing.assert_allclose(sd[measured], one * measured, rtol=1e-12)
    later = horizons[past.MEASURED_HORIZON + 1 :]
    top = past.MEASURED_HORIZON
    np.testing.assert_allclose(sd[later], one * top * np.sqrt(later / top), rtol=1e-12)
    assert sd[0] == 0
    plain = past.MAD_TO_SD * 10.0 * top  # every origin of horizon 15 is before 1980
    assert sd[top] < 0.8 * plain


def test_sign_correlation_recovers_an_ar1_and_ignores_spikes():
    """Paths of a stationary AR(1) with rho 0.9: the quadrant correlation is within 0.03 of it;
    a one-year spike of 1,000 sds in a tenth of the paths leaves it there, while the product
    moment falls below 0.1."""
    from models import _uncertainty_history as past

    rng = np.random.default_rng(5)
    rho, origins, steps = 0.9, 400, 15
    paths = np.zeros((origins, steps))
    paths[:, 0] = rng.standard_normal(origins)
    for k in range(1, steps):
        paths[:, k] = rho * paths[:, k - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(origins)
    assert abs(past.sign_correlation(paths) - rho) < 0.03
    spiked = paths.copy()
    spiked[::10, 7] = 1000.0
    assert abs(past.sign_correlation(spiked) - rho) < 0.03
    now, then = spiked[:, :-1].ravel(), spiked[:, 1:].ravel()
    assert np.sum(now * then) / np.sqrt(np.sum(now**2) * np.sum(then**2)) < 0.1
    partial = paths.copy()
    partial[:, 5:] = np.nan
    assert abs(past.sign_correlation(partial) - rho) < 0.05


def test_student_t_dof_recovers_the_tails():
    """The maximum-likelihood degrees of freedom of a t with free scale: within 0.5 of 2.5 for
    4,000 draws of a t of scale 0.3, at the upper end of its range for a normal's, and at
    the range's ends when outside it."""
    from models import _uncertainty_history as past

    rng = np.random.default_rng(3)
    heavy = 0.3 * rng.standard_t(2.5, 4000)
    assert abs(past.student_t_dof(heavy, 1.0, 30.0) - 2.5) < 0.5
    assert past.student_t_dof(rng.standard_normal(4000), 1.0, 30.0) > 15.0
    assert past.student_t_dof(heavy, 4.0, 30.0) < 4.01
    assert past.student_t_dof(np.zeros(10), 1.0, 30.0) == 30.0


@pytest.mark.slow
def test_backtest_migration_shocks_are_a_student_t_with_the_spreads_median_absolute_value():
    """A backtest's migration shocks: one Student t for every location, its degrees of freedom
    fitted to the migration rule's past errors pooled over them (heavier tails than a normal's:
    below 5), its scale drawn once per member so that nu mad**2 / scale**2 is a chi-square of
    nu, and mad the ratio that gives the t a normal's median absolute value."""
    from scipy import stats

    from models import _uncertainty_history as past

    locations = ["Micronesia", "Western Europe", "Western Asia"]
    model = backtesting.model_factory(locations, uncertainty=True)(JUMP_OFF)
    dof = np.asarray(model.variables["migration_tail_dof"].value)
    mad = np.asarray(model.variables["migration_tail_mad"].value)
    nu = past.pooled_migration_tail_dof(locations, JUMP_OFF, 1.0, 30.0)
    np.testing.assert_allclose(dof, nu, rtol=1e-12)
    assert nu < 5.0
    np.testing.assert_allclose(mad, stats.norm.ppf(0.75) / stats.t.ppf(0.75, nu), rtol=1e-12)
    tree = engine.run_ensemble(
        model,
        n=400,
        seed=7,
        stop=JUMP_OFF + 3.0,
        outputs=["migration_tail_scale"],
        progress=False,
    )
    scale = tree["short"].to_dataset()["migration_tail_scale"]
    np.testing.assert_array_equal(scale.isel(time=-1).values, scale.isel(time=0).values)
    for i, region in enumerate(locations):
        x = scale.isel(time=-1).sel(region=region).values
        assert stats.kstest(nu * mad[i] ** 2 / x**2, stats.chi2(nu).cdf).pvalue > 1e-3
