"""A partition of the world into regions that always sum to the World.

A migration system is closed only if its regions cover the world once: every country in exactly
one region. :func:`partition` takes any list of WPP 2022 locations (countries, subregions,
regions, SDG regions and other aggregates) and *derived* regions (a location minus others, e.g.
Central America minus Mexico), checks that no two overlap (an error names both and the
countries they share), and adds ``"Rest of the world"``: the World minus the listed ones.

Each region is a set of WPP country codes and the fewest WPP locations with figures whose
countries are exactly that set (its *components*: a listed WPP location is its own component;
a derived region or the rest of the world is covered from the top of WPP's geographic hierarchy
down, e.g. Oceania's four subregions, or Central America's seven countries other than Mexico).
:func:`region_paths` gives every region the demography's input paths (:mod:`models.vital_rates`)
and base population: a WPP location's own; for several components, aggregated so that counts
sum: population, births, deaths and net migration are the components' sums, death rates the
components' hazards at each age weighted by their population of that age, fertility the
components' age-specific rates weighted by their population of that age, the sex ratio at birth
weighted by births; life expectancy is that of the aggregated hazards (WPP aggregates its
regions from countries in the same way: UN DESA 2022, Methodology report, UN DESA/POP/2022/
TR/NO. 4). The regions' base populations sum to the sum of the World's countries, and their
WPP births, deaths and net migration to the World's (to WPP's rounding; tested).

Default partition of the corridor model (:data:`CORRIDOR_REGIONS`): the seeds' two corridors
(Northern Africa, Sub-Saharan Africa, Mexico, Central America without Mexico, Europe, Northern
America) plus every other WPP geographic subregion from which more than 5 million people lived in
Europe and Northern America in 2019 (UN International Migrant Stock 2019; :mod:`models.
migrant_stock`): Southern Asia (9.7 million), Western Asia (9.3), the Caribbean (7.8), South
America (7.4), Eastern Asia (7.4), South-Eastern Asia (7.3) and Central Asia (6.9). The next
are Eastern (2.8), Western (2.8) and Middle Africa (1.0, all in Sub-Saharan Africa already) and
Australia/New Zealand (0.5): the rest of the world is Oceania.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

import engine

from . import life_tables, vital_rates, wpp

__all__ = [
    "Derived",
    "Partition",
    "partition",
    "region_paths",
    "wpp_totals",
    "REST_OF_WORLD",
    "CENTRAL_AMERICA_WITHOUT_MEXICO",
    "CORRIDOR_REGIONS",
]

REST_OF_WORLD = "Rest of the world"


@dataclass(frozen=True)
class Derived:
    """A region made of the WPP location ``base`` without the locations ``excluding``."""

    name: str
    base: str
    excluding: tuple[str, ...]


CENTRAL_AMERICA_WITHOUT_MEXICO = Derived(
    "Central America without Mexico", "Central America", ("Mexico",)
)
CORRIDOR_REGIONS: tuple[str | Derived, ...] = (
    "Northern Africa",
    "Sub-Saharan Africa",
    "Mexico",
    CENTRAL_AMERICA_WITHOUT_MEXICO,
    "Europe",
    "Northern America",
    "Southern Asia",
    "Western Asia",
    "Caribbean",
    "South America",
    "Eastern Asia",
    "South-Eastern Asia",
    "Central Asia",
)


@dataclass(frozen=True)
class Partition:
    """Regions covering the world once: names, country codes and WPP components of each."""

    regions: tuple[str, ...]
    countries: tuple[frozenset[int], ...]
    components: tuple[tuple[str, ...], ...]

    def region_of(self) -> dict[int, int]:
        """{country code: index of its region}."""
        return {c: i for i, codes in enumerate(self.countries) for c in codes}

    def is_location(self, i: int) -> bool:
        """True where region ``i`` is one WPP location (its own figures)."""
        return self.components[i] == (self.regions[i],)


@cache
def _countries() -> dict[int, tuple[int, int]]:
    """{country code: (subregion code, region code)} of WPP's 237 countries and areas."""
    out = {}
    with (wpp.DATA / "wpp2022_location_index.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "country":
                region = int(row["region_code"])
                sub = int(row["subregion_code"])  # Northern America: no subregion
                out[int(row["location_code"])] = (sub if sub > 0 else region, region)
    return out


@cache
def _aggregate_members() -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = {}
    with (wpp.DATA / "wpp2022_aggregate_members.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(int(row["aggregate_code"]), set()).add(int(row["country_code"]))
    return {k: frozenset(v) for k, v in out.items()}


def countries_of(name: str) -> frozenset[int]:
    """WPP country codes of the location ``name`` (a country: itself)."""
    where = wpp.location(name)
    table = _countries()
    if where.kind == "country":
        return frozenset({where.code})
    if where.kind == "world":
        return frozenset(table)
    members = frozenset(c for c, (sub, reg) in table.items() if where.code in (sub, reg))
    if members:
        return members
    if where.code in _aggregate_members():
        return _aggregate_members()[where.code]
    raise engine.SpecError(f"WPP location {name!r} has no countries in models/data.")


def _tree() -> list[tuple[str, frozenset[int], list]]:
    """WPP's geographic hierarchy below the World: (name, countries, children) of each region."""
    names = {w.code: w.name for w in wpp.locations().values()}
    table = _countries()
    out = []
    for reg in sorted({r for _, r in table.values()}):
        subs = []
        for sub in sorted({s for s, r in table.values() if r == reg}):
            kids = [
                (names[c], frozenset({c}), [])
                for c, (s, _) in sorted(table.items())
                if s == sub and wpp.location(names[c]).has_data
            ]
            subs.append((names[sub], countries_of(names[sub]), kids))
        if len(subs) == 1 and subs[0][0] == names[reg]:  # Northern America: region = subregion
            out.append(subs[0])
        else:
            out.append((names[reg], countries_of(names[reg]), subs))
    return out


def _cover(target: frozenset[int]) -> tuple[str, ...]:
    """The fewest WPP locations of the geographic hierarchy whose countries make ``target``."""
    out: list[str] = []

    def walk(nodes: list) -> None:
        for name, codes, kids in nodes:
            inside = codes & target
            if not inside:
                continue
            if codes <= target and wpp.location(name).has_data:
                out.append(name)
            else:
                walk(kids)

    walk(_tree())
    return tuple(out)


def partition(
    locations: Sequence[str | Derived] = CORRIDOR_REGIONS, *, rest: str = REST_OF_WORLD
) -> Partition:
    """The regions ``locations`` plus the rest of the world (omitted if nothing is left).

    Parameters
    ----------
    locations : sequence of str or Derived
        WPP 2022 location names (any kind) and derived regions; none may share a country.
    rest : str
        Name of the region of the countries in none of ``locations``.

    Raises
    ------
    engine.SpecError
        An unknown name (with a suggestion), a repeated name, two regions sharing countries
        (both named, with the countries), a derived region whose exclusions are not inside its
        base, or an empty region.
    """
    names: list[str] = []
    sets: list[frozenset[int]] = []
    comps: list[tuple[str, ...]] = []
    for item in locations:
        if isinstance(item, Derived):
            base = countries_of(item.base)
            codes = base
            for other in item.excluding:
                cut = countries_of(other)
                if not cut <= base:
                    raise engine.SpecError(
                        f"derived region {item.name!r}: {other!r} is not part of {item.base!r}."
                    )
                codes = codes - cut
            name, parts = item.name, _cover(codes)
        else:
            name = wpp.location(str(item)).name
            codes, parts = countries_of(name), (name,)
        if not codes:
            raise engine.SpecError(f"region {name!r} has no countries.")
        if name in names:
            raise engine.SpecError(f"region {name!r} is listed twice.")
        for other, other_codes in zip(names, sets, strict=True):
            shared = codes & other_codes
            if shared:
                some = sorted(_country_name(c) for c in shared)[:3]
                raise engine.SpecError(
                    f"regions {other!r} and {name!r} overlap ({len(shared)} countries, e.g. "
                    f"{', '.join(some)}); list non-overlapping locations, or a Derived region "
                    f"(e.g. Derived('{other} without ...', '{other}', (...)))."
                )
        names.append(name)
        sets.append(codes)
        comps.append(parts)
    left = frozenset(_countries()) - frozenset().union(*sets)
    if left:
        if rest in names:
            raise engine.SpecError(f"{rest!r} is the name of the rest of the world; rename it.")
        names.append(rest)
        sets.append(left)
        comps.append(_cover(left))
    return Partition(tuple(names), tuple(sets), tuple(comps))


def _country_name(code: int) -> str:
    return next(w.name for w in wpp.locations().values() if w.code == code)


# ------------------------------------------------------------------ demography of the regions
def wpp_totals(part: Partition, column: str, first: int, last: int) -> np.ndarray:
    """A WPP annual count (``births``, ``deaths``, ``net_migration``, ``population``; persons)
    by region (rows) and year ``first..last``: the sums of the regions' components."""
    return np.array(
        [
            sum(wpp.annual(c, column, first, last) for c in comps) * 1000.0
            for comps in part.components
        ]
    )


def _population_by_age(name: str) -> np.ndarray:
    """WPP's 1 July population (both sexes) by single age (flat in each group), (Y, 101)."""
    out = np.zeros((vital_rates.YEARS.size, 101))
    for k, year in enumerate(vital_rates.YEARS):
        groups = wpp.population_groups(name, int(year))
        out[k, :100] = np.repeat(groups[:20] / 5.0, 5)
        out[k, 100] = groups[20]
    return out


def region_paths(part: Partition, base_year: int) -> tuple[vital_rates.InputPaths, np.ndarray]:
    """Input paths of every region of ``part`` and its population of ``base_year`` (R, 2, 101).

    A region that is one WPP location reads its own figures; one of several components
    aggregates theirs (see the module docstring).
    """
    every = sorted({c for comps in part.components for c in comps})
    paths = vital_rates.input_paths(every)
    initial = vital_rates.initial_population(paths, base_year)
    at = {name: i for i, name in enumerate(every)}
    rows = [_aggregate(paths, initial, [at[c] for c in comps]) for comps in part.components]
    fields = ("log_hazard_knots", "log_mortality_scale", "tfr", "fertility_pattern")
    fields += ("sex_ratio_at_birth", "net_migration", "e0")
    out = replace(
        paths,
        locations=list(part.regions),
        **{f: np.stack([row[f] for row in rows]) for f in fields},
    )
    return out, np.stack([row["initial"] for row in rows])


def _aggregate(
    paths: vital_rates.InputPaths, initial: np.ndarray, idx: list[int]
) -> dict[str, np.ndarray]:
    pick = {
        f: getattr(paths, f)[idx]
        for f in (
            "log_hazard_knots",
            "log_mortality_scale",
            "tfr",
            "fertility_pattern",
            "sex_ratio_at_birth",
            "net_migration",
            "e0",
        )
    }
    if len(idx) == 1:
        return {f: v[0] for f, v in pick.items()} | {"initial": initial[idx[0]]}
    years = paths.years.astype(float)
    weight = np.stack([_population_by_age(paths.locations[i]) for i in idx])  # (C, Y, 101)
    total = weight.sum(axis=0)
    share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), 1.0 / len(idx))
    hazard = paths.hazard(years)[idx]  # (C, 2, Y, 101)
    mean_hazard = (hazard * share[:, None]).sum(axis=0)  # (2, Y, 101)
    e0 = np.stack(
        [
            life_tables.life_expectancy(mean_hazard[s], sex)
            for s, sex in enumerate(vital_rates.SEXES)
        ]
    )
    knots = paths.mortality_knots
    log_mean = np.log(mean_hazard)
    log_knots = np.stack(
        [
            np.stack([np.interp(knots, years, log_mean[s, :, x]) for x in range(101)])
            for s in range(2)
        ]
    )  # (2, 101, K)
    at_years = np.stack(
        [
            np.stack([np.interp(years, knots, log_knots[s, x]) for x in range(101)], axis=-1)
            for s in range(2)
        ]
    )  # (2, Y, 101)
    scale = np.stack(
        [
            life_tables.scale_to_life_expectancy(at_years[s], e0[s], sex)
            for s, sex in enumerate(vital_rates.SEXES)
        ]
    )
    # fertility: age-specific rates weighted by the components' population of each age
    fk = np.searchsorted(years, paths.fertility_knots.astype(float))
    asfr_at_knots = pick["tfr"][:, fk][:, None, :] * pick["fertility_pattern"]  # (C, 101, F)
    w_knots = np.moveaxis(share[:, fk], 1, 2)  # (C, 101, F)
    mean_asfr = (asfr_at_knots * w_knots).sum(axis=0)  # (101, F)
    pattern = mean_asfr / np.maximum(mean_asfr.sum(axis=0), 1e-12)
    asfr_yearly = np.stack(
        [
            pick["tfr"][c][:, None]
            * np.stack(
                [
                    np.interp(years, paths.fertility_knots, pick["fertility_pattern"][c, x])
                    for x in range(101)
                ],
                axis=-1,
            )
            for c in range(len(idx))
        ]
    )  # (C, Y, 101)
    tfr = (asfr_yearly * share).sum(axis=(0, 2))
    births = np.stack([wpp.annual(paths.locations[i], "births") for i in idx])  # (C, Y) thousands
    births = np.where(np.isfinite(births), births, 0.0)
    bsum = births.sum(axis=0)
    srb = np.where(
        bsum > 0,
        (pick["sex_ratio_at_birth"] * births).sum(axis=0) / np.where(bsum > 0, bsum, 1.0),
        pick["sex_ratio_at_birth"].mean(axis=0),
    )
    return {
        "log_hazard_knots": log_knots,
        "log_mortality_scale": scale,
        "tfr": tfr,
        "fertility_pattern": pattern,
        "sex_ratio_at_birth": srb,
        "net_migration": pick["net_migration"].sum(axis=0),
        "e0": e0,
        "initial": initial[idx].sum(axis=0),
    }
