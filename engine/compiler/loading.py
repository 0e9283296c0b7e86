"""Compiled models: the in-process caches (by model content hash and by source hash) and
loading a generated module once its shape is checked (:mod:`engine.codecheck`) from the
private cache directory (:mod:`engine.cache`)."""

from __future__ import annotations

import hashlib
import inspect
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
from numba.core import types
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.extending import typeof_impl

from .. import kernels, solvers
from ..cache import cache_dir, load_module
from ..codecheck import check_module
from ..errors import SpecError
from ..graph import Plan, build_plan
from ..spec import Model
from . import native, typing_memo
from .assembly import generate_source

_LOCK = threading.Lock()
#: Compile a large model's pointer-called functions from LLVM IR of our own where they
#: translate (engine.compiler.native); False: numba compiles them all (for comparisons).
NATIVE = True
_LOADED: dict[str, ModuleType] = {}  # by source hash
_COMPILED: dict[tuple[str, bool], CompiledModel] = {}  # by (model content hash, fuse)


class Memo:
    """A small in-process cache: at most ``size`` entries, the least recently used dropped
    first; safe to share between threads (a Runner may be)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._items.pop(key, None)
            if value is not None:
                self._items[key] = value
            return value

    def put(self, key: Any, value: Any) -> Any:
        """Keep ``value`` for ``key``; returns it."""
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self.size:
                del self._items[next(iter(self._items))]
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class CompiledModel:
    """A model compiled to numba kernels, with the layout needed to use them.

    Attributes
    ----------
    model : Model
    plan : Plan
        Where every variable lives in the flat arrays.
    source : str
        The generated Python source (inspect it to see what runs).
    module : module
        The loaded kernel module.
    key : str
        Hash of the source (the disk-cache key).
    p0 : ndarray
        The default parameter vector (parameter values and lookup tables).
    compile_seconds : float
        Time spent generating, loading and compiling (or loading from the disk cache).
    layouts, flags, settings : Memo
        What preparing a run works out for this model, kept for the next Runner
        (:mod:`engine.simulation`): output layouts by the outputs asked for, output-only
        flags by the output columns, run settings by the times asked for.
    """

    model: Model
    plan: Plan
    source: str
    module: ModuleType
    key: str
    p0: np.ndarray
    controls: dict[str, int]
    compile_seconds: float = 0.0
    layouts: Memo = field(default_factory=lambda: Memo(64), repr=False, compare=False)
    flags: Memo = field(default_factory=lambda: Memo(64), repr=False, compare=False)
    settings: Memo = field(default_factory=lambda: Memo(256), repr=False, compare=False)
    _functions: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def discrete(self) -> bool:
        """True when the model has discrete updates (fixed delays, cohort shifts)."""
        return bool(self.controls.get("_discrete", 0))

    def check_method(self, method: str) -> None:
        """Raise SpecError if the model cannot run with solver ``method``."""
        name = self.model.name
        if method == "rk45" and self.discrete:
            raise SpecError(
                f"model {name!r} has discrete updates (fixed delays or cohort shifts), which "
                "need fixed steps; use method='euler' or 'rk4'."
            )
        if method != "euler" and self.controls.get("_process"):
            raise SpecError(
                f"model {name!r} has stochastic processes (ar1, random_walk), which take one "
                "draw per fixed Euler step; use method='euler'."
            )

    @property
    def draws(self) -> bool:
        """True when the model draws random numbers (its parameter vector ends in the key)."""
        return "_seed" in self.controls

    def keyed(self, P: np.ndarray, seed: int, members: np.ndarray | int = 0) -> np.ndarray:
        """``P`` (one parameter vector, or one a row) with the key of the model's random draws
        written in: the run's ``seed`` and the ensemble member(s). A draw depends only on
        these, the time, the call site and the element (:mod:`engine.kernels`); a model
        without draws is returned unchanged."""
        offset = self.controls.get("_seed")
        if offset is not None:
            P[..., offset] = float(seed)
            P[..., offset + 1] = np.asarray(members, dtype=float)
        return P

    def runner(self, method: str) -> Any:
        """The solver kernel ``run_<method>`` (called with the arguments of
        :mod:`engine.solvers`)."""
        return self._kernel("run_", method)

    def members(self, method: str) -> Any:
        """The ensemble kernel ``run_members_<method>``."""
        return self._kernel("run_members_", method)

    def _kernel(self, prefix: str, method: str) -> Any:
        if method not in solvers.METHODS:
            raise SpecError(f"unknown method {method!r}; choose one of {solvers.METHODS}.")
        kernel = getattr(self.module, prefix + method)
        # A large model's Euler kernels call its functions through pointers (see
        # engine.compiler.assembly._by_pointer): they take the functions as a last argument.
        if method != "euler" or not any(name.startswith("_fn:") for name in self.controls):
            return kernel
        return _WithFunctions(kernel, self.functions())

    def functions(self) -> tuple[Any, ...]:
        """The functions a large model's Euler kernels call through pointers, compiled (or
        loaded from numba's cache) on first use: first-class function objects in the order
        of the ``_fn:<name>`` controls."""
        if self._functions is None:
            named = sorted(
                (k, name[len("_fn:") :])
                for name, k in self.controls.items()
                if name.startswith("_fn:")
            )
            with typing_memo.memo():
                self._functions = tuple(self._pointer(name) for _, name in named)
        return self._functions

    def _pointer(self, name: str) -> Any:
        """The function ``name`` compiled by :mod:`engine.compiler.native` when it translates
        (and :data:`NATIVE` is on), else by numba; as a first-class function."""
        dispatcher = getattr(self.module, name)
        if NATIVE:
            compiled = native.compile_function(
                self.module, self.key, name, _signature(dispatcher), self.source
            )
            if compiled is not None:
                return compiled
        return _first_class(dispatcher)


class _WithFunctions:
    """A kernel called with the functions it calls through pointers as its last argument."""

    def __init__(self, kernel: Any, functions: tuple[Any, ...]) -> None:
        self.kernel = kernel
        self.functions = functions

    def __call__(self, *args: Any) -> Any:
        return self.kernel(*args, self.functions)


# The types of the generated functions' arguments, by name: the time and the step size are
# floats, a step number an integer, everything else a contiguous float64 array (y, p, a, z,
# dydt).
_ARGUMENT_TYPES = {"t": "float64", "h": "float64", "step": "int64"}


class _Pointer(types.WrapperAddressProtocol):
    """A compiled generated function as a numba first-class function: a kernel given it calls
    its machine code (its C wrapper) through a pointer rather than linking its code. Its numba
    type is made once (numba's own :class:`~numba.core.types.CompileResultWAP` makes it at
    every kernel call, ~13 us a function)."""

    def __init__(self, result: Any) -> None:
        self.result = result  # keeps the machine code alive
        self.address = result.library.get_pointer_to_function(result.fndesc.llvm_cfunc_wrapper_name)
        self.type = types.FunctionType(result.signature)

    def __wrapper_address__(self) -> int:
        return int(self.address)

    def signature(self) -> Any:
        return self.result.signature


# numba warns, when compiling a kernel that calls first-class functions, that the feature is
# experimental; the engine uses it for the calls above only (tested bit for bit against direct
# calls), so that warning, and no other, is not shown to users.
warnings.filterwarnings(
    "ignore",
    message="First-class function type feature is experimental",
    category=NumbaExperimentalFeatureWarning,
)


@typeof_impl.register(_Pointer)
def _typeof_pointer(value: _Pointer, context: Any) -> Any:
    return value.type


def _signature(dispatcher: Any) -> Any:
    """The one signature of ``dispatcher`` (a generated function), by its arguments' names."""
    names = list(inspect.signature(dispatcher.py_func).parameters)
    return types.void(
        *(
            getattr(types, _ARGUMENT_TYPES[name]) if name in _ARGUMENT_TYPES else types.float64[::1]
            for name in names
        )
    )


