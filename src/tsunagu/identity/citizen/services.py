"""Citizen sessions: open, resolve (idle and absolute timeouts), re-authentication for signature-level actions,
log out here or everywhere, and the login history. Services never commit."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.citizen.models import CitizenSession, LoginRecord
from tsunagu.identity.proxies.models import ProxyGrant
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.kernel.errors import Forbidden

ACR_CARD = "urn:tsunagu:acr:jpki-card"  # 利用者証明用電子証明書 on the card: possession + PIN (high)
ACR_PASSKEY = "urn:tsunagu:acr:passkey"  # a passkey registered after a card login (substantial)
METHOD_ACR = {"card": ACR_CARD, "qr": ACR_CARD, "passkey": ACR_PASSKEY}
SIGNATURE_REAUTH_MINUTES = 5
_INSERT_SESSION = insert(cast(Table, CitizenSession.__table__))
_INSERT_LOGIN = insert(
    cast(Table, LoginRecord.__table__)
)  # a 署名用 PIN check covers signature-level actions for this long


class ReauthenticationRequired(Forbidden):
    """A signature-level action needs a fresh check of the signature PIN (署名用電子証明書)."""

    code = "reauthentication-required"
    title = "Re-authentication required"


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int
    absolute_minutes: int


def open_citizen_session(
    db: Session, clock: Clock, policy: SessionPolicy, person_id: int, display_name: str, method: str
) -> str:
    """Create a session and return the raw id for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.connection().execute(  # a Core insert: a login is on the hot path (no ORM object needed)
        _INSERT_SESSION,
        {
            "id_hash": token_hash(raw),
            "person_id": person_id,
            "display_name": display_name,
            "method": method,
            "acr": METHOD_ACR[method],
            "auth_time": now,
            "idle_expires_at": now + dt.timedelta(minutes=policy.idle_minutes),
            "absolute_expires_at": now + dt.timedelta(minutes=policy.absolute_minutes),
            "signature_verified_at": None,
            "acting_for": None,
            "acting_for_name": None,
            "revoked": False,
        },
    )
    return raw


def _live_row(db: Session, id_hash: str, now: dt.datetime) -> CitizenSession | None:
    row = db.get(CitizenSession, id_hash)
    if row is None or row.revoked or row.idle_expires_at <= now or row.absolute_expires_at <= now:
        return None
    return row


def principal_of(row: CitizenSession) -> CitizenPrincipal:
    return CitizenPrincipal(
        person_id=row.person_id,
        display_name=row.display_name,
        method=row.method,
        acr=row.acr,
        auth_time=int(row.auth_time.timestamp()),
        session_id_hash=row.id_hash,
        acting_for=row.acting_for,
        acting_for_name=row.acting_for_name,
    )


def resolve_citizen_session(
    db: Session, raw: str, clock: Clock, policy: SessionPolicy
) -> CitizenPrincipal | None:
    """The principal for a session cookie, sliding the idle expiry (at most once per half window, never past
    the absolute expiry); ``None`` if absent, idle, expired or revoked."""
    now = clock.now()
    row = _live_row(db, token_hash(raw), now)
    if row is None:
        return None
    window = dt.timedelta(minutes=policy.idle_minutes)
    if row.idle_expires_at - now < window / 2:
        row.idle_expires_at = min(now + window, row.absolute_expires_at)
    if row.acting_for is not None and not _still_proxy(db, row.person_id, row.acting_for):
        row.acting_for = None  # the principal revoked the proxy: acting stops at the next request
        row.acting_for_name = None
    return principal_of(row)


def _still_proxy(db: Session, proxy_id: int, principal_id: int) -> bool:
    return (
        db.scalar(
            select(ProxyGrant.id)
            .where(
                ProxyGrant.proxy_person_id == proxy_id,
                ProxyGrant.principal_person_id == principal_id,
                ProxyGrant.state == "active",
            )
            .limit(1)
        )
        is not None
    )


def close_citizen_session(db: Session, raw: str) -> None:
    row = db.get(CitizenSession, token_hash(raw))
    if row is not None and not row.revoked:
        row.revoked = True
        audit.record(
            db, f"person:{row.person_id}", audit.AuditAction.CITIZEN_LOGOUT, f"person:{row.person_id}"
        )


def close_all_sessions(db: Session, person_id: int, actor: str, why: str) -> int:
    """End every live session of a person ("log out everywhere", card suspension). Returns how many."""
    result = db.execute(
        update(CitizenSession)
        .where(CitizenSession.person_id == person_id, CitizenSession.revoked.is_(False))
        .values(revoked=True)
    )
    ended = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        db, actor, audit.AuditAction.CITIZEN_SESSIONS_ENDED, f"person:{person_id}", sessions=ended, why=why
    )
    return ended


def mark_signature_verified(db: Session, id_hash: str, clock: Clock) -> None:
    """Record that the signature PIN was just checked in this session (re-authentication)."""
    row = db.get(CitizenSession, id_hash)
    if row is not None:
        row.signature_verified_at = clock.now()


def require_recent_signature(db: Session, principal: CitizenPrincipal, clock: Clock) -> None:
    """Refuse a signature-level action unless the signature PIN was checked in the last few minutes."""
    row = db.get(CitizenSession, principal.session_id_hash)
    checked = row.signature_verified_at if row is not None else None
    if checked is None or clock.now() - checked > dt.timedelta(minutes=SIGNATURE_REAUTH_MINUTES):
        raise ReauthenticationRequired(
            "This action needs your signature PIN (署名用電子証明書) again.",
            ja="この操作には署名用電子証明書の暗証番号の再入力が必要です。",
        )


def set_acting_for(db: Session, id_hash: str, person_id: int | None, name: str | None) -> None:
    """Switch the session to act for someone (a proxy's principal) or back to oneself (``None``)."""
    row = db.get(CitizenSession, id_hash)
    if row is not None:
        row.acting_for = person_id
        row.acting_for_name = name


def record_login(
    db: Session,
    clock: Clock,
    person_id: int,
    method: str,
    *,
    relying_party: str | None = None,
    refused: str | None = None,
) -> None:
    """Add to the resident's login history, and to the audit trail."""
    db.connection().execute(
        _INSERT_LOGIN,
        {
            "person_id": person_id,
            "at": clock.now(),
            "method": method,
            "relying_party": relying_party,
            "outcome": "refused" if refused else "succeeded",
            "reason": refused,
        },
    )
    action = audit.AuditAction.CITIZEN_LOGIN_REFUSED if refused else audit.AuditAction.CITIZEN_LOGIN_SUCCEEDED
    detail: dict[str, str] = {"method": method}
    if relying_party:
        detail["relying_party"] = relying_party
    if refused:
        detail["why"] = refused
    audit.record(db, f"person:{person_id}", action, f"person:{person_id}", **detail)


def login_history(db: Session, person_id: int, limit: int = 50) -> list[LoginRecord]:
    rows = db.scalars(
        select(LoginRecord)
        .where(LoginRecord.person_id == person_id)
        .order_by(LoginRecord.at.desc(), LoginRecord.id.desc())
        .limit(limit)
    )
    return list(rows)
