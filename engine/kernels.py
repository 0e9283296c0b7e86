"""Model-independent numba helpers shared by every generated kernel module.

Generated modules (:mod:`engine.compiler`) import these instead of defining their own copies,
so numba compiles them once per machine (``cache=True``: the machine code is kept beside this
file, or in numba's user cache when this folder is read-only), not once per model; a model's
cold compile then spends its time on the model's own code. They see only floats and flat
float64 arrays, like the rest of the kernels.

- Vensim builtins: ``_lookup`` / ``_lookup_extrapolate`` (tables stored in ``p`` as xs then ys),
  ``_interp``, ``_integer``, ``_modulo``, ``_xidz``, ``_zidz``, ``_step``, ``_ramp``, ``_pulse``,
  ``_pulse_train``, ``_quantum``;
- random numbers: ``_philox4x64`` (Philox4x64-10 [1]_, the generator numpy calls ``Philox``),
  keyed by the run's seed and member (two slots of ``p``), the time, the call site and the
  element, so a draw never depends on chunking, threads or the machine; ``_uniform01``,
  ``_norm_ppf`` (Acklam's approximation refined by a Halley step) and Vensim's draws
  ``_random_uniform``, ``_random_normal``, ``_random_exponential``, ``_random_poisson``
  (a new draw each time step, truncated to [min, max]); the processes' steps ``_ar1_next``
  and ``_walk_next``;
- saving: ``_save`` copies the requested outputs of one save time and ``_first_nonfinite``
  finds a non-finite value (the solvers of :mod:`engine.solvers` call both);
- ``_zeros``: the solvers' work arrays;
- ``STATUS_OK``, ``STATUS_NONFINITE_STATE``, ...: the codes of :class:`engine.solvers.Status`
  as plain integers, which the solvers return (numba freezes them into the machine code).

:data:`SOURCE_HASH` (a hash of this file and of the status codes) is written into every
generated module, so that a change here gives every model a new cache key and no stale machine
code is reused.

References
----------
.. [1] J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as easy
   as 1, 2, 3", Proc. Int. Conf. for High Performance Computing, Networking, Storage and
   Analysis (SC11), 2011, doi:10.1145/2063384.2063405.
"""

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from .solvers import STATUS_CONSTANTS

__all__ = ["NAMES", "SOURCE_HASH"]


@njit(cache=True, error_model="numpy")
def _lookup(p, off, n, x):
    if x <= p[off]:
        return p[off + n]
    if x >= p[off + n - 1]:
        return p[off + 2 * n - 1]
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if p[off + mid] <= x:
            lo = mid
        else:
            hi = mid
    x0 = p[off + lo]
    x1 = p[off + hi]
    y0 = p[off + n + lo]
    y1 = p[off + n + hi]
    if x1 == x0:
        return y1
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@njit(cache=True, error_model="numpy")
def _lookup_extrapolate(p, off, n, x):
    if n == 1:
        return p[off + 1]
    if x < p[off]:
        x0 = p[off]
        x1 = p[off + 1]
        y0 = p[off + n]
        y1 = p[off + n + 1]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    if x > p[off + n - 1]:
        x0 = p[off + n - 2]
        x1 = p[off + n - 1]
        y0 = p[off + 2 * n - 2]
        y1 = p[off + 2 * n - 1]
        return y1 + (y1 - y0) * (x - x1) / (x1 - x0)
    return _lookup(p, off, n, x)


@njit(cache=True, error_model="numpy")
def _interp(xs, ys, x):
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xs[hi] == xs[lo]:
        return ys[hi]
    return ys[lo] + (ys[hi] - ys[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo])


@njit(cache=True, error_model="numpy")
def _integer(x):
    if x >= 0.0:
        return np.floor(x)
    return np.ceil(x)


@njit(cache=True, error_model="numpy")
def _modulo(x, m):
    # Vensim MODULO truncates: modulo(-7, 3) == -1.
    if m < 1e-6:
        return 0.0
    return x - m * _integer(x / m)


@njit(cache=True, error_model="numpy")
def _xidz(num, den, x):
    if abs(den) < 1e-6:
        return x
    return num / den


