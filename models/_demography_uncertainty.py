"""The demography model's uncertainty: shocks to fertility and net migration, a drift of mortality.

Private to :mod:`models.demography`; declared only by ``build(..., uncertainty=True)`` (or
``add_to(..., uncertainty=True)``), so the deterministic model and its content hash are
unchanged without it. Every spread comes from ``models/data/demography_uncertainty.csv``,
written by ``models/data/build_uncertainty.py`` from WPP 2022 (its docstring tells how):

- **Fertility** (bayesTFR: Alkema et al. 2011; Raftery, Alkema & Gerland 2014): the TFR is WPP's
  medium path plus an AR(1) deviation that starts at zero in the base year, with the phase-III
  persistence 0.9 per five-year period (``TFR_PERSISTENCE``, 0.9 ** (1/5) a year) and the
  location's stationary standard deviation ``tfr_sd`` (its countries' bayesTFR spreads as
  published by WPP 2022, aggregated with correlated errors). Locations' deviations correlate
  (Fosdick & Raftery 2014): a common AR(1) factor and each location's own,
  ``sd * (sqrt(k) common + sqrt(1 - k) own)``, correlation ``k = REGION_TFR_CORRELATION``.
- **Mortality** (Lee & Carter 1992; Lee & Miller 2001): each location's own shift of the yearly
  decline of its log death rates (``mortality_improvement_shift``, per element, normal with sd
  0.4 % a year), the locations' shifts rank-correlated ``REGION_MORTALITY_CORRELATION``. Life
  expectancy gains are uncertain through it (bayesLife's spread, Raftery et al. 2013, is what
  the calibration tests compare with).
- **Net migration**: an AR(1) deviation of the net migration rate (net migrants per resident a
  year) with the persistence and stationary spread of the location's WPP 1950-2021 estimates
  (``migration_rate_sd``, ``migration_persistence``), times the population; independent across
  locations (WPP's regional net migration series are not modelled jointly here).

Sources
-------
- Alkema, L., Raftery, A. E., Gerland, P., Clark, S. J., Pelletier, F., Buettner, T. & Heilig,
  G. K. (2011). Probabilistic projections of the total fertility rate for all countries.
  Demography 48(3), 815-839.
- Raftery, A. E., Alkema, L. & Gerland, P. (2014). Bayesian population projections for the
  United Nations. Statistical Science 29(1), 58-68.
- Fosdick, B. K. & Raftery, A. E. (2014). Regional probabilistic fertility forecasting by
  modeling between-country correlations. Demographic Research 30(35), 1011-1034.
- Raftery, A. E., Chunn, J. L., Gerland, P. & Sevcikova, H. (2013). Bayesian probabilistic
  projections of life expectancy for all countries. Demography 50(3), 777-801.
- Lee, R. D. & Miller, T. (2001). Evaluating the performance of the Lee-Carter method for
  forecasting mortality. Demography 38(4), 537-549.
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
#: bayesTFR's phase-III AR(1) persistence, per five-year period (Raftery, Alkema & Gerland 2014)
TFR_PERSISTENCE_5Y = 0.9
TFR_PERSISTENCE = TFR_PERSISTENCE_5Y**0.2
#: Correlation of locations' TFR deviations (Fosdick & Raftery 2014: of the order of 0.1-0.3).
REGION_TFR_CORRELATION = 0.2
#: Rank correlation of locations' mortality drifts (the same order as fertility's).
REGION_MORTALITY_CORRELATION = 0.2
COLUMNS = ("tfr_sd", "e0_sd", "migration_rate_sd", "migration_persistence", "migration_kurtosis")


@cache
def _table() -> dict[str, dict[str, float]]:
    with open(DATA / "demography_uncertainty.csv", newline="") as f:
        return {
            row["location"]: {c: float(row[c] or "nan") for c in COLUMNS}
            for row in csv.DictReader(f)
        }


def spreads(locations: list[str], column: str) -> np.ndarray:
    """The column of ``demography_uncertainty.csv`` for ``locations`` (0 where WPP has none)."""
    table = _table()
    missing = [x for x in locations if x not in table]
    if missing:
        raise engine.SpecError(
            f"demography uncertainty: no spreads for {missing}; rebuild "
            "models/data/demography_uncertainty.csv (models/data/build_uncertainty.py)"
        )
    return np.nan_to_num(np.array([table[x][column] for x in locations]), nan=0.0)


def tfr_deviation(p: Parts) -> str:
    """Declare the TFR's stochastic deviation; return the term the TFR adds."""
    r = p.r
    p.param(
        "tfr_sd",
        spreads(p.locations, "tfr_sd"),
        (r,),
        units="1",
        bounds=(0, 3),
        doc="Stationary sd of the TFR around WPP's medium (bayesTFR via WPP 2022).",
    )
    p.param(
        "tfr_persistence",
        TFR_PERSISTENCE,
        units="1",
        bounds=(0, 1),
        doc="Lag-one-year autocorrelation of the TFR deviation (bayesTFR phase III, 0.9 per "
        "five years).",
    )
    p.param(
        "tfr_region_correlation",
        REGION_TFR_CORRELATION,
        units="1",
        bounds=(0, 1),
        doc="Correlation of the locations' TFR deviations (Fosdick & Raftery 2014).",
    )
    p.aux(
        "tfr_common_shock",
        "ar1(0, 1, tfr_persistence, 0)",
        units="1",
        doc="Standardised AR(1) deviation the locations' TFRs share.",
    )
    p.aux(
        "tfr_own_shock",
        "ar1(0, 1, tfr_persistence, 0)",
        (r,),
        units="1",
        doc="Standardised AR(1) deviation of each location's own TFR.",
    )
    p.aux(
        "tfr_deviation",
        f"tfr_sd[{r}] * (sqrt(tfr_region_correlation) * tfr_common_shock + "
        f"sqrt(1 - tfr_region_correlation) * tfr_own_shock[{r}])",
        (r,),
        units="1",
        doc="Deviation of the TFR from WPP's medium path (births per woman).",
    )
    return f" + tfr_deviation[{r}]"


def mortality_prior_options() -> dict[str, object]:
    """Extra options of ``mortality_improvement_shift``: one drift per location."""
    return {"prior_per_element": True, "prior_correlation": REGION_MORTALITY_CORRELATION}


def migration_shock(p: Parts) -> str:
    """Declare the net migration rate's shock; return the term net migration adds."""
    r = p.r
    p.param(
        "migration_rate_sd",
        spreads(p.locations, "migration_rate_sd"),
        (r,),
        units="1/year",
        bounds=(0, 1),
        doc="Stationary sd of the net migration rate (AR(1) of WPP 1950-2021 estimates).",
    )
    p.param(
        "migration_persistence",
        spreads(p.locations, "migration_persistence"),
        (r,),
        units="1",
        bounds=(0, 1),
        doc="Lag-one-year autocorrelation of the net migration rate (WPP 1950-2021).",
    )
    p.aux(
        "migration_rate_shock",
        f"ar1(0, migration_rate_sd[{r}], migration_persistence[{r}], 0)",
        (r,),
        units="1/year",
        doc="Deviation of the net migration rate from WPP's path (net migrants per resident).",
    )
    return f" + migration_rate_shock[{r}] * total_population[{r}]"
