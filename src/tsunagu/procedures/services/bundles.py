"""Life-event one-stops: one input files every procedure the event triggers, at every office concerned.

- 引越し (moving): the citizen's signed 転出届 (with who moves, the new address and the date) is the one input.
  Submitting it opens a bundle: the 転出届 goes to the origin municipality, the 転入予約 (来庁予定の連絡) to the
  destination, and each derived procedure (国保, 児童手当, 子ども医療費, 介護保険 …) to its office at either end.
- 出生 (birth): the 出生届 entered in advance (completed at the counter) derives 児童手当, 子ども医療費, 国保.
- おくやみ (bereavement): from the deceased's facts, every procedure the death triggers for the family.

The primary applications are created and submitted in the bundle's transaction; each derived one is an outbox row
written in that same transaction and created exactly once by the worker (:mod:`.outbox`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.errors import Conflict, InvalidInput, NotFound
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import TERMINAL, State
from tsunagu.procedures.core.lifeevents import End, PersonFacts, Planned, in_moving_window, plan
from tsunagu.procedures.models import Application, Bundle, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import prefill
from tsunagu.procedures.sources import life_events
from tsunagu.registry import api as registry

A = audit.AuditAction
PRIMARY_OF = {
    "tenshutsu": "moving",
    "shussei-todoke": "birth",
}  # a submitted primary opens its event's bundle


def current_members(db: Session, household_id: int) -> list[registry.BasicFacts]:
    """The household's current members in the order of ``resident.household`` (refs are 1-based positions)."""
    return [m for m in registry.household_facts(db, household_id) if m.status == "resident"]


def person_of_ref(db: Session, applicant_id: int, ref: str) -> int:
    members = current_members(db, registry.basic_facts(db, applicant_id).household_id)
    index = int(ref) - 1 if ref.isdigit() else -1
    if not 0 <= index < len(members):
        raise InvalidInput(
            "Choose only people of your household.", ja="世帯の中から選んでください。", field="movers"
        )
    return members[index].person_id


def _agency(procedure_id: str, end: End, origin: str, destination: str) -> str:
    lg = destination if end is End.DESTINATION else origin
    return apps.agency_for(apps.procedure_of(procedure_id), lg)


