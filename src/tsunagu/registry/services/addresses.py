"""Addresses in the municipalities of the platform: the 町字 each one lists (``data/demo_towns.csv``) and the check
of an address typed for one of them (a destination of a move, a form a resident fills in)."""

from __future__ import annotations

import unicodedata

from tsunagu.kernel.errors import InvalidInput
from tsunagu.registry.core.validation import clean_block, clean_text
from tsunagu.registry.municipalities import demo_towns, known_municipality
from tsunagu.registry.services.records import NewAddress


def towns_of(lg_code: str) -> tuple[str, ...]:
    """The 町字 of a municipality, in the file's order; empty for a municipality without a town list."""
    return tuple(t.town for t in demo_towns() if t.lg_code == lg_code)


def check_address(lg_code: str, town: str, block: str, building: str = "") -> NewAddress:
    """An address in ``lg_code``, normalised: the town as the municipality's list spells it, the 番地 as a number
    form (NFKC, one kind of hyphen), the building trimmed. Raises :class:`InvalidInput` (with ``field``) when the
    municipality has no town list, the town is not in it, or the 番地 is not a number form."""
    municipality = known_municipality(lg_code)
    towns = towns_of(municipality.lg_code)
    if not towns:
        raise InvalidInput(
            f"No town list is held for {municipality.name} ({municipality.lg_code}) on this platform.",
            ja=f"{municipality.name}の町字一覧がこの基盤にありません。",
            field="lg_code",
        )
    typed = unicodedata.normalize("NFKC", clean_text(town, "town", max_len=100))
    found = next((t for t in towns if unicodedata.normalize("NFKC", t) == typed), None)
    if found is None:
        raise InvalidInput(
            f"{typed} is not a town (町字) of {municipality.name}.",
            ja=f"「{typed}」は{municipality.name}の町字にありません。一覧から選んでください。",
            field="town",
        )
    return NewAddress(
        town=found,
        block=clean_block(block),
        building=clean_text(building, "building", max_len=100, required=False),
    )
