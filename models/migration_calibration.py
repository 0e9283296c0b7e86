"""Calibration of the migration system's base rates to the UN migrant stocks, 1990-2019.

Method (flows from stocks with demographic accounting: Abel 2013; Abel & Sander 2014). For each
origin-destination pair and each interval between the UN's stock years (1990-1995, ...,
2010-2015, 2015-2019), one flow a year ``F`` is the one with which the pair's stock, losing its
migrants to death (the destination's mortality) and return (``return_rate``), goes from the
UN's figure at the start of the interval to its figure at the end. The first estimate is
closed-form (constant loss rate ``l = m + return_rate``; with Euler steps of one year over ``n``
years: ``S1 = S0 (1 - l)^n + F sum_{j<n} (1 - l)^j``); it is then corrected by simulating the
model (:mod:`models.migration_system`) 1990-2019: the residuals of the simulated stocks, carried
from one interval to the next by the same survival, give each interval's correction (a Newton
step of this nearly linear system), twice. A stock falling faster than death and return allow
gets no flow (``F >= 0``). Rates are the flows per resident of the origin (the model's
population of the interval), ``rate = F / P_origin``: the parsimonious form in which drivers
later act as factors. After 2019 the 2015-2019 rates hold (the baseline).

The pair flows are net of moves the stocks cannot see (a migrant who came and left within an
interval): they are the *minimum* flows consistent with the stocks, as in Abel & Sander (2014),
whose flows are "at least" that many. Net migration of a region then follows from the stocks;
it is not fitted to WPP's, only compared with it (``tests/models/test_migration_system.py``).

The rates of the default partition are shipped in ``models/data/migration_system_rates.csv.gz``
(``origin, destination, first_year, last_year, rate``), written by ``python -m
models.migration_calibration`` (about a minute); another partition is calibrated on the fly by
the closed-form step alone (:func:`rates`).

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

from . import life_tables, migrant_stock, vital_rates, wpp, world_partition
from .world_partition import CORRIDOR_REGIONS, Derived, Partition

__all__ = ["stock_flows", "rates", "calibrate", "write_rates", "RATES_FILE"]

RATES_FILE = wpp.DATA / "migration_system_rates.csv.gz"
STOCK_YEARS = migrant_stock.YEARS


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
    """Closed-form flows (persons a year) of each pair and interval, (O, D, K)."""
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
    ``part``'s regions (and the default return rate), else the closed-form step."""
    from .migration_system import RETURN_RATE

    shipped = _read_shipped(part) if return_rate in (None, RETURN_RATE) else None
    if shipped is None:
        paths, initial = world_partition.region_paths(part, STOCK_YEARS[0])
        flows = stock_flows(part, paths, initial, return_rate or RETURN_RATE)
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


def calibrate(
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    *,
    return_rate: float | None = None,
    iterations: int = 2,
) -> tuple[Partition, np.ndarray]:
    """Interval rates (O, D, K) of the partition of ``regions``: closed form, then corrected
    by simulation (see the module docstring)."""
    import engine

    from . import migration_system

    part = world_partition.partition(regions)
    rho = migration_system.RETURN_RATE if return_rate is None else return_rate
    paths, initial = world_partition.region_paths(part, STOCK_YEARS[0])
    targets = np.stack([migrant_stock.stock(part, y) for y in STOCK_YEARS], axis=-1)
    loss = _loss_rates(part, paths, initial, rho)
    interval_rates = (
        stock_flows(part, paths, initial, rho, targets) / (_interval_population(part)[:, None, :])
    )
    stop = float(STOCK_YEARS[-1])
    model = migration_system.build(regions, start=1990.0, stop=stop, rates=None)
    years = [int(y) for y in model.dims["calendar_year"].elements]
    model.set_value("return_rate", rho)
    for _ in range(iterations):
        model.set_value("pair_rate_path", path_from_intervals(interval_rates, years))
        ds = engine.simulate(model, outputs=["migrant_stock_total", "total_population"])
        sim = ds["migrant_stock_total"].sel(time=[float(y) for y in STOCK_YEARS]).values
        pop = ds["total_population"].values  # (T, R)
        error = targets - np.moveaxis(sim, 0, -1)
        for k in range(len(STOCK_YEARS) - 1):
            n = STOCK_YEARS[k + 1] - STOCK_YEARS[k]
            q = 1.0 - loss[None, :, k]
            gain = (1.0 - q**n) / (1.0 - q)
            step = (error[..., k + 1] - q**n * error[..., k]) / gain
            rows = slice(STOCK_YEARS[k] - STOCK_YEARS[0], STOCK_YEARS[k + 1] - STOCK_YEARS[0])
            origin_pop = pop[rows].mean(axis=0)
            interval_rates[..., k] = np.maximum(
                interval_rates[..., k] + step / origin_pop[:, None], 0.0
            )
    return part, interval_rates


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
