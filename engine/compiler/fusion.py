"""Loop fusion of generated code."""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import cache_subdir, write_atomic
from ..errors import CacheError

# ------------------------------------------------------------------------------ loop fusion
# Every subscripted variable is its own loop nest. Numba's compile time grows with the number
# of loops far more than with their bodies (a model of 14 subscripted delays: 36 s to 9 s), so
# adjacent nests over the same ranges are fused when that cannot change a result, checked
# element by element (see _Accesses). Anything else (temporaries, inner loops, conditional
# statements, indices that are not integer arithmetic of the loop variables) keeps its loop.
_FOR = re.compile(r"^for (\w+) in range\((\d+), (\d+)\):$")
_SIMPLE = re.compile(r"^(\w+)\[([^\[\]=]+)\] = (.*)$")
_INDEXED = re.compile(r"\b(\w+)\[([^\[\]]*)\]")
_LEADING = re.compile(r"^(\d+) \+ (.+)$")
_WHOLE = re.compile(r"\b(a|y|z|dydt)\b(?!\[)")
_FLAT = re.compile(r"^    for i in range\((\d+), (\d+)\):$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _loop_items(lines: list[str]) -> list[list[Any]]:
    """Body lines (indent 4) as ["loop", headers, body, comments] or ["other", lines]."""
    items: list[list[Any]] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        if _indent(line) == 4 and _FOR.match(line.strip()):
            j = k + 1
            while j < len(lines) and _indent(lines[j]) > 4:
                j += 1
            headers, rest, level = [line], lines[k + 1 : j], 8
            while (
                rest
                and _indent(rest[0]) == level
                and _FOR.match(rest[0].strip())
                and all(_indent(x) > level for x in rest[1:])
            ):
                headers.append(rest[0])
                rest = rest[1:]
                level += 4
            items.append(["loop", tuple(headers), list(rest), []])
            k = j
        else:
            items.append(["other", [line]])
            k += 1
    return items


def _integer_arithmetic(tree: ast.AST, env: Any, ops: Mapping[Any, Any]) -> Any:
    """The value of an index expression's tree: integer literals, the names of ``env``, unary
    minus and the binary operators of ``ops`` (applied to the operands' values: integers, or
    arrays of them); None for anything else, or where an operator gives None."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name) and node.id in env:
            return env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = value(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            left, right = value(node.left), value(node.right)
            if left is None or right is None:
                return None
            return ops[type(node.op)](left, right)
        return None

    return value(tree)


class _Accesses:
    """Which elements the statements of a fused loop body write and read, at which iteration.

    Index expressions are evaluated over the loop's iterations (parsed with :mod:`ast`, only
    integer arithmetic of the loop variables). A statement joins the loop when, for every
    element, a read still sees the value the unfused code saw: a value an earlier statement
    writes only at the same or an earlier iteration; a value an earlier statement reads only
    at the same or an earlier iteration than this one overwrites it; nothing written twice.
    """

    def __init__(self, headers: tuple[str, ...]) -> None:
        ranges, names = [], []
        for header in headers:
            m = _FOR.match(header.strip())
            assert m is not None
            names.append(m.group(1))
            ranges.append(np.arange(int(m.group(2)), int(m.group(3)), dtype=np.int64))
        grids = np.meshgrid(*ranges, indexing="ij") if ranges else []
        self.grid = {n: g.ravel() for n, g in zip(names, grids)}
        size = int(np.prod([r.size for r in ranges])) if ranges else 0
        self.iteration = np.arange(size, dtype=np.int64)
        self.writes: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.reads: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.opaque: set[str] = set()  # arrays read at indices not understood
        self.known: dict[str, np.ndarray | None] = {}

    def _index(self, text: str) -> np.ndarray | None:
        """The element index ``text`` gives at every iteration (None: not understood)."""
        text = text.strip()
        base = 0
        m = _LEADING.match(text)
        if m is not None:  # "offset + rest": the rest recurs across variables
            base, text = int(m.group(1)), m.group(2)
        if text not in self.known:
            self.known[text] = self._evaluate(text)
        found = self.known[text]
        return None if found is None else found + base

    def _evaluate(self, text: str) -> np.ndarray | None:
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError:
            return None
        ops = {
            ast.Add: np.add,
            ast.Sub: np.subtract,
            ast.Mult: np.multiply,
            ast.FloorDiv: np.floor_divide,
            ast.Mod: np.mod,
        }

        out = _integer_arithmetic(tree, self.grid, ops)
        if out is None:
            return None
        return np.zeros(self.iteration.shape, dtype=np.int64) + out

    @staticmethod
    def _table(
        table: dict[str, list[tuple[np.ndarray, np.ndarray]]], array: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(elements, iterations) of ``array`` in ``table``, sorted by element."""
        parts = table[array]
        if len(parts) > 1:
            elements = np.concatenate([e for e, _ in parts])
            when = np.concatenate([w for _, w in parts])
            order = np.argsort(elements, kind="stable")
            parts[:] = [(elements[order], when[order])]
        else:
            elements, when = parts[0]
            if np.any(elements[1:] < elements[:-1]):
                order = np.argsort(elements, kind="stable")
                parts[:] = [(elements[order], when[order])]
        return parts[0]

    def add(self, body: list[str], check: bool = True) -> bool:
        """Take ``body`` (one original loop's statements) if that is safe; else change nothing."""
        writes: list[tuple[str, np.ndarray]] = []
        reads: list[tuple[str, np.ndarray]] = []
        opaque: set[str] = set()
        for line in body:
            m = _SIMPLE.match(line.strip())
            if m is None:
                return False
            target = self._index(m.group(2))
            if target is None:
                return False
            if np.unique(target).size != target.size:
                return False
            writes.append((m.group(1), target))
            opaque.update(_WHOLE.findall(m.group(3)))  # an array passed whole
            for access in _INDEXED.finditer(m.group(3)):
                index = self._index(access.group(2))
                if index is None:
                    opaque.add(access.group(1))
                else:
                    reads.append((access.group(1), index))
        if check:
            for array in opaque:
                if array in self.writes:
                    return False
            for array, elements in reads:  # read after write: written at iteration <= now
                if array not in self.writes:
                    continue
                done, when = self._table(self.writes, array)
                at = np.minimum(np.searchsorted(done, elements), done.size - 1)
                hit = done[at] == elements
                if np.any(when[at[hit]] > self.iteration[hit]):
                    return False
            for array, elements in writes:
                if array in self.opaque:
                    return False
                if array in self.writes:
                    done, _ = self._table(self.writes, array)
                    at = np.minimum(np.searchsorted(done, elements), done.size - 1)
                    if np.any(done[at] == elements):
                        return False  # written twice
                if array in self.reads:  # write after read: read at iteration <= now
                    seen, when = self._table(self.reads, array)
                    order = np.argsort(elements, kind="stable")
                    mine, mine_when = elements[order], self.iteration[order]
                    at = np.minimum(np.searchsorted(mine, seen), mine.size - 1)
                    hit = mine[at] == seen
                    if np.any(when[hit] > mine_when[at[hit]]):
                        return False
        for array, elements in writes:
            self.writes.setdefault(array, []).append((elements, self.iteration))
        for array, elements in reads:
            self.reads.setdefault(array, []).append((elements, self.iteration))
        self.opaque |= opaque
        return True


