"""Horizon groups as plot and report read them: the names a tree declares, whatever they are
(issue 13: a tree with other horizon names was summarised by analyze but refused by plot and
report)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import engine
from engine.plot import fan_chart, horizon_groups
from engine.report import export_table, summary_frame, write_report

CUSTOM = {"near": (0, 3, 0.5), "decade": (3, 10, 1), "beyond": (10, None, 5)}


def _model() -> engine.Model:
    m = engine.Model("growth", time_unit="year")
    m.param("rate", 0.02, bounds=(0, 1), prior=("uniform", 0.01, 0.03))
    m.stock("people", initial=100, units="person")
    m.flow("births", "rate * people", into="people", units="person/year")
    return m


def test_custom_horizons_of_one_run(tmp_path):
    ds = engine.simulate(_model(), start=2022, stop=2052, dt=0.5)
    tree = engine.horizons(ds, CUSTOM)
    groups = horizon_groups(tree)
    assert [name for name, _ in groups] == ["near", "decade", "beyond"]
    # round times: the multiples of 5 inside the horizon (from 2032), then the stop time
    np.testing.assert_allclose(groups[2][1]["time"].values, [2035, 2040, 2045, 2050, 2052])
    fig = fan_chart(tree, "people")
    labels = [t.get_text().strip() for t in fig.axes[0].texts]
    assert labels == ["near", "decade", "beyond"]
    frame = summary_frame(tree, ["people"])
    assert list(frame["horizon"]) == ["near", "decade", "beyond"]
    sheets = pd.read_excel(
        export_table(tree, tmp_path / "out.xlsx", variables=["people"]),
        sheet_name=None,
        engine="openpyxl",
    )
    assert list(sheets) == ["near", "decade", "beyond", "about"]


def test_custom_horizons_of_a_stored_ensemble(tmp_path):
    store = tmp_path / "custom.zarr"
    engine.run_ensemble(
        _model(),
        n=8,
        seed=1,
        design="random",
        start=2022,
        stop=2052,
        dt=0.5,
        outputs=["people"],
        store=store,
        horizons=CUSTOM,
        progress=False,
    )
    tree = engine.open_store(store)
    assert [name for name, _ in horizon_groups(tree)] == ["near", "decade", "beyond"]
    fig = fan_chart(tree, "people")
    assert [t.get_text().strip() for t in fig.axes[0].texts] == ["near", "decade", "beyond"]
    path = write_report(tree, tmp_path / "report.html", variables=["people"])
    text = path.read_text()
    for name in CUSTOM:
        assert f"<td>{name}</td>" in text
    assert "3 horizon group(s): near (2022" in text


def test_declared_order_is_time_order_and_other_groups_are_left_out():
    times = {"late": [2030.0, 2040.0], "early": [2022.0, 2025.0]}
    groups = {
        name: xr.Dataset({"x": ("time", np.ones(2))}, coords={"time": t})
        for name, t in times.items()
    }
    tree = xr.DataTree.from_dict(
        {**groups, "extra": xr.Dataset({"y": ("time", [1.0])}, coords={"time": [0.0]})}
    )
    tree.attrs["horizons"] = '{"late": [8, null, 10], "early": [0, 8, 3]}'
    assert [name for name, _ in horizon_groups(tree)] == ["early", "late"]
    del tree.attrs["horizons"]  # without the attribute: every timed group, in time order
    assert [name for name, _ in horizon_groups(tree)] == ["extra", "early", "late"]


def test_fan_chart_axes_in_readable_units_with_scenario_and_selection(tmp_path):
    from tests import tiny

    tree = engine.run_ensemble(
        tiny.build("high"), n=8, seed=1, progress=False, outputs=["population"]
    )
    fig = fan_chart(tree, "population", select={"region": "South"})
    ax = fig.axes[0]
    assert ax.get_ylabel() == "population (millions of person)"
    assert "region=South" in ax.get_title() and "scenario high" in ax.get_title()
    top = ax.get_ylim()[1]
    south = float(tree["long"]["population"].sel(region="South").sum(["sex", "age"]).max())
    assert south / 1e6 <= top < south / 1e6 * 2  # the axis is in millions
    with pytest.raises(engine.SelectionError, match="not a count"):
        rate = engine.run_ensemble(
            tiny.build("high"), n=4, seed=1, progress=False, outputs=["emigrants_per_resident"]
        )
        fan_chart(rate, "emigrants_per_resident")
