"""Which bank a bank-counter staff account acts for (``pay_bank_staff``): a bank registers only accounts held with
it. The staff account itself (with the ``bank_counter`` role) is made with ``tsunagu staff create``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.errors import Forbidden, InvalidInput
from tsunagu.payments.master import Master
from tsunagu.payments.models import BankStaff

__all__ = ["bank_of", "require_bank", "set_bank"]


def set_bank(db: Session, master: Master, username: str, bank_code: str, *, by: str = "cli") -> BankStaff:
    """Record (or change) the bank ``username`` registers for; the bank must be in the master."""
    username = username.strip()
    if not username or len(username) > 64:
        raise InvalidInput(
            "Give the staff username (up to 64 characters).", ja="職員のユーザー名を指定してください。"
        )
    bank = master.bank(bank_code.strip())
    if bank is None:
        raise InvalidInput(
            "No bank has this code (4 digits).",
            ja="この金融機関コードの金融機関はありません。",
            field="bank_code",
        )
    row = db.get(BankStaff, username)
    if row is None:
        row = BankStaff(username=username, bank_code=bank.code)
        db.add(row)
    row.bank_code = bank.code
    db.flush()
    audit.record(
        db, by, audit.AuditAction.PAYMENTS_BANK_STAFF_SET, f"staff:{username}"[:64], bank_code=bank.code
    )
    return row


def bank_of(db: Session, username: str) -> str | None:
    row = db.get(BankStaff, username)
    return row.bank_code if row is not None else None


def require_bank(db: Session, username: str) -> str:
    """The bank of a bank-counter staff account (:class:`Forbidden` if it acts for none)."""
    bank = bank_of(db, username)
    if bank is None:
        raise Forbidden(
            "This staff account is not assigned to a bank (tsunagu payments bank-staff add).",
            ja="この職員アカウントには金融機関が割り当てられていません。",
        )
    return bank
