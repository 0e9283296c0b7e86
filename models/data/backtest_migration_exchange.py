"""The window's migration exchange (cancelling flows) against Rogers-Castro alone, on the
backtests that chose the profile's thresholds (not a build step).

Where a location's residual has the sign of WPP's net migration, its rate and its working ages
but cancels out (net below ``MIN_NET_SHARE`` of the gross: young leavers and older arrivals,
say), the normalised profile is not used (dividing by a small net); the model spreads the net
by Rogers-Castro and, with the exchange, adds the window's exchange beyond its net
(``migration_profiles.Profiles.exchange``, persons a year summing to zero) in proportion to the
year's net over the window's, at most once (:mod:`models.demography`). Same countries and
jump-offs as :mod:`models.data.backtest_profile_thresholds` (the countries of at least a million
people outside the acceptance set of issue 12; jump-offs 1995, 2000, 2005, 2010, ten years on,
2019 at the latest; only what was known at each jump-off): each location's age-structure error
(half the sum of the absolute differences of its five-year age-group shares from WPP's) and the
error of its total population, with and without the exchange, over every case and over the
cases with an exchange. Run from the repository root:
``python -m models.data.backtest_migration_exchange``.
"""

from __future__ import annotations

import numpy as np

import engine
from models import demography, migration_profiles, wpp
from models.data.backtest_profile_thresholds import JUMP_OFFS, acceptance_locations


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
        exchange = np.asarray(model["net_migration_exchange"].value)
        settings = {
            "exchange": {},
            "without": {"net_migration_exchange": np.zeros_like(exchange)},
        }
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
            out[(name, jump_off)]["active"] = (float(np.abs(exchange[i]).sum() > 0), 0.0)
    return out


def main() -> None:
    data = cases()
    keys = list(data)
    active = np.array([data[k]["active"][0] > 0 for k in keys])
    countries = len(keys) // len(JUMP_OFFS)
    print(f"{len(keys)} cases ({countries} countries), {active.sum()} with an exchange")
    for key in ("exchange", "without"):
        structure = np.array([data[k][key][0] for k in keys])
        total = np.abs(np.array([data[k][key][1] for k in keys]))
        print(
            f"{key:9s} age structure mean {100 * structure.mean():.3f}% (with an exchange "
            f"{100 * structure[active].mean():.3f}%); |total| mean {100 * total.mean():.3f}% "
            f"(with an exchange {100 * total[active].mean():.3f}%)"
        )
    better = [
        k for k, a in zip(keys, active) if a and data[k]["exchange"][0] < data[k]["without"][0]
    ]
    print(f"exchange better in age structure: {len(better)} of {active.sum()}")
    for k in (k for k, a in zip(keys, active) if a):
        print(
            " ",
            k,
            {s: tuple(round(100 * v, 2) for v in data[k][s]) for s in ("exchange", "without")},
        )


if __name__ == "__main__":
    main()
