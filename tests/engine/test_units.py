"""Units checking (engine.units, ``corridor check``): Vensim's conventions for units strings,
the units of right-hand sides inferred from their terms, the findings' messages, and the models
that must come out clean."""

from __future__ import annotations

import json

import pytest

import engine
from engine.builtins import BUILTINS
from engine.cli import main
from engine.examples import example_model
from engine.units import UNITS_RULES, UnitsError, check_units, infer_units, parse_units
from tests.conftest import TEST_MODELS, teacup_model


def _population(flow_units: str = "person/year", time_unit: str = "year") -> engine.Model:
    m = engine.Model("pop", time_unit=time_unit)
    m.param("emigration_rate", 0.01, units="1/year")
    m.param("arrivals", 5.0, units="person/year")
    m.param("span", 2.0, units="Month")
    m.stock("population", initial=1000, units="person")
    m.flow("emigration", "population * emigration_rate", out_of="population", units=flow_units)
    m.flow("immigration", "arrivals", into="population", units="person/year")
    return m


# ---------------------------------------------------------------------------- units strings
@pytest.mark.parametrize(
    "left, right",
    [
        ("Dmnl", "1"),
        ("dimensionless", "dmnl"),
        ("fraction", "Unitless"),
        ("1/Year", "1/yr"),
        ("Persons/Year", "person / years"),
        ("People", "Person"),
        ("$/Widget", "USD/Widgets"),
        ("Dollars per person", "$/Person"),
        ("Widgets per Week", "Widget/Week"),
        ("Degrees Fahrenheit/Minute", "Degree Fahrenheit / minutes"),
        ("Minutes [0,?]", "Minute"),
        ("Year^2", "Year*Years"),
        ("(person*year)^-1", "1/person/year"),
        ("m/year/K", "meter/(K*yr)"),
        ("Quarter", "Month*3"),
    ],
)
def test_units_strings_with_vensim_conventions(left, right):
    a, b = parse_units(left), parse_units(right)
    assert a.dimensionality == b.dimensionality
    assert (a / b).to("").magnitude == pytest.approx(1.0)


def test_time_units_convert_and_words_of_their_own_are_base_units():
    assert (parse_units("Year") / parse_units("Month")).to("").magnitude == pytest.approx(12)
    assert parse_units("%").to("").magnitude == pytest.approx(0.01)
    assert parse_units("") is None and parse_units("  ") is None  # blank: unspecified
    widget, gadget = parse_units("Widget"), parse_units("Gadget")
    assert widget.dimensionality != gadget.dimensionality
    assert widget.dimensionality != parse_units("person").dimensionality
    # pint's readings that a modeller never means: units are not micro-nits, Rs not ronna-s
    assert str(parse_units("units").dimensionality) != str(parse_units("nit").dimensionality)
    assert parse_units("Rs").dimensionality != parse_units("s").dimensionality
    assert parse_units("km").dimensionality == parse_units("m").dimensionality


def test_time_is_the_models_time_unit():
    m = engine.Model("sir", time_unit="Day")
    m.param("duration", 5, units="days")
    m.stock("infectious", initial=10, units="people")
    m.flow("recovering", "infectious / duration", out_of="infectious", units="person/Time")
    assert check_units(m) == []
    m.param("wrong", 2, units="person/Time")
    m.aux("mixed", "wrong + infectious", units="person")
    (finding,) = check_units(m)
    assert "person/day" in finding.message
    generic = engine.Model("generic", time_unit="Time")  # XMILE's default: no unit named
    generic.param("duration", 5, units="days")
    generic.stock("infectious", initial=10, units="people")
    generic.flow("recovering", "infectious / duration", out_of="infectious", units="person/Time")
    assert check_units(generic) == []


@pytest.mark.parametrize("text", ["person/(year", "person^year", "/year", "person*"])
def test_unreadable_units_raise(text):
    with pytest.raises(ValueError):
        parse_units(text)


def test_unreadable_units_are_a_finding_naming_the_variable():
    m = engine.Model("m")
    m.param("a", 1, units="person/(year")
    (finding,) = check_units(m)
    assert finding.variable == "a" and "person/(year" in finding.message


