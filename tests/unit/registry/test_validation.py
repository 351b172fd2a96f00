"""Validation of typed values (:mod:`tsunagu.registry.core.validation`)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.kernel.errors import InvalidInput
from tsunagu.registry.core.validation import (
    MAX_AGE_YEARS,
    age_on,
    check_birth_date,
    clean_kana,
    clean_text,
    parse_date,
    to_katakana,
)

TODAY = dt.date(2026, 11, 26)


# --- kana -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "katakana"),
    [
        ("やまだ", "ヤマダ"),  # hiragana
        ("ﾔﾏﾀﾞ", "ヤマダ"),  # half-width katakana, the voiced mark joined to its letter
        ("ｶﾞｯｺｳ", "ガッコウ"),
        ("ﾊﾟﾝ", "パン"),  # half-width semi-voiced mark
        ("ヤマダ", "ヤマダ"),  # already full-width katakana
        ("ゔぁ", "ヴァ"),  # hiragana vu and small a
        ("きょうこ", "キョウコ"),  # small ya/yu/yo
        ("ｰ", "ー"),  # half-width prolonged sound mark
        ("さとう　はなこ", "サトウ ハナコ"),  # NFKC: the full-width space becomes a plain space
    ],
)
def test_kana_is_converted_to_full_width_katakana(written: str, katakana: str) -> None:
    assert to_katakana(written) == katakana


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), min_size=1, max_size=20))
def test_every_hiragana_letter_has_its_katakana(hiragana: str) -> None:
    katakana = to_katakana(hiragana)
    assert len(katakana) == len(hiragana)
    assert all(0x30A1 <= ord(c) <= 0x30F6 for c in katakana)
    assert clean_kana(hiragana, "kana") == katakana


@pytest.mark.parametrize(
    ("written", "cleaned"),
    [("  やまだ ", "ヤマダ"), ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"), ("スズキ", "スズキ"), ("ヴィー", "ヴィー")],
)
def test_clean_kana_accepts_kana_and_trims(written: str, cleaned: str) -> None:
    assert clean_kana(written, "family_name_kana") == cleaned


@pytest.mark.parametrize("written", ["Yamada", "山田", "ヤマダ1", "ヤマ\u200bダ", "ヤマ\nダ", "", "   "])
def test_clean_kana_refuses_anything_but_katakana(written: str) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_kana(written, "family_name_kana")
    assert info.value.extra == {"field": "family_name_kana"}


def test_clean_kana_refuses_over_long_readings() -> None:
    clean_kana("ア" * 100, "kana")
    with pytest.raises(InvalidInput, match="at most 100"):
        clean_kana("ア" * 101, "kana")


# --- text -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "control",
    ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u200b", "\u200e", "\u202e", "\ufeff"],
    ids=repr,
)
def test_control_and_format_characters_are_refused(control: str) -> None:
    with pytest.raises(InvalidInput, match="control characters") as info:
        clean_text(f"山{control}田", "family_name", max_len=50)
    assert info.value.extra == {"field": "family_name"}


def test_clean_text_normalises_trims_and_limits() -> None:
    assert clean_text("  山田\u3000", "family_name", max_len=50) == "山田"  # full-width space trimmed
    assert clean_text("Ame\u0301lie", "given_name", max_len=50) == "Amélie"  # NFC: one code point
    assert clean_text("髙橋", "family_name", max_len=50) == "髙橋"  # 異体字 are kept as written
    assert clean_text("a" * 50, "f", max_len=50) == "a" * 50
    with pytest.raises(InvalidInput, match="at most 50"):
        clean_text("a" * 51, "f", max_len=50)


def test_a_required_value_must_not_be_blank() -> None:
    for blank in ("", "   ", "\u3000"):
        with pytest.raises(InvalidInput, match="required"):
            clean_text(blank, "town", max_len=100)
        assert clean_text(blank, "building", max_len=100, required=False) == ""


@given(st.text(max_size=60))
def test_clean_text_either_refuses_or_returns_clean_text(value: str) -> None:
    try:
        cleaned = clean_text(value, "f", max_len=50, required=False)
    except InvalidInput:
        return
    assert cleaned == cleaned.strip()
    assert len(cleaned) <= 50
    assert clean_text(cleaned, "f", max_len=50, required=False) == cleaned


# --- dates ------------------------------------------------------------------------------------------------


def test_a_future_birth_date_is_refused() -> None:
    assert check_birth_date(TODAY, TODAY) == TODAY  # born today is fine
    with pytest.raises(InvalidInput, match="future") as info:
        check_birth_date(TODAY + dt.timedelta(days=1), TODAY)
    assert info.value.extra == {"field": "birth_date"}


def test_a_birth_date_more_than_the_maximum_age_ago_is_refused() -> None:
    oldest = dt.date(TODAY.year - MAX_AGE_YEARS, 1, 1)
    assert check_birth_date(oldest, TODAY) == oldest
    with pytest.raises(InvalidInput, match=f"{MAX_AGE_YEARS} years"):
        check_birth_date(dt.date(TODAY.year - MAX_AGE_YEARS - 1, 12, 31), TODAY)


@pytest.mark.parametrize("text", ["2026-02-30", "26-11-2026", "2026/11/26", "", "令和8年", "2026-1-5x"])
def test_parse_date_refuses_anything_but_an_iso_date(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_date(text, "effective_date")


def test_parse_date_reads_an_iso_date() -> None:
    assert parse_date(" 2024-02-29 ", "d") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(2000, 11, 26), TODAY, 26),  # birthday today
        (dt.date(2000, 11, 27), TODAY, 25),  # birthday tomorrow
        (dt.date(2004, 2, 29), dt.date(2026, 2, 28), 21),
        (dt.date(2004, 2, 29), dt.date(2026, 3, 1), 22),
        (TODAY, TODAY, 0),
    ],
)
def test_age_in_completed_years(birth: dt.date, on: dt.date, age: int) -> None:
    assert age_on(birth, on) == age


def test_katakana_middle_dot_is_accepted_for_foreign_names() -> None:
    assert clean_kana("スミス・ジョン", "given_name_kana") == "スミス・ジョン"
