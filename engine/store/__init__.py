"""The horizon store: results as an ``xarray.DataTree`` with one group per horizon.

Forecast users think in horizons (DESIGN.md, "Horizons"; :mod:`engine.store.horizon`): one
group per horizon, each with its own ``time`` coordinate, counted from the start time.

An ensemble's store is zarr (format 3). Its root group holds per-member variables (``status``,
the design ``sample``), provenance attributes and a private record of the chunks written, which
makes a sweep resumable: a store is created once with the whole layout, every chunk of members
writes its own zarr regions, then marks itself done. netCDF is an export of a finished store
(:func:`export_netcdf`). Creation is atomic, one process writes a store at a time, and every
chunk carries a checksum verified on read and on resume (:mod:`engine.store.integrity`); a store
read before its sweep finished says so (:func:`completion`).

Variable names containing "/" (which zarr and netCDF read as a group path) are written with
U+2215 DIVISION SLASH and the original kept in the variable's ``name`` attribute
(:mod:`engine.store.names`).

Modules, one concept each:

- :mod:`~engine.store.names`: name encoding (U+2215) and JSON attribute values;
- :mod:`~engine.store.horizon`: the default horizons, their spec, the split of a run;
- :mod:`~engine.store.layout`: an ensemble's arrays before any values (:class:`Layout`);
- :mod:`~engine.store.sink`: :class:`Sink`, the protocol both ensemble stores implement;
- :mod:`~engine.store.memory`: :class:`MemoryStore`, an ensemble kept in memory;
- :mod:`~engine.store.zarr`: :class:`ZarrStore`, creation, the lock, chunk writes, resuming;
- :mod:`~engine.store.integrity`: atomic creation, the writer's lock, checksummed chunks;
- :mod:`~engine.store.read`: :func:`open_store`, completion, netCDF export.
"""

from . import integrity
from .horizon import (
    ANALYSIS_GROUPS,
    HORIZONS,
    horizon_names,
    horizon_spec,
    horizons,
    match_times,
    select_horizons,
)
from .layout import DESIGN_VARIABLES, DONE, Layout, VariableLayout
from .memory import MemoryStore
from .names import SLASH, decode_name, encode_name, jsonable, restore_names
from .read import completion, export_netcdf, open_store, unfinished_note
from .sink import Reader, Sink
from .zarr import (
    ZarrStore,
    check_writable,
    open_or_create,
    write_zarr_chunk,
)

__all__ = [
    # horizons
    "HORIZONS",
    "ANALYSIS_GROUPS",
    "horizons",
    "horizon_names",
    "horizon_spec",
    "select_horizons",
    "match_times",
    # reading and export
    "open_store",
    "restore_names",
    "export_netcdf",
    "completion",
    "unfinished_note",
    # names
    "SLASH",
    "encode_name",
    "decode_name",
    "jsonable",
    # ensemble stores
    "Sink",
    "Reader",
    "Layout",
    "VariableLayout",
    "DONE",
    "DESIGN_VARIABLES",
    "MemoryStore",
    "ZarrStore",
    "open_or_create",
    "check_writable",
    "write_zarr_chunk",
    "integrity",
]
