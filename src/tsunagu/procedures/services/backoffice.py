"""The back office: each office's queue, review, correction requests, decisions and completion.

Completing writes where the procedure says (``completion``): the 転出 into the origin's registry, the 特例転入
into the destination's after a card check at the counter (which revokes the signature certificate through the
registry's listeners and closes the one-stop), the newborn's record, or a signed 住民票の写し. All through
``registry.api``, in the caller's transaction; every action is audited and notified."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.identity import api as identity
from tsunagu.kernel.access import Principal
from tsunagu.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from tsunagu.linkage import api as linkage
from tsunagu.pki import api as pki
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import TERMINAL, Completion, State
from tsunagu.procedures.models import Application, StaffOffice
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import bundles
from tsunagu.registry import api as registry

A = audit.AuditAction
DOCUMENT_TYP = "tsunagu-juminhyo+jwt"
FILINGS = uuid.UUID("6f1c2a4e-3b1d-4c55-9a51-7e0c6d3f2b10")  # namespace of the registry filing ids made here


def staff_actor(staff: Principal) -> str:
    return f"staff:{staff.username}"


# --- offices -------------------------------------------------------------------------------------------------


def offices_of(db: Session, username: str) -> list[str]:
    return list(
        db.scalars(
            select(StaffOffice.agency).where(StaffOffice.username == username).order_by(StaffOffice.agency)
        )
    )


def assign_office(db: Session, username: str, agency: str, actor: str) -> bool:
    """Let ``username`` work ``agency``'s queue (idempotent); ``agency`` must be a known agency code."""
    if agency not in {a.code for a in linkage.agencies()}:
        raise InvalidInput(
            f"Unknown agency {agency}.", ja=f"機関 {agency} は登録されていません。", field="agency"
        )
    if db.get(StaffOffice, (username, agency)) is not None:
        return False
    db.add(StaffOffice(username=username, agency=agency))
    audit.record(db, actor, A.STAFF_OFFICE_ASSIGNED, f"staff:{username}", agency=agency)
    return True


def _can_work(db: Session, staff: Principal, app: Application) -> None:
    if app.agency not in offices_of(db, staff.username):
        raise Forbidden(
            "This application belongs to another office's queue.", ja="この申請は、担当外の窓口のものです。"
        )


# --- queue ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    agency: str
    state: str = ""  # "" = every open state
    procedure: str = ""
    overdue: bool = False


OPEN = (State.SUBMITTED, State.IN_REVIEW, State.CORRECTION_REQUESTED, State.APPROVED)


def queue(db: Session, f: QueueFilter, today: dt.date, limit: int = 200) -> list[Application]:
    stmt = select(Application).where(Application.agency == f.agency)
    if f.state:
        stmt = stmt.where(Application.state == f.state)
    else:
        stmt = stmt.where(Application.state.in_([s.value for s in OPEN]))
    if f.procedure:
        stmt = stmt.where(Application.procedure_id == f.procedure)
    if f.overdue:
        stmt = stmt.where(Application.due_on < today)
    return list(db.scalars(stmt.order_by(Application.submitted_at, Application.id).limit(limit)))


def counts(db: Session, agency: str) -> dict[str, int]:
    rows = db.execute(
        select(Application.state, func.count())
        .where(Application.agency == agency)
        .group_by(Application.state)
    ).all()
    return {str(state): int(n) for state, n in rows}


def application(db: Session, staff: Principal, app_id: int) -> Application:
    app = db.get(Application, app_id)
    if app is None or app.state == State.DRAFT.value:
        raise NotFound("No such application.", ja="該当する申請はありません。")
    _can_work(db, staff, app)
    audit.record(
        db, staff_actor(staff), A.PROCEDURE_VIEWED, f"application:{app.id}", procedure=app.procedure_id
    )
    return app


def _locked(db: Session, staff: Principal, app_id: int) -> Application:
    app = db.scalar(select(Application).where(Application.id == app_id).with_for_update())
    if app is None or app.state == State.DRAFT.value:
        raise NotFound("No such application.", ja="該当する申請はありません。")
    _can_work(db, staff, app)
    return app


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput(
            "Give the reason (the applicant will read it).",
            ja="理由を入力してください（申請者に通知されます）。",
            field="reason",
        )
    if len(text) > 1000:
        raise InvalidInput(
            "Keep the reason under 1,000 characters.",
            ja="理由は1,000文字以内で入力してください。",
            field="reason",
        )
    return text


