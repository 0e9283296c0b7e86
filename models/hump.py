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
Emigrants return at a constant rate (plus assisted returns, a lever), die abroad, and send
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

from ._inputs import (
    DEFAULT_REGIONS,
    Names,
    check_regions,
    region_values,
    wpp_growth_params,
    wpp_total,
)

__all__ = ["build", "add_to", "propensity", "elasticity", "DEFAULTS"]

#: Parameter values of the hump curve, shared by :func:`propensity` and the model.
DEFAULTS: dict[str, float] = {
    "hump_peak_income": 7000.0,
    "hump_low_income_elasticity": 0.35,
    "hump_reference_income": 1000.0,
    "peak_emigration_rate": 0.0025,
}

# Per-region data (see the module docstring for sources); "World" for global checks.
INITIAL_GDP_PER_CAPITA = {
    "Northern Africa": 10600.0,
    "Sub-Saharan Africa": 3900.0,
    "Central America": 16800.0,
    "Europe": 40000.0,
    "Northern America": 63000.0,
    "World": 18000.0,
}
GDP_PER_CAPITA_GROWTH = {
    "Northern Africa": 0.020,
    "Sub-Saharan Africa": 0.025,
    "Central America": 0.018,
    "Europe": 0.013,
    "Northern America": 0.011,
    "World": 0.018,
}
INITIAL_DIASPORA = {
    "Northern Africa": 12.0e6,
    "Sub-Saharan Africa": 28.5e6,
    "Central America": 16.6e6,
    "Europe": 63.0e6,
    "Northern America": 4.5e6,
    "World": 281.0e6,
}
REMITTANCE_PER_EMIGRANT = {
    "Northern Africa": 3750.0,
    "Sub-Saharan Africa": 1860.0,
    "Central America": 6000.0,
    "Europe": 2960.0,
    "Northern America": 2960.0,
    "World": 2960.0,
}
REMITTANCE_COST_2022 = {
    "Northern Africa": 0.063,
    "Sub-Saharan Africa": 0.079,
    "Central America": 0.058,
    "Europe": 0.060,
    "Northern America": 0.060,
    "World": 0.060,
}
LEGAL_PATHWAY_CAPACITY = {
    "Northern Africa": 250e3,
    "Sub-Saharan Africa": 400e3,
    "Central America": 200e3,
    "Europe": 3.0e6,
    "Northern America": 600e3,
    "World": 6.1e6,
}

