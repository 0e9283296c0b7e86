"""Build the demography model's uncertainty tables from WPP 2022's probabilistic projections.

Usage (from the repository root; reads ``../shared/data/wpp2022/``)::

    python models/data/build_uncertainty.py     # --shared DIR, --out DIR

Outputs (see README.md), gzip timestamps zero so a rerun is byte-identical:

- ``wpp2022_intervals.csv.gz``: WPP 2022's 80 % and 95 % intervals (and median, where WPP
  publishes one) of total population, total fertility and life expectancy at birth (both
  sexes) for every location, in 2030, 2050, 2075 and 2100. Read by the calibration tests.
- ``demography_uncertainty.csv``: per location, the spread of its TFR and e0 deviations and the
  spread, persistence and tails of its net migration rate:

  * ``tfr_sd_YYYY`` (YYYY in ``KNOTS``): the standard deviation of the location's TFR around
    the medium variant in that year: that of bayesTFR's projection *of that location* as WPP
    2022 publishes it (its 80 % interval over 2 x 1.2816; Alkema et al. 2011, Raftery, Alkema &
    Gerland 2014), for a country and for an aggregate alike. WPP's interval of an aggregate
    (a subregion, a region, Sub-Saharan Africa...) is that of the aggregate's own TFR over
    bayesPop's trajectories, whose countries' TFRs are correlated as Fosdick & Raftery (2014)
    estimate pair by pair (0.46 for neighbours, 0.2 for other pairs of one region at TFR < 5,
    0.07-0.13 above 5): the aggregate's spread bayesTFR estimates. Only a location without a
    published interval of its own takes its countries' (weighted by their births of 2022,
    correlation ``TFR_CORRELATION`` for every pair: ``var = k (sum w_i s_i)^2 + (1 - k) sum
    (w_i s_i)^2``); today every location with data has its own. (With that aggregation for
    every aggregate, the TFR 80 % intervals of 2100 were 0.70-0.80 of WPP's for Northern,
    Eastern and Middle Africa, Central and Southern Asia, the Caribbean and Polynesia, and Middle
    Africa's population 95 % interval of 2100 0.71 of WPP's: one correlation for all pairs is
    below that of neighbours.)
  * ``tfr_lower95_YYYY``, ``tfr_lower80_YYYY``, ``tfr_upper80_YYYY``, ``tfr_upper95_YYYY``:
    the distances from the location's median TFR (WPP's medium variant, ``tfrprojMed``) to
    the bounds of its published 80 % and 95 % intervals, lower ones positive: bayesTFR's
    projection is skewed where fertility is high (the decline may stall; Middle Africa's 95 %
    interval of 2100 reaches 3.3 times as far above the median as below it), which one sd
    cannot carry. The model maps a standard normal deviation through them (the TFR's
    quantiles; :func:`models._demography_uncertainty.tfr_deviation`). A location without
    its own interval: +-1.2816 and +-1.96 times ``tfr_sd``.
  * ``e0_sd_YYYY``: the same for life expectancy at birth, both sexes (bayesLife, Raftery et
    al. 2013): the location's own published interval; else its countries', weighted by
    population, correlation ``E0_CORRELATION`` (the Caribbean's e0 80 % interval of 2100 was
    0.69 of WPP's with it).
  * ``migration_rate_sd``, ``migration_persistence``, ``migration_kurtosis``: an AR(1) fitted by
    least squares to the location's net migration rate (net migrants per resident a year) of
    WPP 2022's estimates 1950-2021: the stationary standard deviation, the lag-one
    autocorrelation and the excess kurtosis of the innovations (crises: wars, refugee flows);
    ``migration_tail_dof``: the degrees of freedom of the Student t of that kurtosis
    (6 / (nu - 4), Lange, Little & Taylor 1989 for t-distributed errors), within 5..30.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data" / "wpp2022"
YEARS = (2030, 2050, 2075, 2100)
Z80 = 1.2815515655446004  # standard normal 90th percentile
Z95 = 1.959963984540054  # standard normal 97.5th percentile
#: The TFR's quantile bands: (name, WPP file of the bound, sign, the normal's quantile).
TFR_BANDS = (
    ("lower95", "tfrproj95l", -1.0, Z95),
    ("lower80", "tfrproj80l", -1.0, Z80),
    ("upper80", "tfrproj80u", 1.0, Z80),
    ("upper95", "tfrproj95u", 1.0, Z95),
)
#: Correlation of countries' TFR forecast errors. Fosdick & Raftery (2014) model it as linear in
#: three indicators of a pair (bayesTFR's ``tfr.correlation``, ``data/correlation_predictors``):
#: 0.11 + 0.26 contiguity + 0.05 common colonizer + 0.09 same UN region while the TFR is below
#: 5, and 0.05 + 0.06 + 0.00 + 0.02 at 5 and above. 0.2 is its value for two countries of one
#: region that neither border each other nor shared a colonizer at TFR < 5 (checked 2026-12-02);
#: neighbours have 0.46, pairs above 5 (Middle and Western Africa today) 0.07-0.13. One value
#: for every pair here.
TFR_CORRELATION = 0.2
#: bayesLife projects each country's e0 independently given the world-level parameters
#: (Raftery et al. 2013; WPP 2022 aggregates those trajectories), so countries' e0 deviations
#: are uncorrelated here. (With 0.2, the e0 80 % intervals of Europe and Sub-Saharan Africa were
#: 1.6 times WPP's in the ensemble of tests/models/test_demography_uncertainty.py.)
E0_CORRELATION = 0.0
MIGRATION_YEARS = (1950, 2021)
#: Years at which the TFR's and e0's spreads are given (linear in between).
KNOTS = (2022, 2030, 2040, 2050, 2060, 2070, 2080, 2090, 2100)


def read_wpp(shared: Path, name: str) -> pd.DataFrame:
    """One tab-separated WPP file indexed by ``country_code`` (UTF-8 or Latin-1)."""
    raw = (shared / f"{name}.txt").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return pd.read_csv(io.StringIO(text), sep="\t").set_index("country_code")


def intervals(shared: Path) -> pd.DataFrame:
    rows = []
    for variable, stem, median in (
        ("population", "popproj", "popprojMed"),
        ("tfr", "tfrproj", "tfrprojMed"),
        ("e0", "e0Bproj", None),
    ):
        parts = {q: read_wpp(shared, f"{stem}{q}") for q in ("80l", "80u", "95l", "95u")}
        med = read_wpp(shared, median) if median else None
        for code, row in parts["80l"].iterrows():
            for year in YEARS:
                y = str(year)
                rows.append(
                    {
                        "location_code": int(code),
                        "location": row["country"],
                        "variable": variable,
                        "year": year,
                        "median": float(med.loc[code, y]) if med is not None else np.nan,
                        "lower80": float(parts["80l"].loc[code, y]),
                        "upper80": float(parts["80u"].loc[code, y]),
                        "lower95": float(parts["95l"].loc[code, y]),
                        "upper95": float(parts["95u"].loc[code, y]),
                    }
                )
    return pd.DataFrame(rows)


def band_distance(
    median: pd.DataFrame, bound: pd.DataFrame, code: int, year: int, sign: float, normal: float
) -> float:
    """The distance from the location's median to a bound of its published interval in
    ``year`` (``sign`` -1 for a lower bound), or ``normal`` where WPP publishes none."""
    y = str(year)
    if code in median.index and code in bound.index:
        distance = sign * (float(bound.loc[code, y]) - float(median.loc[code, y]))
        if np.isfinite(distance):
            return max(distance, 0.0)
    return normal


def location_sd(sd: pd.Series, weight: pd.Series, code: int, members: list[int], k: float) -> float:
    """The location's own sd where WPP publishes an interval for it (countries and WPP's
    aggregates alike), else its members' correlated aggregation (:func:`aggregate_sd`)."""
    own = sd.get(code, float("nan"))
    if np.isfinite(own):
        return float(own)
    return aggregate_sd(sd, weight, members, k)


