"""Units strings into pint quantities, with Vensim's conventions (see :mod:`engine.units`)."""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pint

__all__ = ["parse_units", "parse_with", "registry", "Registry", "TIME_UNKNOWN"]

# Words with a meaning of their own here (lower case, singular), before pint is asked.
_WORDS = {
    "dmnl": "",
    "dimensionless": "",
    "unitless": "",
    "nondimensional": "",
    "fraction": "",
    "1": "",
    "person": "person",
    "people": "person",
    "$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "%": "percent",
    "percent": "percent",
    "second": "second",
    "sec": "second",
    "minute": "minute",
    "min": "minute",
    "hour": "hour",
    "hr": "hour",
    "day": "day",
    "week": "week",
    "wk": "week",
    "month": "month",
    "mo": "month",
    "quarter": "quarter_of_year",
    "year": "year",
    "yr": "year",
    "decade": "decade",
    "century": "century",
}
# Abbreviations of words that are units of their own here.
_ABBREVIATIONS = {"deg": "degree", "degs": "degree"}
# Words pint knows but a modeller means otherwise (pint: "units" is micro-nits, "cycle" an
# angle, "bag" of cement, "degree" an angle, "count" dimensionless, "point" a length...).
_NOT_PINT = {
    "unit", "cycle", "bag", "case", "bar", "are", "degree", "count", "point", "link", "hand",
    "line", "shake", "turn", "tick", "each", "item", "chain", "pole", "score", "gamma", "mil",
    "grade", "drop", "pi", "lot", "sun", "light",
}  # fmt: skip
# The one-letter symbols taken as pint's (others, like pint's D for debye, are words of their own).
_LETTERS = set("msdhgtlLKAVWJNCa")
# The prefixes taken on a short symbol (km, MW, mg...; not Rs as ronna-seconds).
_PREFIXES = {"kilo", "mega", "giga", "tera", "milli", "micro", "nano", "centi", "hecto"}
_SHOWN = {"quarter_of_year": "quarter", "delta_degree_Celsius": "degC",
          "delta_degree_Fahrenheit": "degF"}  # fmt: skip
_TOKEN = re.compile(r"\s*(\*\*|[*/^()]|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?![A-Za-z_$%])|[^*/^()]+)")


class Registry:
    """pint's registry with the words above and base units made on the fly."""

    def __init__(self) -> None:
        import pint  # imported when units are first checked: `import engine` stays light

        self.pint = pint
        self.ureg: Any = pint.UnitRegistry()
        self.ureg.define("person = [person]")
        self.ureg.define("USD = [currency]")
        self.ureg.define("quarter_of_year = year / 4")
        self.shown: dict[str, str] = dict(_SHOWN)
        self.made: dict[str, str] = {}  # key of a made-up unit -> its pint name
        self.words: dict[str, pint.Quantity] = {}

    def unit(self, name: str) -> pint.Quantity:
        return self.ureg.Quantity(1.0, self.pint.util.UnitsContainer({name: 1}) if name else "")

    def word(self, text: str) -> pint.Quantity:
        """The units one word (or several words naming one unit) stands for."""
        text = " ".join(text.split())
        found = self.words.get(text)
        if found is None:
            found = self.words[text] = self._word(text)
        return found

    def _word(self, text: str) -> pint.Quantity:
        lower = text.lower()
        if lower in _ABBREVIATIONS:
            text = lower = _ABBREVIATIONS[lower]
        for key in (lower, _singular(lower)):
            if key in _WORDS:
                return self.unit(_WORDS[key])
        if " " not in text:
            # symbols keep their case (D is not d, a day); words are tried in lower case too
            tries = [(text, True)] + ([(lower, False), (_singular(lower), False)] * (len(text) > 2))
            for candidate, prefixed in tries:
                name = self._pint_name(candidate, prefixed)
                if name:
                    return self.unit(name)
        key = "_".join(_singular(w) for w in lower.split(" "))
        name = self.made.get(key)
        if name is None:
            name = "u_" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in key)
            self.ureg.define(f"{name} = [{name}]")
            self.made[key] = name
            self.shown[name] = text
        return self.unit(name)

    def _pint_name(self, word: str, prefixed: bool) -> str | None:
        if (len(word) == 1 and word not in _LETTERS) or _singular(word.lower()) in _NOT_PINT:
            return None
        try:
            found = self.ureg.parse_unit_name(word)
        except Exception:  # noqa: BLE001 - pint's parser: any failure means "not pint's word"
            return None
        for prefix, name, _suffix in found:
            # a prefix only on a short symbol ("km", "MW"): "units" is not micro-nits
            if prefix and (not prefixed or len(word) > 4 or prefix not in _PREFIXES):
                continue
            if "constant" in name or name in _NOT_PINT:
                continue
            full = str(self.ureg.get_name(prefix + name))
            try:
                self.ureg.Quantity(1.0, full) * self.ureg.Quantity(1.0, "m")
            except self.pint.errors.OffsetUnitCalculusError:  # degC: a difference of degrees
                full = "delta_" + full
            return full
        return None

    def show(self, q: pint.Quantity | None) -> str:
        """Units as text: ``person/year``, ``USD/(person*year)``, ``dimensionless``."""
        if q is None:
            return "unknown"
        up: list[str] = []
        down: list[str] = []
        items = [(str(name), float(power)) for name, power in q.unit_items()]  # type: ignore[arg-type]
        for name, power in sorted(items, key=lambda item: -item[1]):
            shown = self.shown.get(name, name)
            size = abs(power)
            text = shown if size == 1 else f"{shown}^{number_text(size)}"
            (up if power > 0 else down).append(text)
        out = "*".join(up) or ("1" if down else "dimensionless")
        if down:
            out += "/" + (down[0] if len(down) == 1 else "(" + "*".join(down) + ")")
        scale = float(q.magnitude)
        return out if math.isclose(scale, 1.0) else f"{number_text(scale)} {out}"


