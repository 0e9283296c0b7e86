"""The OS refusing a write (disk full, quota, read-only file system, I/O error): one StoreError.

zarr writes a chunk's many files concurrently in its own event loop (a daemon thread; see
``zarr.core.sync``), through ``asyncio.gather`` calls that do not cancel their siblings when
one fails. A full disk used to end a sweep with the raw ``OSError`` of the first failed file
while the others were still in flight: they kept writing after the sweep had given up, and
at exit, when the loop's thread died with them pending, asyncio printed every one of them
("Task was destroyed but it is pending!", "Task exception was never retrieved"): thousands of
lines of tracebacks.

Here every write of a store runs under :func:`writing`: on failure it waits until zarr's loop
has no task left (:func:`settle`; their exceptions are retrieved, nothing is written after the
error is raised), then raises one :class:`~engine.errors.StoreError` naming the store, what was
being written, the OS error and the fix. The stores corridor writes through
(:class:`engine.store.integrity.ChecksummedStore`) record the first failed key and fail every
later write of the same store at once (nothing more reaches the disk: a chunk whose data failed
is never marked done). A chunk of members is marked done only after all its data, so the same
command, run again once there is space, resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError

__all__ = ["Failure", "writing", "settle", "write_error", "FULL"]

FULL = frozenset(
    e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None
)
SETTLE_SECONDS = 120.0


@dataclass
class Failure:
    """The first write of a store that failed: the zarr key and the OS error."""

    key: str
    error: OSError


def settle(timeout: float = SETTLE_SECONDS) -> None:
    """Wait until zarr's event loop runs no task (cancel what is left after ``timeout``)."""
    try:
        from zarr.core import sync as zsync
    except ImportError:  # pragma: no cover - zarr is a dependency
        return
    loop = zsync.loop[0]
    if loop is None or loop.is_closed() or not loop.is_running():
        return
    try:
        if asyncio.get_running_loop() is loop:  # pragma: no cover - cannot wait on itself
            return
    except RuntimeError:
        pass
    future = asyncio.run_coroutine_threadsafe(_drain(timeout), loop)
    try:
        future.result(timeout + 30)
    except Exception:  # noqa: BLE001 - settling is best effort: the error raised is the user's
        future.cancel()


async def _drain(timeout: float) -> None:
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    deadline = loop.time() + timeout
    while True:
        others = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
        if not others:
            break
        left = deadline - loop.time()
        if left <= 0:
            for task in others:
                task.cancel()
            await asyncio.wait(others, timeout=5)
            break
        await asyncio.wait(others, timeout=left)
    for _ in range(3):  # let the done-callbacks (gather's, which retrieve exceptions) run
        await asyncio.sleep(0)


def _strerror(error: OSError) -> str:
    text = error.strerror or str(error)
    name = errno.errorcode.get(error.errno or 0)
    return f"{text} ({name})" if name else text


def describe_key(key: str) -> str:
    """'variable 'x' of group 'long', zarr chunk 3.0' for the key 'long/x/c/3/0'."""
    from .layout import DONE
    from .names import SLASH, split_chunk_key

    split = split_chunk_key(key)
    if split is None:
        where, _, leaf = key.rpartition("/")
        what = "metadata" if leaf == "zarr.json" else f"file {leaf!r}"
        return f"the {what} of {where!r}" if where else f"the root group's {what}"
    array, coords = split
    group, _, leaf = array.rpartition("/")
    name = leaf.replace(SLASH, "/")
    place = f" of group {group!r}" if group else ""
    if array == DONE:
        return f"the done marker of chunk {coords[0] if coords else 0}"
    return f"variable {name!r}{place}, zarr chunk {'.'.join(map(str, coords)) or '0'}"


def write_error(
    path: Path | str,
    what: str,
    error: OSError,
    failure: Failure | None = None,
    *,
    created: bool = True,
) -> StoreError:
    """The StoreError for ``error`` raised while ``what`` (e.g. "writing members 0 to 19
    (chunk 0)") in the store at ``path``."""
    detail = f" ({describe_key(failure.key)})" if failure is not None else ""
    cause = failure.error if failure is not None else error
    if cause.errno in FULL:
        fix = "free space or choose another --store (store= in Python)"
    else:
        fix = "make the store's file system writable or choose another --store (store= in Python)"
    if created:
        then = (
            "then run the same command again to resume where it stopped (chunks finished "
            "before are kept; the one cut short is written again)"
        )
    else:
        then = "then run the same command again (nothing was left behind)"
    return StoreError(
        f"the store {str(path)!r} could not be written while {what}{detail}: "
        f"{_strerror(cause)}. To finish the sweep, {fix}; {then}."
    )


@contextmanager
def writing(
    path: Path | str, what: str, state: Any = None, *, created: bool = True
) -> Iterator[None]:
    """Run a store write; on an OSError raise one StoreError (see :func:`write_error`) once
    zarr's loop has settled. ``state``: the store's record (``.failure``), if it keeps one."""
    try:
        yield
    except StoreError:
        settle()
        raise
    except OSError as error:
        settle()
        failure = getattr(state, "failure", None)
        raise write_error(path, what, error, failure, created=created) from None
    except Exception:
        settle()
        raise
