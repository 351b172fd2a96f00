"""The card's IC chip as a component: the :class:`CardChip` protocol and :class:`SoftwareChip`, which keeps the
chip's state in database rows.

What the chip guarantees (as the real JPKI chip does):

- private keys are generated inside the chip and never leave it: no method returns key material; the stored
  form is AES-256-GCM under a key derived from the master secret and the card number;
- a PIN is checked inside the chip, against a keyed hash; the failure counter lives in the chip (a database
  row), so it survives processes and restarts; only a correct PIN or staff (``reset_pin``) reset it, never time;
- a locked PIN refuses even the correct PIN.

A failed attempt is *written* and then refused: the method records the failure in the caller's session and raises
:class:`WrongPin` or :class:`PinLocked`. The edge must commit that unit of work before it reports the refusal
(see :data:`PIN_REFUSALS`), as the staff login keeps its failed-login count.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.cards.models import Card, ChipRow, ChipSlotRow
from tsunagu.identity.core.card_rules import CardStatus, NoSignatureCertificate, check_usable
from tsunagu.identity.core.pins import PinCounter, PinLocked, PinSlot, WrongPin, check_new_pin, refusal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import KeyedHash, SealedBox, derive_key
from tsunagu.kernel.errors import NotFound

PIN_REFUSALS = (WrongPin, PinLocked)  # catch these inside the unit of work, commit, then report
CERTIFICATE_SLOTS = (PinSlot.AUTHENTICATION, PinSlot.SIGNATURE)


@dataclass(frozen=True)
class SurfaceData:
    """券面事項 as the 券面事項入力補助 application gives it. The My Number is left out: it never leaves the
    registry domain."""

    name: str
    name_kana: str
    address: str
    birth_date: dt.date
    sex: str


@dataclass(frozen=True)
class PinStatus:
    slot: PinSlot
    remaining: int
    locked: bool


@runtime_checkable
class CardChip(Protocol):
    """The operations a card's chip offers. :class:`SoftwareChip` implements it over database rows; a hardware
    card reader (PC/SC, APDUs to the JPKI application) could implement the same protocol unchanged: the callers
    never see where the keys and counters live."""

    @property
    def serial(self) -> str: ...

    def read_certificate(self, slot: PinSlot) -> bytes:
        """The X.509 certificate (DER) in a certificate slot."""
        ...

    def sign(self, slot: PinSlot, pin: str, data: bytes) -> bytes:
        """ECDSA-SHA256 signature (DER) of ``data`` with the slot's private key, after checking the slot's PIN."""
        ...

    def read_surface(self, pin: str) -> SurfaceData:
        """券面事項 (name, address, birth date, sex) after checking the 券面事項入力補助 PIN."""
        ...

    def pin_status(self, slot: PinSlot) -> PinStatus:
        """Tries left before the PIN locks, and whether it is locked (reading it costs no try)."""
        ...


@dataclass(frozen=True)
class ChipKeys:
    """Derives each chip's sealing and PIN-hashing keys from the master secret and the card number."""

    master: bytes = field(repr=False)

    def box(self, serial: str, slot: str) -> SealedBox:
        return SealedBox(
            derive_key(self.master, f"identity.chip.seal/{serial}"), f"identity.chip/{serial}/{slot}".encode()
        )

    def pin_hash(self, serial: str, slot: PinSlot, pin: str) -> bytes:
        # A keyed HMAC-SHA-256, not argon2 or PBKDF2: a PIN of 4 digits has 10^4 values, so no affordable work
        # factor protects it against someone holding the key; the key comes from the master secret, so a copy of
        # the database alone cannot test PINs at all. As on the real chip, the secrecy rests on the failure
        # counter (3 or 5 tries), and a PIN check stays in microseconds on the login path.
        key = derive_key(self.master, f"identity.chip.pin/{serial}")
        return KeyedHash(key).digest(f"{slot.value}\x00{pin}".encode())


