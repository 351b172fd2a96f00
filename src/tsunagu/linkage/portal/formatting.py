"""How a fetched value reads on the page: yen amounts with 円 and separators, dates in full, codes in words,
records as lists of (label, value) and lists of records as several such lists. Pure; Japanese or English."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

AMOUNT_ITEMS = frozenset({"local_tax.income", "pension.benefit_amount", "national_tax.refund_due"})
AMOUNT_FIELDS = frozenset(
    {"basic", "social_insurance", "spouse", "dependants", "medical", "life_insurance", "amount", "total"}
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Labels of record fields and words for codes, (ja, en). Unknown keys are shown as they are.
FIELDS: dict[str, tuple[str, str]] = {
    "basic": ("基礎控除", "Basic deduction"),
    "social_insurance": ("社会保険料控除", "Social-insurance deduction"),
    "spouse": ("配偶者控除", "Spouse deduction"),
    "dependants": ("扶養控除", "Dependants deduction"),
    "medical": ("医療費控除", "Medical-expense deduction"),
    "life_insurance": ("生命保険料控除", "Life-insurance deduction"),
    "vaccine": ("ワクチン", "Vaccine"),
    "date": ("接種日", "Date"),
    "dose": ("回数", "Dose"),
    "bank_code": ("金融機関コード", "Bank code"),
    "bank_name": ("金融機関名", "Bank"),
    "branch_code": ("支店コード", "Branch code"),
    "branch_name": ("支店名", "Branch"),
    "type": ("預貯金種目", "Account type"),
    "number": ("口座番号", "Account number"),
    "status": ("資格", "Status"),
    "since": ("資格取得日", "Since"),
    "insurer_number": ("保険者番号", "Insurer number"),
}
CODES: dict[str, dict[str, tuple[str, str]]] = {
    "local_tax.assessment": {
        "taxed": ("課税", "Taxed"),
        "exempt": ("非課税", "Exempt"),
    },
    "pension.insured_status": {
        "1": ("第1号被保険者", "Category I insured person"),
        "2": ("第2号被保険者", "Category II insured person"),
        "3": ("第3号被保険者", "Category III insured person"),
    },
    "pension.status": {
        "receiving": ("受給中", "Receiving a pension"),
        "not-receiving": ("受給していません", "Not receiving a pension"),
    },
}
WORDS: dict[str, tuple[str, str]] = {
    "普通": ("普通", "Ordinary"),
    "当座": ("当座", "Current"),
    "insured": ("加入", "Insured"),
    "新型コロナワクチン": ("新型コロナワクチン", "COVID-19 vaccine"),
    "インフルエンザ": ("インフルエンザ", "Influenza"),
    "MR（麻しん風しん混合）": ("MR（麻しん風しん混合）", "MR (measles and rubella)"),
}


@dataclass(frozen=True)
class Shown:
    """A value ready for the template: ``text``, or ``fields`` (one record), or ``records`` (several)."""

    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    records: tuple[tuple[tuple[str, str], ...], ...] = field(default=())


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def yen(amount: int, lang: str) -> str:
    return f"¥{amount:,}" if lang == "en" else f"{amount:,}円"


def date_text(value: str, lang: str) -> str:
    day = dt.date.fromisoformat(value)
    return f"{day:%d %b %Y}".lstrip("0") if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


def _number(item: str, key: str | None, value: int, lang: str) -> str:
    amount = (key is None and item in AMOUNT_ITEMS) or (key is not None and key in AMOUNT_FIELDS)
    if amount:
        return yen(value, lang)
    if key == "dose":
        return f"Dose {value}" if lang == "en" else f"{value}回目"
    return f"{value:,}"


def _text(item: str, key: str | None, value: str, lang: str) -> str:
    if DATE.match(value):
        try:
            return date_text(value, lang)
        except ValueError:
            return value
    coded = CODES.get(item, {}).get(value) if key is None else None
    if coded is None:
        coded = WORDS.get(value)
    return _pick(coded, lang) if coded is not None else value


def _scalar(item: str, key: str | None, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return ("Yes" if value else "No") if lang == "en" else ("はい" if value else "いいえ")
    if isinstance(value, int):
        return _number(item, key, value, lang)
    if isinstance(value, str):
        return _text(item, key, value, lang)
    return "—" if value is None else str(value)


def _record(item: str, value: dict[str, Any], lang: str) -> tuple[tuple[str, str], ...]:
    order = list(FIELDS)  # stored records come back with sorted keys: show them in a reading order
    keys = sorted(value, key=lambda k: (order.index(k) if k in FIELDS else len(order), k))
    return tuple(
        (_pick(FIELDS.get(k, (k, k)), lang), _scalar(item, k, value[k], lang))
        for k in keys
        if not isinstance(value[k], dict | list)
    )


def show(item: str, value: Any, lang: str) -> Shown:
    """The value of ``item`` as the page shows it."""
    if isinstance(value, dict):
        return Shown(fields=_record(item, value, lang))
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            return Shown(records=tuple(_record(item, v, lang) for v in value))
        return Shown(text="、".join(_scalar(item, None, v, lang) for v in value))
    return Shown(text=_scalar(item, None, value, lang))
