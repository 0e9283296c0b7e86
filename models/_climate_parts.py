"""The sub-systems that :func:`models.climate.add_to` adds, in order, and their regional data.

Each function adds one concern's parameters, stocks, flows and auxiliaries to the host model
through a :class:`~models._inputs.Builder` (prefix, regions dim, replacement values). The story,
the units and the sources of every number here are in the docstring of :mod:`models.climate`;
the order of the calls there is the order of the model's variables (part of its content hash).
"""

from __future__ import annotations

import math

from ._inputs import Builder

WARMING_2022 = 1.15  # K above 1850-1900 (WMO 2023)
WARMING_PARIS_2090 = 1.8  # K, SSP1-2.6 best estimate 2081-2100

LIVELIHOOD_EXPOSURE = {
    "Northern Africa": 0.22,
    "Sub-Saharan Africa": 0.52,
    "Central America": 0.15,
    "Europe": 0.05,
    "Northern America": 0.016,
    "World": 0.26,
}
COASTAL_EXPOSURE = {
    "Northern Africa": 0.12,
    "Sub-Saharan Africa": 0.04,
    "Central America": 0.05,
    "Europe": 0.07,
    "Northern America": 0.07,
    "World": 0.10,
}
DRYING_WEIGHT = {
    "Northern Africa": 1.0,
    "Sub-Saharan Africa": 0.5,
    "Central America": 0.8,
    "Europe": 0.4,
    "Northern America": 0.4,
    "World": 0.5,
}
DISASTER_DISPLACEMENT_RATE = {
    "Northern Africa": 0.0015,
    "Sub-Saharan Africa": 0.0063,
    "Central America": 0.0020,
    "Europe": 0.0003,
    "Northern America": 0.0019,
    "World": 0.0041,
}
# Calibrated to Groundswell (see models.climate and tests/models/test_climate.py).
CLIMATE_MIGRATION_RESPONSE = {
    "Northern Africa": 0.0306,
    "Sub-Saharan Africa": 0.0213,
    "Central America": 0.0265,
    "Europe": 0.0265,
    "Northern America": 0.0265,
    "World": 0.0183,
}


def warming_and_sea_level(b: Builder, settings: dict[str, float]) -> None:
    """Global warming (the long-term mitigation lever) and sea-level rise."""
    model, n, param = b.model, b.n, b.param
    param(
        "warming_2022",
        WARMING_2022,
        units="K",
        bounds=(0.5, 2),
        doc="Global warming above 1850-1900 in 2022 (WMO 2023).",
    )
    param(
        "warming_2090",
        settings["warming_2090"],
        units="K",
        bounds=(1, 6),
        doc="Scenario: warming reached around 2090 (AR6 Table SPM.1 best estimates).",
    )
    param(
        "warming_paris_2090",
        WARMING_PARIS_2090,
        units="K",
        bounds=(1, 3),
        doc="Warming around 2090 of a Paris-compatible pathway (SSP1-2.6).",
    )
    param(
        "mitigation",
        0.0,
        units="1",
        bounds=(0, 1),
        doc="Lever (long term): share of the gap between the scenario's warming rate and the "
        "Paris-compatible rate closed from 2030.",
    )
    param(
        "warming_path_years",
        68.0,
        units="year",
        doc="Years from 2022 to 2090, over which warming moves from its 2022 level to 2090's.",
    )
    param(
        "climate_start_year",
        2022.0,
        units="year",
        doc="Year from which the climate changes (a host model may start before it: the "
        "climate of 2022 and its hazards hold until then).",
    )
    model.aux(
        n("{warming_rate}"),
        n(
            "({warming_2090} - {warming_2022}) / {warming_path_years} - {mitigation} * "
            "step(1, 2030) * max({warming_2090} - {warming_paris_2090}, 0) / "
            "{warming_path_years}"
        ),
        units="K/year",
        doc="Rate of global warming.",
    )
    model.stock(
        n("{global_warming}"),
        initial=n("{warming_2022}"),
        units="K",
        non_negative=True,
        doc="Global mean surface warming above 1850-1900.",
    )
    model.flow(
        n("{warming}"),
        n("{warming_rate} * step(1, {climate_start_year})"),
        into=n("{global_warming}"),
        units="K/year",
        doc="Warming.",
    )
    param(
        "sea_level_rise_rate_2022",
        0.0037,
        units="m/year",
        bounds=(0, 0.02),
        doc="Global mean sea-level rise rate, 2006-2018 (AR6 WGI SPM A.1.7).",
    )
    param(
        "sea_level_warming_sensitivity",
        0.0035,
        units="m/year/K",
        bounds=(0, 0.02),
        prior=("truncnorm", 0.0035, 0.001, 0, 0.02),
        doc="Extra rate of sea-level rise per K of warming since 2022 (AR6 B.5.3).",
    )
    model.stock(
        n("{sea_level_rise}"),
        initial=0.0,
        units="m",
        non_negative=True,
        doc="Global mean sea-level rise since 2022.",
    )
    model.flow(
        n("{sea_level_rise_rate}"),
        n(
            "({sea_level_rise_rate_2022} + {sea_level_warming_sensitivity} * "
            "max({global_warming} - {warming_2022}, 0)) * step(1, {climate_start_year})"
        ),
        into=n("{sea_level_rise}"),
        units="m/year",
        doc="Rate of sea-level rise.",
    )


