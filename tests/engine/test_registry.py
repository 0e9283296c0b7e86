"""Models by name (engine.registry, the ``corridor.models`` entry points), and the rule that
``engine`` never imports ``models`` (DESIGN.md, "Rules of the house")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import EngineError
from engine.registry import GROUP, build_model, model_names

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = {
    "corridor",
    "corridor_five_region",
    "demography",
    "labour",
    "hump",
    "climate",
    "migration_system",
}


def test_registry_lists_the_bundled_models():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        GROUP
    ]
    assert set(declared) == BUNDLED
    assert all(
        value.startswith("models.") and value.endswith(":build") for value in declared.values()
    )
    names = model_names()
    missing = BUNDLED - set(names)
    assert not missing, (
        f"{sorted(missing)} are declared in pyproject.toml but not installed; "
        "refresh the install: pip install -e . --no-deps"
    )
    assert "example" in names


def test_build_by_name():
    model = build_model("example")
    assert isinstance(model, engine.Model) and model.name == "example"
    hump = build_model("hump", regions=["Northern Africa", "Europe"], stop=2030.0)
    assert hump.name == "hump" and list(hump.dims["region"].elements) == [
        "Northern Africa",
        "Europe",
    ]


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("corridr", {}, r"unknown model 'corridr'.*Did you mean 'corridor'"),
        ("data.build_wpp", {}, "unknown model 'data.build_wpp'"),  # never imported (issue 11, D18)
        ("models.corridor", {}, "unknown model 'models.corridor'"),
        ("example", {"scenario": "baseline"}, r"model 'example' takes no option scenario"),
        ("hump", {"scenario": "baseline"}, r"model 'hump' takes no option scenario.*'regions'"),
    ],
)
def test_only_registered_names_are_built(name, options, message):
    before = set(sys.modules)
    with pytest.raises(EngineError, match=message):
        build_model(name, **options)
    assert not {m for m in set(sys.modules) - before if m.startswith(("data", "models.data"))}


def test_cli_runs_registered_names_only(capsys):
    from engine.cli import main

    assert main(["run", "data.build_wpp"]) == 1
    assert "unknown model 'data.build_wpp'" in capsys.readouterr().err
    assert "models.data.build_wpp" not in sys.modules
    assert main(["describe", "example", "--json"]) == 0
    assert '"name": "example"' in capsys.readouterr().out


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by a source file (relative imports stay in engine)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
        ):
            out.append(ast.unparse(node.args[0]).strip("'\"f"))
    return out


def test_engine_never_imports_models():
    sources = sorted((ROOT / "engine").rglob("*.py"))
    assert len(sources) > 10
    offending = {
        str(path.relative_to(ROOT)): name
        for path in sources
        for name in _imports(path)
        if name == "models" or name.startswith("models.")
    }
    assert not offending, f"engine imports models: {offending}"
    # and at run time: importing every engine module leaves `models` unimported
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in sources
        if path.name != "__main__.py"
    ]
    code = (
        f"import importlib, sys\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'models' or m.startswith('models.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stdout
