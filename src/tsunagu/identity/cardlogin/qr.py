"""2D-code (QR) login: the PC shows a QR code, a phone completes a card login for it, the PC's session opens (only
in the browser that started it). Services never commit."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tsunagu.identity.cardlogin.errors import CardLoginRefused
from tsunagu.identity.cardlogin.models import QrLogin
from tsunagu.identity.citizen import services as citizen
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash

QR_MINUTES = 5


@dataclass(frozen=True)
class QrStart:
    qr_id: str
    pc_secret: str
    confirmation: str
    expires_at: dt.datetime


def start_qr_login(db: Session, clock: Clock, next_path: str) -> QrStart:
    now = clock.now()
    pc_secret = secrets.token_urlsafe(32)
    row = QrLogin(
        id=secrets.token_urlsafe(16),
        pc_secret_hash=token_hash(pc_secret),
        confirmation=f"{secrets.randbelow(10_000):04d}",
        next_path=next_path[:500],
        created_at=now,
        expires_at=now + dt.timedelta(minutes=QR_MINUTES),
        state="pending",
        person_id=None,
        display_name=None,
    )
    db.add(row)
    return QrStart(row.id, pc_secret, row.confirmation, row.expires_at)


def qr_login(db: Session, clock: Clock, qr_id: str) -> QrLogin:
    """A pending 2D-code login that the phone may complete."""
    row = db.get(QrLogin, qr_id)
    if row is None or row.state != "pending" or row.expires_at <= clock.now():
        raise CardLoginRefused(
            "This 2D code is no longer valid. Start again on the PC.",
            ja="この二次元コードは無効です。パソコンで最初からやり直してください。",
            reason="qr_invalid",
        )
    return row


def complete_qr(db: Session, clock: Clock, qr_id: str, person_id: int, name: str) -> None:
    row = qr_login(db, clock, qr_id)
    row.state = "completed"
    row.person_id = person_id
    row.display_name = name


def collect_qr_login(
    db: Session, clock: Clock, policy: citizen.SessionPolicy, qr_id: str, pc_secret: str
) -> tuple[str, str] | None:
    """The PC asks whether its 2D-code login is done: (raw session id, next path) once, else ``None``.
    Refused when the browser is not the one that started it, or when it expired."""
    row = db.get(QrLogin, qr_id)
    if row is None or not secrets.compare_digest(row.pc_secret_hash, token_hash(pc_secret or "-")):
        raise CardLoginRefused(
            "This 2D-code login was started in another browser.",
            ja="この二次元コードログインは別のブラウザで開始されました。",
            reason="qr_wrong_browser",
        )
    if row.state == "pending" and row.expires_at > clock.now():
        return None
    if row.state != "completed" or row.person_id is None:
        raise CardLoginRefused(
            "This 2D-code login expired or was already used. Start again.",
            ja="この二次元コードログインは期限切れか使用済みです。最初からやり直してください。",
            reason="qr_expired",
        )
    row.state = "consumed"
    raw = citizen.open_citizen_session(db, clock, policy, row.person_id, row.display_name or "", "qr")
    citizen.record_login(db, clock, row.person_id, "qr")
    return raw, row.next_path