def fuse_loops(lines: list[str], independent: bool = False) -> list[str]:
    """Fuse adjacent loop nests of ``lines`` where it is safe (see above).

    ``independent`` says every statement writes only its own variable's slots and reads none
    another writes (the stock updates), so one-level loops over adjacent ranges with the same
    body also become one loop.
    """
    out: list[list[Any]] = []
    comments: list[str] = []
    accesses: _Accesses | None = None
    for item in _loop_items(lines):
        if item[0] == "other" and item[1][0].lstrip().startswith("#"):
            comments += item[1]
            continue
        last = out[-1] if out else None
        if item[0] == "loop" and last is not None and last[0] == "loop":
            if last[1] == item[1] and accesses is not None and accesses.add(item[2]):
                last[2] += item[2]
                last[3] += comments
                comments = []
                continue
            m1, m2 = _FLAT.match(last[1][0]), _FLAT.match(item[1][0])
            if (
                independent
                and len(last[1]) == len(item[1]) == 1
                and m1
                and m2
                and m1.group(2) == m2.group(1)
                and last[2] == item[2]
            ):
                last[1] = (f"    for i in range({m1.group(1)}, {m2.group(2)}):",)
                last[3] += comments
                comments = []
                accesses = None
                continue
        if item[0] == "loop":
            item[3] = comments
            accesses = _Accesses(item[1])
            if not accesses.add(item[2], check=False):
                accesses = None
        else:
            item[1] = comments + item[1]
            accesses = None
        comments = []
        out.append(item)
    result: list[str] = []
    for item in out:
        result += (item[3] + list(item[1]) + item[2]) if item[0] == "loop" else item[1]
    return result + comments


# ------------------------------------------------------------------------- the fused Euler step
# At an Euler step that saves nothing, the rates and the update ``y += h * rate`` can run in
# one pass over the elements (fuse_step): each stock element is updated in the same iteration
# that computes its flows, while they are in registers. Whether that is safe is decided
# element by element (_same_dependences): every value a statement reads must come from the
# same statement instance as in the unfused step (or from before the step), and every element
# must end with the same writer. The statements are unchanged and run the same operations on
# the same values, so the step is bit-identical. Loops that read a stock element at a lower
# index than the one they write (an ageing chain's ``x[age - 1]``) are run backwards so that
# they still read it before its update.
_SCALAR = re.compile(r"^(\w+) = (-?\d+)$")
_STATEMENT = re.compile(r"^(\w+)\[([^\[\]=]+)\] (\+)?= (.*)$")
# Statements of more elements than this are not analysed (the fused step is for small models).
_STEP_INSTANCES = 200_000
# At most this many elements outside the common range of a fused loop, run as scalar code.
_STEP_LEFTOVERS = 16
_FUSED_VAR = "fk"


class _Block:
    """One variable's statements over its elements: ``instances`` (value of ``var``, lines) in
    the unfused order; ``loop`` (lo, hi, lines) the loop that ran them (None: scalar code)."""

    def __init__(self, var: str | None, instances: list[tuple[int, list[str]]], loop: Any):
        self.var, self.instances, self.loop = var, instances, loop
        self.shift = 0


def _step_blocks(lines: list[str]) -> tuple[list[str], list[_Block], list[str]] | None:
    """(prefix, blocks, comments): the trailing statements of ``lines`` that can be analysed,
    as blocks, after the code (prefix) that cannot (nested loops, conditions, temporaries)."""
    items = _loop_items(lines)
    blocks: list[_Block] = []
    comments: list[str] = []
    start = 0  # first item of the analysable tail
    pending: _Block | None = None

    hoisted: list[str] = []  # code moved before the blocks it commutes with

    def barrier(k: int) -> None:
        nonlocal start, pending
        pending = None
        code = items[k][1] if items[k][0] == "other" else items[k][3] + list(items[k][1])
        code = code + ([] if items[k][0] == "other" else items[k][2])
        if blocks and _commutes(code, blocks):
            hoisted.extend(code)
            return
        blocks.clear()
        comments.clear()
        hoisted.clear()
        start = k + 1

    for k, item in enumerate(items):
        if item[0] == "other":
            line = item[1][0]
            text = line.strip()
            if text.startswith("#"):
                comments.append(line)
                continue
            scalar = _SCALAR.match(text)
            if _indent(line) == 4 and scalar:
                pending = _Block(scalar.group(1), [(int(scalar.group(2)), [])], None)
                blocks.append(pending)
            elif _indent(line) == 4 and _STATEMENT.match(text):
                if pending is None:
                    pending = _Block(None, [(0, [])], None)
                    blocks.append(pending)
                pending.instances[0][1].append(line)
            else:
                barrier(k)
            continue
        headers, body = item[1], item[2]
        found = _FOR.match(headers[0].strip()) if len(headers) == 1 else None
        if (
            found is None
            or not body
            or not all(_indent(b) == 8 and _STATEMENT.match(b.strip()) for b in body)
        ):
            barrier(k)
            continue
        var, lo, hi = found.group(1), int(found.group(2)), int(found.group(3))
        instances = [(v, body) for v in range(lo, hi)]
        block = _Block(var, instances, (lo, hi, body))
        # a peeled element of the same variable just before (expressions.py writes the
        # elements whose reference falls outside the dimension as scalar code)
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and last.loop is None
            and last.var == var
            and len(last.instances) == 1
            and last.instances[0][0] in (lo - 1, hi)
            and _targets(last.instances[0][1]) == _targets(body)
        ):
            blocks[-1] = _Block(var, last.instances + instances, (lo, hi, body))
        else:
            blocks.append(block)
        pending = None
    prefix: list[str] = []
    for item in items[:start]:
        prefix += (item[3] + list(item[1]) + item[2]) if item[0] == "loop" else item[1]
    prefix += hoisted
    for block in blocks:
        if any(not lines for _, lines in block.instances):
            return None  # a scalar assignment with no statement after it
    return prefix, blocks, comments


