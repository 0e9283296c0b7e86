"""The age schedules of the migration system's gross flows, fitted per origin to WPP's net
migration by age.

Story
-----
In :mod:`models.migration_system` a region's emigrants leave at the ages of a Rogers-Castro
model migration schedule applied to its residents, and the migrants it has abroad come home at
the ages of the same schedule applied to their stock. With one schedule for every region (the
typical parameters of Rogers & Castro 1981: 26 % of the emigrants under 15, a labour peak at
about 22) the gross flows were right in size but their *net* by age was not WPP's: summed over
1990-2019, the net migration at ages 0-9 was about twice WPP's in nearly every region (Europe
+9.5 million against +4.7, Northern America +11.9 against +8.3, Southern Asia -7.8 against
+0.1) and the ages 30-64 short by as much, which made the young cohorts, and their children,
wrong by 2100 (Caribbean -7.8 %, Central Asia -7.2 %, Mexico +6.2 % against WPP).

Here every region (as an origin: its emigrants and its returning natives) has its own schedule
of the Rogers-Castro family (Rogers & Castro 1981; the seven-parameter schedule of
:func:`models.life_tables.rogers_castro`, normalised to sum to 1)::

    m(x) = a1 exp(-alpha1 x) + a2 exp(-alpha2 (x - mu2) - exp(-lambda2 (x - mu2))) + c

with four parameters fitted per region: the child dependency ratio ``delta = a1 / a2`` (Rogers
& Castro's delta_12), the labour peak's position ``mu2``, its descent ``alpha2`` and ascent
``lambda2``. The child component is tied to the labour component of the parents: its slope is
the parents' descent, ``alpha1 = alpha2`` (Rogers & Castro 1981 found alpha1 close to alpha2 in
their observed schedules: children move with their parents, and their rates fall with age as
the parents' do), and the constant is the typical ratio ``c / a2 = 0.05``. The typical
schedule is ``delta = 1/3, mu2 = 20, alpha2 = 0.1, lambda2 = 0.4`` (the start of the fit).

The parameters are fitted as Raymer & Rogers (2008) fit model schedules to observed flows
(nonlinear least squares, here ``scipy.optimize.least_squares``, bounded), but to what is
observed here: not the flows by age, which WPP does not publish, but the *net* migration by age
that WPP's estimates imply (:mod:`models.migration_profiles`, the forward-survival residual of
WPP's estimated population, summed over the windows 1990-2000, 2000-2010 and 2010-2020, taken
to single ages at migration, its components' residuals added up for a region of several WPP
locations): known data only. The model's net migration by age over the same years (the steps
1990-2019) comes from simulating the migration system 1990-2020 with the calibrated base rates
(:mod:`models.migration_calibration`), so it holds the coupling: a region's net migration by age
is its immigrants' ages (the other regions' schedules) less its emigrants', plus its natives'
returns less its migrants' departures. The errors are compared in five-year groups of age at
migration, 0-4 to 75-79 (the residual at 80 and over is WPP's old-age accounting, not
migration: :mod:`models.migration_profiles`), each region's WPP residual scaled to the model's
net total over the years (the age fit moves the ages, not the totals, which are the base rates'),
in units of the sum of that target's absolute values (every region weighs the same). One more
error: the median age of the world's migrant stock in 2019 against UN DESA's 39 years
(International Migration 2019: Highlights), in units of half a year (half the tolerance of its
test). Without it the net ages alone pulled the schedules old and broad, and the stock's median
age went from 39.5 to 44.9 years. The same method and bounds for every region: ``delta`` 0-1,
``mu2`` 15-35, ``alpha2`` 0.05-0.4, ``lambda2`` 0.1-1.5, around the typical values.

The fit is a step of the base-rate calibration (:func:`models.migration_calibration.calibrate`):
the rates are fitted with the typical schedule and refitted once with the model's simulated
losses, the ages are fitted with those rates, and the rates are refitted with the fitted ages;
both are shipped (``models/data/migration_age_schedules.csv`` and
``models/data/migration_system_rates.csv.gz``, written by ``python -m
models.migration_calibration``, about 6 minutes, the age fit 4 of them). Another partition
takes the typical schedule in every region unless its schedules are given (:func:`fit` fits
them).

Measured 2026-12-03 (the default partition; ``tests/models/test_migration_system.py``): the
misfit of the net migration by age 1990-2019 (half the sum of absolute differences over the 16
groups, over the sum of WPP's absolute values) falls in all 14 regions, from 0.275 to 0.137 on
average (Caribbean 0.224 -> 0.032, Central Asia 0.285 -> 0.121, Mexico 0.274 -> 0.133; the
largest left: Western Asia 0.322, South-Eastern Asia 0.250, Northern America 0.215); the
migrant stock's median age in 2019 is 39.6; the baseline population is within 2 % of WPP's in
2050 in every region (at most Northern America -1.9 %, Central Asia -1.9 %) and within 5 % in
2100 (at most Mexico +4.8 %, Central Asia -3.2 %), where with the typical schedule the
Caribbean was -7.8 %, Central Asia -7.2 % and Mexico +6.2 %. The fitted schedules are far from
the typical one: the ascent ``lambda2`` is at its lower bound (0.1) in 8 regions and below
0.12 in all but Northern America (a labour hump broader than Rogers & Castro's usual ones: the
net of two schedules has to spread over 15-64 as WPP's does), ``alpha2`` at its lower bound in
Sub-Saharan Africa and Central Asia and ``mu2`` at its lower bound in Western Asia; the child
ratio ranges from about 0 (Southern Asia, the African regions) to 0.99 (Europe), where the diagonal
stocks (moves within a region) give it a hold on the world's median age that no net
migration checks: the medians of the destinations are not matched (2015: Europe 38.5, Northern
America 41.1 against UN DESA's 43 and 42).

Tried, not adopted (2026-12-03): the net ages alone (no median target): misfit 0.111, but the
stock's median age 44.9 and 2100 Northern America -5.4 %, Western Asia +7.9 % (more births:
Western Asia's young immigrants are given the migrants' common 48.1 % of women, where its
Gulf states' are mostly men; the shared data have no migration by sex); the medians of
Europe's, Northern America's, Oceania's and Africa's migrants (UN DESA 2016, 2015: 43, 42, 44,
29) as targets too: misfit 0.213, Sub-Saharan Africa's worse than the typical schedule's, 2100
Mexico +6.9 %, Europe +5.2 %, Western Asia's net migration 2022-2050 +24 % (fails its 20 %);
a separate return schedule per region (eight parameters, the fit three times slower): misfit
halved again but returnees peaking at 15 (Mexico, South America), and 2100 Western Asia +9.8 %
(not recalibrated).

References
----------
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA Research Report
  RR-81-30, Laxenburg.
- Raymer, J. & Rogers, A. (2008). Applying model migration schedules to represent age-specific
  migration flows. In J. Raymer & F. Willekens (eds), International Migration in Europe: Data,
  Models and Estimates, Wiley, 175-192.
- United Nations, DESA, Population Division (2022). World Population Prospects 2022
  (:mod:`models.migration_profiles`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

import numpy as np

from . import life_tables, migration_profiles, vital_rates, wpp
from .world_partition import Derived, Partition

__all__ = [
    "PARAMETERS",
    "TYPICAL",
    "LOWER",
    "UPPER",
    "schedules",
    "wpp_net_by_age",
    "fit",
    "read_shipped",
    "shipped_or_typical",
    "typical",
    "write",
    "SCHEDULES_FILE",
]

SCHEDULES_FILE = wpp.DATA / "migration_age_schedules.csv"
PARAMETERS = ("delta", "mu2", "alpha2", "lambda2")
_RC = life_tables.ROGERS_CASTRO
#: The typical schedule (Rogers & Castro 1981): delta = a1 / a2, alpha1 = alpha2.
TYPICAL = np.array([_RC["a1"] / _RC["a2"], _RC["mu2"], _RC["alpha2"], _RC["lambda2"]])
LOWER = np.array([0.0, 15.0, 0.05, 0.1])
UPPER = np.array([1.0, 35.0, 0.4, 1.5])
C_RATIO = _RC["c"] / _RC["a2"]  # the constant over the labour component's height
#: Windows of the residual (their last years): 1990-2000, 2000-2010, 2010-2020.
WINDOW_ENDS = (2000, 2010, 2020)
FIRST_STEP, LAST_STEP = 1990, 2019  # the model's steps over the same years (mid-year to mid-year)
GROUPS = 16  # five-year groups of age at migration 0-4 .. 75-79
#: UN DESA (2019), International Migration 2019: Highlights: the world's international
#: migrants' median age, 39 years in 2019; matched to MEDIAN_AGE_SIGMA (half a year).
MEDIAN_AGE, MEDIAN_AGE_YEAR, MEDIAN_AGE_SIGMA = 39.0, 2019, 0.5


def schedules(theta: np.ndarray) -> np.ndarray:
    """Rogers-Castro schedules (R, 101), each summing to 1, of the parameters (R, 4)
    (``delta``, ``mu2``, ``alpha2``, ``lambda2``; ``alpha1 = alpha2``, ``c / a2`` typical)."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    a2 = _RC["a2"]
    out = np.stack(
        [
            life_tables.rogers_castro(
                a1=delta * a2,
                alpha1=alpha2,
                a2=a2,
                mu2=mu2,
                alpha2=alpha2,
                lambda2=lambda2,
                c=C_RATIO * a2,
            )
            for delta, mu2, alpha2, lambda2 in theta
        ]
    )
    return out


