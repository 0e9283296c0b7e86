"""Priors by name: the model's declared priors merged with a user's, the table ``describe``
lists, per-element priors and correlations between inputs (a Gaussian copula).

A model declares priors on its parameters (``Model.param(..., prior=...)``). A sweep's priors
are those, with a user's added or overriding them by key (:func:`merge_priors`): a key names a
parameter (one draw shared by all its elements) or one element, ``"name[element]"``. Nothing is
dropped unless asked for (a key mapped to None); an unknown name is an error with a
suggestion. :func:`prior_table` lists every prior of a sweep with where it came from.

Correlations are Spearman rank correlations between inputs (:func:`resolve_correlations`),
imposed on each design row's unit points by a Gaussian copula: ``z = Phi^-1(u)``, ``z' = L z``
with ``L L^T = R``, ``u' = Phi(z')``, where ``R`` holds the normal correlations
``2 sin(pi rho_s / 6)`` whose rank correlations are the ones asked for (Kruskal 1958); each
input keeps its own prior (Nelsen 2006, sec. 2.3 and 5.1).

References
----------
Kruskal, W. H. (1958). Ordinal measures of association. Journal of the American Statistical
Association 53, 814-861 (the rank correlation of a bivariate normal: (6/pi) arcsin(r/2)).
Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed. Springer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from .errors import ParameterError, suggest
from .spec import Model

if TYPE_CHECKING:
    from .sampling import Prior

__all__ = [
    "declared_priors",
    "declared_correlations",
    "merge_priors",
    "prior_table",
    "per_element",
    "resolve_correlations",
    "check_correlated_design",
]

UNIT_MARGIN = 1e-9  # as engine.sampling's: unit points kept inside (0, 1)
_KEY = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<elements>[^\[\]]*)\])?\s*$")


def merge_priors(model: Model, priors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The priors of a sweep: the model's declared priors with ``priors`` added or overriding
    them by key.

    A key names a parameter (one draw shared by its elements) or one element,
    ``"name[element, ...]"``; keys are compared once spaces are normalised (``"k "`` is
    ``"k"``). A key mapped to None drops that prior (the only way one is dropped). A
    ``"name[element]"`` prior beside a whole-parameter ``"name"`` prior overrides that element
    (:func:`engine.sampling.resolve_priors` puts it after).

    Raises ParameterError for an unknown parameter or element (with a suggestion), a key that
    is not a parameter, or None for a prior that does not exist.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("toy")
    >>> _ = m.param("k", 1.0, prior=("uniform", 0.5, 2))
    >>> _ = m.param("c", 2.0, prior=("normal", 2, 0.1))
    >>> merge_priors(m, {"c": ("uniform", 1, 3)})
    {'k': ('uniform', 0.5, 2), 'c': ('uniform', 1, 3)}
    >>> merge_priors(m, {"k": None, "c": ("uniform", 1, 3)})
    {'c': ('uniform', 1, 3)}
    """
    merged = declared_priors(model)
    if priors is None:
        return merged
    if not isinstance(priors, Mapping):
        raise ParameterError(
            "priors must be a mapping from parameter name (or 'name[element]') to prior, "
            "e.g. {'characteristic_time': ('uniform', 5, 15)}."
        )
    for key, spec in priors.items():
        canonical = _check_key(model, str(key))
        if spec is None:
            if canonical not in merged:
                raise ParameterError(
                    f"prior {key!r}: None drops a prior, but there is none keyed "
                    f"{canonical!r}; the priors are {', '.join(merged) or 'none'}."
                    + suggest(canonical, list(merged))
                )
            del merged[canonical]
            continue
        if "[" not in canonical:  # the parameter's prior by name replaces its elements' too
            for other in [k for k in merged if k.startswith(canonical + "[")]:
                del merged[other]
        merged[canonical] = spec
    return merged


def declared_priors(model: Model) -> dict[str, Any]:
    """The priors the model declares: ``{name: prior}``, or ``{"name[element]": prior}`` for
    every element of a parameter declared with ``prior_per_element``."""
    out: dict[str, Any] = {}
    for var in model.params:
        if var.prior is None:
            continue
        if var.prior_per_element:
            out.update(per_element(model, var.name, var.prior))
        else:
            out[var.name] = var.prior
    return out


