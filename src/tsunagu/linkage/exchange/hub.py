"""The hub (情報提供ネットワークシステム): verify, authorise, translate, forward, log, reply.

:meth:`Hub.handle` runs one exchange inside the caller's transaction:

1. parse the request (size, shape, ES256 JWS with ``kid`` = requester) and verify it with the requester's
   certified key;
2. a request id seen before from this requester returns the first reply if the request is the same, and is
   refused as a replay if it differs; a request outside the freshness window is refused as stale;
3. check every item against the data dictionary and the request against the legal-basis table (別表);
4. translate the requester's code into the provider's (the person id never leaves the hub);
5. forward, signed by the hub, to the provider through the transport (in-process or HTTP) and verify its
   answer: signed by the provider, bound to this forward and request, answering exactly the items asked;
6. append the exchange to the Merkle log, store the record and sign the reply.

Nothing is written before the provider has answered, so a provider that is down or slow leaves no trace in the
exchange logs; :func:`run_exchange` records the refusal in a transaction of its own and audits it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
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
from tsunagu.linkage.exchange.models import EXCHANGES, Refusal
from tsunagu.linkage.exchange.provider import INSERT_LOG, PENDING
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
    def handle(self, db: Session, token: str) -> str:
        """One exchange in the caller's transaction; raises :class:`ExchangeRefused`."""
        (outcome,) = self.handle_many(db, [token])
        if isinstance(outcome, ExchangeRefused):
            raise outcome
        return outcome

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
            leaves = log.append(db, [entry for _, entry, _, _ in pending], self.clock)
            hub_key = self.ring.signing_key(db, HUB)
            rows = []
            for (position, _, row, reply), leaf in zip(pending, leaves, strict=True):
                signed = jws.sign(
                    dataclasses.replace(reply, log_index=leaf).claims(), hub_key, HUB, Typ.REPLY
                )
                outcomes[position] = signed
                rows.append({**row, "leaf_index": leaf, "reply": signed})
            db.connection().execute(INSERT_EXCHANGE, rows)
        provided = db.info.pop(PENDING, None)
        if provided:
            db.connection().execute(INSERT_LOG, provided)
        for position, first in repeats:
            outcomes[position] = outcomes[first]
        return outcomes

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
            request_hash=request_hash(token) if token.isascii() else None,
        )
    )
    audit.record(
        db,
        f"agency:{requester}" if requester else "agency:?",
        audit.AuditAction.LINKAGE_EXCHANGE_REFUSED,
        request_id or "",
        reason=refused.reason,
    )


def run_exchange(uow: Callable[[], AbstractContextManager[Session]], hub: Hub, token: str) -> str:
    """One exchange in its own transaction; a refusal is recorded (and audited) in another, then re-raised.

    Two copies of one request racing each other: the loser's insert conflicts, and its retry returns the winner's
    reply."""
    for attempt in range(2):
        try:
            with uow() as db:
                return hub.handle(db, token)
        except ExchangeRefused as refused:
            with uow() as db:
                record_refusal(db, refused, token, hub.clock)
            raise
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


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
