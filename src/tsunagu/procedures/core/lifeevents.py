"""Life-event one-stops (ライフイベント): which procedures one event files, at which office, for whom. Pure.

The rules are data (``data/life_events.toml``): for each event, the procedures it files, each with the end it goes
to (the ``origin`` or ``destination`` municipality of a move, or the ``current`` one), whom it is for (the whole
filing, or each mover / child / the deceased) and when it applies (an age band, or an item the government holds
about the applicant's household, such as National Health Insurance eligibility).

:func:`plan` turns an event and the facts of the people concerned into the list of applications to create; the
fan-out creates each exactly once, keyed by ``(bundle, procedure, end, person ref)``."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tsunagu.procedures.core.catalogue import Catalogue, CatalogueError

MOVE_BEFORE_DAYS = 30  # 引越しワンストップ: from 30 days before the move
MOVE_AFTER_DAYS = 10  # … to 10 days after it


class End(StrEnum):
    ORIGIN = "origin"
    DESTINATION = "destination"
    CURRENT = "current"


class Per(StrEnum):
    FILING = "filing"  # one application for the whole filing (its subject is the applicant)
    MOVER = "mover"  # one per person who moves
    CHILD = "child"  # one per child concerned (the newborn)
    DECEASED = "deceased"


@dataclass(frozen=True)
class Rule:
    procedure: str
    end: End
    per: Per
    primary: bool = False  # filed with the event itself (the others are derived through the outbox)
    age_under: int | None = None
    age_at_least: int | None = None
    holds: str | None = None  # a hub item the applicant's household must hold (e.g. nhi.eligibility)
    lacks: str | None = None  # … or must not hold
    household_child_under: int | None = None  # the household (after the event) has a child under this age
    no_other_child_under: int | None = None  # … and no child other than the subject under this age
    other_child_under: int | None = None  # … or some child other than the subject (and the newborn) under it


@dataclass(frozen=True)
class LifeEvent:
    id: str
    name_ja: str
    name_en: str
    help_ja: str
    help_en: str
    rules: tuple[Rule, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ja

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_ja


@dataclass(frozen=True)
class PersonFacts:
    """What the rules may look at for one person: a ref (stable within the filing), age facts, role."""

    ref: str
    birth_date: dt.date
    mover: bool = False
    child: bool = False  # the subject child of a birth
    deceased: bool = False


@dataclass(frozen=True)
class Planned:
    procedure: str
    end: End
    person_ref: str  # "" for a per-filing application
    primary: bool

    @property
    def key(self) -> str:
        """Unique within a bundle: what makes the fan-out exactly-once."""
        return f"{self.procedure}:{self.end.value}:{self.person_ref}"


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def in_moving_window(move_date: dt.date, today: dt.date) -> bool:
    """引越しワンストップ accepts a 転出届 from 30 days before the move until 10 days after it."""
    return (
        today - dt.timedelta(days=MOVE_AFTER_DAYS) <= move_date <= today + dt.timedelta(days=MOVE_BEFORE_DAYS)
    )


def _applies(  # noqa: PLR0911 - one early exit per condition
    rule: Rule, person: PersonFacts | None, people: Sequence[PersonFacts], held: frozenset[str], on: dt.date
) -> bool:
    if rule.holds is not None and rule.holds not in held:
        return False
    if rule.lacks is not None and rule.lacks in held:
        return False
    if person is not None:
        age = age_on(person.birth_date, on)
        if rule.age_under is not None and age >= rule.age_under:
            return False
        if rule.age_at_least is not None and age < rule.age_at_least:
            return False
    living = [p for p in people if not p.deceased]
    limit = rule.household_child_under
    if limit is not None and not any(age_on(p.birth_date, on) < limit for p in living):
        return False
    if rule.no_other_child_under is not None:
        others = [p for p in living if person is None or p.ref != person.ref]
        if any(age_on(p.birth_date, on) < rule.no_other_child_under and not p.child for p in others):
            return False
    if rule.other_child_under is not None:
        others = [p for p in living if not p.child and (person is None or p.ref != person.ref)]
        if not any(age_on(p.birth_date, on) < rule.other_child_under for p in others):
            return False
    return True


def _subjects(rule: Rule, people: Sequence[PersonFacts]) -> list[PersonFacts | None]:
    if rule.per is Per.FILING:
        return [None]
    if rule.per is Per.MOVER:
        return [p for p in people if p.mover]
    if rule.per is Per.CHILD:
        return [p for p in people if p.child]
    return [p for p in people if p.deceased]


def plan(event: LifeEvent, people: Sequence[PersonFacts], held: Iterable[str], on: dt.date) -> list[Planned]:
    """The applications ``event`` files for ``people`` (``held``: hub items the applicant's household holds;
    ``on``: the date ages are taken at, e.g. the move date)."""
    have = frozenset(held)
    out: list[Planned] = []
    seen: set[str] = set()
    for rule in event.rules:
        for person in _subjects(rule, people):
            if not _applies(rule, person, people, have, on):
                continue
            planned = Planned(rule.procedure, rule.end, person.ref if person else "", rule.primary)
            if planned.key not in seen:
                seen.add(planned.key)
                out.append(planned)
    return out


# --- parsing -----------------------------------------------------------------------------------------------------

RULE_KEYS = {
    "procedure",
    "end",
    "per",
    "primary",
    "age_under",
    "age_at_least",
    "holds",
    "lacks",
    "household_child_under",
    "no_other_child_under",
    "other_child_under",
}


def _rule(source: str, where: str, raw: Mapping[str, Any], catalogue: Catalogue) -> Rule:
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise CatalogueError(f"{source}: {where}{unknown[0]}: unknown key")
    pid = raw.get("procedure")
    if not isinstance(pid, str) or catalogue.get(pid) is None:
        raise CatalogueError(f"{source}: {where}procedure: {pid!r} is not in the catalogue")
    try:
        end, per = End(raw.get("end", "current")), Per(raw.get("per", "filing"))
    except ValueError as exc:
        raise CatalogueError(f"{source}: {where}: {exc}") from None
    ints: dict[str, int | None] = {}
    for key in (
        "age_under",
        "age_at_least",
        "household_child_under",
        "no_other_child_under",
        "other_child_under",
    ):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise CatalogueError(f"{source}: {where}{key}: must be a non-negative integer")
        ints[key] = value
    texts: dict[str, str | None] = {}
    for key in ("holds", "lacks"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise CatalogueError(f"{source}: {where}{key}: must be a hub item name")
        texts[key] = value
    primary = raw.get("primary", False)
    if not isinstance(primary, bool):
        raise CatalogueError(f"{source}: {where}primary: must be true or false")
    return Rule(
        pid,
        end,
        per,
        primary,
        age_under=ints["age_under"],
        age_at_least=ints["age_at_least"],
        holds=texts["holds"],
        lacks=texts["lacks"],
        household_child_under=ints["household_child_under"],
        no_other_child_under=ints["no_other_child_under"],
        other_child_under=ints["other_child_under"],
    )


def parse_life_events(text: str, source: str, catalogue: Catalogue) -> dict[str, LifeEvent]:
    """``[[event]]`` tables, each with names, help and ``[[event.procedures]]`` rules over ``catalogue``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML ({exc})") from exc
    out: dict[str, LifeEvent] = {}
    for i, ev in enumerate(raw.get("event", [])):
        where = f"event[{i}]."
        for key in ("id", "name_ja", "name_en", "help_ja", "help_en"):
            if not isinstance(ev.get(key), str) or not ev[key].strip():
                raise CatalogueError(f"{source}: {where}{key}: missing or empty")
        rules = tuple(
            _rule(source, f"{where}procedures[{j}].", r, catalogue)
            for j, r in enumerate(ev.get("procedures", []))
        )
        if not rules:
            raise CatalogueError(f"{source}: {where}procedures: an event files at least one procedure")
        if ev["id"] in out:
            raise CatalogueError(f"{source}: {where}id: {ev['id']!r} is already used")
        out[ev["id"]] = LifeEvent(ev["id"], ev["name_ja"], ev["name_en"], ev["help_ja"], ev["help_en"], rules)
    return out
