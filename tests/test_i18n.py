"""The report's translation table: complete in both languages, same placeholders."""

from __future__ import annotations

import string

import pytest

from planner.errors import InputDataError
from planner.i18n import LANGUAGES, TEXTS, check_language, text


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_text_has_both_languages_with_the_same_fields() -> None:
    same = {"p_network", "p_stations", "stations", "map_layer_stations"}
    for key, (en, zh) in TEXTS.items():
        assert en.strip(), key
        assert zh.strip(), key
        assert fields(en) == fields(zh), key
        assert en != zh or key in same, key
    assert len(TEXTS) > 100


def test_text_fills_values_in_either_language() -> None:
    assert text("within_band", "en", minutes="5") == "People within 5 min"
    assert text("within_band", "zh", minutes="5") == "5 分钟内人口"
    assert text("title", "zh") == "服务站步行覆盖报告"


def test_values_are_inserted_as_given() -> None:
    # Escaping is the caller's job (it escapes the whole formatted text).
    assert text("m_population", "en", demand="<b>") == "Population: <b>."


def test_languages() -> None:
    assert LANGUAGES == ("en", "zh")
    assert check_language("zh") == "zh"
    with pytest.raises(InputDataError, match="en, zh"):
        check_language("fr")
