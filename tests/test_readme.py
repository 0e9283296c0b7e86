"""The README's worked example runs as written (with a small -n), through the real command."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from engine.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def worked_example() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A worked example") :]
    start = section.index("```bash") + len("```bash")
    block = section[start : section.index("```", start)]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split("  #")[0].strip()
        if line:
            commands.append(shlex.split(line))
    return commands


def test_the_worked_example_is_commands_of_corridor():
    commands = worked_example()
    assert [c[:2] for c in commands][:3] == [
        ["corridor", "scenarios"],
        ["corridor", "run"],
        ["corridor", "sweep"],
    ]
    assert {c[1] for c in commands} >= {"sweep", "plot", "report", "export", "compare"}


@pytest.mark.slow
def test_the_worked_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in worked_example():
        argv = command[1:]
        for k in range(1, len(argv)):
            if argv[k - 1] == "-n":
                argv[k] = "8"  # a small sweep, as CI can afford
        assert main(argv) == 0, argv
    assert Path("runs/baseline.zarr").is_dir()
    assert Path("baseline.html").read_text().count("<h3>") >= 5  # a section per region
    assert Path("baseline.xlsx").stat().st_size > 0
    assert Path("comparison/comparison.html").exists()
    assert any(
        p.name.startswith("fan_population_region-Sub-Saharan") for p in Path("figures").iterdir()
    )
