"""The user guide's runnable examples run (docs/examples/*.py), and its links resolve."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("path", sorted((DOCS / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_runs(path, tmp_path, monkeypatch):
    from engine import registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_BUILTIN", dict(registry._BUILTIN))  # examples may register
    runpy.run_path(str(path), run_name="__main__")


def test_guide_links_resolve():
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
