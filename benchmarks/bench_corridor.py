"""The default forecast (issue 14): the ``corridor`` model, the closed global migration system.

1. ``corridor/single_run`` (quick and full): one run of the default forecast as ``corridor
   run`` makes it (a prepared :class:`engine.Runner`, the headline outputs, the model's own
   times: 1990-2100, 14 regions) against one run of the previous default, the five-region
   ``corridor_five_region`` (the same, 2022-2100, 5 regions), timed in the same process after
   both compiled; ratio = five-region seconds / default seconds (below 1: the default is
   slower, as a model of 14 regions and 196 origin-destination pairs by sex and age is).
2. ``corridor/sweep_zarr`` (full suite only): a 1,000-member sweep of the default model over
   its priors (random design; the model's outputs :data:`models.corridor.OUTPUTS`, every
   region, with the migrant stock as pair totals instead of by origin, destination, sex and
   age) written to a zarr store in a fresh process: seconds, members a second, peak RSS, store
   size and failed members (goal: none); against the same members as single ``simulate`` calls
   (timed on 20, scaled). Every variable of every member takes about 75 MB a member in the
   store (six arrays by origin, destination, sex and age are 79 % of each saved time): 192
   members of such a sweep wrote 14 GB (none failed) at 0.25 members/s on a loaded 2-core
   host, so 1,000 would need about 75 GB of disk; the sweep saves the pair totals instead.

The default model's kernels compile once (12-14 s cold on a shared 2-core host,
cached after: ``corridor run`` in CI has cached them when the quick suite runs).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import child, entry, failed, measure, peak_rss_mb

SEED = 0
SWEEP_MEMBERS = 1_000


def sweep_outputs() -> list[str]:
    """:data:`models.corridor.OUTPUTS` with the pair totals of the migrant stock in place of
    the stock by origin, destination, sex and age."""
    import models.corridor

    return [name for name in models.corridor.OUTPUTS if name != "migrant_stock"]


def _headline_runner(model: Any) -> Any:
    import engine
    from engine.tables import HEADLINE

    outputs = [name for name in HEADLINE if name in model.variables]
    return engine.Runner(model, outputs=outputs)


def single_run_entry() -> dict[str, Any]:
    import models.corridor
    import models.corridor_five_region

    default = _headline_runner(models.corridor.build())
    five = _headline_runner(models.corridor_five_region.build())
    default.run(None)  # compile (or load) both before timing
    five.run(None)
    new = measure(lambda: default.run(None), repeats=7, budget_seconds=20.0)
    old = measure(lambda: five.run(None), repeats=7, budget_seconds=20.0)
    return entry(
        "corridor/single_run",
        "one run of the default corridor model (the global migration system, 14 regions, "
        "1990-2100, Runner.run with the headline outputs, Dataset included)",
        new,
        baseline="one run of the five-region corridor model (the previous default, 2022-2100, "
        "the same way)",
        baseline_timing=old,
        regions=len(models.corridor.REGIONS),
    )


def _sweep_child(n: int, store: str) -> dict[str, Any]:
    """The sweep of ``n`` members to ``store`` in this (fresh) process."""
    import warnings

    import engine
    import models.corridor

    warnings.simplefilter("ignore")  # failed members are reported in the store
    model = models.corridor.build()
    arguments: dict[str, Any] = dict(seed=SEED, design="random", outputs=sweep_outputs())
    engine.run_ensemble(model, n=2, **arguments, progress=False)  # compile
    before = peak_rss_mb()
    started = time.perf_counter()
    tree = engine.run_ensemble(model, n=n, **arguments, store=store, progress=False)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": before,
        "members": int(tree.sizes["member"]),
        "failed": int(tree.attrs["failed_members"]),
        "variables": len(model.variables),
        "store_mb": sum(p.stat().st_size for p in Path(store).rglob("*") if p.is_file()) / 2**20,
    }


def sweep(n: int) -> dict[str, Any]:
    """:func:`_sweep_child` in a fresh Python process (peak RSS is per process)."""
    with tempfile.TemporaryDirectory() as folder:
        return child("bench_corridor", "--sweep", str(n), str(Path(folder) / "sweep.zarr"))


def sweep_entry(n: int = SWEEP_MEMBERS) -> dict[str, Any]:
    import warnings

    import engine
    import models.corridor
    from engine.sampling import make_design, resolve_priors

    swept = sweep(n)
    model = models.corridor.build()
    design = make_design("random", 20, SEED, resolve_priors(model, None))
    rows = [dict(zip(design.inputs, row)) for row in design.values]

    def loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for params in rows:
                try:
                    engine.simulate(model, params=params, outputs=sweep_outputs())
                except engine.IntegrationError:
                    pass

    single = measure(loop, repeats=1, budget_seconds=120.0)
    return entry(
        "corridor/sweep_zarr",
        f"run_ensemble of the default corridor model, {n} members (random design over its "
        "priors), 1990-2100, its outputs (migrant stock as pair totals) of every region written "
        "to a zarr store, in a fresh process",
        swept["seconds"],
        baseline=f"{n} single simulate calls, the same outputs (timed on 20, scaled)",
        baseline_timing=single["seconds"] / len(rows) * n,
        members=n,
        members_per_second=n / swept["seconds"],
        peak_rss_mb=swept["peak_rss_mb"],
        rss_before_mb=swept["rss_before_mb"],
        store_mb=swept["store_mb"],
        failed_members=swept["failed"],
        meets_goal=swept["failed"] == 0,
        goal="no failed member",
    )


def run(quick: bool) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    try:
        entries.append(single_run_entry())
    except Exception as error:
        entries.append(failed("corridor/single_run", "Runner.run", error, status="error"))
    if not quick:
        try:
            entries.append(sweep_entry())
        except Exception as error:
            entries.append(failed("corridor/sweep_zarr", "run_ensemble", error, status="error"))
    return entries


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sweep":
        print(json.dumps(_sweep_child(int(sys.argv[2]), sys.argv[3])))
    else:
        for item in run("--quick" in sys.argv):
            shown = {k: v for k, v in item.items() if k != "machine"}
            print(json.dumps(shown, default=str))
