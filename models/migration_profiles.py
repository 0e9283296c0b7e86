"""The age pattern of each location's net migration, from WPP's own estimates (residual method).

WPP 2022 distributes each country's net migration by age and sex with country-specific
patterns derived from its past estimates where they exist, and model schedules otherwise
(United Nations, DESA, Population Division (2022). World Population Prospects 2022:
Methodology of the United Nations population estimates and projections, UN DESA/POP/2022/TR/
NO. 4). The shared data have neither WPP's migration by age nor its population by sex, but they
have WPP's *estimated* population by five-year age group for every year (both sexes), its death
rates, births and sex ratio at birth: the age pattern that WPP's estimates imply follows by the
forward-survival residual method (Hill 1987; Bhagat 2002; Preston, Heuveline & Guillot 2001,
ch. 6):

1. For each five-year interval ``t -> t + 5`` of a window that ends at ``end`` (two intervals,
   ``end - 10 -> end - 5 -> end``), WPP's population of ``t`` (split into single years and
   sexes as the model's starting population, :func:`models.vital_rates.initial_population`) is
   projected over five years with no migration: annual steps with the survivorship ratios of
   each year's hazards (the model's own, :func:`models.life_tables.survival_ratios`) and WPP's
   births of each year (mid-year to mid-year: half of each calendar year's), split by WPP's sex
   ratio at birth and entering age 0 in proportion ``L(0)``.
2. The residual of each five-year group at ``t + 5`` (WPP's estimate minus the projection) is
   the net migrants of the interval who survived to ``t + 5`` and are of that group then; it is
   divided by the square root of the group's five-year survival (they were there for half the
   interval on average). The residuals of the window's intervals are added.
3. Ages at migration: someone of the group ``[5g, 5g+5)`` at ``t + 5`` who moved ``u`` years
   earlier (``u`` uniform over the five years) was ``a - u`` then; in the model's annual steps
   a migrant of age ``y`` during a year is of age ``floor(y - 1/2)`` at its start. Each group's
   residual is spread over single ages by that distribution (a triangle ten years wide;
   :func:`group_to_single_ages`), ages below 0 going to age 0.
4. The signed single-year residuals are divided by their sum: the profile sums to 1, and the
   model's net migration of an age is the WPP total of the year times the profile (times the
   migrants' sex share). A net emigration country with young leavers and older returnees has a
   profile with positive young ages and negative older ones; times a negative total, the young
   leave and the older arrive.

The residual holds, besides migration, whatever WPP's accounting and the model's differ by (the
single-year split of the death rates, the old-age model, rounding to thousands). Measured on the
World, whose net migration is zero, it is within 0.4 % of each group's population below 80;
at the oldest ages WPP's estimated populations do not follow from WPP's published death rates:
their five-year cohort survival exceeds that of the rates at 90-94 -> 95-99 by 3-4.5 % (World),
16-24 % (Japan) in 1990, 2000 and 2010 alike, from the raw group rates (no interpolation) as
from the model's single-year ones, while the same rates times WPP's population give WPP's deaths
to within 2 %. The profile is therefore **usable** only where migration shapes it: the window's
residual has the sign of WPP's net migration over the same years; it does not cancel out (the
net residual is at least ``min_net_share``, 1/3, of the sum of the absolute single-year
residuals); WPP's net migration over the window is at least ``min_rate`` (0.5 per 1,000
residents a year); and the ages 15-44 (at the intervals' ends) hold at least
``min_working_age_share`` (0.3) of the net residual: half the 0.59 that the Rogers-Castro model
schedule with its typical parameters puts there (Rogers & Castro 1981), so that a residual made
mostly of old-age accounting (Japan: 0.14) is not taken for migration. Elsewhere, and in a year
whose total has the opposite sign to the window's, the model falls back on the Rogers-Castro
schedule (:mod:`models.demography`). The thresholds are the same for every location and none
was chosen on the acceptance tests: on backtests from 1995, 2000, 2005 and 2010 (what was known
at each jump-off, ten years on, 2019 at the latest) of the 131 countries of at least a million
people outside the acceptance set, the mean age-structure error (half the sum of absolute
differences of the age-group shares) is 2.47 % with the former thresholds (net share 0.15,
working ages 0.4, both chosen on the acceptance tests), 2.43 % with these and 2.45 % with the
net share at 1/2; these beat the former at three of the four jump-offs (2010: equal), and
leaving out one jump-off at a time, a net share of 1/3 (three times) or 1/2 (once) is best on
the other three. The working-age share (none, 0.2, 0.3, 0.4) and the rate (0-2 per 1,000) move
that error by less than 0.02 points: the working-age share keeps its model-schedule rationale,
the rate its value.

**The exchange of cancelling flows.** Where the residual passes every test but the net share
(its net is less than ``min_net_share`` of the gross: Mexico 2009-2019, young leavers and older
arrivals, net 0.18 of the gross), dividing by the net is unstable, so the profile is not used;
but WPP's own projection keeps such a country's signed pattern (the residual of WPP's projected
population, ``models/data/wpp_projection_residuals.py``: Mexico's persons a year by age are the
same from 2022 to 2100, young leavers and older arrivals). ``Profiles.exchange`` keeps the
window's residual beyond its net: the residual a year at each single age less the window's net
a year spread by the Rogers-Castro schedule on the residents at the window's end (persons a
year, summing to zero; ``Profiles.exchange_net``, the window's net a year). The model spreads
the year's net by Rogers-Castro and adds the exchange in proportion to the year's net over the
window's, at most once (:mod:`models.demography`): where the year's net is the window's, the
migration by age is the window's residual (WPP's profile times the total); where it falls, the
flows both ways fall with it; where it rises, the gross exchange is not extrapolated beyond what
was seen, and the extra net follows the schedule. On the backtests that chose the thresholds
(``models/data/backtest_migration_exchange.py``; 17 of the 524 cases have an exchange) the
age-structure error of those cases is 2.840 % with the exchange against 2.969 % without (better
in 10 of 17; total population 5.361 % against 5.629 %), the mean over every case 2.429 % against
2.433 %; in proportion to the year's net without the cap (the normalised profile) it is
4.325 %, which is why the net share guard exists.

**Residual rates (an alternative, off by default).** Normalising the residual to sum 1 divides
by the net, which explodes where gross flows nearly cancel (Mexico: young emigrants, older
arrivals, net 0.18 of the gross). ``Profiles.rates`` keeps instead the window's residual of each
single age over the window's person-years of that age (WPP's population at the intervals' ends,
trapezoid; both sexes): net migrants a year per resident, 0 where there is no full window. With
``use_residual_migration_rates = 1`` the model (:mod:`models.demography`) applies them to the
current residents and spreads the rest of the year's WPP total by the Rogers-Castro schedule
(one factor a year), so the input path still holds exactly and nothing is divided by the net.
This is this project's variant of WPP's country-specific patterns (UN DESA/POP/2022/TR/NO. 4),
not WPP's method. It is not the default: on the same backtests (524 cases,
``models/data/backtest_residual_rates.py``) its mean age-structure error is 2.442 % against
2.433 % for the thresholded profile (2.641 % Rogers-Castro alone); better at the jump-offs 1995
and 2000, worse at 2005 and 2010, better in 218 of the 524 cases; the mean absolute error of the
total population is 5.16 % against 5.20 %; without rates at 80+ (the accounting gap) 2.436 %,
still not better (one sensitivity, not adopted). Constant rates carry the window's conflicts
(Liberia 1995, Sierra Leone 1995, Rwanda 2005) and the old-age accounting gap forward.

Only data up to ``end`` are used: a backtest or reconstruction starting in year Y uses the
window ending in Y (the population table starts in 1950, so a start from 1960 on has a full
window). The default window of a run from 2022 ends in 2019: the COVID-19 years 2020-2021
(deaths and migration off their trend) are left out.

References
----------
- United Nations, DESA, Population Division (2022). World Population Prospects 2022:
  Methodology of the United Nations population estimates and projections. UN DESA/POP/2022/TR/
  NO. 4.
- Hill, K. (1987). Estimating census and death registration completeness. Asian and Pacific
  Population Forum 1(3), 8-13, 23-24 (intercensal cohort survival).
- Bhagat, R. B. (2002). Estimating net migration by the residual method: census survival
  ratios. In: United Nations, Methods for Estimating Net Migration (manuals on population
  estimation).
- Preston, S. H., Heuveline, P. & Guillot, M. (2001). Demography: Measuring and Modeling
  Population Processes. Blackwell, ch. 6.
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from . import life_tables, vital_rates, wpp

__all__ = [
    "Profiles",
    "net_migration_profiles",
    "group_to_single_ages",
    "window_end",
    "WINDOW_YEARS",
    "LAST_PRE_PANDEMIC_YEAR",
    "MIN_NET_SHARE",
    "MIN_RATE",
    "MIN_WORKING_AGE_SHARE",
]

WINDOW_YEARS = 10
STEP = 5
LAST_PRE_PANDEMIC_YEAR = 2019
MIN_NET_SHARE = 1 / 3  # net over the sum of absolute residuals (backtests 1995-2010)
MIN_RATE = 0.0005  # net migrants a year per resident over the window
MIN_WORKING_AGE_SHARE = 0.3  # of the net residual at 15-44: half Rogers-Castro's 0.59
WORKING_AGE_GROUPS = slice(3, 9)  # 15-19 .. 40-44


@dataclass
class Profiles:
    """Net migration age profiles of a list of locations (both sexes)."""

    profile: np.ndarray  # (R, 101), each row sums to 1 (Rogers-Castro where not usable)
    usable: np.ndarray  # (R,) bool
    sign: np.ndarray  # (R,) +1 / -1: the sign of the window's net migration (0: not usable)
    residual: np.ndarray  # (R, 21): the window's residual by group at the interval ends
    end: int
    rates: np.ndarray  # (R, 101): net migrants a year per resident of each age (0: no window)
    exchange: np.ndarray  # (R, 101): persons a year summing to 0, where only the net share fails
    exchange_net: np.ndarray  # (R,): the window's net migrants a year of the exchange (else 0)


def window_end(base_year: int) -> int:
    """The last year of the residual window of a run starting in ``base_year``."""
    return min(int(base_year), LAST_PRE_PANDEMIC_YEAR)


@cache
def group_to_single_ages() -> np.ndarray:
    """(21, 101): share of a five-year group's residual (at the interval's end) migrating at
    each single age of the model (its age at the start of the year of the move)."""
    fine = 200
    a_end = (np.arange(5 * fine) + 0.5) / fine  # within the group, years
    u = (np.arange(5 * fine) + 0.5) / fine  # years before the end
    offsets = (a_end[:, None] - u[None, :]).ravel() - 0.5
    out = np.zeros((21, 101))
    for g in range(21):
        ages = np.clip(np.floor(5 * g + offsets), 0, 100).astype(int)
        out[g] = np.bincount(ages, minlength=101)[:101] / offsets.size
    return out


def _project_five_years(
    paths: vital_rates.InputPaths, i: int, name: str, t: int, start: np.ndarray, hazards: np.ndarray
) -> np.ndarray:
    """Population (2, 101) at ``t + 5`` of ``start`` (at ``t``) with no migration;
    ``hazards`` (2, 5, 101): those of the mid-points of the five years."""
    n = start.copy()
    births = wpp.annual(name, "births", t, t + STEP) * 1000.0
    k0 = t - vital_rates.YEARS[0]
    for y in range(STEP):
        hazard = hazards[:, y]  # (2, 101)
        born = 0.5 * (births[y] + births[y + 1])
        srb = 0.5 * (paths.sex_ratio_at_birth[i, k0 + y] + paths.sex_ratio_at_birth[i, k0 + y + 1])
        new = np.zeros_like(n)
        for s, sex in enumerate(vital_rates.SEXES):
            survival, l0 = life_tables.survival_ratios(hazard[s], sex)
            survivors = n[s] * survival
            new[s, 1:] = survivors[:-1]
            new[s, 100] += survivors[100]
            new[s, 0] = born * (srb if s == 1 else 1.0) / (1.0 + srb) * l0
        n = new
    return n


def _groups(single: np.ndarray) -> np.ndarray:
    return np.append(single[:100].reshape(20, 5).sum(axis=-1), single[100])


def net_migration_profiles(
    paths: vital_rates.InputPaths,
    end: int,
    min_net_share: float = MIN_NET_SHARE,
    min_rate: float = MIN_RATE,
    min_working_age_share: float = MIN_WORKING_AGE_SHARE,
) -> Profiles:
    """The residual profiles of ``paths.locations`` over the window ending in ``end``.

    ``paths`` must hold the hazards, births and sex ratios of the window (WPP's estimates:
    :func:`models.vital_rates.input_paths` with no jump-off, or with a jump-off >= ``end``).
    """
    locations = paths.locations
    fallback = life_tables.rogers_castro()
    kernel = group_to_single_ages()
    n = len(locations)
    profile = np.tile(fallback, (n, 1))
    usable = np.zeros(n, dtype=bool)
    sign = np.zeros(n)
    residual = np.zeros((n, 21))
    rates = np.zeros((n, 101))
    exchange = np.zeros((n, 101))
    exchange_net = np.zeros(n)
    first = end - WINDOW_YEARS
    starts = range(first, end, STEP)
    population = (
        {t: vital_rates.initial_population(paths, t) for t in list(starts) + [end]}
        if first >= wpp.FIRST_YEAR
        else {}
    )
    if population:
        hazards = paths.hazard(np.arange(first, end) + 0.5)  # (R, 2, T, 101)
    for i, name in enumerate(locations):
        if not population or not wpp.location(name).has_data:
            continue
        total = np.zeros(21)
        exposure = np.zeros(101)  # person-years of each age over the window (both sexes)
        for t in starts:
            start = population[t][i]
            projected = _project_five_years(
                paths, i, name, t, start, hazards[i, :, t - first : t - first + STEP]
            )
            observed = wpp.population_groups(name, t + STEP)
            published = observed.sum()
            if published <= 0:
                break
            survival = np.ones(21)
            start_groups = _groups(start.sum(axis=0))
            proj_groups = _groups(projected.sum(axis=0))
            survival[1:20] = np.divide(
                proj_groups[1:20], start_groups[:19], out=np.ones(19), where=start_groups[:19] > 0
            )
            survival[20] = (
                proj_groups[20] / (start_groups[19] + start_groups[20])
                if start_groups[19:].sum() > 0
                else 1.0
            )
            total += (observed - proj_groups) / np.sqrt(np.clip(survival, 0.05, 1.0))
            exposure += 0.5 * STEP * (start.sum(axis=0) + population[t + STEP][i].sum(axis=0))
        else:
            single = total @ kernel
            rates[i] = np.divide(single, exposure, out=np.zeros(101), where=exposure > 0)
        residual[i] = total
        single = total @ kernel
        net = single.sum()
        known = wpp.annual(name, "net_migration", first, end - 1).sum()
        if net == 0 or np.sign(net) != np.sign(known):
            continue
        if abs(net) < min_rate * WINDOW_YEARS * wpp.population_groups(name, first).sum():
            continue
        if total[WORKING_AGE_GROUPS].sum() / total.sum() < min_working_age_share:
            continue
        if np.abs(single).sum() * min_net_share > abs(net):
            # cancelling flows: the window's residual beyond its net spread by Rogers-Castro
            # on the residents, persons a year (see "The exchange of cancelling flows")
            schedule = fallback * population[end][i].sum(axis=0)
            exchange[i] = (single - net * schedule / schedule.sum()) / WINDOW_YEARS
            exchange_net[i] = net / WINDOW_YEARS
            continue
        profile[i] = single / net
        usable[i] = True
        sign[i] = np.sign(net)
    return Profiles(profile, usable, sign, residual, end, rates, exchange, exchange_net)
