"""The requester side (情報照会者): sign a request, send it to the hub, verify the reply and log it.

The hub is reached through :class:`HubClient`: :class:`LocalHub` runs it in this process (the portal, the
benchmarks), :class:`RemoteHub` posts to ``/linkage/v1/exchange`` of a hub over HTTP. A request that failed in
transit can be sent again with the same message id: the hub answers a repeated request with its first reply and
the requester's log keeps each exchange once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import (
    MAX_MESSAGE_BYTES,
    InvalidMessage,
    ItemValue,
    Reason,
    Reply,
    Request,
    Typ,
    new_id,
    parse_reply,
    request_hash,
)
from tsunagu.linkage.errors import ExchangeRefused
from tsunagu.linkage.exchange.hub import GroupCommit, Hub, record_refusal, run_exchange, run_exchanges
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.models import AGENCY_LOG
from tsunagu.linkage.exchange.provider import REQUESTER
from tsunagu.linkage.exchange.sql import insert_new
from tsunagu.linkage.exchange.transport import JOSE

EXCHANGE_PATH = "/linkage/v1/exchange"
Uow = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Result:
    exchange_id: str
    request_id: str
    provider: str
    items: dict[str, ItemValue]
    not_held: tuple[str, ...]
    requested_at: dt.datetime
    provided_at: dt.datetime
    log_index: int


class HubClient(Protocol):
    trusted: bool  # the hub runs in this process: its replies need no signature check here

    def send(self, request: str) -> str:
        """The hub's signed reply; raises :class:`ExchangeRefused` with the hub's reason."""
        ...

    def send_many(self, requests: list[str]) -> list[str | ExchangeRefused]:
        """Replies or refusals, in order (一括照会)."""
        ...


class LocalHub:
    trusted = True

    def __init__(self, uow: Uow, hub: Hub, group: GroupCommit | None = None) -> None:
        self.uow = uow
        self.hub = hub
        self.group = group

    def send(self, request: str) -> str:
        return run_exchange(self.uow, self.hub, request, self.group)

    def send_many(self, requests: list[str]) -> list[str | ExchangeRefused]:
        return run_exchanges(self.uow, self.hub, requests)


class RemoteHub:
    """A hub over HTTP. Transport failures are refusals with reason ``provider-unavailable`` (nothing is known to
    have happened; the request may be sent again with the same id)."""

    trusted = False

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + EXCHANGE_PATH
        self.client = httpx.Client(timeout=httpx.Timeout(timeout))

    def send(self, request: str) -> str:
        try:
            response = self.client.post(
                self.url, content=request, headers={"content-type": JOSE, "accept": JOSE}
            )
        except httpx.HTTPError as exc:
            raise ExchangeRefused(
                Reason.PROVIDER_UNAVAILABLE.value, f"The hub could not be reached ({type(exc).__name__})."
            ) from exc
        if response.status_code == 200:
            return response.text
        try:
            body = response.json()
        except ValueError:
            body = {}
        reason = body.get("reason") if isinstance(body, dict) else None
        detail = body.get("detail") if isinstance(body, dict) else None
        raise ExchangeRefused(
            str(reason or Reason.PROVIDER_ERROR.value),
            str(detail or f"The hub answered HTTP {response.status_code}."),
        )

    def send_many(self, requests: list[str]) -> list[str | ExchangeRefused]:
        outcomes: list[str | ExchangeRefused] = []
        for request in requests:
            try:
                outcomes.append(self.send(request))
            except ExchangeRefused as refused:
                outcomes.append(refused)
        return outcomes

    def close(self) -> None:
        self.client.close()


def new_request(
    requester: str,
    provider: str,
    business: str,
    items: tuple[str, ...],
    subject: str,
    *,
    by_proxy: bool = False,
    clock: Clock | None = None,
) -> Request:
    return Request(
        id=new_id(),
        iat=int((clock or Clock()).now().timestamp()),
        requester=requester,
        provider=provider,
        business=business,
        items=tuple(items),
        subject=subject,
        by_proxy=by_proxy,
    )


def _verified_reply(
    ring: KeyRing, db: Session, request: Request, token: str, reply_token: str, *, trusted: bool = False
) -> Reply:
    try:
        parsed = jws.parse(reply_token, MAX_MESSAGE_BYTES)
        reply = parse_reply(parsed.payload)
    except (jws.MalformedJws, InvalidMessage) as exc:
        raise ExchangeRefused(Reason.PROVIDER_ERROR.value, f"The hub's reply is malformed: {exc}.") from exc
    if (
        parsed.typ != Typ.REPLY
        or parsed.kid != HUB
        or not (trusted or jws.verify(parsed, ring.verification_key(db, HUB)))
    ):
        raise ExchangeRefused(Reason.BAD_SIGNATURE.value, "The reply is not signed by the hub.")
    if (
        reply.in_reply_to != request.id
        or reply.request_hash != request_hash(token)
        or reply.subject != request.subject
        or reply.requester != request.requester
    ):
        raise ExchangeRefused(Reason.PROVIDER_ERROR.value, "The hub's reply is for another request.")
    return reply


def _result(request: Request, reply: Reply) -> Result:
    return Result(
        reply.id,
        request.id,
        request.provider,
        reply.items,
        reply.not_held,
        dt.datetime.fromtimestamp(reply.requested_at / 1000, dt.UTC),
        dt.datetime.fromtimestamp(reply.provided_at / 1000, dt.UTC),
        reply.log_index,
    )


def _log_row(request: Request, token: str, reply: Reply, result: Result) -> dict[str, object]:
    return {
        "agency": request.requester,
        "role": REQUESTER,
        "exchange_id": reply.id,
        "message_id": request.id,
        "counterpart": request.provider,
        "business": request.business,
        "items": " ".join(request.items),
        "withheld": " ".join(i for i, v in reply.items.items() if not v.disclose),
        "subject_code": request.subject,
        "requested_at": result.requested_at,
        "provided_at": result.provided_at,
        "message": token,
    }


def accept_reply(
    db: Session, ring: KeyRing, request: Request, token: str, reply_token: str, *, trusted: bool = False
) -> Result:
    """Verify the hub's reply to ``request`` (sent as ``token``) and log it in the requester's log (once).

    ``trusted``: the reply came from a hub in this process (its signature is not checked again here)."""
    (outcome,) = accept_replies(db, ring, [(request, token, reply_token)], trusted=trusted)
    if isinstance(outcome, ExchangeRefused):
        raise outcome
    return outcome


def accept_replies(
    db: Session,
    ring: KeyRing,
    exchanges: list[tuple[Request, str, str | ExchangeRefused]],
    *,
    trusted: bool = False,
) -> list[Result | ExchangeRefused]:
    """:func:`accept_reply` for a batch: one insert for every new log row."""
    conn = db.connection()
    outcomes: list[Result | ExchangeRefused] = []
    rows = []
    for request, token, reply_token in exchanges:
        if isinstance(reply_token, ExchangeRefused):
            outcomes.append(reply_token)
            continue
        try:
            reply = _verified_reply(ring, db, request, token, reply_token, trusted=trusted)
        except ExchangeRefused as refused:
            outcomes.append(refused)
            continue
        result = _result(request, reply)
        outcomes.append(result)
        rows.append(_log_row(request, token, reply, result))
    insert_new(conn, AGENCY_LOG, rows)  # a reply logged before (a repeated request) keeps its first row
    return outcomes


def _signed(uow: Uow, ring: KeyRing, request: Request) -> str:
    key = ring.cached_signing_key(request.requester)
    if key is None:
        with uow() as db:
            key = ring.signing_key(db, request.requester)
    return jws.sign(request.claims(), key, request.requester, Typ.REQUEST)


def _local_round_trip(
    hub: LocalHub, ring: KeyRing, requests: list[Request], tokens: list[str]
) -> list[Result | ExchangeRefused]:
    """Requester and hub in one process: the hub's work, the refusals and the requester's log in one transaction
    (the requester's log row commits with the hub's record, so neither exists without the other). A conflict with
    a concurrent copy of the same request retries once, which then returns the first reply."""
    for attempt in range(2):
        try:
            with hub.uow() as db:
                replies = hub.hub.handle_many(db, tokens)
                for token, reply in zip(tokens, replies, strict=True):
                    if isinstance(reply, ExchangeRefused):
                        record_refusal(db, reply, token, hub.hub.clock)
                return accept_replies(
                    db, ring, list(zip(requests, tokens, replies, strict=True)), trusted=True
                )
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def ask(uow: Uow, ring: KeyRing, hub: HubClient, request: Request) -> Result:
    """The whole requester side: sign, send, verify the reply and log it. Raises :class:`ExchangeRefused`."""
    token = _signed(uow, ring, request)
    if isinstance(hub, LocalHub):
        (outcome,) = _local_round_trip(hub, ring, [request], [token])
        if isinstance(outcome, ExchangeRefused):
            raise outcome
        return outcome
    reply = hub.send(token)
    with uow() as db:
        return accept_reply(db, ring, request, token, reply, trusted=hub.trusted)


def ask_many(
    uow: Uow, ring: KeyRing, hub: HubClient, requests: list[Request]
) -> list[Result | ExchangeRefused]:
    """一括照会: many requests at once; results (or refusals) in order."""
    tokens = [_signed(uow, ring, r) for r in requests]
    if isinstance(hub, LocalHub):
        return _local_round_trip(hub, ring, requests, tokens)
    replies = hub.send_many(tokens)
    with uow() as db:
        return accept_replies(
            db, ring, list(zip(requests, tokens, replies, strict=True)), trusted=hub.trusted
        )
