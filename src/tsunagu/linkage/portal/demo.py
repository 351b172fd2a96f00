"""Synthetic copies (副本) for the demo residents, so that 自己情報 has something to show.

Every value is made up and derived deterministically from the registry person id (and the birth date, for what
depends on age): incomes and deductions at 藤沢市 市民税課, the pension status at 日本年金機構, National Health
Insurance for some and vaccination records at VRS. (Public-fund accounts are not made up here: the demo registers
them in the payments domain's account registry, which keeps デジタル庁's copy in step.) For a few people
one item is marked not disclosable (番号法 art. 23(2)), so the portal's handling of it can be seen. Rows are
inserted in bulk: the demo seeds a few hundred residents in well under a second.

The households of the demo card holders (``card_holders``) are made ready for pre-filled applications
(PROC-PREFILL-01): each current member has a National Health Insurance record (the household is insured under
NHI, which insures by household), and everyone of
20 to 64 a pension insured status as for anyone. Nobody under 20 gets an insured status, nor anyone of 65 or
more (they receive a pension instead): 日本年金機構 holds none for them, so the item stays not held."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.linkage.exchange.models import Copy
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.services import code_for
from tsunagu.registry import api as registry

TAX, PENSION, NHI, VRS = "LG-142051-TAX", "JPS", "NHI-142051", "VRS"
WITHHELD_EVERY = 40  # one person in this many has an item withheld from them


@dataclass(frozen=True)
class Person:
    person_id: int
    age: int
    kana: str


def _tax(p: Person) -> dict[str, Any]:
    if p.age < 18:
        return {}
    income = 0 if p.age >= 80 else 1_200_000 + (p.person_id * 7919) % 48 * 100_000
    deductions = {"basic": 430_000, "social_insurance": income // 7 // 1000 * 1000}
    if p.person_id % 3 == 0:
        deductions["dependants"] = 380_000
    return {
        "local_tax.income": income,
        "local_tax.deductions": deductions,
        "local_tax.assessment": "taxed" if income > 1_000_000 else "exempt",
    }


def _pension(p: Person) -> dict[str, Any]:
    if p.age < 20:
        return {}
    if p.age >= 65:
        return {
            "pension.status": "receiving",
            "pension.benefit_amount": 780_000 + (p.person_id % 25) * 48_000,
        }
    category = "2" if p.person_id % 5 < 3 else ("1" if p.person_id % 5 == 3 else "3")
    return {"pension.insured_status": category, "pension.status": "not-receiving"}


def _nhi(p: Person) -> dict[str, Any]:
    if p.age < 65 and p.person_id % 4 != 0:
        return {}  # most people of working age are insured through an employer (not an NHI record)
    return {"nhi.eligibility": {"status": "insured", "since": "2020-04-01", "insurer_number": "142051"}}


def _vaccinations(p: Person) -> dict[str, Any]:
    records: list[dict[str, Any]] = []
    if p.age < 12:
        records.append({"vaccine": "MR（麻しん風しん混合）", "date": "2021-06-10", "dose": 1})
    else:
        for dose, day in enumerate(("2021-07-05", "2021-07-26", "2022-02-14")[: 2 + p.person_id % 2], 1):
            records.append({"vaccine": "新型コロナワクチン", "date": day, "dose": dose})
    if p.age >= 65 or p.person_id % 3 == 0:
        records.append({"vaccine": "インフルエンザ", "date": "2025-11-04", "dose": 1})
    return {"vaccination.records": records}


SOURCES = ((TAX, _tax), (PENSION, _pension), (NHI, _nhi), (VRS, _vaccinations))


def _prefill_ready(agency: str, p: Person) -> dict[str, Any]:
    """What a member of a card holder's household has on top of :data:`SOURCES`' values."""
    if agency == NHI:
        return {"nhi.eligibility": {"status": "insured", "since": "2020-04-01", "insurer_number": "142051"}}
    return {}


def _households_of(db: Session, card_holders: Iterable[int]) -> list[int]:
    """The current members of the card holders' households, in household order."""
    members: list[int] = []
    for household_id in dict.fromkeys(registry.basic_facts(db, p).household_id for p in card_holders):
        members += [f.person_id for f in registry.household_facts(db, household_id) if f.status == "resident"]
    return members


def _withheld(p: Person, agency: str) -> set[str]:
    if p.person_id % WITHHELD_EVERY == 7 and agency == PENSION:
        return {"pension.status"}
    return set()


def seed_demo_copies(
    db: Session,
    keys: LinkageKeys,
    person_ids: Iterable[int],
    clock: Clock | None = None,
    *,
    card_holders: Iterable[int] = (),
) -> int:
    """Put synthetic copies for these residents into each source agency; return how many items were stored.
    The members of the ``card_holders``' households (added to ``person_ids`` if missing) get the items a
    pre-filled application reads (see the module docstring).

    The agencies must be loaded (``linkage.provision_all``). Meant for a fresh demo: rows are inserted, not
    merged, so call it once per person."""
    now = (clock or Clock()).now()
    as_of = now.date()
    ready = set(_households_of(db, card_holders))
    rows: list[dict[str, Any]] = []
    for person_id in dict.fromkeys([*person_ids, *sorted(ready)]):
        facts = registry.basic_facts(db, person_id)
        person = Person(person_id, facts.age_on(as_of), facts.name_kana)
        for agency, make in SOURCES:
            items = make(person)
            if person_id in ready:
                items = _prefill_ready(agency, person) | items
            if not items:
                continue
            code = code_for(db, keys, agency, person_id, clock=clock)
            withheld = _withheld(person, agency)
            rows.extend(
                {
                    "agency": agency,
                    "code": code,
                    "item": item,
                    "value": json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                    "disclose": item not in withheld,
                    "updated_at": now,
                }
                for item, value in items.items()
            )
    if rows:
        db.execute(insert(Copy), rows)
    return len(rows)
