"""``tsunagu card ...``: the card desk and the card's chip from a terminal.

PINs are asked for with hidden input, or read from a file (``--pin-file``: the PIN on the first line; for
``issue``, ``--pins-file`` with ``authentication=…``, ``signature=…`` and ``surface=…`` lines); flags exist for
scripts. A refused PIN is committed (the chip's failure counter) before the refusal is reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.clikit import DATA_DIR_HELP, domain_errors, emit, fail, operator, settings_for
from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity.cards import services
from tsunagu.identity.cards.chip import PIN_REFUSALS
from tsunagu.identity.core.card_rules import may_hold_signature_certificate
from tsunagu.identity.core.pins import SLOT_NAMES_JA, PinSlot
from tsunagu.identity.models import StaffUser
from tsunagu.identity.services import principal_of
from tsunagu.kernel.access import Permission, Principal
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import DomainError, NotFound
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api

DataDir = Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]
PinFile = Annotated[Path | None, typer.Option("--pin-file", help="Read the PIN from this file (first line).")]
AuthPin = Annotated[str | None, typer.Option("--auth-pin", help="For scripts; else asked.")]
SignaturePin = Annotated[str | None, typer.Option("--signature-pin", help="For scripts.")]
SurfacePin = Annotated[str | None, typer.Option("--surface-pin", help="For scripts.")]
PinsFile = Annotated[
    Path | None, typer.Option("--pins-file", help="Lines authentication=…, signature=…, surface=….")
]
Staff = Annotated[str | None, typer.Option("--staff", help="Staff username acting at the counter (audited).")]
DESK_PERMISSIONS = (
    Permission.IDENTITY_CARD_READ,
    Permission.IDENTITY_CARD_WRITE,
    Permission.IDENTITY_PIN_RESET,
)


def _open(data_dir: Path | None) -> tuple[services.CardContext, sessionmaker[Session]]:
    settings = settings_for(data_dir)
    clock = Clock()
    return services.card_context(settings, clock), make_session_factory(make_engine(settings))


def _staff(db: Session, username: str | None) -> Principal:
    """The named staff account (its roles decide), or the operator at the terminal with the desk's rights."""
    if username is None:
        return operator(*DESK_PERMISSIONS)
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active:
        raise NotFound(f"No active staff account {username!r}.", ja="該当する職員アカウントはありません。")
    return principal_of(user)


def _read_pin(pin_file: Path | None, label: str, *, confirm: bool = False) -> str:
    if pin_file is not None:
        lines = pin_file.read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    return str(typer.prompt(label, hide_input=True, confirmation_prompt=confirm))


