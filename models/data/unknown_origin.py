"""Migrants of unknown origin: how much of the net-migration gaps they explain (a diagnostic).

The UN's bilateral table (``un_migrant_stock_2019.csv.gz``, :mod:`models.migrant_stock`) has no
"Other North", "Other South" or unknown-origin columns: its pairs sum to 260.3 million in 2019,
where UN DESA's total migrant stock is 271.6 million. The totals by region of destination
below are UN DESA's (International Migrant Stock 2019, POP/DB/MIG/Stock/Rev.2019, total
migrant stock at mid-year by region of destination, both sexes; the ``fb`` column of
``data/stock_totals.csv`` in the public repository guyabel/stepladderChapter, commit
b604de7aa72035d3e8c6d35fdbab81bc1503a364, the same IOM World Migration Report 2020 work as the
bilateral table; Europe 82.3, Northern America 58.6, Northern Africa and Western Asia 48.6
million in 2019, as UN DESA's International Migration 2019 Highlights give them). Each region's
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
not use them. They do close most of the model's gap to UN DESA's world total in 2020 (the
model's stock counts known origins only): the remainder is 11.4 million in 2019.

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
from models.world_partition import CENTRAL_AMERICA_WITHOUT_MEXICO

#: UN DESA's total migrant stock by region of destination, 1990, 1995, ..., 2015, 2019 (persons)
TOTALS = {
    "Northern Africa": (2403325, 2081640, 1900448, 1747369, 1948262, 2138918, 2955849),
    "Sub-Saharan Africa": (13286341, 14275437, 13151229, 14222466, 15855936, 21337333, 23573485),
    "Mexico": (695674, 458549, 538051, 712487, 969538, 1028803, 1060707),
    "Central America": (1829911, 1298916, 1107577, 1385713, 1749940, 1878860, 1927688),
    "Europe": (49608231, 53489829, 56858788, 63594822, 70678025, 75008219, 82304539),
    "Northern America": (27610408, 33340948, 40351694, 45363257, 50970861, 55633443, 58647822),
    "Southern Asia": (19537940, 15343019, 15278079, 13722314, 14311392, 14051010, 14083627),
    "Western Asia": (15205444, 16830424, 18420949, 21533928, 30614291, 39913874, 45635541),
    "Caribbean": (1056483, 1148720, 1247863, 1311361, 1326879, 1489916, 1524793),
    "South America": (4274977, 4241074, 4215289, 4527868, 5185614, 6072903, 8220807),
    "Eastern Asia": (3959266, 4639749, 5393004, 6228684, 7062527, 7636397, 8105764),
    "South-Eastern Asia": (2876616, 3700057, 5113208, 6718503, 8685564, 10237687, 10190867),
    "Central Asia": (6630683, 5904795, 5189082, 5235877, 5264938, 5392792, 5543398),
    "Oceania": (4731848, 5022287, 5361231, 6023412, 7127680, 8069944, 8927925),
}


def totals(part: world_partition.Partition) -> np.ndarray:
    """UN DESA's total migrant stock of each region of the default partition (R, 7)."""
    out = []
    for name in part.regions:
        if name == CENTRAL_AMERICA_WITHOUT_MEXICO.name:
            out.append(np.subtract(TOTALS["Central America"], TOTALS["Mexico"]))
        elif name == world_partition.REST_OF_WORLD:
            out.append(np.array(TOTALS["Oceania"]))
        else:
            out.append(np.array(TOTALS[name]))
    return np.array(out, dtype=float)


def added_net_migration(part: world_partition.Partition) -> tuple[np.ndarray, np.ndarray]:
    """Each region's unknown-origin remainder (R, 7) and the net migration 1990-2019 its
    allocation over origins in proportion to the known ones adds (R,), persons."""
    known = np.stack([migrant_stock.stock(part, y) for y in migrant_stock.YEARS], axis=-1)
    remainder = totals(part) - known.sum(axis=0)
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
