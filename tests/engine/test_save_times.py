"""Save times a forecaster expects: round years always saved, others on request, and a time
that was not saved is an error naming the nearest saved ones (never silently the nearest)."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.plot import population_pyramid
from engine.store import HORIZONS, select_horizons
from tests import tiny


@pytest.mark.parametrize("start", [2020.0, 2022.0, 2023.0])
def test_round_years_are_saved_from_any_start(start):
    times = np.round(start + 0.25 * np.arange(int((2100 - start) / 0.25) + 1), 9)
    chosen = select_horizons(times, start, 2100.0, HORIZONS)
    saved = {float(times[i]) for index in chosen.values() for i in index}
    # every year up to the end of the medium horizon, every multiple of 5 after, the stop time
    medium_end = start + 20
    years = [y for y in range(int(start), 2101) if y < medium_end or y % 5 == 0]
    assert set(map(float, years)) <= saved
    assert 2100.0 in saved
    long = times[chosen["long"]]
    assert all(t % 5 == 0 for t in long), long  # no 2042, 2047, ... in the long horizon


def test_save_times_add_times_to_the_horizon_that_holds_them():
    tree = engine.run_ensemble(
        tiny.build("low", stop=2060),
        n=4,
        seed=0,
        progress=False,
        outputs=["population"],
        save_times=[2043, 2057],
    )
    long = tree["long"]["time"].values.tolist()
    assert long == [2040.0, 2043.0, 2045.0, 2050.0, 2055.0, 2057.0, 2060.0]
    summary = tree["summary/long"]["time"].values.tolist()
    assert summary == long
    with pytest.raises(engine.SelectionError, match="nearest steps are 2043 and 2044"):
        engine.run_ensemble(
            tiny.build("low", stop=2060), n=4, seed=0, progress=False, save_times=[2043.5]
        )


def test_a_pyramid_of_a_year_not_saved_is_an_error_naming_the_nearest():
    tree = engine.run_ensemble(
        tiny.build("low", stop=2060), n=4, seed=0, progress=False, outputs=["population"]
    )
    fig = population_pyramid(tree, [2050])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "2050"
    with pytest.raises(engine.SelectionError, match="nearest saved times are 2050 and 2055"):
        population_pyramid(tree, [2052])