_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b(?!\s*[\[(])")
_LOCAL = re.compile(r"^\s*(?:for )?(\w+) (?:in|=|\+=|-=|\*=|/=) ")


def _names(lines: list[str]) -> set[str]:
    """The plain names (not arrays, not calls) ``lines`` mention."""
    return {n for line in lines if not _is_comment(line) for n in _NAME.findall(line)}


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


# an element assignment in code not analysed element by element (``a[k] *= f`` too)
_ANY_WRITE = re.compile(r"^(\w+)\[([^\[\]]+)\] ([-+*/%]|\*\*|//)?= (.*)$")
_ASSIGNS_ELEMENT = re.compile(r"\]\s*([-+*/%@&|^]|\*\*|//|<<|>>)?=(?!=)")


def _elements(
    lines: list[str],
) -> tuple[dict[str, set[int] | None], dict[str, set[int] | None]] | None:
    """(reads, writes) of code that is not analysed element by element, conservatively: an
    element where its index is a constant, else the whole array (None); an array passed whole
    is read and written whole."""
    reads: dict[str, set[int] | None] = {}
    writes: dict[str, set[int] | None] = {}

    def note(table: dict[str, set[int] | None], array: str, index: str | None) -> None:
        at = _int_value(index, {}) if index is not None else None
        if at is None:
            table[array] = None
        elif table.get(array, set()) is not None:
            table.setdefault(array, set()).add(at)  # type: ignore[union-attr]

    for line in lines:
        if _is_comment(line):
            continue
        m = _ANY_WRITE.match(line.strip())
        rhs = line
        if m is not None:
            note(writes, m.group(1), m.group(2))
            if m.group(3):  # an augmented assignment reads its target too
                note(reads, m.group(1), m.group(2))
            rhs = m.group(4)
        elif _ASSIGNS_ELEMENT.search(line):
            return None  # an element assigned in a form not understood
        for array in _WHOLE.findall(rhs):
            note(reads, array, None)
            note(writes, array, None)
        for access in _INDEXED.finditer(rhs):
            note(reads, access.group(1), access.group(2))
    return reads, writes


def _commutes(code: list[str], blocks: list[_Block]) -> bool:
    """Whether ``code`` (not analysable) can run before ``blocks`` instead of after them: it
    reads nothing they write and writes nothing they read or write (element by element where
    its indices are constants), and neither uses a name the other assigns."""
    found = _elements(code)
    if found is None:
        return False
    reads, writes = found
    assigned = {m.group(1) for line in code if (m := _LOCAL.match(line))}
    mentioned = _names(code)
    for block in blocks:
        if block.var is not None and block.var in mentioned:
            return False
        for v, lines in block.instances:
            if _names(lines) & assigned:
                return False
            env = {block.var: v} if block.var is not None else {}
            for line in lines:
                got = _accesses(line, env, {})
                if got is None:
                    return False
                block_reads, write = got
                for table, pairs in ((reads, [write]), (writes, block_reads + [write])):
                    for array, element in pairs:
                        if array in table and (table[array] is None or element in table[array]):  # type: ignore[operator]
                            return False
    return True


def _targets(lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        m = _STATEMENT.match(line.strip())
        out.append((m.group(1), m.group(2)) if m else ("", line))
    return out


_INDEX_OPS = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.FloorDiv: lambda x, y: x // y if y else None,
    ast.Mod: lambda x, y: x % y if y else None,
}


@functools.lru_cache(maxsize=65536)
def _index_tree(text: str) -> ast.expr | None:
    """The parsed index expression (None: not an expression), parsed once: the same few
    index texts recur in every statement of a variable (and, evaluated at one loop value at
    a time as _commutes and _carry do, at every value)."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None


def _int_value(text: str, env: dict[str, int]) -> int | None:
    """The integer an index expression gives with ``env`` (None: not integer arithmetic)."""
    tree = _index_tree(text)
    if tree is None:
        return None
    value: int | None = _integer_arithmetic(tree, env, _INDEX_OPS)
    return value


def _accesses(
    line: str, env: dict[str, int], cache: dict[tuple[str, int | None], int | None]
) -> tuple[list[tuple[str, int]], tuple[str, int]] | None:
    """(reads, write) of one statement instance; None when not understood (an array passed
    whole, or an index that is not integer arithmetic of the loop variable)."""
    m = _STATEMENT.match(line.strip())
    if m is None or _WHOLE.search(m.group(4)):
        return None

    def index(text: str) -> int | None:
        key = (text, next(iter(env.values())) if env else None)
        if key not in cache:
            cache[key] = _int_value(text, env)
        return cache[key]

    target = index(m.group(2))
    if target is None:
        return None
    reads = [(m.group(1), target)] if m.group(3) else []
    for access in _INDEXED.finditer(m.group(4)):
        where = index(access.group(2))
        if where is None:
            return None
        reads.append((access.group(1), where))
    return reads, (m.group(1), target)


_Order = list[tuple[int, int, list[str]]]  # (block, value of its variable, lines)
_Carried = dict[tuple[int, int, int], tuple[tuple[int, int, int], list[tuple[str, int]]]]

# An index beyond this magnitude (no array is this large) is not understood, so the arithmetic
# of int64 arrays below gives the integers Python would (no intermediate result can overflow).
_INDEX_LIMIT = 1 << 40


def _checked(value: Any) -> Any:
    """``value`` (an integer or an array of them) if every one is within _INDEX_LIMIT."""
    return value if np.all(np.abs(value) < _INDEX_LIMIT) else None


def _largest(value: Any) -> int:
    return int(np.max(np.abs(value)))


def _array_op(op: Any, safe: Any = None) -> Any:
    """``op`` over integers or int64 arrays of indices within _INDEX_LIMIT (None where the
    operands are not, where ``safe`` says the result could overflow, or outside the limit)."""

    def apply(x: Any, y: Any) -> Any:
        if _checked(x) is None or _checked(y) is None or (safe is not None and not safe(x, y)):
            return None
        return _checked(op(x, y))

    return apply


_ARRAY_OPS = {
    ast.Add: _array_op(np.add),
    ast.Sub: _array_op(np.subtract),
    ast.Mult: _array_op(np.multiply, lambda x, y: _largest(x) * _largest(y) < _INDEX_LIMIT),
    ast.FloorDiv: _array_op(np.floor_divide, lambda x, y: not np.any(np.equal(y, 0))),
    ast.Mod: _array_op(np.mod, lambda x, y: not np.any(np.equal(y, 0))),
}


def _loop_values(var: str | None, values: list[int]) -> dict[str, np.ndarray] | None:
    """The environment of index expressions at ``values`` of ``var`` (None: one is beyond
    _INDEX_LIMIT)."""
    if var is None:
        return {}
    if any(abs(v) >= _INDEX_LIMIT for v in values):
        return None
    return {var: np.array(values, dtype=np.int64)}


def _index_values(text: str, env: dict[str, np.ndarray], size: int) -> np.ndarray | None:
    """The element index ``text`` gives at each of ``size`` instances (the loop variable's
    values in ``env``); None when it is not integer arithmetic of them at any instance."""
    tree = _index_tree(text)
    if tree is None:
        return None
    value = _integer_arithmetic(tree, env, _ARRAY_OPS)
    if value is None or _checked(value) is None:
        return None
    return np.broadcast_to(np.asarray(value, dtype=np.int64), (size,))


class _Statements:
    """Every statement instance of ``blocks`` (block, value, statement), numbered in the
    blocks' own order, with the element each writes and those each reads (as arrays over the
    instances: each statement's index expressions are evaluated over all its values at once);
    ``ok`` False when a statement is not understood (see _accesses) or writes an array
    outside ``written``."""

    def __init__(self, blocks: list[_Block], written: set[str]) -> None:
        self.ok = False
        self.entries: dict[tuple[int, int], tuple[int, list[str], int, int]] = {}
        self.reads_of: dict[tuple[int, int], list[list[tuple[str, np.ndarray]]]] = {}
        names: dict[str, int] = {}
        write_at: list[np.ndarray] = []
        write_key: list[np.ndarray] = []
        read_at: list[np.ndarray] = []
        read_key: list[np.ndarray] = []
        first = 0
        for b, block in enumerate(blocks):
            groups: dict[int, tuple[list[str], list[int], list[int]]] = {}
            for v, lines in block.instances:
                entry = groups.setdefault(id(lines), (lines, [], []))
                self.entries[(b, v)] = (first, lines, b, len(entry[1]))
                entry[1].append(v)
                entry[2].append(first)
                first += len(lines)
            for lines, values, starts in groups.values():
                size = len(values)
                env = _loop_values(block.var, values)
                if env is None:
                    return
                at = np.array(starts, dtype=np.int64)
                statements = []
                for s, line in enumerate(lines):
                    m = _STATEMENT.match(line.strip())
                    if m is None or _WHOLE.search(m.group(4)) or m.group(1) not in written:
                        return
                    target = _index_values(m.group(2), env, size)
                    if target is None:
                        return
                    reads = [(m.group(1), target)] if m.group(3) else []
                    for access in _INDEXED.finditer(m.group(4)):
                        where = _index_values(access.group(2), env, size)
                        if where is None:
                            return
                        reads.append((access.group(1), where))
                    statements.append(reads)
                    code = names.setdefault(m.group(1), len(names))
                    write_at.append(at + s)
                    write_key.append(code * 2 * _INDEX_LIMIT + target)
                    for array, where in reads:
                        code = names.setdefault(array, len(names))
                        read_at.append(at + s)
                        read_key.append(code * 2 * _INDEX_LIMIT + where)
                for v in values:
                    self.reads_of[(b, v)] = statements
        self.size = first
        self.names = names
        self.write = np.zeros(first, dtype=np.int64)
        if write_at:
            self.write[np.concatenate(write_at)] = np.concatenate(write_key)
        empty = np.zeros(0, dtype=np.int64)
        self.read_at = np.concatenate(read_at) if read_at else empty
        self.read_key = np.concatenate(read_key) if read_key else empty
        self.ok = True

    def key(self, array: str, element: int) -> int:
        return self.names[array] * 2 * _INDEX_LIMIT + element

    def instance(self, here: Any) -> int | None:
        """The number of statement instance ``here`` (block, value, statement), if one."""
        if not isinstance(here, tuple) or len(here) != 3:
            return None
        found = self.entries.get((here[0], here[1]))
        if found is None or not 0 <= here[2] < len(found[1]):
            return None
        return found[0] + here[2]

    def reads(self, here: tuple[int, int, int]) -> list[tuple[str, int]]:
        """The elements instance ``here`` reads, in its statement's order (see _accesses)."""
        row = self.entries[(here[0], here[1])][3]
        return [(a, int(where[row])) for a, where in self.reads_of[(here[0], here[1])][here[2]]]


def _last_writers(
    write_key: np.ndarray, write_time: np.ndarray, read_key: np.ndarray, read_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(for each read, the instance that last wrote its element before its time, -1 for none;
    for each element written, sorted, its last writer). Elements are dense numbers; times
    distinct."""
    span = int(max(write_time.max(initial=0), read_time.max(initial=0))) + 1
    keys = write_key * span + write_time
    by_key = np.argsort(keys, kind="stable")
    sorted_keys = keys[by_key]
    j = np.searchsorted(sorted_keys, read_key * span + read_time, side="left") - 1
    found = np.maximum(j, 0)
    hit = (j >= 0) & (write_key[by_key[found]] == read_key)
    writers = np.where(hit, by_key[found], -1)
    ends = np.flatnonzero(np.diff(write_key[by_key], append=-1) != 0)
    return writers, by_key[ends]


def _same_dependences(
    blocks: list[_Block],
    order: _Order,
    written: set[str],
    carried: _Carried | None = None,
    table: _Statements | None = None,
) -> bool:
    """Whether running the statement instances in ``order`` gives every read the value it had
    in the blocks' own order and leaves every element with the same last writer.

    ``carried`` maps a statement instance (block, value, statement) of ``order`` to the one
    whose computation of the same expression it reuses (see _carry) and the elements that
    expression reads: their values are those at the time of the earlier instance. ``table``:
    the blocks' _Statements with ``written`` (made here when not given).

    Both orders are compared at once over arrays of statement instances (_Statements): a read
    at instance position t sees the last write before it (a write at t happens after the reads
    at t); an entry (-1, v) of ``order`` marks the start of the fused loop's iteration v (the
    time of the values carried from the top of it). The decision is the one of running both
    orders instance by instance and comparing each read's writer and each element's last."""
    if table is None:
        table = _Statements(blocks, written)
    if not table.ok:
        return False
    # the instances' times in ``order`` (an iteration's mark takes a time of its own)
    starts, counts, firsts = [], [], []
    marks: dict[int, list[int]] = {}
    clock = 0
    for b, v, lines in order:
        if b < 0:
            marks.setdefault(v, []).append(clock)
            clock += 1
            continue
        found = table.entries.get((b, v))
        if found is None:
            return False  # not an instance of the blocks
        first, mine, _, _ = found
        if lines is not mine and lines != mine:
            return False  # another statement than the blocks' (_schedule makes none)
        starts.append(clock)
        counts.append(len(lines))
        firsts.append(first)
        clock += len(lines)
    if len(firsts) != len(table.entries) or len(set(firsts)) != len(firsts):
        return False  # not each of the blocks' instances once
    count = np.array(counts, dtype=np.int64)
    offset = np.arange(table.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    time = np.zeros(table.size, dtype=np.int64)
    time[np.repeat(np.array(firsts, dtype=np.int64), count) + offset] = (
        np.repeat(np.array(starts, dtype=np.int64), count) + offset
    )
    times = (np.arange(table.size, dtype=np.int64), time)
    # reads of the instances that reuse a value: their own, less the reused expression's,
    # then that expression's (read at the earlier instance's time in ``order``)
    keep = np.ones(table.read_at.size, dtype=bool)
    extra_at: list[int] = []
    extra_key: list[int] = []
    extra_time: tuple[list[int], list[int]] = ([], [])
    reusers = []
    for here, (source, elements) in (carried or {}).items():
        at = table.instance(here)
        if at is None:
            continue  # never run: nothing reused
        reads = table.reads(here)
        for e in elements:
            reads.remove(e)
        reusers.append(at)
        for array, element in reads:
            extra_at.append(at)
            extra_key.append(table.key(array, element))
            extra_time[0].append(2 * at)
            extra_time[1].append(2 * int(time[at]))
        if isinstance(source, tuple) and len(source) == 2 and source[0] == "top":
            before = [t for t in marks.get(source[1], []) if t < time[at]]
            if not before:
                return False  # reused before it is computed
            then = 2 * before[-1]
        else:
            where = table.instance(source)
            if where is None or time[where] > time[at]:
                return False  # reused before it is computed
            then = 2 * int(time[where])
        for array, element in dict.fromkeys(elements):
            extra_at.append(at)
            extra_key.append(table.key(array, element))
            extra_time[0].append(2 * at)
            extra_time[1].append(then)
    if reusers:
        keep = ~np.isin(table.read_at, np.array(reusers, dtype=np.int64))
    read_at = table.read_at[keep]
    keys = np.concatenate([table.write, table.read_key[keep], np.array(extra_key, dtype=np.int64)])
    _, dense = np.unique(keys, return_inverse=True)
    write_key = dense[: table.size]
    read_key = dense[table.size :]
    results = []
    for k in range(2):
        read_time = np.concatenate([2 * times[k][read_at], np.array(extra_time[k], dtype=np.int64)])
        results.append(_last_writers(write_key, 2 * times[k] + 1, read_key, read_time))
    return bool(
        np.array_equal(results[0][0], results[1][0])
        and np.array_equal(results[0][1], results[1][1])
    )


def _writes(block: _Block) -> list[tuple[int, int, str, int, int]]:
    """(instance, statement, array, element, value) of every element ``block`` writes at an
    index that is integer arithmetic of its variable (each statement's index evaluated over
    all the values that run it at once)."""
    groups: dict[int, tuple[list[str], list[int], list[int]]] = {}
    for n, (v, lines) in enumerate(block.instances):
        group = groups.setdefault(id(lines), (lines, [], []))
        group[1].append(n)
        group[2].append(v)
    out = []
    for lines, numbers, values in groups.values():
        env = _loop_values(block.var, values)
        for s, line in enumerate(lines):
            m = _STATEMENT.match(line.strip())
            assert m is not None
            found = None if env is None else _index_values(m.group(2), env, len(values))
            targets = (
                found.tolist()
                if found is not None  # else each value apart (an index not understood at some)
                else [
                    _int_value(m.group(2), {block.var: v} if block.var is not None else {})
                    for v in values
                ]
            )
            out += [
                (n, s, m.group(1), at, v)
                for n, v, at in zip(numbers, values, targets)
                if at is not None
            ]
    return out


def _align(blocks: list[_Block]) -> None:
    """Give each block the shift that puts an element next to the element of an earlier block
    it reads first (position = value - shift), so a fused iteration uses a value just
    computed; a block reading none keeps its values as positions."""
    writers: list[dict[tuple[str, int], int]] = []
    for k, block in enumerate(blocks):
        block.shift = 0
        here: dict[tuple[str, int], int] = {}
        for _, _, array, at, v in sorted(_writes(block)):
            here.setdefault((array, at), v)
        if block.loop is not None and block.var is not None and k > 0:
            lo = block.loop[0]
            shift = None
            for line in block.loop[2]:
                m = _STATEMENT.match(line.strip())
                assert m is not None
                for access in _INDEXED.finditer(m.group(4)):
                    where = _int_value(access.group(2), {block.var: lo})
                    for j in range(k - 1, -1, -1):
                        u = writers[j].get((access.group(1), where)) if where is not None else None
                        if u is not None and blocks[j].var is not None:
                            shift = blocks[j].shift + lo - u
                            break
                    if shift is not None:
                        break
                if shift is not None:
                    break
            block.shift = shift or 0
        writers.append(here)


def _rename(line: str, var: str, shift: int) -> str:
    new = _FUSED_VAR if shift == 0 else f"({_FUSED_VAR} + {shift})"
    return re.sub(rf"\b{re.escape(var)}\b", new, line)


def _schedule(
    blocks: list[_Block], backwards: bool
) -> (
    tuple[_Order, list[str], tuple[int, list[int], list[_Block], dict[tuple[int, int], int]]] | None
):
    """The fused order of ``blocks``' instances and its code, or None if they share no range."""
    loops = [b for b in blocks if b.loop is not None]
    if not loops:
        return None

    def span(b: _Block) -> tuple[int, int]:
        assert b.loop is not None
        return b.loop[0] - b.shift, b.loop[1] - b.shift

    # the fused loop: the largest loop and those covering at least half of its range; the
    # other loops run after it, as they were
    main = max(loops, key=lambda b: span(b)[1] - span(b)[0])
    m_lo, m_hi = span(main)
    members = [
        b for b in loops if 2 * (min(span(b)[1], m_hi) - max(span(b)[0], m_lo)) >= m_hi - m_lo
    ]
    lo = max(span(b)[0] for b in members)
    hi = min(span(b)[1] for b in members)
    if hi - lo < 2:
        return None
    rest = [k for k, b in enumerate(blocks) if b.loop is not None and b not in members]
    front: _Order = []
    below: dict[int, _Order] = {}
    above: dict[int, _Order] = {}
    for k, block in enumerate(blocks):
        if k in rest:
            continue
        for v, lines in block.instances:
            position = v - block.shift
            in_loop = block.loop is not None and block.loop[0] <= v < block.loop[1]
            if block.var is None:
                front.append((k, v, lines))
                continue
            if block.loop is None and lo <= position < hi:
                return None  # a scalar element inside the fused range
            if lo <= position < hi and in_loop:
                continue
            side = below if position < lo else above
            if lo <= position < hi:
                return None
            side.setdefault(position, []).append((k, v, lines))
    leftovers = sum(len(x) for x in below.values()) + sum(len(x) for x in above.values())
    if leftovers > _STEP_LEFTOVERS:
        return None
    positions = range(hi - 1, lo - 1, -1) if backwards else range(lo, hi)
    fused = [(k, b.shift, b.loop[2]) for k, b in enumerate(blocks) if b in members]
    # each position: a mark of the start of its iteration (_same_dependences), then the members
    core: _Order = [(-1, 0, [])] * (len(positions) * (len(fused) + 1))
    core[:: len(fused) + 1] = [(-1, position, []) for position in positions]
    for j, (k, shift, body) in enumerate(fused):
        core[j + 1 :: len(fused) + 1] = [(k, position + shift, body) for position in positions]
    first, last = (above, below) if backwards else (below, above)
    order: _Order = list(front)
    code: list[str] = []
    for _, _, lines in front:
        code += lines

    spots: dict[tuple[int, int], int] = {}  # a member's element before the loop: its line

    def scalar(part: dict[int, _Order]) -> None:
        for position in sorted(part, reverse=backwards):
            for k, v, lines in part[position]:
                order.append((k, v, lines))
                b = blocks[k]
                assert b.var is not None
                if b in members and b.loop is not None and lines is b.loop[2] and len(lines) == 1:
                    # written as the loop's statement, so a value it computes can be carried
                    code.append(f"    {_FUSED_VAR} = {position}")
                    spots[(k, v)] = len(code)
                    code.append("    " + _rename(lines[0], b.var, b.shift).strip())
                else:
                    code.append(f"    {b.var} = {v}")
                    code.extend("    " + line.strip() for line in lines)

    scalar(first)
    order += core
    header = (
        f"    for {_FUSED_VAR} in range({hi - 1}, {lo - 1}, -1):"
        if backwards
        else f"    for {_FUSED_VAR} in range({lo}, {hi}):"
    )
    loop_at = len(code)
    code.append(header)
    for b in members:
        assert b.var is not None and b.loop is not None
        code += [_rename(line, b.var, b.shift) for line in b.loop[2]]
    scalar(last)
    for k in rest:
        order += [(k, v, lines) for v, lines in blocks[k].instances]
        code += _block_code(blocks[k])
    return order, code, (loop_at, list(positions), members, spots)


def fuse_step(rate_lines: list[str], update_lines: list[str]) -> list[str] | None:
    """The Euler step's rates and stock update as one code, loops fused where that is proven
    safe (see above); None when no update can join a rate loop.

    ``rate_lines``: the step's rate code (writing ``a`` and ``dydt``); ``update_lines``: the
    loops ``y[i] += h * ...`` of :func:`engine.compiler.stocks._stock_update`.

    The result is a function of the lines and of this module's code alone, so it is kept (in
    this process, and as JSON in the cache directory's ``fusion`` folder): the
    proof costs ~0.1 s for a subscripted model, paid again by every load of it, where the
    compiled kernel itself comes from the cache. The fused code is data; what is run is the
    module made from it, checked like any generated module (:mod:`engine.codecheck`).

    Python's cyclic garbage collector is paused meanwhile: the proof's orders and tables (a
    tuple per statement instance, none in a reference cycle, freed by reference counting)
    live long enough to trigger full collections of the whole heap, numba's included
    (Subscripted Population Model: two, ~0.3 s of its ~0.5 s)."""
    key = _memo_key(rate_lines, update_lines)
    known, path = _recall(key)
    if known is not _MISSING:
        return None if known is None else list(known)
    enabled = gc.isenabled()
    gc.disable()
    try:
        fused = _fuse_step(rate_lines, update_lines)
    finally:
        if enabled:
            gc.enable()
    _keep(key, None if fused is None else tuple(fused))
    if path is not None:
        try:
            write_atomic(path, json.dumps({"key": key, "fused": fused}))
        except OSError:  # a full or read-only disk: the result is kept in this process
            pass
    return fused


_MISSING: Any = object()
#: Results of fuse_step in this process, by key (at most _MEMO_SIZE, the oldest dropped;
#: models may be compiled from several threads).
_MEMO: dict[str, tuple[str, ...] | None] = {}
_MEMO_SIZE = 256
_MEMO_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """This module's source: a change of the fusion code is a new key."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    except OSError:  # pragma: no cover - no source file (frozen): keys of this process only
        return f"process-{id(_MEMO)}"


def _memo_key(rate_lines: list[str], update_lines: list[str]) -> str:
    digest = hashlib.sha256(_code_digest().encode())
    for part in (rate_lines, update_lines):
        digest.update(b"\x00" + str(len(part)).encode())
        for line in part:
            digest.update(b"\x01" + line.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40]


def _recall(key: str) -> tuple[Any, Path | None]:
    """(the kept result of ``key``: a tuple of lines, None (nothing fuses) or _MISSING; the
    file to keep a new result in, None when it is known here or the cache cannot be used)."""
    with _MEMO_LOCK:
        known = _MEMO.get(key, _MISSING)
    if known is not _MISSING:
        return known, None
    path = _memo_file(key)
    known = _read_memo(path, key)
    if known is not _MISSING:
        _keep(key, known)
    return known, path


def _memo_file(key: str) -> Path | None:
    """The file of ``key`` in the cache directory's ``fusion`` folder, or None when the cache
    directory cannot be used (its own error is raised where the kernels are loaded)."""
    try:
        return cache_subdir("fusion") / f"{key}.json"
    except (CacheError, OSError):
        return None


def _read_memo(path: Path | None, key: str) -> Any:
    """The result kept in ``path`` for ``key``: a tuple of lines, None (nothing fuses), or
    _MISSING (no file, or one that is not what fuse_step writes: it is written anew)."""
    if path is None:
        return _MISSING
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _MISSING
    if not isinstance(data, dict) or data.get("key") != key or "fused" not in data:
        return _MISSING
    fused = data["fused"]
    if fused is None:
        return None
    if not (isinstance(fused, list) and all(isinstance(x, str) for x in fused)):
        return _MISSING
    return tuple(fused)


def _keep(key: str, value: tuple[str, ...] | None) -> None:
    with _MEMO_LOCK:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = value


def _fuse_step(rate_lines: list[str], update_lines: list[str]) -> list[str] | None:
    if any(re.search(rf"\b({_FUSED_VAR}|_[cd]\d+)\b", x) for x in rate_lines + update_lines):
        return None
    found = _step_blocks(rate_lines)
    updates = _step_blocks(update_lines)
    if found is None or updates is None or updates[0]:
        return None
    prefix, blocks, comments = found
    update_blocks = updates[1]
    if not update_blocks or any(b.loop is None for b in update_blocks):
        return None
    size = sum(len(b.instances) * len(b.instances[0][1]) for b in blocks + update_blocks)
    if size > _STEP_INSTANCES:
        return None
    # the tail of the rate code fused with the update, longest first; what does not join
    # stays before it, unchanged
    for first in range(len(blocks)):
        chosen = blocks[first:] + update_blocks
        if not any(b.loop is not None for b in blocks[first:]):
            break
        # each block's distinct statements (a loop's instances share its body)
        bodies = [(b, list({id(x[1]): x[1] for x in b.instances}.values())) for b in chosen]
        written: set[str] = set()
        for _, distinct in bodies:
            for lines in distinct:
                written.update(t for t, _ in _targets(lines))
        # a statement must not use another block's variable (the fused loop renames each
        # block's own, and runs the others' scalar elements in another order)
        names = {b.var for b in chosen if b.var is not None}
        if any(_names(lines) & (names - {b.var}) for b, distinct in bodies for lines in distinct):
            continue
        _align(chosen)
        table: _Statements | None = None  # the same for every order of these blocks
        for backwards, carry in ((False, True), (False, False), (True, True), (True, False)):
            made = _schedule(chosen, backwards)
            if made is None:
                continue
            order, code, (loop_at, positions, members, spots) = made
            pairs = _carry_pairs(chosen, members, positions) if carry else []
            if carry and not pairs:
                continue
            # a pair's first value: from the element before the loop when it is written out
            # as the loop's statement (else the loop's first iteration computes it)
            index = {id(b): k for k, b in enumerate(chosen)}
            step = positions[1] - positions[0] if len(positions) > 1 else 1
            starts = [
                spots.get((index[id(b1)], positions[0] - step + b1.shift))
                for b1, _s1, _w1, _b2, _s2, _w2 in pairs
            ]
            init = bool(pairs) and all(x is not None for x in starts)
            carried = _carried(chosen, members, positions, pairs, init)
            if table is None:
                table = _Statements(chosen, written)
            if carried is None or not _same_dependences(chosen, order, written, carried, table):
                continue
            if pairs:
                size = sum(len(b.loop[2]) for b in members if b.loop is not None)
                loop = _carry_code(members, positions, pairs, init)
                code = code[:loop_at] + loop + code[loop_at + 1 + size :]
                if init:
                    spots_at = [(c, at) for c, at in enumerate(starts) if at is not None]
                    for c, at in sorted(spots_at, key=lambda x: -x[1]):
                        text = code[at].strip()
                        node: Any = list(ast.walk(ast.parse(text)))[pairs[c][2]]
                        segment = ast.get_source_segment(text, node)
                        code[at : at + 1] = [
                            f"    _d{c} = {segment}",
                            "    "
                            + text[: node.col_offset]
                            + f"_d{c}"
                            + text[node.end_col_offset :],
                        ]
            head: list[str] = list(prefix)
            for b in blocks[:first]:
                head += _block_code(b)
            return head + comments + code
    return None


def _block_code(block: _Block) -> list[str]:
    """A block's statements as they were (its scalar elements, then or after its loop)."""
    code: list[str] = []
    loop_done = False
    for v, lines in block.instances:
        if block.loop is not None and block.loop[0] <= v < block.loop[1]:
            if not loop_done:
                code.append(f"    for {block.var} in range({block.loop[0]}, {block.loop[1]}):")
                code += block.loop[2]
                loop_done = True
            continue
        if block.var is not None:
            code.append(f"    {block.var} = {v}")
        code += lines
    return code


# ------------------------------------------------------------- values carried between iterations
# In a fused loop, an iteration often computes a value the next one computes again: an ageing
# chain's inflow x[i - 1] / tau is the outflow's x[i - 1] / tau one element down. _carry keeps
# it in a local instead (computed once, as scalar replacement / predictive commoning do), where
# the two are the same expression (the same operations on the same array elements) and every
# element it reads has the same last writer at both places (from the fused order's own
# dependences), so the value carried is the value that would be computed: the same bits.
_PURE = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Subscript,
    ast.Load,
    ast.operator,
    ast.unaryop,
)


def _pure(node: ast.AST) -> bool:
    """Arithmetic of constants, names and array elements only (no call, no comparison)."""
    return all(isinstance(n, _PURE) for n in ast.walk(node))


def _shape(node: ast.AST, env: dict[str, int]) -> Any:
    """``node`` with its array indices evaluated (None: not an expression that can be carried)."""
    if isinstance(node, ast.Subscript):
        if not isinstance(node.value, ast.Name):
            return None
        at = _int_value(ast.unparse(node.slice), env)
        return None if at is None else ("[]", node.value.id, at)
    if isinstance(node, ast.Name):
        return None if node.id in env else ("name", node.id)
    if isinstance(node, ast.Constant):
        return ("const", type(node.value).__name__, repr(node.value))
    if isinstance(node, ast.BinOp):
        left, right = _shape(node.left, env), _shape(node.right, env)
        if left is None or right is None:
            return None
        return ("bin", type(node.op).__name__, left, right)
    if isinstance(node, ast.UnaryOp):
        inner = _shape(node.operand, env)
        return None if inner is None else ("un", type(node.op).__name__, inner)
    return None


def _reads_of(node: ast.AST, env: dict[str, int]) -> list[tuple[str, int]]:
    """The elements ``node`` reads, once per occurrence (the carried expressions' indices
    are all understood: see _shape)."""
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name):
            at = _int_value(ast.unparse(n.slice), env)
            assert at is not None
            out.append((n.value.id, at))
    return out


