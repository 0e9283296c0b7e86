"""A run's Dataset assembled from what is known before the run (issue 18: per-run overhead).

Everything about :func:`engine.simulate`'s Dataset except the values depends only on the
prepared run: the variables' dims, shapes, columns and attributes, the element coordinates and
their indexes, the save times. :class:`Frame` computes them once per
:class:`~engine.simulation.Runner`; a run then wraps its output block in views (one
``xr.Variable`` a variable, no copies of the outputs) and assembles the Dataset directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["Frame"]


@dataclass(frozen=True)
class _Column:
    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    attrs: dict[str, Any]
    start: int  # first column in the output block, or offset in p for a parameter
    size: int
    parameter: bool


class Frame:
    """The Dataset of a run of ``result`` saving ``names``, values aside."""

    def __init__(self, result: Any, names: list[str]) -> None:
        model = result.model
        self.time_unit = model.time_unit
        self.attrs = {"model": model.name, "time_unit": model.time_unit}
        columns = []
        column = 0
        used: set[str] = set()
        for name in names:
            var = model.variables[name]
            slot = result.plan.slots[name]
            attrs = {"units": var.units, "doc": var.doc, "kind": var.kind}
            used.update(var.dims)
            parameter = slot.array == "p"
            columns.append(
                _Column(
                    name,
                    tuple(var.dims),
                    tuple(slot.shape),
                    attrs,
                    slot.offset if parameter else column,
                    slot.size,
                    parameter,
                )
            )
            if not parameter:
                column += slot.size
        self.columns = tuple(columns)
        self.dim_coords: dict[str, tuple[Any, Any]] = {}  # dim -> (index, variable)
        for dim in model.dims:
            if dim in used:
                coord = xr.Variable(dim, np.array(model.dims[dim].elements, dtype=object))
                self.dim_coords[dim] = _indexed(dim, coord)
        self._time: tuple[np.ndarray | None, Any] = (None, None)

    def _time_coord(self, times: np.ndarray) -> tuple[Any, Any]:
        cached, coord = self._time
        if cached is not times:
            coord = _indexed("time", xr.Variable("time", times, {"units": self.time_unit}))
            self._time = (times, coord)  # the Runner's save times: the same array every run
        return coord  # type: ignore[no-any-return]

    def dataset(self, data: np.ndarray, p: np.ndarray, times: np.ndarray) -> xr.Dataset:
        """The Dataset of one run: output block ``data`` (save times x columns), parameter
        vector ``p`` (shown copied) and save ``times``."""
        n_time = data.shape[0]
        variables: dict[Any, Any] = {}
        sizes: dict[Any, int] = {"time": n_time}
        variable = _VARIABLE
        for c in self.columns:
            if c.parameter:
                values = p[c.start : c.start + c.size].reshape(c.shape).copy()
                variables[c.name] = variable(c.dims, values, dict(c.attrs))
            else:
                block = data[:, c.start : c.start + c.size].reshape((n_time, *c.shape))
                variables[c.name] = variable(("time", *c.dims), block, dict(c.attrs))
        try:
            indexes: dict[Any, Any] = {}
            time_index, time_var = self._time_coord(times)
            indexes["time"] = time_index
            # shallow copies: a caller changing a coordinate's attrs changes only its Dataset
            variables["time"] = _shallow(time_var)
            for dim, (index, var) in self.dim_coords.items():
                indexes[dim] = index
                variables[dim] = _shallow(var)
                sizes[dim] = var.shape[0]
            return xr.Dataset._construct_direct(
                variables, set(indexes), sizes, dict(self.attrs), indexes
            )
        except Exception:  # pragma: no cover - depends on xarray's private API
            coords = {"time": xr.Variable("time", times, {"units": self.time_unit})}
            coords.update({d: v.to_base_variable() for d, (_, v) in self.dim_coords.items()})
            data_vars = {k: v for k, v in variables.items() if k not in coords}
            return xr.Dataset(data_vars, coords=coords, attrs=dict(self.attrs))


def _constructed(dims: tuple[str, ...], data: np.ndarray, attrs: dict[str, Any]) -> Any:
    """``xr.Variable(dims, data, attrs, fastpath=True)``."""
    return xr.Variable(dims, data, attrs, fastpath=True)


def _slotted(dims: tuple[str, ...], data: np.ndarray, attrs: dict[str, Any]) -> Any:
    """What :func:`_constructed` makes, its four slots set directly: the constructor's checks
    (dims as long as the data's, none repeated; data already a numpy array) hold by
    construction here, and cost about 2 us a variable, most of a run's Dataset for a model
    saving hundreds of variables (World3-03: 260). ``attrs`` is never empty (units, doc,
    kind), as the constructor would keep it."""
    var = _NEW(xr.Variable)
    var._dims = dims
    var._data = data
    var._attrs = attrs
    var._encoding = None
    return var


def _variable_maker() -> Any:
    """:func:`_slotted` if xarray's Variable is what it was written for (its slots and those
    of its bases exactly ``_dims``, ``_data``, ``_attrs`` and ``_encoding``, and a probe made
    both ways identical), else :func:`_constructed`."""
    slots: set[str] = set()
    for klass in xr.Variable.__mro__[:-1]:
        if "__slots__" not in vars(klass):
            return _constructed  # an instance dict: attributes this does not know of
        slots.update(vars(klass)["__slots__"])
    if slots != {"_dims", "_data", "_attrs", "_encoding"}:
        return _constructed
    try:
        probe = (("time", "x"), np.arange(6.0).reshape(3, 2), {"units": "person"})
        a, b = _slotted(*probe), _constructed(*probe)
        same = (
            all(
                getattr(a, s) is getattr(b, s) or getattr(a, s) == getattr(b, s)
                for s in ("_dims", "_attrs", "_encoding")
            )
            and a._data is b._data
        )
        if same and a.identical(b):
            return _slotted
    except Exception:  # pragma: no cover - depends on xarray's private layout
        pass
    return _constructed  # pragma: no cover


_NEW = object.__new__
#: How a run's variables are made (:func:`_variable_maker`, decided once).
_VARIABLE = _variable_maker()


def _indexed(name: str, coord: xr.Variable) -> tuple[Any, Any]:
    """(PandasIndex, its index variable) of a dimension coordinate."""
    from xarray.core.indexes import PandasIndex

    index = PandasIndex(pd.Index(coord.values), name)
    return index, index.create_variables({name: coord})[name]


def _shallow(var: Any) -> Any:
    """An index variable sharing ``var``'s data with a copy of its attrs (what
    ``var.copy(deep=False)`` gives, without its checks)."""
    return type(var)(var.dims, var._data, dict(var.attrs), fastpath=True)