def typical(n: int) -> np.ndarray:
    """The typical schedule for ``n`` regions (R, 101)."""
    return schedules(np.tile(TYPICAL, (n, 1)))


def wpp_net_by_age(part: Partition) -> np.ndarray:
    """WPP's net migration 1990-2020 of each region by single age at migration (R, 101),
    persons: the residual of WPP's estimates (:mod:`models.migration_profiles`), its
    components' summed."""
    every = sorted({c for comps in part.components for c in comps})
    paths = vital_rates.input_paths(every)
    kernel = migration_profiles.group_to_single_ages()
    single = np.zeros((len(every), 101))
    for end in WINDOW_ENDS:
        single += migration_profiles.net_migration_profiles(paths, end).residual @ kernel
    at = {name: i for i, name in enumerate(every)}
    return np.stack([single[[at[c] for c in comps]].sum(axis=0) for comps in part.components])


def _groups(by_age: np.ndarray) -> np.ndarray:
    return by_age[..., : 5 * GROUPS].reshape(*by_age.shape[:-1], GROUPS, 5).sum(axis=-1)


def median_age(by_age: np.ndarray) -> float:
    """Median age of people counted by single year of age (0..100), interpolated."""
    cumulative = np.cumsum(by_age)
    return float(np.interp(0.5 * cumulative[-1], cumulative, np.arange(by_age.size) + 0.5))


