"""The sub-systems that :func:`models.migration_drivers.add_to` adds, in order.

The story, the equations and the sources of every number are in the docstring of
:mod:`models.migration_drivers`; the order of the calls there is the order of the model's
variables (part of its content hash).
"""

from __future__ import annotations

import engine

from . import migration_drivers as md
from .world_partition import Partition

OD = ("origin", "destination")


def income(m: engine.Model, part: Partition) -> None:
    """Income per head by origin: the baseline path and the scenario's."""
    m.param(
        "income_per_capita_2022",
        md.income_per_capita_2022(part),
        dims=("origin",),
        units="USD/person/year",
        bounds=(100, 2e5),
        doc="GDP per head 2022, 2017 PPP: the region's countries' World Bank income groups "
        "at their WDI figures, weighted by population (WPP 2022).",
    )
    m.param(
        "income_growth",
        md.income_growth(part),
        dims=("origin",),
        units="1/year",
        bounds=(-0.05, 0.1),
        doc="Baseline growth of GDP per head (SSP2, Dellink et al. 2017).",
    )
    m.param(
        "income_growth_shift",
        0.0,
        units="1/year",
        bounds=(-0.05, 0.05),
        prior=("normal", 0.0, 0.005),
        doc="Growth of GDP per head off the baseline from 2022, all regions (sd 0.5 pp).",
    )
    m.param(
        "development_aid_growth",
        0.0,
        dims=("origin",),
        units="1/year",
        bounds=(0, 0.03),
        doc="Lever: extra growth of GDP per head from 2022 (development cooperation).",
    )
    m.aux(
        "baseline_income_per_capita",
        f"income_per_capita_2022[origin] * exp(income_growth[origin] * (time - {md.BASE_YEAR}))",
        dims=("origin",),
        units="USD/person/year",
        doc="GDP per head on the baseline path (the calibration's).",
    )
    m.aux(
        "income_per_capita",
        "baseline_income_per_capita[origin] * exp((income_growth_shift + "
        f"development_aid_growth[origin]) * max(time - {md.BASE_YEAR}, 0))",
        dims=("origin",),
        units="USD/person/year",
        doc="GDP per head of the scenario.",
    )


def hump(m: engine.Model, part: Partition) -> None:
    """The emigration life cycle (Clemens 2020) as a factor relative to the baseline income."""
    d = md.HUMP
    m.param(
        "hump_elasticity_all",
        d["hump_elasticity_all"],
        units="1",
        bounds=(0, 2),
        prior=("truncnorm", 0.35, 0.1, 0, 2),
        doc="Elasticity of emigration to income per head, all destinations (Clemens 2020).",
    )
    m.param(
        "hump_elasticity_rich",
        d["hump_elasticity_rich"],
        units="1",
        bounds=(0, 2),
        prior=("truncnorm", 0.74, 0.15, 0, 2),
        doc="Elasticity of emigration to rich destinations (Clemens 2020).",
    )
    m.param(
        "hump_slowing_income",
        d["hump_slowing_income"],
        units="USD/person/year",
        bounds=(1000, 9000),
        prior=("uniform", 4000, 6000),
        doc="Income per head past which the elasticity falls (Clemens 2020: ~5,000).",
    )
    m.param(
        "hump_peak_income",
        d["hump_peak_income"],
        units="USD/person/year",
        bounds=(5000, 30000),
        prior=("uniform", 8000, 13000),
        doc="Income per head past which emigration falls (Clemens 2020: ~10,000).",
    )
    m.param(
        "rich_destination_share",
        md.rich_destination_share(part),
        dims=("destination",),
        units="1",
        bounds=(0, 1),
        doc="Share of the destination's immigrants living in high-income countries (UN 2019).",
    )
    m.aux(
        "hump_elasticity",
        "hump_elasticity_all + (hump_elasticity_rich - hump_elasticity_all) * "
        "rich_destination_share[destination]",
        dims=("destination",),
        units="1",
        doc="Elasticity of emigration to income per head below the slowing income.",
    )
    for name, income_name in (
        ("hump_index", "income_per_capita"),
        ("baseline_hump_index", "baseline_income_per_capita"),
    ):
        x = f"ln({income_name}[origin] / hump_slowing_income)"
        span = "ln(hump_peak_income / hump_slowing_income)"
        m.aux(
            name,
            f"{x} - min(max({x}, 0), 2 * {span}) ** 2 / (2 * {span}) - "
            f"2 * max({x} - 2 * {span}, 0)",
            dims=("origin",),
            units="1",
            doc=f"Log propensity per unit of elasticity at {income_name.replace('_', ' ')}.",
        )
    m.aux(
        "hump_multiplier",
        "exp(hump_elasticity[destination] * (hump_index[origin] - baseline_hump_index[origin]))",
        dims=OD,
        units="1",
        doc="Factor on the base rate: propensity at the scenario's income over the baseline's.",
    )


