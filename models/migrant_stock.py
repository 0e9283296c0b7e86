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
"""

from __future__ import annotations

import csv
import gzip
from functools import cache

import numpy as np

import engine

from . import wpp
from .world_partition import Partition

__all__ = ["stock", "YEARS"]

YEARS = (1990, 1995, 2000, 2005, 2010, 2015, 2019)


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
