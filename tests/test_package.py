"""Tests of the package's public API (``planner/__init__.py``): lazy, complete, typed."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import planner

INIT = Path(planner.__file__)


def test_every_public_name_loads_from_its_module() -> None:
    for name in planner.__all__:
        value = getattr(planner, name)
        if name != "__version__":
            module = importlib.import_module(planner._EXPORTS[name])
            assert value is getattr(module, name), name


def test_the_lazy_table_matches_the_imports_type_checkers_see() -> None:
    tree = ast.parse(INIT.read_text("utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If))  # `if TYPE_CHECKING:`
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == planner._EXPORTS
    assert set(planner.__all__) == {*typed, "__version__"}


def test_dir_lists_the_public_names_and_unknown_names_raise() -> None:
    assert set(planner.__all__) <= set(dir(planner))
    with pytest.raises(AttributeError, match="has no attribute 'analyse_coverage'"):
        _ = planner.analyse_coverage
    assert inspect.ismodule(planner.siting)  # a folder, as if imported with the package
    from planner import analyze_coverage

    assert analyze_coverage is planner.analyze_coverage