def _derived_values(
    procedure_id: str, fetched: prefill.Fetched, subject: Mapping[str, Any] | None, primary: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    procedure = apps.procedure_of(procedure_id)
    values = prefill.fill(procedure, fetched, subject)
    prefilled = sorted(values)
    for spec in procedure.typed_fields:  # the one input carries over (move date, new address, the child …)
        if spec.name in primary:
            values[spec.name] = primary[spec.name]
    return values, prefilled


def _fetched_of(app: Application) -> prefill.Fetched:
    held = dict(app.facts.get("values", {}))
    held.setdefault("resident.household", {"members": app.facts.get("members", [])})
    return prefill.Fetched(held, tuple(app.exchanges))


def open_bundle(db: Session, pctx: ProceduresContext, app: Application) -> Bundle | None:
    """After a primary application was submitted: the bundle, its sibling primaries and the outbox rows."""
    event_id = PRIMARY_OF.get(app.procedure_id)
    if event_id is None or app.bundle_id is not None:
        return None
    if event_id == "moving":
        return _open_moving(db, pctx, app)
    return _open_birth(db, pctx, app)


def check_moving(db: Session, pctx: ProceduresContext, app: Application, values: Mapping[str, Any]) -> None:
    """The one-stop's own rules, before anything is written: the window, the destination address, one open
    moving filing per person."""
    move_date = dt.date.fromisoformat(str(values["move_date"]))
    if not in_moving_window(move_date, pctx.clock.today()):
        raise InvalidInput(
            "The moving one-stop accepts filings from 30 days before the move until 10 days after it.",
            ja="引越しワンストップは、引越しの30日前から引越し後10日以内まで届け出られます。",
            field="move_date",
        )
    registry.check_address(
        str(values["destination_lg_code"]), str(values["destination_town"]), str(values["destination_block"])
    )
    movers = [person_of_ref(db, app.applicant_person_id, str(r)) for r in values.get("movers") or []]
    if app.filed_by_person_id not in movers and app.applicant_person_id not in movers:
        raise InvalidInput(
            "The person filing must be one of those moving.",
            ja="届出をする人（カードの名義人）も引っ越す人に含めてください。",
            field="movers",
        )
    household = current_members(db, registry.basic_facts(db, app.applicant_person_id).household_id)
    heads = {m.person_id for m in household if m.relationship == "head"}
    if heads & set(movers) and len(set(movers)) < len(household):
        raise InvalidInput(
            "The head of the household can move only with everyone; otherwise change the head at the counter "
            "first.",
            ja="世帯主が世帯の一部の人と引っ越すときは、先に窓口で世帯主の変更を届け出てください。",
            field="movers",
        )
    open_ = db.scalar(
        select(Bundle.id).where(
            Bundle.event == "moving", Bundle.state == "open", Bundle.applicant_person_id.in_(movers)
        )
    )
    if open_ is not None:
        raise Conflict(
            "A moving filing for this household is already open; cancel it before filing again.",
            ja="この世帯の引越しの届出がすでに受け付けられています。取り消してから届け出てください。",
        )


def _new_bundle(db: Session, pctx: ProceduresContext, app: Application, event: str, **kw: Any) -> Bundle:
    bundle = Bundle(
        id=str(uuid.uuid4()),
        event=event,
        applicant_person_id=app.applicant_person_id,
        filed_by_person_id=app.filed_by_person_id,
        state="open",
        idempotency_key=f"application:{app.id}",
        created_at=pctx.clock.now(),
        **kw,
    )
    db.add(bundle)
    db.flush()
    app.bundle_id, app.bundle_key = (
        bundle.id,
        f"{app.procedure_id}:{End.ORIGIN.value if event == 'moving' else End.CURRENT.value}:",
    )
    app.channel = "one_stop"
    return bundle


def _people(app: Application, movers: set[str]) -> list[PersonFacts]:
    members = app.facts.get("members", [])
    return [
        PersonFacts(str(m["ref"]), dt.date.fromisoformat(str(m["birth_date"])), mover=str(m["ref"]) in movers)
        for m in members
        if isinstance(m, dict) and m.get("birth_date")
    ]


def _queue(
    db: Session,
    pctx: ProceduresContext,
    bundle: Bundle,
    app: Application,
    planned: list[Planned],
    fetched: prefill.Fetched,
) -> int:
    """The primaries beside ``app`` are created now; the derived ones become outbox rows (exactly once each)."""
    now = pctx.clock.now()
    count = 0
    for p in planned:
        if p.procedure == app.procedure_id:
            continue
        subject_entry = fetched.member(p.person_ref) if p.person_ref else None
        values, prefilled = _derived_values(p.procedure, fetched, subject_entry, app.values)
        subject_id = (
            person_of_ref(db, app.applicant_person_id, p.person_ref)
            if p.person_ref.isdigit() and subject_entry is not None
            else app.applicant_person_id  # the filing, or a newborn with no record yet (the parent applies)
        )
        payload = {
            "procedure": p.procedure,
            "agency": _agency(p.procedure, p.end, bundle.origin_lg, bundle.destination_lg),
            "subject": subject_id,
            "applicant": app.applicant_person_id,
            "filed_by": app.filed_by_person_id,
            "values": values,
            "prefilled": prefilled,
            "exchanges": list(app.exchanges),
            "facts": {"members": fetched.members()},  # so a members field reads as names
        }
        if p.primary:
            create_from_payload(db, pctx, bundle.id, p.key, payload)
        else:
            db.add(
                Outbox(
                    bundle_id=bundle.id,
                    key=p.key,
                    payload=payload,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            count += 1
    return count


def moving_plan(app: Application) -> list[Planned]:
    """What the moving one-stop files for a 転出届's values (also shown on the confirmation page)."""
    movers = {str(r) for r in app.values.get("movers") or []}
    on = dt.date.fromisoformat(str(app.values.get("move_date") or app.started_at.date().isoformat()))
    return plan(life_events()["moving"], _people(app, movers), app.facts.get("held", []), on)


def _open_moving(db: Session, pctx: ProceduresContext, app: Application) -> Bundle:
    values = app.values
    origin = apps.lg_of(app.agency)
    bundle = _new_bundle(
        db,
        pctx,
        app,
        "moving",
        inputs={
            **{
                k: values.get(k)
                for k in (
                    "movers",
                    "destination_lg_code",
                    "destination_town",
                    "destination_block",
                    "destination_building",
                    "move_date",
                )
            },
            "mover_ids": [
                person_of_ref(db, app.applicant_person_id, str(r)) for r in values.get("movers") or []
            ],
        },
        facts={"members": app.facts.get("members", []), "held": app.facts.get("held", [])},
        origin_lg=origin,
        destination_lg=str(values["destination_lg_code"]),
    )
    movers = {str(r) for r in values.get("movers") or []}
    fetched = _fetched_of(app)
    planned = moving_plan(app)
    derived = _queue(db, pctx, bundle, app, planned, fetched)
    audit.record(
        db,
        f"person:{app.filed_by_person_id}",
        A.BUNDLE_FILED,
        f"bundle:{bundle.id}",
        event="moving",
        movers=len(movers),
        derived=derived,
    )
    return bundle


def _open_birth(db: Session, pctx: ProceduresContext, app: Application) -> Bundle:
    values = app.values
    birth = dt.date.fromisoformat(
        str(values["child_birth_date"] if "child_birth_date" in values else values["birth_date"])
    )
    bundle = _new_bundle(
        db,
        pctx,
        app,
        "birth",
        inputs={k: v for k, v in values.items() if k not in app.prefilled},
        facts={"members": app.facts.get("members", []), "held": app.facts.get("held", [])},
        origin_lg=apps.lg_of(app.agency),
    )
    app.bundle_key = f"{app.procedure_id}:current:child"
    people = [*_people(app, set()), PersonFacts("child", birth, child=True)]
    known = _fetched_of(app)
    child = {  # the newborn's own facts, as typed in the 出生届, for the forms filed about the child
        "ref": "child",
        "family_name": values.get("child_family_name"),
        "given_name": values.get("child_given_name"),
        "family_name_kana": values.get("child_family_name_kana"),
        "given_name_kana": values.get("child_given_name_kana"),
        "birth_date": birth.isoformat(),
        "sex": values.get("child_sex"),
        "relationship": "child",
    }
    fetched = prefill.Fetched(
        {**known.values, "resident.household": {"members": [*known.members(), child]}}, known.exchanges
    )
    planned = plan(life_events()["birth"], people, app.facts.get("held", []), pctx.clock.today())
    derived = _queue(db, pctx, bundle, app, planned, fetched)
    audit.record(
        db,
        f"person:{app.filed_by_person_id}",
        A.BUNDLE_FILED,
        f"bundle:{bundle.id}",
        event="birth",
        derived=derived,
    )
    return bundle


def file_bereavement(
    db: Session,
    pctx: ProceduresContext,
    me: CitizenPrincipal,
    deceased_id: int,
    fetched: prefill.Fetched,
    key: str,
) -> Bundle:
    """おくやみ: every procedure the death of ``deceased_id`` (of the applicant's household) triggers."""
    existing = db.scalar(select(Bundle).where(Bundle.idempotency_key == key))
    if existing is not None:
        return existing
    applicant = me.subject_person_id
    mine = registry.basic_facts(db, applicant)
    dead = registry.basic_facts(db, deceased_id)
    if dead.household_id != mine.household_id or dead.status != "deceased":
        raise InvalidInput(
            "Choose a deceased member of your household.",
            ja="世帯の中で亡くなった方を選んでください。",
            field="deceased",
        )
    already = db.scalar(
        select(Bundle.id).where(
            Bundle.event == "bereavement", Bundle.inputs["deceased"].as_integer() == deceased_id
        )
    )
    if already is not None:
        raise Conflict(
            "These procedures were already filed for this person.",
            ja="この方のおくやみ手続はすでに届け出られています。",
        )
    entry = {
        "ref": "deceased",
        "family_name": dead.family_name,
        "given_name": dead.given_name,
        "family_name_kana": dead.family_name_kana,
        "given_name_kana": dead.given_name_kana,
        "birth_date": dead.birth_date.isoformat(),
        "sex": dead.sex,
        "relationship": dead.relationship,
    }
    now = pctx.clock.now()
    bundle = Bundle(
        id=str(uuid.uuid4()),
        event="bereavement",
        applicant_person_id=applicant,
        filed_by_person_id=me.person_id,
        state="open",
        inputs={"deceased": deceased_id},
        facts={"members": fetched.members(), "held": sorted(fetched.held), "deceased": entry},
        origin_lg=mine.lg_code,
        idempotency_key=key,
        created_at=now,
    )
    db.add(bundle)
    db.flush()
    planned = planned_for_bereavement(fetched, dead, pctx.clock.today())
    members = fetched.members()
    with_dead = prefill.Fetched(
        {**fetched.values, "resident.household": {"members": [*members, entry]}}, fetched.exchanges
    )
    count = 0
    for p in planned:
        subject_entry = with_dead.member(p.person_ref) if p.person_ref else None
        values, prefilled = _derived_values(p.procedure, with_dead, subject_entry, {})
        payload = {
            "procedure": p.procedure,
            "agency": _agency(p.procedure, p.end, mine.lg_code, ""),
            "subject": deceased_id if p.person_ref == "deceased" else applicant,
            "applicant": applicant,
            "filed_by": me.person_id,
            "values": values,
            "prefilled": prefilled,
            "exchanges": list(fetched.exchanges),
            "facts": {"members": with_dead.members()},
        }
        db.add(
            Outbox(
                bundle_id=bundle.id,
                key=p.key,
                payload=payload,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    audit.record_citizen(db, me, A.BUNDLE_FILED, f"bundle:{bundle.id}", event="bereavement", derived=count)
    return bundle


def planned_for_bereavement(
    fetched: prefill.Fetched, dead: registry.BasicFacts, today: dt.date
) -> list[Planned]:
    people = [
        PersonFacts(str(m["ref"]), dt.date.fromisoformat(str(m["birth_date"])))
        for m in fetched.members()
        if m.get("birth_date")
    ]
    people.append(PersonFacts("deceased", dead.birth_date, deceased=True))
    return plan(life_events()["bereavement"], people, fetched.held, today)


def create_from_payload(
    db: Session, pctx: ProceduresContext, bundle_id: str, key: str, payload: Mapping[str, Any]
) -> Application:
    """Create and submit one application of a bundle, unless it exists (the (bundle, key) pair is unique)."""
    existing = db.scalar(
        select(Application).where(Application.bundle_id == bundle_id, Application.bundle_key == key)
    )
    if existing is not None:
        return existing
    procedure = apps.procedure_of(str(payload["procedure"]))
    app = apps.new_application(
        db,
        pctx,
        procedure,
        agency=str(payload["agency"]),
        subject_id=int(payload["subject"]),
        applicant_id=int(payload["applicant"]),
        filed_by_id=int(payload["filed_by"]),
        values=payload["values"],
        facts=dict(payload.get("facts") or {}),
        prefilled=list(payload["prefilled"]),
        exchanges=list(payload["exchanges"]),
        channel="one_stop",
        bundle_id=bundle_id,
        bundle_key=key,
    )
    apps.finish_submission(db, pctx, app, procedure, f"bundle:{bundle_id}"[:64])
    return app


def bundle_of_id(db: Session, bundle_id: str) -> Bundle | None:
    return db.get(Bundle, bundle_id)


def bundle_of(db: Session, me: CitizenPrincipal, bundle_id: str) -> Bundle:
    bundle = db.get(Bundle, bundle_id)
    if bundle is None or me.subject_person_id != bundle.applicant_person_id:
        raise NotFound("No such filing.", ja="該当する届出はありません。")
    return bundle


def applications_in(db: Session, bundle_id: str) -> list[Application]:
    return list(
        db.scalars(select(Application).where(Application.bundle_id == bundle_id).order_by(Application.id))
    )


def pending_in(db: Session, bundle_id: str) -> int:
    return len(
        db.scalars(select(Outbox.id).where(Outbox.bundle_id == bundle_id, Outbox.state != "done")).all()
    )


def cancel(db: Session, pctx: ProceduresContext, me: CitizenPrincipal, bundle_id: str) -> Bundle:
    """取消し of a one-stop: every application not yet completed is cancelled, pending fan-out is dropped. Refused
    once the registry part is done (the 転出 recorded): that is undone at the counter."""
    bundle = bundle_of(db, me, bundle_id)
    if bundle.state == "cancelled":
        return bundle
    members = applications_in(db, bundle_id)
    if bundle.state != "open" or any(
        a.state == State.COMPLETED.value and a.procedure_id in PRIMARY_OF for a in members
    ):
        raise Conflict(
            "The move-out has already been recorded; ask the municipality's counter to cancel it.",
            ja="転出はすでに処理されています。取消しは市区町村の窓口にご相談ください。",
        )
    actor = apps.citizen_actor(me)
    for outbox in db.scalars(select(Outbox).where(Outbox.bundle_id == bundle_id, Outbox.state == "pending")):
        outbox.state = "done"
        outbox.last_error = "cancelled"
        outbox.done_at = pctx.clock.now()
    for a in members:
        if State(a.state) not in TERMINAL:
            apps.move(db, pctx, a, State.CANCELLED, actor, "取消し / cancelled by the applicant")
    bundle.state = "cancelled"
    bundle.closed_at = pctx.clock.now()
    audit.record_citizen(db, me, A.BUNDLE_CANCELLED, f"bundle:{bundle.id}", event=bundle.event)
    return bundle


def close(db: Session, pctx: ProceduresContext, bundle_id: str, actor: str) -> None:
    bundle = db.get(Bundle, bundle_id)
    if bundle is not None and bundle.state == "open":
        bundle.state = "closed"
        bundle.closed_at = pctx.clock.now()
        audit.record(db, actor, A.BUNDLE_CLOSED, f"bundle:{bundle.id}", event=bundle.event)
