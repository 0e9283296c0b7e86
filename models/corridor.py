"""The corridor: the default forecast, a closed global migration system under a scenario.

Story
-----
The world is cut into regions that cover it once (:mod:`models.world_partition`): the seeds'
two corridors as explicit regions (Northern Africa, Sub-Saharan Africa, Mexico, Central America
without Mexico, Europe, Northern America), the largest other sources of immigrants to Europe
and Northern America (Southern, Western, Eastern, South-Eastern and Central Asia, the
Caribbean, South America) and the rest of the world (Oceania). Each region's people are
counted by sex and single year of age on WPP 2022's vital rates; migration is the sum of
origin-destination flows (:mod:`models.migration_system`); irregular journeys pass through a
transit stock, whose people count in their origin until they arrive (as WPP counts
emigrants), so net migration summed over the regions is zero every year, emigration
(departures) is immigration (arrivals) plus the change in transit and the deaths in transit,
and nobody is created or lost. The flows' base rates are calibrated to
the UN migrant stocks and WPP's net migration to 2021 and to WPP's medium variant after
(:mod:`models.migration_calibration`); drivers act as cited factors around that baseline
(:mod:`models.migration_drivers`: income and Clemens's emigration life cycle, bounded diaspora
networks, labour shortages allocated once, legal pathways and border enforcement with
diversion to deadlier routes, remittances). With every lever at its baseline the model is the
calibrated system.

The run starts in 1990, as the calibration's (the UN migrant stock of 1990 by origin and
destination, WPP 2022's estimated population of that year, WPP's estimated vital rates to 2021),
so that the years to 2021 are the calibrated history and the forecast from 2022 continues it;
``corridor run`` shows 1990, 2030, 2050 and 2100 (``--years`` chooses). Scenario levers act from
2022 (enforcement, legal pathways, income, development aid and labour shortages; fertility
adjustments are phased in from ``tfr_adjustment_from``, 2022 in the scenario files), so every
scenario shares the history.

Scenarios
---------
``models/scenarios/<name>.toml`` names its shared socioeconomic pathway (``ssp``, O'Neill et
al. 2017) and climate pathway (``climate_pathway``) and sets this model's parameters in its
``[params]`` table (the previous default, :mod:`models.corridor_five_region`, reads
``[five_region.params]``). The narratives map to the drivers as follows:

- **border enforcement** (``border_enforcement``, index 2022 = 1, at the destination): fortress
  3 and regional rivalry 2 at Europe and Northern America, the destinations of the corridors;
- **legal pathways** (``legal_pathway_factor``, legal admissions over the baseline's, at the
  destination): fortress 0.25, regional rivalry 0.5, sustainability 1.75, open pathways 3 at
  Europe and Northern America (the five-region scenarios' capacities over their baselines);
- **SSP income growth** (``income_growth_shift``: growth of GDP per head off SSP2's, all
  regions; ``development_aid_growth``: extra growth in the corridors' origins): regional
  rivalry (SSP3) -0.7 percentage points everywhere; sustainability (SSP1) and open pathways
  +0.5 points in Northern Africa, Sub-Saharan Africa, Mexico and Central America without
  Mexico;
- **fertility** (``tfr_adjustment``, from 2022): SSP3 +0.5 children in Africa's regions and
  +0.3 in Mexico and Central America, SSP1 the same below (KC & Lutz 2017);
- **the SSP's international migration** (``ssp_migration_level``, a factor on the propensity
  to move from 2022, :mod:`models.migration_drivers`): KC & Lutz (2017) take migration medium
  in SSP1, SSP2 and SSP4, low in SSP3 and high in SSP5, 50 % below and above the medium; the
  loader sets it from the file's ``ssp`` (:data:`SSP_MIGRATION_LEVEL`: 1, 1, 0.5, 1, 1.5)
  unless the file's ``[params]`` set it, so regional rivalry runs at 0.5 and the other files
  at 1 (the five-region model's ``hump_ssp_migration_level`` likewise);
- **climate pathway**: its warming and adaptation settings (:data:`models.climate.SCENARIOS`)
  are set on the climate parameters the model holds (``warming_2090``,
  ``adaptation_investment_share``) when its drivers include the climate module; the pathway
  is recorded in every result's attributes either way.

Levers of the five-region model that this model has no counterpart for (assisted returns,
remittance costs, employers' recruitment abroad) are left out, said in the scenario files.

Outputs
-------
The headline (:func:`engine.headline`, ``corridor run``): ``population``, ``births``,
``deaths`` (those in transit included), ``immigration`` (arrivals), ``emigration``
(departures), ``net_migration`` (arrivals less the region's emigrants' arrivals elsewhere:
people in transit count in their origin; ``emigration_on_arrival``) (region, sex, age;
``population`` is the people present, ``total_population`` adds the region's emigrants in
transit) and
``migrant_stock`` (origin, destination, sex, age: a region's migrant stock is summed over
origins); with :data:`OUTPUTS` the drivers' factors, ``irregular_arrivals``,
``legal_arrivals`` and ``transit_deaths`` by origin and destination, remittances and the
emigration rate.

Sources
-------
- UN DESA (2019). International Migrant Stock 2019 (:mod:`models.migrant_stock`).
- United Nations, DESA, Population Division (2022). World Population Prospects 2022.
- O'Neill, B. C. et al. (2017). The roads ahead: narratives for shared socioeconomic pathways.
  Global Environmental Change 42, 169-180 (SSP1-3 narratives behind the scenarios).
- KC, S. & Lutz, W. (2017). The human core of the shared socioeconomic pathways. Global
  Environmental Change 42, 181-192 (SSP1 low, SSP3 high fertility in high-fertility countries;
  the ``tfr_adjustment`` values of +/-0.5 follow WPP's variants; migration medium in SSP1,
  SSP2 and SSP4, low in SSP3 and high in SSP5, 50 % below and above the medium:
  ``ssp_migration_level``).
- The components' sources: :mod:`models.migration_system`, :mod:`models.migration_drivers`,
  :mod:`models.migration_calibration`, :mod:`models.demography`, :mod:`models.climate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

import engine

from . import climate, migration_drivers, world_partition
from .references import reference as reference  # WPP lines on fan charts
from .world_partition import CORRIDOR_REGIONS, Derived

__all__ = [
    "build",
    "scenarios",
    "load_scenario",
    "read_scenario",
    "scenario_params",
    "param_values",
    "scenario_attrs",
    "set_param",
    "REGIONS",
    "OUTPUTS",
    "SSPS",
    "SSP_MIGRATION_LEVEL",
    "START",
]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
#: The shared socioeconomic pathways (O'Neill et al. 2017) a scenario's narrative may follow.
SSPS = ("SSP1", "SSP2", "SSP3", "SSP4", "SSP5")
#: Each SSP's international migration relative to the medium assumption (KC & Lutz 2017: SSP1,
#: SSP2 and SSP4 medium; SSP3 low and SSP5 high, 50 % below and above the medium): the value of
#: ``ssp_migration_level`` a scenario file gets from its ``ssp`` unless it sets one.
SSP_MIGRATION_LEVEL = {"SSP1": 1.0, "SSP2": 1.0, "SSP3": 0.5, "SSP4": 1.0, "SSP5": 1.5}
#: The model's regions: the default partition (its last, the rest of the world).
REGIONS = tuple(world_partition.partition(CORRIDOR_REGIONS).regions)
#: The run's start: the calibration's (the UN migrant stock's first year).
START = 1990.0
#: The corridor's outputs for sweeps and reports (the headline's and the drivers').
OUTPUTS = (
    "population",
    "births",
    "deaths",
    "immigration",
    "emigration",
    "net_migration",
    "migrant_stock",
    "total_population",
    "net_migration_total",
    "emigration_rate",
    "migrant_stock_total",
    "income_per_capita",
    "hump_multiplier",
    "network_effect",
    "labour_admissions",
    "remittances_received",
    "irregular_arrivals",
    "legal_arrivals",
    "transit_deaths",
    "unemployment_rate",
)


def scenarios() -> list[str]:
    """Names of the scenarios in ``models/scenarios``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name: str) -> dict[str, Any]:
    """A scenario's settings for this model: ``name``, ``description``, ``ssp``,
    ``climate_pathway`` and ``params`` (the file's ``[params]`` table, with
    ``ssp_migration_level`` from the ``ssp``, :data:`SSP_MIGRATION_LEVEL`, unless the file
    sets it).

    ``name`` is one of :func:`scenarios` (a plain name: no path reaches outside
    ``models/scenarios``), or the path of a scenario file of one's own ending in ``.toml``.
    """
    return with_ssp_migration_level(read_scenario(name), "ssp_migration_level")


