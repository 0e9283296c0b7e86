"""engine.backtest: rolling-origin forecasts against observations, and their scores."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import xarray as xr

import engine
from engine.backtest import compare_scores, score_backtest, summarize_scores

TRUE_RATE = 0.02


def _truth(years: np.ndarray) -> np.ndarray:
    return np.exp(TRUE_RATE * (years - 2000.0))


def _factory(rate: float, prior: bool = False):
    """Exponential growth from the true value at the jump-off, at ``rate``."""

    def build(jump_off: int) -> engine.Model:
        m = engine.Model("growth", time_unit="year", start=jump_off, stop=jump_off + 30, dt=1)
        m.dimension("region", ["a", "b"])
        m.param(
            "rate",
            [rate, 2 * rate],
            dims=("region",),
            prior=("normal", rate, 0.005) if prior else None,
        )
        m.param("x_start", float(_truth(np.array(float(jump_off)))))
        m.stock("x", initial="x_start", dims=("region",))
        m.flow("gain", "rate[region] * x[region]", into="x", dims=("region",))
        return m

    return build


def _observed(last: int = 2012) -> xr.Dataset:
    years = np.arange(1990.0, last + 1.0)
    data = np.stack([_truth(years), _truth(years)], axis=1)
    return xr.Dataset(
        {"x": (("time", "region"), data)}, coords={"time": years, "region": ["a", "b"]}
    )


def test_deterministic_backtest_matches_the_closed_form():
    """Euler steps of x' = r x from the true value: x_h = (1 + r)^h e^{0.02 (J - 2000)}."""
    rate = 0.01
    ds = engine.backtest(_factory(rate), _observed(), jump_offs=[2000, 2005], horizons=[1, 5, 10])
    assert ds["x_forecast"].dims == ("jump_off", "horizon", "region", "member")
    assert ds.attrs["members"] == 1
    h = np.array([1, 5, 10.0])
    for j in (2000, 2005):
        for r, region in ((rate, "a"), (2 * rate, "b")):
            got = ds["x_forecast"].sel(jump_off=j, region=region).values[:, 0]
            want = (1 + r) ** h * _truth(np.array(float(j)))
            np.testing.assert_allclose(got, want, rtol=1e-12)
    obs = ds["x_observed"].sel(jump_off=2000, region="a").values
    np.testing.assert_allclose(obs, _truth(2000 + h))
    # 2005 + 10 is past the data's last year: NaN, not an error
    assert np.isnan(ds["x_observed"].sel(jump_off=2005, horizon=10, region="a"))

    scores = score_backtest(ds)
    ape = scores["x_ape"].sel(jump_off=2000, region="a").values
    np.testing.assert_allclose(ape, np.abs((1 + rate) ** h / np.exp(TRUE_RATE * h) - 1))
    assert np.isnan(scores["x_ape"].sel(jump_off=2005, horizon=10)).all()
    # one run: no band, and the CRPS of a point forecast is its absolute error
    assert scores["x_coverage_80"].isnull().all()
    err = np.abs(ds["x_forecast"].isel(member=0) - ds["x_observed"])
    np.testing.assert_allclose(scores["x_crps"].values, err.values, rtol=1e-12)

    summary = summarize_scores(scores)
    assert list(summary["x_cases"].values) == [4, 4, 2]


def test_a_baseline_closer_to_the_truth_wins_the_comparison():
    """A rate nearer the true 2 % (region a: 1.5 % against 1 %) has the lower error in every
    case of region a, and (region b: 3 % against 2 %) not in b's."""
    kwargs = dict(jump_offs=[1995, 2000], horizons=range(1, 11))
    far = score_backtest(engine.backtest(_factory(0.01), _observed(), **kwargs))
    near = score_backtest(engine.backtest(_factory(0.015), _observed(), **kwargs))
    share = compare_scores(near, far)["x_better_than_baseline"]
    # region a: 1.5 % beats 1 %; region b: 3 % loses to 2 % -> half of the cases
    np.testing.assert_allclose(share.values, 0.5)
    np.testing.assert_allclose(compare_scores(far, near)["x_better_than_baseline"], 0.5)
    a_only = compare_scores(near.sel(region=["a"]), far.sel(region=["a"]))
    np.testing.assert_allclose(a_only["x_better_than_baseline"].values, 1.0)


def test_ensemble_backtest_runs_the_priors():
    ds = engine.backtest(
        _factory(0.02, prior=True),
        _observed(),
        jump_offs=[2000],
        horizons=[1, 10],
        ensemble={"n": 64, "seed": 3},
    )
    assert ds.attrs["members"] == 64
    forecast = ds["x_forecast"].sel(jump_off=2000, horizon=10, region="a")
    assert float(forecast.std()) > 0
    q = ds["x_quantile"].sel(jump_off=2000, horizon=10, region="a")
    np.testing.assert_allclose(q.sel(quantile=0.5), np.median(forecast.values))
    scores = score_backtest(ds)
    assert set(np.unique(scores["x_coverage_95"].values)) <= {0.0, 1.0}


def test_ensemble_needs_n_and_seed():
    with pytest.raises(engine.ParameterError, match="seed"):
        engine.backtest(_factory(0.01), _observed(), jump_offs=[2000], ensemble={"n": 4})


def test_an_observed_variable_the_model_lacks_is_named():
    obs = _observed().rename(x="xx")
    with pytest.raises(engine.SpecError, match="'xx'.*Did you mean 'x'"):
        engine.backtest(_factory(0.01), obs, jump_offs=[2000])


