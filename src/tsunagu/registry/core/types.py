"""Value types of the resident registry (住民基本台帳)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Sex(StrEnum):
    """性別 as recorded on the 住民票."""

    MALE = "male"
    FEMALE = "female"


class Status(StrEnum):
    RESIDENT = "resident"  # 住民
    MOVED_OUT = "moved_out"  # 転出
    DECEASED = "deceased"  # 死亡


class Relationship(StrEnum):
    """続柄 (relationship to the head of the household, 世帯主)."""

    HEAD = "head"  # 世帯主
    SPOUSE = "spouse"  # 妻 / 夫
    CHILD = "child"  # 子
    PARENT = "parent"  # 父 / 母
    GRANDCHILD = "grandchild"  # 孫
    SIBLING = "sibling"  # 兄弟姉妹
    OTHER_RELATIVE = "other_relative"  # その他の親族
    COHABITANT = "cohabitant"  # 同居人


class EventKind(StrEnum):
    """異動の種類. Every change to a resident is one of these, appended to the history."""

    BIRTH = "birth"  # 出生
    MOVE_IN = "move_in"  # 転入
    MOVE_OUT = "move_out"  # 転出
    MOVE_WITHIN = "move_within"  # 転居
    DEATH = "death"  # 死亡
    CORRECTION = "correction"  # 職権修正


@dataclass(frozen=True)
class Address:
    """住所: the local-government code plus 町字, 番地 and building within it."""

    lg_code: str
    town: str
    block: str
    building: str = ""


@dataclass(frozen=True)
class PersonState:
    """Current state of one person, derived by folding the events (see :mod:`.projection`)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: Sex
    address: Address
    household_id: int
    relationship: Relationship
    status: Status
    registered_on: dt.date
    left_on: dt.date | None = None
    last_event_on: dt.date | None = None


@dataclass(frozen=True)
class Event:
    """One 異動. ``changes`` holds the fields the event sets; ``details`` holds facts such as the other municipality."""

    kind: EventKind
    effective_date: dt.date
    changes: dict[str, object] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)


NAME_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana")
ADDRESS_CHANGE_FIELDS = ("town", "block", "building", "lg_code")
STARTING_KINDS = frozenset({EventKind.BIRTH, EventKind.MOVE_IN})


@dataclass(frozen=True)
class RegistryChange:
    """What other domains learn when an event is recorded (passed to listeners in the same transaction): the
    person, the kind and whether the name or the address changed. No personal data. A 転入 that re-opens a
    record (特例転入) has ``address_changed``: the person now lives at a new address in another municipality."""

    person_id: int
    kind: EventKind
    effective_date: dt.date
    recorded_at: dt.datetime
    name_changed: bool
    address_changed: bool

    @classmethod
    def of(cls, person_id: int, event: Event, recorded_at: dt.datetime) -> RegistryChange:
        return cls(
            person_id=person_id,
            kind=event.kind,
            effective_date=event.effective_date,
            recorded_at=recorded_at,
            # A record-starting event (出生, 転入, also a 特例転入 re-opening a record) carries the names it
            # starts with: not a change of name.
            name_changed=event.kind not in STARTING_KINDS and any(f in event.changes for f in NAME_FIELDS),
            address_changed=event.kind is EventKind.MOVE_WITHIN
            or any(f in event.changes for f in ADDRESS_CHANGE_FIELDS),
        )
