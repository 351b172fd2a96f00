"""How the hub reaches a provider: one interface, in-process or over HTTP.

An agency with a row in ``linkage_endpoints`` (written when its node registers) is reached over HTTP; any other
agency answers in-process, in the hub's transaction. Both take the signed forward and return the signed answer;
the hub verifies the answer the same way whichever way it came."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import httpx
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.core.messages import MAX_MESSAGE_BYTES, Forward, InvalidMessage
from tsunagu.linkage.exchange import provider
from tsunagu.linkage.exchange.keyring import KeyRing
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
    """Providers whose copy lives in this process: answered in the hub's own transaction."""

    def __init__(self, ring: KeyRing, clock: Clock | None = None) -> None:
        self.ring = ring
        self.clock = clock

    def ask(self, db: Session, provider_code: str, forward: Forward, signed: Callable[[], str]) -> str:
        """In the hub's process the forward is handed over as the object the hub built (the process is the trust
        boundary: nothing to sign or verify); the provider signs its answer as always and its log row joins the
        hub's batch."""
        del signed
        try:
            return provider.answer_forward(
                db, self.ring, provider_code, forward, clock=self.clock, defer=True
            )
        except InvalidMessage as exc:
            raise ProviderUnavailable(f"refused the forward ({exc.reason}: {exc.detail})") from exc


class OverHttp:
    """Providers that run as their own node. One pooled client per thread (keep-alive), a hard timeout."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False)
            self._local.client = client
        return client

    def post(self, url: str, forward: str) -> str:
        try:
            response = self._client().post(
                url, content=forward, headers={"content-type": JOSE, "accept": JOSE}
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"could not be reached ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise ProviderUnavailable(f"answered HTTP {response.status_code}")
        if len(response.content) > MAX_MESSAGE_BYTES:
            raise ProviderUnavailable("answered with an oversized message")
        return response.text

    def ask(self, db: Session, provider_code: str, forward: Forward, signed: Callable[[], str]) -> str:
        url = endpoint_of(db, provider_code)
        if url is None:
            raise ProviderUnavailable("has no registered node")
        return self.post(url.rstrip("/") + ANSWER_PATH, signed())


def endpoint_of(db: Session, agency: str) -> str | None:
    url = db.connection().execute(ENDPOINT_URL, {"agency": agency}).scalar()
    return None if url is None else str(url)


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
