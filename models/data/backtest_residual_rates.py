"""Residual migration rates plus a scaled Rogers-Castro schedule against the thresholded
normalised residual profile, on the backtests that chose the profile's thresholds (not a build
step).

Same countries and jump-offs as :mod:`models.data.backtest_profile_thresholds` (the countries
of at least a million people outside the acceptance set of issue 12; jump-offs 1995, 2000, 2005,
2010, ten years on, 2019 at the latest; only what was known at each jump-off), with the default
thresholds: each location's age-structure error (half the sum of the absolute differences of
its five-year age-group shares from WPP's) and the error of its total population, under
``rates`` (``use_residual_migration_rates = 1``), ``profile`` (the former default: the
normalised profile where usable, else Rogers-Castro; since the exchange of cancelling flows,
with it) and ``rogers_castro``. Run from the
repository root: ``python -m models.data.backtest_residual_rates``.
"""

from __future__ import annotations

import numpy as np

import engine
from models import demography, migration_profiles, wpp
from models.data.backtest_profile_thresholds import JUMP_OFFS, acceptance_locations

SETTINGS = {
    "rates": {"use_residual_migration_rates": 1.0},
    "profile": {"use_residual_migration_rates": 0.0, "use_net_migration_profile": 1.0},
    "rogers_castro": {"use_residual_migration_rates": 0.0, "use_net_migration_profile": 0.0},
}


def cases() -> dict[tuple[str, int], dict[str, tuple[float, float]]]:
    excluded = acceptance_locations()
    countries = [
        n
        for n, loc in wpp.locations().items()
        if loc.kind == "country"
        and n not in excluded
        and wpp.annual(n, "population", 2022, 2022)[0] >= 1000
    ]
    out: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    for jump_off in JUMP_OFFS:
        last = min(jump_off + 10, migration_profiles.LAST_PRE_PANDEMIC_YEAR)
        model = demography.build(
            countries, start=float(jump_off), stop=float(last), jump_off=jump_off
        )
        rates = np.asarray(model["residual_migration_rate"].value).copy()
        rates[:, 80:] = 0.0  # sensitivity: no rates at 80+ (the old-age accounting gap)
        settings = dict(
            SETTINGS,
            rates_below_80={"use_residual_migration_rates": 1.0, "residual_migration_rate": rates},
        )
        sim = {
            key: engine.simulate(model, params=params, outputs=["population_by_age_group"])[
                "population_by_age_group"
            ]
            .sum("sex")
            .sel(time=float(last))
            .values
            for key, params in settings.items()
        }
        for i, name in enumerate(countries):
            want = wpp.population_groups(name, last)
            out[(name, jump_off)] = {
                key: (
                    0.5 * float(np.abs(s[i] / s[i].sum() - want / want.sum()).sum()),
                    float(s[i].sum() / want.sum() - 1),
                )
                for key, s in sim.items()
            }
    return out


def main() -> None:
    data = cases()
    keys = list(data)
    jump = np.array([k[1] for k in keys])
    print(f"{len(keys)} cases ({len(keys) // len(JUMP_OFFS)} countries)")
    for key in (*SETTINGS, "rates_below_80"):
        structure = np.array([data[k][key][0] for k in keys])
        total = np.abs(np.array([data[k][key][1] for k in keys]))
        print(
            f"{key:14s} age structure mean {100 * structure.mean():.3f}% "
            f"(by jump-off {[round(100 * structure[jump == j].mean(), 3) for j in JUMP_OFFS]}), "
            f"p90 {100 * np.quantile(structure, 0.9):.3f}%; |total| mean "
            f"{100 * total.mean():.3f}%, p90 {100 * np.quantile(total, 0.9):.3f}%"
        )
    better = sum(data[k]["rates"][0] < data[k]["profile"][0] for k in keys)
    print(f"rates better than profile in age structure: {better} of {len(keys)}")
    worst = sorted(keys, key=lambda k: data[k]["profile"][0] - data[k]["rates"][0])[:5]
    for k in worst:
        print(
            "worse with rates:",
            k,
            {s: tuple(round(100 * v, 2) for v in data[k][s]) for s in SETTINGS},
        )


if __name__ == "__main__":
    main()