_Pair = tuple[_Block, int, int, _Block, int, int]  # (block, statement, node) x 2


def _statement_text(b: _Block, s_: int) -> str:
    assert b.loop is not None and b.var is not None
    return _rename(b.loop[2][s_], b.var, b.shift).strip()


def _carry_pairs(blocks: list[_Block], members: list[_Block], positions: list[int]) -> list[_Pair]:
    """Expressions of the fused loop that an iteration computes as the one before did (the
    same operations on the same elements, by their indices): (first, then reused), each
    statement in one pair at most."""
    if len(positions) < 3:
        return []
    found = []
    for b in members:
        assert b.loop is not None
        for s_ in range(len(b.loop[2])):
            nodes = list(ast.walk(ast.parse(_statement_text(b, s_))))
            for w, node in enumerate(nodes):
                if (
                    isinstance(node, ast.BinOp)
                    and _pure(node)
                    and any(isinstance(n, ast.Subscript) for n in ast.walk(node))
                ):
                    found.append((b, s_, w, node))
    pairs: list[_Pair] = []
    used: set[tuple[int, int]] = set()
    for b1, s1, w1, n1 in found:
        for b2, s2, w2, n2 in found:
            key1, key2 = (id(b1), s1), (id(b2), s2)
            if key1 == key2 or key1 in used or key2 in used:
                continue
            if all(
                _shape(n1, {_FUSED_VAR: here}) is not None
                and _shape(n1, {_FUSED_VAR: here}) == _shape(n2, {_FUSED_VAR: after})
                for here, after in zip(positions, positions[1:])
            ):
                pairs.append((b1, s1, w1, b2, s2, w2))
                used.update({key1, key2})
    return pairs


