#!/usr/bin/env python3
"""Regenerate ``un_migrant_stock_2019.csv.gz``: migrant stock by origin and destination, 1990-2019.

Build-time only: reads ``../shared/data/un_migrant_stock_2019/bilateral_stock_1990_2019.csv``
(UN DESA International Migrant Stock 2019, POP/DB/MIG/Stock/Rev.2019, table of migrant stock at
mid-year by destination and origin, in the tidy copy of guyabel/stepladderChapter; see
``models/data/README.md``) and writes a long table ``origin_code, destination_code, year,
persons`` with WPP 2022 location codes (:mod:`models.wpp`), one row per non-zero pair and year
(1990, 1995, 2000, 2005, 2010, 2015, 2019). It also writes ``wpp2022_aggregate_members.csv``
(``aggregate_code, country_code``): the countries of each of WPP 2022's aggregates that are
not geographic regions (SDG regions, development and income groups), from the ``agcode_*``
columns of ``../shared/data/wpp2022/UNlocations.txt``, so that a partition of the world
(:mod:`models.world_partition`) can use them. Usage (from the repository root)::

    python models/data/build_migrant_stock.py        # --source FILE, --wpp DIR, --out DIR

Names are the UN's, as in WPP 2022's ``UNlocations.txt``, except those reconciled here, every
one explicitly (the script fails on any other name):

- ``Turkey`` is WPP 2022's ``Türkiye`` (792).
- ``Channel Islands`` (M49 830, not a WPP 2022 location): split between ``Guernsey`` (831) and
  ``Jersey`` (832) in proportion to their WPP 2022 population of the year, both as origin and as
  destination.
- The destination rows ``Caribbean``, ``Melanesia``, ``Micronesia``, ``Polynesia`` and ``South
  America`` are subregions, each the sum of its countries' rows (checked here to 1 person for
  every year): left out, as they would count those migrants twice. (The totals "over all pairs"
  in ``../shared/data/README.md`` include them: 2019 270.0 million; without them 260.3 million.)
- WPP 2022 countries with no row or column of their own: ``China, Taiwan Province of China``,
  ``Kosovo (under UNSC res. 1244)`` (counted with Serbia by the UN), ``Saint Barthélemy`` and
  ``Saint Martin (French part)`` (with Guadeloupe), ``Guernsey`` and ``Jersey`` (as the Channel
  Islands, above). They get no rows; a region containing them counts them through the country
  the UN counts them with (which is in the same WPP subregion), Taiwan's migrants are missing.

Values: ``..`` (no figure given by the UN: 134 cells in 1990 and 1995, 55 in 2000, 15 in 2005,
3 in 2010; mostly Slovenia, Sint Maarten, South Sudan and Barbados as destinations, before they
reported) take the pair's figure of the nearest year that has one (later years first), so that
a region's stock does not jump when a country starts to report; ``-`` (4 cells, Albanians in
Montenegro 1990-2005) is zero. Gzip timestamps are zero, so a rerun is byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SOURCE = (
    HERE.parents[2] / "shared" / "data" / "un_migrant_stock_2019" / "bilateral_stock_1990_2019.csv"
)
WPP = HERE.parents[2] / "shared" / "data" / "wpp2022"
OUT_NAME = "un_migrant_stock_2019.csv.gz"
MEMBERS_NAME = "wpp2022_aggregate_members.csv"
RENAMED = {"Turkey": "Türkiye"}
SPLIT = {"Channel Islands": ("Guernsey", "Jersey")}
AGGREGATE_ROWS = ("Caribbean", "Melanesia", "Micronesia", "Polynesia", "South America")


def read_source(path: Path) -> pd.DataFrame:
    """The UN table as (year, destination) x origin, ``..`` as NaN, ``-`` as 0."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.set_index(["Year", "Dest"])
    values = raw.replace({"..": np.nan, "-": "0"}).apply(pd.to_numeric)
    values.index = values.index.set_levels(values.index.levels[0].astype(int), level=0)
    return values


def fill_missing(values: pd.DataFrame) -> pd.DataFrame:
    """Each ``..`` takes the pair's figure of the nearest year with one (later years first)."""
    years = sorted(values.index.get_level_values(0).unique())
    out = values.copy()
    for dest in values.index.get_level_values(1).unique():
        block = values.xs(dest, level=1).reindex(years)
        if not block.isna().any().any():
            continue
        filled = block.copy()
        for i, year in enumerate(years):
            row = filled.loc[year]
            for j in sorted(range(len(years)), key=lambda k: (abs(k - i), -k)):
                if not row.isna().any():
                    break
                row = row.fillna(block.iloc[j])
            filled.loc[year] = row.fillna(0.0)
        for year in years:
            out.loc[(year, dest)] = filled.loc[year].to_numpy()
    return out


