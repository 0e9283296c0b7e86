"""The benchmarks' peak memory of a child process is the child's own (benchmarks.peak_rss_mb):
Linux keeps ``getrusage``'s ``ru_maxrss`` across fork and exec, so a small child of a large
parent reported the parent's size, and the suite's memory ratios (flat in members, export
peaks) compared the parent with itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_small_child_of_a_large_parent_reports_its_own_peak():
    big = np.ones(400 * 2**20 // 8)  # 400 MiB touched in this (parent) process
    code = (
        "import json, resource, benchmarks;"
        "print(json.dumps([benchmarks.peak_rss_mb(),"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    own, rusage = json.loads(out.stdout)
    assert big.sum() > 0
    # the child holds an interpreter and the benchmarks package; ru_maxrss says the parent's
    # 400+ MiB on the Linux kernels seen here
    assert own < 200, (own, rusage)
