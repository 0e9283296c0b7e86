"""The CI script keeps the browser tests' screenshots (issue 15): CORRIDOR_TEST_ARTIFACTS
points at a folder inside the repository that the script's clean-up leaves alone and git
ignores."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ci_keeps_test_artifacts():
    script = (ROOT / ".ci" / "run").read_text()
    match = re.search(r'^export CORRIDOR_TEST_ARTIFACTS="\$root/([^"]+)"$', script, re.M)
    assert match, "CI sets no CORRIDOR_TEST_ARTIFACTS under $root"
    folder = match.group(1)
    assert 'mkdir -p "$CORRIDOR_TEST_ARTIFACTS"' in script
    (trap,) = re.findall(r"^trap '([^']*)' EXIT$", script, re.M)
    assert "CORRIDOR_TEST_ARTIFACTS" not in trap and folder not in trap  # kept after the run
    # the folder is set before the tests run
    assert script.index("CORRIDOR_TEST_ARTIFACTS=") < script.index("python -m pytest")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", f"{folder}/report.png"], check=False
    )
    assert ignored.returncode == 0, f"{folder} is not git-ignored"
