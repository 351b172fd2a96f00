"""Passkey ceremonies on a real database (SQLite and PostgreSQL): short-lived challenges, the opaque user handle,
the relying party taken from the public URL, and refusals that are written even though the login fails."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.audit.models import AuditEntry
from tsunagu.identity.citizen.models import CitizenSession, LoginRecord
from tsunagu.identity.citizen.services import ACR_CARD, SessionPolicy
from tsunagu.identity.passkeys import services
from tsunagu.identity.passkeys.errors import PasskeyLoginRefused, PasskeyNeedsCard
from tsunagu.identity.passkeys.models import Passkey, PasskeyCeremony, PasskeyUser
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.registry.api import registry_context
from tsunagu.settings import Settings

from ..passkey_authenticator import SoftAuthenticator
from .conftest import move_in, person

ORIGIN = "https://portal.example.lg.jp"
RP = services.RelyingParty.for_public_url(ORIGIN, "tsunagu test")
POLICY = SessionPolicy(idle_minutes=30, absolute_minutes=480)


class MovableClock(Clock):
    """A clock the test moves forward."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__()
        object.__setattr__(self, "at", start)

    def now(self) -> dt.datetime:
        at: dt.datetime = self.at  # type: ignore[attr-defined]
        return at

    def advance(self, **delta: float) -> None:
        object.__setattr__(self, "at", self.now() + dt.timedelta(**delta))


@pytest.fixture
def moving(clock: Clock) -> MovableClock:
    return MovableClock(clock.now())


@pytest.fixture
def resident(session_factory: sessionmaker[Session], settings: Settings, clock: Clock) -> CitizenPrincipal:
    """A resident logged in with the card."""
    with session_factory.begin() as db:
        pid = move_in(db, registry_context(settings, clock), person())
    return CitizenPrincipal(pid, "山田 太郎", "card", ACR_CARD, 0, "x" * 64)


def registered(
    factory: sessionmaker[Session], clock: Clock, who: CitizenPrincipal, authenticator: SoftAuthenticator
) -> Passkey:

    with factory.begin() as db:
        options: dict[str, Any] = json.loads(services.begin_registration(db, clock, RP, who, "Pixel 9"))
    with factory.begin() as db:
        return services.finish_registration(
            db, clock, RP, who, authenticator.create(options)
        ).raise_if_refused()


def test_the_relying_party_is_the_public_origin() -> None:
    rp = services.RelyingParty.for_public_url("http://localhost:8765", "x")
    assert (rp.id, rp.origin) == ("localhost", "http://localhost:8765")
    assert (RP.id, RP.origin) == ("portal.example.lg.jp", ORIGIN)


def test_the_user_handle_is_random_stable_and_not_the_person(
    session_factory: sessionmaker[Session], moving: MovableClock, resident: CitizenPrincipal
) -> None:
    first, second = SoftAuthenticator(ORIGIN), SoftAuthenticator(ORIGIN)
    registered(session_factory, moving, resident, first)
    registered(session_factory, moving, resident, second)
    assert first.user_handle is not None
    assert first.user_handle == second.user_handle
    assert len(first.user_handle) == 32
    with session_factory() as db:
        stored = db.get(PasskeyUser, resident.person_id)
        assert stored is not None
        assert stored.user_handle == first.user_handle
        assert str(resident.person_id).encode() != first.user_handle


def test_a_login_challenge_expires_after_five_minutes(
    session_factory: sessionmaker[Session], moving: MovableClock, resident: CitizenPrincipal
) -> None:

    authenticator = SoftAuthenticator(ORIGIN)
    registered(session_factory, moving, resident, authenticator)
    with session_factory.begin() as db:
        options = json.loads(services.begin_login(db, moving, RP))
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == []
    assert options["timeout"] == services.CEREMONY_MINUTES * 60 * 1000
    moving.advance(minutes=services.CEREMONY_MINUTES, seconds=1)
    with session_factory.begin() as db:
        outcome = services.finish_login(db, moving, RP, POLICY, authenticator.get(options))
    assert outcome.reason == "challenge"
    with pytest.raises(PasskeyLoginRefused):
        outcome.raise_if_refused()
    with session_factory() as db:  # the refusal was written although the login failed
        record = db.scalars(select(LoginRecord).where(LoginRecord.person_id == resident.person_id)).one()
        assert (record.method, record.outcome, record.reason) == ("passkey", "refused", "challenge")
        assert db.scalar(select(func.count()).select_from(CitizenSession)) == 0


def test_a_login_within_the_window_opens_a_passkey_session(
    session_factory: sessionmaker[Session], moving: MovableClock, resident: CitizenPrincipal
) -> None:

    authenticator = SoftAuthenticator(ORIGIN)
    registered(session_factory, moving, resident, authenticator)
    with session_factory.begin() as db:
        options = json.loads(services.begin_login(db, moving, RP))
    moving.advance(minutes=4)
    with session_factory.begin() as db:
        raw = services.finish_login(db, moving, RP, POLICY, authenticator.get(options)).raise_if_refused()
    with session_factory() as db:
        session = db.scalars(select(CitizenSession)).one()
        assert (session.person_id, session.method, session.acr) == (
            resident.person_id,
            "passkey",
            "urn:tsunagu:acr:passkey",
        )
        assert raw
        ceremony = db.scalars(select(PasskeyCeremony).where(PasskeyCeremony.kind == "authentication")).one()
        assert ceremony.used_at is not None
        assert len(ceremony.challenge_hash) == 64  # only the hash of the challenge is kept


def test_registration_needs_a_card_session_of_ones_own(
    session_factory: sessionmaker[Session], moving: MovableClock, resident: CitizenPrincipal
) -> None:
    by_passkey = CitizenPrincipal(
        resident.person_id, "山田 太郎", "passkey", "urn:tsunagu:acr:passkey", 0, "y" * 64
    )
    as_proxy = CitizenPrincipal(
        resident.person_id, "山田 太郎", "card", ACR_CARD, 0, "z" * 64, acting_for=999
    )
    for who in (by_passkey, as_proxy):
        with session_factory.begin() as db, pytest.raises(PasskeyNeedsCard):
            services.begin_registration(db, moving, RP, who, "Pixel 9")


def test_an_unparseable_response_is_refused_and_audited(
    session_factory: sessionmaker[Session], moving: MovableClock
) -> None:
    with session_factory.begin() as db:
        outcome = services.finish_login(db, moving, RP, POLICY, {"id": "x"})
    assert outcome.reason == "malformed"
    with session_factory() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "identity:passkey:login_refused")
        ).one()
        assert (entry.actor, entry.detail) == ("anonymous", {"why": "malformed"})


def test_expired_ceremonies_are_cleaned_up(
    session_factory: sessionmaker[Session], moving: MovableClock
) -> None:
    with session_factory.begin() as db:
        services.begin_login(db, moving, RP)
    moving.advance(minutes=services.CEREMONY_MINUTES + 1)
    with session_factory.begin() as db:
        services.begin_login(db, moving, RP)
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(PasskeyCeremony)) == 1
