"""Priors on parameters and sampling designs: the design matrix of an ensemble.

A sweep is described by its priors (one per sampled input) and a design. The design matrix is
made once from ``(design, seed, n, priors)``: every design first draws points in the unit
hypercube, then maps column ``j`` through the inverse CDF of prior ``j``. Member ``i`` of the
ensemble takes row ``i``, so a member's parameters depend only on the seed and its index, never
on chunking, threads or the machine that runs it.

Designs
-------
``random``
    Independent uniform draws (``numpy.random.default_rng(seed)``).
``lhs``
    Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`).
``sobol``
    Scrambled Sobol sequence (:class:`scipy.stats.qmc.Sobol`).
``saltelli``
    Saltelli's extension of the Sobol sequence for Sobol indices
    (:func:`SALib.sample.sobol.sample`): ``n`` is the base sample size N and the design has
    ``N (2D + 2)`` rows for D inputs.
``morris``
    Morris trajectories on a 4-level grid (:func:`SALib.sample.morris.sample`): ``n`` trajectories
    of ``D + 1`` rows each. Level k stands for the prior's ``(k + 1/2) / 4`` quantile.

Correlated inputs
-----------------
Rank correlations between inputs (:mod:`engine.priors`) enter as a Gaussian copula on each
row's unit points before the inverse CDFs, so each prior keeps its distribution and a "random"
design still makes its rows a chunk at a time. The sensitivity designs (saltelli, morris)
assume independent inputs and refuse correlations.

Unit points are kept within ``[1e-9, 1 - 1e-9]`` so that priors with unbounded support give finite
values. A prior may put at most 0.1% of its probability outside its parameter's bounds and is then
truncated to them; more is a ParameterError.

References
----------
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design and
estimator for the total sensitivity index. Computer Physics Communications 181, 259-270.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
Technometrics 33, 161-174.
McKay, M. D., Beckman, R. J. & Conover, W. J. (1979). A comparison of three methods for
selecting values of input variables in the analysis of output from a computer code.
Technometrics 21, 239-245.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from .errors import ParameterError, suggest
from .priors import _copula, check_correlated_design, declared_priors
from .spec import PRIOR_DISTRIBUTIONS, Model

__all__ = [
    "DESIGNS",
    "Prior",
    "Design",
    "RandomDesign",
    "resolve_priors",
    "make_design",
    "plan_design",
    "design_rows",
    "group_names",
    "frozen_distribution",
    "UNIT_MARGIN",
    "MIN_SALTELLI_N",
]

DESIGNS = ("random", "lhs", "sobol", "saltelli", "morris")
UNIT_MARGIN = 1e-9
OUTSIDE_TOLERANCE = 1e-3
MORRIS_LEVELS = 4
#: The smallest base sample of a saltelli design: below it the bootstrap of the indices has
#: next to nothing to resample (n=1: all resamples equal, a confidence half-width of 0).
MIN_SALTELLI_N = 4
_KEY = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<elements>[^\[\]]*)\])?\s*$")


@dataclass(frozen=True)
class Prior:
    """One sampled input: prior ``spec`` on parameter ``parameter`` (all its elements, or the
    one at flat position ``element`` of its value array when keyed ``"name[element]"``)."""

    key: str
    parameter: str
    element: int | None
    spec: Any
    distribution: Any = field(compare=False, repr=False)
    values: tuple[float, ...] | None = None  # a "choice" prior's values
    # The prior truncated to its parameter's bounds: probability window and bounds.
    window: tuple[float, float] | None = None
    bounds: tuple[float, float] = (-math.inf, math.inf)

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        """Values of the input at unit-interval points ``unit``."""
        if self.values is not None:
            k = len(self.values)
            picks = np.minimum((unit * k).astype(np.int64), k - 1)
            return np.asarray(self.values, dtype=float)[picks]
        if self.window is not None:
            low, high = self.window
            unit = low + np.asarray(unit) * (high - low)
        values = np.asarray(self.distribution.ppf(unit), dtype=float)
        return np.clip(values, *self.bounds)  # round-off at a truncation point

    def describe(self) -> str:
        """The prior as text (provenance)."""
        if isinstance(self.spec, (tuple, list)):
            return repr(tuple(self.spec))
        dist = getattr(self.spec, "dist", None)
        name = getattr(dist, "name", type(self.spec).__name__)
        return f"scipy.stats.{name}(args={self.spec.args!r}, kwds={self.spec.kwds!r})"


@dataclass(frozen=True)
class Design:
    """A design matrix: ``values`` (rows x inputs, natural units) and the ``unit`` points they
    came from, for ``priors`` in column order."""

    name: str
    n: int
    seed: int
    priors: tuple[Prior, ...]
    unit: np.ndarray
    values: np.ndarray
    correlation: np.ndarray | None = field(default=None, compare=False)
    #: saltelli: the group of each input (SALib groups; None: each input its own)
    groups: tuple[str, ...] | None = None

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def inputs(self) -> list[str]:
        return [p.key for p in self.priors]

    def problem(self) -> dict[str, Any]:
        """The SALib problem of the unit design (bounds [0, 1] per input)."""
        return {
            "num_vars": len(self.priors),
            "names": self.inputs,
            "bounds": [[0.0, 1.0]] * len(self.priors),
        }

    def block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``start:stop`` as (unit points, values)."""
        return self.unit[start:stop], self.values[start:stop]


