"""Data a Vensim model reads from files, read once at load time.

``GET XLS/DIRECT CONSTANTS`` become parameter values, ``GET XLS/DIRECT LOOKUPS`` lookup
tables, and data variables (``name := GET XLS/DIRECT DATA(...)``) a hidden lookup table of
the series, called with ``Time``: the kernels never read a file. The cells are read by PySD's
own readers (:mod:`pysd.py_backend.external`: pandas for cells, openpyxl for named ranges),
so the conventions are PySD's, which follow Vensim's: a transposed range ends in ``*``,
missing points of a series are interpolated across, a series is sorted by time.

A data file is taken only from the model's folder or below it (no absolute path, no ``..``
out of it, no link leading out of it), must be a regular file of a spreadsheet or text type,
and at most :data:`MAX_DATA_BYTES`.
"""

from __future__ import annotations

import itertools
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError

__all__ = ["MAX_DATA_BYTES", "ExternalReader"]

#: The largest data file read, in bytes (64 MiB).
MAX_DATA_BYTES = 64 * 2**20
_SUFFIXES = (".xls", ".xlsx", ".xlsm", ".xlsb", ".ods", ".csv", ".tab", ".txt", ".dat")
_MODES = ("interpolate", "hold_backward", "look_forward")


def data_mode(keyword: str | None) -> str:
    """PySD's name of a data variable's mode (``:HOLD BACKWARD:`` is ``hold_backward``)."""
    return (keyword or "interpolate").strip().strip(":").strip().lower().replace(" ", "_")


