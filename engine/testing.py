"""Testing helpers: compare corridor results with Vensim-style tables (PySD's, Vensim's)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["to_vensim_frame", "assert_frames_close"]


def to_vensim_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Flatten a result into Vensim's columns: ``Name`` and ``Name[a1,b1]``, indexed by time.

    Variables without a time dimension (constants) are repeated over time.
    """
    time = np.asarray(ds["time"].values, dtype=float)
    columns: dict[str, np.ndarray] = {}
    for name, da in ds.data_vars.items():
        other = [d for d in da.dims if d != "time"]
        if "time" not in da.dims:
            da = da.expand_dims(time=time)
        values = np.asarray(da.transpose("time", *other).values, dtype=float)
        if not other:
            columns[str(name)] = values
            continue
        coords = [[str(c) for c in da[d].values] for d in other]
        for index in itertools.product(*[range(len(c)) for c in coords]):
            label = ",".join(coords[k][i] for k, i in enumerate(index))
            columns[f"{name}[{label}]"] = values[(slice(None),) + index]
    return pd.DataFrame(columns, index=pd.Index(time, name="time"))


def assert_frames_close(
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    columns: list[str] | None = None,
) -> None:
    """Every column of ``expected`` is in ``actual`` and close, cell by cell (NaN == NaN).

    The rule is PySD's: ``|expected - actual| <= atol + rtol * |actual|``. Times must match.
    """
    columns = list(expected.columns) if columns is None else columns
    missing = [c for c in columns if c not in actual.columns]
    if missing:
        raise AssertionError(f"missing columns: {missing[:10]}")
    if len(actual.index) != len(expected.index) or not np.allclose(
        np.asarray(actual.index, float), np.asarray(expected.index, float), atol=1e-9
    ):
        raise AssertionError(
            f"time indices differ: {list(actual.index)[:5]}... vs {list(expected.index)[:5]}..."
        )
    for column in columns:
        a = np.asarray(actual[column].values, dtype=float)
        e = np.asarray(expected[column].values, dtype=float)
        both_nan = np.isnan(a) & np.isnan(e)
        bad = ~(both_nan | (np.abs(e - a) <= atol + rtol * np.abs(a)))
        if bad.any():
            i = int(np.argmax(bad))
            raise AssertionError(
                f"column {column!r} differs first at time "
                f"{actual.index[i]}: {a[i]!r} vs expected {e[i]!r}"
            )
