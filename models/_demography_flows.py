"""The demography model's population and flows: migration inputs, the stock, births, deaths,
net migration spread over ages, age groups and the yearly age shift.

Private to :mod:`models.demography` (its module docstring tells the story and cites the
sources): declared by :func:`models.demography.add_to` after the rates
(:mod:`models._demography_rates`).
"""

from __future__ import annotations

import numpy as np

from . import _demography_uncertainty as uncertain
from . import life_tables, migration_profiles, vital_rates
from ._demography_rates import AGE_GROUPS, SEXES, Parts
from .life_tables import rogers_castro

FEMALE_SHARE_OF_MIGRANTS = 0.481  # UN DESA International Migrant Stock 2020


# -------------------------------------------------------------------------------- migration inputs
def add_migration_inputs(p: Parts) -> None:
    """The net migration path and scale (if the model has migration), the age schedule and the
    migrants' sex shares (read by coupled models too)."""
    param, paths, r, migration = p.param, p.paths, p.r, p.migration
    if migration:
        param(
            "net_migration_path",
            paths.net_migration,
            (r, "calendar_year"),
            units="person/year",
            doc="Net international migration of each calendar year: "
            "WPP 2022 estimates to 2021, medium variant from 2022. A scenario or the "
            "migration system replaces it.",
        )
        param(
            "net_migration_scale",
            1.0,
            (r,),
            units="1",
            bounds=(-10, 10),
            doc="Lever: multiplies the net migration path.",
        )
    param(
        "migration_age_pattern",
        rogers_castro(),
        ("age",),
        units="1",
        bounds=(0, 1),
        doc="Rogers-Castro model migration schedule (Rogers & Castro 1981, typical "
        "parameters), normalised to sum to 1: relative migration rates by age.",
    )
    param(
        "migrant_sex_share",
        {"female": FEMALE_SHARE_OF_MIGRANTS, "male": 1 - FEMALE_SHARE_OF_MIGRANTS},
        ("sex",),
        units="1",
        bounds=(0, 1),
        doc="Share of migrants by sex (UN DESA 2020: 48.1% women).",
    )


# -------------------------------------------------------------------------------------- population
def add_population(p: Parts, initial: np.ndarray) -> None:
    """The stock, its total and (with migration) the population exposed over the year."""
    param, aux, model, r, dims3 = p.param, p.aux, p.model, p.r, p.dims3
    base_year, migration = p.base_year, p.migration
    param(
        "initial_population",
        initial,
        dims3,
        units="person",
        bounds=(0, None),
        doc=f"Population on 1 July {base_year} (WPP 2022), split into single years and sexes.",
    )
    away = f" - {p.away}[{r}, sex, age]" if p.away else ""
    model.stock(
        "population",
        initial=f"initial_population[{r}, sex, age]{away}",
        dims=dims3,
        units="person",
        non_negative=True,
        doc="Resident population by region, sex and single year of age (100 = 100+)"
        + (f", present in the region (residents away: {p.away})." if p.away else "."),
    )
    aux(
        "total_population",
        f"sum(population[{r}, sex, age]"
        + (f" + {p.away}[{r}, sex, age]" if p.away else "")
        + ", 'sex', 'age')",
        (r,),
        units="person",
        doc="Resident population" + (f", those away included ({p.away})." if p.away else "."),
    )
    if migration:
        param(
            "migrant_exposure",
            0.5,
            units="year",
            bounds=(0, 1),
            doc="Time the year's net migrants are exposed to its fertility and mortality "
            "(half a year: moves spread over the year; Preston et al. 2001, ch. 6).",
        )
        aux(
            "exposed_population",
            f"population[{r}, sex, age] + migrant_exposure * net_migration[{r}, sex, age]",
            dims3,
            units="person",
            doc="Residents at the start plus the year's net migrants for the part of the year "
            "they are there: who gives birth and dies in the year.",
        )


def add_births_and_deaths(p: Parts) -> dict[str, str]:
    """Births, the births surviving to age 0, deaths; the roles of the model's variables."""
    aux, model, r, dims3, migration = p.aux, p.model, p.r, p.dims3, p.migration
    exposed = "exposed_population" if migration else "population"
    aux(
        "births_total",
        f"sum(fertility_of_cohort[{r}, age] * {exposed}[{r}, 'female', age], 'age')",
        (r,),
        units="person/year",
        doc="Live births a year.",
    )
    aux(
        "births",
        f"births_total[{r}] * sex_share_at_birth[{r}, sex] * is_newborn[age]",
        dims3,
        units="person/year",
        doc="Live births a year, by sex (at age 0).",
    )
    model.flow(
        "births_surviving",
        f"births[{r}, sex, age] * person_years_factor[{r}, sex, '0'] / one_year",
        into="population",
        dims=dims3,
        units="person/year",
        doc="The year's births alive at its end, entering age 0: births times L(0).",
    )
    model.flow(
        "deaths_of_residents",
        f"mortality_probability[{r}, sex, age] * {exposed}[{r}, sex, age]",
        out_of="population",
        dims=dims3,
        units="person/year",
        doc="Deaths of the people of each age at the start (and "
        "of the year's net migrants while there).",
    )
    away = f" + {p.away_deaths}[{r}, sex, age]" if p.away_deaths else ""
    aux(
        "deaths",
        f"deaths_of_residents[{r}, sex, age] + births[{r}, sex, age] - "
        f"births_surviving[{r}, sex, age]{away}",
        dims3,
        units="person/year",
        doc="Deaths a year (age 0 includes the deaths of the year's births"
        + (f"; residents dying away included: {p.away_deaths})." if p.away_deaths else ")."),
    )
    roles = {
        "population": "population",
        "births": "births",
        "deaths": "deaths",
        "total_population": "total_population",
    }
    return roles


