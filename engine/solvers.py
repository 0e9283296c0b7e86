"""Solvers: the stepping rules, as source templates compiled into each model's kernel module.

Each solver is a numba function ``run_<method>(p, y, a, z, t0, h, n_steps, save,
runs, out, info)`` that initialises the model, steps it and writes the requested
outputs at the steps flagged in ``save`` into ``out`` (save rows x output columns). It
returns a :class:`Status` code (as the integer constants ``STATUS_OK``, ``STATUS_NONFINITE_STATE``,
... that generated modules import from :mod:`engine.kernels`); ``info`` (fields named by
:class:`Info`) receives the time and the slot at fault. The rules:

- ``euler``: Vensim's semantics. At each step the state at ``t`` gives every auxiliary and flow
  at ``t``; outputs are saved from these; then ``y(t + dt) = y(t) + dt * f(t, y(t))``.
- ``rk4``: the classical fourth-order Runge-Kutta method with fixed step ``dt``.
- ``rk45``: Dormand-Prince 5(4) with adaptive steps (``rtol``, ``atol`` on the stocks) and
  Hairer's 5th-order dense output at the save times, so saving does not shorten steps.
  A model with discrete updates needs fixed steps; the only ``post_step`` code an rk45 run
  meets is the clamp of non-negative stocks given a rate, applied after every accepted step
  (the rates then recomputed from the clamped state) and to the dense output.

Kernels see only flat float64 arrays; failures travel out of them as a :class:`Status` and
become exceptions at one boundary, :func:`engine.simulation.check_status` (as diffrax's
``RESULTS``).

A template line that starts (after its indentation) with a hook name in braces, ``{pre_step}``
or ``{post_step}``, is kept only when the model has code for that hook: the compiler
(:mod:`engine.compiler.assembly`) removes the name, or the whole line when the model has none
(the call would do nothing, and each called function costs numba a compilation of its own, about
0.15 s cold). Lines that exist only for ``post_step`` (checks that a discrete update may need)
carry ``{post_step}`` as well. ``{fused}`` marks Euler's fused step (``_euler_fused``,
whose code the compiler writes in place of the call, as it does the rates' and the update's:
the rates and the stock update in one pass, :func:`engine.compiler.fusion.fuse_step`), which
a small model without ``pre_step`` runs at the steps that save nothing when its loops can fuse;
a line marked with several hooks is kept when the model has code for each. An unknown hook
name is an error.

References
----------
.. [1] J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", J. Comput.
   Appl. Math. 6 (1980) 19-26.
.. [2] E. Hairer, S. P. Norsett, G. Wanner, "Solving Ordinary Differential Equations I",
   2nd ed., Springer (1993), sec. II.5-II.6 (DOPRI5 and its dense output).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["METHODS", "Status", "Info", "STATUS_CONSTANTS", "SOURCE", "HOOKS"]

METHODS = ("euler", "rk4", "rk45")
# The optional steps a template marks (see above), each a function of the generated module.
HOOKS = ("pre_step", "post_step", "fused")


class Status(IntEnum):
    """What a solver kernel returns: how the run ended.

    The kernels return the plain integers (as the module constants ``STATUS_<NAME>`` of
    :mod:`engine.kernels`, see :data:`STATUS_CONSTANTS`); :func:`engine.simulation.check_status`
    turns anything but ``OK`` into an :class:`engine.IntegrationError`, and an ensemble stores
    the code per member in its ``status`` variable, so the values are part of the store format.
    """

    #: The run reached its stop time with every value finite.
    OK = 0
    #: A stock became non-finite (``info[TIME]``, ``info[INDEX]``: when, which slot of ``y``).
    NONFINITE_STATE = 1
    #: A saved output was non-finite (``info[INDEX]``: the output column).
    NONFINITE_OUTPUT = 2
    #: rk45 took more than 10,000,000 steps.
    TOO_MANY_STEPS = 3
    #: rk45's step fell below 1e-12 with every value finite (or a dynamic dt was not positive).
    STEP_TOO_SMALL = 4
    #: The dynamic-settings Euler kernel ran out of output rows (the caller grows them).
    OUT_OF_ROOM = 5


class Info(IntEnum):
    """Fields of a kernel's ``info`` array (length :attr:`SIZE`; one row per ensemble member).

    The templates below index ``info`` by these numbers.
    """

    #: out: the time of a failure.
    TIME = 0
    #: out: the slot at fault (a stock's index in ``y``, or an output column).
    INDEX = 1
    #: in: rk45's relative and absolute tolerances.
    RTOL = 2
    ATOL = 3
    #: in: rk45's first step (0: the save period); out: the number of steps rk45 took.
    STEPS = 4
    #: out: rows saved by the dynamic-settings Euler kernel.
    ROWS = 5
    #: in: Euler checks the stocks at every step when non-zero.
    CHECK_EVERY_STEP = 6
    #: out: the :class:`Status` (written by the ensemble kernels and by the callers of one run).
    STATUS = 7
    #: The length of the array.
    SIZE = 8


#: The status codes as the module-level integers the generated kernels import (numba freezes
#: global integers into the machine code, so a named constant costs nothing).
STATUS_CONSTANTS = {f"STATUS_{status.name}": int(status) for status in Status}

_EULER = """
@njit(cache=True, error_model="numpy")
def run_euler(p, y, a, z, t0, h, n_steps, save, runs, out, info):
    # A stock that turns non-finite stays so (the update only adds to it, and NaN and
    # infinities absorb additions), so stocks are checked at the end of the run, and at a
    # save step only when an output is non-finite (to name the stock it came from) or when
    # the model has discrete updates that may move or clamp a value away (the lines marked
    # "discrete", left out of models without them). With info[6] set they are checked at
    # every step: a caller runs a failed run again so to name the exact time.
    every = info[6] != 0.0
    init(t0, p, y, a, z, h)
    dydt = _zeros(y.shape[0])
    row = 0
    for step in range(n_steps + 1):
        t = t0 + step * h
        {fused} if step < n_steps and not save[step]:
            {fused} # a step saving nothing: the rates and the update fused (same bits)
            {fused} _euler_fused(t, y, p, a, z, h, dydt)
            {fused} {post_step} post_step(step + 1, y, p, a, z, h)
            {fused} if every:
                {fused} bad = _first_nonfinite(y)
                {fused} if bad >= 0:
                    {fused} info[0] = t0 + (step + 1) * h
                    {fused} info[1] = bad
                    {fused} return STATUS_NONFINITE_STATE
            {fused} continue
        _euler_rates(t, y, p, a, z, h, dydt)
        if save[step]:
            {post_step} bad = _first_nonfinite(y)  # discrete
            {post_step} if bad >= 0:  # discrete
                {post_step} info[0] = t  # discrete
                {post_step} info[1] = bad  # discrete
                {post_step} return STATUS_NONFINITE_STATE  # discrete
            aux_out(t, y, p, a, z, h)
            bad = _save(row, y, a, p, runs, out)
            row += 1
            if bad >= 0:
                info[0] = t
                stock = _first_nonfinite(y)
                if stock >= 0:
                    info[1] = stock
                    return STATUS_NONFINITE_STATE
                info[1] = bad
                return STATUS_NONFINITE_OUTPUT
        if step == n_steps:
            break
        {pre_step} pre_step(t, y, p, a, z, h)
        _euler_update(y, a, h, dydt)
        {post_step} post_step(step + 1, y, p, a, z, h)
        if every:
            bad = _first_nonfinite(y)
            if bad >= 0:
                info[0] = t0 + (step + 1) * h
                info[1] = bad
                return STATUS_NONFINITE_STATE
    bad = _first_nonfinite(y)
    if bad >= 0:
        info[0] = t0 + n_steps * h
        info[1] = bad
        return STATUS_NONFINITE_STATE
    return STATUS_OK
