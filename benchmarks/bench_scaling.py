"""Scaling of run time with the number of stocks (ageing chain, 10 to 10,000 stocks, 800 steps),
with the number of steps (100-stock chain, 200 to 12,800 steps) and with the number of ensemble
members (1 to 20,000, the chain's total saved yearly), against the hand-written
``@njit`` loop of :mod:`benchmarks.bench_ageing`. Only the stocks are saved (every step), so the
largest runs stay within memory; the ratio shows whether the engine's overhead is per step, per
stock or fixed.
"""

from __future__ import annotations

from typing import Any

from . import entry, failed, measure
from .bench_ageing import chain, check_same, engine_kernel, handwritten

DT = 0.25


def point(
    label: str, stocks: int, n_steps: int, quick: bool, models: dict[int, Any]
) -> dict[str, Any]:
    import engine

    name = f"scaling/{label}"
    timed = (
        f"ageing chain, {stocks} stocks x {n_steps} Euler steps, stocks saved every step: "
        "compiled kernel (Runner.run_arrays)"
    )
    work = stocks * n_steps
    timing = {
        "repeats": 5 if quick else 9,
        "budget_seconds": 2.0 if quick else 10.0,
        "min_repeat_seconds": 0.05,
    }
    try:
        if stocks not in models:
            models[stocks] = chain(stocks)
        model = models[stocks]
        check_same(model, stocks, n_steps, DT, save_flows=False)
        ours = measure(engine_kernel(model, n_steps, DT, ["x"]), **timing)
        simulate = measure(
            lambda: engine.simulate(model, start=0, stop=n_steps * DT, dt=DT, outputs=["x"]),
            **timing,
        )
        reference = measure(handwritten(stocks, n_steps, DT, save_flows=False), **timing)
    except Exception as error:
        return failed(name, timed, error, status="error")
    return entry(
        name,
        timed,
        ours,
        baseline="hand-written @njit loop",
        baseline_timing=reference,
        stocks=stocks,
        steps=n_steps,
        engine_ns_per_stock_step=ours["seconds"] / work * 1e9,
        baseline_ns_per_stock_step=reference["seconds"] / work * 1e9,
        simulate_seconds=simulate["seconds"],
        simulate_ratio=reference["seconds"] / simulate["seconds"],
    )


def members_point(members: int, quick: bool, model: Any) -> dict[str, Any]:
    """One kernel call for ``members`` members (numba prange over members) against running
    the hand-written single-member loop ``members`` times one after the other."""
    import numpy as np

    import engine

    from .bench_ageing import handwritten_total

    name = f"scaling/members/{members}"
    n_steps, every = 800, int(round(1.0 / DT))
    timed = (
        f"{members} members of the 100-stock ageing chain x {n_steps} Euler steps, total "
        "saved yearly: one Runner.run_members call (prange over members)"
    )
    timing = {
        "repeats": 5 if quick else 9,
        "budget_seconds": 2.0 if quick else 10.0,
        "min_repeat_seconds": 0.05,
    }
    try:
        runner = engine.Runner(
            model, start=0.0, stop=n_steps * DT, dt=DT, saveper=every * DT, outputs=["total"]
        )
        rows = np.tile(runner.parameters(), (members, 1))
        ours = measure(lambda: runner.run_members(rows), **timing)
        single = handwritten_total(100, n_steps, DT, every)
        one = measure(single, **timing)
    except Exception as error:
        return failed(name, timed, error, status="error")
    serial = {**one, "seconds": one["seconds"] * members}
    return entry(
        name,
        timed,
        ours,
        baseline="hand-written @njit loop, one member after another",
        baseline_timing=serial,
        members=members,
        members_per_second=members / ours["seconds"],
    )


def run(quick: bool) -> list[dict[str, Any]]:
    stock_counts = [10, 1000] if quick else [10, 100, 1000, 10_000]
    step_counts = [200, 3200] if quick else [200, 800, 3200, 12_800]
    member_counts = [1, 1000] if quick else [1, 100, 1000, 20_000]
    models: dict[int, Any] = {}
    entries = [point(f"stocks/{n}", n, 800, quick, models) for n in stock_counts]
    entries += [point(f"steps/{n}", 100, n, quick, models) for n in step_counts]
    models.setdefault(100, chain(100))
    entries += [members_point(n, quick, models[100]) for n in member_counts]
    return entries
