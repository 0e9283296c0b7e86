"""Tests of models.labour: accounting, matching, levers and magnitudes.

Reference: ILO (2023), World Employment and Social Outlook: Trends 2023: a global labour force
of about 3.5 billion people in 2022 (global participation ~60% of the population aged 15+).
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from models import labour
from models._inputs import DEFAULT_REGIONS

REGIONS = [*DEFAULT_REGIONS, "World"]


@pytest.fixture(scope="module")
def model():
    return labour.build(REGIONS)


@pytest.fixture(scope="module")
def run(model):
    return engine.simulate(model)


def test_outputs_and_units(run):
    for name in ["labour_supply", "labour_demand", "vacancies"]:
        assert run[name].attrs["units"] == "person"
    assert run["labour_migration_demand"].attrs["units"] == "person/year"
    assert run["skill_shortage"].dims == ("time", "region", "skill")


def test_world_labour_force_2022(run):
    """ILO WESO Trends 2023: ~3.5 billion in the labour force in 2022."""
    assert float(run.labour_supply.sel(region="World", time=2022)) == pytest.approx(3.5e9, rel=0.1)


def test_participation_rates_shape():
    rates = labour.participation_rates(["Europe"])
    assert rates.shape == (1, 2, 101)
    assert rates[0, :, :15].max() == 0 and rates[0, 1, 30] == pytest.approx(0.91)


def test_employment_changes_by_hires_minus_separations(model):
    yearly = engine.simulate(model, dt=1.0)
    d = yearly.diff("time")
    lag = yearly.isel(time=slice(None, -1)).assign_coords(time=d.time)
    np.testing.assert_allclose(d.employment, lag.hires - lag.separations, rtol=1e-9, atol=1e-3)


def test_2022_is_a_steady_state_with_the_cited_rates(run):
    start = run.sel(time=2022)
    np.testing.assert_allclose(start.hires, start.separations, rtol=1e-9)
    np.testing.assert_allclose(
        start.unemployment_rate, [labour.UNEMPLOYMENT_2022[r] for r in REGIONS], rtol=1e-9
    )


def test_matching_is_cobb_douglas_with_constant_returns(run):
    a = float(run.matching_elasticity)
    eff = run.matching_efficiency
    expected = eff * run.unemployed**a * run.vacancies ** (1 - a)
    np.testing.assert_allclose(run.hires, expected, rtol=1e-9)

    def match(u, v):
        return u**a * v ** (1 - a)

    assert match(2e6, 4e5) == pytest.approx(2 * match(1e6, 2e5), rel=1e-12)


def test_no_negative_values(model, run):
    extreme = engine.simulate(
        model,
        params={
            "female_participation_gain": 1.0,
            "human_capital_investment": 0.05,
            "automation_potential": 0.6,
            "labour_migration_openness": 1.0,
        },
    )
    for ds in (run, extreme):
        assert float(ds.time.max()) == 2100
        for name, var in ds.data_vars.items():
            if "time" in var.dims and name not in ("wage_change",):
                assert float(var.min()) >= 0.0, name


def test_levers(model, run):
    women = engine.simulate(model, params={"female_participation_gain": 1.0})
    north = "Northern Africa"
    assert float(women.labour_supply.sel(region=north, time=2050)) > 1.3 * float(
        run.labour_supply.sel(region=north, time=2050)
    )
    open_ = engine.simulate(
        model, params={"labour_migration_openness": 0.6, "human_capital_investment": 0.02}
    )
    europe = "Europe"
    assert float(open_.labour_migration_demand.sel(region=europe, time=2040)) > float(
        run.labour_migration_demand.sel(region=europe, time=2040)
    )
    assert float(open_.labour_supply_by_skill.sel(region=europe, skill="high", time=2040)) > float(
        run.labour_supply_by_skill.sel(region=europe, skill="high", time=2040)
    )
    automated = engine.simulate(model, params={"automation_potential": 0.3})
    assert float(automated.labour_demand.sel(region=europe, time=2050)) < float(
        run.labour_demand.sel(region=europe, time=2050)
    )


def test_wages_rise_where_the_market_tightens(model, run):
    tight = engine.simulate(model, params={"automation_potential": 0.0, "growth_shift": 0.01})
    europe = "Europe"
    assert float(tight.tightness.sel(region=europe, time=2035)) > float(
        run.tightness.sel(region=europe, time=2035)
    )
    assert float(tight.wage_index.sel(region=europe, time=2035)) > float(
        run.wage_index.sel(region=europe, time=2035)
    )
