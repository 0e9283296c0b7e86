"""The closed migration system (issue 14): partition, migrant stock data, closure, calibration.

Reference figures: UN DESA (2019), International Migrant Stock 2019 (``models/data/
un_migrant_stock_2019.csv.gz``, from ``../shared/data/un_migrant_stock_2019``); United Nations,
DESA, Population Division (2022), World Population Prospects 2022 (``models/data/wpp2022_*``).
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

import engine
from models import (
    migrant_stock,
    migration_ages,
    migration_calibration,
    migration_system,
    vital_rates,
    world_partition,
    wpp,
)
from models.data import unknown_origin
from models.world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO, Derived, partition

SMALL = ("Mexico", CENTRAL_AMERICA_WITHOUT_MEXICO, "Northern America")
SHARED_STOCK = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "un_migrant_stock_2019"
    / "bilateral_stock_1990_2019.csv"
)


# ------------------------------------------------------------------------------ the partition
def test_default_partition_covers_every_country_once() -> None:
    part = partition()
    codes = [c for region in part.countries for c in region]
    every = world_partition.countries_of("World")
    assert len(codes) == len(set(codes)) == len(every) == 237
    assert set(codes) == every
    assert part.regions[-1] == world_partition.REST_OF_WORLD
    assert part.components[-1] == ("Oceania",)
    assert part.components[3] == (
        "Belize",
        "Costa Rica",
        "El Salvador",
        "Guatemala",
        "Honduras",
        "Nicaragua",
        "Panama",
    )


def test_default_regions_are_the_largest_sources_of_europe_and_northern_america() -> None:
    """Beyond the two corridors, the explicit regions are the WPP subregions from which more
    than 5 million people lived in Europe and Northern America in 2019 (UN DESA 2019)."""
    subregions = partition(wpp.SUBREGIONS)
    stock = migrant_stock.stock(subregions, 2019)
    names = list(subregions.regions)
    rich = [names.index(n) for n in names if n in wpp.SUBREGIONS[10:14] + ("Northern America",)]
    seeds = {"Northern Africa", "Central America", "Northern America"} | set(wpp.SUBREGIONS[:5])
    seeds |= set(wpp.SUBREGIONS[10:14])  # Europe's subregions
    large = {n for i, n in enumerate(names) if n not in seeds and stock[i, rich].sum() > 5e6}
    explicit = {r for r in world_partition.CORRIDOR_REGIONS if isinstance(r, str)}
    assert large == explicit - {
        "Northern Africa",
        "Sub-Saharan Africa",
        "Mexico",
        "Europe",
        "Northern America",
    }


def test_overlap_names_both_regions() -> None:
    with pytest.raises(engine.SpecError, match="'Central America' and 'Mexico' overlap"):
        partition(["Central America", "Mexico"])
    with pytest.raises(engine.SpecError, match="'Europe' and 'High-income countries' overlap"):
        partition(["Europe", "High-income countries"])
    with pytest.raises(engine.SpecError, match="not part of"):
        partition([Derived("x", "Europe", ("Mexico",))])
    with pytest.raises(engine.SpecError, match="Did you mean|unknown"):
        partition(["Eurpe"])


def test_rest_of_world_is_omitted_when_nothing_is_left() -> None:
    part = partition(
        [
            "Africa",
            "Asia",
            "Europe",
            "Latin America and the Caribbean",
            "Northern America",
            "Oceania",
        ]
    )
    assert world_partition.REST_OF_WORLD not in part.regions


@pytest.mark.parametrize("column", ["births", "deaths", "net_migration", "population"])
def test_regions_sum_to_the_world(column: str) -> None:
    first, last = (2022, 2030) if column == "population" else (1990, 2030)
    by_region = world_partition.wpp_totals(partition(), column, first, last)
    regions = by_region.sum(axis=0)
    world = wpp.annual("World", column, first, last) * 1000.0
    # the World's net migration is 0: compare with the regions' own
    scale = np.abs(by_region).sum(axis=0) if column == "net_migration" else world
    # WPP rounds every location's figures: up to 200 persons a year of net migration apart
    assert np.all(np.abs(regions - world) / scale < 1e-4)


def test_base_population_sums_to_the_world() -> None:
    """The regions' base populations (single years, both sexes) add up to WPP's World."""
    _, initial = world_partition.region_paths(partition(), 1990)
    world = vital_rates.initial_population(vital_rates.input_paths(["World"]), 1990)
    assert initial.sum() == pytest.approx(world.sum(), rel=1e-5)
    by_age = initial.sum(axis=(0, 1))
    assert np.allclose(by_age, world.sum(axis=(0, 1)), rtol=0.01, atol=1e3)


def test_aggregated_rates_reproduce_wpp_aggregate() -> None:
    """Central America's eight countries aggregated as the rest of the world is aggregated:
    WPP's own Central America (its aggregate of the same countries) within a small margin."""
    everyone = world_partition.countries_of("Central America")
    names = tuple(world_partition._country_name(c) for c in sorted(everyone))
    part = world_partition.Partition(("Central America",), (everyone,), (names,))
    paths, initial = world_partition.region_paths(part, 2000)
    own = vital_rates.input_paths(["Central America"])
    k = [int(y) for y in paths.years].index(2000)
    assert np.allclose(paths.e0[0, :, k], own.e0[0, :, k], atol=0.3)  # years
    assert paths.tfr[0, k] == pytest.approx(own.tfr[0, k], rel=0.02)
    pop = sum(wpp.population_groups(c, 2000).sum() for c in names)
    assert initial.sum() == pytest.approx(pop, rel=1e-3)


# ------------------------------------------------------------------------------ the data
def test_stock_table_reconciles_names_and_totals() -> None:
    part = partition()
    for year in migrant_stock.YEARS:
        pairs = migrant_stock.stock(part, year)
        world = migrant_stock.stock(partition(["World"]), year)
        assert world.shape == (1, 1)
        assert pairs.sum() == pytest.approx(world[0, 0], rel=1e-12)
        assert np.all(pairs >= 0)
    # UN DESA 2019: 271.6 million in 2019 including 11.4 million of unknown origin
    assert migrant_stock.stock(part, 2019).sum() / 1e6 == pytest.approx(260.3, abs=0.1)
    with pytest.raises(engine.SpecError, match="years are"):
        migrant_stock.stock(part, 2020)


