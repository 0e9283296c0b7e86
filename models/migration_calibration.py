"""Calibration of the migration system's base rates: 1990-2021 to the UN migrant stocks and WPP's
net migration, and the baseline from 2022 to WPP's medium variant.

Method (flows from stocks with demographic accounting, Abel 2013 and Abel & Sander 2014,
reconciled with WPP's net migration). For each origin-destination pair and each interval between
the UN's stock years (1990-1995, ..., 2010-2015, 2015-2019), one flow a year ``F >= 0``. A
pair's stock loses its migrants to death (the destination's mortality at the ages of a migrant
stock, :func:`models.migration_system.initial_migrant_stock`) and to return (``return_rate``);
with Euler steps of one year the stocks at the UN's years and each region's net migration
(first moves across its borders minus returns, in and out) are linear in the flows, so the
flows are one bounded linear least-squares problem (``scipy.optimize.lsq_linear``, BVLS) over

- every pair's stock at 1995, 2000, ..., 2019, error in units of ``STOCK_SIGMA`` (10 %) of the
  UN's figure or of ``STOCK_FLOOR`` (1 million) if that is larger;
- every region's net migration 1990-2021 in all, in units of ``NET_SIGMA`` (7.5 %) of WPP's
  figure (or of 1 million), and in each interval (shape only: ``NET_INTERVAL_SIGMA`` 100 %).

The sigmas are half of the acceptance tolerances of issue 14 (20 % on pairs above 1 million, 15
% on regions' net migration), the floor its threshold: both data are weighted by how closely
they are to be met, not tuned to pass. They cannot all be met: the two sources disagree. Net
migration 1990-2021 implied by the UN stocks alone (the first estimate, no WPP term) is, in
millions, Europe +27 against WPP's +40, Northern America +44 (+49), Southern Asia -30 (-42),
Sub-Saharan Africa -8 (-14), Western Asia +19 (+8), South-Eastern Asia -12 (-2): WPP's net
migration is partly a residual of its population estimates, and the UN's stocks leave out
unrecorded migrants; the fit shares the difference. From the data alone
(:func:`models.migrant_stock.net_migration_accounting`: the accounting identity at any
plausible age structure of the migrants' deaths) WPP's figure is more than 15 % outside what
the stocks allow in 7 of 14 regions, and in Sub-Saharan Africa and South-Eastern Asia even
with every pair above 1 million anywhere within 20 %: no fit that keeps the pairs below 1
million near the UN's meets both lines. Migrants of unknown origin (11.4 million in 2019) are
not the difference: allocated over origins in proportion to the known ones (Abel &
Cohen 2019) they change a region's net migration 1990-2019 by at most 0.7 million (Europe
+0.66, Northern America -0.47, Southern Asia -0.58, Sub-Saharan Africa +0.22: at most 9 % of a
gap, two of the wrong sign; ``models/data/unknown_origin.py``), so the fit leaves them out
(the model counts them beside the pairs: ``unknown_origin_migrants`` of
:mod:`models.migration_system`, which changes no flow). Neither
migrants' deaths nor their returns reconcile them: with the stocks fixed, a region's net
migration is the change in its foreign-born stock plus their deaths minus the change in its
natives abroad plus theirs (returns cancel out), and older stocks die more on both sides (Europe
1990-2020: deaths of its foreign-born 11.5 million, of its natives abroad 6.1, with the fitted
age schedules; 10.7 and 8.3 with the typical one; WPP's +40 million would need a difference of
about 10). Fitted to the UN stocks alone, all 44 pairs above 1
million are within 4 % in 2019 (so the pairs' misses come from the WPP terms, not from the
1990 start) and 4 of 14 regions' net migration within 15 %. Under the fit's linear accounting
all the acceptance lines of issue 14 can be met at once only by inventing stocks in pairs
below the 1 million threshold (a linear programme that holds them as constraints puts 2 million
people born in Western Asia in South-Eastern Asia in 2019, where the UN counts 20,000): not a
fit to the data. Rates are the
flows per resident of the origin (WPP's population, mean of the interval): ``rate = F /
P_origin``, the form in which drivers will act as factors. The 2015-2019 flows hold to 2021.

The baseline from 2022 (the rates that drivers will multiply) is a second, smaller fit with the
past flows fixed: one flow a pair in 2022-2029, 2030-2049 and 2050-2100, each drawn to the
pair's 2015-2021 flow (``BASELINE_SIGMA`` 50 % of the pair's gross exchange then, first moves
plus returns, or of 10,000 a year: with 50 % of the first moves alone, a pair whose stock was
shrinking, such as Mexicans in Northern America in 2015-2019, was held to its small recent
flow against WPP's net migration, Mexico's 2022-2050 net migration 20 % short of WPP's in the
partition of three regions and the rest of the world) and fitted to WPP
2022's medium-variant net migration of every region in those intervals and in 2022-2049 in all
(``BASELINE_NET_SIGMA`` 10 %: half the issue's 20 % tolerance). So the baseline keeps the
recent pattern of who goes where, scaled as WPP's medium variant scales each region's net
migration (WPP's own assumption: UN DESA 2022, Methodology report, UN DESA/POP/2022/TR/NO. 4);
its agreement with WPP from 2022 is that of a fit, not a forecast.

The loss rates of the first fit are the destination's death rates at the ages of a migrant
stock in the middle of each interval, plus ``return_rate``; the fit is then made again
(``ITERATIONS`` = 2 times) with each pair's loss rate and each origin's population over each
interval as the model simulates them with the rates of the fit before, so that the linear
accounting is the model's own (with the first fit alone, the simulated net migration of
2022-2049 was up to half of WPP's figure away from the fitted one in Central Asia, South America
and Western Asia; after the refits every region's is within 10 % of WPP's).

The age schedules of the flows (each region's emigrants and returning natives,
:mod:`models.migration_ages`) are fitted within this calibration: the first fit and the first
refit use the typical Rogers-Castro schedule, the schedules are then fitted to WPP's net
migration by age with the rates of that refit, and the last refit (``ITERATIONS`` = 2 refits in
all) simulates the model with them; the loss rates of the first fit are those of a migrant
stock spread by the schedules (:func:`models.migration_system.initial_migrant_stock`).

The flows are net of moves the stocks cannot see (who came and left within an interval): the
*minimum* flows consistent with the stocks, as Abel & Sander's (2014).

The rates of the default partition are shipped in ``models/data/migration_system_rates.csv.gz``
(``origin, destination, first_year, last_year, rate``), with the age schedules'
parameters in ``models/data/migration_age_schedules.csv``, written by ``python -m
models.migration_calibration`` (about 6 minutes); another partition is fitted when its model
is built (:func:`rates`: seconds for a few regions, minutes for as many as the default's).

References
----------
- Abel, G. J. (2013). Estimating global migration flow tables using place of birth data.
  Demographic Research 28(18), 505-546.
- Abel, G. J. & Sander, N. (2014). Quantifying global international migration flows. Science
  343(6178), 1520-1522.
- UN DESA (2019). International Migrant Stock 2019 (:mod:`models.migrant_stock`).
- Abel, G. J. & Cohen, J. E. (2019). Bilateral international migration flow estimates for 200
  countries. Scientific Data 6, 82.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence

import numpy as np

from . import life_tables, migrant_stock, migration_ages, vital_rates, world_partition, wpp
from .world_partition import CORRIDOR_REGIONS, Derived, Partition

__all__ = [
    "fit_flows",
    "fit_baseline",
    "stock_flows",
    "rates",
    "calibrate",
    "write_rates",
    "RATES_FILE",
]

RATES_FILE = wpp.DATA / "migration_system_rates.csv.gz"
STOCK_YEARS = migrant_stock.YEARS
#: Bounds of the rates' intervals: 1990-1994, ..., 2010-2014, 2015-2021 (fitted to data), then
#: the baseline's 2022-2029, 2030-2049 and 2050-2100.
RATE_YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2022, 2030, 2050, 2101)
HISTORY = 6  # intervals to 2021
#: Net migration is compared over 1990-1994, ..., 2015-2018, 2019-2021, then 2022-2029,
#: 2030-2049 and 2050-2099 (the model's yearly steps; WPP calendar years).
NET_YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2019, 2022, 2030, 2050, 2100)
HISTORY_NET = 7
STOCK_SIGMA = 0.10  # of a pair's stock: half the 20 % tolerance
STOCK_FLOOR = 1.0e6  # persons: smaller pairs count as of 1 million (the checked threshold)
NET_SIGMA = 0.075  # of a region's net migration 1990-2021: half the 15 % tolerance
NET_INTERVAL_SIGMA = 1.0  # of each interval's net migration (the time shape only)
NET_FLOOR = 1.0e6  # persons
BASELINE_SIGMA = 0.5  # of a pair's 2015-2021 flow
BASELINE_FLOOR = 1.0e4  # persons a year
BASELINE_NET_SIGMA = 0.10  # of a region's net migration from 2022: half the 20 % tolerance
ITERATIONS = 2  # refits with the simulated loss rates and populations


def _loss_rates(
    part: Partition,
    paths: vital_rates.InputPaths,
    initial: np.ndarray,
    return_rate: float,
    age_schedules: np.ndarray | None = None,
) -> np.ndarray:
    """Yearly loss rate of each destination's migrant stock in each rate interval (D, K)."""
    from .migration_system import initial_migrant_stock

    stock = initial_migrant_stock(part, initial, STOCK_YEARS[0], age_schedules)
    ages = stock.sum(axis=0)  # (D, 2, 101)
    ages = ages / np.maximum(ages.sum(axis=(1, 2), keepdims=True), 1e-12)
    out = np.zeros((len(part.regions), len(RATE_YEARS) - 1))
    for k in range(len(RATE_YEARS) - 1):
        mid = 0.5 * (RATE_YEARS[k] + RATE_YEARS[k + 1] - 1)
        hazard = paths.hazard(mid)  # (R, 2, 101)
        dying = np.stack(
            [
                1.0 - life_tables.survival_ratios(hazard[:, s], sex)[0]
                for s, sex in enumerate(vital_rates.SEXES)
            ],
            axis=1,
        )
        out[:, k] = (dying * ages).sum(axis=(1, 2)) + return_rate
    return out


