"""A labour market for every region of the migration system (issue 14, point 4).

Story
-----
Each region's **labour force** is its residents (the migration system's ``population``, by sex
and single year of age: migrants included, so every move changes it) times participation rates
by sex and age group (ILOSTAT). **Labour demand** at the going wage grows with output less
labour productivity. Output is projected as the SSP projections build it (Dellink et al. 2017,
the OECD ENV-Growth model: GDP from labour productivity and employment, employment from the
projected working-age population, its participation and an unemployment rate that converges to
its structural level), so on the calibrated baseline labour demand grows with the baseline's
labour force and unemployment stays at its structural rate (the 2022 rate); a scenario's shift
of productivity growth moves output and productivity alike and leaves it unchanged. The
baseline's labour force is the labour force less the workers among the migrants the drivers
added beyond the base rates (``excess_migrant_stock``, :mod:`models.migration_drivers`, at the
region's participation ratio), plus those among the emigrants they added. Migrants recruited
for the region's labour demand (``labour_admissions`` of :mod:`models.migration_drivers`, kept in
``recruited_migrants`` until they return or die) come for jobs that exist: they raise labour
demand with the labour force and are no shock.

Those migrants are the shock. A labour surplus lowers wages relative to productivity, firms hire
and capital flows in until the return to capital is what it was (Ottaviano & Peri 2012; Jaeger,
Ruist & Stuhler 2018: the wage effect of an immigration shock largely reverts within about ten
years; Blanchard & Katz 1992: a US state's unemployment returns to normal about six years after a
shock), so labour demand relative to the baseline's, ``labour_demand_index``, moves towards the
labour force relative to the baseline's in ``labour_adjustment_time``::

    d labour_demand_index / dt = (labour_force / baseline_labour_force - labour_demand_index)
                                 / labour_adjustment_time
    employment = (1 - structural_unemployment) * labour_demand_index * baseline_labour_force
    unemployment_rate = 1 - employment / labour_force

A labour-force shock of g a year beyond the baseline moves unemployment by about
g * labour_adjustment_time, and a one-off shock decays with that time. Nothing clamps it: an
immigration wave of a tenth of the labour force in one year raises unemployment by about ten
points, for a few years; an emigration wave lowers it as much.

Measured 2026-12-02 (default regions, dt = 1, no climate movers): legal pathways to Northern
America five times wider from 2022 raise its unemployment from 3.7 % to up to 9.9 % in the
2030s, 7.0 % in 2050 and 2.2 % in 2100 (an undershoot: the added migrants, counted at the
region's participation ratio, age out of work faster than the demand built for them adjusts);
3 million recruited workers a year move it by at most 0.4 points (4.1 %).

A **labour shortage** is employment beyond what the domestic labour force fills at the
structural rate (``labour_market_shortage``, persons); :mod:`models.migration_drivers` turns
the share ``labour_migration_openness`` of it (a lever, 0 at baseline: the base rates hold
today's labour migration) into recruitment abroad, allocated once across origins.

Data (rounded; the regions of a partition take their own figures, else the named proxy, else
the World's):

- Participation by sex and age group: :data:`models.labour.PARTICIPATION` (ILOSTAT, ILO
  modelled estimates, November 2022, EAP_2WAP_SEX_AGE_RT, 2022) for Northern Africa,
  Sub-Saharan Africa, Central America, Europe, Northern America and the World. Mexico, Central
  America without Mexico, the Caribbean and South America take Central America's profile
  (ILO: participation in Latin America and the Caribbean 61.0 % in 2022, Central America's
  profile being Latin America's nearest table); the Asian subregions and the rest of the world
  the World's. Only the path's growth and the ratio of employment to the labour force enter
  the unemployment rate, so the profile's level matters little; its age pattern does.
- Structural unemployment (the 2022 rates): ILO (2023), World Employment and Social Outlook:
  Trends 2023: World 5.8 %, Northern Africa 11.5 %, Sub-Saharan Africa 6.7 %, Central America
  3.9 % (Mexico and the rest of Central America), Europe 5.5 %, Northern America 3.7 %
  (:data:`models.labour.UNEMPLOYMENT_2022`); ILO (2022), World Employment and Social Outlook:
  Trends 2022, Table 2.4 (ILOSTAT, ILO modelled estimates, November 2021; 2022 projections):
  East Asia 4.5 %, South-East Asia 3.1 %, South Asia 5.6 %; Table 2.2: Latin America and the
  Caribbean 9.3 % (the Caribbean and South America). Western Asia, Central Asia and the rest
  of the world take the World's 5.8 % (no subregional figure confirmed here).
- Dellink, R., Chateau, J., Lanzi, E. & Magne, B. (2017). Long-term economic growth projections
  in the Shared Socioeconomic Pathways. Global Environmental Change 42, 200-214.
- Blanchard, O. J. & Katz, L. F. (1992). Regional Evolutions. Brookings Papers on Economic
  Activity 1992(1), 1-75.
- Ottaviano, G. I. P. & Peri, G. (2012). Rethinking the effect of immigration on wages.
  Journal of the European Economic Association 10(1), 152-197 (capital adjusts in the long run).
- Jaeger, D. A., Ruist, J. & Stuhler, J. (2018). Shift-share instruments and the impact of
  immigration. NBER Working Paper 24285.
  Both describe the time by which a shock has mostly gone (6-10 years); with a first-order
  adjustment 95 % of a gap closes in three time constants: ``labour_adjustment_time`` 3 years
  (prior 2-5).
"""

from __future__ import annotations

import engine

