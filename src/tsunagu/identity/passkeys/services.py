"""Passkeys: the registration and login ceremonies (WebAuthn, through py_webauthn), listing and revocation.

The relying party is the platform's public origin (``settings.public_url``): its host is the RP ID and the
origin must match exactly, so the portal must be served from that origin (a passkey registered on one origin
does not work on another). Every credential is discoverable (resident key) and every ceremony requires user
verification (the device's biometrics or PIN). Challenges are random, stored hashed, single use and valid for
``CEREMONY_MINUTES``.

Ceremony results are returned rather than raised, so that the edge commits what a refusal writes (the burnt
challenge, the audit entry, the login record, a clone flag) before it reports the refusal. Services never
commit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import InvalidJSONStructure, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tsunagu.audit import api as audit
from tsunagu.identity.cards.services import cards_of
from tsunagu.identity.citizen import services as citizen
from tsunagu.identity.core.card_rules import CardStatus
from tsunagu.identity.passkeys.errors import (
    PasskeyNeedsCard,
    PasskeyRegistrationRefused,
    login_refused,
    registration_refused,
)
from tsunagu.identity.passkeys.models import Passkey, PasskeyCeremony, PasskeyUser
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import InvalidInput, NotFound
from tsunagu.registry import api as registry_api

CEREMONY_MINUTES = 5
REGISTRATION = "registration"
AUTHENTICATION = "authentication"
CARD_METHODS = frozenset({"card", "qr"})  # a passkey is issued using the card, never from a passkey session
LABEL_MAX = 64
METHOD = "passkey"


@dataclass(frozen=True)
class RelyingParty:
    """This platform as a WebAuthn relying party."""

    id: str  # the RP ID: the host of the public URL
    name: str
    origin: str  # scheme://host[:port], exactly as the browser reports it

    @classmethod
    def for_public_url(cls, public_url: str, name: str) -> RelyingParty:
        parts = urlsplit(public_url)
        if not parts.hostname:
            msg = f"public_url has no host: {public_url!r}"
            raise ValueError(msg)
        return cls(id=parts.hostname, name=name, origin=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class RegistrationOutcome:
    passkey: Passkey | None = None
    error: PasskeyRegistrationRefused | None = None

    def raise_if_refused(self) -> Passkey:
        if self.error is not None:
            raise self.error
        assert self.passkey is not None  # noqa: S101 - one of the two is always set
        return self.passkey


@dataclass(frozen=True)
class LoginOutcome:
    session: str | None = None  # the raw citizen-session id for the cookie
    person_id: int | None = None
    reason: str | None = None  # why it was refused (a key of errors.LOGIN_REFUSALS)

    def raise_if_refused(self) -> str:
        if self.reason is not None:
            raise login_refused(self.reason)
        assert self.session is not None  # noqa: S101 - a login without a refusal opened a session
        return self.session


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _challenge_in(client_data_json: bytes) -> bytes | None:
    """The challenge the browser signed over (from clientDataJSON), to find the pending ceremony."""
    try:
        data = json.loads(client_data_json)
        value = data.get("challenge") if isinstance(data, dict) else None
        return _b64url_decode(value) if isinstance(value, str) else None
    except (ValueError, binascii.Error):
        return None


def _start(db: Session, clock: Clock, kind: str, challenge: bytes, **fields: Any) -> None:
    now = clock.now()
    db.execute(delete(PasskeyCeremony).where(PasskeyCeremony.expires_at < now))
    db.add(
        PasskeyCeremony(
            challenge_hash=_challenge_hash(challenge),
            kind=kind,
            expires_at=now + dt.timedelta(minutes=CEREMONY_MINUTES),
            used_at=None,
            **fields,
        )
    )


def _consume(db: Session, clock: Clock, kind: str, challenge: bytes | None) -> PasskeyCeremony | None:
    """The pending ceremony of this challenge, now used up; ``None`` if unknown, expired or already used."""
    if challenge is None:
        return None
    row = db.get(PasskeyCeremony, _challenge_hash(challenge))
    now = clock.now()
    if row is None or row.kind != kind or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row


def _user_handle(db: Session, clock: Clock, person_id: int) -> bytes:
    row = db.get(PasskeyUser, person_id)
    if row is None:
        row = PasskeyUser(person_id=person_id, user_handle=secrets.token_bytes(32), created_at=clock.now())
        db.add(row)
        db.flush()
    return row.user_handle


def passkeys_of(db: Session, person_id: int) -> list[Passkey]:
    """Every passkey of a person, active and revoked, newest first."""
    stmt = select(Passkey).where(Passkey.person_id == person_id).order_by(Passkey.id.desc())
    return list(db.scalars(stmt))


def _own_active(db: Session, person_id: int, passkey_id: int) -> Passkey:
    row = db.get(Passkey, passkey_id)
    if row is None or row.person_id != person_id or row.revoked_at is not None:
        raise NotFound("No such active passkey.", ja="該当する有効なパスキーはありません。")
    return row


def _clean_label(label: str) -> str:
    cleaned = " ".join(label.split())
    if not cleaned or len(cleaned) > LABEL_MAX:
        raise InvalidInput(
            f"Give the passkey a name of 1 to {LABEL_MAX} characters (for example, the phone's model).",
            ja=f"パスキーの名前を1〜{LABEL_MAX}文字で入力してください（例: 端末の機種名）。",
            field="label",
        )
    return cleaned


def may_register(principal: CitizenPrincipal) -> bool:
    """Only a session opened with the card, acting for oneself, may register a passkey."""
    return principal.method in CARD_METHODS and principal.acting_for is None


def begin_registration(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    principal: CitizenPrincipal,
    label: str,
    replaces: int | None = None,
) -> str:
    """Options for ``navigator.credentials.create()`` (JSON), for the logged-in resident's own new passkey."""
    if not may_register(principal):
        raise PasskeyNeedsCard(
            "Log in with your My Number card (not a passkey, and not as a proxy) to register a passkey.",
            ja="パスキーの登録には、マイナンバーカードでご本人としてログインしてください。",
        )
    cleaned = _clean_label(label)
    if replaces is not None:
        _own_active(db, principal.person_id, replaces)
    existing = [
        PublicKeyCredentialDescriptor(id=p.credential_id, transports=_transports(p.transports))
        for p in passkeys_of(db, principal.person_id)
        if p.revoked_at is None and p.id != replaces
    ]
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=_user_handle(db, clock, principal.person_id),
        user_name=principal.display_name,
        user_display_name=principal.display_name,
        timeout=CEREMONY_MINUTES * 60 * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=existing,
    )
    _start(
        db,
        clock,
        REGISTRATION,
        options.challenge,
        person_id=principal.person_id,
        label=cleaned,
        replaces=replaces,
    )
    return options_to_json(options)


