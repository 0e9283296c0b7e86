"""Compile time, cold and from the disk cache, each in a fresh process.

For every model: one subprocess with an empty ``CORRIDOR_CACHE_DIR`` (cold: numba compiles the
generated kernels), then a second subprocess reusing that directory (the disk cache). A child
times, after ``import engine``: building the model (the DSL) or ``engine.load`` (a .mdl), then
the first ``engine.simulate`` minus a warm one (what the first call spends compiling).
``import engine`` and xarray's one-time start-up (its first Variable imports dask.array, about
0.9 s here) are timed apart (``import_seconds``, ``xarray_startup_seconds``), not counted.

Compile has no baseline, so these entries carry absolute seconds and the goals of issues 2 and
3 (teacup: cold < 5 s, cached < 0.5 s; speed models: load + compile < 10 s cold, < 1 s cached),
reported, never gated.
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

# The quick suite (CI, under 3 minutes) times the DSL teacup only; the full suite every speed model.
QUICK: list[str] = []


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
    engine.simulate(model, **times)
    first = time.perf_counter()
    engine.simulate(model, **times)
    second = time.perf_counter()
    compile_seconds = max(0.0, (first - loaded) - (second - first))
    return {
        "import_seconds": imported - started - xarray_seconds,
        "xarray_startup_seconds": xarray_seconds,
        "load_seconds": loaded - imported,
        "compile_seconds": compile_seconds,
        "load_compile_seconds": loaded - imported + compile_seconds,
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
    key = "compile_seconds" if target == "teacup-dsl" else "load_compile_seconds"
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
            results.append(
                entry(
                    name,
                    timed,
                    measured[key],
                    goal_seconds=goal,
                    target_text=f"< {goal:g} s (goal, not gated)",
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
        entries += bench(label, str(path), 10.0, 1.0, what)
    return entries


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], "--prewarm" in sys.argv[2:])))
