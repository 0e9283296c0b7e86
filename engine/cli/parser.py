"""The command line's arguments: every command and option, each with its help text.

``--debug`` and ``--version`` are accepted before or after the command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from .._version import __version__

__all__ = ["build_parser", "FIGURE_FORMATS"]

FIGURE_FORMATS = ("png", "svg")
_MODEL_HELP = "bundled model name or .mdl/.xmile file (default: the corridor forecast)"
_SCENARIO_HELP = "scenario name (see `corridor scenarios`), or a scenario .toml file"


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand that is not given --debug keeps the value given before it
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    common.add_argument(
        "--version",
        action="version",
        version=f"corridor {__version__}",
        help="print corridor's version and exit",
    )
    return common


def _run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--start", type=float, help="start time (default: the model's)")
    command.add_argument("--stop", type=float, help="stop time (default: the model's)")
    command.add_argument("--dt", type=float, help="time step (default: the model's)")
    command.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="set a parameter to a number (repeatable)",
    )
    command.add_argument(
        "--output",
        action="append",
        metavar="NAME",
        help="keep this variable (repeatable; default: every variable)",
    )


def _reference_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-reference",
        action="store_true",
        help="draw no reference line (default: WPP 2022's population, births, deaths and net "
        "migration on charts of models that have it, e.g. demography and corridor)",
    )


def _correlation_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--correlation",
        action="append",
        metavar="A,B=RHO",
        help="rank correlation between two priors (a,b=0.5), or between every pair of a "
        "parameter's per-element priors (k=0.5); repeatable, added to the model's own",
    )


def build_parser(commands: Mapping[str, Callable[[argparse.Namespace], int]]) -> Any:
    """The ``corridor`` parser, each command calling ``commands[name]``."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="corridor",
        description="corridor: migration forecasts from stock-and-flow models.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=help, description=help, parents=[common])
        made.set_defaults(func=commands[name])
        return made

    run = command("run", "run a model once and print its headline table")
    run.add_argument("model", nargs="?", help=_MODEL_HELP)
    run.add_argument("--scenario", help=_SCENARIO_HELP)
    _run_options(run)
    run.add_argument(
        "--method",
        default="euler",
        choices=["euler", "rk4", "rk45"],
        help="integration method (default: euler, Vensim's)",
    )
    run.add_argument(
        "--years",
        type=float,
        nargs="+",
        metavar="YEAR",
        help="years of the headline table (default: the first, 2030, 2050, 2100, the last)",
    )
    run.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="show this region (repeatable; default: every region and their total)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the model's random draws (RANDOM NORMAL, ar1, ...; default 0)",
    )
    run.add_argument("--out", help="also write the whole run to a .nc or .csv file")
    run.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument("--json", action="store_true", help="print the table as JSON")

    sweep = command("sweep", "run an ensemble (Monte Carlo / sensitivity) into a horizon store")
    sweep.add_argument("model", nargs="?", help=_MODEL_HELP)
    sweep.add_argument("--scenario", help=_SCENARIO_HELP)
    sweep.add_argument(
        "-n",
        type=int,
        default=1000,
        help="members (base N for saltelli, trajectories for morris; default 1000)",
    )
    sweep.add_argument("--seed", type=int, default=0, help="seed of the design matrix (default 0)")
    sweep.add_argument(
        "--design",
        default="sobol",
        choices=["random", "lhs", "sobol", "saltelli", "morris"],
        help="sampling design (default: sobol; saltelli and morris give sensitivity indices)",
    )
    sweep.add_argument(
        "--prior",
        action="append",
        metavar="NAME=DIST,A,B",
        help="add or override a prior by name, e.g. k=uniform,5,15 or 'k[North]=normal,1,0.1' "
        "(repeatable; the model's other priors are kept); k=none drops the model's prior of k",
    )
    _correlation_option(sweep)
    sweep.add_argument(
        "--group",
        action="append",
        metavar="PARAMETER=GROUP",
        help="saltelli: put a sampled parameter in a group (repeatable); indices by group, "
        "N (2G + 2) members for G groups",
    )
    _run_options(sweep)
    sweep.add_argument("--store", help="zarr store to write (a sweep resumes if interrupted)")
    sweep.add_argument(
        "--years",
        type=float,
        nargs="+",
        metavar="YEAR",
        help="also save these times (round years are always saved: every year to year 20, "
        "then every 5 years, and the last)",
    )
    sweep.add_argument(
        "--chunk-size",
        type=int,
        help="members per zarr chunk, run in kernel calls of ~64 MB of output "
        "(default: four calls a chunk)",
    )
    sweep.add_argument(
        "--stop-on-error",
        action="store_true",
        help="stop at the first failed member instead of marking it",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")

    describe = command("describe", "list a model's dims, variables, units, bounds and priors")
    describe.add_argument("model", nargs="?", help=_MODEL_HELP)
    describe.add_argument(
        "--scenario", help="also show this scenario: its description and the parameters it sets"
    )
    describe.add_argument(
        "--prior",
        action="append",
        metavar="NAME=DIST,A,B",
        help="list the priors a sweep with this --prior would use (as `corridor sweep`)",
    )
    _correlation_option(describe)
    describe.add_argument("--json", action="store_true", help="print the description as JSON")

    check = command("check", "check a model's units (warnings; --strict fails)")
    check.add_argument("model", help="bundled model name, .mdl/.xmile file or Python DSL file")
    check.add_argument("--strict", action="store_true", help="exit non-zero on any warning")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.add_argument("--quiet", action="store_true", help="print only the warnings")

    scenarios = command("scenarios", "list a model's scenarios")
    scenarios.add_argument("model", nargs="?", help="bundled model name (default: corridor)")
    scenarios.add_argument("--long", action="store_true", help="with their descriptions")
    scenarios.add_argument("--json", action="store_true", help="print them as JSON")

    compare = command(
        "compare",
        "compare scenarios: medians and bands on one chart per variable and region, and a "
        "table of differences",
    )
    compare.add_argument(
        "sources",
        nargs="+",
        metavar="SCENARIO_OR_STORE",
        help="scenario names (run now) or stores of sweeps (.zarr / .nc) to compare",
    )
    compare.add_argument(
        "--model", help="the model whose scenarios are named (default: the corridor forecast)"
    )
    compare.add_argument(
        "--variable",
        "-v",
        action="append",
        metavar="NAME",
        help="variable to compare (repeatable; default: population and net migration)",
    )
    compare.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="region to chart (repeatable; default: every region)",
    )
    compare.add_argument(
        "--years",
        type=float,
        nargs="+",
        metavar="YEAR",
        help="years of the table of differences (default: 2030, 2050, 2100 where saved)",
    )
    compare.add_argument(
        "-n", type=int, default=0, help="members per scenario run now (default 0: one run each)"
    )
    compare.add_argument("--seed", type=int, default=0, help="seed of those sweeps (default 0)")
    compare.add_argument("--out", default="comparison", help="output folder (default: comparison)")
    compare.add_argument(
        "--format",
        action="append",
        choices=list(FIGURE_FORMATS),
        help="figure format (repeatable; default: png)",
    )
    compare.add_argument("--overwrite", action="store_true", help="replace existing files")
    compare.add_argument("--quiet", action="store_true", help="print nothing but errors")
    compare.add_argument("--json", action="store_true", help="print the table as JSON")
    _reference_option(compare)

    plot = command("plot", "fan charts, pyramids and sensitivity bars from a stored result")
    plot.add_argument("store", help="a sweep's store (.zarr) or a run or export (.nc)")
    plot.add_argument(
        "--variable",
        "-v",
        action="append",
        default=[],
        help="variable to chart as a fan chart (repeatable)",
    )
    plot.add_argument(
        "--select",
        action="append",
        metavar="DIM=ELEMENT",
        help="pick an element, e.g. region=Europe (other dims are summed); repeat a dim for "
        "one chart per element",
    )
    plot.add_argument(
        "--pyramid",
        type=float,
        action="append",
        metavar="YEAR",
        help="draw a population pyramid for this saved year (repeatable)",
    )
    plot.add_argument(
        "--sensitivity",
        action="append",
        metavar="OUTPUT",
        help="Sobol tornado of this output for each horizon (saltelli sweeps)",
    )
    plot.add_argument(
        "--format",
        action="append",
        choices=list(FIGURE_FORMATS),
        default=None,
        help="figure format (repeatable; default: png and svg)",
    )
    plot.add_argument("--out", default="figures", help="output folder (default: figures)")
    plot.add_argument("--overwrite", action="store_true", help="replace existing figures")
    plot.add_argument("--quiet", action="store_true", help="do not list the files written")
    _reference_option(plot)

    backtest = command(
        "backtest",
        "rolling-origin forecasts from past jump-offs scored against what happened, beside a "
        "naive baseline (models with backtests: demography)",
    )
    backtest.add_argument("model", nargs="?", help="bundled model name (default: demography)")
    backtest.add_argument(
        "--location",
        action="append",
        metavar="NAME",
        help="location to forecast (repeatable; default: the model's, for demography the 22 "
        "subregions and the 8 most populous countries)",
    )
    backtest.add_argument(
        "--jump-off",
        action="append",
        type=int,
        metavar="YEAR",
        help="jump-off year (repeatable; default: 1995, 2000, 2005, 2010)",
    )
    backtest.add_argument(
        "--horizons",
        default="1-25",
        help="years after each jump-off: 1-25 or 5,10,20 (default: 1-25)",
    )
    backtest.add_argument(
        "--members",
        type=int,
        default=100,
        help="ensemble members per forecast (default: 100; 0: one run, no bands)",
    )
    backtest.add_argument("--seed", type=int, default=17, help="ensemble seed (default: 17)")
    backtest.add_argument(
        "--no-uncertainty",
        action="store_true",
        help="members over the model's priors only, without its stochastic shocks",
    )
    backtest.add_argument(
        "--output",
        action="append",
        metavar="NAME",
        help="variable scored (repeatable; default: the model's, e.g. total population and "
        "net migration)",
    )
    backtest.add_argument(
        "--out", default="backtest.nc", help="results file, .nc or .zarr (default: backtest.nc)"
    )
    backtest.add_argument("--report", metavar="FILE.html", help="also write an HTML report page")
    backtest.add_argument("--overwrite", action="store_true", help="replace existing files")
    backtest.add_argument("--quiet", action="store_true", help="print only the summary table")

    report = command("report", "a self-contained HTML report of a stored result")
    export = command(
        "export",
        "tables of a stored result: quantiles (.csv/.xlsx), raw members (--members; "
        ".csv/.parquet) or netCDF",
    )
    report.add_argument(
        "store",
        nargs="+",
        help="a sweep's store (.zarr) or a run or export (.nc); several: one page comparing "
        "their scenarios",
    )
    _reference_option(report)
    export.add_argument("store", help="a sweep's store (.zarr) or a run or export (.nc)")
    for made, default in ((report, "report.html"), (export, "results.csv")):
        made.add_argument("--out", default=default, help=f"file to write (default: {default})")
        made.add_argument(
            "--variable",
            "-v",
            action="append",
            metavar="NAME",
            help="variable to include (repeatable; default: all)",
        )
        made.add_argument("--overwrite", action="store_true", help="replace an existing file")
        made.add_argument("--quiet", action="store_true", help="do not print the file written")
    export.add_argument(
        "--format",
        choices=["csv", "xlsx", "parquet", "netcdf"],
        help="file format (default: from --out's suffix)",
    )
    export.add_argument(
        "--flat",
        action="store_true",
        help="netCDF without groups: the horizons on one time axis (for tools that read no "
        "groups; passes the CF checker)",
    )
    export.add_argument(
        "--members",
        action="store_true",
        help="every member's values (streamed), not the quantile table",
    )
    return parser
