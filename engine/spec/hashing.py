"""What :meth:`Model.content_hash <engine.spec.Model.content_hash>` hashes: the text of a
model's structure (made once per state of its parts, :mod:`engine.spec.tracking`) and the
arrays of its parameter values and lookup tables (hashed on every call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model
    from .parts import Piece

__all__ = ["hash_parts"]


def hash_parts(model: Model) -> list[tuple[Any, bool | None]]:
    """What :meth:`Model.content_hash` hashes, in order: text as bytes (``None``), parameter
    values (``True``: hashed as floats) and lookup tables (``False``: as they are), the arrays
    kept themselves so that values written in place are hashed."""
    parts: list[tuple[Any, bool | None]] = []
    text: list[bytes] = []

    def array(value: Any, as_float: bool) -> None:
        if text:
            parts.append((b"".join(text), None))
            text.clear()
        parts.append((value, as_float))

    text.append(
        repr(
            (
                model.name,
                model.time_unit,
                model.start,
                model.stop,
                model.dt,
                model.saveper,
                sorted(model.control.items()),
                model.dynamic_control,
            )
        ).encode()
    )
    for dim in model.dims.values():
        text.append(
            repr((dim.name, dim.elements, dim.parent, sorted(dim.mappings.items()))).encode()
        )
    for var in model.variables.values():
        text.append(
            repr(
                (
                    var.name,
                    var.kind,
                    var.dims,
                    _pieces_text(model, var.pieces),
                    _pieces_text(model, var.init_pieces),
                    list(var.inflows),
                    list(var.outflows),
                    _pieces_text(model, var.rate),
                    var.non_negative,
                    var.bounds,
                    var.extrapolate,
                    var.hidden,
                    sorted((k, repr(v)) for k, v in var.extra.items()),
                )
            ).encode()
        )
        if var.value is not None:
            array(var.value, True)
        for xs, ys in var.tables or ():
            array(xs, False)
            array(ys, False)
    text.append(repr(list(model.shifts)).encode())
    parts.append((b"".join(text), None))
    return parts


def _pieces_text(model: Model, pieces: list[Piece] | None) -> str | None:
    """The text of equation pieces, each expression's kept.

    Expressions are immutable, so an expression's ``repr`` (most of the hash's cost) is made
    once and kept beside the expression itself (the kept reference means its ``id`` cannot be
    taken by another object); a changed equation is a new expression.
    """
    if pieces is None:
        return None
    texts: dict[int, tuple[Any, str]] = model.__dict__.setdefault("_expr_texts", {})
    parts = []
    for piece in pieces:
        kept = texts.get(id(piece.expr))
        if kept is None or kept[0] is not piece.expr:
            kept = texts[id(piece.expr)] = (piece.expr, repr(piece.expr))
        parts.append(f"Piece({piece.subs!r}, {kept[1]}, {piece.exclude!r})")
    return "[" + ", ".join(parts) + "]"
