"""Bank kana: the half-width character set of Zengin C fields (振込依頼人名, 受取人名, 支店名 …).

A name reaches a Zengin file as JIS X 0201 text: half-width katakana with the voicing marks ﾞ ﾟ as separate
characters, digits, upper-case Latin, the space and a few symbols, each one byte in cp932 (Shift_JIS as
Windows writes it). :func:`to_bank_kana` turns what people type or what the registry keeps (full-width
katakana, hiragana, half-width katakana, full-width Latin) into that set, and refuses, naming the character
and its position, whatever it cannot write. It never drops or truncates a character silently.

The steps, each a fact from the sources rather than a taste:

- width and script: NFKC folds half-width to full-width and full-width Latin to ASCII; hiragana becomes
  katakana; the full-width → half-width table is derived from the half-width block U+FF61–U+FF9F itself
  (each character NFKC-widened, voiced forms composed with NFC), never typed by hand;
- small kana are written full size (キャノン → ｷﾔﾉﾝ) and the long vowel ー as a hyphen ``-``: no name field
  admits ｧ–ｯ or ｰ (zengin4j ``kana-substitutions.yaml``; japan-systems §3.3, jinjer FAQ);
- lower-case Latin is upper-cased (MUFG FAQ 811);
- corporate forms are abbreviated the way banks write them (:data:`CORPORATE_ABBREVIATIONS`);
- anything else outside :data:`ALLOWED` — kanji, ヲ/ｦ, ・ * & $ + ; @ = % , — is refused (:class:`KanaRefused`).

ｦ is refused: the 全銀協 付録1 rule still applied by the institutions consulted excludes it from name fields
(zengin4j DISCREPANCIES D-003). The symbol set is the wider one of §3.3 (``( ) . - / ｢ ｣ \\``); a
stricter field validator may narrow it. ``\\`` is 0x5C, which JIS X 0201 shows as the yen sign, so ``¥`` and
``￥`` are written as ``\\``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "ALLOWED",
    "CORPORATE_ABBREVIATIONS",
    "KanaRefused",
    "KanaTooLong",
    "holder_matches",
    "is_bank_kana",
    "to_bank_kana",
]

_VOICED_MARK: Final = "\uff9e"  # ﾞ
_SEMI_VOICED_MARK: Final = "\uff9f"  # ﾟ

# ｱ (U+FF71) to ﾝ (U+FF9D): the full-size half-width kana. ｦ (U+FF66) and the small kana ｧ–ｯ (U+FF67–U+FF6F)
# sit before ｱ in the block and are deliberately outside the range; so are ｰ (U+FF70) and ･ (U+FF65).
_HALF_KANA: Final = frozenset(chr(cp) for cp in range(0xFF71, 0xFF9E))
_ASCII: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().-/\\")

ALLOWED: Final[frozenset[str]] = _HALF_KANA | _ASCII | {_VOICED_MARK, _SEMI_VOICED_MARK, "\uff62", "\uff63"}
"""Every character a bank-kana name may contain (each is one byte in cp932)."""


# --- the mechanical tables, derived from Unicode ---------------------------------------------------------------


def _narrowing_table() -> dict[str, str]:
    """Full-width katakana (and 「」。、・ー) → half-width, voiced forms as base + ﾞ/ﾟ.

    NFKC widens every half-width character, so inverting it over U+FF61–U+FF9F gives the plain pairs; a
    voiced or semi-voiced letter is whatever NFC composes from a base and the combining mark (ガ, パ, ヴ).
    """
    table: dict[str, str] = {}
    for cp in range(0xFF61, 0xFFA0):
        half = chr(cp)
        table[unicodedata.normalize("NFKC", half)] = half
    for full, half in list(table.items()):
        for combining, mark in (("\u3099", _VOICED_MARK), ("\u309a", _SEMI_VOICED_MARK)):
            composed = unicodedata.normalize("NFC", full + combining)
            if len(composed) == 1 and composed != full:
                table[composed] = half + mark
    return table


def _full_size_table() -> dict[str, str]:
    """Small katakana → full-size (ァ → ア, ッ → ツ, ヵ → カ, ㇰ → ク), found by Unicode name."""
    table: dict[str, str] = {}
    for cp in (*range(0x30A1, 0x30FB), *range(0x31F0, 0x3200)):
        name = unicodedata.name(chr(cp), "")
        if name.startswith("KATAKANA LETTER SMALL "):
            table[chr(cp)] = unicodedata.lookup(name.replace("SMALL ", "", 1))
    return table


_NARROW: Final = _narrowing_table()
_FULL_SIZE: Final = _full_size_table()

# What NFKC does not do, or does unhelpfully: the spacing voicing marks ゛゜ (NFKC makes them a space plus a
# combining mark), the long vowel and hyphen-like dashes (written as "-"), the yen sign (JIS X 0201 0x5C).
_BEFORE_NFKC: Final = {"\u309b": "\u3099", "\u309c": "\u309a", "\uff70": "-"}
_AFTER_NFKC: Final = {
    "\u30fc": "-",  # ー prolonged sound mark: the standard writes a long vowel as a hyphen
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\u2212": "-",  # − minus sign
    "\u00a5": "\\",  # ¥ (also what NFKC makes of ￥): 0x5C in JIS X 0201 and cp932
}


def _widen_letter(c: str) -> str:
    if "\u3041" <= c <= "\u3096":  # hiragana → katakana (ぁ–ゖ → ァ–ヶ)
        c = chr(ord(c) + 0x60)
    c = _FULL_SIZE.get(c, c)
    c = _AFTER_NFKC.get(c, c)
    return c.upper() if "a" <= c <= "z" else c


def _widen(char: str) -> str:
    """One input character in the wide, full-size form the rules below work on (may become several: ㍿)."""
    return "".join(_widen_letter(c) for c in unicodedata.normalize("NFKC", _BEFORE_NFKC.get(char, char)))


# --- corporate abbreviations ------------------------------------------------------------------------------------

CORPORATE_ABBREVIATIONS: Final[dict[str, str]] = {
    # 法人略語, as listed by 京葉銀行 「入力できる文字」 and the 別表 of the bank rules at expydoc 7181036;
    # the placement rule (カ) at the start, (カ) in the middle, (カ at the end) is 常陽銀行's (japan-systems §3.3).
    "株式会社": "カ",
    "有限会社": "ユ",
    "合名会社": "メ",
    "合資会社": "シ",
    "合同会社": "ド",
    "相互会社": "ソ",
    "医療法人": "イ",
    "医療法人社団": "イ",
    "医療法人財団": "イ",
    "社会医療法人": "イ",
    "財団法人": "ザイ",
    "一般財団法人": "ザイ",
    "公益財団法人": "ザイ",
    "社団法人": "シヤ",
    "一般社団法人": "シヤ",
    "公益社団法人": "シヤ",
    "学校法人": "ガク",
    "社会福祉法人": "フク",
    "宗教法人": "シユウ",
    "特定非営利活動法人": "トクヒ",
    "独立行政法人": "ドク",
    "地方独立行政法人": "チドク",
    "国立大学法人": "ダイ",
    "公立大学法人": "ダイ",
    "弁護士法人": "ベン",
    "税理士法人": "ゼイ",
    "司法書士法人": "シホウ",
    "行政書士法人": "ギヨ",
    "農事組合法人": "ノウ",
    # The same forms spelt out in kana (after small kana are made full size) and the common short forms.
    "カブシキガイシヤ": "カ",
    "カブシキカイシヤ": "カ",
    "ユウゲンガイシヤ": "ユ",
    "ユウゲンカイシヤ": "ユ",
    "ゴウドウガイシヤ": "ド",
    "(株)": "カ",
    "(有)": "ユ",
}
"""Legal-entity words and the kana banks write for them (keys in the widened form the normaliser matches)."""

_CORPORATE_RE: Final = re.compile(
    " ?(" + "|".join(re.escape(k) for k in sorted(CORPORATE_ABBREVIATIONS, key=len, reverse=True)) + ") ?"
)


# --- errors ------------------------------------------------------------------------------------------------------


class KanaRefused(ValueError):
    """A character that bank kana cannot hold; ``position`` is 1-based in the text given (``en``/``ja``)."""

    def __init__(self, char: str, position: int, *, en: str = "", ja: str = "") -> None:
        code = f"U+{ord(char):04X}"
        shown, label = (
            (char, f"'{char}' ({code})") if char.isprintable() and not char.isspace() else (code, code)
        )
        self.char, self.position = char, position
        self.en = en or f"The character {label} cannot be written in bank kana (character {position})."
        self.ja = ja or f"使用できない文字『{shown}』が含まれています（{position}文字目）。"
        super().__init__(self.en)


class KanaTooLong(KanaRefused):
    """The bank-kana text is longer than the field; ``char`` is the first character that does not fit."""

    def __init__(self, text: str, max_length: int) -> None:
        self.length, self.max_length = len(text), max_length
        super().__init__(
            text[max_length],
            max_length + 1,
            en=f"The name is {len(text)} characters in bank kana; the field holds {max_length}.",
            ja=f"カナ名義が{len(text)}文字あります。この欄には{max_length}文字までしか入りません。",
        )


# --- the normaliser ----------------------------------------------------------------------------------------------

_Chars = list[
    tuple[str, int]
]  # each working character with the 0-based index of the input character it came from


def _abbreviate(chars: _Chars) -> _Chars:
    text = "".join(c for c, _ in chars)
    out: _Chars = []
    at = 0
    for m in _CORPORATE_RE.finditer(text):
        out.extend(chars[at : m.start()])
        short = CORPORATE_ABBREVIATIONS[m.group(1)]
        if m.start() == 0:
            short = f"{short})"
        elif m.end() == len(text):
            short = f"({short}"
        else:
            short = f"({short})"
        origin = chars[m.start(1)][1]
        out.extend((c, origin) for c in short)
        at = m.end()
    out.extend(chars[at:])
    return out


def _compose_marks(chars: _Chars) -> _Chars:
    """Join a combining voicing mark to the letter before it (カ + ゙ → ガ), so ｶﾞ and ガ read the same."""
    out: _Chars = []
    for c, i in chars:
        if c in "\u3099\u309a" and out:
            composed = unicodedata.normalize("NFC", out[-1][0] + c)
            if len(composed) == 1:
                out[-1] = (composed, out[-1][1])
                continue
        out.append((c, i))
    return out


def _collapse_spaces(chars: _Chars) -> _Chars:
    out: _Chars = []
    for c, i in chars:
        if c == " " and (not out or out[-1][0] == " "):
            continue
        out.append((c, i))
    while out and out[-1][0] == " ":
        out.pop()
    return out


def to_bank_kana(text: str, *, max_length: int | None = None, corporate: bool = True) -> str:
    """``text`` in bank kana, or :class:`KanaRefused` naming the first character that cannot be written.

    ``corporate`` abbreviates legal-entity words (株式会社ツナグ → ｶ)ﾂﾅｸﾞ); ``max_length`` refuses text longer
    than the field (:class:`KanaTooLong`) instead of truncating it. Idempotent.
    """
    chars: _Chars = [(w, i) for i, c in enumerate(text) for w in _widen(c)]
    chars = _collapse_spaces(_compose_marks(chars))
    if corporate:
        chars = _abbreviate(chars)
    out = []
    for c, i in chars:
        half = _NARROW.get(c, c)
        if not all(h in ALLOWED for h in half):
            raise KanaRefused(char=text[i], position=i + 1)
        out.append(half)
    result = "".join(out)
    if max_length is not None and len(result) > max_length:
        raise KanaTooLong(result, max_length)
    return result


def is_bank_kana(text: str) -> bool:
    """Whether every character of ``text`` is in :data:`ALLOWED` (the text may still need normalising)."""
    return all(c in ALLOWED for c in text)


def holder_matches(registry_kana: str, account_kana: str) -> bool:
    """Whether a registry name (full-width katakana, 氏 and 名 separated by a space) and a bank account
    holder name (half-width bank kana) are the same name once both are in bank kana.

    Small kana, width, hiragana and the long vowel are normalised; the space between family and given name is
    ignored (some accounts are held without it). A name that cannot be written in bank kana matches nothing.
    """
    try:
        registry = to_bank_kana(registry_kana, corporate=False).replace(" ", "")
        account = to_bank_kana(account_kana, corporate=False).replace(" ", "")
    except KanaRefused:
        return False
    return bool(registry) and registry == account
