"""Output columns: which array slots a run saves, and the copy runs the kernels save them by.

:func:`engine.simulation.output_layout` and :func:`engine.simulation.output_runs` (memoised,
for a run's outputs) and :func:`engine.compiler.assembly.generate_source` (the default
outputs, whose save a small model's Euler kernel has written out: ``_default_save``) lay the
columns out with the same functions, so the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..equations import Num, walk
from ..graph import Plan
from ..spec import Model

__all__ = ["default_outputs", "columns", "copy_runs"]


def default_outputs(model: Model) -> list[str]:
    """The variables a run saves when no outputs are named: all but hidden ones and lookups."""
    return [v.name for v in model.variables.values() if not v.hidden and v.kind not in ("lookup",)]


def columns(plan: Plan, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per output column of the variables ``names`` (parameters have none): the array kind
    (0/1 ``y``/``a``, +3 when the variable may be NaN: an explicit :NA:) and the index."""
    kinds: list[int] = []
    idx: list[int] = []
    code = {"y": 0, "a": 1, "p": 2}
    for name in names:
        slot = plan.slots[name]
        if slot.array == "p":
            continue
        allowed = 3 if _may_be_missing(plan.model.variables[name]) else 0
        kinds += [code[slot.array] + allowed] * slot.size
        idx += range(slot.offset, slot.offset + slot.size)
    return np.array(kinds, dtype=np.int64), np.array(idx, dtype=np.int64)


def _may_be_missing(var: Any) -> bool:
    """A variable whose equation holds an explicit missing value (Vensim's :NA:) may be NaN."""
    for piece in var.pieces + (var.init_pieces or []):
        if any(isinstance(n, Num) and math.isnan(n.value) for n in walk(piece.expr)):
            return True
    return False


def copy_runs(kinds: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The output columns as contiguous copy runs: rows of (kind, source offset, first
    column, length), which the kernels copy block by block."""
    kinds = np.asarray(kinds, dtype=np.int64)
    idx = np.asarray(idx, dtype=np.int64)
    # a run starts at the first column and wherever the kind changes or the index does not
    # follow the previous column's (a loop over the 537,537 columns of the default corridor's
    # every output took ~0.15 s of every Runner made for them)
    starts = np.ones(kinds.size, dtype=bool)
    starts[1:] = (kinds[1:] != kinds[:-1]) | (idx[1:] != idx[:-1] + 1)
    first = np.flatnonzero(starts)
    return np.stack(
        [kinds[first], idx[first], first, np.diff(np.append(first, kinds.size))], axis=1
    ).astype(np.int64)