def test_unknown_origin_totals_are_un_desa_s() -> None:
    """UN DESA, International Migrant Stock 2019 (and its International Migration 2019:
    Highlights): 153.0 million international migrants in 1990, 271.6 million in 2019. The
    totals by region of destination (models.migrant_stock.TOTALS) sum to them, and each
    region's total is at least its migrants of known origin (the remainder is unknown)."""
    part = partition()
    totals = migrant_stock.totals(part)
    assert totals[:, 0].sum() == 153_011_473
    assert totals[:, -1].sum() == 271_642_105
    remainder, _ = unknown_origin.added_net_migration(part)
    assert np.all(remainder >= 0)
    assert remainder[:, -1].sum() / 1e6 == pytest.approx(271.6 - 260.3, abs=0.1)


@pytest.mark.parametrize(
    "regions",
    [
        SMALL,
        ("Africa", "Asia", "Europe", "Latin America and the Caribbean", "Northern America"),
        ("Western Africa", "Eastern Europe", "India"),
    ],
)
def test_totals_of_any_partition_sum_to_un_desa_s(regions) -> None:
    """The UN's totals are by region of destination of the default partition; another
    partition's regions take each destination's migrants of unknown origin in proportion to the
    known-origin migrants they hold of it: every year they sum to UN DESA's world total, each
    region holds at least its known-origin migrants, and a region that is a destination of the
    default partition (Northern America, Europe, Mexico) gets exactly the UN's figure."""
    part = partition(regions)
    totals = migrant_stock.totals(part)
    world = migrant_stock.totals(partition()).sum(axis=0)
    assert np.allclose(totals.sum(axis=0), world, rtol=1e-12)
    known = np.stack([migrant_stock.stock(part, y).sum(axis=0) for y in migrant_stock.YEARS], -1)
    assert np.all(totals >= known - 1e-6)
    share = migrant_stock.unknown_origin_share(part)
    assert np.allclose(known * (1 + share), totals, rtol=1e-12)
    for name in ("Northern America", "Europe", "Mexico"):
        if name in part.regions:
            row = totals[part.regions.index(name)]
            assert np.allclose(row, migrant_stock.TOTALS[name], rtol=1e-12)


def test_unknown_origins_do_not_close_the_net_migration_gaps() -> None:
    """Allocated over origins in proportion to the known ones (Abel & Cohen 2019), the
    migrants of unknown origin change the net migration 1990-2019 of the four regions that
    miss WPP's by 17-26 % (test_net_migration_1990_2021) by less than 2.5 % of WPP's figure:
    they are not why those regions miss."""
    part = partition()
    _, added = unknown_origin.added_net_migration(part)
    target = world_partition.wpp_totals(part, "net_migration", 1990, 2021).sum(axis=1)
    names = list(part.regions)
    for region in ("Europe", "Northern America", "Southern Asia", "Sub-Saharan Africa"):
        i = names.index(region)
        assert abs(added[i]) < 0.025 * abs(target[i]), region


# ------------------------------------------------------ net migration the stocks imply (data only)
def test_accounting_identity_on_a_hand_case() -> None:
    """Two regions A, B over one year: born in A living in B 10 -> 20, dying at 0.1 a year in B
    (15 on average: 1.5 deaths); born in B living in A 5 throughout, not dying; A's migrants of
    unknown origin 4 -> 8, half of them born in B (B's natives among them 2 -> 4); moves within A
    (100 -> 300) do not count. Net migration = dF + deaths_F - dD - deaths_D."""
    stocks = np.zeros((2, 2, 2))
    stocks[0, 1] = (10.0, 20.0)
    stocks[1, 0] = (5.0, 5.0)
    stocks[0, 0] = (100.0, 300.0)
    unknown = np.array([[4.0, 8.0], [0.0, 0.0]])
    abroad_unknown = np.array([[0.0, 0.0], [2.0, 4.0]])
    rate = np.array([[0.0], [0.1]])
    out = migrant_stock.implied_net_migration(
        stocks, unknown, np.array([0.5, 0.0]), rate, [0.0, 1.0], [0.0, 1.0], abroad_unknown
    )
    assert out["d_foreign"] == pytest.approx([2.0, 10.0])
    assert out["deaths_foreign"] == pytest.approx([0.0, 1.5])
    assert out["d_abroad"] == pytest.approx([10.0, 2.0])
    assert out["deaths_abroad"] == pytest.approx([1.5, 0.0])
    assert out["net"] == pytest.approx([-9.5, 9.5])


def test_accounting_identity_closes_over_the_world() -> None:
    """Without migrants of unknown origin, what one region's foreign-born gain (and lose to
    death) its origins' natives abroad gain (and lose): the implied nets sum to zero."""
    rng = np.random.default_rng(14)
    stocks = rng.uniform(0.0, 1e6, size=(5, 5, 4))
    rate = rng.uniform(0.002, 0.03, size=(5, 9))
    out = migrant_stock.implied_net_migration(
        stocks, np.zeros((5, 4)), np.zeros(5), rate, [0.0, 3.0, 6.0, 9.0], np.arange(10.0)
    )
    assert abs(out["net"].sum()) < 1e-9 * np.abs(out["net"]).sum()
    assert np.abs(out["net"]).max() > 1e5  # not zero everywhere


