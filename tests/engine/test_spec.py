"""Model.set_value: the one way to change a declared parameter (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import ParameterError, SpecError
from tests.conftest import teacup_model


def regional_model() -> engine.Model:
    m = engine.Model("regional", time_unit="year")
    m.dimension("region", ["Europe", "Northern Africa", "Central America"])
    m.dimension("sex", ["female", "male"])
    m.param("rate", 0.1, dims=("region",), units="1/year", bounds=(0, 1))
    m.param("share", 0.5, dims=("region", "sex"), units="1", bounds=(0, 1))
    m.param("scale", 2.0, bounds=(0, None))
    return m


def test_scalar_array_and_mapping_values():
    m = regional_model()
    m.set_value("scale", 3)
    assert m["scale"].value.shape == () and float(m["scale"].value) == 3.0
    m.set_value("rate", 0.2)  # a number sets every element
    np.testing.assert_array_equal(m["rate"].value, [0.2, 0.2, 0.2])
    m.set_value("rate", np.array([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(m["rate"].value, [0.1, 0.2, 0.3])
    m.set_value("rate", {"Central America": 0.9})  # only the elements named change
    np.testing.assert_array_equal(m["rate"].value, [0.1, 0.2, 0.9])
    m.set_value("share", {("Europe", "male"): 0.25, ("Central America", "female"): 0.75})
    np.testing.assert_array_equal(m["share"].value, [[0.5, 0.25], [0.5, 0.5], [0.75, 0.5]])
    assert m["rate"].value.dtype == np.float64


def test_value_reaches_a_run_and_changes_the_content_hash():
    m = teacup_model()
    before = m.content_hash()
    first = engine.simulate(m, start=0, stop=2, dt=1)["teacup_temperature"].values
    m.set_value("characteristic_time", 5)
    assert m.content_hash() != before
    again = engine.simulate(m, start=0, stop=2, dt=1)["teacup_temperature"].values
    np.testing.assert_allclose(first, [180, 169, 159.1])
    np.testing.assert_allclose(again, [180, 158, 140.4])
    m.set_value("characteristic_time", 10)
    assert m.content_hash() == before  # the hash is of the value, not of its history


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("room_temp", 1, r"unknown parameter 'room_temp' of model 'teacup'.*'room_temperature'"),
        ("heat_loss", 1, "'heat_loss' is a flow, not a parameter"),
        (
            "characteristic_time",
            0.0,
            r"'characteristic_time': value 0.0 is outside its bounds "
            r"\[0.1, None\]",
        ),
        ("room_temperature", [1, 2], r"shape \(\)"),
        ("room_temperature", float("nan"), "must be finite"),
        ("room_temperature", float("inf"), "must be finite"),
        ("room_temperature", "70", "not a number"),
        ("room_temperature", None, "not a number"),
        ("room_temperature", {"x": 1}, "no dims; give a number"),
    ],
)
def test_errors_name_the_parameter(name, value, message):
    m = teacup_model()
    before = m.content_hash()
    with pytest.raises(ParameterError, match=message):
        m.set_value(name, value)
    assert m.content_hash() == before  # a refused value leaves the model as it was


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("rate", {"Europ": 0.2}, r"'Europ' is not an element of 'region'. Did you mean 'Europe'"),
        ("rate", {"Europe": 1.5}, r"'rate': value \[1.5, 0.1, 0.1\] is outside"),
        ("rate", {"Europe": float("nan")}, r"must be finite.*at \['Europe'\]"),
        ("rate", [0.1, 2.0, 0.1], r"outside its bounds \[0, 1\] at \['Northern Africa'\]"),
        ("rate", {"Europe": "high"}, r"'rate\[Europe\]': value 'high' is not a number"),
        ("rate", {"Europe": [0.1, 0.2]}, "must be a number"),
        ("share", {"Europe": 0.2}, r"names 1 element\(s\); give one for each of its dims"),
        ("share", {("Europe", "femal"): 0.2}, "'femal' is not an element of 'sex'.*'female'"),
        ("share", np.full((2, 3), 0.5), r"shape \(3, 2\)"),
    ],
)
def test_element_errors(name, value, message):
    m = regional_model()
    old = m[name].value.copy()
    with pytest.raises(ParameterError, match=message):
        m.set_value(name, value)
    np.testing.assert_array_equal(m[name].value, old)


def test_bounds_error_names_value_and_bounds():
    m = regional_model()
    with pytest.raises(
        ParameterError,
        match=r"'rate': value \[0.1, 0.1, 1.5\] is outside its "
        r"bounds \[0, 1\] at \['Central America'\]",
    ):
        m.set_value("rate", {"Central America": 1.5})


def test_declaration_uses_the_same_checks_as_spec_errors():
    m = regional_model()
    with pytest.raises(SpecError, match="no value for elements"):
        m.param("partial", {"Europe": 1.0}, dims=("region",))
    with pytest.raises(SpecError, match="must be finite"):
        m.param("missing", float("nan"))
    with pytest.raises(SpecError, match="outside its bounds"):
        m.param("negative", -1.0, bounds=(0, None))
    m.param(
        "full",
        {
            ("Europe", "female"): 1,
            ("Europe", "male"): 2,
            ("Northern Africa", "female"): 3,
            ("Northern Africa", "male"): 4,
            ("Central America", "female"): 5,
            ("Central America", "male"): 6,
        },
        dims=("region", "sex"),
    )
    np.testing.assert_array_equal(m["full"].value, [[1, 2], [3, 4], [5, 6]])


def test_model_helpers_go_through_set_value():
    hump = pytest.importorskip("models.hump")
    corridor = pytest.importorskip("models.corridor")
    regions = ["Northern Africa", "Europe"]
    m = hump.build(regions=regions, values={"hump_peak_income": 8000.0})
    assert float(m["hump_peak_income"].value) == 8000.0
    with pytest.raises(ParameterError, match="hump_peak_income.*outside its bounds"):
        hump.build(regions=regions, values={"hump_peak_income": 20000.0})
    m = teacup_model()
    with pytest.raises(ParameterError, match="'room_temp'.*'room_temperature'"):
        corridor.set_param(m, "room_temp", 1)
