"""Shared fixtures: a kernel cache private to the test session, and the teacup model."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest

# Kernels compiled by the tests go to a cache shared by the test session (and by the workers
# of pytest-xdist), not to the user's cache. The engine creates it private (mode 0700) and
# refuses one that is not, so the name is per user.
os.environ.setdefault(
    "CORRIDOR_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"corridor-test-cache-{os.getuid()}")
)


#: What an unannotated ``slow`` test is taken to cost (seconds on the CI host) when ordering.
SLOW_SECONDS = 30


def pytest_collection_modifyitems(config, items):
    """The modules expected to take longest run first (otherwise in collection order).

    Under ``--dist loadfile`` (pyproject's addopts) each module runs whole on one worker, handed
    out in collection order: the long model modules (``tests/models``) came last, and one worker
    ran them alone for the last ~12 minutes of CI while the other had finished. A module's
    expected time is the sum over its ``slow`` tests of ``slow(seconds=...)``, or
    :data:`SLOW_SECONDS` each; the longest start first (the conformance suites, a few minutes
    each, are annotated: by count alone their module of three tests started last) and the
    shorter modules fill in beside them. Tests keep their order within a module."""
    expected: Counter[str] = Counter()
    first: dict[str, int] = {}
    for position, item in enumerate(items):
        module = item.nodeid.split("::")[0]
        first.setdefault(module, position)
        marker = item.get_closest_marker("slow")
        if marker is not None:
            expected[module] += marker.kwargs.get("seconds", SLOW_SECONDS)

    def key(item):
        module = item.nodeid.split("::")[0]
        return (-expected[module], first[module])

    items.sort(key=key)


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"
TEST_MODELS = CONFORMANCE / "test-models"


def teacup_model():
    import engine

    m = engine.Model("teacup", time_unit="minute")
    m.param("room_temperature", 70, units="degF", bounds=(-100, 300))
    m.param("characteristic_time", 10, units="minute", bounds=(0.1, None))
    m.stock("teacup_temperature", initial=180, units="degF")
    m.flow(
        "heat_loss",
        "(teacup_temperature - room_temperature) / characteristic_time",
        out_of="teacup_temperature",
        units="degF/minute",
    )
    return m


@pytest.fixture(scope="session")
def teacup():
    return teacup_model()


def needs_test_models():
    return pytest.mark.skipif(
        not TEST_MODELS.exists(), reason=f"conformance models not found at {TEST_MODELS}"
    )