@pytest.mark.slow
def test_wpp_net_migration_against_what_the_stocks_allow() -> None:
    """Issue 14's net-migration line (each region's 1990-2021 within 15 % of WPP's) against the
    UN's stocks, data only (``migrant_stock.net_migration_accounting``): by the accounting
    identity, mid-1990 to mid-2019, with migrants' deaths at WPP 2022's rates of where they live
    at any of the age structures from the residents aged 20-64 to the oldest of those aged 20
    and over and the typical schedule's stock, and the migrants of unknown origin either way,
    against WPP's net migration of the same period (a model matching the stocks is free to
    match WPP's 2019-2021, so the line's 15 % is of WPP's 1990-2021 figure). Measured
    2026-12-03, millions, the stocks' range against WPP's: Sub-Saharan Africa -1.5 to -7.2
    against -13.4 (6.2 beyond: 43 % of WPP's 1990-2021 -14.4), Southern Asia -24.4 to -30.8
    against -39.7 (21 %), Europe +15.9 to +32.6 against +36.0 (8 %), Northern America +32.8 to
    +46.0 against +46.3 (1 %); beyond 15 % also Western Asia (+14.5 to +21.2 against +10.5:
    51 %), South-Eastern Asia (-8.2 to -12.0 against -1.8: 329 %), Mexico (18 %), Eastern Asia
    (18 %) and Central Asia (17 %): 7 of 14. With the 2019 stock of every pair above 1 million
    anywhere within 20 % (issue 14's pairs line), moved for each region the way that helps it,
    Sub-Saharan Africa is still 30 % and South-Eastern Asia 148 % beyond: no model that starts
    from the UN's 1990 stocks and keeps the pairs below 1 million near the UN's meets both
    lines. Southern Asia is within reach only with its pairs near their tolerance's edge (6 %).
    The migrants' deaths 1990-2019 the line needs, every other term at its most favourable
    (``death_rate_needed``): Sub-Saharan Africa's natives abroad 39 per 1000 a year and Southern
    Asia's 18, above every region's crude death rate (at most Sub-Saharan Africa's 12.3, WPP
    1991-2019); Europe's foreign-born 14.7, above the crude death rate of all Europe's residents
    (11.2; migrants die less than natives of their age: Aldridge et al. 2018's pooled SMR 0.70);
    Northern America's foreign-born 7.6, below its residents' 8.2 (not excluded by WPP's data
    alone)."""
    part = partition()
    acc = migrant_stock.net_migration_accounting(part)
    names = list(part.regions)
    scale = np.abs(acc["wpp_1990_2021"])

    def beyond(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(low - acc["wpp"], acc["wpp"] - high), 0.0) / scale

    for structure in migrant_stock.AGE_STRUCTURES:  # the world is closed (unknown origins aside)
        assert abs(acc[structure].sum()) < 1e5
        assert np.all((acc["low"] <= acc[structure]) & (acc[structure] <= acc["high"]))
    assert np.allclose(acc["wpp"] + acc["bridge"], acc["wpp_1990_2021"])
    at_stocks = beyond(acc["low"], acc["high"])
    at_tolerance = beyond(acc["low_within_tolerance"], acc["high_within_tolerance"])
    assert np.all(at_tolerance <= at_stocks)
    assert at_stocks[names.index("Sub-Saharan Africa")] > 0.15
    assert at_stocks[names.index("Southern Asia")] > 0.15
    assert at_stocks[names.index("Europe")] < 0.15
    assert at_stocks[names.index("Northern America")] < 0.15
    for region in ("Sub-Saharan Africa", "South-Eastern Asia"):
        assert at_tolerance[names.index(region)] > 0.15, region
    # the migrants' deaths the line would need, every other term at its most favourable
    rate, crude = acc["death_rate_needed"], acc["crude_death_rate"]
    for region in ("Sub-Saharan Africa", "Southern Asia"):  # natives abroad
        assert rate[names.index(region)] > crude.max(), region
    europe = names.index("Europe")  # foreign-born
    assert rate[europe] > crude[europe]


def test_stock_death_rates_of_the_age_structures() -> None:
    """The residents aged 20-64 die least in every region and year, and those aged 20 and over
    more; an unknown structure is an error naming the known ones."""
    part = partition()
    rates = migrant_stock.stock_death_rates(part, [1991.0, 2019.0])
    for structure in migrant_stock.AGE_STRUCTURES:
        assert np.all(rates["young"] <= rates[structure])
    assert np.all(rates["young"] < 0.9 * rates["adult"])
    with pytest.raises(engine.SpecError, match="young"):
        migrant_stock.stock_death_rates(part, [2000.0], ("elderly",))


def test_shipped_stock_equals_the_source_table() -> None:
    """Every country pair of the shipped table is the UN's figure (the source, summed)."""
    if not SHARED_STOCK.exists():
        pytest.skip(f"{SHARED_STOCK} absent (see shared/data/README.md)")
    import pandas as pd

    raw = pd.read_csv(SHARED_STOCK, na_values=["..", "-"])
    raw = raw[raw["Year"] == 2019].set_index("Dest")
    mexico_in_usa = raw.loc["United States of America", "Mexico"]
    with gzip.open(wpp.DATA / "un_migrant_stock_2019.csv.gz", "rt") as fh:
        table = pd.read_csv(fh)
    row = table[
        (table["origin_code"] == 484) & (table["destination_code"] == 840) & (table["year"] == 2019)
    ]
    assert row["persons"].item() == mexico_in_usa
    turkey = table[(table["origin_code"] == 792) & (table["year"] == 2019)]["persons"].sum()
    # the five subregion rows repeat their countries; the Channel Islands are split in two
    subregions = ["Caribbean", "Melanesia", "Micronesia", "Polynesia", "South America"]
    assert turkey == pytest.approx(raw["Turkey"].drop(subregions).sum(), abs=2)


# ------------------------------------------------------------------------------ closure
@pytest.fixture(scope="module")
def small_run() -> tuple[engine.Model, object]:
    model = migration_system.build(SMALL, start=1990.0, stop=2000.0)
    ds = engine.simulate(
        model,
        outputs=[
            "population",
            "births",
            "deaths",
            "emigration",
            "immigration",
            "net_migration",
            "migrant_stock",
            "migration_flow",
            "return_migration",
            "migrant_deaths",
            "migrant_stock_total",
            "unknown_origin_migrants",
            "international_migrant_stock",
        ],
    )
    return model, ds


def test_net_migration_sums_to_zero_every_year(small_run) -> None:
    _, ds = small_run
    net = ds["net_migration"].sum(("sex", "age"))
    gross = ds["emigration"].sum(("region", "sex", "age"))
    assert float(gross.min()) > 0
    assert float(np.abs(net.sum("region") / gross).max()) < 1e-9


