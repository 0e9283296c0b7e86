"""The demography model's rates: time weights, mortality, the life table and fertility.

Private to :mod:`models.demography` (its module docstring tells the story and cites the
sources): :func:`models.demography.add_to` declares these blocks on a model in this order,
then the population and its flows (:mod:`models._demography_flows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import engine

from . import _demography_uncertainty as uncertain
from . import life_tables, vital_rates

AGES = tuple(str(a) for a in range(101))  # "100" is 100 and over
SEXES = vital_rates.SEXES
AGE_GROUPS = tuple(f"{a}-{a + 4}" for a in range(0, 100, 5)) + ("100+",)
IMPROVEMENT_SHIFT_SD = 0.004  # Lee & Miller 2001: drift uncertainty of national forecasts
FAR = 1e9  # the gap beyond the first and last knots of a piecewise-linear path


@dataclass
class Parts:
    """What every block of the model reads: the model, its regions and input paths, and the
    default values still to be replaced (``values``, popped as parameters are declared)."""

    model: engine.Model
    r: str
    locations: list[str]
    paths: vital_rates.InputPaths
    values: dict[str, Any]
    base_year: int
    jump_off: int | None
    migration: bool
    uncertainty: bool = False
    #: Names of (region, sex, age) variables: residents away from the region (counted in its
    #: ``total_population``, not in ``population``) and their deaths (counted in ``deaths``);
    #: the migration system's people in transit (:mod:`models.migration_system`).
    away: str | None = None
    away_deaths: str | None = None

    @property
    def dims3(self) -> tuple[str, str, str]:
        return (self.r, "sex", "age")

    def param(self, name: str, default: Any, dims: Sequence[str] = (), **kw: Any) -> None:
        """A parameter, its default replaced by ``values[name]`` ({region: value} allowed)."""
        value = self.values.pop(name, default)
        if isinstance(value, Mapping) and dims and dims[0] == self.r:
            value = np.array([value[x] for x in self.locations])
        self.model.param(name, value, dims=tuple(dims), **kw)

    def aux(self, name: str, equation: str, dims: Sequence[str] = (), **kw: Any) -> None:
        self.model.aux(name, equation, dims=tuple(dims), **kw)


def add_dims(p: Parts) -> None:
    """The dims of demography, unless the model has them (with the same elements)."""
    paths = p.paths
    ensure_dim(p.model, "sex", SEXES)
    ensure_dim(p.model, "age", AGES)
    ensure_dim(p.model, "age_group", AGE_GROUPS)
    ensure_dim(p.model, "calendar_year", [str(y) for y in paths.years])
    ensure_dim(p.model, "mortality_knot", [f"{k:g}" for k in paths.mortality_knots])
    ensure_dim(p.model, "fertility_knot", [str(k) for k in paths.fertility_knots])


# -------------------------------------------------------------------------------------------- time
def add_time_weights(p: Parts) -> None:
    """Every path is piecewise linear in time, read at the step's mid-point."""
    param, aux, paths = p.param, p.aux, p.paths
    years = paths.years.astype(float)
    param(
        "calendar_year_value",
        years,
        ("calendar_year",),
        units="year",
        doc="Mid-point (1 July) of each calendar year of WPP's annual figures.",
    )
    _knot_params(
        param, "mortality_knot", paths.mortality_knots, "log death rates (WPP periods' mid-points)"
    )
    _knot_params(
        param, "fertility_knot", paths.fertility_knots.astype(float), "fertility age patterns"
    )
    param(
        "one_year",
        1.0,
        units="year",
        bounds=(1, 1),
        doc="One year: the width of a calendar year and of a single year of age, and the "
        "interval of the annual rates (so that equations written per year carry their units).",
    )
    aux(
        "step_midpoint",
        "time + time_step() / 2",
        units="year",
        doc="Mid-point of the current step: where flows read their input paths.",
    )
    for suffix, when in (("", "step_midpoint"), ("_at_time", "time")):
        aux(
            f"calendar_year_weight{suffix}",
            f"max(1 - abs(min(max({when}, {years[0]}), {years[-1]}) - "
            "calendar_year_value[calendar_year]) / one_year, 0)",
            ("calendar_year",),
            units="1",
            doc=f"Linear-interpolation weight of each calendar year at {when}.",
        )
        aux(
            f"mortality_knot_weight{suffix}",
            _hat("mortality_knot", when, paths.mortality_knots),
            ("mortality_knot",),
            units="1",
            doc=f"Linear-interpolation weight of each mortality knot at {when}.",
        )
    aux(
        "fertility_knot_weight",
        _hat("fertility_knot", "step_midpoint", paths.fertility_knots),
        ("fertility_knot",),
        units="1",
        doc="Linear-interpolation weight of each fertility knot.",
    )


