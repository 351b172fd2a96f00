"""Trust-services fixtures: a clock the test can move, the services, and helpers to issue certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import unit_of_work
from tsunagu.kernel.clock import JST, Clock
from tsunagu.pki.api import (
    CertificateKind,
    IssuedCertificate,
    OrganisationSubject,
    SubjectFacts,
    TrustServices,
    trust_services,
)
from tsunagu.settings import Settings

START = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)
FACTS = SubjectFacts(
    "山田　花子", "ヤマダ　ハナコ", "神奈川県藤沢市朝日町1番地の1", dt.date(1985, 2, 3), "female"
)
UNTIL = dt.datetime(2031, 2, 3, 23, 59, 59, tzinfo=JST)
ORG = OrganisationSubject("LG-142051", "藤沢市")


@dataclass
class MovingClock:
    """A clock at ``at``; tests move it forward."""

    at: dt.datetime = START

    def clock(self) -> Clock:
        return Clock(lambda: self.at)

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


@dataclass(frozen=True)
class Issued:
    certificate: IssuedCertificate
    key: ec.EllipticCurvePrivateKey


@pytest.fixture
def moving() -> MovingClock:
    return MovingClock()


@pytest.fixture
def trust(settings: Settings, moving: MovingClock) -> TrustServices:
    return trust_services(settings, moving.clock())


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> Callable[[], AbstractContextManager[Session]]:
    """A unit of work, as the edge of the application opens one (commits on success)."""

    def make() -> AbstractContextManager[Session]:
        return unit_of_work(session_factory)

    return make


@pytest.fixture
def issue(trust: TrustServices, uow: Callable[[], AbstractContextManager[Session]]) -> Callable[..., Issued]:
    """Issue a certificate of a kind (facts for signature certificates, :data:`ORG` for agency certificates) to
    ``holder`` in its own transaction."""

    def make(kind: CertificateKind, holder: str = "card:1", not_after: dt.datetime = UNTIL) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        facts = FACTS if kind is CertificateKind.SIGNATURE else None
        org = ORG if kind is CertificateKind.AGENCY else None
        with uow() as db:
            cert = trust.issue(
                db, kind, key.public_key(), not_after, holder, facts, organisation=org, actor="test-clerk"
            )
        return Issued(cert, key)

    return make
