"""The demography model's uncertainty: shocks to fertility and net migration, a drift of mortality.

Private to :mod:`models.demography`; declared only by ``build(..., uncertainty=True)`` (or
``add_to(..., uncertainty=True)``), so the deterministic model and its content hash are
unchanged without it. Every spread comes from ``models/data/demography_uncertainty.csv``,
written by ``models/data/build_uncertainty.py`` from WPP 2022 (its docstring tells how):

- **Fertility** (bayesTFR: Alkema et al. 2011; Raftery, Alkema & Gerland 2014): the TFR is WPP's
  medium path plus ``Q_t(z(t))``: ``z`` a standard normal deviation (``tfr_standard``) and
  ``Q_t`` the location's quantiles of bayesTFR's projection as WPP 2022 publishes them (its
  own 80 % and 95 % intervals around its median, an aggregate's as a country's: ``tfr_band``,
  linear between ``KNOTS``), piecewise linear through (0, 0), (+-1.2816, the 80 % bounds) and
  (+-1.96, the 95 % bounds), the last slope beyond: a Gaussian copula with bayesTFR's
  marginals, which are skewed where fertility is high (Middle Africa's 95 % bound of 2100 lies
  3.3 times as far above the median as below; one sd made its population's 95 % interval of
  2100 0.73-0.77 of WPP's with 1,000 members, the quantiles 0.80-0.86). A backtest's is
  ``sd(t) z(t)``, ``sd`` its rule's past errors. ``z`` goes by the location's phase of the fertility
  transition at the start (``tfr_phase_two``: :func:`models.vital_rates.tfr_phase`, bayesTFR's
  rule, on its TFR to the base year or jump-off): in **phase III** a stationary standardised
  AR(1) with the phase-III persistence 0.9 per five-year period (``TFR_PERSISTENCE``, 0.9 **
  (1/5) a year); in **phase II** ``W(t) / sqrt(t - t0)``, ``W`` a random walk, as bayesTFR
  projects the transition (a random walk with drift: its distortions add up along the path,
  Alkema et al. 2011; Sevcikova, Alkema & Raftery 2011), so the deviation of 2100 keeps more of
  that of 2050 (correlation sqrt(28 / 78) = 0.6 against 0.9 ** 10 = 0.35). bayesTFR's paths
  are more persistent still (each trajectory draws its country's decline parameters once, and
  WPP 2022's annual model adds an autoregressive term: Liu, Sevcikova & Raftery 2023), which
  the published intervals do not quantify: with the walk, the population intervals of Middle
  Africa and Melanesia are 0.80-0.87 of WPP's (1,000 members), with one deviation held over the
  whole path 0.96-1.08 (tests/models/test_demography_uncertainty.py). The phase is the
  start's for the whole path (a location that enters phase III later keeps its walk). Locations'
  deviations correlate (Fosdick & Raftery 2014): a common process and each location's own,
  ``sqrt(k) common + sqrt(1 - k) own``, correlation ``k = REGION_TFR_CORRELATION``.
- **Mortality** (bayesLife: Raftery et al. 2013; Lee & Carter 1992): all log hazards shift by
  ``sd(t) W(t) / sqrt(t - t0)``, ``W`` a random walk (a Lee-Carter index's), so the shift is a
  random walk whose sd at t is ``sd(t)``: the e0 spread of bayesLife as WPP 2022 publishes it
  (``e0_sd``, both sexes; the location's own, an aggregate's too), divided by the slope of the
  location's e0 in its log hazards at that year's WPP life table (``log_hazard_sd``). It
  replaces the prior of ``mortality_improvement_shift`` (Lee & Miller's drift), which would
  count it twice.
  Locations' walks are independent, as bayesLife's countries' (``REGION_E0_CORRELATION``).
- **Net migration**: an AR(1) deviation of the net migration rate (net migrants per resident a
  year) with the persistence and stationary spread of the location's WPP 1950-2021 estimates
  (``migration_rate_sd``, ``migration_persistence``), times the population. Crises give heavier
  tails: each member's path is scaled by ``sqrt((nu - 2) / chi2(nu))`` drawn once
  (``initial(chi_square(nu))``), a Student-t process (Shah, Wilson & Ghahramani 2014) with the
  variance of the AR(1), ``nu`` from the excess kurtosis of the fitted innovations
  (``migration_tail_dof``). Locations draw independent shocks. WPP 2022's intervals hold
  migration at its medium path; ours are wider where migration matters.

A **backtest** (``jump_off=J``) cannot know WPP 2022's intervals: its spreads are the past
errors of its own projection rules, from WPP's estimates up to J only
(:mod:`models._uncertainty_history`), at knots ``J + BACKTEST_KNOT_OFFSETS``; its migration
shock's persistence is that of the migration rule's past errors, its spread never below that
rule's errors pooled over the model's locations (Alho & Spencer 2005; Azose & Raftery 2015:
:func:`models._uncertainty_history.pooled_migration_sd`), and its tails those of the same
errors: a Student t whose degrees of freedom are fitted by maximum likelihood (Lange, Little &
Taylor 1989) to the rule's past errors over their spread, pooled over the model's locations and
origins to J (:func:`models._uncertainty_history.pooled_migration_tail_dof`; 2.1-2.3 for the
30 locations of the backtest at 1995-2010), scaled so that its median absolute value is the
spread's (``migration_tail_mad``: the spread is a median absolute error times 1.4826, so the
core of the band stays where the errors put it and only the tails grow).

Sources
-------
- Alkema, L., Raftery, A. E., Gerland, P., Clark, S. J., Pelletier, F., Buettner, T. & Heilig,
  G. K. (2011). Probabilistic projections of the total fertility rate for all countries.
  Demography 48(3), 815-839.
- Raftery, A. E., Alkema, L. & Gerland, P. (2014). Bayesian population projections for the
  United Nations. Statistical Science 29(1), 58-68.
- Sevcikova, H., Alkema, L. & Raftery, A. E. (2011). bayesTFR: an R package for probabilistic
  projections of the total fertility rate. Journal of Statistical Software 43(1), 1-29 ("a
  random walk with drift is used to project the TFR during the fertility transition").
- Liu, P., Sevcikova, H. & Raftery, A. E. (2023). Probabilistic estimation and projection of
  the annual total fertility rate accounting for past uncertainty: a major update of the
  bayesTFR R package. Journal of Statistical Software (2023); arXiv:2207.06593 (the annual
  model's autoregressive term).
- Fosdick, B. K. & Raftery, A. E. (2014). Regional probabilistic fertility forecasting by
  modeling between-country correlations. Demographic Research 30(35), 1011-1034.
- Raftery, A. E., Chunn, J. L., Gerland, P. & Sevcikova, H. (2013). Bayesian probabilistic
  projections of life expectancy for all countries. Demography 50(3), 777-801.
- Lee, R. D. & Carter, L. R. (1992). Modeling and forecasting U.S. mortality. JASA 87(419),
  659-671.
- Alho, J. M. & Spencer, B. D. (2005). Statistical Demography and Forecasting. Springer
  (ch. 7: the scaled model of error).
- Azose, J. J. & Raftery, A. E. (2015). Bayesian probabilistic projection of international
  migration. Demography 52(5), 1627-1650.
- Lange, K. L., Little, R. J. A. & Taylor, J. M. G. (1989). Robust statistical modeling using
  the t distribution. JASA 84(408), 881-896 (maximum likelihood of a t's degrees of freedom
  with its scale).
- Marsaglia, G. & Tsang, W. W. (2000). A simple method for generating gamma variables. ACM
  Transactions on Mathematical Software 26(3), 363-372 (the engine's ``chi_square``).
- Shah, A., Wilson, A. G. & Ghahramani, Z. (2014). Student-t processes as alternatives to
  Gaussian processes. AISTATS 2014, PMLR 33, 877-885.
- United Nations, DESA, Population Division (2022). World Population Prospects 2022 (CC BY 3.0
  IGO): probabilistic projections (80 % and 95 % intervals) and net migration estimates.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import engine

if TYPE_CHECKING:
    from ._demography_rates import Parts

DATA = Path(__file__).resolve().parent / "data"
#: Years at which the spreads of the TFR and e0 are given (``demography_uncertainty.csv``).
KNOTS = (2022, 2030, 2040, 2050, 2060, 2070, 2080, 2090, 2100)
#: The largest sd of the TFR (births per woman) a backtest's past errors may give.
TFR_SD_MOST = 3.0
#: A backtest's knots, in years after its jump-off.
BACKTEST_KNOT_OFFSETS = (0, 1, 2, 5, 10, 15, 20, 25, 50)
#: bayesTFR's phase-III AR(1) persistence, per five-year period (Raftery, Alkema & Gerland 2014;
#: bayesTFR's constant phase-III parameters are mu = 2.1, rho = 0.8859, ``tfr.predict``'s
#: defaults: 0.9 is that, rounded), for the locations in phase III at the start; phase II's
#: deviations are a random walk (``tfr_deviation``). With 0.9 for every location, the 2100
#: population intervals of Middle and Northern Africa, still in phase II, were 0.74-0.78 of
#: WPP's (tests/models/test_demography_uncertainty.py).
TFR_PERSISTENCE_5Y = 0.9
TFR_PERSISTENCE = TFR_PERSISTENCE_5Y**0.2
#: Correlation of locations' TFR deviations: the build script's value between countries (Fosdick
#: & Raftery 2014 via bayesTFR's ``tfr.correlation``: 0.2 for two non-neighbouring countries of
#: one UN region at TFR < 5, 0.46 for neighbours, 0.07-0.13 at TFR >= 5), kept between
#: locations.
REGION_TFR_CORRELATION = 0.2
#: Correlation of locations' e0 deviations: none, as bayesLife's countries (Raftery et al. 2013).
REGION_E0_CORRELATION = 0.0
#: The correlations' priors: uniform over Fosdick & Raftery's order of magnitude.
CORRELATION_RANGE = (0.1, 0.3)
#: The TFR's quantile bands of ``demography_uncertainty.csv`` (distances from the median).
TFR_BANDS = ("lower95", "lower80", "upper80", "upper95")
#: A standard normal's 90th and 97.5th percentiles.
Z80 = 1.2815515655446004
Z95 = 1.959963984540054
#: Half-width of the finite difference of e0 in the log hazards.
LOG_STEP = 0.05
SCALARS = ("migration_rate_sd", "migration_persistence", "migration_kurtosis", "migration_tail_dof")
#: The degrees of freedom of the migration shocks' Student t: a backtest's fit within these
#: (the build script's, from the kurtosis, are within 5..30).
TAIL_DOF_RANGE = (1.0, 30.0)
#: A standard normal's median absolute value (its third quartile).
NORMAL_MAD = 0.6744897501960817


@cache
def _table() -> dict[str, dict[str, float]]:
    with open(DATA / "demography_uncertainty.csv", newline="") as f:
        return {
            row["location"]: {c: float(v or "nan") for c, v in row.items() if c != "location"}
            for row in csv.DictReader(f)
        }


def spreads(locations: list[str], columns: list[str]) -> np.ndarray:
    """Columns of ``demography_uncertainty.csv`` for ``locations`` (0 where WPP has none),
    shape (location, column)."""
    table = _table()
    missing = [x for x in locations if x not in table]
    if missing:
        raise engine.SpecError(
            f"demography uncertainty: no spreads for {missing}; rebuild "
            "models/data/demography_uncertainty.csv (models/data/build_uncertainty.py)"
        )
    return np.nan_to_num(np.array([[table[x][c] for c in columns] for x in locations]), nan=0.0)


def knot_years(p: Parts) -> np.ndarray:
    """The years of the spreads' knots: ``KNOTS``, or a backtest's after its jump-off."""
    if p.jump_off is None:
        return np.array(KNOTS, dtype=float)
    return float(p.jump_off) + np.array(BACKTEST_KNOT_OFFSETS, dtype=float)


def _past(p: Parts, what: str) -> np.ndarray:
    """A backtest's spreads from what was known at its jump-off: ``tfr_sd``, ``e0_sd`` or
    ``migration_sd`` (location, knot), or ``migration`` (location, ``SCALARS``)."""
    from . import _uncertainty_history as past

    assert p.jump_off is not None
    offsets = np.array(BACKTEST_KNOT_OFFSETS)
    if what == "tfr_sd":  # within the parameter's bounds: the TFR is cut at 0 anyway
        sd = np.array([past.tfr_sd(x, p.jump_off, offsets) for x in p.locations])
        return np.minimum(sd, TFR_SD_MOST)  # type: ignore[no-any-return]
    if what == "e0_sd":
        return np.array([past.e0_sd(x, p.jump_off, offsets) for x in p.locations])
    if what == "migration_sd":
        # never below the method's error pooled over the locations (Alho & Spencer 2005)
        own = np.array([past.migration_sd(x, p.jump_off, offsets) for x in p.locations])
        pooled = past.pooled_migration_sd(list(p.locations), p.jump_off, offsets)
        return np.maximum(own, pooled[None, :])  # type: ignore[no-any-return]
    # the tails of the rule's errors, pooled over the locations as their spread's floor
    dof = past.pooled_migration_tail_dof(list(p.locations), p.jump_off, *TAIL_DOF_RANGE)
    rows = []
    for x in p.locations:
        # the shock is the rule's error: its persistence, not the rate's about its mean
        sd, _, kurt = past.migration_ar1(x, p.jump_off)
        rho = past.migration_error_persistence(x, p.jump_off)
        rows.append([sd, rho, kurt, dof])
    return np.nan_to_num(np.array(rows))


def add_knots(p: Parts) -> None:
    """The knots of the spreads' paths and their interpolation weights at the save time."""
    from ._demography_rates import _hat, _knot_params, ensure_dim

    knots = knot_years(p)
    ensure_dim(p.model, "uncertainty_knot", [f"{k:g}" for k in knots])
    _knot_params(p.param, "uncertainty_knot", knots, "the spreads of the TFR and e0")
    p.aux(
        "uncertainty_knot_weight",
        _hat("uncertainty_knot", "time", knots),
        ("uncertainty_knot",),
        units="1",
        doc="Linear-interpolation weight of each knot of the spreads.",
    )


