"""The demography model of all 237 WPP countries and areas, 2022-2100 (issue 12).

``engine.simulate`` end to end (Dataset included) of :func:`models.demography.build` over every
country and area of WPP 2022, Euler with yearly steps, ``population`` (region, sex, age) and
``total_population`` saved yearly, against the same model of 10 locations timed in the same
process: the ratio (10 locations / 237) says how the cost grows with locations (23.7x the work).
The goal of issue 12 is an absolute one, under 1 s once compiled (``goal_seconds``, not gated).
Building and compiling the two models is excluded (two numba compiles of some 10-20 s each), so
the entry is in the full suite only.
"""

from __future__ import annotations

from typing import Any

from . import entry, failed, measure

OUTPUTS = ["population", "total_population"]


def run(quick: bool) -> list[dict[str, Any]]:
    if quick:
        return []
    import engine
    from models import demography, wpp

    name = "demography/237_countries/simulate"
    try:
        countries = [x for x, loc in wpp.locations().items() if loc.kind == "country"]
        assert len(countries) == 237, len(countries)
        big = demography.build(countries)
        small = demography.build(countries[:10])
        timing = {"repeats": 5, "budget_seconds": 20.0}
        ours = measure(lambda: engine.simulate(big, outputs=OUTPUTS), **timing)
        baseline = measure(lambda: engine.simulate(small, outputs=OUTPUTS), **timing)
    except Exception as error:
        return [failed(name, "engine.simulate", error, status="error")]
    return [
        entry(
            name,
            "engine.simulate of the demography model of the 237 WPP countries and "
            "areas, 2022-2100, Euler dt = 1, population and total_population saved "
            "yearly (Dataset included)",
            ours,
            baseline="the same model of 10 locations",
            baseline_timing=baseline,
            goal_seconds=1.0,
            target_text="< 1 s (goal, not gated)",
            locations=len(countries),
        )
    ]
