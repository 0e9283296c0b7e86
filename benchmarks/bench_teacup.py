"""Teacup, 240 Euler steps: the compiled run alone and ``engine.simulate`` end to end, each
against PySD's ``model.run`` of the conformance ``teacup.mdl`` (the same model, same times);
and the prepared run's kernel call against a hand-written ``@njit`` teacup loop called the
same way (``teacup/kernel_vs_njit``, issue 18: within 2x).

Also records where ``engine.simulate``'s time goes, stage by stage (``breakdown``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import entry, failed, measure, model_path, quiet, skipped

START, STOP, DT = 0.0, 30.0, 0.125  # 240 steps, as teacup.mdl
INITIAL_TEMPERATURE = 180.0  # degF, as teacup.mdl


def teacup() -> Any:
    """The README's teacup, written with the DSL."""
    import engine

    m = engine.Model("teacup", time_unit="minute")
    m.param("room_temperature", 70, units="degF")
    m.param("characteristic_time", 10, units="minute")
    m.stock("teacup_temperature", initial=INITIAL_TEMPERATURE, units="degF")
    m.flow(
        "heat_loss",
        "(teacup_temperature - room_temperature) / characteristic_time",
        out_of="teacup_temperature",
        units="degF/minute",
    )
    return m


def kernel_call(model: Any) -> Any:
    """A function running the compiled kernel alone: a prepared :class:`engine.Runner` and its
    parameter vector made once, outside the timing, as a sweep or a calibration loop would."""
    import engine

    runner = engine.Runner(model, start=START, stop=STOP, dt=DT)
    p = runner.parameters()
    return lambda: runner.run_arrays(p)


def hand_written(model: Any) -> Any:
    """A function running a hand-written ``@njit`` teacup loop as the prepared run is called:
    from Python, the parameter vector given, the output (save times x the two variables, as
    ``run_arrays`` returns them) allocated per call; Euler steps in Vensim's order (the
    outputs at ``t`` saved, then the stock stepped), so its values equal the engine's bit for
    bit (checked before timing)."""
    from numba import njit

    import engine

    runner = engine.Runner(model, start=START, stop=STOP, dt=DT)
    slots = runner.result.plan.slots
    room = slots["room_temperature"].offset
    tau = slots["characteristic_time"].offset
    initial = INITIAL_TEMPERATURE

    @njit(error_model="numpy")
    def teacup_loop(p: Any, n_steps: int, h: float) -> Any:
        out = np.empty((n_steps + 1, 2))
        temperature = initial
        for step in range(n_steps + 1):
            heat_loss = (temperature - p[room]) / p[tau]
            out[step, 0] = temperature
            out[step, 1] = heat_loss
            if step == n_steps:
                break
            temperature += h * (-heat_loss)
        return out

    assert runner.settings is not None
    n_steps = runner.settings.n_steps
    p = runner.parameters()
    return lambda: teacup_loop(p, n_steps, DT)


