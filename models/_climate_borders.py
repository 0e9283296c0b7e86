"""Where climate movers who cross a border go: neighbourhoods of WPP regions and their shares.

Read by :func:`models.climate.cross_border_pressure`. Sources (also in :mod:`models.climate`):

- UNHCR (2024). Global Trends: Forced Displacement in 2023: 69 % of refugees and other people
  in need of international protection live in countries neighbouring their own
  (``NEIGHBOURHOOD_SHARE``): forced movers who cross a border mostly stop at the first one.
- Land borders between the UN M49 geographic regions (UN Statistics Division, Standard
  country or area codes for statistical use, M49), as WPP 2022 groups countries: Sudan is in
  Northern Africa (bordering Chad, South Sudan, Ethiopia...), Ceuta and Melilla join Northern
  Africa to Europe, Russia joins Europe to Central and Eastern Asia, Egypt borders Western Asia
  (Israel, Gaza), Indonesia borders Oceania (Papua New Guinea), Panama South America; the
  Caribbean has no land border with another region. Moves to another country of the same
  region (the diagonal of an origin-destination table) are always in the neighbourhood.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import engine

NEIGHBOURHOOD_SHARE = 0.69  # UNHCR Global Trends 2023: refugees hosted in neighbouring countries

_BORDERS = (
    ("Northern Africa", "Sub-Saharan Africa"),
    ("Northern Africa", "Western Asia"),
    ("Northern Africa", "Europe"),
    ("Mexico", "Northern America"),
    ("Mexico", "Central America without Mexico"),
    ("Central America", "Northern America"),
    ("Central America", "South America"),
    ("Central America without Mexico", "South America"),
    ("Europe", "Western Asia"),
    ("Europe", "Central Asia"),
    ("Europe", "Eastern Asia"),
    ("Southern Asia", "Western Asia"),
    ("Southern Asia", "Central Asia"),
    ("Southern Asia", "Eastern Asia"),
    ("Southern Asia", "South-Eastern Asia"),
    ("Eastern Asia", "Central Asia"),
    ("Eastern Asia", "South-Eastern Asia"),
    ("South-Eastern Asia", "Oceania"),
)
#: Regions sharing a land border with each region (symmetric; WPP / M49 names).
NEIGHBOURS: dict[str, tuple[str, ...]] = {}
for _a, _b in _BORDERS:
    NEIGHBOURS[_a] = (*NEIGHBOURS.get(_a, ()), _b)
    NEIGHBOURS[_b] = (*NEIGHBOURS.get(_b, ()), _a)


def destination_shares(
    regions: Sequence[str],
    *,
    neighbours: Mapping[str, Sequence[str]] = NEIGHBOURS,
    weights: np.ndarray | None = None,
    neighbourhood_share: float = NEIGHBOURHOOD_SHARE,
) -> np.ndarray:
    """Share of an origin's (row) cross-border climate movers going to each destination.

    ``neighbourhood_share`` of them go to the origin's neighbourhood (other countries of the
    same region, the diagonal, and the regions it borders), the rest to the other regions; within
    each group in proportion to ``weights[origin, destination]`` (e.g. the migrant stock: movers
    follow networks) or evenly. A group with no weight gives its share to the other, so every
    row sums to 1.
    """
    names = list(regions)
    n = len(names)
    if not 0.0 <= neighbourhood_share <= 1.0:
        raise engine.ParameterError(
            f"neighbourhood_share = {neighbourhood_share!r}: give a share between 0 and 1."
        )
    w = np.ones((n, n)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n, n) or not np.isfinite(w).all() or (w < 0).any():
        raise engine.ParameterError(
            f"destination weights: expected a non-negative finite ({n}, {n}) array (origin, "
            f"destination) for the regions {names}, got shape {w.shape}."
        )
    near = np.eye(n, dtype=bool)
    for i, origin in enumerate(names):
        for j, destination in enumerate(names):
            near[i, j] |= destination in tuple(neighbours.get(origin, ()))
    out = np.zeros((n, n))
    for i in range(n):
        close = np.where(near[i], w[i], 0.0)
        far = np.where(near[i], 0.0, w[i])
        share = neighbourhood_share if far.sum() > 0 else 1.0
        if close.sum() == 0:
            share = 0.0
        if close.sum() > 0:
            out[i] += share * close / close.sum()
        if far.sum() > 0:
            out[i] += (1.0 - share) * far / far.sum()
        if out[i].sum() == 0:  # no weight at all: everyone stays within the region
            out[i, i] = 1.0
    return out