# ---------------------------------------------------------------------------- inference
def test_inferred_units_of_expressions():
    m = _population()
    m.param("delay", 2.0, units="Years")
    m.lookup("effect", [(0, 1), (1, 2)], units="Dmnl")
    assert infer_units(m, "population * emigration_rate") == "person/year"
    assert infer_units(m, "population / span") == "person/month"
    assert infer_units(m, "min(population, 0)") == "person"  # a number adopts the units
    assert infer_units(m, "if_then_else(time > 2000, population, 1)") == "person"
    assert infer_units(m, "effect(emigration_rate * span) * arrivals") == "person/year"
    assert infer_units(m, "smooth(arrivals, delay)") == "person/year"
    assert infer_units(m, "delay_fixed(arrivals, delay, 0)") == "person/year"
    assert infer_units(m, "ramp(arrivals, 2000, 2010)") == "person"
    assert infer_units(m, "trend(population, delay, 0)") == "1/year"
    assert infer_units(m, "sqrt(population * population)") == "person"
    assert infer_units(m, "population ** 2 / population") == "person"
    assert infer_units(m, "exp(emigration_rate * delay)") == "dimensionless"
    assert infer_units(m, "time_step()") == "year"
    assert infer_units(m, "zidz(population, arrivals)") == "year"


@pytest.mark.parametrize(
    "equation, words",
    [
        ("population + arrivals", ["person", "person/year"]),
        ("max(population, arrivals)", ["MAX", "person", "person/year"]),
        ("if_then_else(time > 2000, population, arrivals)", ["IF_THEN_ELSE"]),
        ("population > arrivals", ["compares"]),
        ("exp(population)", ["EXP", "dimensionless", "person"]),
        ("step(arrivals, population)", ["STEP", "time in year"]),
        ("smooth(arrivals, population)", ["SMOOTH", "time in year"]),
        ("smooth(arrivals, span)", ["SMOOTH", "month", "factor"]),
        ("population ** emigration_rate", ["power", "dimensionless"]),
        ("population ** (population / population)", ["power", "constant"]),
        ("xidz(population, arrivals, population)", ["XIDZ", "year"]),
    ],
)
def test_terms_that_disagree(equation, words):
    with pytest.raises(UnitsError) as info:
        infer_units(_population(), equation)
    for word in words:
        assert word in str(info.value)


def test_a_parameter_exponent_is_taken_at_its_value():
    m = engine.Model("matching")
    m.param("elasticity", 0.6, units="1")
    m.param("unemployed", 10.0, units="person")
    m.param("vacancies", 5.0, units="person")
    equation = "unemployed ** elasticity * vacancies ** (1 - elasticity)"
    assert infer_units(m, equation) == "person"


def test_functions_with_memory_are_checked_through_their_state():
    m = _population()
    m.param("averaging_time", 3.0, units="person")  # a delay time that is not a time
    m.aux("smoothed_arrivals", "smooth3(arrivals, averaging_time)", units="person/year")
    findings = check_units(m)
    assert findings and {f.variable for f in findings} == {"smoothed_arrivals"}
    assert "averaging_time" in findings[0].message


def _memory_model(equation: str, units: str = "person/year") -> engine.Model:
    m = engine.Model("memory", time_unit="year")
    m.param("inflow", 1.0, units="person/year")
    m.param("delay", 3.0, units="year")
    m.param("crowd", 3.0, units="person")
    m.aux("out", equation, units=units)
    return m


@pytest.mark.parametrize(
    "equation",
    [
        "smooth(inflow, delay)",
        "smoothi(inflow, delay, 2)",
        "smooth3i(inflow, delay, 0)",
        "smooth_n(inflow, delay, 0, 400)",
        "delay1(inflow, delay)",
        "delay3(inflow, delay)",
        "delay3i(inflow, delay, 0)",
        "delay_n(inflow, delay, 0, 400)",
        "delay_fixed(inflow, delay, 0)",
        "forecast(inflow, delay, delay)",
        "initial(inflow)",
    ],
)
def test_functions_with_memory_keep_their_inputs_units(equation):
    assert check_units(_memory_model(equation)) == []


@pytest.mark.parametrize(
    "equation",
    [
        "smooth3(inflow, crowd)",
        "smoothi(inflow, delay, crowd)",
        "smooth_n(inflow, crowd, 0, 400)",
        "delay1(inflow, crowd)",
        "delay_n(inflow, crowd, 0, 400)",
        "delay_fixed(inflow, crowd, 0)",
        "delay_fixed(inflow, delay, crowd)",
        "forecast(inflow, delay, crowd)",
    ],
)
def test_functions_with_memory_given_wrong_units(equation):
    findings = check_units(_memory_model(equation))
    assert findings and {f.variable for f in findings} == {"out"}
    assert len(findings) <= 2  # the state of a long delay says it once, not once a stage


def test_trend_is_per_time_unit():
    assert check_units(_memory_model("trend(inflow, delay, 0)", units="1/year")) == []
    assert check_units(_memory_model("trend(inflow, crowd, 0)", units="1/year"))


