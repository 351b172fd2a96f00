"""The hub (情報提供ネットワークシステム): verify, authorise, translate, forward, log, reply.

:meth:`Hub.prepare` does steps 1–5 of one exchange (reads only, besides a provider's first code), and
:class:`GroupCommit` does step 6 for the answered exchanges of the process together; :meth:`Hub.handle_many` does
all six for a batch (一括照会) in the caller's transaction:

1. parse the request (size, shape, ES256 JWS with ``kid`` = requester) and verify it with the requester's
   certified key;
2. a request id seen before from this requester returns the first reply if the request is the same, and is
   refused as a replay if it differs; a request outside the freshness window is refused as stale;
3. check every item against the data dictionary and the request against the legal-basis table (別表);
4. translate the requester's code into the provider's (the person id never leaves the hub);
5. forward to the provider through the transport (over HTTP signed by the hub; in-process handed over as the
   object) and verify its answer: signed by the provider, bound to this forward and request, answering exactly
   the items asked;
6. append the exchange to the Merkle log, store the record and sign the reply.

Nothing is written before the provider has answered, so a provider that is down or slow leaves no trace in the
exchange logs; :func:`run_exchange` records the refusal in a transaction of its own and audits it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import services, sources
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.legal_basis import authorise
from tsunagu.linkage.core.messages import (
    MAX_MESSAGE_BYTES,
    Answer,
    Forward,
    InvalidMessage,
    Reason,
    Reply,
    Request,
    Typ,
    parse_answer,
    parse_request,
    request_hash,
)
from tsunagu.linkage.errors import (
    AgencyCertificateInvalid,
    AgencyInactive,
    ExchangeRefused,
    UnknownAgency,
    UnknownCode,
)
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.models import AGENCY_LOG, EXCHANGES, Refusal
from tsunagu.linkage.exchange.provider import PENDING
from tsunagu.linkage.exchange.sql import insert_new
from tsunagu.linkage.exchange.transport import ProviderTransport, ProviderUnavailable
from tsunagu.linkage.log import services as log

SEEN = select(EXCHANGES.c.request_hash, EXCHANGES.c.reply).where(
    EXCHANGES.c.requester == bindparam("requester"), EXCHANGES.c.request_id == bindparam("request_id")
)
INSERT_EXCHANGE = insert(EXCHANGES)
FRESHNESS = dt.timedelta(minutes=5)  # a request made longer ago (or further ahead) than this is refused
EXCHANGE_NAMESPACE = uuid.UUID("0f4b8f0e-7c1a-5d8e-9a57-7473756e6167")  # uuid5 space of exchange ids
LOG_ENTRY_VERSION = 1


def _refuse(reason: Reason, detail: str, ja: str | None = None) -> ExchangeRefused:
    return ExchangeRefused(reason.value, detail, ja=ja)


def exchange_id_for(requester: str, request_id: str) -> str:
    """The hub's id for the exchange a request starts: the same for a retried request, so the provider, which
    keeps one answer per exchange id, answers a retry with the answer it already gave."""
    return str(uuid.uuid5(EXCHANGE_NAMESPACE, f"{requester}/{request_id}"))


def millis(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class Prepared:
    """An exchange whose provider has answered, waiting to be written (see :class:`GroupCommit`)."""

    token: str
    entry: bytes
    row: dict[str, object]
    reply: Reply
    provider_rows: list[dict[str, object]]  # an in-process provider's log row, written with the record


@dataclass
class Hub:
    ring: KeyRing
    transport: ProviderTransport
    clock: Clock = field(default_factory=Clock)

    # -- 1–2 ------------------------------------------------------------------------------------------------------
    def _verified_request(self, db: Session, token: str) -> Request:
        if len(token) > MAX_MESSAGE_BYTES:
            raise _refuse(Reason.OVERSIZED, f"The request is larger than {MAX_MESSAGE_BYTES} bytes.")
        try:
            parsed = jws.parse(token, MAX_MESSAGE_BYTES)
        except jws.MalformedJws as exc:
            reason = Reason.UNSIGNED if "not signed" in str(exc) else Reason.MALFORMED
            raise _refuse(reason, f"The request is not a valid signed message: {exc}.") from exc
        if parsed.typ != Typ.REQUEST:
            raise _refuse(Reason.MALFORMED, f"Expected a message of type {Typ.REQUEST}, got {parsed.typ!r}.")
        try:
            request = parse_request(parsed.payload)
        except InvalidMessage as exc:
            raise _refuse(exc.reason, f"The request is malformed: {exc.detail}.") from exc
        if parsed.kid != request.requester:
            raise _refuse(Reason.MALFORMED, "The request must be signed by its requester (kid ≠ requester).")
        try:
            key = self.ring.verification_key(db, request.requester)
        except UnknownAgency as exc:
            raise _refuse(Reason.UNKNOWN_AGENCY, f"Unknown requester {request.requester}.") from exc
        except AgencyInactive as exc:
            raise _refuse(Reason.AGENCY_INACTIVE, exc.detail) from exc
        except AgencyCertificateInvalid as exc:
            raise _refuse(Reason.CERTIFICATE_INVALID, exc.detail) from exc
        if not jws.verify(parsed, key):
            raise _refuse(
                Reason.BAD_SIGNATURE, f"The signature does not verify with {request.requester}'s key."
            )
        return request

    # -- the whole exchange -----------------------------------------------------------------------------------
    def handle_many(self, db: Session, tokens: list[str]) -> list[str | ExchangeRefused]:
        """Several exchanges in one transaction (一括照会: a batch from one or more requesters, and group commit):
        each token gets its signed reply or its refusal, in order. The providers are asked first; then the hub
        log is appended once for the batch (under the append lock, held only for the append) and each reply is
        signed with the leaf its entry got."""
        pending: list[tuple[int, bytes, dict[str, object], Reply]] = []
        outcomes: list[str | ExchangeRefused] = []
        repeats: list[tuple[int, int]] = []  # (position, position of the first copy in this batch)
        in_batch: dict[tuple[str, str], tuple[str, int]] = {}
        for position, token in enumerate(tokens):
            try:
                outcome = self._one(db, token, position, in_batch)
            except ExchangeRefused as refused:
                outcomes.append(refused)
                continue
            if isinstance(outcome, tuple):
                pending.append((position, *outcome))
                outcomes.append("")  # signed below
            elif isinstance(outcome, int):
                repeats.append((position, outcome))
                outcomes.append("")
            else:
                outcomes.append(outcome)
        if pending:
            signed = self.commit_prepared(db, [(entry, row, reply) for _, entry, row, reply in pending])
            for (position, _, _, _), reply_token in zip(pending, signed, strict=True):
                outcomes[position] = reply_token
        provided = db.info.pop(PENDING, None)
        if provided:
            insert_new(db.connection(), AGENCY_LOG, provided)
        for position, first in repeats:
            outcomes[position] = outcomes[first]
        return outcomes

    def commit_prepared(
        self, db: Session, prepared: list[tuple[bytes, dict[str, object], Reply]]
    ) -> list[str]:
        """The write half of exchanges already answered: one Merkle append for all, each reply signed with its
        leaf, one insert of the records. Returns the signed replies, in order."""
        leaves = log.append(db, [entry for entry, _, _ in prepared], self.clock)
        hub_key = self.ring.signing_key(db, HUB)
        rows, replies = [], []
        for (_, row, reply), leaf in zip(prepared, leaves, strict=True):
            signed = jws.sign(dataclasses.replace(reply, log_index=leaf).claims(), hub_key, HUB, Typ.REPLY)
            replies.append(signed)
            rows.append({**row, "leaf_index": leaf, "reply": signed})
        db.connection().execute(INSERT_EXCHANGE, rows)
        return replies

    def prepare(self, db: Session, token: str) -> str | Prepared:
        """The read half of one exchange (steps 1–5: nothing written but a first code): the first reply of a request
        seen before, or what :class:`GroupCommit` writes. Raises :class:`ExchangeRefused`."""
        outcome = self._one(db, token, 0, {})
        if isinstance(outcome, str):
            return outcome
        if isinstance(outcome, int):  # pragma: no cover - a batch of one has no earlier copy
            raise AssertionError(outcome)
        entry, row, reply = outcome
        return Prepared(token, entry, row, reply, db.info.pop(PENDING, []))

    def _one(
        self, db: Session, token: str, position: int, in_batch: dict[tuple[str, str], tuple[str, int]]
    ) -> str | int | tuple[bytes, dict[str, object], Reply]:
        """Steps 1–5 for one request. Returns the first reply of a request seen before, the position of its first
        copy in this batch, or (log entry, record, unsigned reply) for a new exchange."""
        request = self._verified_request(db, token)
        digest = request_hash(token)
        key = (request.requester, request.id)
        earlier = in_batch.get(key)
        if earlier is not None:
            if earlier[0] == digest:
                return earlier[1]
            raise _refuse(Reason.REPLAYED, f"Request id {request.id} was already used for another request.")
        seen = (
            db.connection().execute(SEEN, {"requester": request.requester, "request_id": request.id}).first()
        )
        if seen is not None:
            if seen.request_hash == digest:
                return str(seen.reply)
            raise _refuse(Reason.REPLAYED, f"Request id {request.id} was already used for another request.")
        requested = self.clock.now()
        made = dt.datetime.fromtimestamp(request.iat, dt.UTC)
        if abs(requested - made) > FRESHNESS:
            raise _refuse(
                Reason.STALE, f"The request was made at {made.isoformat()}, outside the 5-minute window."
            )
        requester, provider = self._authorise(db, request)
        try:
            subject, index = services.translate_for_exchange(
                db, self.ring.keys, requester, request.subject, provider, clock=self.clock
            )
        except UnknownCode as exc:
            raise _refuse(Reason.UNKNOWN_CODE, f"{request.requester} holds no such code.") from exc
        exchange_id = exchange_id_for(request.requester, request.id)
        forward = Forward(
            id=exchange_id,
            iat=int(requested.timestamp()),
            requester=request.requester,
            provider=request.provider,
            business=request.business,
            items=request.items,
            subject=subject,
            request_hash=digest,
        )
        hub_key = self.ring.signing_key(db, HUB)
        try:
            answer_token = self.transport.ask(
                db, request.provider, forward, lambda: jws.sign(forward.claims(), hub_key, HUB, Typ.FORWARD)
            )
        except ProviderUnavailable as exc:
            raise _refuse(
                Reason.PROVIDER_UNAVAILABLE, f"Provider {request.provider} did not answer: {exc}."
            ) from exc
        answer = self._verified_answer(db, answer_token, forward)
        provided = self.clock.now()
        withheld = tuple(i for i, v in answer.items.items() if not v.disclose)
        entry = self.log_entry(exchange_id, request, digest, requested, provided, withheld, index)
        reply = Reply(
            id=exchange_id,
            iat=int(provided.timestamp()),
            in_reply_to=request.id,
            requester=request.requester,
            provider=request.provider,
            business=request.business,
            subject=request.subject,
            request_hash=digest,
            items=answer.items,
            not_held=answer.not_held,
            requested_at=millis(requested),
            provided_at=millis(provided),
            log_index=0,  # set when the batch is appended
        )
        in_batch[key] = (digest, position)
        return (
            entry,
            {
                "exchange_id": exchange_id,
                "requester": request.requester,
                "request_id": request.id,
                "request_hash": digest,
                "provider": request.provider,
                "business": request.business,
                "items": " ".join(request.items),
                "withheld": " ".join(withheld),
                "by_proxy": request.by_proxy,
                "person_index": index,
                "requested_at": requested,
                "provided_at": provided,
            },
            reply,
        )

    def _authorise(self, db: Session, request: Request) -> tuple[services.AgencyInfo, services.AgencyInfo]:
        dictionary = sources.dictionary()
        unknown = [i for i in request.items if dictionary.get(i) is None]
        if unknown:
            raise _refuse(Reason.UNKNOWN_ITEM, f"Unknown item(s): {', '.join(unknown)}.")
        found = []
        for code in (request.requester, request.provider):
            try:
                info = self.ring.agency(db, code)
            except UnknownAgency as exc:
                raise _refuse(Reason.UNKNOWN_AGENCY, exc.detail, exc.detail_ja) from exc
            if not info.active:
                raise _refuse(
                    Reason.AGENCY_INACTIVE,
                    f"Agency {code} is not active.",
                    f"機関 {code} は現在利用できません。",
                )
            found.append(info)
        requester, provider = found
        decision = authorise(
            sources.legal_basis(), requester.type, request.business, provider.type, request.items
        )
        if not decision.allowed:
            raise ExchangeRefused(
                Reason.NOT_PERMITTED.value,
                decision.reason,
                ja=decision.reason_ja,
                refusal=decision.refusal.value if decision.refusal else None,
                missing=list(decision.missing),
            )
        return requester, provider

    def _verified_answer(self, db: Session, token: str, forward: Forward) -> Answer:
        def bad(detail: str) -> ExchangeRefused:
            return _refuse(Reason.PROVIDER_ERROR, f"Provider {forward.provider} answered wrongly: {detail}.")

        try:
            parsed = jws.parse(token, MAX_MESSAGE_BYTES)
            answer = parse_answer(parsed.payload)
        except (jws.MalformedJws, InvalidMessage) as exc:
            raise bad(str(exc)) from exc
        if parsed.typ != Typ.ANSWER or parsed.kid != forward.provider or answer.provider != forward.provider:
            raise bad("the answer is not an answer signed by the provider")
        try:
            key = self.ring.verification_key(db, forward.provider)
        except (AgencyInactive, AgencyCertificateInvalid) as exc:
            raise bad(exc.detail) from exc
        if not jws.verify(parsed, key):
            raise bad("the signature does not verify")
        if answer.in_reply_to != forward.id or answer.request_hash != forward.request_hash:
            raise bad("the answer is for another request")
        if answer.subject != forward.subject:
            raise bad("the answer is about another person")
        asked = set(forward.items)
        if set(answer.items) | set(answer.not_held) != asked or set(answer.items) & set(answer.not_held):
            raise bad("the answer does not account for exactly the items asked")
        return answer

    def log_entry(
        self,
        exchange_id: str,
        request: Request,
        digest: str,
        requested: dt.datetime,
        provided: dt.datetime,
        withheld: tuple[str, ...],
        index: bytes,
    ) -> bytes:
        """The leaf the hub log holds for an exchange: canonical JSON of what 番号法 art. 23 asks to record.

        The person appears only as a commitment (HMAC of the blind index under the exchange id), so the public
        log links no two exchanges to one person; the portal shows each person their own entries."""
        subject = hmac.new(index, exchange_id.encode(), hashlib.sha256).hexdigest()
        return jws.canonical_json(
            {
                "v": LOG_ENTRY_VERSION,
                "exchange": exchange_id,
                "requester": request.requester,
                "provider": request.provider,
                "business": request.business,
                "items": list(request.items),
                "withheld": list(withheld),
                "by_proxy": request.by_proxy,
                "request_hash": digest,
                "requested_at": millis(requested),
                "provided_at": millis(provided),
                "subject": subject,
            }
        )


def _claimed(token: str) -> tuple[str | None, str | None]:
    """The requester and request id a (possibly bad) request claims, for the refusal record only."""
    try:
        payload = jws.parse(token, MAX_MESSAGE_BYTES).payload
    except jws.MalformedJws:
        return None, None
    requester, request_id = payload.get("requester"), payload.get("id")
    return (
        requester[:32] if isinstance(requester, str) else None,
        request_id[:36] if isinstance(request_id, str) else None,
    )


def record_refusal(db: Session, refused: ExchangeRefused, token: str, clock: Clock | None = None) -> None:
    requester, request_id = _claimed(token) if len(token) <= MAX_MESSAGE_BYTES else (None, None)
    db.add(
        Refusal(
            at=(clock or Clock()).now(),
            reason=refused.reason,
            detail=refused.detail[:500],
            requester=requester,
            request_id=request_id,
            request_hash=request_hash(token) if token and token.isascii() else None,
        )
    )
    audit.record(
        db,
        f"agency:{requester}" if requester else "agency:?",
        audit.AuditAction.LINKAGE_EXCHANGE_REFUSED,
        request_id or "",
        reason=refused.reason,
    )


class _Slot:
    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.reply: str | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Writes concurrent exchanges of one process together (group commit): each thread queues its answered
    exchange; whichever thread gets the writer's turn writes everything queued so far in one transaction (one
    Merkle append, one insert, one commit), and the others find their reply written. No thread waits for company:
    a batch is whatever queued while the previous one was being written.

    If the batch's insert conflicts (the same request sent twice at once), each exchange is written on its own;
    the loser of that race gets the winner's reply, or a replay refusal if its request differed."""

    def __init__(self, uow: Callable[[], AbstractContextManager[Session]], hub: Hub) -> None:
        self.uow = uow
        self.hub = hub
        self._queue: list[_Slot] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def write(self, prepared: Prepared) -> str:
        slot = _Slot(prepared)
        with self._queue_lock:
            self._queue.append(slot)
        with self._writer:
            if slot.reply is None and slot.error is None:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if slot.error is not None:
            raise slot.error
        if slot.reply is None:  # pragma: no cover - _write sets one or the other for every slot
            msg = "group commit left an exchange unwritten"
            raise RuntimeError(msg)
        return slot.reply

    def _write(self, batch: list[_Slot]) -> None:
        try:
            with self.uow() as db:
                replies = self.hub.commit_prepared(
                    db, [(s.prepared.entry, s.prepared.row, s.prepared.reply) for s in batch]
                )
                provided = [row for s in batch for row in s.prepared.provider_rows]
                if provided:
                    insert_new(db.connection(), AGENCY_LOG, provided)
            for slot, reply in zip(batch, replies, strict=True):
                slot.reply = reply
        except IntegrityError:
            for slot in batch:
                self._write_alone(slot)
        except BaseException as exc:
            for slot in batch:
                slot.error = exc

    def _write_alone(self, slot: _Slot) -> None:
        p = slot.prepared
        try:
            with self.uow() as db:
                (slot.reply,) = self.hub.commit_prepared(db, [(p.entry, p.row, p.reply)])
                if p.provider_rows:
                    insert_new(db.connection(), AGENCY_LOG, p.provider_rows)
        except IntegrityError:
            with self.uow() as db:
                seen = (
                    db.connection()
                    .execute(SEEN, {"requester": p.row["requester"], "request_id": p.row["request_id"]})
                    .first()
                )
            if seen is not None and seen.request_hash == p.row["request_hash"]:
                slot.reply = str(seen.reply)
            else:
                slot.error = _refuse(
                    Reason.REPLAYED, f"Request id {p.row['request_id']} was used for another request."
                )
        except BaseException as exc:
            slot.error = exc


