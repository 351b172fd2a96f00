"""An agency's node (情報提供者の中間サーバー in miniature): answers the hub's forwards from the agency's copy.

``POST /linkage/v1/answer`` takes the hub's signed forward (``application/jose``), answers it with
:func:`tsunagu.linkage.exchange.provider.answer` in a transaction of its own and returns the signed answer;
``GET /healthz`` says it is up. :func:`run` serves it with uvicorn, registers the node with the hub once the
socket listens, prints one "ready" line, and on a clean stop tells the hub it withdraws.

A plain Starlette app: the node has two routes and no pages, sessions or CSRF to care about."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from anyio import CapacityLimiter, to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core.messages import MAX_MESSAGE_BYTES, InvalidMessage, Reason
from tsunagu.linkage.exchange import provider
from tsunagu.linkage.exchange.keyring import KeyRing
from tsunagu.linkage.exchange.transport import ANSWER_PATH, JOSE
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.node import registration
from tsunagu.linkage.node.registration import NodeMessage, NodeTyp
from tsunagu.pki import api as pki
from tsunagu.settings import Settings

NODES_PATH = "/linkage/v1/nodes"
WITHDRAW_PATH = "/linkage/v1/nodes/withdraw"
BODY_LIMIT = MAX_MESSAGE_BYTES + 1024
REGISTER_ATTEMPTS = 6  # with backoff 0.25, 0.5, 1, 2, 4 s: about 8 s for a hub that is still starting
PROBLEM_JSON = "application/problem+json"
ANSWERS_IN_FLIGHT = 8  # worker threads answering at once (each holds a pooled database connection)


class NodeError(Exception):
    """The node cannot start (the hub refused or could not be reached); the message says why."""


@dataclass
class Node:
    """One agency's node: where its data is, its key ring and how slow it is told to be (tests)."""

    agency: str
    sessions: sessionmaker[Session]
    ring: KeyRing
    clock: Clock = field(default_factory=Clock)
    delay: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, agency: str, *, delay: float = 0.0) -> Node:
        clock = Clock()
        ring = KeyRing(pki.trust_services(settings, clock), LinkageKeys.from_master(settings.master_secret()))
        engine = make_engine(
            settings, pool_size=ANSWERS_IN_FLIGHT
        )  # one pooled connection per answering thread
        return cls(agency, make_session_factory(engine), ring, clock, delay)

    def answer(self, token: str) -> str:
        with unit_of_work(self.sessions) as db:
            return provider.answer(db, self.ring, self.agency, token, clock=self.clock)

    def node_message(self, typ: NodeTyp, url: str) -> str:
        with unit_of_work(self.sessions) as db:
            key = self.ring.signing_key(db, self.agency)
        message = NodeMessage(typ, self.agency, url, int(self.clock.now().timestamp()))
        return registration.sign(message, key)


def _problem(status: int, reason: str, detail: str) -> JSONResponse:
    body = {
        "type": f"https://tsunagu.example/problems/{reason}",
        "title": "Forward refused",
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def create_node_app(node: Node, on_stop: Callable[[], None] | None = None) -> Starlette:
    """The node's routes; ``on_stop`` runs (in a thread) while the server shuts down, before it exits."""
    in_flight: list[CapacityLimiter] = []  # made on first use, inside the server's event loop

    async def answer(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():  # the hub always sends a length; nothing unbounded is read
            return _problem(411, Reason.MALFORMED.value, "a forward needs a Content-Length")
        if int(declared) > BODY_LIMIT:
            return _problem(413, Reason.OVERSIZED.value, f"a forward is at most {MAX_MESSAGE_BYTES} bytes")
        body = await request.body()
        if node.delay:
            await asyncio.sleep(
                node.delay
            )  # a slow agency (tests): before any work, so nothing is written yet
        try:
            if not in_flight:
                in_flight.append(CapacityLimiter(ANSWERS_IN_FLIGHT))
            token = body.decode("utf-8", "replace").strip()
            signed = await to_thread.run_sync(node.answer, token, limiter=in_flight[0])
        except InvalidMessage as exc:
            return _problem(400, exc.reason.value, exc.detail)
        return Response(signed, media_type=JOSE)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True, "agency": node.agency})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if on_stop is not None:
            await asyncio.to_thread(on_stop)

    return Starlette(
        routes=[Route(ANSWER_PATH, answer, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])],
        lifespan=lifespan,
    )


