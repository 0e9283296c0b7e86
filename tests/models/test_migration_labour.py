"""Labour markets of the migration system (issue 14, point 4): unemployment within 2-20 %
through 2100 in every scenario and in 95 % of an ensemble over the model's priors, labour demand
allocated once across origins.

Reference figures (the labour market's data): ILO (2023), World Employment and Social Outlook:
Trends 2023; ILO (2022), Trends 2022, Tables 2.2 and 2.4 (2022 unemployment rates); ILOSTAT
modelled estimates (participation by sex and age, 2022). Sources in ``models/_labour_market.py``.
"""

import numpy as np
import pytest

import engine
from models import _labour_market, climate, migration_calibration, migration_drivers
from models.world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO, partition

SMALL = ("Mexico", CENTRAL_AMERICA_WITHOUT_MEXICO, "Northern America")
LOW, HIGH = 0.02, 0.20
# The scenarios' narratives (models/scenarios/*.toml) on the drivers' levers: climate pathway
# and parameter values; development cooperation in the origins that are not high-income.
RICH = {"Europe", "Northern America", "Rest of the world"}
# No climate movers across borders: every driver at its baseline.
NO_CLIMATE_MOVES = {"slow_onset_cross_border_share": 0.0, "cross_border_rate": 0.0}


def _scenarios(regions: list[str]) -> dict[str, tuple[str, dict]]:
    origins = {r: 0.005 for r in regions if r not in RICH}
    return {
        "baseline": ("middle", {}),
        "fortress": ("middle", {"border_enforcement": 3.0, "legal_pathway_factor": 0.25}),
        "open_pathways": (
            "middle",
            {
                "legal_pathway_factor": 3.0,
                "labour_migration_openness": 0.5,
                "development_aid_growth": origins,
            },
        ),
        "regional_rivalry": (
            "pessimistic",
            {
                "income_growth_shift": -0.007,
                "border_enforcement": 2.0,
                "legal_pathway_factor": 0.5,
                "ssp_migration_level": 0.5,  # SSP3's low migration (KC & Lutz 2017)
            },
        ),
        "sustainability": (
            "climate_friendly",
            {"development_aid_growth": origins, "legal_pathway_factor": 2.0},
        ),
        "labour_demand": (
            "middle",
            {"labour_shortage": {"Europe": 1.0e6, "Northern America": 1.0e6}},
        ),
    }


def _params(regions: list[str], pathway: str, values: dict) -> dict:
    return {**climate.scenario_params(pathway, regions, standalone=False), **values}


# ------------------------------------------------------------------------------ no compile
def test_every_default_region_has_a_labour_market() -> None:
    """Every region of the default partition has participation rates and a 2022 unemployment
    rate (its own, a cited proxy, or the World's), all within the plausible range."""
    part = partition()
    rates = _labour_market.structural_unemployment(part)
    assert len(rates) == len(part.regions) == 14
    assert all(LOW < u < HIGH for u in rates)
    for region in part.regions:
        assert _labour_market.profile_region(region) in (
            "Northern Africa",
            "Sub-Saharan Africa",
            "Central America",
            "Europe",
            "Northern America",
            "World",
        )
    named = dict(zip(part.regions, rates, strict=True))
    assert named["Northern Africa"] == 0.115 and named["South-Eastern Asia"] == 0.031


# ------------------------------------------------------------------------------ small runs
@pytest.fixture(scope="module")
def small():
    part = partition(SMALL)
    rates = migration_calibration.rates(part, list(range(1989, 2101)), regions=SMALL)
    model = migration_drivers.build(SMALL, stop=2100.0, rates=rates)
    outputs = [
        "unemployment_rate",
        "labour_force",
        "employment",
        "labour_admissions",
        "labour_migration_demand",
        "labour_market_shortage",
        "migration_flow",
    ]
    return model, engine.Runner(model, outputs=outputs)