def _first_class(dispatcher: Any) -> _Pointer:
    """``dispatcher`` (a generated function) compiled (or loaded from numba's cache) for its
    one signature, as a first-class function."""
    return _Pointer(dispatcher.get_compile_result(_signature(dispatcher)))


def compile_model(
    model: Model,
    *,
    method: str | None = "euler",
    fuse: bool = True,
    on_compile: Callable[[], None] | None = None,
) -> CompiledModel:
    """Compile ``model`` (or fetch it from the in-process and disk caches).

    ``method`` names the solver to compile eagerly (None: compile lazily at first use).
    ``fuse=False`` compiles without loop fusion (:mod:`engine.compiler.fusion`): the same
    results bit for bit, more loops, a slower numba compile; for comparisons.
    ``on_compile`` is called before compiling kernels that are in neither cache (the command
    line says so: a first run of a large model takes a minute).
    """
    started = time.perf_counter()
    content = (model.content_hash(), fuse)
    with _LOCK:
        cached = _COMPILED.get(content)
    if cached is not None and cached.model is model:
        return cached
    plan = build_plan(model)
    source, p0, controls = generate_source(plan, fuse=fuse)
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    if on_compile is not None and key not in _LOADED and not _on_disk(source, key):
        on_compile()
    with _LOCK:
        module = _load_module(source, key, model.name)
    compiled = CompiledModel(model, plan, source, module, key, p0, controls)
    if method is not None:
        _warm(compiled, method)
    compiled.compile_seconds = time.perf_counter() - started
    with _LOCK:
        _COMPILED[content] = compiled
    return compiled


