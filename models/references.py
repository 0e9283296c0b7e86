"""What a model's results are drawn against: WPP 2022's population, births, deaths and net
migration of each region that is a WPP location (the estimates to 2021, the medium variant
from 2022, both sexes), the ``reference`` function of :mod:`models.demography` and
:mod:`models.corridor`, which ``corridor plot``, ``corridor report`` and ``corridor compare``
find through the model's registry entry point and draw as a line on charts of those variables.

Source: United Nations, Department of Economic and Social Affairs, Population Division (2022).
World Population Prospects 2022 (CC BY 3.0 IGO): the population on 1 July by five-year age
group, both sexes (:func:`models.wpp.population_groups`), summed over ages; the figure of year
Y is at time Y, as :func:`models.demography.observed` compares it with the model. Births,
deaths and net migration: WPP's annual figures (:func:`models.wpp.annual`, thousands a
calendar year, times 1000: persons a year). WPP's figure of year Y is the flow during calendar
year Y; the model's flow saved at time Y runs from 1 July of Y to 1 July of Y+1 (half of each
calendar year), so the reference at time Y is the mean of WPP's figures of Y and Y+1 - as
``tests/models/test_demography.py`` compares them (``test_net_migration_is_the_input_path``,
``test_flows_2022_2050_follow_wpp``). Times 1950-2099 for flows (2100 has no Y+1: NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import wpp

__all__ = ["reference", "REFERENCE_TITLE"]

REFERENCE_TITLE = "WPP 2022 (estimates to 2021, medium variant after)"
#: WPP's annual counts drawn as references, by the model's (and WPP's) variable name.
FLOWS = {"births": "births", "deaths": "deaths", "net_migration": "net migration"}


def reference(regions: Sequence[str]) -> Any:
    """WPP 2022's total population (persons), births, deaths and net migration (persons a
    year, see the module's note on time) of those ``regions`` that are WPP locations with
    figures of their own, an xarray Dataset with ``population``, ``births``, ``deaths`` and
    ``net_migration`` by ``[time, region]`` for 1950-2100; None when none of them is (a region
    of a partition, "Rest of the world", is left out, not guessed; so is a location WPP reads
    from its subregion, whose own counts it does not publish).

    Examples
    --------
    >>> ds = reference(["Europe", "Atlantis"])
    >>> ds.region.values.tolist(), float(ds.population.sel(time=2022, region="Europe")) > 7e8
    (['Europe'], True)
    >>> 5e6 < float(ds.births.sel(time=2022, region="Europe")) < 8e6
    True
    """
    import xarray as xr

    known = wpp.locations()
    found = [r for r in dict.fromkeys(str(r) for r in regions) if r in known and known[r].has_data]
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
    variables = {"population": population}
    for name, title in FLOWS.items():
        # the model's flow at time Y runs mid-Y to mid-Y+1: the mean of WPP's years Y and Y+1
        annual = np.array([wpp.annual(r, name) for r in found]).T * 1000.0
        flow = np.full_like(data, np.nan, dtype=float)
        flow[:-1] = 0.5 * (annual[:-1] + annual[1:])
        variables[name] = xr.DataArray(
            flow,
            dims=("time", "region"),
            coords=population.coords,
            attrs={
                "units": "person/year",
                "long_name": f"{title} (WPP 2022, mid-year to mid-year)",
            },
        )
    return xr.Dataset(
        variables,
        attrs={"title": REFERENCE_TITLE, "source": "UN DESA, World Population Prospects 2022"},
    )
