"""Compile time, cold and from the disk cache, each in a fresh process.

For every model: one subprocess with an empty ``CORRIDOR_CACHE_DIR`` (cold: numba compiles the
generated kernels), then a second subprocess reusing that directory (the disk cache). A child
times, after ``import engine``: building the model (the DSL, a bundled model's ``build()``) or
``engine.load`` (a .mdl), then preparing the run (``engine.Runner``, which compiles the
kernels, or loads them from the cache). The first ``engine.simulate`` after it, minus a warm
one, is reported apart (``first_run_extra_seconds``: memory touched for the first time, 477 MB
for the default corridor's every-variable output, costs seconds on a host with slow page
faults), and so is the figure these entries reported before, the first simulate minus a warm
one (``first_simulate_minus_warm_seconds``: compile and first run together). ``import
engine`` and xarray's one-time start-up (its first Variable imports dask.array, about 0.9 s
here) are timed apart (``import_seconds``, ``xarray_startup_seconds``), not counted.

Compile has no baseline, so these entries carry absolute seconds and goals, reported, never
gated: teacup (DSL) cold < 5 s and cached < 0.5 s (issues 2 and 3); every model of the
conformance speed suite, load + compile, cold < 5 s (issue 18; < 10 s before) and cached
< 1 s; the bundled corridor and migration system (the model the corridor is becoming),
compile without the build, cold < 10 s (issue 18; full suite only, each takes seconds to
build). ``before_seconds`` is the figure measured before issue 18's compile work (the
kernels of a large model compiled with literal loop counts, the Euler step calling aux) on
the 2-thread host of the benchmark results (its load then: see ``BEFORE``), as the first
simulate minus a warm one (compare ``first_simulate_minus_warm_seconds``), and
``compile_cpu_seconds`` the CPU time of the compile, which a host shared with other jobs
inflates less than the seconds waited.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from . import ROOT, entry, failed, model_path, skipped, speed_models
from .bench_vensim import short_name

# The quick suite (CI, under 3 minutes) times the DSL teacup only; the full suite every speed model
# and the bundled models below.
QUICK: list[str] = []
# Bundled models (models.<name>.build()) timed in the full suite: label -> module name.
BUNDLED = {"corridor": "corridor", "migration_system": "migration_system"}
# Cold seconds before issue 18's compile work (main at a792607, 2026-12-02, 2 threads, a host
# lightly loaded by other jobs): load + compile for the speed suite, compile alone for the
# bundled models (with its CPU seconds, BEFORE_CPU).
BEFORE = {
    "teacup": 1.02,
    "SIR": 1.02,
    "roessler_chaos": 1.01,
    "simple_harmonic_oscillator": 0.98,
    "Lotka_Volterra": 1.03,
    "Single_Pendulum": 1.18,
    "workforce": 1.30,
    "Query_file": 5.37,
    "Subscripted_Population_Model": 1.81,
    "test_euler_step_vs_saveper": 1.02,
    "test_delay_numeric_error": 1.28,
    "test_subscripted_delays": 3.04,
    "test_subscripted_smooth": 2.09,
    "corridor": 20.58,
    "migration_system": 40.76,
}
BEFORE_CPU = {"corridor": 19.93, "migration_system": 32.42}


def child(target: str, prewarm: bool = False) -> dict[str, Any]:
    """Runs in the subprocess: time load/build and the compile of the first simulate.

    ``prewarm`` first compiles a trivial numba function, so numba's once-per-process start-up
    (its import, typing and target registries) is not counted against the model."""
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    import numpy as np
    import xarray as xr

    import engine

    # xarray imports dask.array (when installed) the first time it makes a Variable, ~0.9 s
    # here: a library's one-time start-up, not load or compile, so it is timed apart.
    xarray_started = time.perf_counter()
    xr.Variable("x", np.zeros(1))
    xarray_seconds = time.perf_counter() - xarray_started
    if prewarm:
        from numba import njit

        njit(lambda x: x + 1.0)(1.0)
    imported = time.perf_counter()
    if target == "teacup-dsl":
        from .bench_teacup import teacup

        model = teacup()
        times = {"start": 0.0, "stop": 30.0, "dt": 0.125}
    elif target.startswith("model:"):
        import importlib

        model = importlib.import_module(f"models.{target[6:]}").build()
        times = {}
    else:
        model = engine.load(target)
        times = {}
    loaded = time.perf_counter()
    cpu_loaded = time.process_time()
    engine.Runner(model, **times)  # the prepared run compiles (or loads) the kernels
    prepared = time.perf_counter()
    cpu_prepared = time.process_time()
    engine.simulate(model, **times)
    first = time.perf_counter()
    cpu_first = time.process_time()
    engine.simulate(model, **times)
    second = time.perf_counter()
    cpu_second = time.process_time()
    warm, cpu_warm = second - first, cpu_second - cpu_first
    compile_seconds = prepared - loaded
    return {
        "import_seconds": imported - started - xarray_seconds,
        "xarray_startup_seconds": xarray_seconds,
        "load_seconds": loaded - imported,
        "compile_seconds": compile_seconds,
        "load_compile_seconds": loaded - imported + compile_seconds,
        # the process's CPU time for the same compile: on a shared host, what waiting for
        # the CPU adds to the seconds above is not in it
        "compile_cpu_seconds": cpu_prepared - cpu_loaded,
        # what the first run costs beyond a warm one, compile excluded: memory touched for
        # the first time (the default corridor saves 537,537 columns x 111 rows, 477 MB, and
        # this host's page faults ran at ~0.1 GB/s), xarray's and numpy's first calls
        "first_run_extra_seconds": max(0.0, (first - prepared) - warm),
        # the figure before issue 18's work on this benchmark: the first simulate minus a
        # warm one, compile and first-run costs together
        "first_simulate_minus_warm_seconds": max(0.0, (first - loaded) - warm),
        "first_simulate_minus_warm_cpu_seconds": max(0.0, (cpu_first - cpu_loaded) - cpu_warm),
    }


def spawn(target: str, cache: str, prewarm: bool = False) -> dict[str, Any]:
    env = dict(os.environ, CORRIDOR_CACHE_DIR=cache)
    flags = ["--prewarm"] if prewarm else []
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_compile", target, *flags],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(
    label: str,
    target: str,
    cold_goal: float,
    cached_goal: float,
    what: str,
    prewarmed: bool = False,
) -> list[dict[str, Any]]:
    """Cold, then cached; with ``prewarmed`` also cached after numba's own start-up."""
    built = target == "teacup-dsl" or target.startswith("model:")
    key = "compile_seconds" if built else "load_compile_seconds"
    phases = [("cold", cold_goal, False), ("cached", cached_goal, False)]
    if prewarmed:
        phases.append(("cached-numba-started", cached_goal, True))
    with tempfile.TemporaryDirectory(prefix="corridor-cache-") as cache:
        results = []
        for phase, goal, prewarm in phases:
            name = f"compile/{label}/{phase}"
            timed = (
                f"{what}, {'empty' if phase == 'cold' else 'warm'} CORRIDOR_CACHE_DIR, "
                "fresh process (import engine and xarray's start-up excluded"
                + (", numba started beforehand)" if prewarm else ")")
            )
            try:
                measured = spawn(target, cache, prewarm)
            except Exception as error:
                results.append(failed(name, timed, error, status="error"))
                continue
            before = BEFORE.get(label) if phase == "cold" else None
            was = f"; {before:g} s before issue 18" if before is not None else ""
            results.append(
                entry(
                    name,
                    timed,
                    measured[key],
                    goal_seconds=goal,
                    target_text=f"< {goal:g} s (goal, not gated{was})",
                    before_seconds=before,
                    before_cpu_seconds=BEFORE_CPU.get(label) if phase == "cold" else None,
                    **measured,
                )
            )
        return results


def run(quick: bool) -> list[dict[str, Any]]:
    entries = bench(
        "teacup_dsl",
        "teacup-dsl",
        5.0,
        0.5,
        "teacup DSL model: first engine.simulate minus a warm one",
        prewarmed=True,
    )
    for relative in QUICK if quick else speed_models():
        path = model_path(relative)
        label = short_name(relative)
        what = f"engine.load + compile of {relative}"
        if not path.exists():
            entries.append(
                skipped(
                    f"compile/{label}/cold",
                    what,
                    f"{path} is absent (the shared conformance models)",
                )
            )
            continue
        entries += bench(label, str(path), 5.0, 1.0, what)
    if not quick:
        for label, module in BUNDLED.items():
            what = f"compile of models.{module}.build() (the build timed apart, load_seconds)"
            entries += bench(label, f"model:{module}", 10.0, 1.0, what)
    return entries


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], "--prewarm" in sys.argv[2:])))