def hazards_and_exposure(b: Builder) -> None:
    """Drought, crop-yield loss and heavy precipitation by warming; habitability loss and
    the exposed population of each region."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
    model.lookup(
        n("{drought_frequency}"),
        [(0, 1), (1, 1.7), (1.5, 2.0), (2, 2.4), (4, 4.1)],
        units="1",
        extrapolate=True,
        doc="Frequency of 10-year agricultural droughts in drying regions by warming "
        "(AR6 Fig. SPM.6).",
    )
    model.lookup(
        n("{heavy_precipitation_frequency}"),
        [(0, 1), (1, 1.3), (1.5, 1.5), (2, 1.7), (4, 2.7)],
        units="1",
        extrapolate=True,
        doc="Frequency of 10-year heavy precipitation by warming (AR6 Fig. SPM.6).",
    )
    param(
        "crop_yield_sensitivity",
        0.06,
        units="1/K",
        bounds=(0, 0.3),
        prior=("truncnorm", 0.06, 0.02, 0, 0.3),
        doc="Crop-yield loss per K of warming (Zhao et al. 2017).",
    )
    param(
        "drying_weight",
        DRYING_WEIGHT,
        regional=True,
        units="1",
        bounds=(0, 1),
        doc="Share of the region where agricultural droughts increase (AR6 WGI ch. 11).",
    )
    param(
        "livelihood_exposure",
        LIVELIHOOD_EXPOSURE,
        regional=True,
        units="1",
        bounds=(0, 1),
        doc="Share of employment in agriculture, 2022 (ILO modelled estimates).",
    )
    param(
        "coastal_exposure",
        COASTAL_EXPOSURE,
        regional=True,
        units="1",
        bounds=(0, 1),
        doc="Share of population in the low-elevation coastal zone (McGranahan et al. 2007).",
    )
    param(
        "sea_level_reference",
        1.0,
        units="m",
        bounds=(0.1, 10),
        doc="Sea-level rise at which coastal zones lose their habitability entirely.",
    )
    model.aux(
        n("{drought_hazard}"),
        n(
            "{drying_weight} * ({drought_frequency}({global_warming}) / "
            "{drought_frequency}({warming_2022}) - 1)"
        ),
        units="1",
        dims=dims,
        doc="Relative increase of drought frequency since 2022.",
    )
    model.aux(
        n("{crop_yield_loss}"),
        n("min({crop_yield_sensitivity} * max({global_warming} - {warming_2022}, 0), 0.9)"),
        units="1",
        doc="Crop-yield loss since 2022.",
    )
    model.aux(
        n("{flood_hazard}"),
        n(
            "{heavy_precipitation_frequency}({global_warming}) / "
            "{heavy_precipitation_frequency}({warming_2022})"
        ),
        units="1",
        doc="Frequency of heavy precipitation relative to 2022.",
    )
    model.aux(
        n("{habitability_loss}"),
        n(
            "{livelihood_exposure} * ({drought_hazard} + {crop_yield_loss}) + "
            "{coastal_exposure} * min({sea_level_rise} / {sea_level_reference}, 1)"
        ),
        units="1",
        dims=dims,
        doc="Loss of habitability since 2022, population-weighted.",
    )
    model.aux(
        n("{exposed_population}"),
        n("{population} * min({livelihood_exposure} + {coastal_exposure}, 1)"),
        units="person",
        dims=dims,
        doc="People living from agriculture or in the low-elevation coastal zone.",
    )


def adaptation_and_mobility(b: Builder, settings: dict[str, float]) -> None:
    """Adaptive capacity (the medium-term investment lever), the protection it gives, and
    access to cross-border mobility by income (trapped populations)."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
    param(
        "adaptation_investment_share",
        settings["adaptation_investment_share"],
        regional=True,
        units="1",
        bounds=(0, 0.05),
        doc="Lever (medium term): adaptation investment, share of income (UNEP 2023).",
    )
    param(
        "adaptation_investment_share_2022",
        0.001,
        regional=True,
        units="1",
        bounds=(0, 0.05),
        doc="Adaptation investment in 2022, share of income (UNEP 2023).",
    )
    param(
        "adaptation_asset_lifetime",
        30.0,
        units="year",
        bounds=(5, 100),
        prior=("uniform", 20, 40),
        doc="Average life of adaptation assets.",
    )
    param(
        "adaptation_half_protection",
        0.225,
        units="year",
        bounds=(0.01, 10),
        prior=("lognormal", math.log(0.225), 0.5),
        doc="Capacity (in years of income per head) that averts half of climate impacts.",
    )
    model.stock(
        n("{adaptive_capacity}"),
        initial=n("{adaptation_investment_share_2022} * {income} * {adaptation_asset_lifetime}"),
        units="USD/person",
        dims=dims,
        non_negative=True,
        doc="Adaptation assets per person (protection, irrigation, early warning).",
    )
    model.flow(
        n("{adaptation_investment}"),
        n(
            "if_then_else(time >= {climate_start_year}, {adaptation_investment_share}, "
            "{adaptation_investment_share_2022}) * {income}"
        ),
        into=n("{adaptive_capacity}"),
        units="USD/person/year",
        dims=dims,
        doc="Adaptation investment per person.",
    )
    model.flow(
        n("{adaptation_depreciation}"),
        n("{adaptive_capacity} / {adaptation_asset_lifetime}"),
        out_of=n("{adaptive_capacity}"),
        units="USD/person/year",
        dims=dims,
        doc="Depreciation of adaptation assets.",
    )
    model.aux(
        n("{protection}"),
        n("{adaptive_capacity} / ({adaptive_capacity} + {adaptation_half_protection} * {income})"),
        units="1",
        dims=dims,
        doc="Share of climate impacts averted by adaptation.",
    )
    model.aux(
        n("{mobility_access}"),
        n("1 / (1 + ({mobility_income_threshold} / {income}) ** {mobility_steepness})"),
        units="1",
        dims=dims,
        doc="Ability to move across a border, rising with income (trapped populations).",
    )
    param(
        "mobility_income_threshold",
        3000.0,
        units="USD/person/year",
        bounds=(100, 50000),
        prior=("lognormal", math.log(3000.0), 0.5),
        doc="Income per head at which half of would-be movers can afford to cross a border.",
    )
    param(
        "mobility_steepness",
        2.0,
        units="1",
        bounds=(0.1, 10),
        prior=("uniform", 1, 3),
        doc="Steepness of mobility access in log income.",
    )