# Calibrated (see the module docstring): 2022 emigration = (return + mortality + 2.4%) x diaspora.
EMIGRATION_SCALE = {
    "Northern Africa": 2.03,
    "Sub-Saharan Africa": 1.25,
    "Central America": 5.13,
    "Europe": 2.10,
    "Northern America": 0.35,
    "World": 1.62,
}


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
    regions = list(model.dims[regions_dim].elements)
    dims = (regions_dim,)
    values = dict(values or {})
    n = Names(
        prefix,
        population=f"({population})",
        legal_demand=f"({legal_demand})" if legal_demand else "0",
    )
    if population_stock is not None and model[population_stock].dims != dims:
        raise ValueError(
            f"population_stock {population_stock!r} must have dims {dims}; it has "
            f"{model[population_stock].dims}. Omit it and couple the flows "
            "yourself."
        )

    def param(name: str, default: Any, *, regional: bool = False, **kw: Any) -> None:
        if regional:
            if isinstance(default, Mapping):
                default = region_values(default, regions, prefix + name)
            kw["dims"] = dims
        model.param(prefix + name, default, **kw)
        if name in values:  # checked like any change of a parameter (engine.Model.set_value)
            model.set_value(prefix + name, values.pop(name))

    # -- the hump
    param(
        "hump_peak_income",
        DEFAULTS["hump_peak_income"],
        units="USD/person/year",
        bounds=(5000, 10000),
        prior=("truncnorm", 7000, 1000, 5000, 10000),
        doc="Income per head (2017 PPP) at which emigration propensity peaks (Clemens 2020: "
        "slowing after ~5,000, reversing after ~10,000).",
    )
    param(
        "hump_low_income_elasticity",
        DEFAULTS["hump_low_income_elasticity"],
        units="1",
        bounds=(0, 2),
        prior=("normal", 0.35, 0.1),
        doc="Elasticity of emigration to income per head at the reference low income "
        "(Clemens 2020: +0.35 to all destinations).",
    )
    param(
        "hump_reference_income",
        DEFAULTS["hump_reference_income"],
        units="USD/person/year",
        bounds=(100, 4999),
        doc="Low income at which the elasticity is the one given.",
    )
    param(
        "peak_emigration_rate",
        DEFAULTS["peak_emigration_rate"],
        units="1/year",
        bounds=(0, 0.05),
        prior=("lognormal", math.log(0.0025), 0.3),
        doc="Emigration propensity at the peak of the hump (Abel & Cohen 2019: ~0.25%/year "
        "worldwide).",
    )
    param(
        "emigration_scale",
        EMIGRATION_SCALE,
        regional=True,
        units="1",
        bounds=(0, 20),
        doc="Regional level of emigration relative to the global hump, calibrated so that "
        "2022 emigration grows the diaspora at the 2010-2020 world rate.",
    )
    model.aux(
        n("{hump_curvature}"),
        n("{hump_low_income_elasticity} / (2 * ln({hump_peak_income} / {hump_reference_income}))"),
        units="1",
        doc="Curvature c of the log-quadratic hump.",
    )

    # -- income and remittances
    param(
        "remittance_per_emigrant",
        REMITTANCE_PER_EMIGRANT,
        regional=True,
        units="USD/person/year",
        bounds=(0, 1e5),
        doc="Remittances received per emigrant in 2022 (World Bank/KNOMAD 2023).",
    )
    param(
        "remittance_cost_2022",
        REMITTANCE_COST_2022,
        regional=True,
        units="1",
        bounds=(0, 0.5),
        doc="Average cost of sending remittances, 2022 (RPW Q4 2022).",
    )
    param(
        "remittance_cost",
        REMITTANCE_COST_2022,
        regional=True,
        units="1",
        bounds=(0, 0.5),
        doc="Lever: cost of sending remittances, share of the amount sent.",
    )
    if income is None:
        param(
            "initial_gdp_per_capita",
            INITIAL_GDP_PER_CAPITA,
            regional=True,
            units="USD/person/year",
            bounds=(100, 2e5),
            doc="GDP per head 2022, 2017 PPP (World Bank WDI NY.GDP.PCAP.PP.KD).",
        )
        param(
            "gdp_per_capita_growth",
            GDP_PER_CAPITA_GROWTH,
            regional=True,
            units="1/year",
            bounds=(-0.05, 0.1),
            doc="Baseline growth of GDP per head (SSP2, Dellink et al. 2017).",
        )
        param(
            "gdp_per_capita_growth_shift",
            0.0,
            units="1/year",
            bounds=(-0.05, 0.05),
            prior=("normal", 0.0, 0.005),
            doc="Uncertainty of baseline growth, shared by all regions (sd 0.5 pp).",
        )
        param(
            "development_aid_growth",
            0.0,
            regional=True,
            units="1/year",
            bounds=(0, 0.03),
            doc="Lever: extra growth of GDP per head from development cooperation.",
        )
        model.stock(
            n("{gdp_per_capita}"),
            initial=n("{initial_gdp_per_capita}"),
            units="USD/person/year",
            dims=dims,
            non_negative=True,
            doc="GDP per head, 2017 PPP.",
        )
        model.flow(
            n("{gdp_per_capita_change}"),
            n(
                "{gdp_per_capita} * ({gdp_per_capita_growth} + {gdp_per_capita_growth_shift} "
                "+ {development_aid_growth})"
            ),
            into=n("{gdp_per_capita}"),
            units="USD/person/year/year",
            dims=dims,
            doc="Growth of GDP per head.",
        )
        income_eq = n("{gdp_per_capita} + zidz({remittances}, {population})")
    else:
        income_eq = f"({income})"
    model.aux(
        n("{income_per_capita}"),
        income_eq,
        units="USD/person/year",
        dims=dims,
        doc="Income per head at origin: GDP per head plus remittances per resident.",
    )
    model.aux(
        n("{remittances}"),
        n(
            "{diaspora} * {remittance_per_emigrant} * (1 - {remittance_cost}) / "
            "(1 - {remittance_cost_2022})"
        ),
        units="USD/year",
        dims=dims,
        doc="Remittances received by the origin region.",
    )

    # -- propensity, networks, pressure
    model.aux(
        n("{emigration_propensity}"),
        n(
            "{peak_emigration_rate} * exp(-{hump_curvature} * "
            "ln({income_per_capita} / {hump_peak_income}) ** 2)"
        ),
        units="1/year",
        dims=dims,
        doc="Emigration propensity: the log-quadratic hump of income per head.",
    )
    param(
        "initial_diaspora",
        INITIAL_DIASPORA,
        regional=True,
        units="person",
        bounds=(0, 1e9),
        doc="Emigrants living abroad, ~2020-2022 (UN DESA; IOM WMR 2022).",
    )
    param(
        "network_elasticity",
        0.6,
        units="1",
        bounds=(0, 1.5),
        prior=("normal", 0.6, 0.15),
        doc="Elasticity of emigration to the diaspora (Beine, Docquier & Ozden 2011).",
    )
    model.aux(
        n("{network_effect}"),
        n("zidz({diaspora}, {initial_diaspora}) ** {network_elasticity}"),
        units="1",
        dims=dims,
        doc="Network multiplier: 1 at the 2022 diaspora.",
    )
    model.aux(
        n("{emigration_pressure}"),
        n("{emigration_scale} * {emigration_propensity} * {network_effect} * {population}"),
        units="person/year",
        dims=dims,
        doc="Would-be emigrants a year: who would leave if a legal pathway were open.",
    )

    # -- legal pathways
    param(
        "legal_pathway_capacity",
        LEGAL_PATHWAY_CAPACITY,
        regional=True,
        units="person/year",
        bounds=(0, 1e8),
        doc="Lever: legal admissions available to the region's emigrants a year (quota).",
    )
    model.aux(
        n("{legal_capacity}"),
        n("{legal_pathway_capacity} + {legal_demand}"),
        units="person/year",
        dims=dims,
        doc="Legal-pathway capacity including labour-market pull.",
    )
    model.aux(
        n("{unmet_emigration_demand}"),
        n("max({emigration_pressure} - {legal_capacity}, 0)"),
        units="person/year",
        dims=dims,
        doc="Would-be emigrants a year not served by legal pathways.",
    )

    # -- irregular routes and enforcement
    param(
        "border_enforcement",
        1.0,
        regional=True,
        units="1",
        bounds=(0, 10),
        doc="Lever: border enforcement facing the region's emigrants, index (2022 = 1).",
    )
    param(
        "irregular_share_of_unmet",
        0.3,
        units="1",
        bounds=(0, 1),
        prior=("uniform", 0.1, 0.5),
        doc="Share of unmet demand that moves irregularly at 2022 costs.",
    )
    param(
        "enforcement_cost_slope",
        0.5,
        units="1",
        bounds=(0, 5),
        prior=("uniform", 0.2, 1.0),
        doc="Smuggling cost per unit of enforcement: cost index (1 + k E) / (1 + k).",
    )
    param(
        "smuggling_cost_elasticity",
        0.3,
        units="1",
        bounds=(0, 2),
        prior=("truncnorm", 0.3, 0.15, 0, 2),
        doc="Elasticity of irregular crossings to smuggling cost (inelastic: Gathmann 2008).",
    )
    param(
        "route_diversion",
        1.0,
        units="1",
        bounds=(0, 5),
        prior=("uniform", 0.5, 2.0),
        doc="Diversion of crossings away from the enforced route per unit of enforcement.",
    )
    param(
        "main_route_share_2022",
        0.7,
        units="1",
        bounds=(0.01, 0.99),
        prior=("uniform", 0.5, 0.9),
        doc="Share of irregular crossings on the main route.",
    )
    param(
        "transit_death_risk_main",
        0.004,
        units="1",
        bounds=(0, 0.2),
        prior=("uniform", 0.001, 0.008),
        doc="Deaths per crossing on the main route.",
    )
    param(
        "transit_death_risk_diverted",
        0.013,
        units="1",
        bounds=(0, 0.2),
        prior=("uniform", 0.007, 0.02),
        doc="Deaths per crossing on diverted routes (Central Mediterranean 2022, IOM).",
    )
    model.aux(
        n("{smuggling_cost_index}"),
        n("(1 + {enforcement_cost_slope} * {border_enforcement}) / (1 + {enforcement_cost_slope})"),
        units="1",
        dims=dims,
        doc="Cost of an irregular crossing relative to 2022.",
    )
    model.aux(
        n("{irregular_attempts}"),
        n(
            "{irregular_share_of_unmet} * {unmet_emigration_demand} * "
            "{smuggling_cost_index} ** (-{smuggling_cost_elasticity})"
        ),
        units="person/year",
        dims=dims,
        doc="People setting out on irregular routes.",
    )
    model.aux(
        n("{main_route_share}"),
        n(
            "{main_route_share_2022} * exp(-{route_diversion} * ({border_enforcement} - 1))"
            " / ({main_route_share_2022} * exp(-{route_diversion} * "
            "({border_enforcement} - 1)) + 1 - {main_route_share_2022})"
        ),
        units="1",
        dims=dims,
        doc="Share of irregular crossings on the enforced route.",
    )
    model.aux(
        n("{transit_death_risk}"),
        n(
            "{main_route_share} * {transit_death_risk_main} + (1 - {main_route_share}) * "
            "{transit_death_risk_diverted}"
        ),
        units="1",
        dims=dims,
        doc="Average deaths per irregular crossing.",
    )
    model.aux(
        n("{emigration_irregular_diverted}"),
        n("{irregular_attempts} * (1 - {main_route_share})"),
        units="person/year",
        dims=dims,
        doc="Irregular crossings on diverted routes (attempts).",
    )

    # -- stocks and flows
    model.stock(
        n("{diaspora}"),
        initial=n("{initial_diaspora}"),
        units="person",
        dims=dims,
        non_negative=True,
        doc="Emigrants from the region living abroad.",
    )
    src = {"out_of": population_stock} if population_stock else {}
    model.flow(
        n("{emigration_legal}"),
        n("min({emigration_pressure}, {legal_capacity})"),
        into=n("{diaspora}"),
        units="person/year",
        dims=dims,
        doc="Emigration through legal pathways.",
        **src,
    )
    model.flow(
        n("{emigration_irregular}"),
        n("{irregular_attempts} * (1 - {transit_death_risk})"),
        into=n("{diaspora}"),
        units="person/year",
        dims=dims,
        doc="Irregular emigrants arriving abroad.",
        **src,
    )
    deaths_eq = n("{irregular_attempts} * {transit_death_risk}")
    if population_stock:
        model.flow(
            n("{transit_deaths}"),
            deaths_eq,
            out_of=population_stock,
            units="person/year",
            dims=dims,
            doc="Deaths and disappearances in transit.",
        )
    else:
        model.aux(
            n("{transit_deaths}"),
            deaths_eq,
            units="person/year",
            dims=dims,
            doc="Deaths and disappearances in transit.",
        )
    param(
        "return_rate",
        0.016,
        units="1/year",
        bounds=(0, 0.2),
        prior=("lognormal", math.log(0.016), 0.3),
        doc="Share of the diaspora returning a year (Azose & Raftery 2019; UN DESA 2020).",
    )
    param(
        "assisted_return_rate",
        0.0,
        units="1/year",
        bounds=(0, 0.1),
        doc="Lever: additional returns a year (return cooperation), share of the diaspora.",
    )
    param(
        "diaspora_mortality_rate",
        0.007,
        units="1/year",
        bounds=(0, 0.05),
        prior=("normal", 0.007, 0.002),
        doc="Deaths of emigrants abroad a year, share of the diaspora.",
    )
    dst = {"into": population_stock} if population_stock else {}
    model.flow(
        n("{returns}"),
        n("{diaspora} * ({return_rate} + {assisted_return_rate})"),
        out_of=n("{diaspora}"),
        units="person/year",
        dims=dims,
        doc="Emigrants returning to the region.",
        **dst,
    )
    model.flow(
        n("{diaspora_deaths}"),
        n("{diaspora} * {diaspora_mortality_rate}"),
        out_of=n("{diaspora}"),
        units="person/year",
        dims=dims,
        doc="Deaths of emigrants abroad.",
    )
    model.aux(
        n("{emigration}"),
        n("{emigration_legal} + {emigration_irregular} + {transit_deaths}"),
        units="person/year",
        dims=dims,
        doc="Everyone leaving the region: legal and irregular emigrants and those who "
        "die in transit.",
    )
    model.aux(
        n("{emigration_rate}"),
        n("zidz({emigration}, {population})"),
        units="1/year",
        dims=dims,
        doc="Emigration per resident a year.",
    )
    if values:
        raise ValueError(f"unknown hump parameter(s) in values: {sorted(values)}")
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
