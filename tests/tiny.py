"""A tiny two-region migration model with the standard outputs and two scenarios, for the
tests of what a forecaster reads (headline tables, scenarios, save times, comparisons).

Made up numbers (no source: not a domain model); small enough to compile in a second or two.
"""

from __future__ import annotations

from typing import Any

import engine

REGIONS = ("North", "South")
SCENARIOS: dict[str, dict[str, Any]] = {
    "low": {
        "name": "Low mobility",
        "description": "Few people move.",
        "params": {"emigration_rate": {"North": 0.001, "South": 0.004}},
    },
    "high": {
        "name": "High mobility",
        "description": "Many people move.",
        "params": {"emigration_rate": {"North": 0.004, "South": 0.02}},
    },
}


def scenarios() -> list[str]:
    return sorted(SCENARIOS)


def load_scenario(name: str) -> dict[str, Any]:
    if name not in SCENARIOS:
        raise engine.ParameterError(f"unknown scenario {name!r}; scenarios are {scenarios()}.")
    return {"name": SCENARIOS[name]["name"], **SCENARIOS[name]}


def build(scenario: str = "low", *, stop: float = 2045.0, standard: bool = True) -> engine.Model:
    """The tiny model under ``scenario``; ``standard=False`` leaves out ``migrant_stock``."""
    settings = load_scenario(scenario)
    m = engine.Model(
        "tiny",
        time_unit="year",
        start=2020.0,
        stop=stop,
        dt=1.0,
        attrs={
            "scenario": scenario,
            "scenario_title": settings["name"],
            "scenario_description": settings["description"],
        },
    )
    for dim in ("region", "origin", "destination"):
        m.dimension(dim, REGIONS)
    m.dimension("sex", ["female", "male"])
    m.dimension("age", ["0", "1", "2"])
    m.param("fertility", 0.03, units="1/year", prior=("uniform", 0.02, 0.04))
    m.param("mortality", 0.01, units="1/year")
    m.param(
        "emigration_rate",
        {"North": 0.002, "South": 0.01},
        dims=("region",),
        units="1/year",
        bounds=(0, 0.5),
    )
    m.param("share", [[0.0, 1.0], [1.0, 0.0]], dims=("origin", "destination"), units="1")
    m.param("initial_population", {"North": 3e6, "South": 6e6}, dims=("region",), units="person")
    m.stock(
        "population",
        initial="initial_population[region] / 6",
        dims=("region", "sex", "age"),
        units="person",
    )
    m.flow(
        "births",
        "fertility * population[region, sex, age]",
        into="population",
        dims=("region", "sex", "age"),
        units="person/year",
    )
    m.flow(
        "deaths",
        "mortality * population[region, sex, age]",
        out_of="population",
        dims=("region", "sex", "age"),
        units="person/year",
    )
    m.flow(
        "emigration",
        "emigration_rate[region] * population[region, sex, age]",
        out_of="population",
        dims=("region", "sex", "age"),
        units="person/year",
    )
    m.aux(
        "leaving",
        "sum(emigration[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="person/year",
    )
    m.aux(
        "emigrants_per_resident",
        "leaving[region] / sum(population[region, sex, age], 'sex', 'age')",
        dims=("region",),
        units="1/year",
    )
    m.aux(
        "arriving",
        "sum(share[origin, destination] * leaving[origin], 'origin')",
        dims=("destination",),
        units="person/year",
    )
    m.flow(
        "immigration",
        "arriving[region] / 6",
        into="population",
        dims=("region", "sex", "age"),
        units="person/year",
    )
    if standard:
        m.stock("migrant_stock", initial=1e5, dims=("origin", "destination"), units="person")
        m.flow(
            "migrant_inflow",
            "share[origin, destination] * leaving[origin]",
            into="migrant_stock",
            dims=("origin", "destination"),
            units="person/year",
        )
    for name, value in settings["params"].items():
        m.set_value(name, value)
    return m
