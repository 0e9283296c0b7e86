"""corridor's benchmark suite: every figure a ratio against a baseline timed in the same process.

Run it with ``python -m benchmarks`` (``--quick`` for CI, ``--check`` to gate on the floors in
``benchmarks/floors.json``); see ``benchmarks/README.md``.

Each ``bench_*.py`` module has ``run(quick: bool) -> list[dict]``; an entry is made with
:func:`entry` and timed with :func:`measure` (warm-up excluded, median of repeats).
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "CONFORMANCE",
    "SPEED",
    "entry",
    "failed",
    "machine",
    "measure",
    "peak_rss_mb",
    "skipped",
    "speed_models",
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFORMANCE = Path(os.environ.get("CORRIDOR_CONFORMANCE", ROOT.parent / "shared" / "conformance"))

# The speed suite of ../shared/conformance/conform.py (its SPEED list), read from there when
# present; this copy of the names is the fallback, never the models themselves.
SPEED = [
    "samples/teacup/teacup.mdl",
    "samples/SIR/SIR.mdl",
    "samples/Roessler_Chaos/roessler_chaos.mdl",
    "samples/simple_harmonic_oscillator/simple_harmonic_oscillator.mdl",
    "samples/Lotka_Volterra/Lotka_Volterra.mdl",
    "samples/pendulum/Single_Pendulum.mdl",
    "samples/Workforce/workforce.mdl",
    "samples/Query_file/Query_file.mdl",
    "samples/Population/Subscripted Population Model.mdl",
    "tests/euler_step_vs_saveper/test_euler_step_vs_saveper.mdl",
    "tests/delay_numeric_error/test_delay_numeric_error.mdl",
    "tests/subscripted_delays/test_subscripted_delays.mdl",
    "tests/subscripted_smooth/test_subscripted_smooth.mdl",
]


def speed_models() -> list[str]:
    """The SPEED list of conform.py (parsed, not imported), else the copy above."""
    import ast

    source = CONFORMANCE / "conform.py"
    if source.exists():
        tree = ast.parse(source.read_text())
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "SPEED"
            ):
                return [str(v) for v in ast.literal_eval(node.value)]
    return list(SPEED)


def model_path(relative: str) -> Path:
    return CONFORMANCE / "test-models" / relative


def child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> *args`` in a fresh Python process (peak RSS and
    compiles are per process) from the project's root, and return the JSON object its last
    line of output prints (empty when it prints nothing)."""
    import json
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    return dict(json.loads(lines[-1])) if lines else {}


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: Linux's ``VmHWM`` (the high-water
    mark of the process's own memory, begun anew at ``exec``). Not ``getrusage``'s
    ``ru_maxrss``, which Linux keeps across ``fork`` and ``exec``: a child started by a large
    parent (the suite's process, ~1 GB after the ensembles) reports the parent's size at the
    fork as its own peak, hiding the child's. Elsewhere, ``ru_maxrss`` (KiB on Linux, bytes on
    macOS)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def quiet() -> None:
    """PySD and xarray warn on every run of some models; the timings do not need to hear it."""
    warnings.filterwarnings("ignore")


# ------------------------------------------------------------------------------ timing