def _carried(
    blocks: list[_Block],
    members: list[_Block],
    positions: list[int],
    pairs: list[_Pair],
    init: bool = False,
) -> dict[tuple[int, int, int], tuple[tuple[int, int, int], list[tuple[str, int]]]] | None:
    """The reuses of ``pairs`` as instances (see _same_dependences): which statement
    instance reuses the value of which, and the elements the expression reads."""
    index = {id(b): k for k, b in enumerate(blocks)}
    out: dict[tuple[int, int, int], tuple[tuple[int, int, int], list[tuple[str, int]]]] = {}
    for b1, s1, w1, b2, s2, w2 in pairs:
        node = list(ast.walk(ast.parse(_statement_text(b2, s2))))[w2]
        step = positions[1] - positions[0]
        sources = [positions[0] - step] if init else []
        source = list(ast.walk(ast.parse(_statement_text(b1, s1))))[w1]
        for here, after in zip(sources + positions, (positions if init else positions[1:])):
            # computed at the top of the iteration at ``here`` (or, before the loop, by the
            # element written out there), reused at ``after``
            start = (index[id(b1)], here + b1.shift, s1) if here not in positions else ("top", here)
            out[(index[id(b2)], after + b2.shift, s2)] = (
                start,
                _reads_of(node, {_FUSED_VAR: after}),
            )  # type: ignore[assignment]
        for here in positions:
            out[(index[id(b1)], here + b1.shift, s1)] = (
                ("top", here),
                _reads_of(source, {_FUSED_VAR: here}),
            )  # type: ignore[assignment]
    return out