"""

_RK4 = """
@njit(cache=True, error_model="numpy")
def run_rk4(p, y, a, z, t0, h, n_steps, save, runs, out, info):
    init(t0, p, y, a, z, h)
    n = y.shape[0]
    k1 = _zeros(n)
    k2 = _zeros(n)
    k3 = _zeros(n)
    k4 = _zeros(n)
    w = _zeros(n)
    row = 0
    for step in range(n_steps + 1):
        t = t0 + step * h
        deriv(t, y, p, a, z, h, k1)
        if save[step]:
            aux_out(t, y, p, a, z, h)
            bad = _save(row, y, a, p, runs, out)
            row += 1
            if bad >= 0:
                info[0] = t
                info[1] = bad
                return STATUS_NONFINITE_OUTPUT
        if step == n_steps:
            break
        {pre_step} pre_step(t, y, p, a, z, h)
        for i in range(n):
            w[i] = y[i] + 0.5 * h * k1[i]
        deriv(t + 0.5 * h, w, p, a, z, h, k2)
        for i in range(n):
            w[i] = y[i] + 0.5 * h * k2[i]
        deriv(t + 0.5 * h, w, p, a, z, h, k3)
        for i in range(n):
            w[i] = y[i] + h * k3[i]
        deriv(t + h, w, p, a, z, h, k4)
        for i in range(n):
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        {post_step} post_step(step + 1, y, p, a, z, h)
        bad = _first_nonfinite(y)
        if bad >= 0:
            info[0] = t0 + (step + 1) * h
            info[1] = bad
            return STATUS_NONFINITE_STATE
    return STATUS_OK
