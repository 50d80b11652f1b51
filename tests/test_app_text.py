"""The app's English and Chinese texts are complete and consistent."""

from __future__ import annotations

import re
import string
from pathlib import Path

from planner.app_text import LANGUAGES, TEXTS, md_escape, tr

ROOT = Path(__file__).resolve().parent.parent


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_languages_have_the_same_placeholders() -> None:
    for key, (en, zh) in TEXTS.items():
        assert _fields(en) == _fields(zh), key
        assert en.strip(), key
        assert zh.strip(), key


def test_every_key_the_app_uses_exists() -> None:
    sources = [*ROOT.joinpath("app_pages").glob("*.py"), ROOT / "planner" / "plan_map.py"]
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in sources:
        text = path.read_text("utf-8")
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_]+)\"", text))
        used |= set(re.findall(r"\btr\(\s*\"([a-z0-9_]+)\"", text))
        used |= set(re.findall(r"\btr\(\s*'([a-z0-9_]+)'", text))
        prefixes |= set(re.findall(r"\bt\(f\"([a-z_]+)\{", text))
    assert used, "no text keys found: the pattern is out of date"
    assert sorted(used - set(TEXTS)) == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in TEXTS), prefix


def test_lookup_and_escaping() -> None:
    assert LANGUAGES == ("en", "zh")
    assert tr("added", "zh", id="S1") == "已添加服务站 S1。"
    assert tr("added", "en", id="S1") == "Station S1 added."
    assert md_escape("<script>alert(1)</script>") == r"\<script\>alert\(1\)\</script\>"
    assert md_escape("a_b*c") == r"a\_b\*c"
