"""Revalidating the account registry against a new zengin-code master (金融機関の合併・統廃合).

- A registration whose bank or branch code is no longer in the master is **invalidated**: removed, an
  ``invalidated`` event says why, the registry agency's hub copy is dropped, the payee's pending entitlements are
  marked stale, and the owner gets a notice (from ``DA-KOKIN``, with a link to the account page) to register again.
- A registration whose codes are still there but whose bank or branch is now named differently (a bank renamed
  after a merger) gets the new names: a ``changed`` event by the system and the hub copy updated. The account
  itself is the same, so nothing is marked stale.

Idempotent: a second run against the same master finds nothing to do. Rows are read in chunks (keyset on the
person id); ``progress(done, total)`` is called after each chunk of invalidations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session

from tsunagu.linkage import api as linkage
from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext
from tsunagu.payments.master import Master
from tsunagu.payments.models import Account
from tsunagu.payments.services.account_rules import master_kana
from tsunagu.payments.services.accounts import ACCOUNT_PAGE, Actor, copy_items, record, remove

__all__ = ["Progress", "Revalidation", "revalidate"]

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class Revalidation:
    checked: int  # registrations at a bank or branch no longer in the master
    invalidated: int
    master_version: str
    renamed: int = 0  # registrations whose bank or branch name changed in the master


def _pairs(db: Session) -> list[tuple[str, str, str, str]]:
    return [
        (b, br, bn, brn)
        for b, br, bn, brn in db.execute(
            select(Account.bank_code, Account.branch_code, Account.bank_name, Account.branch_name).distinct()
        )
    ]


def _reason(row: Account, master: Master) -> tuple[str, str]:
    if master.bank(row.bank_code) is None:
        return (
            f"The bank {row.bank_name} ({row.bank_code}) is no longer in the bank master (version {master.version}).",
            f"金融機関 {row.bank_name}（{row.bank_code}）が金融機関マスタ（版 {master.version}）にありません。",
        )
    return (
        f"The branch {row.branch_name} ({row.branch_code}) of {row.bank_name} is no longer in the bank master "
        f"(version {master.version}).",
        f"{row.bank_name}の支店 {row.branch_name}（{row.branch_code}）が"
        f"金融機関マスタ（版 {master.version}）にありません。",
    )


def _notify(db: Session, ctx: PaymentsContext, row: Account, reason_en: str, reason_ja: str) -> None:
    code = ctx.code_for(db, REGISTRY_AGENCY, row.person_id)
    linkage.send_to_code(
        db,
        ctx.keys,
        REGISTRY_AGENCY,
        code,
        "公金受取口座の登録が無効になりました",
        "Your public-fund account registration is no longer valid",
        f"{reason_ja}金融機関の合併・統廃合などによるものです。{row.bank_name}の口座をお持ちの場合は、"
        "新しい金融機関コード・支店コードで口座を登録し直してください。",
        f"{reason_en} This follows a bank merger or a branch closure. Please register your account again "
        "with its new bank and branch codes.",
        ACCOUNT_PAGE,
        clock=ctx.clock,
    )


def _invalidate(
    db: Session,
    ctx: PaymentsContext,
    master: Master,
    gone: list[tuple[str, str]],
    chunk: int,
    progress: Progress | None,
) -> tuple[int, int]:
    matches = tuple_(Account.bank_code, Account.branch_code).in_(gone)
    total = db.scalar(select(func.count()).select_from(Account).where(matches)) or 0
    done, after, by = 0, -1, Actor.system()
    while True:
        rows = db.scalars(
            select(Account)
            .where(and_(matches, Account.person_id > after))
            .order_by(Account.person_id)
            .limit(chunk)
            .with_for_update()
        ).all()
        if not rows:
            return total, done
        for row in rows:
            reason_en, reason_ja = _reason(row, master)
            after = row.person_id
            _notify(db, ctx, row, reason_en, reason_ja)
            remove(db, ctx, row, "invalidated", by, f"{reason_ja} / {reason_en}")
            done += 1
        if progress is not None:
            progress(done, total)


def _rename(
    db: Session, ctx: PaymentsContext, master: Master, renamed: list[tuple[str, str]], chunk: int
) -> int:
    matches = tuple_(Account.bank_code, Account.branch_code).in_(renamed)
    done, after, by = 0, -1, Actor.system()
    while True:
        rows = db.scalars(
            select(Account)
            .where(and_(matches, Account.person_id > after))
            .order_by(Account.person_id)
            .limit(chunk)
            .with_for_update()
        ).all()
        if not rows:
            return done
        for row in rows:
            after = row.person_id
            bank, branch = master.bank(row.bank_code), master.branch(row.bank_code, row.branch_code)
            if bank is None or branch is None:  # pragma: no cover - the pair was found in this master
                continue
            was = f"{row.bank_name} {row.branch_name}"
            row.bank_name, row.bank_kana = bank.name[:60], master_kana(bank.kana)
            row.branch_name, row.branch_kana = branch.name[:60], master_kana(branch.kana)
            row.master_version, row.updated_at = master.version, ctx.clock.now()
            db.flush()
            record(
                db,
                ctx,
                row.person_id,
                "changed",
                row,
                by,
                f"金融機関名・支店名の変更（{was} → {row.bank_name} {row.branch_name}、"
                f"金融機関マスタ 版 {master.version}） / bank or branch renamed "
                f"({was} → {row.bank_name} {row.branch_name}, master {master.version})",
            )
            code = ctx.code_for(db, REGISTRY_AGENCY, row.person_id)
            linkage.put_copy(db, REGISTRY_AGENCY, code, copy_items(row), clock=ctx.clock)
            done += 1


def revalidate(
    db: Session, ctx: PaymentsContext, master: Master, *, chunk: int = 500, progress: Progress | None = None
) -> Revalidation:
    """Invalidate the registrations at a bank or branch gone from ``master``, rename those whose bank or branch
    was renamed; see the module docstring."""
    gone: list[tuple[str, str]] = []
    renamed: list[tuple[str, str]] = []
    for bank_code, branch_code, bank_name, branch_name in _pairs(db):
        branch = master.branch(bank_code, branch_code)
        bank = master.bank(bank_code)
        if bank is None or branch is None:
            gone.append((bank_code, branch_code))
        elif (bank.name[:60], branch.name[:60]) != (bank_name, branch_name):
            renamed.append((bank_code, branch_code))
    total, done = _invalidate(db, ctx, master, gone, chunk, progress) if gone else (0, 0)
    names = _rename(db, ctx, master, renamed, chunk) if renamed else 0
    return Revalidation(total, done, master.version, names)
