"""Reading a model file safely, and translating it with PySD's translators.

:func:`load` checks the file before reading a byte of it (a regular file with a model
suffix, at most :data:`MAX_MODEL_BYTES`), looks for the mapped model in the cache directory
(JSON, :mod:`engine.cache`, keyed by the file's content, the mapper's version and PySD's),
and otherwise parses the file with PySD's Vensim or XMILE translator into PySD's
AbstractModel, which :mod:`engine.vensim.mapper` maps into a :class:`~engine.spec.Model`.

PySD's translators call ``eval`` on some of the file's text; while corridor translates, that
``eval`` is replaced by :func:`ast.literal_eval` (:class:`_LiteralsOnly`), so such text can
only be a literal, and anything else is refused with a SpecError naming the variable.
"""

from __future__ import annotations

import ast as python_ast
import contextlib
import hashlib
import json
import os
import stat
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cache import cache_subdir, dumps_model, model_from_data, write_atomic
from ..errors import SpecError
from ..spec import Model
from .expressions import _norm
from .mapper import _Mapper

__all__ = ["load", "MAX_MODEL_BYTES"]

# Bump when the mapping changes, so models cached by an older mapper are parsed again (3:
# duplicate definitions and too-high orders are refused, so a cached entry may not hold;
# 17: exponentiation groups to the right; issue 16's constructs; 16 was a development state;
# 18: ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE).
_MAPPER_VERSION = 18
_PYSD_MODULES = ("pysd.translators.vensim.vensim_element", "pysd.translators.xmile.xmile_element")
_PYSD_LOCK = threading.Lock()


