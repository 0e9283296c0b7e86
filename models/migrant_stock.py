"""Migrant stock by origin and destination (UN International Migrant Stock 2019), any partition.

Source: United Nations, DESA, Population Division (2019). International Migrant Stock 2019
(POP/DB/MIG/Stock/Rev.2019): persons living on 1 July of 1990, 1995, 2000, 2005, 2010, 2015 and
2019 outside their country of birth (or of citizenship where birthplace is not recorded), by
country of destination and origin. Shipped as ``models/data/un_migrant_stock_2019.csv.gz`` with
WPP 2022 country codes (built by ``models/data/build_migrant_stock.py``, which lists how every
name was reconciled; attribution in ``models/data/README.md``). Migrants of unknown origin (11.4
million of the UN's 271.6 million in 2019) are not in the table; ``models/data/unknown_origin.py``
measures what they would change (little of the net migration 1990-2019 of any region).

:func:`stock` aggregates the table to the regions of a :class:`models.world_partition.Partition`:
entry ``[o, d]`` is the number of people born in region ``o`` living in region ``d``; the
diagonal counts those who moved between countries of one region.

:func:`totals` is UN DESA's *total* migrant stock of each region (all international migrants,
of known origin or not: the figure UN DESA publishes, 153.0 million in 1990 and 271.6 million
in 2019) from :data:`TOTALS`, its totals by region of destination: UN DESA, International
Migrant Stock 2019 (POP/DB/MIG/Stock/Rev.2019), total migrant stock at mid-year by region of
destination, both sexes; the ``fb`` column of ``data/stock_totals.csv`` in the public
repository guyabel/stepladderChapter, commit b604de7aa72035d3e8c6d35fdbab81bc1503a364, the same
IOM World Migration Report 2020 work as the bilateral table (Europe 82.3, Northern America
58.6, Northern Africa and Western Asia 48.6 million in 2019, as UN DESA's International
Migration 2019: Highlights give them). Its regions are those of the default partition (Central
America with Mexico, which is split off; Oceania, the rest of the world). A region of another
partition takes each of those destinations' migrants of unknown origin (the total less the
table's known origins) in proportion to the known-origin migrants it holds of that
destination's (so within a destination, the unknown origins are spread over its countries as
the known ones are, as Abel & Cohen 2019 spread them over origins): the regions' totals always
sum to the UN's world total. :func:`unknown_origin_share` is each region's migrants of unknown
origin over its migrants of known origin.

:func:`net_migration_accounting` (``python -m models.migrant_stock`` prints it) asks whether
issue 14's net-migration line (each region's 1990-2021 within 15 % of WPP's) can be met by any
model that matches these stocks, from the data alone. By the demographic accounting identity a
region's net migration is the change in its foreign-born residents (born in another region) plus
their deaths, less the change in its natives living in other regions plus theirs
(:func:`implied_net_migration`; returns and moves within a region cancel out). Deaths are the
stocks times WPP 2022's death rates of where they live at an age structure taken from the
residents there (:data:`AGE_STRUCTURES`: aged 20-64, the fewest deaths; the world's migrants'
broad age groups, UN DESA 2019: 14 % below 20, 74 % 20-64, 12 % 65 or over; the typical
Rogers-Castro stock; aged 20 and over), the range over all of them and over the unknown origins
either way. Mid-1990 to mid-2019, millions (measured 2026-12-03, the default partition), the
stocks' range against WPP's net migration of the same period: Sub-Saharan Africa -1.5 to -7.2
against -13.4, Southern Asia -24.4 to -30.8 against -39.7, Europe +15.9 to +32.6 against +36.0,
Northern America +32.8 to +46.0 against +46.3, Western Asia +14.5 to +21.7 against +10.5,
South-Eastern Asia -8.2 to -12.0 against -1.8: in 7 of 14 regions WPP's figure is more than 15 %
of its 1990-2021 total outside the range, and in Sub-Saharan Africa and South-Eastern Asia even
with every pair above 1 million in 2019 anywhere within 20 % of the UN's (issue 14's pairs
line). Every other term at its most favourable, the line needs Sub-Saharan Africa's natives
abroad to die at 39 per 1000 a year and Southern Asia's at 18 (every region's crude death rate
1991-2019 is at most 12.3), Europe's foreign-born at 14.7 (all its residents: 11.2), Northern
America's at 7.6 (9.1 million deaths; US death certificates give about 6.0 million for the US's
foreign-born: NCHS National Vital Statistics System, 0.55, 0.59 and 0.67 million deaths of
foreign-born residents in 1989-1991, 1999-2001 and 2011-2013 as tabulated by Liu & Singh 2018,
interpolated; the rest would be 46 % of all Canada's deaths). Migrants die less than natives of
their age, not more (Aldridge et al. 2018, pooled SMR 0.70).

References
----------
- UN DESA (2019). International Migrant Stock 2019 (POP/DB/MIG/Stock/Rev.2019); International
  Migration 2019: Highlights (ST/ESA/SER.A/438).
- UN DESA (2022). World Population Prospects 2022 (death rates, population, net migration).
- Abel, G. J. & Cohen, J. E. (2019). Bilateral international migration flow estimates for 200
  countries. Scientific Data 6, 82.
- Aldridge, R. W. et al. (2018). Global patterns of mortality in international migrants: a
  systematic review and meta-analysis. The Lancet 392, 2553-2566.
- Liu, L. & Singh, G. K. (2018). Mortality trends and differentials by nativity in the United
  States (US National Vital Statistics System, 1979-2013). Migration, Ethnicity, Race and
  Health conference (MERH 2018), Edinburgh.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from functools import cache

import numpy as np

import engine

from . import world_partition, wpp
from .life_tables import rogers_castro
from .world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO, Partition

__all__ = [
    "stock",
    "totals",
    "unknown_origin_share",
    "implied_net_migration",
    "stock_death_rates",
    "net_migration_accounting",
    "YEARS",
    "TOTALS",
    "AGE_STRUCTURES",
]

YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2019)

#: UN DESA's total migrant stock by region of destination in :data:`YEARS`, persons (all
#: international migrants, of unknown origin too; source in the module docstring).
TOTALS = {
    "Northern Africa": (2403325, 2081640, 1900448, 1747369, 1948262, 2138918, 2955849),
    "Sub-Saharan Africa": (13286341, 14275437, 13151229, 14222466, 15855936, 21337333, 23573485),
    "Mexico": (695674, 458549, 538051, 712487, 969538, 1028803, 1060707),
    "Central America": (1829911, 1298916, 1107577, 1385713, 1749940, 1878860, 1927688),
    "Europe": (49608231, 53489829, 56858788, 63594822, 70678025, 75008219, 82304539),
    "Northern America": (27610408, 33340948, 40351694, 45363257, 50970861, 55633443, 58647822),
    "Southern Asia": (19537940, 15343019, 15278079, 13722314, 14311392, 14051010, 14083627),
    "Western Asia": (15205444, 16830424, 18420949, 21533928, 30614291, 39913874, 45635541),
    "Caribbean": (1056483, 1148720, 1247863, 1311361, 1326879, 1489916, 1524793),
    "South America": (4274977, 4241074, 4215289, 4527868, 5185614, 6072903, 8220807),
    "Eastern Asia": (3959266, 4639749, 5393004, 6228684, 7062527, 7636397, 8105764),
    "South-Eastern Asia": (2876616, 3700057, 5113208, 6718503, 8685564, 10237687, 10190867),
    "Central Asia": (6630683, 5904795, 5189082, 5235877, 5264938, 5392792, 5543398),
    "Oceania": (4731848, 5022287, 5361231, 6023412, 7127680, 8069944, 8927925),
}


@cache
def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(origin codes, destination codes, years, persons) of the shipped table."""
    cols: list[list[int]] = [[], [], [], []]
    with gzip.open(wpp.DATA / "un_migrant_stock_2019.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for k, key in enumerate(("origin_code", "destination_code", "year", "persons")):
                cols[k].append(int(row[key]))
    arrays = tuple(np.array(c, dtype=np.int64) for c in cols)
    return arrays  # type: ignore[return-value]


def stock(part: Partition, year: int) -> np.ndarray:
    """Persons born in each region (rows) living in each region (columns) in ``year``.

    Raises
    ------
    engine.SpecError
        A year the UN table does not have (with the years it has).
    """
    if int(year) not in YEARS:
        raise engine.SpecError(
            f"the UN migrant stock 2019 has no figures for {year}; years are {list(YEARS)}."
        )
    origin, destination, years, persons = _table()
    where = part.region_of()
    keep = years == int(year)
    o = np.array([where[c] for c in origin[keep]])
    d = np.array([where[c] for c in destination[keep]])
    n = len(part.regions)
    out = np.zeros((n, n))
    np.add.at(out, (o, d), persons[keep].astype(float))
    return out


def _destination_totals(part: Partition) -> np.ndarray:
    """:data:`TOTALS` of the regions of the default partition ``part`` (R, len(YEARS))."""
    out = []
    for name in part.regions:
        if name == CENTRAL_AMERICA_WITHOUT_MEXICO.name:
            out.append(np.subtract(TOTALS["Central America"], TOTALS["Mexico"]))
        elif name == world_partition.REST_OF_WORLD:
            out.append(np.array(TOTALS["Oceania"]))
        else:
            out.append(np.array(TOTALS[name]))
    return np.array(out, dtype=float)


@cache
def _known_by_destination() -> tuple[np.ndarray, np.ndarray]:
    """(destination codes, known-origin migrants (codes, len(YEARS))) of the table."""
    _, destination, years, persons = _table()
    codes = np.unique(destination)
    row = np.searchsorted(codes, destination)
    col = np.searchsorted(np.array(YEARS), years)
    out = np.zeros((len(codes), len(YEARS)))
    np.add.at(out, (row, col), persons.astype(float))
    return codes, out


def totals(part: Partition) -> np.ndarray:
    """UN DESA's total migrant stock (known and unknown origins) of each region of ``part`` in
    :data:`YEARS` (R, len(YEARS)), persons: each destination of :data:`TOTALS`'s migrants of
    unknown origin spread over ``part``'s regions in proportion to the known-origin migrants
    they hold of it (module docstring)."""
    blocks = world_partition.partition()
    block_of, region_of = blocks.region_of(), part.region_of()
    codes, known = _known_by_destination()
    b = np.array([block_of[c] for c in codes])
    r = np.array([region_of[c] for c in codes])
    held = np.zeros((len(blocks.regions), len(part.regions), len(YEARS)))  # (B, R, years)
    np.add.at(held, (b, r), known)
    block_known = held.sum(axis=1)
    remainder = _destination_totals(blocks) - block_known  # (B, years)
    spread = held / np.where(block_known > 0, block_known, 1.0)[:, None, :]
    return held.sum(axis=0) + (spread * remainder[:, None, :]).sum(axis=0)  # type: ignore[no-any-return]


def unknown_origin_share(part: Partition) -> np.ndarray:
    """Each region's migrants of unknown origin over its migrants of known origin in
    :data:`YEARS` (R, len(YEARS)): UN DESA's total (:func:`totals`) less the table's pairs, over
    the pairs (0 where a region holds no known-origin migrant; never below 0, which the sums'
    rounding could give)."""
    known = np.stack([stock(part, y).sum(axis=0) for y in YEARS], axis=-1)
    unknown = np.maximum(totals(part) - known, 0.0)
    return np.where(known > 0, unknown / np.where(known > 0, known, 1.0), 0.0)  # type: ignore[no-any-return]


# --------------------------------------------------------------- net migration the stocks imply
#: Age structures of a migrant stock for its deaths (:func:`net_migration_accounting`), each
#: from the destination's WPP population by age: its residents aged 20-64 (``young``: no
#: children, no elderly, the fewest deaths), its residents of each broad age group weighted to
#: the world's migrants' (``world``: 14 % below 20, 74 % 20-64, 12 % 65 or over in 2019, 12 %
#: 65 or over since 2000; UN DESA (2019), International Migration 2019: Highlights,
#: ST/ESA/SER.A/438), the stock gathered under steady flows at the typical Rogers-Castro
#: schedule (``typical``: the model's own assumption for its 1990 stock, :func:`models.
#: migration_system.initial_migrant_stock`) and its residents aged 20 and over (``adult``: the
#: most deaths; median ages in 2019 49 in Europe, 48 in Northern America, 35 in Sub-Saharan
#: Africa, all above those of the migrants UN DESA gives for 2015: 43, 42 and Africa's 29, and
#: its share aged 65 or over of them higher than the world's migrants' in Europe, Northern
#: America and Eastern Asia).
AGE_STRUCTURES = ("young", "world", "typical", "adult")
#: The structures the bounds range over: ``young`` gives the fewest deaths everywhere; the most
#: are ``typical``'s where the residents are old (Europe, Northern America: it is older than
#: ``adult``, median 52 in Europe in 2019) and ``world``'s where they are young (its 14 % below
#: 20 at Sub-Saharan Africa's child mortality, its 12 % at 65 or over).
BOUNDS = AGE_STRUCTURES
#: Shares of the world's international migrants below 20, 20-64 and 65 or over in 2019 (UN DESA
#: 2019, above).
WORLD_AGE_SHARES = (0.14, 0.74, 0.12)
#: Women's share of the world's international migrants in 2019 (UN DESA, International Migration
#: 2019: Highlights: 47.9 %): the weight of women's hazards in a migrant stock's.
FEMALE_SHARE = 0.479
#: The pairs line of issue 14: every pair above 1 million in 2019 within 20 % of the UN's.
PAIR_THRESHOLD, PAIR_TOLERANCE = 1.0e6, 0.20
#: Its net-migration line: each region's 1990-2021 within 15 % of WPP's.
NET_TOLERANCE = 0.15
#: Period of the stocks: mid-1990 to mid-2019.
ACCOUNTING_YEARS = (1990, 2019)


def implied_net_migration(
    stocks: np.ndarray,
    unknown: np.ndarray,
    unknown_across: np.ndarray,
    death_rate: np.ndarray,
    at: Sequence[float],
    years: Sequence[float],
    abroad_unknown: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each region's net migration between the first and last of ``at`` implied by its stocks.

    The demographic accounting identity: a region's population is its natives at home plus its
    foreign-born residents ``F``; its natives anywhere change by births less their deaths; so
    its net migration is ``dF + deaths_F - dD - deaths_D``, where ``D`` is its natives living
    in other regions (returns and moves within a region cancel out).

    ``stocks`` (R, R, K): persons born in region ``o`` (rows) living in ``d`` at the times ``at``
    (K); the diagonal (moves within a region) does not count. ``unknown`` (R, K): each region's
    migrants of unknown origin, of whom the share ``unknown_across`` (R,) or (R, K) was born
    in another region. ``abroad_unknown`` (R, K): a region's natives among the other regions'
    migrants of unknown origin (default none). ``death_rate`` (R, T): deaths per person-year of
    a migrant stock living in each region in each step between the ``years`` (T + 1, from
    ``at[0]`` to ``at[-1]``); a stock's deaths are its size at the step's midpoint (linear
    between the ``at``) times that rate times the step's length, summed over the steps (natives
    among the unknown origins abroad at their region's natives abroad's mean rate).

    Returns the terms (R,) ``d_foreign``, ``deaths_foreign``, ``d_abroad``, ``deaths_abroad``
    and ``net`` (persons).
    """
    stocks = np.asarray(stocks, dtype=float)
    n = stocks.shape[0]
    across = stocks * (1.0 - np.eye(n))[..., None]
    share = np.asarray(unknown_across, dtype=float)
    share = share[:, None] if share.ndim == 1 else share
    foreign = across.sum(axis=0) + share * unknown  # (R, K)
    abroad_by_place = across  # (o, d, K): natives of o in d
    if abroad_unknown is None:
        abroad_unknown = np.zeros_like(foreign)
    edges = np.asarray(years, dtype=float)
    mid, width = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
    at = np.asarray(at, dtype=float)

    def path(values: np.ndarray) -> np.ndarray:  # (..., K) -> (..., T)
        flat = values.reshape(-1, values.shape[-1])
        return np.array([np.interp(mid, at, row) for row in flat]).reshape(
            values.shape[:-1] + (mid.size,)
        )

    deaths_foreign = (path(foreign) * death_rate * width).sum(axis=-1)
    # natives of o abroad die at the rates of where they live (d); unknown-origin natives at the
    # rates of the regions holding them, approximated by the region's own natives abroad
    deaths_by_place = (path(abroad_by_place) * death_rate[None] * width).sum(axis=(1, 2))
    abroad_known = abroad_by_place.sum(axis=1)  # (R, K)
    mean_rate = deaths_by_place / np.maximum((path(abroad_known) * width).sum(axis=-1), 1.0)
    deaths_abroad = deaths_by_place + mean_rate * (path(abroad_unknown) * width).sum(axis=-1)
    abroad = abroad_known + abroad_unknown
    out = {
        "d_foreign": foreign[:, -1] - foreign[:, 0],
        "deaths_foreign": deaths_foreign,
        "d_abroad": abroad[:, -1] - abroad[:, 0],
        "deaths_abroad": deaths_abroad,
    }
    out["net"] = out["d_foreign"] + out["deaths_foreign"] - out["d_abroad"] - out["deaths_abroad"]
    return out


def stock_death_rates(
    part: Partition, years: Sequence[float], structures: Sequence[str] = AGE_STRUCTURES
) -> dict[str, np.ndarray]:
    """Deaths per person-year (R, len(years)) of a migrant stock living in each region of
    ``part`` at each of the :data:`AGE_STRUCTURES` in ``structures``: WPP 2022's single-year
    hazards of the region in each of the calendar ``years`` (women's weighted by
    :data:`FEMALE_SHARE`) over the ages of that structure (from the region's WPP population by
    age of that year).

    Raises
    ------
    engine.SpecError
        An unknown structure (with those there are).
    """
    for structure in structures:
        if structure not in AGE_STRUCTURES:
            raise engine.SpecError(
                f"unknown age structure {structure!r} of a migrant stock; use one of "
                f"{list(AGE_STRUCTURES)}."
            )
    paths, _ = world_partition.region_paths(part, ACCOUNTING_YEARS[0])
    t = np.asarray(years, dtype=float)
    hazard = paths.hazard(t)  # (R, 2, T, 101)
    both = FEMALE_SHARE * hazard[:, 0] + (1.0 - FEMALE_SHARE) * hazard[:, 1]  # (R, T, 101)
    calendar = np.clip(np.floor(t).astype(int), paths.years[0], paths.years[-1]) - paths.years[0]
    population = np.stack(
        [
            sum(world_partition._population_by_age(c) for c in comps)[calendar]
            for comps in part.components
        ]
    )  # (R, T, 101)
    ages = np.arange(101)
    groups = [ages < 20, (ages >= 20) & (ages <= 64), ages >= 65]
    weights = {
        "young": population * groups[1],
        "world": sum(
            share * population * g / np.maximum((population * g).sum(axis=-1, keepdims=True), 1.0)
            for share, g in zip(WORLD_AGE_SHARES, groups, strict=True)
        ),
        "typical": population * np.cumsum(rogers_castro()),
        "adult": population * (ages >= 20),
    }
    return {s: (weights[s] * both).sum(axis=-1) / weights[s].sum(axis=-1) for s in structures}


def net_migration_accounting(
    part: Partition | None = None,
    pair_threshold: float = PAIR_THRESHOLD,
    pair_tolerance: float = PAIR_TOLERANCE,
) -> dict[str, np.ndarray]:
    """Net migration of every region of ``part`` (default the corridor's) from mid-1990 to
    mid-2019 implied by UN DESA's stocks alone (:func:`implied_net_migration`), against WPP's.

    Returns, persons (R,) each:

    - ``<structure>`` for each of the :data:`AGE_STRUCTURES`: the net with every stock at that
      age structure (its destination's), the migrants of unknown origin allocated over origins
      in proportion to the known ones (Abel & Cohen 2019), and the terms of the identity at
      ``world`` (``d_foreign``, ``deaths_foreign``, ``d_abroad``, ``deaths_abroad``);
    - ``low`` / ``high``: the least / most the stocks allow: each of the foreign-born and the
      natives abroad at either of the :data:`BOUNDS` (young or adult), the region's own
      migrants of unknown origin all born in another region or none, and its natives among the
      other regions' migrants of unknown origin none or twice the allocation's;
    - ``low_within_tolerance`` / ``high_within_tolerance``: the same with the 2019 stock of
      every pair across region borders above ``pair_threshold`` anywhere within
      ``pair_tolerance`` of the UN's (issue 14's pairs line: 1 million, 20 %), each region's
      pairs moved the way that lowers / raises its own net (so more room than any one model
      has: a pair moved for its destination is moved the other way for its origin);
    - ``wpp``: WPP 2022's net migration over the same period (half of 1990's, 1991-2018, half of
      2019's); ``wpp_1990_2021``: its calendar years 1990-2021 (the acceptance line's figure);
      ``bridge``: the difference (half of 1990, half of 2019, 2020 and 2021), which a model
      matching the stocks is free to match: its 1990-2021 figure is the stocks' plus the
      bridge, so the line holds only if the stocks' figure is within 15 % of
      ``wpp_1990_2021`` of ``wpp``;
    - ``deaths_needed`` / ``death_rate_needed`` (deaths per person-year of the stock): what the
      line needs (its edge, :data:`NET_TOLERANCE`), every other term at its most favourable: the
      deaths over 1990-2019 of the region's foreign-born (of other regions) where WPP's figure
      is above the stocks' at ``world``, of its natives abroad where it is below (0 where none
      are needed), over those stocks' person-years; ``crude_death_rate``: WPP's deaths over
      residents of the region, calendar years 1991-2019, to compare.
    """
    part = world_partition.partition() if part is None else part
    first, last = ACCOUNTING_YEARS
    years = YEARS[YEARS.index(first) : YEARS.index(last) + 1]
    at = [float(y) for y in years]
    stocks = np.stack([stock(part, y) for y in years], axis=-1)  # (R, R, K)
    known = stocks.sum(axis=0)  # (R, K) by destination
    unknown = np.maximum(totals(part)[:, : len(years)] - known, 0.0)
    n = len(part.regions)
    off = 1.0 - np.eye(n)
    share_across = (stocks * off[..., None]).sum(axis=0) / np.maximum(known, 1.0)  # (R, K)
    allocated = stocks / np.maximum(known[None], 1.0) * unknown[None]  # (o, d, K)
    abroad_unknown = (allocated * off[..., None]).sum(axis=1)  # (o, K)
    edges = np.arange(first, last + 1, dtype=float)  # mid-year to mid-year steps
    # the step from mid-year y to mid-year y + 1 is mostly in calendar year y + 1
    rates = stock_death_rates(part, edges[1:])

    def net(moved: np.ndarray, f: str, d: str, share: np.ndarray, abroad: np.ndarray):
        return foreign_side(moved, f, share) - abroad_side(moved, d, abroad)

    def foreign_side(moved: np.ndarray, structure: str, share: np.ndarray) -> np.ndarray:
        terms = implied_net_migration(moved, unknown, share, rates[structure], at, edges)
        return terms["d_foreign"] + terms["deaths_foreign"]  # type: ignore[no-any-return]

    def abroad_side(moved: np.ndarray, structure: str, abroad: np.ndarray) -> np.ndarray:
        terms = implied_net_migration(
            moved, unknown, share_across, rates[structure], at, edges, abroad
        )
        return terms["d_abroad"] + terms["deaths_abroad"]  # type: ignore[no-any-return]

    out: dict[str, np.ndarray] = {}
    for s in AGE_STRUCTURES:
        out[s] = net(stocks, s, s, share_across, abroad_unknown)
    terms = implied_net_migration(
        stocks, unknown, share_across, rates["world"], at, edges, abroad_unknown
    )
    out.update({k: terms[k] for k in ("d_foreign", "deaths_foreign", "d_abroad", "deaths_abroad")})

    def extremes(moved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(least, most) net of every region: the two sides' choices are independent."""
        into = np.array(
            [foreign_side(moved, f, np.full(n, share)) for f in BOUNDS for share in (0.0, 1.0)]
        )
        away = np.array(
            [abroad_side(moved, d, abroad_unknown * scale) for d in BOUNDS for scale in (0.0, 2.0)]
        )
        return into.min(axis=0) - away.max(axis=0), into.max(axis=0) - away.min(axis=0)

    out["low"], out["high"] = extremes(stocks)
    big = (stocks[..., -1] > pair_threshold) * off  # (o, d) pairs the line checks
    low, high = np.empty(n), np.empty(n)
    for i in range(n):
        for sign in (-1.0, 1.0):  # -1: fewer of region i's foreign-born, more of its natives abroad
            moved = stocks.copy()
            moved[:, i, -1] *= 1.0 + sign * pair_tolerance * big[:, i]
            moved[i, :, -1] *= 1.0 - sign * pair_tolerance * big[i, :]
            least, most = extremes(moved)
            if sign < 0:
                low[i] = least[i]
            else:
                high[i] = most[i]
    out["low_within_tolerance"], out["high_within_tolerance"] = low, high
    yearly = world_partition.wpp_totals(part, "net_migration", first, 2021)  # (R, years)
    span = last - first
    out["wpp"] = 0.5 * yearly[:, 0] + yearly[:, 1:span].sum(axis=1) + 0.5 * yearly[:, span]
    out["wpp_1990_2021"] = yearly.sum(axis=1)
    out["bridge"] = out["wpp_1990_2021"] - out["wpp"]
    # the deaths the line needs (the other terms at their most favourable): of the foreign-born
    # where WPP's figure is above the stocks' central one, of the natives abroad where below
    line = NET_TOLERANCE * np.abs(out["wpp_1990_2021"])
    into = [
        implied_net_migration(stocks, unknown, np.full(n, share), rates[f], at, edges)
        for f in BOUNDS
        for share in (0.0, 1.0)
    ]
    away = [
        implied_net_migration(
            stocks, unknown, share_across, rates[d], at, edges, abroad_unknown * c
        )
        for d in BOUNDS
        for c in (0.0, 2.0)
    ]

    def most(terms: list[dict[str, np.ndarray]], key: str, pick=np.max) -> np.ndarray:
        return pick([t[key] for t in terms], axis=0)  # type: ignore[no-any-return]

    need_foreign = (out["wpp"] - line) - (
        most(into, "d_foreign")
        - most(away, "d_abroad", np.min)
        - most(away, "deaths_abroad", np.min)
    )
    need_abroad = (
        most(into, "d_foreign", np.min)
        + most(into, "deaths_foreign", np.min)
        - most(away, "d_abroad")
        - (out["wpp"] + line)
    )
    mid = 0.5 * (edges[1:] + edges[:-1])
    across = stocks * off[..., None]
    years_foreign = np.array([np.interp(mid, at, row).sum() for row in across.sum(axis=0)])
    years_abroad = np.array([np.interp(mid, at, row).sum() for row in across.sum(axis=1)])
    above = out["wpp"] > out["world"]  # the foreign-born must die more, else the natives abroad
    needed = np.maximum(np.where(above, need_foreign, need_abroad), 0.0)
    out["deaths_needed"] = needed
    out["death_rate_needed"] = needed / np.where(above, years_foreign, years_abroad)
    calendar = np.arange(first + 1, last + 1)  # the steps' calendar years
    deaths = world_partition.wpp_totals(part, "deaths", first + 1, last).sum(axis=1)
    residents = np.array(
        [
            sum(world_partition._population_by_age(c) for c in comps)[
                calendar - wpp.FIRST_YEAR
            ].sum()
            for comps in part.components
        ]
    )
    out["crude_death_rate"] = deaths / residents
    return out


