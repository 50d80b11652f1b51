"""The package's layout holds: folders are the pipeline's stages and imports run one way.

Read from the source with ``ast`` (nothing is imported), so that a new module or a new
import that breaks the rules fails here, naming the module and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

#: Stages in the order data flows; a module may import its own stage and the ones before.
STAGES = {
    "base": 0,  # errors, config, limits, texts, _version: used everywhere
    "sources": 1,
    "walk": 2,
    "siting": 3,
    "report": 3,
    "pipeline": 4,
    "cli": 5,
    "app": 5,
}
#: Stages at the same level that must not import each other.
PEERS = ({"siting", "report"}, {"cli", "app"})
#: About 500 lines: a module past this holds two jobs (split it along its seam).
MAX_LINES = 520


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in STAGES:
        return parts[1]
    return "base"


def _imports(path: Path, *, top_level_only: bool) -> list[tuple[str, int]]:
    """The planner modules ``path`` imports, with their line numbers."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:
            continue  # `if TYPE_CHECKING:` blocks import nothing at run time
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "planner" or node.module.startswith("planner."):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.append((sub if sub in MODULES else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "planner" or alias.name.startswith("planner."):
                    found.append((alias.name, node.lineno))
    return found


#: The package's doors: its public API and ``python -m planner`` (the command line).
ENTRY_POINTS = ("planner", "planner.__main__")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in ENTRY_POINTS))
def test_imports_run_one_way(module: str) -> None:
    stage = _stage(module)
    for imported, line in _imports(MODULES[module], top_level_only=False):
        where = f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports {imported}"
        assert imported != "planner", f"{where}: import the module itself, not the package"
        target = _stage(imported)
        assert STAGES[target] <= STAGES[stage], f"{where}: {stage} cannot import {target}"
        for peers in PEERS:
            if stage in peers and target in peers:
                assert target == stage, f"{where}: {stage} and {target} are peers"


def test_no_import_loops() -> None:
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        for imported, _ in _imports(path, top_level_only=True):
            if imported in MODULES and imported != module:
                graph.add_edge(module, imported)
    graph.remove_node("planner")  # the public API imports everything; nothing imports it
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import loops: {cycles[:5]}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_hold_one_job(module: str) -> None:
    lines = len(MODULES[module].read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it along its seams"


def test_only_the_app_shells_import_streamlit_and_only_the_cli_parses_arguments() -> None:
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        names = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [])
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert "streamlit" not in names, f"{module} imports streamlit (only app.py, app_pages/)"
        if module != "planner.cli" and not module.startswith("planner.cli."):
            assert "argparse" not in names, f"{module} parses arguments (only the CLI does)"


def test_every_stage_is_a_folder() -> None:
    for stage in ("sources", "walk", "siting", "report", "app", "pipeline"):
        assert (PACKAGE / stage / "__init__.py").exists(), stage