def run_exchange(
    uow: Callable[[], AbstractContextManager[Session]], hub: Hub, token: str, group: GroupCommit | None = None
) -> str:
    """One exchange: prepared in one transaction (reads only), written in another, alone or with ``group``'s
    concurrent exchanges. A refusal is recorded (and audited) in a transaction of its own, then re-raised."""
    try:
        with uow() as db:
            prepared = hub.prepare(db, token)
        if isinstance(prepared, str):
            return prepared
        if group is None:
            group = GroupCommit(uow, hub)
        return group.write(prepared)
    except ExchangeRefused as refused:
        with uow() as db:
            record_refusal(db, refused, token, hub.clock)
        raise


def run_exchanges(
    uow: Callable[[], AbstractContextManager[Session]], hub: Hub, tokens: list[str]
) -> list[str | ExchangeRefused]:
    """A batch (一括照会) in one transaction, refusals recorded in it too; a conflict with a concurrent batch
    (the same request sent twice at once) retries the batch once, which then returns the first replies."""
    for attempt in range(2):
        try:
            with uow() as db:
                outcomes = hub.handle_many(db, tokens)
                for token, outcome in zip(tokens, outcomes, strict=True):
                    if isinstance(outcome, ExchangeRefused):
                        record_refusal(db, outcome, token, hub.clock)
                return outcomes
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
