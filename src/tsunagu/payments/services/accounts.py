"""The account registry (公的給付支給等口座登録簿): register, change, delete a person's public-fund receiving account
(公金受取口座) and its history (the rules are in :mod:`.account_rules`; the revalidation against a new bank master,
after mergers, in :mod:`.account_revalidation`).

Rules (公金受取口座登録法, japan-systems §3.1): one account per person, in the person's own name (the holder kana
must be the registry kana), at a bank and branch of the zengin-code master, a liquid deposit (1 普通, 2 当座,
4 貯蓄); one person per account (an account someone else registered is refused, without saying who). A refused
input saves nothing. Every action appends a ``pay_account_events`` row and an audit entry (neither the audit trail
nor a log line holds the account number or a My Number).

The copy (副本) of the registry agency ``DA-KOKIN`` on the hub is kept in step, keyed by its 符号 for the person.
Agencies look accounts up through the hub and read these value shapes (the agency-lookup helper depends on them):

- ``public_fund_account.bank``: ``{"bank_code": "0001", "bank_name": "みずほ", "branch_code": "001",
  "branch_name": "東京営業部"}`` (names as the zengin-code master writes them);
- ``public_fund_account.account``: ``{"deposit_type": "1", "account_number": "0123456"}`` (deposit type 1 普通,
  2 当座, 4 貯蓄; the number always 7 digits);
- ``public_fund_account.holder``: ``"ﾔﾏﾀﾞ ﾀﾛｳ"`` (the holder name in half-width bank kana, as a Zengin file
  writes it).

A deletion or an invalidation drops the three items. Every registration, change, deletion or invalidation marks
the payee's pending entitlements (notified, confirmed, no account) ``account_stale``: the paying agency looks the
account up again (after a first registration, an entitlement that found no account finds it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.errors import Conflict, NotFound
from tsunagu.linkage import api as linkage
from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext
from tsunagu.payments.core.masks import mask_account_number
from tsunagu.payments.master import Master
from tsunagu.payments.models import Account, AccountEvent, Entitlement
from tsunagu.payments.services.account_rules import (
    DEPOSIT_TYPES,
    AccountInput,
    Checked,
    check,
    registry_holder_kana,
)

__all__ = [
    "DEPOSIT_TYPES",
    "ITEMS",
    "AccountInput",
    "AccountView",
    "Actor",
    "Checked",
    "EventView",
    "check",
    "copy_items",
    "delete_account",
    "get",
    "history",
    "record",
    "registry_holder_kana",
    "remove",
    "save",
]

ITEMS = ("public_fund_account.bank", "public_fund_account.account", "public_fund_account.holder")
STALE_STATES = ("notified", "confirmed", "no_account")
ACCOUNT_PAGE = "/my/public-fund-account"


@dataclass(frozen=True)
class Actor:
    """Who acts and through which channel: ``event`` is written in the history, ``audit`` in the audit trail."""

    channel: str  # portal | bank_counter | system
    event: str  # citizen | proxy | staff:<username> | system
    principal: CitizenPrincipal | None = None
    audit_actor: str = "system"

    @classmethod
    def citizen(cls, principal: CitizenPrincipal) -> Actor:
        who = "proxy" if principal.acting_for is not None else "citizen"
        return cls("portal", who, principal, audit.citizen_actor(principal))

    @classmethod
    def bank_counter(cls, username: str) -> Actor:
        return cls("bank_counter", f"staff:{username}"[:64], None, username)

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system")


@dataclass(frozen=True)
class AccountView:
    person_id: int
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    deposit_type: str
    account_number: str
    holder_kana: str
    channel: str
    registered_at: dt.datetime
    updated_at: dt.datetime

    @property
    def masked_number(self) -> str:
        """The account number with all but the last three digits hidden (for pages)."""
        return mask_account_number(self.account_number)

    def deposit_name(self, lang: str) -> str:
        ja, en = DEPOSIT_TYPES.get(self.deposit_type, (self.deposit_type, self.deposit_type))
        return en if lang == "en" else ja


@dataclass(frozen=True)
class EventView:
    action: str
    channel: str
    actor: str
    bank_name: str
    branch_name: str
    masked_number: str
    reason: str
    at: dt.datetime


# --- reading -----------------------------------------------------------------------------------------------------


def _view(row: Account) -> AccountView:
    return AccountView(
        row.person_id,
        row.bank_code,
        row.bank_name,
        row.branch_code,
        row.branch_name,
        row.deposit_type,
        row.account_number,
        row.holder_kana,
        row.channel,
        row.registered_at,
        row.updated_at,
    )


def get(db: Session, person_id: int) -> AccountView | None:
    row = db.get(Account, person_id)
    return _view(row) if row is not None else None


def history(db: Session, person_id: int, *, limit: int = 100) -> list[EventView]:
    """The person's registrations, changes, deletions and invalidations, newest first (numbers masked)."""
    rows = db.scalars(
        select(AccountEvent)
        .where(AccountEvent.person_id == person_id)
        .order_by(AccountEvent.id.desc())
        .limit(limit)
    )
    out = []
    for e in rows:
        number = str(e.account.get("account_number", ""))
        out.append(
            EventView(
                e.action,
                e.channel,
                e.actor,
                str(e.account.get("bank_name", "")),
                str(e.account.get("branch_name", "")),
                mask_account_number(number),
                e.reason,
                e.at,
            )
        )
    return out


# --- writing -----------------------------------------------------------------------------------------------------