def _correlated(p: Parts, name: str, process: str, correlation: str, what: str) -> str:
    """A standardised process shared by the locations plus each location's own, mixed so that
    locations correlate at ``correlation``; returns the mixed expression."""
    r = p.r
    p.aux(f"{name}_common", process, units="1", doc=f"Standardised {what} the locations share.")
    p.aux(f"{name}_own", process, (r,), units="1", doc=f"Each location's own standardised {what}.")
    return f"(sqrt({correlation}) * {name}_common + sqrt(1 - {correlation}) * {name}_own[{r}])"


def tfr_phase_two(p: Parts) -> np.ndarray:
    """1.0 for each location in phase II of the fertility transition at the start (its TFR to
    the jump-off, or to the base year, by :func:`models.vital_rates.tfr_phase`), else 0.0."""
    from . import vital_rates, wpp

    last = p.jump_off if p.jump_off is not None else p.base_year
    years = np.arange(wpp.FIRST_YEAR, last + 1)
    return np.array(
        [
            float(vital_rates.tfr_phase(wpp.annual(x, "tfr", wpp.FIRST_YEAR, last), years) == 2)
            for x in p.locations
        ]
    )


def tfr_deviation(p: Parts) -> str:
    """Declare the TFR's stochastic deviation; return the term the TFR adds."""
    r = p.r
    if "uncertainty_knot" not in p.model.dims:
        add_knots(p)
    if p.jump_off is None:
        from ._demography_rates import ensure_dim

        ensure_dim(p.model, "tfr_bound", list(TFR_BANDS))
        columns = [f"tfr_{band}_{y}" for y in KNOTS for band in TFR_BANDS]
        bands = spreads(p.locations, columns).reshape(len(p.locations), len(KNOTS), -1)
        p.param(
            "tfr_band",
            bands,
            (r, "uncertainty_knot", "tfr_bound"),
            units="1",
            bounds=(0, 10),
            doc="Distances from WPP's median TFR to the bounds of its 80 % and 95 % intervals at "
            "the knots (bayesTFR via WPP 2022; lower ones positive).",
        )
    else:
        p.param(
            "tfr_sd",
            _past(p, "tfr_sd"),
            (r, "uncertainty_knot"),
            units="1",
            bounds=(0, 3),
            doc="Sd of the TFR around the backtest's path at the knots (its rule's past errors).",
        )
    p.param(
        "tfr_persistence",
        TFR_PERSISTENCE,
        units="1",
        bounds=(0, 1),
        doc="Lag-one-year autocorrelation of the TFR deviation in phase III (bayesTFR, 0.9 per "
        "five years).",
    )
    p.param(
        "tfr_region_correlation",
        REGION_TFR_CORRELATION,
        units="1",
        bounds=(0, 1),
        prior=("uniform", *CORRELATION_RANGE),
        doc="Correlation of the locations' TFR deviations (Fosdick & Raftery 2014: 0.1-0.3).",
    )
    p.param(
        "tfr_phase_two",
        tfr_phase_two(p),
        (r,),
        units="1",
        bounds=(0, 1),
        doc="1 where the location is in phase II of the fertility transition at the start "
        "(bayesTFR's rule): its TFR deviation is a random walk, else phase III's AR(1).",
    )
    stationary = _correlated(
        p,
        "tfr_shock",
        "ar1(0, 1, tfr_persistence, standard_normal())",
        "tfr_region_correlation",
        "stationary AR(1) deviation of the TFR",
    )
    walk = _correlated(
        p,
        "tfr_walk",
        "random_walk(1)",
        "tfr_region_correlation",
        "random walk of the TFR (phase II)",
    )
    p.aux(
        "tfr_standard",
        f"tfr_phase_two[{r}] * {walk} / sqrt(max(time - improvement_from, one_year) / one_year)"
        f" + (1 - tfr_phase_two[{r}]) * {stationary}",
        (r,),
        units="1",
        doc="The TFR's deviation standardised: a standard normal at every time.",
    )
    if p.jump_off is None:
        p.aux(
            "tfr_band_now",
            f"sum(tfr_band[{r}, uncertainty_knot, tfr_bound] * uncertainty_knot_weight"
            "[uncertainty_knot], 'uncertainty_knot')",
            (r, "tfr_bound"),
            units="1",
            doc="Distances from the median TFR to its quantile bands at the time.",
        )

        def side(z: str, inner: str, outer: str) -> str:
            # through (0, 0), (Z80, inner) and (Z95, outer), linear beyond
            near, far = f"tfr_band_now[{r}, '{inner}']", f"tfr_band_now[{r}, '{outer}']"
            return (
                f"if_then_else({z} <= {Z80!r}, {z} / {Z80!r} * {near}, {near} + ({z} - {Z80!r})"
                f" * ({far} - {near}) / {Z95 - Z80!r})"
            )

        z = f"tfr_standard[{r}]"
        deviation = (
            f"if_then_else({z} >= 0, {side(z, 'upper80', 'upper95')}, "
            f"-({side(f'(-{z})', 'lower80', 'lower95')}))"
        )
    else:
        deviation = (
            f"sum(tfr_sd[{r}, uncertainty_knot] * uncertainty_knot_weight[uncertainty_knot], "
            f"'uncertainty_knot') * tfr_standard[{r}]"
        )
    p.aux(
        "tfr_deviation",
        deviation,
        (r,),
        units="1",
        doc="Deviation of the TFR from WPP's medium path (births per woman): the standard "
        "normal through the TFR's quantiles (a backtest: times its sd).",
    )
    return f" + tfr_deviation[{r}]"


