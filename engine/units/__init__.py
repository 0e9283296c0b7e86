"""Units checking: every equation's right-hand side against its variable's declared units.

Each variable's units (the DSL's ``units=``, or the units field of a Vensim/XMILE file) are
parsed into a dimensional algebra (:mod:`pint`) with Vensim's conventions:

- ``Dmnl``, ``dimensionless``, ``unitless`` and ``1`` are dimensionless; blank units are
  *unspecified*: such a variable is not checked, and an equation using it is checked as far as
  its other terms allow (as Vensim skips unknown units);
- ``Year``, ``Month``, ``Week``, ``Day``, ``Hour``, ``Minute``, ``Second``, ``Quarter`` (any case,
  singular or plural) are time units that convert into one another (a ``Month`` is a twelfth of
  a ``Year``); ``person``/``persons``/``people`` are one unit, ``$``/``USD``/``dollar`` another;
  ``%`` is a hundredth;
- physical units pint knows (``m``, ``K``, ``kg``, ``MW``...) keep their meaning; any other word
  (``Widgets``, ``Degrees Fahrenheit``) becomes a base unit of its own, its plural the same unit;
- a units expression combines words with ``*``, ``/``, ``^`` (or ``**``), parentheses, numbers
  and ``per`` (``persons per year``); a range after the units (``Minutes [0,?]``) is ignored.

The units of a right-hand side are inferred from its terms, as Vensim's units check does: a
sum, a difference and a comparison need terms of one unit; a product and a quotient combine
them; a builtin function follows its rule in :data:`UNITS_RULES` (beside the table of builtins,
:data:`engine.builtins.BUILTINS`: MIN/MAX and the branches of IF THEN ELSE agree, EXP/LN take a
dimensionless argument, SMOOTH and DELAY keep their input's units and take a delay time in the
model's time unit, STEP/RAMP/PULSE take times, TREND is per time...); a lookup returns its
declared units (a table declares no units for its input, which is not checked); a stock is its
flows times the time unit; a power of a quantity with units needs a constant exponent (a number,
or a parameter taken at its value: ``U ** a * V ** (1 - a)`` is checked as written). A bare
number adopts the units its context needs in a sum, a comparison, MIN/MAX or a branch, and is
dimensionless in a product; a product with a number other than 1 is checked in dimension only
(the number may be a conversion, such as 12 months a year).

Functions with memory are lowered into hidden stocks before a model is checked
(:mod:`engine.spec.lowering`); their units are inferred from their equations, and a
disagreement inside one is reported against the variable that called the function.

Modules: :mod:`~engine.units.strings` (units strings into pint quantities),
:mod:`~engine.units.rules` (each builtin's units rule) and :mod:`~engine.units.inference`
(the units of expressions, the checks of a model, :func:`check_units`).

References
----------
Vensim Help, "Units Checking" and "Units Synonyms" (Ventana Systems).
"""

from .inference import UnitFinding, UnitsError, check_units, infer_units
from .rules import UNITS_RULES, UnitsRule
from .strings import parse_units

__all__ = [
    "check_units",
    "infer_units",
    "UnitFinding",
    "UnitsError",
    "UnitsRule",
    "UNITS_RULES",
    "parse_units",
]
