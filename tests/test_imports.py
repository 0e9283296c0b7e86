"""The engine's import graph: no cycles among its modules, and stages import only earlier stages.

Every ``import`` and ``from ... import`` in ``engine/**/*.py`` counts, those inside functions
too (a deferred import hides a loop from Python at import time, not from a reader); only
imports under ``if TYPE_CHECKING:`` are left out, since they never run. A package's
``__init__`` is the façade over its modules: importing ``engine.store.zarr`` runs
``engine/store/__init__.py`` first, but that implicit edge is not counted (else every module
would import the whole package); an explicit import of a package (``from . import X`` where X
is a name defined in ``engine/__init__.py``) is.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "engine"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph() -> dict[str, set[str]]:
    """module -> the engine modules it imports (anywhere in its source)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skipped = _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in modules else source)
            for target in targets:
                # "import engine.x.y" names engine.x.y; keep the longest engine module named
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path a -> ... -> a) per strongly connected component that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    out = []
    for component in components:
        members = set(component)
        start = component[0]
        path, seen = [start], {start}
        while True:  # walk inside the component until a module repeats
            successor = sorted(graph[path[-1]] & members)[0]
            if successor in seen:
                out.append(path[path.index(successor) :] + [successor])
                break
            path.append(successor)
            seen.add(successor)
    return out


def test_the_graph_sees_deferred_and_relative_imports():
    graph = import_graph()
    assert "engine.store.zarr" in graph["engine.store"]  # from .zarr import ...
    assert "engine.store.integrity" in graph["engine.store.zarr"]  # from . import integrity
    assert "engine.errors" in graph["engine.store.zarr"]  # from ..errors import ...
    assert "engine.vensim" in graph["engine"]  # deferred, inside load()
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycle_among_engine_modules():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


# The stages of DESIGN.md's data flow, earliest first. A module may import modules of its own
# stage (the test above keeps those acyclic) and of earlier stages, never of a later one. A
# package stands for its modules ("engine.compiler" is engine/compiler/*.py).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    # what every stage may use: errors, memory budgets, the builtin table, the equation
    # parser, the version, the checks of generated source and of output paths
    (
        "foundation",
        (
            "engine._version",
            "engine.errors",
            "engine.budgets",
            "engine.builtins",
            "engine.equations",
            "engine.codecheck",
            "engine.files",
        ),
    ),
    ("spec", ("engine.spec",)),
    # the private cache directory and the JSON form of a Model (parsed models; kernels)
    ("cache", ("engine.cache",)),
    # where models come from: Vensim/XMILE files, the example, entry points
    ("front-ends", ("engine.vensim", "engine.examples", "engine.registry")),
    # checks of a whole model before it is compiled: units
    ("checks", ("engine.units",)),
    ("graph", ("engine.graph",)),
    ("compiler", ("engine.compiler",)),
    ("solvers", ("engine.solvers", "engine.kernels")),
    ("simulation", ("engine.times", "engine.frame", "engine.simulation")),
    ("ensemble", ("engine.ensemble", "engine.sampling", "engine.priors")),
    ("store", ("engine.store",)),
    ("analyze", ("engine.analyze", "engine.calibration", "engine.backtest")),
    (
        "presentation",
        (
            "engine.plot",
            "engine.tables",
            "engine.report",
            "engine.exports",
            "engine.comparison",
            "engine.description",
        ),
    ),
    # the public API: engine/__init__.py re-exports the verbs and results
    ("api", ("engine",)),
    # over the public API; nothing in engine imports them
    ("tools", ("engine.cli", "engine.testing")),
]

# The verbs sit on top of the stages and chain them: each may import any stage below
# the public API (run_ensemble writes a store and summarises it with analyze), and the verbs
# before it (an ensemble and a calibration run what simulate runs; a backtest runs either).
VERBS = ("engine.simulation", "engine.ensemble", "engine.calibration", "engine.backtest")

# Imports against the order, each for a reason.
EXCEPTIONS = {
    # The solvers are source templates and the kernels the helpers that generated code calls:
    # the compiler writes both into each model's module (engine.solvers.SOURCE, HOOKS, METHODS;
    # engine.kernels.NAMES), so it reads them although they run after it. Neither imports an
    # engine module.
    ("engine.compiler.assembly", "engine.solvers"),
    ("engine.compiler.assembly", "engine.kernels"),
    ("engine.compiler.loading", "engine.solvers"),
    ("engine.compiler.loading", "engine.kernels"),
    # compiler.native links the helpers' compiled code into the functions it translates,
    # calling them as the generated module does
    ("engine.compiler.native", "engine.kernels"),
}


def stage_of(module: str) -> int:
    """The index in STAGES of the stage holding ``module`` (its package's, for a submodule)."""
    for index, (_, members) in enumerate(STAGES):
        if any(module == m or (m != PACKAGE and module.startswith(m + ".")) for m in members):
            return index
    raise KeyError(module)


def test_every_engine_module_has_a_stage():
    unplaced = sorted(m for m in import_graph() if _stage_or_none(m) is None)
    assert not unplaced, f"place {unplaced} in a stage of STAGES (tests/test_imports.py)"


def _stage_or_none(module: str) -> int | None:
    try:
        return stage_of(module)
    except KeyError:
        return None


def _allowed(module: str, target: str) -> bool:
    if (module, target) in EXCEPTIONS:
        return True
    api = [name for name, _ in STAGES].index("api")
    if module in VERBS:
        if target in VERBS:
            return VERBS.index(target) < VERBS.index(module)
        return stage_of(target) < api
    if target in VERBS:  # the stages are libraries: only the API and the tools use a verb
        return stage_of(module) >= api
    return stage_of(target) <= stage_of(module)


def order_violations(graph: dict[str, set[str]]) -> list[str]:
    """``module -> target (stage -> later stage)`` for each import against STAGES."""
    out = []
    for module in sorted(graph):
        for target in sorted(graph[module]):
            if not _allowed(module, target):
                what = "the verb" if target in VERBS else STAGES[stage_of(target)][0]
                out.append(f"{module} -> {target} ({STAGES[stage_of(module)][0]} imports {what})")
    return out


def test_stages_import_only_earlier_stages():
    found = order_violations(import_graph())
    assert not found, "imports against the stage order: " + "; ".join(found)


def test_the_stage_rule_is_enforced():
    graph = {
        "engine.errors": {"engine.spec"},
        "engine.graph": {"engine.spec"},
        "engine.store.zarr": {"engine.ensemble"},
        "engine.ensemble": {"engine.analyze"},
        "engine.simulation": {"engine.ensemble"},
        "engine.analyze": {"engine.calibration"},
        "engine.cli": {"engine", "engine.simulation"},
    }
    assert order_violations(graph) == [
        "engine.analyze -> engine.calibration (analyze imports the verb)",
        "engine.errors -> engine.spec (foundation imports spec)",
        "engine.simulation -> engine.ensemble (simulation imports the verb)",
        "engine.store.zarr -> engine.ensemble (store imports the verb)",
    ]
    assert [name for name, _ in STAGES].index("api") < stage_of("engine.cli")


def test_the_architecture_page_places_every_stage_module():
    """docs/architecture.md names each module of STAGES in its table of stages."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    table = page[page.index("## Stages") : page.index("## The verbs")]
    missing = []
    for _, members in STAGES:
        for member in members:
            short = member.removeprefix(PACKAGE + ".")
            found = (
                (f"`{short}`" in table or f"`{short}/`" in table)
                if member != PACKAGE
                else "`engine/__init__.py`" in table
            )
            if not found:
                missing.append(member)
    assert not missing, f"docs/architecture.md does not place {missing}"
