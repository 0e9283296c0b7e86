"""WPP's own age pattern of net migration in its projection (a diagnostic, not a build step).

The shared data have no migration by age, but WPP 2022's projected population by five-year
age group (both sexes) is known for every year: projecting it over five years with the model's
survival, WPP's births and sex ratio at birth and no migration (as
:func:`models.migration_profiles.net_migration_profiles` does over its estimates window), the
residual by age group is WPP's net migration of the interval that survived to its end, plus
whatever the model's accounting differs by (at the oldest ages mostly). Printed per year, with
the same residual of the estimates window 2009-2019 beside it: in WPP's medium variant the
persons a year at each age stay the same from 2022 to 2100 (a fixed signed pattern times a
near-constant total), Mexico's with young emigrants and older arrivals (net about 0.2 of the
gross, as its estimates window), France's the window's pattern scaled by the total.

Run from the repository root: ``python -m models.data.wpp_projection_residuals Mexico France``.
"""

from __future__ import annotations

import sys

import numpy as np

from models import migration_profiles, vital_rates, wpp


def residuals(name: str, starts: tuple[int, ...] = (2022, 2042, 2072)) -> dict[str, np.ndarray]:
    """Residual persons a year by five-year group (21,) of the window 2009-2019 and of WPP's
    projection over five years from each of ``starts``."""
    paths = vital_rates.input_paths([name])
    profiles = migration_profiles.net_migration_profiles(paths, 2019, 0.0, 0.0, -np.inf)
    out = {"2009-2019": profiles.residual[0] / migration_profiles.WINDOW_YEARS}
    step = migration_profiles.STEP
    for t in starts:
        start = vital_rates.initial_population(paths, t)[0]
        hazards = paths.hazard(np.arange(t, t + step) + 0.5)[0]
        projected = migration_profiles._project_five_years(paths, 0, name, t, start, hazards)
        observed = wpp.population_groups(name, t + step)
        out[f"{t}-{t + step}"] = (observed - migration_profiles._groups(projected.sum(0))) / step
    return out


def main(names: list[str]) -> None:
    for name in names:
        print(name, "(thousands a year by five-year group at the interval's end; net)")
        for label, row in residuals(name).items():
            cells = " ".join(f"{v / 1e3:+6.1f}" for v in row)
            print(f"  {label:9s} {cells}  net {row.sum() / 1e3:+.1f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["Mexico", "France"])
