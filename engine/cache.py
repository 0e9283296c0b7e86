"""The on-disk cache: a private directory, kernel modules run from verified text, models as data.

The cache holds what makes later runs fast: generated kernel modules and numba's machine code
for them (``__pycache__``), the mapped models of Vensim/XMILE files (``models/``) and fused
Euler steps (``fusion/``, :func:`engine.compiler.fusion.fuse_step`). Part of
it is code that is run, so it is trusted only as far as the directory is:

- :func:`cache_dir` uses ``$CORRIDOR_CACHE_DIR`` or ``~/.cache/corridor/kernels``, creates it
  with mode 0700 and refuses (:class:`~engine.errors.CacheError`) a directory owned by another
  user or of any other mode, since anyone able to write there could run code as every user
  of it (and numba keeps its cache beside the module only in a directory it can write). A
  directory of earlier versions (yours, mode 0755: others could read it, never write) is set
  to 0700 instead, with its subfolders; never one reached through a symbolic link. Its
  ``__pycache__``, ``models`` and ``fusion`` subfolders, and numba's own cache directory when
  ``NUMBA_CACHE_DIR`` moves it elsewhere, must be owned by the user and not writable by
  others.
- :func:`load_module` runs a generated module from the text the compiler made and checked
  (:mod:`engine.codecheck`), never from a file or a ``.pyc`` found in the directory; the file
  it writes there only gives numba a path to key its cache on.
- Mapped models are stored as JSON data (:func:`model_to_data`, :func:`model_from_data`),
  never pickled: reading an entry builds nothing but the model's own plain objects.

What stays trusted is what only the user can write: numba's index and machine-code files in
``__pycache__`` of that directory are pickles numba loads itself.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .equations import Binary, Call, Expr, InlineLookup, Num, Reduce, Ref, Time, Unary
from .errors import CacheError
from .spec import KINDS, CohortShift, Dimension, Model, Piece, Variable

__all__ = [
    "cache_dir",
    "cache_subdir",
    "private_dir",
    "load_module",
    "model_to_data",
    "model_from_data",
    "dumps_model",
    "write_atomic",
    "write_atomic_bytes",
]

# Subdirectories the engine or numba writes: checked like the directory itself, so that a
# directory made private after others could write to it does not keep what they left there.
_SUBDIRS = ("__pycache__", "models", "fusion")


def cache_dir() -> Path:
    """The kernel cache directory: ``$CORRIDOR_CACHE_DIR`` or ``~/.cache/corridor/kernels``.

    Created with mode 0700 when absent; one of yours that others can read but not write
    (0755, as earlier versions made it) is set to 0700. Raises
    :class:`~engine.errors.CacheError` when it is owned by another user, writable by others,
    or otherwise not of mode 0700.
    """
    root = os.environ.get("CORRIDOR_CACHE_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "corridor" / "kernels"
    path = private_dir(path)
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        private_dir(Path(numba_dir), what="numba cache directory (NUMBA_CACHE_DIR)")
    return path


def cache_subdir(name: str) -> Path:
    """The subfolder ``name`` of :func:`cache_dir` (one of those it checks: ``models``,
    ``fusion``), made with mode 0700 when absent."""
    if name not in _SUBDIRS:
        raise ValueError(f"{name!r} is not a cache subfolder {cache_dir.__name__} checks")
    folder = cache_dir() / name
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def private_dir(path: Path, *, what: str = "cache directory") -> Path:
    """``path`` as a directory only the current user can use: created with mode 0700, or
    checked to be owned by this user with no permission for group or others (one of this
    user's that others can read but not write is first set to 0700)."""
    if not os.path.lexists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # whatever the umask
        except FileExistsError:
            pass  # made meanwhile by another process: checked below like any other
    _tighten_own(path, what)
    _check_private(path, what, strict=True)
    for name in _SUBDIRS:
        sub = path / name
        if os.path.lexists(sub):
            _check_private(sub, f"{what} subfolder", strict=False)
    return path


def _tighten_own(path: Path, what: str) -> None:
    """Bring a directory made by an earlier version (mode 0755 from the umask) to mode 0700.

    Only when nobody else can have written there: ``path`` and each subfolder the check
    covers are real directories (no symbolic link is followed or changed), owned by this user,
    not writable by group or others, and open to their owner; the directory is then not
    0700 only in bits that let others read or enter it. Anything else is left as it is, for
    :func:`_check_private` to refuse.
    """
    paths = [path] + [path / name for name in _SUBDIRS if os.path.lexists(path / name)]
    uid = os.geteuid()
    for p in paths:
        try:
            info = os.lstat(p)
        except OSError:
            return
        mode = stat.S_IMODE(info.st_mode)
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != uid
            or mode & 0o022
            or mode & 0o700 != 0o700
        ):
            return
    if stat.S_IMODE(os.lstat(path).st_mode) == 0o700:
        return  # already private: its subfolders are judged as they are
    for p in reversed(paths):  # the subfolders first, the directory that closes them last
        before = os.lstat(p)
        try:
            fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return
        try:
            opened = os.fstat(fd)
            if (opened.st_ino, opened.st_dev, opened.st_uid) != (before.st_ino, before.st_dev, uid):
                return  # replaced since it was looked at: judged as it now is
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
        after = os.lstat(p)
        if (
            not stat.S_ISDIR(after.st_mode)
            or after.st_ino != before.st_ino
            or after.st_uid != uid
            or stat.S_IMODE(after.st_mode) != 0o700
        ):
            raise CacheError(
                f"{what} {str(p)!r} changed while its mode was set to 0700. "
                "Set CORRIDOR_CACHE_DIR to a new directory."
            )


