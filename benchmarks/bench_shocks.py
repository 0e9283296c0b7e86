"""Ensembles with stochastic shocks (issue 17): the cost of drawing.

A cohort chain of 22 regions x 20 age groups (:func:`shocked_model`), 2025-2100 with Euler
steps of a quarter year (300 steps), whose mortality in each region moves with an AR(1) shock
(``ar1(0, 0.1, 0.8)``: a fresh Philox4x64-10 draw per region, step and member) and whose
births follow a random walk per region, against the same model with both shocks replaced by
constants (``without``), timed in the same process: ``run_ensemble`` end to end (design,
kernel, DataTree, summaries) of 1,000 members (200 with ``--quick``), regional totals saved
yearly. The ratio is members per second with shocks over members per second without (the
share of speed kept when every member draws its own shocks; 1 is free).

The full suite also runs issue 17's own ensemble (``demography/baseline_ensemble_shocks``): the
demography model of its default regions built with ``uncertainty=True`` (every stochastic
component: the TFR's and e0's deviations, migration's AR(1) shocks with Student-t tails, over the
model's priors), 1,000 members, 2022-2100, ``total_population`` saved yearly, against the same
regions built with ``uncertainty=False`` (no shocks, the model's own priors), end to end in the
same process after one untimed sweep of each (the compiles).
"""

from __future__ import annotations

from typing import Any

from . import entry, failed, measure

REGIONS, AGES = 22, 20
PRIORS = {"mortality": ("uniform", 0.005, 0.015)}


def shocked_model(shocks: bool) -> Any:
    """The regional chain; ``shocks=False`` keeps the structure with constant equations."""
    import engine

    m = engine.Model(f"regional_chain_{'shocks' if shocks else 'plain'}", time_unit="year")
    m.dimension("region", [f"r{i}" for i in range(REGIONS)])
    m.dimension("age", AGES)
    m.param("births", 1000.0, units="person/year")
    m.param("residence_time", 5.0, units="year")
    m.param("mortality", 0.01, units="1/year", bounds=(0, None))
    m.param("entry", [1.0] + [0.0] * (AGES - 1), dims=("age",))
    m.aux("mortality_shock", "ar1(0, 0.1, 0.8)" if shocks else "0.0", dims=("region",))
    m.aux("births_walk", "random_walk(0.02)" if shocks else "0.0", dims=("region",))
    m.stock("x", initial=100.0, dims=("region", "age"), units="person")
    m.flow(
        "inflow",
        "entry * births * exp(births_walk) + x[region, age - 1] / residence_time",
        into="x",
        dims=("region", "age"),
    )
    m.flow(
        "outflow",
        "x / residence_time + mortality * exp(mortality_shock) * x",
        out_of="x",
        dims=("region", "age"),
    )
    m.aux("total", "sum(x, 'age')", dims=("region",), units="person")
    return m


def sweep(model: Any, n: int) -> Any:
    import engine

    return engine.run_ensemble(
        model,
        n=n,
        seed=0,
        design="random",
        priors=PRIORS,
        start=2025.0,
        stop=2100.0,
        dt=0.25,
        outputs=["total"],
        horizons={"all": (0.0, None, 1.0)},
        progress=False,
    )


def demography_entry(n: int) -> dict[str, Any]:
    """Issue 17's baseline ensemble with every stochastic component against it without shocks."""
    import engine
    from models import demography

    name = "demography/baseline_ensemble_shocks"
    try:
        locations = list(demography.DEFAULT_LOCATIONS)
        shocked = demography.build(locations, uncertainty=True)
        plain = demography.build(locations, uncertainty=False)

        def sweep_of(model: Any) -> Any:
            return engine.run_ensemble(
                model, n=n, seed=0, outputs=["total_population"], progress=False
            )

        sweep_of(shocked), sweep_of(plain)  # compile both, untimed
        timing = {"repeats": 3, "budget_seconds": 60.0}
        ours = measure(lambda: sweep_of(shocked), **timing)
        baseline = measure(lambda: sweep_of(plain), **timing)
    except Exception as error:
        return failed(name, "engine.run_ensemble", error, status="error")
    return _members_entry(
        name,
        f"engine.run_ensemble of {n} members of the demography model of its "
        f"{len(locations)} default regions with uncertainty=True (TFR and e0 deviations, "
        "migration AR(1) shocks with Student-t tails, the model's priors), 2022-2100, "
        "total_population saved yearly; ratio = members/s with shocks / members/s without",
        "the same regions built with uncertainty=False (the model's priors, no shocks)",
        n,
        ours,
        baseline,
    )


def _members_entry(
    name: str, timed: str, baseline_text: str, n: int, ours: dict[str, Any], baseline: Any
) -> dict[str, Any]:
    """An entry of two sweeps of ``n`` members, with members per second of each."""
    return entry(
        name,
        timed,
        ours,
        baseline=baseline_text,
        baseline_timing=baseline,
        members=n,
        members_per_second=n / ours["seconds"],
        baseline_members_per_second=n / baseline["seconds"],
    )


def run(quick: bool) -> list[dict[str, Any]]:
    n = 200 if quick else 1000
    name = "ensemble/shocks_vs_plain"
    try:
        with_shocks, plain = shocked_model(True), shocked_model(False)
        timing = {"repeats": 3, "budget_seconds": 30.0}
        ours = measure(lambda: sweep(with_shocks, n), **timing)
        baseline = measure(lambda: sweep(plain, n), **timing)
    except Exception as error:
        return [failed(name, "engine.run_ensemble", error, status="error")]
    full = [] if quick else [demography_entry(n)]
    return [
        _members_entry(
            name,
            f"engine.run_ensemble of {n} members of a {REGIONS}-region x {AGES}-age chain, "
            "2025-2100, Euler dt = 0.25, an AR(1) mortality shock and a random walk of births "
            "per region and member; ratio = members/s with shocks / members/s without",
            "the same sweep with both shocks constant",
            n,
            ours,
            baseline,
        )
    ] + full


if __name__ == "__main__":
    import json
    import sys

    for item in run("--quick" in sys.argv):
        print(json.dumps({k: v for k, v in item.items() if k != "machine"}, default=str))
