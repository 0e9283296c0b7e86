"""Ensembles: ``engine.run_ensemble`` against the same sweep written by hand, and its store.

1. A 100-stock ageing chain (:mod:`benchmarks.bench_ageing`, plus ``total = sum(x, 'age')``) x
   800 Euler steps (dt = 0.25 year), ``mortality`` and ``residence_time`` sampled per member,
   keeping only the chain's total, saved yearly: ``run_ensemble`` end to end (design, kernel,
   Dataset tree and quantile summaries) against
   - numpy arrays vectorised over members (goal: the engine at least 10x faster), and
   - a hand-written ``numba.prange`` kernel over members (goal: at least 50% of its throughput).
   10,000 members (2,000 with ``--quick``).
2. Streaming to the store: members per second and peak memory (RSS of a fresh process) of a sweep
   written to zarr, for a small and a 20x larger n; memory must stay flat (chunks stream): the
   small n's peak at least 0.9 of the large n's.
   The full suite runs the five-region corridor model (``corridor_five_region``, the previous
   default; the default's sweep is in :mod:`benchmarks.bench_corridor`), 1,000 members
   2025-2100 (against the same members as single ``simulate`` calls), and checks flatness on
   the ageing chain (1,000 and 20,000 members, every stock saved every 5 years): 20,000
   corridor members take ~10 minutes here. ``--quick`` uses the chain for both (1,000 and
   5,000 members).
3. The store's overhead (issue 18): the five-region corridor sweep saving every output (~860
   arrays) to zarr against the same sweep kept in memory (``store=None``), in one fresh
   process, timed in alternation; ratio = memory seconds / zarr seconds (goal: the store at
   most 1.5x the memory sink, ratio >= 0.67). Full suite: 1,000 members; ``--quick``: 200
   (the model's kernels compile once, in the first, untimed sweep, and are cached after).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit, prange

from . import child, entry, failed, measure, peak_rss_mb

STOCKS, N_STEPS, DT = 100, 800, 0.25
SAVE_EVERY = 4  # yearly
PRIORS = {"mortality": ("uniform", 0.005, 0.015), "residence_time": ("uniform", 0.8, 1.2)}
SEED = 0


def chain_model() -> Any:
    from .bench_ageing import chain

    m = chain(STOCKS)
    if "total" not in m:
        m.aux("total", "sum(x, 'age')", units="person")
    return m


def sweep_arguments(n: int) -> dict[str, Any]:
    return dict(
        n=n,
        seed=SEED,
        design="random",
        priors=PRIORS,
        start=0.0,
        stop=N_STEPS * DT,
        dt=DT,
        outputs=["total"],
        horizons={"all": (0.0, None, 1.0)},
        progress=False,
    )


def member_parameters(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(residence_time, mortality) per member: the sweep's own design matrix."""
    from engine.sampling import make_design, resolve_priors

    model = chain_model()
    design = make_design("random", n, SEED, resolve_priors(model, PRIORS))
    columns = {key: design.values[:, j] for j, key in enumerate(design.inputs)}
    return columns["residence_time"].copy(), columns["mortality"].copy()