def with_ssp_migration_level(settings: Mapping[str, Any], param: str) -> dict[str, Any]:
    """``settings`` with parameter ``param`` (a model's ``ssp_migration_level``) at the level of
    the scenario's SSP (:data:`SSP_MIGRATION_LEVEL`, KC & Lutz 2017) unless its ``params`` set
    it: the SSP's migration assumption follows from the ``ssp`` key, not from a number repeated
    in every file."""
    params = dict(settings["params"])
    params.setdefault(param, SSP_MIGRATION_LEVEL[settings["ssp"]])
    return {**settings, "params": params}


def read_scenario(name: str, table: str | None = None) -> dict[str, Any]:
    """A scenario file's settings, ``params`` taken from the file's ``[table.params]`` (the
    settings of another model than this one, e.g. ``five_region``) or ``[params]`` (None).

    ``ssp`` is one of :data:`SSPS` (default "SSP2") and ``climate_pathway`` one of
    :data:`models.climate.SCENARIOS` (default "middle"). A file's ``climate_scenario`` (the
    former name of ``climate_pathway``) is still read; the settings carry both, equal. A file
    of one's own without the ``[table]`` is read as written for that model (its ``[params]``).
    """
    if not isinstance(name, str) or not name:
        raise engine.ParameterError(
            f"scenario {name!r}: give a scenario name, one of {scenarios()}."
        )
    if name.lower().endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise engine.ParameterError(
                f"scenario file {name!r} does not exist (or is not a file); give a .toml file "
                f"or one of the scenarios {scenarios()}."
            )
    elif name in scenarios():
        path = SCENARIO_DIR / f"{name}.toml"
    else:
        raise engine.ParameterError(
            f"unknown scenario {name!r}; scenarios are {scenarios()} (a scenario file of your "
            "own: give its path ending in '.toml')."
        )
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise engine.ParameterError(
            f"scenario {name!r}: {path} is not valid TOML ({exc}); fix the file."
        ) from None
    if table is not None:
        own = data.pop(table, None)
        if own is not None:
            if not isinstance(own, Mapping):
                raise engine.ParameterError(
                    f"scenario {name!r}: [{table}] must be a table ([{table}.params])."
                )
            data["params"] = own.get("params", {})
    else:
        data = {k: v for k, v in data.items() if not isinstance(v, Mapping) or k == "params"}
    data.setdefault("params", {})
    if not isinstance(data["params"], Mapping):
        where = f"{table}.params" if table else "params"
        raise engine.ParameterError(
            f"scenario {name!r}: '{where}' must be a table of parameter = value lines ([{where}])."
        )
    data["ssp"] = _scenario_field(name, data, "ssp", SSPS, default="SSP2")
    # ``climate_scenario`` is the field's former name: still read, and kept equal to it.
    if "climate_pathway" in data and "climate_scenario" in data:
        if data["climate_pathway"] != data["climate_scenario"]:
            raise engine.ParameterError(
                f"scenario {name!r}: climate_pathway = {data['climate_pathway']!r} and "
                f"climate_scenario = {data['climate_scenario']!r} disagree; keep "
                "climate_pathway only (climate_scenario is its former name)."
            )
    elif "climate_scenario" in data:
        data["climate_pathway"] = data["climate_scenario"]
    data["climate_pathway"] = _scenario_field(
        name, data, "climate_pathway", tuple(climate.SCENARIOS), default="middle"
    )
    data["climate_scenario"] = data["climate_pathway"]
    return data


