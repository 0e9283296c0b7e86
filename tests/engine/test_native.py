"""engine.compiler.native: a large model's functions compiled from LLVM IR of our own give
numba's bits, fall back to numba for anything else, and are cached safely."""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
import types as pytypes
from pathlib import Path

import numpy as np
import pytest
from numba import njit, types

import engine
from engine import kernels
from engine.compiler import loading, native

ROOT = Path(__file__).resolve().parents[2]
SIGNATURE = types.void(types.float64, *[types.float64[::1]] * 4, types.float64, types.float64[::1])
N = 64  # elements of each array argument


@njit(error_model="numpy")
def _call(fn, t, y, p, a, z, h, dydt):
    fn(t, y, p, a, z, h, dydt)


def _module(source: str) -> pytypes.ModuleType:
    """A stand-in for a generated module: the test's own text run with the names a generated
    module has (numpy, the helpers, integer and unsigned constants)."""
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    module = pytypes.ModuleType(f"native_test_{key}")
    module.__dict__.update(np=np, njit=njit, NY=N, _U3=np.uint64(3), _U7=np.uint64(7))
    module.__dict__.update({name: getattr(kernels, name) for name in native.HELPERS})
    exec(compile(source, "<native test>", "exec"), module.__dict__)  # the test's own text
    kernels.typed(source)  # the offset helpers' one signature, as for a generated module
    return module


def _inputs(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-7, -1e-7, 1e300, 5e-324, -3.5])
    arrays = []
    for _ in range(5):
        x = rng.normal(0, 3, N)
        where = rng.random(N) < 0.2
        x[where] = rng.choice(special, where.sum())
        arrays.append(x)
    return arrays


