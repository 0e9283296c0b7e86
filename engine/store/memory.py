"""An ensemble kept in memory (``run_ensemble(..., store=None)``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .layout import DONE, Layout, _write_status
from .names import _encode_dataset, encode_name
from .read import _clean_tree

__all__ = ["MemoryStore"]


class MemoryStore:
    """An ensemble kept in memory (``store=None``); a :class:`~engine.store.sink.Sink`."""

    def __init__(self, layout: Layout, attrs: dict[str, Any]) -> None:
        self.layout = layout
        self.root = layout.root_dataset(attrs, lazy=False)
        self.groups = {g: layout.group_dataset(g, lazy=False) for g in layout.groups}
        self.extra: dict[str, xr.Dataset] = {}

    def pending(self) -> list[int]:
        return list(np.flatnonzero(self.root[DONE].values == 0))

    def write_chunk(self, k: int, out: np.ndarray, info: np.ndarray, P: np.ndarray) -> None:
        m0, m1 = self.layout.bounds(k)
        for group, name, values in self.layout.blocks(out, P, k):
            target = self.root if group is None else self.groups[group]
            target[encode_name(name)].values[m0:m1] = values
        _write_status(self.root, slice(m0, m1), info)
        self.root[DONE].values[k] = 1

    def chunks(self, group: str, name: str) -> tuple[int | None, int | None]:
        return None, None  # in memory: read all members at once, any block of times

    def release(self) -> None:
        """Nothing to give back: the whole ensemble is held."""

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        ds = self.root if group == "/" else self.groups[group]
        return np.asarray(ds[encode_name(name)].values[index])

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        self.root.attrs.update(attrs)

    def write_group(self, path: str, ds: xr.Dataset) -> None:
        self.extra[path] = _encode_dataset(ds)

    def close(self) -> None:
        """Nothing to release."""

    def tree(self) -> xr.DataTree:
        groups: dict[str, xr.Dataset] = {"/": self.root, **self.groups, **self.extra}
        return _clean_tree(xr.DataTree.from_dict(groups))