def test_people_are_conserved(small_run) -> None:
    """Summed over regions, the population changes by births - deaths only; by age and sex,
    emigrants and immigrants are the same people (no one ages or changes sex in transit)."""
    _, ds = small_run
    emig = ds["emigration"].sum("region")
    immig = ds["immigration"].sum("region")
    assert float(np.abs(emig - immig).max() / emig.sum(("sex", "age")).min()) < 1e-9
    total = ds["population"].sum(("region", "sex", "age")).values
    change = total[1:] - total[:-1]
    natural = (
        ds["births"].sum(("region", "sex", "age")) - ds["deaths"].sum(("region", "sex", "age"))
    ).values[:-1]
    assert np.allclose(change, natural, rtol=1e-9, atol=1e-6 * total[0])


def test_migrant_stock_accounting(small_run) -> None:
    """Each pair's stock changes by arrivals - returns - deaths (ageing moves, never loses)."""
    _, ds = small_run
    stock = ds["migrant_stock"].sum(("sex", "age")).values
    net = (
        (ds["migration_flow"] - ds["return_migration"] - ds["migrant_deaths"])
        .sum(("sex", "age"))
        .values
    )
    assert np.allclose(stock[1:] - stock[:-1], net[:-1], rtol=1e-9, atol=1e-6)


def test_returns_are_the_return_rate_of_the_stock_at_young_ages(small_run) -> None:
    """Each pair returns ``return_rate`` of its stock a year, spread over the stock's ages by
    the Rogers-Castro schedule: returnees are younger than the stock they leave (OECD 2008:
    most returns come within a few years of arrival)."""
    model, ds = small_run
    ages = np.arange(101)
    stock = ds["migrant_stock"].sel(time=1995.0).sum("sex").values  # (O, D, age)
    back = ds["return_migration"].sel(time=1995.0).sum("sex").values
    rate = float(np.asarray(model["return_rate"].value))
    assert np.allclose(back.sum(-1), rate * stock.sum(-1), rtol=1e-9, atol=1e-9)
    off = (1.0 - np.eye(stock.shape[0]))[..., None]
    mean_stock = (ages * stock * off).sum() / (stock * off).sum()
    mean_back = (ages * back * off).sum() / (back * off).sum()
    assert mean_back < mean_stock - 3


def test_net_migration_is_stock_change_plus_deaths_on_both_sides(small_run) -> None:
    """A region's net migration over a period is the change in its foreign-born stock plus their
    deaths, minus the change in its natives abroad plus theirs (moves within a region left out):
    returns cancel out, so with the stocks fixed only migrants' deaths move it."""
    _, ds = small_run
    off = 1.0 - np.eye(ds.sizes["origin"])
    stock = ds["migrant_stock"].sum(("sex", "age")).values * off  # (T, O, D)
    died = ds["migrant_deaths"].sum(("sex", "age")).values * off
    net = ds["net_migration"].sum(("sex", "age")).values  # (T, R)
    first, last = 0, stock.shape[0] - 1  # flows of the steps first .. last - 1
    into = stock[last].sum(axis=0) - stock[first].sum(axis=0) + died[first:last].sum(axis=(0, 1))
    out = stock[last].sum(axis=1) - stock[first].sum(axis=1) + died[first:last].sum(axis=(0, 2))
    assert np.allclose(net[first:last].sum(axis=0), into - out, rtol=1e-9, atol=1e-3)


def test_international_migrant_stock_is_un_desa_s_total(small_run) -> None:
    """The regions' migrants of unknown origin are their share of the known-origin migrants
    (UN DESA's total less its table by origin, over the table; linear between the UN's years),
    at the known-origin migrants' sexes and ages: at the start every region's international
    migrant stock is UN DESA's total (world 1990: 153.0 million), and at each UN year the
    unknown-origin migrants are that year's share of the model's known-origin migrants."""
    model, ds = small_run
    part = partition(SMALL)
    totals = migrant_stock.totals(part)
    start = ds["international_migrant_stock"].sel(time=1990.0).values
    assert np.allclose(start, totals[:, 0], rtol=1e-12)
    share = migrant_stock.unknown_origin_share(part)
    known = ds["migrant_stock"].sum("origin")  # (time, destination, sex, age)
    unknown = ds["unknown_origin_migrants"]
    for year, k in ((1995.0, 1), (2000.0, 2)):
        expected = share[:, k, None, None] * known.sel(time=year).values
        assert np.allclose(unknown.sel(time=year).values, expected, rtol=1e-12, atol=1e-9)
    between = unknown.sel(time=1993.0).sum(("sex", "age")) / known.sel(time=1993.0).sum(
        ("sex", "age")
    )
    assert np.allclose(between.values, share[:, 0] + 0.6 * (share[:, 1] - share[:, 0]))
    whole = ds["international_migrant_stock"] - ds["migrant_stock_total"].sum("origin")
    assert np.allclose(whole.values, unknown.sum(("sex", "age")).values, rtol=1e-12)


def test_migrants_keep_their_age(small_run) -> None:
    """Mean age of immigrants equals that of emigrants summed over regions."""
    _, ds = small_run
    ages = np.arange(101)
    flow = ds["migration_flow"].sel(time=1995.0).sum(("sex",)).values  # (O, D, age)
    off = 1.0 - np.eye(flow.shape[0])
    moved = (flow * off[..., None]).sum(axis=(0, 1))
    leaving = ds["emigration"].sel(time=1995.0).sum(("region", "sex")).values
    ret = ds["return_migration"].sel(time=1995.0).sum("sex").values
    leaving_returns = (ret * off[..., None]).sum(axis=(0, 1))
    assert np.allclose(moved + leaving_returns, leaving, rtol=1e-9)
    mean_age = (ages * leaving).sum() / leaving.sum()
    assert 20 < mean_age < 40  # Rogers-Castro: migrants are young adults