def _run_both(source: str, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The function ``f`` of ``source`` run by numba and by the translation, on the same
    inputs: (numba's arrays, the translation's arrays) after the call."""
    module = _module(source)
    key = "t" + hashlib.sha256(source.encode()).hexdigest()[:23]
    compiled = native.compile_function(module, key, "f", SIGNATURE, source)
    assert compiled is not None, native.translate(
        native._function_def(source, "f"), vars(module), "probe", SIGNATURE
    )
    reference = njit(error_model="numpy")(module.f)
    y, p, a, z, dydt = _inputs(seed)
    theirs = [x.copy() for x in (y, p, a, z, dydt)]
    mine = [x.copy() for x in (y, p, a, z, dydt)]
    reference(0.75, theirs[0], theirs[1], theirs[2], theirs[3], 0.25, theirs[4])
    _call(compiled, 0.75, mine[0], mine[1], mine[2], mine[3], 0.25, mine[4])
    return theirs, mine


def _same_bits(theirs: list[np.ndarray], mine: list[np.ndarray]) -> bool:
    return all(t.tobytes() == m.tobytes() for t, m in zip(theirs, mine, strict=True))


def test_each_construct_gives_numbas_bits():
    """The constructs one by one, on inputs with NaN, infinities, signed zeros and subnormals."""
    source = textwrap.dedent(
        """
        def f(t, y, p, a, z, h, dydt):
            _u = min(y.shape[0] - NY, 0)
            acc = 0.0
            for i in range(0, 10 + _u):
                _x1 = np.uint64(i)
                _x2 = _x1 + _U3
                acc = acc + p[_x2] * y[i]
                a[_x2] = max(p[i], y[i]) + min(p[i], y[i], 0.5)
                a[i + 20] = max(p[i], 0) - min(1, y[i])
                dydt[i] = -p[i] if p[i] > y[i] else abs(y[i])
                dydt[i + 10] = np.exp(p[i]) + np.log(y[i]) + p[i] ** y[i]
                dydt[i + 40] = np.sqrt(p[i]) + np.sin(y[i]) * np.cos(p[i]) - np.tan(y[i])
                dydt[i + 50] = np.log10(p[i]) + np.arcsin(y[i]) + np.arccos(p[i]) + np.sqrt(i)
                z[i + 20] = np.arctan(y[i]) + np.sinh(p[i]) - np.cosh(y[i]) * np.tanh(p[i])
                dydt[i + 20] = _zidz(p[i], y[i]) + _step(t, h, p[i], y[i])
                dydt[i + 30] = (p[i] / y[i]) - (i / 3) + (7 / (i + 1))
                a[i + 40] = (p[i] != y[i]) or (p[i] <= y[i] and not (p[i] >= 0.0))
                if p[i] < y[i]:
                    a[i + 50] = p[i] == y[i]
                elif p[i]:
                    a[i + 50] += 2.5
                else:
                    a[i + 50] -= y[i]
            for k in range(9, 0, -2):
                w = min(max(p[k], -9.0), 9.0) if p[k] == p[k] else 0.0
                z[k] = z[k - 1] * h + float(k) + int(w)
            for k in range(3):
                z[-1 - k] = +z[k] - abs(k - 2) * 3
            z[np.uint64(40)] = acc + t
            z[41] = _lookup_extrapolate(p, 2, 5, y[7])
        """
    )
    for seed in range(4):
        theirs, mine = _run_both(source, seed)
        assert _same_bits(theirs, mine)


def test_fixed_delay_helpers_called_as_statements_give_numbas_bits():
    """The fixed delays' helpers (engine.kernels: they return nothing and write the arrays they
    are given), called as statements between reads and writes of the same arrays."""
    source = textwrap.dedent(
        """
        def f(t, y, p, a, z, h, dydt):
            z[0] = 6.0
            for e in range(2):
                a[10 + e] = abs(p[e]) * 3.0
            a[10] = p[6] * 0.0 / 0.0 if p[5] > 2.0 else a[10]  # a NaN delay time
            _delay_fixed_length(z, a, 10, 0, 2, h)
            for e in range(2):
                a[10 + e] = y[e]
            _delay_fixed_fill(z, a, 10, 0, 2)
            for k in range(5):
                _delay_fixed_read(z, a, 20, 0, 2)
                dydt[k] = a[20] + a[21] * 2.0
                for e in range(2):
                    a[10 + e] = p[k + e] + dydt[k]
                _delay_fixed_push(z, a, 10, 0, 2)
        """
    )
    for seed in range(6):
        theirs, mine = _run_both(source, seed)
        assert _same_bits(theirs, mine)


def test_index_tables_read_as_numba_freezes_them():
    """A module's global int64 and float64 arrays (the compiler's index tables ``T1``...)
    read as constants, with signed (negative ones wrapped) and unsigned indices; writing one
    is left to numba."""
    source = textwrap.dedent(
        """
        T1 = np.array([3, 0, 7, 5, 1], dtype=np.int64)
        T2 = np.array([0.5, -0.0, 1e300, 5e-324], dtype=np.float64)

        def f(t, y, p, a, z, h, dydt):
            for i in range(5):
                dydt[i] = p[T1[i]] + y[np.uint64(T1[i] + 1)]
                dydt[i + 5] = T2[i - 1] * p[i] + T1[-1 - i]
            dydt[10] = T2[np.uint64(3)] + T2[-2]
        """
    )
    for seed in range(3):
        theirs, mine = _run_both(source, seed)
        assert _same_bits(theirs, mine)
    written = source.replace("dydt[10] = T2", "T2[0] = 1.0\n    dydt[10] = T2")
    with pytest.raises(native.Unsupported):
        native.translate(
            native._function_def(written, "f"), vars(_module(source)), "probe", SIGNATURE
        )


def test_tables_numba_does_not_freeze_are_left_to_numba():
    """numba freezes a global array into the code only when it is a plain C-contiguous array of
    at most 1e6 bytes; a larger table, a strided view or a masked array it reads from the live
    buffer, and the translation leaves each such function to numba rather than freeze it."""
    source = textwrap.dedent(
        """
        T1 = np.array([3, 0, 7, 5, 1], dtype=np.int64)

        def f(t, y, p, a, z, h, dydt):
            for i in range(5):
                dydt[i] = p[T1[i]]
        """
    )
    module = _module(source)
    tree = native._function_def(source, "f")
    native.translate(tree, vars(module), "probe", SIGNATURE)  # the small table: translated
    base = np.arange(10, dtype=np.int64) % 7
    for table in (
        np.zeros(200_000, dtype=np.int64),  # 1.6e6 bytes
        base[::2],  # a view, not contiguous
        np.ma.MaskedArray(base[:5]),
    ):
        env = dict(vars(module), T1=table)
        with pytest.raises(native.Unsupported):
            native.translate(tree, env, "probe", SIGNATURE)


def test_corner_cases_give_numbas_bits():
    """A variable not assigned on the path taken reads zero (as numba's), a loop that runs no
    time leaves its variable unassigned, arithmetic on constants is CPython's (folded before
    numba reads it), a range near the int64 limit counts its values first."""
    source = textwrap.dedent(
        """
        def f(t, y, p, a, z, h, dydt):
            if t > 1.0:
                x = 1.5
            dydt[0] = x
            for i in range(int(h) - 1):
                w = y[i]
            dydt[1] = w
            dydt[2] = 9007199254740993 / 3
            dydt[3] = 2 ** 3 + 1.0 / 3.0 - (-0.0) + 7 // 2 + 7.5 % 2
            n = 0
            for k in range(9223372036854775806, 9223372036854775807, 5):
                n += 1
            dydt[4] = n
            for k in range(3, 10, 4):
                n += k
            dydt[5] = n + k
            for k in range(10, 3, -3):
                n -= k
            dydt[6] = n * k
        """
    )
    theirs, mine = _run_both(source)
    assert _same_bits(theirs, mine)
    assert theirs[4][:7].tolist() == [0.0, 0.0, 3002399751580331.0, 8 + 1 / 3 + 3 + 1.5, 1, 18, -40]


# ----------------------------------------------------------------------- random functions
class _Gen:
    """Random functions of the translated subset (the test's own text)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.floats = ["t", "h"]
        self.ints: list[str] = []
        self.count = 0

    def pick(self, options):
        return options[self.rng.integers(len(options))]

    def index(self) -> str:
        base = self.pick(self.ints) if self.ints and self.rng.random() < 0.7 else "0"
        offset = int(self.rng.integers(0, 20))
        kind = self.rng.integers(3)
        if kind == 0:  # loop counters are >= -3
            return f"np.uint64({base} + {offset + 3})"
        if kind == 1:
            return f"{base} - {offset}"  # may be negative: numba wraps it once
        return f"np.uint64({base} + 3) + _U7"

    def real(self, depth: int = 0) -> str:
        if depth > 3 or self.rng.random() < 0.3:
            kind = self.rng.integers(4)
            if kind == 0:
                return self.pick(["0.0", "-0.0", "1.5", "1e-07", "2.0", "3", "0"])
            if kind == 1 and self.floats:
                return self.pick(self.floats)
            return f"{self.pick(['y', 'p', 'a', 'z'])}[{self.index()}]"
        kind = self.rng.integers(12)
        a, b = self.real(depth + 1), self.real(depth + 1)
        if kind <= 3:
            return f"({a} {self.pick(['+', '-', '*', '/'])} {b})"
        if kind == 4:
            return f"(-{a})"
        if kind == 5:
            args = ", ".join(self.real(depth + 1) for _ in range(int(self.rng.integers(2, 4))))
            return f"{self.pick(['min', 'max'])}({args})"
        if kind == 6:
            return f"{self.pick(['abs', 'np.exp', 'np.log', 'np.sqrt', 'np.sin', 'np.tan'])}({a})"
        if kind == 7:
            return f"({a} ** ({b} * 1.0))"
        if kind == 8:
            return f"({a} * 1.0 if {self.condition(depth + 1)} else {b} * 1.0)"
        if kind == 9:
            return f"_zidz({a}, {b})"
        if kind == 10 and self.ints:
            return f"({a} * {self.pick(self.ints)})"
        return f"_step(t, h, {a}, {b})"

    def condition(self, depth: int) -> str:
        a, b = self.real(depth + 1), self.real(depth + 1)
        kind = self.rng.integers(4)
        test = f"({a} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {b})"
        if kind == 0:
            return f"({test} and {self.condition(depth + 2)})" if depth < 3 else test
        if kind == 1:
            return f"({test} or {self.condition(depth + 2)})" if depth < 3 else test
        if kind == 2:
            return f"(not {test})"
        return test

    def block(self, indent: str, depth: int) -> list[str]:
        lines: list[str] = []
        for _ in range(int(self.rng.integers(1, 5))):
            kind = self.rng.integers(6)
            if kind == 0 and depth < 3:
                self.count += 1
                var = f"i{self.count}"
                step = self.pick(["", ", 1", ", 2", ", -1"])
                bounds = "5, -3" if step == ", -1" else f"{int(self.rng.integers(0, 3))}, 6"
                lines.append(f"{indent}for {var} in range({bounds}{step}):")
                self.ints.append(var)
                lines += self.block(indent + "    ", depth + 1)
                self.ints.remove(var)
            elif kind == 1 and depth < 3:
                lines.append(f"{indent}if {self.condition(0)}:")
                lines += self.block(indent + "    ", depth + 1)
                lines.append(f"{indent}else:")
                lines += self.block(indent + "    ", depth + 1)
            elif kind == 2:
                self.count += 1
                var = f"v{self.count}"
                lines.append(f"{indent}{var} = {self.real()}")
                if depth == 0:  # defined on every path from here on
                    self.floats.append(var)
                else:
                    lines.append(f"{indent}a[{self.index()}] = {var}")
            elif kind == 3:
                op = self.pick(["+=", "-=", "*="])
                lines.append(
                    f"{indent}{self.pick(['a', 'dydt'])}[{self.index()}] {op} {self.real()}"
                )
            else:
                lines.append(
                    f"{indent}{self.pick(['a', 'dydt', 'z'])}[{self.index()}] = {self.real()}"
                )
        return lines


def _random_source(seed: int) -> str:
    gen = _Gen(np.random.default_rng(seed))
    return "def f(t, y, p, a, z, h, dydt):\n" + "\n".join(gen.block("    ", 0)) + "\n"


def test_random_functions_give_numbas_bits():
    """60 random functions of the subset (loops, branches, wrapped indices, every operator
    and call, NaN and signed zeros in the inputs): numba's bits in every array."""
    for seed in range(60):
        source = _random_source(seed)
        theirs, mine = _run_both(source, seed)
        assert _same_bits(theirs, mine), source


def test_random_functions_catch_a_wrong_translation(monkeypatch):
    """The random functions notice a translator that gets min/max's NaN order wrong (so the
    test above could fail)."""
    original = native._Translator.minmax

    def swapped(self, name, values):
        return original(self, "max" if name == "min" else "min", values)

    monkeypatch.setattr(native._Translator, "minmax", swapped)
    monkeypatch.setattr(native, "_DONE", {})
    monkeypatch.setattr(native, "_SELF_HASH", "mutated-translator")
    wrong = sum(not _same_bits(*_run_both(_random_source(seed), seed)) for seed in range(100, 120))
    assert wrong > 0


# ----------------------------------------------------------------------- what falls back
@pytest.mark.parametrize(
    "body",
    [
        "a[0] = p[0] % 2.0",  # Python's modulo: numba's own
        "a[0] = p[0] ** 2",  # an integer exponent: numba multiplies
        "a[0] = np.uint64(1) + 2",  # uint64 with int64: float64 in numba
        "x = 1\n    x = 1.5\n    a[0] = x",  # a variable of two types
        "while p[0] > 0:\n        p[0] -= 1",
        "for k in (1, 2):\n        a[k] = 1.0",
        "x, w = p[0], p[1]",
        "a[0] = 1.0 if 0 < p[0] < 1 else 0.0",  # a chained comparison
        "a[0] = np.sign(p[0])",
        "_zidz(p[0], p[1]) + 1.0",  # an expression as a statement
        "print(p[0])",
        "_delay_fixed_push(z, a, 10, 0, k=2)",
        "a[0] = np.sqrt(p[0] > 0)",  # of a boolean
        "a[0] = len(p)",
        "return 1",
        "a[0] = p[0:2].sum()",
        "for k in range(p.shape[0], 0, h):\n        a[0] = 1.0",
        "a[0] = 5 if p[0] > 0 else 1.5",  # branches of two types
        "a[0] = 4611686018427387904 * 2",  # folded by CPython: a uint64 constant to numba
        "a[0] = float(p[0] > 0)",  # numba has no float(bool)
        "a[0] = p.shape[False]",
    ],
)
def test_anything_else_is_left_to_numba(body):
    source = f"def f(t, y, p, a, z, h, dydt):\n    {body}\n"
    tree = ast.parse(source).body[0]
    with pytest.raises(native.Unsupported):
        native.translate(tree, vars(_module("")), "probe", SIGNATURE)


@pytest.mark.parametrize(
    "decorator",
    ["@njit", "@njit(fastmath=True)", '@njit(error_model="python")', "@njit(boundscheck=True)"],
)
def test_njit_options_that_change_results_are_left_to_numba(decorator):
    source = f"{decorator}\ndef f(t, y, p, a, z, h, dydt):\n    a[0] = p[0] / p[1]\n"
    with pytest.raises(native.Unsupported):
        native.translate(ast.parse(source).body[0], vars(_module("")), "probe", SIGNATURE)
    plain = '@njit(cache=True, error_model="numpy", no_cpython_wrapper=True)\n'
    tree = ast.parse(plain + source.split("\n", 1)[1]).body[0]
    native.translate(tree, vars(_module("")), "p", SIGNATURE)


def test_the_arguments_are_the_signatures():
    """The IR takes what numba's C wrapper takes for the signature loading gives, checked
    against the function's arguments: another signature is left to numba."""
    tree = ast.parse("def f(t, y, p, a, z, h, dydt):\n    a[0] = t\n").body[0]
    env = vars(_module(""))
    ir_text, _ = native.translate(tree, env, "ok", SIGNATURE)
    assert "(double %a.t, {ptr, ptr, i64, i64, ptr, [1 x i64], [1 x i64]} %a.y," in ir_text
    for wrong in (
        types.void(*SIGNATURE.args[:-1]),
        types.void(types.int32, *SIGNATURE.args[1:]),
        types.void(types.float64[:, ::1], *SIGNATURE.args[1:]),
    ):
        with pytest.raises(native.Unsupported):
            native.translate(tree, env, "wrong", wrong)


def test_a_function_that_does_not_translate_is_compiled_by_numba(monkeypatch):
    """A large model whose functions do not all translate mixes both kinds of pointer, with
    the bits of numba's alone."""
    from engine.compiler import assembly
    from tests.engine.test_compiler import _nested_model

    monkeypatch.setattr(assembly, "_INLINE_LINES", 0)  # every model counts as large
    monkeypatch.setattr(assembly, "_CHUNK_LINES", 5)
    monkeypatch.setattr(loading, "NATIVE", False)
    reference = engine.Runner(_nested_model()).run_arrays()
    loading._COMPILED.clear()
    monkeypatch.setattr(loading, "NATIVE", True)
    translate = native.translate

    def refuse_init(fdef, env, symbol, signature):
        if fdef.name == "init":
            raise native.Unsupported("a test refuses init")
        return translate(fdef, env, symbol, signature)

    monkeypatch.setattr(native, "translate", refuse_init)
    monkeypatch.setattr(native, "_DONE", {})
    monkeypatch.setattr(native, "_SELF_HASH", "test-refuses-init")
    runner = engine.Runner(_nested_model())
    kinds = {type(f).__name__ for f in runner.result.functions()}
    assert kinds == {"Native", "_Pointer"}
    assert runner.run_arrays().tobytes() == reference.tobytes()
    loading._COMPILED.clear()


def test_a_failing_code_generator_warns_and_leaves_the_function_to_numba(monkeypatch):
    """Should LLVM refuse the translation (a translator bug, another numba), the user gets a
    warning and numba's compile, not an error."""

    def refuse(text):
        raise RuntimeError("LLVM refuses this IR")

    monkeypatch.setattr(native.ll, "parse_assembly", refuse)
    monkeypatch.setattr(native, "_DONE", {})
    source = "def f(t, y, p, a, z, h, dydt):\n    a[0] = p[0] + 1.0\n"
    with pytest.warns(RuntimeWarning, match="could not be compiled from its LLVM IR"):
        found = native.compile_function(_module(source), "refused", "f", SIGNATURE, source)
    assert found is None


def test_a_cache_that_cannot_be_written_costs_only_the_next_compile(monkeypatch):
    def refuse(path, data):
        raise OSError("read-only file system")

    monkeypatch.setattr(native, "write_atomic_bytes", refuse)
    monkeypatch.setattr(native, "_DONE", {})
    source = "def f(t, y, p, a, z, h, dydt):\n    a[0] = p[0] * 2.0\n"
    theirs, mine = _run_both(source)
    assert _same_bits(theirs, mine)


def test_helpers_called_never_raise():
    """The helpers a translated function may call (their status is not read) contain no
    raise, nor do the helpers of engine.kernels they call."""
    names = {name for name, value in vars(kernels).items() if hasattr(value, "py_func")}
    seen: set[str] = set()
    todo = list(native.HELPERS)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in names, name
        text = inspect.getsource(getattr(kernels, name).py_func)
        assert not re.search(r"\braise\b", text), name
        todo += [n for n in re.findall(r"\b(_\w+)\(", text) if n in names]
    assert {"_lookup", "_zidz"} <= seen


# ----------------------------------------------------------------------- the cache
_CACHE_SCRIPT = """
import sys
import numpy as np
import engine
from engine.compiler import loading, native
from tests.engine.test_native import _nested_large
translate = native.translate
calls = []
def counted(fdef, env, symbol, signature):
    calls.append(fdef.name)
    return translate(fdef, env, symbol, signature)
native.translate = counted
runner = _nested_large()
out = runner.run_arrays()
kinds = ",".join(sorted({type(f).__name__ for f in runner.result.functions()}))
print(len(calls), kinds, out.tobytes().hex()[:64], np.isfinite(out).all())
"""


def _nested_large():
    """The nested test model compiled as a large model (functions through pointers)."""
    from engine.compiler import assembly
    from tests.engine.test_compiler import _nested_model

    assembly._INLINE_LINES = 0
    assembly._CHUNK_LINES = 5
    return engine.Runner(_nested_model())


def test_object_code_is_cached_checked_and_rewritten(tmp_path):
    """A second process loads the functions' object code (no translation); a cached file
    changed by a byte is ignored and written again; the bits are the same each time."""
    env = {**os.environ, "CORRIDOR_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _CACHE_SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    first = run()
    assert int(first[0]) > 0 and first[1] == "Native" and first[3] == "True"
    files = sorted((tmp_path / "cache").glob("*.native"))
    assert files
    second = run()
    assert second[0] == "0" and second[2:] == first[2:]
    data = bytearray(files[0].read_bytes())
    data[-10] ^= 0xFF
    files[0].write_bytes(bytes(data))
    third = run()
    assert third[0] == "1" and third[2:] == first[2:]
    assert files[0].read_bytes() != bytes(data)  # written again, whole
    assert native._read(files[0], "not this magic", "x") is None


@pytest.mark.slow(seconds=60)
def test_bundled_large_model_every_output_same_bits(monkeypatch):
    """The migration system, every output, base and perturbed parameters: the translated
    functions give numba's bits."""
    from models import migration_system

    model = migration_system.build()
    rng = np.random.default_rng(3)
    results = {}
    for flag in (False, True):
        loading._COMPILED.clear()
        model.__dict__.pop("_compiled_cache", None)
        monkeypatch.setattr(loading, "NATIVE", flag)
        runner = engine.Runner(model)
        kinds = {type(f).__name__ for f in runner.result.functions()}
        assert kinds == ({"Native"} if flag else {"_Pointer"})
        base = runner.parameters({})
        rows = [base]
        for _ in range(2):
            row = base.copy()
            pick = rng.choice(row.size, size=min(100, row.size), replace=False)
            row[pick] *= rng.uniform(0.9, 1.1, pick.size)
            rows.append(row)
        results[flag] = [runner.run_arrays(row).tobytes() for row in rows]
        rng = np.random.default_rng(3)
    loading._COMPILED.clear()
    assert results[True] == results[False]