# --- talking to the hub ------------------------------------------------------------------------------------------


def post_node_message(hub: str, path: str, token: str, timeout: float = 5.0) -> dict[str, Any]:
    """POST a node message to the hub; its JSON answer, or :class:`NodeError` with the hub's reason."""
    try:
        response = httpx.post(
            hub.rstrip("/") + path, content=token, headers={"content-type": JOSE}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise ConnectionError(f"the hub at {hub} could not be reached ({type(exc).__name__})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        reason = body.get("reason", "") if isinstance(body, dict) else ""
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        raise NodeError(f"the hub refused: HTTP {response.status_code} {reason} {detail}".rstrip())
    return body


def register(
    node: Node,
    hub: str,
    url: str,
    *,
    attempts: int = REGISTER_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Register ``url`` as ``node``'s endpoint with the hub, retrying an unreachable hub with backoff."""
    pause = 0.25
    for attempt in range(1, attempts + 1):
        try:
            return post_node_message(hub, NODES_PATH, node.node_message(NodeTyp.REGISTER, url))
        except ConnectionError as exc:
            if attempt == attempts:
                raise NodeError(f"{exc}; gave up after {attempts} attempts") from exc
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def withdraw(node: Node, hub: str, url: str) -> None:
    """Best effort: a node that cannot tell the hub it stops is simply unreachable, which the hub handles."""
    try:
        post_node_message(hub, WITHDRAW_PATH, node.node_message(NodeTyp.WITHDRAW, url), timeout=2.0)
    except (ConnectionError, NodeError) as exc:
        sys.stderr.write(f"tsunagu node {node.agency}: could not withdraw: {exc}\n")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop  # noqa: PLC0415 - optional (uvicorn[standard] brings it)
    except ImportError:  # pragma: no cover - plain asyncio then
        return None
    return uvloop.new_event_loop


def run(node: Node, hub: str, host: str, port: int, advertise: str | None = None) -> None:
    """Serve until stopped; register once listening; withdraw on a clean stop. Raises :class:`NodeError`."""
    import uvicorn  # noqa: PLC0415 - only needed when serving

    try:  # before listening: a data dir without the agency's key (or without a database) fails at once
        node.node_message(NodeTyp.REGISTER, advertise or "http://127.0.0.1")
    except Exception as exc:  # reported as the reason the node cannot start
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise NodeError(f"cannot open {node.agency}'s signing key ({type(exc).__name__}: {first})") from exc

    failure: list[NodeError] = []
    registered: list[str] = []

    def on_stop() -> None:  # inside the server's shutdown: uvicorn re-raises SIGTERM once serve() returns
        if registered:
            withdraw(node, hub, registered[0])

    config = uvicorn.Config(
        create_node_app(node, on_stop),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        limit_concurrency=64,
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        url = advertise or f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
        try:
            await asyncio.to_thread(register, node, hub, url)
        except Exception as exc:  # any failure to register stops the node
            failure.append(exc if isinstance(exc, NodeError) else NodeError(f"{type(exc).__name__}: {exc}"))
            server.should_exit = True
            return
        registered.append(url)
        sys.stdout.write(f"tsunagu node {node.agency} ready at {url} (registered with {hub})\n")
        sys.stdout.flush()

    async def main() -> None:
        task = asyncio.create_task(announce())
        await server.serve()
        task.cancel()

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:  # uvloop when installed, as uvicorn would
        runner.run(main())
    if failure:
        raise failure[0]
