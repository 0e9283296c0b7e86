"""What an ensemble writes to and reads back from: the protocol every backend implements.

As xarray's backends implement one entrypoint, corridor's two sinks implement :class:`Sink`:
:class:`~engine.store.memory.MemoryStore` (``store=None``) and
:class:`~engine.store.zarr.ZarrStore` (a zarr store streamed chunk by chunk). The ensemble
writes chunks of members through it and the analysis reads blocks back through
:class:`Reader`, its reading half, which a horizon DataTree also provides.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from .layout import Layout

__all__ = ["Reader", "Sink"]


@runtime_checkable
class Reader(Protocol):
    """Reads an ensemble's variables a block at a time (what summaries need)."""

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        """The values of variable ``name`` of ``group`` ("/" for the root) at ``index``."""
        ...

    def chunks(self, group: str, name: str) -> tuple[int | None, int | None]:
        """(members, times) of a stored chunk of the variable; None where not chunked."""
        ...

    def release(self) -> None:
        """Called after each block: give freed memory back (see
        :func:`engine.budgets.release_memory`), or nothing."""
        ...


@runtime_checkable
class Sink(Reader, Protocol):
    """Where an ensemble's chunks of members go, and its summaries after them."""

    layout: Layout

    def pending(self) -> list[int]:
        """The chunks of members not yet written, in order."""
        ...

    def write_chunk(self, k: int, out: np.ndarray, info: np.ndarray, P: np.ndarray) -> None:
        """Write chunk ``k``: its output block, solver info and parameter rows; mark it done."""
        ...

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        """Update the root attributes."""
        ...

    def write_group(self, path: str, ds: xr.Dataset) -> None:
        """Write (or replace) the group ``path``, e.g. ``summary/long``."""
        ...

    def tree(self) -> xr.DataTree:
        """The whole ensemble as a horizon DataTree."""
        ...

    def close(self) -> None:
        """Release what the sink holds (a store's writer lock); idempotent."""
        ...
