"""Counter-based random numbers (engine.kernels): Philox4x64-10 against numpy's own
implementation, the normal quantile against scipy, and Vensim's draws' distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine import kernels

KEYS = [(0, 0), (5, 6), (2**64 - 1, 2**63 + 7), (0x243F6A8885A308D3, 0x13198A2E03707344)]
COUNTERS = [(0, 0, 0, 0), (1, 2, 3, 4), (2**64 - 2, 2**64 - 1, 17, 2**40), (99, 0, 0, 2**63)]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("counter", COUNTERS)
def test_philox_matches_numpy(key, counter):
    # numpy's Philox (4x64, 10 rounds) increments its counter before each block, so its first
    # four words are the block of counter + 1 (carry into the next word included).
    # (The counter is set through the state: numpy's constructor mangles words >= 2**63.)
    bits = np.random.Philox(key=list(key))
    state = bits.state
    state["state"]["counter"] = np.array(counter, dtype=np.uint64)
    state["state"]["key"] = np.array(key, dtype=np.uint64)
    state["buffer_pos"] = 4
    bits.state = state
    expected = [int(v) for v in bits.random_raw(4)]
    value = sum(c << (64 * i) for i, c in enumerate(counter)) + 1
    following = [(value >> (64 * i)) & (2**64 - 1) for i in range(4)]
    got = kernels._philox4x64(*(np.uint64(c) for c in following), *(np.uint64(k) for k in key))
    assert [int(v) for v in got] == expected


def test_normal_quantile_matches_scipy():
    q = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 2001), [1e-300, 0.02425, 0.97575, 0.5]])
    ours = np.array([kernels._norm_ppf(v) for v in q])
    np.testing.assert_allclose(ours, stats.norm.ppf(q), rtol=1e-13, atol=1e-13)


def test_unit_interval_is_open():
    assert 0.0 < kernels._unit(np.uint64(0)) < 1e-15
    assert 1 - 1e-15 < kernels._unit(np.uint64(2**64 - 1)) < 1.0


def _draws(function, *args, n=20000):
    p = np.array([7.0, 3.0])  # key slots: seed 7, member 3
    return np.array([function(p, 0, 0.25 * i, 12345, 2, *args) for i in range(n)])


def test_uniforms_are_uniform():
    u = _draws(kernels._uniform01, 0)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # lag-one correlation of independent draws: sd 1/sqrt(n)
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 4 / np.sqrt(u.size)


def test_truncated_normal_matches_scipy():
    x = _draws(kernels._random_normal, -1.0, 2.5, 0.5, 1.5, 0.0)
    assert x.min() >= -1.0 and x.max() <= 2.5
    reference = stats.truncnorm((-1.0 - 0.5) / 1.5, (2.5 - 0.5) / 1.5, loc=0.5, scale=1.5)
    assert stats.kstest(x, reference.cdf).pvalue > 1e-3


def test_exponential_and_poisson():
    x = _draws(kernels._random_exponential, 0.0, 10.0, 1.0, 2.0, 0.0)
    reference = stats.truncexpon((10.0 - 1.0) / 2.0, loc=1.0, scale=2.0)
    assert stats.kstest(x, reference.cdf).pvalue > 1e-3
    k = _draws(kernels._random_poisson, 0.0, 1e9, 4.0, 0.0, 1.0, 0.0)
    counts = np.bincount(k.astype(int), minlength=20)[:12]
    expected = stats.poisson(4.0).pmf(np.arange(12)) * k.size
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < stats.chi2(11).ppf(0.999)


def test_draws_depend_on_every_key():
    p = np.array([7.0, 3.0, 8.0, 3.0])
    base = kernels._uniform01(p, 0, 1.0, 5, 2, 0)
    assert base == kernels._uniform01(p.copy(), 0, 1.0, 5, 2, 0)
    others = [
        kernels._uniform01(p, 2, 1.0, 5, 2, 0),  # seed 8
        kernels._uniform01(np.array([7.0, 4.0]), 0, 1.0, 5, 2, 0),  # member 4
        kernels._uniform01(p, 0, 1.25, 5, 2, 0),  # time
        kernels._uniform01(p, 0, 1.0, 6, 2, 0),  # call site
        kernels._uniform01(p, 0, 1.0, 5, 3, 0),  # element
        kernels._uniform01(p, 0, 1.0, 5, 2, 1),  # Vensim's seed argument
    ]
    assert len({base, *others}) == 7
