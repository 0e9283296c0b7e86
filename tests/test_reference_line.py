"""A reference line on fan charts (issue 15, point 7): ``fan_chart(reference=)`` draws a
Dataset's variable with the chart's selection and sum; the command line finds it through the
model's registered module (``reference(regions)``); demography and corridor draw WPP 2022."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import engine
from engine.cli import main
from engine.plot import fan_chart
from tests import tiny

TITLE = "made-up reference"


def _reference(regions, scale=1.0):
    """A reference of made-up numbers: region k's value at time t is (k + 1) * t."""
    times = np.arange(2000.0, 2101.0)
    data = np.outer(times, np.arange(1, len(regions) + 1)) * scale
    population = xr.DataArray(
        data, dims=("time", "region"), coords={"time": times, "region": list(regions)}
    )
    return xr.Dataset({"population": population}, attrs={"title": TITLE})


@pytest.fixture(scope="module")
def tree():
    return engine.run_ensemble(tiny.build(), n=8, seed=1, progress=False, outputs=["population"])


def _dashed(fig):
    return [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]


def test_the_reference_is_drawn_with_the_charts_selection_and_sum(tree):
    reference = _reference(tiny.REGIONS)
    (line,) = _dashed(
        fan_chart(tree, "population", select={"region": "South"}, reference=reference)
    )
    t, y = line.get_data()
    # the chart's scale (millions, say) divides both; the median line gives it
    (median,) = [x for x in _dashed_free(line.axes) if x.get_color() == "#1f4e79"]
    scale = _scale(tree, median, select={"region": "South"})
    assert t[0] == 2020.0 and t[-1] == 2045.0  # the chart's time span only
    assert np.allclose(np.asarray(y) * scale, 2 * np.asarray(t))  # South is region 2
    (total,) = _dashed(fan_chart(tree, "population", reference=reference))
    assert np.allclose(np.asarray(total.get_data()[1]) * scale, 3 * np.asarray(t))
    labels = [text.get_text() for text in line.axes.get_legend().get_texts()]
    assert TITLE in labels


def _dashed_free(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() != "--"]


def _scale(tree, median, select):
    """The factor the chart divided values by: the stored median over the drawn one."""
    from engine.plot import horizon_groups

    _, ds = horizon_groups(tree)[0]
    da = ds["population"].sel(select).sum([d for d in ("sex", "age") if d in ds["population"].dims])
    stored = float(da.isel(time=0).median("member"))
    return stored / float(median.get_data()[1][0])


def test_no_reference_where_it_would_not_be_the_same_thing(tree):
    # another selection dim (sex: the reference is of both sexes), a region it lacks, a sum
    # over other regions than the chart's, a variable it does not hold
    partial = _reference(["North"])
    assert not _dashed(fan_chart(tree, "population", select={"sex": "male"}, reference=partial))
    assert not _dashed(fan_chart(tree, "population", select={"region": "South"}, reference=partial))
    assert not _dashed(fan_chart(tree, "population", reference=partial))
    assert not _dashed(fan_chart(tree, "population", reference=partial.rename(population="x")))
    assert _dashed(fan_chart(tree, "population", select={"region": "North"}, reference=partial))


def test_the_cli_draws_the_models_reference(tmp_path, monkeypatch, capsys):
    from engine import registry

    monkeypatch.setitem(registry._BUILTIN, "tiny", tiny.build)
    monkeypatch.setattr(tiny, "reference", _reference, raising=False)
    store = str(tmp_path / "t.zarr")
    assert (
        main(["sweep", "tiny", "-n", "8", "--store", store, "--quiet", "--output", "population"])
        == 0
    )
    page = tmp_path / "r.html"
    assert main(["report", store, "--out", str(page), "--quiet"]) == 0
    assert f"Dashed line: {TITLE} (population)" in page.read_text()
    bare = tmp_path / "bare.html"
    assert main(["report", store, "--out", str(bare), "--quiet", "--no-reference"]) == 0
    assert "Dashed line" not in bare.read_text()
    figs = tmp_path / "figs"
    argv = ["plot", store, "-v", "population", "--select", "region=North", "--format", "svg"]
    assert main([*argv, "--out", str(figs), "--quiet"]) == 0
    assert TITLE in (figs / "fan_population_region-North.svg").read_text()
    monkeypatch.delattr(tiny, "reference")  # a model without one: no line, no error
    assert main([*argv, "--out", str(tmp_path / "none"), "--quiet"]) == 0
    assert TITLE not in (tmp_path / "none" / "fan_population_region-North.svg").read_text()


@pytest.mark.parametrize("model", ["demography", "corridor"])
def test_demography_and_corridor_have_wpp_as_reference(model):
    from models import wpp

    if model not in engine.registry.model_names():
        pytest.skip(f"{model} is not registered (models not installed)")
    regions = ["Europe", "Western Africa", "Not a WPP location"]
    ds = engine.registry.reference_data(model, regions)
    assert list(ds["region"].values) == regions[:2]  # the made-up region left out
    for region in regions[:2]:
        for year in (1990, 2050, 2100):
            expected = wpp.population_groups(region, year).sum()
            assert float(ds["population"].sel(region=region, time=year)) == expected
    assert "WPP 2022" in ds.attrs["title"] and ds["population"].attrs["units"] == "person"
    assert engine.registry.reference_data(model, ["Atlantis"]) is None
    assert engine.registry.reference_data("example", ["Europe"]) is None  # it has none
