"""Staff sessions: sliding expiry written at most once per half window, then expiry and revocation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from tsunagu.identity.core.roles import Role
from tsunagu.identity.models import StaffSession
from tsunagu.identity.services import close_session, create_staff, open_session, resolve_session
from tsunagu.kernel.clock import JST, fixed_clock
from tsunagu.kernel.crypto import token_hash

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=JST)
MINUTES = 30


def _expiry(factory: sessionmaker[Session], raw: str) -> dt.datetime:
    with factory() as db:
        value = db.get_one(StaffSession, token_hash(raw)).expires_at
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_session_slides_then_expires_and_logout_revokes_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        user = create_staff(db, "sliding", "Sliding", "a-long-enough-password", [Role.COUNTER_STAFF])
        raw = open_session(db, user, fixed_clock(T0), MINUTES)
        db.commit()
    assert _expiry(session_factory, raw) == T0 + dt.timedelta(minutes=30)

    def resolve(at: dt.datetime) -> object:
        with session_factory() as db:
            principal = resolve_session(db, raw, fixed_clock(at), MINUTES)
            db.commit()
            return principal

    assert resolve(T0 + dt.timedelta(minutes=5)) is not None
    assert _expiry(session_factory, raw) == T0 + dt.timedelta(minutes=30)  # early in the window: no write
    assert resolve(T0 + dt.timedelta(minutes=20)) is not None
    assert _expiry(session_factory, raw) == T0 + dt.timedelta(minutes=50)  # past half: slid forward
    assert resolve(T0 + dt.timedelta(minutes=51)) is None  # idle too long
    with session_factory() as db:
        close_session(db, raw)
        db.commit()
    assert resolve(T0 + dt.timedelta(minutes=21)) is None  # revoked
