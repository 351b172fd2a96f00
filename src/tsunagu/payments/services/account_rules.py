"""The rules a public-fund account registration must meet (公金受取口座登録法, japan-systems §3.1), checked before
anything is saved: the bank and branch exist in the zengin-code master, the deposit is liquid (1 普通, 2 当座,
4 貯蓄; not 6 定期), the number has 7 digits (1–7 accepted and zero-padded), the holder is the person (the holder
kana, in bank kana, matches the registry kana), and the person is alive. Each refusal is an
:class:`~tsunagu.kernel.errors.InvalidInput` (or ``Forbidden``) naming its form field, in Japanese and English."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tsunagu.kernel.errors import Forbidden, InvalidInput
from tsunagu.payments.core.kana import KanaRefused, holder_matches, to_bank_kana
from tsunagu.payments.master import Master
from tsunagu.registry import api as registry

__all__ = [
    "DEPOSIT_TYPES",
    "HOLDER_MAX",
    "AccountInput",
    "Checked",
    "check",
    "master_kana",
    "registry_holder_kana",
]

DEPOSIT_TYPES: dict[str, tuple[str, str]] = {
    "1": ("普通", "Ordinary"),
    "2": ("当座", "Current"),
    "4": ("貯蓄", "Savings"),
}
"""Liquid deposits (流動性預金) a public-fund account may be: 預金種目 code → (ja, en)."""
REFUSED_TYPES: dict[str, tuple[str, str]] = {"6": ("定期", "time deposit"), "9": ("その他", "other")}
HOLDER_MAX = 30  # pay_accounts.holder_kana, and the 受取人名 field of a Zengin data record
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class AccountInput:
    """What a person (or the bank counter) typed; :func:`check` normalises and checks it."""

    bank_code: str
    branch_code: str
    deposit_type: str
    account_number: str
    holder_kana: str


@dataclass(frozen=True)
class Checked:
    """An input that passed every rule, with the names from the master."""

    bank_code: str
    bank_name: str
    bank_kana: str
    branch_code: str
    branch_name: str
    branch_kana: str
    deposit_type: str
    account_number: str
    holder_kana: str
    master_version: str


def _digits(value: str, field: str, length: int, ja_label: str, en_label: str, *, pad: bool = False) -> str:
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "").replace("-", "")
    if _DIGITS.fullmatch(text) and (len(text) == length or (pad and 1 <= len(text) <= length)):
        return text.zfill(length)
    if pad:
        raise InvalidInput(
            f"The {en_label} is up to {length} digits.",
            ja=f"{ja_label}は{length}桁以内の数字で入力してください。",
            field=field,
        )
    raise InvalidInput(
        f"The {en_label} is {length} digits.",
        ja=f"{ja_label}は{length}桁の数字で入力してください。",
        field=field,
    )


def _deposit_type(value: str) -> str:
    code = unicodedata.normalize("NFKC", value).strip()
    if code in DEPOSIT_TYPES:
        return code
    if code in REFUSED_TYPES:
        ja, en = REFUSED_TYPES[code]
        raise InvalidInput(
            f"A {en} account cannot receive public funds: register an ordinary, current or savings account.",
            ja=f"{ja}預金の口座は登録できません。普通・当座・貯蓄預金の口座を登録してください。",
            field="deposit_type",
        )
    raise InvalidInput(
        "Choose the deposit type: ordinary (1), current (2) or savings (4).",
        ja="預金種目を選んでください（普通・当座・貯蓄）。",
        field="deposit_type",
    )


def _holder(value: str) -> str:
    try:
        kana = to_bank_kana(value, max_length=HOLDER_MAX, corporate=False)
    except KanaRefused as refused:
        raise InvalidInput(refused.en, ja=refused.ja, field="holder_kana") from refused
    if not kana:
        raise InvalidInput(
            "Enter the account holder's name in kana.",
            ja="口座名義（カナ）を入力してください。",
            field="holder_kana",
        )
    return kana


def master_kana(kana: str) -> str:
    """A master kana (full-width) in bank kana, or as given when it cannot be written (the name columns hold 60)."""
    try:
        return to_bank_kana(kana, max_length=60, corporate=False)
    except KanaRefused:
        return kana[:60]


def check(db: Session, master: Master, person_id: int, data: AccountInput) -> Checked:
    """Every rule but "one person per account": codes in the master, a liquid deposit, a 7-digit number, the
    person's own name, a living person. Raises :class:`InvalidInput` (with ``field``) or :class:`Forbidden`."""
    bank_code = _digits(data.bank_code, "bank_code", 4, "金融機関コード", "bank code")
    branch_code = _digits(data.branch_code, "branch_code", 3, "支店コード", "branch code")
    deposit_type = _deposit_type(data.deposit_type)
    number = _digits(data.account_number, "account_number", 7, "口座番号", "account number", pad=True)
    holder = _holder(data.holder_kana)
    bank = master.bank(bank_code)
    if bank is None:
        raise InvalidInput(
            "No bank has this code. Check the bank code (4 digits).",
            ja="この金融機関コードの金融機関はありません。金融機関コード（4桁）を確かめてください。",
            field="bank_code",
        )
    branch = master.branch(bank_code, branch_code)
    if branch is None:
        raise InvalidInput(
            f"{bank.name} has no branch with this code. Check the branch code (3 digits).",
            ja=f"{bank.name}にこの支店コードの支店はありません。支店コード（3桁）を確かめてください。",
            field="branch_code",
        )
    facts = registry.basic_facts(db, person_id)
    if facts.status == "deceased":
        raise Forbidden(
            "An account cannot be registered for a person who has died.",
            ja="亡くなった方の口座は登録できません。",
        )
    if not holder_matches(facts.name_kana, holder):
        raise InvalidInput(
            "The account must be in your own name: the holder's kana differs from the name on the resident record.",
            ja="本人名義の口座に限ります。口座名義（カナ）が住民票の氏名（フリガナ）と一致しません。",
            field="holder_kana",
        )
    return Checked(
        bank_code,
        bank.name,
        master_kana(bank.kana),
        branch_code,
        branch.name,
        master_kana(branch.kana),
        deposit_type,
        number,
        holder,
        master.version,
    )


def registry_holder_kana(db: Session, person_id: int) -> str:
    """The person's registry kana in bank kana (to pre-fill the form); empty if it cannot be written."""
    facts = registry.basic_facts(db, person_id)
    try:
        return to_bank_kana(facts.name_kana, max_length=HOLDER_MAX, corporate=False)
    except KanaRefused:
        return ""
