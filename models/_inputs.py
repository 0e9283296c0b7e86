"""Small helpers shared by the domain models: regions, per-region tables, WPP 2022 extracts.

Base-year population comes from the United Nations, Department of Economic and Social Affairs,
Population Division (2022), *World Population Prospects 2022* (CC BY 3.0 IGO), as extracted
into ``models/data/`` (see ``models/data/README.md``): population on 1 July by five-year age
group, both sexes, in thousands; medium variant from 2022.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import engine

DATA = Path(__file__).resolve().parent / "data"

#: Regions of the corridor model, with WPP 2022 spelling; the dim is ``region``.
DEFAULT_REGIONS = (
    "Northern Africa",
    "Sub-Saharan Africa",
    "Central America",
    "Europe",
    "Northern America",
)
AGES = tuple(range(101))  # single years 0..100, 100 meaning 100 and over (DESIGN.md)
SEXES = ("female", "male")


def region_values(table: Mapping[str, float], regions: Sequence[str], what: str) -> list[float]:
    """The values of ``table`` for ``regions``, in order; a clear error for unknown regions."""
    missing = [r for r in regions if r not in table]
    if missing:
        raise ValueError(
            f"{what}: no value for region(s) {missing}; regions with values are "
            f"{sorted(table)}. Pass the value explicitly or choose those regions."
        )
    return [float(table[r]) for r in regions]


def check_regions(regions: Sequence[str]) -> list[str]:
    out = [str(r) for r in regions]
    if not out:
        raise ValueError("give at least one region")
    if len(set(out)) != len(out):
        raise ValueError(f"regions repeat: {out}")
    return out


@cache
def _totals() -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    with gzip.open(DATA / "wpp2022_totals.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["indicator"] == "population_total":
                out[(row["location"], int(row["year"]))] = float(row["value"]) * 1000.0
    return out


@cache
def _by_age() -> dict[tuple[str, int], np.ndarray]:
    out: dict[tuple[str, int], np.ndarray] = {}
    with gzip.open(DATA / "wpp2022_population_by_age.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["location"], int(row["year"]))
            groups = out.setdefault(key, np.zeros(21))
            groups[int(row["age_group_start"]) // 5] = float(row["value"]) * 1000.0
    return out


def wpp_total(regions: Sequence[str], year: int) -> list[float]:
    """WPP 2022 total population (persons) of each region in ``year`` (1990-2100)."""
    table = _totals()
    missing = [r for r in regions if (r, year) not in table]
    if missing:
        locations = sorted({loc for loc, _ in table})
        raise ValueError(
            f"no WPP 2022 population for {missing} in {year}; locations in "
            f"models/data are {locations}."
        )
    return [table[(r, year)] for r in regions]


def wpp_growth_rate(regions: Sequence[str], first: int, last: int) -> list[float]:
    """Average exponential growth rate (1/year) of WPP 2022 total population between years."""
    p0 = np.array(wpp_total(regions, first))
    p1 = np.array(wpp_total(regions, last))
    return list(np.log(p1 / p0) / (last - first))


def wpp_growth_params(model, regions: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """Declare the WPP 2022 medium variant's average growth rates, 2022-2050 and 2050-2100, by
    region (``population_growth_2022_2050``, ``population_growth_2050_2100``): the population
    path the labour, hump and climate models share."""
    for first, last in ((2022, 2050), (2050, 2100)):
        model.param(
            f"population_growth_{first}_{last}",
            wpp_growth_rate(regions, first, last),
            dims=("region",),
            units="1/year",
            bounds=(-0.1, 0.1),
            doc=f"Average growth rate of the WPP 2022 medium variant, {first}-{last}.",
        )


def wpp_population_by_age(regions: Sequence[str], year: int) -> np.ndarray:
    """Population (persons) by region and single year of age 0..100+ (both sexes).

    WPP's five-year groups are spread evenly over their single years (100+ stays one group).
    """
    table = _by_age()
    out = np.zeros((len(regions), len(AGES)))
    for i, region in enumerate(regions):
        if (region, year) not in table:
            raise ValueError(f"no WPP 2022 population by age for {region!r} in {year}.")
        groups = table[(region, year)]
        out[i, :100] = np.repeat(groups[:20] / 5.0, 5)
        out[i, 100] = groups[20]
    return out


def ensure_dimension(model, name: str, elements: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """Declare ``name`` in ``model`` unless it exists; if it exists, its elements must match."""
    if name in model.dims:
        have = tuple(model.dims[name].elements)
        if have != tuple(str(e) for e in elements):
            raise ValueError(
                f"model {model.name!r} already has dimension {name!r} with elements "
                f"{list(have)[:6]}...; expected {list(elements)[:6]}..."
            )
        return
    model.dimension(name, list(elements))


class Names(dict):  # type: ignore[type-arg]
    """Formats equation templates: ``{x}`` becomes the prefixed name of x, or an override.

    >>> Names("eu_", population="(pop)")("{births} / {population}")
    'eu_births / (pop)'
    """

    def __init__(self, prefix: str, **given: str) -> None:
        super().__init__(given)
        self.prefix = prefix

    def __missing__(self, key: str) -> str:
        return self.prefix + key

    def __call__(self, template: str) -> str:
        return template.format_map(self)


class Builder:
    """What a model's ``add_to`` shares with the functions that add its sub-systems.

    ``n`` formats equation templates (:class:`Names`); :meth:`param` declares a parameter under
    the prefix and applies the caller's replacement value, if any, through
    :meth:`engine.Model.set_value` (coercion, element mapping, bounds), so that a replacement
    is checked like any change of a parameter; :meth:`check_values` refuses names left over.
    """

    def __init__(
        self,
        model: engine.Model,
        *,
        regions_dim: str,
        prefix: str,
        values: Mapping[str, object] | None,
        **given: str,
    ) -> None:
        self.model = model
        self.regions = list(model.dims[regions_dim].elements)
        self.dims = (regions_dim,)
        self.prefix = prefix
        self.values = dict(values or {})
        self.n = Names(prefix, **given)

    def param(self, name: str, default: object, *, regional: bool = False, **kw: object) -> None:
        """Declare ``prefix + name``; ``regional`` gives it the regions dim (a {region: value}
        table is read for the model's regions, with a clear error for a missing one)."""
        if regional:
            if isinstance(default, Mapping):
                default = region_values(default, self.regions, self.prefix + name)
            kw["dims"] = self.dims
        self.model.param(self.prefix + name, default, **kw)
        if name in self.values:
            self.model.set_value(self.prefix + name, self.values.pop(name))

    def check_values(self, what: str) -> None:
        """Refuse replacement values whose names no sub-system declared."""
        if self.values:
            raise ValueError(f"unknown {what} parameter(s) in values: {sorted(self.values)}")
