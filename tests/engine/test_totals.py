"""Totals done right: summaries and sensitivity indices of aggregates are computed member by
member before the quantiles (a sum of per-cell quantiles is not the quantile of the sum)."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import budgets
from engine.analyze import is_count
from engine.report import summary_frame
from tests import tiny


@pytest.fixture(scope="module")
def tree():
    return engine.run_ensemble(
        tiny.build("high"),
        n=32,
        seed=4,
        progress=False,
        outputs=["population", "emigrants_per_resident"],
    )


def test_summary_totals_are_quantiles_of_members_totals(tree):
    summary = tree["summary/long"].to_dataset()
    long = tree["long"].to_dataset()
    totals = long["population"].sum(["sex", "age"]).transpose("member", "time", "region").values
    expected = np.quantile(totals, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    got = summary["population_total"].transpose("quantile", "time", "region").values
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert "emigrants_per_resident_total" not in summary  # a rate: never summed


def test_summary_totals_do_not_depend_on_the_block_size(tree, monkeypatch):
    whole = engine.summarize(tree)["long"]["population_total"].values
    monkeypatch.setattr(budgets, "SUMMARY_BLOCK_BYTES", 64)  # blocks split along regions
    np.testing.assert_allclose(engine.summarize(tree)["long"]["population_total"].values, whole)


def test_report_summary_sums_counts_by_member_and_keeps_rates_by_region(tree):
    frame = summary_frame(tree, ["population", "emigrants_per_resident"])
    rate = frame[frame.variable == "emigrants_per_resident"]
    assert set(rate["region"]) == set(tiny.REGIONS)
    pop = frame[(frame.variable == "population") & (frame.horizon == "long")]
    long = tree["long"].to_dataset()
    last = long["population"].isel(time=-1)
    north = pop[pop.region == "North"]["median"].item()
    assert north == pytest.approx(np.median(last.sel(region="North").sum(["sex", "age"]).values))
    total = pop[pop.region == "all regions"]["p95"].item()
    assert total == pytest.approx(np.quantile(last.sum(["region", "sex", "age"]).values, 0.95))


def test_sensitivity_of_totals(tmp_path):
    tree = engine.run_ensemble(
        tiny.build("high"),
        n=16,
        seed=1,
        design="saltelli",
        progress=False,
        outputs=["population"],
        priors={"fertility": ("uniform", 0.02, 0.04), "mortality": ("uniform", 0.005, 0.015)},
    )
    outputs = [str(o) for o in tree["sensitivity/long"]["output"].values]
    assert outputs[:3] == ["population", "population[North]", "population[South]"]
    st = tree["sensitivity/long"]["ST"].sel(output="population")
    assert np.all(np.isfinite(st.values))


@pytest.mark.parametrize(
    "units, count",
    [
        ("person", True),
        ("person/year", True),
        ("USD/year", True),
        ("1/year", False),
        ("1", False),
        ("year", False),
        ("", False),
        ("degF", False),
    ],
)
def test_what_counts(units, count):
    assert is_count(units) is count


def test_a_total_is_not_a_sum_of_regional_quantiles():
    # the regions' emigration rates vary independently; the closed system's total does not
    tree = engine.run_ensemble(
        tiny.build("high"),
        n=32,
        seed=6,
        progress=False,
        outputs=["population"],
        priors={
            "emigration_rate[North]": ("uniform", 0.001, 0.03),
            "emigration_rate[South]": ("uniform", 0.001, 0.03),
        },
    )
    frame = summary_frame(tree, ["population"]).set_index(["horizon", "region"])
    total = frame.loc[("long", "all regions"), "p95"]
    regions = frame.loc[("long", "North"), "p95"] + frame.loc[("long", "South"), "p95"]
    last = tree["long"]["population"].isel(time=-1).sum(["region", "sex", "age"]).values
    assert total == pytest.approx(np.quantile(last, 0.95))
    assert regions > total * 1.01


def test_grouped_sobol_indices_cost_n_2g_plus_2_runs():
    priors = {
        "fertility": ("uniform", 0.02, 0.04),
        "mortality": ("uniform", 0.005, 0.015),
        "emigration_rate[North]": ("uniform", 0.001, 0.01),
        "emigration_rate[South]": ("uniform", 0.001, 0.03),
    }
    groups = {"fertility": "vital", "mortality": "vital", "emigration_rate": "migration"}
    tree = engine.run_ensemble(
        tiny.build("high"),
        n=8,
        seed=2,
        design="saltelli",
        priors=priors,
        groups=groups,
        progress=False,
        outputs=["population"],
    )
    assert tree.sizes["member"] == 8 * (2 * 2 + 2)  # not 8 * (2 * 4 + 2)
    indices = tree["sensitivity/long"]
    assert [str(p) for p in indices["group"].values] == ["vital", "migration"]
    # the grouped indices are those of SALib on the same runs
    from SALib.analyze import sobol

    y = tree["long"]["population"].isel(time=-1).sel(region="South").sum(["sex", "age"]).values
    problem = {
        "num_vars": 4,
        "names": list(priors),
        "bounds": [[0.0, 1.0]] * 4,
        "groups": ["vital", "vital", "migration", "migration"],
    }
    expected = sobol.analyze(problem, y, calc_second_order=True, num_resamples=100, seed=3)
    got = indices["ST"].sel(output="population[South]").values
    np.testing.assert_allclose(got, expected["ST"], rtol=1e-10)
    again = engine.analyze_sensitivity(tree)["long"]["ST"].sel(output="population[South]")
    np.testing.assert_allclose(again.values, got)
    with pytest.raises(engine.ParameterError, match="Did you mean 'mortality'"):
        engine.run_ensemble(
            tiny.build("high"),
            n=4,
            seed=2,
            design="saltelli",
            priors=priors,
            groups={"mortalty": "vital"},
            progress=False,
        )
    with pytest.raises(engine.ParameterError, match="saltelli"):
        engine.run_ensemble(
            tiny.build("high"),
            n=4,
            seed=2,
            design="sobol",
            priors=priors,
            groups=groups,
            progress=False,
        )
