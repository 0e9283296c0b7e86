"""A 100-stock ageing chain x 800 Euler steps against a hand-written ``@njit`` loop of the same
model (the ceiling): the compiled kernel alone, and ``engine.simulate`` end to end.

The chain is written the natural DSL way: one stock subscripted by an ``age`` dimension, the
inflow of each stage reading the previous one with a shifted subscript (``x[age - 1]``, 0 before
the first stage), not 100 scalar stocks. Stage ``i`` gains ``x[i-1] / residence_time`` (stage 0
gains ``births``) and loses ``x[i] / residence_time + mortality * x[i]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from . import entry, failed, measure

BIRTHS, RESIDENCE_TIME, MORTALITY, INITIAL = 1000.0, 1.0, 0.01, 1.0


def chain(stocks: int) -> Any:
    """The ageing chain as a DSL model: stock ``x`` over ``age``, flows ``inflow``, ``outflow``."""
    import engine

    m = engine.Model(f"ageing_chain_{stocks}", time_unit="year")
    m.dimension("age", stocks)
    m.param("births", BIRTHS, units="person/year")
    m.param("residence_time", RESIDENCE_TIME, units="year")
    m.param("mortality", MORTALITY, units="1/year")
    m.param("entry", [1.0] + [0.0] * (stocks - 1), dims=("age",))
    m.stock("x", initial=INITIAL, dims=("age",), units="person")
    m.flow(
        "inflow",
        "entry * births + x[age - 1] / residence_time",
        into="x",
        dims=("age",),
        units="person/year",
    )
    m.flow(
        "outflow",
        "x / residence_time + mortality * x",
        out_of="x",
        dims=("age",),
        units="person/year",
    )
    m.aux("total", "sum(x, 'age')", units="person")
    return m


def handwritten_total(stocks: int, n_steps: int, dt: float, every: int):
    """The hand-written loop keeping only the chain's total every ``every`` steps."""

    def call() -> np.ndarray:
        out = np.empty((n_steps // every + 1, 1))
        return _chain_euler(
            stocks, BIRTHS, RESIDENCE_TIME, MORTALITY, dt, n_steps, False, out, every
        )

    return call


def engine_total(model: Any, n_steps: int, dt: float, every: int):
    """The engine's kernel keeping only ``total``, saved every ``every`` steps."""
    import engine

    runner = engine.Runner(
        model, start=0.0, stop=n_steps * dt, dt=dt, saveper=every * dt, outputs=["total"]
    )
    p = runner.parameters()
    return lambda: runner.run_arrays(p)


@njit(error_model="numpy")
def _chain_euler(
    n, births, tau, mortality, dt, n_steps, save_flows, out, total_every=0
):  # pragma: no cover
    # Saves stocks (and flows) every step, or with total_every > 0 only the chain's total
    # every total_every steps.
    x = np.full(n, INITIAL)
    inflow = np.empty(n)
    outflow = np.empty(n)
    for step in range(n_steps + 1):
        for i in range(n):
            previous = x[i - 1] if i > 0 else 0.0
            inflow[i] = (births if i == 0 else 0.0) + previous / tau
            outflow[i] = x[i] / tau + mortality * x[i]
        if total_every > 0:
            if step % total_every == 0:
                total = 0.0
                for i in range(n):
                    total += x[i]
                out[step // total_every, 0] = total
        else:
            for i in range(n):
                out[step, i] = x[i]
            if save_flows:
                for i in range(n):
                    out[step, n + i] = inflow[i]
                    out[step, 2 * n + i] = outflow[i]
        if step == n_steps:
            break
        for i in range(n):
            x[i] += dt * (inflow[i] - outflow[i])
    return out


def handwritten(stocks: int, n_steps: int, dt: float, save_flows: bool = True):
    """A function running the hand-written loop, output array allocated per call as the engine
    does, saving every step (stocks, and the flows when ``save_flows``)."""
    columns = 3 * stocks if save_flows else stocks

    def call() -> np.ndarray:
        out = np.empty((n_steps + 1, columns))
        return _chain_euler(stocks, BIRTHS, RESIDENCE_TIME, MORTALITY, dt, n_steps, save_flows, out)

    return call


def engine_kernel(model: Any, n_steps: int, dt: float, outputs: list[str] | None = None):
    """A function running the engine's compiled kernel alone (run settings resolved once)."""
    import engine

    runner = engine.Runner(model, start=0.0, stop=n_steps * dt, dt=dt, outputs=outputs)
    assert runner.settings is not None and runner.settings.n_steps == n_steps
    p = runner.parameters()
    return lambda: runner.run_arrays(p)


def check_same(model: Any, stocks: int, n_steps: int, dt: float, save_flows: bool) -> None:
    """The engine and the hand-written loop compute the same trajectory."""
    outputs = ["x", "inflow", "outflow"] if save_flows else ["x"]
    ours = engine_kernel(model, n_steps, dt, outputs)()
    theirs = handwritten(stocks, n_steps, dt, save_flows)()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def run(quick: bool) -> list[dict[str, Any]]:
    import engine

    stocks, n_steps, dt = 100, 800, 0.25
    timing = {"repeats": 7 if quick else 15, "budget_seconds": 3.0 if quick else 15.0}
    baseline = "hand-written @njit loop"
    try:
        model = chain(stocks)
        check_same(model, stocks, n_steps, dt, save_flows=True)
        every = int(round(1.0 / dt))  # yearly
        ours, theirs = (
            engine_total(model, n_steps, dt, every)(),
            handwritten_total(stocks, n_steps, dt, every)(),
        )
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        outputs = ["x", "inflow", "outflow"]
        kernel = measure(engine_kernel(model, n_steps, dt, outputs), **timing)
        simulate = measure(
            lambda: engine.simulate(model, start=0, stop=n_steps * dt, dt=dt, outputs=outputs),
            **timing,
        )
        reference = measure(handwritten(stocks, n_steps, dt), **timing)
        kernel_total = measure(engine_total(model, n_steps, dt, every), **timing)
        reference_total = measure(handwritten_total(stocks, n_steps, dt, every), **timing)
    except Exception as error:
        return [failed("ageing100/kernel", "Runner.run_arrays", error, status="error")]
    what = (
        f"{stocks}-stock ageing chain (age dimension, x[age - 1]), {n_steps} Euler steps, "
        "stocks and flows saved every step"
    )
    return [
        entry(
            "ageing100/kernel-total",
            f"compiled kernel (Runner.run_arrays): {stocks}-stock "
            f"ageing chain, {n_steps} Euler steps, the chain's total saved yearly",
            kernel_total,
            baseline=baseline,
            baseline_timing=reference_total,
            target=0.5,
        ),
        entry(
            "ageing100/kernel",
            f"compiled kernel (Runner.run_arrays): {what}",
            kernel,
            baseline=baseline,
            baseline_timing=reference,
            target=0.5,
        ),
        entry(
            "ageing100/simulate",
            f"engine.simulate end to end, Dataset included: {what}",
            simulate,
            baseline=baseline,
            baseline_timing=reference,
            target=0.5,
        ),
    ]
