"""基本4情報 (name, address, birth date, sex) of one person, for other domains acting on the person's own behalf
(a certificate on their card, claims they consent to give a relying party, their own portal page). Staff
look-ups go through :mod:`queries`, which checks permissions and audits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from tsunagu.kernel.errors import NotFound
from tsunagu.registry.models import Person
from tsunagu.registry.services.queries import format_address


@dataclass(frozen=True)
class BasicFacts:
    person_id: int
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str  # "male" | "female"
    lg_code: str
    town: str
    block: str
    building: str
    address: str  # formatted, with the municipality's name
    status: str  # "resident", "moved_out", "deceased"
    household_id: int
    relationship: str
    address_suppressed: bool

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def _facts(row: Person) -> BasicFacts:
    return BasicFacts(
        person_id=row.id,
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        lg_code=row.lg_code,
        town=row.town,
        block=row.block,
        building=row.building,
        address=format_address(row.lg_code, row.town, row.block, row.building),
        status=row.status,
        household_id=row.household_id,
        relationship=row.relationship,
        address_suppressed=row.address_suppressed,
    )


def basic_facts(db: Session, person_id: int) -> BasicFacts:
    row = db.get(Person, person_id)
    if row is None:
        raise NotFound("No such resident.", ja="該当する住民はいません。")
    return _facts(row)


def household_facts(db: Session, household_id: int) -> list[BasicFacts]:
    """Every current member of a household (for proxies and household filings)."""
    rows = db.scalars(select(Person).where(Person.household_id == household_id).order_by(Person.id))
    return [_facts(r) for r in rows]


_PERSONS = cast(Table, Person.__table__)
_NAME_AND_STATUS = select(_PERSONS.c.family_name, _PERSONS.c.given_name, _PERSONS.c.status).where(
    _PERSONS.c.id == bindparam("person_id")
)  # a Core statement (no ORM loading): every card login runs it


def name_and_status(db: Session, person_id: int) -> tuple[str, str] | None:
    """(name, status) of a person, with one narrow primary-key read: for logins, which need no more."""
    row = db.connection().execute(_NAME_AND_STATUS, {"person_id": person_id}).one_or_none()
    return (f"{row.family_name} {row.given_name}", row.status) if row is not None else None
