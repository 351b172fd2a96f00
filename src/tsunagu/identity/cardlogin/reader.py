"""The card reader of the demo: the browser cannot reach a card, so in demo (and test) mode the server plays the
reader and the person picks one of the demo cards and types its PIN. The chip still checks the PIN and counts
failures; the login then goes through exactly the same verification as a real client's answer.

A real deployment uses a reader client instead (``tsunagu card login --server URL`` is one), which runs the same
protocol against ``/api/v1/card-login``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.identity.cards.chip import ChipKeys, SoftwareChip
from tsunagu.identity.cards.models import Card
from tsunagu.identity.core.cardlogin import b64encode
from tsunagu.identity.core.pins import PinSlot
from tsunagu.kernel.clock import Clock
from tsunagu.registry import api as registry_api


@dataclass(frozen=True)
class DemoCard:
    serial: str
    holder: str
    age: int

    @property
    def label_tail(self) -> str:
        return self.serial[-4:]


def demo_cards(db: Session, clock: Clock, limit: int = 12) -> list[DemoCard]:
    """Cards the demo reader offers: active cards of current residents, oldest first."""
    rows = db.scalars(
        select(Card).where(Card.status == "active").order_by(Card.created_at, Card.serial).limit(limit)
    )
    today = clock.today()
    out = []
    for card in rows:
        facts = registry_api.basic_facts(db, card.person_id)
        if facts.status == "resident":
            out.append(DemoCard(card.serial, facts.name, facts.age_on(today)))
    return out


def active_card_of(db: Session, person_id: int) -> str | None:
    """The serial of a person's active card, if any."""
    return db.scalar(select(Card.serial).where(Card.person_id == person_id, Card.status == "active").limit(1))


def answer_with_card(
    db: Session, master: bytes, clock: Clock, serial: str, slot: PinSlot, pin: str, message: bytes
) -> tuple[str, str]:
    """Have the chip sign ``message`` with the slot's key after its PIN check: (certificate, signature) base64.
    PIN refusals are raised after the chip wrote the failure (the caller commits before reporting)."""
    chip = SoftwareChip(db, ChipKeys(master), clock, serial)
    signature = chip.sign(slot, pin, message)
    return b64encode(chip.read_certificate(slot)), b64encode(signature)