@njit(cache=True, error_model="numpy")
def _zidz(num, den):
    if abs(den) < 1e-6:
        return 0.0
    return num / den


@njit(cache=True, error_model="numpy")
def _step(t, h, height, start):
    # Vensim/PySD: the step is on from the save point nearest its start time.
    if t + 0.5 * h > start:
        return height
    return 0.0


@njit(cache=True, error_model="numpy")
def _ramp(t, slope, start, finish):
    if t + 1e-6 > start:
        return slope * (min(finish, t) - start)
    return 0.0


@njit(cache=True, error_model="numpy")
def _pulse(t, h, start, width):
    if start - 1e-6 <= t and t < start + width:
        return 1.0
    return 0.0


@njit(cache=True, error_model="numpy")
def _pulse_train(t, h, start, width, interval, end):
    if t < start or t >= end:
        return 0.0
    if interval <= 0.0:
        return 1.0 if t - start + 1e-6 < width else 0.0
    x = t - start + 1e-6
    if x - interval * np.floor(x / interval) < width:
        return 1.0
    return 0.0


# --------------------------------------------------------------------- random numbers
# Philox4x64-10 (Salmon et al. 2011), a counter-based generator: a draw is a pure function of
# a 256-bit counter and a 128-bit key, so it depends only on (seed, stream; time, element,
# call site, member) and never on the order in which members, chunks or threads run. The same
# function as numpy's ``np.random.Philox`` (tests compare the two). No fastmath anywhere, so
# the floats derived from the bits are the same on every thread and machine.
_PHILOX_M0 = np.uint64(0xD2E7470EE14C6C93)
_PHILOX_M1 = np.uint64(0xCA5A826395121157)
_PHILOX_W0 = np.uint64(0x9E3779B97F4A7C15)
_PHILOX_W1 = np.uint64(0xBB67AE8584CAA73B)
_LOW32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)


@njit(cache=True, error_model="numpy")
def _mulhilo64(a, b):
    # The high and low 64 bits of the 128-bit product a * b, from 32-bit halves.
    a0 = a & _LOW32
    a1 = a >> _U32
    b0 = b & _LOW32
    b1 = b >> _U32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> _U32) + (p01 & _LOW32) + (p10 & _LOW32)
    hi = p11 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32)
    return hi, a * b