def log_hazard_sd(p: Parts) -> np.ndarray:
    """(location, knot): the sd of a shift of all log hazards giving the knots' e0 sd, through
    each location's life table of that year (its e0's slope in the log hazards)."""
    from . import life_tables

    years = knot_years(p)
    hazard = p.paths.hazard(years)  # (R, 2, T, 101)
    slope = np.zeros(hazard.shape[0:1] + hazard.shape[2:3])
    for s, sex in enumerate(("female", "male")):
        low = life_tables.life_expectancy(hazard[:, s] * np.exp(-LOG_STEP), sex)
        high = life_tables.life_expectancy(hazard[:, s] * np.exp(LOG_STEP), sex)
        slope += 0.5 * (low - high) / (2 * LOG_STEP)
    if p.jump_off is None:
        e0_sd = spreads(p.locations, [f"e0_sd_{y}" for y in KNOTS])
    else:
        e0_sd = _past(p, "e0_sd")
    return e0_sd / slope  # type: ignore[no-any-return]


def mortality_deviation(p: Parts) -> str:
    """Declare the log hazards' stochastic deviation; return the term the level adds."""
    r = p.r
    if "uncertainty_knot" not in p.model.dims:
        add_knots(p)
    p.param(
        "log_hazard_sd",
        log_hazard_sd(p),
        (r, "uncertainty_knot"),
        units="1",
        bounds=(0, 5),
        doc="Sd of the shift of all log hazards giving bayesLife's e0 sd (WPP 2022) at the knots.",
    )
    p.param(
        "e0_region_correlation",
        REGION_E0_CORRELATION,
        units="1",
        bounds=(0, 1),
        doc="Correlation of the locations' e0 deviations (bayesLife's are independent).",
    )
    mixed = _correlated(
        p,
        "mortality_walk",
        "random_walk(1)",
        "e0_region_correlation",
        "random walk of the log hazards",
    )
    p.aux(
        "mortality_deviation",
        f"sum(log_hazard_sd[{r}, uncertainty_knot] * uncertainty_knot_weight[uncertainty_knot], "
        f"'uncertainty_knot') * {mixed} / sqrt(max(time - improvement_from, one_year) / one_year)",
        (r,),
        units="1",
        doc="Shift of all log hazards (a random walk scaled to bayesLife's e0 spread).",
    )
    return f" + mortality_deviation[{r}]"