def start_review(db: Session, pctx: ProceduresContext, staff: Principal, app_id: int) -> Application:
    app = _locked(db, staff, app_id)
    apps.move(db, pctx, app, State.IN_REVIEW, staff_actor(staff))
    return app


def request_correction(
    db: Session, pctx: ProceduresContext, staff: Principal, app_id: int, reason: str
) -> Application:
    app = _locked(db, staff, app_id)
    apps.move(db, pctx, app, State.CORRECTION_REQUESTED, staff_actor(staff), _reason(reason))
    return app


def approve(db: Session, pctx: ProceduresContext, staff: Principal, app_id: int) -> Application:
    app = _locked(db, staff, app_id)
    apps.move(db, pctx, app, State.APPROVED, staff_actor(staff))
    return app


def reject(db: Session, pctx: ProceduresContext, staff: Principal, app_id: int, reason: str) -> Application:
    app = _locked(db, staff, app_id)
    apps.move(db, pctx, app, State.REJECTED, staff_actor(staff), _reason(reason))
    return app


# --- completion ----------------------------------------------------------------------------------------------


def _filing(app: Application, person_id: int, staff: Principal) -> registry.Filing:
    return registry.Filing(
        recorded_by=staff_actor(staff)[:64],
        reason=f"{apps.procedure_of(app.procedure_id).name_ja} {app.receipt_number}",
        filing_id=str(uuid.uuid5(FILINGS, f"{app.receipt_number}:{person_id}")),
    )


def _movers(db: Session, app: Application) -> list[int]:
    refs = [str(r) for r in app.values.get("movers") or []]
    bundle = bundles.bundle_of_id(db, app.bundle_id) if app.bundle_id else None
    if bundle is not None and bundle.inputs.get("mover_ids"):
        return [int(i) for i in bundle.inputs["mover_ids"]]
    return [bundles.person_of_ref(db, app.applicant_person_id, r) for r in refs]


def card_check(db: Session, pctx: ProceduresContext, person_ids: list[int], pin: str) -> int:
    """At the counter: a card of one of ``person_ids`` proves itself with its authentication key (the holder types
    the 4-digit PIN into the reader); return the holder. PIN refusals are raised after the chip wrote them."""
    for person_id in person_ids:
        serial = identity.active_card_of(db, person_id)
        if serial is None:
            continue
        chip = identity.chip_for(db, pctx.cards, serial)
        challenge = secrets.token_bytes(32)
        signature = chip.sign(identity.PinSlot.AUTHENTICATION, pin, challenge)
        der = chip.read_certificate(identity.PinSlot.AUTHENTICATION)
        verdict = pctx.cards.trust.verify_signature(
            db, der, pki.CertificateKind.AUTHENTICATION, challenge, signature
        )
        card = identity.card_for_certificate(db, verdict.certificate.serial) if verdict.certificate else None
        if (
            not verdict.valid_signature
            or verdict.revoked_at is not None
            or card is None
            or card.person_id != person_id
        ):
            raise Forbidden(verdict.message, ja=verdict.message_ja)
        return person_id
    raise Forbidden(
        "None of the people moving has a usable card.",
        ja="転入する方の有効なマイナンバーカードがありません。",
    )


def complete(
    db: Session, pctx: ProceduresContext, staff: Principal, app_id: int, *, checked_person: int | None = None
) -> Application:
    """完了: do what completing this procedure means, then move it to completed."""
    app = _locked(db, staff, app_id)
    if State(app.state) in TERMINAL:
        raise Conflict("This application is already closed.", ja="この申請はすでに終了しています。")
    procedure = apps.procedure_of(app.procedure_id)
    if procedure.completion is Completion.MOVE_OUT:
        _record_move_out(db, pctx, staff, app)
    elif procedure.completion is Completion.MOVE_IN:
        _record_move_in(db, pctx, staff, app, checked_person)
    elif procedure.completion is Completion.BIRTH:
        _record_birth(db, pctx, staff, app)
    elif procedure.completion is Completion.RESIDENT_RECORD_COPY:
        _issue_resident_record(db, pctx, staff, app)
    apps.move(db, pctx, app, State.COMPLETED, staff_actor(staff))
    return app


def _record_move_out(db: Session, pctx: ProceduresContext, staff: Principal, app: Application) -> None:
    ctx = pctx.registry_for(apps.lg_of(app.agency))
    day = dt.date.fromisoformat(str(app.values["move_date"]))
    movers = _movers(db, app)  # the head last: the registry refuses a head leaving members behind
    for person_id in sorted(movers, key=lambda p: registry.basic_facts(db, p).relationship == "head"):
        registry.record_move_out(
            db, ctx, person_id, str(app.values["destination_lg_code"]), day, _filing(app, person_id, staff)
        )


