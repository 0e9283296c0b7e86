"""Memory budgets: every memory and chunk policy of a run, in one place.

A huge ``n``, a tiny ``dt`` or huge dimensions would otherwise end in a raw ``MemoryError``
(or the machine swapping) after minutes of work. Every large allocation is estimated first
with :func:`check_allocation`, which raises :class:`~engine.errors.ResourceError` naming the
estimate, the memory available and the fix, before any of it is allocated.

The sizes a sweep works in are set here too, so that the stages that follow them agree without
importing each other: the ensemble runs chunks of members (:func:`default_chunk_size`), the
store chunks its horizon variables along time (:func:`zarr_time_chunk`) to match the blocks
the summaries read (:func:`time_block`), and both give freed memory back after each chunk or
block (:func:`release_memory`).
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ResourceError

__all__ = [
    "available_memory",
    "check_allocation",
    "format_bytes",
    "CHUNK_BYTES",
    "MAX_CHUNK",
    "ZARR_CHUNK_BYTES",
    "SUMMARY_BLOCK_BYTES",
    "default_chunk_size",
    "kernel_block",
    "KERNEL_CALLS",
    "time_block",
    "zarr_time_chunk",
    "release_memory",
    "export_members_block",
]

CHUNK_BYTES = 64 * 2**20  # output block of one kernel call (members run at once)
KERNEL_CALLS = 4  # kernel calls of a chunk of members (one zarr chunk), by default
MAX_CHUNK = 4096  # most members in a chunk
ZARR_CHUNK_BYTES = 4 * 2**20  # most bytes of a zarr chunk of a horizon variable
SUMMARY_BLOCK_BYTES = 32 * 2**20  # a summary block: a block of save times of all members
EXPORT_ROWS = 400_000  # rows of a tidy table written at a time (~40-80 MB as a DataFrame)
# Allocations up to this size are not checked: reading /proc/meminfo costs about 8 us, more
# than a small model's whole run, and a process that cannot get 64 MiB fails anyway.
UNCHECKED_BYTES = 64 * 2**20


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
    """Raise ResourceError if ``what`` (needing ``nbytes``) does not fit in memory now
    (allocations of at most :data:`UNCHECKED_BYTES` are not checked)."""
    if nbytes <= UNCHECKED_BYTES:
        return
    limit = available_memory()
    if nbytes > limit:
        raise ResourceError(
            f"{what} would need {format_bytes(nbytes)}, more than the "
            f"{format_bytes(limit)} of memory available; {fix}"
        )


# ---------------------------------------------------------------------------- block sizes


def kernel_block(members: int, n_save: int, n_cols: int) -> int:
    """Members per kernel call: an output block of about :data:`CHUNK_BYTES` (``n_save``
    saved times x ``n_cols`` columns a member), at least 16 and at most :data:`MAX_CHUNK`.
    Larger calls run slower (the corridor model's kernel: 16 members a call 6.2-9.6 s for
    256 members, 64 a call 8.5-10.8 s, 256 a call 13-16 s, measured alternating)."""
    per_member = max(1, n_save * n_cols * 8)
    return int(max(1, min(members, MAX_CHUNK, max(16, CHUNK_BYTES // per_member))))


def default_chunk_size(members: int, n_save: int, n_cols: int) -> int:
    """Members per chunk of a sweep (a zarr chunk along ``member``, a resumable unit):
    :data:`KERNEL_CALLS` kernel calls of :func:`kernel_block` members, at most
    :data:`MAX_CHUNK`. A store writes one file an array a chunk (more for arrays split along
    time), and creating a file costs about as much as writing 100 KB on a loaded host's file
    system (issue 18): chunks of several kernel calls mean fewer, larger files for about
    ``KERNEL_CALLS`` x :data:`CHUNK_BYTES` of memory."""
    block = kernel_block(members, n_save, n_cols)
    return int(max(1, min(members, max(block, min(MAX_CHUNK, KERNEL_CALLS * block)))))


def time_block(members: int, size: int, times: int) -> int:
    """Save times per summary block of a variable with ``size`` elements: as many as fit in
    :data:`SUMMARY_BLOCK_BYTES` across all members (at least one). The store chunks its
    horizon variables so along time, so that summaries decompress every chunk once."""
    return int(max(1, min(times, SUMMARY_BLOCK_BYTES // max(1, members * size * 8))))


def export_members_block(members: int, cells: int) -> int:
    """Members per block of a streamed export of a variable with ``cells`` values a member
    (times x elements): about :data:`EXPORT_ROWS` rows, at least one member."""
    return int(max(1, min(members, EXPORT_ROWS // max(1, cells))))


def zarr_time_chunk(members: int, chunk_size: int, size: int, times: int) -> int:
    """Save times per zarr chunk of a horizon variable with ``size`` elements, stored in
    chunks of ``chunk_size`` members: at most :data:`ZARR_CHUNK_BYTES` a chunk (zarr encodes
    several chunks at once, each with its copies: small chunks keep a write's memory small),
    and at most one summary block of all members (:func:`time_block`), so that summaries,
    which need every member of a block of times, decompress each chunk once and hold one
    block, whatever the members."""
    budget = max(1, ZARR_CHUNK_BYTES // max(1, chunk_size * size * 8))
    return min(time_block(members, size, times), budget)


# ---------------------------------------------------------------------------- giving back


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (another C library, or not Linux)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Give memory freed by the C allocator back to the system (glibc only; else nothing).

    A streamed sweep frees each chunk and each summary block once written or summarised, but
    glibc keeps freed blocks in per-thread arenas (zarr encodes and decodes in a pool of
    threads, so in several arenas), and the resident size would creep up with every chunk
    until each arena had held its largest block. Trimming after each chunk and block keeps it
    at what a chunk and a block need, whatever the number of members.
    """
    if _TRIM is not None:
        _TRIM(0)
