"""The provider side (情報提供者): answer a forwarded request from the agency's copy (副本), keyed by its code.

The same function serves an in-process agency (called by the hub in its transaction) and a node process (called
by the node's HTTP endpoint in the node's own transaction). A repeated forward (the hub retrying after a lost
answer) returns the answer already given, so the provider's log holds each exchange once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import (
    MAX_MESSAGE_BYTES,
    MAX_VALUE_BYTES,
    Answer,
    InvalidMessage,
    ItemValue,
    Reason,
    Typ,
    new_id,
    parse_forward,
)
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.models import AgencyLogEntry, Copy

PROVIDER = "provider"
REQUESTER = "requester"


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or Clock()).now()


def answer(db: Session, ring: KeyRing, agency: str, token: str, *, clock: Clock | None = None) -> str:
    """Verify the hub's forward, answer it from ``agency``'s copy, log it; return the signed answer.

    Raises :class:`InvalidMessage` for a forward that is malformed, not from the hub, badly signed or meant for
    another agency."""
    try:
        parsed = jws.parse(token, MAX_MESSAGE_BYTES)
    except jws.MalformedJws as exc:
        raise InvalidMessage(Reason.MALFORMED, str(exc)) from exc
    if parsed.typ != Typ.FORWARD or parsed.kid != HUB:
        raise InvalidMessage(Reason.MALFORMED, "a provider accepts only forwards signed by the hub")
    if not jws.verify(parsed, ring.verification_key(db, HUB)):
        raise InvalidMessage(
            Reason.BAD_SIGNATURE, "the forward's signature does not verify with the hub's key"
        )
    forward = parse_forward(parsed.payload)
    if forward.provider != agency:
        raise InvalidMessage(Reason.MALFORMED, f"this forward is for {forward.provider}, not {agency}")
    done = db.scalar(
        select(AgencyLogEntry.message).where(
            AgencyLogEntry.agency == agency,
            AgencyLogEntry.role == PROVIDER,
            AgencyLogEntry.exchange_id == forward.id,
        )
    )
    if done is not None:
        return done
    received = _now(clock)
    rows = db.execute(
        select(Copy.item, Copy.value, Copy.disclose).where(
            Copy.agency == agency, Copy.code == forward.subject, Copy.item.in_(forward.items)
        )
    ).all()
    held = {item: ItemValue(json.loads(value), disclose) for item, value, disclose in rows}
    message = Answer(
        id=new_id(),
        iat=int(received.timestamp()),
        in_reply_to=forward.id,
        provider=agency,
        subject=forward.subject,
        request_hash=forward.request_hash,
        items={i: held[i] for i in forward.items if i in held},
        not_held=tuple(i for i in forward.items if i not in held),
    )
    signed = jws.sign(message.claims(), ring.signing_key(db, agency), agency, Typ.ANSWER)
    provided = _now(clock)
    db.add(
        AgencyLogEntry(
            agency=agency,
            role=PROVIDER,
            exchange_id=forward.id,
            message_id=message.id,
            counterpart=forward.requester,
            business=forward.business,
            items=" ".join(forward.items),
            withheld=" ".join(i for i, v in message.items.items() if not v.disclose),
            subject_code=forward.subject,
            requested_at=received,
            provided_at=provided,
            message=signed,
        )
    )
    db.flush()
    return signed


# --- the copy (副本) ------------------------------------------------------------------------------------------------


def put_copy(
    db: Session,
    agency: str,
    code: str,
    items: dict[str, Any],
    *,
    withhold: Iterable[str] = (),
    clock: Clock | None = None,
) -> int:
    """Store (or replace) items of ``agency``'s copy for the person it knows as ``code``; return how many.

    ``withhold`` names items the agency marks not disclosable to the person (番号法 art. 23(2))."""
    withheld = set(withhold)
    now = _now(clock)
    existing = {
        row.item: row
        for row in db.scalars(
            select(Copy).where(Copy.agency == agency, Copy.code == code, Copy.item.in_(items))
        )
    }
    for item, value in items.items():
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if len(text.encode()) > MAX_VALUE_BYTES:
            raise InvalidMessage(
                Reason.OVERSIZED, f"the value of {item} is larger than {MAX_VALUE_BYTES} bytes"
            )
        row = existing.get(item)
        if row is None:
            db.add(
                Copy(
                    agency=agency,
                    code=code,
                    item=item,
                    value=text,
                    disclose=item not in withheld,
                    updated_at=now,
                )
            )
        else:
            row.value, row.disclose, row.updated_at = text, item not in withheld, now
    db.flush()
    return len(items)


def log_of(db: Session, agency: str, role: str | None = None, limit: int = 100) -> list[AgencyLogEntry]:
    """An agency's own log, newest first."""
    query = select(AgencyLogEntry).where(AgencyLogEntry.agency == agency)
    if role is not None:
        query = query.where(AgencyLogEntry.role == role)
    return list(db.scalars(query.order_by(AgencyLogEntry.id.desc()).limit(limit)))
