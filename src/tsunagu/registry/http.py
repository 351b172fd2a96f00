"""JSON API of the registry under ``/api/v1`` (documented in the committed OpenAPI file)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import NotFound
from tsunagu.registry.core.types import EventKind, Relationship, Sex
from tsunagu.registry.municipalities import known_municipality
from tsunagu.registry.services import queries, records
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of

P = Permission
IdempotencyKey = Annotated[
    str | None,
    Header(description="A UUID. A retry with the same key records nothing new and returns the same result."),
]


class Resident(BaseModel):
    """A resident as the caller may see them. ``address`` is null when withheld under 支援措置."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    resident_code: str = Field(description="住民票コード (11 digits)")
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    age: int
    sex: Literal["male", "female"]
    status: Literal["resident", "moved_out", "deceased"]
    household_id: int
    relationship: str = Field(description="続柄 to the head of household")
    registered_on: dt.date
    left_on: dt.date | None
    address: str | None
    address_suppressed: bool
    my_number_masked: str | None = Field(default=None, description="Only the last 4 digits; never the number")


class ResidentList(BaseModel):
    items: list[Resident]


class Event(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: Literal["birth", "move_in", "move_out", "move_within", "death", "correction"]
    effective_date: dt.date
    recorded_at: dt.datetime
    recorded_by: str
    changes: dict[str, object]
    details: dict[str, str]
    reason: str


class EventList(BaseModel):
    items: list[Event]


class NewEvent(BaseModel):
    """A 異動 to record for an existing resident."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["move_within", "move_out", "death"]
    effective_date: dt.date
    town: str | None = None
    block: str | None = None
    building: str = ""
    to_lg_code: str | None = Field(default=None, description="Destination for move_out (6-digit code)")
    whole_household: bool = False
    reason: str = ""


class Recorded(BaseModel):
    person_ids: list[int]


class NewResident(BaseModel):
    """A 出生 or 転入 that starts a record, in a new household (as its head) or in an existing one."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["birth", "move_in"]
    family_name: str
    given_name: str
    family_name_kana: str = Field(description="Katakana (hiragana is converted)")
    given_name_kana: str
    birth_date: dt.date
    sex: Literal["male", "female"]
    town: str
    block: str
    building: str = ""
    effective_date: dt.date | None = Field(default=None, description="Move-in date (move_in only)")
    from_lg_code: str | None = Field(default=None, description="Previous municipality (move_in only)")
    household_id: int | None = Field(default=None, description="Join this household; omit for a new one")
    relationship: Literal[
        "head", "spouse", "child", "parent", "grandchild", "sibling", "other_relative", "cohabitant"
    ] = "head"
    my_number: str | None = Field(default=None, description="Optional; stored encrypted, never returned")


class Registered(BaseModel):
    person_id: int


class Stats(BaseModel):
    residents: int
    households: int
    former: int
    by_sex: dict[str, int]
    by_age_band: dict[str, int]
    events: dict[str, int]


class Municipality(BaseModel):
    lg_code: str
    prefecture: str
    name: str
    kana: str


def router(rctx: Callable[[Request], records.RegistryContext]) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["registry"])

    @r.get(
        "/residents", response_model=ResidentList, dependencies=[guard(Access.staff(P.REGISTRY_PERSON_READ))]
    )
    async def list_residents(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=100)],
        include_former: bool = False,
    ) -> ResidentList:
        """Search by name or kana prefix, 住民票コード, or My Number (exact)."""
        ctx, reg = ctx_of(request), rctx(request)
        with ctx.uow() as db:
            found = queries.search(
                db, reg.keys, staff_principal(request), q, reg.clock.today(), include_former=include_former
            )
        return ResidentList(items=[Resident.model_validate(v) for v in found])

    @r.get(
        "/residents/{person_id}",
        response_model=Resident,
        dependencies=[guard(Access.staff(P.REGISTRY_PERSON_READ))],
    )
    async def get_resident(request: Request, person_id: int) -> Resident:
        ctx, reg = ctx_of(request), rctx(request)
        with ctx.uow() as db:
            return Resident.model_validate(
                queries.get_resident(db, reg.keys, staff_principal(request), person_id, reg.clock.today())
            )

    @r.get(
        "/residents/{person_id}/events",
        response_model=EventList,
        dependencies=[guard(Access.staff(P.REGISTRY_PERSON_READ))],
    )
    async def get_events(request: Request, person_id: int) -> EventList:
        ctx = ctx_of(request)
        with ctx.uow() as db:
            events = queries.history(db, staff_principal(request), person_id)
        return EventList(items=[Event.model_validate(e) for e in events])

    @r.post(
        "/residents/{person_id}/events",
        response_model=Recorded,
        status_code=201,
        dependencies=[guard(Access.staff(P.REGISTRY_PERSON_WRITE))],
    )
    async def post_event(
        request: Request,
        person_id: int,
        body: NewEvent,
        idempotency_key: IdempotencyKey = None,
    ) -> Recorded:
        """Record 転居, 転出 or 死亡. Invalid or out-of-order events are refused and nothing is written."""
        ctx, reg = ctx_of(request), rctx(request)
        filing = records.Filing(
            recorded_by=staff_principal(request).username,
            reason=body.reason,
            filing_id=records.filing_key(idempotency_key),
        )
        with ctx.uow() as db:
            ids = records.record_event(
                db,
                reg,
                person_id,
                EventKind(body.kind),
                body.effective_date,
                filing,
                address=records.NewAddress(body.town or "", body.block or "", body.building),
                to_lg_code=body.to_lg_code or "",
                whole_household=body.whole_household,
            )
        return Recorded(person_ids=ids)

    @r.post(
        "/residents",
        response_model=Registered,
        status_code=201,
        dependencies=[guard(Access.staff(P.REGISTRY_PERSON_WRITE))],
    )
    async def post_resident(
        request: Request,
        body: NewResident,
        idempotency_key: IdempotencyKey = None,
    ) -> Registered:
        """Register a birth (出生) or a move-in (転入). Bad input is refused and nothing is written."""
        ctx, reg = ctx_of(request), rctx(request)
        person = records.NewPerson(
            body.family_name,
            body.given_name,
            body.family_name_kana,
            body.given_name_kana,
            body.birth_date,
            Sex(body.sex),
            body.my_number,
        )
        filing = records.Filing(
            recorded_by=staff_principal(request).username, filing_id=records.filing_key(idempotency_key)
        )
        kind = EventKind.BIRTH if body.kind == "birth" else EventKind.MOVE_IN
        with ctx.uow() as db:
            pid = records.start_record(
                db,
                reg,
                kind,
                person,
                records.NewAddress(body.town, body.block, body.building),
                records.Placement(body.household_id, Relationship(body.relationship)),
                body.effective_date or body.birth_date,
                filing,
                from_lg_code=body.from_lg_code,
            )
        return Registered(person_id=pid)

    @r.get(
        "/households/{household_id}",
        response_model=ResidentList,
        dependencies=[guard(Access.staff(P.REGISTRY_PERSON_READ))],
    )
    async def get_household(request: Request, household_id: int) -> ResidentList:
        """The current members of a household (世帯), head first; addresses withheld as for one resident."""
        ctx, reg = ctx_of(request), rctx(request)
        with ctx.uow() as db:
            members = queries.household_members(
                db, staff_principal(request), household_id, reg.clock.today(), audited=True
            )
        if not members:
            raise NotFound(f"Household {household_id} has no current members.")
        return ResidentList(items=[Resident.model_validate(m) for m in members])

    @r.get("/registry/stats", response_model=Stats, dependencies=[guard(Access.staff(P.REGISTRY_STATS_READ))])
    async def get_stats(request: Request) -> Stats:
        """Aggregate figures (no person appears)."""
        ctx, reg = ctx_of(request), rctx(request)
        with ctx.uow() as db:
            s = queries.stats(db, staff_principal(request), reg.clock.today())
        return Stats(
            residents=s.residents,
            households=s.households,
            former=s.former,
            by_sex=s.by_sex,
            by_age_band=s.by_age_band,
            events=s.events,
        )

    @r.get("/municipalities/{lg_code}", response_model=Municipality, dependencies=[guard(Access.public())])
    async def get_municipality(lg_code: str) -> Municipality:
        """Look up a local-government code (全国地方公共団体コード) in the installation's master."""
        m = known_municipality(lg_code)
        return Municipality(lg_code=m.lg_code, prefecture=m.prefecture, name=m.name, kana=m.kana)

    return r
