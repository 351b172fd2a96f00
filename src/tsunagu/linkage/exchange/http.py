"""The hub's HTTP endpoints (``/linkage/v1/...``): the exchange, node registration and the public log.

The exchange endpoints authenticate the message, not the connection: every body is a compact JWS signed by a
certified agency key (X-Road's message-level security), so they read no cookie or token
(``Access.signed_message()``) and are exempt from the CSRF check. Refusals are RFC 9457 problem+json documents
with the protocol's stable ``reason``; the status follows the reason (``ExchangeRefused.STATUS``).

- ``POST /linkage/v1/exchange``: a request JWS (``application/jose``) → 200 with the hub's signed reply, or a
  problem. A body over ``MAX_MESSAGE_BYTES`` (+ 1 KiB of slack) is refused with 413 ``oversized`` from its
  ``Content-Length``, or as soon as the stream passes the limit, without reading the rest; such a body never
  reaches the hub, so it leaves no refusal row (only the access log line), as a proxy's 413 would.
- ``POST /linkage/v1/nodes``: a node registers its base URL (a node message signed by its agency, see
  :mod:`tsunagu.linkage.node.registration`); the hub then reaches that agency over HTTP.
- ``POST /linkage/v1/nodes/withdraw``: a node going down says so. The endpoint row is kept on purpose: the hub
  keeps routing the agency to its node and answers ``provider-unavailable`` while the node is away, instead of
  answering silently in-process from a copy the agency no longer serves. The withdrawal is audited.
- ``GET /linkage/v1/log/key`` and ``GET /linkage/v1/log/head``: the Merkle log's public key and latest signed
  tree head, for anyone checking an inclusion proof."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import DomainError, NotFound
from tsunagu.linkage.core import jws
from tsunagu.linkage.core.messages import MAX_MESSAGE_BYTES, InvalidMessage, Reason
from tsunagu.linkage.errors import AgencyCertificateInvalid, AgencyInactive, ExchangeRefused, UnknownAgency
from tsunagu.linkage.exchange.hub import record_refusal, run_exchange
from tsunagu.linkage.exchange.keyring import HUB
from tsunagu.linkage.exchange.models import Endpoint
from tsunagu.linkage.exchange.platform import ExchangePlatform
from tsunagu.linkage.exchange.transport import JOSE
from tsunagu.linkage.log import store
from tsunagu.linkage.log.models import LogKey
from tsunagu.linkage.node import registration
from tsunagu.linkage.node.registration import NodeTyp
from tsunagu.web.access import guard
from tsunagu.web.errors import problem

EXCHANGES_IN_FLIGHT = 4  # per worker, within the pool of 5 connections: more wait here, not as threads
BODY_LIMIT = (
    MAX_MESSAGE_BYTES + 1024
)  # a request JWS is at most MAX_MESSAGE_BYTES; a little slack for whitespace
LOG = logging.getLogger("tsunagu.linkage.http")

_JOSE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {JOSE: {"schema": {"type": "string", "description": "compact JWS (ES256)"}}},
    }
}
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _problem_of(request: Request, exc: DomainError) -> JSONResponse:
    return problem(request, exc.status, exc.code, exc.title, exc.detail, **exc.extra)


def _refused(request: Request, reason: Reason, detail: str) -> JSONResponse:
    return _problem_of(request, ExchangeRefused(reason.value, detail))


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, refused (``_TooLarge``) from its declared length or once the stream passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


# --- node registration (hub side) ------------------------------------------------------------------------------


def _verified_node_message(
    db: Session, platform: ExchangePlatform, token: str, typ: NodeTyp
) -> tuple[registration.NodeMessage, dt.datetime]:
    parsed, message = registration.parse(token, typ)
    if message.agency == HUB:
        raise InvalidMessage(Reason.MALFORMED, "the hub is no node")
    made = registration.check_fresh(message, platform.clock.now())
    try:
        key = platform.ring.verification_key(db, message.agency)
    except UnknownAgency as exc:
        raise InvalidMessage(Reason.UNKNOWN_AGENCY, f"unknown agency {message.agency}") from exc
    except AgencyInactive as exc:
        raise InvalidMessage(Reason.AGENCY_INACTIVE, exc.detail) from exc
    except AgencyCertificateInvalid as exc:
        raise InvalidMessage(Reason.CERTIFICATE_INVALID, exc.detail) from exc
    if not jws.verify(parsed, key):
        raise InvalidMessage(
            Reason.BAD_SIGNATURE, f"the signature does not verify with {message.agency}'s key"
        )
    return message, made


def register_node(platform: ExchangePlatform, token: str) -> dict[str, Any]:
    """Record (or move) an agency's node endpoint; a message older than the registration held is refused."""
    with platform.uow() as db:
        message, made = _verified_node_message(db, platform, token, NodeTyp.REGISTER)
        row = db.scalar(select(Endpoint).where(Endpoint.agency == message.agency))
        if row is not None and made < row.registered_at:
            raise InvalidMessage(Reason.STALE, "an older registration than the one the hub holds")
        if row is None:
            db.add(Endpoint(agency=message.agency, url=message.url, registered_at=made))
        else:
            row.url, row.registered_at = message.url, made
        audit.record(
            db, f"agency:{message.agency}", audit.AuditAction.LINKAGE_NODE_REGISTERED, message.agency
        )
        return {"agency": message.agency, "url": message.url, "registered_at": made.isoformat()}