@dataclass(frozen=True)
class RandomDesign:
    """A "random" design that makes its rows when asked (:meth:`block`), never all at once:
    row ``i`` is draws ``i d`` to ``(i + 1) d`` of the seed's PCG64 stream (one 64-bit draw a
    float), so any block has the bits of the same rows of :func:`make_design`'s matrix."""

    name: str
    n: int
    seed: int
    priors: tuple[Prior, ...]
    correlation: np.ndarray | None = field(default=None, compare=False)

    @property
    def rows(self) -> int:
        return self.n

    @property
    def inputs(self) -> list[str]:
        return [p.key for p in self.priors]

    def block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        d = len(self.priors)
        bits = np.random.PCG64(self.seed)  # what default_rng(seed) uses
        bits.advance(int(start) * d)
        rows = np.random.Generator(bits).random((int(stop) - int(start), d))
        return _natural(rows, "random", self.priors, self.correlation)

    @property
    def unit(self) -> np.ndarray:
        return self.block(0, self.n)[0]

    @property
    def values(self) -> np.ndarray:
        return self.block(0, self.n)[1]


def frozen_distribution(spec: Any, where: str = "prior") -> tuple[Any, tuple[float, ...] | None]:
    """The scipy frozen distribution of a prior tuple (or the values of a ``choice`` prior).

    Raises ParameterError on an unknown distribution or invalid parameters.
    """
    if hasattr(spec, "ppf") and hasattr(spec, "support"):
        return spec, None
    if not isinstance(spec, (tuple, list)) or not spec or not isinstance(spec[0], str):
        raise ParameterError(
            f"{where}: {spec!r} must be a tuple (distribution, *parameters), "
            "e.g. ('uniform', 5, 15), or a scipy.stats frozen distribution."
        )
    name, *args = spec
    if name not in PRIOR_DISTRIBUTIONS:
        raise ParameterError(
            f"{where}: unknown distribution {name!r}; choose one of "
            f"{', '.join(PRIOR_DISTRIBUTIONS)}." + suggest(name, PRIOR_DISTRIBUTIONS)
        )
    if len(args) != PRIOR_DISTRIBUTIONS[name]:
        raise ParameterError(
            f"{where}: a {name} prior takes {PRIOR_DISTRIBUTIONS[name]} "
            f"parameter(s), got {len(args)} in {tuple(spec)!r}."
        )
    if name == "choice":
        values = args[0]
        try:
            choices = tuple(float(v) for v in values)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{where}: a choice prior takes a list of numbers, got {values!r}."
            ) from None
        if not choices or not all(math.isfinite(v) for v in choices):
            raise ParameterError(f"{where}: a choice prior needs at least one finite value.")
        return None, choices
    try:
        a = [float(v) for v in args]
    except (TypeError, ValueError):
        raise ParameterError(
            f"{where}: the parameters of {tuple(spec)!r} must be numbers."
        ) from None
    if not all(math.isfinite(v) for v in a):
        raise ParameterError(f"{where}: the parameters of {tuple(spec)!r} must be finite.")

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ParameterError(f"{where}: {tuple(spec)!r} is invalid: {what}.")

    if name == "uniform":
        need(a[0] < a[1], "low must be below high")
        return stats.uniform(loc=a[0], scale=a[1] - a[0]), None
    if name == "normal":
        need(a[1] > 0, "sd must be positive")
        return stats.norm(loc=a[0], scale=a[1]), None
    if name == "truncnorm":
        mean, sd, low, high = a
        need(sd > 0, "sd must be positive")
        need(low < high, "low must be below high")
        return stats.truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd), None
    if name == "lognormal":
        need(a[1] > 0, "sigma (of the log) must be positive")
        return stats.lognorm(s=a[1], scale=math.exp(a[0])), None
    if name == "triangular":
        low, mode, high = a
        need(low < high and low <= mode <= high, "need low <= mode <= high and low < high")
        return stats.triang((mode - low) / (high - low), loc=low, scale=high - low), None
    if name == "beta":
        alpha, beta, low, high = a
        need(alpha > 0 and beta > 0, "a and b must be positive")
        need(low < high, "low must be below high")
        return stats.beta(alpha, beta, loc=low, scale=high - low), None
    raise AssertionError(name)  # pragma: no cover - PRIOR_DISTRIBUTIONS is exhaustive


