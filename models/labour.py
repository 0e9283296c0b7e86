"""Labour markets: supply from participation, demand from output and automation, matching, wages
and skill shortages that pull in legal labour migrants.

Story
-----
Labour supply is the population by sex and single year of age times participation rates by age
group and sex (ILO modelled estimates, 2022), with a lever that closes part of the gap between
women's and men's participation by 2050. Labour demand is the number of jobs (filled plus
vacant): it grows with output, falls with labour productivity and with automation (a stock of
tasks automated since 2022 that approaches an automatable share), and responds to the wage with
a constant elasticity. Employment is a stock: hires flow in, separations flow out. Hires follow a
Cobb-Douglas matching function with constant returns, ``m U**a V**(1-a)``, whose efficiency is
set so that 2022 is a steady state (hires = separations at the 2022 unemployment and vacancy
rates); net hiring is integrated with a linearly implicit step, because a year's hires are
several times the vacancies and an explicit yearly step overshoots. Wages (relative to
productivity, 2022 = 1) move towards a wage curve in the unemployment rate (Blanchflower &
Oswald). Supply and demand are split by skill (low, medium, high: ISCED 0-2, 3-4, 5-8);
education raises the high-skilled share of supply (human-capital
investment is a lever) while skill-biased change and the automation of routine work tilt demand.
Unfilled demand by skill is a shortage; a share of it, opened by policy, becomes demand for legal
labour migration (``labour_migration_demand``, person/year), the coupling to the hump's legal
pathways.

Outputs: ``labour_supply``, ``labour_demand``, ``vacancies``, ``employment``, ``unemployed``,
``unemployment_rate``, ``tightness``, ``hires``, ``separations``, ``wage_index``,
``automation_share``, ``skill_shortage`` (region, skill) and ``labour_migration_demand``.
Accounting: d(employment)/dt = hires - separations.

Coupling points (for ``models.corridor``)
-----------------------------------------
``add_to(model, regions_dim="region", prefix="", population=..., sex_dim="sex", age_dim="age",
skill_dim="skill")``: ``population`` names a variable over (region, sex, age) in persons, with
sex "female"/"male" and age "0".."100" as demography declares them (declared here if missing).
The returned ``labour_migration_demand`` (person/year) of a destination can be passed to
``models.hump.add_to(..., legal_demand=...)`` of its origins; ``labour_supply`` and
``unemployment_rate`` are the labour-market state a corridor can report.

Units: persons, years; output, productivity and wages are indices (2022 = 1).

Sources
-------
- ILO (2022). ILOSTAT, ILO modelled estimates (ILOEST, November 2022): labour force
  participation rate by sex and age (EAP_2WAP_SEX_AGE_RT), 2022, per cent, rounded; age groups
  15-24 / 25-54 / 55-64 / 65+ (women; men): Northern Africa 13/22/12/3; 38/90/62/15.
  Sub-Saharan Africa 47/72/63/35; 52/88/82/50. Central America 33/58/42/15; 55/94/80/38.
  Europe 37/80/56/5; 42/91/69/9. Northern America 55/77/59/16; 55/89/71/24.
  World 33/63/47/12; 45/92/75/27.
- ILO (2023). World Employment and Social Outlook: Trends 2023 (unemployment rates 2022: World
  5.8%, Northern Africa 11.5%, Sub-Saharan Africa 6.7%, Central America 3.9%, Europe 5.5%,
  Northern America 3.7%).
- Eurostat (2023), job vacancy statistics (EU job vacancy rate ~2.9% in 2022); U.S. Bureau of
  Labor Statistics, JOLTS (job openings rate ~6.5% in 2022). No vacancy survey exists for the
  African and Central American regions: 1.5% assumed there (2.5% for the World).
- Elsby, M., Hobijn, B. & Sahin, A. (2013). Unemployment dynamics in the OECD. Review of Economics
  and Statistics 95(2), 530-548 (monthly inflow rates into unemployment of ~0.5% in continental
  Europe to ~2% in the US: separation rates 0.06-0.15 a year used here).
- Petrongolo, B. & Pissarides, C. A. (2001). Looking into the black box: a survey of the matching
  function. Journal of Economic Literature 39(2), 390-431 (constant returns; elasticity to
  unemployment 0.5-0.7).
- Blanchflower, D. G. & Oswald, A. J. (1994). The Wage Curve. MIT Press (elasticity of pay to
  local unemployment about -0.1).
- Lichter, A., Peichl, A. & Siegloch, S. (2015). The own-wage elasticity of labor demand: A
  meta-regression analysis. European Economic Review 80, 94-119 (around -0.25).
- Nedelkoska, L. & Quintini, G. (2018). Automation, skills use and training. OECD Social,
  Employment and Migration Working Papers 202 (14% of jobs highly automatable).
- Goos, M., Manning, A. & Salomons, A. (2014). Explaining job polarization. American Economic
  Review 104(8), 2509-2526 (routine-biased change: demand shifts from middle- to high-skill).
- KC, S. & Lutz, W. (2017). The human core of the shared socioeconomic pathways. Global
  Environmental Change 42, 181-192 (SSP2: attainment keeps rising; the upgrading rates here are
  rounded approximations).
- ILOSTAT (2023), labour force by education (basic / intermediate / advanced), latest year,
  rounded shares (low/medium/high): Northern Africa .50/.32/.18, Sub-Saharan Africa .62/.29/.09,
  Central America .45/.37/.18, Europe .17/.47/.36, Northern America .08/.44/.48, World
  .40/.40/.20.
- Output grows at SSP2 growth of GDP per head (Dellink et al. 2017, as in :mod:`models.hump`)
  plus the WPP 2022 medium-variant population growth (2022-2050, then 2050-2100); labour
  productivity at the growth of GDP per head.
- United Nations (2022). World Population Prospects 2022 (standalone population by age; both
  sexes split equally, WPP's sex ratio being close to 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import hump
from ._inputs import (
    AGES,
    DEFAULT_REGIONS,
    SEXES,
    Names,
    check_regions,
    ensure_dimension,
    region_values,
    wpp_growth_params,
    wpp_growth_rate,
    wpp_population_by_age,
)

__all__ = ["build", "add_to", "participation_rates", "SKILLS"]

SKILLS = ("low", "medium", "high")

# Participation, per cent: (women 15-24, 25-54, 55-64, 65+), (men ...). ILOSTAT 2022.
PARTICIPATION = {
    "Northern Africa": ((13, 22, 12, 3), (38, 90, 62, 15)),
    "Sub-Saharan Africa": ((47, 72, 63, 35), (52, 88, 82, 50)),
    "Central America": ((33, 58, 42, 15), (55, 94, 80, 38)),
    "Europe": ((37, 80, 56, 5), (42, 91, 69, 9)),
    "Northern America": ((55, 77, 59, 16), (55, 89, 71, 24)),
    "World": ((33, 63, 47, 12), (45, 92, 75, 27)),
}
UNEMPLOYMENT_2022 = {
    "Northern Africa": 0.115,
    "Sub-Saharan Africa": 0.067,
    "Central America": 0.039,
    "Europe": 0.055,
    "Northern America": 0.037,
    "World": 0.058,
}
VACANCY_RATE_2022 = {
    "Northern Africa": 0.015,
    "Sub-Saharan Africa": 0.015,
    "Central America": 0.015,
    "Europe": 0.029,
    "Northern America": 0.065,
    "World": 0.025,
}
SEPARATION_RATE = {
    "Northern Africa": 0.08,
    "Sub-Saharan Africa": 0.08,
    "Central America": 0.08,
    "Europe": 0.06,
    "Northern America": 0.12,
    "World": 0.08,
}
EDUCATION_SHARES = {
    "Northern Africa": (0.50, 0.32, 0.18),
    "Sub-Saharan Africa": (0.62, 0.29, 0.09),
    "Central America": (0.45, 0.37, 0.18),
    "Europe": (0.17, 0.47, 0.36),
    "Northern America": (0.08, 0.44, 0.48),
    "World": (0.40, 0.40, 0.20),
}


def participation_rates(regions: Sequence[str]) -> np.ndarray:
    """Participation rates (share) by region, sex ("female", "male") and single age 0..100."""
    out = np.zeros((len(regions), len(SEXES), len(AGES)))
    bounds = ((15, 25), (25, 55), (55, 65), (65, 101))
    for i, region in enumerate(regions):
        if region not in PARTICIPATION:
            raise ValueError(
                f"no participation rates for {region!r}; regions with rates: "
                f"{sorted(PARTICIPATION)}."
            )
        for s, rates in enumerate(PARTICIPATION[region]):
            for (low, high), rate in zip(bounds, rates):
                out[i, s, low:high] = rate / 100.0
    return out


def build(
    regions: Sequence[str] = DEFAULT_REGIONS,
    *,
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 0.25,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The standalone labour-market model for ``regions`` (WPP names).

    Population by sex and age follows WPP 2022: the 2022 age structure (both sexes split
    equally) grown at the medium variant's average rates (2022-2050, then 2050-2100).
    """
    regions = check_regions(regions)
    m = engine.Model(
        "labour",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc="Labour supply, demand, matching, wages and skill shortages.",
    )
    m.dimension("region", regions)
    m.dimension("sex", list(SEXES))
    m.dimension("age", [str(a) for a in AGES])
    by_age = wpp_population_by_age(regions, 2022)
    m.param(
        "initial_population",
        np.repeat(by_age[:, None, :] / 2.0, 2, axis=1),
        dims=("region", "sex", "age"),
        units="person",
        bounds=(0, None),
        doc="Population by sex and age, 1 July 2022 (UN WPP 2022; sexes split equally).",
    )
    wpp_growth_params(m, regions)
    m.aux(
        "population",
        "initial_population * exp(population_growth_2022_2050[region] * "
        "(min(time, 2050) - 2022) + population_growth_2050_2100[region] * "
        "max(time - 2050, 0))",
        units="person",
        dims=("region", "sex", "age"),
        doc="Population by sex and age (2022 structure, WPP medium-variant growth).",
    )
    add_to(m, population="population", values=values)
    return m


