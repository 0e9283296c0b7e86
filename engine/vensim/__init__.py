"""The Vensim / XMILE front-end: pysd's translators parse, corridor maps into ``engine.spec``.

``load(path)`` parses a ``.mdl`` (Vensim) or ``.xmile``/``.xml``/``.stmx`` (XMILE) file with
PySD's translators into PySD's AbstractModel, then maps every element into a
:class:`~engine.spec.Model`: constants become parameters, INTEG elements stocks, graphical
functions lookups, and every other element an auxiliary whose equation is an
:mod:`engine.equations` tree. PySD's Python builder and runtime are never used. Names are
kept exactly as Vensim writes them; subscript ranges become dimensions.

A construct the engine cannot reproduce raises :class:`~engine.errors.SpecError` naming the
variable and the construct: a model either runs with Vensim's numbers or does not run.

A model file is not trusted. PySD's translators call ``eval`` on some of the file's text
(lookup ranges and points, ``WITH LOOKUP`` tables, numbers, strings, arguments); while
corridor translates, that ``eval`` is replaced by :func:`ast.literal_eval`, so such text can
only be a literal, and anything else is refused with a SpecError naming the variable. The
mapped model is kept in the cache directory as JSON (:mod:`engine.cache`), never pickled.

Modules: :mod:`~engine.vensim.translate` (file checks, the JSON cache of mapped models,
PySD's translators under the literal-eval guard: :func:`load`) and
:mod:`~engine.vensim.mapper` (PySD's AbstractModel into :class:`~engine.spec.Model`).
"""

from .translate import MAX_MODEL_BYTES, load

__all__ = ["load", "MAX_MODEL_BYTES"]
