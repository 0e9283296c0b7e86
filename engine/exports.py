"""Tables out of a result, in bounded memory: the quantile table forecasters exchange, and
every member's values streamed to CSV or Parquet.

:func:`quantile_frame` / :func:`export_quantiles`: by variable, region, sex and year, the
median and the 80 % and 95 % bands over members (the shape of WPP's and bayesPop's
probabilistic tables); counts are summed over their other dims (age; origins) member by
member before the quantiles, rates and shares are never summed. Members are read a block at a
time, so the table of a sweep larger than memory is made in memory of a block.

:func:`export_members`: one row per value (horizon, variable, units, time, member, the
model's dims, value), written a block of members at a time to CSV or Parquet (pyarrow); an
Excel sheet only when it fits (1,048,576 rows), else an error pointing to the alternatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .budgets import export_members_block
from .errors import EngineError, SelectionError, suggest
from .files import check_output_file
from .plot import horizon_groups
from .store import completion, unfinished_note
from .tables import is_count

__all__ = [
    "BANDS",
    "EXCEL_ROWS",
    "quantile_frame",
    "export_quantiles",
    "export_members",
    "member_blocks",
    "about_sheet",
]

#: Columns of the quantile table and their quantiles.
BANDS = {
    "median": 0.5,
    "lower_80": 0.1,
    "upper_80": 0.9,
    "lower_95": 0.025,
    "upper_95": 0.975,
}
#: Rows of an Excel sheet, the header included.
EXCEL_ROWS = 1_048_576
#: Dims kept in the quantile table (others of a count are summed), when a variable has them.
BY = ("region", "origin", "destination", "sex")


ABOUT_KEYS = (
    "model",
    "scenario",
    "scenario_title",
    "scenario_description",
    "time_unit",
    "design",
    "members",
    "seed",
    "model_hash",
)


def about_sheet(results: xr.Dataset | xr.DataTree) -> pd.DataFrame:
    """What an exported workbook is of: model, scenario and its description, the design,
    whether the sweep is unfinished (an Excel sheet of key, value rows)."""
    attrs = dict(results.attrs)
    rows = [{"key": k, "value": str(attrs[k])[:2000]} for k in ABOUT_KEYS if k in attrs]
    note = unfinished_note(results)
    if note:
        rows.append({"key": "warning", "value": note})
    return pd.DataFrame(rows, columns=["key", "value"])


def _done(results: xr.Dataset | xr.DataTree) -> np.ndarray | None:
    """Members run so far of an unfinished sweep (None: all), after a warning that says so."""
    if completion(results) is None or not isinstance(results, xr.DataTree):
        return None
    root = results.to_dataset(inherit=False)
    if "status" not in root:
        return None
    warnings.warn(
        f"{unfinished_note(results)}; only those are exported. Run the sweep again with the "
        "same arguments to finish it.",
        UserWarning,
        stacklevel=3,
    )
    return np.flatnonzero(np.asarray(root["status"].values) >= 0)


def _check_variables(
    results: xr.Dataset | xr.DataTree, variables: Sequence[str] | None
) -> list[str]:
    held: list[str] = []
    for _, ds in horizon_groups(results):
        for name in ds.data_vars:
            if str(name) not in held and np.issubdtype(ds[name].dtype, np.number):
                held.append(str(name))
    if variables is None:
        return held
    for name in variables:
        if name not in held:
            raise SelectionError(
                f"no variable {name!r} to export; the results hold "
                f"{', '.join(held[:12])}{' ...' if len(held) > 12 else ''}." + suggest(name, held)
            )
    return list(variables)


def member_blocks(da: xr.DataArray, members: np.ndarray | None) -> Iterator[xr.DataArray]:
    """``da`` a block of members at a time, loaded (a block of about ``EXPORT_ROWS`` values),
    only ``members`` when given; the whole of ``da`` at once when it has no member dim."""
    if "member" not in da.dims:
        yield da.load()
        return
    index = np.arange(da.sizes["member"]) if members is None else np.asarray(members)
    cells = max(1, int(da.size // max(1, da.sizes["member"])))
    step = export_members_block(index.size, cells)
    for start in range(0, index.size, step):
        yield da.isel(member=index[start : start + step]).load()


def quantile_frame(
    results: xr.Dataset | xr.DataTree,
    variables: Sequence[str] | None = None,
    *,
    by: Sequence[str] = BY,
) -> pd.DataFrame:
    """The quantile table: a row per variable, horizon, kept dims (``by``) and year.

    Counts (units of people, money) are summed over their dims not in ``by`` member by
    member, then the quantiles of :data:`BANDS` taken over members (failed members, NaN, left
    out); other variables keep all their dims. Of an ensemble, ``members`` (the members
    counted in the row) and ``complete`` (False on every row of an unfinished sweep: the
    quantiles are of the members run so far). Of a single run, the value (``median``) only.
    """
    done = _done(results)
    names = _check_variables(results, variables)
    scenario = str(results.attrs.get("scenario") or "")
    frames = []
    for horizon, ds in horizon_groups(results):
        for name in names:
            if name not in ds or "time" not in ds[name].dims:
                continue
            da = ds[name]
            units = str(da.attrs.get("units", ""))
            summed = (
                [d for d in da.dims if d not in ("member", "time", *by)] if is_count(units) else []
            )
            blocks = [
                block.sum(summed, skipna=False) if summed else block
                for block in member_blocks(da, done)
            ]
            totals = xr.concat(blocks, dim="member") if "member" in da.dims else blocks[0]
            frames.append(_quantiles(totals, name, units, horizon, scenario))
    if not frames:
        raise EngineError("nothing to export: no time-varying numeric variables found.")
    out = pd.concat(frames, ignore_index=True, sort=False)
    leading = ["scenario", "variable", "units", "horizon"]
    if "members" in out:
        # an unfinished sweep says so on every row, where a CSV reader (pandas, R) sees it
        out["complete"] = completion(results) is None
    bands = [c for c in (*BANDS, "members", "complete") if c in out]
    dims = [c for c in out.columns if c not in leading and c not in bands and c != "year"]
    return out[leading + dims + ["year"] + bands]


def _quantiles(
    totals: xr.DataArray, name: str, units: str, horizon: str, scenario: str
) -> pd.DataFrame:
    keep = [d for d in totals.dims if d not in ("member", "time")]
    if "member" in totals.dims:
        values = np.moveaxis(
            np.asarray(totals.transpose("member", "time", *keep).values, dtype=float), 0, -1
        )
        finite = np.isfinite(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all members failed: NaN
            q = np.nanquantile(values, list(BANDS.values()), axis=-1)
        columns = {band: q[k].reshape(-1) for k, band in enumerate(BANDS)}
        columns["members"] = finite.sum(axis=-1).reshape(-1)
    else:
        values = np.asarray(totals.transpose("time", *keep).values, dtype=float)
        columns = {"median": values.reshape(-1)}
    grid = pd.MultiIndex.from_product(
        [np.asarray(totals["time"].values, dtype=float)]
        + [[str(v) for v in totals[d].values] for d in keep],
        names=["year", *keep],
    ).to_frame(index=False)
    frame = pd.concat([grid, pd.DataFrame(columns)], axis=1)
    frame.insert(0, "horizon", horizon)
    frame.insert(0, "units", units)
    frame.insert(0, "variable", name)
    frame.insert(0, "scenario", scenario)
    return frame


def export_quantiles(
    results: xr.Dataset | xr.DataTree,
    path: str | Path,
    *,
    variables: Sequence[str] | None = None,
    by: Sequence[str] = BY,
    overwrite: bool = False,
) -> Path:
    """Write the quantile table (:func:`quantile_frame`) to ``.csv``, ``.xlsx`` (a sheet a
    horizon, and an ``about`` sheet: model, scenario, design) or ``.parquet``."""
    path = check_output_file(
        path, suffixes=(".csv", ".xlsx", ".parquet"), overwrite=overwrite, what="export"
    )
    frame = quantile_frame(results, variables, by=by)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        _pyarrow()
        frame.to_parquet(path, index=False)
    else:
        for horizon, part in frame.groupby("horizon", sort=False):
            if len(part) >= EXCEL_ROWS:
                raise EngineError(
                    f"the {horizon} horizon's quantile table has {len(part):,} rows, more than "
                    "an Excel sheet holds; choose fewer variables (-v) or export to .csv."
                )
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for horizon, part in frame.groupby("horizon", sort=False):
                part.drop(columns="horizon").to_excel(
                    writer, sheet_name=str(horizon)[:31], index=False
                )
            about_sheet(results).to_excel(writer, sheet_name="about", index=False)
    return path


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - the writer
    except ImportError:
        raise EngineError(
            "Parquet needs pyarrow: pip install 'corridor[parquet]' (or pyarrow), or export "
            "to .csv."
        ) from None
    return pyarrow


def _member_columns(results: xr.DataTree | xr.Dataset, names: Sequence[str]) -> list[str]:
    """The columns of a members table: the leading ones, then every dim of the variables."""
    dims: list[str] = []
    members = False
    for _, ds in horizon_groups(results):
        for name in names:
            if name in ds:
                members = members or "member" in ds[name].dims
                dims += [str(d) for d in ds[name].dims if str(d) not in dims]
    scenario = ["scenario"] if results.attrs.get("scenario") else []
    leading = ["horizon", "variable", "units", "time"] + (["member"] if members else [])
    return scenario + leading + [d for d in dims if d not in leading] + ["value"]


def _member_frames(
    results: xr.Dataset | xr.DataTree, names: Sequence[str], columns: Sequence[str]
) -> Iterator[pd.DataFrame]:
    done = _done(results)
    scenario = str(results.attrs.get("scenario") or "")
    for horizon, ds in horizon_groups(results):
        for name in names:
            if name not in ds:
                continue
            da = ds[name]
            fixed = {
                "scenario": scenario,
                "horizon": horizon,
                "variable": str(da.attrs.get("name", name)),
                "units": str(da.attrs.get("units", "")),
            }
            for block in member_blocks(da, done):
                yield _block_frame(block, fixed, columns)


def _block_frame(
    block: xr.DataArray, fixed: dict[str, str], columns: Sequence[str]
) -> pd.DataFrame:
    """A block of values as rows, built column by column: labels as categoricals (a byte or
    two a row, not a string object), so that a block's frame costs little more than its
    numbers."""
    shape = block.shape
    n = int(block.size)
    data: dict[str, Any] = {}
    for axis, dim in enumerate(block.dims):
        index = np.arange(shape[axis], dtype=np.int32).reshape(
            [-1 if k == axis else 1 for k in range(len(shape))]
        )
        codes = np.broadcast_to(index, shape).ravel()
        values = block[dim].values
        if dim == "time":
            data[dim] = np.asarray(values, dtype=float)[codes]
        elif dim == "member":
            data[dim] = np.asarray(values, dtype=np.int64)[codes]
        else:
            labels = [str(v) for v in values]
            data[str(dim)] = pd.Categorical.from_codes(codes, categories=pd.Index(labels))
    data["value"] = np.asarray(block.values, dtype=float).ravel()
    for key, text in fixed.items():
        data[key] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[text])
    return pd.DataFrame(data).reindex(columns=list(columns))


def export_members(
    results: xr.Dataset | xr.DataTree,
    path: str | Path,
    *,
    variables: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Every member's values, one row per value, to ``.csv`` or ``.parquet`` (streamed: memory
    holds one block of members of one variable), or ``.xlsx`` when it fits one sheet a horizon.

    Raises
    ------
    EngineError
        For Excel, when a horizon has more rows than a sheet holds (the message points to the
        quantile table, CSV, Parquet, netCDF and the zarr store itself).
    """
    path = check_output_file(
        path, suffixes=(".csv", ".xlsx", ".parquet"), overwrite=overwrite, what="export"
    )
    names = _check_variables(results, variables)
    columns = _member_columns(results, names)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _check_excel(results, names)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".csv":
            header = True
            with partial.open("w", encoding="utf-8", newline="") as handle:
                for frame in _member_frames(results, names, columns):
                    frame.to_csv(handle, index=False, header=header)
                    header = False
        elif suffix == ".parquet":
            _write_parquet(partial, _member_frames(results, names, columns), columns)
        else:
            frames: dict[str, list[pd.DataFrame]] = {}
            for frame in _member_frames(results, names, columns):
                frames.setdefault(str(frame["horizon"].iloc[0]), []).append(frame)
            with pd.ExcelWriter(partial, engine="openpyxl") as writer:
                for horizon, parts in frames.items():
                    pd.concat(parts).drop(columns="horizon").to_excel(
                        writer, sheet_name=horizon[:31], index=False
                    )
                about_sheet(results).to_excel(writer, sheet_name="about", index=False)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _check_excel(results: xr.Dataset | xr.DataTree, names: Sequence[str]) -> None:
    state = completion(results)
    for horizon, ds in horizon_groups(results):
        rows = 0
        for name in names:
            if name in ds:
                size = int(ds[name].size)
                if state is not None and "member" in ds[name].dims:
                    size = size // max(1, ds[name].sizes["member"]) * state[0]
                rows += max(1, size)
        if rows >= EXCEL_ROWS:
            raise EngineError(
                f"{rows:,} rows of members' values in the {horizon} horizon do not fit an Excel "
                "sheet (1,048,576 rows): export the quantile table (corridor export without "
                "--members), members to .csv or .parquet (streamed), the whole store to "
                "netCDF (--format netcdf), or read the zarr store itself."
            )


def _write_parquet(path: Path, frames: Iterator[pd.DataFrame], columns: Sequence[str]) -> None:
    pa = _pyarrow()
    import pyarrow.parquet as pq

    fields = []
    for column in columns:
        if column in ("time", "value"):
            fields.append(pa.field(column, pa.float64()))
        elif column == "member":
            fields.append(pa.field(column, pa.int64()))
        else:
            fields.append(pa.field(column, pa.string()))
    schema = pa.schema(fields)
    with pq.ParquetWriter(str(path), schema) as writer:
        for frame in frames:
            for field in fields:
                if pa.types.is_string(field.type):
                    frame[field.name] = (
                        frame[field.name].astype(object).where(frame[field.name].notna(), None)
                    )
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