def stock_flows(
    part: Partition,
    paths: vital_rates.InputPaths,
    initial: np.ndarray,
    return_rate: float,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """Flows (persons a year) of each pair and stock interval (O, D, J-1) from the UN stocks
    alone, closed form: the stock-implied first estimate (no WPP term), for comparison."""
    if targets is None:
        targets = np.stack([migrant_stock.stock(part, y) for y in STOCK_YEARS], axis=-1)
    loss = _loss_rates(part, paths, initial, return_rate)  # (D, K)
    out = np.zeros(targets.shape[:2] + (len(STOCK_YEARS) - 1,))
    for k in range(len(STOCK_YEARS) - 1):
        n = STOCK_YEARS[k + 1] - STOCK_YEARS[k]
        q = 1.0 - loss[None, :, _interval_of(STOCK_YEARS[k])]
        gain = (1.0 - q**n) / (1.0 - q)
        out[..., k] = np.maximum((targets[..., k + 1] - targets[..., k] * q**n) / gain, 0.0)
    return out


def _population(part: Partition, years: Sequence[int]) -> np.ndarray:
    """WPP's 1 July population of each region (R, len(years)), the sum of its components."""
    return np.array(
        [
            [sum(wpp.population_groups(c, int(y)).sum() for c in comps) for y in years]
            for comps in part.components
        ]
    )


def _interval_of(year: int) -> int:
    k = int(np.searchsorted(RATE_YEARS, year, side="right")) - 1
    return min(max(k, 0), len(RATE_YEARS) - 2)


def _net_interval_of(year: int) -> int:
    return int(np.searchsorted(NET_YEARS, year, side="right")) - 1


def path_from_intervals(interval_rates: np.ndarray, years: Sequence[int]) -> np.ndarray:
    """(O, D, K) rates of the intervals as a yearly path (O, D, Y): a step from mid-year y
    reads the path at y + 1/2, so each calendar year takes its interval's rate."""
    return np.stack([interval_rates[..., _interval_of(int(y))] for y in years], axis=-1)


def _read_shipped(part: Partition) -> np.ndarray | None:
    if not RATES_FILE.exists():
        return None
    names = list(part.regions)
    out = np.full((len(names), len(names), len(RATE_YEARS) - 1), np.nan)
    with gzip.open(RATES_FILE, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["origin"] not in names or row["destination"] not in names:
                return None
            k = RATE_YEARS.index(int(row["first_year"]))
            o, d = names.index(row["origin"]), names.index(row["destination"])
            out[o, d, k] = float(row["rate"])
    return None if np.isnan(out).any() else out


def rates(
    part: Partition,
    years: Sequence[int],
    return_rate: float | None = None,
    regions: Sequence[str | Derived] | None = None,
) -> np.ndarray:
    """Base rates (O, D, Y) for the calendar ``years``: the shipped calibration where it is of
    ``part``'s regions (and the default return rate), else fitted (:func:`calibrate`; with the
    refits by simulation when ``regions``, the list that made ``part``, is given)."""
    from .migration_system import RETURN_RATE

    shipped = _read_shipped(part) if return_rate in (None, RETURN_RATE) else None
    if shipped is None:
        rho = RETURN_RATE if return_rate is None else return_rate
        iterations = ITERATIONS if regions is not None else 0
        shipped, _ = _calibrate_partition(part, rho, iterations, regions)
    return path_from_intervals(shipped, years)


def _interval_population(part: Partition) -> np.ndarray:
    """Mean WPP population of each region over each rate interval (R, K)."""
    pop = _population(part, range(RATE_YEARS[0], RATE_YEARS[-1]))
    return np.stack(
        [
            pop[:, RATE_YEARS[k] - RATE_YEARS[0] : RATE_YEARS[k + 1] - RATE_YEARS[0]].mean(1)
            for k in range(len(RATE_YEARS) - 1)
        ],
        axis=-1,
    )


def _trajectory(
    loss: np.ndarray, rho: float, initial: np.ndarray, flows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stocks (O, D) from 1990 with ``flows`` (O, D, K) a year: the stock at each UN stock year
    (O, D, J) and the returns summed over each net interval (O, D, M). The stock of the year
    before a step loses ``loss`` (O, D, K) of itself (deaths and returns) and gains the step's
    flow."""
    stock = np.zeros(initial.shape + (len(STOCK_YEARS),))
    returns = np.zeros(initial.shape + (len(NET_YEARS) - 1,))
    level = initial.astype(float).copy()
    for y in range(NET_YEARS[0], NET_YEARS[-1]):
        if y in STOCK_YEARS:
            stock[..., STOCK_YEARS.index(y)] = level
        returns[..., _net_interval_of(y)] += rho * level
        k = _interval_of(y)
        level = level * (1.0 - loss[..., k]) + flows[..., k]
    return stock, returns


def _years_in() -> np.ndarray:
    """(K, M): years of rate interval k in net interval m."""
    out = np.zeros((len(RATE_YEARS) - 1, len(NET_YEARS) - 1))
    for y in range(NET_YEARS[0], NET_YEARS[-1]):
        out[_interval_of(y), _net_interval_of(y)] += 1
    return out


def _unit_responses(
    loss: np.ndarray, rho: float, ks: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair's stock at the UN years (O, D, len(ks), J) and returns by net interval
    (O, D, len(ks), M) for a flow of 1 a year in each interval of ``ks``."""
    stocks, returns = [], []
    for k in ks:
        flows = np.zeros(loss.shape)
        flows[..., k] = 1.0
        stock, back = _trajectory(loss, rho, np.zeros(loss.shape[:2]), flows)
        stocks.append(stock)
        returns.append(back)
    return np.stack(stocks, axis=2), np.stack(returns, axis=2)


def _net_system(
    n: int, ks: Sequence[int], loss: np.ndarray, rho: float, free_returns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each region's net migration in each net interval as ``rows @ flows + free``: rows
    (R, M, unknowns) over the flows of the intervals ``ks`` (pair-major), free (R, M)."""
    years_in = _years_in()
    unit = _unit_responses(loss, rho, ks)[1]  # (O, D, len(ks), M)
    n_m = len(NET_YEARS) - 1
    rows = np.zeros((n, n_m, n * n * len(ks)))
    free = np.zeros((n, n_m))
    for o in range(n):
        for d in range(n):
            if o == d:
                continue
            for i, k in enumerate(ks):
                moved = years_in[k] - unit[o, d, i]
                rows[d, :, (o * n + d) * len(ks) + i] += moved
                rows[o, :, (o * n + d) * len(ks) + i] -= moved
            free[d] -= free_returns[o, d]
            free[o] += free_returns[o, d]
    return rows, free


def _net_targets(part: Partition) -> np.ndarray:
    """WPP's net migration of each region in each net interval (R, M), persons."""
    wpp_net = world_partition.wpp_totals(part, "net_migration", NET_YEARS[0], NET_YEARS[-1] - 1)
    return np.stack(
        [
            wpp_net[:, NET_YEARS[m] - NET_YEARS[0] : NET_YEARS[m + 1] - NET_YEARS[0]].sum(1)
            for m in range(len(NET_YEARS) - 1)
        ],
        axis=-1,
    )


def _net_rows(
    rows: np.ndarray,
    free: np.ndarray,
    targets: np.ndarray,
    groups: Sequence[Sequence[int]],
    sigmas: Sequence[float],
) -> tuple[list[np.ndarray], list[float]]:
    """Weighted rows of net migration summed over each group of net intervals."""
    out_rows, out_rhs = [], []
    for r in range(rows.shape[0]):
        for group, sigma in zip(groups, sigmas, strict=True):
            g = list(group)
            scale = sigma * max(abs(targets[r, g].sum()), NET_FLOOR)
            out_rows.append(rows[r, g].sum(axis=0) / scale)
            out_rhs.append((targets[r, g].sum() - free[r, g].sum()) / scale)
    return out_rows, out_rhs


def fit_flows(part: Partition, loss: np.ndarray, rho: float) -> np.ndarray:
    """Flows 1990-2021 (persons a year) of each pair and interval (O, D, HISTORY) fitted by
    bounded linear least squares to the UN stocks and WPP's net migration (module docstring);
    ``loss`` (O, D, K): the yearly loss rate of each pair's stock (deaths and returns)."""
    from scipy.optimize import lsq_linear

    n = len(part.regions)
    ks = list(range(HISTORY))
    targets = np.stack([migrant_stock.stock(part, y) for y in STOCK_YEARS], axis=-1)
    none = np.zeros((n, n, len(RATE_YEARS) - 1))
    free_stock, free_returns = _trajectory(loss, rho, targets[..., 0], none)
    unit_stock = _unit_responses(loss, rho, ks)[0]  # (O, D, len(ks), J)
    unknowns = n * n * len(ks)
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for o in range(n):
        for d in range(n):
            for j in range(1, len(STOCK_YEARS)):
                sigma = STOCK_SIGMA * max(targets[o, d, j], STOCK_FLOOR)
                row = np.zeros(unknowns)
                row[(o * n + d) * len(ks) : (o * n + d + 1) * len(ks)] = unit_stock[o, d, :, j]
                rows.append(row / sigma)
                rhs.append((targets[o, d, j] - free_stock[o, d, j]) / sigma)
    net_rows, net_free = _net_system(n, ks, loss, rho, free_returns)
    groups = [range(HISTORY_NET)] + [[m] for m in range(HISTORY_NET)]
    sigmas = [NET_SIGMA] + [NET_INTERVAL_SIGMA] * HISTORY_NET
    more_rows, more_rhs = _net_rows(net_rows, net_free, _net_targets(part), groups, sigmas)
    fit = lsq_linear(
        np.array(rows + more_rows), np.array(rhs + more_rhs), bounds=(0.0, np.inf), method="bvls"
    )
    return np.maximum(fit.x, 0.0).reshape(n, n, len(ks))  # bvls may leave -1e-22


def fit_baseline(part: Partition, loss: np.ndarray, rho: float, history: np.ndarray) -> np.ndarray:
    """Baseline flows from 2022 (O, D, K - HISTORY), the past ``history`` flows fixed: drawn to
    the 2015-2021 flows and fitted to WPP's medium-variant net migration (module docstring)."""
    from scipy.optimize import lsq_linear

    n = len(part.regions)
    ks = list(range(HISTORY, len(RATE_YEARS) - 1))
    flows = np.zeros((n, n, len(RATE_YEARS) - 1))
    flows[..., :HISTORY] = history
    start = migrant_stock.stock(part, STOCK_YEARS[0])
    _, free_returns = _trajectory(loss, rho, start, flows)
    net_rows, net_free = _net_system(n, ks, loss, rho, free_returns)
    later = range(HISTORY_NET, len(NET_YEARS) - 1)
    to_2050 = [m for m in later if NET_YEARS[m + 1] <= 2050]
    groups = [to_2050] + [[m] for m in later]
    sigmas = [BASELINE_NET_SIGMA] * len(groups)
    rows, rhs = _net_rows(net_rows, net_free, _net_targets(part), groups, sigmas)
    recent = history[..., -1].ravel()
    # the pair's yearly returns over the last net interval to 2021 (its gross exchange's other half)
    back = (
        free_returns[..., HISTORY_NET - 1] / (NET_YEARS[HISTORY_NET] - NET_YEARS[HISTORY_NET - 1])
    ).ravel()
    for p, flow in enumerate(recent):
        scale = BASELINE_SIGMA * max(flow + back[p], BASELINE_FLOOR)
        for i in range(len(ks)):
            row = np.zeros(n * n * len(ks))
            row[p * len(ks) + i] = 1.0 / scale
            rows.append(row)
            rhs.append(flow / scale)
    fit = lsq_linear(np.array(rows), np.array(rhs), bounds=(0.0, np.inf), method="bvls")
    return np.maximum(fit.x, 0.0).reshape(n, n, len(ks))


def _calibrate_partition(
    part: Partition,
    rho: float,
    iterations: int = 0,
    regions: Sequence[str | Derived] | None = None,
    fit_ages: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Interval rates (O, D, K): fitted with the loss rates of :func:`_loss_rates`, then
    ``iterations`` times refitted with each pair's loss rates and each origin's population as
    the model simulates them with the rates of the fit before. With ``fit_ages`` the age
    schedules start typical and are fitted (:func:`models.migration_ages.fit`) with the rates of
    the fit before the last, whose simulation then uses them; the parameters are returned (else
    None, the schedules being :func:`models.migration_ages.shipped_or_typical`'s)."""
    paths, initial = world_partition.region_paths(part, STOCK_YEARS[0])
    n = len(part.regions)
    theta = None
    schedules = migration_ages.typical(n) if fit_ages else migration_ages.shipped_or_typical(part)
    loss = np.broadcast_to(
        _loss_rates(part, paths, initial, rho, schedules)[None], (n, n, len(RATE_YEARS) - 1)
    )
    population = _interval_population(part)
    for i in range(iterations + 1):
        history = fit_flows(part, loss, rho)
        baseline = fit_baseline(part, loss, rho, history)
        flows = np.concatenate([history, baseline], axis=-1)
        interval_rates = flows / population[:, None, :]
        if i < iterations:
            assert regions is not None, "iterations need the regions to build the model"
            if fit_ages and i == iterations - 1:
                theta = migration_ages.fit(regions, part, interval_rates, rho)
                schedules = migration_ages.schedules(theta)
            loss, population = _simulated(regions, part, interval_rates, rho, loss, schedules)
    return interval_rates, theta


def _simulated(
    regions: Sequence[str | Derived],
    part: Partition,
    interval_rates: np.ndarray,
    rho: float,
    loss: np.ndarray,
    age_schedules: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's loss rate (O, D, K) and each region's mean population (R, K) over each rate
    interval, as the model simulates them (a pair with no stock keeps ``loss``)."""
    import engine

    from . import migration_system

    n = len(part.regions)
    years = list(range(RATE_YEARS[0] - 1, RATE_YEARS[-1]))
    model = migration_system.build(
        regions,
        start=float(RATE_YEARS[0]),
        stop=float(RATE_YEARS[-1] - 1),
        rates=path_from_intervals(interval_rates, years),
        age_schedules=age_schedules,
    )
    assert len(model.dims["origin"].elements) == n
    model.set_value("return_rate", rho)
    ds = engine.simulate(
        model, outputs=["migrant_deaths_total", "migrant_stock_total", "total_population"]
    )
    deaths = ds["migrant_deaths_total"].values  # (T, O, D) from 1990
    stock = ds["migrant_stock_total"].values
    pop = ds["total_population"].values  # (T, R)
    out = np.array(loss, dtype=float)
    population = np.zeros((len(part.regions), len(RATE_YEARS) - 1))
    for k in range(len(RATE_YEARS) - 1):
        rows = slice(RATE_YEARS[k] - RATE_YEARS[0], RATE_YEARS[k + 1] - RATE_YEARS[0])
        held = stock[rows].sum(axis=0)
        died = deaths[rows].sum(axis=0)
        out[..., k] = np.where(held > 0, rho + died / np.where(held > 0, held, 1.0), loss[..., k])
        population[:, k] = pop[rows].mean(axis=0)
    return out, population


def calibrate(
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    *,
    return_rate: float | None = None,
    iterations: int = ITERATIONS,
    fit_ages: bool = True,
) -> tuple[Partition, np.ndarray, np.ndarray | None]:
    """Interval rates (O, D, K) of the partition of ``regions`` and, with ``fit_ages``, the
    parameters (R, 4) of its regions' age schedules (:mod:`models.migration_ages`; without,
    None: the rates are fitted with the shipped or typical schedules). See the module
    docstring."""
    from .migration_system import RETURN_RATE

    part = world_partition.partition(regions)
    rho = RETURN_RATE if return_rate is None else return_rate
    interval_rates, theta = _calibrate_partition(part, rho, iterations, regions, fit_ages)
    return part, interval_rates, theta


def write_rates(part: Partition, interval_rates: np.ndarray) -> None:
    """Write the interval rates of ``part`` to :data:`RATES_FILE` (deterministic gzip)."""
    lines = ["origin,destination,first_year,last_year,rate"]
    for o, origin in enumerate(part.regions):
        for d, destination in enumerate(part.regions):
            for k in range(len(RATE_YEARS) - 1):
                lines.append(
                    f'"{origin}","{destination}",{RATE_YEARS[k]},{RATE_YEARS[k + 1] - 1},'
                    f"{interval_rates[o, d, k]:.6g}"
                )
    with gzip.GzipFile(RATES_FILE, "wb", mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))


if __name__ == "__main__":
    partition_, fitted, ages_ = calibrate()
    write_rates(partition_, fitted)
    assert ages_ is not None
    migration_ages.write(partition_, ages_)
    print(f"wrote {RATES_FILE} ({fitted.size} rates) and {migration_ages.SCHEDULES_FILE}")
