"""Model-independent numba helpers shared by every generated kernel module.

Generated modules (:mod:`engine.compiler`) import these instead of defining their own copies,
so numba compiles them once per machine (``cache=True``: the machine code is kept beside this
file, or in numba's user cache when this folder is read-only), not once per model; a model's
cold compile then spends its time on the model's own code. They see only floats and flat
float64 arrays, like the rest of the kernels. Those taking integer offsets (lookups, fixed
delays) are compiled for one signature (:func:`typed`): numba would compile one copy for each
set of literal offsets a model calls them with.

- Vensim builtins: ``_lookup`` / ``_lookup_extrapolate`` (tables stored in ``p`` as xs then ys),
  ``_interp``, ``_integer``, ``_modulo``, ``_xidz``, ``_zidz``, ``_step``, ``_ramp``, ``_pulse``,
  ``_pulse_train``, ``_quantum``, ``_allocate_by_priority``,
  ``_allocate_available``;
- random numbers: ``_philox4x64`` (Philox4x64-10 [1]_, the generator numpy calls ``Philox``),
  keyed by the run's seed and member (two slots of ``p``), the time, the call site and the
  element, so a draw never depends on chunking, threads or the machine; ``_uniform01``,
  ``_norm_ppf`` (Wichura's AS 241), ``_chi_square`` (Marsaglia & Tsang's gamma) and Vensim's
  draws
  ``_random_uniform``, ``_random_normal``, ``_random_exponential``, ``_random_poisson``
  (a new draw each time step, truncated to [min, max]); the processes' steps ``_ar1_next``
  and ``_walk_next``;
- fixed delays' ring buffers in ``z``: ``_delay_fixed_length`` and ``_delay_fixed_fill`` (at
  init), ``_delay_fixed_read`` (the outputs), ``_delay_fixed_push`` (the inputs, each step);
- saving: ``_save`` copies the requested outputs of one save time (inlined into each solver:
  a call per save cost a small model as much as its steps), ``_first_nonfinite_saved`` finds
  the first non-finite output column and ``_first_nonfinite`` a non-finite value (the solvers
  of :mod:`engine.solvers` call ``_save`` and ``_first_nonfinite``);
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
import threading
from pathlib import Path

import numpy as np
from numba import njit

from .solvers import STATUS_CONSTANTS

__all__ = ["NAMES", "SOURCE_HASH", "typed"]


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
def _norm_ppf(u):
    """The standard normal quantile by Wichura's algorithm AS 241 (PPND16), relative error
    about 1e-16: rational functions only in the body (|u - 1/2| <= 0.425, 85% of draws), a
    log and a square root in the tails. Wichura, M. J. (1988), "Algorithm AS 241: the
    percentage points of the normal distribution", Applied Statistics 37, 477-484."""
    if u <= 0.0:
        return -np.inf
    if u >= 1.0:
        return np.inf
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (
            (
                (
                    (
                        (
                            (2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r
                            + 6.7265770927008700853e4
                        )
                        * r
                        + 4.5921953931549871457e4
                    )
                    * r
                    + 1.3731693765509461125e4
                )
                * r
                + 1.9715909503065514427e3
            )
            * r
            + 1.3314166789178437745e2
        ) * r + 3.3871328727963666080e0
        den = (
            (
                (
                    (
                        (
                            (5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r
                            + 3.9307895800092710610e4
                        )
                        * r
                        + 2.1213794301586595867e4
                    )
                    * r
                    + 5.3941960214247511077e3
                )
                * r
                + 6.8718700749205790830e2
            )
            * r
            + 4.2313330701600911252e1
        ) * r + 1.0
        return q * num / den
    # 1 - u is exact for u > 1/2 (Sterbenz)
    r = math.sqrt(-math.log(u if q < 0.0 else 1.0 - u))
    if r <= 5.0:
        r -= 1.6
        num = (
            (
                (
                    (
                        (
                            (7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                            + 2.41780725177450611770e-1
                        )
                        * r
                        + 1.27045825245236838258e0
                    )
                    * r
                    + 3.64784832476320460504e0
                )
                * r
                + 5.76949722146069140550e0
            )
            * r
            + 4.63033784615654529590e0
        ) * r + 1.42343711074968357734e0
        den = (
            (
                (
                    (
                        (
                            (1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                            + 1.51986665636164571966e-2
                        )
                        * r
                        + 1.48103976427480074590e-1
                    )
                    * r
                    + 6.89767334985100004550e-1
                )
                * r
                + 1.67638483018380384940e0
            )
            * r
            + 2.05319162663775882187e0
        ) * r + 1.0
    else:
        r -= 5.0
        num = (
            (
                (
                    (
                        (
                            (2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                            + 1.24266094738807843860e-3
                        )
                        * r
                        + 2.65321895265761230930e-2
                    )
                    * r
                    + 2.96560571828504891230e-1
                )
                * r
                + 1.78482653991729133580e0
            )
            * r
            + 5.46378491116411436990e0
        ) * r + 6.65790464350110377720e0
        den = (
            (
                (
                    (
                        (
                            (2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                            + 1.84631831751005468180e-5
                        )
                        * r
                        + 7.86869131145613259100e-4
                    )
                    * r
                    + 1.48753612908506148525e-2
                )
                * r
                + 1.36929880922735805310e-1
            )
            * r
            + 5.99832206555887937690e-1
        ) * r + 1.0
    x = num / den
    return -x if q < 0.0 else x


@njit(cache=True, error_model="numpy")
def _standard_normal(p, key, t, site, element):
    return _norm_ppf(_uniform01(p, key, t, site, element, 0))


#: Attempts of Marsaglia & Tsang's rejection before the last candidate is kept (each is
#: accepted with probability above 0.95: 64 failures have probability below 1e-83).
_GAMMA_ATTEMPTS = 64


@njit(cache=True, error_model="numpy")
def _chi_square(p, key, t, site, element, dof):
    # A chi-square of dof > 0 degrees of freedom (0 for dof <= 0): twice a gamma of shape
    # dof / 2 by Marsaglia & Tsang's squeeze-and-reject (Marsaglia, G. & Tsang, W. W. (2000), "A
    # simple method for generating gamma variables", ACM TOMS 26(3), 363-372), attempt k on the
    # counter's word k (a normal and a uniform from its two halves), so the draw is a function
    # of its key as every other; a shape below 1 is boosted, gamma(a) = gamma(a + 1) U ** (1/a),
    # U on word _GAMMA_ATTEMPTS.
    if not dof > 0.0:
        return 0.0
    a = 0.5 * dof
    boost = 1.0
    if a < 1.0:
        x0, x1 = _draw_bits(p, key, t, site, element, _GAMMA_ATTEMPTS)
        boost = _unit(x0) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    v = 1.0
    for k in range(_GAMMA_ATTEMPTS):
        x0, x1 = _draw_bits(p, key, t, site, element, k)
        z = _norm_ppf(_unit(x0))
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = _unit(x1)
        if u < 1.0 - 0.0331 * z**4 or math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            break
    return 2.0 * d * max(v, 0.0) * boost


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
def _allocate_by_priority(request, priority, width, supply, k):
    # Vensim's ALLOCATE BY PRIORITY, element k of the allocation, by PySD's algorithm
    # (pysd.py_backend.allocation._allocate_by_priority_1d): the targets with a request, from
    # the highest priority, receive supply along straight lines (each in proportion to its
    # request among those receiving); the next target starts when the one before it has
    # received min(priority gap / width, 1) of its request. NaN for a negative request or
    # supply or a width not above 0 (PySD stops the run there).
    n = request.shape[0]
    total = 0.0
    m = 0
    for i in range(n):
        if request[i] < 0.0:
            return np.nan
        total += request[i]
        if request[i] != 0.0:
            m += 1
    if not width > 0.0 or not supply >= 0.0:
        return np.nan
    if supply >= total:
        return request[k]
    if supply == 0.0 or request[k] == 0.0:
        return 0.0
    which = np.empty(m, dtype=np.int64)
    key = np.empty(m)
    j = 0
    for i in range(n):
        if request[i] != 0.0:
            which[j] = i
            key[j] = -priority[i]
            j += 1
    order = np.argsort(key, kind="mergesort")
    req = np.empty(m)
    pri = np.empty(m)
    mine = 0
    for j in range(m):
        req[j] = request[which[order[j]]]
        pri[j] = priority[which[order[j]]]
        if which[order[j]] == k:
            mine = j
    start = np.full(m, np.nan)
    for j in range(m - 1):
        start[j] = min((pri[j] - pri[j + 1]) / width, 1.0) * req[j]
    out = np.zeros(m)
    active = np.zeros(m, dtype=np.bool_)
    active[0] = True
    c = 0
    left = supply
    steps = 0
    while left > 0.0:
        steps += 1
        if steps > 4 * m + 8:
            return np.nan
        receiving = 0.0
        for j in range(m):
            if active[j]:
                receiving += req[j]
        to_top = np.nan
        for j in range(m):
            if active[j]:
                d = (req[j] - out[j]) / (req[j] / receiving)
                if d == d and not d >= to_top:  # the smallest, NaN ignored
                    to_top = d
        slope_c = req[c] / receiving if active[c] else 0.0
        to_start = (start[c] - out[c]) / slope_c
        dx = left
        if to_top < dx:
            dx = to_top
        if to_start < dx:
            dx = to_start
        for j in range(m):
            if active[j]:
                out[j] += req[j] / receiving * dx
        if abs(dx - to_start) <= 1e-16 + 1e-10 * abs(to_start):
            c += 1
            active[c] = True
        if dx == to_top:
            for j in range(m):
                if out[j] == req[j]:
                    active[j] = False
        left -= dx
    return out[mine]


@njit(cache=True, error_model="numpy")
def _demand_curve(q, kind, mid, width, x):
    # How much of request q a target with priority profile (kind, mid, width) receives when
    # the priority threshold is x (Vensim's ALLOCATE AVAILABLE profiles 1-4, as PySD's
    # pysd.py_backend.allocation.Priorities writes them): non-increasing in x.
    if q == 0.0:
        return 0.0
    if kind == 1.0:  # rectangular
        if x <= mid - 0.5 * width:
            return q
        if x < mid + 0.5 * width:
            return q * (1.0 - (x - mid + 0.5 * width) / width)
        return 0.0
    if kind == 2.0:  # triangular
        if x <= mid - 0.5 * width:
            return q
        if x < mid:
            return q * (1.0 - 2.0 * (x - mid + 0.5 * width) ** 2 / width**2)
        if x < mid + 0.5 * width:
            return 2.0 * q * (mid + 0.5 * width - x) ** 2 / width**2
        return 0.0
    if kind == 3.0:  # normal
        return q * 0.5 * (2.0 - math.erfc((mid - x) / (math.sqrt(2.0) * width)))
    # exponential (kind 4)
    if x < mid:
        return q * (1.0 - 0.5 * math.exp((x - mid) / width))
    return q * 0.5 * math.exp((mid - x) / width)


@njit(cache=True, error_model="numpy")
def _allocate_available(request, kind, mid, width, extra, avail, k):
    # Vensim's ALLOCATE AVAILABLE, element k: the priority threshold x at which the targets'
    # demand curves (_demand_curve) add up to the supply, found by bisection (the curves
    # are continuous and non-increasing in x, so every such x gives the same shares). NaN
    # for a negative request or supply, a width not above 0, or a profile other than 1-4 for
    # a target with a request (0, fixed quantity, and 5, constant elasticity, are not
    # supported, as in PySD).
    n = request.shape[0]
    total = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        if request[i] < 0.0 or not width[i] > 0.0:
            return np.nan
        total += request[i]
        if request[i] == 0.0:
            continue
        if kind[i] == 1.0 or kind[i] == 2.0:
            reach = 0.5
        elif kind[i] == 3.0:
            reach = 8.2923611
        elif kind[i] == 4.0:
            reach = 36.7368005696
        else:
            return np.nan
        lo = min(lo, mid[i] - reach * width[i])
        hi = max(hi, mid[i] + reach * width[i])
    if not avail >= 0.0:
        return np.nan
    if avail >= total:
        return request[k]
    if avail == 0.0:
        return 0.0
    for _ in range(200):
        x = 0.5 * (lo + hi)
        if x <= lo or x >= hi:
            break
        given = 0.0
        for i in range(n):
            given += _demand_curve(request[i], kind[i], mid[i], width[i], x)
        if given > avail:
            lo = x
        else:
            hi = x
    return _demand_curve(request[k], kind[k], mid[k], width[k], 0.5 * (lo + hi))


# Fixed delays (DELAY FIXED): a ring buffer per element in z. z[0] holds the capacity (the
# run's steps + 1); element e of the delay whose first element is number ``base`` has
# [pointer, length, buffer...] of capacity + 2 slots from 1 + (base + e) * (capacity + 2). Its
# output and its delay time (then its initial value, while init runs) live in a[offset + e].


@njit(cache=True, error_model="numpy")
def _delay_fixed_length(z, a, offset, base, size, h):
    # The pipelines' lengths in steps from the delay times in a: capped at the run's before
    # they are made integers (a delay of 1e19 or infinity would overflow one); a NaN delay is
    # marked in the pointer slot z[b] and fills its pipeline with NaN (_delay_fixed_fill), so
    # that the run fails naming what it reaches.
    cap = int(z[0])
    for e in range(size):
        b = 1 + (base + e) * (cap + 2)
        steps = a[offset + e] / h
        z[b] = 0.0
        if steps != steps:
            z[b] = 1.0
            n = cap
        elif steps >= cap:
            n = cap
        else:
            n = int(np.round(max(steps, 1.0) + 1e-6))
        z[b + 1] = n


@njit(cache=True, error_model="numpy")
def _delay_fixed_fill(z, a, offset, base, size):
    # The pipelines filled with the initial values in a (NaN where the delay time was NaN).
    cap = int(z[0])
    for e in range(size):
        b = 1 + (base + e) * (cap + 2)
        v = a[offset + e] if z[b] == 0.0 else np.nan
        z[b] = 0.0
        for k in range(int(z[b + 1])):
            z[b + 2 + k] = v


@njit(cache=True, error_model="numpy")
def _delay_fixed_read(z, a, offset, base, size):
    # The outputs: the value each pipeline's pointer is at.
    cap = int(z[0])
    for e in range(size):
        b = 1 + (base + e) * (cap + 2)
        a[offset + e] = z[b + 2 + int(z[b])]


@njit(cache=True, error_model="numpy")
def _delay_fixed_push(z, a, offset, base, size):
    # The inputs (a[offset + e]) written where the pointers are, the pointers moved on.
    cap = int(z[0])
    for e in range(size):
        b = 1 + (base + e) * (cap + 2)
        ptr = int(z[b])
        z[b + 2 + ptr] = a[offset + e]
        ptr += 1
        if ptr >= int(z[b + 1]):
            ptr = 0
        z[b] = ptr


@njit(cache=True, error_model="numpy", inline="always")
def _save(row, y, a, p, runs, out):
    # Each run copies a contiguous block: (kind, source offset, column, length); kinds 0/1/2
    # read y/a/p, +3 marks a block allowed to be NaN (an explicit :NA:). Returns the first
    # non-finite column of a checked block, or -1. v - v is 0 for a finite v and NaN for NaN
    # or an infinity, so a block holds a non-finite value exactly when one of them is not 0;
    # the flags are or-ed (a one-cycle chain, where a sum of them waits on each addition),
    # while copying, and the blocks are searched (_first_nonfinite_saved) only when one is
    # set. No view of ``out`` is made here, not even in a branch never taken: a view's
    # reference counting made every save of a small model cost twice the copy.
    nonfinite = False
    for r in range(runs.shape[0]):
        kind = runs[r, 0]
        src = runs[r, 1]
        dst = runs[r, 2]
        n = runs[r, 3]
        k = kind - 3 if kind >= 3 else kind  # kind % 3, without a division
        block = False
        if k == 0:
            for i in range(n):
                v = y[src + i]
                out[row, dst + i] = v
                block |= v - v != 0.0
        elif k == 1:
            for i in range(n):
                v = a[src + i]
                out[row, dst + i] = v
                block |= v - v != 0.0
        else:
            for i in range(n):
                v = p[src + i]
                out[row, dst + i] = v
                block |= v - v != 0.0
        if kind < 3:
            nonfinite |= block
    if nonfinite:
        return _first_nonfinite_saved(row, runs, out)
    return -1


@njit(cache=True, error_model="numpy")
def _first_nonfinite_saved(row, runs, out):
    # The first non-finite column of row ``row`` of ``out`` in a checked block of ``runs``
    # (see _save), or -1.
    for r in range(runs.shape[0]):
        if runs[r, 0] < 3:
            dst = runs[r, 2]
            for i in range(runs[r, 3]):
                if not np.isfinite(out[row, dst + i]):
                    return dst + i
    return -1


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


# Helpers that take integer offsets, each compiled for one signature (:func:`typed`): numba
# compiles a function called from compiled code once for every set of literal arguments it
# is called with (``_lookup(p, 120, 5, x)``: the table's offset and length), so each lookup
# table and each fixed delay of each model compiled a copy of its helper, ~0.3-0.7 s each.
# With one signature, a call site's literal integers convert to int64 and every model shares
# the machine code cached on this machine (LLVM still folds the constants where it inlines).
_ARRAY = "float64[::1]"
_SIGNATURES = {
    "_lookup": f"float64({_ARRAY}, int64, int64, float64)",
    "_lookup_extrapolate": f"float64({_ARRAY}, int64, int64, float64)",
    "_delay_fixed_length": f"void({_ARRAY}, {_ARRAY}, int64, int64, int64, float64)",
    "_delay_fixed_fill": f"void({_ARRAY}, {_ARRAY}, int64, int64, int64)",
    "_delay_fixed_read": f"void({_ARRAY}, {_ARRAY}, int64, int64, int64)",
    "_delay_fixed_push": f"void({_ARRAY}, {_ARRAY}, int64, int64, int64)",
}
_TYPED: set[str] = set()
_TYPED_LOCK = threading.Lock()


def typed(source: str) -> None:
    """Compile (or load from numba's cache) the helpers of :data:`_SIGNATURES` that
    ``source`` (a generated module) calls, for their one signature, and disable their
    compiling for others, before numba compiles the module (once per process and helper)."""
    wanted = [name for name in _SIGNATURES if name not in _TYPED and f"{name}(" in source]
    if not wanted:
        return
    with _TYPED_LOCK:
        for name in wanted:
            if name in _TYPED:
                continue
            helper = globals()[name]
            helper.compile(_SIGNATURES[name])
            helper.disable_compile()
            _TYPED.add(name)


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