# ------------------------------------------------------------------------ scores, by hand
def _synthetic(members: np.ndarray, observed: np.ndarray) -> xr.Dataset:
    """A backtest result with one jump-off, cases along horizon, members along the last axis."""
    n = observed.size
    return xr.Dataset(
        {
            "y_forecast": (("jump_off", "horizon", "member"), members.reshape(1, n, -1)),
            "y_observed": (("jump_off", "horizon"), observed.reshape(1, n)),
        },
        coords={"jump_off": [2000], "horizon": np.arange(1, n + 1)},
    )


def test_crps_of_a_small_ensemble_by_hand():
    """Members 1, 2, 3: CRPS(y) = E|X - y| - E|X - X'| / 2 = 2/3 - 4/9 at y = 2, and
    2 - 4/9 at y = 4."""
    members = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    scores = score_backtest(_synthetic(members, np.array([2.0, 4.0])))
    np.testing.assert_allclose(scores["y_crps"].values[0], [2 / 3 - 4 / 9, 2 - 4 / 9])
    np.testing.assert_allclose(scores["y_ape"].values[0], [0.0, 0.5])


def test_crps_of_a_large_normal_ensemble_is_the_closed_form():
    """Gneiting & Raftery (2007) eq. 21 for N(mu, sigma): sigma (z (2 Phi(z) - 1) + 2 phi(z)
    - 1 / sqrt(pi)), z = (y - mu) / sigma."""
    rng = np.random.default_rng(7)
    mu, sigma = 3.0, 2.0
    y = np.array([3.0, 4.5, -1.0])
    members = mu + sigma * scipy.stats.norm.ppf((np.arange(4000) + 0.5) / 4000)
    scores = score_backtest(_synthetic(np.tile(rng.permutation(members), (3, 1)), y))
    z = (y - mu) / sigma
    closed = sigma * (
        z * (2 * scipy.stats.norm.cdf(z) - 1) + 2 * scipy.stats.norm.pdf(z) - 1 / np.sqrt(np.pi)
    )
    np.testing.assert_allclose(scores["y_crps"].values[0], closed, rtol=2e-3)


def test_coverage_of_a_calibrated_ensemble():
    """Outcomes drawn from the members' own distribution fall in the 80 % band about 80 % of
    the time (binomial: 2,000 cases, 4 standard errors), and in a too-narrow band less."""
    rng = np.random.default_rng(11)
    cases, n = 2000, 200
    members = rng.normal(size=(cases, n))
    outcome = rng.normal(size=cases)
    scores = score_backtest(_synthetic(members, outcome))
    for level in (0.8, 0.95):
        share = float(scores[f"y_coverage_{round(level * 100)}"].mean())
        assert abs(share - level) < 4 * np.sqrt(level * (1 - level) / cases) + 0.01, share
    narrow = score_backtest(_synthetic(0.5 * members, outcome))
    assert float(narrow["y_coverage_80"].mean()) < 0.6
    # a missing outcome is no case
    outcome[:10] = np.nan
    partial = score_backtest(_synthetic(members, outcome))
    assert int(partial["y_coverage_80"].notnull().sum()) == cases - 10


def test_summary_dataset_file_and_report_page(tmp_path):
    """A backtest and a naive baseline put together: the summary by horizon is the scores'
    (the closer model beats the farther baseline in every case), the Dataset goes to netCDF
    and zarr and back unchanged, and the report page charts and tables each variable."""
    kwargs = {"jump_offs": [2000, 2005], "horizons": [1, 5, 10]}
    ours = engine.backtest(
        _factory(0.0195, prior=True), _observed(), ensemble={"n": 40, "seed": 3}, **kwargs
    )
    naive = engine.backtest(_factory(0.0), _observed(), **kwargs)
    summary = engine.summarize_backtest(ours, naive)
    scores = score_backtest(ours)
    np.testing.assert_allclose(
        summary["x_mean_ape"], scores["x_ape"].mean(["jump_off", "region"]), rtol=1e-12
    )
    assert (summary["x_better_than_naive"].sel(horizon=[5, 10]) == 1.0).all()
    assert (summary["x_naive_mean_ape"] > summary["x_mean_ape"]).all()
    assert ((summary["x_coverage_80"] >= 0) & (summary["x_coverage_80"] <= 1)).all()
    ds = engine.backtest_dataset(ours, naive, model="growth", seed=3)
    assert ds["naive_x_forecast"].dims == ("jump_off", "horizon", "region")
    assert ds.attrs["model"] == "growth" and "summary_x_better_than_naive" in ds
    for name in ("b.nc", "b.zarr"):
        path = engine.write_backtest(ds, tmp_path / name)
        zarr = {"engine": "zarr", "consolidated": False} if name.endswith("zarr") else {}
        with xr.open_dataset(path, **zarr) as back:
            xr.testing.assert_allclose(back["summary_x_mean_ape"], ds["summary_x_mean_ape"])
        with pytest.raises(engine.EngineError, match="exists"):
            engine.write_backtest(ds, path)
        assert engine.write_backtest(ds, path, overwrite=True) == path
    # zarr's mode "w" would empty a folder: one that is not a zarr store is refused, kept
    folder = tmp_path / "mine.zarr"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(engine.EngineError, match="not a zarr store"):
        engine.write_backtest(ds, folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "keep me"
    with pytest.raises(engine.EngineError, match="unknown format"):
        engine.write_backtest(ds, tmp_path / "b.csv")
    from engine.report import write_backtest_report

    page = write_backtest_report(ds, tmp_path / "b.html").read_text()
    assert page.count("<img") == 1 and "better_than_naive" in page and "growth" in page
    with pytest.raises(engine.EngineError, match="backtest_dataset"):
        write_backtest_report(ours, tmp_path / "c.html")