def _element_position(model: Model, name: str, elements: str, key: str) -> int:
    var = model.variables[name]
    labels = [e.strip() for e in elements.split(",")]
    if len(labels) != len(var.dims):
        raise ParameterError(
            f"prior {key!r}: parameter {name!r} has dims {var.dims}; key one "
            f"element per dim, e.g. '{name}[{', '.join(var.dims)}]'."
        )
    position = []
    for dim, label in zip(var.dims, labels):
        known = model.dims[dim].elements
        if label not in known:
            raise ParameterError(
                f"prior {key!r}: {label!r} is not an element of {dim!r}." + suggest(label, known)
            )
        position.append(known.index(label))
    shape = tuple(len(model.dims[d]) for d in var.dims)
    return int(np.ravel_multi_index(tuple(position), shape))


def resolve_priors(model: Model, priors: Mapping[str, Any] | None) -> tuple[Prior, ...]:
    """Check ``priors`` against ``model`` and return them in a fixed order.

    ``priors`` maps a parameter name (one draw shared by all its elements) or
    ``"name[element,...]"`` (one element) to a prior. None takes the priors declared on the
    model's parameters (:func:`engine.priors.declared_priors`). Raises ParameterError for an
    unknown parameter or element, an invalid prior, or a prior that puts more than 0.1% of
    its probability outside the parameter's bounds. A prior with less outside (a normal on a
    non-negative rate, say) is truncated to the bounds, so that every draw is a valid value.
    """
    if priors is None:
        priors = declared_priors(model)
        if not priors:
            raise ParameterError(
                f"model {model.name!r} declares no priors; pass priors="
                "{'parameter': ('uniform', low, high), ...}."
            )
    if not isinstance(priors, Mapping) or not priors:
        raise ParameterError(
            "priors must be a non-empty mapping from parameter name to prior, "
            "e.g. {'characteristic_time': ('uniform', 5, 15)}."
        )
    known = [v.name for v in model.params]
    resolved: list[Prior] = []
    for key, spec in priors.items():
        match = _KEY.match(str(key))
        name = match.group("name") if match else str(key)
        var = model.variables.get(name)
        if var is None or var.kind != "param":
            why = (
                f"{name!r} is a {var.kind}, not a parameter"
                if var is not None
                else f"unknown parameter {name!r}"
            )
            raise ParameterError(
                f"prior {key!r}: {why} of model {model.name!r}." + suggest(name, known)
            )
        elements = match.group("elements") if match else None
        element = None if elements is None else _element_position(model, name, elements, key)
        where = f"prior of {key!r}"
        distribution, values = frozen_distribution(spec, where)
        prior = Prior(str(key), name, element, spec, distribution, values)
        resolved.append(_check_support(prior, var.bounds, where))
    # Two priors on one input (keys spelt differently: "k" and " k", "p[a]" and "p[ a ]")
    # would make two design columns of which the run uses one.
    seen: dict[tuple[str, int | None], str] = {}
    for prior in resolved:
        other = seen.setdefault((prior.parameter, prior.element), prior.key)
        if other != prior.key:
            raise ParameterError(
                f"priors {other!r} and {prior.key!r} are both for "
                f"{prior.parameter!r}"
                + ("" if prior.element is None else " (the same element)")
                + "; give one prior per parameter or element."
            )
    # Whole-parameter priors first, so that a "name[element]" prior overrides its element.
    resolved.sort(key=lambda p: p.element is not None)
    return tuple(resolved)