def withdraw_node(platform: ExchangePlatform, token: str) -> dict[str, Any]:
    """Audit that a node stopped on purpose; its endpoint stays (see the module docstring)."""
    with platform.uow() as db:
        message, _made = _verified_node_message(db, platform, token, NodeTyp.WITHDRAW)
        row = db.scalar(select(Endpoint).where(Endpoint.agency == message.agency))
        if row is None:
            raise InvalidMessage(Reason.UNKNOWN_AGENCY, f"{message.agency} has no registered node")
        audit.record(
            db,
            f"agency:{message.agency}",
            audit.AuditAction.LINKAGE_NODE_WITHDRAWN,
            message.agency,
        )
        return {"agency": message.agency, "url": row.url, "withdrawn": True}


# --- the public log ----------------------------------------------------------------------------------------------


def log_key(db: Session) -> dict[str, Any]:
    row = db.scalars(select(LogKey).order_by(LogKey.id.desc()).limit(1)).first()
    if row is None:
        raise NotFound("The exchange log has no signing key yet.", ja="交換ログの署名鍵はまだありません。")
    return {
        "algorithm": "ES256",
        "key_id": base64.b64encode(row.key_id).decode(),
        "public_key": base64.b64encode(row.public_key).decode(),  # SubjectPublicKeyInfo, DER
        "created_at": row.created_at.astimezone(dt.UTC).isoformat(),
    }


def _record_oversized(platform: ExchangePlatform, refused: ExchangeRefused) -> None:
    """An oversized request is refused unread; the refusal is still recorded and audited (with nothing claimed)."""
    with platform.uow() as db:
        record_refusal(db, refused, "", platform.clock)


async def exchange_response(
    request: Request, platform: ExchangePlatform, limiter: CapacityLimiter
) -> Response:
    """One exchange over HTTP: the body (refused from its declared length or once it passes the limit), the
    exchange in a worker thread (sync, and it may wait on a node; ``limiter`` caps them per worker), the reply
    or a problem document with the reason."""
    try:
        body = await _body(request, BODY_LIMIT)
    except _TooLarge:
        refused = ExchangeRefused(
            Reason.OVERSIZED.value, f"The request is larger than {MAX_MESSAGE_BYTES} bytes."
        )
        await to_thread.run_sync(_record_oversized, platform, refused, limiter=limiter)
        return _problem_of(request, refused)
    token = body.decode("utf-8", errors="replace").strip()
    try:
        reply = await to_thread.run_sync(
            run_exchange, platform.uow, platform.hub, token, platform.group, limiter=limiter
        )
    except ExchangeRefused as refused:
        return _problem_of(request, refused)
    return Response(reply, media_type=JOSE)


def router(platform_of: Callable[[Request], ExchangePlatform]) -> APIRouter:
    api = APIRouter(tags=["linkage"])
    in_flight: list[CapacityLimiter] = []  # made on first use: a limiter belongs to the worker's event loop

    @api.post(
        "/linkage/v1/exchange",
        dependencies=[guard(Access.signed_message())],
        response_class=Response,
        summary="Exchange: a signed request in, the hub's signed reply out",
        openapi_extra=_JOSE_BODY,
        responses={200: {"content": {JOSE: {}}}, 400: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM, 503: _PROBLEM},
    )
    async def exchange(request: Request) -> Response:
        if not in_flight:
            in_flight.append(CapacityLimiter(EXCHANGES_IN_FLIGHT))
        return await exchange_response(request, platform_of(request), in_flight[0])

    async def node_message(
        request: Request, handle: Callable[[ExchangePlatform, str], dict[str, Any]]
    ) -> Response:
        try:
            body = await _body(request, registration.MAX_BYTES)
        except _TooLarge:
            return _refused(
                request, Reason.OVERSIZED, f"A node message is at most {registration.MAX_BYTES} bytes."
            )
        try:
            done = await run_in_threadpool(
                handle, platform_of(request), body.decode("utf-8", "replace").strip()
            )
        except InvalidMessage as exc:
            return _refused(request, exc.reason, f"The node message is refused: {exc.detail}.")
        return JSONResponse(done)

    @api.post(
        "/linkage/v1/nodes",
        dependencies=[guard(Access.signed_message())],
        summary="A node registers the URL the hub reaches its agency at",
        openapi_extra=_JOSE_BODY,
        responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM},
    )
    async def register(request: Request) -> Response:
        return await node_message(request, register_node)

    @api.post(
        "/linkage/v1/nodes/withdraw",
        dependencies=[guard(Access.signed_message())],
        summary="A node says it is going down (the hub then answers provider-unavailable for its agency)",
        openapi_extra=_JOSE_BODY,
        responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM},
    )
    async def withdraw(request: Request) -> Response:
        return await node_message(request, withdraw_node)

    @api.get(
        "/linkage/v1/log/key",
        dependencies=[guard(Access.public())],
        summary="The exchange log's public key (SubjectPublicKeyInfo DER, base64) and key id",
        responses={404: _PROBLEM},
    )
    def key(request: Request) -> Response:
        try:
            with platform_of(request).uow() as db:
                return JSONResponse(log_key(db))
        except NotFound as exc:
            return _problem_of(request, exc)

    @api.get(
        "/linkage/v1/log/head",
        dependencies=[guard(Access.public())],
        summary="The exchange log's latest signed tree head (RFC 9162 TreeHeadDataV2, ES256)",
        responses={404: _PROBLEM},
    )
    def head(request: Request) -> Response:
        try:
            with platform_of(request).uow() as db:
                return JSONResponse(store.head(db).to_json())
        except NotFound as exc:
            return _problem_of(request, exc)

    return api
