"""Analysis of an ensemble: quantile summaries per horizon and Sobol / Morris sensitivity.

Summaries (``/summary/<horizon>``) hold, for every output over time, the 5, 25, 50, 75 and 95%
quantiles across members (a ``quantile`` dim; failed members, which are NaN, are left out).
Sensitivity indices (``/sensitivity/<horizon>``) are computed at the horizon's last save time,
per output element (an ``output`` dim, "name" or "name[element,...]") and sampled parameter
(a ``parameter`` dim): first-order and total Sobol indices ``S1``, ``ST`` with their 95%
confidence half-widths ``S1_conf``, ``ST_conf`` for a "saltelli" design; ``mu``, ``mu_star``,
``sigma`` and ``mu_star_conf`` (elementary effects on the unit design scale) for "morris".
An output that does not vary, or that has failed members, gets NaN indices.

Both read the store a block at a time, so a sweep larger than memory can be summarised.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity indices.
Computer Physics Communications 145, 280-297.
Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics
Communications 117, 35-43.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environmental Modelling & Software 22, 1509-1518.
Herman, J. & Usher, W. (2017). SALib: an open-source Python library for sensitivity analysis.
Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import xarray as xr

from .errors import EngineError

__all__ = ["QUANTILES", "summarize", "analyze_sensitivity", "summaries", "sensitivity_groups"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BLOCK_BYTES = 64 * 2**20
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95


class _Reader(Protocol):
    def read(self, group: str, name: str, index: Any = ...) -> np.ndarray: ...

    def member_chunk(self, group: str, name: str) -> int | None: ...


class _TreeReader:
    """Reads variables of a horizon DataTree (names as in the tree, decoded)."""

    def __init__(self, tree: xr.DataTree) -> None:
        self.tree = tree

    def read(self, group: str, name: str, index: Any = ()) -> np.ndarray:
        node = self.tree if group == "/" else _node(self.tree, group)
        return np.asarray(node[name].variable[index].values)

    def member_chunk(self, group: str, name: str) -> int | None:
        encoding = _node(self.tree, group)[name].encoding
        chunks = encoding.get("preferred_chunks", {}).get("member")
        if chunks is None and encoding.get("chunks"):
            chunks = encoding["chunks"][0]
        return None if chunks is None else int(chunks)


def _series(tree: xr.DataTree) -> dict[str, list[tuple[str, tuple[str, ...], tuple[int, ...],
                                                         dict[str, Any]]]]:
    """Per horizon group, its member-by-time variables: (name, dims, element shape, attrs)."""
    out = {}
    for group in _horizon_names(tree):
        ds = _node(tree, group).to_dataset(inherit=False)
        items = []
        for name, var in ds.data_vars.items():
            if var.dims[:2] == ("member", "time"):
                items.append((str(name), tuple(map(str, var.dims[2:])), var.shape[2:],
                              dict(var.attrs)))
        out[group] = items
    return out


def _horizon_names(tree: xr.DataTree) -> list[str]:
    return [str(name) for name, node in tree.children.items()
            if name not in ("summary", "sensitivity") and "time" in node.dims
            and "member" in node.dims]


def _node(tree: xr.DataTree, group: str) -> xr.DataTree:
    node = tree[group]
    assert isinstance(node, xr.DataTree)
    return node


def _element_coords(node: xr.DataTree) -> dict[str, Sequence[str]]:
    return {str(d): [str(e) for e in np.asarray(node[str(d)].values)] for d in node.dims
            if d not in ("member", "time") and d in node.coords}


def _element_labels(name: str, dims: Sequence[str], coords: dict[str, Sequence[str]]
                    ) -> list[str]:
    if not dims:
        return [name]
    grids = np.meshgrid(*[np.asarray(coords[d], dtype=str) for d in dims], indexing="ij")
    labels = [",".join(parts) for parts in zip(*(g.ravel() for g in grids))]
    return [f"{name}[{label}]" for label in labels]


# ---------------------------------------------------------------------------- summaries

def member_quantiles(raw: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` over axis 0 leaving NaN (failed members) out: ``np.quantile`` (linear
    interpolation) when nothing is missing, else the same rule per column, vectorised
    (``np.nanquantile`` loops in Python over columns)."""
    missing = np.isnan(raw)
    if not missing.any():
        return np.asarray(np.quantile(raw, q, axis=0))
    ordered = np.sort(raw, axis=0)  # NaN sort last
    count = raw.shape[0] - missing.sum(axis=0)
    out = np.empty((q.size, *raw.shape[1:]))
    last = np.maximum(count - 1, 0)
    for i, level in enumerate(q):
        position = level * last
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, last)
        weight = position - below
        a = np.take_along_axis(ordered, below[None], axis=0)[0]
        b = np.take_along_axis(ordered, above[None], axis=0)[0]
        out[i] = np.where(weight >= 0.5, b - (b - a) * (1 - weight), a + (b - a) * weight)
    out[:, count == 0] = np.nan
    return out