def population_share(parts: tuple[str, ...], year: int) -> np.ndarray:
    """Shares of ``parts`` in their WPP 2022 population of ``year`` (models.wpp)."""
    sys.path.insert(0, str(HERE.parents[1]))
    from models import wpp

    pop = np.array([wpp.population_groups(p, year).sum() for p in parts])
    return pop / pop.sum()  # type: ignore[no-any-return]


def build(source: Path, out: Path) -> pd.DataFrame:
    values = read_source(source)
    index = pd.read_csv(HERE / "wpp2022_location_index.csv")
    countries = index[index["kind"] == "country"]
    code = dict(zip(index["location"], index["location_code"], strict=True))
    country_code = dict(zip(countries["location"], countries["location_code"], strict=True))
    # subregion rows are their countries' sums: check, then drop
    for name in AGGREGATE_ROWS:
        members = countries.loc[countries["subregion_code"] == code[name], "location"]
        rows = values.index.get_level_values(1)
        by_members = values[rows.isin(members)].groupby(level=0).sum().sum(axis=1)
        own = values.xs(name, level=1).sum(axis=1)
        gap = (by_members - own).abs().max()
        if gap > 1.0:
            raise SystemExit(f"{name}: its row differs from its countries' by {gap} persons")
    values = values[~values.index.get_level_values(1).isin(AGGREGATE_ROWS)]
    values = fill_missing(values)
    long = values.stack().rename("persons").reset_index()
    long.columns = ["year", "destination", "origin", "persons"]
    long = long[long["persons"] > 0]
    parts = []
    for name, pieces in SPLIT.items():
        for side in ("origin", "destination"):
            hit = long[long[side] == name]
            long = long[long[side] != name]
            for year, rows in hit.groupby("year"):
                for piece, share in zip(pieces, population_share(pieces, int(year)), strict=True):
                    part = rows.copy()
                    part[side] = piece
                    part["persons"] = part["persons"] * share
                    parts.append(part)
    long = pd.concat([long, *parts])
    for side in ("origin", "destination"):
        long[side] = long[side].replace(RENAMED)
        unknown = sorted(set(long[side]) - set(country_code))
        if unknown:
            raise SystemExit(f"{side} names not reconciled with WPP 2022: {unknown}")
        long[f"{side}_code"] = long[side].map(country_code)
    table = (
        long.groupby(["origin_code", "destination_code", "year"])["persons"]
        .sum()
        .round()
        .astype(np.int64)
        .reset_index()
    )
    table = table[table["persons"] > 0].sort_values(["origin_code", "destination_code", "year"])
    path = out / OUT_NAME
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return table


def build_members(wpp_dir: Path, out: Path) -> pd.DataFrame:
    """Countries (location_type 4) of each ``agcode_*`` aggregate of ``UNlocations.txt``."""
    table = pd.read_csv(wpp_dir / "UNlocations.txt", sep="\t")
    countries = table[table["location_type"] == 4]
    rows = []
    for column in sorted(c for c in table.columns if c.startswith("agcode_")):
        aggregate = int(column.removeprefix("agcode_")) // 1000
        member = countries.loc[countries[column] > 0, "country_code"]
        rows += [(aggregate, int(c)) for c in member]
    members = pd.DataFrame(rows, columns=["aggregate_code", "country_code"])
    members = members.sort_values(["aggregate_code", "country_code"])
    members.to_csv(out / MEMBERS_NAME, index=False, lineterminator="\n")
    return members


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--source", type=Path, default=SOURCE, help="the UN's bilateral table")
    ap.add_argument("--wpp", type=Path, default=WPP, help="WPP 2022 files (UNlocations.txt)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder")
    args = ap.parse_args()
    members = build_members(args.wpp, args.out)
    print(f"{members['aggregate_code'].nunique()} aggregates, {len(members)} memberships")
    table = build(args.source, args.out)
    totals = table.groupby("year")["persons"].sum() / 1e6
    print(f"{len(table)} rows; world totals (million):")
    print(totals.round(2).to_string())


if __name__ == "__main__":
    main()
