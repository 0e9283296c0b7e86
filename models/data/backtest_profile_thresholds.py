"""How the usability thresholds of the residual migration profiles were chosen (not a build step).

Backtests from 1995, 2000, 2005 and 2010 (only what was known at each jump-off:
``demography.build(..., jump_off=J)``), ten years on (2019 at the latest), of the countries of
at least a million people (2022) outside the acceptance set of issue 12 (tests/models): each
location's error of its age structure (half the sum of the absolute differences of its
five-year age-group shares from WPP's) with its residual profile and with Rogers-Castro, and
the profile's statistics; then the mean error over (location, jump-off) of each combination of
thresholds, and the best combination leaving out one jump-off at a time. Some 5 minutes on two
cores. Run from the repository root: ``python -m models.data.backtest_profile_thresholds``.
"""

from __future__ import annotations

import itertools

import numpy as np

import engine
from models import demography, migration_profiles, wpp

JUMP_OFFS = (1995, 2000, 2005, 2010)
NET_SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 1 / 3, 0.5)
RATES = (0.0, 0.00025, 0.0005, 0.001, 0.002)
WORKING = (-np.inf, 0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def acceptance_locations() -> set[str]:
    countries = [n for n, loc in wpp.locations().items() if loc.kind == "country"]
    size = {n: wpp.annual(n, "population", 2022, 2022)[0] for n in countries}
    top = sorted(countries, key=lambda n: -size[n])[:30]
    return set(wpp.SUBREGIONS) | set(wpp.SDG_REGIONS) | set(top)


def cases() -> dict[tuple[str, int], dict]:
    excluded = acceptance_locations()
    countries = [
        n
        for n, loc in wpp.locations().items()
        if loc.kind == "country"
        and n not in excluded
        and wpp.annual(n, "population", 2022, 2022)[0] >= 1000
    ]
    real = migration_profiles.net_migration_profiles
    kept = {}

    def permissive(paths, end, *args, **kwargs):  # every sign-consistent residual
        kept["profiles"] = real(paths, end, 0.0, 0.0, -np.inf)
        return kept["profiles"]

    kernel = migration_profiles.group_to_single_ages()
    out = {}
    migration_profiles.net_migration_profiles = permissive
    try:
        for jump_off in JUMP_OFFS:
            last = min(jump_off + 10, migration_profiles.LAST_PRE_PANDEMIC_YEAR)
            model = demography.build(
                countries, start=float(jump_off), stop=float(last), jump_off=jump_off
            )
            profiles = kept["profiles"]
            sim = {
                flag: engine.simulate(
                    model,
                    params={"use_net_migration_profile": flag},
                    outputs=["population_by_age_group"],
                )["population_by_age_group"]
                .sum("sex")
                .sel(time=float(last))
                .values
                for flag in (1.0, 0.0)
            }
            first = jump_off - migration_profiles.WINDOW_YEARS
            for i, name in enumerate(countries):
                total = profiles.residual[i]
                single = total @ kernel
                net = single.sum()
                known = wpp.annual(name, "net_migration", first, jump_off - 1).sum()
                want = wpp.population_groups(name, last)
                share = want / want.sum()
                error = {
                    flag: 0.5 * np.abs(s[i] / s[i].sum() - share).sum() for flag, s in sim.items()
                }
                out[(name, jump_off)] = dict(
                    sign_ok=bool(net != 0 and np.sign(net) == np.sign(known)),
                    net_share=abs(net) / max(np.abs(single).sum(), 1e-300),
                    rate=abs(net)
                    / (migration_profiles.WINDOW_YEARS * wpp.population_groups(name, first).sum()),
                    working=(
                        total[migration_profiles.WORKING_AGE_GROUPS].sum() / total.sum()
                        if total.sum()
                        else 0.0
                    ),
                    profile=error[1.0],
                    rogers_castro=error[0.0],
                )
    finally:
        migration_profiles.net_migration_profiles = real
    return out


def main() -> None:
    data = cases()
    keys = list(data)
    jump = np.array([k[1] for k in keys])
    stat = {
        f: np.array([data[k][f] for k in keys])
        for f in ("sign_ok", "net_share", "rate", "working", "profile", "rogers_castro")
    }

    def score(net_share, rate, working, mask=slice(None)):
        use = (
            stat["sign_ok"]
            & (stat["net_share"] >= net_share)
            & (stat["rate"] >= rate)
            & (stat["working"] >= working)
        )
        return float(np.where(use, stat["profile"], stat["rogers_castro"])[mask].mean())

    grid = list(itertools.product(NET_SHARES, RATES, WORKING))
    print(f"{len(keys)} cases ({len(keys) // len(JUMP_OFFS)} countries)")
    for g in sorted(grid, key=lambda g: score(*g))[:8]:
        print(f"{score(*g):.5f}  net share >= {g[0]:.3g}, rate >= {g[1]:g}, working >= {g[2]:g}")
    for g in ((0.15, 0.0005, 0.4), (1 / 3, 0.0005, 0.3), (0.5, 0.0005, 0.3)):
        print(f"{score(*g):.5f}  {g}", [round(score(*g, mask=jump == j), 5) for j in JUMP_OFFS])
    for j in JUMP_OFFS:
        best = min(grid, key=lambda g: score(*g, mask=jump != j))
        print(f"without {j}: best {tuple(round(float(b), 4) for b in best)}")


if __name__ == "__main__":
    main()