def migration_shock(p: Parts) -> str:
    """Declare the net migration rate's shock; return the term net migration adds."""
    r = p.r
    values = spreads(p.locations, list(SCALARS)) if p.jump_off is None else _past(p, "migration")
    p.param(
        "migration_rate_sd",
        values[:, 0],
        (r,),
        units="1/year",
        bounds=(0, 1),
        doc="Stationary sd of the net migration rate (AR(1) of WPP 1950-2021 estimates).",
    )
    p.param(
        "migration_persistence",
        values[:, 1],
        (r,),
        units="1",
        bounds=(0, 1),
        doc="Lag-one-year autocorrelation of the net migration rate (WPP 1950-2021).",
    )
    p.param(
        "migration_tail_dof",
        values[:, 3],
        (r,),
        units="1",
        bounds=TAIL_DOF_RANGE,
        doc="Degrees of freedom of the Student t of the migration shocks (WPP's AR(1): its "
        "kurtosis; a backtest: fitted to its rule's past errors pooled over the locations).",
    )
    if p.jump_off is None:
        # WPP's spread is the AR(1)'s sd: the t of unit variance, sqrt((nu - 2) / chi2)
        scale = (
            f"sqrt((migration_tail_dof[{r}] - 2) / initial(chi_square(migration_tail_dof[{r}])))"
        )
        what = "of unit variance"
    else:
        # a backtest's spread is a robust sd (1.4826 times a median absolute error): the t with
        # that median absolute value, sqrt(nu / chi2) times a normal's over the t's quartile
        from scipy import stats

        p.param(
            "migration_tail_mad",
            NORMAL_MAD / stats.t.ppf(0.75, values[:, 3]),
            (r,),
            units="1",
            bounds=(0, 1),
            doc="A standard normal's median absolute value over the Student t's of the "
            "migration shocks: the t's scale that keeps the spread's median absolute error.",
        )
        scale = (
            f"migration_tail_mad[{r}] * sqrt(migration_tail_dof[{r}] / "
            f"initial(chi_square(migration_tail_dof[{r}])))"
        )
        what = "with the median absolute value of the spread"
    p.aux(
        "migration_tail_scale",
        scale,
        (r,),
        units="1",
        doc="A member's scale of its migration shocks, drawn once: the shocks are a Student-t "
        f"process (Shah, Wilson & Ghahramani 2014) {what}.",
    )
    if p.jump_off is None:
        p.aux(
            "migration_rate_shock",
            f"ar1(0, migration_rate_sd[{r}], migration_persistence[{r}], 0) * "
            f"migration_tail_scale[{r}]",
            (r,),
            units="1/year",
            doc="Deviation of the net migration rate from WPP's path (net migrants per resident).",
        )
    else:
        # a backtest: its rule's past errors by horizon times a stationary AR(1)
        p.param(
            "migration_rate_error_sd",
            _past(p, "migration_sd"),
            (r, "uncertainty_knot"),
            units="1/year",
            bounds=(0, 1),
            doc="Sd of the net migration rate's error by horizon (the rule's past errors).",
        )
        p.aux(
            "migration_rate_shock",
            f"sum(migration_rate_error_sd[{r}, uncertainty_knot] * uncertainty_knot_weight"
            f"[uncertainty_knot], 'uncertainty_knot') * ar1(0, 1, migration_persistence[{r}], "
            f"standard_normal()) * migration_tail_scale[{r}]",
            (r,),
            units="1/year",
            doc="Deviation of the net migration rate from the backtest's held mean.",
        )
    return f" + migration_rate_shock[{r}] * total_population[{r}]"
