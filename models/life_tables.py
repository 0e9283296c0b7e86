"""Age schedules for the demography model: single-year rates, life tables, migration schedule.

Numpy only, vectorised over leading axes (locations, sexes, years); the model's equations
(:mod:`models.demography`) compute the same quantities inside the kernel, and the tests compare
the two.

Single years of age from five-year groups
-----------------------------------------
- Death rates (:func:`single_year_death_rates`): below 80, a monotone piecewise-cubic
  (Fritsch-Carlson / PCHIP) interpolation of the log rates placed at the groups' mid-ages (the
  infant rate at 0.5); from 80 to 99 Kannisto's logistic model, ``logit m(x) = a + b x``, fitted
  by least squares to the groups 80-84..95-99 (Thatcher, Kannisto & Vaupel 1998, who found it
  the best of the old-age models on data from 13 countries); the open group 100+ keeps WPP's
  rate. Each closed group's single-year rates are then scaled by one factor so that the group's
  deaths over its person-years in the life table of those rates equal WPP's rate of the group.
- Counts (:func:`split_age_groups`): a monotone (PCHIP) spline through the cumulative counts at
  the group boundaries, differentiated by single years: every group total is kept and no single
  year is negative (Smith, Hyndman & Wood 2004). An open last group adds one knot above the
  last boundary, the part of it that a geometric tail (the ratio of the last two closed
  groups) puts in its first five years, so that the last closed group's single years meet it.

Life table
----------
A period life table of single-year hazards ``mu(x)``, constant within each year of age:
``l(x+1) = l(x) exp(-mu(x))``, person-years ``L(x) = l(x) (1 - exp(-mu(x))) / mu(x)`` for
``x >= 1``, ``L(100+) = l(100) / mu(100)``; in the first year the deaths fall early in the year,
``L(0) = 1 - (1 - a0) (1 - exp(-mu(0)))`` with Coale and Demeny's separation factor ``a0`` as
a function of the infant death rate (Preston, Heuveline & Guillot 2001, table 3.3). The
projection's survivorship ratios are ``S(x) = L(x+1) / L(x)`` (ibid., ch. 6).

References
----------
- Fritsch, F. N. & Carlson, R. E. (1980). Monotone piecewise cubic interpolation. SIAM Journal
  on Numerical Analysis 17(2), 238-246.
- Smith, L., Hyndman, R. J. & Wood, S. N. (2004). Spline interpolation for demographic
  variables: the monotonicity problem. Journal of Population Research 21(1), 95-98.
- Thatcher, A. R., Kannisto, V. & Vaupel, J. W. (1998). The Force of Mortality at Ages 80 to
  120. Odense University Press.
- Preston, S. H., Heuveline, P. & Guillot, M. (2001). Demography: Measuring and Modeling
  Population Processes. Blackwell.
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

__all__ = [
    "single_year_death_rates",
    "split_age_groups",
    "infant_separation",
    "person_years",
    "life_expectancy",
    "survival_ratios",
    "scale_to_life_expectancy",
    "rogers_castro",
    "ROGERS_CASTRO",
    "COALE_DEMENY_A0",
]

AGES = np.arange(101)
#: Rogers & Castro (1981) typical values of the 7-parameter model schedule.
ROGERS_CASTRO = {
    "a1": 0.02,
    "alpha1": 0.1,
    "a2": 0.06,
    "mu2": 20.0,
    "alpha2": 0.1,
    "lambda2": 0.4,
    "c": 0.003,
}
#: a0 = min(intercept + slope * m0, cap) by sex (Preston et al. 2001, table 3.3, Coale-Demeny).
COALE_DEMENY_A0 = {"female": (0.053, 2.800, 0.350), "male": (0.045, 2.684, 0.330)}
_GROUP_STARTS = np.array((0, 1) + tuple(range(5, 101, 5)))
_KANNISTO_FROM = 80


def single_year_death_rates(rates: np.ndarray) -> np.ndarray:
    """Single-year death rates at ages 0..100+ from WPP's 22 group rates (last axis).

    Groups: 0, 1-4, 5-9, ..., 95-99, 100+ (:data:`models.wpp.MX_AGE_STARTS`).
    """
    rates = np.asarray(rates, dtype=float)
    widths = np.diff(np.append(_GROUP_STARTS, 105))
    mids = _GROUP_STARTS + widths / 2.0
    log_rates = np.log(np.maximum(rates, 1e-12))
    young = mids < _KANNISTO_FROM
    spline = PchipInterpolator(mids[young], log_rates[..., young], axis=-1, extrapolate=True)
    out = np.empty(rates.shape[:-1] + (101,))
    out[..., :_KANNISTO_FROM] = np.exp(spline(np.arange(_KANNISTO_FROM) + 0.5))
    # Kannisto: logit m linear in age, fitted to the groups 80-84..95-99
    old = (_GROUP_STARTS >= _KANNISTO_FROM) & (_GROUP_STARTS < 100)
    x = mids[old]
    m = np.clip(rates[..., old], 1e-9, 0.999)
    y = np.log(m / (1 - m))
    xc = x - x.mean()
    slope = (y * xc).sum(axis=-1) / (xc**2).sum()
    intercept = y.mean(axis=-1) - slope * x.mean()
    ages = np.arange(_KANNISTO_FROM, 100) + 0.5
    z = intercept[..., None] + slope[..., None] * ages
    out[..., _KANNISTO_FROM:100] = 1.0 / (1.0 + np.exp(-z))
    out[..., 100] = rates[..., -1]
    out[..., 0] = rates[..., 0]
    # keep each closed group's rate: deaths over person-years of the group's life table
    for g in range(1, len(_GROUP_STARTS) - 1):
        lo, hi = _GROUP_STARTS[g], _GROUP_STARTS[g + 1]
        for _ in range(3):
            mu = out[..., lo:hi]
            alive = np.exp(
                -np.concatenate(
                    [np.zeros(mu.shape[:-1] + (1,)), np.cumsum(mu[..., :-1], axis=-1)], axis=-1
                )
            )
            exposure = alive * _closed_factor(mu)
            mean = (mu * exposure).sum(axis=-1) / exposure.sum(axis=-1)
            out[..., lo:hi] = mu * (rates[..., g] / np.maximum(mean, 1e-300))[..., None]
    return out


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
    # An open last group also shapes the top of the last closed group: the spline passes
    # through one more knot, a group's width above the last boundary, holding the part of the
    # open group that a geometric tail continuing the last two closed groups' ratio puts in
    # its first ``width`` years. PCHIP's one-sided end slope instead set the density at the
    # boundary from the closed groups alone: half the people at 99 that WPP's 100+ implies
    # (the World's 100+ fell 15% short of WPP's a year after 1990).
    if open_last and closed.size >= 2 and 0 < closed[-1] < closed[-2] and groups[-1] > 0:
        ratio = closed[-1] / closed[-2]
        bounds = np.append(bounds, bounds[-1] + width)
        cumulative = np.append(cumulative, cumulative[-1] + groups[-1] * (1.0 - ratio))
    spline = PchipInterpolator(bounds, cumulative)
    single = np.maximum(np.diff(spline(np.arange(closed.size * width + 1))), 0.0)
    sums = single.reshape(-1, width).sum(axis=1)
    scale = np.divide(closed, sums, out=np.zeros_like(closed), where=sums > 0)
    single = (single.reshape(-1, width) * scale[:, None]).ravel()
    if open_last:
        single = np.concatenate([single, groups[-1:]])
    return single


def infant_separation(infant_rate: Any, sex: str) -> np.ndarray:
    """Coale-Demeny's a0: mean fraction of the first year lived by infants who die in it."""
    intercept, slope, cap = COALE_DEMENY_A0[sex]
    return np.minimum(intercept + slope * np.asarray(infant_rate, dtype=float), cap)