def _carry_code(
    members: list[_Block], positions: list[int], pairs: list[_Pair], init: bool
) -> list[str]:
    """The fused loop with the values of ``pairs`` carried in locals: with ``init`` (the
    first values computed before the loop) the loop; else its first iteration written out
    (it computes every expression), then the loop over the others."""

    def body(first: bool) -> list[str]:
        lines: list[str] = []
        tops: list[str] = []
        for b in members:
            assert b.loop is not None
            for s_ in range(len(b.loop[2])):
                text = _statement_text(b, s_)
                nodes: list[Any] = list(ast.walk(ast.parse(text)))
                cuts = []  # (start, end, replacement) in text
                before = []
                for c, (b1, s1, w1, b2, s2, w2) in enumerate(pairs):
                    if b1 is b and s1 == s_:
                        node = nodes[w1]
                        cuts.append((node.col_offset, node.end_col_offset, f"_c{c}"))
                        before.append(f"_c{c} = {ast.get_source_segment(text, node)}")
                    if b2 is b and s2 == s_ and not first:
                        node = nodes[w2]
                        cuts.append((node.col_offset, node.end_col_offset, f"_d{c}"))
                for start, end, new in sorted(cuts, reverse=True):
                    text = text[:start] + new + text[end:]
                tops += ["        " + x for x in before]
                lines.append("        " + text)
        lines = tops + lines  # carried values computed first (LLVM then vectorises the loop)
        lines += [f"        _d{c} = _c{c}" for c in range(len(pairs))]
        return lines

    step = positions[1] - positions[0]
    rest = positions if init else positions[1:]
    bounds = f"{rest[0]}, {rest[-1] + step}" + ("" if step == 1 else f", {step}")
    header = f"    for {_FUSED_VAR} in range({bounds}):"
    if init:
        return [header] + body(False)
    first = [f"    {_FUSED_VAR} = {positions[0]}"] + [x[4:] for x in body(True)]
    return first + [header] + body(False)


