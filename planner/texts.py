"""Every word the planner shows a person, in English and Chinese: one catalogue.

The report, its map and charts, the command line's messages and the app all look their text
up here by key, with :func:`text`. Placeholders are ``str.format`` fields and both languages
of a key have the same fields (``tests/test_texts.py`` checks every key). Values that come
from users (station names, file names) are passed in as values, never written into the
templates, and escaped by the caller for where they are shown (:func:`md_escape` for the
app's Markdown, ``html.escape`` for pages, ``planner.report.maps.map_text`` for maps).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from planner.errors import InputDataError, PlannerError, Term

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: key -> (English, Chinese), from ``texts.toml`` beside this module (read once).
TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        key: (pair[0], pair[1])
        for key, pair in tomllib.loads(
            (Path(__file__).with_name("texts.toml")).read_text("utf-8")
        ).items()
    }
)


def check_language(language: str) -> Language:
    """Return ``language`` when it is one of :data:`LANGUAGES`, else raise InputDataError."""
    for lang in LANGUAGES:
        if language == lang:
            return lang
    msg = f"language must be one of {', '.join(LANGUAGES)}, got {language!r}."
    raise InputDataError(msg)


def text(key: str, language: Language, **values: object) -> str:
    """The text of ``key`` in ``language``, with ``values`` filled in (not escaped).

    Parameters
    ----------
    key
        A key of :data:`TEXTS`.
    language
        ``"en"`` or ``"zh"``.
    **values
        Values of the template's placeholders.
    """
    en, zh = TEXTS[key]
    template = zh if language == "zh" else en
    return template.format(**values) if values else template


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md_escape(text: str) -> str:
    """``text`` with Markdown and HTML characters backslash-escaped.

    Streamlit's Markdown then shows it literally: a station named ``<script>`` stays text.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def text_with_terms(key: str, language: Language, values: Mapping[str, object]) -> str:
    """:func:`text`, with every :class:`~planner.errors.Term` value looked up too."""
    filled = {k: _term_text(v, language) if isinstance(v, Term) else v for k, v in values.items()}
    return text(key, language, **filled)


def _term_text(term: Term, language: Language) -> str:
    if term.key not in TEXTS:
        return term.fallback
    return text(term.key, language, **dict(term.values))


def word(words: str) -> Term:
    """English words used in an error's message, as a term: ``kind_<words>`` in the catalogue.

    The English words themselves are shown where the catalogue lacks the key.
    """
    return Term("kind_" + re.sub(r"\W+", "_", words).strip("_"), fallback=words)


def error_text(err: BaseException, language: Language) -> str:
    """An error's message in ``language``.

    Errors raised with a catalogue key (:class:`~planner.errors.PlannerError`) are shown
    in the language; any other error keeps its English message, framed in the language.
    """
    if isinstance(err, PlannerError) and err.key is not None:
        return text_with_terms(err.key, language, err.values)
    if language == "en":
        return str(err)
    return text("error_in_english", language, detail=str(err))
