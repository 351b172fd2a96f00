"""What a payment run needs to know of a benefit programme: who remits (振込依頼人), from which bank accounts, how
big a file may be, and how the programme is named in notices. A stand-in until the programme catalogue
(``core/programmes.py``) provides the same facts; the run and result services take a :class:`RunSpec` only."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RECORD_LIMIT = (
    9_999  # data records per file: the common bank limit (zengin.MAX_COUNT is the format's)
)
DEFAULT_LEAD_DAYS = 2  # business days between writing the files and the 振込指定日


@dataclass(frozen=True)
class RemittingBank:
    """An account the paying agency remits from (仕向銀行・支店・預金種目・口座番号)."""

    bank_code: str
    branch_code: str
    deposit_type: str  # 1 普通, 2 当座, 9 その他
    account_number: str
    bank_name: str = ""  # bank kana (optional in the header)
    branch_name: str = ""


@dataclass(frozen=True)
class Remitter:
    """振込依頼人: the code the remitting banks assigned, the name in bank kana, and the accounts paid from."""

    code: str  # 振込依頼人コード, 10 digits
    name_kana: str
    banks: tuple[RemittingBank, ...]

    def __post_init__(self) -> None:
        if not self.banks:
            msg = "a remitter needs at least one remitting bank"
            raise ValueError(msg)
        codes = [b.bank_code for b in self.banks]
        if len(set(codes)) != len(codes):
            msg = "one remitting account per bank"
            raise ValueError(msg)

    def bank(self, code: str) -> RemittingBank:
        return next(b for b in self.banks if b.bank_code == code)


@dataclass(frozen=True)
class RunSpec:
    """A programme as the payment run sees it."""

    programme_id: str
    agency: str  # the paying agency on the hub (e.g. LG-142051): it sends the notices of failed transfers
    remitter: Remitter
    name_ja: str
    name_en: str
    record_limit: int = DEFAULT_RECORD_LIMIT
    lead_days: int = DEFAULT_LEAD_DAYS

    def __post_init__(self) -> None:
        if not 1 <= self.record_limit <= 999_999:
            msg = "record_limit must be between 1 and 999,999 (the trailer's count has 6 digits)"
            raise ValueError(msg)