def _check_private(path: Path, what: str, *, strict: bool) -> None:
    fix = (
        f"If only you have ever written to it, run `chmod 700 {str(path)!r}`; otherwise "
        f"delete it, or set CORRIDOR_CACHE_DIR to a new directory (corridor creates it "
        f"with mode 0700)."
    )
    try:
        info = os.stat(path)  # a symbolic link is judged by the directory it points to
    except OSError as exc:
        raise CacheError(
            f"{what} {str(path)!r} cannot be read ({exc.strerror}). "
            "Set CORRIDOR_CACHE_DIR to a directory of your own."
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(
            f"{what} {str(path)!r} is not a directory. Remove it or set "
            "CORRIDOR_CACHE_DIR to a directory of your own."
        )
    uid = os.geteuid()
    if info.st_uid != uid:
        raise CacheError(
            f"{what} {str(path)!r} belongs to user id {info.st_uid}, not to you "
            f"({uid}); it holds code that is run, so only its owner may use it. "
            "Set CORRIDOR_CACHE_DIR to a directory of your own."
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & (0o077 if strict else 0o022):
        raise CacheError(
            f"{what} {str(path)!r} has mode {mode:04o}: other users could "
            f"{'read or ' if strict else ''}write the code kept there. {fix}"
        )
    if strict and mode != 0o700:
        # numba keeps its cache beside the module only in a directory it can write; else it
        # would fall back to a user-wide folder outside this check.
        raise CacheError(
            f"{what} {str(path)!r} has mode {mode:04o}; it must be 0700 (yours "
            f"to read, write and enter). Run `chmod 700 {str(path)!r}`."
        )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (:func:`write_atomic_bytes`, mode 0600)."""
    write_atomic_bytes(path, text.encode("utf-8"))


#: Buffers written as one file, in order (bytes, or e.g. a chunk's bytes and its checksum).
Contents = bytes | tuple[Any, ...]

_TEMPORARY = itertools.count()


def write_atomic_bytes(path: Path | str, contents: Contents, *, private: bool = True) -> None:
    """Write ``contents`` to ``path`` atomically: a temporary file beside it, renamed over it
    once written whole, removed if the write fails; a missing directory is made. The
    temporary's name is this process's id and a counter, created exclusively, so it is never
    another writer's file (no ``uuid4``'s random bytes, no ``mkstemp`` retries).

    The one writer of every file corridor puts on disk itself: the caches (``private``: mode
    0600, this user's) and a store's chunk and metadata files (``private=False``: 0666 less
    the umask, as zarr makes them, so a shared store stays readable by those it is shared
    with). A store's writes pass through :func:`engine.store.chunks.write_file`, which the
    disk-full tests refuse."""
    parts = (
        [memoryview(contents).cast("B")]
        if isinstance(contents, bytes)
        else [memoryview(part).cast("B") for part in contents]
    )
    tmp = f"{path}.{os.getpid()}-{next(_TEMPORARY)}.partial"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    mode = 0o600 if private else 0o666
    try:
        fd = os.open(tmp, flags, mode)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        fd = os.open(tmp, flags, mode)
    try:
        try:
            _write_all(fd, parts)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_all(fd: int, parts: list[memoryview]) -> None:
    """Write every byte of ``parts`` to ``fd`` in order (``writev`` may write fewer)."""
    parts = [part for part in parts if part.nbytes]
    while parts:
        written = os.writev(fd, parts) if len(parts) > 1 else os.write(fd, parts[0])
        while parts and written >= parts[0].nbytes:
            written -= parts[0].nbytes
            parts.pop(0)
        if parts and written:
            parts[0] = parts[0][written:]


def load_module(source: str, key: str, directory: Path) -> ModuleType:
    """Run the generated module ``source`` (already checked) as module ``corridor_kernels_<key>``.

    The code is compiled from ``source`` itself. The copy written to ``directory`` (rewritten
    when it differs) is what numba keys its on-disk cache on; it and any ``.pyc`` beside it are
    never executed.
    """
    path = directory / f"corridor_{key}.py"
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:
        write_atomic(path, source)
    code = compile(source, str(path), "exec", dont_inherit=True)
    name = f"corridor_kernels_{key}"
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(code, module.__dict__)  # the compiler's own text, shape-checked by engine.codecheck
    return module


# ------------------------------------------------------------------------- models as data
_UNARY = {"-", "not"}
_BINARY = {"+", "-", "*", "/", "**", "and", "or", "==", "!=", "<", "<=", ">", ">="}
_REDUCE = {"sum", "prod", "min", "max"}


def _expr_to_data(e: Expr) -> Any:
    if isinstance(e, Num):
        return ["Num", e.value]
    if isinstance(e, Ref):
        return ["Ref", e.name, None if e.subs is None else list(e.subs)]
    if isinstance(e, Time):
        return ["Time"]
    if isinstance(e, Unary):
        return ["Unary", e.op, _expr_to_data(e.operand)]
    if isinstance(e, Binary):
        return ["Binary", e.op, _expr_to_data(e.left), _expr_to_data(e.right)]
    if isinstance(e, Call):
        return ["Call", e.func, [_expr_to_data(a) for a in e.args]]
    if isinstance(e, Reduce):
        return ["Reduce", e.op, list(e.dims), _expr_to_data(e.body)]
    if isinstance(e, InlineLookup):
        return ["InlineLookup", list(e.xs), list(e.ys), _expr_to_data(e.arg)]
    raise TypeError(f"no data form for {type(e).__name__}")


def _str(x: Any) -> str:
    if not isinstance(x, str):
        raise ValueError(f"expected a string, got {type(x).__name__}")
    return x


def _strs(x: Any) -> tuple[str, ...]:
    if not isinstance(x, list):
        raise ValueError("expected a list")
    return tuple(_str(v) for v in x)


def _float(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError("expected a number")
    return float(x)


def _one_of(x: Any, allowed: set[str]) -> str:
    if x not in allowed:
        raise ValueError(f"unexpected operator {x!r}")
    return str(x)


def _expr_from_data(d: Any) -> Expr:
    if not isinstance(d, list) or not d:
        raise ValueError("expected an expression")
    tag = d[0]
    if tag == "Num":
        return Num(_float(d[1]))
    if tag == "Ref":
        return Ref(_str(d[1]), None if d[2] is None else _strs(d[2]))
    if tag == "Time":
        return Time()
    if tag == "Unary":
        return Unary(_one_of(d[1], _UNARY), _expr_from_data(d[2]))
    if tag == "Binary":
        return Binary(_one_of(d[1], _BINARY), _expr_from_data(d[2]), _expr_from_data(d[3]))
    if tag == "Call":
        return Call(_str(d[1]), tuple(_expr_from_data(a) for a in d[2]))
    if tag == "Reduce":
        return Reduce(_one_of(d[1], _REDUCE), _strs(d[2]), _expr_from_data(d[3]))
    if tag == "InlineLookup":
        return InlineLookup(
            tuple(_float(x) for x in d[1]), tuple(_float(y) for y in d[2]), _expr_from_data(d[3])
        )
    raise ValueError(f"unknown expression node {tag!r}")


def _pieces_to_data(pieces: list[Piece] | None) -> Any:
    if pieces is None:
        return None
    return [[list(p.subs), _expr_to_data(p.expr), [list(c) for c in p.exclude]] for p in pieces]


def _pieces_from_data(d: Any) -> list[Piece] | None:
    if d is None:
        return None
    return [
        Piece(_strs(subs), _expr_from_data(expr), tuple(_strs(c) for c in exclude))
        for subs, expr, exclude in d
    ]


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def model_to_data(model: Model) -> dict[str, Any] | None:
    """``model`` as JSON-ready data (its name excepted), or None when it holds something that
    has no plain data form (a prior given as a scipy distribution, say)."""
    variables = []
    for var in model.variables.values():
        if var.prior is not None or not all(_plain(v) for v in var.extra.values()):
            return None
        variables.append(
            {
                "name": var.name,
                "kind": var.kind,
                "dims": list(var.dims),
                "pieces": _pieces_to_data(var.pieces),
                "init": _pieces_to_data(var.init_pieces),
                "units": var.units,
                "doc": var.doc,
                "hidden": var.hidden,
                "inflows": list(var.inflows),
                "outflows": list(var.outflows),
                "rate": _pieces_to_data(var.rate),
                "non_negative": var.non_negative,
                "value": None
                if var.value is None
                else [list(np.shape(var.value)), np.ravel(var.value).tolist()],
                "bounds": list(var.bounds),
                "tables": None
                if var.tables is None
                else [[np.asarray(xs).tolist(), np.asarray(ys).tolist()] for xs, ys in var.tables],
                "extrapolate": var.extrapolate,
                "extra": dict(var.extra),
            }
        )
    return {
        "time_unit": model.time_unit,
        "start": model.start,
        "stop": model.stop,
        "dt": model.dt,
        "saveper": model.saveper,
        "doc": model.doc,
        "dims": [
            [d.name, list(d.elements), d.parent, {k: list(v) for k, v in d.mappings.items()}]
            for d in model.dims.values()
        ],
        "variables": variables,
        "shifts": [[s.stock, s.along, s.every, list(s.entry)] for s in model.shifts],
        "control": dict(model.control),
        "dynamic_control": model.dynamic_control,
        "source": model.source,
        "hidden_count": model._hidden_count,
    }


def _optional_float(x: Any) -> float | None:
    return None if x is None else _float(x)


def model_from_data(name: str, data: Any) -> Model:
    """The model ``model_to_data`` described, named ``name``; ValueError (or KeyError,
    TypeError) when ``data`` is not such a description."""
    if not isinstance(data, dict):
        raise ValueError("expected a model description")
    model = Model(
        name,
        _str(data["time_unit"]),
        start=_optional_float(data["start"]),
        stop=_optional_float(data["stop"]),
        dt=_optional_float(data["dt"]),
        saveper=_optional_float(data["saveper"]),
        doc=_str(data["doc"]),
    )
    for dim_name, elements, parent, mappings in data["dims"]:
        model.dims[_str(dim_name)] = Dimension(
            dim_name,
            _strs(elements),
            None if parent is None else _str(parent),
            {_str(k): _strs(v) for k, v in mappings.items()},
        )
    for v in data["variables"]:
        value = None
        if v["value"] is not None:
            shape, flat = v["value"]
            value = np.array([_float(x) for x in flat], dtype=float).reshape(
                tuple(int(n) for n in shape)
            )
        tables = None
        if v["tables"] is not None:
            tables = [
                (np.array([_float(x) for x in xs]), np.array([_float(y) for y in ys]))
                for xs, ys in v["tables"]
            ]
        extra = v["extra"]
        if not isinstance(extra, dict) or not all(_plain(x) for x in extra.values()):
            raise ValueError("unexpected extra fields")
        low, high = v["bounds"]
        var = Variable(
            _str(v["name"]),
            _one_of(v["kind"], set(KINDS)),
            _strs(v["dims"]),
            pieces=_pieces_from_data(v["pieces"]) or [],
            init_pieces=_pieces_from_data(v["init"]),
            units=_str(v["units"]),
            doc=_str(v["doc"]),
            hidden=bool(v["hidden"]),
            inflows=list(_strs(v["inflows"])),
            outflows=list(_strs(v["outflows"])),
            rate=_pieces_from_data(v["rate"]),
            non_negative=bool(v["non_negative"]),
            value=value,
            bounds=(_optional_float(low), _optional_float(high)),
            tables=tables,
            extrapolate=bool(v["extrapolate"]),
            extra={_str(k): x for k, x in extra.items()},
        )
        model.variables[var.name] = var
    model.shifts = [
        CohortShift(_str(stock), _str(along), _float(every), _strs(entry))
        for stock, along, every, entry in data["shifts"]
    ]
    model.control = {_str(k): _str(x) for k, x in data["control"].items()}
    model.dynamic_control = bool(data["dynamic_control"])
    model.source = _str(data["source"])
    model._hidden_count = int(data["hidden_count"])
    return model


def dumps_model(model: Model) -> str | None:
    """The JSON text of ``model`` (see :func:`model_to_data`), or None."""
    data = model_to_data(model)
    return None if data is None else json.dumps(data, allow_nan=True)