def networks(m: engine.Model) -> None:
    """The bounded network effect and the migrants the drivers added (its state)."""
    m.param(
        "network_elasticity",
        0.6,
        units="1",
        bounds=(0, 1.5),
        prior=("truncnorm", 0.6, 0.15, 0, 1.5),
        doc="Elasticity of flows to the diaspora at small shares (Beine et al. 2011).",
    )
    m.param(
        "network_half_share",
        0.1,
        units="1",
        bounds=(0.001, 1),
        prior=("uniform", 0.05, 0.2),
        doc="Diaspora share of the origin population at which the network effect is half "
        "saturated (UN 2019: shares above 0.3 only for small countries).",
    )
    m.param(
        "network_max",
        3.0,
        units="1",
        bounds=(1, 10),
        prior=("uniform", 2.0, 4.0),
        doc="Upper bound of the network factor (saturation where the base share is small).",
    )
    m.stock(
        "excess_migrant_stock",
        initial=0.0,
        dims=OD,
        units="person",
        doc="Migrants of the pair the drivers added beyond the base rates' flows (or removed).",
    )
    m.flow(
        "excess_migration",
        "(migration_rate[origin, destination] - base_migration_rate[origin, destination]) * "
        "total_population[origin] - excess_migrant_stock[origin, destination] * (return_rate + "
        "zidz(migrant_deaths_total[origin, destination], migrant_stock_total[origin, "
        "destination]))",
        into="excess_migrant_stock",
        dims=OD,
        units="person/year",
        doc="Arrivals beyond the base flows, less their returns and deaths at the pair's rates.",
    )
    m.aux(
        "diaspora_share",
        "zidz(migrant_stock_total[origin, destination], total_population[origin])",
        dims=OD,
        units="1",
        doc="The pair's migrant stock over the origin's population.",
    )
    m.aux(
        "baseline_diaspora_share",
        "zidz(max(migrant_stock_total[origin, destination] - excess_migrant_stock[origin, "
        "destination], 0), total_population[origin])",
        dims=OD,
        units="1",
        doc="The share without the migrants the drivers added.",
    )
    tiny = "1e-12"
    sat = "({s} / ({s} + network_half_share) + " + tiny + ")"
    m.aux(
        "network_effect",
        "min(network_max, ("
        + sat.format(s="diaspora_share[origin, destination]")
        + " / "
        + sat.format(s="baseline_diaspora_share[origin, destination]")
        + ") ** network_elasticity)",
        dims=OD,
        units="1",
        doc="Factor on the base rate from the diaspora, saturating in its share (1 when the "
        "drivers added no one; between 0 and network_max).",
    )


def labour(m: engine.Model) -> None:
    """Labour shortages at destinations, split once across origins by their base flows."""
    m.param(
        "labour_shortage",
        0.0,
        dims=("destination",),
        units="person/year",
        bounds=(0, 1e8),
        doc="Workers a year a destination admits beyond the baseline from 2022 (scenario).",
    )
    m.aux(
        "base_flow_across",
        "is_other_region[origin, destination] * base_migration_rate[origin, destination] * "
        "total_population[origin]",
        dims=OD,
        units="person/year",
        doc="Base flows across region borders (the shares that split a shortage).",
    )
    m.param(
        "labour_migration_openness",
        0.0,
        units="1",
        bounds=(0, 1),
        doc="Lever: share of the labour market's shortage employers fill by recruiting abroad "
        "(0 at baseline: the base rates hold today's labour migration).",
    )
    m.param(
        "shortage_fill_time",
        2.0,
        units="year",
        bounds=(0.25, 20),
        prior=("uniform", 1.0, 4.0),
        doc="Time over which recruitment abroad fills a shortage.",
    )
    m.aux(
        "labour_migration_demand",
        "labour_shortage[destination] + labour_migration_openness * "
        "labour_market_shortage[destination] / shortage_fill_time",
        dims=("destination",),
        units="person/year",
        doc="Workers a year a destination recruits abroad beyond the baseline: the scenario's "
        "shortage and the share of its labour market's shortage opened to migrants.",
    )
    m.aux(
        "labour_admissions",
        f"if_then_else(time >= {md.BASE_YEAR}, labour_migration_demand[destination], 0) * "
        "zidz(base_flow_across[origin, destination], sum(base_flow_across[origin, "
        "destination], 'origin'))",
        dims=OD,
        units="person/year",
        doc="Labour-driven admissions by origin: the shortage split by the base flows.",
    )
    m.aux(
        "labour_rate",
        "zidz(labour_admissions[origin, destination], total_population[origin])",
        dims=OD,
        units="1/year",
        doc="Labour-driven moves a year per resident of the origin.",
    )