def _closed_factor(hazard: np.ndarray) -> np.ndarray:
    """(1 - exp(-mu)) / mu: person-years a year per survivor at the start of it."""
    mu = np.maximum(hazard, 1e-12)
    return -np.expm1(-mu) / mu  # type: ignore[no-any-return]


def person_years(hazard: np.ndarray, sex: str) -> np.ndarray:
    """Life-table person-years ``L(x)`` at ages 0..100+ (radix 1) of hazards ``(..., 101)``."""
    hazard = np.asarray(hazard, dtype=float)
    survivors = np.exp(
        -np.concatenate(
            [np.zeros(hazard.shape[:-1] + (1,)), np.cumsum(hazard[..., :-1], axis=-1)], axis=-1
        )
    )
    factor = _closed_factor(hazard)
    a0 = infant_separation(hazard[..., 0], sex)
    factor[..., 0] = 1.0 - (1.0 - a0) * -np.expm1(-hazard[..., 0])
    factor[..., 100] = 1.0 / np.maximum(hazard[..., 100], 1e-12)
    return survivors * factor  # type: ignore[no-any-return]


def life_expectancy(hazard: np.ndarray, sex: str) -> np.ndarray:
    """Period life expectancy at birth (years) of single-year hazards ``(..., 101)``."""
    return person_years(hazard, sex).sum(axis=-1)  # type: ignore[no-any-return]


