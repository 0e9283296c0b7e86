"""Stochastic processes and Vensim's random functions in models: statistical properties
(tolerances from the sample size), dt-invariance, and bit-identical ensembles under any
chunking, thread count or dask cluster."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import engine
from tests.engine.test_ensemble import assert_trees_identical

CELLS = 400  # independent elements: the sample of each statistic


def shocks(elements: int = CELLS) -> engine.Model:
    m = engine.Model("shocks", time_unit="year")
    m.dimension("cell", [f"c{i}" for i in range(elements)])
    m.param("mean", 2.0)
    m.param("sd", 0.5, bounds=(0, None))
    m.param("persistence", 0.8, bounds=(0, 1))
    m.param("scale", 0.3, bounds=(0, None))
    m.aux("shock", "ar1(mean, sd, persistence)", dims=("cell",))
    m.aux("walk", "random_walk(scale)", dims=("cell",))
    m.aux("noise", "random_normal(-1, 2, 0.5, 1, 0)", dims=("cell",))
    m.aux("tail", "chi_square(2.5)", dims=("cell",))
    m.stock("level", initial=100.0, dims=("cell",))
    m.flow("growth", "level * 0.01 * shock", into="level", dims=("cell",))
    return m


@pytest.fixture(scope="module")
def model():
    return shocks()


@pytest.mark.parametrize("dt", [1.0, 0.25])
def test_ar1_has_its_mean_spread_and_persistence_whatever_dt(model, dt):
    ds = engine.simulate(model, start=0, stop=80, dt=dt, saveper=1, seed=4, outputs=["shock"])
    x = ds["shock"].values[30:]  # after 30 years the start at the mean is forgotten (0.8**30)
    n_eff = x.size * (1 - 0.8) / (1 + 0.8)  # AR(1) effective sample size
    assert abs(x.mean() - 2.0) < 5 * 0.5 / np.sqrt(n_eff)
    assert abs(x.var() / 0.25 - 1) < 5 * np.sqrt(2 / n_eff)
    lagged = np.corrcoef(x[1:].ravel(), x[:-1].ravel())[0, 1]
    assert abs(lagged - 0.8) < 5 * (1 - 0.8**2) / np.sqrt(x.size)
    # elements draw independent shocks
    across = np.corrcoef(x[:, : CELLS // 2].ravel(), x[:, CELLS // 2 :].ravel())[0, 1]
    assert abs(across) < 5 / np.sqrt(n_eff / 2)


@pytest.mark.parametrize("dt", [1.0, 0.25])
def test_random_walk_variance_grows_with_time_whatever_dt(model, dt):
    ds = engine.simulate(model, start=0, stop=16, dt=dt, saveper=4, seed=5, outputs=["walk"])
    w = ds["walk"].values
    assert np.all(w[0] == 0.0)
    for row, years in ((1, 4), (4, 16)):
        ratio = w[row].var() / (0.3**2 * years)
        assert abs(ratio - 1) < 5 * np.sqrt(2 / CELLS)


def test_random_normal_is_a_truncated_normal_drawn_each_step(model):
    from scipy import stats

    ds = engine.simulate(model, start=0, stop=20, dt=1, seed=6, outputs=["noise"])
    x = ds["noise"].values
    assert x.min() >= -1 and x.max() <= 2
    assert np.unique(x).size == x.size  # a new draw each step and element
    reference = stats.truncnorm((-1 - 0.5) / 1, (2 - 0.5) / 1, loc=0.5, scale=1)
    assert stats.kstest(x.ravel(), reference.cdf).pvalue > 1e-3


@pytest.mark.parametrize("dof", [0.6, 2.5, 7.0, 40.0])
def test_chi_square_has_its_distribution_and_a_student_t_follows(dof):
    """chi_square(nu) of real nu (a shape below 1 boosted, above 1 Marsaglia & Tsang's
    rejection): its mean nu and variance 2 nu within five standard errors, and its law by a
    Kolmogorov-Smirnov test; a normal over sqrt(chi2 / nu) is a Student t of nu; initial()
    draws it once per run; nu <= 0 gives 0."""
    from scipy import stats

    m = engine.Model("tails", time_unit="year")
    m.dimension("cell", [f"c{i}" for i in range(CELLS)])
    m.param("dof", dof, bounds=(0, None))
    m.aux("x", "chi_square(dof)", dims=("cell",))
    m.aux("t", "standard_normal() / sqrt(chi_square(dof) / dof)", dims=("cell",))
    m.aux("once", "initial(chi_square(dof))", dims=("cell",))
    m.aux("none", "chi_square(0)", dims=("cell",))
    ds = engine.simulate(m, start=0, stop=9, dt=1, seed=11)
    x = ds["x"].values.ravel()
    assert np.unique(x).size == x.size  # a new draw each step and element
    assert abs(x.mean() - dof) < 5 * np.sqrt(2 * dof / x.size)
    fourth = 12 * dof * (dof + 4)  # the fourth central moment of a chi-square
    assert abs(x.var() - 2 * dof) < 5 * np.sqrt((fourth - (2 * dof) ** 2) / x.size)
    assert stats.kstest(x, stats.chi2(dof).cdf).pvalue > 1e-3
    assert stats.kstest(ds["t"].values.ravel(), stats.t(dof).cdf).pvalue > 1e-3
    once = ds["once"].values
    assert np.all(once == once[0]) and np.unique(once[0]).size == CELLS
    assert np.all(ds["none"].values == 0.0)


def test_ar1_starts_at_its_initial_value_and_forgets_it():
    m = engine.Model("start", time_unit="year")
    m.dimension("cell", [f"c{i}" for i in range(CELLS)])
    m.aux("shock", "ar1(0, 0.2, 0.5, 3)", dims=("cell",))
    x = engine.simulate(m, start=0, stop=4, dt=0.5, seed=1)["shock"].values
    assert np.all(x[0] == 3.0)
    # the mean deviation decays as persistence ** t: 3 * 0.5 ** 2 after two years
    sd = 0.2 * np.sqrt(1 - 0.5**4) / np.sqrt(CELLS)
    assert abs(x[4].mean() - 3 * 0.5**2) < 5 * sd


def test_a_common_factor_correlates_regions_shocks():
    # Shocks correlated across regions: a shared process plus each region's own. With stationary
    # sds 0.3 (common) and 0.4 (own), the correlation is 0.09 / (0.09 + 0.16) = 0.36.
    m = engine.Model("factor", time_unit="year")
    m.dimension("region", ["north", "south"])
    m.aux("common", "ar1(0, 0.3, 0.6)")
    m.aux("own", "ar1(0, 0.4, 0.6)", dims=("region",))
    m.aux("shock", "common + own", dims=("region",))
    x = engine.simulate(m, start=0, stop=4000, dt=1, seed=2)["shock"].values[20:]
    n_eff = x.shape[0] * (1 - 0.6) / (1 + 0.6)
    correlation = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
    assert abs(correlation - 0.36) < 5 * (1 - 0.36**2) / np.sqrt(n_eff)
    assert abs(x.var(axis=0).mean() / 0.25 - 1) < 5 * np.sqrt(2 / n_eff)


def test_draws_inside_a_sum_are_one_per_element_summed():
    m = engine.Model("sums", time_unit="year")
    m.dimension("region", [f"r{i}" for i in range(16)])
    m.dimension("cell", ["a", "b"])
    m.aux("total", "sum(standard_normal(), 'region')", dims=("cell",))
    x = engine.simulate(m, start=0, stop=999, dt=1, seed=3)["total"].values
    # a sum of 16 independent standard normals has variance 16 (the same draw 16 times: 256)
    assert abs(x.var() / 16 - 1) < 5 * np.sqrt(2 / x.size)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 5 / np.sqrt(x.shape[0])


def test_seed_is_the_key(model):
    run = dict(start=0, stop=10, dt=0.5, outputs=["level"])
    a = engine.simulate(model, seed=1, **run)["level"].values
    np.testing.assert_array_equal(a, engine.simulate(model, seed=1, **run)["level"].values)
    assert not np.array_equal(a, engine.simulate(model, seed=2, **run)["level"].values)
    with pytest.raises(engine.ParameterError, match="seed"):
        engine.simulate(model, seed=-1, **run)


def test_processes_need_euler(model):
    with pytest.raises(engine.SpecError, match="method='euler'"):
        engine.simulate(model, start=0, stop=1, dt=0.5, method="rk4")


ENSEMBLE = dict(
    n=23,
    seed=3,
    design="random",
    priors={"sd": ("uniform", 0.2, 0.6)},
    start=0,
    stop=12,
    dt=0.25,
    saveper=1,
    outputs=["level", "shock", "tail"],
    progress=False,
)


@pytest.fixture(scope="module")
def small():
    return shocks(5)


@pytest.fixture(scope="module")
def reference(small):
    return engine.run_ensemble(small, chunk_size=23, **ENSEMBLE)


@pytest.mark.parametrize("chunk_size", [1, 4, 7])
def test_shocks_do_not_depend_on_chunk_size(small, reference, chunk_size):
    tree = engine.run_ensemble(small, chunk_size=chunk_size, **ENSEMBLE)
    for name in ("level", "shock", "tail"):
        np.testing.assert_array_equal(tree["medium"][name].values, reference["medium"][name].values)


def test_shocks_do_not_depend_on_thread_count(small, reference):
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = engine.run_ensemble(small, chunk_size=5, **ENSEMBLE)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(
        one["medium"]["level"].values, reference["medium"]["level"].values
    )


def test_members_draw_their_own_shocks_and_equal_keyed_single_runs(small, reference):
    shock = reference["medium"]["shock"].values  # member, time, cell
    assert np.unique(shock[:, -1, 0]).size == shock.shape[0]
    sample = reference.to_dataset(inherit=False)["sample"].values
    runner = engine.Runner(small, start=0, stop=12, dt=0.25, saveper=1, outputs=["shock"])
    for member in (0, 11, 22):
        p = runner.result.keyed(runner.parameters({"sd": float(sample[member, 0])}), 3, member)
        ds = runner.run(p)
        np.testing.assert_array_equal(ds["shock"].values[5:], shock[member])


@pytest.mark.slow
def test_shocks_on_a_dask_local_cluster_give_the_local_result(small, reference, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = engine.run_ensemble(
            small, store=tmp_path / "dask.zarr", client=client, chunk_size=6, **ENSEMBLE
        )
    local = engine.run_ensemble(small, store=tmp_path / "local.zarr", chunk_size=6, **ENSEMBLE)
    assert_trees_identical(local, remote)
    np.testing.assert_array_equal(
        remote["medium"]["level"].values, reference["medium"]["level"].values
    )


def test_vensim_random_functions(tmp_path):
    from tests.engine.test_vensim import write_mdl

    path = write_mdl(
        tmp_path / "draws.mdl",
        """