def main() -> None:
    """Print :func:`net_migration_accounting` of the default partition (millions; per 1000)."""
    part = world_partition.partition()
    acc = net_migration_accounting(part)
    scale = np.abs(acc["wpp_1990_2021"])

    def beyond(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(low - acc["wpp"], acc["wpp"] - high), 0.0) / scale

    at_stocks = beyond(acc["low"], acc["high"])
    at_tolerance = beyond(acc["low_within_tolerance"], acc["high_within_tolerance"])
    print(
        "net migration mid-1990 to mid-2019 implied by the UN's stocks (millions): range, at "
        + ", ".join(AGE_STRUCTURES)
        + "; WPP's; beyond the range in % of WPP's 1990-2021 (at the UN's stocks, with the "
        "pairs' tolerance); deaths per 1000 a year the line needs against the region's"
    )
    for i, name in enumerate(part.regions):
        print(
            f"  {name[:30]:30s} {acc['low'][i] / 1e6:+6.1f} .. {acc['high'][i] / 1e6:+6.1f}  "
            + " ".join(f"{acc[s][i] / 1e6:+6.1f}" for s in AGE_STRUCTURES)
            + f"  WPP {acc['wpp'][i] / 1e6:+6.1f}"
            f" (1990-2021 {acc['wpp_1990_2021'][i] / 1e6:+6.1f})"
            f"  {100 * at_stocks[i]:5.1f} % {100 * at_tolerance[i]:5.1f} %"
            f"  {1000 * acc['death_rate_needed'][i]:6.1f}"
            f" / {1000 * acc['crude_death_rate'][i]:4.1f}"
        )


if __name__ == "__main__":
    main()
