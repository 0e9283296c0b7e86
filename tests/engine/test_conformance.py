"""The shared SDXorg conformance suite (real Vensim models with Vensim's own output).

Runs ``../shared/conformance/conform.py`` over the core suite, as its README says, and
requires every model to pass. Skipped when the shared folder is absent.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFORMANCE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(
    not (CONFORMANCE / "conform.py").exists(),
    reason=f"shared conformance suite not found at {CONFORMANCE}",
)
def test_core_conformance_suite():
    result = subprocess.run(
        [
            sys.executable,
            str(CONFORMANCE / "conform.py"),
            "--engine",
            "corridor_engine:run_vensim",
            "--suite",
            "core",
            "--jobs",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    failures = [
        line for line in result.stdout.splitlines() if " FAIL " in line or " ERROR " in line
    ]
    assert int(match.group(2)) == 0, "\n".join(failures)
    assert int(match.group(1)) == 60