# --------------------------------------------------------------------------------------- mortality
def add_mortality(p: Parts) -> None:
    """Hazards from WPP's death rates and e0; person-years, survival ratios, the life table."""
    param, aux, paths, r, dims3 = p.param, p.aux, p.paths, p.r, p.dims3
    base_year, jump_off = p.base_year, p.jump_off
    param(
        "log_death_rate_knots",
        paths.log_hazard_knots,
        (r, "sex", "age", "mortality_knot"),
        units="1",
        doc="Log single-year death rates of WPP 2022 at the mortality knots.",
    )
    param(
        "log_mortality_scale",
        paths.log_mortality_scale,
        (r, "sex", "calendar_year"),
        units="1",
        doc="Log factor of each calendar year's hazards giving WPP 2022's life "
        "expectancy at birth of that year (0 where unknown, after a jump-off).",
    )
    # With uncertainty, a random walk scaled to bayesLife's spread replaces the drift's prior.
    prior = {} if p.uncertainty else {"prior": ("normal", 0.0, IMPROVEMENT_SHIFT_SD)}
    param(
        "mortality_improvement_shift",
        0.0,
        units="1/year",
        bounds=(-0.05, 0.05),
        doc="Uncertain extra yearly decline of all hazards after improvement_from (a shift "
        "of the Lee-Carter drift; sd 0.4%/year after Lee & Miller 2001).",
        **prior,
    )
    param(
        "improvement_from",
        float(base_year if jump_off is None else jump_off),
        units="year",
        bounds=(1950, 2100),
        doc="Year from which mortality_improvement_shift applies.",
    )
    param(
        "mortality_shock",
        0.0,
        (r,),
        units="1",
        bounds=(-1, 2),
        doc="Lever: a shift of the log hazards (epidemics, wars).",
    )
    deviation = uncertain.mortality_deviation(p) if p.uncertainty else ""
    for suffix, when in (("", "step_midpoint"), ("_at_time", "time")):
        aux(
            f"mortality_level{suffix}",
            f"sum(log_mortality_scale[{r}, sex, calendar_year] * calendar_year_weight{suffix}"
            f"[calendar_year], 'calendar_year') + mortality_shock[{r}] - "
            f"mortality_improvement_shift * max({when} - improvement_from, 0){deviation}",
            (r, "sex"),
            units="1",
            doc=f"Log factor of all hazards at {when} (WPP's e0, levers, prior).",
        )
        aux(
            f"mortality_hazard{suffix}",
            f"exp(sum(log_death_rate_knots[{r}, sex, age, mortality_knot] * "
            f"mortality_knot_weight{suffix}[mortality_knot], 'mortality_knot') + "
            f"mortality_level{suffix}[{r}, sex]) / one_year",
            dims3,
            units="1/year",
            doc=f"Force of mortality at each age at {when}.",
        )
    a0 = life_tables.COALE_DEMENY_A0
    for k, part in enumerate(("intercept", "slope", "cap")):
        param(
            f"infant_separation_{part}",
            {s: a0[s][k] for s in SEXES},
            ("sex",),
            units="year" if part == "slope" else "1",
            doc="Coale-Demeny a0 = min(intercept + slope * infant death rate, cap) (Preston "
            "et al. 2001, table 3.3).",
        )
    param("is_newborn", [1.0] + [0.0] * 100, ("age",), units="1", bounds=(0, 1), doc="1 at age 0.")
    param(
        "is_open_age",
        [0.0] * 100 + [1.0],
        ("age",),
        units="1",
        bounds=(0, 1),
        doc="1 at the open age group 100+.",
    )
    for suffix in ("", "_at_time"):
        h = f"mortality_hazard{suffix}[{r}, sex, age]"
        aux(
            f"single_year_factor{suffix}",
            f"(1 - exp(-{h} * one_year)) / max({h}, 1e-12)",
            dims3,
            units="year",
            doc="Person-years lived in a year of age per survivor at its start.",
        )
        aux(
            f"person_years_factor{suffix}",
            f"is_newborn[age] * (1 - (1 - min(infant_separation_intercept[sex] + "
            f"infant_separation_slope[sex] * mortality_hazard{suffix}[{r}, sex, '0'], "
            f"infant_separation_cap[sex])) * (1 - exp(-{h} * one_year))) * one_year + "
            f"is_open_age[age] / max({h}, 1e-12) + (1 - is_newborn[age] - is_open_age[age]) * "
            f"single_year_factor{suffix}[{r}, sex, age]",
            dims3,
            units="year",
            doc="Life-table person-years at each age per survivor to it (a0 at age 0, 1/mu "
            "in the open group).",
        )
    aux(
        "survival_ratio",
        f"exp(-mortality_hazard[{r}, sex, age] * one_year) * (is_open_age[age] + "
        f"(1 - is_open_age[age]) "
        f"* single_year_factor[{r}, sex, age + 1] / person_years_factor[{r}, sex, age])",
        dims3,
        units="1",
        doc="Share of the people of an age alive a year later: L(x+1) / L(x) (100+: exp(-mu)).",
    )
    aux(
        "mortality_probability",
        f"(1 - survival_ratio[{r}, sex, age]) / one_year",
        dims3,
        units="1/year",
        doc="Probability of dying within a year at each age (cohort).",
    )
    add_life_table(p.model, r)