class SoftwareChip:
    """A :class:`CardChip` whose state is in ``identity_card_chips`` and ``identity_card_chip_slots``.

    It works in the caller's session and never commits. It refuses every PIN operation while the card is
    suspended, revoked or expired (a hardware chip would learn this from the card record, not from itself)."""

    def __init__(self, db: Session, keys: ChipKeys, clock: Clock, serial: str) -> None:
        self._db = db
        self._keys = keys
        self._clock = clock
        self._serial = serial
        if db.get(ChipRow, serial) is None:
            raise NotFound("No such card.", ja="該当するカードはありません。")

    def __repr__(self) -> str:
        return f"SoftwareChip(serial={self._serial!r})"

    @property
    def serial(self) -> str:
        return self._serial

    # --- the CardChip protocol -------------------------------------------------------------------------------

    def read_certificate(self, slot: PinSlot) -> bytes:
        row = self._slot(slot)
        if row is None or row.certificate is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        return row.certificate

    def sign(self, slot: PinSlot, pin: str, data: bytes) -> bytes:
        if slot not in CERTIFICATE_SLOTS:
            raise NotFound(f"The {slot.value} slot holds no key.", ja="この領域には鍵がありません。")
        card = self._usable_card()
        row = self._slot(slot, for_update=True)
        if row is None or row.sealed_key is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        self._check_pin(card, row, slot, pin)
        key = serialization.load_der_private_key(
            self._keys.box(self._serial, slot.value).open(row.sealed_key), None
        )
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - only EC keys are generated
            msg = "unexpected key type in chip"
            raise TypeError(msg)
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
        if slot is PinSlot.SIGNATURE:
            audit.record(
                self._db,
                self._actor(card),
                audit.AuditAction.CARD_SIGNED,
                self._subject(card),
                bytes=len(data),
            )
        return signature

    def read_surface(self, pin: str) -> SurfaceData:
        card = self._usable_card()
        row = self._slot(PinSlot.SURFACE, for_update=True)
        if row is None:  # pragma: no cover - every chip is written with a surface slot
            raise NotFound("This card has no surface data.")
        self._check_pin(card, row, PinSlot.SURFACE, pin)
        chip = self._db.get(ChipRow, self._serial)
        if chip is None:  # pragma: no cover - checked when the chip was opened
            raise NotFound("No such card.")
        raw = json.loads(self._keys.box(self._serial, "surface").open(chip.surface_sealed))
        return SurfaceData(
            raw["name"],
            raw["name_kana"],
            raw["address"],
            dt.date.fromisoformat(raw["birth_date"]),
            raw["sex"],
        )

    def pin_status(self, slot: PinSlot) -> PinStatus:
        row = self._slot(slot)
        if row is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        counter = PinCounter(row.failures, row.locked)
        return PinStatus(slot, counter.remaining(slot), row.locked)

    # --- beyond the protocol: what the card desk's equipment does -----------------------------------------------

    def verify_pin(self, slot: PinSlot, pin: str) -> None:
        """Check a PIN without using a key (e.g. a re-authentication); counts like any attempt."""
        card = self._usable_card()
        row = self._slot(slot, for_update=True)
        if row is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        self._check_pin(card, row, slot, pin)

    def public_key(self, slot: PinSlot) -> bytes:
        """The slot's public key (SubjectPublicKeyInfo DER), for a certificate request."""
        row = self._slot(slot)
        if row is None or row.sealed_key is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        key = serialization.load_der_private_key(
            self._keys.box(self._serial, slot.value).open(row.sealed_key), None
        )
        return key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def reset_pin(self, slot: PinSlot, new_pin: str) -> None:
        """Staff re-set at the counter: a new PIN, the counter to zero, unlocked. Audited by the caller."""
        check_new_pin(slot, new_pin)
        row = self._slot(slot, for_update=True)
        if row is None:
            raise NoSignatureCertificate(under_age=True)  # the only card without the slot
        row.pin_hash = self._keys.pin_hash(self._serial, slot, new_pin)
        row.failures, row.locked = 0, False
        row.updated_at = self._clock.now()

    # --- internals --------------------------------------------------------------------------------------------

    def _slot(self, slot: PinSlot, *, for_update: bool = False) -> ChipSlotRow | None:
        # FOR UPDATE with a fresh read: two attempts at once on PostgreSQL count twice, never once
        key = (self._serial, slot.value)
        return self._db.get(ChipSlotRow, key, with_for_update=for_update, populate_existing=for_update)

    def _usable_card(self) -> Card:
        card = self._db.get(Card, self._serial)
        if card is None:  # pragma: no cover - a chip always has its card row
            raise NotFound("No such card.")
        check_usable(CardStatus(card.status), card.expires_on, self._clock.today())
        return card

    def _actor(self, card: Card) -> str:
        return f"card:{card.serial}"

    def _subject(self, card: Card) -> str:
        return f"person:{card.person_id}"

    def _check_pin(self, card: Card, row: ChipSlotRow, slot: PinSlot, pin: str) -> None:
        before = PinCounter(row.failures, row.locked)
        if before.locked:
            audit.record(
                self._db,
                self._actor(card),
                audit.AuditAction.PIN_REFUSED_LOCKED,
                self._subject(card),
                slot=slot.value,
            )
            self._db.flush()
            raise PinLocked(slot)
        expected = self._keys.pin_hash(self._serial, slot, pin)
        if hmac.compare_digest(expected, row.pin_hash):
            if before.failures:
                row.failures = 0
                row.updated_at = self._clock.now()
            return
        after = before.after_failure(slot)
        row.failures, row.locked = after.failures, after.locked
        row.updated_at = self._clock.now()
        action = audit.AuditAction.PIN_LOCKED if after.locked else audit.AuditAction.PIN_FAILED
        audit.record(
            self._db,
            self._actor(card),
            action,
            self._subject(card),
            slot=slot.value,
            failures=after.failures,
        )
        self._db.flush()
        raise refusal(slot, before, after)


