"""A small model that ships with the engine, so that every command has something to run.

The domain models live in the ``models`` package and are found through entry points
(:mod:`engine.registry`); this one needs nothing but the engine.
"""

from __future__ import annotations

from .spec import Model

__all__ = ["example_model"]


def example_model() -> Model:
    """A toy origin-destination loop: emigration grows with the diaspora (a network effect)
    and returns drain it.

    Examples
    --------
    >>> from engine.examples import example_model
    >>> example_model()
    <Model 'example': 5 params, 2 stocks, 1 auxs, 3 flows; dims []>
    """
    m = Model(
        "example",
        time_unit="year",
        start=2022,
        stop=2100,
        dt=0.25,
        saveper=1,
        doc="A toy origin-destination model: emigration grows with the diaspora "
        "(a network effect) and returns drain it.",
    )
    m.param("origin_population_initial", 50e6, units="person")
    m.param(
        "base_emigration_rate",
        0.002,
        units="1/year",
        bounds=(0, 0.1),
        prior=("uniform", 0.001, 0.004),
    )
    m.param("network_effect", 0.5, units="1", bounds=(0, 5), prior=("truncnorm", 0.5, 0.1, 0, 5))
    m.param("return_rate", 0.02, units="1/year", bounds=(0, 1))
    m.param("natural_growth", 0.015, units="1/year")
    m.stock(
        "origin_population", initial="origin_population_initial", units="person", non_negative=True
    )
    m.stock("diaspora", initial=2e6, units="person", non_negative=True)
    m.aux("diaspora_share", "diaspora / origin_population", units="1")
    m.flow(
        "growth",
        "natural_growth * origin_population",
        into="origin_population",
        units="person/year",
    )
    m.flow(
        "emigration",
        "base_emigration_rate * origin_population * (1 + network_effect * diaspora_share * 10)",
        out_of="origin_population",
        into="diaspora",
        units="person/year",
    )
    m.flow(
        "returns",
        "return_rate * diaspora",
        out_of="diaspora",
        into="origin_population",
        units="person/year",
    )
    return m