def _snapshot(row: Account) -> dict[str, Any]:
    return {
        "bank_code": row.bank_code,
        "bank_name": row.bank_name,
        "branch_code": row.branch_code,
        "branch_name": row.branch_name,
        "deposit_type": row.deposit_type,
        "account_number": row.account_number,
        "holder_kana": row.holder_kana,
        "master_version": row.master_version,
    }


def copy_items(row: Account) -> dict[str, Any]:
    """The registry agency's copy of a registration (the shapes in the module docstring)."""
    return {
        "public_fund_account.bank": {
            "bank_code": row.bank_code,
            "bank_name": row.bank_name,
            "branch_code": row.branch_code,
            "branch_name": row.branch_name,
        },
        "public_fund_account.account": {
            "deposit_type": row.deposit_type,
            "account_number": row.account_number,
        },
        "public_fund_account.holder": row.holder_kana,
    }


def record(
    db: Session, ctx: PaymentsContext, person_id: int, action: str, row: Account, by: Actor, reason: str = ""
) -> None:
    db.add(
        AccountEvent(
            person_id=person_id,
            action=action,
            account=_snapshot(row),
            channel=by.channel,
            actor=by.event,
            reason=reason,
            at=ctx.clock.now(),
        )
    )
    audit_action = {
        "registered": audit.AuditAction.PAYMENTS_ACCOUNT_REGISTERED,
        "changed": audit.AuditAction.PAYMENTS_ACCOUNT_CHANGED,
        "deleted": audit.AuditAction.PAYMENTS_ACCOUNT_DELETED,
        "invalidated": audit.AuditAction.PAYMENTS_ACCOUNT_INVALIDATED,
    }[action]
    subject = f"person:{person_id}"
    if by.principal is not None:
        audit.record_citizen(db, by.principal, audit_action, subject, channel=by.channel)
    else:
        audit.record(db, by.audit_actor, audit_action, subject, channel=by.channel)


def _mark_stale(db: Session, person_id: int) -> None:
    db.execute(
        update(Entitlement)
        .where(Entitlement.payee_person_id == person_id, Entitlement.state.in_(STALE_STATES))
        .values(account_stale=True),
        execution_options={"synchronize_session": False},
    )


def _taken_by_someone_else(db: Session, person_id: int, c: Checked) -> bool:
    other = db.scalar(
        select(Account.person_id).where(
            Account.bank_code == c.bank_code,
            Account.branch_code == c.branch_code,
            Account.deposit_type == c.deposit_type,
            Account.account_number == c.account_number,
            Account.person_id != person_id,
        )
    )
    return other is not None


def _someone_elses() -> Conflict:
    return Conflict(
        "This account is registered to another person and cannot be registered. "
        "Check the account details, or ask your bank.",
        ja="この口座は他の方の公金受取口座として登録されているため、登録できません。口座情報を確かめるか、"
        "金融機関にお問い合わせください。",
        field="account_number",
    )


def save(
    db: Session, ctx: PaymentsContext, master: Master, person_id: int, data: AccountInput, by: Actor
) -> tuple[AccountView, str]:
    """Register the person's account, or replace the one registered; return it and ``registered``/``changed``.
    Refused (nothing saved) when any rule of :func:`check` fails or someone else registered the account."""
    c = check(db, master, person_id, data)
    if _taken_by_someone_else(db, person_id, c):
        raise _someone_elses()
    now = ctx.clock.now()
    row = db.get(Account, person_id, with_for_update=True)
    action = "registered" if row is None else "changed"
    if row is None:
        row = Account(person_id=person_id, registered_at=now)
        db.add(row)
    row.bank_code, row.bank_name, row.bank_kana = c.bank_code, c.bank_name[:60], c.bank_kana
    row.branch_code, row.branch_name, row.branch_kana = c.branch_code, c.branch_name[:60], c.branch_kana
    row.deposit_type, row.account_number, row.holder_kana = c.deposit_type, c.account_number, c.holder_kana
    row.channel, row.master_version, row.updated_at = by.channel, c.master_version, now
    try:
        with db.begin_nested():  # two people registering the same account at once: the unique key decides
            db.flush()
    except IntegrityError as exc:
        raise _someone_elses() from exc
    record(db, ctx, person_id, action, row, by)
    code = ctx.code_for(db, REGISTRY_AGENCY, person_id)
    linkage.put_copy(db, REGISTRY_AGENCY, code, copy_items(row), clock=ctx.clock)
    _mark_stale(db, person_id)  # a change, or a first registration after a "no account" answer: look up again
    return _view(row), action


def remove(db: Session, ctx: PaymentsContext, row: Account, action: str, by: Actor, reason: str) -> None:
    """Delete a registration (``deleted`` or ``invalidated``): event, audit, copy dropped, entitlements stale."""
    person_id = row.person_id
    record(db, ctx, person_id, action, row, by, reason)
    db.delete(row)
    code = ctx.code_for(db, REGISTRY_AGENCY, person_id)
    linkage.drop_copy(db, REGISTRY_AGENCY, code, ITEMS)
    _mark_stale(db, person_id)
    db.flush()


def delete_account(
    db: Session, ctx: PaymentsContext, person_id: int, by: Actor, reason: str = ""
) -> AccountView:
    """Delete the person's registration (:class:`NotFound` if none); return what was registered."""
    row = db.get(Account, person_id, with_for_update=True)
    if row is None:
        raise NotFound("No account is registered.", ja="登録されている口座はありません。")
    view = _view(row)
    remove(db, ctx, row, "deleted", by, reason)
    return view
