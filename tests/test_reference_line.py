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


def _registered(model):
    if model not in engine.registry.model_names():
        pytest.skip(f"{model} is not registered (models not installed)")


@pytest.fixture(scope="module")
def demography_run():
    _registered("demography")
    from models import demography

    model = demography.build(["Europe", "Japan"], stop=2030)
    return engine.simulate(model, outputs=["births", "deaths", "net_migration"])


@pytest.mark.parametrize("flow", ["births", "deaths", "net_migration"])
def test_a_flow_chart_of_a_wpp_location_has_wpp_as_reference(demography_run, flow):
    """The line is WPP's calendar-year figures of Y and Y+1 averaged at time Y (the model's
    flow at Y runs mid-Y to mid-Y+1), and the model, which starts from WPP's medium variant,
    is within 2% of it (net migration is its input path: equal)."""
    from models import wpp

    reference = engine.registry.reference_data("demography", ["Europe", "Japan"])
    fig = fan_chart(demography_run, flow, select={"region": "Europe"}, reference=reference)
    (line,) = _dashed(fig)
    t, y = (np.asarray(v, dtype=float) for v in line.get_data())
    assert t[0] == 2022.0 and t[-1] == 2030.0
    calendar = wpp.annual("Europe", flow, 2022, 2031) * 1000.0
    (model_line,) = [x for x in _dashed_free(line.axes) if x.get_color() == "#1f4e79"]
    drawn = np.asarray(model_line.get_data()[1], dtype=float)
    model = demography_run[flow].sum(("sex", "age")).sel(region="Europe").values
    scale = model[0] / drawn[0]
    np.testing.assert_allclose(y * scale, 0.5 * (calendar[:-1] + calendar[1:]), rtol=1e-12)
    np.testing.assert_allclose(y * scale, model, rtol=0.02)
    (total,) = _dashed(fan_chart(demography_run, flow, reference=reference))
    both = sum(wpp.annual(r, flow, 2022, 2031) for r in ("Europe", "Japan")) * 1000.0
    total_y = np.asarray(total.get_data()[1], dtype=float)
    np.testing.assert_allclose(total_y * scale, 0.5 * (both[:-1] + both[1:]), rtol=1e-12)
    assert reference[flow].attrs["units"] == demography_run[flow].attrs["units"] == "person/year"


def test_a_region_that_is_not_a_wpp_location_has_no_line_and_no_error():
    _registered("demography")
    regions = ["Europe", "Rest of the world"]
    times = np.arange(2022.0, 2101.0)
    births = xr.DataArray(
        np.full((times.size, 2), 5e6),
        dims=("time", "region"),
        coords={"time": times, "region": regions},
        attrs={"units": "person/year"},
    )
    result = xr.Dataset({"births": births}, attrs={"model": "demography"})
    reference = engine.registry.reference_data("demography", regions)
    assert list(reference["region"].values) == ["Europe"]
    rest = {"region": "Rest of the world"}
    assert not _dashed(fan_chart(result, "births", select=rest, reference=reference))
    assert not _dashed(fan_chart(result, "births", reference=reference))  # not the same sum
    (line,) = _dashed(fan_chart(result, "births", select={"region": "Europe"}, reference=reference))
    t, y = (np.asarray(v, dtype=float) for v in line.get_data())
    # WPP has no 2101: the flow's last reference is 2099, not a drop to zero at 2100
    assert t[-1] == 2099.0 and np.all(np.asarray(y) > 0)


def _compared_line(fig):
    """The dashed line of a comparison chart, in the units of the data (the first
    scenario's median line gives the chart's scale)."""
    (line,) = _dashed(fig)
    return np.asarray(line.get_data()[0], dtype=float), np.asarray(line.get_data()[1], dtype=float)


def test_comparison_charts_draw_the_reference(tmp_path):
    from engine.comparison import comparison_chart, write_comparison

    runs = {s: engine.simulate(tiny.build(s)) for s in ("low", "high")}
    reference = _reference(tiny.REGIONS)
    fig = comparison_chart(runs, "population", region="South", reference=reference)
    t, y = _compared_line(fig)
    first = [x for x in fig.axes[0].get_lines() if x.get_linestyle() != "--"][0]
    stored = runs["low"]["population"].sum([d for d in ("sex", "age") if d in runs["low"].dims])
    scale = float(stored.sel(region="South").isel(time=0)) / float(first.get_data()[1][0])
    assert t[0] == float(runs["low"].time[0]) and t[-1] == float(runs["low"].time[-1])
    np.testing.assert_allclose(y * scale, 2 * t)  # South is region 2
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert TITLE in labels
    _, total = _compared_line(comparison_chart(runs, "population", reference=reference))
    np.testing.assert_allclose(total * scale, 3 * t)
    # not the same thing: a variable it lacks, a region it lacks, a total over other regions
    partial = _reference(["North"])
    assert not _dashed(comparison_chart(runs, "net_migration", region="South", reference=partial))
    assert not _dashed(comparison_chart(runs, "population", region="South", reference=partial))
    assert not _dashed(comparison_chart(runs, "population", reference=partial))
    assert not _dashed(comparison_chart(runs, "population", region="South"))
    page = write_comparison(runs, tmp_path / "c.html", reference=reference)
    assert page.exists()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_comparison_of_demography_results_draws_wpp(demography_run):
    from engine.comparison import comparison_chart

    reference = engine.registry.reference_data("demography", ["Europe", "Japan"])
    runs = {"one": demography_run, "two": demography_run}
    for flow in ("population", "births", "net_migration"):
        if flow not in demography_run:
            continue
        fig = comparison_chart(runs, flow, region="Japan", reference=reference)
        assert len(_dashed(fig)) == 1, flow
        assert reference.attrs["title"] in [x.get_text() for x in fig.axes[0].get_legend().texts]


def test_corridor_compare_draws_the_models_reference(tmp_path, monkeypatch, capsys):
    from engine import registry

    monkeypatch.setitem(registry._BUILTIN, "tiny", tiny.build)
    monkeypatch.setattr(tiny, "reference", _reference, raising=False)
    argv = ["compare", "low", "high", "--model", "tiny", "--format", "svg", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "with")]) == 0
    assert TITLE in (tmp_path / "with" / "compare_population_South.svg").read_text()
    assert TITLE in (tmp_path / "with" / "compare_population_all_regions.svg").read_text()
    assert main([*argv, "--out", str(tmp_path / "bare"), "--no-reference"]) == 0
    assert TITLE not in (tmp_path / "bare" / "compare_population_South.svg").read_text()
    monkeypatch.delattr(tiny, "reference")  # a model without one: no line, no error
    assert main([*argv, "--out", str(tmp_path / "none")]) == 0
    assert TITLE not in (tmp_path / "none" / "compare_population_South.svg").read_text()