def aggregate_sd(sd: pd.Series, weight: pd.Series, members: list[int], k: float) -> float:
    """The sd of a weighted mean of the members' deviations, pairwise correlation ``k``."""
    codes = [c for c in members if c in sd.index and c in weight.index and weight[c] > 0]
    if not codes:
        return float("nan")
    w = weight[codes] / weight[codes].sum()
    ws = (w * sd[codes]).to_numpy()
    return float(np.sqrt(k * ws.sum() ** 2 + (1 - k) * (ws**2).sum()))


def migration_ar1(rate: np.ndarray) -> tuple[float, float, float]:
    """Least-squares AR(1) of a yearly series: stationary sd, persistence, excess kurtosis."""
    x, y = rate[:-1], rate[1:]
    design = np.column_stack([np.ones_like(x), x])
    (a, rho), *_ = np.linalg.lstsq(design, y, rcond=None)
    rho = float(np.clip(rho, 0.0, 0.99))
    e = y - (y.mean() - rho * x.mean()) - rho * x
    sd_e = float(e.std(ddof=2))
    kurt = float(((e - e.mean()) ** 4).mean() / e.var() ** 2 - 3) if sd_e > 0 else 0.0
    return sd_e / np.sqrt(1 - rho**2), rho, kurt


def uncertainty_table(shared: Path) -> pd.DataFrame:
    locations = pd.read_csv(HERE / "wpp2022_location_index.csv")
    groups = member_countries(locations)
    tfr_l, tfr_u = read_wpp(shared, "tfrproj80l"), read_wpp(shared, "tfrproj80u")
    e0_l, e0_u = read_wpp(shared, "e0Bproj80l"), read_wpp(shared, "e0Bproj80u")
    tfr_median = read_wpp(shared, "tfrprojMed")
    tfr_bounds = {name: read_wpp(shared, stem) for name, stem, _, _ in TFR_BANDS}
    births = read_wpp(shared, "birthsprojMed")["2022"]
    population = read_wpp(shared, "popprojMed")["2022"]
    rows = []
    for _, loc in locations.iterrows():
        code = int(loc["location_code"])
        group = groups.get(code, [code])
        try:
            m_sd, m_rho, m_kurt = migration_ar1(net_migration_rate(loc["location"]))
        except (KeyError, ValueError):
            m_sd = m_rho = m_kurt = float("nan")
        tfr_sd = {
            y: location_sd(spread(tfr_l, tfr_u, y), births, code, group, TFR_CORRELATION)
            for y in KNOTS
        }
        rows.append(
            {
                "location": loc["location"],
                "location_code": code,
                **{f"tfr_sd_{y}": round(tfr_sd[y], 6) for y in KNOTS},
                **{
                    f"tfr_{name}_{y}": round(
                        band_distance(tfr_median, tfr_bounds[name], code, y, sign, z * tfr_sd[y]),
                        6,
                    )
                    for name, _, sign, z in TFR_BANDS
                    for y in KNOTS
                },
                **{
                    f"e0_sd_{y}": round(
                        location_sd(spread(e0_l, e0_u, y), population, code, group, E0_CORRELATION),
                        6,
                    )
                    for y in KNOTS
                },
                "migration_rate_sd": round(m_sd, 8),
                "migration_persistence": round(m_rho, 6),
                "migration_kurtosis": round(m_kurt, 4),
                "migration_tail_dof": tail_dof(m_kurt),
            }
        )
    return pd.DataFrame(rows)