def remittances(m: engine.Model) -> None:
    """Remittances sent home by the migrant stocks."""
    m.param(
        "remittance_per_migrant",
        md.REMITTANCE_PER_MIGRANT,
        dims=("destination",),
        units="USD/person/year",
        bounds=(0, 1e5),
        prior=("uniform", 2400.0, 3500.0),
        doc="Remittances a migrant sends a year (US$831 billion in 2022 over 281 million "
        "migrants: World Bank/KNOMAD, IOM 2024, UN DESA 2020).",
    )
    m.aux(
        "remittances_sent",
        "migrant_stock_total[origin, destination] * (1 + unknown_origin_share[destination]) "
        "* remittance_per_migrant[destination]",
        dims=OD,
        units="USD/year",
        doc="Remittances from the destination to the origin a year: the pair's migrants and "
        "its part of the destination's migrants of unknown origin (spread over origins as the "
        "known ones, Abel & Cohen 2019) send remittance_per_migrant each.",
    )
    m.aux(
        "remittances_received",
        "sum(remittances_sent[region, destination], 'destination')",
        dims=("region",),
        units="USD/year",
        doc="Remittances received by the region a year.",
    )


def pathways(m: engine.Model, part: Partition) -> None:
    """Legal pathways and border enforcement as factors on the base flows; irregular crossings
    diverted to deadlier routes by enforcement, and the deaths in transit they imply."""
    # the system's irregular_share (0 there: instantaneous moves) takes the cited shares
    # (Pew 2023: 23 % of Northern America's foreign-born; Clandestino 2009: ~8 % in Europe;
    # 10 % elsewhere)
    m.set_value("irregular_share", md.irregular_share(part))
    m.param(
        "legal_pathway_factor",
        1.0,
        dims=("destination",),
        units="1",
        bounds=(0, 10),
        doc="Lever: legal admissions relative to the baseline's (1 = baseline).",
    )
    m.param(
        "border_enforcement",
        1.0,
        dims=("destination",),
        units="1",
        bounds=(0, 10),
        doc="Lever: border enforcement at the destination, index (2022 = 1).",
    )
    m.param(
        "enforcement_cost_slope",
        0.5,
        units="1",
        bounds=(0, 5),
        prior=("uniform", 0.2, 1.0),
        doc="Smuggling cost per unit of enforcement: cost index (1 + k E) / (1 + k).",
    )
    m.param(
        "smuggling_cost_elasticity",
        0.3,
        units="1",
        bounds=(0, 2),
        prior=("truncnorm", 0.3, 0.15, 0, 2),
        doc="Elasticity of irregular crossings to smuggling cost (inelastic: Gathmann 2008).",
    )
    m.param(
        "route_diversion",
        1.0,
        units="1",
        bounds=(0, 5),
        prior=("uniform", 0.5, 2.0),
        doc="Diversion of crossings away from the enforced route per unit of enforcement.",
    )
    m.param(
        "main_route_share_2022",
        0.7,
        units="1",
        bounds=(0.01, 0.99),
        prior=("uniform", 0.5, 0.9),
        doc="Share of irregular crossings on the main route in 2022.",
    )
    m.param(
        "rejection_deflection_elasticity",
        0.3,
        units="1",
        bounds=(0, 2),
        prior=("uniform", 0.2, 0.4),
        doc="Elasticity of irregular migrants to the asylum rejection rate (Czaika & Hobolth "
        "2016: 10 % more asylum rejections, 2-4 % more irregular migrants).",
    )
    m.param(
        "rejection_share",
        0.75,
        units="1",
        bounds=(0.05, 0.95),
        doc="Share of applications for legal entry refused at the baseline: the rejection rate "
        "of Czaika & Hobolth's estimates (Eurostat 2012: 75 % of the EU's first-instance "
        "asylum decisions in 2011 were rejections).",
    )
    m.aux(
        "legal_deflection_elasticity",
        "rejection_deflection_elasticity * (1 - rejection_share) / rejection_share",
        units="1",
        doc="Elasticity of irregular arrivals to narrower legal pathways: the elasticity to the "
        "rejection rate times that rate's elasticity to admissions at the baseline with the "
        "applications given, (1 - r) / r (0.3 / 3 = 0.1).",
    )
    m.param(
        "transit_death_risk_main",
        0.004,
        units="1",
        bounds=(0, 0.2),
        prior=("uniform", 0.001, 0.008),
        doc="Deaths per crossing on the main route (a third of the diverted routes').",
    )
    m.param(
        "transit_death_risk_diverted",
        0.013,
        units="1",
        bounds=(0, 0.2),
        prior=("uniform", 0.007, 0.02),
        doc="Deaths per crossing on diverted routes (IOM Missing Migrants, Central "
        "Mediterranean 2022: ~1,400 dead and missing for ~105,000 arrivals).",
    )
    for name, lever in (
        ("legal_pathway_level", "legal_pathway_factor"),
        ("enforcement_level", "border_enforcement"),
    ):
        m.aux(
            name,
            f"if_then_else(time >= {md.BASE_YEAR}, {lever}[destination], 1)",
            dims=("destination",),
            units="1",
            doc=f"{lever.replace('_', ' ').capitalize()} in force: the lever from "
            f"{md.BASE_YEAR}, 2022's level (1) before (the calibration's years are history).",
        )
    m.aux(
        "smuggling_cost_index",
        "(1 + enforcement_cost_slope * enforcement_level[destination]) / "
        "(1 + enforcement_cost_slope)",
        dims=("destination",),
        units="1",
        doc="Cost of an irregular crossing relative to 2022.",
    )
    m.aux(
        "irregular_factor",
        "smuggling_cost_index[destination] ** (-smuggling_cost_elasticity) * "
        "max(legal_pathway_level[destination], 0.01) ** (-legal_deflection_elasticity)",
        dims=("destination",),
        units="1",
        doc="Irregular arrivals relative to the baseline's: deterred by the smuggling cost, "
        "deflected from (or to) legal pathways (a factor below 0.01 counts as 0.01: the power "
        "law has no limit at 0).",
    )
    m.aux(
        "pathway_multiplier",
        "1 + (1 - irregular_share[destination]) * (legal_pathway_level[destination] - 1) + "
        "irregular_share[destination] * (irregular_factor[destination] - 1)",
        dims=("destination",),
        units="1",
        doc="Factor on the base rates from legal pathways and enforcement (1 at baseline).",
    )
    m.aux(
        "main_route_share",
        "main_route_share_2022 * exp(-route_diversion * (enforcement_level[destination] - 1))"
        " / (main_route_share_2022 * exp(-route_diversion * (enforcement_level[destination]"
        " - 1)) + 1 - main_route_share_2022)",
        dims=("destination",),
        units="1",
        doc="Share of irregular crossings on the enforced route.",
    )
    # transit_death_risk (the system's) mixes the two routes' risks by main_route_share
    m.aux(
        "irregular_arrivals",
        "sum(transit_arrivals[origin, destination, sex, age], 'sex', 'age')",
        dims=OD,
        units="person/year",
        doc="Irregular arrivals across region borders a year (from transit).",
    )
    m.aux(
        "transit_deaths",
        "sum(deaths_in_transit[origin, destination, sex, age], 'sex', 'age')",
        dims=OD,
        units="person/year",
        doc="Deaths on irregular routes a year (taken from the people in transit).",
    )


