"""Account lookups through the hub (情報照会): the paying agency asks the registry agency ``DA-KOKIN`` for the
public-fund account of each payee, under the programme's business of the legal-basis table.

Each payee is asked once per lookup (all their entitlements of the programme and period share the answer), by
the agency's own 符号 for them, in batches sent as one 一括照会 (``linkage.ask_many``). Every answered request is a
logged exchange: it shows in the person's やりとり履歴, and its id is kept on the entitlement with the snapshot of
the account (``None`` when the person has not registered one). Refused requests leave the entitlements as they
were, with the hub's reason.

Which entitlements are looked up: those never looked up (no exchange yet) and those whose account changed since
(``account_stale``, set by the account registry on a change or deletion), in a state where the account still
matters (new, notified, confirmed, no account).

Transactions: codes are issued, and the answers written, in units of work of their own; the exchange commits in
the hub's. A lookup killed half-way is resumed by running it again (the rows not yet answered are still due)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, null, or_, select, update

from tsunagu.linkage import api as linkage
from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext
from tsunagu.payments.core.programmes import Programme
from tsunagu.payments.models import Entitlement
from tsunagu.payments.services.entitlements import LOOKED_UP, TABLE, Uow

ITEMS = ("public_fund_account.bank", "public_fund_account.account", "public_fund_account.holder")
BATCH = 200
Progress = Callable[[int], None]


@dataclass
class Looked:
    """What a lookup did: payees asked, accounts found, not registered, refused (reason → count)."""

    programme: str
    period: str
    asked: int = 0
    found: int = 0
    not_registered: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.asked / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "rate": round(self.rate, 1)}


def snapshot(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The account as the entitlement keeps it, from the three items (``None`` unless all are there)."""
    bank = values.get("public_fund_account.bank")
    account = values.get("public_fund_account.account")
    holder = values.get("public_fund_account.holder")
    if not isinstance(bank, dict) or not isinstance(account, dict) or not isinstance(holder, str):
        return None
    return {
        "bank_code": str(bank.get("bank_code", "")),
        "bank_name": str(bank.get("bank_name", "")),
        "branch_code": str(bank.get("branch_code", "")),
        "branch_name": str(bank.get("branch_name", "")),
        "deposit_type": str(account.get("deposit_type", "")),
        "account_number": str(account.get("account_number", "")),
        "holder_kana": holder,
    }


def _due(db: Any, programme: Programme, period: str) -> list[int]:
    """Every payee with an entitlement to look up, in id order: read once (one pass over the programme's rows;
    paging this query with a keyset made SQLite scan the state index and sort again for every page)."""
    e = Entitlement
    return list(
        db.scalars(
            select(e.payee_person_id)
            .where(
                e.programme_id == programme.id,
                e.period == period,
                e.state.in_(LOOKED_UP),
                or_(e.account_exchange.is_(None), e.account_stale.is_(True)),
            )
            .distinct()
            .order_by(e.payee_person_id)
        )
    )


def lookup(
    uow: Uow,
    ctx: PaymentsContext,
    programme: Programme,
    period: str,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> Looked:
    """Look up the accounts of every payee due (see the module docstring); returns the counts and the rate."""
    programme.check_period(period)
    done = Looked(programme.id, period)
    t0 = time.perf_counter()  # wall time, for the rate only
    with uow() as db:
        due = _due(db, programme, period)
    for lo in range(0, len(due), batch):
        payees = due[lo : lo + batch]
        with uow() as db:
            codes = [ctx.code_for(db, programme.agency, p) for p in payees]
        _ask(uow, ctx, programme, period, payees, codes, done)
        if progress is not None:
            progress(done.asked)
    done.seconds = time.perf_counter() - t0
    return done


def _ask(
    uow: Uow,
    ctx: PaymentsContext,
    programme: Programme,
    period: str,
    payees: list[int],
    codes: list[str],
    done: Looked,
) -> None:
    platform = ctx.platform
    requests = [
        linkage.new_request(
            programme.agency, REGISTRY_AGENCY, programme.business, ITEMS, code, clock=ctx.clock
        )
        for code in codes
    ]
    outcomes = linkage.ask_many(platform.uow, platform.ring, platform.local_hub(), requests)
    now = ctx.clock.now()
    answered: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for payee, outcome in zip(payees, outcomes, strict=True):
        done.asked += 1
        if isinstance(outcome, linkage.ExchangeRefused):
            done.refused[outcome.reason] = done.refused.get(outcome.reason, 0) + 1
            refused.append({"payee": payee, "why": f"lookup refused: {outcome.reason}"[:500], "ts": now})
            continue
        values = {item: held.value for item, held in outcome.items.items() if held.disclose}
        account = snapshot(values)
        if account is None:
            done.not_registered += 1
        else:
            done.found += 1
        answered.append({"payee": payee, "acc": account, "exch": outcome.exchange_id, "ts": now})
    with uow() as db:
        _store(db, programme, period, answered, refused)


def _store(
    db: Any,
    programme: Programme,
    period: str,
    answered: list[dict[str, Any]],
    refused: list[dict[str, Any]],
) -> None:
    """Write the answers (executemany per kind: found, not registered, refused)."""
    e = Entitlement
    scope = (
        e.programme_id == programme.id,
        e.period == period,
        e.payee_person_id == bindparam("payee"),
        or_(*(e.state == s for s in LOOKED_UP)),  # no IN: an expanding parameter cannot be executemany'd
    )
    stamp = bindparam("ts", type_=TABLE.c.updated_at.type)
    found = [a for a in answered if a["acc"] is not None]
    missing = [a for a in answered if a["acc"] is None]
    common = {
        "account_exchange": bindparam("exch"),
        "account_stale": False,
        "reason": "",
        "updated_at": stamp,
    }
    conn = db.connection()
    if found:
        account = bindparam("acc", type_=TABLE.c.account.type)
        conn.execute(update(TABLE).where(*scope).values(account=account, **common), found)
    if missing:  # SQL NULL, not a JSON null: "no account" is found with IS NULL
        conn.execute(update(TABLE).where(*scope).values(account=null(), **common), missing)
    if refused:
        conn.execute(update(TABLE).where(*scope).values(reason=bindparam("why"), updated_at=stamp), refused)