# ------------------------------------------------------------------------------ transit
@pytest.fixture(scope="module")
def transit_run():
    """Irregular journeys: 30 % of the arrivals of every region travel through transit, with a
    risk of death of 5 % a journey (both large, so that the identities below are tested on
    large transit flows)."""
    model = migration_system.build(
        SMALL,
        start=1990.0,
        stop=2000.0,
        values={"irregular_share": 0.3, "transit_death_risk_2022": 0.05},
    )
    return engine.simulate(
        model,
        outputs=[
            "emigration",
            "immigration",
            "emigration_on_arrival",
            "net_migration",
            "transit_stock",
            "transit_entries",
            "transit_arrivals",
            "deaths_in_transit",
            "emigrants_in_transit",
            "emigrant_deaths_in_transit",
            "migration_flow",
            "return_migration",
            "population",
            "total_population",
            "births",
            "deaths",
        ],
    )


def test_people_are_conserved_through_transit(transit_run) -> None:
    """Every year, to 1e-9 of the year's gross flows: net migration summed over regions is zero
    (people in transit count in their origin until they arrive), and emigration (departures) =
    immigration (arrivals) + change in transit + deaths in transit, summed over regions and for
    each region's own emigrants (departures = their arrivals elsewhere + the change of those in
    transit + their deaths there)."""
    ds = transit_run
    whole = ("origin", "destination", "sex", "age")
    emig = ds["emigration"].sum(("region", "sex", "age")).values
    immig = ds["immigration"].sum(("region", "sex", "age")).values
    transit = ds["transit_stock"].sum(whole).values
    died = ds["deaths_in_transit"].sum(whole).values
    assert transit[-1] > 0.01 * emig[-1] and died[-1] > 0  # the routes are used
    change = transit[1:] - transit[:-1]  # Euler, dt = 1: the year's flows make the change
    balance = emig[:-1] - immig[:-1] - change - died[:-1]
    assert np.all(np.abs(balance) <= 1e-9 * emig[:-1])
    net = ds["net_migration"].sum(("region", "sex", "age")).values
    assert np.all(np.abs(net) <= 1e-9 * emig)
    # by region: departures = arrivals elsewhere + change of those in transit + their deaths
    own = ds["emigrants_in_transit"].sum(("sex", "age")).values  # (time, region)
    own_died = ds["emigrant_deaths_in_transit"].sum(("sex", "age")).values
    left = ds["emigration"].sum(("sex", "age")).values
    settled = ds["emigration_on_arrival"].sum(("sex", "age")).values
    assert np.allclose(own.sum(axis=1), transit, rtol=1e-12)
    gap = left[:-1] - settled[:-1] - (own[1:] - own[:-1]) - own_died[:-1]
    assert np.all(np.abs(gap) <= 1e-9 * emig[:-1, None])
    # deaths are the journey's risk: deaths / (deaths + arrivals) = 5 %
    arrived = ds["transit_arrivals"].sum(whole).values
    assert np.allclose(died[1:] / (died[1:] + arrived[1:]), 0.05, rtol=1e-12)


def test_regions_count_their_people_in_transit(transit_run) -> None:
    """A region's total population (those present and its emigrants in transit) changes by
    births - deaths (those in transit included) + net migration, and the world's by births -
    deaths, every year to 1e-9; the people present change by their own flows."""
    ds = transit_run
    by = ("sex", "age")
    total = ds["total_population"].values  # (time, region)
    present = ds["population"].sum(by).values
    away = ds["emigrants_in_transit"].sum(by).values
    assert np.allclose(total, present + away, rtol=1e-12)
    natural = (ds["births"] - ds["deaths"]).sum(by).values
    change = total[1:] - total[:-1]
    assert np.allclose(
        change,
        natural[:-1] + ds["net_migration"].sum(by).values[:-1],
        rtol=0,
        atol=1e-9 * total.max(),
    )
    world = total.sum(axis=1)
    assert np.allclose(
        world[1:] - world[:-1], natural.sum(axis=1)[:-1], rtol=0, atol=1e-9 * world.max()
    )
    died_away = ds["emigrant_deaths_in_transit"].sum(by).values
    flows = natural + died_away + (ds["immigration"] - ds["emigration"]).sum(by).values
    assert np.allclose(present[1:] - present[:-1], flows[:-1], rtol=0, atol=1e-9 * total.max())


def test_transit_starts_at_its_steady_state(transit_run) -> None:
    """The transit stock starts at the start's departures into transit times their mean stay
    (1 / transit_exit_rate), so it neither fills up nor empties in the first years (within 3 %
    a year; a stock starting empty would hold nothing in 1990), the first year's arrivals and
    deaths on the routes are its departures, and the start's total population is WPP's (the
    people in transit are part of it)."""
    ds = transit_run
    whole = ("origin", "destination", "sex", "age")
    transit = ds["transit_stock"].sum(whole).values
    entering = ds["transit_entries"].sum(whole).values
    leaving = (ds["transit_arrivals"] + ds["deaths_in_transit"]).sum(whole).values
    assert transit[0] > 0.5 * entering[0]
    assert abs(transit[1] / transit[0] - 1) < 0.03
    assert np.all(np.abs(np.diff(transit[:4]) / transit[:3]) < 0.03)
    assert leaving[0] == pytest.approx(entering[0], rel=1e-6)
    _, initial = world_partition.region_paths(partition(SMALL), 1990)
    start = ds["total_population"].isel(time=0).values
    assert np.allclose(start, initial.sum(axis=(1, 2)), rtol=1e-12)


def test_migrants_age_only_in_transit(transit_run) -> None:
    """By sex and age, what leaves and is not on an irregular route arrives unchanged (direct
    moves and returns, to 1e-9); people in transit arrive older, by the time on the route
    (at least the yearly step here, at most a few years)."""
    ds = transit_run
    ages = np.arange(101)
    for year in (1995.0, 1999.0):
        at = ds.sel(time=year)
        entering = at["transit_entries"].sum(("origin", "destination")).values  # (sex, age)
        arriving = at["transit_arrivals"].sum(("origin", "destination")).values
        leaving = at["emigration"].sum("region").values - entering
        coming = at["immigration"].sum("region").values - arriving
        assert np.allclose(leaving, coming, rtol=1e-9, atol=1e-9 * leaving.sum())
        mean_in = (ages * entering.sum(0)).sum() / entering.sum()
        mean_out = (ages * arriving.sum(0)).sum() / arriving.sum()
        assert 0.5 < mean_out - mean_in < 3.0
        # sexes: the same share of women leave and arrive
        assert entering[0].sum() / entering.sum() == pytest.approx(
            arriving[0].sum() / arriving.sum(), rel=1e-3
        )


