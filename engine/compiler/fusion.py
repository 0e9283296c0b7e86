"""Loop fusion of generated code."""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np

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

        def value(node: ast.AST) -> Any:
            if isinstance(node, ast.Constant) and type(node.value) is int:
                return node.value
            if isinstance(node, ast.Name) and node.id in self.grid:
                return self.grid[node.id]
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                inner = value(node.operand)
                return None if inner is None else -inner
            if isinstance(node, ast.BinOp) and type(node.op) in ops:
                left, right = value(node.left), value(node.right)
                if left is None or right is None:
                    return None
                return ops[type(node.op)](left, right)
            return None

        out = value(tree)
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