# ----------------------------------------------------------------------------------- net migration
def add_net_migration(p: Parts, profiles: migration_profiles.Profiles) -> None:
    """The year's net migration spread over ages and sexes (a residual profile, residual rates
    or the Rogers-Castro schedule with the window's exchange), never more emigrants of an age
    than there are."""
    param, aux, model, paths, r, dims3 = p.param, p.aux, p.model, p.paths, p.r, p.dims3
    base_year = p.base_year
    shock = uncertain.migration_shock(p) if p.uncertainty else ""
    aux(
        "net_migration_total",
        f"net_migration_scale[{r}] * sum(net_migration_path[{r}, "
        f"calendar_year] * calendar_year_weight[calendar_year], 'calendar_year'){shock}",
        (r,),
        units="person/year",
        doc="Net international migration a year.",
    )
    aux(
        "migration_weight",
        f"migration_age_pattern[age] * population[{r}, sex, age]",
        dims3,
        units="person",
        doc="Residents weighted by the migration age schedule.",
    )
    aux(
        "migration_weight_total",
        f"sum(migration_weight[{r}, sex, age], 'age')",
        (r, "sex"),
        units="person",
        doc="Sum of the weights by sex.",
    )
    param(
        "stationary_migrant_pattern",
        _stationary_pattern(paths, base_year),
        dims3,
        units="1",
        bounds=(0, 1),
        doc="Share of migrants of each sex at each age: Rogers-Castro rates applied to "
        "the stationary population of the base year's life table.",
    )
    param(
        "immigration_on_residents",
        0.0,
        units="1",
        bounds=(0, 1),
        doc="Weight of the residents (1) rather than the stationary population (0) in "
        "the age pattern of net immigration.",
    )
    param(
        "emigration_on_residents",
        1.0,
        units="1",
        bounds=(0, 1),
        doc="Weight of the residents (1) rather than the stationary population (0) in "
        "the age pattern of net emigration.",
    )
    aux(
        "migrant_age_share",
        f"(1 - residents_weight[{r}]) * stationary_migrant_pattern[{r}, sex, age] + "
        f"residents_weight[{r}] * zidz(migration_weight[{r}, sex, age], "
        f"migration_weight_total[{r}, sex])",
        dims3,
        units="1",
        doc="Share of the net migrants of a sex at each age.",
    )
    aux(
        "residents_weight",
        f"if_then_else(schedule_migration_total[{r}] > 0, "
        "immigration_on_residents, emigration_on_residents)",
        (r,),
        units="1",
        doc="Weight of the residents in the age pattern of the net migration spread by "
        "the model schedule this year.",
    )
    assert profiles is not None
    param(
        "residual_migration_rate",
        profiles.rates,
        (r, "age"),
        units="1/year",
        doc="Net migrants a year per resident of each age (both sexes): the forward-"
        "survival residual of WPP's estimated population over the ten years to the "
        "base year (2019 at the latest) over the window's person-years "
        "(models.migration_profiles); 0 where there is no full window.",
    )
    param(
        "use_residual_migration_rates",
        0.0,
        units="1",
        bounds=(0, 1),
        doc="Flag: 1 applies the residual migration rates to the residents and spreads "
        "the rest of the year's net migration by the Rogers-Castro schedule (this "
        "project's variant of WPP 2022's country-specific patterns); 0 uses the "
        "normalised residual profile where usable (use_net_migration_profile).",
    )
    aux(
        "residents_of_age",
        f"sum(population[{r}, sex, age], 'sex')",
        (r, "age"),
        units="person",
        doc="Residents of each age, both sexes.",
    )
    aux(
        "residual_migration",
        f"use_residual_migration_rates * "
        f"residual_migration_rate[{r}, age] * migrant_sex_share[sex] * "
        f"residents_of_age[{r}, age]",
        dims3,
        units="person/year",
        doc="Net migrants of the residual rates: the window's rate of each age times the "
        "residents of that age (both sexes), split by the migrants' sex share.",
    )
    aux(
        "residual_migration_total",
        f"sum(residual_migration[{r}, sex, age], 'sex', 'age')",
        (r,),
        units="person/year",
        doc="Net migrants of the residual rates.",
    )
    aux(
        "schedule_migration_total",
        f"net_migration_total[{r}] - residual_migration_total[{r}]",
        (r,),
        units="person/year",
        doc="The rest of the year's net migration, spread by the Rogers-Castro schedule "
        "(one factor a year: the total is WPP's net migration).",
    )
    param(
        "net_migration_profile",
        profiles.profile,
        (r, "age"),
        units="1",
        doc="Share of a year's net migrants (both sexes) at each age, signed, summing "
        "to 1: the residual of WPP's estimated population over the ten years to the "
        "base year (2019 at the latest) after WPP's deaths and births "
        "(models.migration_profiles; WPP 2022 methodology).",
    )
    param(
        "net_migration_profile_sign",
        profiles.sign,
        (r,),
        units="1",
        bounds=(-1, 1),
        doc="Sign of the net migration of the profile's window (0 where the residual is "
        "unusable: the Rogers-Castro schedule then applies).",
    )
    param(
        "use_net_migration_profile",
        1.0,
        units="1",
        bounds=(0, 1),
        doc="Flag: 1 spreads net migration by the location's residual profile where it "
        "is usable and the year's total has the window's sign; 0 by Rogers-Castro.",
    )
    param(
        "net_migration_exchange",
        profiles.exchange,
        (r, "age"),
        units="person/year",
        doc="Net migrants a year at each age (both sexes) beyond the window's net spread "
        "by Rogers-Castro on the residents, summing to 0: the exchange of a residual whose "
        "flows cancel out (only the net share test failed; else 0; "
        "models.migration_profiles).",
    )
    param(
        "net_migration_exchange_net",
        profiles.exchange_net,
        (r,),
        units="person/year",
        doc="Net migrants a year of the residual window of the exchange (0 where none).",
    )
    aux(
        "exchange_scale",
        f"(1 - use_residual_migration_rates) * use_net_migration_profile * "
        f"min(max(zidz(net_migration_total[{r}], net_migration_exchange_net[{r}]), 0), 1)",
        (r,),
        units="1",
        doc="Share of the window's exchange this year: the year's net over the window's, "
        "at most 1 (gross flows not extrapolated beyond those seen), 0 if of the other sign.",
    )
    aux(
        "profile_applies",
        f"if_then_else((1 - use_residual_migration_rates) * "
        f"use_net_migration_profile * "
        f"net_migration_profile_sign[{r}] * net_migration_total[{r}] > 0, 1, 0)",
        (r,),
        units="1",
        doc="1 where this year's net migration follows the residual profile.",
    )
    aux(
        "net_migration_age_share",
        f"profile_applies[{r}] * net_migration_profile[{r}, age] + (1 - profile_applies"
        f"[{r}]) * migrant_age_share[{r}, sex, age]",
        dims3,
        units="1",
        doc="Share of the net migrants of a sex at each age (signed under a profile) "
        "that the residual rates leave.",
    )
    model.flow(
        "net_migration",
        f"max(residual_migration[{r}, sex, age] + exchange_scale[{r}] * "
        f"net_migration_exchange[{r}, age] * "
        f"migrant_sex_share[sex] + (profile_applies[{r}] * "
        f"net_migration_total[{r}] + (1 - profile_applies[{r}]) * "
        f"schedule_migration_total[{r}]) * migrant_sex_share[sex] * "
        f"net_migration_age_share[{r}, sex, age], "
        f"-survival_ratio[{r}, sex, age] * population[{r}, sex, age] / "
        f"(1 - migrant_exposure * mortality_probability[{r}, sex, age]) / one_year)",
        into="population",
        dims=dims3,
        units="person/year",
        doc="Net international migration (immigrants minus emigrants): the "
        "location's total spread by its residual profile or the Rogers-Castro "
        "schedule (plus the window's exchange where its flows cancel out).",
    )