# ----------------------------------------------------------------- fusion of outer loop levels
# fuse_loops joins only perfect nests of simple statements over the same ranges. A large
# model's variables are mostly nests that share their outer loop (``for i0 in range(0, 14)``,
# the region) and differ inside it (another dimension, a reduction's inner loop, a local
# accumulator): fuse_nests joins adjacent loops with the same header into one, their bodies
# one after the other, level by level, where that cannot change a result. Numba's compile costs
# ~20 ms of CPU per loop (LLVM's loop passes, numba's blocks), the body's statements much less.
_RANGE_FOR = re.compile(r"^for (\w+) in range\(([-\d, ]+)\):$")
_ARRAYS = frozenset({"a", "y", "p", "z", "dydt"})
# Element indices at or above this are "not understood" (their key would not fit an int64).
_KEY_LIMIT = 1 << 40


class _Nest:
    """What one loop (its whole text) does, per iteration of its header: the array elements it
    writes and reads (as keys: the element and the iteration of the enclosing loops), the
    arrays it touches at indices not understood, the locals it reads before assigning them
    (``free``) and those it assigns."""

    def __init__(self) -> None:
        self.writes: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.reads: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.opaque: set[str] = set()  # touched at indices not understood (maybe written)
        self.free: set[str] = set()
        self.assigned: set[str] = set()
        self.tables: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}  # see _table


def _range_values(node: ast.AST) -> np.ndarray | None:
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and 1 <= len(node.args) <= 3
        and not node.keywords
    ):
        return None
    values = []
    for arg in node.args:
        v = _integer_arithmetic(arg, {}, {})
        if not isinstance(v, int):
            return None
        values.append(v)
    if len(values) == 3 and values[2] == 0:
        return None
    return np.arange(*values, dtype=np.int64)


