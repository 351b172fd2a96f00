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
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import (
    MAX_MESSAGE_BYTES,
    InvalidMessage,
    ItemValue,
    Reason,
    Request,
    Typ,
    new_id,
    parse_reply,
    request_hash,
)
from tsunagu.linkage.errors import ExchangeRefused
from tsunagu.linkage.exchange.hub import Hub, run_exchange
from tsunagu.linkage.exchange.keyring import HUB, KeyRing
from tsunagu.linkage.exchange.models import AgencyLogEntry
from tsunagu.linkage.exchange.provider import REQUESTER
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
    def send(self, request: str) -> str:
        """The hub's signed reply; raises :class:`ExchangeRefused` with the hub's reason."""
        ...


class LocalHub:
    def __init__(self, uow: Uow, hub: Hub) -> None:
        self.uow = uow
        self.hub = hub

    def send(self, request: str) -> str:
        return run_exchange(self.uow, self.hub, request)


class RemoteHub:
    """A hub over HTTP. Transport failures are refusals with reason ``provider-unavailable`` (nothing is known to
    have happened; the request may be sent again with the same id)."""

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

    def close(self) -> None:
        self.client.close()


def sign_request(db: Session, ring: KeyRing, request: Request) -> str:
    return jws.sign(request.claims(), ring.signing_key(db, request.requester), request.requester, Typ.REQUEST)


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


def accept_reply(db: Session, ring: KeyRing, request: Request, token: str, reply_token: str) -> Result:
    """Verify the hub's reply to ``request`` (sent as ``token``) and log it in the requester's log (once)."""
    try:
        parsed = jws.parse(reply_token, MAX_MESSAGE_BYTES)
        reply = parse_reply(parsed.payload)
    except (jws.MalformedJws, InvalidMessage) as exc:
        raise ExchangeRefused(Reason.PROVIDER_ERROR.value, f"The hub's reply is malformed: {exc}.") from exc
    if parsed.typ != Typ.REPLY or parsed.kid != HUB or not jws.verify(parsed, ring.verification_key(db, HUB)):
        raise ExchangeRefused(Reason.BAD_SIGNATURE.value, "The reply is not signed by the hub.")
    if (
        reply.in_reply_to != request.id
        or reply.request_hash != request_hash(token)
        or reply.subject != request.subject
        or reply.requester != request.requester
    ):
        raise ExchangeRefused(Reason.PROVIDER_ERROR.value, "The hub's reply is for another request.")
    requested = dt.datetime.fromtimestamp(reply.requested_at / 1000, dt.UTC)
    provided = dt.datetime.fromtimestamp(reply.provided_at / 1000, dt.UTC)
    logged = db.scalar(
        select(AgencyLogEntry.id).where(
            AgencyLogEntry.agency == request.requester,
            AgencyLogEntry.role == REQUESTER,
            AgencyLogEntry.exchange_id == reply.id,
        )
    )
    if logged is None:
        db.add(
            AgencyLogEntry(
                agency=request.requester,
                role=REQUESTER,
                exchange_id=reply.id,
                message_id=request.id,
                counterpart=request.provider,
                business=request.business,
                items=" ".join(request.items),
                withheld=" ".join(i for i, v in reply.items.items() if not v.disclose),
                subject_code=request.subject,
                requested_at=requested,
                provided_at=provided,
                message=token,
            )
        )
        db.flush()
    return Result(
        reply.id,
        request.id,
        request.provider,
        reply.items,
        reply.not_held,
        requested,
        provided,
        reply.log_index,
    )


def ask(uow: Uow, ring: KeyRing, hub: HubClient, request: Request) -> Result:
    """The whole requester side: sign (one transaction), send, verify and log the reply (another)."""
    with uow() as db:
        token = sign_request(db, ring, request)
    reply = hub.send(token)
    with uow() as db:
        return accept_reply(db, ring, request, token, reply)
