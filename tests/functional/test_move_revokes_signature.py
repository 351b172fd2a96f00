"""Done-when of the national-ID issue: recording a 転居 revokes the person's signature certificate; the CRL served
over HTTP lists it; a signature made before is reported "revoked at T" by verification (API and CLI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cryptography import x509
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tsunagu.identity.cards import services as cards
from tsunagu.identity.cards.chip import ChipKeys, SoftwareChip
from tsunagu.identity.core.pins import PinSlot
from tsunagu.kernel.clock import fixed_clock
from tsunagu.pki import api as pki

from .conftest import AUTH_PIN, DESK, SIGN_PIN, Holder


def test_a_move_revokes_the_signature_certificate_and_the_crl_lists_it(
    client: TestClient,
    web_app: FastAPI,
    pick_resident: Callable[..., int],
    api_token: Callable[[str], dict[str, str]],
) -> None:
    ctx = web_app.state.ctx
    trust: pki.TrustServices = ctx.extras["trust"]
    # The app's clock is fixed at NOW; the card was issued a day earlier, the document signed an hour earlier.
    issued = fixed_clock(ctx.clock.now() - dt.timedelta(days=1))
    person = pick_resident(head=True)
    with ctx.uow() as db:
        while cards.cards_of(db, person):  # a demo card holder: take someone else
            person = pick_resident(head=True)
        view = cards.issue_card(
            db,
            cards.card_context(ctx.settings, issued, pki.trust_services(ctx.settings, issued)),
            DESK,
            person,
            cards.CardPins(AUTH_PIN, AUTH_PIN, SIGN_PIN),
        )
    holder = Holder(person, view.serial)
    document = "転出届の控え (test)".encode()
    with ctx.uow() as db:
        chip = SoftwareChip(db, ChipKeys(ctx.settings.master_secret()), ctx.clock, holder.serial)
        signature = chip.sign(PinSlot.SIGNATURE, SIGN_PIN, document)
        sign_cert = chip.read_certificate(PinSlot.SIGNATURE)
        auth_cert = chip.read_certificate(PinSlot.AUTHENTICATION)
    serial = x509.load_der_x509_certificate(sign_cert).serial_number
    signed_at = ctx.clock.now() - dt.timedelta(hours=1)
    with ctx.uow() as db:
        before = trust.verify_signature(
            db, sign_cert, pki.CertificateKind.SIGNATURE, document, signature, signed_at
        )
    assert before.valid_signature
    assert before.revoked_at is None

    body = {
        "kind": "move_within",
        "effective_date": ctx.clock.today().isoformat(),
        "town": "辻堂一丁目",
        "block": "4番4号",
        "whole_household": True,
    }
    moved = client.post(f"/api/v1/residents/{holder.person_id}/events", json=body, headers=api_token("clerk"))
    assert moved.status_code in {200, 201}, moved.text

    crl_response = client.get("/pki/crl/signature.crl")
    assert crl_response.status_code == 200
    assert crl_response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(crl_response.content)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None, "the served CRL lists the revoked signature certificate"

    with ctx.uow() as db:
        after = trust.verify_signature(
            db, sign_cert, pki.CertificateKind.SIGNATURE, document, signature, signed_at
        )
        card = cards.get_card(db, holder.serial)
    assert after.valid_signature, "a signature made before the move stays a valid signature"
    assert after.revoked_at is not None
    assert after.revoked_at > signed_at
    assert "revoked" in after.message
    assert card.signature_revoked
    assert card.status == "active", "the card itself and its authentication certificate stay valid on a 転居"

    auth_crl = x509.load_der_x509_crl(client.get("/pki/crl/authentication.crl").content)
    assert (
        auth_crl.get_revoked_certificate_by_serial_number(
            x509.load_der_x509_certificate(auth_cert).serial_number
        )
        is None
    )
