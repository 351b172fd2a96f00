"""My Number cards and the software chip on a real database (SQLite and PostgreSQL): issue, PIN lockout that
survives sessions, staff re-set, keys that never leave the chip, and what registry events do to a card."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.audit.models import AuditEntry
from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.db.models_registry import metadata
from tsunagu.identity.cards import chip as chip_module
from tsunagu.identity.cards import events
from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import PIN_REFUSALS, ChipKeys, SoftwareChip
from tsunagu.identity.core.card_rules import (
    CardExpired,
    CardRevoked,
    CardStatus,
    CardSuspended,
    NoSignatureCertificate,
    card_expiry,
)
from tsunagu.identity.core.pins import InvalidPin, PinCounter, PinLocked, PinSlot, WrongPin
from tsunagu.identity.core.roles import Role, permissions_for
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import JST, Clock, fixed_clock
from tsunagu.kernel.errors import Conflict, Forbidden
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api
from tsunagu.registry.api import registry_context
from tsunagu.registry.core.types import EventKind
from tsunagu.registry.services.records import Filing, NewAddress, RegistryContext, record_event
from tsunagu.settings import Settings

from ..conftest import move_in, person

TODAY = dt.date(2026, 11, 26)
AUTH, SIGN, SURFACE = PinSlot.AUTHENTICATION, PinSlot.SIGNATURE, PinSlot.SURFACE
PINS = cards.CardPins(authentication="1234", surface="5678", signature="ABC123")
DESK = Principal(7, "desk-staff", "Card Desk", permissions_for([Role.CARD_DESK]))


@pytest.fixture
def trust(settings: Settings, clock: Clock) -> pki.TrustServices:
    return pki.trust_services(settings, clock)


@pytest.fixture
def card_ctx(settings: Settings, clock: Clock, trust: pki.TrustServices) -> cards.CardContext:
    return cards.CardContext(ChipKeys(settings.master_secret()), clock, trust)


@pytest.fixture
def reg(settings: Settings, clock: Clock, trust: pki.TrustServices) -> RegistryContext:
    """A registry context wired with the cards listener, as the shell wires it."""
    return registry_context(
        settings, clock, [events.registry_listener(trust, ChipKeys(settings.master_secret()))]
    )


@pytest.fixture
def resident(session_factory: sessionmaker[Session], reg: RegistryContext) -> Callable[..., int]:
    def make(birth: dt.date = dt.date(1980, 4, 1), **kw: Any) -> int:
        with session_factory.begin() as db:
            return move_in(db, reg, person(birth=birth, **kw))

    return make


@pytest.fixture
def issued(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, resident: Callable[..., int]
) -> cards.CardView:
    pid = resident()
    with session_factory.begin() as db:
        return cards.issue_card(db, card_ctx, DESK, pid, PINS)


def attempt(factory: sessionmaker[Session], action: Callable[[Session], object]) -> Exception | object:
    """Run ``action`` the way the edge does: a refused PIN is committed before it is reported."""
    with factory.begin() as db:
        try:
            return action(db)
        except PIN_REFUSALS as exc:
            return exc


def actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as db:
        return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_issue_an_adult_card_with_both_certificates(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    issued: cards.CardView,
) -> None:
    assert issued.status is CardStatus.ACTIVE
    assert issued.issued_on == TODAY
    assert issued.expires_on == card_expiry(TODAY, dt.date(1980, 4, 1)) == dt.date(2036, 4, 1)
    assert len(issued.serial) == 12
    assert issued.signature_cert_serial is not None
    with session_factory() as db:
        chip = cards.chip_for(db, card_ctx, issued.display_serial)
        auth = trust.verify(db, chip.read_certificate(AUTH), pki.CertificateKind.AUTHENTICATION)
        sig = trust.verify(db, chip.read_certificate(SIGN), pki.CertificateKind.SIGNATURE)
        assert auth.holder == sig.holder == f"card:{issued.serial}"
        assert auth.serial == issued.auth_cert_serial
        assert auth.facts is None
        assert sig.facts is not None
        assert sig.facts.name == "山田\u3000太郎"
        assert sig.facts.birth_date == dt.date(1980, 4, 1)
        assert sig.not_after.astimezone(JST).date() == dt.date(2031, 4, 1)  # 5th birthday after issue
        assert cards.card_for_certificate(db, auth.serial) == issued
        assert cards.card_for_certificate(db, sig.serial) == issued
        assert cards.card_for_certificate(db, 12345) is None
        surface = chip.read_surface("5678")
        assert (surface.name, surface.birth_date, surface.sex) == ("山田 太郎", dt.date(1980, 4, 1), "male")
        assert not hasattr(surface, "my_number")
    assert "identity:card:issue" in actions(session_factory)


def test_sign_and_verify(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    issued: cards.CardView,
) -> None:
    data = "転出届".encode()
    with session_factory.begin() as db:
        chip = cards.chip_for(db, card_ctx, issued.serial)
        signature = chip.sign(SIGN, "ABC123", data)
        der = chip.read_certificate(SIGN)
        verdict = trust.verify_signature(db, der, pki.CertificateKind.SIGNATURE, data, signature)
        assert verdict.valid_signature
        assert not trust.verify_signature(
            db, der, pki.CertificateKind.SIGNATURE, b"other", signature
        ).valid_signature
    assert "identity:card:sign" in actions(session_factory)


def test_under_15_gets_no_signature_certificate(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, resident: Callable[..., int]
) -> None:
    birth = dt.date(2014, 6, 1)  # 12 at issue
    pid = resident(birth=birth, given="花子", given_kana="ハナコ")
    with session_factory.begin() as db:
        card = cards.issue_card(db, card_ctx, DESK, pid, PINS)
    assert card.signature_cert_serial is None
    assert card.expires_on == dt.date(2031, 6, 1)  # a minor's card: 5th birthday after issue
    with session_factory.begin() as db:
        chip = cards.chip_for(db, card_ctx, card.serial)
        with pytest.raises(NoSignatureCertificate, match="under 15"):
            chip.sign(SIGN, "ABC123", b"x")
        chip.sign(AUTH, "1234", b"challenge")  # the authentication certificate is there
        with pytest.raises(NoSignatureCertificate, match="under 15") as info:
            cards.add_signature_certificate(db, card_ctx, DESK, card.serial, "ABC123")
        assert info.value.code == "no-signature-certificate"


def test_three_wrong_authentication_pins_lock_and_the_correct_one_is_then_refused(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, issued: cards.CardView
) -> None:
    def sign(pin: str) -> Callable[[Session], object]:
        return lambda db: cards.chip_for(db, card_ctx, issued.serial).sign(AUTH, pin, b"nonce")

    first, second, third = (attempt(session_factory, sign("0000")) for _ in range(3))
    assert isinstance(first, WrongPin)
    assert first.remaining == 2
    assert first.code == "wrong-pin"
    assert isinstance(second, WrongPin)
    assert second.remaining == 1
    assert isinstance(third, PinLocked)
    assert third.code == "pin-locked"
    assert "counter" in third.detail
    assert "窓口" in (third.detail_ja or "")
    fourth = attempt(session_factory, sign("1234"))
    assert isinstance(fourth, PinLocked)
    with session_factory() as db:
        status = cards.chip_for(db, card_ctx, issued.serial).pin_status(AUTH)
    assert (status.remaining, status.locked) == (0, True)
    assert [a for a in actions(session_factory) if a.startswith("identity:pin")] == [
        "identity:pin:fail",
        "identity:pin:fail",
        "identity:pin:lock",
        "identity:pin:refuse_locked",
    ]


def test_five_wrong_signature_pins_lock(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, issued: cards.CardView
) -> None:
    def sign(pin: str) -> Callable[[Session], object]:
        return lambda db: cards.chip_for(db, card_ctx, issued.serial).sign(SIGN, pin, b"doc")

    results = [attempt(session_factory, sign("WRONG1")) for _ in range(5)]
    assert [r.remaining for r in results[:4] if isinstance(r, WrongPin)] == [4, 3, 2, 1]
    assert isinstance(results[4], PinLocked)
    assert isinstance(attempt(session_factory, sign("ABC123")), PinLocked)
    with session_factory() as db:  # the other PINs are untouched
        chip = cards.chip_for(db, card_ctx, issued.serial)
        assert chip.pin_status(AUTH).remaining == 3
        assert chip.pin_status(SURFACE).remaining == 3


def test_a_correct_pin_resets_the_count_but_time_does_not(
    session_factory: sessionmaker[Session],
    settings: Settings,
    card_ctx: cards.CardContext,
    issued: cards.CardView,
) -> None:
    def read(pin: str) -> Callable[[Session], object]:
        return lambda db: cards.chip_for(db, card_ctx, issued.serial).read_surface(pin)

    assert isinstance(attempt(session_factory, read("0000")), WrongPin)
    assert isinstance(attempt(session_factory, read("0000")), WrongPin)
    later = cards.CardContext(card_ctx.keys, fixed_clock(dt.datetime(2027, 6, 1, tzinfo=JST)), card_ctx.trust)
    # a new engine and session, as another process a long time later would open
    engine = make_engine(settings)
    try:
        other = make_session_factory(engine)
        with other() as db:
            assert cards.chip_for(db, later, issued.serial).pin_status(SURFACE).remaining == 1
        assert isinstance(attempt(other, read("5678")), chip_module.SurfaceData)
        with other() as db:
            assert cards.chip_for(db, later, issued.serial).pin_status(SURFACE).remaining == 3
    finally:
        engine.dispose()


def test_counters_survive_a_new_process(
    session_factory: sessionmaker[Session],
    settings: Settings,
    card_ctx: cards.CardContext,
    issued: cards.CardView,
) -> None:
    assert isinstance(
        attempt(
            session_factory, lambda db: cards.chip_for(db, card_ctx, issued.serial).verify_pin(AUTH, "9999")
        ),
        WrongPin,
    )
    engine = make_engine(settings)
    try:
        other = make_session_factory(engine)
        fresh = cards.CardContext(ChipKeys(settings.master_secret()), card_ctx.clock, card_ctx.trust)
        with other() as db:
            assert cards.chip_for(db, fresh, issued.serial).pin_status(AUTH).remaining == 2
    finally:
        engine.dispose()


def test_staff_unlock_resets_the_counter_and_sets_a_new_pin(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, issued: cards.CardView
) -> None:
    for _ in range(3):
        attempt(
            session_factory, lambda db: cards.chip_for(db, card_ctx, issued.serial).verify_pin(AUTH, "0000")
        )
    with session_factory.begin() as db:
        with pytest.raises(InvalidPin, match="4 digits"):
            cards.reset_pin(db, card_ctx, DESK, issued.serial, AUTH, "12345")
        clerk = Principal(2, "clerk", "Clerk", permissions_for([Role.REGISTRY_CLERK]))
        with pytest.raises(Forbidden):
            cards.reset_pin(db, card_ctx, clerk, issued.serial, AUTH, "4321")
        cards.reset_pin(db, card_ctx, DESK, issued.serial, AUTH, "4321")
    with session_factory.begin() as db:
        chip = cards.chip_for(db, card_ctx, issued.serial)
        assert chip.pin_status(AUTH).remaining == 3
        chip.sign(AUTH, "4321", b"nonce")
    assert isinstance(
        attempt(
            session_factory, lambda db: cards.chip_for(db, card_ctx, issued.serial).verify_pin(AUTH, "1234")
        ),
        WrongPin,
    )
    with session_factory() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "identity:pin:reset")).one()
    assert (entry.actor, entry.subject, entry.detail["slot"]) == (
        "desk-staff",
        f"person:{issued.person_id}",
        "authentication",
    )


def test_the_chip_never_exposes_its_private_keys(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    resident: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generated: list[ec.EllipticCurvePrivateKey] = []
    real = ec.generate_private_key

    def capture(curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
        key = real(curve)
        generated.append(key)
        return key

    monkeypatch.setattr(ec, "generate_private_key", capture)  # the module the chip generates keys with
    pid = resident()
    with session_factory.begin() as db:
        card = cards.issue_card(db, card_ctx, DESK, pid, PINS)
    card_keys = generated[-2:]  # the authentication and signature keys (the CA keys came first)
    secrets = []
    for key in card_keys:
        secrets.append(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        secrets.append(key.private_numbers().private_value.to_bytes(32, "big"))
    with session_factory() as db:
        for table in metadata.sorted_tables:
            for row in db.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | str):
                        blob = value if isinstance(value, bytes) else value.encode()
                        assert not any(s in blob for s in secrets), f"private key material in {table.name}"
        chip = cards.chip_for(db, card_ctx, card.serial)
        assert isinstance(chip, chip_module.CardChip)
        outputs: list[object] = [chip.read_certificate(AUTH), chip.read_certificate(SIGN), repr(chip)]
        outputs += [chip.public_key(AUTH), chip.sign(AUTH, "1234", b"x")]
        outputs += [getattr(chip, name) for name in dir(chip) if not name.startswith("_")]
        for out in outputs:
            blob = out if isinstance(out, bytes) else repr(out).encode()
            assert not any(s in blob or s.hex().encode() in blob for s in secrets)
        public = [n for n in dir(SoftwareChip) if not n.startswith("_")]
        assert sorted(public) == sorted(
            [
                "serial",
                "read_certificate",
                "sign",
                "read_surface",
                "pin_status",
                "verify_pin",
                "public_key",
                "reset_pin",
            ]
        )


def _record(db: Session, reg: RegistryContext, pid: int, kind: EventKind, **kw: Any) -> None:
    record_event(db, reg, pid, kind, TODAY, Filing("test-clerk"), **kw)


def test_a_move_within_revokes_the_signature_certificate_only(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    reg: RegistryContext,
    issued: cards.CardView,
) -> None:
    with session_factory.begin() as db:
        _record(db, reg, issued.person_id, EventKind.MOVE_WITHIN, address=NewAddress("辻堂", "3番4号"))
    assert issued.signature_cert_serial is not None
    with session_factory.begin() as db:
        sig = trust.status(db, issued.signature_cert_serial)
        assert (sig.state, sig.reason) == ("revoked", "affiliation_changed")
        assert trust.status(db, issued.auth_cert_serial).state == "good"
        card = cards.get_card(db, issued.serial)
        assert card.status is CardStatus.ACTIVE
        assert card.signature_revoked
        assert not card.has_signature
        chip = cards.chip_for(db, card_ctx, issued.serial)
        assert "辻堂" in chip.read_surface("5678").address  # the surface is rewritten, as at the counter
        with pytest.raises(pki.CertificateRevoked):
            trust.verify(db, chip.read_certificate(SIGN), pki.CertificateKind.SIGNATURE)
        # a new signature certificate at the counter
        renewed = cards.add_signature_certificate(db, card_ctx, DESK, issued.serial, "NEW456")
        assert renewed.has_signature
        assert renewed.signature_cert_serial != issued.signature_cert_serial
        sig2 = trust.verify(db, chip.read_certificate(SIGN), pki.CertificateKind.SIGNATURE)
        assert sig2.facts is not None
        assert "辻堂" in sig2.facts.address
        chip.sign(SIGN, "NEW456", b"doc")


def test_death_revokes_both_certificates_and_the_card(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    reg: RegistryContext,
    issued: cards.CardView,
) -> None:
    with session_factory.begin() as db:
        _record(db, reg, issued.person_id, EventKind.DEATH)
    assert issued.signature_cert_serial is not None
    with session_factory.begin() as db:
        for serial in (issued.auth_cert_serial, issued.signature_cert_serial):
            status = trust.status(db, serial)
            assert (status.state, status.reason) == ("revoked", "cessation_of_operation")
        card = cards.get_card(db, issued.serial)
        assert (card.status, card.status_reason) == (CardStatus.REVOKED, "death")
        with pytest.raises(CardRevoked):
            cards.chip_for(db, card_ctx, issued.serial).sign(AUTH, "1234", b"x")


def test_the_card_moves_with_its_holder_and_the_move_in_revokes_the_signature_only(
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    reg: RegistryContext,
    issued: cards.CardView,
) -> None:
    """継続利用: a 転出 to another municipality of the platform keeps the card and both certificates live; the
    特例転入 at the destination changes the address, which revokes the signature certificate, as a 転居 does."""
    destination = registry_context(
        settings,
        clock,
        [events.registry_listener(trust, ChipKeys(settings.master_secret()))],
        municipality_code="131016",
    )
    assert issued.signature_cert_serial is not None
    with session_factory.begin() as db:
        _record(db, reg, issued.person_id, EventKind.MOVE_OUT, to_lg_code="131016")
    with session_factory.begin() as db:
        for serial in (issued.auth_cert_serial, issued.signature_cert_serial):
            assert trust.status(db, serial).state == "good"
        assert cards.get_card(db, issued.serial).status is CardStatus.ACTIVE
        cards.chip_for(db, card_ctx, issued.serial).sign(AUTH, "1234", b"at the destination counter")
    with session_factory.begin() as db:
        registry_api.record_move_in_existing(
            db,
            destination,
            [issued.person_id],
            NewAddress("丸の内一丁目", "1-2-3"),
            TODAY,
            Filing("destination-clerk"),
            from_lg_code="142051",
        )
    with session_factory.begin() as db:
        assert trust.status(db, issued.auth_cert_serial).state == "good"
        sig = trust.status(db, issued.signature_cert_serial)
        assert (sig.state, sig.reason) == ("revoked", "affiliation_changed")
        crl = x509.load_der_x509_crl(trust.crl(db, pki.CertificateKind.SIGNATURE))
        assert crl.get_revoked_certificate_by_serial_number(issued.signature_cert_serial) is not None
        card = cards.get_card(db, issued.serial)
        assert card.status is CardStatus.ACTIVE
        assert card.signature_revoked
        chip = cards.chip_for(db, card_ctx, issued.serial)
        assert "千代田区丸の内一丁目" in chip.read_surface("5678").address
        chip.sign(AUTH, "1234", b"still the same card")
        with pytest.raises(pki.CertificateRevoked):
            trust.verify(db, chip.read_certificate(SIGN), pki.CertificateKind.SIGNATURE)


def test_report_loss_revokes_everything_and_reissue_supersedes(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    issued: cards.CardView,
) -> None:
    with session_factory.begin() as db:
        lost = cards.report_loss(db, card_ctx, issued.serial, f"person:{issued.person_id}")
        assert lost.status is CardStatus.REVOKED
        assert trust.status(db, issued.auth_cert_serial).reason == "key_compromise"
        with pytest.raises(Conflict):
            cards.report_loss(db, card_ctx, issued.serial, "desk-staff")
        new = cards.reissue_card(db, card_ctx, DESK, issued.serial, PINS)
        assert new.replaces == issued.serial
        assert new.status is CardStatus.ACTIVE
        assert next(c.serial for c in cards.cards_of(db, issued.person_id)) == new.serial
        with pytest.raises(Conflict, match="already holds"):
            cards.issue_card(db, card_ctx, DESK, issued.person_id, PINS)
        again = cards.reissue_card(db, card_ctx, DESK, new.serial, PINS)
        assert trust.status(db, new.auth_cert_serial).reason == "superseded"
        assert cards.get_card(db, new.serial).status_reason == "reissued"
        assert again.replaces == new.serial
    acts = actions(session_factory)
    assert "identity:card:report_loss" in acts
    assert "identity:card:reissue" in acts


def test_suspend_and_restore(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    trust: pki.TrustServices,
    issued: cards.CardView,
) -> None:
    with session_factory.begin() as db:
        cards.suspend_card(db, card_ctx, issued.serial, f"person:{issued.person_id}")
    with session_factory.begin() as db:
        assert trust.status(db, issued.auth_cert_serial).reason == "certificate_hold"
        with pytest.raises(CardSuspended):
            cards.chip_for(db, card_ctx, issued.serial).sign(AUTH, "1234", b"x")
        with pytest.raises(Forbidden):  # a resident cannot restore their own card
            cards.restore_card(db, card_ctx, Principal(9, "x", "x", frozenset()), issued.serial)
        cards.restore_card(db, card_ctx, DESK, issued.serial)
    with session_factory.begin() as db:
        assert trust.status(db, issued.auth_cert_serial).state == "good"
        cards.chip_for(db, card_ctx, issued.serial).sign(AUTH, "1234", b"x")
    acts = actions(session_factory)
    assert "identity:card:suspend" in acts
    assert "identity:card:restore" in acts
    assert "identity:citizen_session:end_all" in acts


def test_refusals_write_nothing(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    reg: RegistryContext,
    resident: Callable[..., int],
) -> None:
    pid = resident()
    with session_factory() as db:
        with pytest.raises(InvalidPin, match="6 to 16"):
            cards.issue_card(db, card_ctx, DESK, pid, cards.CardPins("1234", "5678", "abc123"))
        with pytest.raises(InvalidPin, match="Set a signature PIN"):
            cards.issue_card(db, card_ctx, DESK, pid, cards.CardPins("1234", "5678"))
        with pytest.raises(InvalidPin, match="4 digits"):
            cards.issue_card(db, card_ctx, DESK, pid, cards.CardPins("12a4", "5678", "ABC123"))
        assert cards.cards_of(db, pid) == []
        db.rollback()
    with session_factory.begin() as db:
        _record(db, reg, pid, EventKind.DEATH)
    with session_factory() as db, pytest.raises(Conflict, match="current residents"):
        cards.issue_card(db, card_ctx, DESK, pid, PINS)


def test_an_expired_card_is_refused(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, issued: cards.CardView
) -> None:
    after = dt.datetime.combine(issued.expires_on + dt.timedelta(days=1), dt.time(9), JST)
    late = cards.CardContext(card_ctx.keys, fixed_clock(after), card_ctx.trust)
    with session_factory() as db:
        with pytest.raises(CardExpired):
            cards.chip_for(db, late, issued.serial).sign(AUTH, "1234", b"x")
        assert cards.get_card(db, issued.serial).status_on(after.date()) is CardStatus.EXPIRED


def test_demo_cards_are_issued_once(
    session_factory: sessionmaker[Session], card_ctx: cards.CardContext, resident: Callable[..., int]
) -> None:
    people = [resident(), resident(birth=dt.date(2015, 1, 1))]
    with session_factory.begin() as db:
        made = cards.issue_demo_cards(db, card_ctx, people, PINS)
        assert [c.has_signature for c in made] == [True, False]
        assert cards.issue_demo_cards(db, card_ctx, people, PINS) == []


@hypothesis.settings(
    max_examples=20, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    attempts=st.lists(st.tuples(st.sampled_from([AUTH, SIGN, SURFACE]), st.booleans()), max_size=14)
)
def test_the_chip_counts_as_the_pure_rules_say(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    issued: cards.CardView,
    attempts: list[tuple[PinSlot, bool]],
) -> None:
    """Any sequence of right and wrong PINs leaves each counter where :class:`PinCounter` says, and each attempt
    is refused exactly when the model refuses it."""
    right = {AUTH: "1234", SIGN: "ABC123", SURFACE: "5678"}
    model = {slot: PinCounter() for slot in right}
    with session_factory() as db:  # rolled back at the end: every example starts from the fresh card
        chip = cards.chip_for(db, card_ctx, issued.serial)
        for slot, correct in attempts:
            before = model[slot]
            refused: Exception | None = None
            try:
                chip.verify_pin(slot, right[slot] if correct else "WRONG9")
            except PIN_REFUSALS as exc:
                refused = exc
            if before.locked or not correct:
                model[slot] = before if before.locked else before.after_failure(slot)
                expected = PinLocked if model[slot].locked else WrongPin
                assert type(refused) is expected
            else:
                assert refused is None
                model[slot] = before.after_success()
            status = chip.pin_status(slot)
            assert (status.remaining, status.locked) == (model[slot].remaining(slot), model[slot].locked)
        db.rollback()


def test_simultaneous_attempts_each_count(
    session_factory: sessionmaker[Session],
    card_ctx: cards.CardContext,
    issued: cards.CardView,
    db_backend: str,
) -> None:
    """On PostgreSQL the chip reads its counter FOR UPDATE: a second attempt waits for the first and counts too."""
    if db_backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    first = session_factory()
    try:
        with pytest.raises(WrongPin):
            cards.chip_for(first, card_ctx, issued.serial).verify_pin(AUTH, "0000")
        outcome: dict[str, object] = {}

        def second() -> None:
            outcome["result"] = attempt(
                session_factory,
                lambda db: cards.chip_for(db, card_ctx, issued.serial).verify_pin(AUTH, "0001"),
            )

        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive()  # blocked on the row lock
        first.commit()
    finally:
        first.close()
    waiter.join(10)
    result = outcome["result"]
    assert isinstance(result, WrongPin)
    assert result.remaining == 1
