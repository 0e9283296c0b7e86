"""engine.calibrate: recovers known parameters, reports uncertainty, checks its inputs."""

import numpy as np
import pytest
import xarray as xr

import engine


@pytest.fixture(scope="module")
def decay():
    m = engine.Model("decay_fit", time_unit="year", start=0, stop=4, dt=0.01)
    m.param("k", 0.2, bounds=(0, 5))
    m.param("x0", 1.0, bounds=(0, 10))
    m.stock("x", initial="x0")
    m.flow("loss", "k * x", out_of="x")
    return m


def test_recovers_exact_parameters(decay):
    t = np.arange(0, 4.5, 0.5)
    truth = engine.simulate(decay, params={"k": 0.5, "x0": 2.0}, saveper=0.5)
    obs = xr.Dataset({"x": ("time", truth["x"].sel(time=t).values)}, coords={"time": t})
    fit = engine.calibrate(decay, obs, ["k", "x0"])
    assert fit.success
    np.testing.assert_allclose(fit.values["k"], 0.5, rtol=1e-6)
    np.testing.assert_allclose(fit.values["x0"], 2.0, rtol=1e-6)
    assert fit.rmse < 1e-6
    ds = fit.to_dataset()
    assert {"k", "k_std_error", "x0", "x0_std_error"} <= set(ds.data_vars)


def test_standard_errors_cover_truth_with_noise(decay):
    rng = np.random.default_rng(42)
    t = np.arange(0, 4.01, 0.25)
    truth = engine.simulate(decay, params={"k": 0.5, "x0": 2.0}, saveper=0.25)
    noisy = truth["x"].sel(time=t).values * (1 + 0.01 * rng.standard_normal(t.size))
    fit = engine.calibrate(
        decay, xr.Dataset({"x": ("time", noisy)}, coords={"time": t}), ["k", "x0"]
    )
    se = float(fit.standard_errors["k"])
    assert 0 < se < 0.05
    assert abs(float(fit.values["k"]) - 0.5) < 4 * se
    assert fit.covariance.shape == (2, 2)


def test_subscripted_parameters_and_sigma():
    m = engine.Model("growth_fit", time_unit="year", start=0, stop=3, dt=1)
    m.dimension("region", ["a", "b"])
    m.param("rate", [0.0, 0.0], dims="region", bounds=(-1, 1))
    m.stock("n", initial=100, dims="region")
    m.flow("growth", "rate * n", into="n", dims="region")
    t = np.arange(4.0)
    data = np.stack([100 * 1.1**t, 100 * 0.9**t], axis=1)
    obs = xr.Dataset({"n": (("time", "region"), data)}, coords={"time": t, "region": ["a", "b"]})
    fit = engine.calibrate(m, obs, ["rate"], sigma={"n": 1.0})
    np.testing.assert_allclose(fit.values["rate"], [0.1, -0.1], rtol=1e-6)
    assert fit.labels == ["rate[a]", "rate[b]"]
    assert fit.params["rate"].shape == (2,)


def test_input_errors(decay):
    obs = xr.Dataset({"x": ("time", [1.0, 0.5])}, coords={"time": [0.0, 1.0]})
    with pytest.raises(engine.ParameterError, match="not a parameter"):
        engine.calibrate(decay, obs, ["nope"])
    with pytest.raises(engine.SpecError, match="not an output"):
        engine.calibrate(decay, xr.Dataset({"y": ("time", [1.0])}, coords={"time": [0.0]}), ["k"])
    with pytest.raises(engine.SpecError, match="not save times"):
        engine.calibrate(decay, xr.Dataset({"x": ("time", [1.0])}, coords={"time": [0.123]}), ["k"])
