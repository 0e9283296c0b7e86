"""Priors and correlations on the command line: ``--prior NAME=DIST,A,B`` (``NAME=none``
drops one) and ``--correlation A,B=RHO`` (or ``NAME=RHO`` between a parameter's elements),
merged with the model's own through :func:`engine.priors.merge_priors`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import EngineError

__all__ = ["parse_priors", "parse_correlations", "sweep_priors"]

# commas that separate keys, not those inside a key's brackets ("k[a, b]")
_TOP_COMMA = re.compile(r",(?![^\[]*\])")


def parse_priors(texts: Sequence[str] | None) -> dict[str, Any]:
    """--prior options as ``{key: prior}`` (None for ``NAME=none``); a key given twice is
    refused."""
    out: dict[str, Any] = {}
    for text in texts or []:
        name, prior = _parse_prior(text)
        if name in out:
            raise EngineError(f"--prior {name} is given twice; give one prior per parameter.")
        out[name] = prior
    return out


def _parse_prior(text: str) -> tuple[str, tuple[Any, ...] | None]:
    """NAME=dist,a,b[,...] -> (NAME, (dist, a, b, ...)); NAME=none -> (NAME, None)."""
    if "=" not in text:
        raise EngineError(
            f"--prior expects NAME=DIST,A,B (e.g. k=uniform,5,15) or NAME=none, got {text!r}."
        )
    name, spec = text.split("=", 1)
    name = name.strip()
    if not name:
        raise EngineError(f"--prior {text!r}: give the parameter's name before '='.")
    if spec.strip().lower() == "none":
        return name, None
    parts = [p.strip() for p in spec.split(",")]
    if not parts[0]:
        raise EngineError(f"--prior {name}: give a distribution, e.g. {name}=uniform,5,15.")
    try:
        values = tuple(float(v) for v in parts[1:])
    except ValueError:
        raise EngineError(f"--prior {name}: parameters must be numbers, got {spec!r}.") from None
    return name, (parts[0], *values)


def parse_correlations(texts: Sequence[str] | None) -> dict[Any, float]:
    """--correlation options: ``A,B=RHO`` -> ``{("A", "B"): rho}``; ``NAME=RHO`` ->
    ``{"NAME": rho}`` (every pair of NAME's per-element priors)."""
    out: dict[Any, float] = {}
    for text in texts or []:
        if "=" not in text:
            raise EngineError(
                f"--correlation expects A,B=RHO (two priors) or NAME=RHO (a parameter's "
                f"elements), got {text!r}."
            )
        keys_text, value = text.rsplit("=", 1)
        keys = [k.strip() for k in _TOP_COMMA.split(keys_text)]
        if len(keys) > 2 or not all(keys):
            raise EngineError(
                f"--correlation {text!r}: name one parameter or a pair, e.g. a,b=0.5."
            )
        try:
            rho = float(value)
        except ValueError:
            raise EngineError(f"--correlation {keys_text}: {value!r} is not a number.") from None
        target: Any = tuple(keys) if len(keys) == 2 else keys[0]
        if target in out:
            raise EngineError(f"--correlation {keys_text} is given twice; give it once.")
        out[target] = rho
    return out


def sweep_priors(
    model: Any, user: dict[str, Any], correlations: dict[Any, float]
) -> tuple[dict[str, Any], dict[Any, float]]:
    """The priors of a sweep (the model's with the user's added, overriding or dropping them
    by key) and its correlations (the model's declared ones that still apply, then the
    user's)."""
    from ..priors import declared_correlations, merge_priors

    merged = merge_priors(model, user)
    linked: dict[Any, float] = dict(declared_correlations(model, merged))
    linked.update(correlations)
    return merged, linked
