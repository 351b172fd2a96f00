"""Live items: what a municipality answers from its resident registry itself rather than from a copy (副本).

A municipality-type provider (``LG-`` and its 6-digit local-government code, type ``municipality`` in
``data/agencies.csv``) answers ``resident.basic`` and ``resident.household`` from the live registry (through
:mod:`tsunagu.registry.api` only) when its copy holds no row for the item. It answers only for a person whose
current ``lg_code`` is its own and whose status is ``resident``; for anyone else (another municipality's
resident, someone who moved out or died) the item is *not held*, as a copy without the row would say.

Only in-process providers have them: the hub's :class:`~tsunagu.linkage.exchange.transport.InProcess` transport
passes a :class:`LiveItems` to :func:`~tsunagu.linkage.exchange.provider.answer_forward`, which asks it only when
a live item is asked for and missing from the copy (no extra query on any other exchange). A node answers from
its copy alone.

Values (JSON):

``resident.basic``
    ``{"family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date" (ISO), "sex",
    "relationship", "is_head", "address": {"lg_code", "municipality" (its name, 藤沢市), "town", "block",
    "building", "text" (the formatted address, with the prefecture)}}``;
    ``address`` is ``null`` while the address is under 支援措置 (the person or staff supply it).
``resident.household``
    ``{"members": [{"ref", "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date",
    "sex", "relationship"}, ...]}``.

Ordering contract of ``resident.household`` (the procedures domain maps refs back the same way): the members
are the current members (status ``resident``) of the person's household, in the order
:func:`tsunagu.registry.api.household_facts` returns them (registry person id, ascending), the person included;
``ref`` is the 1-based position of the member in that filtered list, as a string. A ref is meaningful only with
the answer it came in: the household may change between two exchanges."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.linkage import services, sources
from tsunagu.linkage.core.dictionary import AgencyType
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.registry import api as registry

BASIC, HOUSEHOLD = "resident.basic", "resident.household"
LIVE_ITEMS = frozenset({BASIC, HOUSEHOLD})
MUNICIPALITY_CODE = re.compile(r"LG-(\d{6})")
RESIDENT = "resident"


def municipality_of(agency: str) -> str | None:
    """The local-government code of a municipality-type agency (``LG-142051`` → ``142051``), else ``None``."""
    match = MUNICIPALITY_CODE.fullmatch(agency)
    if match is None:
        return None
    entry = next((a for a in sources.agencies() if a.code == agency), None)
    return match.group(1) if entry is not None and entry.type is AgencyType.MUNICIPALITY else None


def _name(facts: registry.BasicFacts) -> dict[str, Any]:
    return {
        "family_name": facts.family_name,
        "given_name": facts.given_name,
        "family_name_kana": facts.family_name_kana,
        "given_name_kana": facts.given_name_kana,
        "birth_date": facts.birth_date.isoformat(),
        "sex": facts.sex,
        "relationship": facts.relationship,
    }


def basic_value(facts: registry.BasicFacts) -> dict[str, Any]:
    municipality = registry.municipalities().get(facts.lg_code)
    address = None
    if not facts.address_suppressed:
        address = {
            "lg_code": facts.lg_code,
            "municipality": municipality.name if municipality else facts.lg_code,
            "town": facts.town,
            "block": facts.block,
            "building": facts.building,
            "text": facts.address,
        }
    return _name(facts) | {"is_head": facts.relationship == "head", "address": address}


def household_value(db: Session, facts: registry.BasicFacts) -> dict[str, Any]:
    members = [m for m in registry.household_facts(db, facts.household_id) if m.status == RESIDENT]
    return {"members": [{"ref": str(n)} | _name(m) for n, m in enumerate(members, 1)]}


class LiveItems:
    """The live source of the in-process municipalities; needs the hub's keys to find the person behind a code."""

    def __init__(self, keys: LinkageKeys) -> None:
        self.keys = keys

    def answer(self, db: Session, agency: str, code: str, items: Iterable[str]) -> dict[str, Any]:
        """Values of the live ``items`` (those of :data:`LIVE_ITEMS`) that ``agency`` holds for the person it
        knows as ``code``; an item it does not hold is left out."""
        wanted = [i for i in items if i in LIVE_ITEMS]
        lg_code = municipality_of(agency)
        if not wanted or lg_code is None:
            return {}
        person_id = services.person_for(db, self.keys, agency, code)
        if person_id is None:
            return {}
        facts = registry.basic_facts(db, person_id)
        if facts.lg_code != lg_code or facts.status != RESIDENT:
            return {}
        values: dict[str, Any] = {}
        if BASIC in wanted:
            values[BASIC] = basic_value(facts)
        if HOUSEHOLD in wanted:
            values[HOUSEHOLD] = household_value(db, facts)
        return values
