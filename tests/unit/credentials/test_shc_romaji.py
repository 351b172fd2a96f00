"""The passport-Hepburn guess from katakana: the Ministry of Foreign Affairs' rules on known names, and for any
katakana only capital letters (what the overseas form accepts, or empty)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.credentials.services.shc_issuance import ROMAJI_NAME
from tsunagu.credentials.services.shc_romaji import hepburn


@pytest.mark.parametrize(
    ("kana", "romaji"),
    [
        ("ヤマダ", "YAMADA"),
        ("サトウ", "SATO"),  # long vowels are not written
        ("オオノ", "ONO"),
        ("ユウキ", "YUKI"),
        ("キョウコ", "KYOKO"),
        ("ショウヘイ", "SHOHEI"),  # EI is written
        ("ジュンペイ", "JUMPEI"),  # N before P is M
        ("ナンバ", "NAMBA"),
        ("ハットリ", "HATTORI"),  # small tsu doubles the consonant
        ("マッチ", "MATCHI"),  # and is T before CH
        ("シンイチ", "SHINICHI"),
        ("ツヅキ", "TSUZUKI"),
        ("フジ", "FUJI"),
        ("ルーシー", "RUSHI"),
    ],
)
def test_known_names(kana: str, romaji: str) -> None:
    assert hepburn(kana) == romaji


@given(st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30FC), max_size=12))
def test_any_katakana_gives_capital_letters_only(kana: str) -> None:
    out = hepburn(kana)
    assert out == "" or ROMAJI_NAME.fullmatch(out)
