"""Card login: issue single-use challenges, verify the card's answer, open the portal session; and the 2D-code
(QR) login that lets a phone complete a card login for a PC. Services never commit; refusals are recorded by
the caller's unit of work, which the edge commits before it reports the refusal."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.cardlogin.models import CardLoginChallenge, QrLogin
from tsunagu.identity.cards import services as cards
from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.core.cardlogin import (
    CHALLENGE_SECONDS,
    MAX_CERTIFICATE_BYTES,
    MAX_SIGNATURE_BYTES,
    NONCE_BYTES,
    b64decode,
    to_be_signed,
)
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import token_hash
from tsunagu.kernel.errors import InvalidInput, NotAuthenticated
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api

QR_MINUTES = 5


class CardLoginRefused(NotAuthenticated):
    """A card login was refused; ``reason`` is a stable machine-readable word (also in the audit trail)."""

    code = "card-login-refused"
    title = "Card login refused"

    def __init__(self, detail: str, *, ja: str, reason: str) -> None:
        super().__init__(detail, ja=ja, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    nonce: str
    audience: str
    expires_at: dt.datetime

    @property
    def message(self) -> bytes:
        return to_be_signed(self.audience, self.challenge_id, self.nonce)


@dataclass(frozen=True)
class LoginResult:
    person_id: int
    display_name: str
    session: str  # raw session id for the cookie (empty for a 2D-code login completed on the phone)
    method: str


def issue_challenge(db: Session, clock: Clock, audience: str, qr_login_id: str | None = None) -> Challenge:
    now = clock.now()
    row = CardLoginChallenge(
        id=secrets.token_urlsafe(16),
        nonce=secrets.token_urlsafe(NONCE_BYTES),
        expires_at=now + dt.timedelta(seconds=CHALLENGE_SECONDS),
        used_at=None,
        qr_login_id=qr_login_id,
    )
    db.add(row)
    return Challenge(row.id, row.nonce, audience, row.expires_at)


def _refuse(db: Session, reason: str, detail: str, ja: str, person_id: int | None = None) -> CardLoginRefused:
    audit.record(
        db,
        f"person:{person_id}" if person_id else "anonymous",
        audit.AuditAction.CITIZEN_LOGIN_REFUSED,
        f"person:{person_id}" if person_id else "",
        method="card",
        why=reason,
    )
    return CardLoginRefused(detail, ja=ja, reason=reason)


def _take_challenge(db: Session, clock: Clock, challenge_id: str) -> CardLoginChallenge:
    """Mark the challenge used, exactly once, whatever happens next (a refused answer burns it too)."""
    now = clock.now()
    row = db.get(CardLoginChallenge, challenge_id) if isinstance(challenge_id, str) and challenge_id else None
    if row is None:
        raise _refuse(
            db,
            "unknown_challenge",
            "Unknown challenge. Ask for a new one.",
            "認証要求が見つかりません。最初からやり直してください。",
        )
    taken = db.execute(
        update(CardLoginChallenge)
        .where(CardLoginChallenge.id == challenge_id, CardLoginChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(taken, "rowcount", 0) or 0) != 1:
        raise _refuse(
            db,
            "replayed_challenge",
            "This challenge was already used. Ask for a new one.",
            "この認証要求は使用済みです。最初からやり直してください。",
        )
    if row.expires_at <= now:
        raise _refuse(
            db,
            "expired_challenge",
            f"The challenge expired ({CHALLENGE_SECONDS} seconds). Ask for a new one.",
            "認証要求の有効期限が切れました。最初からやり直してください。",
        )
    return row


def verify_answer(
    db: Session,
    trust: pki.TrustServices,
    clock: Clock,
    audience: str,
    challenge_id: str,
    certificate_b64: str,
    signature_b64: str,
) -> tuple[int, str, str | None]:
    """Check a card's answer; return (person id, display name, the 2D-code login it completes, if any)."""
    der = b64decode(certificate_b64, MAX_CERTIFICATE_BYTES)
    signature = b64decode(signature_b64, MAX_SIGNATURE_BYTES)
    if der is None or signature is None:
        raise InvalidInput(
            "certificate and signature must be base64 (certificate DER ≤ 4096 bytes, signature ≤ 80 bytes).",
            ja="証明書と署名は base64 で送ってください。",
        )
    challenge = _take_challenge(db, clock, challenge_id)
    now = clock.now()
    try:
        cert = trust.verify(db, der, pki.CertificateKind.AUTHENTICATION, now)
    except pki.CertificateRefused as exc:
        audit.record(
            db, "anonymous", audit.AuditAction.CITIZEN_LOGIN_REFUSED, "", method="card", why=exc.code
        )
        raise
    card = cards.card_for_certificate(db, cert.serial)
    person_id = card.person_id if card is not None else None
    try:
        cert.public_key.verify(
            signature, to_be_signed(audience, challenge.id, challenge.nonce), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise _refuse(
            db,
            "bad_signature",
            "The signature does not match the challenge.",
            "署名を確認できませんでした。最初からやり直してください。",
            person_id,
        ) from None
    if card is None or person_id is None:
        raise _refuse(
            db, "unknown_card", "No card holds this certificate.", "このカードは登録されていません。"
        )
    status = card.status_on(clock.today())
    if status != "active":
        citizen.record_login(db, clock, person_id, "card", refused=f"card_{status}")
        raise _refuse(
            db,
            f"card_{status}",
            "This card cannot be used (suspended or revoked). Ask at the municipal counter.",
            "このカードは利用停止中または失効しています。市区町村の窓口にお問い合わせください。",
            person_id,
        )
    facts = registry_api.basic_facts(db, person_id)
    if facts.status != "resident":
        citizen.record_login(db, clock, person_id, "card", refused="not_resident")
        raise _refuse(
            db, "not_resident", "This card's holder is not a current resident.", "現在の住民ではありません。"
        )
    return person_id, facts.name, challenge.qr_login_id


def login_with_card(
    db: Session,
    trust: pki.TrustServices,
    clock: Clock,
    policy: citizen.SessionPolicy,
    audience: str,
    challenge_id: str,
    certificate_b64: str,
    signature_b64: str,
) -> LoginResult:
    """The whole server side of a card login: verify, then open a session (or complete a 2D-code login)."""
    person_id, name, qr_id = verify_answer(
        db, trust, clock, audience, challenge_id, certificate_b64, signature_b64
    )
    if qr_id is not None:
        _complete_qr(db, clock, qr_id, person_id, name)
        return LoginResult(person_id, name, "", "qr")
    raw = citizen.open_citizen_session(db, clock, policy, person_id, name, "card")
    citizen.record_login(db, clock, person_id, "card")
    return LoginResult(person_id, name, raw, "card")


# -- 2D-code (QR) login -------------------------------------------------------------------------------------


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


def _complete_qr(db: Session, clock: Clock, qr_id: str, person_id: int, name: str) -> None:
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


def verify_reauthentication(
    db: Session,
    trust: pki.TrustServices,
    clock: Clock,
    me: CitizenPrincipal,
    challenge: Challenge,
    certificate_b64: str,
    signature_b64: str,
) -> None:
    """Check a signature-PIN re-authentication: the 署名用 certificate is valid, belongs to a card of the logged-in
    person, and signed this challenge."""
    der = b64decode(certificate_b64, MAX_CERTIFICATE_BYTES)
    signature = b64decode(signature_b64, MAX_SIGNATURE_BYTES)
    if der is None or signature is None:
        raise InvalidInput(
            "Malformed certificate or signature.", ja="証明書または署名の形式が正しくありません。"
        )
    _take_challenge(db, clock, challenge.challenge_id)
    cert = trust.verify(db, der, pki.CertificateKind.SIGNATURE, clock.now())
    card = cards.card_for_certificate(db, cert.serial)
    if card is None or card.person_id != me.person_id:
        raise _refuse(
            db, "not_own_card", "This is not your card.", "ご本人のカードではありません。", me.person_id
        )
    try:
        cert.public_key.verify(signature, challenge.message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _refuse(
            db, "bad_signature", "The signature does not match.", "署名を確認できませんでした。", me.person_id
        ) from None
