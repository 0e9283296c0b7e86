"""How names and attribute values are written in a store.

Variable names containing "/" (which zarr and netCDF read as a group path) are written with
U+2215 DIVISION SLASH and the original kept in the variable's ``name`` attribute. A DataTree
cannot hold "/" in a variable name, so the tree keeps the U+2215 form; a group read as a Dataset
(``open_store(path, group=...)``, :func:`restore_names`) has the original names back.
Attribute values are written as plain JSON types (:func:`jsonable`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["SLASH", "encode_name", "decode_name", "restore_names", "jsonable"]

SLASH = "\u2215"


def encode_name(name: str) -> str:
    """``name`` as written in a store: "/" becomes U+2215 (DIVISION SLASH)."""
    return name.replace("/", SLASH)


def decode_name(name: str, attrs: Mapping[str, Any]) -> str:
    """The original name of a stored variable (its ``name`` attr when it was encoded)."""
    original = attrs.get("name")
    if isinstance(original, str) and encode_name(original) == name:
        return original
    return name


def _encode_dataset(ds: xr.Dataset) -> xr.Dataset:
    renames = {}
    for name in list(ds.data_vars):
        text = str(name)
        if "/" in text:
            renames[name] = encode_name(text)
            ds[name].attrs["name"] = text
    return ds.rename(renames) if renames else ds


def _decode_dataset(ds: xr.Dataset) -> xr.Dataset:
    renames = {}
    for name, var in ds.data_vars.items():
        original = decode_name(str(name), var.attrs)
        if original != name:
            renames[name] = original
    return ds.rename(renames) if renames else ds


def restore_names(ds: xr.Dataset) -> xr.Dataset:
    """A stored group's Dataset with its variables' original names ("/" for U+2215)."""
    return _decode_dataset(ds)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (numpy scalars and arrays converted)."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def split_chunk_key(key: str) -> tuple[str, tuple[int, ...]] | None:
    """("long/x", (3, 0)) for "long/x/c/3/0" or "long/x/c.3.0" (zarr's default chunk key
    encoding with either separator); None for a key that is not a chunk."""
    parts = key.split("/")
    last = parts[-1].split(".")
    if len(parts) >= 2 and len(last) > 1 and last[0] == "c" and all(p.isdigit() for p in last[1:]):
        return "/".join(parts[:-1]), tuple(int(p) for p in last[1:])
    end = len(parts)
    while end and parts[end - 1].isdigit():
        end -= 1
    if end < 2 or parts[end - 1] != "c":
        return None
    return "/".join(parts[: end - 1]), tuple(int(p) for p in parts[end:])