def test_every_builtin_has_a_units_rule():
    assert set(BUILTINS) <= set(UNITS_RULES)


# ---------------------------------------------------------------------------- findings
def test_a_deliberate_units_error_is_reported_with_both_sides():
    m = _population()
    m.param("share_leaving", 0.01, units="Dmnl")
    m.aux("leavers", "population * share_leaving", units="person/year")
    (finding,) = check_units(m)
    assert finding.variable == "leavers"
    assert finding.declared == "person/year" and finding.inferred == "person"
    assert dict(finding.terms) == {"population": "person", "share_leaving": "dimensionless"}
    message = finding.message
    assert "'leavers'" in message and "person/year" in message and "person" in message
    assert "population: person" in message and "share_leaving: dimensionless" in message


def test_a_flow_must_be_its_stocks_units_per_time_unit():
    findings = check_units(_population(flow_units="person/month"))
    by_variable = {f.variable: f for f in findings}
    assert set(by_variable) == {"emigration"}
    messages = " ".join(f.message for f in findings)
    assert "person/month" in messages and "person/year" in messages and "factor 12" in messages


def test_a_sum_of_different_units_names_each_term():
    m = _population()
    m.aux("muddle", "population + emigration_rate", units="person")
    (finding,) = check_units(m)
    assert finding.variable == "muddle"
    assert dict(finding.terms) == {"population": "person", "emigration_rate": "1/year"}


def test_consistent_models_are_clean():
    assert check_units(_population()) == []
    assert check_units(teacup_model()) == []
    assert check_units(example_model()) == []


def test_variables_without_units_are_not_checked():
    m = engine.Model("m")
    m.param("a", 1.0)
    m.param("b", 2.0, units="person")
    m.aux("c", "a + b")
    m.aux("d", "c * 2", units="widget")
    assert check_units(m) == []


def test_strict_raises_a_clear_error():
    m = _population(flow_units="person")
    with pytest.raises(UnitsError) as info:
        check_units(m, strict=True)
    text = str(info.value)
    assert "'pop'" in text and "'emigration'" in text and "strict=False" in text
    assert isinstance(info.value, engine.SpecError)


@pytest.mark.parametrize(
    "name",
    [
        "hump",
        "labour",
        "climate",
        "demography",
        "corridor",
        "corridor_five_region",
        "migration_system",
    ],
)
def test_bundled_models_that_are_consistent(name):
    from engine.registry import build_model

    assert check_units(build_model(name)) == []


# ---------------------------------------------------------------------------- command line
def test_check_command(capsys, tmp_path):
    assert main(["check", "example"]) == 0
    assert "example: units consistent (0 warning(s))" in capsys.readouterr().out
    source = tmp_path / "leaky.py"
    source.write_text(
        "import engine\n\n\ndef build():\n"
        "    m = engine.Model('leaky')\n"
        "    m.stock('water', initial=1, units='litre')\n"
        "    m.flow('leak', 'water', out_of='water', units='litre/year')\n"
        "    return m\n"
    )
    assert main(["check", str(source)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: flow 'leak'") and "liter/year" in out
    assert main(["check", str(source), "--strict"]) == 1
    capsys.readouterr()
    assert main(["check", str(source), "--json", "--quiet"]) == 0
    (finding,) = json.loads(capsys.readouterr().out)
    assert finding["variable"] == "leak" and finding["declared"] == "liter/year"


# ---------------------------------------------------------------------------- Vensim files
needs_models = pytest.mark.skipif(
    not TEST_MODELS.exists(), reason=f"shared conformance models not found at {TEST_MODELS}"
)


@needs_models
@pytest.mark.parametrize(
    "path",
    [
        "samples/teacup/teacup.mdl",
        "samples/SIR/SIR.mdl",
        "tests/delays/test_delays.mdl",
        "samples/SIR/SIR.xmile",
        "samples/teacup/teacup.stmx",
    ],
)
def test_consistent_vensim_models_are_clean(path):
    model = engine.load(TEST_MODELS / path)
    assert any(v.units for v in model.variables.values())
    assert check_units(model) == []


@needs_models
def test_a_vensim_model_with_a_units_error():
    # workforce.mdl declares a task's time in Person*Hours (no per-task unit), so Vensim's own
    # units check reports its task completions too.
    model = engine.load(TEST_MODELS / "samples/Workforce/workforce.mdl")
    findings = {f.variable: f for f in check_units(model)}
    finding = findings["Expert Task Completion"]
    assert finding.declared == "Tasks/week" and finding.inferred == "1/week"
    assert ("Expert Time per Task", "person*hour") in finding.terms