def declared_correlations(
    model: Model, priors: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """The rank correlations the model declares between the elements of a parameter
    (``prior_correlation``), for those parameters that still have per-element priors in
    ``priors`` (default: the model's own): ``{name: rho}``, as ``correlations=`` takes it."""
    keys = declared_priors(model) if priors is None else priors
    out = {}
    for var in model.params:
        if var.prior_correlation is None or not var.prior_correlation:
            continue
        if sum(str(k).startswith(var.name + "[") for k in keys) >= 2:
            out[var.name] = var.prior_correlation
    return out


def prior_table(model: Model, priors: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every prior of a sweep, for ``describe``: one row per key of :func:`merge_priors`
    (and one per declared prior that ``priors`` dropped), in the model's order, then the
    user's new keys.

    Each row holds ``key``, ``parameter``, ``units``, ``bounds``, ``default`` (the
    parameter's value: a list for a subscripted one), ``prior`` (the prior as text, None when
    dropped), ``source``: "model", "user" (a new key), "user, overrides model: <prior>"
    or "model, dropped by user", and ``correlation``: the rank correlation the model declares
    between the parameter's elements, on per-element rows (None elsewhere).
    """
    merged = merge_priors(model, priors)
    declared = declared_priors(model)
    correlated = declared_correlations(model, merged)
    keys = list(declared) + [k for k in merged if k not in declared]
    rows = []
    for key in keys:
        name = _KEY.match(key).group("name")  # type: ignore[union-attr]
        var = model.variables[name]
        if key not in merged:
            source, prior = "model, dropped by user", None
        elif key not in declared:
            source, prior = "user", merged[key]
        elif merged[key] is declared[key]:
            source, prior = "model", merged[key]
        else:
            source, prior = f"user, overrides model: {_text(declared[key])}", merged[key]
        value = np.asarray(var.value, dtype=float)
        rows.append(
            {
                "key": key,
                "parameter": name,
                "units": var.units,
                "bounds": list(var.bounds),
                "default": value.tolist() if value.ndim else float(value),
                "prior": None if prior is None else _text(prior),
                "source": source,
                "correlation": correlated.get(name) if "[" in key else None,
            }
        )
    return rows


def _text(prior: Any) -> str:
    if isinstance(prior, (tuple, list)):
        return repr(tuple(prior))
    dist = getattr(prior, "dist", None)
    name = getattr(dist, "name", type(prior).__name__)
    return f"scipy.stats.{name}(args={getattr(prior, 'args', ())!r})"


def _check_key(model: Model, key: str) -> str:
    """``key`` with its spaces normalised, checked against ``model``'s parameters."""
    match = _KEY.match(key)
    name = match.group("name") if match else key.strip()
    var = model.variables.get(name)
    known = [v.name for v in model.params]
    if var is None or var.kind != "param":
        why = f"{name!r} is a {var.kind}, not a parameter" if var else f"unknown parameter {name!r}"
        raise ParameterError(
            f"prior {key!r}: {why} of model {model.name!r}." + suggest(name, known)
        )
    elements = match.group("elements") if match else None
    if elements is None:
        return name
    labels = [e.strip() for e in elements.split(",")]
    if len(labels) != len(var.dims):
        raise ParameterError(
            f"prior {key!r}: parameter {name!r} has dims {var.dims}; key one element per "
            f"dim, e.g. '{name}[{', '.join(var.dims)}]'."
        )
    for dim, label in zip(var.dims, labels):
        if label not in model.dims[dim].elements:
            raise ParameterError(
                f"prior {key!r}: {label!r} is not an element of {dim!r}."
                + suggest(label, model.dims[dim].elements)
            )
    return f"{name}[{', '.join(labels)}]"


def per_element(model: Model, name: str, prior: Any) -> dict[str, Any]:
    """``{"name[element]": prior}`` for every element of parameter ``name``: one draw per
    element (a region's own fertility, say) instead of one shared by all.

    Examples
    --------
    >>> import engine
    >>> m = engine.Model("toy")
    >>> _ = m.dimension("region", ["north", "south"])
    >>> _ = m.param("k", [1.0, 2.0], dims=("region",))
    >>> sorted(per_element(m, "k", ("uniform", 0, 3)))
    ['k[north]', 'k[south]']
    """
    var = model.variables.get(name)
    if var is None or var.kind != "param":
        raise ParameterError(
            f"per_element: {name!r} is not a parameter of model {model.name!r}."
            + suggest(name, [v.name for v in model.params])
        )
    if not var.dims:
        return {name: prior}
    labels = itertools.product(*(model.dims[d].elements for d in var.dims))
    return {f"{name}[{', '.join(combo)}]": prior for combo in labels}


def resolve_correlations(
    priors: Sequence[Prior], correlations: Mapping[Any, float] | None
) -> np.ndarray | None:
    """The normal correlation matrix of the Gaussian copula that gives ``priors`` (in column
    order) the Spearman rank correlations ``correlations``; None when there are none.

    ``correlations`` maps a pair of prior keys ``("a", "b[north]")`` to a rank correlation in
    (-1, 1), or a parameter's name to the rank correlation of every pair of its
    ``"name[element]"`` priors. Raises ParameterError for an unknown key (with a suggestion),
    a value outside (-1, 1), one pair given twice, or correlations that are not jointly
    possible (the matrix is not positive definite).
    """
    if not correlations:
        return None
    if not isinstance(correlations, Mapping):
        raise ParameterError(
            "correlations must map a pair of prior keys, e.g. ('a', 'b'), or a parameter "
            f"name to a rank correlation; got a {type(correlations).__name__}."
        )
    keys = [p.key for p in priors]
    column = {k: j for j, k in enumerate(keys)}
    for p_ in priors:  # "name[ a ]" is found as written and as "name[a]"
        column.setdefault(_canonical(p_.key), column[p_.key])
    rank = np.eye(len(keys))
    given: dict[tuple[int, int], Any] = {}

    def find(key: Any) -> int:
        j = column.get(str(key), column.get(_canonical(str(key))))
        if j is None:
            raise ParameterError(
                f"correlation of {key!r}: no prior is keyed {key!r}; the sampled inputs are "
                f"{', '.join(keys)}." + suggest(str(key), keys)
            )
        return j

    for target, value in correlations.items():
        try:
            rho = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"correlation of {target!r}: {value!r} is not a number.") from None
        if not -1 < rho < 1:
            raise ParameterError(
                f"correlation of {target!r}: {rho!r} must lie strictly between -1 and 1."
            )
        if isinstance(target, tuple):
            if len(target) != 2:
                raise ParameterError(
                    f"correlation key {target!r}: give a pair of prior keys, e.g. ('a', 'b')."
                )
            pairs = [(find(target[0]), find(target[1]))]
            if pairs[0][0] == pairs[0][1]:
                raise ParameterError(f"correlation of {target!r}: a pair of two inputs.")
        else:
            members = [j for j, p_ in enumerate(priors) if p_.parameter == str(target)]
            elementwise = [j for j in members if priors[j].element is not None]
            if len(elementwise) < 2:
                raise ParameterError(
                    f"correlation of {target!r}: it names no parameter with two or more "
                    "'name[element]' priors; key the pair of inputs, e.g. ('a', 'b'), or "
                    "give per-element priors (engine.sampling.per_element)."
                    + ("" if members else suggest(str(target), [p_.parameter for p_ in priors]))
                )
            pairs = [(a, b) for i, a in enumerate(elementwise) for b in elementwise[i + 1 :]]
        for a, b in pairs:
            pair = (min(a, b), max(a, b))
            if pair in given:
                raise ParameterError(
                    f"correlations {given[pair]!r} and {target!r} both set the pair "
                    f"({keys[pair[0]]!r}, {keys[pair[1]]!r}); give each pair once."
                )
            given[pair] = target
            rank[a, b] = rank[b, a] = rho
    normal = 2.0 * np.sin(np.pi * rank / 6.0)
    np.fill_diagonal(normal, 1.0)
    if np.linalg.eigvalsh(normal).min() <= 1e-10:
        raise ParameterError(
            "the correlations are not jointly possible (their matrix is not positive "
            "definite): e.g. a strongly correlated with b and with c, but b and c weakly or "
            "negatively; weaken the pairs that conflict."
        )
    normal.setflags(write=False)
    return normal


def _canonical(key: str) -> str:
    match = _KEY.match(key)
    if not match or match.group("elements") is None:
        return key.strip()
    elements = ", ".join(e.strip() for e in match.group("elements").split(","))
    return f"{match.group('name')}[{elements}]"


def check_correlated_design(design: str, correlation: np.ndarray | None) -> None:
    if correlation is not None and design in ("saltelli", "morris"):
        raise ParameterError(
            f"a {design} design estimates sensitivity indices of independent inputs and "
            "takes no correlations; use 'random', 'lhs' or 'sobol' for a correlated sweep."
        )


def _copula(unit: np.ndarray, correlation: np.ndarray) -> np.ndarray:
    """Unit points with the Gaussian copula of ``correlation`` (row by row)."""
    normal = stats.norm.ppf(np.clip(unit, UNIT_MARGIN, 1 - UNIT_MARGIN))
    lower = np.linalg.cholesky(correlation)
    # Sums in a fixed order, element by element (not a BLAS product, whose blocking may change
    # with the number of rows), so a row's values do not depend on its chunk.
    mixed = np.zeros_like(normal)
    for j in range(lower.shape[0]):
        for k in range(j + 1):
            mixed[:, j] += lower[j, k] * normal[:, k]
    return np.asarray(stats.norm.cdf(mixed))