def numpy_sweep(tau: np.ndarray, mortality: np.ndarray) -> np.ndarray:
    """The sweep as numpy arrays (members x stocks), vectorised over members."""
    from .bench_ageing import BIRTHS, INITIAL

    members = tau.size
    x = np.full((members, STOCKS), INITIAL)
    out = np.empty((members, N_STEPS // SAVE_EVERY + 1))
    tau_c = tau[:, None]
    mortality_c = mortality[:, None]
    inflow = np.empty_like(x)
    for step in range(N_STEPS + 1):
        if step % SAVE_EVERY == 0:
            out[:, step // SAVE_EVERY] = x.sum(axis=1)
        if step == N_STEPS:
            break
        inflow[:, 0] = BIRTHS
        np.divide(x[:, :-1], tau_c, out=inflow[:, 1:])
        outflow = x / tau_c + mortality_c * x
        x += DT * (inflow - outflow)
    return out


@njit(parallel=True, error_model="numpy")
def _prange_sweep(tau, mortality, births, initial, n, dt, n_steps, save_every, out):
    for m in prange(tau.size):  # pragma: no cover - compiled
        x = np.full(n, initial)
        inflow = np.empty(n)
        outflow = np.empty(n)
        for step in range(n_steps + 1):
            if step % save_every == 0:
                total = 0.0
                for i in range(n):
                    total += x[i]
                out[m, step // save_every] = total
            if step == n_steps:
                break
            for i in range(n):
                previous = x[i - 1] / tau[m] if i > 0 else births
                inflow[i] = previous
                outflow[i] = x[i] / tau[m] + mortality[m] * x[i]
            for i in range(n):
                x[i] += dt * (inflow[i] - outflow[i])
    return out


def prange_sweep(tau: np.ndarray, mortality: np.ndarray) -> np.ndarray:
    from .bench_ageing import BIRTHS, INITIAL

    out = np.empty((tau.size, N_STEPS // SAVE_EVERY + 1))
    return _prange_sweep(tau, mortality, BIRTHS, INITIAL, STOCKS, DT, N_STEPS, SAVE_EVERY, out)


def measure_interleaved(
    first: Any, second: Any, *, repeats: int, budget_seconds: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time two functions of similar cost in alternation (one warm-up call each, then
    ``repeats`` rounds of one call of each, fewer if over budget): on a shared machine both
    see the same load, so their ratio is not skewed by load changing between two series.
    Returns :func:`benchmarks.measure`-like dicts (median seconds per call)."""
    import gc
    import statistics

    started = time.perf_counter()
    first()
    second()
    per_round = time.perf_counter() - started
    count = int(max(1, min(repeats, budget_seconds // max(per_round, 1e-9))))
    samples: tuple[list[float], list[float]] = ([], [])
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            for fn, times in zip((first, second), samples):
                started = time.perf_counter()
                fn()
                times.append(time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    a, b = (
        {
            "seconds": statistics.median(times),
            "repeats": count,
            "number": 1,
            "spread": max(times) / min(times),
        }
        for times in samples
    )
    return a, b


def _aliases(item: dict[str, Any]) -> dict[str, Any]:
    item["engine_s"] = item.get("engine_seconds")
    item["baseline_s"] = item.get("baseline_seconds")
    return item


def chain_entries(quick: bool) -> list[dict[str, Any]]:
    import engine

    n = 2_000 if quick else 10_000
    model = chain_model()
    tau, mortality = member_parameters(n)
    tree = engine.run_ensemble(model, **sweep_arguments(n))  # also compiles
    ours = tree["all"]["total"].values
    np.testing.assert_allclose(ours, prange_sweep(tau, mortality), rtol=1e-12)
    np.testing.assert_allclose(ours, numpy_sweep(tau, mortality), rtol=1e-10)
    timing = {"repeats": 3 if quick else 5, "budget_seconds": 6.0 if quick else 30.0}
    ensemble, handwritten = measure_interleaved(
        lambda: engine.run_ensemble(model, **sweep_arguments(n)),
        lambda: prange_sweep(tau, mortality),
        repeats=5 if quick else 7,
        budget_seconds=2 * timing["budget_seconds"],
    )
    vectorised = measure(
        lambda: numpy_sweep(tau, mortality),
        repeats=1 if not quick else 2,
        budget_seconds=timing["budget_seconds"],
    )
    what = (
        f"run_ensemble, {n} members (random design, 2 sampled parameters) of a "
        f"{STOCKS}-stock ageing chain x {N_STEPS} Euler steps, chain total saved yearly, "
        "tree and summaries included"
    )
    return [
        # The 10x goal is the issue's, for 10,000 members: with --quick's 2,000 the numpy
        # arrays (1.6 MB) stay in cache and numpy is relatively faster, so no target is shown.
        _aliases(
            entry(
                "ensemble/ageing100_vs_numpy",
                what,
                ensemble,
                baseline="numpy arrays vectorised over members",
                baseline_timing=vectorised,
                target=None if quick else 10.0,
                members=n,
                members_per_second=n / ensemble["seconds"],
            )
        ),
        _aliases(
            entry(
                "ensemble/ageing100_vs_prange",
                what,
                ensemble,
                baseline="hand-written numba prange kernel over members",
                baseline_timing=handwritten,
                target=0.5,
                members=n,
                members_per_second=n / ensemble["seconds"],
            )
        ),
    ]


# ---------------------------------------------------------------------------- streaming


def _peak_child(model_name: str, n: int, store: str) -> dict[str, Any]:
    """Run one sweep to a zarr store in this (fresh) process: seconds and peak RSS."""
    import warnings

    import engine

    warnings.simplefilter("ignore")  # failed members are reported in the store
    if model_name == "corridor":
        import models.corridor_five_region

        model = models.corridor_five_region.build()
        arguments: dict[str, Any] = dict(seed=SEED, start=2025, stop=2100)
        engine.run_ensemble(model, n=2, **arguments, progress=False)  # compile
    else:
        model = chain_model()
        arguments = dict(
            sweep_arguments(n),
            outputs=["x", "total"],
            chunk_size=1_000,
            horizons={"all": (0.0, None, 5.0)},
        )
        arguments.pop("n")
        engine.run_ensemble(model, n=2, **arguments)
    before = peak_rss_mb()
    started = time.perf_counter()
    tree = engine.run_ensemble(model, n=n, store=store, **{**arguments, "progress": False})
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": before,
        "members": int(tree.sizes["member"]),
        "failed": int(tree.attrs["failed_members"]),
        "store_mb": sum(p.stat().st_size for p in Path(store).rglob("*") if p.is_file()) / 2**20,
    }


def _overhead_child(n: int, store: str) -> dict[str, Any]:
    """The corridor sweep of ``n`` members, every output, to zarr and in memory, alternated
    (memory, zarr, memory, zarr; the best of each): seconds of each."""
    import shutil
    import warnings

    import engine
    import models.corridor_five_region

    warnings.simplefilter("ignore")
    model = models.corridor_five_region.build()
    arguments: dict[str, Any] = dict(seed=SEED, start=2025, stop=2100, progress=False)
    engine.run_ensemble(model, n=2, **arguments)  # compile
    best = {"memory": float("inf"), "zarr": float("inf")}
    for _ in range(2):
        for kind in ("memory", "zarr"):
            target = None if kind == "memory" else store
            started = time.perf_counter()
            engine.run_ensemble(model, n=n, store=target, **arguments)
            best[kind] = min(best[kind], time.perf_counter() - started)
            if target is not None:
                shutil.rmtree(target)
    return best


def overhead_entry(quick: bool) -> dict[str, Any]:
    n = 200 if quick else 1_000
    with tempfile.TemporaryDirectory() as folder:
        best = child("bench_ensemble", "--overhead", str(n), str(Path(folder) / "sweep.zarr"))
    return _aliases(
        entry(
            "ensemble/corridor_store_overhead",
            "run_ensemble of the five-region corridor model (the previous default), "
            f"{n} members 2025-2100, every output written to a zarr store (best of two, "
            "alternated with the memory sweep, one fresh process)",
            best["zarr"],
            baseline="the same sweep kept in memory (store=None)",
            baseline_timing=best["memory"],
            target=1 / 1.5,
            members=n,
            members_per_second=n / best["zarr"],
            members_per_second_memory=n / best["memory"],
        )
    )


def peak(model_name: str, n: int) -> dict[str, Any]:
    """:func:`_peak_child` in a fresh Python process (peak RSS is per process)."""
    with tempfile.TemporaryDirectory() as folder:
        store = str(Path(folder) / "sweep.zarr")
        return child("bench_ensemble", "--peak", model_name, str(n), store)


def corridor_entry() -> dict[str, Any]:
    import warnings

    import engine
    import models.corridor_five_region

    n = 1_000
    swept = peak("corridor", n)
    model = models.corridor_five_region.build()
    from engine.sampling import make_design, resolve_priors

    design = make_design("random", 20, SEED, resolve_priors(model, None))
    rows = [dict(zip(design.inputs, row)) for row in design.values]

    def loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for params in rows:
                try:
                    engine.simulate(model, params=params, start=2025, stop=2100)
                except engine.IntegrationError:
                    pass

    single = measure(loop, repeats=1, budget_seconds=60.0)
    per_member_single = single["seconds"] / len(rows)
    return _aliases(
        entry(
            "ensemble/corridor_store",
            "run_ensemble of the five-region corridor model (the previous default), "
            f"{n} members (random design over its priors), 2025-2100, every output written "
            "to a zarr store, in a fresh process",
            swept["seconds"],
            baseline=f"{n} single simulate calls (timed on 20, scaled)",
            baseline_timing=per_member_single * n,
            members=n,
            members_per_second=n / swept["seconds"],
            peak_rss_mb=swept["peak_rss_mb"],
            rss_before_mb=swept["rss_before_mb"],
            store_mb=swept["store_mb"],
            failed_members=swept["failed"],
        )
    )


def flatness_entry(quick: bool) -> dict[str, Any]:
    small_n, large_n = (1_000, 5_000) if quick else (1_000, 20_000)
    small = peak("chain", small_n)
    large = peak("chain", large_n)
    return _aliases(
        entry(
            "ensemble/store_memory_flat",
            "peak RSS of a fresh process streaming an ageing-chain sweep to zarr (every stock "
            f"every 5 years, chunks of 1,000 members): {small_n} members "
            f"({small['peak_rss_mb']:.0f} MB, store {small['store_mb']:.0f} MB) against "
            f"{large_n} ({large['peak_rss_mb']:.0f} MB, store {large['store_mb']:.0f} MB); ratio "
            "= small peak / large peak (1 = flat; goal >= 0.9: the working set is one chunk of "
            "output, at most 64 MB, and one summary block of all members, about 32 MB, whatever n)",
            large["peak_rss_mb"],
            baseline=f"peak RSS (MB) with {small_n} members",
            baseline_timing=small["peak_rss_mb"],
            target=0.9,
            peak_growth_mb=large["peak_rss_mb"] - small["peak_rss_mb"],
            members_per_second=large_n / large["seconds"],
            peak_rss_mb_small=small["peak_rss_mb"],
            peak_rss_mb_large=large["peak_rss_mb"],
            members_small=small_n,
            members_large=large_n,
            store_mb_large=large["store_mb"],
            units="MB (peak RSS), not seconds",
        )
    )


def run(quick: bool) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    try:
        entries += chain_entries(quick)
    except Exception as error:
        entries.append(
            _aliases(failed("ensemble/ageing100", "run_ensemble", error, status="error"))
        )
    if not quick:
        try:
            entries.append(corridor_entry())
        except Exception as error:
            entries.append(
                _aliases(failed("ensemble/corridor_store", "run_ensemble", error, status="error"))
            )
    try:
        entries.append(overhead_entry(quick))
    except Exception as error:
        entries.append(
            _aliases(
                failed("ensemble/corridor_store_overhead", "run_ensemble", error, status="error")
            )
        )
    try:
        entries.append(flatness_entry(quick))
    except Exception as error:
        entries.append(
            _aliases(failed("ensemble/store_memory_flat", "run_ensemble", error, status="error"))
        )
    return entries


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--peak":
        print(json.dumps(_peak_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--overhead":
        print(json.dumps(_overhead_child(int(sys.argv[2]), sys.argv[3])))
    else:
        quick = "--quick" in sys.argv
        for item in run(quick):
            shown = {k: v for k, v in item.items() if k != "machine"}
            print(json.dumps(shown, default=str))