def _pins_file(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pins[key.strip()] = value.strip()
    return pins


def _card_data(card: services.CardView, today: dt.date) -> dict[str, Any]:
    return {
        "serial": card.display_serial,
        "person_id": card.person_id,
        "status": card.status_on(today).value,
        "status_reason": card.status_reason,
        "issued_on": card.issued_on.isoformat(),
        "expires_on": card.expires_on.isoformat(),
        "authentication_certificate": format(card.auth_cert_serial, "x"),
        "signature_certificate": format(card.signature_cert_serial, "x")
        if card.signature_cert_serial
        else None,
        "signature_valid": card.has_signature,
        "replaces": card.replaces,
    }


def _card_line(card: services.CardView, today: dt.date) -> str:
    sig = "signature ok" if card.has_signature else "no valid signature certificate"
    reason = f" ({card.status_reason})" if card.status_reason else ""
    return (
        f"{card.display_serial}  person {card.person_id}  {card.status_on(today).value}{reason}  "
        f"issued {card.issued_on}  valid to {card.expires_on}  {sig}"
    )


def _instant(text: str | None, as_json: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        fail("--signed-at must be an ISO 8601 time, e.g. 2026-11-26T10:00:00+09:00.", as_json=as_json)
    if at.tzinfo is None:
        fail("--signed-at needs a time zone offset (+09:00 or Z).", as_json=as_json)
    return at


@contextmanager
def _pin_attempt(factory: sessionmaker[Session], as_json: bool) -> Iterator[Session]:
    """A unit of work that commits a refused PIN (the chip's counter) and then reports the refusal."""
    refused: DomainError | None = None
    with domain_errors(as_json), unit_of_work(factory) as db:
        try:
            yield db
        except PIN_REFUSALS as exc:
            refused = exc
    if refused is not None:
        fail(refused.detail, as_json=as_json, error_code=refused.code)


def _ask_pins(
    adult: bool,
    auth_pin: str | None,
    signature_pin: str | None,
    surface_pin: str | None,
    pins_file: Path | None,
) -> services.CardPins:
    """The new card's PINs: from flags, a file, or asked (hidden, twice). No signature PIN under 15."""
    given = _pins_file(pins_file) if pins_file else {}
    auth = (
        auth_pin
        or given.get("authentication")
        or _read_pin(None, "利用者証明用暗証番号 (4 digits)", confirm=True)
    )
    surface = (
        surface_pin
        or given.get("surface")
        or _read_pin(None, "券面事項入力補助用暗証番号 (4 digits)", confirm=True)
    )
    signature = None
    if adult:
        signature = (
            signature_pin
            or given.get("signature")
            or _read_pin(None, "署名用暗証番号 (6-16 A-Z and digits)", confirm=True)
        )
    return services.CardPins(auth, surface, signature)


def build() -> typer.Typer:
    app = typer.Typer(help="My Number cards (マイナンバーカード) and their chip.", no_args_is_help=True)

    @app.command("issue")
    def issue_cmd(
        person_id: int,
        auth_pin: AuthPin = None,
        signature_pin: SignaturePin = None,
        surface_pin: SurfacePin = None,
        pins_file: PinsFile = None,
        staff: Staff = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Issue a card to a current resident: key pairs in the chip, certificates from the PKI."""
        ctx, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            facts = registry_api.basic_facts(db, person_id)
        adult = may_hold_signature_certificate(facts.birth_date, ctx.clock.today())
        pins = _ask_pins(adult, auth_pin, signature_pin, surface_pin, pins_file)
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.issue_card(db, ctx, _staff(db, staff), person_id, pins)
        note = "" if adult else " (under 15: no signature certificate)"
        emit(
            as_json,
            {"ok": True, **_card_data(card, ctx.clock.today())},
            f"issued card {card.display_serial}{note}",
        )

    @app.command("reissue")
    def reissue_cmd(
        serial: str,
        auth_pin: AuthPin = None,
        signature_pin: SignaturePin = None,
        surface_pin: SurfacePin = None,
        pins_file: PinsFile = None,
        staff: Staff = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """再交付: revoke the old card and its certificates (superseded) and issue a new card with new PINs."""
        ctx, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            old = services.get_card(db, serial)
            facts = registry_api.basic_facts(db, old.person_id)
        adult = may_hold_signature_certificate(facts.birth_date, ctx.clock.today())
        pins = _ask_pins(adult, auth_pin, signature_pin, surface_pin, pins_file)
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.reissue_card(db, ctx, _staff(db, staff), serial, pins)
        emit(
            as_json,
            {"ok": True, **_card_data(card, ctx.clock.today())},
            f"issued card {card.display_serial}, replacing {old.display_serial} (revoked)",
        )

    @app.command("show")
    def show_cmd(
        serial: Annotated[str | None, typer.Argument(help="Card number")] = None,
        person: Annotated[int | None, typer.Option("--person", help="Every card of this person.")] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """One card, or every card a person has held (newest first)."""
        if (serial is None) == (person is None):
            fail("Give a card number or --person ID (one of them).", as_json=as_json)
        ctx, factory = _open(data_dir)
        today = ctx.clock.today()
        with domain_errors(as_json), unit_of_work(factory) as db:
            found = [services.get_card(db, serial)] if serial else services.cards_of(db, person or 0)
        emit(
            as_json,
            {"ok": True, "cards": [_card_data(c, today) for c in found]},
            "\n".join(_card_line(c, today) for c in found) or "no cards",
        )

    @app.command("status")
    def status_cmd(serial: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
        """Card status and the tries left on each PIN (reading them costs no try)."""
        ctx, factory = _open(data_dir)
        today = ctx.clock.today()
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.get_card(db, serial)
            chip = services.chip_for(db, ctx, serial)
            slots = [s for s in PinSlot if s is not PinSlot.SIGNATURE or card.signature_cert_serial]
            pins = [chip.pin_status(s) for s in slots]
        data = {
            **_card_data(card, today),
            "pins": {p.slot.value: {"remaining": p.remaining, "locked": p.locked} for p in pins},
        }
        lines = [_card_line(card, today)]
        lines += [
            f"  {p.slot.value:<15} {'LOCKED' if p.locked else f'{p.remaining} tries left'}  ({SLOT_NAMES_JA[p.slot]})"
            for p in pins
        ]
        emit(as_json, {"ok": True, **data}, "\n".join(lines))

    @app.command("sign")
    def sign_cmd(
        serial: str,
        infile: Annotated[Path, typer.Option("--in", help="The file to sign.")],
        out: Annotated[Path, typer.Option("--out", help="Where to write the DER ECDSA-SHA256 signature.")],
        slot: Annotated[PinSlot, typer.Option("--slot")] = PinSlot.SIGNATURE,
        pin_file: PinFile = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Sign a file with the card's signature key (or authentication key), after the PIN."""
        if slot is PinSlot.SURFACE:
            fail("The surface slot holds no key: use --slot signature or authentication.", as_json=as_json)
        ctx, factory = _open(data_dir)
        data = infile.read_bytes()
        pin = _read_pin(pin_file, f"{SLOT_NAMES_JA[slot]}の暗証番号")
        signature = b""
        with _pin_attempt(factory, as_json) as db:
            signature = services.chip_for(db, ctx, serial).sign(slot, pin, data)
        out.write_bytes(signature)
        emit(
            as_json,
            {"ok": True, "signature": str(out), "bytes": len(signature)},
            f"signature written to {out}",
        )

    @app.command("verify")
    def verify_cmd(
        infile: Annotated[Path, typer.Option("--in", help="The signed file.")],
        sig: Annotated[Path, typer.Option("--sig", help="The DER signature.")],
        cert: Annotated[Path | None, typer.Option("--cert", help="The signer's certificate (DER).")] = None,
        serial: Annotated[str | None, typer.Option("--serial", help="Or the card number.")] = None,
        slot: Annotated[PinSlot, typer.Option("--slot")] = PinSlot.SIGNATURE,
        signed_at: Annotated[
            str | None, typer.Option("--signed-at", help="When it was signed (ISO 8601; default now).")
        ] = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Check a signature: valid, valid but the certificate was revoked since (at T), or invalid (exit 1)."""
        if (cert is None) == (serial is None) or slot is PinSlot.SURFACE:
            fail("Give --cert FILE or --serial CARD (one of them), and a certificate slot.", as_json=as_json)
        ctx, factory = _open(data_dir)
        kind = pki.CertificateKind(slot.value)
        at = _instant(signed_at, as_json)
        with domain_errors(as_json), unit_of_work(factory) as db:
            der = (
                cert.read_bytes() if cert else services.chip_for(db, ctx, serial or "").read_certificate(slot)
            )
            verdict = ctx.trust.verify_signature(db, der, kind, infile.read_bytes(), sig.read_bytes(), at)
        revoked = verdict.revoked_at.isoformat() if verdict.revoked_at else None
        data = {"ok": verdict.valid_signature, "valid": verdict.valid_signature, "revoked_at": revoked}
        if not verdict.valid_signature:
            fail(verdict.message, as_json=as_json, error_code="invalid-signature")
        human = f"valid (the certificate was revoked at {revoked}, after signing)" if revoked else "valid"
        emit(as_json, {**data, "message": verdict.message}, human)

    @app.command("unlock")
    def unlock_cmd(
        serial: str,
        slot: Annotated[PinSlot, typer.Option("--slot")],
        staff: Annotated[str, typer.Option("--staff", help="Staff username (after a photo-ID check).")],
        pin_file: PinFile = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """Re-set a PIN at the counter: a new PIN, the failure counter to zero (audited)."""
        ctx, factory = _open(data_dir)
        pin = _read_pin(pin_file, f"新しい{SLOT_NAMES_JA[slot]}の暗証番号", confirm=True)
        with domain_errors(as_json), unit_of_work(factory) as db:
            services.reset_pin(db, ctx, _staff(db, staff), serial, slot, pin)
        emit(as_json, {"ok": True, "slot": slot.value}, f"{slot.value} PIN re-set; 0 failures, unlocked")

    @app.command("suspend")
    def suspend_cmd(
        serial: str,
        why: Annotated[str, typer.Option("--why")] = "holder's request",
        staff: Staff = None,
        data_dir: DataDir = None,
        as_json: AsJson = False,
    ) -> None:
        """一時停止: stop the card now (its certificates on hold, the holder's sessions ended)."""
        ctx, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.suspend_card(db, ctx, serial, _staff(db, staff).username, why)
        emit(
            as_json,
            {"ok": True, **_card_data(card, ctx.clock.today())},
            f"card {card.display_serial} suspended",
        )

    @app.command("restore")
    def restore_cmd(
        serial: str, staff: Staff = None, data_dir: DataDir = None, as_json: AsJson = False
    ) -> None:
        """Restore a suspended card (staff at the counter; audited)."""
        ctx, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.restore_card(db, ctx, _staff(db, staff), serial)
        emit(
            as_json,
            {"ok": True, **_card_data(card, ctx.clock.today())},
            f"card {card.display_serial} restored",
        )

    @app.command("report-loss")
    def report_loss_cmd(
        serial: str, staff: Staff = None, data_dir: DataDir = None, as_json: AsJson = False
    ) -> None:
        """紛失届: revoke both certificates and the card."""
        ctx, factory = _open(data_dir)
        with domain_errors(as_json), unit_of_work(factory) as db:
            card = services.report_loss(db, ctx, serial, _staff(db, staff).username)
        emit(
            as_json,
            {"ok": True, **_card_data(card, ctx.clock.today())},
            f"card {card.display_serial} revoked (lost)",
        )

    return app
