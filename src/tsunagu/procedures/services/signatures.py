"""Signatures on applications: by the 署名用電子証明書 of the signer's own card.

A real client signs the bytes of :func:`applications.signing_input` with its card and sends the certificate and the
signature; the demo card reader (:func:`sign_with_demo_card`) plays that client on the server. Either way
:func:`verify_signed` checks the chain, the revocation status and the signature, and that the card is the signer's."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tsunagu.identity import api as identity
from tsunagu.kernel.errors import Forbidden, InvalidInput
from tsunagu.pki import api as pki
from tsunagu.procedures.context import ProceduresContext


@dataclass(frozen=True)
class Signed:
    """A signature by the signer's 署名用電子証明書 (base64 DER certificate and base64 DER ECDSA signature)."""

    certificate: str
    signature: str


def sign_with_demo_card(
    db: Session, pctx: ProceduresContext, person_id: int, pin: str, data: bytes
) -> Signed:
    """The demo card reader: the signer's own active card signs ``data`` with the signature key after the chip
    checks the signature PIN (refusals are raised after the chip wrote them: the caller commits first)."""
    serial = identity.active_card_of(db, person_id)
    if serial is None:
        raise Forbidden("You have no active My Number card.", ja="有効なマイナンバーカードがありません。")
    chip = identity.chip_for(db, pctx.cards, serial)
    signature = chip.sign(identity.PinSlot.SIGNATURE, pin, data)
    certificate = chip.read_certificate(identity.PinSlot.SIGNATURE)
    return Signed(base64.b64encode(certificate).decode(), base64.b64encode(signature).decode())


def verify_signed(db: Session, pctx: ProceduresContext, signer_id: int, data: bytes, signed: Signed) -> int:
    """Check a signature over ``data`` by the signer's own, valid 署名用 certificate; return its serial."""
    try:
        der = base64.b64decode(signed.certificate, validate=True)
        signature = base64.b64decode(signed.signature, validate=True)
    except ValueError:
        raise InvalidInput(
            "Malformed certificate or signature.", ja="証明書または署名の形式が正しくありません。"
        ) from None
    verdict = pctx.cards.trust.verify_signature(db, der, pki.CertificateKind.SIGNATURE, data, signature)
    if not verdict.valid_signature or verdict.certificate is None or verdict.revoked_at is not None:
        raise InvalidInput(verdict.message, ja=verdict.message_ja)
    card = identity.card_for_certificate(db, verdict.certificate.serial)
    if card is None or card.person_id != signer_id:
        raise Forbidden(
            "The signature is not made with your own card.", ja="ご本人のカードによる署名ではありません。"
        )
    return verdict.certificate.serial