from . import labour
from .world_partition import Partition

__all__ = ["add_to", "structural_unemployment", "profile_region"]

#: Regions of a partition without their own participation table: the table they take.
PARTICIPATION_PROXY = {
    "Mexico": "Central America",
    "Central America without Mexico": "Central America",
    "Caribbean": "Central America",
    "South America": "Central America",
}
#: Unemployment rates 2022 (share), sources in the module docstring.
UNEMPLOYMENT_2022 = {
    **labour.UNEMPLOYMENT_2022,
    "Mexico": labour.UNEMPLOYMENT_2022["Central America"],
    "Central America without Mexico": labour.UNEMPLOYMENT_2022["Central America"],
    "Eastern Asia": 0.045,
    "South-Eastern Asia": 0.031,
    "Southern Asia": 0.056,
    "Caribbean": 0.093,
    "South America": 0.093,
}
ADJUSTMENT_TIME = 3.0  # years (Blanchard & Katz 1992; Jaeger et al. 2018)


def profile_region(region: str) -> str:
    """The participation table a region takes (its own, a proxy, or the World's)."""
    if region in labour.PARTICIPATION:
        return region
    return PARTICIPATION_PROXY.get(region, "World")


def structural_unemployment(part: Partition) -> list[float]:
    """Each region's unemployment rate of 2022 (the World's where none is given)."""
    return [UNEMPLOYMENT_2022.get(r, UNEMPLOYMENT_2022["World"]) for r in part.regions]


def add_to(m: engine.Model, part: Partition) -> None:
    """Labour force, labour demand, employment, unemployment and shortages by region (module
    docstring); reads the drivers' ``excess_migrant_stock``."""
    regions = list(part.regions)
    m.param(
        "participation_rate",
        labour.participation_rates([profile_region(r) for r in regions]),
        dims=("region", "sex", "age"),
        units="1",
        bounds=(0, 1),
        doc="Labour-force participation by sex and age, 2022 (ILOSTAT; proxies in "
        "models._labour_market).",
    )
    m.param(
        "structural_unemployment",
        structural_unemployment(part),
        dims=("region",),
        units="1",
        bounds=(0.005, 0.5),
        doc="Unemployment rate the market returns to: 2022's (ILO WESO Trends 2022, 2023).",
    )
    m.param(
        "labour_adjustment_time",
        ADJUSTMENT_TIME,
        units="year",
        bounds=(0.5, 50),
        prior=("uniform", 2.0, 5.0),
        doc="Time in which wages and capital close a gap between unemployment and its "
        "structural rate (Blanchard & Katz 1992; Jaeger et al. 2018).",
    )
    m.aux(
        "labour_force",
        "sum(population[region, sex, age] * participation_rate[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="person",
        doc="People working or seeking work: residents (migrants included) by participation.",
    )
    m.stock(
        "recruited_migrants",
        initial=0.0,
        dims=("region",),
        units="person",
        doc="Migrants recruited abroad for the region's labour demand (labour_admissions), "
        "still there: they came for jobs that exist, so they are no labour-force shock.",
    )
    m.flow(
        "recruitment",
        "sum(labour_admissions[origin, region], 'origin')",
        into="recruited_migrants",
        dims=("region",),
        units="person/year",
        doc="Labour-driven admissions arriving.",
    )
    m.flow(
        "recruited_leaving",
        "recruited_migrants[region] * (return_rate + zidz(sum(migrant_deaths_total[origin, "
        "region], 'origin'), sum(migrant_stock_total[origin, region], 'origin')))",
        out_of="recruited_migrants",
        dims=("region",),
        units="person/year",
        doc="Recruited migrants going home or dying, at the rates of the region's migrants.",
    )
    m.aux(
        "added_workers",
        "zidz(labour_force[region], total_population[region]) * "
        "(sum(excess_migrant_stock[origin, region], 'origin') - recruited_migrants[region] - "
        "sum(excess_migrant_stock[region, destination], 'destination'))",
        dims=("region",),
        units="person",
        doc="Workers among the immigrants the drivers added (but those recruited for jobs), "
        "less those among the emigrants they added (at the region's participation ratio).",
    )
    m.aux(
        "baseline_labour_force",
        "max(labour_force[region] - added_workers[region], 0.01 * labour_force[region])",
        dims=("region",),
        units="person",
        doc="The labour force of the calibrated baseline, which labour demand follows.",
    )
    m.stock(
        "labour_demand_index",
        initial=1.0,
        dims=("region",),
        units="1",
        doc="Labour demand at the going wage relative to the baseline's.",
    )
    m.flow(
        "labour_demand_adjustment",
        "(labour_force[region] / baseline_labour_force[region] - labour_demand_index[region]) "
        "/ labour_adjustment_time",
        into="labour_demand_index",
        dims=("region",),
        units="1/year",
        doc="Wages and capital adjusting labour demand to the labour force.",
    )
    m.aux(
        "employment",
        "(1 - structural_unemployment[region]) * labour_demand_index[region] * "
        "baseline_labour_force[region]",
        dims=("region",),
        units="person",
        doc="Employed people.",
    )
    m.aux(
        "unemployment_rate",
        "1 - zidz(employment[region], labour_force[region])",
        dims=("region",),
        units="1",
        doc="Unemployed share of the labour force.",
    )
    m.aux(
        "labour_market_shortage",
        "max(employment[region] - labour_force[region] * (1 - structural_unemployment[region]), 0)",
        dims=("region",),
        units="person",
        doc="Jobs beyond what the domestic labour force fills at the structural rate.",
    )
