"""``corridor backtest``: rolling-origin forecasts of a model scored against what happened.

The model's module says how it is backtested (:func:`engine.registry.backtest_runner`); the
command runs it, writes the Dataset (:func:`engine.backtest_dataset`: forecasts, observations,
the naive baseline, the summary by horizon) to netCDF or zarr, an HTML page
(:func:`engine.report.write_backtest_report`) if asked, and prints the summary by horizon.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ..errors import EngineError

__all__ = ["cmd_backtest", "parse_horizons"]


def parse_horizons(text: str) -> list[int]:
    """``"1-25"``, ``"5,10,15"`` or ``"1-5,10"`` as a sorted list of whole years >= 1."""
    out: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            first, last = int(low), int(high or low)
            out.update(range(first, last + 1))
    except ValueError:
        raise EngineError(
            f"--horizons {text!r}: give whole years as a range or a list, e.g. 1-25 or 5,10,20."
        ) from None
    if not out or min(out) < 1:
        raise EngineError(f"--horizons {text!r}: horizons are whole years >= 1, e.g. 1-25.")
    return sorted(out)


def cmd_backtest(args: argparse.Namespace) -> int:
    from ..backtest import JUMP_OFFS, backtest_dataset, write_backtest
    from ..registry import backtest_runner
    from ..report import write_backtest_report

    name = args.model or "demography"
    runner = backtest_runner(name)
    horizons = parse_horizons(args.horizons)
    jump_offs = sorted(set(args.jump_off or JUMP_OFFS))
    if args.members < 0:
        raise EngineError(f"--members {args.members}: give 0 (one run, no bands) or more.")
    ensemble = None if args.members == 0 else {"n": args.members, "seed": args.seed}
    options: dict[str, Any] = {
        "jump_offs": jump_offs,
        "horizons": horizons,
        "ensemble": ensemble,
        "uncertainty": args.members > 0 and not args.no_uncertainty,
    }
    if args.output:
        options["outputs"] = list(args.output)
    if not args.quiet:
        print(
            f"corridor: backtesting {name} from {', '.join(map(str, jump_offs))} "
            f"({args.members or 1} member(s) each)...",
            file=sys.stderr,
            flush=True,
        )
    forecast, baseline = runner(args.location or None, **options)
    ds = backtest_dataset(
        forecast,
        baseline,
        model=name,
        seed=args.seed if ensemble else None,
        uncertainty=int(bool(options["uncertainty"])),
        locations=", ".join(map(str, forecast["region"].values)) if "region" in forecast else None,
    )
    written = [write_backtest(ds, args.out, overwrite=args.overwrite)]
    if args.report:
        written.append(write_backtest_report(ds, args.report, overwrite=args.overwrite))
    _print_summary(ds)
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def _print_summary(ds: Any) -> None:
    """One table a scored variable: by horizon, the mean APE (model, naive), the share of
    cases the model beats naive, the bands' coverage and the number of cases."""
    columns = [
        ("mean_ape", "APE %", 100.0),
        ("naive_mean_ape", "naive %", 100.0),
        ("better_than_naive", "beats naive %", 100.0),
        ("coverage_80", "cover 80 %", 100.0),
        ("coverage_95", "cover 95 %", 100.0),
        ("cases", "cases", 1.0),
    ]
    from ..report import backtest_names

    for name in backtest_names(ds):
        print(name)
        present = [(k, label, f) for k, label, f in columns if f"summary_{name}_{k}" in ds]
        print("horizon  " + "  ".join(f"{label:>13}" for _, label, _ in present))
        for i, h in enumerate(ds["horizon"].values):
            cells = []
            for key, _, factor in present:
                value = float(np.asarray(ds[f"summary_{name}_{key}"].values)[i]) * factor
                cells.append(f"{value:13.2f}" if key != "cases" else f"{value:13.0f}")
            print(f"{int(h):7d}  " + "  ".join(cells))