def load(path: str | os.PathLike[str]) -> Model:
    """Load a Vensim or XMILE model file into a :class:`~engine.spec.Model`.

    Raises
    ------
    SpecError
        When the file cannot be parsed (naming the file and, when known, the line) or uses a
        construct the engine does not support (naming the variable and the construct).
    """
    path = Path(path)
    _check_file(path)
    cached = _cache_file(path)
    if cached.exists():
        try:
            # Plain data: reading it builds the model's own objects and nothing else.
            return model_from_data(path.stem, json.loads(cached.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):
            cached.unlink(missing_ok=True)  # a stale or partial entry is just rebuilt
    model, read_files = _parse(path)
    # A model that reads data files is not kept: the key is the model file's content only,
    # and the data could change under it.
    text = None if read_files else dumps_model(model)
    if text is not None:
        write_atomic(cached, text)
    return model


#: The largest model file read, in bytes (64 MiB; the largest of the SDXorg sample models is
#: under 1 MB). A bigger file, or one that is not a regular file (a device such as /dev/zero,
#: a pipe), is refused before it is read.
MAX_MODEL_BYTES = 64 * 2**20

_SUFFIXES = (".mdl", ".xmile", ".xml", ".stmx")


def _check_file(path: Path) -> None:
    """Refuse what is not a model file before reading a byte of it."""
    try:
        info = path.stat()  # follows symbolic links: the file that would be read
    except FileNotFoundError:
        raise SpecError(f"model file {str(path)!r} does not exist.") from None
    except OSError as exc:
        raise SpecError(
            f"model file {str(path)!r} cannot be read: {exc.strerror or exc}."
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise SpecError(
            f"{str(path)!r} is a directory, not a model file; give the .mdl or "
            ".xmile file inside it."
        )
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(
            f"{str(path)!r} is not a regular file (a device, pipe or socket); "
            "give a Vensim .mdl or XMILE .xmile file."
        )
    if path.suffix.lower() not in _SUFFIXES:
        raise SpecError(
            f"{str(path)!r}: unknown model format {path.suffix!r}; give a "
            "Vensim .mdl or an XMILE .xmile/.xml/.stmx file."
        )
    if info.st_size > MAX_MODEL_BYTES:
        raise SpecError(
            f"model file {str(path)!r} is {info.st_size / 2**20:.0f} MiB, more than "
            f"the {MAX_MODEL_BYTES // 2**20} MiB a model file may have; check that "
            "it is the model (not data), or split its data into a separate file."
        )
    if not os.access(path, os.R_OK):
        raise SpecError(f"model file {str(path)!r} is not readable; check its permissions.")


def _read_model_bytes(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:  # the file grew after it was checked
        raise SpecError(
            f"model file {str(path)!r} is larger than the "
            f"{MAX_MODEL_BYTES // 2**20} MiB a model file may have."
        )
    return data


def _cache_file(path: Path) -> Path:
    """Where the mapped model of this exact file (and these versions) is kept: parsing is
    most of the cost of loading, and a file's content fixes the result."""
    from importlib.metadata import version

    digest = hashlib.sha256(_read_model_bytes(path))
    digest.update(f"{path.suffix.lower()}|{_MAPPER_VERSION}|{version('pysd')}".encode())
    return cache_subdir("models") / f"{digest.hexdigest()[:32]}.json"


class _LiteralsOnly:
    """Stands in for ``eval`` in PySD's translator modules: literals only.

    PySD evaluates text of the model file (lookup ranges and points, numbers, strings); a
    hostile file could put any Python expression there. Anything :func:`ast.literal_eval`
    does not accept is refused, and the element being parsed is remembered for the error.
    """

    def __init__(self) -> None:
        self.refused: tuple[str, str] | None = None

    def __call__(self, text: Any, *scopes: Any) -> Any:
        try:
            if scopes or not isinstance(text, str):
                raise ValueError("not a text")
            try:
                return python_ast.literal_eval(text.strip())
            except ValueError:
                return _signed_sum(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            if self.refused is None:
                self.refused = (str(text), _pysd_element())
            raise ValueError(f"{str(text)[:80]!r} is not a literal") from None


_MAX_SUM_TEXT = 10_000


def _signed_sum(text: str) -> float:
    """A run of signed numbers such as ``0.5 - 0.5 - 0.5``, as PySD's grammar reads a
    constant written without separators (it evaluates the text): the numbers added, and
    nothing else - no names, calls, products or powers. ``ValueError`` otherwise."""
    if len(text) > _MAX_SUM_TEXT:
        raise ValueError("too long")
    terms: list[float] = []  # right to left
    node = python_ast.parse(text.strip(), mode="eval").body
    while True:  # a chain of + and - parses as a left-leaning tree: walk it, no recursion
        if isinstance(node, python_ast.BinOp) and isinstance(
            node.op, (python_ast.Add, python_ast.Sub)
        ):
            term = python_ast.literal_eval(node.right)
            if type(term) not in (int, float):
                raise ValueError("not a number")
            terms.append(term if isinstance(node.op, python_ast.Add) else -term)
            node = node.left
            continue
        total = python_ast.literal_eval(node)
        if type(total) not in (int, float):
            raise ValueError("not a number")
        for term in reversed(terms):  # left to right, as Python evaluates the text
            total = total + term
        return total


def _pysd_element() -> str:
    """The name of the element PySD is parsing (found up the call stack), or ''."""
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        name = getattr(owner, "name", None)
        if isinstance(name, str) and type(owner).__module__.startswith("pysd.translators"):
            return name
        frame = frame.f_back  # type: ignore[assignment]
    return ""


@contextlib.contextmanager
def _literal_eval_in_pysd() -> Iterator[_LiteralsOnly]:
    """While translating, PySD's translator modules see :class:`_LiteralsOnly` as ``eval``."""
    import importlib

    guard = _LiteralsOnly()
    with _PYSD_LOCK:
        modules = [importlib.import_module(name) for name in _PYSD_MODULES]
        saved = [module.__dict__.get("eval") for module in modules]
        for module in modules:
            module.eval = guard  # type: ignore[attr-defined]
        try:
            yield guard
        finally:
            for module, old in zip(modules, saved):
                if old is None:
                    del module.eval
                else:
                    module.eval = old  # type: ignore[attr-defined]


def _parse(path: Path) -> tuple[Model, bool]:
    """The model, and whether it read data files (GET XLS/DIRECT ...)."""
    suffix = path.suffix.lower()
    with warnings.catch_warnings(), _literal_eval_in_pysd() as guard:
        warnings.simplefilter("ignore")
        try:
            if suffix == ".mdl":
                from pysd.translators.vensim.vensim_file import VensimFile

                source: Any = VensimFile(str(path))
            elif suffix in (".xmile", ".xml", ".stmx"):
                from pysd.translators.xmile.xmile_file import XmileFile

                source = XmileFile(str(path))
            else:
                raise SpecError(
                    f"{str(path)!r}: unknown model format {suffix!r}; give a "
                    "Vensim .mdl or an XMILE .xmile/.xml/.stmx file."
                )
            source.parse()
            abstract = source.get_abstract_model()
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001 - pysd raises many exception types
            if guard.refused is not None:
                text, element = guard.refused
                raise SpecError(
                    f"{str(path)!r}: variable {element!r}: {text[:80]!r} is not "
                    "a number. Lookup ranges and points, and the numbers of an "
                    "equation, must be written as plain numbers; corridor does "
                    "not evaluate expressions there."
                ) from None
            raise SpecError(
                f"{str(path)!r}: cannot parse the model: {_describe_parse_error(exc, path)}"
            ) from None
    mapper = _Mapper(path, abstract, _written_names(source))
    return mapper.build(), bool(mapper.external.files)


def _written_names(source: Any) -> list[dict[str, list[str]]]:
    """Per section, per normalised name, the names of its equations as the file writes them
    (pysd merges ``Foo Bar`` and ``foo_bar`` into one element; a duplicate is named as
    written)."""
    out: list[dict[str, list[str]]] = []
    for section in getattr(source, "sections", None) or []:
        names: dict[str, list[str]] = {}
        for component in getattr(section, "components", None) or []:
            name = getattr(component, "name", None)
            if isinstance(name, str):
                names.setdefault(_norm(name), []).append(name)
        out.append(names)
    return out


def _file_position(path: Path | None, source: Any, pos: Any) -> str:
    """ "line L, column C" of the file at ``path`` where the parsed text ``source`` (one
    equation, as pysd hands it to parsimonious) has its error at ``pos``; "" if not found."""
    if path is None or not isinstance(source, str) or not source.strip():
        return ""
    if not isinstance(pos, int) or not 0 <= pos <= len(source):
        return ""
    try:
        whole = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    start = whole.find(source)
    if start < 0:
        return ""
    offset = start + pos
    line = whole.count("\n", 0, offset) + 1
    column = offset - (whole.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} of the file"


def _describe_parse_error(exc: Exception, path: Path | None = None) -> str:
    text = str(exc).strip().splitlines()
    head = text[0] if text else type(exc).__name__
    line = getattr(exc, "line", None)
    if callable(line):
        # parsimonious's ParseError: its line and column count within the text it parsed (one
        # equation); where that text is found in the file, the file's line and column.
        source = getattr(exc, "text", None)
        head = head.rstrip(".")
        where = _file_position(path, source, getattr(exc, "pos", None))
        if where:
            head = head.split(" (line ")[0] + f" ({where})"
        if isinstance(source, str) and source.strip():
            head += f", in the expression {' '.join(source.split())[:160]!r}"
        return head + "; check its brackets and operators."
    if isinstance(line, (int, str)) and line:
        head += f" (line {line})"
    return head
