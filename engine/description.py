"""What a model holds, for people: dims, variables with units, bounds, priors and docs, and the
size of its dependency graph (``corridor describe`` prints it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .graph import build_plan
from .priors import declared_correlations, merge_priors, prior_table
from .spec import Model

__all__ = ["describe", "format_description"]

_KINDS = ("stock", "flow", "aux", "param", "lookup")


def describe(
    model: Model,
    priors: Mapping[str, Any] | None = None,
    correlations: Mapping[Any, float] | None = None,
) -> dict[str, Any]:
    """A JSON-ready description of ``model``: name, time unit, dims, visible variables (with
    their units, bounds, priors and docs), every prior of a sweep
    (:func:`engine.priors.prior_table`: the model's declared priors with ``priors`` added or
    overriding them, and where each came from) and its rank
    correlations (:func:`correlation_table`: the model's declared ones that still apply,
    with ``correlations`` added).

    Examples
    --------
    >>> from engine.description import describe
    >>> from engine.examples import example_model
    >>> [v["name"] for v in describe(example_model())["variables"]][:2]
    ['origin_population_initial', 'base_emigration_rate']
    """
    return {
        "name": model.name,
        "time_unit": model.time_unit,
        "dims": {d: list(dim.elements) for d, dim in model.dims.items()},
        "variables": [
            {
                "name": v.name,
                "kind": v.kind,
                "dims": list(v.dims),
                "units": v.units,
                "bounds": list(v.bounds),
                "prior": repr(v.prior) if v.prior is not None else None,
                "doc": v.doc or "",
            }
            for v in model.variables.values()
            if not v.hidden
        ],
        "priors": prior_table(model, priors),
        "correlations": correlation_table(model, priors, correlations),
    }


def correlation_table(
    model: Model,
    priors: Mapping[str, Any] | None = None,
    correlations: Mapping[Any, float] | None = None,
) -> list[dict[str, Any]]:
    """The rank correlations of a sweep: one row per target (a parameter's name, for every
    pair of its per-element priors, or a pair of prior keys) with ``between``, ``rho`` and
    ``source`` ("model", "user" or "user, overrides model: <rho>"); the model's declared
    correlations whose per-element priors ``priors`` kept, then ``correlations``."""
    declared = declared_correlations(model, merge_priors(model, priors))
    given = dict(correlations or {})
    rows = []
    for target in list(declared) + [t for t in given if t not in declared]:
        if target in given and target in declared and given[target] != declared[target]:
            source = f"user, overrides model: {declared[target]}"
        elif target in declared:
            source = "model"
        else:
            source = "user"
        rho = given.get(target, declared.get(target))
        between = list(target) if isinstance(target, tuple) else f"elements of {target}"
        rows.append({"between": between, "rho": float(rho), "source": source})  # type: ignore[arg-type]
    return rows


def format_description(
    model: Model,
    priors: Mapping[str, Any] | None = None,
    correlations: Mapping[Any, float] | None = None,
) -> str:
    """``model`` described in text: dims (first elements), variables by kind with their
    units, bounds and priors (a parameter's doc after a colon: parameters are what a user
    sets), every prior of a sweep with ``priors`` merged in (and where
    each came from), its rank correlations, then the size of the dependency graph."""
    plan = build_plan(model)
    visible = [v for v in model.variables.values() if not v.hidden]
    lines = [f"model {model.name!r} ({model.time_unit or 'no time unit'}); {model.doc}".strip()]
    for name, dim in model.dims.items():
        shown = ", ".join(dim.elements[:8]) + (" ..." if len(dim) > 8 else "")
        lines.append(f"  dim {name} [{len(dim)}]: {shown}")
    for kind in _KINDS:
        group = [v for v in visible if v.kind == kind]
        if not group:
            continue
        lines.append(f"{kind}s ({len(group)}):")
        for v in group:
            extra = ""
            if kind == "param":
                low, high = v.bounds
                if low is not None or high is not None:
                    extra += f" bounds [{low}, {high}]"
                if v.prior is not None:
                    extra += f" prior {v.prior!r}"
                if v.doc:
                    extra += f": {' '.join(v.doc.split())}"
            dims = f"[{', '.join(v.dims)}]" if v.dims else ""
            lines.append(f"  {v.name}{dims} ({v.units or '-'}){extra}")
    table = prior_table(model, priors)
    lines.append(f"priors ({sum(row['prior'] is not None for row in table)}):")
    for row in table:
        linked = "" if row["correlation"] is None else f", rank correlation {row['correlation']}"
        lines.append(f"  {row['key']}: {row['prior'] or '(none)'} [{row['source']}{linked}]")
    ranks = correlation_table(model, priors, correlations)
    lines.append(f"correlations ({len(ranks)}):")
    for row in ranks:
        between = row["between"]
        pair = " ~ ".join(between) if isinstance(between, list) else between
        lines.append(f"  {pair}: rank correlation {row['rho']:g} [{row['source']}]")
    lines.append(
        f"dependencies: {len(plan.dynamic_order)} equations each step, "
        f"{len(plan.static)} constant, {len(plan.init_order)} at initialisation; "
        f"state size {plan.sizes['y']}"
    )
    return "\n".join(lines)
