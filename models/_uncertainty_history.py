"""Spreads of a backtest's uncertainty from what was known at its jump-off.

Private to :mod:`models._demography_uncertainty`: with ``build(..., jump_off=J,
uncertainty=True)`` the spreads of the TFR, e0 and net migration come from WPP 2022's
estimates up to J only, not from WPP 2022's projection intervals (published in 2022). They
are the *empirical errors of the projection rules themselves* at earlier origins (the
approach of Keyfitz 1981 and Stoto 1983, and of Alho & Spencer 2005's scaled model of error:
a forecast's uncertainty is measured by its method's past errors):

- **TFR**: for every origin J' from 1965 (15 years of data, the pace's window) to J - h, the
  rule of :func:`models.vital_rates.projected_tfr` from the TFR to J' against the TFR of
  J' + h, as a share of the TFR of J' (errors proportional to the level: a decline from 6
  misses by more births than one from 2; Alkema et al. 2011 too make the sd of phase II's
  distortions depend on the TFR's level), times the TFR of J. Measured on the 30 locations'
  outcomes after 1995-2010 (the TFR's error over its sd): absolute errors made the sd 2-3
  times too wide (median |z| 0.35 at 5-10 years, 0.2-0.28 at 15-25; a normal's is 0.67),
  relative ones 0.53 and 0.48 at 5 and 10 years. The sd is 1.4826 times the median
  absolute error (a normal's sd from its median absolute deviation, robust to the few breaks
  that dominate a mean square: China's famine and one-child policy; Rousseeuw & Croux 1993),
  not centred on the mean error (a band must hold the outcome, bias included).
- **e0** (both sexes, the mean of women's and men's): the model's rule for life expectancy
  (:func:`models.vital_rates.projected_e0`: each year the gain of countries at its level,
  pooled over every WPP country's e0 to the origin J', both sexes' mean); the same robust sd
  by horizon.
- **Net migration rate** (net migrants per resident a year): the rule's past errors (the mean of
  the five years to J' held), the same robust sd by horizon. The shock is that rule's error, so
  its persistence is the errors' own from one horizon to the next (the sign correlation of
  successive errors of one origin, :func:`migration_error_persistence`), not the rate's about
  its mean: a held mean misses a new level for years, while the rate's AR(1) is near 0 where
  one-year refugee spikes dominate it (Western Asia, Eastern and Middle Africa).
  **Pooled over locations**: a location's own past shows only the turns it had, so a calm one
  (Northern Europe, the Caribbean, Brazil, China) gets a spread no larger than its calm decades,
  and its first large turn lands far outside the band. The scale of a method's error is better
  measured over many populations (Alho & Spencer 2005's scaled model of error, pooled over
  populations; Azose & Raftery 2015 pool countries' migration variances in a hierarchical
  model), so a backtest's spread is ``max(own, pooled)`` by horizon
  (:func:`pooled_migration_sd`: the same robust sd, chain-linked, over the errors of every
  location of the model at every origin to J): the floor lifts the calm locations, and those
  whose own past was more volatile than the pool keep theirs (a floor, not a shrinkage: a
  shrinkage toward the pool would narrow Western Asia's and Middle Africa's bands, already
  missed by their refugee turns). No constant is chosen: the pooled sd is the own sd's
  estimator applied to the pooled errors.
  **Tails**, pooled too: the rule's errors over their spread (``max(own, pooled)`` at their
  horizon), over every location and origin to J, are a Student t's, not a normal's (their 95th
  percentile of |error| is 4.6-5.1 times their median for the 30 locations of the backtest at
  1995-2010: a normal's 2.9). The t's degrees of freedom are fitted to them by maximum
  likelihood with a free scale (Lange, Little & Taylor 1989; :func:`pooled_migration_tail_dof`:
  2.26, 2.11, 2.06 and 2.19 at 1995, 2000, 2005 and 2010); one location's past holds too few
  crises to measure its own (the kurtosis of each location's AR(1) innovations, used before,
  gave 5-30 degrees, 5 being its floor). The shock keeps the spread's median absolute value
  (:func:`models._demography_uncertainty.migration_shock`), so only the tails grow.

**Growth with the horizon.** The errors at horizon h exist only for origins up to J - h, so a
plain sd by horizon compares different eras: the long horizons of a 1995 jump-off rest on the
origins of 1965-80 alone (the onsets of fertility decline, China's swings), the short ones on
all of 1965-94, and the sd grew with the horizon faster than the errors did (the 80 % band of
1995's population held 28 of 30 outcomes at 23-25 years). So the sd's *level* is the one-year
error's over every origin, and its *growth* is chain-linked: the ratio of the median absolute
errors at h + 1 and h over the origins that have both (the era cancels from each ratio; the
chain index of an unbalanced panel), to ``MEASURED_HORIZON`` years (at least 16 origins for a
1995 jump-off); later horizons grow as a random walk's sd, ``sd(h) = sd(15) sqrt(h / 15)``; the
sd never falls with the horizon (a running maximum), as a forecast cannot know more of a later
year.

Sources
-------
- Keyfitz, N. (1981). The limits of population forecasting. Population and Development Review
  7(4), 579-593.
- Stoto, M. A. (1983). The accuracy of population projections. Journal of the American
  Statistical Association 78(381), 13-20.
- Rousseeuw, P. J. & Croux, C. (1993). Alternatives to the median absolute deviation. JASA
  88(424), 1273-1283 (1.4826: a normal's sd over its median absolute deviation).
- Alho, J. M. & Spencer, B. D. (2005). Statistical Demography and Forecasting. Springer
  (ch. 7: the scaled model of error from past forecasts, its scale estimated over populations).
- Azose, J. J. & Raftery, A. E. (2015). Bayesian probabilistic projection of international
  migration. Demography 52(5), 1627-1650 (countries' variances of net migration rates drawn from
  a common distribution: the pooled scale).
- Alkema, L., Raftery, A. E., Gerland, P., Clark, S. J., Pelletier, F., Buettner, T. & Heilig,
  G. K. (2011). Probabilistic projections of the total fertility rate for all countries.
  Demography 48(3), 815-839 (the sd of phase II's distortions as a function of the TFR).
- Lange, K. L., Little, R. J. A. & Taylor, J. M. G. (1989). Robust statistical modeling using
  the t distribution. JASA 84(408), 881-896 (the t's degrees of freedom by maximum likelihood).
- Blomqvist, N. (1950). On a measure of dependence between two random variables. Annals of
  Mathematical Statistics 21(4), 593-600 (the quadrant correlation; for a normal pair,
  P(same sign) = 1/2 + arcsin(rho) / pi).
- United Nations, DESA, Population Division (2022). World Population Prospects 2022 (CC BY 3.0
  IGO): annual TFR, life expectancy at birth, net migration and population, 1950-2021.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import vital_rates, wpp

#: The first origin of the rules' past errors: 15 years of data after 1950 (the TFR pace's).
FIRST_ORIGIN = wpp.FIRST_YEAR + vital_rates.TFR_PACE_YEARS
MEASURED_HORIZON = 15
MAD_TO_SD = 1.4826


Rule = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _past_errors(
    years: np.ndarray, observed: np.ndarray, project: Rule, jump_off: int, horizons: np.ndarray
) -> np.ndarray:
    """The signed errors of ``project(history, history_years, future)`` from every origin
    FIRST_ORIGIN..jump_off - 1 at ``horizons`` (to MEASURED_HORIZON; NaN where the outcome
    comes after the jump-off or the horizon is not measured), shape (origin, horizon)."""
    origins = np.arange(FIRST_ORIGIN, jump_off)
    out = np.full((origins.size, horizons.size), np.nan)
    for i, origin in enumerate(origins):
        known = years <= origin
        reach = (origin + horizons <= jump_off) & (horizons <= MEASURED_HORIZON)
        if not reach.any():
            continue
        path = project(observed[known], years[known], origin + horizons[reach])
        out[i, reach] = path - observed[np.searchsorted(years, origin + horizons[reach])]
    return out


def _absolute_errors(
    years: np.ndarray,
    observed: np.ndarray,
    project: Rule,
    jump_off: int,
    relative: bool = False,
) -> np.ndarray:
    """|errors| of ``project`` (:func:`_past_errors`) at horizons 1..MEASURED_HORIZON, shape
    (origin, horizon); ``relative``: each divided by the value at its origin and multiplied
    by the jump-off's (errors proportional to the level)."""
    grid = np.arange(1, MEASURED_HORIZON + 1)
    errors = np.abs(_past_errors(years, observed, project, jump_off, grid))
    if relative:
        origins = np.arange(FIRST_ORIGIN, jump_off)
        errors = errors / observed[np.searchsorted(years, origins)][:, None] * observed[-1]
    return errors


