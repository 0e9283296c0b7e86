"""The five-region corridor: the previous default forecast (before issue 14), kept for comparison.

Registered as ``corridor_five_region`` (``corridor run corridor_five_region``); the default
``corridor`` is now the closed global migration system (:mod:`models.corridor`). The benchmarks
compare the two (``benchmarks/bench_corridor.py``), and the tests of this model stay
(``tests/models/test_corridor_five_region.py``). Its scenarios are the same files as the
default's, read from their ``[five_region.params]`` tables.

Story
-----
Two migration corridors, Northern Africa and Sub-Saharan Africa to Europe and Central America
(with Mexico) to Northern America, as one closed system of five WPP regions. Each region's people
are counted by sex and single year of age (:mod:`models.demography`: births from WPP 2022
fertility, deaths from WPP 2022's death rates scaled to its life expectancy, exact yearly
ageing). Who leaves is decided by the migration hump (:mod:`models.hump`: an inverted U of
origin income, diaspora networks, legal pathways, border enforcement that diverts irregular
crossings to deadlier routes, returns, remittances that raise origin income). Skill shortages
at the destination (:mod:`models.labour`) open legal pathways; climate hazards
(:mod:`models.climate`) displace people, mostly within their region.

Migrants leave their region (``emigration``), legal migrants arrive at once, irregular ones travel
through ``migrants_in_transit`` (mean ``transit_time``), where some die (``transit_losses``), and
arrive (``immigration``). Emigrants return from where they live. Destinations follow
``destination_share`` (row: origin), so that nobody is created or lost between regions except
by the explicit transit losses. Migrants are spread over ages by the Rogers-Castro schedule and
over sexes as in demography.

Accounting identities (exact with Euler steps): for every region and year, the change in
``population`` is ``births - deaths + immigration - emigration``; summed over regions,
``emigration = immigration + change of migrants_in_transit + transit_losses``. Migration with
the rest of the world is outside the corridor: its populations are closed to it, so they are
not WPP's (which include, for example, Asian immigration to Europe and Northern America).

Climate displacement (``displaced_internal``, ``displaced_cross_border``) is counted within the
regional populations: cross-border displacement in these regions is mostly to neighbouring
countries of the same region (IDMC). ``diaspora`` is a memo stock of emigrants by region of
birth living abroad (also counted in their destination's population).

Dims: ``region`` (WPP names), ``sex`` ("female", "male"), ``age`` ("0".."100", strings: element
labels are strings in the engine; "100" is 100 and over), ``destination`` (the regions again),
plus ``age_group``, ``fertility_year`` and labour's ``skill``.

Scenarios
---------
``models/scenarios/<name>.toml`` names its shared socioeconomic pathway (``ssp``, O'Neill et al.
2017) and its climate pathway (``climate_pathway``, one of :data:`models.climate.SCENARIOS`)
and sets parameters by name: ``baseline`` (SSP2, middle of the road, with the middle climate
pathway SSP2-4.5), ``sustainability`` (SSP1, with the optimistic, climate-friendly pathway:
SSP1-2.6 warming), ``regional_rivalry`` (SSP3: high fertility, slow growth, closed borders, with
Groundswell's pessimistic reference pathway), ``fortress`` (baseline with tight enforcement and
few legal pathways) and ``open_pathways`` (baseline with wide legal pathways, low remittance
costs, development aid). Groundswell's own three scenarios (Rigaud et al. 2018; Clement et al.
2021) are "pessimistic" (its reference: high emissions, RCP8.5, with unequal development,
SSP4), "more inclusive development" (RCP8.5 with SSP2) and "more climate-friendly" (RCP2.6 with
SSP4); it has no middle-emissions one. A scenario file's former ``climate_scenario`` field is
still read as ``climate_pathway``. Policy levers are parameters with units and bounds; uncertain
quantities carry priors (in the component modules).

The SSP's international migration assumption (KC & Lutz 2017: medium in SSP1, SSP2 and
SSP4, low in SSP3, high in SSP5, 50 % below and above the medium) is
``hump_ssp_migration_level``, a factor on the would-be emigrants (:mod:`models.hump`), which the
scenario loader sets from each file's ``ssp`` (0.5 for SSP3, 1.5 for SSP5, 1 otherwise;
:data:`models.corridor.SSP_MIGRATION_LEVEL`) unless its table sets it.

Measured directions (``tests/models/test_corridor_five_region.py``, 2023-2100 totals): fortress
316 million irregular arrivals against the baseline's 470 and 3.5 million deaths in transit
against 3.2; open pathways 708 million legal arrivals against 543; regional rivalry 554 million
arrivals in Europe and Northern America against 895 (measured 2026-12-03; 975 without SSP3's low
migration, when more people in the origins outweighed lower emigration rates).

Sources
-------
- UN DESA (2020). International Migrant Stock 2020 (destination by origin): emigrants from
  Northern Africa live mostly in Europe and the Gulf, from Sub-Saharan Africa mostly in
  Sub-Saharan Africa itself, then Europe and Northern America; from Central America and Mexico
  overwhelmingly in the United States; Europe's emigrants outside Europe mostly in Northern
  America. ``destination_share`` keeps these orders of magnitude among the five modelled regions
  (rounded shares, scenario-independent).
- UN DESA (2024). International Migrant Stock 2024: about 11.6 million Mexican-born emigrants.
- IOM Missing Migrants Project; Frontex / UNHCR (2023): irregular journeys from West Africa to
  Europe take from months to more than a year: ``transit_time`` 1 year (prior 0.5-2 years as
  dt permits).
- O'Neill, B. C. et al. (2017). The roads ahead: narratives for shared socioeconomic pathways.
  Global Environmental Change 42, 169-180 (SSP1-3 narratives behind the scenarios); KC, S. &
  Lutz, W. (2017). The human core of the shared socioeconomic pathways. Global Environmental
  Change 42, 181-192 (SSP1 low, SSP3 high fertility in high-fertility countries: the
  ``tfr_adjustment`` values of +/-0.5 follow WPP's variants; migration low in SSP3 and high in
  SSP5, 50 % below and above the medium: ``hump_ssp_migration_level``).
- The components' sources: :mod:`models.demography`, :mod:`models.hump`, :mod:`models.labour`,
  :mod:`models.climate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import climate, demography, hump, labour
from .corridor import (
    SCENARIO_DIR,
    SSPS,
    param_values,
    read_scenario,
    scenario_attrs,
    scenarios,
    set_param,
    with_ssp_migration_level,
)
from .references import reference as reference  # WPP lines on fan charts

__all__ = [
    "build",
    "scenarios",
    "load_scenario",
    "scenario_params",
    "scenario_attrs",
    "set_param",
    "REGIONS",
    "DESTINATION_SHARE",
    "OUTPUTS",
    "SSPS",
    "SCENARIO_DIR",
]

REGIONS = ("Northern Africa", "Sub-Saharan Africa", "Central America", "Europe", "Northern America")
#: Share of each origin's emigrants going to each destination (rows sum to 1).
DESTINATION_SHARE: dict[str, dict[str, float]] = {
    "Northern Africa": {
        "Northern Africa": 0.0,
        "Sub-Saharan Africa": 0.05,
        "Central America": 0.0,
        "Europe": 0.85,
        "Northern America": 0.10,
    },
    "Sub-Saharan Africa": {
        "Northern Africa": 0.10,
        "Sub-Saharan Africa": 0.0,
        "Central America": 0.0,
        "Europe": 0.65,
        "Northern America": 0.25,
    },
    "Central America": {
        "Northern Africa": 0.0,
        "Sub-Saharan Africa": 0.0,
        "Central America": 0.0,
        "Europe": 0.08,
        "Northern America": 0.92,
    },
    "Europe": {
        "Northern Africa": 0.05,
        "Sub-Saharan Africa": 0.10,
        "Central America": 0.05,
        "Europe": 0.0,
        "Northern America": 0.80,
    },
    "Northern America": {
        "Northern Africa": 0.02,
        "Sub-Saharan Africa": 0.03,
        "Central America": 0.40,
        "Europe": 0.55,
        "Northern America": 0.0,
    },
}
#: The corridor's headline outputs.
OUTPUTS = (
    "population",
    "births",
    "deaths",
    "immigration",
    "emigration",
    "emigration_rate",
    "income_per_capita",
    "diaspora",
    "remittances",
    "labour_supply",
    "labour_demand",
    "vacancies",
    "new_displacements",
    "displaced_internal",
    "displaced_cross_border",
    "climate_migrants_internal",
    "migrants_in_transit",
    "transit_losses",
    "total_population",
)


def load_scenario(name: str) -> dict[str, Any]:
    """A scenario's settings for this model: ``name``, ``description``, ``ssp``,
    ``climate_pathway`` and ``params``, the file's ``[five_region.params]`` table (a file of
    one's own without it: its ``[params]``), with ``hump_ssp_migration_level`` from the
    ``ssp`` unless the table sets it (:data:`models.corridor.SSP_MIGRATION_LEVEL`). See
    :func:`models.corridor.read_scenario`.
    """
    return with_ssp_migration_level(read_scenario(name, "five_region"), "hump_ssp_migration_level")


def scenario_params(scenario: str, **options: Any) -> dict[str, np.ndarray]:
    """Every parameter value of the model built for ``scenario``, by name.

    Pass them as ``simulate(baseline_model, params=...)`` to run a scenario on one compiled
    model (scenarios differ only in parameter values).
    """
    return param_values(build(scenario, **options))


def build(
    scenario: str = "baseline",
    *,
    regions: Sequence[str] = REGIONS,
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 1.0,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The coupled corridor model under ``scenario``.

    Parameters
    ----------
    scenario : str
        A scenario of ``models/scenarios`` (see :func:`scenarios`).
    regions : sequence of str
        WPP regions (default: :data:`REGIONS`); every origin needs a row of destinations.
    start, stop, dt : float
        Run times (mid-year decimal years); ``dt`` must divide 1 (yearly ageing).
    values : mapping, optional
        Parameter values to set after the scenario's, by name (number, array or
        {region: value}).

    Returns
    -------
    engine.Model
        Outputs :data:`OUTPUTS` among others, with units and docs.

    Examples
    --------
    >>> import engine
    >>> from models import corridor
    >>> ds = engine.simulate(corridor.build(), outputs=["total_population"])  # doctest: +SKIP
    """
    settings = load_scenario(scenario)
    regions = list(regions)
    m = engine.Model(
        "corridor_five_region",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc=f"Migration corridors to Europe and Northern America: "
        f"{settings.get('name', scenario)} ({settings['ssp']}, climate pathway "
        f"{settings['climate_pathway']}).",
        attrs=scenario_attrs(scenario, settings),
    )
    m.dimension("region", regions)
    m.dimension("destination", regions)
    demography.add_to(m, base_year=int(start), migration=False)
    hump_names = hump.add_to(
        m, prefix="hump_", population="total_population", legal_demand="labour_pull"
    )
    labour.add_to(m, population="population")
    climate.add_to(
        m,
        population="total_population",
        income="income_per_capita",
        scenario=settings["climate_pathway"],
    )
    _migration(m, regions, hump_names)
    m.aux(
        "labour_pull",
        "sum(destination_share[region, destination] * "
        "labour_migration_demand[destination], 'destination')",
        dims=("region",),
        units="person/year",
        doc="Destination skill shortages open to the origin's emigrants.",
    )
    m.aux(
        "income_per_capita",
        f"{hump_names['income_per_capita']}",
        dims=("region",),
        units="USD/person/year",
        doc="Income per head: GDP per head plus remittances per resident (2017 PPP).",
    )
    m.aux(
        "emigration_rate",
        "zidz(sum(emigration[region, sex, age], 'sex', 'age'), total_population)",
        dims=("region",),
        units="1/year",
        doc="Emigrants (incl. return moves out) per resident a year.",
    )
    m.aux(
        "diaspora",
        hump_names["diaspora"],
        dims=("region",),
        units="person",
        doc="Emigrants born in the region living abroad (memo).",
    )
    m.aux(
        "remittances",
        hump_names["remittances"],
        dims=("region",),
        units="USD/year",
        doc="Remittances received.",
    )
    for name, value in {**settings["params"], **dict(values or {})}.items():
        set_param(m, name, value)
    return m


