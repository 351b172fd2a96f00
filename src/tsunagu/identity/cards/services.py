"""The card desk (マイナンバーカード交付窓口) and the card's life: issue, reissue, loss, suspension and restore,
PIN re-set, a later signature certificate, and what a registry event does to a card. Services never commit.

Certificates come from the trust services (``tsunagu.pki``) with the holder ``card:<serial>``; the card row keeps
their serials (lowercase hexadecimal, as the PKI writes them)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.cards.chip import (
    ChipKeys,
    SoftwareChip,
    SurfaceData,
    add_key_slot,
    new_chip,
    rewrite_surface,
)
from tsunagu.identity.cards.chip import store_certificate as _store_certificate
from tsunagu.identity.cards.models import Card
from tsunagu.identity.citizen.services import close_all_sessions
from tsunagu.identity.core.card_rules import (
    SERIAL_ALPHABET,
    SERIAL_BODY,
    CardStatus,
    NoSignatureCertificate,
    card_expiry,
    card_serial,
    certificate_expiry,
    check_usable,
    effective_status,
    format_card_serial,
    may_hold_signature_certificate,
    normalize_card_serial,
)
from tsunagu.identity.core.pins import InvalidPin, PinSlot
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import Conflict, Forbidden, NotFound
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api
from tsunagu.settings import Settings

A = audit.AuditAction
HOLDER_PREFIX = "card:"  # a certificate's holder names its card, never the person
LIVE = (CardStatus.ACTIVE.value, CardStatus.SUSPENDED.value)  # a person holds at most one live card


@dataclass(frozen=True)
class CardContext:
    """What card services need besides the session: the chips' keys, the clock and the trust services."""

    keys: ChipKeys
    clock: Clock
    trust: pki.TrustServices


def card_context(settings: Settings, clock: Clock, trust: pki.TrustServices | None = None) -> CardContext:
    return CardContext(
        ChipKeys(settings.master_secret()), clock, trust or pki.trust_services(settings, clock)
    )


@dataclass(frozen=True)
class CardPins:
    """PINs set at issue. ``signature`` is ignored for a holder under 15 (no signature certificate)."""

    authentication: str
    surface: str
    signature: str | None = None


@dataclass(frozen=True)
class CardView:
    serial: str
    person_id: int
    issued_on: dt.date
    expires_on: dt.date
    status: CardStatus  # as stored; see status_on() for "expired"
    auth_cert_serial: int
    signature_cert_serial: int | None
    signature_revoked: bool
    status_reason: str | None
    replaces: str | None

    @property
    def display_serial(self) -> str:
        return format_card_serial(self.serial)

    @property
    def has_signature(self) -> bool:
        return self.signature_cert_serial is not None and not self.signature_revoked

    def status_on(self, today: dt.date) -> CardStatus:
        return effective_status(self.status, self.expires_on, today)

    def usable_on(self, today: dt.date) -> bool:
        return self.status_on(today) is CardStatus.ACTIVE


def _view(card: Card) -> CardView:
    return CardView(
        serial=card.serial,
        person_id=card.person_id,
        issued_on=card.issued_on,
        expires_on=card.expires_on,
        status=CardStatus(card.status),
        auth_cert_serial=int(card.auth_cert_serial, 16),
        signature_cert_serial=int(card.signature_cert_serial, 16) if card.signature_cert_serial else None,
        signature_revoked=card.signature_revoked_at is not None,
        status_reason=card.status_reason,
        replaces=card.replaces,
    )


def _hex(serial: int) -> str:
    return format(serial, "x")


def _require(staff: Principal, permission: Permission) -> None:
    if not staff.can(permission):
        raise Forbidden(f"This needs the permission {permission}.", ja="この操作を行う権限がありません。")


def _card(db: Session, serial: str) -> Card:
    card = db.get(Card, normalize_card_serial(serial), with_for_update=True, populate_existing=True)
    if card is None:
        raise NotFound("No such card.", ja="該当するカードはありません。")
    return card


# --- reading -------------------------------------------------------------------------------------------------


def get_card(db: Session, serial: str) -> CardView:
    return _view(_card(db, serial))


def cards_of(db: Session, person_id: int) -> list[CardView]:
    """Every card a person has held, newest first (a live card before others issued at the same instant)."""
    rows = db.scalars(select(Card).where(Card.person_id == person_id))
    ordered = sorted(rows, key=lambda c: (c.created_at, c.status in LIVE, c.serial), reverse=True)
    return [_view(c) for c in ordered]


def card_for_certificate(db: Session, serial: int) -> CardView | None:
    """The card holding the certificate with this serial (authentication or signature), or ``None``: maps a login
    certificate to a person. The caller still checks ``usable_on(today)`` and the certificate's status."""
    hexed = _hex(serial)
    card = db.scalar(
        select(Card).where((Card.auth_cert_serial == hexed) | (Card.signature_cert_serial == hexed))
    )
    return _view(card) if card is not None else None