def survival_ratios(hazard: np.ndarray, sex: str) -> tuple[np.ndarray, np.ndarray]:
    """``(S, L0)``: the share of people aged x surviving a year (to x+1; 100+ stays), and the
    share of a year's births alive at its end, ``L(0)``.

    ``S(x) = exp(-mu(x)) f(x+1) / a(x)`` with ``a`` the person-years factor of age x and ``f``
    that of a closed single year (so ``S = L(x+1) / L(x)`` below 99, and the 100+ group keeps
    ``exp(-mu(100))``), as the model computes them.
    """
    hazard = np.asarray(hazard, dtype=float)
    closed = _closed_factor(hazard)
    own = closed.copy()
    a0 = infant_separation(hazard[..., 0], sex)
    own[..., 0] = 1.0 - (1.0 - a0) * -np.expm1(-hazard[..., 0])
    ratio = np.exp(-hazard)
    ratio[..., :100] *= closed[..., 1:] / own[..., :100]
    return ratio, own[..., 0]


def scale_to_life_expectancy(
    log_hazard: np.ndarray, e0: np.ndarray, sex: str, iterations: int = 60
) -> np.ndarray:
    """The log factor ``c`` per leading index with ``life_expectancy(exp(log_hazard + c)) = e0``.

    Bisection on ``c`` in [-4, 4] (e0 falls as ``c`` rises), vectorised; NaN targets give 0.
    """
    log_hazard = np.asarray(log_hazard, dtype=float)
    target = np.asarray(e0, dtype=float)
    low = np.full(target.shape, -4.0)
    high = np.full(target.shape, 4.0)
    goal = np.nan_to_num(target, nan=0.0)
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        e = life_expectancy(np.exp(log_hazard + mid[..., None]), sex)
        too_high = e > goal  # hazards too low: raise c
        low = np.where(too_high, mid, low)
        high = np.where(too_high, high, mid)
    out = 0.5 * (low + high)
    return np.where(np.isfinite(target), out, 0.0)  # type: ignore[no-any-return]


def rogers_castro(
    ages: Sequence[float] | np.ndarray | None = None, **parameters: float
) -> np.ndarray:
    """The Rogers-Castro model migration schedule over ``ages`` (default 0..100), summing to 1."""
    p = dict(ROGERS_CASTRO, **parameters)
    x = AGES.astype(float) if ages is None else np.asarray(ages, dtype=float)
    rate = (
        p["a1"] * np.exp(-p["alpha1"] * x)
        + p["a2"] * np.exp(-p["alpha2"] * (x - p["mu2"]) - np.exp(-p["lambda2"] * (x - p["mu2"])))
        + p["c"]
    )
    return rate / rate.sum()  # type: ignore[no-any-return]