def add_life_table(model: engine.Model, r: str) -> None:
    """Period life expectancy at birth of the hazards at the save time (output-only).

    ``l(x) = exp(-sum_{a<x} mu(a))``, ``e0 = sum_x l(x) a(x)`` with the person-years factors
    ``a`` of the model (:func:`models.life_tables.life_expectancy`).
    """
    ensure_dim(model, "survival_age", AGES)
    below = np.tril(np.ones((101, 101)), k=-1)  # [x, a] = 1 where a < x
    model.param(
        "ages_below",
        below,
        dims=("survival_age", "age"),
        units="1",
        bounds=(0, 1),
        doc="1 where the age is below the survival age.",
    )
    model.aux(
        "survivorship",
        f"exp(-sum(ages_below[survival_age, age] * "
        f"mortality_hazard_at_time[{r}, sex, age], 'age') * one_year)",
        dims=(r, "sex", "survival_age"),
        units="1",
        doc="Period life table: share of a birth cohort surviving to each age.",
    )
    model.aux(
        "life_expectancy",
        f"sum(survivorship[{r}, sex, age] * person_years_factor_at_time[{r}, sex, age], 'age')",
        dims=(r, "sex"),
        units="year",
        doc="Period life expectancy at birth.",
    )


# --------------------------------------------------------------------------------------- fertility
def add_fertility(p: Parts) -> None:
    """Total fertility, its age pattern, births per woman of a cohort, the sex ratio at birth."""
    param, aux, paths, r, base_year = p.param, p.aux, p.paths, p.r, p.base_year
    param(
        "tfr_path",
        paths.tfr,
        (r, "calendar_year"),
        units="1",
        bounds=(0, 10),
        doc="Total fertility rate, births per woman: WPP 2022 estimates to 2021, medium "
        "variant from 2022.",
    )
    param(
        "fertility_pattern",
        paths.fertility_pattern,
        (r, "age", "fertility_knot"),
        units="1/year",
        bounds=(0, 1),
        doc="Share of the TFR at each age of the mother (WPP 2022 "
        "age-specific fertility split into single years; sums to 1).",
    )
    param(
        "tfr_adjustment",
        0.0,
        (r,),
        units="1",
        bounds=(-2, 2),
        doc="Lever: births per woman added to the path (WPP's high and low variants are +/-0.5).",
    )
    param(
        "tfr_adjustment_from",
        float(base_year),
        units="year",
        bounds=(1950, 2100),
        doc="Year from which tfr_adjustment is phased in.",
    )
    param(
        "tfr_adjustment_years",
        10.0,
        units="year",
        bounds=(1, 50),
        doc="Years over which tfr_adjustment is phased in.",
    )
    deviation = uncertain.tfr_deviation(p) if p.uncertainty else ""  # after mortality's knots
    aux(
        "tfr",
        f"max(sum(tfr_path[{r}, calendar_year] * calendar_year_weight[calendar_year], "
        f"'calendar_year') + tfr_adjustment[{r}] * min(max((step_midpoint - "
        f"tfr_adjustment_from) / tfr_adjustment_years, 0), 1){deviation}, 0)",
        (r,),
        units="1",
        doc="Total fertility rate, births per woman.",
    )
    aux(
        "fertility",
        f"tfr[{r}] * sum(fertility_pattern[{r}, age, fertility_knot] * "
        "fertility_knot_weight[fertility_knot], 'fertility_knot')",
        (r, "age"),
        units="1/year",
        doc="Age-specific fertility rate: births per woman of each age a year.",
    )
    aux(
        "fertility_of_cohort",
        f"0.5 * (fertility[{r}, age] + survival_ratio[{r}, 'female', "
        f"age] * fertility[{r}, age + 1])",
        (r, "age"),
        units="1/year",
        doc="Births a year per woman aged x at the start of the year (half the year at x, "
        "half at x+1 for the survivors).",
    )
    param(
        "sex_ratio_at_birth_path",
        paths.sex_ratio_at_birth,
        (r, "calendar_year"),
        units="1",
        bounds=(0.8, 1.5),
        doc="Males per female at birth (WPP 2022).",
    )
    param(
        "is_male",
        {"female": 0.0, "male": 1.0},
        ("sex",),
        units="1",
        bounds=(0, 1),
        doc="1 for males.",
    )
    aux(
        "sex_ratio_at_birth",
        f"sum(sex_ratio_at_birth_path[{r}, calendar_year] * "
        "calendar_year_weight[calendar_year], 'calendar_year')",
        (r,),
        units="1",
        doc="Males per female at birth.",
    )
    aux(
        "sex_share_at_birth",
        f"(is_male[sex] * sex_ratio_at_birth[{r}] + 1 - is_male[sex]) / "
        f"(1 + sex_ratio_at_birth[{r}])",
        (r, "sex"),
        units="1",
        doc="Share of births by sex.",
    )


