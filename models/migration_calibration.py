"""Calibration of the migration system's base rates to the UN migrant stocks, 1990-2019.

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
millions, Europe +25 against WPP's +40, Northern America +42 (+49), Southern Asia -28 (-42),
Sub-Saharan Africa -7 (-14), Western Asia +18 (+8), South-Eastern Asia -11 (-2): WPP's net
migration is partly a residual of its population estimates, and the UN's stocks leave out
migrants of unknown origin and unrecorded ones; the fit shares the difference. Rates are the
flows per resident of the origin (WPP's population, mean of the interval): ``rate = F /
P_origin``, the form in which drivers will act as factors. After 2019 the 2015-2019 rates hold
(the baseline).

The flows are net of moves the stocks cannot see (who came and left within an interval): the
*minimum* flows consistent with the stocks, as Abel & Sander's (2014).

The rates of the default partition are shipped in ``models/data/migration_system_rates.csv.gz``
(``origin, destination, first_year, last_year, rate``), written by ``python -m
models.migration_calibration`` (about 20 s); another partition is fitted when its model is
built (:func:`rates`, the same 20 s).

References
----------
- Abel, G. J. (2013). Estimating global migration flow tables using place of birth data.
  Demographic Research 28(18), 505-546.
- Abel, G. J. & Sander, N. (2014). Quantifying global international migration flows. Science
  343(6178), 1520-1522.
- UN DESA (2019). International Migrant Stock 2019 (:mod:`models.migrant_stock`).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence

import numpy as np

from . import life_tables, migrant_stock, vital_rates, world_partition, wpp
from .world_partition import CORRIDOR_REGIONS, Derived, Partition

__all__ = ["fit_flows", "stock_flows", "rates", "calibrate", "write_rates", "RATES_FILE"]

RATES_FILE = wpp.DATA / "migration_system_rates.csv.gz"
STOCK_YEARS = migrant_stock.YEARS
#: Net migration is fitted over 1990-1994, ..., 2015-2018 and 2019-2021 (WPP calendar years).
NET_YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2019, 2022)
STOCK_SIGMA = 0.10  # of a pair's stock: half the 20 % tolerance
STOCK_FLOOR = 1.0e6  # persons: smaller pairs count as of 1 million (the checked threshold)
NET_SIGMA = 0.075  # of a region's net migration 1990-2021: half the 15 % tolerance
NET_INTERVAL_SIGMA = 1.0  # of each interval's net migration (the time shape only)
NET_FLOOR = 1.0e6  # persons


def _loss_rates(
    part: Partition, paths: vital_rates.InputPaths, initial: np.ndarray, return_rate: float
) -> np.ndarray:
    """Yearly loss rate of each destination's migrant stock in each interval (D, K)."""
    from .migration_system import initial_migrant_stock

    ages = initial_migrant_stock(part, initial, STOCK_YEARS[0]).sum(axis=0)  # (D, 2, 101)
    ages = ages / np.maximum(ages.sum(axis=(1, 2), keepdims=True), 1e-12)
    out = np.zeros((len(part.regions), len(STOCK_YEARS) - 1))
    for k in range(len(STOCK_YEARS) - 1):
        mid = 0.5 * (STOCK_YEARS[k] + STOCK_YEARS[k + 1])
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
    """Flows (persons a year) of each pair and interval (O, D, K) from the UN stocks alone,
    closed form: the stock-implied first estimate (no WPP term), for comparison."""
    if targets is None:
        targets = np.stack([migrant_stock.stock(part, y) for y in STOCK_YEARS], axis=-1)
    loss = _loss_rates(part, paths, initial, return_rate)  # (D, K)
    out = np.zeros(targets.shape[:2] + (len(STOCK_YEARS) - 1,))
    for k in range(len(STOCK_YEARS) - 1):
        n = STOCK_YEARS[k + 1] - STOCK_YEARS[k]
        q = 1.0 - loss[None, :, k]
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
    k = int(np.searchsorted(STOCK_YEARS, year, side="right")) - 1
    return min(max(k, 0), len(STOCK_YEARS) - 2)


def path_from_intervals(interval_rates: np.ndarray, years: Sequence[int]) -> np.ndarray:
    """(O, D, K) rates of the intervals as a yearly path (O, D, Y): a step from mid-year y
    reads the path at y + 1/2, so each calendar year takes its interval's rate."""
    return np.stack([interval_rates[..., _interval_of(int(y))] for y in years], axis=-1)


