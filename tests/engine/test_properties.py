"""Property tests: conservation in random closed networks, and kernels against numpy.

Each test compiles one generic model and draws its coefficients as parameters, so hypothesis
examples reuse the compiled kernel instead of compiling a model each.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

N = 5
PAIRS = [(i, j) for i, j in itertools.product(range(N), repeat=2) if i != j]


def network_model(non_negative: bool) -> engine.Model:
    m = engine.Model(f"network_{non_negative}")
    for i in range(N):
        m.param(f"init_{i}", 1.0)
        m.stock(f"x{i}", initial=f"init_{i}", non_negative=non_negative)
    for i, j in PAIRS:
        m.param(f"k_{i}_{j}", 0.0)
        m.param(f"c_{i}_{j}", 0.0)
        m.flow(f"f_{i}_{j}", f"k_{i}_{j} * x{i} + c_{i}_{j}", out_of=f"x{i}", into=f"x{j}")
    m.aux("total", " + ".join(f"x{i}" for i in range(N)))
    return m


@pytest.fixture(scope="module")
def networks():
    return {flag: network_model(flag) for flag in (False, True)}


coefficient = st.floats(0.0, 3.0, allow_nan=False)
inflow = st.floats(0.0, 5.0, allow_nan=False)
level = st.floats(0.0, 100.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    k=st.lists(coefficient, min_size=len(PAIRS), max_size=len(PAIRS)),
    c=st.lists(inflow, min_size=len(PAIRS), max_size=len(PAIRS)),
    init=st.lists(level, min_size=N, max_size=N),
    method=st.sampled_from(["euler", "rk4"]),
    non_negative=st.booleans(),
)
def test_closed_network_conserves_total(networks, k, c, init, method, non_negative):
    params = {f"init_{i}": v for i, v in enumerate(init)}
    params.update({f"k_{i}_{j}": v for (i, j), v in zip(PAIRS, k)})
    params.update({f"c_{i}_{j}": v for (i, j), v in zip(PAIRS, c)})
    if not non_negative:  # constant flows would drive the stocks through zero to overflow
        params.update({f"c_{i}_{j}": 0.0 for i, j in PAIRS})
    ds = engine.simulate(
        networks[non_negative],
        start=0,
        stop=5,
        dt=0.25,
        method=method,
        params=params,
        outputs=["total"] + [f"x{i}" for i in range(N)],
    )
    total = sum(init)
    scale = max(total, 1.0)
    np.testing.assert_allclose(ds["total"].values, total, rtol=0, atol=1e-9 * scale)
    if non_negative:
        for i in range(N):
            assert np.all(ds[f"x{i}"].values >= 0.0)


M = 4


def linear_model() -> engine.Model:
    m = engine.Model("linear")
    m.dimension("i", M)
    m.dimension("j", M)
    m.param("A", np.zeros((M, M)), dims=("i", "j"))
    m.param("b", np.zeros(M), dims="i")
    m.param("x0", np.ones(M), dims="i")
    m.stock("x", initial="x0[i]", dims="i")
    m.flow("dx", "sum(A[i, j] * x[j], 'j') + b[i]", into="x", dims="i")
    return m


@pytest.fixture(scope="module")
def linear():
    return linear_model()


def numpy_reference(A, b, x0, dt, steps, method):
    def f(x):
        return A @ x + b

    out = [x0.copy()]
    x = x0.copy()
    for _ in range(steps):
        if method == "euler":
            x = x + dt * f(x)
        else:
            k1 = f(x)
            k2 = f(x + 0.5 * dt * k1)
            k3 = f(x + 0.5 * dt * k2)
            k4 = f(x + dt * k3)
            x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(x.copy())
    return np.array(out)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["euler", "rk4"]),
    dt=st.sampled_from([0.5, 0.25, 0.1]),
)
def test_linear_kernel_matches_numpy_reference(linear, seed, method, dt):
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 0.5, (M, M))
    b = rng.normal(0, 1, M)
    x0 = rng.normal(0, 2, M)
    steps = 20
    ds = engine.simulate(
        linear,
        start=0,
        stop=steps * dt,
        dt=dt,
        method=method,
        params={"A": A, "b": b, "x0": x0},
        outputs=["x", "dx"],
    )
    expected = numpy_reference(A, b, x0, dt, steps, method)
    scale = np.maximum(np.abs(expected), 1.0)
    assert np.all(np.abs(ds["x"].values - expected) <= 1e-12 * scale)
    np.testing.assert_allclose(ds["dx"].values, expected @ A.T + b, rtol=1e-12, atol=1e-12)