def _check_support(prior: Prior, bounds: tuple[float | None, float | None], where: str) -> Prior:
    """``prior``, truncated to ``bounds`` if it puts a little probability outside them."""
    lo, hi = bounds
    lo_f = -math.inf if lo is None else float(lo)
    hi_f = math.inf if hi is None else float(hi)
    fix = (
        f"Narrow the prior, or use a truncated prior such as ('truncnorm', mean, sd, "
        f"{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'})."
    )
    if prior.values is not None:
        outside = [v for v in prior.values if not lo_f <= v <= hi_f]
        if outside:
            raise ParameterError(
                f"{where}: the choices {outside} are outside the parameter's bounds [{lo}, {hi}]."
            )
        return prior
    dist = prior.distribution
    with np.errstate(all="ignore"):
        below = float(dist.cdf(lo_f)) if lo is not None else 0.0
        above = float(dist.sf(hi_f)) if hi is not None else 0.0
        if below + above > OUTSIDE_TOLERANCE or not below < 1 - above:
            low, high = (float(v) for v in dist.ppf([UNIT_MARGIN, 1 - UNIT_MARGIN]))
            raise ParameterError(
                f"{where}: the prior reaches [{low:g}, {high:g}] and puts "
                f"{100 * min(1.0, below + above):.3g}% of its probability outside the "
                f"parameter's bounds [{lo}, {hi}]. " + fix
            )
        window = None
        if below > UNIT_MARGIN or above > UNIT_MARGIN:
            window = (max(below, UNIT_MARGIN), min(1 - above, 1 - UNIT_MARGIN))
        prior = replace(prior, window=window, bounds=(lo_f, hi_f))
        ends = prior.ppf(np.array([UNIT_MARGIN, 1 - UNIT_MARGIN]))
    if not np.all(np.isfinite(ends)):
        raise ParameterError(f"{where}: the prior gives non-finite values; check its parameters.")
    return prior


def design_rows(design: str, n: int, inputs: int) -> int:
    """Number of rows (ensemble members) of a design of size ``n`` over ``inputs`` inputs."""
    if design == "saltelli":
        return n * (2 * inputs + 2)
    if design == "morris":
        return n * (inputs + 1)
    return n


def check_design(design: str, n: Any, seed: Any) -> tuple[int, int]:
    """Validate the design name, ``n`` and ``seed``; return them as ints."""
    if design not in DESIGNS:
        raise ParameterError(
            f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}."
            + suggest(str(design), DESIGNS)
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(
            f"n={n!r} must be a positive integer (the number of members, base "
            "samples for 'saltelli' or trajectories for 'morris')."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(
            f"seed={seed!r} must be a non-negative integer; seeds are always "
            "explicit, so that a sweep can be repeated."
        )
    if design == "morris" and n < 2:
        raise ParameterError("a morris design needs n >= 2 trajectories.")
    if design == "saltelli" and n < MIN_SALTELLI_N:
        raise ParameterError(
            f"a saltelli design needs n >= {MIN_SALTELLI_N} base samples, got n={n}: with fewer "
            "the indices are noise and their bootstrap confidence intervals collapse to zero "
            f"(n=1 gives S1 > 1 with a half-width of 1e-15). Use n={MIN_SALTELLI_N} for a "
            "smoke test and n >= 512 (a power of 2) for indices to about two decimals."
        )
    return int(n), int(seed)


def _qmc(kind: type, d: int, seed: int, **options: Any) -> Any:
    try:
        return kind(d, rng=np.random.default_rng(seed), **options)
    except TypeError:  # scipy < 1.15 names the generator ``seed``
        return kind(d, seed=np.random.default_rng(seed), **options)


def group_names(groups: Sequence[str] | None) -> list[str]:
    """The distinct groups in order of first appearance (SALib's order of its indices)."""
    return list(dict.fromkeys(groups or ()))


def _unit_points(
    design: str, n: int, seed: int, d: int, groups: Sequence[str] | None = None
) -> np.ndarray:
    if design == "random":
        return np.random.default_rng(seed).random((n, d))
    if design == "lhs":
        return np.asarray(_qmc(qmc.LatinHypercube, d, seed).random(n))
    if design == "sobol":
        # Draw the enclosing power of two (Sobol's balance holds there) and keep the first n
        # points, which are those random(n) would return, without scipy's balance warning.
        m = max(0, math.ceil(math.log2(n)))
        return np.asarray(_qmc(qmc.Sobol, d, seed).random_base2(m)[:n])
    problem: dict[str, Any] = {
        "num_vars": d,
        "names": [f"x{j}" for j in range(d)],
        "bounds": [[0.0, 1.0]] * d,
    }
    if groups is not None:
        problem["groups"] = list(groups)
    with warnings.catch_warnings():
        # SALib warns when N is not a power of two; the design is still valid.
        warnings.simplefilter("ignore")
        if design == "saltelli":
            from SALib.sample import sobol as saltelli

            return np.asarray(
                saltelli.sample(problem, n, calc_second_order=True, scramble=True, seed=seed)
            )
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed))