def fit(
    regions: Sequence[str | Derived],
    part: Partition,
    interval_rates: np.ndarray,
    return_rate: float,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Parameters (R, 4) of every region's schedule fitted to WPP's net migration by age
    1990-2019 (module docstring), the model run with the base ``interval_rates`` (O, D, K)."""
    from scipy.optimize import least_squares

    import engine

    from . import migration_calibration, migration_system

    n = len(part.regions)
    years = list(range(FIRST_STEP - 1, 2101))
    model = migration_system.build(
        regions,
        start=float(FIRST_STEP),
        stop=float(LAST_STEP + 1),
        rates=migration_calibration.path_from_intervals(interval_rates, years),
        age_schedules=typical(n),
        values={"return_rate": return_rate},
    )
    runner = engine.Runner(model, outputs=["net_migration", "migrant_stock"])
    observed = _groups(wpp_net_by_age(part))  # (R, G)

    def run(theta: np.ndarray) -> tuple[np.ndarray, float]:
        ds = runner.run({"emigration_age_pattern": schedules(theta.reshape(n, 4))})
        steps = ds["net_migration"].sel(time=slice(float(FIRST_STEP), float(LAST_STEP)))
        stock = ds["migrant_stock"].sel(time=float(MEDIAN_AGE_YEAR))
        by_age = stock.sum(("origin", "destination", "sex")).values
        return _groups(steps.sum(("time", "sex")).values), median_age(by_age)

    first = TYPICAL if start is None else start
    x0 = np.clip(np.broadcast_to(first, (n, 4)), LOWER, UPPER).ravel()
    totals = run(x0)[0].sum(axis=1)
    ratio = totals / observed.sum(axis=1)
    target = observed * np.where(ratio > 0, ratio, 1.0)[:, None]
    scale = np.abs(target).sum(axis=1, keepdims=True)

    def residuals(theta: np.ndarray) -> np.ndarray:
        net, median = run(theta)
        age = (median - MEDIAN_AGE) / MEDIAN_AGE_SIGMA
        return np.append(((net - target) / scale).ravel(), age)  # type: ignore[no-any-return]

    result = least_squares(
        residuals,
        x0,
        bounds=(np.tile(LOWER, n), np.tile(UPPER, n)),
        x_scale=np.tile(UPPER - LOWER, n),
        diff_step=1e-3,
        xtol=1e-6,
        ftol=1e-6,
    )
    return result.x.reshape(n, 4)  # type: ignore[no-any-return]


def shipped_or_typical(part: Partition) -> np.ndarray:
    """The schedules (R, 101) of ``part``: the shipped fit if it is of its regions, else the
    typical schedule in every region."""
    theta = read_shipped(part)
    return typical(len(part.regions)) if theta is None else schedules(theta)


def read_shipped(part: Partition) -> np.ndarray | None:
    """The shipped parameters (R, 4) if they are of ``part``'s regions, else None."""
    if not SCHEDULES_FILE.exists():
        return None
    rows = {}
    with open(SCHEDULES_FILE, encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            rows[row["region"]] = [float(row[p]) for p in PARAMETERS]
    if set(rows) != set(part.regions):
        return None
    return np.array([rows[r] for r in part.regions])


def write(part: Partition, theta: np.ndarray) -> None:
    """Write the parameters of ``part``'s regions to :data:`SCHEDULES_FILE`."""
    lines = ["region," + ",".join(PARAMETERS)]
    for region, row in zip(part.regions, theta, strict=True):
        lines.append(f'"{region}",' + ",".join(f"{v:.6g}" for v in row))
    SCHEDULES_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
