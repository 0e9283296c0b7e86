"""``corridor check``: a model's units checked (:func:`engine.check_units`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EngineError
from .loading import _load_model

__all__ = ["cmd_check"]


def cmd_check(args: argparse.Namespace) -> int:
    """Units check: each finding on a line; non-zero with --strict when there is one."""
    import engine

    path = Path(args.model)
    model = _python_model(path) if path.suffix == ".py" else _load_model(args.model)
    findings = engine.check_units(model)
    if args.json:
        print(json.dumps([vars(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print(f"warning: {finding.message}")
        if not args.quiet:
            print(
                f"{model.name}: units {'consistent' if not findings else 'disagree'}"
                f" ({len(findings)} warning(s))"
            )
    return 1 if findings and args.strict else 0


def _python_model(path: Path) -> Any:
    """The model a Python DSL file builds with its ``build()`` (Python code is trusted: the
    user names the file to run, as with ``python FILE``). A file inside a package is imported
    as its module (``models/climate.py`` as ``models.climate``)."""
    import importlib
    import importlib.util

    import engine

    if not path.is_file():
        raise EngineError(f"{path}: no such Python file; give a model file or a bundled name.")
    path = path.resolve()
    parts, root = [path.stem], path.parent
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(".".join(parts))
    finally:
        sys.path.remove(str(root))
    found = Path(getattr(module, "__file__", "") or "").resolve()
    if found != path:  # the same dotted name already imported from elsewhere
        raise EngineError(
            f"{path} is the module {'.'.join(parts)!r}, already loaded from {found}; run "
            "from the folder that holds it, or give the bundled model's name."
        )
    build = getattr(module, "build", None)
    model = build() if callable(build) else None
    if not isinstance(model, engine.Model):
        raise EngineError(f"{path}: defines no build() returning an engine.Model; add one.")
    return model