def make_design(
    design: str,
    n: int,
    seed: int,
    priors: Sequence[Prior],
    correlation: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
) -> Design:
    """The design matrix of a sweep, made once from ``(design, seed, n, priors)``.

    Parameters
    ----------
    design : {"random", "lhs", "sobol", "saltelli", "morris"}
    n : int
        Members; base sample size N for "saltelli" (N (2D + 2) rows); trajectories for
        "morris" (n (D + 1) rows).
    seed : int
        The seed of the design (no global random state is used).
    priors : sequence of Prior
        From :func:`resolve_priors`, in column order.
    correlation : ndarray, optional
        The normal correlation matrix of a Gaussian copula between the columns (from
        :func:`engine.priors.resolve_correlations`); None: independent inputs.
    groups : sequence of str, optional
        "saltelli" only: the group of each prior (SALib groups): indices are computed per
        group, and the design has N (2G + 2) rows for G groups instead of N (2D + 2).

    Examples
    --------
    >>> import engine
    >>> from engine.sampling import make_design, resolve_priors
    >>> m = engine.Model("toy")
    >>> m.param("k", 1.0, bounds=(0, None))
    >>> d = make_design("lhs", 4, 0, resolve_priors(m, {"k": ("uniform", 1, 2)}))
    >>> d.values.shape
    (4, 1)
    """
    n, seed = check_design(design, n, seed)
    priors = tuple(priors)
    check_correlated_design(design, correlation)
    if groups is not None:
        groups = tuple(str(g) for g in groups)
        if design != "saltelli" or len(groups) != len(priors):
            raise ParameterError(
                "groups are for the 'saltelli' design, one group name per sampled parameter."
            )
    unit, values = _natural(
        _unit_points(design, n, seed, len(priors), groups), design, priors, correlation
    )
    return Design(design, n, seed, priors, unit, values, correlation=correlation, groups=groups)


def plan_design(
    design: str,
    n: int,
    seed: int,
    priors: Sequence[Prior],
    correlation: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
) -> Design | RandomDesign:
    """The design of a sweep as the sweep uses it: a "random" design makes each chunk's rows
    when the chunk runs (:class:`RandomDesign`); the others are made whole (lhs strata and
    the sobol, saltelli and morris sequences span all rows) by :func:`make_design`."""
    if design == "random":
        n, seed = check_design(design, n, seed)
        return RandomDesign(design, n, seed, tuple(priors), correlation)
    return make_design(design, n, seed, priors, correlation, groups)


def _natural(
    unit: np.ndarray,
    design: str,
    priors: Sequence[Prior],
    correlation: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(unit points, values in natural units) of a block of design rows."""
    if correlation is not None:
        unit = _copula(unit, correlation)
    if design == "morris":
        # Grid level k of L stands for the middle of the k-th of L equal-probability bins, so
        # that unbounded priors are screened over their body, not their far tails.
        probability = (unit * (MORRIS_LEVELS - 1) + 0.5) / MORRIS_LEVELS
    else:
        unit = np.clip(unit, UNIT_MARGIN, 1 - UNIT_MARGIN)
        probability = unit
    values = np.empty_like(unit)
    for j, prior in enumerate(priors):
        values[:, j] = prior.ppf(probability[:, j])
    unit.setflags(write=False)
    values.setflags(write=False)
    return unit, values


def assignments(priors: Sequence[Prior], slots: Mapping[str, Any]) -> list[tuple[int, np.ndarray]]:
    """Per design column, the positions in the parameter vector ``p`` it sets."""
    out = []
    for j, prior in enumerate(priors):
        slot = slots[prior.parameter]
        if prior.element is None:
            where = np.arange(slot.offset, slot.offset + slot.size, dtype=np.int64)
        else:
            where = np.array([slot.offset + prior.element], dtype=np.int64)
        out.append((j, where))
    return out


def parameter_rows(
    base: np.ndarray, values: np.ndarray, assign: Sequence[tuple[int, np.ndarray]]
) -> np.ndarray:
    """Full parameter vectors for design rows ``values``: ``base`` with the sampled inputs set."""
    P = np.repeat(base[None, :], values.shape[0], axis=0)
    for j, where in assign:
        P[:, where] = values[:, j : j + 1]
    return P
