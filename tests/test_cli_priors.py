"""Priors by name on the command line (issue 17, point 5): ``--prior`` adds to or overrides
the model's priors, ``NAME=none`` drops one, ``describe`` lists them all; ``run --seed``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine
from engine.cli import main
from engine.priors import declared_priors
from engine.registry import build_model


def _sweep_priors(tmp_path, *options):
    """The priors a sweep of the example model stored, as {key: description}."""
    store = tmp_path / "s.zarr"
    argv = ["sweep", "example", "-n", "8", "--stop", "2026", "--output", "diaspora"]
    assert main([*argv, "--store", str(store), "--quiet", *options]) == 0
    tree = engine.open_store(store)
    return json.loads(tree.attrs["priors"])


def test_a_user_prior_keeps_the_models_own(tmp_path):
    declared = declared_priors(build_model("example"))
    assert len(declared) >= 2
    priors = _sweep_priors(tmp_path, "--prior", "return_rate=uniform,0.01,0.03")
    # the declared priors are still sampled, and the new one beside them
    assert set(priors) == set(declared) | {"return_rate"}


def test_a_user_prior_overrides_and_none_drops(tmp_path):
    declared = declared_priors(build_model("example"))
    first, *rest = declared
    priors = _sweep_priors(
        tmp_path, "--prior", f"{first}=uniform,0.0015,0.0025", "--prior", f"{rest[0]}=none"
    )
    assert set(priors) == {first} | set(rest[1:])
    assert "0.0015" in json.dumps(priors[first])


def test_a_misspelt_prior_is_one_line_with_a_suggestion(tmp_path, capsys):
    store = tmp_path / "s.zarr"
    argv = ["sweep", "example", "-n", "4", "--store", str(store), "--quiet"]
    assert main([*argv, "--prior", "retrun_rate=uniform,0.01,0.03"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "retrun_rate" in err and "return_rate" in err
    assert not store.exists()  # refused before anything ran
    assert main([*argv, "--prior", "return_rate=none"]) == 1  # no such prior to drop
    assert "return_rate" in capsys.readouterr().err
    declared = list(declared_priors(build_model("example")))
    drops = [a for k in declared for a in ("--prior", f"{k}=none")]
    assert main([*argv, *drops]) == 1
    assert "no priors left" in capsys.readouterr().err


def test_describe_lists_every_prior_with_its_source(capsys):
    declared = list(declared_priors(build_model("example")))
    first, second = declared[:2]
    argv = ["describe", "example", "--prior", f"{first}=uniform,0.0015,0.0025"]
    argv += ["--prior", f"{second}=none", "--prior", "return_rate=uniform,0.01,0.03"]
    argv += ["--correlation", f"{first},return_rate=0.4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    section = out[out.index("priors (") :]
    assert f"{first}: ('uniform', 0.0015, 0.0025) [user, overrides model:" in section
    assert f"{second}: (none) [model, dropped by user]" in section
    assert "return_rate: ('uniform', 0.01, 0.03) [user]" in section
    assert f"{first} ~ return_rate: rank correlation 0.4 [user]" in section
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    sources = {row["key"]: row["source"] for row in data["priors"]}
    assert sources[second] == "model, dropped by user" and sources["return_rate"] == "user"
    assert data["correlations"] == [
        {"between": [first, "return_rate"], "rho": 0.4, "source": "user"}
    ]
    assert main(["describe", "example", "--prior", "nope=uniform,0,1"]) == 1
    assert "unknown parameter 'nope'" in capsys.readouterr().err


def test_a_correlation_reaches_the_design(tmp_path):
    declared = list(declared_priors(build_model("example")))
    store = tmp_path / "c.zarr"
    argv = ["sweep", "example", "-n", "64", "--design", "lhs", "--stop", "2023"]
    argv += ["--output", "diaspora", "--store", str(store), "--quiet"]
    assert main([*argv, "--correlation", f"{declared[0]},{declared[1]}=0.8"]) == 0
    sample = engine.open_store(store).ds["sample"]
    a, b = (np.argsort(np.argsort(sample.sel(parameter=k).values)) for k in declared[:2])
    assert np.corrcoef(a, b)[0, 1] > 0.6


def _noisy_model():
    m = engine.Model("noisy", start=0, stop=5, dt=1, saveper=1, time_unit="year")
    m.param("scale", 1.0)
    m.aux("shock", "random_normal(-10, 10, 0, scale, 0)")
    m.stock("level", initial=0.0)
    m.flow("change", "shock", into="level")
    return m


@pytest.fixture
def noisy(monkeypatch):
    from engine import registry

    monkeypatch.setitem(registry._BUILTIN, "noisy", lambda **_: _noisy_model())


def test_run_seed_reaches_simulate(noisy, capsys):
    def final(seed):
        assert main(["run", "noisy", "--json", "--seed", str(seed)]) == 0
        return json.loads(capsys.readouterr().out)["final"]["level"]

    expected = float(engine.simulate(_noisy_model(), seed=7)["level"][-1])
    assert final(7) == pytest.approx(expected, rel=0, abs=0)
    assert final(7) != final(8)
