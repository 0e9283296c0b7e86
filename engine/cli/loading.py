"""Models for the command line: a model file or a registered model's name, and a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import EngineError

__all__ = ["MODEL_SUFFIXES", "_load_model"]


MODEL_SUFFIXES = (".mdl", ".xmile", ".xml", ".stmx")


def _load_model(name: str, scenario: str | None = None) -> Any:
    """A model file (.mdl/.xmile/.stmx) or a registered model name (engine.registry)."""
    import engine

    from ..registry import build_model, model_names

    path = Path(name)
    if path.suffix.lower() in MODEL_SUFFIXES:
        if scenario:
            raise EngineError(
                f"--scenario {scenario!r}: scenarios are for bundled models; a "
                "model file runs with its own values (use --set NAME=VALUE)."
            )
        return engine.load(path)
    if name not in model_names() and path.exists():
        kind = "a directory" if path.is_dir() else "a file of unknown format"
        raise EngineError(
            f"{name!r} is {kind}, not a model: give a Vensim .mdl or XMILE "
            ".xmile/.stmx file, or a registered model name "
            f"({', '.join(model_names())})."
        )
    return build_model(name, **({"scenario": scenario} if scenario else {}))