def _nest_accesses(text: str, outer: list[np.ndarray], names: list[str]) -> _Nest | None:
    """The accesses of the loop ``text`` (its header line first, dedented), inside loops over
    the ranges ``outer`` whose variables are ``names``; None where any statement is not
    understood."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.For):
        return None
    nest = _Nest()
    ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply}
    # the enclosing loops' iterations, numbered (the key's second part)
    grids = np.meshgrid(*outer, indexing="ij") if outer else []
    size = int(np.prod([r.size for r in outer])) if outer else 1
    if size >= 1 << 20:
        return None
    okey = np.arange(size, dtype=np.int64)

    def key(elements: np.ndarray, okeys: np.ndarray) -> np.ndarray | None:
        if elements.size and (elements.min() < 0 or elements.max() >= _KEY_LIMIT):
            return None
        return elements * size + okeys

    def record(table: Any, array: str, index: ast.AST, env: Any, n: int) -> bool:
        value = _integer_arithmetic(index, env["vars"], ops)
        if value is None:
            nest.opaque.add(array)
            return True
        elements = np.zeros(n, dtype=np.int64) + value
        keys = key(elements, env["okey"])
        if keys is None:
            nest.opaque.add(array)
            return True
        table.setdefault(array, []).append((keys, env["iter"]))
        return True

    def load(name: str, defined: set[str]) -> None:
        if name not in defined:
            nest.free.add(name)

    def expression(node: ast.AST, env: Any, n: int, defined: set[str]) -> bool:
        nodes = list(ast.walk(node))
        subscripted = set()
        for sub in nodes:
            if isinstance(sub, ast.Subscript):
                if not isinstance(sub.value, ast.Name):
                    return False
                subscripted.add(id(sub.value))
                record(nest.reads, sub.value.id, sub.slice, env, n)
            elif isinstance(sub, (ast.Lambda, ast.NamedExpr, ast.comprehension, ast.Await)):
                return False
        for sub in nodes:
            if isinstance(sub, ast.Name):
                load(sub.id, defined)
                if sub.id in _ARRAYS and id(sub) not in subscripted:
                    # an array named whole (passed to a helper, which may write it)
                    nest.opaque.add(sub.id)
        return True

    def block(body: list[ast.stmt], env: Any, defined: set[str]) -> bool:
        n = env["okey"].size
        for stmt in body:
            if isinstance(stmt, ast.For):
                values = _range_values(stmt.iter)
                if values is None or stmt.orelse or not isinstance(stmt.target, ast.Name):
                    return False
                if not expression(stmt.iter, env, n, defined):
                    return False
                m = values.size
                if n * m > 5_000_000:
                    return False
                inner: dict[str, Any] = {
                    "vars": {k: np.repeat(v, m) for k, v in env["vars"].items()},
                    "okey": np.repeat(env["okey"], m),
                    "iter": np.repeat(env["iter"], m),
                }
                inner["vars"][stmt.target.id] = np.tile(values, n)
                nest.assigned.add(stmt.target.id)
                if not block(stmt.body, inner, defined | {stmt.target.id}):
                    return False
                # after the loop its locals are not integers known here
                for name in _assigned_names(stmt):
                    env["vars"].pop(name, None)
                    defined = defined | {name}
            elif isinstance(stmt, (ast.Assign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) != 1:
                    return False
                target = targets[0]
                if not expression(stmt.value, env, n, defined):
                    return False
                if isinstance(target, ast.Name):
                    if isinstance(stmt, ast.AugAssign):
                        load(target.id, defined)
                    nest.assigned.add(target.id)
                    defined = defined | {target.id}
                    value = _integer_arithmetic(stmt.value, {}, {})
                    if isinstance(stmt, ast.Assign) and isinstance(value, int):
                        env["vars"][target.id] = np.full(n, value, dtype=np.int64)
                    else:
                        env["vars"].pop(target.id, None)
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    if not expression(target.slice, env, n, defined):
                        return False
                    array = target.value.id
                    if isinstance(stmt, ast.AugAssign):
                        record(nest.reads, array, target.slice, env, n)
                    record(nest.writes, array, target.slice, env, n)
                else:
                    return False
            elif isinstance(stmt, ast.Expr):
                if not expression(stmt.value, env, n, defined):
                    return False
            else:
                return False
        return True

    loop = tree.body[0]
    values = _range_values(loop.iter)
    if values is None or loop.orelse or not isinstance(loop.target, ast.Name):
        return None
    m = values.size
    env: dict[str, Any] = {
        "vars": {name: np.repeat(g.ravel(), m) for name, g in zip(names, grids)},
        "okey": np.repeat(okey, m),
        "iter": np.tile(np.arange(m, dtype=np.int64), size),
    }
    env["vars"][loop.target.id] = np.tile(values, size)
    if not block(loop.body, env, {loop.target.id}):
        return None
    return nest


def _assigned_names(node: ast.AST) -> set[str]:
    return {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _distinct(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """The distinct keys of ``parts``, sorted, with the largest and the smallest iteration at
    which each is accessed."""
    keys = np.concatenate([k for k, _ in parts]) if len(parts) > 1 else parts[0][0]
    when = np.concatenate([w for _, w in parts]) if len(parts) > 1 else parts[0][1]
    order = np.argsort(keys, kind="stable")
    keys, when = keys[order], when[order]
    if keys.size == 0:
        return keys, when, when
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.maximum.reduceat(when, starts), np.minimum.reduceat(when, starts)


def _table(nest: _Nest, kind: str, array: str) -> tuple[np.ndarray, ...]:
    cached = nest.tables.get((kind, array))
    if cached is None:
        parts = (nest.writes if kind == "w" else nest.reads)[array]
        cached = nest.tables[(kind, array)] = _distinct(parts)
    return cached


def _later(first: tuple[np.ndarray, ...], then: tuple[np.ndarray, ...], strict: bool) -> bool:
    """True when a key is in both and the earlier code's last access of it (``first``) comes
    at a later iteration than the later code's first (at the same or a later one when
    ``strict``: an element written by both)."""
    keys, latest, _ = first
    other, _, earliest = then
    if keys.size == 0 or other.size == 0:
        return False
    at = np.minimum(np.searchsorted(keys, other), keys.size - 1)
    hit = keys[at] == other
    if strict:
        return bool(np.any(hit))
    return bool(np.any(latest[at[hit]] > earliest[hit]))


def _joinable(group: _Nest, nest: _Nest) -> bool:
    """True when running ``nest``'s body right after ``group``'s in each iteration of their
    shared loop gives every read the value it had with the loops one after the other."""
    if group.free & nest.assigned or nest.free & group.assigned:
        return False
    touched_g = set(group.writes) | set(group.reads) | group.opaque
    touched_n = set(nest.writes) | set(nest.reads) | nest.opaque
    if group.opaque & touched_n or nest.opaque & touched_g:
        return False
    for array in nest.writes:
        mine = _table(nest, "w", array)
        if array in group.writes and _later(_table(group, "w", array), mine, strict=True):
            return False  # written by both
        if array in group.reads and _later(_table(group, "r", array), mine, strict=False):
            return False  # overwritten before the earlier code read it
    for array in nest.reads:
        if array in group.writes and _later(
            _table(group, "w", array), _table(nest, "r", array), strict=False
        ):
            return False  # read before the earlier code wrote it
    return True


def _absorb(group: _Nest, nest: _Nest) -> None:
    for mine, theirs in ((group.writes, nest.writes), (group.reads, nest.reads)):
        for array, parts in theirs.items():
            mine.setdefault(array, []).extend(parts)
    group.tables.clear()
    group.opaque |= nest.opaque
    group.free |= nest.free - group.assigned
    group.assigned |= nest.assigned


def _level_items(lines: list[str], indent: int) -> list[list[str]]:
    """``lines`` (at ``indent`` or deeper) as items: a loop with its body, or one line."""
    items: list[list[str]] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        j = k + 1
        if _indent(line) == indent and line.strip().startswith("for "):
            while j < len(lines) and (_indent(lines[j]) > indent or not lines[j].strip()):
                j += 1
        items.append(lines[k:j])
        k = j
    return items


def fuse_nests(lines: list[str], indent: int = 4, outer: tuple[str, ...] = ()) -> list[str]:
    """``lines`` with adjacent loops of the same header joined, at every level, where the
    element-level check above (_joinable) proves it changes no result.

    The statements and their order within each original loop are kept; only the bodies of
    loops over the same range run in one loop, one after the other in each iteration. Comment
    lines between two joined loops move inside the loop, before the second body."""
    if not lines:
        return lines
    out: list[list[str]] = []  # items; joined loops as one item
    joined: set[int] = set()  # the items that are joined loops
    group: _Nest | None = None
    pending: list[str] = []  # comment lines after the last loop
    ranges = []
    names = []
    for header in outer:
        m = _RANGE_FOR.match(header.strip())
        if m is None:
            return lines
        ranges.append(np.arange(*(int(v) for v in m.group(2).split(",")), dtype=np.int64))
        names.append(m.group(1))
    for item in _level_items(lines, indent):
        first = item[0]
        if _is_comment(first) and len(item) == 1:
            pending.append(first)
            continue
        is_loop = _indent(first) == indent and first.strip().startswith("for ")
        nest = _analyse(item, indent, ranges, names) if is_loop else None
        if nest is not None and out and group is not None and out[-1][0] == first:
            if _joinable(group, nest):
                body_indent = " " * (indent + 4)
                out[-1] += [body_indent + c.strip() for c in pending] + item[1:]
                pending = []
                _absorb(group, nest)
                joined.add(len(out) - 1)
                continue
        out.extend([c] for c in pending)
        pending = []
        out.append(list(item))
        group = nest
    out.extend([c] for c in pending)
    result: list[str] = []
    for k, item in enumerate(out):
        first = item[0]
        if k in joined:  # the joined bodies' inner loops may now be adjacent
            result.append(first)
            result += fuse_nests(item[1:], indent + 4, (*outer, first))
        else:
            result += item
    return result


def _analyse(
    item: list[str], indent: int, ranges: list[np.ndarray], names: list[str]
) -> _Nest | None:
    text = "\n".join(line[indent:] if line.strip() else "" for line in item)
    return _nest_accesses(text, ranges, names)