def _on_disk(source: str, key: str) -> bool:
    """True when the kernel module of ``source`` was written to the cache before (numba's
    cache of it beside it): loading it takes seconds, not a compile."""
    path = cache_dir() / f"corridor_{key}.py"
    try:
        return path.read_text(encoding="utf-8") == source
    except (OSError, UnicodeDecodeError):
        return False


def _warm(compiled: CompiledModel, method: str) -> None:
    """Trigger numba compilation (or cache loading) of ``method``'s kernels with a 0-step run."""
    sizes = compiled.plan.sizes
    y = np.zeros(sizes["y"])
    a = np.zeros(sizes["a"])
    z = discrete_state(compiled, 0)
    info = np.zeros(solvers.Info.SIZE)
    out = np.zeros((2, 0))
    save = np.ones(1, dtype=np.int64)
    with np.errstate(all="ignore"), typing_memo.memo():
        compiled.runner(method)(
            compiled.p0.copy(),
            y,
            a,
            z,
            0.0,
            1.0,
            0,
            save,
            np.zeros((0, 4), dtype=np.int64),
            out,
            info,
        )


def discrete_state(compiled: CompiledModel, n_steps: int) -> np.ndarray:
    """The ``z`` array for a run of ``n_steps``: a fixed-delay pipeline per element, each
    able to hold the whole run (z[0] is that capacity)."""
    count = compiled.controls.get("_zcount", 0)
    cap = n_steps + 1
    z = np.zeros(1 + count * (cap + 2))
    z[0] = cap
    return z


def _load_module(source: str, key: str, model_name: str) -> ModuleType:
    """The kernel module of ``source``: shape-checked, then run from this very text."""
    module = _LOADED.get(key)
    if module is not None:
        return module
    check_module(source, kernels.NAMES, model=model_name)
    # the helpers taking integer offsets typed once for every model (kernels.typed), before
    # numba compiles (or loads) the module's functions
    kernels.typed(source)
    module = load_module(source, key, cache_dir())
    _LOADED[key] = module
    return module