def _robust_sd_by_horizon(errors: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """Robust sd at ``horizons`` of ``errors`` (|error|, (case, horizon 1..MEASURED_HORIZON)
    as :func:`_absolute_errors`; NaN where unmeasured): its level at one year over every case,
    its growth with the horizon chain-linked (the ratio of the median |errors| at h + 1 and h
    over the cases that have both), to MEASURED_HORIZON; a random walk's growth after."""
    grid = np.arange(1, MEASURED_HORIZON + 1)
    out = np.zeros(horizons.size)
    if not np.isfinite(errors[:, 0]).any():
        return out
    sd = np.full(grid.size, np.nan)
    sd[0] = MAD_TO_SD * np.median(errors[np.isfinite(errors[:, 0]), 0])
    for k in range(1, grid.size):
        both = np.isfinite(errors[:, k - 1]) & np.isfinite(errors[:, k])
        if not both.any():
            break
        before = np.median(errors[both, k - 1])
        ratio = np.median(errors[both, k]) / before if before > 0 else 1.0
        sd[k] = sd[k - 1] * ratio
    top = np.flatnonzero(np.isfinite(sd))[-1]
    sd[: top + 1] = np.maximum.accumulate(sd[: top + 1])  # a later year is never known better
    for i, h in enumerate(horizons):
        if 1 <= h <= grid[top]:
            out[i] = sd[int(h) - 1]
        elif h > grid[top]:
            out[i] = sd[top] * np.sqrt(h / grid[top])
    return out


def _error_sd_by_horizon(
    years: np.ndarray,
    observed: np.ndarray,
    project: Rule,
    jump_off: int,
    horizons: np.ndarray,
    relative: bool = False,
) -> np.ndarray:
    """Robust sd of the errors of ``project`` at ``horizons`` (:func:`_absolute_errors`,
    :func:`_robust_sd_by_horizon`)."""
    errors = _absolute_errors(years, observed, project, jump_off, relative)
    return _robust_sd_by_horizon(errors, horizons)


def _tfr_rule(history: np.ndarray, years: np.ndarray, future: np.ndarray) -> np.ndarray:
    return vital_rates.projected_tfr(history, years, future)


def _e0_rule(pooled: np.ndarray) -> Rule:
    """The model's e0 rule (:func:`models.vital_rates.projected_e0`) from each origin, its
    gains by level pooled over ``pooled`` (country, year from 1950: every country's e0) to the
    origin."""

    def rule(history: np.ndarray, years: np.ndarray, future: np.ndarray) -> np.ndarray:
        curve = vital_rates.e0_gain_curve(pooled[:, : years.size])
        return vital_rates.projected_e0(history, curve, np.asarray(future) - years[-1])

    return rule


def tfr_sd(name: str, jump_off: int, horizons: np.ndarray) -> np.ndarray:
    """The sd of the TFR at ``horizons`` (years after ``jump_off``): the rule's past errors."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    tfr = wpp.annual(name, "tfr", wpp.FIRST_YEAR, jump_off)
    return _error_sd_by_horizon(years, tfr, _tfr_rule, jump_off, np.asarray(horizons), True)


def e0_sd(name: str, jump_off: int, horizons: np.ndarray) -> np.ndarray:
    """The sd of e0 (both sexes) at ``horizons``: its rule's past errors (gains by level pooled
    over every country's e0 to each origin)."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    e0 = 0.5 * sum(wpp.annual(name, f"e0_{s}", wpp.FIRST_YEAR, jump_off) for s in vital_rates.SEXES)
    rule = _e0_rule(vital_rates.country_e0("both", jump_off))
    return _error_sd_by_horizon(years, e0, rule, jump_off, np.asarray(horizons))


def _migration_rule(history: np.ndarray, years: np.ndarray, future: np.ndarray) -> np.ndarray:
    return np.full(np.shape(future), history[-vital_rates.MIGRATION_MEAN_YEARS :].mean())


def _migration_rate(name: str, jump_off: int) -> np.ndarray:
    years = range(wpp.FIRST_YEAR, jump_off + 1)
    net = 1000.0 * wpp.annual(name, "net_migration", wpp.FIRST_YEAR, jump_off)
    population = np.array([wpp.population_groups(name, y).sum() for y in years])
    return np.divide(net, population, out=np.zeros_like(net), where=population > 0)  # type: ignore[no-any-return]


def migration_sd(name: str, jump_off: int, horizons: np.ndarray) -> np.ndarray:
    """The sd of the net migration rate at ``horizons``: its rule's past errors."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    rate = _migration_rate(name, jump_off)
    return _error_sd_by_horizon(years, rate, _migration_rule, jump_off, np.asarray(horizons))


def pooled_migration_sd(names: list[str], jump_off: int, horizons: np.ndarray) -> np.ndarray:
    """The sd of the net migration rate at ``horizons`` from the migration rule's past errors
    of every location of ``names`` together (each location's origins to ``jump_off`` as cases
    of one panel; the same robust sd, chain-linked): the scale of the method's error pooled
    over populations (Alho & Spencer 2005's scaled model; Azose & Raftery 2015)."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    errors = [
        _absolute_errors(years, _migration_rate(x, jump_off), _migration_rule, jump_off)
        for x in names
    ]
    return _robust_sd_by_horizon(np.concatenate(errors), np.asarray(horizons))


def migration_ar1(name: str, jump_off: int) -> tuple[float, float, float]:
    """Stationary sd, persistence and innovations' excess kurtosis of the least-squares AR(1)
    of the location's net migration rate, 1950..jump_off."""
    rate = _migration_rate(name, jump_off)
    x, y = rate[:-1], rate[1:]
    design = np.column_stack([np.ones_like(x), x])
    (_, rho), *_ = np.linalg.lstsq(design, y, rcond=None)
    rho = float(np.clip(rho, 0.0, 0.99))
    e = y - (y.mean() - rho * x.mean()) - rho * x
    sd_e = float(e.std(ddof=2))
    kurt = float(((e - e.mean()) ** 4).mean() / e.var() ** 2 - 3) if sd_e > 0 else 0.0
    return sd_e / np.sqrt(1 - rho**2), rho, kurt


def sign_correlation(errors: np.ndarray) -> float:
    """Lag-one correlation along the last axis of ``errors`` (origin, horizon; NaN where
    unmeasured), pooled: the quadrant correlation about zero, ``sin(pi (s - 1/2))`` with ``s``
    the share of successive errors of one sign, a normal pair's correlation (Blomqvist 1950),
    uncentred (a bias persists too) and robust to one-year spikes; within 0..0.99."""
    now, then = errors[..., :-1].ravel(), errors[..., 1:].ravel()
    both = np.isfinite(now) & np.isfinite(then) & (now != 0) & (then != 0)
    if not both.any():
        return 0.0
    same = float(np.mean(np.sign(now[both]) == np.sign(then[both])))
    return float(np.clip(np.sin(np.pi * (same - 0.5)), 0.0, 0.99))


def migration_error_persistence(name: str, jump_off: int) -> float:
    """Lag-one-year autocorrelation of the migration rule's past errors along the horizon,
    pooled over origins (:func:`sign_correlation`): the persistence of the shock that stands
    for that rule's error."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    horizons = np.arange(1, MEASURED_HORIZON + 1)
    rate = _migration_rate(name, jump_off)
    return sign_correlation(_past_errors(years, rate, _migration_rule, jump_off, horizons))


def pooled_migration_errors(names: list[str], jump_off: int) -> np.ndarray:
    """The migration rule's past errors at horizons 1..MEASURED_HORIZON from every origin to
    ``jump_off`` of every location of ``names``, each over its backtest spread at that horizon
    (``max(own, pooled)``, as :func:`models._demography_uncertainty.migration_shock` gives it),
    pooled and flat (unmeasured ones dropped): the standardised errors the shocks stand for."""
    years = np.arange(wpp.FIRST_YEAR, jump_off + 1)
    horizons = np.arange(1, MEASURED_HORIZON + 1)
    pooled = pooled_migration_sd(names, jump_off, horizons)
    out = []
    for x in names:
        rate = _migration_rate(x, jump_off)
        errors = _past_errors(years, rate, _migration_rule, jump_off, horizons)
        spread = np.maximum(migration_sd(x, jump_off, horizons), pooled)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append((errors / spread[None, :]).ravel())
    z = np.concatenate(out)
    return z[np.isfinite(z)]  # type: ignore[no-any-return]


def student_t_dof(z: np.ndarray, low: float, high: float) -> float:
    """The maximum-likelihood degrees of freedom, within ``low..high``, of a Student t centred
    at 0 with a free scale fitted to ``z`` (Lange, Little & Taylor 1989); ``high`` when ``z``
    has fewer than 3 non-zero values."""
    from scipy import optimize, stats

    z = np.asarray(z, dtype=float)
    nonzero = np.abs(z[z != 0])
    if nonzero.size < 3:
        return float(high)

    def dof(x: float) -> float:  # the real line onto (low, high)
        return low + (high - low) / (1.0 + np.exp(-x))

    def nll(params: np.ndarray) -> float:
        return float(-stats.t.logpdf(z, dof(params[0]), scale=np.exp(params[1])).sum())

    start = np.array([0.0, np.log(np.median(nonzero))])
    options = {"xatol": 1e-6, "fatol": 1e-9}
    fit = optimize.minimize(nll, start, method="Nelder-Mead", options=options)
    return float(dof(fit.x[0]))


def pooled_migration_tail_dof(names: list[str], jump_off: int, low: float, high: float) -> float:
    """Degrees of freedom of the Student t of the migration rule's past errors over their
    spread, pooled over ``names`` (:func:`pooled_migration_errors`, :func:`student_t_dof`):
    one location's past has too few crises to measure its tails."""
    return student_t_dof(pooled_migration_errors(names, jump_off), low, high)
