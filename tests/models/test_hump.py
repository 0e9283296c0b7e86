"""Tests of models.hump: the hump's shape, the model's accounting, levers and coupling.

Order-of-magnitude references are given where used:
- Clemens, M. A. (2020). The Emigration Life Cycle. CGD WP 540: elasticity +0.35 at low income,
  slowing after ~US$5,000, reversing after ~US$10,000 (PPP).
- Abel, G. J. & Cohen, J. E. (2019). Scientific Data 6, 82: global five-year migration flows of
  ~1.1-1.3% of the world's population (~0.25% a year).
- UN DESA (2024), International Migrant Stock: ~11.6 million Mexican-born emigrants.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from models import climate, hump
from models._inputs import DEFAULT_REGIONS

REGIONS = [*DEFAULT_REGIONS, "World"]
STOCKS = ["population", "diaspora", "gdp_per_capita"]


@pytest.fixture(scope="module")
def model():
    return hump.build(REGIONS)


@pytest.fixture(scope="module")
def run(model):
    return engine.simulate(model)


@pytest.fixture(scope="module")
def yearly(model):
    return engine.simulate(model, dt=1.0)


def test_propensity_peaks_between_5000_and_10000():
    incomes = np.geomspace(300, 100_000, 20_001)
    p = hump.propensity(incomes)
    peak = incomes[np.argmax(p)]
    assert 5000 < peak < 10_000
    assert p.shape == incomes.shape and np.all(p > 0)


def test_propensity_elasticity_follows_clemens():
    # Numerical d ln p / d ln y against the analytic elasticity.
    y = np.array([800.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0])
    h = 1e-5
    numeric = (np.log(hump.propensity(y * np.exp(h))) - np.log(hump.propensity(y * np.exp(-h)))) / (
        2 * h
    )
    np.testing.assert_allclose(numeric, hump.elasticity(y), rtol=1e-6, atol=1e-9)
    assert hump.elasticity(1000.0) == pytest.approx(0.35, abs=0.02)  # low income: ~+0.35
    assert 0 < hump.elasticity(5000.0) < 0.1  # flattening near 5,000
    assert hump.elasticity(10_000.0) < 0  # reversing near 10,000


def test_model_uses_the_same_formula(run):
    income = run["income_per_capita"].values
    np.testing.assert_allclose(
        run["emigration_propensity"].values, hump.propensity(income), rtol=1e-12
    )


def test_outputs_have_units(run):
    for name in [
        "emigration",
        "emigration_rate",
        "income_per_capita",
        "diaspora",
        "remittances",
        "returns",
        "transit_deaths",
    ]:
        assert run[name].attrs["units"], name


def test_stock_changes_equal_net_flows(yearly):
    d = yearly.diff("time")
    lag = yearly.isel(time=slice(None, -1)).assign_coords(time=d.time)
    diaspora = lag.emigration_legal + lag.emigration_irregular - lag.returns - lag.diaspora_deaths
    np.testing.assert_allclose(d.diaspora, diaspora, rtol=1e-9, atol=1e-6)
    population = (
        lag.natural_increase
        - lag.emigration_legal
        - lag.emigration_irregular
        - lag.transit_deaths
        + lag.returns
    )
    np.testing.assert_allclose(d.population, population, rtol=1e-9, atol=1e-3)
    # Everyone leaving arrives or dies in transit.
    np.testing.assert_allclose(
        yearly.emigration,
        yearly.emigration_legal + yearly.emigration_irregular + yearly.transit_deaths,
        rtol=1e-12,
    )


def test_no_negative_stocks_at_extreme_levers(model, run):
    extreme = engine.simulate(
        model,
        params={
            "border_enforcement": 10.0,
            "legal_pathway_capacity": 0.0,
            "assisted_return_rate": 0.1,
            "remittance_cost": 0.5,
        },
    )
    for ds in (run, extreme):
        for name in STOCKS + ["emigration", "remittances", "income_per_capita"]:
            assert float(ds[name].min()) >= 0.0, name
        assert float(ds.time.min()) == 2022 and float(ds.time.max()) == 2100


def test_order_of_magnitude(run):
    """Abel & Cohen (2019): ~0.25% a year worldwide; UN DESA: 11.6 million Mexican-born abroad."""
    world = float(run.emigration_rate.sel(region="World", time=2022))
    assert 0.25e-2 / 2 < world < 0.25e-2 * 2
    central_america = float(run.diaspora.sel(region="Central America", time=2022))
    assert 11.6e6 < central_america < 2 * 11.6e6


def test_enforcement_diverts_more_than_it_deters(model, run):
    strict = engine.simulate(model, params={"border_enforcement": 3.0})
    region = "Sub-Saharan Africa"
    base = run.sel(region=region, time=2030)
    high = strict.sel(region=region, time=2030)
    attempts = float(high.irregular_attempts / base.irregular_attempts)
    assert 0.7 < attempts < 1.0  # deters a little
    assert float(high.main_route_share) < float(base.main_route_share) - 0.3  # diverts a lot
    assert float(high.transit_death_risk) > float(base.transit_death_risk)


def test_legal_pathways_replace_irregular_emigration(model, run):
    capacity = dict(
        zip(REGIONS, [x * 2 for x in [hump.LEGAL_PATHWAY_CAPACITY[r] for r in REGIONS]])
    )
    wider = engine.simulate(model, params={"legal_pathway_capacity": list(capacity.values())})
    base = run.sel(region="Sub-Saharan Africa", time=2030)
    more = wider.sel(region="Sub-Saharan Africa", time=2030)
    assert float(more.emigration_legal) > float(base.emigration_legal)
    assert float(more.emigration_irregular) < float(base.emigration_irregular)
    assert float(more.transit_deaths) < float(base.transit_deaths)


def test_remittances_and_returns_levers(model, run):
    cheaper = engine.simulate(model, params={"remittance_cost": 0.03, "assisted_return_rate": 0.02})
    for region in DEFAULT_REGIONS:
        assert float(cheaper.remittances.sel(region=region, time=2022)) > float(
            run.remittances.sel(region=region, time=2022)
        )
        assert float(cheaper.diaspora.sel(region=region, time=2050)) < float(
            run.diaspora.sel(region=region, time=2050)
        )


def test_development_raises_emigration_below_the_peak_and_lowers_it_above(model, run):
    aid = engine.simulate(model, params={"development_aid_growth": 0.01})
    poor = "Sub-Saharan Africa"  # ~3,900 US$ in 2022: below the peak
    rich = "Northern America"
    assert float(aid.emigration_propensity.sel(region=poor, time=2030)) > float(
        run.emigration_propensity.sel(region=poor, time=2030)
    )
    assert float(aid.emigration_propensity.sel(region=rich, time=2030)) < float(
        run.emigration_propensity.sel(region=rich, time=2030)
    )


def test_add_to_couples_into_a_host_model():
    m = engine.Model("host", start=2022, stop=2030, dt=0.25)
    m.dimension("region", ["Northern Africa", "Sub-Saharan Africa"])
    m.param("pop", [260e6, 1167e6], dims=("region",), units="person")
    m.aux("residents", "pop * exp(0.02 * (time - 2022))", dims=("region",), units="person")
    names = hump.add_to(m, prefix="h_", population="residents", legal_demand="1000")
    cnames = climate.add_to(
        m, prefix="c_", population="residents", income=names["income_per_capita"]
    )
    assert (
        names["emigration"] == "h_emigration"
        and cnames["new_displacements"] == "c_new_displacements"
    )
    ds = engine.simulate(
        m,
        outputs=[
            names["emigration"],
            names["legal_pathway_capacity"],
            names["diaspora"],
            cnames["displaced_internal"],
        ],
    )
    assert float(ds.h_emigration.min()) > 0
    assert float(ds.c_displaced_internal.min()) >= 0
