"""Climate hazard, habitability, adaptation and displacement.

Story
-----
Global warming (a stock, K above 1850-1900) rises at a rate set by the emissions scenario; a
mitigation lever bends it, from 2030, towards the rate of a Paris-compatible pathway (the long-term
lever). Sea level rises at today's rate plus a term growing with warming. Hazards follow warming
through the frequency multipliers of IPCC AR6 (agricultural and ecological droughts and heavy
precipitation at 1, 1.5, 2 and 4 K) and a crop-yield loss per degree (Zhao et al. 2017).

Each region's habitability loss (dimensionless) combines the hazards since 2022 with its
exposure: the share of people who live from agriculture (drought, crop loss) and the share living
in the low-elevation coastal zone (sea-level rise). ``exposed_population`` counts these people.
Adaptive capacity is a stock (US$ per person) built by adaptation investment (a share of income,
the medium-term lever) and depreciating over the life of the assets; it protects a share
``capacity / (capacity + h * income)`` of the impacts.

Two kinds of movement follow:

- Slow-onset climate migration (as Groundswell counts it): a flow ``climate_migration_internal``
  proportional to the people who have not yet moved, habitability loss and the unprotected
  share, accumulated in ``climate_migrants_internal`` (cumulative, from 2022). A share of
  slow-onset movers crosses a border (``climate_migration_cross_border`` into
  ``climate_migrants_cross_border``), scaled by ``mobility_access``.
- Disaster displacement (as IDMC counts it): ``new_displacements`` (person/year) at the region's
  2022 rate, scaled by the heavy-precipitation multiplier and adaptation. Displacement lasts
  about three months on average (IDMC: 8.7 million people displaced at the end of 2022 for
  32.6 million displacements in the year), far less than a time step, so the people currently
  displaced, ``displaced_internal``, are the quasi-steady state of that fast stock: new
  displacements times the mean duration, ``1 / displacement_exit_rate``. They leave by
  returning home (``returns_internal``, faster with humanitarian relief, the short-term lever),
  by settling where they are (``local_integration``) or by moving abroad
  (``onward_cross_border`` into the stock ``displaced_cross_border``, from which they return or
  integrate). Crossing a border takes money: ``mobility_access`` is a logistic function of log
  income, so that the poorest are trapped (Foresight 2011; Cattaneo & Peri 2016).

Stocks: ``global_warming``, ``sea_level_rise``, ``adaptive_capacity``, ``displaced_cross_border``
(people currently displaced abroad), ``climate_migrants_internal``,
``climate_migrants_cross_border`` (cumulative). Conservation: new_displacements =
returns_internal + local_integration + onward_cross_border at every time (the exits of the
quasi-steady state); d(displaced_cross_border)/dt = onward_cross_border - returns_cross_border -
integration_abroad, from the steady state of 2022's rates. Displaced people are a subset of the
population (they are not removed from it here).

Time step: the people displaced do not depend on dt (a stock emptied 3.7 times a year would:
with a yearly Euler step it held 3.6 times too many people). Measured, pessimistic scenario,
dt = 1 against dt = 0.25 (``tests/models/test_climate.py``): ``displaced_internal`` and
``displaced_cross_border`` within 1 % every year; the cumulative climate migrants, which start
from zero and grow with warming, within 5 % from 2050 (Euler's first-order error on a rising
flow: 28 % low in 2025, 5.5 % in 2040, 3.9 % in 2050).

Scenarios (``scenario=``): Groundswell's three (Rigaud et al. 2018; Clement et al. 2021),
``"pessimistic"`` (its reference: SSP4 development, high emissions: warming of SSP5-8.5),
``"more_inclusive"`` (SSP2 development, high emissions) and ``"climate_friendly"`` (SSP4
development, low emissions: SSP1-2.6), and this module's ``"middle"`` (SSP2-4.5, for SSP2
baselines; Groundswell has no middle-emissions scenario).
Development enters through adaptation investment and, in the standalone model, income growth.

Coupling points (for ``models.corridor``)
-----------------------------------------
``add_to(model, regions_dim="region", prefix="", population=..., income=None,
scenario="pessimistic")``: ``population`` is the name or expression of the population by region
(person), e.g. ``"sum(population, 'sex', 'age')"``; ``income`` the income per head (US$ 2017 PPP
per person per year; e.g. hump's ``income_per_capita``); without it the module adds its own
income path. It returns the names created, notably ``new_displacements``, ``displaced_internal``,
``displaced_cross_border``, ``climate_migrants_internal``, ``climate_migration_cross_border``
(person/year leaving the country for climate reasons: add to emigration), ``onward_cross_border``
and ``exposed_population``.

Dimensions and units: region (WPP names; "World" is also accepted for global checks); persons,
years, K, m, US$ at 2017 PPP.

Sources
-------
- IPCC (2021). Climate Change 2021: The Physical Science Basis, Summary for Policymakers: A.1.2
  and WMO (2023), State of the Global Climate 2022 (warming 1.15 K in 2022); Table SPM.1 (best
  estimates 2081-2100: SSP1-2.6 1.8 K, SSP2-4.5 2.7 K, SSP5-8.5 4.4 K); A.1.7 (sea level rising
  3.7 mm/yr over 2006-2018); B.5.3 (likely 2100 rise of 0.63-1.01 m under SSP5-8.5, from which
  the 3.5 mm/yr per K of extra warming); Figure SPM.6 (frequency of 10-year agricultural and
  ecological droughts in drying regions: 1.7x at 1 K, 2.0x at 1.5 K, 2.4x at 2 K, 4.1x at 4 K;
  of 10-year heavy precipitation: 1.3x, 1.5x, 1.7x, 2.7x).
- Zhao, C. et al. (2017). Temperature increase reduces global yields of major crops in four
  independent estimates. PNAS 114(35), 9326-9331 (per K: wheat -6.0%, rice -3.2%, maize -7.4%,
  soybean -3.1%; we take 6% per K, sd 2%).
- International Labour Organization, ILOSTAT modelled estimates (Nov. 2022), employment in
  agriculture, share of total employment, 2022 (as WDI SL.AGR.EMPL.ZS), rounded: Northern Africa
  22%, Sub-Saharan Africa 52%, Central America 15%, Europe 5%, Northern America 1.6%, World 26%.
- McGranahan, G., Balk, D. & Anderson, B. (2007). The rising tide: assessing the risks of
  climate change and human settlements in low elevation coastal zones. Environment and
  Urbanization 19(1), 17-37; Neumann, B. et al. (2015). Future coastal population growth and
  exposure to sea-level rise and coastal flooding. PLoS ONE 10(3): e0118571 (about 10% of the
  world's people live below 10 m; regional shares rounded, Nile delta for Northern Africa).
- IDMC (2023). Global Report on Internal Displacement 2023: 32.6 million disaster displacements
  in 2022 (7.4 million in Sub-Saharan Africa), 8.7 million people living in displacement due to
  disasters at the end of 2022 (so people leave displacement at ~3.7 a year on average);
  2023: 26.4 million (GRID 2024). Regional 2022 rates per person are rounded from the country
  figures of GRID 2023.
- World Bank (2021). Groundswell Part 2: Acting on Internal Climate Migration (Clement, V. et
  al.): up to 216 million internal climate migrants by 2050 in six regions under the pessimistic
  scenario, 86 million in Sub-Saharan Africa (4.2% of its population), 19 million in North Africa
  (~9%); Rigaud, K. K. et al. (2018), Groundswell (Part 1): Latin America 17 million (2.6%).
  ``climate_migration_response`` is calibrated so that this model's pessimistic scenario
  reproduces those 2050 totals (Central America at Latin America's 2.6%; Europe and Northern
  America, which Groundswell does not cover, take Central America's response per unit of
  habitability loss; the World 216 million).
- UNEP (2023). Adaptation Gap Report 2023: adaptation finance needs of developing countries of
  US$215-387 billion a year this decade (roughly 0.5-1% of their GDP) against international
  public adaptation finance of US$21 billion in 2021: baseline adaptation investment 0.1% of
  income; half of impacts averted by the capacity that spending the midpoint need (0.75%) for
  an asset life of 30 years builds (``adaptation_half_protection`` = 0.225 years of income).
- Foresight (2011). Migration and Global Environmental Change, UK Government Office for Science
  (trapped populations); Cattaneo, C. & Peri, G. (2016). The migration response to increasing
  temperatures. Journal of Development Economics 122, 127-146 (warming raises emigration from
  middle-income countries and lowers it from poor ones): ``mobility_access`` half-way at US$3,000.
- UN OCHA Financial Tracking Service: humanitarian appeals were about 55% funded in 2022
  (``humanitarian_relief`` baseline).
- United Nations (2022). World Population Prospects 2022 (standalone population path).
- UN DESA (2013). Cross-national comparisons of internal migration: an update on global
  patterns and trends (Technical Paper 2013/1): 763 million internal migrants against 232
  million international migrants (2013), so about 23 % of migrants cross a border. Climate
  movers are poorer and more often trapped than migrants at large (Foresight 2011) and
  Groundswell and IDMC count only internal movement, "most climate migration is internal":
  ``slow_onset_cross_border_share`` 0.1 at full mobility access (prior 0.02-0.2, below 0.23).
- UNHCR (2024). Global Trends: Forced Displacement in 2023: 69 % of refugees live in a
  neighbouring country (:func:`destination_shares`, for :func:`cross_border_pressure`).

Cross-border flows (:func:`cross_border_pressure`): the climate movers who settle abroad
(slow-onset migrants crossing a border, disaster-displaced people settling abroad) by origin and
destination, as moves and as a rate per resident of the origin that a migration system adds to
its ``migration_rate[origin, destination]``.

The split of exits from displacement (returns, local integration, onward movement) has no
published global estimate, and the cross-border share of slow-onset movers only the bound
above; they carry wide priors. The drying weights (share of each region in AR6 regions with
more agricultural drought) are our reading of AR6 WGI chapter 11, not a published table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import _climate_parts as parts
from . import hump
from ._climate_borders import NEIGHBOURHOOD_SHARE as NEIGHBOURHOOD_SHARE
from ._climate_borders import NEIGHBOURS as NEIGHBOURS
from ._climate_borders import destination_shares as destination_shares

# The regional data (sources above) live beside the sub-systems that read them; importable here.
from ._climate_parts import CLIMATE_MIGRATION_RESPONSE as CLIMATE_MIGRATION_RESPONSE
from ._climate_parts import COASTAL_EXPOSURE as COASTAL_EXPOSURE
from ._climate_parts import DISASTER_DISPLACEMENT_RATE as DISASTER_DISPLACEMENT_RATE
from ._climate_parts import DRYING_WEIGHT as DRYING_WEIGHT
from ._climate_parts import LIVELIHOOD_EXPOSURE as LIVELIHOOD_EXPOSURE
from ._climate_parts import WARMING_2022 as WARMING_2022
from ._climate_parts import WARMING_PARIS_2090 as WARMING_PARIS_2090
from ._inputs import (
    DEFAULT_REGIONS,
    Builder,
    check_regions,
    region_values,
    wpp_growth_params,
    wpp_total,
)

__all__ = [
    "build",
    "add_to",
    "cross_border_pressure",
    "destination_shares",
    "scenario_params",
    "SCENARIOS",
    "NEIGHBOURS",
]

#: Scenario settings: warming reached around 2090 (K), adaptation investment (share of income),
#: and income growth relative to SSP2 (standalone model only).
SCENARIOS: dict[str, dict[str, float]] = {
    "pessimistic": {
        "warming_2090": 4.4,
        "adaptation_investment_share": 0.001,
        "income_growth_factor": 0.6,
    },
    "more_inclusive": {
        "warming_2090": 4.4,
        "adaptation_investment_share": 0.003,
        "income_growth_factor": 1.0,
    },
    "climate_friendly": {
        "warming_2090": 1.8,
        "adaptation_investment_share": 0.001,
        "income_growth_factor": 0.6,
    },
    "middle": {
        "warming_2090": 2.7,
        "adaptation_investment_share": 0.002,
        "income_growth_factor": 1.0,
    },
}


def build(
    regions: Sequence[str] = DEFAULT_REGIONS,
    *,
    scenario: str = "pessimistic",
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 0.25,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The standalone climate-displacement model for ``regions`` under ``scenario``.

    Population follows the WPP 2022 medium variant (average growth 2022-2050, then 2050-2100)
    and income per head grows from its 2022 level at the SSP2 rates of :mod:`models.hump`
    times the scenario's growth factor.
    """
    regions = check_regions(regions)
    settings = _scenario(scenario)
    m = engine.Model(
        "climate",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc=f"Climate hazard, adaptation and displacement ({scenario} scenario).",
    )
    m.dimension("region", regions)
    m.param(
        "initial_population",
        wpp_total(regions, 2022),
        dims=("region",),
        units="person",
        bounds=(0, None),
        doc="Population on 1 July 2022 (UN WPP 2022).",
    )
    wpp_growth_params(m, regions)
    m.aux(
        "population",
        "initial_population * exp(population_growth_2022_2050 * (min(time, 2050) - 2022) + "
        "population_growth_2050_2100 * max(time - 2050, 0))",
        units="person",
        dims=("region",),
        doc="Population (WPP 2022 medium variant path).",
    )
    m.param(
        "initial_income_per_capita",
        region_values(hump.INITIAL_GDP_PER_CAPITA, regions, "initial_income_per_capita"),
        dims=("region",),
        units="USD/person/year",
        bounds=(100, 2e5),
        doc="GDP per head 2022, 2017 PPP (World Bank WDI).",
    )
    m.param(
        "income_growth",
        [
            settings["income_growth_factor"] * g
            for g in region_values(hump.GDP_PER_CAPITA_GROWTH, regions, "income_growth")
        ],
        dims=("region",),
        units="1/year",
        bounds=(-0.05, 0.1),
        doc="Growth of income per head (SSP2 rates, Dellink et al. 2017, times the "
        "scenario's factor).",
    )
    m.aux(
        "income_per_capita",
        "initial_income_per_capita * exp(income_growth * (time - 2022))",
        units="USD/person/year",
        dims=("region",),
        doc="Income per head, 2017 PPP.",
    )
    add_to(m, population="population", income="income_per_capita", scenario=scenario, values=values)
    return m


