"""Migrants of unknown origin: how much of the net-migration gaps they explain (a diagnostic).

The UN's bilateral table (``un_migrant_stock_2019.csv.gz``, :mod:`models.migrant_stock`) has no
"Other North", "Other South" or unknown-origin columns: its pairs sum to 260.3 million in 2019,
where UN DESA's total migrant stock is 271.6 million. The totals by region of destination
are UN DESA's (:data:`models.migrant_stock.TOTALS`, cited there). Each region's
remainder (total less the table's known origins) is allocated over origins in proportion to
the known ones (as Abel & Cohen 2019 do), and the change 1990-2019 of the allocated stocks
across region borders is the net migration it would add to each region (immigrants' side
less emigrants' side; their deaths, a few per cent of it, left out).

Measured (default partition, millions, 1990-2019): Europe +0.66 (the model's gap to WPP's net
migration 1990-2021 is -7.4), Northern America -0.47 (gap -8.5: the wrong sign, its unknown
remainder fell from 3.1 to 2.6 million), Southern Asia -0.58 (gap +10.7: model less negative
than WPP), Sub-Saharan Africa +0.22 (gap +3.6, the wrong sign: its remainder rose from 0.2 to
3.0 million, mostly of African origin, within the region). At most 9 % of a gap: the unknown
origins do not reconcile the UN's stocks with WPP's net migration, and the calibration does
not use them. The model counts them beside the O-D stocks, as a share of each destination's
known-origin migrants (``unknown_origin_migrants`` of :mod:`models.migration_system`): the
remainder is 11.4 million in 2019.

Run from the repository root: ``python -m models.data.unknown_origin``.

References
----------
- UN DESA (2019). International Migrant Stock 2019 (POP/DB/MIG/Stock/Rev.2019).
- Abel, G. J. & Cohen, J. E. (2019). Bilateral international migration flow estimates for 200
  countries. Scientific Data 6, 82.
"""

from __future__ import annotations

import numpy as np

from models import migrant_stock, world_partition


def added_net_migration(part: world_partition.Partition) -> tuple[np.ndarray, np.ndarray]:
    """Each region's unknown-origin remainder (R, 7) and the net migration 1990-2019 its
    allocation over origins in proportion to the known ones adds (R,), persons."""
    known = np.stack([migrant_stock.stock(part, y) for y in migrant_stock.YEARS], axis=-1)
    remainder = migrant_stock.totals(part) - known.sum(axis=0)
    allocated = known / np.maximum(known.sum(axis=0, keepdims=True), 1.0) * remainder[None]
    across = allocated * (1.0 - np.eye(len(part.regions)))[..., None]
    change = across[..., -1] - across[..., 0]
    return remainder, change.sum(axis=0) - change.sum(axis=1)


def main() -> None:
    part = world_partition.partition()
    remainder, added = added_net_migration(part)
    wpp_net = world_partition.wpp_totals(part, "net_migration", 1990, 2021).sum(axis=1)
    print("region: unknown-origin remainder 1990 -> 2019; net migration 1990-2019 it adds; WPP's")
    for i, name in enumerate(part.regions):
        print(
            f"  {name:32s} {remainder[i, 0] / 1e6:5.2f} -> {remainder[i, -1] / 1e6:5.2f}"
            f"  {added[i] / 1e6:+5.2f}  {wpp_net[i] / 1e6:+6.1f}"
        )
    print(f"  world remainder 2019: {remainder[:, -1].sum() / 1e6:.1f} million")


if __name__ == "__main__":
    main()