def _record_move_in(
    db: Session, pctx: ProceduresContext, staff: Principal, app: Application, checked: int | None
) -> None:
    if app.bundle_id is None:
        raise Conflict(
            "A move-in reservation belongs to a moving one-stop.",
            ja="転入予約は引越しワンストップの届出です。",
        )
    origin = next(
        (a for a in bundles.applications_in(db, app.bundle_id) if a.procedure_id == "tenshutsu"), None
    )
    if origin is None or origin.state != State.COMPLETED.value:
        raise Conflict(
            "The origin municipality has not processed the move-out yet.",
            ja="転出元の市区町村で、まだ転出の処理が終わっていません。",
        )
    movers = _movers(db, origin)
    if checked is None or checked not in movers:
        raise Forbidden(
            "Check the card of a person moving in first.",
            ja="先に転入する方のマイナンバーカードを確認してください。",
        )
    day = dt.date.fromisoformat(str(origin.values["move_date"]))
    if day > pctx.clock.today():
        raise Conflict(
            f"The move-in can be completed from the moving date ({day.isoformat()}) on.",
            ja=f"転入の手続は、引越しの日（{day.year}年{day.month}月{day.day}日）以降に窓口で行えます。",
        )
    address = registry.NewAddress(
        str(origin.values["destination_town"]),
        str(origin.values["destination_block"]),
        str(origin.values.get("destination_building") or ""),
    )
    ctx = pctx.registry_for(apps.lg_of(app.agency))
    filing = _filing(app, movers[0], staff)
    registry.record_move_in_existing(
        db, ctx, movers, address, day, filing, from_lg_code=apps.lg_of(origin.agency)
    )
    audit.record(db, staff_actor(staff), A.PROCEDURE_CARD_CHECKED, f"person:{checked}", application=app.id)
    bundles.close(db, pctx, app.bundle_id, staff_actor(staff))


def _record_birth(db: Session, pctx: ProceduresContext, staff: Principal, app: Application) -> None:
    v = app.values
    parent = registry.basic_facts(db, app.applicant_person_id)
    child = registry.NewPerson(
        family_name=str(v["child_family_name"]),
        given_name=str(v["child_given_name"]),
        family_name_kana=str(v["child_family_name_kana"]),
        given_name_kana=str(v["child_given_name_kana"]),
        birth_date=dt.date.fromisoformat(str(v["child_birth_date"])),
        sex=registry.Sex(str(v["child_sex"])),
    )
    registry.start_record(
        db,
        pctx.registry_for(parent.lg_code),
        registry.EventKind.BIRTH,
        child,
        registry.NewAddress(parent.town, parent.block, parent.building),
        registry.Placement(parent.household_id, registry.Relationship.CHILD),
        child.birth_date,
        _filing(app, app.applicant_person_id, staff),
    )
    if app.bundle_id:
        bundles.close(db, pctx, app.bundle_id, staff_actor(staff))


def _issue_resident_record(db: Session, pctx: ProceduresContext, staff: Principal, app: Application) -> None:
    facts = registry.basic_facts(db, app.subject_person_id)
    if facts.address_suppressed:
        raise Forbidden(
            "A support measure is in force: issue this copy at the counter.",
            ja="支援措置の対象のため、住民票の写しは窓口で交付してください。",
        )
    record = {
        "name": facts.name,
        "name_kana": facts.name_kana,
        "birth_date": facts.birth_date.isoformat(),
        "sex": facts.sex,
        "address": facts.address,
        "relationship": facts.relationship,
    }
    claims: dict[str, object] = {"receipt": app.receipt_number, "document": "住民票の写し", "person": record}
    if app.values.get("include_household"):
        claims["household"] = [
            {
                "name": m.name,
                "name_kana": m.name_kana,
                "birth_date": m.birth_date.isoformat(),
                "relationship": m.relationship,
            }
            for m in bundles.current_members(db, facts.household_id)
        ]
    app.document = linkage.sign_document(
        db, pctx.platform.ring, app.agency, DOCUMENT_TYP, claims, at=pctx.clock.now()
    )
    audit.record(
        db, staff_actor(staff), A.PROCEDURE_DOCUMENT_ISSUED, f"application:{app.id}", document="juminhyo"
    )


def document_b64(app: Application) -> str:
    return base64.b64encode((app.document or "").encode()).decode()
