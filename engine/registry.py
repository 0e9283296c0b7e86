"""Bundled models by name: the ``corridor.models`` entry point group.

A package makes a model runnable by name (``corridor run NAME``) by declaring a builder in
that group, as pytest finds plugins and xarray its backends::

    [project.entry-points."corridor.models"]
    corridor = "models.corridor:build"

A builder is called with keyword options (``scenario=`` for models that have scenarios) and
returns an :class:`engine.Model`. Only registered names are built: a name never becomes an
import of a module of the caller's choosing. The engine itself registers ``example``
(:func:`engine.examples.example_model`), so that something runs without any package of
models; the engine never imports ``models`` (DESIGN.md).

Examples
--------
>>> from engine.registry import build_model, model_names
>>> "example" in model_names()
True
>>> build_model("example").name
'example'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .errors import EngineError, suggest
from .examples import example_model
from .spec import Model

__all__ = [
    "GROUP",
    "model_names",
    "build_model",
    "scenario_names",
    "scenario_settings",
    "reference_data",
    "backtest_runner",
]

GROUP = "corridor.models"
_BUILTIN: dict[str, Callable[..., Model]] = {"example": example_model}


def _registered() -> dict[str, EntryPoint]:
    out: dict[str, EntryPoint] = {}
    for entry in entry_points(group=GROUP):
        if entry.name not in _BUILTIN:
            out.setdefault(entry.name, entry)  # the first distribution on the path wins
    return out


def model_names() -> list[str]:
    """The names :func:`build_model` accepts: registered models, then the built-in ones."""
    return sorted(_registered()) + sorted(_BUILTIN)


def _builder(name: str) -> Callable[..., Any]:
    if name in _BUILTIN:
        return _BUILTIN[name]
    registered = _registered()
    if name not in registered:
        raise EngineError(
            f"unknown model {name!r}: give a .mdl/.xmile file or a "
            f"registered model ({', '.join(model_names())})." + suggest(name, model_names())
        )
    try:
        builder: Callable[..., Any] = registered[name].load()
    except Exception as exc:  # noqa: BLE001 - any import failure of a plugin
        raise EngineError(
            f"model {name!r} ({registered[name].value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return builder


def _scenario_functions(name: str) -> tuple[Callable[[], Any], Callable[[str], Any]] | None:
    """The module of model ``name``'s builder: its ``scenarios()`` and ``load_scenario(name)``,
    the convention of a model with scenarios (``models.corridor``); None without them."""
    module = inspect.getmodule(_builder(name))
    listing = getattr(module, "scenarios", None)
    loading = getattr(module, "load_scenario", None)
    if callable(listing) and callable(loading):
        return listing, loading
    return None


def reference_data(name: str, regions: Sequence[str]) -> Any:
    """What the results of model ``name`` are drawn against (a WPP line on fan charts): its
    builder's module's ``reference(regions)``, an xarray Dataset of variables by ``time``
    (and ``region``), or None when the model has no such function or no reference for
    those regions (the convention of :mod:`models.demography` and :mod:`models.corridor`).
    A name that is not registered has none: nothing is imported for it."""
    if name not in _BUILTIN and name not in _registered():
        return None
    function = getattr(inspect.getmodule(_builder(name)), "reference", None)
    if not callable(function):
        return None
    return function(list(regions))


def backtest_runner(name: str) -> Callable[..., Any]:
    """How model ``name`` is backtested: its builder's module's ``backtests(locations, *,
    jump_offs, horizons, ensemble, uncertainty)``, returning the model's and a naive
    baseline's :func:`engine.backtest` Datasets over the same cases (the convention of
    :mod:`models.demography`: only a model that knows what was known at each jump-off can
    be backtested).

    Raises
    ------
    EngineError
        For a model without such a function, naming the models that have one.
    """
    function = getattr(inspect.getmodule(_builder(name)), "backtests", None)
    if callable(function):
        return function  # type: ignore[no-any-return]
    able = [
        n
        for n in sorted(_registered())
        if callable(getattr(inspect.getmodule(_builder(n)), "backtests", None))
    ]
    raise EngineError(
        f"model {name!r} has no backtests (its module defines no backtests()); models with "
        f"them: {', '.join(able) or 'none'}."
    )


def scenario_names(name: str) -> list[str]:
    """The scenarios of model ``name`` (its builder's module's ``scenarios()``); [] for a
    model without scenarios."""
    functions = _scenario_functions(name)
    return [] if functions is None else [str(s) for s in functions[0]()]


def scenario_settings(name: str, scenario: str) -> dict[str, Any]:
    """A scenario's settings (``name``: its title, ``description``, ``params``...), as the
    model's ``load_scenario`` reads them; a misspelt scenario gets a suggestion.

    Raises
    ------
    EngineError
        For a model without scenarios, or an unknown scenario.
    """
    functions = _scenario_functions(name)
    if functions is None:
        raise EngineError(f"model {name!r} has no scenarios.")
    known = [str(s) for s in functions[0]()]
    if scenario not in known and not scenario.lower().endswith(".toml"):
        raise EngineError(
            f"unknown scenario {scenario!r} of model {name!r}; its scenarios are "
            f"{', '.join(known)}." + suggest(scenario, known)
        )
    settings = functions[1](scenario)
    return dict(settings)


def build_model(name: str, **options: Any) -> Model:
    """Build the model registered as ``name``.

    Parameters
    ----------
    name : str
        A name of :func:`model_names`.
    **options
        Passed to the builder; an option it does not take (``scenario`` for a model without
        scenarios, say) is an error naming the options it does take.

    Raises
    ------
    EngineError
        Unknown name (with the closest names), an option the builder does not take, a
        builder that cannot be loaded or returns something other than a Model.
    """
    builder = _builder(name)
    try:
        accepted = inspect.signature(builder).parameters
    except (TypeError, ValueError):
        accepted = None
    if accepted is not None and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            takes = [key for key, p in accepted.items() if p.kind is not p.VAR_POSITIONAL]
            why = " (it has no scenarios: drop --scenario)" if "scenario" in unknown else ""
            raise EngineError(
                f"model {name!r} takes no option {', '.join(unknown)}{why}; its "
                f"options are {takes}."
            )
    scenario = options.get("scenario")
    if isinstance(scenario, str) and not scenario.lower().endswith(".toml"):
        known = scenario_names(name)
        if known and scenario not in known:
            raise EngineError(
                f"unknown scenario {scenario!r} of model {name!r}; its scenarios are "
                f"{', '.join(known)}." + suggest(scenario, known)
            )
    model = builder(**options)
    if not isinstance(model, Model):
        raise EngineError(
            f"model {name!r}: its builder returned {type(model).__name__}, not an engine.Model."
        )
    if scenario is not None:
        # every result names its scenario, whether or not the builder recorded it
        model.attrs.setdefault("scenario", str(scenario))
    return model
