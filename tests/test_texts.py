"""One text catalogue for the report, maps, CLI and app: complete in both languages."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from planner.errors import InputDataError
from planner.texts import LANGUAGES, TEXTS, check_language, md_escape, text

ROOT = Path(__file__).resolve().parents[1]


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_has_both_languages_with_the_same_fields() -> None:
    same = {"p_network", "p_stations", "stations", "map_layer_stations"}
    for key, (en, zh) in TEXTS.items():
        assert en.strip(), key
        assert zh.strip(), key
        assert fields(en) == fields(zh), key
        assert en != zh or key in same, key
        assert re.search(r"[\u4e00-\u9fff]", zh) or key in {"p_network"}, f"{key}: no Chinese"
    assert len(TEXTS) > 250


def test_every_key_the_code_uses_exists() -> None:
    sources = [*ROOT.joinpath("app_pages").glob("*.py"), *ROOT.joinpath("planner").rglob("*.py")]
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in sources:
        src = path.read_text("utf-8")
        used |= set(re.findall(r"\b(?:t|text|w\.t|words)\(\s*\"([a-z0-9_]+)\"", src))
        prefixes |= set(re.findall(r"\bt\(f\"([a-z_]+)\{", src))
    assert len(used) > 150, "few text keys found: the pattern is out of date"
    assert sorted(used - set(TEXTS)) == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in TEXTS), prefix


def test_text_fills_values_in_either_language() -> None:
    assert text("within_band", "en", minutes="5") == "People within 5 min"
    assert text("within_band", "zh", minutes="5") == "5 分钟内人口"
    assert text("title", "zh") == "服务站步行覆盖报告"
    assert text("station_added", "zh", id="S1") == "已添加服务站 S1。"
    assert text("station_added", "en", id="S1") == "Station S1 added."


def test_values_are_inserted_as_given_and_escaped_by_the_caller() -> None:
    assert text("m_population", "en", demand="<b>") == "Population: <b>."
    assert text("station_added", "en", id="{0} {x}") == "Station {0} {x} added."
    assert md_escape("<script>alert(1)</script>") == r"\<script\>alert\(1\)\</script\>"
    assert md_escape("a_b*c") == r"a\_b\*c"


def test_languages() -> None:
    assert LANGUAGES == ("en", "zh")
    assert check_language("zh") == "zh"
    with pytest.raises(InputDataError, match="en, zh"):
        check_language("fr")


def test_the_catalogue_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        TEXTS["title"] = ("x", "y")  # type: ignore[index]
