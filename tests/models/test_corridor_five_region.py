"""The five-region corridor (the previous default, ``corridor_five_region``): accounting
identities, names and units, scenarios, magnitudes."""

import numpy as np
import pytest
import tomllib

import engine
from models import climate
from models import corridor_five_region as corridor
from models.corridor import SSP_MIGRATION_LEVEL


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


SCENARIO_DIR = corridor.SCENARIO_DIR
HIGH_INCOME = ["Europe", "Northern America"]


def test_scenarios_name_their_ssp_and_climate_pathway():
    """Each file names its SSP and climate pathway; SSP1 takes the optimistic pathway and SSP3
    the pessimistic (Groundswell: Rigaud et al. 2018, Clement et al. 2021: pessimistic
    reference SSP4 + RCP8.5, more inclusive development SSP2 + RCP8.5, more climate-friendly
    SSP4 + RCP2.6); SSP2 the middle pathway (SSP2-4.5, IPCC AR6), which Groundswell lacks."""
    expected = {"SSP1": "climate_friendly", "SSP2": "middle", "SSP3": "pessimistic"}
    for name in corridor.scenarios():
        raw = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text())
        assert raw["ssp"] in corridor.SSPS and raw["climate_pathway"] in climate.SCENARIOS, name
        assert expected[raw["ssp"]] == raw["climate_pathway"], name
        assert raw["ssp"] in raw["name"] or raw["ssp"] == "SSP2", name
    assert corridor.load_scenario("sustainability")["ssp"] == "SSP1"
    assert corridor.load_scenario("regional_rivalry")["ssp"] == "SSP3"
    warming = {
        name: float(corridor.scenario_params(name)["warming_2090"])
        for name in ("sustainability", "baseline", "regional_rivalry")
    }
    assert warming["sustainability"] < warming["baseline"] < warming["regional_rivalry"]


def test_scenario_files_of_the_former_format_are_read(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text('name = "old"\nclimate_scenario = "more_inclusive"\n')
    settings = corridor.load_scenario(str(path))
    assert settings["climate_pathway"] == settings["climate_scenario"] == "more_inclusive"
    assert settings["ssp"] == "SSP2"
    path.write_text('climate_scenario = "pessimistic"\nclimate_pathway = "middle"\n')
    with pytest.raises(engine.ParameterError, match="disagree"):
        corridor.load_scenario(str(path))
    path.write_text('ssp = "SSP9"\n')
    with pytest.raises(engine.ParameterError, match="choose one of"):
        corridor.load_scenario(str(path))
    path.write_text('climate_pathway = "rosy"\n')
    with pytest.raises(engine.ParameterError, match="climate_pathway = 'rosy'"):
        corridor.load_scenario(str(path))


def test_migration_level_follows_the_scenario_ssp(tmp_path):
    """KC & Lutz (2017): international migration is medium in SSP1, SSP2 and SSP4, low in SSP3
    and high in SSP5 (50 % below and above the medium). A scenario file gets the level of its
    ``ssp`` unless its table sets one; every bundled file follows its SSP."""
    for name in corridor.scenarios():
        settings = corridor.load_scenario(name)
        level = corridor.scenario_params(name)["hump_ssp_migration_level"]
        assert float(level) == SSP_MIGRATION_LEVEL[settings["ssp"]], name
    assert float(corridor.scenario_params("regional_rivalry")["hump_ssp_migration_level"]) == 0.5
    assert float(corridor.scenario_params("baseline")["hump_ssp_migration_level"]) == 1.0
    path = tmp_path / "own.toml"
    path.write_text('ssp = "SSP5"\n')
    assert corridor.load_scenario(str(path))["params"] == {"hump_ssp_migration_level": 1.5}
    path.write_text('ssp = "SSP3"\n[five_region.params]\nhump_ssp_migration_level = 0.8\n')
    assert corridor.load_scenario(str(path))["params"]["hump_ssp_migration_level"] == 0.8


@pytest.fixture(scope="module")
def narratives(model):
    outputs = [
        "transit_arrivals",
        "transit_losses",
        "hump_emigration_legal",
        "arrivals",
        "climate_migrants_internal",
    ]
    return {
        name: engine.simulate(
            model, params=corridor.scenario_params(name), outputs=outputs, saveper=1.0
        ).sel(time=slice(2023, 2100))
        for name in ("baseline", "fortress", "open_pathways", "regional_rivalry")
    }


@pytest.mark.parametrize(
    ("region", "published"), [("Sub-Saharan Africa", 86e6), ("Northern Africa", 19e6)]
)
def test_pessimistic_pathway_matches_groundswell_2050(narratives, region, published):
    """Clement et al. (2021), Groundswell Part 2 (World Bank), pessimistic scenario: 86 million
    internal climate migrants in Sub-Saharan Africa and 19 million in North Africa by 2050,
    within 20 % in the corridor's scenario on that pathway (regional rivalry; its populations
    are the corridor's own, with higher fertility than WPP's)."""
    migrants = float(
        narratives["regional_rivalry"].climate_migrants_internal.sel(time=2050, region=region)
    )
    assert abs(migrants / published - 1) < 0.2, migrants


def test_fortress_fewer_irregular_arrivals_more_deaths_in_transit(narratives):
    base, fortress = narratives["baseline"], narratives["fortress"]
    for years in (slice(2023, 2050), slice(2023, 2100)):
        assert float(fortress.transit_arrivals.sel(time=years).sum()) < float(
            base.transit_arrivals.sel(time=years).sum()
        )
        assert float(fortress.transit_losses.sel(time=years).sum()) > float(
            base.transit_losses.sel(time=years).sum()
        )


def test_open_pathways_more_legal_arrivals(narratives):
    base, open_ = narratives["baseline"], narratives["open_pathways"]
    for years in (slice(2023, 2050), slice(2023, 2100)):
        assert float(open_.hump_emigration_legal.sel(time=years).sum()) > float(
            base.hump_emigration_legal.sel(time=years).sum()
        )


def _to_high_income(ds, years):
    return float(ds.arrivals.sel(time=years, destination=HIGH_INCOME).sum())


def test_regional_rivalry_less_migration_to_high_income_regions_to_2050(narratives):
    """O'Neill et al. (2017), SSP3: barriers to migration; KC & Lutz (2017): low migration."""
    years = slice(2023, 2050)
    assert _to_high_income(narratives["regional_rivalry"], years) < _to_high_income(
        narratives["baseline"], years
    )


def test_regional_rivalry_less_migration_to_high_income_regions_to_2100(narratives):
    """KC & Lutz (2017): SSP3's migration is low, 50 % below the medium
    (``hump_ssp_migration_level`` 0.5, from the file's ``ssp``). Measured 2026-12-03: 554
    million arrivals in Europe and Northern America 2023-2100 under regional rivalry against
    895 in the baseline (8.7 against 13.9 million a year in 2100). Without the low-migration
    assumption (level 1, a strict xfail until then) 975 million (19.0 a year in 2100): half a
    child more per woman in the origins (Sub-Saharan Africa 4.1 against 3.0 billion people in
    2100) and slower growth outweighed doubled enforcement and halved legal pathways."""
    years = slice(2023, 2100)
    assert _to_high_income(narratives["regional_rivalry"], years) < _to_high_income(
        narratives["baseline"], years
    )


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
