"""A first guess at the passport name (ヘボン式ローマ字) from the registry's katakana reading, to pre-fill the overseas
certificate's form; the citizen checks it against their passport and may change it (the form's value is what is
issued). Passport Hepburn as the Ministry of Foreign Affairs applies it: long vowels are not written (オウ, オオ → O,
ウウ → U, ー dropped), ン is M before B, M and P, a small ッ doubles the next consonant (ッチ → TCH)."""

from __future__ import annotations

_DIGRAPHS = {
    "キャ": "KYA", "キュ": "KYU", "キョ": "KYO", "シャ": "SHA", "シュ": "SHU", "ショ": "SHO", "チャ": "CHA",
    "チュ": "CHU", "チョ": "CHO", "ニャ": "NYA", "ニュ": "NYU", "ニョ": "NYO", "ヒャ": "HYA", "ヒュ": "HYU",
    "ヒョ": "HYO", "ミャ": "MYA", "ミュ": "MYU", "ミョ": "MYO", "リャ": "RYA", "リュ": "RYU", "リョ": "RYO",
    "ギャ": "GYA", "ギュ": "GYU", "ギョ": "GYO", "ジャ": "JA", "ジュ": "JU", "ジョ": "JO", "ビャ": "BYA",
    "ビュ": "BYU", "ビョ": "BYO", "ピャ": "PYA", "ピュ": "PYU", "ピョ": "PYO", "ヂャ": "JA", "ヂュ": "JU",
    "ヂョ": "JO",
}  # fmt: skip
_GOJUON = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲ"
_DAKUON = "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヰヱヴ"
_ROMAJI = (  # one syllable per kana above, in the same order
    "A I U E O KA KI KU KE KO SA SHI SU SE SO TA CHI TSU TE TO NA NI NU NE NO HA HI FU HE HO MA MI MU ME MO "
    "YA YU YO RA RI RU RE RO WA O GA GI GU GE GO ZA JI ZU ZE ZO DA JI ZU DE DO BA BI BU BE BO PA PI PU PE PO "
    "I E BU"
)
_KANA = dict(zip(_GOJUON + _DAKUON, _ROMAJI.split(" "), strict=True))
_SMALL = {"ァ": "A", "ィ": "I", "ゥ": "U", "ェ": "E", "ォ": "O", "ャ": "YA", "ュ": "YU", "ョ": "YO"}


def _syllables(kana: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(kana):
        pair, char = kana[i : i + 2], kana[i]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_KANA.get(char) or _SMALL.get(char) or {"ン": "N", "ッ": "Q"}.get(char, ""))
        i += 1
    return out


def _long_vowel(syl: str, text: str) -> bool:
    """オウ, オオ, コウ, … (a long O is written O) and ウウ, ユウ, … (a long U is written U)."""
    return (syl in {"U", "O"} and text.endswith("O")) or (syl == "U" and text.endswith("U"))


def _spelled(syl: str, following: str) -> str:
    if syl == "Q":  # ッ: double the next consonant (CH → TCH)
        if following.startswith("CH"):
            return "T"
        return following[:1] if following[:1] not in {"A", "I", "U", "E", "O"} else ""
    if syl == "N" and following[:1] in {"B", "M", "P"}:
        return "M"
    return syl


def _join(syllables: list[str]) -> str:
    text = ""
    for n, syl in enumerate(syllables):
        if not _long_vowel(syl, text):
            text += _spelled(syl, next((s for s in syllables[n + 1 :] if s), ""))
    return text


def hepburn(katakana: str) -> str:
    """``ヤマダ`` → ``YAMADA``, ``サトウ`` → ``SATO``, ``ジュンペイ`` → ``JUMPEI``, ``ハットリ`` → ``HATTORI``;
    characters that are not katakana are dropped, so the result is only capital letters (maybe empty)."""
    kana = "".join(c for c in katakana if c != "ー")
    return _join(_syllables(kana))