"""

_RK45 = """
@njit(cache=True, error_model="numpy")
def run_rk45(p, y, a, z, t0, h, n_steps, save, runs, out, info):
    # Here h is the save period, n_steps the number of save periods; info[2:4] = rtol, atol,
    # info[4] the first step.
    rtol = info[2]
    atol = info[3]
    init(t0, p, y, a, z, h)
    n = y.shape[0]
    t_end = t0 + n_steps * h
    k1 = _zeros(n); k2 = _zeros(n); k3 = _zeros(n); k4 = _zeros(n)
    k5 = _zeros(n); k6 = _zeros(n); k7 = _zeros(n)
    w = _zeros(n); y1 = _zeros(n); ys = _zeros(n); r5 = _zeros(n)
    t = t0
    deriv(t, y, p, a, z, h, k1)
    aux_out(t, y, p, a, z, h)
    bad = _save(0, y, a, p, runs, out)
    if bad >= 0:
        info[0] = t
        info[1] = bad
        return STATUS_NONFINITE_OUTPUT
    row = 1
    step = info[4]
    if step <= 0.0:
        step = h
    span = t_end - t0
    if step > span:
        step = span
    steps = 0
    # The stock whose trial value or rate was last non-finite (-1: none). A step shrunk to
    # nothing because the state overflows is an overflow, not stiffness.
    overflow = -1
    while row <= n_steps:
        steps += 1
        if steps > 10000000:
            info[0] = t
            return STATUS_TOO_MANY_STEPS
        if step < 1e-12 * max(1.0, abs(t)):
            info[0] = t
            if overflow >= 0:
                info[1] = overflow
                return STATUS_NONFINITE_STATE
            return STATUS_STEP_TOO_SMALL
        last = False
        if t + step >= t_end:
            step = t_end - t
            last = True
        for i in range(n):
            w[i] = y[i] + step * (0.2 * k1[i])
        deriv(t + 0.2 * step, w, p, a, z, h, k2)
        for i in range(n):
            w[i] = y[i] + step * (3.0 / 40.0 * k1[i] + 9.0 / 40.0 * k2[i])
        deriv(t + 0.3 * step, w, p, a, z, h, k3)
        for i in range(n):
            w[i] = y[i] + step * (44.0 / 45.0 * k1[i] - 56.0 / 15.0 * k2[i] + 32.0 / 9.0 * k3[i])
        deriv(t + 0.8 * step, w, p, a, z, h, k4)
        for i in range(n):
            w[i] = y[i] + step * (19372.0 / 6561.0 * k1[i] - 25360.0 / 2187.0 * k2[i]
                                  + 64448.0 / 6561.0 * k3[i] - 212.0 / 729.0 * k4[i])
        deriv(t + 8.0 / 9.0 * step, w, p, a, z, h, k5)
        for i in range(n):
            w[i] = y[i] + step * (9017.0 / 3168.0 * k1[i] - 355.0 / 33.0 * k2[i]
                                  + 46732.0 / 5247.0 * k3[i] + 49.0 / 176.0 * k4[i]
                                  - 5103.0 / 18656.0 * k5[i])
        deriv(t + step, w, p, a, z, h, k6)
        for i in range(n):
            y1[i] = y[i] + step * (35.0 / 384.0 * k1[i] + 500.0 / 1113.0 * k3[i]
                                   + 125.0 / 192.0 * k4[i] - 2187.0 / 6784.0 * k5[i]
                                   + 11.0 / 84.0 * k6[i])
        deriv(t + step, y1, p, a, z, h, k7)
        err = 0.0
        for i in range(n):
            e = step * (71.0 / 57600.0 * k1[i] - 71.0 / 16695.0 * k3[i] + 71.0 / 1920.0 * k4[i]
                        - 17253.0 / 339200.0 * k5[i] + 22.0 / 525.0 * k6[i] - 1.0 / 40.0 * k7[i])
            scale = atol + rtol * max(abs(y[i]), abs(y1[i]))
            err += (e / scale) ** 2
        err = np.sqrt(err / max(n, 1))
        if not np.isfinite(err):
            overflow = 0
            for i in range(n):
                if not (np.isfinite(y1[i]) and np.isfinite(k7[i])):
                    overflow = i
                    break
            step *= 0.1
            continue
        overflow = -1
        if err > 1.0:
            step *= max(0.2, 0.9 * err ** -0.2)
            continue
        t_new = t_end if last else t + step
        # Dense output at every save time in (t, t_new].
        while row <= n_steps and t0 + row * h <= t_new + 1e-12 * max(1.0, abs(t_new)):
            ts = t0 + row * h
            theta = (ts - t) / step
            if theta > 1.0:
                theta = 1.0
            theta1 = 1.0 - theta
            for i in range(n):
                dy = y1[i] - y[i]
                bspl = step * k1[i] - dy
                r4 = dy - step * k7[i] - bspl
                r5[i] = step * (-12715105075.0 / 11282082432.0 * k1[i]
                                + 87487479700.0 / 32700410799.0 * k3[i]
                                - 10690763975.0 / 1880347072.0 * k4[i]
                                + 701980252875.0 / 199316789632.0 * k5[i]
                                - 1453857185.0 / 822651844.0 * k6[i]
                                + 69997945.0 / 29380423.0 * k7[i])
                ys[i] = y[i] + theta * (dy + theta1 * (bspl + theta * (r4 + theta1 * r5[i])))
            {post_step} post_step(0, ys, p, a, z, h)
            deriv(ts, ys, p, a, z, h, w)
            aux_out(ts, ys, p, a, z, h)
            bad = _save(row, ys, a, p, runs, out)
            if bad >= 0:
                info[0] = ts
                info[1] = bad
                return STATUS_NONFINITE_OUTPUT
            row += 1
        for i in range(n):
            y[i] = y1[i]
            k1[i] = k7[i]
        t = t_new
        {post_step} post_step(0, y, p, a, z, h)
        {post_step} for i in range(n):  # discrete
            {post_step} if y[i] != y1[i]:  # discrete
                {post_step} deriv(t, y, p, a, z, h, k1)  # discrete
                {post_step} break  # discrete
        bad = _first_nonfinite(y)
        if bad >= 0:
            info[0] = t
            info[1] = bad
            return STATUS_NONFINITE_STATE
        factor = 10.0 if err == 0.0 else min(10.0, max(0.2, 0.9 * err ** -0.2))
        step *= factor
    info[4] = steps
    return STATUS_OK
