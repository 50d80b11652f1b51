"""Errors: English by default, in the reader's language when raised with a catalogue key."""

from __future__ import annotations

import pickle

import pytest

from planner.errors import InputDataError, PlannerError, Term, UnsupportedFormatError
from planner.limits import InputLimitError, check_count
from planner.texts import error_text, word


def test_a_keyed_error_is_english_text_and_chinese_on_request() -> None:
    err = InputDataError(key="err_no_data_rows", file="a.csv")
    assert str(err) == "a.csv: the file has a header but no data rows."
    assert error_text(err, "en") == str(err)
    assert error_text(err, "zh") == "a.csv：文件只有表头，没有数据行。"
    assert isinstance(err, ValueError)


def test_terms_are_words_in_the_language_of_the_message() -> None:
    with pytest.raises(InputLimitError) as info:
        check_count("s.csv", 11, limit=10, what="rows", name="max_rows")
    err = info.value
    assert str(err).startswith("s.csv: more than 10 rows (the limit); refused before analysis.")
    assert "--limit max_rows=<more than 10>" in str(err)
    zh = error_text(err, "zh")
    assert zh.startswith("s.csv：行数量超过上限 10")
    assert "--limit max_rows=<大于 10 的值>" in zh
    assert word("no such words here").fallback == "no such words here"
    odd = InputDataError(
        key="err_no_usable_rows", file="f", what=word("odd things"), n=1, detail="x"
    )
    assert "no usable odd things rows" in str(odd)  # a word the catalogue lacks: as written


def test_an_error_without_a_key_is_framed_in_chinese() -> None:
    err = UnsupportedFormatError("x.docx: not a table")
    assert error_text(err, "en") == "x.docx: not a table"
    assert error_text(err, "zh") == "出现问题（详情暂只有英文）：x.docx: not a table"
    assert error_text(KeyError("k"), "zh").endswith("'k'")


def test_errors_keep_key_and_values_across_processes() -> None:
    err = InputDataError(key="err_duplicate_ids", file="s.csv", detail="'x' on rows [1, 2]")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InputDataError
    assert (str(back), back.key, dict(back.values)) == (str(err), err.key, dict(err.values))
    plain = pickle.loads(pickle.dumps(PlannerError("plain")))
    assert (str(plain), plain.key) == ("plain", None)


def test_replaced_names_the_upload_instead_of_the_temporary_file() -> None:
    err = InputDataError(key="err_file_empty", file="/tmp/x/up.csv")
    named = err.replaced("/tmp/x/up.csv", "up.csv")
    assert str(named).startswith("up.csv: the file is empty.")
    assert error_text(named, "zh").startswith("up.csv：文件为空")
    plain = InputDataError("/tmp/x/up.csv: bad").replaced("/tmp/x/up.csv", "up.csv")
    assert str(plain) == "up.csv: bad"


def test_term_values_fill_the_terms_own_placeholders() -> None:
    err = InputDataError(
        key="err_no_coordinate_column",
        file="f.csv",
        names="['lon']",
        columns="['lng']",
        hint=Term("did_you_mean", (("name", "'lng'"),)),
    )
    assert "Did you mean 'lng'?" in str(err)
    assert "是否应为 'lng'？" in error_text(err, "zh")