def ssp_migration(m: engine.Model) -> None:
    """The SSP's international-migration assumption (KC & Lutz 2017) as a factor on the
    propensity to move, from 2022 (1 at the medium assumption)."""
    m.param(
        "ssp_migration_level",
        1.0,
        units="1",
        bounds=(0, 5),
        doc="Scenario: international migration relative to the medium assumption from "
        f"{md.BASE_YEAR} (KC & Lutz 2017: SSP1, SSP2 and SSP4 medium, 1; SSP3 low, 0.5; SSP5 "
        "high, 1.5), a factor on the propensity to move; scenario files set it from their ssp.",
    )
    m.aux(
        "migration_level",
        f"if_then_else(time >= {md.BASE_YEAR}, ssp_migration_level, 1)",
        units="1",
        doc=f"SSP migration level in force: the assumption from {md.BASE_YEAR}, 1 before (the "
        "calibration's years are history).",
    )


def climate(m: engine.Model, part: Partition, scenario: str) -> dict[str, str]:
    """The climate module on the system's regions, its movers across borders beyond 2022's
    climate as a rate added to ``migration_rate`` (``climate_cross_border_rate``)."""
    from . import _labour_market, migrant_stock
    from . import climate as cl

    proxies = {
        r: r if r in cl.LIVELIHOOD_EXPOSURE else _labour_market.PARTICIPATION_PROXY.get(r, "World")
        for r in part.regions
    }
    names = cl.add_to(
        m,
        regions_dim="region",
        population="total_population",
        income="income_per_capita[region]",
        scenario=scenario,
        proxies=proxies,
    )
    shares = cl.destination_shares(part.regions, weights=migrant_stock.stock(part, 2019))
    made = cl.cross_border_pressure(
        m, names, population="total_population", shares=shares, since_2022=True
    )
    return {**names, **made}
