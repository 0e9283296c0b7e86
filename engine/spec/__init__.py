"""Model specification: the one model type both front-ends (DSL, Vensim/XMILE) produce.

A :class:`Model` holds dimensions (named, ordered elements), and variables of five kinds:
stocks, flows, auxiliaries, parameters and lookup tables. Equations are parsed at once
into :mod:`engine.equations` trees; functions with memory (``smooth``, ``delay3``,
``initial``...) are lowered into hidden stocks (:mod:`engine.spec.lowering`) so that the
compiler only ever sees stocks, algebra and a few discrete updates.

Examples
--------
>>> import engine
>>> m = engine.Model("teacup", time_unit="minute")
>>> m.param("room_temperature", 70, units="degF")
>>> m.param("characteristic_time", 10, units="minute")
>>> m.stock("teacup_temperature", initial=180, units="degF")
>>> m.flow("heat_loss", "(teacup_temperature - room_temperature) / characteristic_time",
...        out_of="teacup_temperature", units="degF/minute")

Modules: :mod:`~engine.spec.parts` (dimensions, variables, pieces, cohort shifts),
:mod:`~engine.spec.model` (:class:`Model`) and :mod:`~engine.spec.lowering` (functions with
memory into hidden variables).
"""

# CohortShift, iter_refs and sanitise were importable from engine.spec; they stay so.
from .model import Model
from .model import iter_refs as iter_refs
from .model import sanitise as sanitise
from .parts import KINDS, MAX_ORDER, PRIOR_DISTRIBUTIONS, Dimension, Piece, Variable
from .parts import CohortShift as CohortShift

__all__ = ["Model", "Dimension", "Variable", "Piece", "KINDS", "PRIOR_DISTRIBUTIONS", "MAX_ORDER"]