def number_text(value: float) -> str:
    return f"{value:g}"


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


@cache
def registry() -> Registry:
    return Registry()


#: Given as ``time`` to :func:`parse_with`: the word ``Time`` raises LookupError (a model
#: whose time unit is not known cannot say what ``person/Time`` is).
TIME_UNKNOWN: Any = object()


def parse_units(text: str, *, time: pint.Quantity | None = None) -> pint.Quantity | None:
    """The units a units string stands for, as a pint quantity of magnitude 1 (None: blank).

    The word ``Time`` stands for ``time``, the model's time unit, when given (Stella writes
    ``people/Time``).

    Raises
    ------
    ValueError
        On a string that is not a units expression (unbalanced parentheses, a power that is
        not a number...).

    Examples
    --------
    >>> parse_units("Persons/Year") == parse_units("person / yr")
    True
    """
    return parse_with(registry(), text, time)


def parse_with(reg: Registry, text: str, time: Any = None) -> pint.Quantity | None:
    text = str(text or "").split("[")[0].strip()
    if not text or text == "?":
        return None
    text = re.sub(r"(?i)\s+per\s+", "/", text)
    tokens = [t.strip() for t in _TOKEN.findall(text) if t.strip()]
    if "".join(tokens).replace(" ", "") != text.replace(" ", ""):
        raise ValueError(f"cannot read the units {text!r}")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def product() -> pint.Quantity:
        out = power()
        while peek() is not None and peek() != ")":
            op = peek()
            if op in ("*", "/"):
                take()
                out = out * power() if op == "*" else out / power()
            else:  # "1000 persons": a number and a word side by side multiply
                out = out * power()
        return out

    def power() -> pint.Quantity:
        base = factor()
        if peek() in ("^", "**"):
            take()
            sign = -1.0 if peek() == "-" else 1.0
            exponent = take() if sign > 0 else take()[1:]
            try:
                return base ** (sign * float(exponent))
            except ValueError:
                raise ValueError(f"the power in {text!r} is not a number") from None
        return base

    def factor() -> pint.Quantity:
        token = peek()
        if token is None or token in ("*", "/", "^", "**", ")"):
            raise ValueError(f"cannot read the units {text!r}")
        take()
        if token == "(":
            inner = product()
            if peek() != ")":
                raise ValueError(f"unbalanced parentheses in the units {text!r}")
            take()
            return inner
        if token.lower() == "time" and time is not None:
            if time is TIME_UNKNOWN:
                raise LookupError("the model's time unit is unknown")
            return time
        try:
            return reg.ureg.Quantity(float(token), "")
        except ValueError:
            return reg.word(token)

    out = product()
    if position != len(tokens):
        raise ValueError(f"unbalanced parentheses in the units {text!r}")
    return out
