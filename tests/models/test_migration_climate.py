"""Climate displacement feeding the migration system's cross-border flows (issue 14, point 4).

Reference figures: UN DESA (2013), Cross-national comparisons of internal migration (23 % of
migrants cross a border); UNHCR (2024), Global Trends 2023 (69 % of refugees in a neighbouring
country); sources of the climate module in ``models/climate.py``.
"""

import numpy as np
import pytest

import engine
from models import climate, migration_calibration, migration_drivers
from models.world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO, partition

SMALL = ("Mexico", CENTRAL_AMERICA_WITHOUT_MEXICO, "Northern America")
DISPLACED = ["displaced_internal", "displaced_cross_border"]
OUTPUTS = [
    *DISPLACED,
    "climate_migrants_internal",
    "climate_cross_border_moves",
    "climate_cross_border_rate",
    "emigration",
    "global_warming",
]


@pytest.fixture(scope="module")
def small():
    part = partition(SMALL)
    rates = migration_calibration.rates(part, list(range(1989, 2101)), regions=SMALL)
    model = migration_drivers.build(SMALL, stop=2100.0, rates=rates)
    return model, list(part.regions)


@pytest.fixture(scope="module")
def by_pathway(small):
    model, regions = small
    runner = engine.Runner(model, outputs=OUTPUTS)
    return {
        name: runner.run(climate.scenario_params(name, regions, standalone=False))
        for name in ("climate_friendly", "middle", "pessimistic")
    }


@pytest.mark.slow
def test_more_warming_more_cross_border_flow_from_every_origin(by_pathway) -> None:
    """Climate-friendly (1.8 K around 2090) < middle (2.7 K) < pessimistic (4.4 K): the climate
    movers each origin sends abroad, and its emigration, rise with warming; the addition is
    zero until the climate changes (2022), the calibration's years untouched."""
    runs = [by_pathway[name] for name in ("climate_friendly", "middle", "pessimistic")]
    warming = [float(ds["global_warming"].sel(time=2090.0)) for ds in runs]
    assert warming[0] < warming[1] < warming[2]
    for year in (2050.0, 2100.0):
        moves = [ds["climate_cross_border_moves"].sel(time=year).sum("destination") for ds in runs]
        assert np.all(moves[0].values > 0)
        assert np.all(moves[0].values < moves[1].values)
        assert np.all(moves[1].values < moves[2].values)
    later = {"time": slice(2023.0, 2100.0)}
    emigrants = [ds["emigration"].sel(later).sum(("time", "sex", "age")).values for ds in runs]
    assert np.all(emigrants[0] < emigrants[1]) and np.all(emigrants[1] < emigrants[2])
    for ds in runs:
        assert (
            float(np.abs(ds["climate_cross_border_rate"].sel(time=slice(None, 2022.0))).max()) == 0
        )


@pytest.mark.slow
def test_climate_moves_go_mostly_to_the_neighbourhood(small, by_pathway) -> None:
    """Mexico's climate movers abroad: 69 % to its neighbourhood (the other countries of its
    region, Central America without Mexico and Northern America), UNHCR 2024."""
    _, regions = small
    moves = by_pathway["pessimistic"]["climate_cross_border_moves"].sel(time=2060.0)
    mexico = moves.sel(origin="Mexico")
    near = float(
        mexico.sel(
            destination=["Mexico", CENTRAL_AMERICA_WITHOUT_MEXICO.name, "Northern America"]
        ).sum()
    )
    assert near / float(mexico.sum()) == pytest.approx(climate.NEIGHBOURHOOD_SHARE, rel=1e-9)
    assert set(regions) == set(moves["destination"].values)


@pytest.mark.slow
def test_climate_displacement_does_not_depend_on_the_time_step(small) -> None:
    """dt = 1 against dt = 0.25 (pessimistic pathway, 1990-2100): the people displaced within
    their country and abroad within 5 % every year; cumulative climate migrants within 5 % from
    2050 (Euler's first-order error on a flow that starts from zero in 2022)."""
    model, regions = small
    params = climate.scenario_params("pessimistic", regions, standalone=False)
    runs = [
        engine.simulate(
            model, dt=dt, params=params, outputs=[*DISPLACED, "climate_migrants_internal"]
        )
        for dt in (1.0, 0.25)
    ]
    years = runs[0]["time"].values
    for name in DISPLACED:
        coarse = runs[0][name].values
        fine = runs[1][name].sel(time=years).values
        assert np.all(np.abs(coarse / fine - 1) < 0.05), name
    late = years[years >= 2050.0]
    coarse = runs[0]["climate_migrants_internal"].sel(time=late).values
    fine = runs[1]["climate_migrants_internal"].sel(time=late).values
    assert np.all(np.abs(coarse / fine - 1) < 0.05)
