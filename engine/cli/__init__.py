"""The ``corridor`` command line: a thin layer over the public API.

Each command parses its arguments, calls the library and prints; library errors become one
clear line on stderr and a non-zero exit (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import EngineError, SelectionError, suggest
from .backtest import cmd_backtest
from .check import cmd_check
from .loading import MODEL_SUFFIXES, _load_model
from .priors import parse_correlations, parse_priors, sweep_priors

__all__ = ["main"]


def _prepare(model: Any, method: str, quiet: bool) -> None:
    """Compile ``model``'s kernels now, saying so first when they are in no cache (a first
    run of a large model compiles for ten seconds or more, which should not look like a hang)."""
    from ..compiler import compile_model

    size = sum(1 for v in model.variables.values() if v.kind != "param")

    def notice() -> None:
        if quiet:
            return
        guess = "ten to twenty seconds" if size > 200 else "a few seconds"
        print(
            f"corridor: compiling model {model.name!r} ({size} equations; {guess}, once: "
            "later runs load it from the cache)...",
            file=sys.stderr,
            flush=True,
        )

    compile_model(model, method=method, on_compile=notice)


def _default_model_name() -> str:
    from ..registry import model_names

    return "corridor" if "corridor" in model_names() else "example"


def cmd_run(args: argparse.Namespace) -> int:
    import engine

    from ..files import check_output_file

    # where the result goes is checked before the run, not found wanting after it
    out = (
        check_output_file(
            args.out, suffixes=(".nc", ".csv"), overwrite=args.overwrite, what="--out"
        )
        if args.out
        else None
    )
    params = _assignments(args.set)
    model = _load_model(args.model or _default_model_name(), args.scenario)
    from ..tables import HEADLINE, format_headline, headline, headline_records

    outputs = args.output or None
    if outputs is None and out is None:
        # the headline needs only its outputs (a model without any: everything, as before)
        outputs = (
            [name for name in HEADLINE if name in model.variables]
            if "population" in model.variables
            else None
        )
    if not model.dynamic_control:
        _prepare(model, args.method, args.quiet)
    ds = engine.simulate(
        model,
        start=args.start,
        stop=args.stop,
        dt=args.dt,
        method=args.method,
        params=params or None,
        outputs=outputs,
        seed=args.seed,
    )
    if out is not None:
        if out.suffix.lower() == ".nc":
            ds.to_netcdf(out)
        else:
            ds.to_dataframe().to_csv(out)
    # a model of a population gets the headline table; any other the final values
    if "population" in ds:
        table = headline(ds, years=args.years, regions=args.region)
        if args.json:
            print(json.dumps(headline_records(table), indent=2, default=str))
        elif not args.quiet:
            print(format_headline(table))
    elif args.years or args.region:
        raise EngineError(
            f"model {model.name!r} has no 'population' output, so there is no headline "
            "table for --years and --region to choose from; use --out to keep the run."
        )
    elif args.json:
        summary = {name: _last(ds[name]) for name in ds.data_vars}
        print(json.dumps({"model": model.name, "final": summary}, indent=2, default=str))
    elif not args.quiet:
        print(
            f"{model.name}: {ds.sizes['time']} saves from {float(ds.time[0]):g} to "
            f"{float(ds.time[-1]):g} {model.time_unit}"
        )
        for name in list(ds.data_vars)[:40]:
            da = ds[name]
            units = da.attrs.get("units", "")
            print(f"  {name:40s} {_format(_last(da))} {units}")
    if args.out and not args.quiet and not args.json:
        print(f"written to {args.out}")
    return 0


def _last(da: Any) -> Any:
    value = da.isel(time=-1) if "time" in da.dims else da
    if value.ndim == 0:
        return float(value)
    return float(value.sum())


def _format(value: Any) -> str:
    return f"{value:14.6g}" if isinstance(value, float) else str(value)


def _assignments(texts: Sequence[str] | None) -> dict[str, float]:
    """--set NAME=VALUE options as a dict; a name set twice is refused."""
    out: dict[str, float] = {}
    for text in texts or []:
        name, value = _parse_assignment(text)
        if name in out:
            raise EngineError(
                f"--set {name} is given twice ({out[name]:g} and {value:g}); give it once."
            )
        out[name] = value
    return out


def _parse_assignment(text: str) -> tuple[str, float]:
    if "=" not in text:
        raise EngineError(f"--set expects NAME=VALUE, got {text!r}.")
    name, value = text.split("=", 1)
    try:
        return name.strip(), float(value)
    except ValueError:
        raise EngineError(f"--set {name}: {value!r} is not a number.") from None


def cmd_describe(args: argparse.Namespace) -> int:
    from ..description import describe, format_description

    name = args.model or _default_model_name()
    user_priors = parse_priors(args.prior)
    user_correlations = parse_correlations(args.correlation)
    model = _load_model(name, args.scenario)
    settings = _scenario_of(name, args.scenario)
    # checked as a sweep checks them: a misspelt name is an error with a suggestion
    _, correlations = sweep_priors(model, user_priors, user_correlations)
    if args.json:
        data = describe(model, user_priors, correlations)
        if settings is not None:
            data["scenario"] = settings
        print(json.dumps(data, indent=2, default=_jsonable))
        return 0
    if settings is not None:
        print(_format_scenario(model, settings))
        print()
    print(format_description(model, user_priors, correlations))
    return 0


def _jsonable(value: Any) -> Any:
    return np.asarray(value).tolist()


def _scenario_of(name: str, scenario: str | None) -> dict[str, Any] | None:
    """The settings of ``scenario`` of the registered model ``name`` (None: no scenario)."""
    if scenario is None or Path(name).suffix.lower() in MODEL_SUFFIXES:
        return None
    from ..registry import scenario_settings

    settings = scenario_settings(name, scenario)
    return {
        "scenario": Path(scenario).stem if scenario.lower().endswith(".toml") else scenario,
        "title": str(settings.get("name", scenario)),
        "description": " ".join(str(settings.get("description", "")).split()),
        "params": dict(settings.get("params", {})),
        **{k: v for k, v in settings.items() if k not in ("name", "description", "params")},
    }


def _format_scenario(model: Any, settings: dict[str, Any]) -> str:
    lines = [f"scenario {settings['scenario']}: {settings['title']}"]
    if settings["description"]:
        lines.append(f"  {settings['description']}")
    extra = {
        k: v for k, v in settings.items() if k not in ("scenario", "title", "description", "params")
    }
    for key, value in extra.items():
        lines.append(f"  {key} = {value}")
    lines.append(f"sets {len(settings['params'])} parameter(s):")
    for param, value in settings["params"].items():
        var = model.variables.get(param)
        units = f" ({var.units})" if var is not None and var.units else ""
        lines.append(f"  {param} = {value}{units}")
    return "\n".join(lines)


def cmd_scenarios(args: argparse.Namespace) -> int:
    from ..registry import scenario_names, scenario_settings

    name = args.model or _default_model_name()
    _load_model_name_checked(name)
    names = scenario_names(name)
    rows = []
    for scenario in names:
        settings = scenario_settings(name, scenario)
        rows.append(
            {
                "scenario": scenario,
                "title": str(settings.get("name", scenario)),
                "description": " ".join(str(settings.get("description", "")).split()),
                "params": sorted(settings.get("params", {})),
            }
        )
    if args.json:
        print(json.dumps({"model": name, "scenarios": rows}, indent=2))
    elif not rows:
        print(f"model {name!r} has no scenarios.")
    else:
        print(f"scenarios of model {name!r} (corridor run {name} --scenario NAME):")
        for row in rows:
            print(f"  {row['scenario']:<20} {row['title']}")
            if row["description"] and args.long:
                print(f"  {'':<20} {row['description']}")
    return 0


def _load_model_name_checked(name: str) -> None:
    from ..registry import model_names

    if name not in model_names():
        raise EngineError(
            f"unknown model {name!r}; scenarios belong to registered models "
            f"({', '.join(model_names())})." + suggest(name, model_names())
        )


def cmd_sweep(args: argparse.Namespace) -> int:
    import engine

    params = _assignments(args.set)
    user_priors = parse_priors(args.prior)
    user_correlations = parse_correlations(args.correlation)
    model = _load_model(args.model or _default_model_name(), args.scenario)
    # the model's priors with the user's added or overriding them by name (never dropped
    # unless NAME=none), checked before anything compiles
    priors, correlations = sweep_priors(model, user_priors, user_correlations)
    if not priors:
        raise EngineError(
            f"model {model.name!r} has no priors left to sample"
            + (" (--prior NAME=none dropped them all)" if user_priors else "")
            + "; give one with --prior NAME=DIST,A,B (e.g. k=uniform,5,15)."
        )
    if not model.dynamic_control:
        _prepare(model, "euler", args.quiet)
    with warnings.catch_warnings():
        # failures are summarised below in one line, not as a Python warning
        warnings.simplefilter("ignore", RuntimeWarning)
        tree = engine.run_ensemble(
            model,
            n=args.n,
            seed=args.seed,
            design=args.design,
            priors=priors or None,
            correlations=correlations,
            params=params or None,
            start=args.start,
            stop=args.stop,
            dt=args.dt,
            outputs=args.output or None,
            chunk_size=args.chunk_size,
            store=args.store,
            on_error="raise" if args.stop_on_error else "mark",
            progress=not args.quiet,
            save_times=args.years,
            groups=_groups(args.group),
        )
    failed = int((np.asarray(tree["status"].values) != 0).sum()) if "status" in tree.ds else 0
    groups = [name for name in tree.children if name not in ("summary", "sensitivity")]
    if args.json:
        print(
            json.dumps(
                {
                    "model": model.name,
                    "members": int(tree.ds.sizes.get("member", 0)),
                    "failed": failed,
                    "horizons": groups,
                    "store": args.store,
                }
            )
        )
    elif not args.quiet:
        members = tree.ds.sizes.get("member", 0)
        print(
            f"{model.name}: {members} members ({args.design}, seed {args.seed}), "
            f"{failed} failed; horizons {', '.join(groups)}"
            + (f"; stored in {args.store}" if args.store else "")
        )
    members = int(tree.ds.sizes.get("member", 0))
    if members and failed == members:
        print(
            f"corridor: error: all {members} members failed (non-finite values); see "
            "`status` in the store, and check the priors' ranges or use a smaller --dt.",
            file=sys.stderr,
        )
        return 1
    if failed:
        print(
            f"corridor: warning: {failed} member(s) failed (non-finite values); see "
            "`status` in the store.",
            file=sys.stderr,
        )
    return 0


def _groups(texts: Sequence[str] | None) -> dict[str, str] | None:
    """--group PARAMETER=GROUP options as a mapping (None when there are none)."""
    if not texts:
        return None
    out: dict[str, str] = {}
    for text in texts:
        if "=" not in text:
            raise EngineError(f"--group expects PARAMETER=GROUP, got {text!r}.")
        name, group = (part.strip() for part in text.split("=", 1))
        if name in out:
            raise EngineError(f"--group {name} is given twice; give one group per parameter.")
        out[name] = group
    return out


def _open_results(path_text: str, quiet: bool = False) -> Any:
    """A stored result: an ensemble store (zarr or netCDF DataTree) or a single run (.nc)."""
    import xarray as xr

    path = Path(path_text)
    if not path.exists():
        raise EngineError(
            f"no results at {path}; write some with `corridor run --out` or `corridor sweep`."
        )
    try:
        from .. import store  # type: ignore[attr-defined]

        results = store.open_store(path)
    except (ImportError, AttributeError):
        pass
    else:
        note = store.unfinished_note(results)
        if note and not quiet:
            print(
                f"corridor: warning: {path}: {note}; what follows shows those members only. "
                "Run the sweep again with the same arguments to finish it.",
                file=sys.stderr,
            )
        return results
    if path.suffix == ".nc":
        tree = xr.open_datatree(path)
        return tree if tree.children else tree.to_dataset()
    raise EngineError(f"cannot read {path}: expected a .zarr store or a .nc file.")


def cmd_plot(args: argparse.Namespace) -> int:
    from ..files import check_output_folder
    from ..plot import fan_chart, population_pyramid, save_figure, sensitivity_chart

    results = _open_results(args.store)
    if not (args.variable or args.pyramid or args.sensitivity):
        raise EngineError(
            "nothing to plot: give -v VARIABLE (a fan chart), --pyramid YEAR or "
            f"--sensitivity OUTPUT; {args.store} holds {', '.join(_stored_names(results)[:12])}."
        )
    selections = _selections(args.select)
    out = Path(args.out)
    plans: list[tuple[str, Any]] = []
    reference = _reference(results, args) if args.variable else None
    for name in args.variable:
        for where in selections:
            stem = f"fan_{_file_name(name)}{_selection_suffix(where)}"
            chart = functools.partial(
                fan_chart, results, name, select=where or None, reference=reference
            )
            plans.append((stem, chart))
    if args.pyramid:
        regions = list(dict.fromkeys(where.get("region") for where in selections))
        for region in regions:
            stem = "pyramid" + (_selection_suffix({"region": region}) if region else "")
            plans.append(
                (stem, functools.partial(population_pyramid, results, args.pyramid, region=region))
            )
    scenario = str(results.attrs.get("scenario") or "")
    for output in args.sensitivity or []:
        groups = results.children.get("sensitivity") if isinstance(results, xr.DataTree) else None
        if groups is None:
            raise EngineError(
                f"{args.store} holds no sensitivity indices; run a sweep with --design saltelli."
            )
        for horizon, node in groups.children.items():
            indices = node.to_dataset()
            if "S1" not in indices:
                continue
            labels = [str(o) for o in indices["output"].values]
            if output not in labels:
                raise SelectionError(
                    f"no sensitivity indices for {output!r}; there are indices for "
                    f"{', '.join(labels[:10])}." + suggest(output, labels)
                )
            stem = f"sobol_{_file_name(output)}_{horizon}"
            plans.append(
                (
                    stem,
                    functools.partial(
                        sensitivity_chart, indices, output, horizon=str(horizon), scenario=scenario
                    ),
                )
            )
    check_output_folder(
        out,
        [f"{stem}.{fmt}" for stem, _ in plans for fmt in args.format],
        overwrite=args.overwrite,
        what="--out folder",
    )
    written = []
    for stem, make in plans:
        written += save_figure(make(), out / stem, args.format)
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def _reference(results: Any, args: argparse.Namespace) -> Any:
    """What the charts of ``results`` (one result, or compared ``{scenario: result}``) are drawn
    against: the ``reference`` of the model that made them (the first's), found by its
    registered name (None: --no-reference, a model with none)."""
    from ..plot import horizon_groups
    from ..registry import reference_data

    several = list(results.values()) if isinstance(results, dict) else [results]
    name = str(several[0].attrs.get("model") or "")
    if args.no_reference or not name:
        return None
    regions: list[str] = []
    for _, ds in (group for result in several for group in horizon_groups(result)):
        if "region" in ds.coords:
            regions += [str(r) for r in ds["region"].values if str(r) not in regions]
    return reference_data(name, regions)


def _stored_names(results: Any) -> list[str]:
    from ..plot import horizon_groups

    names: list[str] = []
    for _, ds in horizon_groups(results):
        names += [str(v) for v in ds.data_vars if str(v) not in names]
    return names


def _selections(texts: Sequence[str] | None) -> list[dict[str, str]]:
    """--select DIM=ELEMENT options as the selections to chart: one chart per combination of
    the elements given for each dim (region=A --select region=B: two charts)."""
    chosen: dict[str, list[str]] = {}
    for text in texts or []:
        dim, element = _parse_selection(text)
        values = chosen.setdefault(dim, [])
        if element not in values:
            values.append(element)
    combos: list[dict[str, str]] = [{}]
    for dim, values in chosen.items():
        combos = [{**combo, dim: value} for combo in combos for value in values]
    return combos


def _selection_suffix(where: dict[str, Any]) -> str:
    return "".join(f"_{_file_name(str(d))}-{_file_name(str(v))}" for d, v in where.items())


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    if len(args.store) == 1:
        args.store = args.store[0]
        stored = _open_results(args.store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an unfinished store: said above
            path = write_report(
                stored,
                args.out,
                variables=args.variable or None,
                overwrite=args.overwrite,
                reference=_reference(stored, args),
            )
        if not args.quiet:
            print(path)
        return 0
    from ..comparison import scenario_label, write_comparison

    results: dict[str, Any] = {}
    for source in args.store:
        result = _open_results(source)
        label = scenario_label(result, Path(source).stem)
        results[label if label not in results else f"{label} ({source})"] = result
    path = write_comparison(
        results,
        args.out,
        variables=args.variable or ["population", "net_migration"],
        overwrite=args.overwrite,
        reference=_reference(results, args),
    )
    if not args.quiet:
        print(path)
    return 0


_EXPORT_SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet", "netcdf": ".nc"}


def cmd_export(args: argparse.Namespace) -> int:
    from ..exports import export_members, export_quantiles
    from ..files import check_output_file

    out = Path(args.out)
    kinds = {suffix: kind for kind, suffix in _EXPORT_SUFFIXES.items()}
    if args.format:
        wanted = _EXPORT_SUFFIXES[args.format]
        if args.out == "results.csv":  # the default follows --format
            out = out.with_suffix(wanted)
        elif out.suffix.lower() != wanted:
            raise EngineError(
                f"--format {args.format} writes a {wanted} file; --out {args.out} ends in "
                f"{out.suffix or 'no suffix'}."
            )
    if out.is_dir():  # named as such before its (missing) suffix
        check_output_file(out, suffixes=tuple(kinds), overwrite=args.overwrite, what="export")
    kind = kinds.get(out.suffix.lower())
    if kind is None:
        raise EngineError(
            f"--out {args.out}: unknown export format {out.suffix!r}; use .csv or .xlsx (the "
            "quantile table, or --members), .parquet or .nc (netCDF of the whole store)."
        )
    args.out = str(out)
    if kind == "netcdf":
        if args.variable or args.members:
            raise EngineError(
                "a netCDF export holds the whole store: drop --variable and --members."
            )
        target = check_output_file(out, suffixes=(".nc",), overwrite=args.overwrite, what="export")
        results = _open_results(args.store)
        if not isinstance(results, xr.DataTree) or "member" not in results.ds.dims:
            raise EngineError(
                f"{args.store} is not an ensemble store; a single run is written to netCDF "
                "by `corridor run --out FILE.nc`."
            )
        import engine

        if target.exists():
            target.unlink()  # --overwrite was given (checked above)
        path = engine.export_netcdf(results, target, flat=args.flat)
        if not args.quiet:
            print(path)
        return 0
    if args.flat:
        raise EngineError("--flat is for netCDF exports (--format netcdf or --out FILE.nc).")
    ensemble = _is_ensemble(args.store)
    writer = export_members if args.members or not ensemble else export_quantiles
    return _write_from_store(args, writer)


def _is_ensemble(store: str) -> bool:
    results = _open_results(store, quiet=True)
    return isinstance(results, xr.DataTree) and "member" in results.ds.dims


def _write_from_store(args: argparse.Namespace, writer: Any) -> int:
    """Open the stored result, write it with ``writer`` to ``--out``, print the path."""
    results = _open_results(args.store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an unfinished store: said above
        path = writer(results, args.out, variables=args.variable or None, overwrite=args.overwrite)
    if not args.quiet:
        print(path)
    return 0


def _parse_selection(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise EngineError(f"--select expects DIM=ELEMENT, got {text!r}.")
    dim, element = text.split("=", 1)
    return dim.strip(), element.strip()


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def cmd_compare(args: argparse.Namespace) -> int:
    import engine

    from ..comparison import compare, comparison_chart, scenario_label, write_comparison
    from ..files import check_output_folder
    from ..plot import save_figure
    from ..tables import TOTAL

    variables = args.variable or ["population", "net_migration"]
    formats = args.format or ["png"]
    out = Path(args.out)
    results: dict[str, Any] = {}
    pending: list[str] = []
    for source in args.sources:
        path = Path(source)
        if path.exists() or path.suffix.lower() in (".zarr", ".nc"):
            result = _open_results(source)
            label = scenario_label(result, path.stem)
            if label in results:
                label = f"{label} ({path.name})"
            results[label] = result
        else:
            pending.append(source)
            results[source] = None
    if len(results) < 2:
        raise EngineError(
            "compare needs at least two different scenarios or stores, e.g. "
            "`corridor compare baseline fortress`."
        )
    # the page and the table are checked before any run (the charts once regions are known)
    check_output_folder(
        out, ["comparison.html", "differences.csv"], overwrite=args.overwrite, what="--out folder"
    )
    name = args.model or _default_model_name()
    for scenario in pending:
        model = _load_model(name, scenario)
        needed = list(variables)
        if "net_migration" in needed and "net_migration" not in model.variables:
            needed += ["immigration", "emigration"]
        outputs = [v for v in dict.fromkeys(needed) if v in model.variables] or None
        _prepare(model, "euler", args.quiet)
        if args.n > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                results[scenario] = engine.run_ensemble(
                    model,
                    n=args.n,
                    seed=args.seed,
                    outputs=outputs,
                    progress=False if args.quiet else None,
                )
        else:
            results[scenario] = engine.simulate(model, outputs=outputs)
    table = compare(results, variables=variables, regions=args.region, years=args.years)
    regions = list(dict.fromkeys(str(r) for r in table.index.get_level_values("region")))
    charts = [
        (variable, region)
        for variable in variables
        for region in regions
        if (variable, region) in {(v, r) for v, r, _ in table.index}
    ]
    stems = [f"compare_{_file_name(v)}_{_file_name(r)}" for v, r in charts]
    check_output_folder(
        out,
        ["comparison.html", "differences.csv"]
        + [f"{stem}.{fmt}" for stem in stems for fmt in formats],
        overwrite=args.overwrite,
        what="--out folder",
    )
    written = []
    reference = _reference(results, args)
    for (variable, region), stem in zip(charts, stems):
        where = None if region == TOTAL else region
        fig = comparison_chart(results, variable, region=where, reference=reference)
        written += save_figure(fig, out / stem, formats)
    table.to_csv(out / "differences.csv")
    written.append(out / "differences.csv")
    written.append(
        write_comparison(
            results,
            out / "comparison.html",
            variables=variables,
            regions=args.region,
            years=args.years,
            overwrite=True,
            reference=reference,
        )
    )
    if args.json:
        frame = table.reset_index()
        print(
            json.dumps(
                {
                    **table.attrs,
                    "rows": json.loads(frame.to_json(orient="records")),
                    "files": [str(p) for p in written],
                },
                indent=2,
            )
        )
    elif not args.quiet:
        print(f"scenarios {' vs '.join(results)} (reference {table.attrs['reference']})")
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(
                table.to_string(float_format=lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")
            )
        for path in written:
            print(path)
    return 0


COMMANDS = {
    "run": cmd_run,
    "sweep": cmd_sweep,
    "describe": cmd_describe,
    "check": cmd_check,
    "scenarios": cmd_scenarios,
    "compare": cmd_compare,
    "plot": cmd_plot,
    "report": cmd_report,
    "export": cmd_export,
    "backtest": cmd_backtest,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``corridor`` argument parser (:mod:`engine.cli.parser`)."""
    from .parser import build_parser as build

    parser: argparse.ArgumentParser = build(COMMANDS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    if getattr(args, "format", "unset") is None and args.command == "plot":
        args.format = ["png", "svg"]
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        print("corridor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error of the command
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - one clear line; --debug shows the traceback
        if getattr(args, "debug", False):
            raise
        kind = "" if isinstance(exc, EngineError) else f"{type(exc).__name__}: "
        print(f"corridor: error: {kind}{exc}".splitlines()[0], file=sys.stderr)
        return 1
