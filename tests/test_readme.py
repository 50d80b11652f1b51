"""The README's examples name modules and functions that exist (no stale import paths)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import planner

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.S)


def test_every_import_in_the_readme_resolves() -> None:
    blocks = _python_blocks()
    assert blocks, "the README has Python examples"
    checked = 0
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("planner")
            ):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
                    checked += 1
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "planner"
            ):
                assert hasattr(planner, node.attr), f"planner.{node.attr}"
                checked += 1
    assert checked > 10