def _transports(stored: str) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(t) for t in stored.split(",") if t in known]


def _registration_refused(db: Session, principal: CitizenPrincipal, why: str) -> RegistrationOutcome:
    audit.record_citizen(
        db,
        principal,
        audit.AuditAction.PASSKEY_REGISTRATION_REFUSED,
        f"person:{principal.person_id}",
        why=why,
    )
    return RegistrationOutcome(error=registration_refused(why))


def finish_registration(
    db: Session, clock: Clock, rp: RelyingParty, principal: CitizenPrincipal, credential: dict[str, Any]
) -> RegistrationOutcome:
    """Verify the browser's attestation and store the passkey (replacing the old one on a phone change)."""
    try:
        parsed = parse_registration_credential_json(credential)
    except (InvalidJSONStructure, WebAuthnException, ValueError, TypeError):
        return _registration_refused(db, principal, "malformed")
    ceremony = _consume(db, clock, REGISTRATION, _challenge_in(parsed.response.client_data_json))
    if ceremony is None or ceremony.person_id != principal.person_id or not may_register(principal):
        return _registration_refused(db, principal, "challenge")
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=_challenge_in(parsed.response.client_data_json) or b"",
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except WebAuthnException:
        return _registration_refused(db, principal, "verification_failed")
    if db.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)) is not None:
        return _registration_refused(db, principal, "already_registered")
    now = clock.now()
    row = Passkey(
        person_id=principal.person_id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(_registered_transports(parsed)),
        aaguid=verified.aaguid,
        label=ceremony.label or "",
        created_at=now,
        last_used_at=None,
        revoked_at=None,
        revoked_reason=None,
    )
    db.add(row)
    db.flush()
    detail: dict[str, Any] = {"passkey": row.id}
    if ceremony.replaces is not None:
        old = db.get(Passkey, ceremony.replaces)
        if old is not None and old.person_id == principal.person_id and old.revoked_at is None:
            _revoke(db, principal, old, now, "replaced")
            detail["replaces"] = old.id
    audit.record_citizen(
        db, principal, audit.AuditAction.PASSKEY_REGISTERED, f"person:{row.person_id}", **detail
    )
    return RegistrationOutcome(passkey=row)


def _registered_transports(parsed: RegistrationCredential) -> list[str]:
    return [t.value for t in parsed.response.transports or []]


