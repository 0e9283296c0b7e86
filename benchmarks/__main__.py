"""``python -m benchmarks [--quick] [--check] [--only NAME ...] [--set-floors]``

Runs the suite, writes ``results.json`` and ``results.md`` (into ``benchmarks/`` unless ``--out``
says otherwise) and prints the table. ``--check`` exits non-zero when a ratio falls below its
floor in ``benchmarks/floors.json`` (or a gated benchmark could not run); absolute times are
never gated. ``--set-floors`` rewrites the floors as a third of this run's ratios.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import HERE, machine

# bench_ensemble is written separately; it joins the suite when present.
MODULES = [
    "teacup",
    "ageing",
    "vensim",
    "compile",
    "scaling",
    "ensemble",
    "demography",
    "shocks",
    "export",
    "corridor",
]
FLOORS = HERE / "floors.json"
FLOOR_FRACTION = 1 / 3


def available(name: str) -> bool:
    return importlib.util.find_spec(f"benchmarks.bench_{name}") is not None


def run_module(name: str, quick: bool) -> list[dict[str, Any]]:
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        entries = list(module.run(quick))
    except Exception as error:  # a broken benchmark is reported, the others still run
        traceback.print_exc()
        return [
            {
                "name": f"{name}",
                "status": "error",
                "timed": f"benchmarks.bench_{name}.run",
                "error": f"{type(error).__name__}: {error}".splitlines()[0][:300],
                "engine_seconds": None,
                "baseline": None,
                "baseline_seconds": None,
                "ratio": None,
                "target": None,
                "meets_target": None,
            }
        ]
    for item in entries:  # entries written elsewhere may leave fields out
        item.setdefault("status", "ok")
        item.setdefault("machine", machine())
        item.setdefault("module", f"bench_{name}")
        for key in (
            "timed",
            "engine_seconds",
            "baseline",
            "baseline_seconds",
            "ratio",
            "target",
            "meets_target",
        ):
            item.setdefault(key, None)
        if item["ratio"] is None and item["engine_seconds"] and item["baseline_seconds"]:
            item["ratio"] = item["baseline_seconds"] / item["engine_seconds"]
    return entries


# --------------------------------------------------------------------------- floors


def load_floors() -> dict[str, float]:
    if not FLOORS.exists():
        return {}
    return {str(k): float(v) for k, v in json.loads(FLOORS.read_text())["floors"].items()}


def check(entries: list[dict[str, Any]], floors: dict[str, float]) -> list[str]:
    """Problems that fail ``--check``: a ratio under its floor, or a floored benchmark that
    errored or became unsupported. Skipped entries (data absent here) only warn."""
    problems = []
    by_name = {e["name"]: e for e in entries}
    for name, floor in sorted(floors.items()):
        item = by_name.get(name)
        if item is None:
            continue  # not part of this run (the full suite has more than the quick one)
        if item["status"] == "skipped":
            print(
                f"note: {name} skipped ({item.get('error')}); its floor is not checked",
                file=sys.stderr,
            )
            continue
        if item["status"] != "ok" or item["ratio"] is None:
            problems.append(f"{name}: {item['status']} ({item.get('error')}), floor {floor:g}")
        elif item["ratio"] < floor:
            problems.append(f"{name}: ratio {item['ratio']:.3g} is below its floor {floor:g}")
    return problems


def new_floors(entries: list[dict[str, Any]]) -> dict[str, float]:
    """A third of each measured ratio, rounded down to two significant figures."""
    floors = {}
    for item in entries:
        if item["status"] == "ok" and item["ratio"]:
            value = item["ratio"] * FLOOR_FRACTION
            digits = 1 - int(math.floor(math.log10(value)))
            floors[item["name"]] = math.floor(value * 10**digits) / 10**digits
    return floors


# --------------------------------------------------------------------------- report


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def megabytes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def table(results: dict[str, Any], floors: dict[str, float]) -> str:
    m = results["machine"]
    lines = [
        f"Suite: {results['suite']}, {results['created']}; {m['cpu']}, {m['threads']} threads, "
        f"numba {m['numba']}, numpy {m['numpy']}, pysd {m.get('pysd', '-')}, "
        f"python {m['python']}.",
        "",
        "| benchmark | engine | baseline | baseline time | ratio | target | floor | status |",
        "|---|---:|---|---:|---:|---|---:|---|",
    ]
    notes = []
    for e in results["entries"]:
        ratio = f"{e['ratio']:.3g}" if e["ratio"] is not None else "-"
        met = {True: "met", False: "missed", None: ""}[e.get("meets_target")]
        if e.get("meets_goal") is not None:
            met = "met" if e["meets_goal"] else "missed"
        status = e["status"] if e["status"] != "ok" else met or "ok"
        floor = floors.get(e["name"])
        # a memory entry holds MB where others hold seconds
        shown = megabytes if str(e.get("units", "")).startswith("MB") else duration
        lines.append(
            f"| {e['name']} | {shown(e['engine_seconds'])} | {e['baseline'] or '-'} | "
            f"{shown(e['baseline_seconds'])} | {ratio} | {e['target'] or '-'} | "
            f"{'-' if floor is None else f'{floor:g}'} | {status} |"
        )
        if e["status"] != "ok":
            notes.append(f"- {e['name']}: {e['status']}: {e.get('error')}")
    lines += [
        "",
        "Ratio = baseline seconds / engine seconds (above 1: the engine is faster); "
        "times are medians of warm repeats.",
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0].strip("`")
    )
    parser.add_argument(
        "--quick", action="store_true", help="the CI subset (under 3 minutes on 2 cores)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a ratio falls below its floor in floors.json",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=MODULES,
        metavar="NAME",
        help=f"run only these benchmarks ({', '.join(MODULES)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="directory for results.json and results.md (default: benchmarks/)",
    )
    parser.add_argument(
        "--set-floors",
        action="store_true",
        help="write floors.json as a third of this run's ratios",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    entries: list[dict[str, Any]] = []
    for name in args.only or MODULES:
        if not available(name):
            print(f"-- bench_{name}: not present, left out", file=sys.stderr)
            continue
        print(f"-- bench_{name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        entries += run_module(name, args.quick)
        print(f"   {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    results = {
        "suite": "quick" if args.quick else "full",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "entries": entries,
    }
    if args.set_floors:
        floors = new_floors(entries)
        FLOORS.write_text(
            json.dumps(
                {
                    "comment": "Gated by `python -m benchmarks --quick --check`: a ratio below its "
                    "floor fails. Each floor is about a third of a measured ratio (see "
                    "README.md); absolute times are never gated.",
                    "measured": {
                        "suite": results["suite"],
                        "created": results["created"],
                        "cpu": results["machine"]["cpu"],
                    },
                    "floors": floors,
                },
                indent=2,
            )
            + "\n"
        )
    floors = load_floors()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = table(results, floors)
    (args.out / "results.md").write_text(text)
    print(text)
    print(
        f"{len(entries)} benchmarks in {results['seconds']} s; wrote "
        f"{args.out / 'results.json'} and results.md",
        file=sys.stderr,
    )
    if args.check:
        problems = check(entries, floors)
        if problems:
            print("benchmark floors failed:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(
            f"all {sum(1 for e in entries if e['name'] in floors)} floored ratios hold",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
