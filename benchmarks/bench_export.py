"""Exports of the README's worked example in bounded memory (issue 15, point 6).

A sweep of the five-region corridor model (``corridor_five_region``, the previous default;
baseline, 200 members; the worked example's outputs) is written
to a zarr store once; then each export runs in a fresh process, whose peak RSS is measured:
the quantile table to Excel (the worked example's ``corridor export ... --out baseline.xlsx``)
and every member's values streamed to CSV (``--members``). Goal: peak RSS under 500 MB for 200
members. The ratio is the peak of the same export of a 20-member store over the peak with 200
members (1: memory flat in the number of members). Full suite only (the corridor model's
first compile alone takes a minute).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import child, entry, failed, peak_rss_mb

OUTPUTS = ["population", "emigration_rate", "new_displacements"]
GOAL_MB = 500.0


def _sweep(store: str, n: int) -> None:
    import warnings

    import engine
    import models.corridor_five_region

    warnings.simplefilter("ignore")
    model = models.corridor_five_region.build(scenario="baseline")
    engine.run_ensemble(
        model, n=n, seed=1, design="sobol", outputs=OUTPUTS, store=store, progress=False
    )


def _export_child(kind: str, store: str, out: str) -> dict[str, Any]:
    """One export in this (fresh) process: seconds, peak RSS and the file's size."""
    from engine.cli import main

    before = peak_rss_mb()
    started = time.perf_counter()
    argv = ["export", store, "--out", out, "--quiet"] + (["--members"] if kind == "members" else [])
    code = main(argv)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "code": code,
        "seconds": seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": before,
        "file_mb": Path(out).stat().st_size / 2**20 if Path(out).exists() else 0.0,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    if quick:
        return []
    entries = []
    with tempfile.TemporaryDirectory() as folder:
        stores = {n: str(Path(folder) / f"baseline_{n}.zarr") for n in (20, 200)}
        try:
            for n, store in stores.items():
                child("bench_export", "--sweep", store, str(n))
        except Exception as error:
            return [failed("export/corridor_200", "corridor sweep for the exports", error)]
        for kind, suffix in (("quantiles", "xlsx"), ("members", "csv")):
            name = f"export/corridor_200/{kind}"
            timed = (
                f"corridor export of a 200-member corridor sweep ({', '.join(OUTPUTS)}), "
                f"{'the quantile table to Excel' if kind == 'quantiles' else 'members to CSV'}"
                ", in a fresh process: peak RSS"
            )
            try:
                small, large = (
                    child(
                        "bench_export",
                        "--export",
                        kind,
                        stores[n],
                        str(Path(folder) / f"{kind}_{n}.{suffix}"),
                    )
                    for n in (20, 200)
                )
            except Exception as error:
                entries.append(failed(name, timed, error, status="error"))
                continue
            entries.append(
                entry(
                    name,
                    timed + f" {large['peak_rss_mb']:.0f} MB (goal < {GOAL_MB:.0f} MB) against "
                    f"{small['peak_rss_mb']:.0f} MB with 20 members; ratio = 20-member peak / "
                    "200-member peak",
                    large["peak_rss_mb"],
                    baseline="peak RSS (MB) of the same export with 20 members",
                    baseline_timing=small["peak_rss_mb"],
                    target=0.5,
                    units="MB (peak RSS), not seconds",
                    peak_rss_mb=large["peak_rss_mb"],
                    meets_goal=large["peak_rss_mb"] < GOAL_MB and large["code"] == 0,
                    export_seconds=large["seconds"],
                    file_mb=large["file_mb"],
                    peak_rss_mb_20=small["peak_rss_mb"],
                    rss_before_mb=large["rss_before_mb"],
                )
            )
    return entries


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sweep":
        _sweep(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "--export":
        print(json.dumps(_export_child(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        for item in run("--quick" in sys.argv):
            print(json.dumps({k: v for k, v in item.items() if k != "machine"}, default=str))