def _quantile_dataset(reader: _Reader, group: str, times: np.ndarray,
                      items: Sequence[tuple[str, tuple[str, ...], tuple[int, ...],
                                            dict[str, Any]]],
                      coords: dict[str, Sequence[str]], members: int,
                      quantiles: Sequence[float]) -> xr.Dataset:
    q = np.asarray(quantiles, dtype=float)
    data = {}
    used: set[str] = set()
    for name, dims, shape, attrs in items:
        size = int(np.prod(shape, dtype=np.int64))
        block = max(1, BLOCK_BYTES // max(1, members * size * 8))
        values = np.empty((q.size, times.size, *shape))
        # Zarr decompresses whole chunks: read chunk by chunk of members, so that memory holds
        # one chunk and one block of times of all members, never a whole variable.
        step = max(1, reader.member_chunk(group, name) or members)
        for t0 in range(0, times.size, block):
            t1 = min(times.size, t0 + block)
            raw = np.empty((members, t1 - t0, *shape))
            for m0 in range(0, members, step):
                m1 = min(members, m0 + step)
                raw[m0:m1] = reader.read(group, name, (slice(m0, m1), slice(t0, t1)))
            values[:, t0:t1] = member_quantiles(raw, q)
        keep = {k: attrs[k] for k in ("units", "long_name", "kind", "name") if k in attrs}
        data[name] = xr.Variable(("quantile", "time", *dims), values, keep)
        used.update(dims)
    ds_coords: dict[str, Any] = {"quantile": q, "time": times}
    ds_coords.update({d: np.array(coords[d], dtype=object) for d in used})
    return xr.Dataset(data, coords=ds_coords)


def summaries(sink: Any, layout: Any, quantiles: Sequence[float] = QUANTILES
              ) -> dict[str, xr.Dataset]:
    """Quantile summaries of an ensemble being written (``sink`` of :mod:`engine.store`)."""
    out = {}
    for group, (times, _) in layout.groups.items():
        items = [(v.name, v.dims, v.shape, v.attrs) for v in layout.variables if v.column >= 0]
        out[group] = _quantile_dataset(sink, group, times, items, layout.coords,
                                       layout.members, quantiles)
    return out


def summarize(tree: xr.DataTree, quantiles: Sequence[float] = QUANTILES) -> xr.DataTree:
    """Quantiles across members of every output, per horizon.

    Parameters
    ----------
    tree : xarray.DataTree
        An ensemble's horizon tree (from :func:`engine.run_ensemble` or
        :func:`engine.open_store`).
    quantiles : sequence of float
        Default 0.05, 0.25, 0.5, 0.75, 0.95.

    Returns
    -------
    xarray.DataTree
        One group per horizon; each variable has dims ``quantile``, ``time`` and its own.
        Failed (NaN) members are left out.
    """
    groups: dict[str, xr.Dataset] = {}
    for group, items in _series(tree).items():
        node = _node(tree, group)
        groups[group] = _quantile_dataset(_TreeReader(tree), group,
                                          np.asarray(node["time"].values, dtype=float), items,
                                          _element_coords(node), node.sizes["member"],
                                          quantiles)
    if not groups:
        raise EngineError("no horizon group with 'member' and 'time' dims to summarise.")
    return xr.DataTree.from_dict(groups)


# ---------------------------------------------------------------------------- sensitivity

def _analyze_columns(kind: str, Y: np.ndarray, unit: np.ndarray, inputs: Sequence[str],
                     seed: int) -> dict[str, np.ndarray]:
    """Indices for every column of ``Y`` (members x columns): name -> (columns x inputs)."""
    problem = {"num_vars": len(inputs), "names": list(inputs),
               "bounds": [[0.0, 1.0]] * len(inputs)}
    names = (("S1", "S1_conf", "ST", "ST_conf") if kind == "saltelli"
             else ("mu", "mu_star", "sigma", "mu_star_conf"))
    out = {k: np.full((Y.shape[1], len(inputs)), np.nan) for k in names}
    for column in range(Y.shape[1]):
        y = np.ascontiguousarray(Y[:, column])
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0.0:
            continue  # undefined: a failed member, or an output that does not vary
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if kind == "saltelli":
                from SALib.analyze import sobol

                # SALib reseeds only for a truthy seed; seed + 1 keeps seed=0 reproducible.
                result = sobol.analyze(problem, y, calc_second_order=True,
                                       num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL,
                                       print_to_console=False, seed=seed + 1)
            else:
                from SALib.analyze import morris

                from .sampling import MORRIS_LEVELS

                result = morris.analyze(problem, unit, y, num_resamples=NUM_RESAMPLES,
                                        conf_level=CONF_LEVEL, print_to_console=False,
                                        num_levels=MORRIS_LEVELS, seed=seed + 1)
        for k in names:
            out[k][column] = np.asarray(result[k], dtype=float)
    return out


_LONG_NAMES = {"S1": "first-order Sobol index", "S1_conf": "S1 confidence half-width (95%)",
               "ST": "total Sobol index", "ST_conf": "ST confidence half-width (95%)",
               "mu": "mean elementary effect", "mu_star": "mean absolute elementary effect",
               "sigma": "standard deviation of elementary effects",
               "mu_star_conf": "mu_star confidence half-width (95%)"}


def _sensitivity_dataset(reader: _Reader, group: str, time: float,
                         items: Sequence[tuple[str, str, tuple[str, ...], tuple[int, ...]]],
                         coords: dict[str, Sequence[str]], kind: str, unit: np.ndarray,
                         inputs: Sequence[str], seed: int) -> xr.Dataset:
    labels: list[str] = []
    blocks: dict[str, list[np.ndarray]] = {}
    for name, label, dims, shape in items:
        raw = reader.read(group, name, (slice(None), -1))
        Y = raw.reshape(raw.shape[0], int(np.prod(shape, dtype=np.int64)))
        for k, v in _analyze_columns(kind, Y, unit, inputs, seed).items():
            blocks.setdefault(k, []).append(v)
        labels += _element_labels(label, dims, coords)
    data = {k: xr.Variable(("output", "parameter"),
                           np.concatenate(v) if v else np.empty((0, len(inputs))),
                           {"long_name": _LONG_NAMES[k], "units": "1"})
            for k, v in blocks.items()}
    return xr.Dataset(data, coords={"output": np.array(labels, dtype=object),
                                    "parameter": np.array(list(inputs), dtype=object)},
                      attrs={"time": float(time), "method": kind})


def sensitivity_groups(sink: Any, layout: Any, design: Any) -> dict[str, xr.Dataset]:
    """Sensitivity indices of an ensemble being written, per horizon."""
    out = {}
    items = [(v.name, v.name, v.dims, v.shape) for v in layout.variables if v.column >= 0]
    for group, (times, _) in layout.groups.items():
        out[group] = _sensitivity_dataset(sink, group, times[-1], items, layout.coords,
                                          design.name, np.asarray(design.unit),
                                          list(design.inputs), design.seed)
    return out


def analyze_sensitivity(tree: xr.DataTree) -> xr.DataTree:
    """Sobol (saltelli design) or Morris (morris design) indices of every output, per horizon,
    at the horizon's last save time.

    Parameters
    ----------
    tree : xarray.DataTree
        The tree of a "saltelli" or "morris" sweep (its root holds ``sample_unit`` and the
        ``design`` and ``seed`` attrs).

    Returns
    -------
    xarray.DataTree
        One group per horizon with variables over (``output``, ``parameter``).
    """
    kind = tree.attrs.get("design")
    if kind not in ("saltelli", "morris"):
        raise EngineError(f"sensitivity indices need a 'saltelli' or 'morris' design; this "
                          f"sweep used {kind!r}. Run run_ensemble(..., design='saltelli').")
    root = tree.to_dataset(inherit=False)
    unit = np.asarray(root["sample_unit"].values)
    inputs = [str(p) for p in root["parameter"].values]
    seed = int(tree.attrs.get("seed", 0))
    groups = {}
    for group, items in _series(tree).items():
        node = _node(tree, group)
        groups[group] = _sensitivity_dataset(
            _TreeReader(tree), group, float(np.asarray(node["time"].values)[-1]),
            [(n, str(a.get("name", n)), d, s) for n, d, s, a in items], _element_coords(node),
            kind, unit, inputs,
            seed)
    return xr.DataTree.from_dict(groups)
