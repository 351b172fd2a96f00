"""The provider side (情報提供者): answer a forwarded request from the agency's copy (副本), keyed by its code.

The same function serves an in-process agency (called by the hub in its transaction) and a node process (called
by the node's HTTP endpoint in the node's own transaction). A repeated forward (the hub retrying after a lost
answer) returns the answer already given, so the provider's log holds each exchange once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import (
    MAX_MESSAGE_BYTES,
    MAX_VALUE_BYTES,
    Answer,
    Forward,
    InvalidMessage,
    ItemValue,
    Reason,
    Typ,
    new_id,
    parse_forward,
)
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.live import LIVE_ITEMS, LiveItems
from tsunagu.linkage.exchange.models import AGENCY_LOG, COPIES, Copy

PROVIDER = "provider"
REQUESTER = "requester"
DONE = select(AGENCY_LOG.c.message).where(
    AGENCY_LOG.c.agency == bindparam("agency"),
    AGENCY_LOG.c.role == PROVIDER,
    AGENCY_LOG.c.exchange_id == bindparam("exchange_id"),
)
HELD = select(COPIES.c.item, COPIES.c.value, COPIES.c.disclose).where(
    COPIES.c.agency == bindparam("agency"),
    COPIES.c.code == bindparam("code"),
    COPIES.c.item.in_(bindparam("items", expanding=True)),
)
INSERT_LOG = insert(AGENCY_LOG)


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
    return answer_forward(db, ring, agency, parse_forward(parsed.payload), clock=clock)


PENDING = (
    "linkage.pending_provider_log"  # Session.info key: log rows an in-process provider has yet to insert
)


def answer_forward(
    db: Session,
    ring: KeyRing,
    agency: str,
    forward: Forward,
    *,
    clock: Clock | None = None,
    defer: bool = False,
    live: LiveItems | None = None,
) -> str:
    """Answer a forward already verified (or handed over in-process by the hub itself); return the signed answer.

    ``defer``: leave the log row in ``db.info[PENDING]`` for the hub to insert with the rest of its batch (it
    is the same transaction). ``live``: the in-process source of live items (:mod:`.live`), asked only for a
    live item the copy does not hold."""
    if forward.provider != agency:
        raise InvalidMessage(Reason.MALFORMED, f"this forward is for {forward.provider}, not {agency}")
    conn = db.connection()
    if not defer:  # deferred (in-process): the row commits with the hub's record, which does not exist yet
        done = conn.execute(DONE, {"agency": agency, "exchange_id": forward.id}).scalar()
        if done is not None:
            return str(done)
    received = _now(clock)
    rows = conn.execute(HELD, {"agency": agency, "code": forward.subject, "items": list(forward.items)}).all()
    held = {item: ItemValue(json.loads(value), disclose) for item, value, disclose in rows}
    if live is not None and (wanted := [i for i in forward.items if i in LIVE_ITEMS and i not in held]):
        held |= {i: ItemValue(v) for i, v in live.answer(db, agency, forward.subject, wanted).items()}
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
    row = {
        "agency": agency,
        "role": PROVIDER,
        "exchange_id": forward.id,
        "message_id": message.id,
        "counterpart": forward.requester,
        "business": forward.business,
        "items": " ".join(forward.items),
        "withheld": " ".join(i for i, v in message.items.items() if not v.disclose),
        "subject_code": forward.subject,
        "requested_at": received,
        "provided_at": provided,
        "message": signed,
    }
    if defer:
        db.info.setdefault(PENDING, []).append(row)
    else:
        conn.execute(INSERT_LOG, row)
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


def drop_copy(db: Session, agency: str, code: str, items: Iterable[str]) -> int:
    """Remove items of ``agency``'s copy for the person it knows as ``code`` (a deregistration); return how many
    rows went. Items it does not hold are ignored."""
    wanted = list(items)
    if not wanted:
        return 0
    result = db.execute(delete(Copy).where(Copy.agency == agency, Copy.code == code, Copy.item.in_(wanted)))
    return int(getattr(result, "rowcount", 0) or 0)
