"""A small two-region model, its headline table, an ensemble and a comparison of two scenarios.

Run it: python docs/examples/headline_and_compare.py (the tests run it too).
"""

import engine


def build(emigration_south: float, scenario: str) -> engine.Model:
    m = engine.Model(
        "two_regions",
        time_unit="year",
        start=2020,
        stop=2050,
        dt=1,
        attrs={
            "scenario": scenario,
            "scenario_description": f"South emigration {emigration_south}",
        },
    )
    m.dimension("region", ["North", "South"])
    m.param("growth", 0.01, units="1/year", prior=("uniform", 0.0, 0.02))
    m.param("leaving", {"North": 0.001, "South": emigration_south}, dims="region", units="1/year")
    m.stock("population", initial=5e6, dims="region", units="person")
    m.flow("births", "growth * population", into="population", dims="region", units="person/year")
    m.flow(
        "emigration",
        "leaving[region] * population[region]",
        out_of="population",
        dims="region",
        units="person/year",
    )
    m.aux("total_leaving", "sum(emigration[region], 'region')", units="person/year")
    # everyone leaving one region arrives in the other
    m.flow(
        "immigration",
        "total_leaving - emigration[region]",
        into="population",
        dims="region",
        units="person/year",
    )
    return m


low, high = build(0.002, "low"), build(0.01, "high")
print(engine.headline(engine.simulate(low), years=[2030, 2050]).round(0))

sweeps = {
    m.attrs["scenario"]: engine.run_ensemble(m, n=16, seed=1, progress=False) for m in (low, high)
}
table = engine.compare(sweeps, years=[2050])
print(table.round(0))
assert table.loc[("net_migration", "South", 2050.0), "high - low"] < 0
