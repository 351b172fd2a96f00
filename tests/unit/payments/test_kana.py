"""Bank kana (the Zengin C-field character set): normalising, refusing, matching holder names."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.payments.core.kana import (
    ALLOWED,
    CORPORATE_ABBREVIATIONS,
    KanaRefused,
    KanaTooLong,
    holder_matches,
    is_bank_kana,
    to_bank_kana,
)

ZENGIN = Path(__file__).resolve().parents[4] / "shared" / "data" / "zengin"
SUBSTITUTIONS = ZENGIN / "zengin4j" / "formats" / "kana-substitutions.yaml"
BRANCHES = ZENGIN / "zengin-code-source-data" / "branches"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("きゃのん", "ｷﾔﾉﾝ"),
        ("キャノン", "ｷﾔﾉﾝ"),
        ("ｷｬﾉﾝ", "ｷﾔﾉﾝ"),
        ("ヴァイオリン", "ｳﾞｱｲｵﾘﾝ"),
        ("パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
        ("カ゛ス", "ｶﾞｽ"),  # a spacing voicing mark after the letter
        ("ｻﾄｳ", "ｻﾄｳ"),
        ("ｻﾄｳ ﾊﾅｺ", "ｻﾄｳ ﾊﾅｺ"),
        ("abc", "ABC"),
        ("ＡＢＣ１２３", "ABC123"),
        ("ー", "-"),
        ("ｰ", "-"),
        ("ジョージ", "ｼﾞﾖ-ｼﾞ"),
        ("ヶ", "ｹ"),
        ("\u3000ヤマダ\u3000\u3000タロウ  ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("（ア）．－／「イ」", "(ｱ).-/｢ｲ｣"),
        ("￥１００", "\\100"),
        ("¥", "\\"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert to_bank_kana(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("カブシキガイシャツナグ", "ｶ)ﾂﾅｸﾞ"),
        ("株式会社ツナグ", "ｶ)ﾂﾅｸﾞ"),
        ("株式会社 ツナグ", "ｶ)ﾂﾅｸﾞ"),
        ("ツナグ株式会社", "ﾂﾅｸﾞ(ｶ"),
        ("ツナグ 株式会社", "ﾂﾅｸﾞ(ｶ"),
        ("ツナグ株式会社トウキョウシシャ", "ﾂﾅｸﾞ(ｶ)ﾄｳｷﾖｳｼｼﾔ"),
        ("ツナグ 株式会社 トウキョウシシャ", "ﾂﾅｸﾞ(ｶ)ﾄｳｷﾖｳｼｼﾔ"),
        ("（株）ツナグ", "ｶ)ﾂﾅｸﾞ"),
        ("㍿ツナグ", "ｶ)ﾂﾅｸﾞ"),
        ("ｶﾌﾞｼｷｶﾞｲｼｬ ﾂﾅｸﾞ", "ｶ)ﾂﾅｸﾞ"),
        ("有限会社ツナグ", "ﾕ)ﾂﾅｸﾞ"),
        ("合同会社ツナグ", "ﾄﾞ)ﾂﾅｸﾞ"),
        ("一般社団法人ツナグ", "ｼﾔ)ﾂﾅｸﾞ"),
        ("社団法人ツナグ", "ｼﾔ)ﾂﾅｸﾞ"),
        ("社会福祉法人ツナグ", "ﾌｸ)ﾂﾅｸﾞ"),
        ("医療法人社団ツナグ", "ｲ)ﾂﾅｸﾞ"),
        ("医療法人ツナグ", "ｲ)ﾂﾅｸﾞ"),
        ("特定非営利活動法人ツナグ", "ﾄｸﾋ)ﾂﾅｸﾞ"),
        ("地方独立行政法人ツナグ", "ﾁﾄﾞｸ)ﾂﾅｸﾞ"),
    ],
)
def test_corporate_abbreviations(text: str, expected: str) -> None:
    assert to_bank_kana(text) == expected


def test_corporate_words_are_kept_when_not_corporate() -> None:
    assert to_bank_kana("カブシキガイシャツナグ", corporate=False) == "ｶﾌﾞｼｷｶﾞｲｼﾔﾂﾅｸﾞ"
    with pytest.raises(KanaRefused) as refused:
        to_bank_kana("株式会社ツナグ", corporate=False)
    assert (refused.value.char, refused.value.position) == ("株", 1)


def test_every_abbreviation_is_bank_kana() -> None:
    for word, short in CORPORATE_ABBREVIATIONS.items():
        assert is_bank_kana(to_bank_kana(f"{word}ア")), word
        assert to_bank_kana(f"ア{word}") == "ｱ(" + to_bank_kana(short)


@pytest.mark.parametrize(
    ("text", "char", "position"),
    [
        ("ア＊イ", "＊", 2),
        ("ヤマダ・タロウ", "・", 4),
        ("A&B", "&", 2),
        ("ア$", "$", 2),
        ("ア+", "+", 2),
        ("ア;", ";", 2),
        ("@", "@", 1),
        ("ア=", "=", 2),
        ("10%", "%", 3),
        ("ア,イ", ",", 2),
        ("ア、イ", "、", 2),
        ("ア。", "。", 2),
        ("山田", "山", 1),
        ("ヲ", "ヲ", 1),  # 付録1 excludes ｦ from name fields (zengin4j D-003)
        ("ｦ", "ｦ", 1),
        ("ア\tイ", "\t", 2),
        ("ゝ", "ゝ", 1),
        ("  ア*", "*", 4),  # positions count the input as given, before spaces are collapsed
    ],
)
def test_refusals_name_the_character_and_position(text: str, char: str, position: int) -> None:
    with pytest.raises(KanaRefused) as refused:
        to_bank_kana(text)
    assert (refused.value.char, refused.value.position) == (char, position)
    assert f"character {position}" in refused.value.en
    assert f"（{position}文字目）" in refused.value.ja
    assert isinstance(refused.value, ValueError)


def test_japanese_message_quotes_the_character() -> None:
    with pytest.raises(KanaRefused) as refused:
        to_bank_kana("アイ＊")
    assert refused.value.ja == "使用できない文字『＊』が含まれています（3文字目）。"


def test_max_length_refuses_instead_of_truncating() -> None:
    assert to_bank_kana("ガス", max_length=4) == "ｶﾞｽ"  # a voiced letter is two characters
    with pytest.raises(KanaTooLong) as refused:
        to_bank_kana("ガガ", max_length=3)
    assert isinstance(refused.value, KanaRefused)
    assert (refused.value.length, refused.value.max_length, refused.value.position) == (4, 3, 4)
    assert "3文字まで" in refused.value.ja


def test_allowed_set_is_one_cp932_byte_each() -> None:
    assert "\\".encode("cp932") == b"\x5c"
    assert all(len(c.encode("cp932")) == 1 for c in ALLOWED)
    assert {chr(cp) for cp in range(0xFF71, 0xFFA0)} <= ALLOWED
    assert not {"ｦ", "ｧ", "ｯ", "ｰ", "･", "a", "~", ","} & ALLOWED
    assert is_bank_kana("ｶ)ﾂﾅｸﾞ ABC-1.2/3\\｢｣")
    assert not is_bank_kana("ツナグ")


@pytest.mark.parametrize(
    ("registry", "account", "same"),
    [
        ("サトウ ハナコ", "ｻﾄｳ ﾊﾅｺ", True),
        ("サトウ ハナコ", "ｻﾄｳ ﾊﾅｴ", False),
        ("サトウ ハナコ", "ｻﾄｳﾊﾅｺ", True),  # the space between 氏 and 名 is not part of the name
        ("キャノン ミキ", "ｷﾔﾉﾝ ﾐｷ", True),
        ("キャノン ミキ", "ｷｬﾉﾝ ﾐｷ", True),
        ("キヤノン ミキ", "ｷｬﾉﾝ ﾐｷ", True),
        ("ジョージ スミス", "ｼﾞﾖ-ｼﾞ ｽﾐｽ", True),
        ("ヤマダ タロウ", "ﾔﾏﾀ ﾀﾛｳ", False),  # a voicing mark changes the name
        ("ヤマダ タロウ", "", False),
        ("", "", False),
        ("ヤマダ＊タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ", False),
    ],
)
def test_holder_matches(registry: str, account: str, same: bool) -> None:
    assert holder_matches(registry, account) is same


# --- properties -------------------------------------------------------------------------------------------------

NAME_CHARS = st.one_of(
    st.characters(min_codepoint=0x30A0, max_codepoint=0x30FF),  # katakana
    st.characters(min_codepoint=0x3040, max_codepoint=0x309F),  # hiragana
    st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),  # half-width katakana
    st.sampled_from("abcxyzABCXYZ0123456789 \u3000ＡＺａｚ０９"),
)
NAMES = st.text(NAME_CHARS, max_size=40)


def _normalise_or_none(text: str) -> str | None:
    try:
        return to_bank_kana(text)
    except KanaRefused:
        return None


@given(NAMES)
def test_normalises_or_refuses_never_anything_else(text: str) -> None:
    _normalise_or_none(text)


@given(st.text(max_size=30))
def test_any_text_normalises_or_refuses(text: str) -> None:
    _normalise_or_none(text)


@given(NAMES)
def test_idempotent_and_inside_the_allowed_set(text: str) -> None:
    out = _normalise_or_none(text)
    if out is None:
        return
    assert to_bank_kana(out) == out
    assert set(out) <= ALLOWED
    assert is_bank_kana(out)
    assert all(len(c.encode("cp932")) == 1 for c in out)
    assert out == out.strip()
    assert "  " not in out


@given(st.text(st.sampled_from(sorted(ALLOWED)), max_size=30))
def test_bank_kana_is_kept_as_it_is_but_for_spaces(text: str) -> None:
    assert to_bank_kana(text, corporate=False) == " ".join(text.split())


# --- real data from ../shared -----------------------------------------------------------------------------------


@pytest.mark.skipif(not BRANCHES.is_dir(), reason="../shared/data/zengin/zengin-code-source-data is not here")
def test_zengin_code_branch_kana_round_trip() -> None:
    kana = {
        branch["kana"]
        for path in sorted(BRANCHES.glob("*.json"))
        for branch in json.loads(path.read_text(encoding="utf-8")).values()
    }
    assert {"トウキヨウ", "シンジユク"} <= kana
    for name in kana:
        out = to_bank_kana(name, corporate=False)
        assert is_bank_kana(out), name
        assert unicodedata.normalize("NFKC", out) == unicodedata.normalize("NFKC", name), name
    assert to_bank_kana("トウキヨウ") == "ﾄｳｷﾖｳ"


@pytest.mark.skipif(
    not SUBSTITUTIONS.exists(), reason="../shared/data/zengin/zengin4j kana-substitutions.yaml is not here"
)
def test_substitution_facts_are_followed() -> None:
    yaml = pytest.importorskip("yaml")
    facts = yaml.safe_load(SUBSTITUTIONS.read_text(encoding="utf-8"))["substitutions"]
    assert len(facts) >= 20
    for fact in facts:
        source, target = fact["from"], fact["to"]
        out = _normalise_or_none(source)
        if out is None:  # refusing is allowed; then the refusal names the character
            with pytest.raises(KanaRefused) as refused:
                to_bank_kana(source)
            assert refused.value.char == source
            continue
        assert out == to_bank_kana(target), (source, target, out)
        assert is_bank_kana(out)
