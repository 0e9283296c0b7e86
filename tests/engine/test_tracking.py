"""The content hash is kept per state of a model (engine.spec.tracking): any change of the
model after a run, through a public method or an attribute, a list or a dict of its parts,
makes the next hash (and so the next simulate) see the new content."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np
import pytest

import engine
from engine.equations import parse
from engine.spec import Piece
from engine.spec.tracking import TrackedDict, TrackedList

START, STOP, DT = 0.0, 2.0, 1.0


def teacup() -> engine.Model:
    m = engine.Model("teacup", time_unit="minute")
    m.dimension("cup", ["small", "large"])
    m.param("room_temperature", 70.0)
    m.param("characteristic_time", [10.0, 20.0], dims=("cup",))
    m.stock("teacup_temperature", initial=180.0, dims=("cup",))
    m.flow(
        "heat_loss",
        "(teacup_temperature[cup] - room_temperature) / characteristic_time[cup]",
        out_of="teacup_temperature",
        dims=("cup",),
    )
    m.lookup("curve", [(0.0, 0.0), (10.0, 1.0)])
    m.aux("read_curve", "curve(room_temperature / 10)")
    return m


def fresh_hash(m: engine.Model) -> str:
    """The hash made from nothing kept."""
    clone = copy.copy(m)
    clone.__dict__.pop("_hash_parts", None)
    return clone.content_hash()


def _set_value(m: engine.Model) -> None:
    m.set_value("room_temperature", 20.0)


def _set_element(m: engine.Model) -> None:
    m.set_value("characteristic_time", {"large": 5.0})


def _value_attribute(m: engine.Model) -> None:
    m["room_temperature"].value = np.array(25.0)


def _value_in_place(m: engine.Model) -> None:
    m["characteristic_time"].value[1] = 2.0


def _table_in_place(m: engine.Model) -> None:
    assert m["curve"].tables is not None
    m["curve"].tables[0][1][1] = 3.0


def _table_replaced(m: engine.Model) -> None:
    assert m["curve"].tables is not None
    m["curve"].tables[0] = (np.array([0.0, 10.0]), np.array([0.0, 2.0]))


def _new_param(m: engine.Model) -> None:
    m.param("extra_heat", 1.0)


def _new_flow_into_stock(m: engine.Model) -> None:
    m.param("heater", 3.0)
    m.flow("heating", "heater", into="teacup_temperature", dims=("cup",))


def _new_stock(m: engine.Model) -> None:
    m.stock("saucer", initial=20.0)


def _new_aux(m: engine.Model) -> None:
    m.aux("doubled", "2 * room_temperature")


def _new_smooth(m: engine.Model) -> None:
    m.smooth("smoothed", "room_temperature", 2.0)


def _new_delay(m: engine.Model) -> None:
    m.delay("delayed", "room_temperature", 2.0)


def _new_dimension(m: engine.Model) -> None:
    m.dimension("saucer", 3)


def _equation_replaced(m: engine.Model) -> None:
    m["heat_loss"].pieces = [
        Piece(("cup",), parse("(teacup_temperature[cup] - room_temperature) / 5"))
    ]


def _equation_item_replaced(m: engine.Model) -> None:
    m["heat_loss"].pieces[0] = Piece(
        ("cup",), parse("(teacup_temperature[cup] - room_temperature) / 4")
    )


def _piece_expression(m: engine.Model) -> None:
    m["heat_loss"].pieces[0].expr = parse("(teacup_temperature[cup] - room_temperature) / 3")


def _initial_equation(m: engine.Model) -> None:
    m["teacup_temperature"].pieces[0].expr = parse("150")


def _outflow_dropped(m: engine.Model) -> None:
    m["teacup_temperature"].outflows.clear()


def _outflow_list_replaced(m: engine.Model) -> None:
    m["teacup_temperature"].outflows = []


def _non_negative(m: engine.Model) -> None:
    m["teacup_temperature"].non_negative = True


def _extra_item(m: engine.Model) -> None:
    m["heat_loss"].extra["note"] = "x"


def _variable_removed(m: engine.Model) -> None:
    del m.variables["read_curve"]


def _time_setting(m: engine.Model) -> None:
    m.dt = 0.5


def _control(m: engine.Model) -> None:
    m.control["dt"] = "room_temperature"


def _dimension_mapping(m: engine.Model) -> None:
    m.dims["cup"].mappings["mug"] = ("a", "b")


def _cohort_shift(m: engine.Model) -> None:
    m.cohort_shift("teacup_temperature", "cup", every=1.0)


MUTATIONS: dict[str, Callable[[engine.Model], None]] = {
    f.__name__.lstrip("_"): f
    for f in (
        _set_value,
        _set_element,
        _value_attribute,
        _value_in_place,
        _table_in_place,
        _table_replaced,
        _new_param,
        _new_flow_into_stock,
        _new_stock,
        _new_aux,
        _new_smooth,
        _new_delay,
        _new_dimension,
        _equation_replaced,
        _equation_item_replaced,
        _piece_expression,
        _initial_equation,
        _outflow_dropped,
        _outflow_list_replaced,
        _non_negative,
        _extra_item,
        _variable_removed,
        _time_setting,
        _control,
        _dimension_mapping,
        _cohort_shift,
    )
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_change_after_a_run_changes_the_hash(name: str) -> None:
    m = teacup()
    engine.simulate(m, start=START, stop=STOP, dt=DT)
    before = m.content_hash()
    assert m.content_hash() == before == fresh_hash(m)
    MUTATIONS[name](m)
    after = m.content_hash()
    assert after != before
    assert after == fresh_hash(m)  # what was kept is exactly what a fresh hash makes


# The changes that change the numbers of the default outputs, and the run that shows them.
NUMERIC = [
    "set_value",
    "set_element",
    "value_attribute",
    "value_in_place",
    "table_in_place",
    "table_replaced",
    "new_flow_into_stock",
    "equation_replaced",
    "equation_item_replaced",
    "piece_expression",
    "initial_equation",
    "outflow_dropped",
    "outflow_list_replaced",
]


@pytest.mark.parametrize("name", NUMERIC)
def test_the_next_simulate_runs_the_changed_model(name: str) -> None:
    m = teacup()
    engine.simulate(m, start=START, stop=STOP, dt=DT)  # the prepared run kept by simulate
    MUTATIONS[name](m)
    after = engine.simulate(m, start=START, stop=STOP, dt=DT)
    fresh = teacup()  # the same change made to a model never run
    MUTATIONS[name](fresh)
    expected = engine.simulate(fresh, start=START, stop=STOP, dt=DT)
    before = engine.simulate(teacup(), start=START, stop=STOP, dt=DT)
    for var in ("teacup_temperature", "read_curve"):
        np.testing.assert_array_equal(after[var].values, expected[var].values)
    assert any(
        not np.array_equal(after[var].values, before[var].values)
        for var in ("teacup_temperature", "read_curve")
    )


def test_an_unchanged_model_keeps_its_hash_and_the_same_text() -> None:
    m = teacup()
    first = m.content_hash()
    kept = m.__dict__["_hash_parts"]
    assert m.content_hash() == first
    assert m.__dict__["_hash_parts"] is kept  # not made again
    teacup()  # building another model is a change somewhere: made again, the same
    assert m.content_hash() == first


def test_lists_and_dicts_of_a_model_are_tracked_copies() -> None:
    m = teacup()
    flows = ["heat_loss"]
    m["teacup_temperature"].outflows = flows
    assert isinstance(m["teacup_temperature"].outflows, TrackedList)
    before = m.content_hash()
    flows.append("other")  # the caller's list is not the model's
    assert m["teacup_temperature"].outflows == ["heat_loss"]
    assert m.content_hash() == before
    assert isinstance(m.variables, TrackedDict) and isinstance(m.dims["cup"].mappings, dict)
    m.variables = dict(m.variables)
    assert isinstance(m.variables, TrackedDict)


def test_a_pickled_model_hashes_its_own_content() -> None:
    m = teacup()
    first = m.content_hash()
    back = pickle.loads(pickle.dumps(m))
    assert back.content_hash() == first
    back.set_value("room_temperature", 30.0)
    assert back.content_hash() != first == m.content_hash()
    assert back.content_hash() == fresh_hash(back)
