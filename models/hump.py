"""The migration hump: emigration as an inverted U of origin income, with networks and policy.

Story
-----
Emigration does not fall as poor countries grow richer; it rises, flattens and only then falls
(the "mobility transition" or "emigration life cycle"). Clemens (2020) finds, within countries
over 1960-2019, that emigration prevalence rises with GDP per head at an elasticity of about
+0.35 (all destinations), slows after roughly US$5,000 at PPP and reverses after roughly
US$10,000. We write the propensity to emigrate (emigrants per resident per year) as a
log-quadratic in income per head ``y``::

    propensity(y) = peak_rate * exp(-c * ln(y / y_peak)**2),
    c = elasticity_low / (2 * ln(y_peak / y_ref)),

so that the elasticity d ln p / d ln y = -2 c ln(y / y_peak) equals ``elasticity_low`` (+0.35)
at the low reference income ``y_ref`` (US$1,000), falls to about +0.06 at US$5,000, is zero at
``y_peak`` (US$7,000, the geometric middle of Clemens's 5,000-10,000 band) and turns negative
(-0.06 at US$10,000). :func:`propensity` evaluates exactly this formula with the model's default
parameters (vectorised numpy) for inspection and plots; the model's ``emigration_propensity``
auxiliary is the same expression over the same parameter values. Clemens's elasticity is for the
emigrant stock; with a constant return rate the flow propensity has the same elasticity in the
steady state.

Around the hump: a diaspora abroad lowers the cost of moving for the next migrants (network
effect, an elasticity of flows to the diaspora, Beine, Docquier & Ozden 2011); would-be
emigrants first use legal pathways up to their capacity (a quota, a policy lever); part of the
unmet demand moves irregularly. Border enforcement raises the cost of smuggling, which deters
little (demand for smuggling is price-inelastic, Gathmann 2008) and mostly diverts crossings to
longer and deadlier routes, where more people die in transit (IOM Missing Migrants Project).
A scenario's international migration assumption scales the would-be emigrants
(``ssp_migration_level``, 1 at the medium; KC & Lutz 2017: low, 0.5, in SSP3, high, 1.5, in
SSP5). Emigrants return at a constant rate (plus assisted returns, a lever), die abroad, and send
remittances home, which add to the income per head that drives the hump (income per head here
is GDP per head plus remittances received per resident, the household view of disposable
income).

Stocks and flows (standalone build): ``population`` -> (``emigration_legal``,
``emigration_irregular``) -> ``diaspora``; ``population`` -> ``transit_deaths`` (lost in
transit); ``diaspora`` -> ``returns`` -> ``population``; ``diaspora`` -> ``diaspora_deaths``;
``natural_increase`` -> ``population``; ``gdp_per_capita`` grows by ``gdp_per_capita_change``.
``emigration`` (all leaving: legal + irregular arrivals + deaths in transit), ``emigration_rate``,
``remittances`` and ``income_per_capita`` are auxiliaries.

Coupling points (for ``models.corridor``)
-----------------------------------------
``add_to(model, regions_dim="region", prefix="", population=..., population_stock=None,
income=None, legal_demand=None)``:

- ``population`` (required): name or expression of the origin population by region (person),
  e.g. ``"sum(population, 'sex', 'age')"`` over demography's stock.
- ``population_stock``: a stock over ``(region,)`` that emigration drains and returns refill. If
  omitted (the usual case when demography owns a (region, sex, age) population), ``emigration_*``
  only fill ``diaspora``, ``returns`` only drain it, and ``transit_deaths`` is an auxiliary; the
  corridor then feeds ``emigration`` and ``returns`` into demography's migration terms.
- ``income``: name or expression of income per head (USD PPP per person per year) to use instead
  of hump's own GDP stock (then remittances do not feed back unless the caller adds them).
- ``legal_demand``: an expression (person/year) added to the legal-pathway capacity, e.g.
  labour's ``labour_migration_demand`` at the destination.
- It returns a dict of the names it created (``emigration``, ``emigration_legal``,
  ``emigration_irregular``, ``transit_deaths``, ``returns``, ``diaspora``, ``remittances``,
  ``income_per_capita``, ``emigration_rate``, ``emigration_propensity``...).

Units: persons, years, US dollars at 2017 purchasing-power parity (international dollars).

Sources
-------
- Clemens, M. A. (2020). The Emigration Life Cycle: How Development Shapes Emigration from Poor
  Countries. CGD Working Paper 540 / IZA DP 13614 (abstract: elasticity +0.35 to all
  destinations, +0.74 to rich ones; slowing after ~US$5,000 PPP, reversing after ~US$10,000).
- Clemens, M. A. (2014). Does Development Reduce Migration? IZA DP 8592; in R. E. B. Lucas (ed.)
  (2015), International Handbook on Migration and Economic Development, ch. 6 (threshold near
  US$6,000-8,000 per head).
- Abel, G. J. & Cohen, J. E. (2019). Bilateral international migration flow estimates for 200
  countries. Scientific Data 6, 82 (global five-year flows of about 1.1-1.3% of the world's
  population, i.e. about 0.25% a year; ``peak_emigration_rate`` = 0.25%/year).
- Beine, M., Docquier, F. & Ozden, C. (2011). Diasporas. Journal of Development Economics 95(1),
  30-41 (diasporas explain most of the variability of bilateral flows; we take an elasticity of
  flows to the diaspora of 0.6 with sd 0.15 to span the specifications reported).
- Azose, J. J. & Raftery, A. E. (2019). Estimation of emigration, return migration, and transit
  migration between all pairs of countries. PNAS 116(1), 116-122 (return migration is about a
  quarter of all flows). With ~18 million emigrants a year (Abel & Cohen) and a stock of 281
  million international migrants in 2020 (UN DESA, International Migrant Stock 2020), a quarter
  returning gives a return rate of ~1.6% of the diaspora a year.
- UN DESA (2020). International Migrant Stock 2020; IOM (2021), World Migration Report 2022,
  ch. 3: diasporas by region of birth, 2020 (Africa-born ~40 million, of which Northern Africa
  ~12 million (Egypt 3.6, Morocco 3.3, Algeria 2.0, Sudan 2.1, Tunisia 0.9) and Sub-Saharan
  Africa ~28.5 million; Europe-born ~63 million; Northern America-born ~4.5 million); Mexico 11.6
  million (UN DESA 2024), with Guatemala, Honduras, El Salvador, Nicaragua, Costa Rica, Panama
  and Belize ~5 million more: Central America ~16.6 million.
- World Bank (2023). WDI indicator NY.GDP.PCAP.PP.KD (GDP per capita, PPP, constant 2017
  international $), 2022; regional values are our population-weighted aggregates of the
  countries in each WPP region, rounded: Northern Africa 10,600, Sub-Saharan Africa 3,900,
  Central America (with Mexico) 16,800, Europe 40,000, Northern America 63,000, World 18,000.
- KC, S. & Lutz, W. (2017). The human core of the shared socioeconomic pathways. Global
  Environmental Change 42, 181-192 (international migration medium in SSP1, SSP2 and SSP4, low
  in SSP3, high in SSP5: net flows 50 % below and above the medium; ``ssp_migration_level``).
- Dellink, R., Chateau, J., Lanzi, E. & Magne, B. (2017). Long-term economic growth projections
  in the Shared Socioeconomic Pathways. Global Environmental Change 42, 200-214 (SSP2 growth of
  GDP per head, rounded averages 2020-2100, used as baseline growth with sd 0.5 pp).
- Ratha, D. et al. (2023). Migration and Development Brief 38, World Bank/KNOMAD: remittances
  received in 2022: Sub-Saharan Africa US$53 bn; Mexico 61 bn, Guatemala 18 bn, Honduras 8.7 bn,
  El Salvador 7.7 bn, Nicaragua 3.2 bn, Costa Rica and Panama ~1.1 bn (Central America ~100 bn);
  Egypt 28 bn, Morocco 11 bn, Tunisia 2.6 bn, Algeria 1.8 bn (Northern Africa ~45 bn). Per
  emigrant: Northern Africa 3,750, Sub-Saharan Africa 1,860, Central America 6,000 US$/year.
  Worldwide US$831 bn in 2022 (IOM, World Migration Report 2024) over 281 million migrants gives
  2,960 US$ per migrant, used for Europe, Northern America and the World.
- World Bank, Remittance Prices Worldwide, Issue 44 (Q4 2022): average cost of sending US$200
  about 6.0% worldwide, 7.9% to Sub-Saharan Africa, ~6.3% to the Middle East and North Africa,
  ~5.8% to Latin America and the Caribbean (``remittance_cost``, a lever; 2022 values as data).
- Gathmann, C. (2008). Effects of enforcement on illegal markets: Evidence from migrant smuggling
  along the southwestern border. Journal of Public Economics 92(10-11), 1926-1941 (enforcement
  raises smuggling prices; demand for smugglers is inelastic: we take a cost elasticity of
  crossings of 0.3, sd 0.15).
- IOM Missing Migrants Project (2023): ~1,400 dead and missing on the Central Mediterranean route
  in 2022 against ~105,000 sea arrivals in Italy (UNHCR), a death risk of ~1.3% on a diverted,
  dangerous route (``transit_death_risk_diverted``); a third of that on the main route.
- United Nations (2022). World Population Prospects 2022 (standalone population: 2022 totals
  and average growth 2022-2050 and 2050-2100 of the medium variant, via ``models/data``).

Calibration: ``emigration_scale`` (a regional factor on the global hump) is set so that, in 2022,
at default levers, emigration equals (return rate + mortality + 2.4%/year) x diaspora, i.e. the
diaspora grows at the 2010-2020 growth rate of the world's migrant stock (221 to 281 million, UN
DESA 2020). The rule is crude where the regional diaspora did not grow that way (the
Mexican-born population of the United States fell over 2010-2020).

The legal-pathway capacities, enforcement index, assisted returns, remittance costs and aid are
policy levers (scenario choices, not estimates); their defaults are round numbers of the order of
2022 regular admissions (OECD (2023), International Migration Outlook 2023: 6.1 million
permanent-type migrants to OECD countries in 2022). Diversion (route choice) and the share of
unmet demand realised irregularly have no agreed published estimate: they carry wide uniform
priors and should be read as scenario-sensitive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import _hump_parts as parts

# The hump's default parameters and the regional data (sources above) live beside the
# sub-systems that read them; importable here (labour and climate read the income tables).
from ._hump_parts import DEFAULTS as DEFAULTS
from ._hump_parts import EMIGRATION_SCALE as EMIGRATION_SCALE
from ._hump_parts import GDP_PER_CAPITA_GROWTH as GDP_PER_CAPITA_GROWTH
from ._hump_parts import INITIAL_DIASPORA as INITIAL_DIASPORA
from ._hump_parts import INITIAL_GDP_PER_CAPITA as INITIAL_GDP_PER_CAPITA
from ._hump_parts import LEGAL_PATHWAY_CAPACITY as LEGAL_PATHWAY_CAPACITY
from ._hump_parts import REMITTANCE_COST_2022 as REMITTANCE_COST_2022
from ._hump_parts import REMITTANCE_PER_EMIGRANT as REMITTANCE_PER_EMIGRANT
from ._inputs import (
    DEFAULT_REGIONS,
    Builder,
    check_regions,
    region_values,
    wpp_growth_params,
    wpp_total,
)

__all__ = ["build", "add_to", "propensity", "elasticity", "DEFAULTS"]


def _curvature(peak_income: float, low_income_elasticity: float, reference_income: float) -> float:
    return low_income_elasticity / (2.0 * math.log(peak_income / reference_income))


def propensity(
    income_usd_ppp: Any,
    *,
    peak_income: float = DEFAULTS["hump_peak_income"],
    low_income_elasticity: float = DEFAULTS["hump_low_income_elasticity"],
    reference_income: float = DEFAULTS["hump_reference_income"],
    peak_rate: float = DEFAULTS["peak_emigration_rate"],
) -> np.ndarray:
    """Emigration propensity (emigrants per resident per year) at an income per head.

    The log-quadratic hump of the model (same formula, same default parameters as the
    ``emigration_propensity`` auxiliary).

    Parameters
    ----------
    income_usd_ppp : array_like
        Income per head, US$ at 2017 PPP per person per year (positive).
    peak_income, low_income_elasticity, reference_income, peak_rate : float
        The hump's parameters (defaults: :data:`DEFAULTS`).

    Returns
    -------
    numpy.ndarray
        The propensity, 1/year, of the shape of ``income_usd_ppp``.

    References
    ----------
    Clemens, M. A. (2020). The Emigration Life Cycle. CGD Working Paper 540.

    Examples
    --------
    >>> import numpy as np
    >>> from models.hump import propensity
    >>> incomes = np.array([1000.0, 7000.0, 20000.0])
    >>> bool(propensity(incomes).argmax() == 1)
    True
    """
    y = np.asarray(income_usd_ppp, dtype=float)
    c = _curvature(peak_income, low_income_elasticity, reference_income)
    return peak_rate * np.exp(-c * np.log(y / peak_income) ** 2)


def elasticity(
    income_usd_ppp: Any,
    *,
    peak_income: float = DEFAULTS["hump_peak_income"],
    low_income_elasticity: float = DEFAULTS["hump_low_income_elasticity"],
    reference_income: float = DEFAULTS["hump_reference_income"],
) -> np.ndarray:
    """d ln(propensity) / d ln(income) of :func:`propensity` (dimensionless)."""
    y = np.asarray(income_usd_ppp, dtype=float)
    c = _curvature(peak_income, low_income_elasticity, reference_income)
    return -2.0 * c * np.log(y / peak_income)


def build(
    regions: Sequence[str] = DEFAULT_REGIONS,
    *,
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 0.25,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The standalone hump model for ``regions`` (WPP names), from 2022.

    Origin population is a stock started at WPP 2022 and grown at WPP's medium-variant average
    rates (2022-2050, then 2050-2100), drained by emigration and refilled by returns. In the
    coupled corridor model, demography's population replaces it (see :func:`add_to`).

    Parameters
    ----------
    regions : sequence of str
        WPP region names, e.g. ``["Sub-Saharan Africa", "Central America"]``.
    start, stop, dt : float
        Simulation times (decimal years).
    values : mapping, optional
        Default parameter values to replace, by name (a number, or {region: value}).
    """
    regions = check_regions(regions)
    m = engine.Model(
        "hump",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc="Migration hump: emigration as an inverted U of origin income.",
    )
    m.dimension("region", regions)
    m.param(
        "initial_population",
        region_values(dict(zip(regions, wpp_total(regions, 2022))), regions, "initial_population"),
        dims=("region",),
        units="person",
        bounds=(0, None),
        doc="Population on 1 July 2022 (UN WPP 2022).",
    )
    wpp_growth_params(m, regions)
    m.stock(
        "population",
        initial="initial_population",
        units="person",
        dims=("region",),
        non_negative=True,
        doc="Resident population of the origin region.",
    )
    m.flow(
        "natural_increase",
        "population * (population_growth_2022_2050 if time < 2050 "
        "else population_growth_2050_2100)",
        into="population",
        units="person/year",
        dims=("region",),
        doc="Growth other than hump's emigration and returns (WPP medium-variant rate).",
    )
    add_to(m, population="population", population_stock="population", values=values)
    return m


