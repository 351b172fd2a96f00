"""Staff accounts, login with lockout, server-side sessions and API tokens. Services never commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.core.roles import Role, permissions_for
from tsunagu.identity.models import ApiToken, StaffSession, StaffUser
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.kernel.errors import Conflict, InvalidInput, NotAuthenticated

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# A fixed hash to verify against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("tsunagu-no-such-user-password")


def create_staff(
    db: Session, username: str, display_name: str, password: str, roles: list[Role]
) -> StaffUser:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"A staff password must have at least {MIN_PASSWORD} characters.", field="password"
        )
    if not username.isascii() or not username.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("A username uses letters, digits, '-' and '_' only.", field="username")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"The username {username!r} is taken.")
    user = StaffUser(
        username=username,
        display_name=display_name,
        password_hash=_hasher.hash(password),
        roles=",".join(r.value for r in roles),
        active=True,
        failed_logins=0,
    )
    db.add(user)
    db.flush()
    return user


def principal_of(user: StaffUser, session_id_hash: str | None = None) -> Principal:
    roles = [Role(r) for r in user.roles.split(",") if r]
    return Principal(user.id, user.username, user.display_name, permissions_for(roles), session_id_hash)


def authenticate(db: Session, username: str, password: str, clock: Clock) -> StaffUser:
    """Check a password. Five consecutive failures lock the account for 15 minutes."""
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    now = clock.now()
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        _failed(db, username, "unknown_user")
        raise NotAuthenticated("The username or password is not correct.")
    locked_until = user.locked_until
    if locked_until is not None and locked_until > now:
        _failed(db, username, "locked")
        raise NotAuthenticated("This account is locked after repeated failures. Try again later.")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            _failed(db, username, "wrong_password", locked=True)
        else:
            _failed(db, username, "wrong_password")
        raise NotAuthenticated("The username or password is not correct.") from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(db, user.username, audit.AuditAction.STAFF_LOGIN_SUCCEEDED)
    return user


def _failed(db: Session, username: str, why: str, *, locked: bool = False) -> None:
    audit.record(db, username, audit.AuditAction.STAFF_LOGIN_FAILED, why=why, locked=locked)


def open_session(db: Session, user: StaffUser, clock: Clock, minutes: int) -> str:
    """Create a session and return the raw id for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.add(
        StaffSession(
            id_hash=token_hash(raw),
            staff_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
            revoked=False,
        )
    )
    return raw


def resolve_session(db: Session, raw: str, clock: Clock, minutes: int) -> Principal | None:
    """Return the principal for a session cookie, sliding its expiry; ``None`` if absent, expired or revoked."""
    row = db.get(StaffSession, token_hash(raw))
    now = clock.now()
    if row is None or row.revoked or row.expires_at <= now:
        return None
    user = db.get(StaffUser, row.staff_id)
    if user is None or not user.active:
        return None
    window = dt.timedelta(minutes=minutes)
    if row.expires_at - now < window / 2:  # slide at most once per half window: no write per request
        row.expires_at = now + window
    return principal_of(user, row.id_hash)


def close_session(db: Session, raw: str) -> None:
    row = db.get(StaffSession, token_hash(raw))
    if row is not None and not row.revoked:
        row.revoked = True
        user = db.get(StaffUser, row.staff_id)
        audit.record(db, user.username if user else "-", audit.AuditAction.STAFF_LOGOUT)


def create_api_token(db: Session, username: str, label: str, clock: Clock) -> str:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise InvalidInput(f"No staff user named {username!r}.", field="username")
    raw = "tsu_" + secrets.token_urlsafe(32)
    db.add(
        ApiToken(
            staff_id=user.id, token_hash=token_hash(raw), label=label, created_at=clock.now(), revoked=False
        )
    )
    return raw


def resolve_api_token(db: Session, raw: str) -> Principal | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if row is None or row.revoked:
        return None
    user = db.get(StaffUser, row.staff_id)
    return principal_of(user) if user is not None and user.active else None
