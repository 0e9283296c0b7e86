"""A closed, global migration system: demography per region joined by origin-destination flows.

Story
-----
The world is cut into regions that cover it once (:mod:`models.world_partition`: any list of
WPP locations plus the rest of the world). Each region's people are counted by sex and single
year of age with WPP 2022's vital rates (:mod:`models.demography`, its net migration path left
out): migration is no longer an input but the sum of flows between regions.

- ``migration_flow[origin, destination, sex, age]`` (persons a year): the origin's residents
  times ``migration_rate[origin, destination]`` (moves a year per resident of the origin), spread
  over the origin's residents by the origin's age schedule ``emigration_age_pattern[region,
  age]`` and the migrants' sex share (UN DESA 2020): the people leaving. The schedules are of
  the Rogers-Castro family (Rogers & Castro 1981), fitted per region so that the model's net
  migration by age 1990-2019 matches the age pattern of WPP's estimates
  (:mod:`models.migration_ages`; the typical schedule in every region of another partition).
  Migrants keep their sex and age, and age only with the time that passes.
- Irregular journeys take time. The part ``irregular_rate[origin, destination]`` of the rate
  (``irregular_share[destination]`` of it here, 0 by default: moves are instantaneous, as the
  calibration assumes; :mod:`models.migration_drivers` sets the cited shares and lets
  enforcement change them) leaves the origin into ``transit_stock[origin, destination, sex,
  age]``, people on the route, who age there (a cohort shift) and leave it by arriving
  (``transit_arrivals``) or dying (``deaths_in_transit``, a probability ``transit_death_risk``
  per journey) after ``transit_time`` on average (UNODC 2018: journeys of weeks to months; some
  migrants are stranded for years). The exits are the share of the stock leaving within a
  step, so the stock never goes negative at any step; at dt = 1 a journey lasts at least the
  step, and a migrant arrives a year older. The rest, ``direct_moves``, arrive in the step they
  leave. The stock starts at its steady state under the start's rates (an initial equation:
  the start's departures into transit times their mean stay, ``1 / transit_exit_rate``), so the
  first years' arrivals are the routes' usual ones, not those of routes that start empty.
- ``migrant_stock[origin, destination, sex, age]``: people born in the origin living in the
  destination (the diaspora; UN DESA's definition of the migrant stock), a stock of the model
  that ages with the population, dies at the destination's death rates (``migrant_deaths``) and
  returns home at ``return_rate`` a year (``return_migration``): that share of the pair's stock,
  spread over its ages by the origin's schedule, as the origin's emigrants are spread over its
  residents. Returns fall with the time spent abroad (OECD 2008: 20-50 % of immigrants leave
  within five years of arrival); the stock has no duration, and age stands for it (recent
  arrivals are young). Returning at the stock's own ages instead, the stock was too young (2015
  median age: world 38.0, Europe 39.9, Northern America 38.5 against the UN's 39, 43 and 42;
  39.7, 42.1 and 40.4 with the typical schedule everywhere, 39.5, 38.5 and 41.1 with the fitted
  ones, whose fit holds the world's median of 2019 but not the regions') and origins with large
  diasporas lost their young for older returnees (Caribbean 2100 -19 % against WPP; -8 % with
  the typical schedule, -1 % with the fitted ones). It is part of the destination's population,
  not beside it. The diagonal (moves between countries of one region) is a stock
  too, but moves no one between regions.
- Migrants of unknown origin. UN DESA's migrant stock counts every international migrant;
  its table by origin and destination leaves 11.4 of the 271.6 million of 2019 without an
  origin (8.1 of 153.0 million in 1990; 3.6-5.3 % of the known-origin migrants in every year
  1990-2019). The pairs' stocks are those of known origin (the calibration's targets, as the
  UN's table gives them), and ``unknown_origin_migrants[destination, sex, age]`` counts the
  rest: ``unknown_origin_share[destination]`` (:func:`models.migrant_stock.unknown_origin_share`:
  UN DESA's total migrant stock of the destination less the table's pairs, over the pairs;
  linear between the UN's years, the 2019 share after) times the destination's known-origin
  migrants, at their sexes and ages. Their origins are those of the known ones (as Abel &
  Cohen 2019 allocate them over origins), so they age, die at the destination's death rates
  and return as the known ones do. They are residents of the destination, counted within its
  population (WPP's, which holds every resident), not added to it: they move no one and
  change no flow, and the calibration, fitted to the table's pairs, is unchanged.
  (:mod:`models.migration_drivers` counts their remittances, to the origins of the known ones.)
  ``international_migrant_stock[destination]`` is both, UN DESA's quantity: at the start it is
  UN DESA's total of every region.
- ``emigration``/``immigration`` (region, sex, age) are the sums of the flows across region
  borders, first moves and returns, as people move: departures (into transit too) and arrivals
  (direct or from transit).

Accounting of people in transit: they are residents of their origin until they arrive, as WPP
counts a migrant as an emigrant when he or she takes up residence elsewhere (UN DESA 1998,
Recommendations on Statistics of International Migration, Rev. 1: a change of the country of
usual residence). So ``population`` is the people present in a region; ``total_population``
adds its emigrants on irregular routes (``emigrants_in_transit``); ``deaths`` includes their
deaths on the routes (``emigrant_deaths_in_transit``); ``emigration_on_arrival`` is its
emigrants arriving elsewhere and the migrants it hosts going home, and ``net_migration =
immigration - emigration_on_arrival``. A region's ``total_population`` changes by ``births -
deaths + net_migration``; its people present by ``births - (deaths - emigrant_deaths_in_transit)
+ immigration - emigration``; the start's ``total_population`` is WPP's (those then in
transit are taken from the people present). Rates are per resident (``total_population``).

Closure: every move leaves one region's population and enters another's or the transit
stock, so people are conserved. Every step, to 1e-9 of the gross flows (tests; the default
model every year 1990-2100 under every scenario): summed over regions net migration is zero,
and emigration (departures) = immigration (arrivals) + change in transit + deaths in transit -
for each region's own emigrants too (``emigration = emigration_on_arrival`` + the change of
``emigrants_in_transit`` + ``emigrant_deaths_in_transit``); the world's population (the
regions' total populations) changes by births - deaths.

Rates: ``migration_rate = base_migration_rate * rate_multiplier``. The base rates are
``pair_rate_path[origin, destination, calendar_year]``: moves a year per resident of the origin,
by pair and period (:mod:`models.migration_calibration`, shipped in
``models/data/migration_system_rates.csv.gz`` for the default regions): 1990-2021 fitted to the
UN migrant stocks and WPP's net migration, and the baseline from 2022 (2022-2029, 2030-2049,
2050-2100) to WPP's medium-variant net migration of each region, each pair drawn to its
2015-2021 rate. ``rate_multiplier[origin, destination]`` (1 by default) is where drivers
(income, networks, labour demand, policy) will act, as factors on the baseline rates.

Measured (default regions, Euler, dt = 1; ``tests/models/test_migration_system.py``; 2026-12-03,
the fitted age schedules): world migrant stock 2019 +0.2 % (260.9 million against the UN's 260.3
million of known origin; with the migrants of unknown origin 272.1 million against UN DESA's
271.6, +0.2 %; 278.7 in 2020), its median age 39.6 (UN DESA 2019: 39); 38 of the 44 pairs above
1 million within 20 % in 2019; net migration 1990-2021 within 15 % of WPP's in 10 of 14 regions
(Southern Asia -25 %, Sub-Saharan Africa -23 %, Northern America -18 %, Europe -16 %: the UN's
stocks imply less than WPP's figures, by the accounting identity beyond any plausible deaths of
migrants, :func:`models.migrant_stock.net_migration_accounting`); net migration
2022-2050 within 12 % of WPP's medium variant in every region; population within 2 % of WPP's in
2050 in every region (at most Northern America -1.9 %, Central Asia -1.9 %) and within 5 % in
2100 (at most Mexico +4.8 %, Central Asia -3.2 %; with the typical Rogers-Castro schedule
everywhere the Caribbean was -7.8 %, Central Asia -7.2 %, Mexico +6.2 %: the ages of the gross
flows, whose net at ages 0-9 was about twice WPP's).
Compile about 40 s (cold cache, as the corridor model's), a run 1990-2100 0.1-0.2 s.

Sources
-------
- UN DESA (2019). International Migrant Stock 2019 (:mod:`models.migrant_stock`): by origin
  and destination, and the total by region of destination (migrants of unknown origin too).
- Abel, G. J. & Cohen, J. E. (2019). Bilateral international migration flow estimates for 200
  countries. Scientific Data 6, 82 (migrants of unknown origin spread as the known ones).
- United Nations, DESA, Population Division (2022). World Population Prospects 2022
  (:mod:`models.demography`).
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30; the schedules
  fitted per region as Raymer & Rogers (2008) fit them (:mod:`models.migration_ages`).
- UN DESA (2020). International Migrant Stock 2020: women are 48.1 % of international migrants.
- UNODC (2018). Global Study on Smuggling of Migrants 2018: smuggling journeys last from days
  to months, and some migrants stay years in transit countries (``transit_time`` 0.5 years,
  prior 0.25-1). IOM Missing Migrants Project: deaths per irregular journey
  (``transit_death_risk_2022`` 0.0067, the mix of :mod:`models.migration_drivers`' routes).
- UN DESA Statistics Division (1998). Recommendations on Statistics of International
  Migration, Revision 1. Statistical Papers Series M No. 58: a migrant is counted on a change
  of the country of usual residence (people in transit stay residents of their origin).
- OECD (2008). International Migration Outlook 2008, Part III "Return migration: a new
  perspective": 20-50 % of immigrants leave within five years of arrival (returns or onward);
  ``return_rate`` 2 % a year of the whole stock, most of which settled long ago (prior 1-4 %).
  A check: returns are 25-30 % of the moves across region borders 1990-2020 (first moves plus
  returns), below the about 45 % of migrants who returned in Azose & Raftery's (2019, PNAS
  116(1), 116-122) country-to-country estimates, which also count moves within regions.
- UN DESA (2016). International Migration Report 2015: Highlights (ST/ESA/SER.A/375): median
  age of international migrants 39 years (2015), 43 in Europe, 42 in Northern America, 44 in
  Oceania, 29 in Africa. UN DESA (2019). International Migration 2019: Highlights: 39 years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import demography, migrant_stock, world_partition
from .life_tables import rogers_castro
from .world_partition import CORRIDOR_REGIONS, Derived, Partition

__all__ = [
    "build",
    "initial_migrant_stock",
    "unknown_origin_share_path",
    "RETURN_RATE",
    "MIGRATION_RATE",
]

#: The equation of ``migration_rate`` when no drivers act (:mod:`models.migration_drivers`
#: passes its own to :func:`build`).
MIGRATION_RATE = "base_migration_rate[origin, destination] * rate_multiplier[origin, destination]"
#: The equations of ``irregular_rate[origin, destination]`` (irregular departures a year per
#: resident of the origin) and ``transit_death_risk[destination]`` (deaths per irregular
#: journey) when no drivers act; :mod:`models.migration_drivers` passes its own.
IRREGULAR_RATE = "irregular_share[destination] * migration_rate[origin, destination]"
TRANSIT_DEATH_RISK = "transit_death_risk_2022"
TRANSIT_TIME = 0.5  # years on an irregular route (see the module docstring)
TRANSIT_DEATH_RISK_2022 = 0.0067  # deaths per irregular journey, 2022 (IOM; drivers' mix)
RETURN_RATE = 0.02  # a year, of the migrant stock (OECD 2008, see the module docstring)
FEMALE_SHARE_OF_MIGRANTS = demography.FEMALE_SHARE_OF_MIGRANTS


def build(
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    *,
    start: float = 1990.0,
    stop: float = 2100.0,
    dt: float = 1.0,
    rates: np.ndarray | None = None,
    values: Mapping[str, Any] | None = None,
    migration_rate: str = MIGRATION_RATE,
    irregular_rate: str = IRREGULAR_RATE,
    transit_death_risk: str = TRANSIT_DEATH_RISK,
    initial_irregular_rate: str | None = None,
    age_schedules: np.ndarray | None = None,
) -> engine.Model:
    """The migration system of ``regions`` plus the rest of the world.

    Parameters
    ----------
    regions : sequence of str or Derived
        WPP locations and derived regions (:func:`models.world_partition.partition`).
    start, stop, dt : float
        Run times (mid-year convention). ``start`` must be a year of the UN migrant stock
        (1990, 1995, ..., 2015, 2019): the migrant stock starts from it.
    rates : array, optional
        Base migration rates (origin, destination, calendar year ``int(start) - 1`` ..
        2100), moves a year per resident of the origin. Default: the shipped calibration for
        the default regions, else fitted on the fly (:func:`models.migration_calibration.rates`:
        seconds for a few regions, minutes for a dozen).
    values : mapping, optional
        Default parameter values to replace, by name.
    migration_rate : str
        The equation of ``migration_rate[origin, destination]`` (moves a year per resident of
        the origin); drivers that add variables of their own (:mod:`models.migration_drivers`)
        give theirs and declare the names it reads.
    irregular_rate, transit_death_risk : str
        The equations of ``irregular_rate[origin, destination]`` (the part of
        ``migration_rate`` that travels irregularly, through ``transit_stock``) and
        ``transit_death_risk[destination]`` (deaths per irregular journey), as
        ``migration_rate``.
    initial_irregular_rate : str, optional
        The equation of the irregular rate at the start, from which ``transit_stock`` starts
        at its steady state; it must not read the population (which counts the people in
        transit: an initialisation loop). Default: ``irregular_rate`` itself (the system's reads
        no population); :mod:`models.migration_drivers` gives its rate with the factors that
        are 1 at the start left out.
    age_schedules : array, optional
        Each region's emigration and return age schedule (region, age), each summing to 1.
        Default: the shipped fit for the default regions (:mod:`models.migration_ages`), else
        the typical Rogers-Castro schedule in every region.

    Returns
    -------
    engine.Model
        Stocks ``population`` (region, sex, age) and ``migrant_stock`` (origin, destination, sex,
        age, known origins); ``international_migrant_stock`` (destination: known and unknown
        origins, UN DESA's total); ``migration_flow``, ``return_migration``, ``migrant_deaths``,
        ``emigration``, ``immigration``, ``net_migration``, ``births``, ``deaths``,
        ``life_expectancy``...
    """
    from . import migration_ages, migration_calibration

    base_year = int(start)
    if float(start) != base_year or base_year not in migrant_stock.YEARS:
        raise engine.SpecError(
            f"migration_system.build: start={start:g} is no year of the UN migrant stock; "
            f"start in one of {list(migrant_stock.YEARS)} (e.g. 1990, the calibration's, or "
            "2019) and read the years you need from the run."
        )
    part = world_partition.partition(regions)
    paths, initial = world_partition.region_paths(part, base_year)
    m = engine.Model(
        "migration_system",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc="Closed global migration system: demography per region, origin-destination flows.",
    )
    names = list(part.regions)
    m.dimension("region", names)
    m.dimension("origin", names)
    m.dimension("destination", names)
    demography.add_to(
        m,
        base_year=base_year,
        migration=False,
        paths=paths,
        initial=initial,
        away="emigrants_in_transit",
        away_deaths="emigrant_deaths_in_transit",
    )
    years = [int(y) for y in m.dims["calendar_year"].elements]
    if rates is None:
        rates = migration_calibration.rates(part, years, regions=regions)
    rates = np.asarray(rates, dtype=float)
    if rates.shape != (len(names), len(names), len(years)):
        raise engine.SpecError(
            f"rates have shape {rates.shape}; expected (origin, destination, calendar year) = "
            f"{(len(names), len(names), len(years))} for the years {years[0]}-{years[-1]}."
        )
    if age_schedules is None:
        age_schedules = migration_ages.shipped_or_typical(part)
    age_schedules = np.asarray(age_schedules, dtype=float)
    if age_schedules.shape != (len(names), 101):
        raise engine.SpecError(
            f"age_schedules have shape {age_schedules.shape}; expected (region, age) = "
            f"{(len(names), 101)}."
        )
    add_migration(
        m,
        part,
        rates,
        initial,
        base_year,
        age_schedules,
        migration_rate,
        irregular_rate,
        transit_death_risk,
        irregular_rate if initial_irregular_rate is None else initial_irregular_rate,
        years,
    )
    for name, value in dict(values or {}).items():
        m.set_value(name, value)
    return m


def initial_migrant_stock(
    part: Partition, initial: np.ndarray, year: int, age_schedules: np.ndarray | None = None
) -> np.ndarray:
    """The UN migrant stock of ``year`` by (origin, destination, sex, age).

    Each pair's total is spread over the destination's residents weighted by the origin's age
    schedule (``age_schedules`` (origin, age); default the typical Rogers-Castro schedule)
    cumulated to each age (the ages of a stock gathered under steady flows, as in
    :func:`models.vital_rates.initial_population`) and over sexes by the migrants' sex share.
    """
    totals = migrant_stock.stock(part, year)
    if age_schedules is None:
        age_schedules = np.tile(rogers_castro(), (len(part.regions), 1))
    sex = np.array([FEMALE_SHARE_OF_MIGRANTS, 1 - FEMALE_SHARE_OF_MIGRANTS])
    grown = np.cumsum(age_schedules, axis=-1)  # (O, 101)
    weight = grown[:, None, None, :] * (initial * sex[None, :, None])[None]  # (O, D, 2, 101)
    weight = weight / weight.sum(axis=(2, 3), keepdims=True)
    return totals[:, :, None, None] * weight  # type: ignore[no-any-return]


def unknown_origin_share_path(part: Partition, years: Sequence[int]) -> np.ndarray:
    """Each region's migrants of unknown origin per migrant of known origin (R, len(years)):
    :func:`models.migrant_stock.unknown_origin_share` at the UN's years, linear between them,
    the first year's before 1990 and 2019's after (module docstring)."""
    share = migrant_stock.unknown_origin_share(part)
    at = np.array(migrant_stock.YEARS, dtype=float)
    return np.array([np.interp(np.asarray(years, dtype=float), at, row) for row in share])


def add_migration(
    m: engine.Model,
    part: Partition,
    rates: np.ndarray,
    initial: np.ndarray,
    base_year: int,
    age_schedules: np.ndarray,
    migration_rate: str = MIGRATION_RATE,
    irregular_rate: str = IRREGULAR_RATE,
    transit_death_risk: str = TRANSIT_DEATH_RISK,
    initial_irregular_rate: str = IRREGULAR_RATE,
    years: Sequence[int] | None = None,
) -> None:
    """Flows, migrant stocks, transit, emigration and immigration (module docstring);
    ``years``: the model's calendar years (default: its ``calendar_year`` dim)."""
    if years is None:
        years = [int(y) for y in m.dims["calendar_year"].elements]
    n = len(part.regions)
    od = ("origin", "destination")
    od4 = ("origin", "destination", "sex", "age")
    r3 = ("region", "sex", "age")
    m.param(
        "pair_rate_path",
        rates,
        dims=(*od, "calendar_year"),
        units="1/year",
        bounds=(0, 1),
        doc="Base migration rate of each pair and calendar year: moves a year per resident "
        "of the origin (fitted to the UN migrant stocks and WPP's net migration to 2021, to "
        "WPP's medium variant after).",
    )
    m.param(
        "rate_multiplier",
        1.0,
        dims=od,
        units="1",
        bounds=(0, 100),
        doc="Factor on the base rates (where drivers and scenarios act).",
    )
    m.param(
        "is_other_region",
        1.0 - np.eye(n),
        dims=od,
        units="1",
        bounds=(0, 1),
        doc="1 where origin and destination differ (a move across region borders).",
    )
    m.param(
        "return_rate",
        RETURN_RATE,
        units="1/year",
        bounds=(0, 0.5),
        prior=("uniform", 0.01, 0.04),
        doc="Share of a migrant stock going home a year (OECD 2008: 20-50 % of immigrants "
        "leave within five years; the stock is mostly long settled).",
    )
    m.aux(
        "base_migration_rate",
        "sum(pair_rate_path[origin, destination, calendar_year] * "
        "calendar_year_weight[calendar_year], 'calendar_year')",
        dims=od,
        units="1/year",
        doc="Base moves a year per resident of the origin, at the step's mid-point.",
    )
    m.aux(
        "migration_rate",
        migration_rate,
        dims=od,
        units="1/year",
        doc="Moves a year per resident of the origin.",
    )
    m.param(
        "emigration_age_pattern",
        age_schedules,
        dims=("region", "age"),
        units="1",
        bounds=(0, 1),
        doc="Relative migration rates by age of each region's emigrants and returning "
        "natives: a Rogers-Castro schedule fitted per region to WPP's net migration by age "
        "(models.migration_ages), summing to 1.",
    )
    m.aux(
        "emigration_weight",
        "migrant_sex_share[sex] * emigration_age_pattern[region, age] * "
        "population[region, sex, age]",
        dims=r3,
        units="person",
        doc="Residents weighted by the migrants' age (Rogers-Castro) and sex schedule.",
    )
    m.aux(
        "emigration_age_share",
        "zidz(emigration_weight[region, sex, age], "
        "sum(emigration_weight[region, sex, age], 'sex', 'age'))",
        dims=r3,
        units="1",
        doc="Share of a region's emigrants of each sex and age.",
    )
    m.param(
        "initial_migrant_stock",
        initial_migrant_stock(part, initial, base_year, age_schedules),
        dims=od4,
        units="person",
        bounds=(0, None),
        doc=f"UN International Migrant Stock {base_year} by pair, spread over sexes and ages.",
    )
    m.stock(
        "migrant_stock",
        initial="initial_migrant_stock[origin, destination, sex, age]",
        dims=od4,
        units="person",
        non_negative=True,
        doc="People born in the origin living in the destination (part of its population).",
    )
    m.aux(
        "migration_flow",
        "migration_rate[origin, destination] * total_population[origin] * "
        "emigration_age_share[origin, sex, age]",
        dims=od4,
        units="person/year",
        doc="People leaving the origin for the destination a year, by sex and age.",
    )
    add_transit(m, irregular_rate, transit_death_risk, initial_irregular_rate)
    m.aux(
        "return_age_weight",
        "sum(emigration_age_pattern[origin, age] * migrant_stock[origin, destination, sex, "
        "age], 'sex', 'age')",
        dims=od,
        units="person",
        doc="A pair's migrants weighted by the Rogers-Castro schedule of their age, summed.",
    )
    m.flow(
        "return_migration",
        "return_rate * zidz(migrant_stock_total[origin, destination] * "
        "emigration_age_pattern[origin, age] * migrant_stock[origin, destination, sex, age], "
        "return_age_weight[origin, destination])",
        out_of="migrant_stock",
        dims=od4,
        units="person/year",
        doc="Migrants going back to their origin a year: return_rate of the pair's stock, at "
        "the ages of the Rogers-Castro schedule (young, recent arrivals return most).",
    )
    m.flow(
        "migrant_deaths",
        "mortality_probability[destination, sex, age] * migrant_stock[origin, destination, "
        "sex, age]",
        out_of="migrant_stock",
        dims=od4,
        units="person/year",
        doc="Deaths of migrants, at the destination's death rates (within its deaths).",
    )
    m.cohort_shift("migrant_stock", "age", every=1)
    m.aux(
        "moves_across",
        "is_other_region[origin, destination] * migration_flow[origin, destination, sex, age]",
        dims=od4,
        units="person/year",
        doc="First moves leaving across region borders.",
    )
    m.aux(
        "arrivals_across",
        "is_other_region[origin, destination] * (direct_moves[origin, destination, sex, age] "
        "+ transit_arrivals[origin, destination, sex, age])",
        dims=od4,
        units="person/year",
        doc="First moves arriving across region borders (directly or from transit).",
    )
    m.aux(
        "returns_across",
        "is_other_region[origin, destination] * return_migration[origin, destination, sex, age]",
        dims=od4,
        units="person/year",
        doc="Returns across region borders (from the destination to the origin).",
    )
    m.flow(
        "emigration",
        "sum(moves_across[region, destination, sex, age], 'destination') + "
        "sum(returns_across[origin, region, sex, age], 'origin')",
        out_of="population",
        dims=r3,
        units="person/year",
        doc="People leaving the region a year (departures): its emigrants, on irregular "
        "routes too, and the migrants it hosts going home.",
    )
    m.flow(
        "immigration",
        "sum(arrivals_across[origin, region, sex, age], 'origin') + "
        "sum(returns_across[region, destination, sex, age], 'destination')",
        into="population",
        dims=r3,
        units="person/year",
        doc="People arriving in the region a year: immigrants and its returning emigrants.",
    )
    m.aux(
        "emigration_on_arrival",
        "sum(arrivals_across[region, destination, sex, age], 'destination') + "
        "sum(returns_across[origin, region, sex, age], 'origin')",
        dims=r3,
        units="person/year",
        doc="The region's emigrants arriving in other regions a year (directly or from "
        "transit: counted when they take up residence elsewhere, as WPP does) and the migrants "
        "it hosts going home: emigration less the change in its emigrants in transit and their "
        "deaths.",
    )
    m.aux(
        "net_migration",
        "immigration[region, sex, age] - emigration_on_arrival[region, sex, age]",
        dims=r3,
        units="person/year",
        doc="Net international migration across the region's borders: arrivals less its "
        "emigrants' arrivals elsewhere (people in transit count in their origin until they "
        "arrive); zero summed over regions.",
    )
    m.aux(
        "net_migration_total",
        "sum(net_migration[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="person/year",
        doc="Net migration of the region, both sexes, all ages.",
    )
    m.aux(
        "migrant_deaths_total",
        "sum(migrant_deaths[origin, destination, sex, age], 'sex', 'age')",
        dims=od,
        units="person/year",
        doc="Deaths of the migrants of each pair.",
    )
    m.aux(
        "migrant_stock_total",
        "sum(migrant_stock[origin, destination, sex, age], 'sex', 'age')",
        dims=od,
        units="person",
        doc="Migrant stock of each pair.",
    )
    m.param(
        "unknown_origin_share_path",
        unknown_origin_share_path(part, years),
        dims=("destination", "calendar_year"),
        units="1",
        bounds=(0, 1),
        doc="Migrants of unknown origin per migrant of known origin in the destination (UN "
        "DESA 2019: its total migrant stock less the table by origin; linear between the UN's "
        "years 1990-2019, the 2019 share after).",
    )
    m.aux(
        "unknown_origin_share",
        "sum(unknown_origin_share_path[destination, calendar_year] * "
        "calendar_year_weight_at_time[calendar_year], 'calendar_year')",
        dims=("destination",),
        units="1",
        doc="Migrants of unknown origin per migrant of known origin in the destination, now.",
    )
    m.aux(
        "unknown_origin_migrants",
        "unknown_origin_share[destination] * "
        "sum(migrant_stock[origin, destination, sex, age], 'origin')",
        dims=("destination", "sex", "age"),
        units="person",
        doc="International migrants in the destination whose origin the UN does not record "
        "(part of its population, not of any pair's stock): the destination's share of them "
        "times its migrants of known origin, at their sexes and ages.",
    )
    m.aux(
        "international_migrant_stock",
        "sum(migrant_stock_total[origin, destination], 'origin') + "
        "sum(unknown_origin_migrants[destination, sex, age], 'sex', 'age')",
        dims=("destination",),
        units="person",
        doc="All international migrants living in the destination, of known origin or not "
        "(UN DESA's total migrant stock).",
    )


def add_transit(
    m: engine.Model,
    irregular_rate: str,
    transit_death_risk: str,
    initial_irregular_rate: str = IRREGULAR_RATE,
) -> None:
    """Irregular journeys through ``transit_stock``: a delay with deaths, starting at its steady
    state; the people in transit counted in their origin (module docstring)."""
    od4 = ("origin", "destination", "sex", "age")
    r3 = ("region", "sex", "age")
    m.param(
        "irregular_share",
        0.0,
        dims=("destination",),
        units="1",
        bounds=(0, 1),
        doc="Share of the destination's arrivals that travel irregularly, through transit "
        "(0 here, where moves are instantaneous as the calibration assumes; the drivers set "
        "the cited shares).",
    )
    m.param(
        "transit_time",
        TRANSIT_TIME,
        units="year",
        bounds=(0.05, 5),
        prior=("uniform", 0.25, 1.0),
        doc="Mean time on an irregular route (UNODC 2018: journeys of weeks to months, some "
        "stranded for years).",
    )
    m.param(
        "transit_death_risk_2022",
        TRANSIT_DEATH_RISK_2022,
        units="1",
        bounds=(0, 0.5),
        doc="Deaths per irregular journey in 2022 (IOM Missing Migrants; the drivers' mix of "
        "main and diverted routes).",
    )
    m.aux(
        "irregular_rate",
        irregular_rate,
        dims=("origin", "destination"),
        units="1/year",
        doc="Irregular departures a year per resident of the origin (part of migration_rate).",
    )
    m.aux(
        "transit_death_risk",
        transit_death_risk,
        dims=("destination",),
        units="1",
        doc="Probability of dying on an irregular journey to the destination.",
    )
    m.aux(
        "transit_exit_rate",
        "(1 - exp(-time_step() / (transit_time * (1 - transit_death_risk[destination])))) / "
        "time_step()",
        dims=("destination",),
        units="1/year",
        doc="Exits from transit (arrivals and deaths) a year per person in transit: the share "
        "leaving within a step, exact for any step (a mean stay of transit_time * (1 - risk)).",
    )
    m.aux(
        "initial_total_population",
        "sum(initial_population[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="person",
        doc="Residents at the start (those then in transit included).",
    )
    m.aux(
        "initial_emigration_age_share",
        "zidz(migrant_sex_share[sex] * emigration_age_pattern[region, age] * "
        "initial_population[region, sex, age], sum(migrant_sex_share[sex] * "
        "emigration_age_pattern[region, age] * initial_population[region, sex, age], 'sex', "
        "'age'))",
        dims=r3,
        units="1",
        doc="Share of a region's emigrants of each sex and age at the start.",
    )
    m.stock(
        "transit_stock",
        initial="is_other_region[origin, destination] * ("
        + initial_irregular_rate
        + ") * initial_total_population[origin] * initial_emigration_age_share[origin, sex, "
        "age] / transit_exit_rate[destination]",
        dims=od4,
        units="person",
        non_negative=True,
        doc="People on an irregular route from the origin to the destination: residents of "
        "the origin until they arrive, not in its population present; they age in transit. It "
        "starts at the steady state of the start's rates: departures times the mean stay, "
        "1 / transit_exit_rate.",
    )
    m.flow(
        "transit_entries",
        "is_other_region[origin, destination] * irregular_rate[origin, destination] * "
        "total_population[origin] * emigration_age_share[origin, sex, age]",
        into="transit_stock",
        dims=od4,
        units="person/year",
        doc="Irregular departures entering transit.",
    )
    m.flow(
        "direct_moves",
        "migration_flow[origin, destination, sex, age] - transit_entries[origin, destination, "
        "sex, age]",
        into="migrant_stock",
        dims=od4,
        units="person/year",
        doc="Moves that arrive in the step they leave (legal and within a region).",
    )
    m.flow(
        "transit_arrivals",
        "transit_stock[origin, destination, sex, age] * transit_exit_rate[destination] * "
        "(1 - transit_death_risk[destination])",
        out_of="transit_stock",
        into="migrant_stock",
        dims=od4,
        units="person/year",
        doc="Irregular migrants arriving at the destination from transit.",
    )
    m.flow(
        "deaths_in_transit",
        "transit_stock[origin, destination, sex, age] * transit_exit_rate[destination] * "
        "transit_death_risk[destination]",
        out_of="transit_stock",
        dims=od4,
        units="person/year",
        doc="Deaths on irregular routes.",
    )
    m.cohort_shift("transit_stock", "age", every=1)
    m.aux(
        "emigrants_in_transit",
        "sum(transit_stock[region, destination, sex, age], 'destination')",
        dims=r3,
        units="person",
        doc="The region's emigrants on irregular routes: residents until they arrive, in its "
        "total_population but not in its population present.",
    )
    m.aux(
        "emigrant_deaths_in_transit",
        "sum(deaths_in_transit[region, destination, sex, age], 'destination')",
        dims=r3,
        units="person/year",
        doc="Deaths of the region's emigrants on irregular routes (within its deaths).",
    )
