"""What the citizen sees of a benefit after the notice: each transfer instructed for it (run attempt, 振込指定日,
amount, the account paid into with its number masked, the bank's result) and the account lookups through the hub
that preceded it (from the person's やりとり履歴: the paying agency asking the account registry under the
programme's business)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.linkage import api as linkage
from tsunagu.payments.context import REGISTRY_AGENCY, PaymentsContext
from tsunagu.payments.core import results
from tsunagu.payments.core.masks import mask_account_number
from tsunagu.payments.models import Instruction, Run

LOOKUP_HISTORY = 500  # how far back in the person's やりとり履歴 the lookups are looked for


@dataclass(frozen=True)
class TransferLine:
    attempt: int
    transfer_date: dt.date
    amount: int
    bank_code: str
    branch_code: str
    account_number: str  # masked: ****567
    state: str  # instructed | paid | failed
    result_code: str
    result_at: dt.datetime | None

    def result(self, lang: str) -> str:
        return results.meaning(self.result_code, lang) if self.result_code else ""


def transfers_of(db: Session, entitlement_id: int) -> list[TransferLine]:
    """Every transfer instructed for the benefit, oldest first (a retry after a failure adds a line)."""
    rows = db.execute(
        select(Instruction, Run.attempt, Run.transfer_date)
        .join(Run, Run.id == Instruction.run_id)
        .where(Instruction.entitlement_id == entitlement_id)
        .order_by(Instruction.id)
    ).all()
    return [
        TransferLine(
            attempt,
            transfer_date,
            i.amount,
            i.bank_code,
            i.branch_code,
            mask_account_number(i.account_number),
            i.state,
            i.result_code,
            i.result_at,
        )
        for i, attempt, transfer_date in rows
    ]


def lookups_of(
    db: Session, ctx: PaymentsContext, person_id: int, agency: str, business: str
) -> list[linkage.ExchangeView]:
    """The person's exchanges in which ``agency`` asked the account registry under ``business``, newest first."""
    return [
        e
        for e in linkage.exchanges_about(db, ctx.keys, person_id, limit=LOOKUP_HISTORY)
        if e.requester == agency and e.provider == REGISTRY_AGENCY and e.business == business
    ]
