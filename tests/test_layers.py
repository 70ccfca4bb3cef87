"""The layers of docs/architecture.md hold in the code: every file of src/stances is listed in
exactly one layer, imports only from its own layer or below (never in a circle), and the heavy
libraries stay in their rooms. Imports are read from the source (every import statement, in
functions and TYPE_CHECKING blocks too), not from what happens to be loaded."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "stances"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# third-party packages and the only rooms that may import them (None: no room may)
CONFINED = {
    "mesa": {
        "engine/model.py",
        "engine/ensemble.py",
        "app.py",  # the app: Mesa's SolaraViz
    },  # ensemble: Mesa 3.3 keeps every model (mesa#3179)
    "matplotlib": {
        "plots/common.py",
        "plots/relations.py",
        "plots/compare.py",
        "plots/calibration.py",
        "plots/explain.py",
        "plots/sensitivity.py",
        "plots/network.py",
        "notebook.py",  # renders figures for notebooks (its types only)
        "plots/discover.py",
    },
}
NO_PANDAS_UNDER = ("scenario/", "engine/")


def documented_layers() -> dict[str, int]:
    """file (relative to src/stances) -> layer number, from the tables of architecture.md."""
    layers: dict[str, int] = {}
    layer = None
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## Layer (\d+)", line)
        if heading:
            layer = int(heading.group(1))
            continue
        if line.startswith("## "):
            layer = None
        row = re.match(r"\| `([^`]+\.py)` \|", line)
        if row and layer is not None:
            assert row.group(1) not in layers, f"{row.group(1)} is listed twice"
            layers[row.group(1)] = layer
    return layers


def module_of(path: Path) -> str:
    """src/stances/engine/model.py -> 'stances.engine.model'; __init__ -> the package."""
    parts = ["stances", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Every module name an import statement of the file names (absolute; relative imports are
    resolved against the file's package, by default the one it stands in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if package is None:
        name = module_of(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            out.add(base)
            # `from stances import api` imports the module stances.api
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def own_modules() -> dict[str, Path]:
    return {module_of(p): p for p in source_files()}


def stances_imports(path: Path) -> set[str]:
    """The package's own modules the file imports (names that are modules, not attributes).

    The package itself (`stances`, its __init__) is left out: Python loads it before any
    `stances.x`, whoever imports it, and it only re-exports names lazily."""
    modules = own_modules()
    return {
        name
        for name in imports_of(path)
        if name in modules and name not in (module_of(path), "stances")
    }


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_every_file_is_listed_in_exactly_one_layer():
    layers = documented_layers()
    files = {relative(p) for p in source_files()}
    assert files - set(layers) == set(), "add these files to docs/architecture.md"
    assert set(layers) - files == set(), "docs/architecture.md lists files that do not exist"


@pytest.mark.parametrize("path", source_files(), ids=relative)
def test_imports_go_down_the_layers(path):
    layers = documented_layers()
    modules = own_modules()
    mine = layers[relative(path)]
    for name in sorted(stances_imports(path)):
        theirs = layers[relative(modules[name])]
        assert theirs <= mine, f"{relative(path)} (layer {mine}) imports {name} (layer {theirs})"


def test_no_import_circles():
    modules = own_modules()
    graph = {name: stances_imports(path) for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("path", source_files(), ids=relative)
def test_heavy_libraries_stay_in_their_rooms(path):
    names = {name.split(".")[0] for name in imports_of(path)}
    where = relative(path)
    for library, rooms in CONFINED.items():
        if library in names:
            assert where in rooms, f"{where} imports {library}; only {sorted(rooms)} may"
    if where.startswith(NO_PANDAS_UNDER):
        assert "pandas" not in names, f"{where} imports pandas"


def test_the_checker_sees_a_violation(tmp_path):
    """The import reader is not blind: a function-level import counts, relative ones resolve."""
    fake = PACKAGE / "scenario" / "builder.py"
    assert "stances.scenario.whatif" in imports_of(fake)
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from stances import plots\n    import mesa.time\n")
    assert {"stances.plots", "mesa.time"} <= imports_of(probe, package="stances")
    relative_import = tmp_path / "relative.py"
    relative_import.write_text("from ..result import Result\n")
    assert "stances.result" in imports_of(relative_import, package="stances.analysis")