def add_to(
    model: engine.Model,
    *,
    regions_dim: str = "region",
    prefix: str = "",
    population: str,
    sex_dim: str = "sex",
    age_dim: str = "age",
    skill_dim: str = "skill",
    values: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Add the labour module's variables to ``model`` (which declares ``regions_dim``).

    Parameters
    ----------
    model : engine.Model
        The host model.
    regions_dim, sex_dim, age_dim, skill_dim : str
        Dimension names; sex, age and skill are declared if missing (sex "female"/"male",
        age "0".."100", skill "low"/"medium"/"high").
    prefix : str
        Prepended to every name created.
    population : str
        A variable over (region, sex, age), persons.
    values : mapping, optional
        Replacement default values by (unprefixed) parameter name.

    Returns
    -------
    dict
        Role -> created variable name.
    """
    regions = list(model.dims[regions_dim].elements)
    ensure_dimension(model, sex_dim, SEXES)
    ensure_dimension(model, age_dim, [str(a) for a in AGES])
    ensure_dimension(model, skill_dim, SKILLS)
    r, s, a, k = regions_dim, sex_dim, age_dim, skill_dim
    values = dict(values or {})
    n = Names(prefix, population=population)

    def param(name: str, default: Any, dims: tuple[str, ...] = (), **kw: Any) -> None:
        if dims == (r,) and isinstance(default, Mapping):
            default = region_values(default, regions, prefix + name)
        model.param(prefix + name, default, dims=dims, **kw)
        if name in values:  # checked like any change of a parameter (engine.Model.set_value)
            model.set_value(prefix + name, values.pop(name))

    gdp_growth = region_values(hump.GDP_PER_CAPITA_GROWTH, regions, "output growth")
    pop_growth = (wpp_growth_rate(regions, 2022, 2050), wpp_growth_rate(regions, 2050, 2100))

    # -- supply
    param(
        "participation_rate",
        participation_rates(regions),
        (r, s, a),
        units="1",
        bounds=(0, 1),
        doc="Labour force participation by sex and age, 2022 (ILOSTAT).",
    )
    param(
        "female_participation_gain",
        0.0,
        units="1",
        bounds=(0, 1),
        doc="Lever: share of the gap between men's and women's participation closed by 2050 "
        "(linearly from 2022).",
    )
    param(
        "female_participation_years",
        28.0,
        units="year",
        doc="Years from 2022 to 2050, over which female_participation_gain is phased in.",
    )
    model.aux(
        n("{effective_participation}"),
        n(
            f"{{participation_rate}}[{r}, {s}, {a}] + {{female_participation_gain}} * "
            f"min(max(time - 2022, 0) / {{female_participation_years}}, 1) * "
            f'max({{participation_rate}}[{r}, "male", {a}] - '
            f"{{participation_rate}}[{r}, {s}, {a}], 0)"
        ),
        units="1",
        dims=(r, s, a),
        doc="Participation including the lever on women's participation (men unchanged).",
    )
    model.aux(
        n("{labour_supply}"),
        n(
            f"sum({{population}}[{r}, {s}, {a}] * {{effective_participation}}[{r}, {s}, {a}], "
            f"'{s}', '{a}')"
        ),
        units="person",
        dims=(r,),
        doc="Labour force: people working or seeking work.",
    )

    # -- demand
    param(
        "output_growth_2022_2050",
        [g + p for g, p in zip(gdp_growth, pop_growth[0])],
        (r,),
        units="1/year",
        bounds=(-0.1, 0.2),
        doc="Growth of output (SSP2 GDP per head plus WPP population growth 2022-2050).",
    )
    param(
        "output_growth_2050_2100",
        [g + p for g, p in zip(gdp_growth, pop_growth[1])],
        (r,),
        units="1/year",
        bounds=(-0.1, 0.2),
        doc="Growth of output (SSP2 GDP per head plus WPP population growth 2050-2100).",
    )
    param(
        "productivity_growth",
        gdp_growth,
        (r,),
        units="1/year",
        bounds=(-0.1, 0.2),
        doc="Growth of labour productivity (SSP2 growth of GDP per head).",
    )
    param(
        "growth_shift",
        0.0,
        units="1/year",
        bounds=(-0.05, 0.05),
        prior=("normal", 0, 0.005),
        doc="Uncertainty of output growth, shared by regions.",
    )
    model.stock(
        n("{output}"),
        initial=1.0,
        units="1",
        dims=(r,),
        non_negative=True,
        doc="Output index (2022 = 1).",
    )
    model.flow(
        n("{output_change}"),
        n(
            "{output} * (({output_growth_2022_2050} if time < 2050 else "
            "{output_growth_2050_2100}) + {growth_shift})"
        ),
        into=n("{output}"),
        units="1/year",
        dims=(r,),
        doc="Growth of output.",
    )
    model.stock(
        n("{productivity}"),
        initial=1.0,
        units="1",
        dims=(r,),
        non_negative=True,
        doc="Labour productivity index, before automation (2022 = 1).",
    )
    model.flow(
        n("{productivity_change}"),
        n("{productivity} * {productivity_growth}"),
        into=n("{productivity}"),
        units="1/year",
        dims=(r,),
        doc="Growth of labour productivity.",
    )
    param(
        "automation_potential",
        0.14,
        units="1",
        bounds=(0, 1),
        prior=("uniform", 0.08, 0.3),
        doc="Share of 2022 jobs that can be automated (Nedelkoska & Quintini 2018: 14%).",
    )
    param(
        "automation_adoption_rate",
        0.04,
        units="1/year",
        bounds=(0, 1),
        prior=("uniform", 0.02, 0.08),
        doc="Speed at which the automatable share is taken up, a year.",
    )
    model.stock(
        n("{automation_share}"),
        initial=0.0,
        units="1",
        dims=(r,),
        non_negative=True,
        doc="Share of 2022 jobs automated since 2022.",
    )
    model.flow(
        n("{automation}"),
        n("{automation_adoption_rate} * max({automation_potential} - {automation_share}, 0)"),
        into=n("{automation_share}"),
        units="1/year",
        dims=(r,),
        doc="Automation of jobs.",
    )
    param(
        "labour_demand_elasticity",
        0.25,
        units="1",
        bounds=(0, 2),
        prior=("truncnorm", 0.25, 0.1, 0, 2),
        doc="Own-wage elasticity of labour demand, absolute (Lichter et al. 2015).",
    )
    param(
        "unemployment_rate_2022",
        UNEMPLOYMENT_2022,
        (r,),
        units="1",
        bounds=(0.005, 0.5),
        doc="Unemployment rate 2022 (ILO WESO Trends 2023).",
    )
    param(
        "vacancy_rate_2022",
        VACANCY_RATE_2022,
        (r,),
        units="1",
        bounds=(0.001, 0.3),
        doc="Vacancies as a share of jobs, 2022 (Eurostat, BLS JOLTS; 1.5% assumed where "
        "no survey exists).",
    )
    model.stock(
        n("{employment}"),
        initial=n("{labour_supply} * (1 - {unemployment_rate_2022})"),
        units="person",
        dims=(r,),
        non_negative=True,
        doc="Employed people.",
    )
    model.aux(
        n("{labour_demand}"),
        n(
            "initial({labour_supply} * (1 - {unemployment_rate_2022}) / "
            "(1 - {vacancy_rate_2022})) * {output} / {productivity} * "
            "(1 - {automation_share}) * {wage_index} ** (-{labour_demand_elasticity})"
        ),
        units="person",
        dims=(r,),
        doc="Jobs demanded: filled and vacant.",
    )
    model.aux(
        n("{vacancies}"),
        n("max({labour_demand} - {employment}, 0)"),
        units="person",
        dims=(r,),
        doc="Unfilled jobs.",
    )
    model.aux(
        n("{unemployed}"),
        n("max({labour_supply} - {employment}, 0)"),
        units="person",
        dims=(r,),
        doc="People in the labour force without a job.",
    )
    model.aux(
        n("{unemployment_rate}"),
        n("zidz({unemployed}, {labour_supply})"),
        units="1",
        dims=(r,),
        doc="Unemployment rate.",
    )
    model.aux(
        n("{tightness}"),
        n("xidz({vacancies}, {unemployed}, 100)"),
        units="1",
        dims=(r,),
        doc="Labour-market tightness V/U.",
    )

    # -- matching
    param(
        "matching_elasticity",
        0.6,
        units="1",
        bounds=(0.05, 0.95),
        prior=("truncnorm", 0.6, 0.1, 0.3, 0.9),
        doc="Elasticity of hires to unemployment (Petrongolo & Pissarides 2001).",
    )
    param(
        "separation_rate",
        SEPARATION_RATE,
        (r,),
        units="1/year",
        bounds=(0, 1),
        doc="Flows from employment into unemployment, a year (Elsby et al. 2013).",
    )
    model.aux(
        n("{tightness_2022}"),
        n(
            "{vacancy_rate_2022} / (1 - {vacancy_rate_2022}) * "
            "(1 - {unemployment_rate_2022}) / {unemployment_rate_2022}"
        ),
        units="1",
        dims=(r,),
        doc="Tightness V/U in 2022.",
    )
    model.aux(
        n("{matching_efficiency}"),
        n(
            "{separation_rate} * (1 - {unemployment_rate_2022}) / "
            "{unemployment_rate_2022} / {tightness_2022} ** (1 - {matching_elasticity})"
        ),
        units="1/year",
        dims=(r,),
        doc="Matching efficiency making 2022 a steady state (hires = separations).",
    )
    model.flow(
        n("{hires}"),
        n(
            "{matching_efficiency} * {unemployed} ** {matching_elasticity} * "
            "{vacancies} ** (1 - {matching_elasticity})"
        ),
        into=n("{employment}"),
        units="person/year",
        dims=(r,),
        doc="Hires: Cobb-Douglas matching of unemployed and vacancies.",
    )
    # Labour-market flows are fast: a year's hires are several times the stock of vacancies
    # (in 2022, 5 times in Northern Africa and Sub-Saharan Africa), so the net hiring rate
    # falls steeply as employment rises, d(hires - separations)/d(employment) = -k with k of
    # 2-3 a year. An explicit step of a year (k * dt > 2) overshoots and the market ends in a
    # period-2 cycle between no vacancies and no unemployed. The step's net hiring is
    # therefore taken at the rate of a linearly implicit (Rosenbrock-Euler) step,
    # (hires - s E) / (1 + k dt): the rest of the matches are undone by the separations.
    # This vanishes in a steady state (2022) and as dt -> 0, and the step cannot overshoot
    # the employment at which hires balance separations.
    model.aux(
        n("{hiring_stiffness}"),
        n(
            "{matching_elasticity} * zidz({hires}, {unemployed}) + "
            "(1 - {matching_elasticity}) * zidz({hires}, {vacancies}) + {separation_rate}"
        ),
        units="1/year",
        dims=(r,),
        doc="Rate k at which net hiring falls as employment rises, "
        "-d(hires - separations)/d(employment).",
    )
    param(
        "layoff_time",
        1.0,
        units="year",
        doc="Time within which lay-offs close a gap of jobs or workers below the employed.",
    )
    model.flow(
        n("{separations}"),
        n(
            "{employment} * {separation_rate} + ({hires} - {employment} * "
            "{separation_rate}) * {hiring_stiffness} * time_step() / "
            "(1 + {hiring_stiffness} * time_step()) + "
            "max({employment} - {labour_demand}, 0) / {layoff_time} + "
            "max({employment} - {labour_supply}, 0) / {layoff_time}"
        ),
        out_of=n("{employment}"),
        units="person/year",
        dims=(r,),
        doc="Separations into unemployment, plus lay-offs where jobs or workers are "
        "fewer than the employed (closed within a year), plus the part of the "
        "step's net hiring an implicit step does not carry (numerical: zero in a "
        "steady state and as the time step goes to 0).",
    )

    # -- wages
    param(
        "wage_curve_elasticity",
        0.1,
        units="1",
        bounds=(0, 1),
        prior=("truncnorm", 0.1, 0.05, 0, 1),
        doc="Elasticity of pay to the unemployment rate, absolute (Blanchflower & Oswald "
        "1994: ~-0.1).",
    )
    param(
        "wage_adjustment_rate",
        0.5,
        units="1/year",
        bounds=(0, 5),
        prior=("uniform", 0.2, 1.0),
        doc="Speed of wage adjustment to the wage curve (at most 1/dt for a monotone approach).",
    )
    model.stock(
        n("{wage_index}"),
        initial=1.0,
        units="1",
        dims=(r,),
        non_negative=True,
        doc="Wage relative to productivity (2022 = 1).",
    )
    # The wage curve is in the unemployment rate, as estimated by Blanchflower & Oswald. (A
    # curve in V/U let the wage react within a step to vacancies, D - E, that move 1/v times
    # as fast as demand: with a year's step the wage-demand loop overshot, drove the wage
    # below zero and labour demand, w ** -elasticity, to infinity.)
    model.aux(
        n("{wage_curve}"),
        n(
            "(max({unemployment_rate}, 0.001) / {unemployment_rate_2022}) ** "
            "(-{wage_curve_elasticity})"
        ),
        units="1",
        dims=(r,),
        doc="Wage index on the wage curve at today's unemployment.",
    )
    model.flow(
        n("{wage_change}"),
        n("{wage_adjustment_rate} * ({wage_curve} - {wage_index})"),
        into=n("{wage_index}"),
        units="1/year",
        dims=(r,),
        doc="First-order adjustment of the wage towards the wage curve.",
    )

    # -- skills
    param(
        "education_share_2022",
        [
            EDUCATION_SHARES[g] if g in EDUCATION_SHARES else _missing("education shares", g)
            for g in regions
        ],
        (r, k),
        units="1",
        bounds=(0, 1),
        doc="Labour force by education, 2022 (ILOSTAT; low/medium/high).",
    )
    param(
        "education_upgrading",
        [-0.02, 0.0, 0.015],
        (k,),
        units="1/year",
        bounds=(-0.1, 0.1),
        doc="Trend in the relative weight of each education level (KC & Lutz 2017, SSP2).",
    )
    param(
        "human_capital_investment",
        0.0,
        units="1/year",
        bounds=(0, 0.05),
        doc="Lever: extra growth of the high-skilled weight in labour supply.",
    )
    param(
        "skill_bias",
        [-0.015, -0.005, 0.015],
        (k,),
        units="1/year",
        bounds=(-0.1, 0.1),
        doc="Trend in the relative demand for each skill level (Goos et al. 2014).",
    )
    model.param(
        n("{is_high_skill}"),
        [0.0, 0.0, 1.0],
        dims=(k,),
        units="1",
        bounds=(0, 1),
        doc="1 for the high-skill level.",
    )
    model.aux(
        n("{supply_skill_weight}"),
        n(
            f"{{education_share_2022}}[{r}, {k}] * exp(({{education_upgrading}}[{k}] + "
            f"{{human_capital_investment}} * {{is_high_skill}}[{k}]) * max(time - 2022, 0))"
        ),
        units="1",
        dims=(r, k),
        doc="Relative weight of each skill in labour supply.",
    )
    model.aux(
        n("{demand_skill_weight}"),
        n(f"{{education_share_2022}}[{r}, {k}] * exp({{skill_bias}}[{k}] * max(time - 2022, 0))"),
        units="1",
        dims=(r, k),
        doc="Relative weight of each skill in labour demand.",
    )
    model.aux(
        n("{labour_supply_by_skill}"),
        n(
            f"{{labour_supply}}[{r}] * {{supply_skill_weight}}[{r}, {k}] / "
            f"sum({{supply_skill_weight}}[{r}, {k}], '{k}')"
        ),
        units="person",
        dims=(r, k),
        doc="Labour force by skill.",
    )
    model.aux(
        n("{labour_demand_by_skill}"),
        n(
            f"{{labour_demand}}[{r}] * {{demand_skill_weight}}[{r}, {k}] / "
            f"sum({{demand_skill_weight}}[{r}, {k}], '{k}')"
        ),
        units="person",
        dims=(r, k),
        doc="Jobs demanded by skill.",
    )
    model.aux(
        n("{skill_shortage}"),
        n(
            f"max({{labour_demand_by_skill}}[{r}, {k}] - "
            f"{{labour_supply_by_skill}}[{r}, {k}] * (1 - {{unemployment_rate_2022}}[{r}]), "
            f"0)"
        ),
        units="person",
        dims=(r, k),
        doc="Jobs of a skill level that the domestic labour force cannot fill at 2022 "
        "unemployment.",
    )
    param(
        "labour_migration_openness",
        0.3,
        units="1",
        bounds=(0, 1),
        doc="Lever: share of skill shortages employers may fill by recruiting abroad.",
    )
    param(
        "shortage_fill_time",
        2.0,
        units="year",
        bounds=(0.25, 20),
        prior=("uniform", 1, 4),
        doc="Time over which a shortage is filled.",
    )
    model.aux(
        n("{labour_migration_demand}"),
        n(
            f"{{labour_migration_openness}} * sum({{skill_shortage}}[{r}, {k}], '{k}') / "
            f"{{shortage_fill_time}}"
        ),
        units="person/year",
        dims=(r,),
        doc="Demand for legal labour migrants created by skill shortages.",
    )
    if values:
        raise ValueError(f"unknown labour parameter(s) in values: {sorted(values)}")
    roles = [
        "labour_supply",
        "labour_demand",
        "vacancies",
        "employment",
        "unemployed",
        "unemployment_rate",
        "tightness",
        "hires",
        "separations",
        "wage_index",
        "automation_share",
        "labour_supply_by_skill",
        "labour_demand_by_skill",
        "skill_shortage",
        "labour_migration_demand",
        "female_participation_gain",
        "human_capital_investment",
        "labour_migration_openness",
    ]
    return {role: prefix + role for role in roles}


def _missing(what: str, region: str) -> Any:
    raise ValueError(f"no {what} for region {region!r}.")