def slow_onset_migration(b: Builder) -> None:
    """Slow-onset climate migration, internal and across borders (as Groundswell counts)."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
    param(
        "climate_migration_response",
        CLIMATE_MIGRATION_RESPONSE,
        regional=True,
        units="1/year",
        bounds=(0, 1),
        doc="Internal climate migrants per person a year per unit of unprotected habitability "
        "loss (calibrated to Groundswell 2021).",
    )
    param(
        "climate_migration_response_factor",
        1.0,
        units="1",
        bounds=(0, 10),
        prior=("lognormal", 0.0, 0.3),
        doc="Uncertainty of the climate-migration response, shared by regions.",
    )
    param(
        "slow_onset_cross_border_share",
        0.1,
        units="1",
        bounds=(0, 1),
        prior=("uniform", 0.02, 0.2),
        doc="Cross-border movers per internal climate migrant at full mobility access (below "
        "the 0.23 of all migrants who are international, UN DESA 2013: most climate migration "
        "is internal).",
    )
    model.stock(
        n("{climate_migrants_internal}"),
        initial=0.0,
        units="person",
        dims=dims,
        non_negative=True,
        doc="Internal climate migrants since 2022 (cumulative, as Groundswell counts).",
    )
    model.flow(
        n("{climate_migration_internal}"),
        n(
            "max({population} - {climate_migrants_internal}, 0) * "
            "{climate_migration_response} * "
            "{climate_migration_response_factor} * {habitability_loss} * (1 - {protection})"
        ),
        into=n("{climate_migrants_internal}"),
        units="person/year",
        dims=dims,
        doc="Slow-onset internal climate migration.",
    )
    model.stock(
        n("{climate_migrants_cross_border}"),
        initial=0.0,
        units="person",
        dims=dims,
        non_negative=True,
        doc="Slow-onset climate migrants abroad since 2022.",
    )
    model.flow(
        n("{climate_migration_cross_border}"),
        n("{climate_migration_internal} * {slow_onset_cross_border_share} * {mobility_access}"),
        into=n("{climate_migrants_cross_border}"),
        units="person/year",
        dims=dims,
        doc="Slow-onset climate migration across borders.",
    )


def disaster_displacement(b: Builder) -> None:
    """Disaster displacement (as IDMC counts), returns (the short-term relief lever), local
    integration and onward movement abroad."""
    model, n, param, dims = b.model, b.n, b.param, b.dims
    param(
        "disaster_displacement_rate_2022",
        DISASTER_DISPLACEMENT_RATE,
        regional=True,
        units="1/year",
        bounds=(0, 0.1),
        doc="Disaster displacements per person in 2022 (IDMC GRID 2023).",
    )
    param(
        "humanitarian_relief",
        0.55,
        units="1",
        bounds=(0, 1),
        doc="Lever (short term): share of humanitarian appeals funded (2022: ~0.55, OCHA).",
    )
    param(
        "humanitarian_relief_2022",
        0.55,
        units="1",
        bounds=(0, 1),
        doc="Share of humanitarian appeals funded in 2022 (OCHA FTS).",
    )
    param(
        "relief_effect",
        0.6,
        units="1",
        bounds=(0, 1.5),
        prior=("uniform", 0.2, 1.0),
        doc="Relative change of return (and opposite change of onward movement) per unit of "
        "relief funding above 2022.",
    )
    param(
        "return_rate_internal",
        3.2,
        units="1/year",
        bounds=(0, 12),
        prior=("truncnorm", 3.2, 0.8, 0.5, 12),
        doc="Returns home a year per internally displaced person (IDMC 2023 flows/stocks).",
    )
    param(
        "local_integration_rate",
        0.4,
        units="1/year",
        bounds=(0.01, 5),
        prior=("uniform", 0.1, 0.8),
        doc="Displaced people settling where they are, a year per displaced person.",
    )
    param(
        "cross_border_rate",
        0.1,
        units="1/year",
        bounds=(0, 2),
        prior=("uniform", 0.02, 0.3),
        doc="Onward movement abroad a year per displaced person at full mobility access.",
    )
    param(
        "return_rate_cross_border",
        0.5,
        units="1/year",
        bounds=(0, 5),
        prior=("uniform", 0.2, 1.0),
        doc="Returns a year per person displaced abroad.",
    )
    param(
        "integration_rate_abroad",
        0.1,
        units="1/year",
        bounds=(0, 5),
        prior=("uniform", 0.05, 0.3),
        doc="People displaced abroad settling there, a year per person.",
    )
    model.aux(
        n("{relief_factor}"),
        n("max(1 + {relief_effect} * ({humanitarian_relief} - {humanitarian_relief_2022}), 0)"),
        units="1",
        doc="Effect of relief on the speed of return.",
    )
    # Displacement lasts about three months (IDMC 2023: 8.7 million people displaced at the end
    # of 2022 against 32.6 million displacements in the year), much less than the model's time
    # steps. Held as a stock, its exits (about 3.7 a year per person) would empty it more than
    # once in a yearly Euler step: the non-negative stock would then keep a whole year of
    # displacements instead of three months' (3.6 times too many at dt = 1). The number of
    # people displaced is therefore the quasi-steady state of that fast stock: new
    # displacements times the mean duration of displacement, exits summing to entries.
    model.aux(
        n("{displacement_exit_rate}"),
        n(
            "{return_rate_internal} * {relief_factor} + {local_integration_rate} + "
            "{cross_border_rate} * {mobility_access} * max(2 - {relief_factor}, 0)"
        ),
        units="1/year",
        dims=dims,
        doc="Exits from displacement a year per displaced person (1 / mean duration).",
    )
    model.aux(
        n("{new_displacements}"),
        n(
            "{population} * {disaster_displacement_rate_2022} * {flood_hazard} * "
            "(1 - {protection}) / (1 - initial({protection}))"
        ),
        units="person/year",
        dims=dims,
        doc="New disaster displacements (IDMC's count of movements).",
    )
    model.aux(
        n("{displaced_internal}"),
        n("{new_displacements} / {displacement_exit_rate}"),
        units="person",
        dims=dims,
        doc="People currently displaced by disasters within their country (new displacements "
        "times the mean duration of displacement).",
    )
    model.stock(
        n("{displaced_cross_border}"),
        initial=n(
            "{displaced_internal} * {cross_border_rate} * {mobility_access} * "
            "max(2 - {relief_factor}, 0) / ({return_rate_cross_border} + "
            "{integration_rate_abroad})"
        ),
        units="person",
        dims=dims,
        non_negative=True,
        doc="People displaced by disasters currently abroad (from the steady state of 2022's "
        "rates).",
    )
    model.aux(
        n("{returns_internal}"),
        n("{displaced_internal} * {return_rate_internal} * {relief_factor}"),
        units="person/year",
        dims=dims,
        doc="Displaced people returning home.",
    )
    model.aux(
        n("{local_integration}"),
        n("{displaced_internal} * {local_integration_rate}"),
        units="person/year",
        dims=dims,
        doc="Displaced people settling where they are.",
    )
    model.flow(
        n("{onward_cross_border}"),
        n(
            "{displaced_internal} * {cross_border_rate} * {mobility_access} * "
            "max(2 - {relief_factor}, 0)"
        ),
        into=n("{displaced_cross_border}"),
        units="person/year",
        dims=dims,
        doc="Displaced people moving abroad.",
    )
    model.flow(
        n("{returns_cross_border}"),
        n("{displaced_cross_border} * {return_rate_cross_border}"),
        out_of=n("{displaced_cross_border}"),
        units="person/year",
        dims=dims,
        doc="People displaced abroad returning home.",
    )
    model.flow(
        n("{integration_abroad}"),
        n("{displaced_cross_border} * {integration_rate_abroad}"),
        out_of=n("{displaced_cross_border}"),
        units="person/year",
        dims=dims,
        doc="People displaced abroad settling there.",
    )
