"""Push-type notices (プッシュ型のお知らせ): after the lookup, the paying agency tells each payee what it will pay and
into which account, and by when they can change the account or decline; a payee without a registered account is
invited to register one (or to apply).

One お知らせ per payee and transition (all their entitlements of the programme and period together), sent by the
agency to its own 符号 for them (``linkage.send_to_code``) in the same transaction that moves the entitlements'
state, so a notice is never sent twice for the same state and never missing for a state reached:

- ``new`` with an account → ``notified`` (deadline = today + the programme's notice days);
- ``new`` without → ``no_account`` (invitation);
- ``no_account`` whose account was registered and looked up again → ``notified``;
- ``notified`` / ``confirmed`` whose account was deleted and looked up again → ``no_account``.

Entitlements not looked up yet, or whose account changed since (``account_stale``), wait for the next lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import JST
from tsunagu.linkage import api as linkage
from tsunagu.payments.context import PaymentsContext
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.models import Entitlement
from tsunagu.payments.services.entitlements import State, Uow, mask_account

PAGE = 500
ACCOUNT_PAGE = "/my/public-fund-account"
DEPOSIT = {"1": ("普通", "ordinary"), "2": ("当座", "current"), "4": ("貯蓄", "savings")}
Progress = Callable[[int], None]


@dataclass
class Notified:
    programme: str
    period: str
    notified: int = 0  # payees told where they will be paid
    invited: int = 0  # payees without an account, invited to register
    entitlements: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _due(e: type[Entitlement], programme: Programme, period: str) -> tuple[Any, ...]:
    return (
        e.programme_id == programme.id,
        e.period == period,
        e.account_exchange.is_not(None),
        e.account_stale.is_(False),
        or_(
            e.state == State.NEW,
            and_(e.state == State.NO_ACCOUNT, e.account.is_not(None)),
            and_(e.state.in_((State.NOTIFIED, State.CONFIRMED)), e.account.is_(None)),
        ),
    )


def _payees(db: Session, programme: Programme, period: str) -> list[int]:
    """Every payee with a transition due, in id order, read once."""
    e = Entitlement
    return list(
        db.scalars(
            select(e.payee_person_id)
            .where(*_due(e, programme, period))
            .distinct()
            .order_by(e.payee_person_id)
        )
    )


def _transition_due(row: Entitlement, programme: Programme, period: str) -> bool:
    if (row.programme_id, row.period) != (programme.id, period) or row.account_exchange is None:
        return False
    if row.account_stale:
        return False
    if row.state == State.NEW:
        return True
    if row.state == State.NO_ACCOUNT:
        return row.account is not None
    return row.state in (State.NOTIFIED, State.CONFIRMED) and row.account is None


def _pending(db: Session, programme: Programme, period: str, payees: list[int]) -> list[Entitlement]:
    """The payees' entitlements with a transition due. Found by payee only (the payee index; with the programme in
    the query SQLite chose the state index and read every row of the programme), then filtered here."""
    rows = db.scalars(
        select(Entitlement)
        .where(Entitlement.payee_person_id.in_(payees))
        .order_by(Entitlement.id)
        .with_for_update()
    )
    return [r for r in rows if _transition_due(r, programme, period)]


def notify(
    uow: Uow,
    ctx: PaymentsContext,
    programme: Programme,
    period: str,
    *,
    page: int = PAGE,
    progress: Progress | None = None,
) -> Notified:
    """Send the notices due (see the module docstring); idempotent. Each page commits on its own."""
    programme.check_period(period)
    done = Notified(programme.id, period)
    with uow() as db:
        payees = _payees(db, programme, period)
    for lo in range(0, len(payees), page):
        with uow() as db:
            groups: dict[int, list[Entitlement]] = {}
            for row in _pending(db, programme, period, payees[lo : lo + page]):
                groups.setdefault(row.payee_person_id, []).append(row)
            for payee, group in groups.items():
                _tell(db, ctx, programme, period, payee, group, done)
        if progress is not None:
            progress(done.notified + done.invited)
    return done


def _tell(
    db: Session,
    ctx: PaymentsContext,
    programme: Programme,
    period: str,
    payee: int,
    group: list[Entitlement],
    done: Notified,
) -> None:
    now = ctx.clock.now()
    today = now.astimezone(JST).date()
    account = next((r.account for r in group if r.account), None)
    code = ctx.code_for(db, programme.agency, payee)
    first = min(r.id for r in group)
    total = sum(r.amount for r in group)
    if account is not None:
        deadline = today + dt.timedelta(days=programme.notice_days)
        text = _will_pay(programme, period, total, len(group), account, deadline)
        link = f"/my/benefits/{first}"
        for r in group:
            r.state, r.deadline, r.notified_at, r.updated_at = State.NOTIFIED, deadline, now, now
        done.notified += 1
    else:
        text = _invitation(programme, period, total, len(group))
        link = ACCOUNT_PAGE
        for r in group:
            r.state, r.deadline, r.notified_at, r.updated_at = State.NO_ACCOUNT, None, now, now
        done.invited += 1
    done.entitlements += len(group)
    linkage.send_to_code(db, ctx.keys, programme.agency, code, *text, link, clock=ctx.clock)
    db.flush()


def period_label(period: str, lang: str) -> str:
    if period == "once":
        return ""
    year, month = period.split("-")
    return f"{year}年{int(month)}月支払分" if lang == "ja" else f"payment of {year}-{month}"


def _will_pay(
    programme: Programme, period: str, total: int, count: int, account: dict[str, Any], deadline: dt.date
) -> tuple[str, str, str, str]:
    masked = mask_account(account) or {}
    dep_ja, dep_en = DEPOSIT.get(str(account.get("deposit_type")), ("", ""))
    where_ja = (
        f"{masked.get('bank_name')} {masked.get('branch_name')} {dep_ja} {masked.get('account_number')}"
    )
    where_en = (
        f"{masked.get('bank_name')} (bank {masked.get('bank_code')}), {masked.get('branch_name')} branch "
        f"({masked.get('branch_code')}), {dep_en} account {masked.get('account_number')}"
    )
    label_ja, label_en = period_label(period, "ja"), period_label(period, "en")
    people_ja = f"（{count}人分）" if count > 1 else ""
    people_en = f" for {count} people" if count > 1 else ""
    return (
        f"{programme.name_ja}のお支払いについて（振込先のご確認）",
        f"{programme.name_en}: where we will pay you",
        (
            f"{programme.name_ja}{('（' + label_ja + '）') if label_ja else ''}として"
            f"{total:,}円{people_ja}を、登録されている公金受取口座（{where_ja}）にお振り込みします。"
            "この口座でよろしければ、手続は不要です。"
            f"口座の変更または受給の辞退は、{deadline.year}年{deadline.month}月{deadline.day}日までにお知らせください。"
        ),
        (
            f"We will pay {total:,} yen{people_en} of {programme.name_en}"
            f"{(' (' + label_en + ')') if label_en else ''} into your registered public-fund account: {where_en}. "
            "If this account is right, you need do nothing. "
            f"To change the account or decline the benefit, tell us by {deadline.isoformat()}."
        ),
    )


def _invitation(programme: Programme, period: str, total: int, count: int) -> tuple[str, str, str, str]:
    people_ja = f"（{count}人分）" if count > 1 else ""
    people_en = f" for {count} people" if count > 1 else ""
    del period
    return (
        f"{programme.name_ja}のお支払いについて（公金受取口座の登録のお願い）",
        f"{programme.name_en}: please register an account",
        (
            f"{programme.name_ja}として{total:,}円{people_ja}をお支払いする予定ですが、"
            "公金受取口座が登録されていません。マイナポータルで公金受取口座を登録するか、"
            "振込先を記入した申請書を提出してください。登録されると、改めてお知らせします。"
        ),
        (
            f"We are due to pay you {total:,} yen{people_en} of {programme.name_en}, but you have no "
            "public-fund account registered. Register one in the portal, or apply with the account to pay into; "
            "we will write again once it is registered."
        ),
    )