def interleaved(
    first: Any, second: Any, *, rounds: int, budget_seconds: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time two fast functions in alternation: ``rounds`` rounds of :func:`measure` (one
    repeat of ~10 ms each) of the first then the second, fewer if over budget; both see the
    same load, so their ratio is not skewed by load changing between two series. Returns
    :func:`measure`-like dicts (median over rounds of the seconds per call)."""
    import statistics

    samples: tuple[list[float], list[float]] = ([], [])
    started = time.perf_counter()
    for _ in range(rounds):
        for fn, times in zip((first, second), samples):
            timing = measure(fn, repeats=1, min_repeat_seconds=0.01, budget_seconds=1.0)
            times.append(timing["seconds"])
        if time.perf_counter() - started > budget_seconds:
            break
    return tuple(  # type: ignore[return-value]
        {
            "seconds": statistics.median(times),
            "repeats": len(times),
            "number": None,
            "spread": max(times) / min(times),
        }
        for times in samples
    )


def breakdown(model: Any, calls: int = 2000) -> dict[str, float]:
    """Mean seconds per call of each stage of ``engine.simulate`` (the teacup, warm)."""
    import engine
    from engine.simulation import build_dataset

    kept = engine.Runner(model, start=START, stop=STOP, dt=DT)
    kept.run()  # its Dataset's frame made once (engine.frame), as simulate's kept Runner has
    assert kept._frame is not None and kept.times is not None
    totals = dict.fromkeys(
        (
            "Runner (prepare: cached compile, times, layout)",
            "parameters",
            "run_arrays (kernel and status)",
            "build_dataset (a new Runner's frame made)",
            "dataset from a prepared Runner's frame",
        ),
        0.0,
    )
    clock = time.perf_counter
    for _ in range(calls):
        t0 = clock()
        runner = engine.Runner(model, start=START, stop=STOP, dt=DT)
        t1 = clock()
        p = runner.parameters(None)
        t2 = clock()
        data = runner.run_arrays(p)
        t3 = clock()
        assert runner.times is not None
        build_dataset(runner.result, runner.names, data, p, runner.times)
        t4 = clock()
        kept._frame.dataset(data, p, kept.times)
        t5 = clock()
        for key, seconds in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[key] += seconds
    return {key: value / calls for key, value in totals.items()}


def run(quick: bool) -> list[dict[str, Any]]:
    import engine

    quiet()
    model = teacup()
    mdl = model_path("samples/teacup/teacup.mdl")
    budget = 3.0 if quick else 15.0
    timing = {"repeats": 5 if quick else 11, "budget_seconds": budget}
    entries: list[dict[str, Any]] = []

    try:
        ds = engine.simulate(model, start=START, stop=STOP, dt=DT)
        engine_call, njit_call = kernel_call(model), hand_written(model)
        # Same values, bit for bit: the comparison is of the same work.
        np.testing.assert_array_equal(engine_call(), njit_call())
        engine_vs, njit_vs = interleaved(
            engine_call, njit_call, rounds=15 if quick else 41, budget_seconds=budget
        )
        kernel = measure(kernel_call(model), **timing)
        simulate = measure(lambda: engine.simulate(model, start=START, stop=STOP, dt=DT), **timing)
        stages = breakdown(model, 500 if quick else 3000)
    except Exception as error:  # the suite reports, it does not crash
        return [
            failed("teacup/kernel", "Runner.run_arrays, 240 Euler steps", error, status="error"),
            failed("teacup/kernel_vs_njit", "Runner.run_arrays", error, status="error"),
            failed("teacup/simulate", "engine.simulate, 240 Euler steps", error, status="error"),
        ]

    entries.append(
        entry(
            "teacup/kernel_vs_njit",
            "prepared run: engine.Runner(teacup, start=0, stop=30, dt=0.125).run_arrays(p), "
            "p made beforehand (241 save times x 2 columns, a new output array per call), "
            "timed in alternation with the baseline",
            engine_vs,
            baseline="hand-written @njit teacup loop called from Python the same way "
            "(p given, output allocated per call; same values, checked equal)",
            baseline_timing=njit_vs,
            target=0.5,  # issue 18: the prepared run's kernel call within 2x of it
        )
    )
    baseline = "PySD model.run (teacup.mdl)"
    if not mdl.exists():
        reason = f"{mdl} is absent (the shared conformance models)"
        return entries + [
            skipped("teacup/kernel", "Runner.run_arrays", reason, baseline=baseline),
            skipped("teacup/simulate", "engine.simulate", reason, baseline=baseline),
        ]
    import pysd

    pysd_model = pysd.read_vensim(str(mdl))
    frame = pysd_model.run()
    # Same model, same numbers: a benchmark of different work would be meaningless.
    np.testing.assert_allclose(
        ds["teacup_temperature"].values, frame["Teacup Temperature"].values, rtol=1e-9
    )
    pysd_run = measure(pysd_model.run, **timing)

    entries.append(
        entry(
            "teacup/kernel",
            "compiled Euler kernel via engine.Runner.run_arrays (240 steps, "
            "every variable saved at each step; times, parameters, layout resolved beforehand)",
            kernel,
            baseline=baseline,
            baseline_timing=pysd_run,
            target=None,
            goal_seconds=20e-6,
        )
    )
    entries.append(
        entry(
            "teacup/simulate",
            "engine.simulate(model, start=0, stop=30, dt=0.125) end to end, "
            "xarray Dataset included",
            simulate,
            baseline=baseline,
            baseline_timing=pysd_run,
            target=100.0,  # issue 18: simulate end to end >= 100x PySD
            goal_seconds=400e-6,
            breakdown=stages,
        )
    )
    return entries