def measure(
    fn: Callable[[], Any],
    *,
    repeats: int = 7,
    min_repeat_seconds: float = 0.05,
    budget_seconds: float = 10.0,
    warmups: int = 1,
) -> dict[str, Any]:
    """Time ``fn`` warm: ``warmups`` calls (untimed), then up to ``repeats`` repeats of
    ``number`` calls each, ``number`` chosen so a repeat lasts ``min_repeat_seconds``.

    Returns ``seconds`` (the median per-call time over repeats), ``repeats``, ``number`` and
    ``spread`` (max/min of the repeats). Slow functions get fewer repeats so the measurement
    stays within ``budget_seconds`` (never fewer than one repeat after the warm-up).
    """
    first = 0.0
    for _ in range(max(1, warmups)):
        started = time.perf_counter()
        fn()
        first = time.perf_counter() - started
    # Calibrate with a few more calls when the function is fast (the first is often slower).
    if first < min_repeat_seconds:
        started = time.perf_counter()
        fn()
        fn()
        first = (time.perf_counter() - started) / 2
    number = max(1, math.ceil(min_repeat_seconds / max(first, 1e-9)))
    per_repeat = first * number
    count = int(max(1, min(repeats, budget_seconds // max(per_repeat, 1e-9))))
    samples = []
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            started = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - started) / number)
    finally:
        if enabled:
            gc.enable()
    return {
        "seconds": statistics.median(samples),
        "repeats": count,
        "number": number,
        "spread": max(samples) / min(samples),
    }


# ------------------------------------------------------------------------------ entries

_MACHINE: dict[str, Any] | None = None


def machine() -> dict[str, Any]:
    """CPU model, threads available to this process, and the versions behind the figures."""
    global _MACHINE
    if _MACHINE is None:
        import numba
        import numpy

        cpu = platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            threads = os.cpu_count() or 1
        versions = {
            "python": platform.python_version(),
            "numba": numba.__version__,
            "numpy": numpy.__version__,
        }
        try:
            import pysd

            versions["pysd"] = pysd.__version__
        except ImportError:  # pragma: no cover
            pass
        _MACHINE = {
            "cpu": cpu,
            "threads": threads,
            "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "platform": platform.platform(),
            **versions,
        }
    return _MACHINE


def entry(
    name: str,
    timed: str,
    engine: dict[str, Any] | float | None,
    *,
    baseline: str | None = None,
    baseline_timing: dict[str, Any] | float | None = None,
    target: float | None = None,
    target_text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One benchmark result. ``ratio`` is baseline seconds / engine seconds (> 1: the engine is
    faster); ``target`` is the ratio a goal asks for (``meets_target`` compares with it)."""

    def seconds(timing: dict[str, Any] | float | None) -> float | None:
        if timing is None:
            return None
        return float(timing["seconds"] if isinstance(timing, dict) else timing)

    engine_seconds = seconds(engine)
    baseline_seconds = seconds(baseline_timing)
    ratio = (
        baseline_seconds / engine_seconds
        if engine_seconds and baseline_seconds is not None
        else None
    )
    result: dict[str, Any] = {
        "name": name,
        "status": "ok",
        "timed": timed,
        "engine_seconds": engine_seconds,
        "engine_repeats": engine.get("repeats") if isinstance(engine, dict) else None,
        "baseline": baseline,
        "baseline_seconds": baseline_seconds,
        "baseline_repeats": (
            baseline_timing.get("repeats") if isinstance(baseline_timing, dict) else None
        ),
        "ratio": ratio,
        "target": target_text or (f"ratio >= {target:g}" if target else None),
        "meets_target": None if target is None or ratio is None else bool(ratio >= target),
        "machine": machine(),
    }
    result.update(extra)
    goal = extra.get("goal_seconds")
    if goal is not None and engine_seconds is not None:
        result["meets_goal"] = bool(engine_seconds <= goal)
    return result


def skipped(name: str, timed: str, reason: str, **extra: Any) -> dict[str, Any]:
    """An entry that could not run here (missing data): not a failure of the engine."""
    return {
        "name": name,
        "status": "skipped",
        "timed": timed,
        "error": reason,
        "engine_seconds": None,
        "baseline": extra.pop("baseline", None),
        "baseline_seconds": None,
        "ratio": None,
        "target": extra.pop("target", None),
        "meets_target": None,
        "machine": machine(),
        **extra,
    }


def failed(
    name: str, timed: str, error: BaseException, *, status: str = "unsupported", **extra: Any
) -> dict[str, Any]:
    """An entry the engine could not run (a model it cannot load yet, an exception)."""
    message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    return {
        "name": name,
        "status": status,
        "timed": timed,
        "error": message,
        "engine_seconds": None,
        "baseline": extra.pop("baseline", None),
        "baseline_seconds": extra.pop("baseline_seconds", None),
        "ratio": None,
        "target": extra.pop("target", None),
        "meets_target": False,
        "machine": machine(),
        **extra,
    }