@dataclass(frozen=True)
class CardLoginState:
    """What a login needs to know of the card behind a certificate (read with one primary-key lookup)."""

    serial: str
    person_id: int
    status: str
    expires_on: dt.date

    def status_on(self, today: dt.date) -> CardStatus:
        return effective_status(CardStatus(self.status), self.expires_on, today)


_CARDS = cast(Table, Card.__table__)
_LOGIN_STATE = select(_CARDS.c.serial, _CARDS.c.person_id, _CARDS.c.status, _CARDS.c.expires_on).where(
    _CARDS.c.serial == bindparam("serial")
)  # a Core statement (no ORM loading): every card login runs it


def card_for_holder(db: Session, holder: str) -> CardLoginState | None:
    """The card named by a certificate's holder (``card:<serial>``, as this module issues them), or ``None``."""
    if not holder.startswith(HOLDER_PREFIX):
        return None
    row = db.connection().execute(_LOGIN_STATE, {"serial": holder.removeprefix(HOLDER_PREFIX)}).one_or_none()
    return CardLoginState(row.serial, row.person_id, row.status, row.expires_on) if row is not None else None


def chip_for(db: Session, ctx: CardContext, serial: str) -> SoftwareChip:
    """The chip of a card, working in ``db`` (commit even when a PIN is refused: see ``chip.PIN_REFUSALS``)."""
    return SoftwareChip(db, ctx.keys, ctx.clock, normalize_card_serial(serial))


# --- issue ---------------------------------------------------------------------------------------------------


def _new_serial(db: Session) -> str:
    while True:
        serial = card_serial("".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_BODY)))
        if db.get(Card, serial) is None:
            return serial


def _subject_facts(facts: registry_api.BasicFacts) -> pki.SubjectFacts:
    return pki.SubjectFacts(
        name=f"{facts.family_name}\u3000{facts.given_name}",
        name_kana=facts.name_kana,
        address=facts.address,
        birth_date=facts.birth_date,
        sex=facts.sex,
    )


def surface_of(facts: registry_api.BasicFacts) -> SurfaceData:
    return SurfaceData(facts.name, facts.name_kana, facts.address, facts.birth_date, facts.sex)


def _certify(
    db: Session,
    ctx: CardContext,
    serial: str,
    kind: pki.CertificateKind,
    public_der: bytes,
    not_after: dt.date,
    facts: pki.SubjectFacts | None,
) -> pki.IssuedCertificate:
    key = serialization.load_der_public_key(public_der)
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - the chip makes EC keys only
        msg = "the chip gave a public key that is not EC"
        raise TypeError(msg)
    return ctx.trust.issue(db, kind, key, pki.end_of_day_jst(not_after), f"{HOLDER_PREFIX}{serial}", facts)


def _resident_facts(db: Session, person_id: int) -> registry_api.BasicFacts:
    facts = registry_api.basic_facts(db, person_id)
    if facts.status != "resident":
        raise Conflict(
            "Cards are issued only to current residents of this municipality.",
            ja="カードはこの市区町村に住民登録のある方にのみ交付できます。",
        )
    return facts


def _issue(
    db: Session, ctx: CardContext, actor: str, person_id: int, pins: CardPins, replaces: str | None
) -> Card:
    facts = _resident_facts(db, person_id)
    live = db.scalar(select(Card.serial).where(Card.person_id == person_id, Card.status.in_(LIVE)))
    if live is not None:
        raise Conflict(
            f"This resident already holds a card ({format_card_serial(live)}). Reissue it instead.",
            ja=f"この方は既にカード（{format_card_serial(live)}）をお持ちです。再交付の手続をしてください。",
        )
    today = ctx.clock.today()
    expires = card_expiry(today, facts.birth_date)
    slots = {PinSlot.AUTHENTICATION: pins.authentication, PinSlot.SURFACE: pins.surface}
    if may_hold_signature_certificate(facts.birth_date, today):
        if pins.signature is None:
            raise InvalidPin(
                "Set a signature PIN (6 to 16 uppercase letters and digits).",
                ja="署名用電子証明書の暗証番号を設定してください（英大文字と数字の6〜16文字）。",
                field="signature_pin",
            )
        slots[PinSlot.SIGNATURE] = pins.signature
    serial = _new_serial(db)
    chip = new_chip(ctx.keys, ctx.clock, serial, surface_of(facts), slots)
    cert_end = certificate_expiry(today, facts.birth_date, expires)
    ctx.trust.ensure_hierarchy(db)
    auth = _certify(
        db,
        ctx,
        serial,
        pki.CertificateKind.AUTHENTICATION,
        chip.public_keys[PinSlot.AUTHENTICATION],
        cert_end,
        None,
    )
    certificates = {PinSlot.AUTHENTICATION: auth.der}
    signature: pki.IssuedCertificate | None = None
    if PinSlot.SIGNATURE in chip.public_keys:
        signature = _certify(
            db,
            ctx,
            serial,
            pki.CertificateKind.SIGNATURE,
            chip.public_keys[PinSlot.SIGNATURE],
            cert_end,
            _subject_facts(facts),
        )
        certificates[PinSlot.SIGNATURE] = signature.der
    now = ctx.clock.now()
    card = Card(
        serial=serial,
        person_id=person_id,
        issued_on=today,
        expires_on=expires,
        status=CardStatus.ACTIVE.value,
        auth_cert_serial=_hex(auth.serial),
        signature_cert_serial=_hex(signature.serial) if signature else None,
        replaces=replaces,
        issued_by=actor[:64],
        created_at=now,
        updated_at=now,
    )
    db.add(card)
    db.flush()  # the card row before the chip rows that refer to it
    chip.install(db, certificates)
    return card


