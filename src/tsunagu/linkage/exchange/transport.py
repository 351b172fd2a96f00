"""How the hub reaches a provider: one interface, in-process or over HTTP.

An agency with a row in ``linkage_endpoints`` (written when its node registers) is reached over HTTP; any other
agency answers in-process, in the hub's transaction. Both take the signed forward and return the signed answer;
the hub verifies the answer the same way whichever way it came."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core.messages import MAX_MESSAGE_BYTES, Forward, InvalidMessage
from tsunagu.linkage.exchange import provider
from tsunagu.linkage.exchange.keyring import KeyRing
from tsunagu.linkage.exchange.live import LiveItems
from tsunagu.linkage.exchange.models import ENDPOINTS

JOSE = "application/jose"
ANSWER_PATH = "/linkage/v1/answer"
ENDPOINT_URL = select(ENDPOINTS.c.url).where(ENDPOINTS.c.agency == bindparam("agency"))
DEFAULT_TIMEOUT = 5.0  # seconds a provider has to answer


class ProviderUnavailable(Exception):
    """The provider could not be reached, did not answer in time, or answered with an error."""


class ProviderTransport(Protocol):
    def ask(self, db: Session, provider: str, forward: Forward, signed: Callable[[], str]) -> str:
        """The provider's signed answer to ``forward``; ``signed()`` gives the hub-signed forward for a provider
        outside this process. Raises :class:`ProviderUnavailable`."""
        ...


class InProcess:
    """Providers whose copy lives in this process: answered in the hub's own transaction, with the live items of
    the municipalities (:mod:`.live`) when ``live`` is given."""

    def __init__(self, ring: KeyRing, clock: Clock | None = None, live: LiveItems | None = None) -> None:
        self.ring = ring
        self.clock = clock
        self.live = live

    def ask(self, db: Session, provider_code: str, forward: Forward, signed: Callable[[], str]) -> str:
        """In the hub's process the forward is handed over as the object the hub built (the process is the trust
        boundary: nothing to sign or verify); the provider signs its answer as always and its log row joins the
        hub's batch."""
        del signed
        try:
            return provider.answer_forward(
                db, self.ring, provider_code, forward, clock=self.clock, defer=True, live=self.live
            )
        except InvalidMessage as exc:
            raise ProviderUnavailable(f"refused the forward ({exc.reason}: {exc.detail})") from exc


class OverHttp:
    """Providers that run as their own node: HTTP/1.1 with one kept-alive connection per (thread, node), a hard
    timeout on the socket. The standard library's client, not httpx: on this path it costs a third of the CPU
    (0.49 ms against 1.36 ms per call, measured; see docs/benchmarks.md)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        conn = pool.get((scheme, netloc))
        if conn is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = kind(netloc, timeout=self.timeout)
            pool[(scheme, netloc)] = conn
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.get("pool", {})
        conn = pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def post(self, url: str, forward: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ProviderUnavailable("has no usable endpoint")
        path = parts.path or "/"
        body = forward.encode("ascii")
        headers = {"content-type": JOSE, "accept": JOSE, "content-length": str(len(body))}
        for attempt in range(2):  # a kept-alive connection the node closed meanwhile: reconnect once
            conn = self._connection(parts.scheme, parts.netloc)
            fresh = conn.sock is None
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read(MAX_MESSAGE_BYTES + 1)
            except TimeoutError as exc:
                self._drop(parts.scheme, parts.netloc)
                raise ProviderUnavailable(f"no answer within {self.timeout:g} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parts.scheme, parts.netloc)
                if (
                    attempt == 0
                    and not fresh
                    and isinstance(
                        exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                    )
                ):
                    continue
                raise ProviderUnavailable(f"could not be reached ({type(exc).__name__})") from exc
            if response.will_close:
                self._drop(parts.scheme, parts.netloc)
            if response.status != 200:
                raise ProviderUnavailable(f"answered HTTP {response.status}")
            if len(data) > MAX_MESSAGE_BYTES:
                self._drop(parts.scheme, parts.netloc)
                raise ProviderUnavailable("answered with an oversized message")
            try:
                return data.decode("ascii")
            except UnicodeDecodeError as exc:
                raise ProviderUnavailable("answered with a message that is not a compact JWS") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def ask(self, db: Session, provider_code: str, forward: Forward, signed: Callable[[], str]) -> str:
        url = endpoint_of(db, provider_code)
        if url is None:
            raise ProviderUnavailable("has no registered node")
        return self.post(url.rstrip("/") + ANSWER_PATH, signed())


def endpoint_of(db: Session, agency: str) -> str | None:
    """The agency's node, if it runs as one; looked up once per provider per transaction (a batch asks once)."""
    seen: dict[str, str | None] = db.info.setdefault("linkage.endpoints", {})
    if agency not in seen:
        url = db.connection().execute(ENDPOINT_URL, {"agency": agency}).scalar()
        seen[agency] = None if url is None else str(url)
    return seen[agency]


class Routed:
    """The hub's transport: over HTTP for agencies with a registered node, in-process for the rest."""

    def __init__(self, in_process: InProcess, remote: OverHttp) -> None:
        self.in_process = in_process
        self.remote = remote

    def ask(self, db: Session, provider_code: str, forward: Forward, signed: Callable[[], str]) -> str:
        url = endpoint_of(db, provider_code)
        if url is None:
            return self.in_process.ask(db, provider_code, forward, signed)
        return self.remote.post(url.rstrip("/") + ANSWER_PATH, signed())