@pytest.mark.slow
def test_labour_demand_is_allocated_once_across_origins(small) -> None:
    """With recruitment abroad open (labour_migration_openness) and a scenario's shortage,
    labour-driven admissions summed over origins equal the destination's demand for migrant
    workers, never more, every year from 2022."""
    model, runner = small
    names = list(model.dims["destination"].elements)
    ds = runner.run(
        {
            "labour_migration_openness": 0.5,
            "rate_multiplier": 0.5,  # fewer migrants than the baseline: tight markets
            "labour_shortage": {"Northern America": 5.0e5},
        }
    )
    admitted = ds["labour_admissions"].sum("origin")
    demand = ds["labour_migration_demand"]
    after = ds["time"] >= 2022.0
    assert float(demand.where(after).sum()) > 0
    for d, name in enumerate(names):
        a = admitted.values[after.values, d]
        cap = demand.values[after.values, d]
        assert np.all(a <= cap * (1 + 1e-12)), name
        base_flows = ds["migration_flow"].sum(("sex", "age")).values[after.values][:, :, d]
        has_origins = (base_flows * (1 - np.eye(len(names))[:, d])).sum(axis=1) > 0
        assert np.allclose(a[has_origins], cap[has_origins], rtol=1e-9), name
    # the market's own shortage opens recruitment: more demand than the scenario's alone
    na = names.index("Northern America")
    assert float(demand.sel(time=2040.0)[na]) > 5.0e5
    assert float(ds["labour_market_shortage"].sel(time=2040.0).max()) > 0
    assert float(admitted.sel(time=2021.0).sum()) == 0.0


@pytest.mark.slow
def test_unemployment_moves_with_an_immigration_shock_and_recovers(small) -> None:
    """On the calibrated baseline unemployment is the structural rate (labour demand follows
    the baseline's labour force, as the SSP output projections are built). Legal pathways to
    Northern America five times wider from 2022: the arrivals join its labour force before wages
    and capital make room for them, unemployment rises (no clamp holds it), then falls back.
    Workers recruited for its labour demand (a shortage of 3 million a year) come for jobs that
    exist: unemployment barely moves."""
    model, runner = small
    base = runner.run(NO_CLIMATE_MOVES)
    structural = np.asarray(model["structural_unemployment"].value, dtype=float)
    assert np.allclose(base["unemployment_rate"].values, structural[None, :], atol=1e-12)
    na = list(model.dims["region"].elements).index("Northern America")
    shocked = runner.run({**NO_CLIMATE_MOVES, "legal_pathway_factor": {"Northern America": 5.0}})
    u = shocked["unemployment_rate"]
    early = float(u.sel(time=2030.0)[na])
    late = float(u.sel(time=2100.0)[na])
    assert early > structural[na] + 0.005  # the arrivals look for work first
    assert abs(late - structural[na]) < abs(early - structural[na])
    assert float(u.sel(time=2021.0)[na]) == pytest.approx(structural[na], abs=1e-12)
    recruited = runner.run({**NO_CLIMATE_MOVES, "labour_shortage": {"Northern America": 3.0e6}})
    gap = recruited["unemployment_rate"].values[:, na] - structural[na]
    assert np.abs(gap).max() < 0.25 * (early - structural[na])


# ------------------------------------------------------------------------------ default regions
@pytest.fixture(scope="module")
def default_model():
    return migration_drivers.build(stop=2100.0)


@pytest.mark.slow
def test_unemployment_within_2_and_20_percent_in_every_scenario(default_model) -> None:
    """Every region of the default partition, every year 1990-2100, every scenario."""
    regions = list(default_model.dims["region"].elements)
    runner = engine.Runner(default_model, outputs=["unemployment_rate"])
    seen = {}
    for name, (pathway, values) in _scenarios(regions).items():
        u = runner.run(_params(regions, pathway, values))["unemployment_rate"].values
        seen[name] = (float(u.min()), float(u.max()))
        assert LOW <= u.min() and u.max() <= HIGH, (name, seen[name])


@pytest.mark.slow
def test_unemployment_within_2_and_20_percent_in_95_percent_of_an_ensemble(default_model) -> None:
    """300 members (Latin hypercube) over every prior the model declares (drivers, labour
    market, climate, returns, transit), baseline scenario: at least 95 % of the members keep
    every region's unemployment within 2-20 % every year 1990-2100."""
    priors = {v.name: v.prior for v in default_model.params if v.prior}
    assert {"labour_adjustment_time", "network_elasticity", "hump_elasticity_rich"} <= set(priors)
    tree = engine.run_ensemble(
        default_model,
        n=300,
        seed=14,
        design="lhs",
        outputs=["unemployment_rate"],
        horizons={"all": (0.0, None, 1.0)},
    )
    assert int((tree.dataset["status"] != 0).sum()) == 0
    u = tree["all"].dataset["unemployment_rate"]
    assert u.sizes["member"] == 300 and u.sizes["time"] == 111
    other = [d for d in u.dims if d != "member"]
    inside = (u.min(other) >= LOW) & (u.max(other) <= HIGH)
    assert float(inside.mean()) >= 0.95
