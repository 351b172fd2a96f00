"""Validation of the values a person or a staff member types: names, kana, dates, addresses."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from tsunagu.kernel.errors import InvalidInput

KANA_RE = re.compile(r"^[\u30A1-\u30FA\u30FB\u30FC\u30FD\u30FE\u3000 ]+$")  # ・ for foreign names
MAX_NAME = 50
MAX_KANA = 100
MAX_AGE_YEARS = 130
FIELD_LABELS_JA = {
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏（カナ）",
    "given_name_kana": "名（カナ）",
    "birth_date": "生年月日",
    "sex": "性別",
    "town": "町字",
    "block": "番地・号",
    "building": "建物名",
    "effective_date": "届出の日付",
    "to_lg_code": "転出先",
    "from_lg_code": "転入前の市区町村",
    "lg_code": "地方公共団体コード",
    "reason": "理由",
    "relationship": "続柄",
}


FIELD_LABELS_EN = {
    "family_name": "Family name",
    "given_name": "Given name",
    "family_name_kana": "Family name (katakana)",
    "given_name_kana": "Given name (katakana)",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "town": "Town",
    "block": "Block and number",
    "building": "Building",
    "effective_date": "Date",
    "to_lg_code": "Destination",
    "from_lg_code": "Previous municipality",
    "lg_code": "Local-government code",
    "reason": "Reason",
    "relationship": "Relationship",
}


def label_en(field: str) -> str:
    return FIELD_LABELS_EN.get(field, field)


def label_ja(field: str) -> str:
    return FIELD_LABELS_JA.get(field, field)


def clean_text(value: str, field: str, *, max_len: int, required: bool = True) -> str:
    """NFC-normalise, trim, reject control characters and over-long values."""
    text = unicodedata.normalize("NFC", value or "").strip()
    if required and not text:
        raise InvalidInput(
            f"{label_en(field)} is required.", ja=f"{label_ja(field)}を入力してください。", field=field
        )
    if len(text) > max_len:
        raise InvalidInput(
            f"{label_en(field)} must be at most {max_len} characters.",
            ja=f"{label_ja(field)}は{max_len}文字以内で入力してください。",
            field=field,
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text):
        raise InvalidInput(
            f"{label_en(field)} contains control characters.",
            ja=f"{label_ja(field)}に使えない文字が含まれています。",
            field=field,
        )
    return text


def to_katakana(value: str) -> str:
    """Convert hiragana and half-width katakana to full-width katakana (NFKC for the half-width forms)."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def is_kana(value: str) -> bool:
    """True when the text is a reading (hiragana, katakana, half-width katakana), not a written name."""
    return bool(KANA_RE.match(to_katakana(value)))


def clean_kana(value: str, field: str) -> str:
    text = clean_text(to_katakana(value), field, max_len=MAX_KANA)
    if not KANA_RE.match(text):
        raise InvalidInput(
            f"{label_en(field)} must be written in katakana (カタカナ).",
            ja=f"{label_ja(field)}はカタカナで入力してください。",
            field=field,
        )
    return text


def check_birth_date(birth: dt.date, today: dt.date) -> dt.date:
    if birth > today:
        raise InvalidInput(
            "The birth date is in the future.", ja="生年月日が未来の日付になっています。", field="birth_date"
        )
    if (today.year - birth.year) > MAX_AGE_YEARS:
        raise InvalidInput(
            f"The birth date is more than {MAX_AGE_YEARS} years ago.",
            ja=f"生年月日が{MAX_AGE_YEARS}年以上前になっています。",
            field="birth_date",
        )
    return birth


def parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(
            f"{label_en(field)} must be a date written as YYYY-MM-DD.",
            ja=f"{label_ja(field)}を年-月-日（例: 2026-04-01）で入力してください。",
            field=field,
        ) from None


def age_on(birth: dt.date, on: dt.date) -> int:
    """Age in completed years (年齢計算ニ関スル法律: one year older at the end of the day before the birthday;
    for display purposes the civil birthday is used)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# 番地・号 as people write them: "1-2-3", "12", "3番地4", "1番2号", "5番地の1", "7の2" (digits after NFKC).
HYPHENS = str.maketrans(dict.fromkeys("‐‑‒–—―−－ｰー", "-"))
BLOCK_RE = re.compile(r"^\d{1,5}(?:(?:-|の|番地の|番地|番)\d{1,5}){0,3}(?:番地|番|号)?$")


def clean_block(value: str) -> str:
    """Normalise (NFKC, one hyphen, no spaces) and check the 番地・号 of an address; raise if it is not a number
    form such as ``1-2-3``, ``12``, ``3番地4`` or ``1番2号``."""
    text = unicodedata.normalize("NFKC", value or "").translate(HYPHENS)
    text = "".join(text.split())
    clean_text(text, "block", max_len=50)
    if not BLOCK_RE.match(text):
        raise InvalidInput(
            f"{label_en('block')} must be written with numbers, such as 1-2-3, 12 or 3番地4.",
            ja=f"{label_ja('block')}は数字で入力してください（例: 1-2-3、12、3番地4）。",
            field="block",
        )
    return text
