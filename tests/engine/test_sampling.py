"""Priors and sampling designs: distributions against scipy, design sizes, determinism, and
clear errors for bad priors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import engine
from engine.sampling import (
    DESIGNS,
    UNIT_MARGIN,
    assignments,
    design_rows,
    make_design,
    parameter_rows,
    resolve_priors,
)
from engine.simulation import compiled, parameter_vector


def toy(**priors):
    m = engine.Model("toy", time_unit="year")
    m.dimension("region", ["north", "south", "east"])
    m.param("a", 1.0, bounds=(None, None), **priors)
    m.param("b", 0.5, bounds=(0, 1))
    m.param("c", 2.0, bounds=(0, None))
    m.param("rate", [0.1, 0.2, 0.3], dims=("region",), bounds=(0, 1))
    m.stock("x", initial=1.0, dims=("region",))
    m.flow("loss", "rate * x * c", out_of="x", dims=("region",))
    return m


PRIORS = {
    "uniform": (("uniform", 2, 5), stats.uniform(2, 3)),
    "normal": (("normal", 3, 0.5), stats.norm(3, 0.5)),
    "truncnorm": (("truncnorm", 1, 2, 0.5, 4), stats.truncnorm(-0.25, 1.5, loc=1, scale=2)),
    "lognormal": (("lognormal", math.log(2.0), 0.3), stats.lognorm(0.3, scale=2.0)),
    "triangular": (("triangular", 1, 2, 5), stats.triang(0.25, loc=1, scale=4)),
    "beta": (("beta", 2, 3, 1, 4), stats.beta(2, 3, loc=1, scale=3)),
}


@pytest.mark.parametrize("kind", sorted(PRIORS))
def test_each_distribution_maps_unit_points_through_its_scipy_ppf(kind):
    spec, reference = PRIORS[kind]
    priors = resolve_priors(toy(), {"c": spec})
    design = make_design("random", 500, 7, priors)
    np.testing.assert_allclose(design.values[:, 0], reference.ppf(design.unit[:, 0]), rtol=1e-12)
    assert np.all(design.values[:, 0] >= 0)  # inside c's bounds


def test_distribution_parameters_follow_design_md():
    # lognormal takes mu, sigma of the log; truncnorm takes natural units
    priors = resolve_priors(toy(), {"c": ("lognormal", math.log(3.0), 0.2)})
    assert priors[0].ppf(np.array([0.5]))[0] == pytest.approx(3.0)
    priors = resolve_priors(toy(), {"b": ("truncnorm", 0.5, 10.0, 0.2, 0.3)})
    values = make_design("lhs", 200, 0, priors).values[:, 0]
    assert values.min() >= 0.2 and values.max() <= 0.3


def test_choice_takes_only_its_values_evenly():
    priors = resolve_priors(toy(), {"c": ("choice", [1.0, 2.0, 4.0])})
    values = make_design("lhs", 300, 1, priors).values[:, 0]
    assert set(np.unique(values)) == {1.0, 2.0, 4.0}
    assert np.bincount(np.searchsorted([1.0, 2.0, 4.0], values)).tolist() == [100, 100, 100]


def test_scipy_frozen_distribution_is_accepted():
    frozen = stats.gamma(2.0, scale=0.5)
    priors = resolve_priors(toy(), {"c": frozen})
    design = make_design("sobol", 16, 0, priors)
    np.testing.assert_allclose(design.values[:, 0], frozen.ppf(design.unit[:, 0]))


@pytest.mark.parametrize("design", DESIGNS)
def test_design_is_made_from_design_seed_n_priors_only(design):
    priors = resolve_priors(toy(), {"c": ("uniform", 1, 3), "b": ("normal", 0.5, 0.05)})
    state = np.random.get_state()
    first = make_design(design, 8, 42, priors)
    second = make_design(design, 8, 42, priors)
    other = make_design(design, 8, 43, priors)
    after = np.random.get_state()
    assert np.array_equal(first.values, second.values)
    assert not np.array_equal(first.values, other.values)
    assert first.values.shape == (design_rows(design, 8, 2), 2)
    # no global random state used or changed
    assert all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(state, after)
    )
    assert np.all((first.unit >= 0) & (first.unit <= 1))


def test_design_sizes():
    assert design_rows("saltelli", 16, 3) == 16 * 8
    assert design_rows("morris", 10, 3) == 40
    assert design_rows("lhs", 10, 3) == 10


def test_lhs_has_one_point_per_stratum():
    priors = resolve_priors(toy(), {"c": ("uniform", 0, 1), "b": ("uniform", 0, 1)})
    unit = make_design("lhs", 50, 3, priors).unit
    for column in unit.T:
        assert sorted(np.floor(column * 50).astype(int)) == list(range(50))


def test_sobol_is_scipys_scrambled_sequence_without_its_warning():
    priors = resolve_priors(toy(), {"c": ("uniform", 0, 1)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unit = make_design("sobol", 10, 5, priors).unit
    reference = stats.qmc.Sobol(1, rng=np.random.default_rng(5)).random_base2(4)[:10]
    np.testing.assert_array_equal(unit, np.clip(reference, UNIT_MARGIN, 1 - UNIT_MARGIN))


def test_unbounded_priors_give_finite_values():
    priors = resolve_priors(toy(), {"a": ("normal", 0, 1)})
    for design in DESIGNS:
        assert np.all(np.isfinite(make_design(design, 64, 0, priors).values))


def test_morris_levels_are_central_quantiles():
    priors = resolve_priors(toy(), {"c": ("uniform", 0, 4), "b": ("uniform", 0, 1)})
    values = make_design("morris", 6, 0, priors).values
    assert set(np.round(np.unique(values[:, 0]), 12)) <= {0.5, 1.5, 2.5, 3.5}


def test_subscripted_parameter_shares_one_draw_unless_keyed_by_element():
    model = toy()
    result = compiled(model, "euler")
    priors = resolve_priors(
        model, {"rate[south]": ("uniform", 0.5, 0.6), "rate": ("uniform", 0.1, 0.2)}
    )
    assert [p.key for p in priors] == ["rate", "rate[south]"]  # element overrides whole
    design = make_design("random", 5, 0, priors)
    base = parameter_vector(result, None)
    P = parameter_rows(base, design.values, assignments(priors, result.plan.slots))
    slot = result.plan.slots["rate"]
    rate = P[:, slot.offset : slot.offset + 3]
    assert np.array_equal(rate[:, 0], rate[:, 2])
    assert np.array_equal(rate[:, 0], design.values[:, 0])
    assert np.array_equal(rate[:, 1], design.values[:, 1])
    assert np.all(rate[:, 1] >= 0.5)
    other = P[:, result.plan.slots["c"].offset]
    assert np.all(other == 2.0)


def test_model_priors_are_used_when_none_are_given():
    model = toy(prior=("normal", 1.0, 0.1))
    assert [p.key for p in resolve_priors(model, None)] == ["a"]
    with pytest.raises(engine.ParameterError, match="declares no priors"):
        resolve_priors(toy(), None)


@pytest.mark.parametrize(
    "priors, message",
    [
        ({"cc": ("uniform", 1, 2)}, r"unknown parameter 'cc'.*Did you mean 'c'"),
        ({"x": ("uniform", 1, 2)}, "'x' is a stock, not a parameter"),
        ({"rate[west]": ("uniform", 0.1, 0.2)}, "'west' is not an element of 'region'"),
        ({"rate[north,south]": ("uniform", 0.1, 0.2)}, "one element per dim"),
        ({"b": ("uniform", 0.5, 1.5)}, r"outside the parameter's bounds \[0, 1\]"),
        ({"c": ("normal", 2, 1)}, "truncnorm"),
        ({"b": ("choice", [0.5, 2.0])}, "outside the parameter's bounds"),
        ({"c": ("uniform", 3, 1)}, "low must be below high"),
        ({"c": ("normal", 3, 0)}, "sd must be positive"),
        ({"c": ("gauss", 3, 1)}, "unknown distribution 'gauss'"),
        ({"c": ("uniform", 3)}, "takes 2 parameter"),
        ({"c": "uniform"}, "must be a tuple"),
        ({"c": ("triangular", 1, 5, 3)}, "mode"),
        ({}, "non-empty mapping"),
    ],
)
def test_bad_priors_raise_parameter_error(priors, message):
    with pytest.raises(engine.ParameterError, match=message):
        resolve_priors(toy(), priors)


@pytest.mark.parametrize(
    "design, n, seed, message",
    [
        ("random", 0, 0, "positive integer"),
        ("random", -3, 0, "positive integer"),
        ("random", 2.5, 0, "positive integer"),
        ("random", 4, -1, "non-negative integer"),
        ("random", 4, None, "non-negative integer"),
        ("latin", 4, 0, "unknown design 'latin'"),
        ("morris", 1, 0, "n >= 2"),
    ],
)
def test_bad_designs_raise_parameter_error(design, n, seed, message):
    priors = resolve_priors(toy(), {"c": ("uniform", 1, 2)})
    with pytest.raises(engine.ParameterError, match=message):
        make_design(design, n, seed, priors)


def test_a_prior_with_a_sliver_outside_the_bounds_is_truncated_to_them():
    # normal(0.5, 0.15) puts 0.09% outside [0, 1]: allowed, and sampled as the truncated normal
    priors = resolve_priors(toy(), {"b": ("normal", 0.5, 0.15)})
    design = make_design("random", 2000, 3, priors)
    truncated = stats.truncnorm(-0.5 / 0.15, 0.5 / 0.15, loc=0.5, scale=0.15)
    np.testing.assert_allclose(design.values[:, 0], truncated.ppf(design.unit[:, 0]), rtol=1e-7)
    assert design.values.min() >= 0 and design.values.max() <= 1
    with pytest.raises(engine.ParameterError, match=r"puts 2.28% of its probability outside"):
        resolve_priors(toy(), {"c": ("normal", 2, 1)})


# ------------------------------------------------------------------ correlated inputs
def _rank_correlation(values: np.ndarray) -> np.ndarray:
    return np.asarray(stats.spearmanr(values).statistic)


def _tolerance(rho: float, n: int) -> float:
    # Five standard errors of Spearman's rho (Fieller et al. 1957: about 1.06 (1 - rho^2) /
    # sqrt(n - 3) for normal data).
    return 5 * 1.06 * (1 - rho**2) / np.sqrt(n - 3) + 1e-3


CORRELATED = {
    "a": ("normal", 3, 0.5),
    "c": ("lognormal", 0, 0.3),
    "rate[north]": ("uniform", 0.1, 0.3),
    "rate[south]": ("beta", 2, 3, 0, 1),
    "rate[east]": ("triangular", 0, 0.2, 0.9),
}


@pytest.mark.parametrize("design", ["random", "lhs", "sobol"])
def test_correlated_priors_reach_their_rank_correlations(design):
    from engine.priors import resolve_correlations
    from engine.sampling import plan_design

    m = toy()
    priors = resolve_priors(m, CORRELATED)
    asked = {("a", "c"): -0.4, "rate": 0.7}
    matrix = resolve_correlations(priors, asked)
    n = 4096
    values = plan_design(design, n, 3, priors, matrix).values
    keys = [p.key for p in priors]
    achieved = _rank_correlation(values)
    expected = np.eye(len(keys))
    ia, ic = keys.index("a"), keys.index("c")
    expected[ia, ic] = expected[ic, ia] = -0.4
    rates = [keys.index(k) for k in keys if k.startswith("rate[")]
    for i in rates:
        for j in rates:
            if i != j:
                expected[i, j] = 0.7
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            assert abs(achieved[i, j] - expected[i, j]) < _tolerance(expected[i, j], n), (
                keys[i],
                keys[j],
                achieved[i, j],
            )
    # each input keeps its own prior
    for j, prior in enumerate(priors):
        assert stats.kstest(values[:, j], prior.distribution.cdf).pvalue > 1e-4, prior.key


def test_correlated_random_design_rows_do_not_depend_on_blocks():
    from engine.priors import resolve_correlations
    from engine.sampling import plan_design

    priors = resolve_priors(toy(), CORRELATED)
    design = plan_design("random", 50, 8, priors, resolve_correlations(priors, {"rate": 0.5}))
    whole = design.block(0, 50)[1]
    pieces = np.concatenate([design.block(k, min(k + 7, 50))[1] for k in range(0, 50, 7)])
    np.testing.assert_array_equal(whole, pieces)


def test_per_element_priors_cover_every_element():
    from engine.priors import per_element

    keys = per_element(toy(), "rate", ("uniform", 0, 1))
    assert sorted(keys) == ["rate[east]", "rate[north]", "rate[south]"]
    assert [p.element for p in resolve_priors(toy(), keys)] == [0, 1, 2]
    with pytest.raises(engine.ParameterError, match="'rat'.*Did you mean"):
        per_element(toy(), "rat", ("uniform", 0, 1))


@pytest.mark.parametrize(
    "correlations, message",
    [
        ({("a", "x"): 0.5}, "no prior is keyed 'x'"),
        ({("a", "rate[nrth]"): 0.5}, "Did you mean"),
        ({("a", "c"): 1.0}, "strictly between"),
        ({("a", "a"): 0.5}, "pair of two"),
        ({"a": 0.5}, "no parameter with two or more"),
        ({"rate": 0.5, ("rate[north]", "rate[east]"): 0.2}, "give each pair once"),
        (
            {
                ("rate[north]", "rate[south]"): 0.9,
                ("rate[north]", "rate[east]"): 0.9,
                ("rate[south]", "rate[east]"): -0.9,
            },
            "not jointly possible",
        ),
    ],
)
def test_bad_correlations_are_refused(correlations, message):
    from engine.priors import resolve_correlations

    priors = resolve_priors(toy(), CORRELATED)
    with pytest.raises(engine.ParameterError, match=message):
        resolve_correlations(priors, correlations)


def test_sensitivity_designs_refuse_correlations():
    from engine.priors import resolve_correlations

    priors = resolve_priors(toy(), CORRELATED)
    matrix = resolve_correlations(priors, {"rate": 0.5})
    with pytest.raises(engine.ParameterError, match="independent inputs"):
        make_design("saltelli", 8, 0, priors, matrix)


def test_run_ensemble_samples_correlated_priors():
    m = toy()
    tree = engine.run_ensemble(
        m,
        n=512,
        seed=2,
        design="lhs",
        priors=CORRELATED,
        correlations={"rate": 0.6},
        start=0,
        stop=1,
        dt=0.5,
        outputs=["x"],
        progress=False,
    )
    sample = tree.to_dataset(inherit=False)["sample"]
    rates = sample.sel(parameter=["rate[north]", "rate[south]", "rate[east]"]).values
    achieved = _rank_correlation(rates)
    assert np.all(np.abs(achieved[np.triu_indices(3, 1)] - 0.6) < _tolerance(0.6, 512))
    # the run used the sampled values: x decays at its own element's rate (two Euler steps)
    c = sample.sel(parameter="c").values[:, None]
    x = tree["short"]["x"].sel(time=1.0).transpose("member", "region").values
    np.testing.assert_allclose(x, (1 - 0.5 * rates * c) ** 2, rtol=1e-12)
    assert "correlation" in tree.attrs
