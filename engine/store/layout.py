"""The layout of an ensemble's store: its groups, variables and chunks, before any values.

An ensemble's root group holds per-member variables (``status``, the design ``sample``),
provenance attributes and a private record of the chunks written (:data:`DONE`), which makes
a sweep resumable; each horizon group holds the outputs over (member, time, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .. import budgets
from ..solvers import Info
from .names import _encode_dataset

__all__ = ["DONE", "DESIGN_VARIABLES", "Layout", "VariableLayout"]

DONE = "_chunk_done"  # root array: 1 once a chunk of members is fully written
DESIGN_VARIABLES: dict[str, dict[str, Any]] = {
    "sample": {"long_name": "sampled parameter values (design matrix)"},
    "sample_unit": {"long_name": "design points in the unit hypercube"},
}


@dataclass(frozen=True)
class VariableLayout:
    """Where an output variable's columns sit in a chunk's output block."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    attrs: dict[str, Any]
    column: int  # first column in the output block; -1 for a parameter (taken from P)
    size: int
    offset: int = -1  # a parameter's offset in the parameter vector


@dataclass(frozen=True)
class Layout:
    """Everything about an ensemble's arrays that does not depend on its values."""

    members: int
    chunk_size: int
    time_unit: str
    groups: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (times, rows of saved block)
    variables: tuple[VariableLayout, ...]
    coords: dict[str, tuple[str, ...]]
    inputs: tuple[str, ...]
    design: Any = field(repr=False)  # rows by block(start, stop) -> (unit, values)

    @property
    def n_chunks(self) -> int:
        return -(-self.members // self.chunk_size)

    def bounds(self, k: int) -> tuple[int, int]:
        return k * self.chunk_size, min(self.members, (k + 1) * self.chunk_size)

    def time_chunk(self, var: VariableLayout, times: int) -> int:
        """Save times per zarr chunk of a horizon variable (see
        :func:`engine.budgets.zarr_time_chunk`)."""
        return budgets.zarr_time_chunk(self.members, self.chunk_size, var.size, times)

    def blocks(
        self, out: np.ndarray, P: np.ndarray, k: int
    ) -> Iterable[tuple[str | None, str, np.ndarray]]:
        """(group, variable, values) of chunk ``k``'s output block ``out`` (members x saved x
        columns); group None for the root (its design rows, parameters, member-only)."""
        unit, values = self.design.block(*self.bounds(k))
        yield None, "sample", values
        yield None, "sample_unit", unit
        for var in self.variables:
            if var.column < 0:
                yield (
                    None,
                    var.name,
                    P[:, var.offset : var.offset + var.size].reshape((P.shape[0], *var.shape)),
                )
        for group, (_, rows) in self.groups.items():
            if rows.size and rows[-1] - rows[0] == rows.size - 1:
                part = out[:, rows[0] : rows[-1] + 1]  # consecutive rows: a view, no copy
            else:
                part = out[:, rows]
            for var in self.variables:
                if var.column >= 0:
                    values = part[:, :, var.column : var.column + var.size]
                    yield group, var.name, values.reshape((out.shape[0], rows.size, *var.shape))

    def root_dataset(self, attrs: dict[str, Any], lazy: bool) -> xr.Dataset:
        members = np.arange(self.members, dtype=np.int64)
        design_shape = (self.members, len(self.inputs))
        data = {
            "status": xr.Variable(
                "member",
                np.full(self.members, -1, dtype=np.int8),
                {
                    "long_name": "member status",
                    "flag_values": "-1 0 1 2 3 4",
                    "flag_meanings": "not_run ok nonfinite_stock "
                    "nonfinite_output too_many_steps "
                    "step_too_small",
                },
            ),
            "failure_time": xr.Variable(
                "member",
                np.full(self.members, np.nan),
                {"long_name": "time of failure", "units": self.time_unit},
            ),
            "failure_index": xr.Variable(
                "member",
                np.full(self.members, -1, dtype=np.int64),
                {"long_name": "internal index of the failing value"},
            ),
            DONE: xr.Variable("chunk", np.zeros(self.n_chunks, dtype=np.int8)),
        }
        if not lazy:  # a zarr store creates these arrays empty itself (ZarrStore.create)
            # design rows are written with their chunk (a random design is never whole)
            for name, description in DESIGN_VARIABLES.items():
                data[name] = xr.Variable(
                    ("member", "parameter"), np.full(design_shape, np.nan), dict(description)
                )
            for var in self.variables:
                if var.column < 0:
                    shape = (self.members, *var.shape)
                    data[var.name] = xr.Variable(
                        ("member", *var.dims), np.full(shape, np.nan), var.attrs
                    )
        coords = {"member": members, "parameter": np.array(self.inputs, dtype=object)}
        coords.update(self._dim_coords(v.dims for v in self.variables if v.column < 0))
        return _encode_dataset(xr.Dataset(data, coords=coords, attrs=attrs))

    def group_dataset(self, group: str, lazy: bool, data_vars: bool = True) -> xr.Dataset:
        """The horizon group ``group``: its outputs over (member, time, ...) filled with NaN
        (dask arrays if ``lazy``), or only its coordinates (``data_vars=False``)."""
        times, _ = self.groups[group]
        data = {}
        for var in self.variables:
            if var.column >= 0 and data_vars:
                shape = (self.members, times.size, *var.shape)
                data[var.name] = xr.Variable(
                    ("member", "time", *var.dims), _blank(shape, self.chunk_size, lazy), var.attrs
                )
        coords: dict[str, Any] = {
            "time": xr.Variable("time", times, {"units": self.time_unit, "long_name": "time"})
        }
        coords.update(self._dim_coords(v.dims for v in self.variables if v.column >= 0))
        return _encode_dataset(xr.Dataset(data, coords=coords))

    def _dim_coords(self, dims: Iterable[tuple[str, ...]]) -> dict[str, Any]:
        used = {d for group in dims for d in group}
        return {d: np.array(self.coords[d], dtype=object) for d in self.coords if d in used}


def _blank(shape: tuple[int, ...], chunk: int, lazy: bool) -> Any:
    if lazy:
        import dask.array as da

        return da.full(shape, np.nan, chunks=(chunk, *shape[1:]))
    return np.full(shape, np.nan)


def _write_status(root: Any, where: slice, info: np.ndarray) -> None:
    status = info[:, Info.STATUS].astype(np.int8)
    failed = status != 0
    times = np.where(failed, info[:, Info.TIME], np.nan)
    index = np.where(failed, info[:, Info.INDEX], -1).astype(np.int64)
    if isinstance(root, xr.Dataset):
        root["status"].values[where] = status
        root["failure_time"].values[where] = times
        root["failure_index"].values[where] = index
    else:
        root["failure_time"][where] = times
        root["failure_index"][where] = index
        root["status"][where] = status  # last: a member with a status has all its values
