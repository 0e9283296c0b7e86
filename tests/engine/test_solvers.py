"""Solvers against analytic solutions, their order of convergence, and their status codes."""

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
        ds = engine.simulate(
            models["logistic"], start=0, stop=stop, dt=dt, saveper=1.0, method=method
        )
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
        ds = engine.simulate(
            models["logistic"],
            start=0,
            stop=stop,
            saveper=0.5,
            method="rk45",
            rtol=rtol,
            atol=rtol * 1e-3,
        )
        errors.append(np.max(np.abs(ds[var].values / exact(ds["time"].values) - 1)))
    assert errors[1] < errors[0]
    assert errors[1] < 1e-7


# ---------------------------------------------------------------------------- status


def test_status_codes_are_fixed():
    """The codes are stored per ensemble member (``status``): they must never change."""
    from engine.solvers import Info, Status

    assert [(s.name, int(s)) for s in Status] == [
        ("OK", 0),
        ("NONFINITE_STATE", 1),
        ("NONFINITE_OUTPUT", 2),
        ("TOO_MANY_STEPS", 3),
        ("STEP_TOO_SMALL", 4),
        ("OUT_OF_ROOM", 5),
    ]
    assert (Info.TIME, Info.INDEX, Info.STATUS, Info.SIZE) == (0, 1, 7, 8)


def test_templates_return_named_status_constants():
    import re

    from engine import kernels, solvers

    for status in solvers.Status:
        assert getattr(kernels, f"STATUS_{status.name}") == int(status)
        assert f"STATUS_{status.name}" in kernels.NAMES
    for name, source in solvers.SOURCE.items():
        assert not re.search(r"return\s+-?\d", source), name
        assert "info[m, 7] = status" in source or not name.startswith("members_")
    assert solvers.Info.STATUS == 7  # the literal index of the members template above


@pytest.mark.parametrize(
    "status",
    [s for s in __import__("engine.solvers").solvers.Status if s.name not in ("OK", "OUT_OF_ROOM")],
)
def test_every_failure_status_becomes_an_integration_error(status):
    from engine.solvers import Info, Status

    runner = engine.Runner(decay_model(), start=0, stop=1, dt=0.5)
    info = np.zeros(Info.SIZE)
    runner.check(info)  # OK: nothing raised
    info[Info.STATUS], info[Info.TIME], info[Info.INDEX] = status, 0.5, 0
    with pytest.raises(engine.IntegrationError, match=r"time 0\.5 \(member 3\)") as raised:
        runner.check(info, member=3)
    assert raised.value.member == 3 and raised.value.time == 0.5
    if status in (Status.NONFINITE_STATE, Status.NONFINITE_OUTPUT):
        assert raised.value.variable == "x"


def _save_reference(row, y, a, p, runs, out):
    """``kernels._save`` in numpy: copy each block, return the first non-finite column of a
    checked block (kind < 3) or -1."""
    bad = -1
    for kind, src, dst, n in runs:
        source = (y, a, p)[kind % 3]
        out[row, dst : dst + n] = source[src : src + n]
        if bad < 0 and kind < 3:
            where = np.flatnonzero(~np.isfinite(out[row, dst : dst + n]))
            if where.size:
                bad = dst + int(where[0])
    return bad


@pytest.mark.parametrize("seed", range(20))
def test_save_copies_blocks_and_finds_the_first_nonfinite_column_as_numpy(seed):
    from engine.kernels import _save

    rng = np.random.default_rng(seed)
    y, a, p = (rng.normal(size=12) * 1e300 for _ in range(3))  # sums overflow, values do not
    for values in (y, a, p):
        values[rng.random(12) < 0.15] = rng.choice([np.nan, np.inf, -np.inf])
    runs, column = [], 0
    for _ in range(rng.integers(1, 6)):
        n = int(rng.integers(1, 5))
        runs.append((int(rng.integers(0, 6)), int(rng.integers(0, 12 - n)), column, n))
        column += n
    runs = np.array(runs, dtype=np.int64)
    out, expected = np.zeros((3, column)), np.zeros((3, column))
    assert _save(1, y, a, p, runs, out) == _save_reference(1, y, a, p, runs, expected)
    np.testing.assert_array_equal(out, expected)