# ----------------------------------------------------------------------------------------- outputs
def add_age_groups_and_ageing(p: Parts) -> None:
    """Population by five-year age group (as WPP publishes it) and the yearly age shift."""
    param, aux, model, r = p.param, p.aux, p.model, p.r
    group_matrix = np.zeros((len(AGE_GROUPS), 101))
    for a in range(101):
        group_matrix[min(a // 5, 20), a] = 1.0
    param(
        "age_group_member",
        group_matrix,
        ("age_group", "age"),
        units="1",
        bounds=(0, 1),
        doc="1 where the single age belongs to the five-year group.",
    )
    aux(
        "population_by_age_group",
        f"sum(age_group_member[age_group, age] * population[{r}, sex, age], 'age')",
        (r, "sex", "age_group"),
        units="person",
        doc="Population by five-year age group and sex (as WPP publishes it).",
    )
    model.cohort_shift("population", "age", every=1, entry=["births_surviving"])


def _stationary_pattern(paths: vital_rates.InputPaths, year: int) -> np.ndarray:
    hazard = paths.hazard(float(year))  # (R, 2, 101)
    out = (
        np.stack(
            [life_tables.person_years(hazard[:, s], sex) for s, sex in enumerate(SEXES)], axis=1
        )
        * rogers_castro()
    )
    return out / out.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]
