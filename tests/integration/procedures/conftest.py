"""Fixtures of the procedures tests: the procedures context built as the shell builds it (trust services, the
exchange platform with every agency provisioned, the card context, the registry listeners), a clock the test
can move, a household of 藤沢市 (142051) with a card for the head, and helpers that file the way the portal and
the back office do (each call in its own unit of work, as the edge owns the transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import NOW
from tests.integration.conftest import move_in, person

from tsunagu import wiring
from tsunagu.identity import api as identity
from tsunagu.kernel.access import CitizenPrincipal, Principal
from tsunagu.kernel.clock import Clock
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.procedures import api as procedures
from tsunagu.procedures.models import Application, Bundle, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import filing, prefill, signatures
from tsunagu.procedures.sources import catalogue, life_events
from tsunagu.registry import api as registry
from tsunagu.settings import Settings

HOME, DESTINATION = "142051", "131016"  # 藤沢市 (the installation) and 千代田区
ORIGIN_OFFICE, DESTINATION_OFFICE = f"LG-{HOME}", f"LG-{DESTINATION}"
NHI = f"NHI-{HOME}"
PINS = identity.CardPins(authentication="1234", surface="5678", signature="ABC123")
DESK = Principal(7, "desk-staff", "Card Desk", identity.permissions_for([identity.Role.CARD_DESK]))
TODAY = NOW.date()  # 2026-11-26 (JST)
NHI_VALUE = {"status": "insured", "since": "2020-04-01", "insurer_number": "142051"}
TABLES = {"applications": Application, "bundles": Bundle, "outbox": Outbox}


@dataclass
class Now:
    """The instant the test's clock reads; tests move it forward (backoff, dead letters)."""

    at: dt.datetime = NOW

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def clock(now: Now) -> Clock:
    """Overrides the suite's fixed clock with one that reads :class:`Now` (still fixed until moved)."""
    return Clock(lambda: now.at)


@dataclass
class Household:
    head: int  # 世帯主, 1980-04-01, with a card (PINs in :data:`PINS`)
    spouse: int  # 1982-06-01, no card
    child: int  # 2018-05-05 (8 on the test's day)
    id: int  # registry household id
    refs: dict[int, str] = field(default_factory=dict)  # person id → ref in ``resident.household``


@dataclass
class Env:
    settings: Settings
    sessions: sessionmaker[Session]
    pctx: procedures.ProceduresContext
    trust: pki.TrustServices
    now: Now

    def uow(self) -> AbstractContextManager[Session]:
        return self.pctx.platform.uow()

    def household(self, *, nhi: bool = False, pension_of: int | None = None) -> Household:
        """A head (with a card), a spouse and a child in 藤沢市; ``nhi``: the head's NHI eligibility is held."""
        reg = self.pctx.registry_for(HOME)
        with self.uow() as db:
            head = move_in(db, reg, person("山田", "太郎", "ヤマダ", "タロウ", dt.date(1980, 4, 1)))
            hid = registry.basic_facts(db, head).household_id
            spouse = move_in(
                db,
                reg,
                person("山田", "花子", "ヤマダ", "ハナコ", dt.date(1982, 6, 1), registry.Sex.FEMALE),
                registry.Placement(hid, registry.Relationship.SPOUSE),
            )
            child = move_in(
                db,
                reg,
                person("山田", "一郎", "ヤマダ", "イチロウ", dt.date(2018, 5, 5)),
                registry.Placement(hid, registry.Relationship.CHILD),
            )
            identity.issue_card(db, self.pctx.cards, DESK, head, PINS)
            if nhi:
                code = linkage.code_for(db, self.pctx.keys, NHI, head)
                linkage.put_copy(db, NHI, code, {"nhi.eligibility": NHI_VALUE}, clock=self.pctx.clock)
        return Household(head, spouse, child, hid, {head: "1", spouse: "2", child: "3"})

    def counts(self) -> dict[str, int]:
        """Committed rows of the procedures tables, read in a new session."""
        with self.sessions() as db:
            return {n: db.scalar(select(func.count()).select_from(m)) or 0 for n, m in TABLES.items()}

    def draft(self, who: int, procedure_id: str, *, acting_for: int | None = None) -> int:
        """What the portal does when the person starts a procedure: pre-fill through the hub, then the draft."""
        me = citizen(who, acting_for)
        procedure = catalogue()[procedure_id]
        items = prefill.items_for(procedure)
        fetched = prefill.fetch(self.pctx, me.subject_person_id, items, by_proxy=acting_for is not None)
        with self.uow() as db:
            return apps.create_draft(db, self.pctx, me, procedure, fetched).id

    def sign(self, who: int, app_id: int, raw: Mapping[str, Any], pin: str = "ABC123") -> signatures.Signed:
        """Preview the form and sign its bytes with the person's demo card (the chip's refusals are committed)."""
        me = citizen(who)
        with self.uow() as db:
            data = filing.preview(db, self.pctx, me, app_id, raw)
        with self.uow() as db:
            return signatures.sign_with_demo_card(db, self.pctx, who, pin, data)

    def submit(self, who: int, app_id: int, raw: Mapping[str, Any], *, signed: bool = True) -> Application:
        me = citizen(who)
        signature = self.sign(who, app_id, raw) if signed else None
        with self.uow() as db:
            return detached(filing.submit(db, self.pctx, me, app_id, raw, signed=signature))

    def work(self, bundle_id: str | None = None) -> procedures.Pass:
        return procedures.work(self.uow, self.pctx, bundle_id=bundle_id)

    def staff(self, username: str, *agencies: str) -> Principal:
        with self.uow() as db:
            for agency in agencies:
                procedures.assign_office(db, username, agency, "test")
        return Principal(11, username, username, identity.permissions_for([identity.Role.COUNTER_STAFF]))

    def application(self, app_id: int) -> Application:
        with self.sessions() as db:
            return detached(db.get_one(Application, app_id))

    def bundle_apps(self, bundle_id: str) -> list[Application]:
        with self.sessions() as db:
            rows = db.scalars(
                select(Application).where(Application.bundle_id == bundle_id).order_by(Application.id)
            )
            return [detached(a) for a in rows]

    def notices(self, person_id: int) -> list[linkage.NoticeView]:
        with self.sessions() as db:
            return linkage.inbox(db, self.pctx.keys, person_id, limit=200)