def issue_card(db: Session, ctx: CardContext, staff: Principal, person_id: int, pins: CardPins) -> CardView:
    """Issue a card at the desk: the resident must live here and hold no live card. Both key pairs are generated
    in the chip; the signature certificate (with the basic 4 facts) only from age 15."""
    _require(staff, Permission.IDENTITY_CARD_WRITE)
    card = _issue(db, ctx, staff.username, person_id, pins, None)
    audit.record(
        db,
        staff.username,
        A.CARD_ISSUED,
        f"person:{person_id}",
        card=card.serial,
        signature=card.signature_cert_serial is not None,
    )
    return _view(card)


def issue_demo_cards(
    db: Session, ctx: CardContext, person_ids: Iterable[int], pins: CardPins, actor: str = "demo"
) -> list[CardView]:
    """Cards for the demo's residents (the same PINs for all; residents who already hold one are skipped)."""
    ctx.trust.ensure_hierarchy(db)
    made: list[CardView] = []
    for person_id in person_ids:
        if db.scalar(select(Card.serial).where(Card.person_id == person_id, Card.status.in_(LIVE))):
            continue
        card = _issue(db, ctx, actor, person_id, pins, None)
        audit.record(db, actor, A.CARD_ISSUED, f"person:{person_id}", card=card.serial, demo=True)
        made.append(_view(card))
    return made


def reissue_card(db: Session, ctx: CardContext, staff: Principal, serial: str, pins: CardPins) -> CardView:
    """再交付: the old card and its certificates are revoked (superseded), a new card is issued."""
    _require(staff, Permission.IDENTITY_CARD_WRITE)
    old = _card(db, serial)
    if old.status != CardStatus.REVOKED.value:
        _revoke_card(db, ctx, old, pki.RevocationReason.SUPERSEDED, "reissued")
    new = _issue(db, ctx, staff.username, old.person_id, pins, old.serial)
    audit.record(
        db, staff.username, A.CARD_REISSUED, f"person:{old.person_id}", card=new.serial, old=old.serial
    )
    return _view(new)


def add_signature_certificate(
    db: Session, ctx: CardContext, staff: Principal, serial: str, pin: str
) -> CardView:
    """A new 署名用電子証明書 on an existing card: at 15+, or after one was revoked for a change of name or address.
    A fresh key pair is generated in the chip with the new PIN; a still-valid old certificate is superseded."""
    _require(staff, Permission.IDENTITY_CARD_WRITE)
    card = _card(db, serial)
    check_usable(CardStatus(card.status), card.expires_on, ctx.clock.today())
    facts = _resident_facts(db, card.person_id)
    today = ctx.clock.today()
    if not may_hold_signature_certificate(facts.birth_date, today):
        raise NoSignatureCertificate(under_age=True)
    if card.signature_cert_serial and card.signature_revoked_at is None:
        ctx.trust.revoke(db, int(card.signature_cert_serial, 16), pki.RevocationReason.SUPERSEDED)
    public = add_key_slot(db, ctx.keys, ctx.clock, card.serial, PinSlot.SIGNATURE, pin)
    ends = certificate_expiry(today, facts.birth_date, card.expires_on)
    cert = _certify(db, ctx, card.serial, pki.CertificateKind.SIGNATURE, public, ends, _subject_facts(facts))
    _store_certificate(db, card.serial, PinSlot.SIGNATURE, cert.der)
    rewrite_surface(db, ctx.keys, ctx.clock, card.serial, surface_of(facts))
    card.signature_cert_serial, card.signature_revoked_at = _hex(cert.serial), None
    card.updated_at = ctx.clock.now()
    audit.record(
        db,
        staff.username,
        A.CARD_ISSUED,
        f"person:{card.person_id}",
        card=card.serial,
        certificate="signature",
    )
    return _view(card)