@njit(cache=True, error_model="numpy")
def _philox4x64(c0, c1, c2, c3, k0, k1):
    """Philox4x64-10 of counter (c0, c1, c2, c3) under key (k0, k1): four uint64 words."""
    for r in range(10):
        if r > 0:
            k0 = k0 + _PHILOX_W0
            k1 = k1 + _PHILOX_W1
        hi0, lo0 = _mulhilo64(_PHILOX_M0, c0)
        hi1, lo1 = _mulhilo64(_PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(cache=True, error_model="numpy")
def _draw_bits(p, key, t, site, element, word):
    # The key slots of p hold the run's seed and the member (engine.compiler: "_seed",
    # "_member"); time enters as t in units of 2**-20 (every Euler step of a run is a
    # different time, whatever dt), so a draw is the same in any chunk and on any thread.
    tick = np.uint64(np.int64(np.round(t * 1048576.0)))
    seed = np.uint64(np.int64(p[key]))
    member = np.uint64(np.int64(p[key + 1]))
    x0, x1, x2, x3 = _philox4x64(
        tick, np.uint64(element), np.uint64(site), member, seed, np.uint64(np.int64(word))
    )
    return x0, x1


@njit(cache=True, error_model="numpy")
def _unit(x):
    # 52 bits to a float in the open interval (0, 1) (k + 1/2) / 2**52: never 0 or 1, so every
    # inverse CDF is finite.
    return (float(x >> np.uint64(12)) + 0.5) / 4503599627370496.0


@njit(cache=True, error_model="numpy")
def _uniform01(p, key, t, site, element, word):
    x0, x1 = _draw_bits(p, key, t, site, element, word)
    return _unit(x0)


@njit(cache=True, error_model="numpy")
def _norm_cdf(x):
    return 0.5 * math.erfc(-x / 1.4142135623730951)


@njit(cache=True, error_model="numpy")
def _norm_ppf(q):
    """The standard normal quantile: Acklam's rational approximation (relative error 1.15e-9)
    refined by one Halley step on erfc, to about 1e-15 (Acklam, P. J. (2003), "An algorithm for
    computing the inverse normal cumulative distribution function", archived at
    https://web.archive.org/web/20151030215612/http://home.online.no/~pjacklam/notes/invnorm/).
    """
    if q <= 0.0:
        return -np.inf
    if q >= 1.0:
        return np.inf
    if q > 0.5:
        # 1 - q is exact here (Sterbenz), and the refinement below is accurate in the lower tail.
        return -_norm_ppf(1.0 - q)
    if q < 0.02425:
        r = math.sqrt(-2.0 * math.log(q))
        x = (
            (
                (
                    (
                        (-7.784894002430293e-03 * r - 3.223964580411365e-01) * r
                        - 2.400758277161838e00
                    )
                    * r
                    - 2.549732539343734e00
                )
                * r
                + 4.374664141464968e00
            )
            * r
            + 2.938163982698783e00
        ) / (
            (
                ((7.784695709041462e-03 * r + 3.224671290700398e-01) * r + 2.445134137142996e00) * r
                + 3.754408661907416e00
            )
            * r
            + 1.0
        )
    else:
        s = q - 0.5
        r = s * s
        x = (
            (
                (
                    (
                        (
                            (-3.969683028665376e01 * r + 2.209460984245205e02) * r
                            - 2.759285104469687e02
                        )
                        * r
                        + 1.383577518672690e02
                    )
                    * r
                    - 3.066479806614716e01
                )
                * r
                + 2.506628277459239e00
            )
            * s
            / (
                (
                    (
                        (
                            (-5.447609879822406e01 * r + 1.615858368580409e02) * r
                            - 1.556989798598866e02
                        )
                        * r
                        + 6.680131188771972e01
                    )
                    * r
                    - 1.328068155288572e01
                )
                * r
                + 1.0
            )
        )
    e = _norm_cdf(x) - q
    u = e * 2.5066282746310002 * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@njit(cache=True, error_model="numpy")
def _standard_normal(p, key, t, site, element):
    return _norm_ppf(_uniform01(p, key, t, site, element, 0))


@njit(cache=True, error_model="numpy")
def _random_0_1(p, key, t, site, element):
    # Vensim RANDOM 0 1(): a uniform draw in (0, 1) each time step.
    return _uniform01(p, key, t, site, element, 0)


@njit(cache=True, error_model="numpy")
def _random_uniform(p, key, t, site, element, low, high, seed):
    # Vensim RANDOM UNIFORM(min, max, seed): a new draw each time step in [min, max).
    return low + (high - low) * _uniform01(p, key, t, site, element, seed)


@njit(cache=True, error_model="numpy")
def _random_normal(p, key, t, site, element, low, high, mean, sd, seed):
    # Vensim RANDOM NORMAL(min, max, mean, sd, seed): a normal draw truncated to [min, max]
    # (by inverse CDF within the window, as scipy's truncnorm that PySD uses).
    u = _uniform01(p, key, t, site, element, seed)
    if not sd > 0.0:
        return min(max(mean, low), high)
    a = _norm_cdf((low - mean) / sd)
    b = _norm_cdf((high - mean) / sd)
    if not b > a:  # the window is beyond the normal's reach in double precision
        return low if mean < low else high
    x = mean + sd * _norm_ppf(a + u * (b - a))
    return min(max(x, low), high)


@njit(cache=True, error_model="numpy")
def _random_exponential(p, key, t, site, element, low, high, shift, stretch, seed):
    # Vensim RANDOM EXPONENTIAL(min, max, shift, stretch, seed): shift + stretch * Exp(1),
    # starting at max(min, shift) and truncated at max (PySD: scipy's truncexpon).
    u = _uniform01(p, key, t, site, element, seed)
    start = max(low, shift)
    if not stretch > 0.0:
        return start
    top = 1.0 - math.exp(-(high - start) / stretch) if high > start else 0.0
    return min(start - stretch * math.log1p(-u * top), high)


@njit(cache=True, error_model="numpy")
def _random_poisson(p, key, t, site, element, low, high, mean, shift, stretch, seed):
    # Vensim RANDOM POISSON(min, max, mean, shift, stretch, seed): shift + stretch * k with k
    # Poisson(mean), truncated to [min, max] (inverse CDF by sequential search; a mean above
    # 1e5 uses the normal approximation).
    u = _uniform01(p, key, t, site, element, seed)
    if not mean > 0.0:
        k = 0.0
    elif mean > 1e5:
        k = max(0.0, np.floor(mean + math.sqrt(mean) * _norm_ppf(u) + 0.5))
    else:
        term = math.exp(-mean)
        total = term
        k = 0.0
        while total < u and k < mean + 40.0 * math.sqrt(mean) + 40.0:
            k += 1.0
            term *= mean / k
            total += term
    return min(max(shift + stretch * k, low), high)


@njit(cache=True, error_model="numpy")
def _ar1_next(p, key, t, site, element, x, h, mean, sd, persistence):
    # An AR(1) (discretised Ornstein-Uhlenbeck) process one step of length h on: the lag-one
    # autocorrelation is persistence per time unit, so persistence ** h per step, and the
    # innovation keeps the stationary standard deviation sd whatever h (exact discretisation).
    phi = persistence**h
    z = _norm_ppf(_uniform01(p, key, t, site, element, 0))
    return mean + phi * (x - mean) + sd * math.sqrt(max(0.0, 1.0 - phi * phi)) * z


@njit(cache=True, error_model="numpy")
def _walk_next(p, key, t, site, element, x, h, scale):
    # A Gaussian random walk: variance scale**2 per time unit, so scale * sqrt(h) per step.
    return x + scale * math.sqrt(h) * _norm_ppf(_uniform01(p, key, t, site, element, 0))


@njit(cache=True, error_model="numpy")
def _quantum(x, q):
    if q < 1e-6:
        return x
    return q * _integer(x / q)


@njit(cache=True, error_model="numpy")
def _save(row, y, a, p, runs, out):
    # Each run copies a contiguous block: (kind, source offset, column, length); kinds 0/1/2
    # read y/a/p, +3 marks a block allowed to be NaN (an explicit :NA:). Returns the first
    # non-finite column of a checked block, or -1.
    bad = -1
    for r in range(runs.shape[0]):
        kind = runs[r, 0]
        src = runs[r, 1]
        dst = runs[r, 2]
        n = runs[r, 3]
        k = kind % 3
        if k == 0:
            for i in range(n):
                out[row, dst + i] = y[src + i]
        elif k == 1:
            for i in range(n):
                out[row, dst + i] = a[src + i]
        else:
            for i in range(n):
                out[row, dst + i] = p[src + i]
        if bad < 0 and kind < 3:
            j = _first_nonfinite(out[row, dst : dst + n])
            if j >= 0:
                bad = dst + j
    return bad


@njit(cache=True, error_model="numpy")
def _first_nonfinite(y):
    # A sum is non-finite iff a term is (or it overflows: then the scan below finds none).
    # Four partial sums, so the check is not bound by the latency of one addition chain.
    n = y.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += y[i]
        s1 += y[i + 1]
        s2 += y[i + 2]
        s3 += y[i + 3]
        i += 4
    while i < n:
        s0 += y[i]
        i += 1
    if np.isfinite(s0 + s1 + s2 + s3):
        return -1
    for i in range(y.shape[0]):
        if not np.isfinite(y[i]):
            return i
    return -1


@njit(cache=True, error_model="numpy")
def _zeros(n):
    # The solvers allocate through this cached function: numba's own np.zeros costs every
    # kernel module about 0.8 s of compilation in a fresh process.
    return np.zeros(n)


globals().update(STATUS_CONSTANTS)

#: The helpers and constants a generated module imports.
NAMES = tuple(
    name
    for name, value in list(globals().items())
    if name.startswith("_") and hasattr(value, "py_func")
) + tuple(STATUS_CONSTANTS)
SOURCE_HASH = hashlib.sha256(
    Path(__file__).read_bytes() + repr(sorted(STATUS_CONSTANTS.items())).encode()
).hexdigest()[:16]
