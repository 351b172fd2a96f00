"""What a registry event does to a person's cards (the listener the shell adds to ``RegistryContext.listeners``,
called in the recording transaction): a death revokes both certificates and the card; a change of name or address
(転居, 職権修正, and the 転入 that re-opens the record at the destination) revokes the signature certificate, which
carries the old facts, and rewrites the chip's surface data.

A 転出 to another municipality revokes nothing: the card and both certificates stay live, so the holder can show
the card at the destination's counter and keep using it there (継続利用, 特例転入 under 住民基本台帳法 art. 24-2).
The signature certificate goes when the 転入 records the new address; the authentication certificate, which
carries no personal facts, carries on."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity.cards.chip import ChipKeys, rewrite_surface
from tsunagu.identity.cards.models import Card
from tsunagu.identity.cards.services import LIVE, revoke_certificates, surface_of
from tsunagu.identity.core.card_rules import CardStatus
from tsunagu.kernel.clock import Clock
from tsunagu.pki import api as pki
from tsunagu.registry import api as registry_api

A = audit.AuditAction
GONE = {registry_api.EventKind.DEATH: "death"}  # a 転出 is not here: the card moves with its holder


def registry_listener(
    trust: pki.TrustServices, keys: ChipKeys | None = None
) -> Callable[[Session, registry_api.RegistryChange], None]:
    """The listener the shell passes to ``RegistryContext.listeners``. On a death, both certificates and the
    card are revoked; on a change of name or address (転居, 職権修正, a 転入 re-opening the record), the signature
    certificate is revoked (it carries the old facts); a 転出 changes nothing. With ``keys``, the chip's surface
    data are rewritten too, as the counter does on the real card."""

    def on_registry_change(db: Session, change: registry_api.RegistryChange) -> None:
        cards = db.scalars(
            select(Card)
            .where(Card.person_id == change.person_id, Card.status.in_(LIVE))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for card in cards:
            gone = GONE.get(change.kind)
            if gone is not None:
                revoke_certificates(
                    db, trust, card, pki.RevocationReason.CESSATION_OF_OPERATION, change.recorded_at
                )
                card.status, card.status_reason = CardStatus.REVOKED.value, gone
                card.updated_at = change.recorded_at
                audit.record(
                    db, "registry", A.CARD_REVOKED, f"person:{card.person_id}", card=card.serial, why=gone
                )
            elif change.name_changed or change.address_changed:
                _on_facts_changed(db, trust, keys, card, change)

    return on_registry_change


def _on_facts_changed(
    db: Session,
    trust: pki.TrustServices,
    keys: ChipKeys | None,
    card: Card,
    change: registry_api.RegistryChange,
) -> None:
    if card.signature_cert_serial and card.signature_revoked_at is None:
        trust.revoke(db, int(card.signature_cert_serial, 16), pki.RevocationReason.AFFILIATION_CHANGED)
        card.signature_revoked_at = change.recorded_at
        card.updated_at = change.recorded_at
        audit.record(
            db,
            "registry",
            A.CARD_REVOKED,
            f"person:{card.person_id}",
            card=card.serial,
            certificate="signature",
            why="name_changed" if change.name_changed else "address_changed",
        )
    if keys is not None:
        facts = registry_api.basic_facts(db, card.person_id)
        rewrite_surface(db, keys, Clock(lambda: change.recorded_at), card.serial, surface_of(facts))