def spread(lower: pd.DataFrame, upper: pd.DataFrame, year: int) -> pd.Series:
    """Each location's sd in ``year`` from its 80 % interval (a normal's 2 x 1.2816 sd)."""
    return (upper[str(year)] - lower[str(year)]) / (2 * Z80)


def tail_dof(excess_kurtosis: float) -> int:
    """Degrees of freedom of the Student t with that excess kurtosis, 6 / (nu - 4), rounded
    and kept within 5..30 (30: close to normal; NaN or light tails give 30)."""
    if not np.isfinite(excess_kurtosis) or excess_kurtosis <= 6 / 26:
        return 30
    return int(np.clip(round(4 + 6 / excess_kurtosis), 5, 30))


def member_countries(locations: pd.DataFrame) -> dict[int, list[int]]:
    """{location code: its countries' codes}: a subregion's or region's countries, an
    aggregate's from ``wpp2022_aggregate_members.csv``, every country for the World."""
    countries = locations[locations["kind"] == "country"]
    groups = {int(c): [int(c)] for c in countries["location_code"]}
    groups[900] = [int(c) for c in countries["location_code"]]
    for column in ("subregion_code", "region_code"):
        for code, part in countries.groupby(column):
            groups[int(code)] = [int(c) for c in part["location_code"]]
    members = pd.read_csv(HERE / "wpp2022_aggregate_members.csv")
    for code, part in members.groupby("aggregate_code"):
        groups[int(code)] = [int(c) for c in part["country_code"]]
    return groups


def net_migration_rate(name: str) -> np.ndarray:
    """WPP 2022's net migrants per resident a year, 1950-2021 (thousands over persons)."""
    import sys

    sys.path.insert(0, str(HERE.parents[1]))
    from models import wpp

    first, last = MIGRATION_YEARS
    net = 1000.0 * wpp.annual(name, "net_migration", first, last)
    pop = np.array([wpp.population_groups(name, y).sum() for y in range(first, last + 1)])
    return net / pop


def write_gzip_csv(df: pd.DataFrame, path: Path) -> None:
    text = df.to_csv(index=False, float_format="%.6g", quoting=csv.QUOTE_MINIMAL)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    write_gzip_csv(intervals(args.shared), args.out / "wpp2022_intervals.csv.gz")
    uncertainty_table(args.shared).to_csv(args.out / "demography_uncertainty.csv", index=False)


if __name__ == "__main__":
    main()
