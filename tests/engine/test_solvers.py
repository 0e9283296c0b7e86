"""Solvers against analytic solutions, and their order of convergence."""

from __future__ import annotations

import numpy as np
import pytest

import engine


def decay_model():
    m = engine.Model("decay", time_unit="year")
    m.param("k", 0.3)
    m.stock("x", initial=2.0)
    m.flow("loss", "k * x", out_of="x")
    return m


def logistic_model():
    m = engine.Model("logistic", time_unit="year")
    m.param("r", 0.8)
    m.param("capacity", 100.0)
    m.stock("n", initial=5.0)
    m.flow("growth", "r * n * (1 - n / capacity)", into="n")
    return m


def decay_exact(t):
    return 2.0 * np.exp(-0.3 * t)


def logistic_exact(t):
    return 100.0 / (1 + (100.0 / 5.0 - 1) * np.exp(-0.8 * t))


def teacup_exact(t):
    return 70 + 110 * np.exp(-t / 10)


CASES = {
    "decay": (decay_model, "x", decay_exact, 10.0),
    "logistic": (logistic_model, "n", logistic_exact, 10.0),
    "teacup": (None, "teacup_temperature", teacup_exact, 30.0),
}
# Error bounds at dt = 1/16 of the time unit (rk45: at its default rtol 1e-6).
TOLERANCE = {"euler": 0.05, "rk4": 1e-6, "rk45": 1e-5}


@pytest.fixture(scope="module")
def models(teacup):
    return {"decay": decay_model(), "logistic": logistic_model(), "teacup": teacup}


@pytest.mark.parametrize("method", ["euler", "rk4", "rk45"])
@pytest.mark.parametrize("case", list(CASES))
def test_analytic_solution(models, case, method):
    _, var, exact, stop = CASES[case]
    ds = engine.simulate(models[case], start=0, stop=stop, dt=1 / 16, saveper=0.5, method=method)
    t = ds["time"].values
    assert t[0] == 0 and t[-1] == stop and len(t) == int(stop / 0.5) + 1
    values = ds[var].values
    rel = np.max(np.abs(values - exact(t)) / np.abs(exact(t)))
    assert rel < TOLERANCE[method], rel
    # a worse method has a measurably larger error than a better one
    if method == "euler":
        assert rel > 1e-4


def test_euler_is_vensim_euler(models):
    """y(t+dt) = y(t) + dt * f(t, y(t)), flows reported at the start of each interval."""
    ds = engine.simulate(models["decay"], start=0, stop=3, dt=0.5)
    x = 2.0 * (1 - 0.3 * 0.5) ** np.arange(7)
    np.testing.assert_allclose(ds["x"].values, x, rtol=1e-15)
    np.testing.assert_allclose(ds["loss"].values, 0.3 * x, rtol=1e-15)


def _order(models, method, dts):
    _, var, exact, stop = CASES["logistic"]
    errors = []
    for dt in dts:
        ds = engine.simulate(models["logistic"], start=0, stop=stop, dt=dt, saveper=1.0,
                             method=method)
        errors.append(np.max(np.abs(ds[var].values - exact(ds["time"].values))))
    slope, _ = np.polyfit(np.log(dts), np.log(errors), 1)
    return slope


def test_convergence_order_euler(models):
    slope = _order(models, "euler", [1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128])
    assert abs(slope - 1.0) < 0.3, slope


def test_convergence_order_rk4(models):
    slope = _order(models, "rk4", [1 / 2, 1 / 4, 1 / 8, 1 / 16])
    assert abs(slope - 4.0) < 0.3, slope


def test_rk45_tolerance_controls_error(models):
    _, var, exact, stop = CASES["logistic"]
    errors = []
    for rtol in (1e-4, 1e-8):
        ds = engine.simulate(models["logistic"], start=0, stop=stop, saveper=0.5, method="rk45",
                             rtol=rtol, atol=rtol * 1e-3)
        errors.append(np.max(np.abs(ds[var].values / exact(ds["time"].values) - 1)))
    assert errors[1] < errors[0]
    assert errors[1] < 1e-7
