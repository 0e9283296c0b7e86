"""Corridor: accounting identities, names and units, scenarios, magnitudes."""

import numpy as np
import pytest

import engine
from models import corridor


@pytest.fixture(scope="module")
def model():
    return corridor.build("baseline")


@pytest.fixture(scope="module")
def runs(model):
    out = {}
    for name in corridor.scenarios():
        params = corridor.scenario_params(name)
        out[name] = engine.simulate(model, params=params, outputs=list(corridor.OUTPUTS))
    return out


def test_at_least_five_scenarios_with_a_baseline():
    names = corridor.scenarios()
    assert "baseline" in names and len(names) >= 5


def test_outputs_named_with_units(runs):
    ds = runs["baseline"]
    for name in corridor.OUTPUTS:
        assert name in ds, name
        assert ds[name].attrs.get("units"), name
    assert ds["population"].dims == ("time", "region", "sex", "age")
    assert list(ds["region"].values) == list(corridor.REGIONS)
    assert list(ds["age"].values)[-1] == "100"  # element labels are strings; "100" is 100+
    assert ds["new_displacements"].attrs["units"] == "person/year"


@pytest.mark.parametrize("scenario", corridor.scenarios())
def test_regional_balance(runs, scenario):
    """Euler, dt = 1: change of population = births - deaths + immigration - emigration."""
    ds = runs[scenario]
    pop = ds["population"].sum(("sex", "age"))
    flows = (ds["births"] - ds["deaths"] + ds["immigration"] - ds["emigration"]).sum(("sex", "age"))
    np.testing.assert_allclose(
        pop.diff("time").values,
        flows.isel(time=slice(0, -1)).values,
        rtol=1e-9,
        atol=1e-9 * float(pop.max()),
    )


@pytest.mark.parametrize("scenario", corridor.scenarios())
def test_nobody_lost_or_created_between_regions(runs, scenario):
    ds = runs[scenario]
    emigration = ds["emigration"].sum(("region", "sex", "age"))
    immigration = ds["immigration"].sum(("region", "sex", "age"))
    transit = ds["migrants_in_transit"].sum("region")
    losses = ds["transit_losses"].sum("region")
    lhs = emigration.isel(time=slice(0, -1)).values
    rhs = (
        immigration.isel(time=slice(0, -1)).values
        + transit.diff("time").values
        + losses.isel(time=slice(0, -1)).values
    )
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9)


@pytest.mark.parametrize("scenario", corridor.scenarios())
def test_no_negative_population(runs, scenario):
    assert float(runs[scenario]["population"].min()) >= 0.0


def test_mexican_born_emigrants_order_of_magnitude(runs):
    # UN DESA International Migrant Stock 2024: about 11.6 million Mexican-born emigrants;
    # Central America's diaspora includes them plus ~5 million from its other countries.
    diaspora = float(runs["baseline"]["diaspora"].sel(time=2022.0, region="Central America"))
    assert 11.6e6 <= diaspora <= 3 * 11.6e6


def test_levers_change_flows(runs):
    base, fortress = runs["baseline"], runs["fortress"]
    year = 2035.0
    lost = float(fortress["transit_losses"].sel(time=year).sum())
    assert lost > float(base["transit_losses"].sel(time=year).sum())


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["baseline", "regional_rivalry"])
def test_ensemble_over_all_priors_is_stable(model, scenario):
    """Every member of a Latin-hypercube sweep over all declared priors runs at dt = 1.

    (An explicit yearly step once made the labour market overshoot: a period-2 cycle of
    employment and a wage driven below zero gave non-finite members.)
    """
    declared = [
        v.name
        for v in model.variables.values()
        if v.kind == "param" and getattr(v, "prior", None) is not None
    ]
    assert {"wage_adjustment_rate", "wage_curve_elasticity", "matching_elasticity"} <= set(declared)
    tree = engine.run_ensemble(
        model,
        n=48,
        seed=7,
        design="lhs",
        params=corridor.scenario_params(scenario),
        outputs=["population", "emigration_rate", "labour_demand"],
        progress=False,
    )
    status = np.asarray(tree["status"].values)
    assert (status == 0).all(), tree.attrs.get("failures")
    assert set(np.asarray(tree["sample"]["parameter"].values)) == set(declared)
    for group in ("short", "medium", "long"):
        ds = tree[group].to_dataset()
        assert np.isfinite(ds["population"].values).all()
        assert float(ds["population"].min()) >= 0.0, group
        assert np.isfinite(ds["emigration_rate"].values).all()
        assert float(ds["emigration_rate"].max()) < 0.1, group


@pytest.mark.slow
def test_climate_displacement_does_not_depend_on_the_time_step(model):
    """Issue 14: the corridor's displacement stocks at dt = 1 within 5 % of dt = 0.25.

    (The people displaced within their country were a stock emptied 3.7 times a year, which a
    yearly Euler step could not follow: 3.6 times the dt = 0.25 value.)
    """
    names = ["displaced_internal", "displaced_cross_border"]
    coarse = engine.simulate(model, dt=1.0, saveper=1.0, outputs=names)
    fine = engine.simulate(model, dt=0.25, saveper=1.0, outputs=names)
    for name in names:
        gap = float(abs(coarse[name] / fine[name] - 1).max())
        assert gap < 0.05, (name, gap)