def add_to(
    model: engine.Model,
    *,
    regions_dim: str = "region",
    prefix: str = "",
    population: str,
    population_stock: str | None = None,
    income: str | None = None,
    legal_demand: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Add the hump's parameters, stocks, flows and auxiliaries to ``model``.

    Parameters
    ----------
    model : engine.Model
        A model that already declares ``regions_dim`` (elements: WPP region names).
    regions_dim : str
        The regions dimension.
    prefix : str
        Prepended to every name created here.
    population : str
        Name or expression of the origin population by region (person).
    population_stock : str, optional
        A stock over ``(regions_dim,)`` drained by emigration and refilled by returns.
    income : str, optional
        Name or expression of income per head (US$ 2017 PPP / person / year) to use instead of
        the hump's own GDP-per-head stock plus remittances.
    legal_demand : str, optional
        Expression (person/year) added to the legal-pathway capacity.
    values : mapping, optional
        Replacement default values by (unprefixed) parameter name.

    Returns
    -------
    dict
        Role -> created variable name (see the module docstring).
    """
    b = Builder(
        model,
        regions_dim=regions_dim,
        prefix=prefix,
        values=values,
        population=f"({population})",
        legal_demand=f"({legal_demand})" if legal_demand else "0",
    )
    if population_stock is not None and model[population_stock].dims != b.dims:
        raise ValueError(
            f"population_stock {population_stock!r} must have dims {b.dims}; it has "
            f"{model[population_stock].dims}. Omit it and couple the flows "
            "yourself."
        )
    # The order of the sub-systems is the order of the model's variables (its content hash).
    parts.hump_curve(b)
    parts.income_and_remittances(b, income)
    parts.propensity_and_networks(b)
    parts.legal_pathways(b)
    parts.irregular_routes(b)
    parts.emigration_and_returns(b, population_stock)
    b.check_values("hump")
    roles = [
        "emigration",
        "emigration_legal",
        "emigration_irregular",
        "transit_deaths",
        "returns",
        "diaspora",
        "diaspora_deaths",
        "remittances",
        "income_per_capita",
        "emigration_rate",
        "emigration_propensity",
        "emigration_pressure",
        "legal_pathway_capacity",
        "border_enforcement",
        "network_effect",
    ]
    if income is None:
        roles.append("gdp_per_capita")
    return {role: prefix + role for role in roles}
