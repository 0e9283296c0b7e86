"""Drivers of migration as cited effects around the migration system's calibrated baseline.

Story
-----
The closed migration system (:mod:`models.migration_system`) moves people between regions at
base rates fitted to the UN migrant stocks and WPP's net migration, and to WPP's medium variant
from 2022 (:mod:`models.migration_calibration`). Those rates already hold the development,
networks and labour demand of the baseline. The drivers here act on the *departures from that
baseline*, as factors on the base rates, so that with every driver at its baseline the system is
the calibrated one (tested to 1e-9)::

    migration_rate[o, d] = base_migration_rate[o, d] * rate_multiplier[o, d]
                           * hump_multiplier[o, d] * network_effect[o, d]
                           * pathway_multiplier[d] * migration_level + labour_rate[o, d]
                           + climate_cross_border_rate[o, d]

- **Income and the hump.** Income per head of each origin region is the population-weighted
  mean of its countries' World Bank income groups (WPP 2022's classification of the countries,
  each group at its WDI GDP per head, 2022), growing at SSP2's rate of the region as the hump
  model's (:mod:`models.hump`): the *baseline income path*. ``income_growth_shift`` and
  ``development_aid_growth`` (scenario levers, 0 at baseline) move income off that path from
  2022. The propensity to emigrate is the emigration life cycle of Clemens (2020): log
  emigration rises with log income at a constant elasticity up to ``hump_slowing_income``
  (US$5,000), the elasticity then falls linearly in log income, is zero at ``hump_peak_income``
  (US$10,000) and negative past it, down to minus the rising elasticity (at y_peak**2 /
  y_slow, US$20,000), where it stays (a mirror of the rise: the decline is not extrapolated
  beyond the incomes Clemens observes)::

      index(y) = x - min(max(x, 0), 2 L)**2 / (2 L) - 2 max(x - 2 L, 0),
      x = ln(y / y_slow),   L = ln(y_peak / y_slow)
      hump_multiplier[o, d] = exp(elasticity[d] * (index(income[o]) - index(baseline[o])))

  ``elasticity[d]`` is Clemens's +0.35 (all destinations), rising to +0.74 (rich destinations)
  with the share of the destination's immigrants who live in high-income countries (UN 2019).
  With +0.74 the propensity at US$15,000 is 2.9 times that at US$1,500 (Clemens: emigration
  roughly triples from low to upper-middle income; with +0.35, 1.6 times).
- **Bounded networks.** A diaspora lowers the cost of moving for the next migrants (Beine,
  Docquier & Ozden 2011: an elasticity of flows to the diaspora of about 0.6), but not without
  bound: the effect saturates in the diaspora's share of the origin population,
  ``s / (s + network_half_share)`` (Michaelis-Menten). ``excess_migrant_stock`` keeps the
  migrants the drivers added (or removed) beyond the base rates' flows, who return and die as
  the pair's stock does; the baseline share is the stock without them::

      network_effect = min(network_max, (sat(s) / sat(s_baseline)) ** network_elasticity)

  It is 1 when the drivers add no one, never negative and never above ``network_max``.
- **Labour markets and labour demand, allocated once.** Every region has a labour market
  (:mod:`models._labour_market`: labour force from its residents and ILOSTAT participation,
  labour demand following the baseline's labour force as the SSP output projections are built,
  wages and capital closing gaps to the structural unemployment rate in
  ``labour_adjustment_time``, ``unemployment_rate``). A destination's demand for migrant
  workers, ``labour_migration_demand`` (person/year from 2022), is a scenario's
  ``labour_shortage`` plus the share ``labour_migration_openness`` (a lever, 0 at baseline,
  whose rates hold today's labour migration) of its labour market's shortage over
  ``shortage_fill_time``. It is split across origins by their share of the destination's base
  flows across region borders: ``labour_admissions`` summed over origins is that demand, never
  more (the old corridor offered each destination's demand in full to every origin).
- **Legal pathways and border enforcement.** A share ``irregular_share[d]`` of the base
  arrivals is irregular. ``legal_pathway_factor`` (a lever, 1 at baseline; like
  ``border_enforcement``, in force from 2022, the calibration's years being history) scales the
  legal part; ``border_enforcement`` (an index, 1 in 2022) raises the smuggling cost, which deters
  little (Gathmann 2008: elasticity ~0.3) and mostly diverts crossings to longer, deadlier
  routes: the death risk per journey rises with the diverted share (as in
  :mod:`models.hump`). Irregular departures (``irregular_rate``) go through the system's
  transit stock (:mod:`models.migration_system`): ``irregular_arrivals`` arrive from it and
  ``transit_deaths`` die in it, so deaths in transit leave the migrants who set out.
  Legal pathways and irregular routes are substitutes: irregular arrivals scale with
  ``legal_pathway_factor ** -legal_deflection_elasticity``, so narrower pathways deflect
  migrants into irregularity and wider ones draw them out of it (Clemens & Gough 2018).
  Czaika & Hobolth (2016) measure the deflection as an elasticity to the *rejection rate*:
  10 % more asylum rejections raise irregular migrants into Europe by 2-4 %
  (``rejection_deflection_elasticity`` 0.3, prior 0.2-0.4), 10 % more short-stay visa
  rejections irregular entries by 4-7 %. The lever is the number of legal admissions, not a
  rejection rate: with the applications given, admissions L times the baseline's leave a
  rejection rate r(L) = 1 - L (1 - r0), whose elasticity to L at the baseline is -(1 - r0) /
  r0; with r0 = 0.75 (``rejection_share``: Eurostat 2012, three quarters of the EU's
  first-instance asylum decisions of 2011 were rejections, within Czaika & Hobolth's
  2001-2011 sample) the elasticity of irregular arrivals to admissions is 0.3 / 3 = 0.1
  (``legal_deflection_elasticity``, computed in the model; 0.07-0.13 over the prior). The
  asylum estimate is the one used: asylum is a pathway to residence, short-stay visas admit
  visitors, and their refusal rates (a few per cent to a fifth) would turn the visa
  elasticity into 1.6-13 to admissions (irregular arrivals rising faster than admissions
  fall): an effect on visitors' entries, not on pathways of residence.
  The constant elasticity is the local mapping at the baseline; with the applications held
  fixed the exact mapping gives less deflection for narrower pathways (a quarter of the
  admissions: 1.07 times the irregular arrivals against the power law's 1.15) and none past
  1 / (1 - r0) times the admissions (all applicants admitted), where the power law keeps
  deflecting (wider pathways draw ever more out of irregularity, Clemens & Gough 2018). An
  earlier version took 0.45 from a mixture of the two estimates read as elasticities to
  admissions, so that a quarter of the admissions deflected 1.87 times the irregular arrivals.
  Both levers act from 2022 (``enforcement_level``, ``legal_pathway_level``), so a run from
  1990 keeps the calibrated history whatever the scenario.
- **The SSP's migration assumption.** The shared socioeconomic pathways' population
  projections (KC & Lutz 2017) set international migration by pathway: medium in SSP1, SSP2
  and SSP4, low in SSP3, high in SSP5 (O'Neill et al. 2017's narratives: a fragmented world
  with barriers to migration, a globalised market-driven one), the low and high assumptions
  being net flows 50 % below and above the medium. Here the medium is the model's calibrated
  baseline (WPP's medium variant), not KC & Lutz's own medium path. ``ssp_migration_level`` (1
  medium, 0.5 low, 1.5 high; the scenario loader sets it from the file's ``ssp``,
  :data:`models.corridor.SSP_MIGRATION_LEVEL`) is a factor on the propensity to move, legal and
  irregular alike, in force from 2022 (``migration_level``, 1 before: the calibration's years
  are history). The first year's moves are the level times the baseline's; the migrants it
  removes (adds) leave (join) ``excess_migrant_stock``, so the network factor falls (rises)
  after and the moves go further below (above) the level times the baseline's; returns stay
  the stock's rate and follow it. Labour admissions (a destination's demand) and climate
  movers across borders are explicit additions and are not scaled.
- **Climate movers across borders.** The climate module (:mod:`models.climate`, pathway
  ``climate_scenario``, SSP2-4.5 at baseline) runs on the system's regions, with its regional
  figures where it has them (Central America's for Mexico, the rest of Central America, the
  Caribbean and South America; the World's elsewhere) and the origins' incomes. Its movers who
  settle abroad because of the change of climate since 2022 (``since_2022`` of
  :func:`models.climate.cross_border_pressure`) are added to the base flows as
  ``climate_cross_border_rate``: slow-onset migrants crossing a border, the share
  ``slow_onset_cross_border_share`` (0.1 at full mobility access, prior 0.02-0.2: below the 23 %
  of all migrants who are international, UN DESA 2013, because climate movers are poorer and
  more often trapped, Foresight 2011; Groundswell counts internal movement only), and the
  displaced by disasters settling abroad beyond 2022's hazard; spread over destinations with 69
  % to the neighbourhood (UNHCR 2024) and within each group along the 2019 migrant stock
  (movers follow networks). They are an explicit addition to the calibrated baseline, whose
  flows hold the climate of 2015-2021 (``slow_onset_cross_border_share = 0`` and
  ``cross_border_rate = 0`` remove it).
- **Remittances.** Each migrant sends ``remittance_per_migrant`` a year home: received by an
  origin is the sum over destinations of its migrant stock, with its part of the destination's
  migrants of unknown origin (:mod:`models.migration_system`'s ``unknown_origin_share``: they
  are spread over origins as the known ones, Abel & Cohen 2019), times the destination's
  figure. The figure is the world's remittances over all 281 million migrants, so all of them
  send it (with the known origins alone the low- and middle-income regions received US$614
  billion in 2022, -5.5 %).

Measured 2026-12-02 (default regions, Euler, dt = 1; ``tests/models/test_migration_drivers.py``):
propensity at US$15,000 over US$1,500: 2.89 (elasticity +0.74), 1.65 (+0.35); drivers at baseline:
flows equal to the system's without drivers, with the same irregular routes and no climate movers
(to 1e-9; the factors are exactly 1); with the transit stock and the climate movers (middle
pathway), after the rates and age schedules of 2026-12-03 (:mod:`models.migration_ages`), the
transit stock at its steady state from 1990: world migrant stock 2020 278.1 million with the
migrants of unknown origin (``international_migrant_stock``; UN DESA: 281, -1.0 %; 2024 revision:
275, +1.1 %; 2019: 271.6 against UN DESA's 271.6), 266.7 million of known origin (-5.1 %; the
transit stock held 0.78 million people in 1990 and 1991, 1.23 million in 2022); remittances to the
low- and middle-income regions US$644 billion in 2022 (World Bank: 650, -1.0 %) and 655 in 2023
(656, -0.2 %; US$858 billion worldwide in 2022 against the World Bank's 831); 1.06 million irregular
arrivals and 7,200 deaths in transit in 2022 (IOM counted about 7,000 dead and missing migrants in
2022), 1.28 million and 8,700 in 2100; people are conserved through transit to 4e-16 of emigration
every year, and net migration summed over the regions is zero to the same precision (people in
transit count in their origin). Scenarios (2023-2100,
``tests/models/test_corridor.py``, re-measured 2026-12-03): fortress 72.5 million irregular
arrivals against the baseline's 94.7 and 0.69 million deaths in transit against 0.64; regional
rivalry (SSP3, migration level 0.5) 196.6 million arrivals in Europe and Northern America from
other regions against 484.8 (about 360 at level 1), 0.33 million deaths in transit. Climate
movers across borders beyond 2022's climate (middle pathway): 0.97 million a year in 2050, 3.3
million in 2100; more with more warming from every origin
(``tests/models/test_migration_climate.py``); people displaced within 0.6 % and
cumulative climate migrants within 5 % from 2050 between dt = 1 and dt = 0.25 (Mexico, the rest of
Central America, Northern America and the rest of the world). Unemployment
(``tests/models/test_migration_labour.py``): the structural rate on the baseline; 2.2-11.6 % in six
scenario settings (baseline, fortress, open pathways, regional rivalry, sustainability, a labour
shortage of 1 million a year in Europe and in Northern America), the lowest in South-Eastern Asia
(open pathways: 2.20 %, its workers recruited abroad) and Northern America (fortress: 2.76 %), the
highest in Northern Africa; an ensemble of 300 members over every prior of the model (34): all 300
within 2-20 % every year 1990-2100 (lowest 2.83 %, Central America without Mexico; highest 11.5 %,
Northern Africa). Income growth 1 pp a year above the baseline from 2022 gives hump factors
0.56-1.04 by 2100 (most origins are past the peak), 1 pp below 0.95-1.78; network factors stay
within 0.74-1.42. An ensemble of 32 members over the drivers' priors (Mexico, Central America
without Mexico, Northern America, 1990-2100): hump factors 0.44-1.90, network factors 0.53-1.33.
Cold compile 137 s against 112 s for the system without drivers (same process, a shared 2-core
machine: ratio 1.23); a run 1990-2100 0.21 s against 0.16 s.

Sources
-------
- Clemens, M. A. (2020). The Emigration Life Cycle: How Development Shapes Emigration from Poor
  Countries. CGD Working Paper 540 / IZA DP 13614: elasticity of emigrant stocks to GDP per head
  +0.35 to all destinations, +0.74 to rich ones; slowing after ~US$5,000 (PPP), reversing after
  ~US$10,000.
- Beine, M., Docquier, F. & Ozden, C. (2011). Diasporas. Journal of Development Economics
  95(1), 30-41 (elasticity of flows to the diaspora ~0.6, we take sd 0.15).
- UN DESA (2019). International Migrant Stock 2019 (:mod:`models.migrant_stock`): diasporas
  are a few per cent of their origin's population (the world's 3.5 %), above 30 % only for
  small countries (e.g. Bosnia and Herzegovina, Albania, Jamaica); ``network_half_share`` 0.1
  (prior 0.05-0.2) puts the saturation in that range.
- World Bank (2023). World Development Indicators NY.GDP.PCAP.PP.KD (GDP per capita, PPP,
  constant 2017 international $), 2022, income-group aggregates, rounded: high income 53,000,
  upper-middle income 17,500, lower-middle income 7,000, low income 2,200; the groups of the
  countries are WPP 2022's (``High-income countries``... in ``models/data``; 12 small areas
  without a group are left out of the means). A region's mean is coarse (Northern Africa
  6,900 here against WDI's 10,600): it places the region on the hump; the baseline does not
  depend on it.
- KC, S. & Lutz, W. (2017). The human core of the shared socioeconomic pathways: Population
  scenarios by age, sex and level of education for all countries to 2100. Global
  Environmental Change 42, 181-192: migration medium in SSP1, SSP2 and SSP4, low in SSP3, high
  in SSP5; low and high are net migration 50 % below and above the medium
  (``ssp_migration_level`` 0.5 and 1.5). O'Neill, B. C. et al. (2017). The roads ahead:
  narratives for shared socioeconomic pathways. Global Environmental Change 42, 169-180.
- Dellink, R. et al. (2017). Long-term economic growth projections in the Shared
  Socioeconomic Pathways. Global Environmental Change 42, 200-214 (SSP2 growth of GDP per
  head: :data:`models.hump.GDP_PER_CAPITA_GROWTH`; the World's rate for regions it lacks).
- Pew Research Center (2023): 10.5 million unauthorized immigrants in the United States in
  2021, 23 % of its 46 million foreign-born (``irregular_share`` of Northern America);
  Clandestino (2009), Final report: 1.9-3.8 million irregular residents in the EU in 2008,
  about 8 % of its non-EU-born (Europe's); 10 % elsewhere (no agreed estimate: a lever).
- Czaika, M. & Hobolth, M. (2016). Do restrictive asylum and visa policies increase irregular
  migration into Europe? European Union Politics 17(3), 345-365 (IMI Working Paper 84, 2014:
  29 European destinations, 2001-2011).
- Eurostat (2012). Asylum applicants and first instance decisions on asylum applications in
  2011, news release of 23 March 2012: 237,400 first-instance decisions in the EU27, 177,900
  rejections (75 %).
- Clemens, M. A. & Gough, K. (2018). Can Regular Migration Channels Reduce Irregular Migration?
  Lessons for Europe from the United States. CGD Brief.
- Gathmann, C. (2008). Effects of enforcement on illegal markets: Evidence from migrant
  smuggling along the southwestern border. Journal of Public Economics 92, 1926-1941;
  IOM Missing Migrants Project (2023): route diversion and death risks as in :mod:`models.hump`.
- World Bank/KNOMAD, Migration and Development Brief 38-39 (2023), and IOM (2024) World
  Migration Report 2024: US$831 billion of remittances worldwide in 2022; with the UN's 281
  million international migrants (UN DESA 2020), US$2,960 per migrant a year
  (:data:`models.hump.REMITTANCE_PER_EMIGRANT`, ``World``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import migrant_stock, migration_system, world_partition, wpp
from ._hump_parts import GDP_PER_CAPITA_GROWTH, REMITTANCE_PER_EMIGRANT
from .world_partition import CORRIDOR_REGIONS, Derived, Partition

__all__ = [
    "build",
    "add_to",
    "MIGRATION_RATE",
    "hump_index",
    "propensity_ratio",
    "income_per_capita_2022",
    "rich_destination_share",
    "INCOME_GROUPS",
    "HUMP",
]

MIGRATION_RATE = (
    "base_migration_rate[origin, destination] * rate_multiplier[origin, destination] * "
    "hump_multiplier[origin, destination] * network_effect[origin, destination] * "
    "pathway_multiplier[destination] * migration_level + labour_rate[origin, destination] + "
    "climate_cross_border_rate[origin, destination]"
)
#: Irregular departures (per resident of the origin) and deaths per irregular journey, as the
#: drivers change them (:func:`models.migration_system.build`'s ``irregular_rate`` and
#: ``transit_death_risk``).
IRREGULAR_RATE = (
    "irregular_share[destination] * base_migration_rate[origin, destination] * "
    "rate_multiplier[origin, destination] * hump_multiplier[origin, destination] * "
    "network_effect[origin, destination] * irregular_factor[destination] * migration_level"
)
TRANSIT_DEATH_RISK = (
    "main_route_share[destination] * transit_death_risk_main + (1 - "
    "main_route_share[destination]) * transit_death_risk_diverted"
)
#: The irregular rate at the start, from which the transit stock starts at its steady state:
#: ``IRREGULAR_RATE`` without the hump and network factors, which are exactly 1 there (incomes
#: on their baseline path before 2022, no migrants added by the drivers yet) and read the
#: population, which counts the people in transit (an initialisation loop).
INITIAL_IRREGULAR_RATE = (
    "irregular_share[destination] * base_migration_rate[origin, destination] * "
    "rate_multiplier[origin, destination] * irregular_factor[destination]"
)
#: The climate pathway of the baseline (SSP2-4.5, :data:`models.climate.SCENARIOS`).
CLIMATE_SCENARIO = "middle"

#: WDI 2022 GDP per head (2017 PPP US$) of WPP 2022's World Bank income groups (rounded).
INCOME_GROUPS = {
    "High-income countries": 53000.0,
    "Upper-middle-income countries": 17500.0,
    "Lower-middle-income countries": 7000.0,
    "Low-income countries": 2200.0,
}
#: The hump's defaults (Clemens 2020).
HUMP = {
    "hump_elasticity_all": 0.35,
    "hump_elasticity_rich": 0.74,
    "hump_slowing_income": 5000.0,
    "hump_peak_income": 10000.0,
}
BASE_YEAR = 2022  # of incomes; scenario levers act from it
REMITTANCE_PER_MIGRANT = REMITTANCE_PER_EMIGRANT["World"]


def hump_index(income: Any, slowing: float = 5000.0, peak: float = 10000.0) -> np.ndarray:
    """Log propensity per unit of elasticity at an income per head (see the module docstring)."""
    x = np.log(np.asarray(income, dtype=float) / slowing)
    span = math.log(peak / slowing)
    rise = np.minimum(np.maximum(x, 0.0), 2.0 * span)
    return x - rise**2 / (2.0 * span) - 2.0 * np.maximum(x - 2.0 * span, 0.0)  # type: ignore[no-any-return]


def propensity_ratio(high: float, low: float, elasticity: float = 0.74) -> float:
    """Propensity to emigrate at income ``high`` over that at ``low`` (Clemens's shape).

    Examples
    --------
    >>> round(propensity_ratio(15000.0, 1500.0), 2)
    2.89
    """
    return float(np.exp(elasticity * (hump_index(high) - hump_index(low))))


def income_per_capita_2022(part: Partition) -> np.ndarray:
    """GDP per head 2022 of each region (2017 PPP US$): its countries' income groups' WDI
    figures weighted by their WPP 2022 population."""
    names = {c: world_partition._country_name(c) for c in world_partition.countries_of("World")}
    value = {}
    for group, income in INCOME_GROUPS.items():
        value.update(dict.fromkeys(world_partition.countries_of(group), income))
    out = np.zeros(len(part.regions))
    for i, codes in enumerate(part.countries):
        grouped = [c for c in codes if c in value]
        if not grouped:
            raise engine.SpecError(
                f"region {part.regions[i]!r} has no country in WPP's World Bank income groups; "
                "join it to a neighbouring region."
            )
        pop = np.array([wpp.population_groups(names[c], BASE_YEAR).sum() for c in grouped])
        out[i] = float(np.dot(pop, [value[c] for c in grouped]) / pop.sum())
    return out


def income_growth(part: Partition) -> list[float]:
    """SSP2 growth of GDP per head by region: the hump model's table where it has the region
    (Central America's for its parts), the World's elsewhere."""
    central = world_partition.countries_of("Central America")
    out = []
    for name, codes in zip(part.regions, part.countries, strict=True):
        if name in GDP_PER_CAPITA_GROWTH:
            out.append(GDP_PER_CAPITA_GROWTH[name])
        elif codes <= central:
            out.append(GDP_PER_CAPITA_GROWTH["Central America"])
        else:
            out.append(GDP_PER_CAPITA_GROWTH["World"])
    return out


def rich_destination_share(part: Partition, year: int = 2019) -> np.ndarray:
    """Share of each region's immigrants (UN migrant stock) living in high-income countries."""
    origin, destination, years, persons = migrant_stock._table()
    rich = world_partition.countries_of("High-income countries")
    where = part.region_of()
    keep = years == year
    d = np.array([where[c] for c in destination[keep]])
    is_rich = np.array([c in rich for c in destination[keep]], dtype=float)
    weight = persons[keep].astype(float)
    total = np.bincount(d, weight, minlength=len(part.regions))
    in_rich = np.bincount(d, weight * is_rich, minlength=len(part.regions))
    return np.divide(in_rich, total, out=np.zeros_like(total), where=total > 0)  # type: ignore[no-any-return]


IRREGULAR_SHARE = {"Northern America": 0.23, "Europe": 0.08}
IRREGULAR_SHARE_ELSEWHERE = 0.10


def irregular_share(part: Partition) -> list[float]:
    """Share of each destination's base arrivals that is irregular (sources above)."""
    return [IRREGULAR_SHARE.get(r, IRREGULAR_SHARE_ELSEWHERE) for r in part.regions]


def build(
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    *,
    start: float = 1990.0,
    stop: float = 2100.0,
    dt: float = 1.0,
    rates: np.ndarray | None = None,
    values: Mapping[str, Any] | None = None,
    climate_scenario: str = CLIMATE_SCENARIO,
) -> engine.Model:
    """The migration system of ``regions`` with the drivers (see the module docstring).

    Parameters are :func:`models.migration_system.build`'s; ``values`` may also replace the
    drivers' defaults; ``climate_scenario`` is one of :data:`models.climate.SCENARIOS` (switch
    a built model with ``climate.scenario_params(name, regions, standalone=False)``).
    """
    values = dict(values or {})
    m = migration_system.build(
        regions,
        start=start,
        stop=stop,
        dt=dt,
        rates=rates,
        migration_rate=MIGRATION_RATE,
        irregular_rate=IRREGULAR_RATE,
        transit_death_risk=TRANSIT_DEATH_RISK,
        initial_irregular_rate=INITIAL_IRREGULAR_RATE,
    )
    add_to(m, regions, climate_scenario=climate_scenario)
    for name, value in values.items():
        m.set_value(name, value)
    return m


def add_to(
    model: engine.Model,
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    *,
    climate_scenario: str = CLIMATE_SCENARIO,
) -> dict[str, str]:
    """Add the drivers to a migration-system model built with ``migration_rate=MIGRATION_RATE``.

    Returns
    -------
    dict
        Role -> variable name (``income_per_capita``, ``hump_multiplier``, ``network_effect``,
        ``labour_admissions``, ``remittances_received``...).
    """
    for name, reads in (
        ("migration_rate", "hump_multiplier"),
        ("irregular_rate", "irregular_factor"),
        ("transit_death_risk", "main_route_share"),
    ):
        var = model[name] if name in model else None
        if var is None or reads not in str(var.pieces):
            raise engine.SpecError(
                f"migration_drivers.add_to: the model's {name} does not read the drivers; "
                f"build it with migration_system.build(..., {name}=migration_drivers."
                f"{name.upper()}) or use migration_drivers.build()."
            )
    part = world_partition.partition(regions)
    if list(model.dims["origin"].elements) != list(part.regions):
        raise engine.SpecError(
            f"migration_drivers.add_to: the model's regions {list(model.dims['origin'].elements)}"
            f" are not those of {list(part.regions)}; pass the regions the model was built with."
        )
    from . import _driver_parts as parts
    from . import _labour_market

    parts.income(model, part)
    parts.hump(model, part)
    parts.networks(model)
    _labour_market.add_to(model, part)
    parts.labour(model)
    parts.remittances(model)
    parts.pathways(model, part)
    parts.ssp_migration(model)
    climate_names = parts.climate(model, part, climate_scenario)
    roles = [
        "income_per_capita",
        "baseline_income_per_capita",
        "hump_multiplier",
        "network_effect",
        "diaspora_share",
        "excess_migrant_stock",
        "labour_force",
        "employment",
        "unemployment_rate",
        "labour_migration_demand",
        "labour_admissions",
        "remittances_received",
        "remittances_sent",
        "pathway_multiplier",
        "migration_level",
        "irregular_arrivals",
        "transit_deaths",
    ]
    return {**{role: role for role in roles}, **climate_names}
