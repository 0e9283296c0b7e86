"""The sub-systems that :func:`models.hump.add_to` adds, in order, and their regional data.

Each function adds one concern's parameters, stocks, flows and auxiliaries to the host model
through a :class:`~models._inputs.Builder` (prefix, regions dim, replacement values). The story,
the units and the sources of every number here are in the docstring of :mod:`models.hump`; the
order of the calls there is the order of the model's variables (part of its content hash).
"""

from __future__ import annotations

import math

from ._inputs import Builder

#: Parameter values of the hump curve, shared by :func:`models.hump.propensity` and the model.
DEFAULTS: dict[str, float] = {
    "hump_peak_income": 7000.0,
    "hump_low_income_elasticity": 0.35,
    "hump_reference_income": 1000.0,
    "peak_emigration_rate": 0.0025,
}

# Per-region data (sources: the docstring of models.hump); "World" for global checks.
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

# Calibrated (see models.hump): 2022 emigration = (return + mortality + 2.4%) x diaspora.
EMIGRATION_SCALE = {
    "Northern Africa": 2.03,
    "Sub-Saharan Africa": 1.25,
    "Central America": 5.13,
    "Europe": 2.10,
    "Northern America": 0.35,
    "World": 1.62,
}


def hump_curve(b: Builder) -> None:
    """The parameters of the log-quadratic hump and its curvature."""
    model, n, param = b.model, b.n, b.param
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


def income_and_remittances(b: Builder, income: str | None) -> None:
    """Income per head at origin (hump's own GDP per head plus remittances per resident,
    unless ``income`` is given) and remittances received (the remittance-cost lever)."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
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


def propensity_and_networks(b: Builder) -> None:
    """Emigration propensity on the hump, the diaspora network effect and emigration pressure."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
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
    param(
        "ssp_migration_level",
        1.0,
        units="1",
        bounds=(0, 5),
        doc="Scenario: international migration relative to the medium assumption (KC & Lutz "
        "2017: SSP1, SSP2 and SSP4 medium, 1; SSP3 low, 0.5; SSP5 high, 1.5), a factor on "
        "the would-be emigrants; scenario files set it from their ssp.",
    )
    model.aux(
        n("{emigration_pressure}"),
        n(
            "{emigration_scale} * {emigration_propensity} * {network_effect} * {population} "
            "* {ssp_migration_level}"
        ),
        units="person/year",
        dims=dims,
        doc="Would-be emigrants a year: who would leave if a legal pathway were open.",
    )


def legal_pathways(b: Builder) -> None:
    """Legal-pathway capacity (the quota lever, plus any labour-market pull) and unmet demand."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
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


def irregular_routes(b: Builder) -> None:
    """Irregular attempts, smuggling cost, route diversion by enforcement and the risk of
    death in transit."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
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


def emigration_and_returns(b: Builder, population_stock: str | None) -> None:
    """The diaspora stock and the flows that fill and drain it (emigration, transit deaths,
    returns, deaths abroad), draining and refilling ``population_stock`` if one is given."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
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
