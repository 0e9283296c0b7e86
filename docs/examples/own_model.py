"""Your own model with scenarios, registered by name for the command line, in a few lines.

Run it: python docs/examples/own_model.py (the tests run it too).
"""

import tempfile
from pathlib import Path

import engine
from engine import registry
from engine.cli import main

SCENARIOS = {
    "steady": {"name": "Steady", "description": "Today's rates.", "params": {"rate": 0.01}},
    "surge": {"name": "Surge", "description": "Twice today's rates.", "params": {"rate": 0.02}},
}


def scenarios() -> list[str]:  # the convention corridor's commands read
    return sorted(SCENARIOS)


def load_scenario(name: str) -> dict:
    return SCENARIOS[name]


def build(scenario: str = "steady") -> engine.Model:
    settings = SCENARIOS[scenario]
    m = engine.Model(
        "mine",
        time_unit="year",
        start=2025,
        stop=2060,
        dt=1,
        attrs={
            "scenario": scenario,
            "scenario_title": settings["name"],
            "scenario_description": settings["description"],
        },
    )
    m.dimension("region", ["Coast", "Inland"])
    m.param("rate", 0.01, units="1/year", bounds=(0, 0.1))
    m.stock("population", initial=1e6, dims="region", units="person")
    m.flow(
        "emigration",
        "rate * population[region]",
        out_of="population",
        dims="region",
        units="person/year",
    )
    for name, value in settings["params"].items():
        m.set_value(name, value)
    return m


# a package would declare build in the corridor.models entry point group; here, for the demo:
registry._BUILTIN["mine"] = build
assert main(["scenarios", "mine"]) == 0
assert main(["run", "mine", "--scenario", "surge", "--years", "2030", "2060"]) == 0
with tempfile.TemporaryDirectory() as folder:
    out = Path(folder) / "cmp"
    assert (
        main(
            [
                "compare",
                "steady",
                "surge",
                "--model",
                "mine",
                "--out",
                str(out),
                "-v",
                "population",
                "--quiet",
            ]
        )
        == 0
    )
    assert (out / "comparison.html").exists()
