"""Checks of the files and folders the engine is asked to write, made before any work.

A run or a report that fails only when it writes its result has wasted the run; one that
replaces a file silently has lost it. :func:`check_output_file` and
:func:`check_output_folder` refuse, with an :class:`~engine.errors.EngineError` naming the
path and a fix, an unknown format, a directory where a file is meant (or the reverse), an
existing file unless ``overwrite`` is given, and a folder that cannot be written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import EngineError

__all__ = ["check_output_file", "check_output_folder", "check_writable"]


def check_output_file(
    path: str | os.PathLike[str],
    *,
    suffixes: Sequence[str],
    overwrite: bool = False,
    what: str = "output",
) -> Path:
    """``path`` as a Path, if a file of one of ``suffixes`` may be written there."""
    path = Path(path)
    if path.is_dir():
        raise EngineError(
            f"{what} {str(path)!r} is a directory; give a file name such as "
            f"{str(path / ('results' + suffixes[0]))!r}."
        )
    if path.suffix.lower() not in suffixes:
        raise EngineError(
            f"{what} {str(path)!r}: unknown format {path.suffix or '(none)'!r}; "
            f"give a file name ending in {' or '.join(suffixes)}."
        )
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise EngineError(f"{path} exists; pass overwrite=True (--overwrite) to replace it.")
        if not path.is_file():
            raise EngineError(
                f"{what} {str(path)!r} exists and is not a regular file; choose another name."
            )
    check_writable(path.parent, what=f"{what} {str(path)!r}")
    return path


def check_output_folder(
    folder: str | os.PathLike[str],
    names: Iterable[str],
    *,
    overwrite: bool = False,
    what: str = "output folder",
) -> Path:
    """``folder`` as a Path, if the files ``names`` may be written into it (it is created
    later if missing)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise EngineError(
            f"{what} {str(folder)!r} is a file, not a folder; give a folder name "
            "(it is created if missing)."
        )
    existing = [str(folder / n) for n in names if (folder / n).exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise EngineError(
            f"{shown} exist(s); pass --overwrite to replace, or choose another --out folder."
        )
    ancestor = folder
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise EngineError(f"{what} {str(folder)!r}: {str(ancestor)!r} is a file, not a folder.")
    check_writable(ancestor, what=f"{what} {str(folder)!r}")
    return folder


def check_writable(folder: Path, *, what: str) -> None:
    """Refuse a missing or unwritable ``folder``, by trying to create a file in it (permission
    bits do not tell: a read-only mount, or root, who passes ``os.access``)."""
    if not folder.is_dir():
        raise EngineError(
            f"cannot write {what}: the folder {str(folder)!r} does not exist; create it first."
        )
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".corridor-probe-"):
            pass
    except OSError as exc:
        raise EngineError(
            f"cannot write {what}: the folder {str(folder)!r} is not writable "
            f"({exc.strerror or exc}); choose another place."
        ) from None
