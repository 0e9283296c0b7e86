"""Memory budgets: what a run is about to allocate, checked before it does.

A huge ``n``, a tiny ``dt`` or huge dimensions would otherwise end in a raw ``MemoryError``
(or the machine swapping) after minutes of work. Every large allocation is estimated first
with :func:`check_allocation`, which raises :class:`~engine.errors.ResourceError` naming the
estimate, the memory available and the fix, before any of it is allocated.
"""

from __future__ import annotations

import os

from .errors import ResourceError

__all__ = ["available_memory", "check_allocation", "format_bytes"]


def available_memory() -> int:
    """Bytes of memory this process can still get: ``MemAvailable`` (Linux), else physical
    memory, else (unknown) 2**62."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**62


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} PiB"  # pragma: no cover


def check_allocation(what: str, nbytes: float, fix: str) -> None:
    """Raise ResourceError if ``what`` (needing ``nbytes``) does not fit in memory now."""
    limit = available_memory()
    if nbytes > limit:
        raise ResourceError(f"{what} would need {format_bytes(nbytes)}, more than the "
                            f"{format_bytes(limit)} of memory available; {fix}")