def _scenario_field(
    name: str, data: Mapping[str, Any], field: str, choices: Sequence[str], default: str
) -> str:
    value = data.get(field, default)
    if not isinstance(value, str) or value not in choices:
        raise engine.ParameterError(
            f"scenario {name!r}: {field} = {value!r}; choose one of {list(choices)}."
        )
    return value


def scenario_attrs(scenario: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """The attributes every result of a scenario carries: its name (the file's stem), title
    and description, SSP and climate pathway."""
    return {
        "scenario": Path(scenario).stem if scenario.lower().endswith(".toml") else scenario,
        "scenario_title": str(settings.get("name", scenario)),
        "scenario_description": " ".join(str(settings.get("description", "")).split()),
        **{k: str(settings[k]) for k in ("ssp", "climate_pathway") if k in settings},
    }


def scenario_params(scenario: str, **options: Any) -> dict[str, np.ndarray]:
    """Every parameter value of the model built for ``scenario``, by name.

    Pass them as ``simulate(baseline_model, params=...)`` to run a scenario on one compiled
    model (scenarios differ only in parameter values).
    """
    return param_values(build(scenario, **options))


def param_values(model: engine.Model) -> dict[str, np.ndarray]:
    """Every parameter value of ``model``, by name (what a scenario's build sets)."""
    return {
        v.name: np.asarray(v.value)
        for v in model.variables.values()
        if v.kind == "param" and v.value is not None
    }


def climate_values(model: engine.Model, pathway: str) -> dict[str, float]:
    """The climate pathway's settings (:data:`models.climate.SCENARIOS`: warming, adaptation
    investment) for the climate parameters ``model`` holds; {} for a model without them."""
    wanted = climate.scenario_params(pathway, [], standalone=False)
    return {name: float(value) for name, value in wanted.items() if name in model.variables}


def build(
    scenario: str = "baseline",
    *,
    regions: Sequence[str | Derived] = CORRIDOR_REGIONS,
    start: float = START,
    stop: float = 2100.0,
    dt: float = 1.0,
    values: Mapping[str, Any] | None = None,
) -> engine.Model:
    """The global migration system with its drivers under ``scenario``.

    Parameters
    ----------
    scenario : str
        A scenario of ``models/scenarios`` (see :func:`scenarios`) or a ``.toml`` file.
    regions : sequence of str or Derived
        WPP locations and derived regions; the rest of the world is added (default: the
        corridors and the largest other sources of Europe's and Northern America's
        immigrants, :data:`models.world_partition.CORRIDOR_REGIONS`). Another list is fitted on
        the fly (:mod:`models.migration_calibration`: minutes for a dozen regions).
    start, stop, dt : float
        Run times (mid-year convention); ``start`` must be a year of the UN migrant stock
        (1990, 1995, ..., 2015, 2019); ``dt`` must divide 1 (yearly ageing).
    values : mapping, optional
        Parameter values to set after the scenario's, by name (number, array or
        {element: value}).

    Returns
    -------
    engine.Model
        Outputs :data:`OUTPUTS` among others, with units and docs.

    Examples
    --------
    >>> import engine
    >>> from models import corridor
    >>> ds = engine.simulate(corridor.build(), outputs=["population"])  # doctest: +SKIP
    """
    settings = load_scenario(scenario)
    m = migration_drivers.build(regions, start=start, stop=stop, dt=dt)
    m.name = "corridor"
    m.doc = (
        "Closed global migration system with its drivers (default forecast): "
        f"{settings.get('name', scenario)} ({settings['ssp']}, climate pathway "
        f"{settings['climate_pathway']})."
    )
    m.attrs.update(scenario_attrs(scenario, settings))
    _outputs(m)
    levers = {**climate_values(m, settings["climate_pathway"]), **settings["params"]}
    for name, value in {**levers, **dict(values or {})}.items():
        set_param(m, name, value)
    return m


def _outputs(m: engine.Model) -> None:
    """Outputs a forecaster reads beside the drivers' own."""
    m.aux(
        "legal_arrivals",
        "is_other_region[origin, destination] * "
        "sum(direct_moves[origin, destination, sex, age], 'sex', 'age')",
        dims=("origin", "destination"),
        units="person/year",
        doc="Arrivals across region borders through legal pathways (labour admissions "
        "included): the moves across region borders that do not go through transit.",
    )
    m.aux(
        "emigration_rate",
        "zidz(sum(emigration[region, sex, age], 'sex', 'age'), total_population[region])",
        dims=("region",),
        units="1/year",
        doc="People leaving the region (emigrants and migrants going home) per resident a year.",
    )


def set_param(model: engine.Model, name: str, value: Any) -> None:
    """Set the default value of parameter ``name`` (a number, array or {element: value}).

    Kept for callers of earlier versions: it is :meth:`engine.Model.set_value`.
    """
    model.set_value(name, value)