"""

_MEMBERS = """
@njit(cache=True, parallel=True, error_model="numpy")
def run_members_METHOD(P, t0, h, n_steps, save, runs, out, info, nz, zcap):
    # One ensemble chunk: member m runs with parameter row P[m] and writes out[m]. Members
    # are independent, so results do not depend on the number of threads or the chunking.
    for m in prange(P.shape[0]):
        y = _zeros(NY)
        a = _zeros(NA)
        z = _zeros(nz)
        z[0] = zcap
        status = run_METHOD(P[m], y, a, z, t0, h, n_steps, save, runs, out[m], info[m])
RERUN
        info[m, 7] = status
"""

# Euler finds a non-finite stock after the fact (see run_euler): the member runs again checking
# every step, so that its failure time is exact.
_RERUN = """        if status == STATUS_NONFINITE_STATE:
            y[:] = 0.0
            a[:] = 0.0
            z[:] = 0.0
            z[0] = zcap
            info[m, 6] = 1.0
            status = run_euler(P[m], y, a, z, t0, h, n_steps, save, runs, out[m], info[m])
            info[m, 6] = 0.0"""

# For models whose run settings change during the run (Vensim control variables that are
# equations): dt, the final time and the save period are read from auxiliaries every step,
# as Vensim and PySD do. Saves where (t - t0) is within 1e-5 dt of a multiple of SAVEPER.
_EULER_DYNAMIC = """
@njit(cache=True, error_model="numpy")
def run_euler_dynamic(p, y, a, z, t0, runs, out, times, info):
    init(t0, p, y, a, z, 1.0)
    dydt = _zeros(y.shape[0])
    row = 0
    t = t0
    h = 1.0
    while True:
        aux(t, y, p, a, z, h)
        h = _control_dt(a, p)
        deriv(t, y, p, a, z, h, dydt)
        final = _control_stop(a, p)
        saveper = _control_saveper(a, p)
        prec = h * 1e-5
        delay = t - t0
        if delay % saveper < prec or (-delay) % saveper < prec:
            if row >= out.shape[0]:
                return STATUS_OUT_OF_ROOM
            aux_out(t, y, p, a, z, h)
            bad = _save(row, y, a, p, runs, out)
            times[row] = t
            row += 1
            if bad >= 0:
                info[0] = t
                info[1] = bad
                return STATUS_NONFINITE_OUTPUT
        if not (t + h * 1e-5 < final):
            break
        if not (h > 0.0):
            info[0] = t
            return STATUS_STEP_TOO_SMALL
        {pre_step} pre_step(t, y, p, a, z, h)
        for i in range(y.shape[0]):
            y[i] += h * dydt[i]
        {post_step} post_step(1, y, p, a, z, h)
        t += h
        bad = _first_nonfinite(y)
        if bad >= 0:
            info[0] = t
            info[1] = bad
            return STATUS_NONFINITE_STATE
    info[5] = row
    return STATUS_OK
"""

# One ensemble kernel per method (``run_members_euler``, ...), so a sweep compiles only the
# solver it uses.
SOURCE = {
    "euler": _EULER,
    "rk4": _RK4,
    "rk45": _RK45,
    "euler_dynamic": _EULER_DYNAMIC,
    **{
        f"members_{m}": _MEMBERS.replace("METHOD", m).replace(
            "RERUN\n", _RERUN + "\n" if m == "euler" else ""
        )
        for m in METHODS
    },
}