@dataclass
class NewChip:
    """A chip personalised at issue but not yet stored: the caller certifies ``public_keys``, adds the card row,
    then :meth:`install` adds the chip rows with the certificates."""

    chip: ChipRow
    slots: dict[PinSlot, ChipSlotRow]
    public_keys: dict[PinSlot, bytes]

    def install(self, db: Session, certificates: dict[PinSlot, bytes]) -> None:
        db.add(self.chip)
        for slot, row in self.slots.items():
            row.certificate = certificates.get(slot)
            db.add(row)


def new_chip(
    keys: ChipKeys, clock: Clock, serial: str, surface: SurfaceData, pins: dict[PinSlot, str]
) -> NewChip:
    """Personalise a chip (at issue): seal the surface data, set each PIN, and generate a key pair inside the chip
    for each certificate slot given a PIN. Refuses a malformed PIN before generating anything."""
    for slot, pin in pins.items():
        check_new_pin(slot, pin)
    now = clock.now()
    chip = ChipRow(serial=serial, surface_sealed=_seal_surface(keys, serial, surface), surface_written_at=now)
    slots: dict[PinSlot, ChipSlotRow] = {}
    public: dict[PinSlot, bytes] = {}
    for slot, pin in pins.items():
        row = ChipSlotRow(
            serial=serial,
            slot=slot.value,
            pin_hash=keys.pin_hash(serial, slot, pin),
            failures=0,
            locked=False,
            updated_at=now,
        )
        if slot in CERTIFICATE_SLOTS:
            row.sealed_key, public[slot] = _new_key(keys, serial, slot)
        slots[slot] = row
    return NewChip(chip, slots, public)


def add_key_slot(db: Session, keys: ChipKeys, clock: Clock, serial: str, slot: PinSlot, pin: str) -> bytes:
    """Generate a fresh key pair in a certificate slot (a new signature certificate at 15, or after a change of
    name or address), with a new PIN; returns the public key to certify. The old key, if any, is destroyed."""
    check_new_pin(slot, pin)
    row = db.get(ChipSlotRow, (serial, slot.value), with_for_update=True, populate_existing=True)
    if row is None:
        row = ChipSlotRow(serial=serial, slot=slot.value)
        db.add(row)
    row.pin_hash = keys.pin_hash(serial, slot, pin)
    row.failures, row.locked, row.certificate = 0, False, None
    row.updated_at = clock.now()
    row.sealed_key, public = _new_key(keys, serial, slot)
    return public


def store_certificate(db: Session, serial: str, slot: PinSlot, der: bytes) -> None:
    row = db.get(ChipSlotRow, (serial, slot.value))
    if row is None:  # pragma: no cover - the slot is written just before
        raise NotFound("No such chip slot.")
    row.certificate = der


def rewrite_surface(db: Session, keys: ChipKeys, clock: Clock, serial: str, surface: SurfaceData) -> None:
    """券面事項の書き換え after a change of name or address (as the counter does on the real card)."""
    chip = db.get(ChipRow, serial)
    if chip is not None:
        chip.surface_sealed = _seal_surface(keys, serial, surface)
        chip.surface_written_at = clock.now()


def _seal_surface(keys: ChipKeys, serial: str, surface: SurfaceData) -> bytes:
    data = {
        "name": surface.name,
        "name_kana": surface.name_kana,
        "address": surface.address,
        "birth_date": surface.birth_date.isoformat(),
        "sex": surface.sex,
    }
    return keys.box(serial, "surface").seal(json.dumps(data, ensure_ascii=False).encode())


def _new_key(keys: ChipKeys, serial: str, slot: PinSlot) -> tuple[bytes, bytes]:
    """(sealed private key, public key DER). The private key object goes out of scope here."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return keys.box(serial, slot.value).seal(der), public
