"""The headline table of the bundled models: every standard output a model has is shown, and a
closed system's net migration totals zero over its regions."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.tables import HEADLINE, TOTAL


def test_migration_system_headline_has_every_output_and_closes():
    migration_system = pytest.importorskip("models.migration_system")
    model = migration_system.build()
    outputs = [name for name in HEADLINE if name in model.variables]
    assert outputs == list(HEADLINE)
    ds = engine.simulate(model, outputs=outputs)
    table = engine.headline(ds, years=[2019, 2050])
    regions = table.drop(index=TOTAL, level="region")
    assert np.isfinite(regions[list(HEADLINE)].to_numpy()).all()
    total = table.xs(TOTAL, level="region")
    scale = regions["emigration"].abs().groupby(level="year").sum()
    assert (total["net_migration"].abs() <= 1e-9 * scale).all()
    # the migrant stock of a region is who lives there born elsewhere: summed over origins
    stock = ds["migrant_stock"].sel(time=2050.0).sum(["origin", "sex", "age"])
    first = str(stock["destination"].values[0])
    assert table.loc[(first, 2050.0), "migrant_stock"] == pytest.approx(
        float(stock.sel(destination=first))
    )


def test_five_region_corridor_headline_names_its_scenario():
    corridor = pytest.importorskip("models.corridor_five_region")
    ds = engine.simulate(corridor.build(scenario="fortress"), outputs=["population", "births"])
    table = engine.headline(ds, years=[2030])
    assert table.attrs["scenario"] == "fortress"
    assert set(table.index.get_level_values("region")) == {*corridor.REGIONS, TOTAL}
    assert np.isnan(table["migrant_stock"]).all()  # the five-region model has none: "-"