# ----------------------------------------------------------------------------------------- helpers
def _knot_params(param: Any, dim: str, knots: np.ndarray, what: str) -> None:
    param(f"{dim}_time", knots, (dim,), units="year", doc=f"Times of the knots of {what}.")
    gaps = np.diff(knots)
    param(
        f"{dim}_before",
        np.concatenate([[FAR], gaps]),
        (dim,),
        units="year",
        doc="Time from the previous knot.",
    )
    param(
        f"{dim}_after",
        np.concatenate([gaps, [FAR]]),
        (dim,),
        units="year",
        doc="Time to the next knot.",
    )


def _hat(dim: str, when: str, knots: np.ndarray) -> str:
    t = f"min(max({when}, {float(knots[0])}), {float(knots[-1])})"
    return (
        f"max(min(({t} - {dim}_time[{dim}] + {dim}_before[{dim}]) / {dim}_before[{dim}], "
        f"({dim}_time[{dim}] + {dim}_after[{dim}] - {t}) / {dim}_after[{dim}]), 0)"
    )


def ensure_dim(model: engine.Model, name: str, elements: Sequence[str]) -> None:
    if name in model.dims:
        if tuple(model.dims[name].elements) != tuple(elements):
            raise engine.SpecError(
                f"model {model.name!r} has a dimension {name!r} with other "
                "elements than demography's."
            )
        return
    model.dimension(name, list(elements))
