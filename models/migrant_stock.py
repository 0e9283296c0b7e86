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
"""

from __future__ import annotations

import csv
import gzip
from functools import cache

import numpy as np

import engine

from . import world_partition, wpp
from .world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO, Partition

__all__ = ["stock", "totals", "unknown_origin_share", "YEARS", "TOTALS"]

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
