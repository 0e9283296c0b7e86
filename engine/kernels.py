"""Model-independent numba helpers shared by every generated kernel module.

Generated modules (:mod:`engine.compiler`) import these instead of defining their own copies,
so numba compiles them once per machine (``cache=True``: the machine code is kept beside this
file, or in numba's user cache when this folder is read-only), not once per model; a model's
cold compile then spends its time on the model's own code. They see only floats and flat
float64 arrays, like the rest of the kernels.

- Vensim builtins: ``_lookup`` / ``_lookup_extrapolate`` (tables stored in ``p`` as xs then ys),
  ``_interp``, ``_integer``, ``_modulo``, ``_xidz``, ``_zidz``, ``_step``, ``_ramp``, ``_pulse``,
  ``_pulse_train``, ``_random_uniform``, ``_quantum``;
- saving: ``_save`` copies the requested outputs of one save time and ``_first_nonfinite``
  finds a non-finite value (the solvers of :mod:`engine.solvers` call both);
- ``_zeros``: the solvers' work arrays;
- ``STATUS_OK``, ``STATUS_NONFINITE_STATE``, ...: the codes of :class:`engine.solvers.Status`
  as plain integers, which the solvers return (numba freezes them into the machine code).

:data:`SOURCE_HASH` (a hash of this file and of the status codes) is written into every
generated module, so that a change here gives every model a new cache key and no stale machine
code is reused.
"""

import hashlib
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


@njit(cache=True, error_model="numpy")
def _random_uniform(low, high, seed, t, site):
    # splitmix64 over (seed, time, site): a uniform draw in [low, high) without global state.
    x = np.uint64(int(seed) * 1000003 + site) ^ np.uint64(int(np.round(t * 1048576.0)))
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    u = float(x >> np.uint64(11)) / 9007199254740992.0
    return low + (high - low) * u


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