# --- loss, suspension, restore, PIN re-set -------------------------------------------------------------------


def _live_certificates(card: Card) -> list[int]:
    """The card's certificates not revoked for good (on hold counts as live)."""
    serials = [int(card.auth_cert_serial, 16)]
    if card.signature_cert_serial and card.signature_revoked_at is None:
        serials.append(int(card.signature_cert_serial, 16))
    return serials


def revoke_certificates(
    db: Session, trust: pki.TrustServices, card: Card, reason: pki.RevocationReason, at: dt.datetime
) -> None:
    trust.revoke(db, int(card.auth_cert_serial, 16), reason)
    if card.signature_cert_serial and card.signature_revoked_at is None:
        trust.revoke(db, int(card.signature_cert_serial, 16), reason)
        card.signature_revoked_at = at


def _revoke_card(db: Session, ctx: CardContext, card: Card, reason: pki.RevocationReason, why: str) -> None:
    now = ctx.clock.now()
    revoke_certificates(db, ctx.trust, card, reason, now)
    card.status, card.status_reason, card.updated_at = CardStatus.REVOKED.value, why, now


def report_loss(db: Session, ctx: CardContext, serial: str, actor: str) -> CardView:
    """紛失・盗難の届出 (by the holder or staff): both certificates revoked (key compromise), the card revoked and
    the holder's portal sessions ended."""
    card = _card(db, serial)
    if card.status == CardStatus.REVOKED.value:
        raise Conflict("This card is already revoked.", ja="このカードは既に廃止されています。")
    _revoke_card(db, ctx, card, pki.RevocationReason.KEY_COMPROMISE, "lost")
    close_all_sessions(db, card.person_id, actor, "card reported lost")
    audit.record(db, actor, A.CARD_LOSS_REPORTED, f"person:{card.person_id}", card=card.serial)
    return _view(card)


def suspend_card(
    db: Session, ctx: CardContext, serial: str, actor: str, why: str = "holder's request"
) -> CardView:
    """一時停止 ("stop using my card now"): the card refuses every use until staff restore it, its certificates
    are put on hold (一時保留: relying parties see them as revoked) and the holder's portal sessions end."""
    card = _card(db, serial)
    if card.status != CardStatus.ACTIVE.value:
        raise Conflict("Only an active card can be suspended.", ja="利用中のカードのみ一時停止できます。")
    for cert in _live_certificates(card):
        ctx.trust.revoke(db, cert, pki.RevocationReason.CERTIFICATE_HOLD, actor=actor)
    card.status, card.status_reason, card.updated_at = (
        CardStatus.SUSPENDED.value,
        "suspended",
        ctx.clock.now(),
    )
    close_all_sessions(db, card.person_id, actor, "card suspended")
    audit.record(db, actor, A.CARD_SUSPENDED, f"person:{card.person_id}", card=card.serial, why=why[:100])
    return _view(card)


def restore_card(db: Session, ctx: CardContext, staff: Principal, serial: str) -> CardView:
    """一時停止の解除, by staff at the counter (after checking the holder's identity)."""
    _require(staff, Permission.IDENTITY_CARD_WRITE)
    card = _card(db, serial)
    if card.status != CardStatus.SUSPENDED.value:
        raise Conflict("Only a suspended card can be restored.", ja="一時停止中のカードのみ再開できます。")
    for cert in _live_certificates(card):
        ctx.trust.release_hold(db, cert, actor=staff.username)
    card.status, card.status_reason, card.updated_at = CardStatus.ACTIVE.value, None, ctx.clock.now()
    audit.record(db, staff.username, A.CARD_RESTORED, f"person:{card.person_id}", card=card.serial)
    return _view(card)


def reset_pin(
    db: Session, ctx: CardContext, staff: Principal, serial: str, slot: PinSlot, new_pin: str
) -> None:
    """暗証番号の再設定 at the counter, after a photo-ID check: a new PIN, the counter to zero, unlocked."""
    _require(staff, Permission.IDENTITY_PIN_RESET)
    card = _card(db, serial)
    if card.status == CardStatus.REVOKED.value:
        raise Conflict(
            "This card is revoked; its PINs cannot be re-set.",
            ja="廃止されたカードの暗証番号は再設定できません。",
        )
    chip_for(db, ctx, card.serial).reset_pin(slot, new_pin)
    audit.record(
        db, staff.username, A.PIN_RESET, f"person:{card.person_id}", card=card.serial, slot=slot.value
    )