def _revoke(
    db: Session, principal: CitizenPrincipal | None, row: Passkey, now: dt.datetime, why: str
) -> None:
    row.revoked_at = now
    row.revoked_reason = why
    subject = f"person:{row.person_id}"
    if principal is None:
        audit.record(db, "platform", audit.AuditAction.PASSKEY_REVOKED, subject, passkey=row.id, why=why)
    else:
        audit.record_citizen(
            db, principal, audit.AuditAction.PASSKEY_REVOKED, subject, passkey=row.id, why=why
        )


def revoke(db: Session, clock: Clock, principal: CitizenPrincipal, passkey_id: int) -> Passkey:
    """The resident revokes one of their own passkeys (a lost or replaced phone)."""
    row = _own_active(db, principal.person_id, passkey_id)
    _revoke(db, principal, row, clock.now(), "resident")
    return row


def begin_login(db: Session, clock: Clock, rp: RelyingParty) -> str:
    """Options for ``navigator.credentials.get()`` (JSON): no username; the authenticator offers its passkeys."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=CEREMONY_MINUTES * 60 * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _start(db, clock, AUTHENTICATION, options.challenge, person_id=None, label=None, replaces=None)
    return options_to_json(options)


def _refuse_login(db: Session, clock: Clock, reason: str, passkey: Passkey | None) -> LoginOutcome:
    """Audit a refused login and, when the passkey names a person, add it to that person's login history."""
    if passkey is None:
        audit.record(db, "anonymous", audit.AuditAction.PASSKEY_LOGIN_REFUSED, "", why=reason)
        return LoginOutcome(reason=reason)
    subject = f"person:{passkey.person_id}"
    audit.record(
        db, subject, audit.AuditAction.PASSKEY_LOGIN_REFUSED, subject, why=reason, passkey=passkey.id
    )
    citizen.record_login(db, clock, passkey.person_id, METHOD, refused=reason)
    return LoginOutcome(person_id=passkey.person_id, reason=reason)


def _person_refusal(db: Session, person_id: int) -> tuple[str | None, str]:
    """Why this person may not log in now (``None`` if they may), and their name for the session.

    Only current residents log in; a suspended card (一時停止: "stop my card now") stops its passkeys too."""
    try:
        facts = registry_api.basic_facts(db, person_id)
    except NotFound:
        return "not_resident", ""
    if facts.status != "resident":
        return "not_resident", facts.name
    cards = cards_of(db, person_id)
    if cards and cards[0].status is CardStatus.SUSPENDED:
        return "card_suspended", facts.name
    return None, facts.name


def finish_login(
    db: Session, clock: Clock, rp: RelyingParty, policy: citizen.SessionPolicy, credential: dict[str, Any]
) -> LoginOutcome:
    """Verify the browser's assertion; on success open a citizen session (method ``passkey``)."""
    try:
        parsed = parse_authentication_credential_json(credential)
    except (InvalidJSONStructure, WebAuthnException, ValueError, TypeError):
        return _refuse_login(db, clock, "malformed", None)
    passkey = db.scalar(select(Passkey).where(Passkey.credential_id == parsed.raw_id))
    challenge = _challenge_in(parsed.response.client_data_json)
    if _consume(db, clock, AUTHENTICATION, challenge) is None or challenge is None:
        return _refuse_login(db, clock, "challenge", passkey)
    if passkey is None:
        return _refuse_login(db, clock, "unknown_credential", None)
    reason = _verify_assertion(db, clock, rp, parsed, passkey, challenge)
    name = ""
    if reason is None:
        reason, name = _person_refusal(db, passkey.person_id)
    if reason is not None:
        return _refuse_login(db, clock, reason, passkey)
    passkey.last_used_at = clock.now()
    raw = citizen.open_citizen_session(db, clock, policy, passkey.person_id, name, METHOD)
    citizen.record_login(db, clock, passkey.person_id, METHOD)
    return LoginOutcome(session=raw, person_id=passkey.person_id)


def _verify_assertion(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    parsed: AuthenticationCredential,
    passkey: Passkey,
    challenge: bytes,
) -> str | None:
    """Why the assertion is refused, or ``None``. A counter that does not grow (after a valid signature) means
    two authenticators hold the key: the passkey is stopped (WebAuthn L2 §7.2 step 21)."""
    if passkey.revoked_at is not None:
        return "revoked"
    handle = parsed.response.user_handle
    owner = db.get(PasskeyUser, passkey.person_id)
    if handle is not None and (owner is None or not secrets.compare_digest(handle, owner.user_handle)):
        return "verification_failed"
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, only once the signature is known to be good
            require_user_verification=True,
        )
    except WebAuthnException:
        return "verification_failed"
    stored, new = passkey.sign_count, verified.new_sign_count
    if (stored > 0 or new > 0) and new <= stored:
        _revoke(db, None, passkey, clock.now(), "clone_suspected")
        return "clone_suspected"
    passkey.sign_count = new
    return None
