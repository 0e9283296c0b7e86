"""Summaries and sensitivity: quantiles against numpy on the raw members, Sobol indices of the
Ishigami function against their analytic values, Morris on a linear model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import engine
from tests.engine.test_store import decay

A, B = 7.0, 0.1
# Ishigami & Homma (1990); analytic indices as in Sobol' & Levitan (1999).
_V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_S1 = np.array([_V1 / _V, _V2 / _V, 0.0])
ISHIGAMI_ST = np.array([(_V1 + _V13) / _V, _V2 / _V, _V13 / _V])


def ishigami() -> engine.Model:
    """The Ishigami function as a model of auxiliaries only (one save time)."""
    m = engine.Model("ishigami", time_unit="step")
    for name in ("x1", "x2", "x3"):
        m.param(name, 0.0, bounds=(-math.pi, math.pi))
    m.aux("y", f"sin(x1) + {A} * sin(x2) ** 2 + {B} * x3 ** 4 * sin(x1)")
    return m


@pytest.fixture(scope="module")
def sweep():
    priors = {"k": ("uniform", 0.02, 0.2)}
    return engine.run_ensemble(
        decay(),
        n=64,
        seed=2,
        design="sobol",
        priors=priors,
        start=2025,
        stop=2060,
        dt=0.5,
        chunk_size=20,
        progress=False,
    )


def test_quantile_groups_match_numpy_on_the_raw_members(sweep):
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    for horizon in ("short", "medium", "long"):
        summary = sweep[f"summary/{horizon}"]
        np.testing.assert_array_equal(summary["quantile"].values, q)
        np.testing.assert_array_equal(summary["time"].values, sweep[horizon]["time"].values)
        for name in ("x", "loss", "per\u2215capita"):
            raw = sweep[horizon][name].values
            np.testing.assert_allclose(
                summary[name].values, np.quantile(raw, q, axis=0), rtol=1e-14, atol=0
            )
        assert summary["x"].attrs["units"] == "person"
        assert summary["x"].dims == ("quantile", "time")


def test_summarize_a_reopened_store_gives_the_stored_summary(tmp_path):
    priors = {"k": ("uniform", 0.02, 0.2)}
    engine.run_ensemble(
        decay(),
        n=30,
        seed=1,
        priors=priors,
        start=2025,
        stop=2060,
        dt=0.5,
        chunk_size=7,
        progress=False,
        store=tmp_path / "s.zarr",
    )
    tree = engine.open_store(tmp_path / "s.zarr")
    again = engine.summarize(tree)
    for horizon in ("short", "medium", "long"):
        xr.testing.assert_allclose(
            again[horizon].to_dataset(inherit=False),
            tree[f"summary/{horizon}"].to_dataset(inherit=False).load(),
        )


def test_member_quantiles_have_the_bits_of_numpy():
    from engine.analyze import member_quantiles

    rng = np.random.default_rng(5)
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    cases = [
        rng.random((1000, 37)),
        np.round(rng.random((501, 9)) * 3),  # ties
        np.cumsum(rng.standard_normal((2000, 4, 3)), axis=0),
        rng.random((1, 5)),
        rng.random((2, 3)),
        np.where(rng.random((300, 6)) < 0.1, np.inf, 1.0),
        np.full((400, 7), 2.5),  # every member the same value
        np.full((50, 2), -np.inf),
        np.where(rng.random((600, 8)) < 0.03, rng.random((600, 8)), 0.0),  # mostly zeros
        np.where(rng.random((900, 5)) < 0.5, 1.0, 1.0 + rng.random((900, 5)) * 1e-12),
    ]
    for raw in cases:
        with np.errstate(invalid="ignore"):
            expected = np.quantile(raw, q, axis=0)
        np.testing.assert_array_equal(member_quantiles(raw, q), expected)
    ends = np.array([0.0, 1.0, 0.999, 1 / 3])
    raw = rng.random((777, 11))
    np.testing.assert_array_equal(member_quantiles(raw, ends), np.quantile(raw, ends, axis=0))


def test_member_quantiles_leave_failed_members_out():
    from engine.analyze import member_quantiles

    rng = np.random.default_rng(6)
    raw = rng.random((200, 5))
    raw[::3] = np.nan
    raw[:, 2] = np.nan
    q = np.array([0.05, 0.5, 0.95])
    got = member_quantiles(raw, q)
    for column in (0, 1, 3, 4):
        kept = raw[:, column][~np.isnan(raw[:, column])]
        np.testing.assert_array_equal(got[:, column], np.quantile(kept, q))
    assert np.isnan(got[:, 2]).all()


def test_store_summaries_read_bounded_blocks_of_all_members(tmp_path, monkeypatch):
    """Exact quantiles need every member of a (time, element) block: the store chunks horizon
    variables along time so that a block of about SUMMARY_BLOCK_BYTES decompresses each chunk
    once, and the summary equals np.quantile over the raw members."""
    from engine import budgets
    from engine import store as stores

    monkeypatch.setattr(budgets, "SUMMARY_BLOCK_BYTES", 4096)
    reads = []
    original = stores.ZarrStore.read

    def read(self, group, name, index=()):
        values = original(self, group, name, index)
        if group != "/":
            reads.append((group, name, values.nbytes))
        return values

    monkeypatch.setattr(stores.ZarrStore, "read", read)
    m = engine.Model("regions", time_unit="year")
    m.dimension("region", [f"r{i}" for i in range(6)])
    m.param("growth", [0.01] * 6, dims=("region",), bounds=(-1, 1))
    m.stock("population", initial=100.0, dims=("region",))
    m.flow("births", "growth * population", into="population", dims=("region",))
    members = 100
    tree = engine.run_ensemble(
        m,
        n=members,
        seed=3,
        priors={"growth": ("uniform", 0, 0.05)},
        start=0,
        stop=30,
        dt=0.5,
        outputs=["population"],
        chunk_size=40,
        progress=False,
        store=tmp_path / "s.zarr",
        horizons={"all": (0, None, 0.5)},
    )
    assert reads and max(nbytes for _, _, nbytes in reads) <= 4096 + 8 * members * 6
    array = stores.ZarrStore(tmp_path / "s.zarr", None).array  # type: ignore[arg-type]
    chunks = array("all/population").chunks
    assert chunks[0] == 40 and chunks[1] < tree["all"].sizes["time"]
    raw = tree["all"]["population"].values
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    np.testing.assert_array_equal(
        tree["summary/all"]["population"].values, np.quantile(raw, q, axis=0)
    )


def test_summaries_of_a_store_chunked_over_all_times_read_a_chunk_of_members_at_a_time(monkeypatch):
    from engine import budgets
    from engine.analyze import _blocks, _read_block

    # blocks of 4 of 12 times
    monkeypatch.setattr(budgets, "SUMMARY_BLOCK_BYTES", 50 * 4 * 3 * 8)
    rng = np.random.default_rng(1)
    full = rng.random((50, 12, 3))

    class Reader:
        def __init__(self):
            self.largest = 0

        def read(self, group, name, index=()):
            part = full[index]
            self.largest = max(self.largest, part.nbytes)
            return part

        def chunks(self, group, name):
            return 10, 12  # zarr chunks of 10 members and every time

        def release(self):
            pass

    reader = Reader()
    blocks = _blocks((10, 12), 50, 12, (3,))
    assert len(blocks) == 3
    for where in blocks:
        block = _read_block(reader, "g", "v", where, 50)
        np.testing.assert_array_equal(block, full[where])
    assert reader.largest <= 10 * 4 * 3 * 8  # a chunk of members of one block


def test_subscripted_outputs_keep_their_dims_in_summaries():
    m = engine.Model("regions", time_unit="year")
    m.dimension("region", ["Europe", "Northern Africa"])
    m.param("growth", [0.01, 0.02], dims=("region",), bounds=(-1, 1))
    m.stock("population", initial=100.0, dims=("region",))
    m.flow("births", "growth * population", into="population", dims=("region",))
    tree = engine.run_ensemble(
        m,
        n=16,
        seed=0,
        design="saltelli",
        priors={"growth[Europe]": ("uniform", 0, 0.02)},
        start=0,
        stop=10,
        dt=1,
        outputs=["population"],
        progress=False,
    )
    summary = tree["summary/medium"]["population"]
    assert summary.dims == ("quantile", "time", "region")
    raw = tree["medium"]["population"].values
    np.testing.assert_allclose(
        summary.values, np.quantile(raw, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    )
    indices = tree["sensitivity/medium"]
    assert list(indices["output"].values) == ["population[Europe]", "population[Northern Africa]"]
    assert indices["ST"].sel(output="population[Europe]").item() == pytest.approx(1, abs=0.2)
    assert np.isnan(indices["S1"].sel(output="population[Northern Africa]").item())


@pytest.mark.slow
def test_sobol_indices_of_ishigami_are_within_002_of_analytic():
    priors = {name: ("uniform", -math.pi, math.pi) for name in ("x1", "x2", "x3")}
    tree = engine.run_ensemble(
        ishigami(),
        n=2**14,
        seed=0,
        design="saltelli",
        priors=priors,
        start=0,
        stop=0,
        dt=1,
        progress=False,
    )
    assert tree.sizes["member"] == 2**14 * 8
    indices = tree["sensitivity/all"].sel(output="y")
    assert list(indices["parameter"].values) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(indices["S1"].values, ISHIGAMI_S1, atol=0.02)
    np.testing.assert_allclose(indices["ST"].values, ISHIGAMI_ST, atol=0.02)
    assert np.all(indices["S1_conf"].values < 0.05) and np.all(indices["S1_conf"].values > 0)
    assert indices.attrs["time"] == 0.0
    # the public function on the stored tree gives the same indices
    again = engine.analyze_sensitivity(tree)["all"].sel(output="y")
    np.testing.assert_allclose(again["ST"].values, indices["ST"].values)


def test_morris_ranks_a_linear_model():
    m = engine.Model("linear", time_unit="step")
    for name in ("a", "b", "c"):
        m.param(name, 0.5, bounds=(0, 1))
    m.aux("y", "1 * a + 10 * b + 0 * c")
    tree = engine.run_ensemble(
        m,
        n=10,
        seed=4,
        design="morris",
        priors={k: ("uniform", 0, 1) for k in "abc"},
        start=0,
        stop=0,
        dt=1,
        progress=False,
    )
    indices = tree["sensitivity/all"].sel(output="y")
    # elementary effects on the unit design scale: the grid spans 3/4 of a uniform range
    np.testing.assert_allclose(indices["mu_star"].values, [0.75, 7.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(indices["mu"].values, [0.75, 7.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(indices["sigma"].values, 0.0, atol=1e-9)


def test_sensitivity_needs_a_sensitivity_design(sweep):
    with pytest.raises(engine.EngineError, match="saltelli"):
        engine.analyze_sensitivity(sweep)
    assert "sensitivity" not in sweep.children
