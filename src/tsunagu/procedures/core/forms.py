"""Form values: typed input checked against a procedure's fields, pre-filled values taken as the government holds
them. Pure: the caller supplies today's date, the household refs and the municipalities' towns.

A pre-filled field is never read from the form (the person confirms it; a wrong value is corrected at its source,
not typed over). Every error names the field and says what to do, in Japanese and English."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tsunagu.procedures.core.catalogue import FieldSpec, FieldType, Procedure

KATAKANA = re.compile(r"^[ァ-ヶー・　 ]+$")
BLOCK = re.compile(r"^\d{1,5}(?:(?:-|番地?|番|号)\d{1,5}){0,3}(?:番地?|号)?$")
PHONE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-zA-Z]{2,}$")
TRUE = {"on", "true", "1", "yes"}
DEFAULT_TEXT = 200
DEFAULT_TEXTAREA = 2000


@dataclass(frozen=True)
class FieldError:
    field: str
    en: str
    ja: str

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


@dataclass(frozen=True)
class Choices:
    """What a form may choose from: the household's member refs and the towns of each municipality offered."""

    members: Sequence[str] = ()
    towns: Mapping[str, Sequence[str]] | None = None


Raw = Mapping[str, str | Sequence[str]]


def _one(raw: Raw, name: str) -> str:
    value = raw.get(name, "")
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return unicodedata.normalize("NFKC", value[0]).strip() if value else ""


def _many(raw: Raw, name: str) -> list[str]:
    value = raw.get(name, ())
    values = [value] if isinstance(value, str) else list(value)
    return [v.strip() for v in values if v.strip()]


def _date(spec: FieldSpec, text: str, today: dt.date) -> tuple[Any, FieldError | None]:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None, FieldError(
            spec.name, "Enter a date as YYYY-MM-DD.", "日付を YYYY-MM-DD の形で入力してください。"
        )
    if spec.minimum is not None and day < today + dt.timedelta(days=spec.minimum):
        first = today + dt.timedelta(days=spec.minimum)
        return None, FieldError(
            spec.name,
            f"The date must be on or after {first.isoformat()}.",
            f"{first.year}年{first.month}月{first.day}日以降の日付を入力してください。",
        )
    if spec.maximum is not None and day > today + dt.timedelta(days=spec.maximum):
        last = today + dt.timedelta(days=spec.maximum)
        return None, FieldError(
            spec.name,
            f"The date must be on or before {last.isoformat()}.",
            f"{last.year}年{last.month}月{last.day}日以前の日付を入力してください。",
        )
    return day.isoformat(), None


def _number(spec: FieldSpec, text: str) -> tuple[Any, FieldError | None]:
    digits = text.replace(",", "")
    if not re.fullmatch(r"-?\d{1,12}", digits):
        return None, FieldError(spec.name, "Enter a whole number.", "数字で入力してください。")
    value = int(digits)
    if spec.minimum is not None and value < spec.minimum:
        return None, FieldError(
            spec.name, f"Enter at least {spec.minimum}.", f"{spec.minimum}以上で入力してください。"
        )
    if spec.maximum is not None and value > spec.maximum:
        return None, FieldError(
            spec.name, f"Enter at most {spec.maximum}.", f"{spec.maximum}以下で入力してください。"
        )
    return value, None


def _text(spec: FieldSpec, text: str) -> tuple[Any, FieldError | None]:  # noqa: PLR0911 - one check per type
    limit = spec.max_length or (DEFAULT_TEXTAREA if spec.type is FieldType.TEXTAREA else DEFAULT_TEXT)
    if len(text) > limit:
        return None, FieldError(
            spec.name, f"Use at most {limit} characters.", f"{limit}文字以内で入力してください。"
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        return None, FieldError(spec.name, "Remove control characters.", "使用できない文字が含まれています。")
    if spec.type is FieldType.KANA and not KATAKANA.match(text):
        return None, FieldError(spec.name, "Enter it in katakana.", "カタカナで入力してください。")
    if spec.type is FieldType.BLOCK and not BLOCK.match(text):
        return None, FieldError(
            spec.name,
            "Enter the block number as digits, e.g. 1-2-3.",
            "番地を数字で入力してください（例: 1-2-3）。",
        )
    if spec.type is FieldType.PHONE and not PHONE.match(text):
        return None, FieldError(
            spec.name, "Enter a Japanese phone number.", "電話番号を正しく入力してください。"
        )
    if spec.type is FieldType.EMAIL and not EMAIL.match(text):
        return None, FieldError(
            spec.name, "Enter an e-mail address.", "メールアドレスを正しく入力してください。"
        )
    return text, None


def _typed(  # noqa: PLR0911, PLR0912 - one branch per field type
    spec: FieldSpec, raw: Raw, today: dt.date, choices: Choices, values: Mapping[str, Any]
) -> tuple[Any, FieldError | None]:
    if spec.type is FieldType.BOOLEAN:
        return _one(raw, spec.name).lower() in TRUE, None
    if spec.type is FieldType.MEMBERS:
        refs = list(dict.fromkeys(_many(raw, spec.name)))
        unknown = [r for r in refs if r not in choices.members]
        if unknown:
            return None, FieldError(
                spec.name,
                "Choose only people of your household.",
                "世帯の中から選んでください（世帯外の人は選べません）。",
            )
        if spec.required and not refs:
            return None, FieldError(spec.name, "Choose at least one person.", "1人以上選んでください。")
        return refs, None
    text = _one(raw, spec.name)
    if not text:
        if spec.required:
            return None, FieldError(
                spec.name, f"Enter {spec.label_en.lower()}.", f"{spec.label_ja}を入力してください。"
            )
        return None, None
    if spec.type is FieldType.DATE:
        return _date(spec, text, today)
    if spec.type in (FieldType.INTEGER, FieldType.YEN):
        return _number(spec, text)
    if spec.type is FieldType.CHOICE:
        if text not in {c.value for c in spec.choices}:
            return None, FieldError(spec.name, "Choose one of the options.", "選択肢から選んでください。")
        return text, None
    if spec.type is FieldType.MUNICIPALITY:
        if choices.towns is None or text not in choices.towns:
            return None, FieldError(
                spec.name, "Choose a municipality from the list.", "一覧から市区町村を選んでください。"
            )
        return text, None
    if spec.type is FieldType.TOWN:
        towns = (choices.towns or {}).get(str(values.get(spec.of) or ""), ())
        if text not in towns:
            return None, FieldError(
                spec.name,
                "This town does not exist in the chosen municipality; choose one from the list.",
                "選んだ市区町村にこの町名はありません。一覧から選んでください。",
            )
        return text, None
    return _text(spec, text)


def clean(
    procedure: Procedure,
    raw: Raw,
    *,
    prefilled: Mapping[str, Any],
    today: dt.date,
    choices: Choices = Choices(),
    partial: bool = False,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The application's values and the errors. Pre-filled fields come from ``prefilled`` only; a pre-filled
    field the government did not hold becomes a typed one. ``partial`` (a draft): missing required values are
    not errors yet."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in procedure.fields:  # fields a town depends on come first in every shipped file
        if spec.prefill and spec.name in prefilled:
            values[spec.name] = prefilled[spec.name]
            continue
        value, error = _typed(spec, raw, today, choices, values)
        if error is not None and not (partial and _is_missing(spec, raw)):
            errors.append(error)
        values[spec.name] = value
    return values, errors


def _is_missing(spec: FieldSpec, raw: Raw) -> bool:
    return not _many(raw, spec.name) if spec.type is FieldType.MEMBERS else not _one(raw, spec.name)