def scenario_params(
    scenario: str, regions: Sequence[str], prefix: str = "", standalone: bool = True
) -> dict[str, Any]:
    """Parameter values that switch a built model to ``scenario`` (for ``simulate(params=)``).

    With ``standalone`` the income growth of :func:`build`'s own income path is included.
    """
    settings = _scenario(scenario)
    out: dict[str, Any] = {
        prefix + "warming_2090": settings["warming_2090"],
        prefix + "adaptation_investment_share": settings["adaptation_investment_share"],
    }
    if standalone:
        growth = region_values(hump.GDP_PER_CAPITA_GROWTH, list(regions), "income_growth")
        out["income_growth"] = [settings["income_growth_factor"] * g for g in growth]
    return out


def _scenario(scenario: str) -> dict[str, float]:
    if scenario not in SCENARIOS:
        raise engine.ParameterError(
            f"unknown climate scenario {scenario!r}; choose one of {sorted(SCENARIOS)}."
        )
    return SCENARIOS[scenario]


def add_to(
    model: engine.Model,
    *,
    regions_dim: str = "region",
    prefix: str = "",
    population: str,
    income: str,
    scenario: str = "pessimistic",
    values: Mapping[str, Any] | None = None,
    proxies: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Add the climate module's variables to ``model`` (which declares ``regions_dim``).

    Parameters
    ----------
    model : engine.Model
        The host model.
    regions_dim : str
        Its regions dimension (WPP names).
    prefix : str
        Prepended to every name created.
    population : str
        Name or expression of population by region (person).
    income : str
        Name or expression of income per head (US$ 2017 PPP / person / year).
    scenario : str
        One of :data:`SCENARIOS`.
    values : mapping, optional
        Replacement default values by (unprefixed) parameter name.
    proxies : mapping, optional
        {region: region of the regional tables whose figures it takes} for regions without
        their own (e.g. a subregion taking its continent's or the World's figures).

    Returns
    -------
    dict
        Role -> created variable name.
    """
    settings = _scenario(scenario)
    b = Builder(
        model,
        regions_dim=regions_dim,
        prefix=prefix,
        values=values,
        population=f"({population})",
        income=f"({income})",
    )
    if proxies:
        b.regions = [proxies.get(r, r) for r in b.regions]
    # The order of the sub-systems is the order of the model's variables (its content hash).
    parts.warming_and_sea_level(b, settings)
    parts.hazards_and_exposure(b)
    parts.adaptation_and_mobility(b, settings)
    parts.slow_onset_migration(b)
    parts.disaster_displacement(b)
    b.check_values("climate")
    roles = [
        "global_warming",
        "sea_level_rise",
        "habitability_loss",
        "exposed_population",
        "adaptive_capacity",
        "protection",
        "mobility_access",
        "new_displacements",
        "displaced_internal",
        "displaced_cross_border",
        "returns_internal",
        "local_integration",
        "onward_cross_border",
        "returns_cross_border",
        "integration_abroad",
        "climate_migration_internal",
        "climate_migrants_internal",
        "climate_migration_cross_border",
        "climate_migrants_cross_border",
        "flood_hazard",
        "mitigation",
        "adaptation_investment_share",
        "humanitarian_relief",
    ]
    return {role: prefix + role for role in roles}


def cross_border_pressure(
    model: engine.Model,
    names: Mapping[str, str],
    *,
    population: str,
    shares: Any,
    prefix: str = "",
    origin_dim: str = "origin",
    destination_dim: str = "destination",
    since_2022: bool = False,
) -> dict[str, str]:
    """Add the climate movers who settle abroad as origin-destination moves and rates.

    The movers are the slow-onset migrants who cross a border (``climate_migration_cross_border``:
    ``slow_onset_cross_border_share`` of internal climate migrants at full mobility access, most
    climate migration being internal) and the people displaced by disasters who settle abroad
    (``integration_abroad``); the temporarily displaced abroad, who go home within about two
    years, are left out. They are spread over destinations by ``shares`` (rows: origins; e.g.
    :func:`destination_shares`: 69 % to the neighbourhood, UNHCR 2024).

    Parameters
    ----------
    model : engine.Model
        A model holding the climate module (:func:`add_to`) and the dims ``origin_dim`` and
        ``destination_dim``, whose elements are those of the climate module's regions.
    names : mapping
        What :func:`add_to` returned (role -> variable name).
    population : str
        Name of the population by region (person), indexed by origin.
    shares : array (origin, destination)
        Destination shares; each row sums to 1.
    prefix : str
        Prepended to the names created.
    since_2022 : bool
        Count only the movement that the change of climate since 2022 causes, for a host
        whose base flows already hold 2022's (a migration system calibrated to observed
        flows): the slow-onset migrants crossing a border (their flow is zero at 2022's
        climate) and, of the displaced settling abroad, the share due to the rise in the
        frequency of heavy precipitation, ``1 - 1 / flood_hazard``.

    Returns
    -------
    dict
        ``climate_emigration`` (region; person/year), ``climate_destination_share``,
        ``climate_cross_border_moves`` (origin, destination; person/year) and
        ``climate_cross_border_rate`` (origin, destination; moves a year per resident of the
        origin: add it to a migration system's ``migration_rate``).
    """
    od = (origin_dim, destination_dim)
    for dim in od:
        if dim not in model.dims:
            raise engine.SpecError(
                f"cross_border_pressure: the model has no dimension {dim!r}; declare it with the "
                "climate module's regions (model.dimension) or pass origin_dim/destination_dim."
            )
    shares = np.asarray(shares, dtype=float)
    n = (len(model.dims[origin_dim].elements), len(model.dims[destination_dim].elements))
    if shares.shape != n or not np.allclose(shares.sum(axis=1), 1.0) or (shares < 0).any():
        raise engine.ParameterError(
            f"cross_border_pressure: shares must be a non-negative {n} array (origin, "
            "destination) whose rows sum to 1 (see climate.destination_shares), got shape "
            f"{shares.shape}."
        )
    out = {
        role: prefix + role
        for role in (
            "climate_emigration",
            "climate_destination_share",
            "climate_cross_border_moves",
            "climate_cross_border_rate",
        )
    }
    regions_dim = model.variables[names["climate_migration_cross_border"]].dims
    settling = names["integration_abroad"]
    if since_2022:
        settling = f"{settling} * max(1 - 1 / {names['flood_hazard']}, 0)"
    model.aux(
        out["climate_emigration"],
        f"{names['climate_migration_cross_border']} + {settling}",
        dims=regions_dim,
        units="person/year",
        doc="Climate movers settling abroad: slow-onset migrants crossing a border and people "
        "displaced by disasters settling abroad"
        + (" (beyond 2022's climate)." if since_2022 else "."),
    )
    model.param(
        out["climate_destination_share"],
        shares,
        dims=od,
        units="1",
        bounds=(0, 1),
        doc="Share of an origin's cross-border climate movers going to each destination "
        "(neighbourhood first: UNHCR 2024).",
    )
    model.aux(
        out["climate_cross_border_moves"],
        f"{out['climate_emigration']}[{origin_dim}] * "
        f"{out['climate_destination_share']}[{origin_dim}, {destination_dim}]",
        dims=od,
        units="person/year",
        doc="Climate movers settling abroad by origin and destination.",
    )
    model.aux(
        out["climate_cross_border_rate"],
        f"zidz({out['climate_cross_border_moves']}[{origin_dim}, {destination_dim}], "
        f"{population}[{origin_dim}])",
        dims=od,
        units="1/year",
        doc="Climate moves a year per resident of the origin (to add to migration rates).",
    )
    return out