def _migration(m: engine.Model, regions: list[str], h: Mapping[str, str]) -> None:
    share = np.array([[DESTINATION_SHARE[o][d] for d in regions] for o in regions])
    share = share / share.sum(axis=1, keepdims=True)
    m.param(
        "destination_share",
        share,
        dims=("region", "destination"),
        units="1",
        bounds=(0, 1),
        doc="Share of an origin's (row) emigrants going to each destination "
        "(UN DESA 2020 orders of magnitude).",
    )
    m.param(
        "transit_time",
        1.0,
        units="year",
        bounds=(0.25, 5),
        prior=("uniform", 1.0, 2.0),
        doc="Mean time irregular migrants spend in transit (not below dt).",
    )
    m.stock(
        "migrants_in_transit",
        initial=0.0,
        dims=("region",),
        units="person",
        non_negative=True,
        doc="Irregular migrants on their way, by region of origin.",
    )
    m.flow(
        "irregular_departures",
        "hump_irregular_attempts",
        into="migrants_in_transit",
        dims=("region",),
        units="person/year",
        doc="People setting out irregularly.",
    )
    m.flow(
        "transit_arrivals",
        "migrants_in_transit / transit_time * (1 - hump_transit_death_risk)",
        out_of="migrants_in_transit",
        dims=("region",),
        units="person/year",
        doc="Irregular migrants arriving at their destination.",
    )
    m.flow(
        "transit_losses",
        "migrants_in_transit / transit_time * hump_transit_death_risk",
        out_of="migrants_in_transit",
        dims=("region",),
        units="person/year",
        doc="Deaths and disappearances in transit (explicit losses).",
    )
    m.aux(
        "returns_leaving",
        f"sum(destination_share[region, destination] * {h['returns']}[region], 'region')",
        dims=("destination",),
        units="person/year",
        doc="Return migrants leaving each destination.",
    )
    m.aux(
        "arrivals",
        f"sum(destination_share[region, destination] * ("
        f"{h['emigration_legal']}[region] + transit_arrivals[region]), 'region')",
        dims=("destination",),
        units="person/year",
        doc="Legal and irregular migrants arriving in each destination.",
    )
    m.aux(
        "emigrants_leaving",
        f"{h['emigration_legal']} + irregular_departures + returns_leaving[region]",
        dims=("region",),
        units="person/year",
        doc="Everyone leaving the region a year.",
    )
    m.aux(
        "immigrants_arriving",
        f"arrivals[region] + {h['returns']}",
        dims=("region",),
        units="person/year",
        doc="Everyone arriving in the region a year.",
    )
    # Emigrants are drawn in proportion to residents weighted by the Rogers-Castro schedule,
    # so that no age-sex cell is asked for more people than it holds (the age pattern of
    # emigrants follows the schedule where the population is evenly spread).
    m.aux(
        "emigration_propensity_weight",
        "migrant_sex_share[sex] * migration_age_pattern[age] * population[region, sex, age]",
        dims=("region", "sex", "age"),
        units="person",
        doc="Residents weighted by the migration age-sex schedule.",
    )
    m.aux(
        "emigration_weight_total",
        "sum(emigration_propensity_weight[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="person",
        doc="Sum of the weights.",
    )
    m.flow(
        "emigration",
        "emigrants_leaving[region] * zidz(emigration_propensity_weight[region,"
        " sex, age], emigration_weight_total[region])",
        out_of="population",
        dims=("region", "sex", "age"),
        units="person/year",
        doc="Emigrants (incl. returning migrants leaving).",
    )
    m.flow(
        "immigration",
        "immigrants_arriving[region] * migrant_sex_share[sex] * migration_age_pattern[age]",
        into="population",
        dims=("region", "sex", "age"),
        units="person/year",
        doc="Immigrants (incl. returning emigrants).",
    )