class ExternalReader:
    """Reads the cells of one model's GET functions, relative to the model's folder.

    ``fail(message)`` builds the error naming the variable being mapped.
    """

    def __init__(self, model_path: Path, fail: Callable[[str], SpecError]) -> None:
        self.folder = model_path.resolve().parent
        self.fail = fail
        self.files: list[Path] = []  # every file read, so the caller knows the model used data

    # ------------------------------------------------------------------ files
    def data_file(self, name: str) -> Path:
        """The checked path of a data file the model names."""
        text = str(name).strip()
        if not text or text.startswith("?"):
            raise self.fail(
                f"the data file {text!r} is an indirect reference (Vensim's '?' names a "
                "file chosen at run time); give the file's name relative to the model."
            )
        relative = Path(text.replace("\\", "/"))
        if relative.is_absolute() or relative.drive:
            raise self.fail(
                f"the data file {text!r} is an absolute path; data files are read only "
                "from the model's folder, so give its name relative to the model."
            )
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder):
            raise self.fail(
                f"the data file {text!r} is outside the model's folder; data files are "
                "read only from the model's folder or below it."
            )
        if path.suffix.lower() not in _SUFFIXES:
            raise self.fail(
                f"the data file {text!r} is not a spreadsheet or text table "
                f"({', '.join(_SUFFIXES)})."
            )
        try:
            info = path.stat()
        except OSError:
            raise self.fail(
                f"the data file {text!r} is not found next to the model ({self.folder})."
            ) from None
        if not stat.S_ISREG(info.st_mode) or not os.access(path, os.R_OK):
            raise self.fail(f"the data file {text!r} is not a readable regular file.")
        if info.st_size > MAX_DATA_BYTES:
            raise self.fail(
                f"the data file {text!r} is {info.st_size / 2**20:.0f} MiB, more than the "
                f"{MAX_DATA_BYTES // 2**20} MiB a data file may have."
            )
        self.files.append(path)
        return path

    def read(self, make: Callable[[], Any], what: str) -> Any:
        """Run one of PySD's readers, its warnings silenced and its errors named."""
        from pysd.py_backend.external import Excels

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = make()
                reader.initialize()
                return reader.data
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001 - pandas/openpyxl raise many types
            # PySD's messages start with its own name of the object: skip it
            lines = [line for line in str(exc).splitlines() if line.strip()]
            lines = lines[1:] if len(lines) > 1 else lines
            detail = " ".join(" ".join(lines).split())[:300] or type(exc).__name__
            raise self.fail(f"cannot read {what}: {detail}") from None
        finally:
            Excels.clean()

    # ------------------------------------------------------------------ readers
    def constants(self, ast: Any, coords: dict[str, list[str]]) -> np.ndarray:
        """The values of ``GET ... CONSTANTS``, shaped as ``coords`` (row-major)."""
        from pysd.py_backend.external import ExtConstant

        path = self.data_file(ast.file)
        data = self.read(
            lambda: ExtConstant(
                str(path), str(ast.tab), str(ast.cell), coords, self.folder, coords, "value"
            ),
            f"constants from {ast.file!r}",
        )
        shape = tuple(len(v) for v in coords.values())
        values = np.asarray(getattr(data, "values", data), dtype=float)
        return values.reshape(shape) if shape else values.reshape(())

    def subscripts(self, spec: dict[str, Any]) -> list[str]:
        """The elements of a range read by ``GET XLS/DIRECT SUBSCRIPT``."""
        from pysd.py_backend.external import ExtSubscript

        path = self.data_file(spec["file"])

        class _Reader:  # ExtSubscript reads in its constructor
            data: list[str]

            def initialize(self) -> None:
                self.data = ExtSubscript(
                    str(path),
                    str(spec["tab"]),
                    str(spec["firstcell"]),
                    str(spec.get("lastcell") or ""),
                    str(spec.get("prefix") or ""),
                    path.parent,
                ).subscript

        elements: list[str] = self.read(_Reader, f"subscripts from {spec['file']!r}")
        if not elements:
            raise self.fail(f"no subscript elements in the cells read from {spec['file']!r}.")
        return elements

    def tables(
        self, ast: Any, coords: dict[str, list[str]], *, data: bool, mode: str | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """One (xs, ys) table per element of ``coords`` (row-major), from ``GET ... LOOKUPS``
        or ``GET ... DATA``; a data series is shaped by its mode (see :func:`stepped`)."""
        from pysd.py_backend.external import ExtData, ExtLookup

        path = self.data_file(ast.file)
        mode = data_mode(mode)
        if data and mode not in _MODES:
            raise self.fail(
                f"the data mode {mode.upper()!r} is not supported (only INTERPOLATE, HOLD "
                "BACKWARD and LOOK FORWARD): :RAW: leaves the value undefined between points."
            )
        if data:
            series = str(ast.time_row_or_col)
            array = self.read(
                lambda: ExtData(
                    str(path),
                    str(ast.tab),
                    series,
                    str(ast.cell),
                    mode,
                    coords,
                    self.folder,
                    coords,
                    "data",
                ),
                f"data from {ast.file!r}",
            )
            axis = "time"
        else:
            series = str(ast.x_row_or_col)
            array = self.read(
                lambda: ExtLookup(
                    str(path),
                    str(ast.tab),
                    series,
                    str(ast.cell),
                    coords,
                    self.folder,
                    coords,
                    "lookup",
                ),
                f"a lookup table from {ast.file!r}",
            )
            axis = "lookup_dim"
        xs = np.asarray(array.coords[axis].values, dtype=float)
        values = np.asarray(array.transpose(axis, *coords).values, dtype=float)
        values = values.reshape(len(xs), -1)
        out = []
        for k, _cell in enumerate(itertools.product(*coords.values())):
            ys = values[:, k]
            keep = ~np.isnan(ys)
            if not keep.any():
                raise self.fail(f"the series read from {ast.file!r} has no values.")
            cell_xs, cell_ys = xs[keep], ys[keep]
            if data:
                cell_xs, cell_ys = stepped(cell_xs, cell_ys, mode)
            out.append((cell_xs, cell_ys))
        return out


def stepped(xs: np.ndarray, ys: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """A data series as a lookup table that a linear lookup reads in Vensim's data mode.

    ``interpolate`` is the series itself (linear between points, the end values held
    beyond them); ``hold_backward`` keeps each value until the next point (each x doubled:
    the old value up to it, the new one from it); ``look_forward`` takes each value from just
    after the previous point (the step placed at the next float above that point, so the
    value at a point is the point's own).
    """
    if mode == "interpolate" or len(xs) < 2:
        return xs, ys
    if mode == "hold_backward":
        new_x = np.repeat(xs, 2)[1:]
        new_y = np.repeat(ys, 2)[:-1]
        return new_x, new_y
    if mode != "look_forward":
        raise ValueError(f"unknown data mode {mode!r}")
    new_x = np.empty(2 * len(xs) - 1)
    new_y = np.empty(2 * len(xs) - 1)
    new_x[0::2], new_y[0::2] = xs, ys
    new_x[1::2], new_y[1::2] = np.nextafter(xs[:-1], np.inf), ys[1:]
    return new_x, new_y