def test_start_must_be_a_stock_year() -> None:
    with pytest.raises(engine.SpecError, match="start=2022 is no year of the UN migrant stock"):
        migration_system.build(SMALL, start=2022.0)


def test_rates_are_factors_drivers_can_multiply() -> None:
    model = migration_system.build(SMALL, start=1990.0, stop=1992.0)
    names = list(model.dims["origin"].elements)
    base = engine.simulate(model, outputs=["migration_flow"])["migration_flow"]
    doubled = engine.simulate(
        model,
        params={"rate_multiplier": {(names[0], names[2]): 2.0}},
        outputs=["migration_flow"],
    )["migration_flow"]
    first = base.sel(time=1990.0).sum(("sex", "age"))
    second = doubled.sel(time=1990.0).sum(("sex", "age"))
    assert float(second[0, 2] / first[0, 2]) == pytest.approx(2.0, rel=1e-12)
    assert float(second[1, 2] / first[1, 2]) == pytest.approx(1.0, rel=1e-12)


# ------------------------------------------------------------------------------ age schedules
def test_typical_schedule_is_rogers_castro_s() -> None:
    """The schedules' family holds the typical Rogers-Castro schedule (alpha1 = alpha2 = 0.1,
    delta = a1 / a2 = 1/3, c / a2 = 0.05), each schedule sums to 1, and a lower child
    dependency ratio lowers the schedule under 15, not the labour peak's age."""
    from models.life_tables import rogers_castro

    assert np.allclose(migration_ages.typical(2), rogers_castro()[None], rtol=1e-12)
    low = migration_ages.TYPICAL * np.array([0.25, 1, 1, 1])
    both = migration_ages.schedules(np.stack([migration_ages.TYPICAL, low]))
    assert np.allclose(both.sum(axis=1), 1.0)
    assert both[1, :15].sum() < both[0, :15].sum()
    assert np.argmax(both[1, 10:]) == np.argmax(both[0, 10:])  # the labour peak stays


def test_wpp_net_by_age_sums_to_wpp_net_migration() -> None:
    """The residual of WPP's estimates 1990-2020 by age (the fit's target) is each region's
    net migration: its total within 15 % of WPP's published net migration 1990-2019 in every
    region of the small partition where it is at least 1 million (the residual also holds the
    old-age accounting of models.migration_profiles)."""
    part = partition(SMALL)
    by_age = migration_ages.wpp_net_by_age(part)
    published = world_partition.wpp_totals(part, "net_migration", 1990, 2019).sum(axis=1)
    big = np.abs(published) > 1e6
    assert big.sum() >= 2
    assert np.all(np.abs(by_age.sum(axis=1)[big] / published[big] - 1) < 0.15)


def _age_misfit(ds, part) -> np.ndarray:
    """Each region's net migration 1990-2019 by five-year age group 0-79 against WPP's (its
    residual scaled to the model's total): half the sum of absolute differences over the sum
    of WPP's absolute values."""
    net = ds["net_migration"].sel(time=slice(1990.0, 2019.0)).sum(("time", "sex")).values
    model = net[:, :80].reshape(-1, 16, 5).sum(-1)
    wpp_ = migration_ages.wpp_net_by_age(part)[:, :80].reshape(-1, 16, 5).sum(-1)
    target = wpp_ * (model.sum(1) / wpp_.sum(1))[:, None]
    return 0.5 * np.abs(model - target).sum(1) / np.abs(target).sum(1)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_fitted_ages_bring_net_migration_by_age_closer_to_wpp_s() -> None:
    """With each region's fitted schedules, the model's net migration by age 1990-2019 is
    closer to the age pattern of WPP's estimates than with the typical schedule in every
    region: the misfit (half the sum of absolute differences over 16 age groups) falls in at
    least 12 of the 14 regions and by at least a third on average (measured 2026-12-03: lower
    in all 14, mean 0.275 -> 0.137)."""
    part = partition()
    model = migration_system.build(stop=2020.0)
    fitted = engine.simulate(model, outputs=["net_migration"])
    typical = engine.simulate(
        model,
        params={"emigration_age_pattern": migration_ages.typical(len(part.regions))},
        outputs=["net_migration"],
    )
    before, after = _age_misfit(typical, part), _age_misfit(fitted, part)
    assert (after < before).sum() >= 12
    assert after.mean() < 2 / 3 * before.mean()


# ------------------------------------------------------------------------------ calibration
CALIBRATION = (
    "the UN's stocks and WPP's net migration disagree: by the accounting identity (data only, "
    "models.migrant_stock.net_migration_accounting, test_wpp_net_migration_against_what_the_"
    "stocks_allow; measured 2026-12-03) WPP's net migration mid-1990 to mid-2019 lies more than "
    "15 % of its 1990-2021 total outside what the stocks allow at any migrants' age structure "
    "in 7 of 14 regions (Sub-Saharan Africa -13.4 million against -1.5 to -7.2, Southern Asia "
    "-39.7 against -24.4 to -30.8, Western Asia +10.5 against +14.5 to +21.7, South-Eastern "
    "Asia -1.8 against -8.2 to -12.0; Mexico, Eastern Asia, Central Asia), and in Sub-Saharan "
    "Africa (30 %) and South-Eastern Asia (148 %) even with every pair above 1 million anywhere "
    "within 20 %: the two lines cannot both hold with the pairs below 1 million near the UN's; "
    "the fit (models.migration_calibration) weighs both by half their tolerance and shares "
    "the difference"
)


@pytest.fixture(scope="module")
def calibrated_run():
    model = migration_system.build(start=1990.0, stop=2100.0)
    ds = engine.simulate(
        model,
        outputs=[
            "migrant_stock_total",
            "international_migrant_stock",
            "net_migration_total",
            "total_population",
        ],
    )
    return partition(), ds