def _read_shipped(part: Partition) -> np.ndarray | None:
    if not RATES_FILE.exists():
        return None
    names = list(part.regions)
    out = np.zeros((len(names), len(names), len(STOCK_YEARS) - 1))
    seen = set()
    with gzip.open(RATES_FILE, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["origin"] not in names or row["destination"] not in names:
                return None
            k = STOCK_YEARS.index(int(row["first_year"]))
            o, d = names.index(row["origin"]), names.index(row["destination"])
            out[o, d, k] = float(row["rate"])
            seen.add(row["origin"])
    return out if seen == set(names) else None


def rates(part: Partition, years: Sequence[int], return_rate: float | None = None) -> np.ndarray:
    """Base rates (O, D, Y) for the calendar ``years``: the shipped calibration where it is of
    ``part``'s regions (and the default return rate), else fitted (:func:`fit_flows`)."""
    from .migration_system import RETURN_RATE

    shipped = _read_shipped(part) if return_rate in (None, RETURN_RATE) else None
    if shipped is None:
        paths, initial = world_partition.region_paths(part, STOCK_YEARS[0])
        flows, _ = fit_flows(part, paths, initial, return_rate or RETURN_RATE)
        shipped = flows / _interval_population(part)[:, None, :]
    return path_from_intervals(shipped, years)


def _interval_population(part: Partition) -> np.ndarray:
    """Mean WPP population of each region over each interval (R, K)."""
    pop = _population(part, range(STOCK_YEARS[0], STOCK_YEARS[-1] + 1))
    return np.stack(
        [
            pop[:, STOCK_YEARS[k] - STOCK_YEARS[0] : STOCK_YEARS[k + 1] - STOCK_YEARS[0]].mean(1)
            for k in range(len(STOCK_YEARS) - 1)
        ],
        axis=-1,
    )


def _unit_responses(loss: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Response of a pair's stock to a flow of 1 a year in each interval.

    Returns ``stock[d, k, j]`` (the stock at stock year ``j`` of a destination ``d`` pair) and
    ``returns[d, k, m]`` (its returns summed over net-migration interval ``m``), for a unit
    flow in interval ``k``; the stock of the year before a step loses ``loss`` of itself.
    """
    years = np.arange(STOCK_YEARS[0], NET_YEARS[-1])  # the steps from 1990 to 2021
    n_d, n_k = loss.shape
    stock = np.zeros((n_d, n_k, len(STOCK_YEARS)))
    returns = np.zeros((n_d, n_k, len(NET_YEARS) - 1))
    for k in range(n_k):
        level = np.zeros(n_d)
        for y in years:
            j = STOCK_YEARS.index(y) if y in STOCK_YEARS else -1
            if j >= 0:
                stock[:, k, j] = level
            m = _net_interval_of(int(y))
            returns[:, k, m] += rho * level
            flow = 1.0 if _interval_of(int(y)) == k else 0.0
            level = level * (1.0 - loss[:, _interval_of(int(y))]) + flow
    return stock, returns


def _free_response(loss: np.ndarray, rho: float, initial: np.ndarray) -> tuple[np.ndarray, ...]:
    """Stock at the stock years (O, D, J) and returns by net interval (O, D, M) without flows."""
    years = np.arange(STOCK_YEARS[0], NET_YEARS[-1])  # the steps from 1990 to 2021
    stock = np.zeros(initial.shape + (len(STOCK_YEARS),))
    returns = np.zeros(initial.shape + (len(NET_YEARS) - 1,))
    level = initial.copy()
    for y in years:
        if y in STOCK_YEARS:
            stock[..., STOCK_YEARS.index(y)] = level
        returns[..., _net_interval_of(int(y))] += rho * level
        level = level * (1.0 - loss[None, :, _interval_of(int(y))])
    return stock, returns


def _net_interval_of(year: int) -> int:
    return int(np.searchsorted(NET_YEARS, year, side="right")) - 1


def fit_flows(
    part: Partition,
    paths: vital_rates.InputPaths,
    initial: np.ndarray,
    rho: float,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Flows (persons a year) of each pair and interval (O, D, K) fitted by bounded linear
    least squares to the UN stocks and WPP's net migration (see the module docstring)."""
    from scipy.optimize import lsq_linear

    n = len(part.regions)
    n_k = len(STOCK_YEARS) - 1
    n_m = len(NET_YEARS) - 1
    targets = np.stack([migrant_stock.stock(part, y) for y in STOCK_YEARS], axis=-1)
    loss = _loss_rates(part, paths, initial, rho)
    unit_stock, unit_returns = _unit_responses(loss, rho)
    free_stock, free_returns = _free_response(loss, rho, targets[..., 0])
    wpp_net = world_partition.wpp_totals(part, "net_migration", NET_YEARS[0], NET_YEARS[-1] - 1)
    net_targets = np.stack(
        [
            wpp_net[:, NET_YEARS[m] - NET_YEARS[0] : NET_YEARS[m + 1] - NET_YEARS[0]].sum(1)
            for m in range(n_m)
        ],
        axis=-1,
    )  # (R, M)
    years_in = np.array(
        [
            [
                sum(1 for y in range(NET_YEARS[m], NET_YEARS[m + 1]) if _interval_of(y) == k)
                for m in range(n_m)
            ]
            for k in range(n_k)
        ],
        dtype=float,
    )  # (K, M): years of flow interval k in net interval m
    unknowns = n * n * n_k

    def col(o: int, d: int, k: int) -> int:
        return (o * n + d) * n_k + k

    rows: list[np.ndarray] = []
    rhs: list[float] = []
    # stocks at 1995..2019
    for o in range(n):
        for d in range(n):
            for j in range(1, len(STOCK_YEARS)):
                sigma = STOCK_SIGMA * max(targets[o, d, j], STOCK_FLOOR)
                row = np.zeros(unknowns)
                for k in range(n_k):
                    row[col(o, d, k)] = unit_stock[d, k, j]
                rows.append(row / sigma)
                rhs.append((targets[o, d, j] - free_stock[o, d, j]) / sigma)
    # net migration by interval and in all
    net_rows = np.zeros((n, n_m, unknowns))
    net_free = np.zeros((n, n_m))
    for o in range(n):
        for d in range(n):
            if o == d:
                continue
            for k in range(n_k):
                moved = years_in[k] - unit_returns[d, k]  # (M,)
                net_rows[d, :, col(o, d, k)] += moved
                net_rows[o, :, col(o, d, k)] -= moved
            net_free[d] -= free_returns[o, d]
            net_free[o] += free_returns[o, d]
    for r in range(n):
        total = net_targets[r].sum()
        sigma = NET_SIGMA * max(abs(total), NET_FLOOR)
        rows.append(net_rows[r].sum(axis=0) / sigma)
        rhs.append((total - net_free[r].sum()) / sigma)
        for m in range(n_m):
            sigma_m = NET_INTERVAL_SIGMA * max(abs(net_targets[r, m]), NET_FLOOR)
            rows.append(net_rows[r, m] / sigma_m)
            rhs.append((net_targets[r, m] - net_free[r, m]) / sigma_m)
    fit = lsq_linear(np.array(rows), np.array(rhs), bounds=(0.0, np.inf), method="bvls")
    flows = np.maximum(fit.x, 0.0).reshape(n, n, n_k)  # bvls may leave -1e-22
    return flows, {"targets": targets, "net_targets": net_targets, "loss": loss}


def calibrate(
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS, *, return_rate: float | None = None
) -> tuple[Partition, np.ndarray]:
    """Interval rates (O, D, K) of the partition of ``regions`` (see the module docstring)."""
    from .migration_system import RETURN_RATE

    part = world_partition.partition(regions)
    rho = RETURN_RATE if return_rate is None else return_rate
    paths, initial = world_partition.region_paths(part, STOCK_YEARS[0])
    flows, _ = fit_flows(part, paths, initial, rho)
    return part, flows / _interval_population(part)[:, None, :]


def write_rates(part: Partition, interval_rates: np.ndarray) -> None:
    """Write the interval rates of ``part`` to :data:`RATES_FILE` (deterministic gzip)."""
    lines = ["origin,destination,first_year,last_year,rate"]
    for o, origin in enumerate(part.regions):
        for d, destination in enumerate(part.regions):
            for k in range(len(STOCK_YEARS) - 1):
                lines.append(
                    f'"{origin}","{destination}",{STOCK_YEARS[k]},{STOCK_YEARS[k + 1]},'
                    f"{interval_rates[o, d, k]:.6g}"
                )
    with gzip.GzipFile(RATES_FILE, "wb", mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))


if __name__ == "__main__":
    partition_, fitted = calibrate()
    write_rates(partition_, fitted)
    print(f"wrote {RATES_FILE} ({fitted.size} rates)")
