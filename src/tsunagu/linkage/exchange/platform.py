"""The exchange as one object per process: key ring, transports, hub, and the agencies' setup.

Built by the application factory (``tsunagu serve``), by ``tsunagu node`` and by the benchmarks; nothing here
runs at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import unit_of_work
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import services
from tsunagu.linkage.exchange.hub import GroupCommit, Hub
from tsunagu.linkage.exchange.keyring import KeyRing
from tsunagu.linkage.exchange.live import LiveItems
from tsunagu.linkage.exchange.requester import LocalHub
from tsunagu.linkage.exchange.transport import DEFAULT_TIMEOUT, InProcess, OverHttp, Routed
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.pki import api as pki


@dataclass
class ExchangePlatform:
    sessions: sessionmaker[Session]
    ring: KeyRing
    hub: Hub
    clock: Clock
    group: GroupCommit  # concurrent exchanges of this process written together

    @contextmanager
    def uow(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as db:
            yield db

    def local_hub(self) -> LocalHub:
        return LocalHub(self.uow, self.hub, self.group)


def build(
    sessions: sessionmaker[Session],
    trust: pki.TrustServices,
    keys: LinkageKeys,
    *,
    clock: Clock | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ExchangePlatform:
    clock = clock or Clock()
    ring = KeyRing(trust, keys)
    transport = Routed(InProcess(ring, clock, LiveItems(keys)), OverHttp(timeout))
    hub = Hub(ring, transport, clock)
    return ExchangePlatform(sessions, ring, hub, clock, GroupCommit(lambda: unit_of_work(sessions), hub))


def provision_all(
    db: Session, trust: pki.TrustServices, keys: LinkageKeys, clock: Clock | None = None
) -> int:
    """Load the agencies and the legal-basis table and give every active agency (the hub included) its signing
    key and certificate; idempotent. Returns the number of agencies."""
    services.load_agencies(db)
    services.load_legal_basis(db)
    codes = [a.code for a in services.list_agencies(db) if a.active]
    for code in codes:
        services.provision_agency_certificate(db, trust, keys, code, clock=clock)
    return len(codes)