@pytest.mark.slow
def test_world_migrant_stock_2019(calibrated_run) -> None:
    """UN DESA 2019 within 5 %: the O-D stocks against the table's pairs (260.3 million of
    known origin; measured 2026-12-03: 260.9, +0.2 %) and all international migrants against
    UN DESA's total (271.6 million; measured 2026-12-03: 272.1, +0.2 %)."""
    part, ds = calibrated_run
    model = float(ds["migrant_stock_total"].sel(time=2019.0).sum())
    assert model == pytest.approx(migrant_stock.stock(part, 2019).sum(), rel=0.05)
    everyone = float(ds["international_migrant_stock"].sel(time=2019.0).sum())
    assert everyone == pytest.approx(271_642_105, rel=0.05)


@pytest.mark.slow
def test_median_age_of_the_world_migrant_stock() -> None:
    """UN DESA (2019), International Migration 2019: Highlights: the median age of the world's
    international migrants is 39 years; within a year (measured 2026-12-03: 39.6, the age
    schedules fitted with it as a target, models.migration_ages; 44.9 when fitted to WPP's net
    migration by age alone; 39.5 with the typical Rogers-Castro schedule everywhere; 37.9 when
    migrants returned at the stock's own ages rather than the schedule's)."""
    ds = engine.simulate(migration_system.build(stop=2019.0), outputs=["migrant_stock"])
    by_age = ds["migrant_stock"].sel(time=2019.0).sum(("origin", "destination", "sex")).values
    cumulative = np.cumsum(by_age)
    median = float(np.interp(0.5 * cumulative[-1], cumulative, np.arange(101) + 0.5))
    assert median == pytest.approx(39.0, abs=1.0)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=CALIBRATION + "; 6 of the 44 pairs above 1 million are more than 20 % off "
    "(South-Eastern Asia -> Western Asia -35 %, South-Eastern Asia -> Northern America -32 %, "
    "Western Asia -> Europe +30 %, Southern Asia -> South-Eastern Asia +26 %, Sub-Saharan "
    "Africa -> Europe +25 %, South-Eastern Asia -> Southern Asia -21 %; measured 2026-12-03 "
    "with the fitted age schedules, ages14; 7 before, South-Eastern Asia -> Europe -20.1 % now "
    "within). Each miss is in the direction WPP's net migration pulls where the stocks "
    "disagree with it (South-Eastern Asia's emigration smaller, Europe's and Sub-Saharan "
    "Africa's figures larger, Western Asia's smaller). Not the 1990 start: fitted to the UN "
    "stocks alone, all 44 are within "
    "4 %; the net-migration terms pull them (measured 2026-12-02, calib14; same in calib15). "
    "Holding the pairs below 1 million to their own stocks (STOCK_FLOOR 10,000 or 100,000 "
    "persons instead of 1 million) makes it worse: 34 of 44, world 2020 -5.7 %. Nor the "
    "migrants of unknown origin: calibrated to the table with them allocated over origins as "
    "Abel & Cohen (2019) do (the pairs then hold all migrants; measured 2026-12-03, stock14, "
    "not adopted), 37 of 44 within 20 % of the allocated pairs (South-Eastern Asia -> Europe "
    "-20 % joins the misses), net migration 1990-2021 still 10 of 14 (Europe +33.9 million "
    "against +40.1, Southern Asia -24 %), population 2050 Central Asia -2.0 %",
)
def test_pair_stocks_above_a_million_2019(calibrated_run) -> None:
    part, ds = calibrated_run
    target = migrant_stock.stock(part, 2019)
    model = ds["migrant_stock_total"].sel(time=2019.0).values
    big = target > 1e6
    assert big.sum() >= 40
    assert np.all(np.abs(model[big] / target[big] - 1) < 0.20)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=CALIBRATION + "; 4 of 14 regions are more than 15 % off WPP's net migration "
    "1990-2021 (measured 2026-12-03, ages14: Southern Asia -31.4 million against -42.0, -25 %; "
    "Sub-Saharan Africa -11.0 against -14.4, -23 %; Europe +33.7 against +40.1, -16 %; "
    "Northern America +40.7 against +49.5, -18 %; before the fitted age schedules -26, -25, "
    "-18 and -17 %); the other ten within 12 %. What the data allow (test_wpp_net_migration_"
    "against_what_the_stocks_allow, every other term at its most favourable): Sub-Saharan "
    "Africa's natives abroad would have to die at 39 per 1000 a year 1990-2019 and Southern "
    "Asia's at 18, above every region's crude death rate (at most 12.3, WPP): not possible; "
    "Europe's foreign-born at 14.7, above all Europe's residents' 11.2: not plausible; "
    "Northern America's foreign-born at 7.6 (9.1 million deaths; its residents 8.2): US death "
    "certificates give 6.0 million for the US's (NCHS NVSS, 0.55, 0.59 and 0.67 million in "
    "1989-91, 1999-2001 and 2011-13, tabulated by Liu & Singh 2018, interpolated), which "
    "leaves 3.1 million to Canada's, 46 % of all its deaths (6.7 million, WPP) for 16-21 % "
    "of its residents: not plausible. Not returns: they do not enter a region's net "
    "migration with the stocks fixed. Nor the migrants of unknown "
    "origin (11.4 "
    "million in 2019, models/data/unknown_origin.py): allocated over origins in proportion to "
    "the known ones they add +0.66 million to Europe's, -0.47 to Northern America's, -0.58 to "
    "Southern Asia's and +0.22 to Sub-Saharan Africa's (at most 9 % of a gap, two of the wrong "
    "sign; re-measured 2026-12-02, calib15). Nor the healthy-migrant effect: migrants dying "
    "at 0.7 times the destination's rates (Aldridge et al. 2018, Lancet 392, 2553-2566: pooled "
    "SMR 0.70), refitted, leave 10 of 14 (Southern Asia -26 %, Northern America -19 %, Europe "
    "-16 %: fewer deaths on both sides widen the gaps) and put Northern America's 2050 "
    "population at -2.0 % and Central Asia's at -2.1 % (measured 2026-12-03, stock14; 39 of 44 "
    "pairs within 20 %; not adopted). Nor the ages of the 1990 stock: 5 years older at every "
    "destination (a sensitivity, refitted; stock14) leaves 10 of 14 (Northern America -16 %, "
    "Europe -16 %) and 37 of 44 pairs",
)
def test_net_migration_1990_2021(calibrated_run) -> None:
    part, ds = calibrated_run
    model = ds["net_migration_total"].sel(time=slice(1990.0, 2021.0)).sum("time").values
    target = world_partition.wpp_totals(part, "net_migration", 1990, 2021).sum(axis=1)
    assert np.all(np.abs(model / target - 1) < 0.15)