normal = RANDOM NORMAL(-1, 3, 1, 2, 0) |
exponential = RANDOM EXPONENTIAL(0, 50, 1, 2, 0) |
unit = RANDOM 0 1() |
poisson = RANDOM POISSON(0, 100, 3, 0, 1, 0) |
""",
        final=3000,
        dt=1,
    )
    model = engine.load(path)
    first = engine.simulate(model, seed=8)
    np.testing.assert_array_equal(first["normal"].values, engine.simulate(model, seed=8)["normal"])
    normal = first["normal"].values
    assert normal.min() >= -1 and normal.max() <= 3 and np.unique(normal).size == normal.size
    # the truncated normal's mean (scipy.stats.truncnorm(-1, 1, loc=1, scale=2).mean() == 1)
    assert abs(normal.mean() - 1) < 5 * 2 / np.sqrt(normal.size)
    exponential = first["exponential"].values
    assert exponential.min() >= 1 and abs(exponential.mean() - 3) < 5 * 2 / np.sqrt(3001)
    unit = first["unit"].values
    assert 0 < unit.min() and unit.max() < 1 and abs(unit.mean() - 0.5) < 5 * 0.29 / 55
    poisson = first["poisson"].values
    assert np.all(poisson == np.round(poisson)) and abs(poisson.mean() - 3) < 5 * np.sqrt(3 / 3001)
