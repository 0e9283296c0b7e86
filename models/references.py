"""What a model's results are drawn against: WPP 2022's population of each region that is a
WPP location (the estimates to 2021, the medium variant from 2022), the ``reference``
function of :mod:`models.demography` and :mod:`models.corridor`, which ``corridor plot`` and
``corridor report`` find through the model's registry entry point and draw as a line on fan
charts of ``population``.

Source: United Nations, Department of Economic and Social Affairs, Population Division (2022).
World Population Prospects 2022 (CC BY 3.0 IGO): the population on 1 July by five-year age
group, both sexes (:func:`models.wpp.population_groups`), summed over ages; the figure of year
Y is at time Y, as :func:`models.demography.observed` compares it with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import wpp

__all__ = ["reference", "REFERENCE_TITLE"]

REFERENCE_TITLE = "WPP 2022 (estimates to 2021, medium variant after)"


def reference(regions: Sequence[str]) -> Any:
    """WPP 2022's total population (persons) of those ``regions`` that are WPP locations,
    an xarray Dataset with ``population[time, region]`` for 1950-2100; None when none of
    them is (a region of a partition, "Rest of the world", is left out, not guessed).

    Examples
    --------
    >>> ds = reference(["Europe", "Atlantis"])
    >>> ds.region.values.tolist(), float(ds.population.sel(time=2022, region="Europe")) > 7e8
    (['Europe'], True)
    """
    import xarray as xr

    known = wpp.locations()
    found = [r for r in dict.fromkeys(str(r) for r in regions) if r in known]
    if not found:
        return None
    years = np.arange(wpp.FIRST_YEAR, wpp.LAST_YEAR + 1)
    data = np.array([[wpp.population_groups(r, int(y)).sum() for r in found] for y in years])
    population = xr.DataArray(
        data,
        dims=("time", "region"),
        coords={"time": years.astype(float), "region": found},
        attrs={"units": "person", "long_name": "population on 1 July (WPP 2022)"},
    )
    return xr.Dataset(
        {"population": population},
        attrs={"title": REFERENCE_TITLE, "source": "UN DESA, World Population Prospects 2022"},
    )