@pytest.mark.slow
def test_baseline_net_migration_2022_2050(calibrated_run) -> None:
    """WPP 2022 medium variant within 20 % in every region (measured 2026-12-03: within 12 %). The
    baseline's rates are fitted to it (models.migration_calibration): a check of the fit."""
    part, ds = calibrated_run
    model = ds["net_migration_total"].sel(time=slice(2022.0, 2050.0)).sum("time").values
    target = world_partition.wpp_totals(part, "net_migration", 2022, 2050).sum(axis=1)
    assert np.all(np.abs(model / target - 1) < 0.20)


def _wpp_population(part, year: int) -> np.ndarray:
    return np.array(
        [sum(wpp.population_groups(c, year).sum() for c in comps) for comps in part.components]
    )


@pytest.mark.slow
def test_baseline_population_2050_2100(calibrated_run) -> None:
    """Issue 14: under the baseline every region's population is within 2 % of WPP 2022's
    medium variant in 2050 and 5 % in 2100. Measured 2026-12-03 (ages14), with each region's
    emigration and return schedule fitted to WPP's net migration by age 1990-2019 and the
    world migrant stock's median age (models.migration_ages): 2050 within 1.9 % everywhere
    (Northern America -1.9 %, Central Asia -1.9 %, Rest of the world -1.7 %), 2100 within
    4.8 % (Mexico +4.8 %, Central Asia -3.2 %, the others within 1.3 %). With the typical
    Rogers-Castro schedule everywhere (its net migration at ages 0-9 about twice WPP's) 2050
    was within 2 % in 12 of 14 (Caribbean -2.8 %, Central Asia -3.1 %) and 2100 within 5 % in
    11 of 14 (Caribbean -7.8 %, Central Asia -7.2 %, Mexico +6.2 %). Tried, not adopted: the
    fit to the net ages alone (2100 Northern America -5.4 %, Western Asia +7.9 %, the migrant
    stock's median age 44.9); with the medians of Europe's, Northern America's, Oceania's and
    Africa's migrants (UN DESA 2015) as targets too (2100 Mexico +6.9 %, Europe +5.2 %, Western
    Asia's net migration 2022-2050 +24 %); a separate return schedule per region (not
    recalibrated: 2100 Western Asia +9.8 %). Earlier tries (calib15): children going with
    returning parents, emigrants at WPP's 2009-2019 net age pattern, family returns at the
    stock's own ages (Caribbean 2100 -5.8 %, -14.0 %, -17.8 %)."""
    part, ds = calibrated_run
    for year, tolerance in ((2050, 0.02), (2100, 0.05)):
        model = ds["total_population"].sel(time=float(year)).values
        assert np.allclose(model, _wpp_population(part, year), rtol=tolerance)


@pytest.mark.slow
def test_shipped_rates_are_the_calibration_s() -> None:
    """models/data/migration_system_rates.csv.gz and migration_age_schedules.csv are what
    `python -m models.migration_calibration` writes (6 significant digits)."""
    part, fitted, ages = migration_calibration.calibrate()
    shipped = migration_calibration._read_shipped(part)
    assert shipped is not None
    assert np.allclose(shipped, fitted, rtol=1e-5, atol=1e-9)  # 1e-9 moves a year per person
    shipped_ages = migration_ages.read_shipped(part)
    assert shipped_ages is not None and ages is not None
    assert np.allclose(shipped_ages, ages, rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_stocks_alone_are_fitted_closely(monkeypatch) -> None:
    """With WPP's net migration given no weight, the fit reproduces every pair above 1 million
    in 2019 within 10 % (half the issue's tolerance; measured: within 4 %): the pairs' misses
    of the full fit come from the WPP terms, not from the 1990 start or the accounting."""
    monkeypatch.setattr(migration_calibration, "NET_SIGMA", 1e9)
    monkeypatch.setattr(migration_calibration, "NET_INTERVAL_SIGMA", 1e9)
    part, interval_rates, _ = migration_calibration.calibrate(fit_ages=False)
    years = list(range(1989, 2101))
    ds = engine.simulate(
        migration_system.build(
            stop=2019.0, rates=migration_calibration.path_from_intervals(interval_rates, years)
        ),
        outputs=["migrant_stock_total"],
    )
    target = migrant_stock.stock(part, 2019)
    model = ds["migrant_stock_total"].sel(time=2019.0).values
    big = target > 1e6
    assert big.sum() >= 40
    assert np.all(np.abs(model[big] / target[big] - 1) < 0.10)


@pytest.mark.slow
def test_other_partition_is_fitted_on_the_fly() -> None:
    """Mexico, the rest of Central America, Northern America and the rest of the world, fitted
    when built (measured: net migration 1990-2021 within 6 % of WPP's and 2022-2050 within 1 %
    of the medium variant in every region, the six pairs above 1 million within 12 %)."""
    part = partition(SMALL)
    ds = engine.simulate(
        migration_system.build(SMALL, stop=2050.0),
        outputs=["net_migration_total", "migrant_stock_total"],
    )
    net = ds["net_migration_total"]
    for first, last, tolerance in ((1990, 2021, 0.15), (2022, 2050, 0.20)):
        model = net.sel(time=slice(float(first), float(last))).sum("time").values
        target = world_partition.wpp_totals(part, "net_migration", first, last).sum(axis=1)
        assert np.all(np.abs(model / target - 1) < tolerance)
    stock = ds["migrant_stock_total"].sel(time=2019.0).values
    target = migrant_stock.stock(part, 2019)
    big = target > 1e6
    assert np.all(np.abs(stock[big] / target[big] - 1) < 0.20)