def detached(app: Application) -> Application:
    """The row's loaded values stay readable after its session closed (the sessions expire nothing on commit)."""
    return app


def event_items(events: Sequence[str]) -> list[str]:
    """The hub items a life event's rules look at (NHI eligibility, pension status): asked with the draft."""
    known = life_events()
    return [r.holds for e in events if e in known for r in known[e].rules if r.holds]


def citizen(person_id: int, acting_for: int | None = None) -> CitizenPrincipal:
    return CitizenPrincipal(person_id, f"person {person_id}", "card", "card", 0, "test", acting_for)


def moving_form(
    movers: Sequence[str],
    *,
    on: dt.date = TODAY,
    move_date: dt.date | None = None,
    lg: str = DESTINATION,
    town: str = "丸の内一丁目",
    block: str = "1-1",
) -> dict[str, str | list[str]]:
    return {
        "movers": list(movers),
        "destination_lg_code": lg,
        "destination_town": town,
        "destination_block": block,
        "destination_building": "",
        "move_date": (move_date or on + dt.timedelta(days=7)).isoformat(),
    }


def build_env(settings: Settings, sessions: sessionmaker[Session], clock: Clock, now: Now) -> Env:
    """The procedures context as the shell builds it, over a migrated database with every agency provisioned."""
    trust = pki.trust_services(settings, clock)
    keys = linkage.linkage_keys(settings)
    platform = linkage.build_exchange(sessions, trust, keys, clock=clock)
    with platform.uow() as db:
        linkage.provision_all(db, trust, keys, clock)
    pctx = procedures.procedures_context(
        settings,
        clock,
        platform,
        identity.card_context(settings, clock, trust),
        wiring.registry_listeners(settings, clock, trust),
    )
    return Env(settings, sessions, pctx, trust, now)


@pytest.fixture
def env(session_factory: sessionmaker[Session], settings: Settings, clock: Clock, now: Now) -> Env:
    return build_env(settings, session_factory, clock, now)


Action = Callable[[Session], object]


def refused(
    env: Env, expected: type[BaseException], action: Action, match: str | None = None
) -> BaseException:
    """Run ``action`` in a unit of work, expect the refusal, and check nothing was half-created: the procedures
    tables hold exactly the rows they held before."""
    before = env.counts()
    with pytest.raises(expected, match=match) as info, env.uow() as db:
        action(db)
    assert env.counts() == before
    return info.value
