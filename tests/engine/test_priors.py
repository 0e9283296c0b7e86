"""Priors by name: the model's declared priors merged with a user's (added or overridden,
never dropped silently), the table describe lists, and clear errors for unknown names."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.description import describe, format_description
from engine.priors import merge_priors, prior_table
from engine.sampling import resolve_priors


def declared() -> engine.Model:
    m = engine.Model("declared", time_unit="year")
    m.dimension("region", ["north", "south"])
    m.param("growth", 0.01, prior=("normal", 0.01, 0.002), units="1/year")
    m.param("fertility", [1.8, 2.4], dims=("region",), prior=("uniform", 1.5, 2.5), bounds=(0, 10))
    m.param("lever", 1.0)
    m.stock("x", initial=1.0, dims=("region",))
    m.flow("gain", "x * growth * fertility / 2 * lever", into="x", dims=("region",))
    return m


def test_no_user_priors_keeps_the_models():
    assert merge_priors(declared()) == {
        "growth": ("normal", 0.01, 0.002),
        "fertility": ("uniform", 1.5, 2.5),
    }


def test_user_priors_add_and_override_by_name():
    merged = merge_priors(
        declared(),
        {" growth ": ("uniform", 0, 0.02), "lever": ("uniform", 0.5, 1.5)},
    )
    assert merged == {
        "growth": ("uniform", 0, 0.02),
        "fertility": ("uniform", 1.5, 2.5),
        "lever": ("uniform", 0.5, 1.5),
    }


def test_an_element_prior_overrides_that_element_only():
    m = declared()
    merged = merge_priors(m, {"fertility[ south ]": ("uniform", 2.0, 3.0)})
    assert set(merged) == {"growth", "fertility", "fertility[south]"}
    resolved = resolve_priors(m, merged)
    # the whole-parameter draw first, then the element's (which wins)
    assert [(p.parameter, p.element) for p in resolved][-1] == ("fertility", 1)
    tree = engine.run_ensemble(
        m, n=64, seed=1, priors=merged, start=0, stop=1, dt=1, outputs=["x"], progress=False
    )
    sample = tree.to_dataset(inherit=False)["sample"]
    south = sample.sel(parameter="fertility[south]").values
    assert south.min() >= 2.0 and south.max() <= 3.0


def test_none_drops_a_prior_explicitly():
    assert merge_priors(declared(), {"growth": None}) == {"fertility": ("uniform", 1.5, 2.5)}
    with pytest.raises(engine.ParameterError, match="there is none keyed 'lever'"):
        merge_priors(declared(), {"lever": None})


@pytest.mark.parametrize(
    "priors, message",
    [
        ({"grwth": ("uniform", 0, 1)}, "unknown parameter 'grwth'.*Did you mean 'growth'"),
        ({"x": ("uniform", 0, 1)}, "'x' is a stock, not a parameter"),
        ({"fertility[nrth]": ("uniform", 1, 2)}, "not an element of 'region'.*'north'"),
        ({"fertility[north, 1]": ("uniform", 1, 2)}, "one element per dim"),
    ],
)
def test_unknown_names_are_errors_with_a_suggestion(priors, message):
    with pytest.raises(engine.ParameterError, match=message):
        merge_priors(declared(), priors)


def test_prior_table_lists_every_prior_and_its_source():
    table = prior_table(
        declared(),
        {"growth": None, "fertility": ("uniform", 1.6, 2.6), "lever": ("uniform", 0.5, 1.5)},
    )
    rows = {row["key"]: row for row in table}
    assert [row["key"] for row in table] == ["growth", "fertility", "lever"]
    assert rows["growth"]["prior"] is None and rows["growth"]["source"] == "model, dropped by user"
    assert rows["fertility"]["source"] == "user, overrides model: ('uniform', 1.5, 2.5)"
    assert rows["fertility"]["prior"] == "('uniform', 1.6, 2.6)"
    assert rows["fertility"]["default"] == [1.8, 2.4] and rows["fertility"]["bounds"] == [0, 10]
    assert rows["lever"]["source"] == "user"
    assert prior_table(declared())[0]["source"] == "model"


def test_describe_lists_the_priors():
    m = declared()
    assert [row["key"] for row in describe(m)["priors"]] == ["growth", "fertility"]
    text = format_description(m, {"lever": ("uniform", 0.5, 1.5)})
    assert "priors (3):" in text
    assert "  lever: ('uniform', 0.5, 1.5) [user]" in text
    assert np.isfinite(describe(m)["priors"][0]["default"])


def regional() -> engine.Model:
    m = engine.Model("regional", time_unit="year")
    m.dimension("region", ["north", "south", "east"])
    m.param(
        "fertility",
        [1.8, 2.4, 2.0],
        dims=("region",),
        bounds=(0, 10),
        prior=("normal", 2.0, 0.3),
        prior_per_element=True,
        prior_correlation=0.6,
    )
    m.param("growth", 0.01, prior=("uniform", 0, 0.02))
    m.stock("x", initial=1.0, dims=("region",))
    m.flow("gain", "x * growth * fertility / 2", into="x", dims=("region",))
    return m


def test_declared_per_element_priors_and_their_correlation():
    from engine.priors import declared_correlations

    m = regional()
    assert list(merge_priors(m)) == [
        "fertility[north]",
        "fertility[south]",
        "fertility[east]",
        "growth",
    ]
    assert declared_correlations(m) == {"fertility": 0.6}
    table = prior_table(m)
    assert [row["correlation"] for row in table] == [0.6, 0.6, 0.6, None]
    # a sweep with the model's own priors draws each region and correlates them as declared
    tree = engine.run_ensemble(
        m, n=1024, seed=5, design="lhs", start=0, stop=1, dt=1, outputs=["x"], progress=False
    )
    sample = tree.to_dataset(inherit=False)["sample"]
    values = sample.sel(parameter=["fertility[north]", "fertility[south]", "fertility[east]"])
    from scipy import stats

    rank = np.asarray(stats.spearmanr(values.values).statistic)[np.triu_indices(3, 1)]
    assert np.all(np.abs(rank - 0.6) < 5 * 1.06 * (1 - 0.36) / np.sqrt(1021) + 1e-3)


def test_a_prior_by_name_replaces_the_declared_per_element_ones():
    from engine.priors import declared_correlations

    m = regional()
    merged = merge_priors(m, {"fertility": ("uniform", 1.5, 2.5)})
    assert merged == {"growth": ("uniform", 0, 0.02), "fertility": ("uniform", 1.5, 2.5)}
    # its declared correlation has no element priors left to act on
    assert declared_correlations(m, merged) == {}
    # one element overridden: the others keep the model's prior and the correlation holds
    merged = merge_priors(m, {"fertility[east]": ("uniform", 1.5, 2.5)})
    assert merged["fertility[east]"] == ("uniform", 1.5, 2.5)
    assert merged["fertility[north]"] == ("normal", 2.0, 0.3)
    assert declared_correlations(m, merged) == {"fertility": 0.6}


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(prior_per_element=True), "needs a prior and dims"),
        (dict(prior=("uniform", 0, 1), prior_correlation=0.5), "needs prior_per_element"),
        (
            dict(prior=("uniform", 0, 1), prior_per_element=True, prior_correlation=1.0),
            "strictly between",
        ),
    ],
)
def test_bad_per_element_declarations(options, message):
    m = engine.Model("bad")
    m.dimension("region", ["a", "b"])
    with pytest.raises(engine.SpecError, match=message):
        m.param("k", [1.0, 2.0], dims=("region",), **options)
