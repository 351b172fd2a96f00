"""Card login: issue single-use challenges, verify the card's answer, open the portal session; and the 2D-code
(QR) login that lets a phone complete a card login for a PC. Services never commit; refusals are recorded by
the caller's unit of work, which the edge commits before it reports the refusal."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from tsunagu.audit import api as audit
from tsunagu.identity.cardlogin import qr
from tsunagu.identity.cardlogin.errors import CardLoginRefused
from tsunagu.identity.cardlogin.models import CardLoginChallenge
from tsunagu.identity.cards import services as cards
from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.core.cardlogin import (
    CHALLENGE_SECONDS,
    MAX_CERTIFICATE_BYTES,
    MAX_CHALLENGE_ID,
    MAX_SIGNATURE_BYTES,
    NONCE_BYTES,
    b64decode,
    to_be_signed,
)
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import derive_key
from tsunagu.kernel.errors import InvalidInput
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api

# A holder who moved out keeps the card until the 転入 at the new municipality (継続利用, 住民基本台帳法 art. 24-2):
# they still log in, e.g. to follow their moving one-stop. A death revokes the card, so no deceased holder gets here.
LOGIN_STATUSES = frozenset({"resident", "moved_out"})


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


_CHALLENGES = cast(Table, CardLoginChallenge.__table__)
_PURGE_EVERY = 1000  # about one answer in this many also deletes burnt challenges that have expired


class ChallengeKey:
    """Issues and checks challenges without storing them: the id carries its expiry (and the 2D-code login it
    serves) under a MAC, and the nonce is a MAC of the id. Only a burnt (answered) challenge is written, once, so
    issuing a challenge costs no database write and a replay is the second insert of the same id."""

    def __init__(self, master: bytes) -> None:
        self._key = derive_key(master, "identity.cardlogin.challenge")

    def _mac(self, label: bytes, text: str, size: int) -> str:
        digest = hmac.new(self._key, label + text.encode(), hashlib.sha256).digest()[:size]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, clock: Clock, audience: str, qr_login_id: str | None = None) -> Challenge:
        expires_at = clock.now().replace(microsecond=0) + dt.timedelta(seconds=CHALLENGE_SECONDS)
        body = f"{int(expires_at.timestamp()):x}.{secrets.token_urlsafe(12)}"
        if qr_login_id:
            body += f".{qr_login_id}"
        challenge_id = f"{body}.{self._mac(b'id', body, 9)}"
        return Challenge(challenge_id, self._mac(b"nonce", challenge_id, NONCE_BYTES), audience, expires_at)

    def read(self, challenge_id: str) -> _StoredChallenge | None:
        """The challenge this server issued under ``challenge_id``, or ``None`` for anything else."""
        if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= MAX_CHALLENGE_ID:
            return None
        body, _, mac = challenge_id.rpartition(".")
        parts = body.split(".")
        if len(parts) not in {2, 3} or not hmac.compare_digest(mac, self._mac(b"id", body, 9)):
            return None
        expires_at = dt.datetime.fromtimestamp(int(parts[0], 16), dt.UTC)
        nonce = self._mac(b"nonce", challenge_id, NONCE_BYTES)
        return _StoredChallenge(challenge_id, nonce, expires_at, parts[2] if len(parts) == 3 else None)


def issue_challenge(
    key: ChallengeKey, clock: Clock, audience: str, qr_login_id: str | None = None
) -> Challenge:
    """Step 1 of the protocol: a fresh challenge (nothing is written)."""
    return key.issue(clock, audience, qr_login_id)


@dataclass(frozen=True)
class _StoredChallenge:
    id: str
    nonce: str
    expires_at: dt.datetime
    qr_login_id: str | None


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


def _replayed_challenge(db: Session) -> CardLoginRefused:
    return _refuse(
        db,
        "replayed_challenge",
        "This challenge was already used. Ask for a new one.",
        "この認証要求は使用済みです。最初からやり直してください。",
    )


def _read_challenge(db: Session, key: ChallengeKey, challenge_id: str) -> _StoredChallenge:
    """The challenge behind an id this server issued; refused when it is not one (no database read)."""
    challenge = key.read(challenge_id)
    if challenge is None:
        raise _refuse(
            db,
            "unknown_challenge",
            "Unknown challenge. Ask for a new one.",
            "認証要求が見つかりません。最初からやり直してください。",
        )
    return challenge


def _burn_challenge(db: Session, clock: Clock, challenge: _StoredChallenge) -> None:
    """Mark the challenge used, exactly once, whatever the verdict (a refused answer burns it too): an insert
    that does nothing when the id is already there. This is the login's first write: on SQLite it starts the write
    transaction, so it comes after every check that only reads (certificate chain and revocation, signature,
    card, person), and the database's single write lock is held only for this insert, the others and the
    commit."""
    now = clock.now()
    row = {
        "id": challenge.id,
        "nonce": "",
        "expires_at": challenge.expires_at,
        "used_at": now,
        "qr_login_id": challenge.qr_login_id,
    }
    if db.connection().execute(_insert_once(db), row).first() is None:  # the id was there: a second answer
        raise _replayed_challenge(db)
    if secrets.randbelow(_PURGE_EVERY) == 0:  # burnt ids are needed only until they expire
        db.connection().execute(delete(_CHALLENGES).where(_CHALLENGES.c.expires_at < now))
    if challenge.expires_at <= now:
        raise _refuse(
            db,
            "expired_challenge",
            f"The challenge expired ({CHALLENGE_SECONDS} seconds). Ask for a new one.",
            "認証要求の有効期限が切れました。最初からやり直してください。",
        )


_INSERT_ONCE = {
    "sqlite": sqlite_insert(_CHALLENGES)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_CHALLENGES.c.id),
    "postgresql": postgresql_insert(_CHALLENGES)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_CHALLENGES.c.id),
}


def _insert_once(db: Session) -> Executable:
    return _INSERT_ONCE[db.get_bind().dialect.name]


def _take_challenge(db: Session, key: ChallengeKey, clock: Clock, challenge_id: str) -> _StoredChallenge:
    """Read and burn the challenge at once (for callers with no reads to do before their first write)."""
    challenge = _read_challenge(db, key, challenge_id)
    _burn_challenge(db, clock, challenge)
    return challenge


@dataclass(frozen=True)
class _Refusal:
    """A verdict reached before the challenge is burnt; its side effects (audit, login history) wait for the burn,
    so a replayed or expired challenge is reported as such, as before."""

    reason: str
    detail: str = ""
    ja: str = ""
    person_id: int | None = None  # the audit entry's actor and subject
    history: tuple[int, str] | None = None  # (person, why): the refusal also goes into their login history
    certificate: pki.CertificateRefused | None = None


def _check_answer(
    db: Session,
    trust: pki.TrustServices,
    clock: Clock,
    audience: str,
    challenge: _StoredChallenge,
    der: bytes,
    signature: bytes,
) -> tuple[int, str] | _Refusal:
    """Every check of the answer that only reads: (person id, display name), or the refusal."""
    try:
        cert = trust.verify(db, der, pki.CertificateKind.AUTHENTICATION, clock.now())
    except pki.CertificateRefused as exc:
        return _Refusal(exc.code, certificate=exc)
    card = cards.card_for_holder(db, cert.holder)
    person_id = card.person_id if card is not None else None
    try:
        cert.public_key.verify(
            signature, to_be_signed(audience, challenge.id, challenge.nonce), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return _Refusal(
            "bad_signature",
            "The signature does not match the challenge.",
            "署名を確認できませんでした。最初からやり直してください。",
            person_id,
        )
    if card is None or person_id is None:
        return _Refusal("unknown_card", "No card holds this certificate.", "このカードは登録されていません。")
    status = card.status_on(clock.today())
    if status != "active":
        return _Refusal(
            f"card_{status}",
            "This card cannot be used (suspended or revoked). Ask at the municipal counter.",
            "このカードは利用停止中または失効しています。市区町村の窓口にお問い合わせください。",
            person_id,
            history=(person_id, f"card_{status}"),
        )
    name, resident = registry_api.name_and_status(db, person_id) or ("", "")
    if resident not in LOGIN_STATUSES:
        return _Refusal(
            "not_resident",
            "This card's holder is not a current resident.",
            "現在の住民ではありません。",
            history=(person_id, "not_resident"),
        )
    return person_id, name


def verify_answer(
    db: Session,
    trust: pki.TrustServices,
    key: ChallengeKey,
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
    challenge = _read_challenge(db, key, challenge_id)
    verdict = _check_answer(db, trust, clock, audience, challenge, der, signature)
    _burn_challenge(db, clock, challenge)
    if isinstance(verdict, _Refusal):
        if verdict.certificate is not None:
            audit.record(
                db,
                "anonymous",
                audit.AuditAction.CITIZEN_LOGIN_REFUSED,
                "",
                method="card",
                why=verdict.reason,
            )
            raise verdict.certificate
        if verdict.history is not None:
            citizen.record_login(db, clock, verdict.history[0], "card", refused=verdict.history[1])
        raise _refuse(db, verdict.reason, verdict.detail, verdict.ja, verdict.person_id)
    person_id, name = verdict
    return person_id, name, challenge.qr_login_id


def login_with_card(
    db: Session,
    trust: pki.TrustServices,
    key: ChallengeKey,
    clock: Clock,
    policy: citizen.SessionPolicy,
    audience: str,
    challenge_id: str,
    certificate_b64: str,
    signature_b64: str,
) -> LoginResult:
    """The whole server side of a card login: verify, then open a session (or complete a 2D-code login)."""
    person_id, name, qr_id = verify_answer(
        db, trust, key, clock, audience, challenge_id, certificate_b64, signature_b64
    )
    if qr_id is not None:
        qr.complete_qr(db, clock, qr_id, person_id, name)
        return LoginResult(person_id, name, "", "qr")
    raw = citizen.open_citizen_session(db, clock, policy, person_id, name, "card")
    citizen.record_login(db, clock, person_id, "card")
    return LoginResult(person_id, name, raw, "card")


def verify_reauthentication(
    db: Session,
    trust: pki.TrustServices,
    key: ChallengeKey,
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
    _take_challenge(db, key, clock, challenge.challenge_id)
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
