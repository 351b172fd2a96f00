"""Applications: drafts, submission (signed where the procedure requires it), receipts, state changes, notices.

Every state change goes through :func:`move`: the procedure's workflow must allow it; it appends a
``proc_application_events`` row, an audit entry and a notice (お知らせ) to the applicant, all in the caller's
transaction. Services never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.audit import api as audit
from tsunagu.kernel.access import CitizenPrincipal
from tsunagu.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from tsunagu.linkage import api as linkage
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core import forms
from tsunagu.procedures.core.catalogue import WITHDRAWABLE, Assurance, FieldType, Procedure, State
from tsunagu.procedures.models import Application, ApplicationEvent
from tsunagu.procedures.services import prefill, signatures
from tsunagu.procedures.sources import catalogue
from tsunagu.registry import api as registry

A = audit.AuditAction
RECEIPT_TYP = "tsunagu-receipt+jwt"
SIGNED_TYP = "tsunagu-application-v1"
JST = dt.timezone(dt.timedelta(hours=9))
EDITABLE = (State.DRAFT, State.CORRECTION_REQUESTED)
LG_IN_CODE = re.compile(r"\d{6}")  # an agency code naming a municipality (NHI-142051, LG-131016-TAX)


class FormInvalid(InvalidInput):
    """The form has errors; ``errors`` lists them per field (each in ja and en)."""

    def __init__(self, errors: list[forms.FieldError]) -> None:
        first = errors[0]
        super().__init__(
            f"{len(errors)} field(s) need attention: {first.en}",
            ja=f"入力内容を確認してください（{len(errors)}件）: {first.ja}",
            field=first.field,
        )
        self.errors = errors


class SignatureRequired(InvalidInput):
    code = "signature-required"
    title = "Signature required"


def procedure_of(pid: str) -> Procedure:
    found = catalogue().get(pid)
    if found is None:
        raise NotFound("No such procedure.", ja="該当する手続はありません。")
    return found


def agency_for(procedure: Procedure, lg_code: str) -> str:
    """The office's agency code: a municipality's own (``LG-<code>``), or the agency of that type."""
    if procedure.agency_type == "municipality":
        return f"LG-{lg_code}"
    found = [a.code for a in linkage.agencies() if a.type == procedure.agency_type]
    if not found:
        raise NotFound(f"No agency handles {procedure.agency_type}.", ja="この手続を扱う機関がありません。")
    local = [c for c in found if lg_code and lg_code in c]
    if local:
        return local[0]
    national = [c for c in found if not LG_IN_CODE.search(c)]  # one agency for the country (JPS)
    # a municipal office (国保, 住民税) that has no agency code of its own there: the municipality handles it
    return national[0] if national else f"LG-{lg_code}"


def lg_of(agency: str) -> str:
    """The municipality code in an agency code (``LG-142051`` → ``142051``), or ``""``."""
    parts = agency.split("-")
    return parts[1] if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) == 6 else ""


def _now(pctx: ProceduresContext) -> dt.datetime:
    return pctx.clock.now()


def citizen_actor(me: CitizenPrincipal) -> str:
    return (
        f"person:{me.person_id}" if me.acting_for is None else f"person:{me.person_id}>person:{me.acting_for}"
    )


# --- creating ------------------------------------------------------------------------------------------------


def new_application(
    db: Session,
    pctx: ProceduresContext,
    procedure: Procedure,
    *,
    agency: str,
    subject_id: int,
    applicant_id: int,
    filed_by_id: int,
    values: Mapping[str, Any],
    facts: Mapping[str, Any],
    prefilled: list[str],
    exchanges: list[str],
    channel: str,
    bundle_id: str | None = None,
    bundle_key: str | None = None,
) -> Application:
    now = _now(pctx)
    app = Application(
        procedure_id=procedure.id,
        agency=agency,
        subject_person_id=subject_id,
        applicant_person_id=applicant_id,
        filed_by_person_id=filed_by_id,
        bundle_id=bundle_id,
        bundle_key=bundle_key,
        channel=channel,
        state=State.DRAFT.value,
        values=dict(values),
        facts=dict(facts),
        prefilled=prefilled,
        exchanges=exchanges,
        started_at=now,
        updated_at=now,
    )
    db.add(app)
    db.flush()
    return app


def create_draft(
    db: Session, pctx: ProceduresContext, me: CitizenPrincipal, procedure: Procedure, fetched: prefill.Fetched
) -> Application:
    """A draft for the person the citizen acts for, pre-filled with what the hub returned."""
    if not procedure.online:
        raise Forbidden(
            "This procedure is filed at the counter or through a one-stop.",
            ja="この手続は窓口またはワンストップで届け出てください。",
        )
    subject = me.subject_person_id
    facts = registry.basic_facts(db, subject)
    if facts.status != "resident":
        raise Forbidden(
            "Only current residents can apply online.", ja="現在の住民の方のみオンラインで申請できます。"
        )
    if not procedure.may_apply(by_proxy=me.acting_for is not None, is_head=facts.relationship == "head"):
        if me.acting_for is not None:
            raise Forbidden(
                "A proxy cannot file this procedure; the person files it themself.",
                ja="この手続は代理人による申請を受け付けていません。ご本人が申請してください。",
            )
        raise Forbidden(
            "Only the head of the household (世帯主) can file this procedure.",
            ja="この手続は世帯主の方が申請してください。",
        )
    values = prefill.fill(procedure, fetched)
    app = new_application(
        db,
        pctx,
        procedure,
        agency=agency_for(procedure, facts.lg_code),
        subject_id=subject,
        applicant_id=subject,
        filed_by_id=me.person_id,
        values=values,
        facts={
            "members": fetched.members(),
            "held": sorted(fetched.held),
            "values": dict(fetched.values),
            "failed": dict(fetched.failed),
        },
        prefilled=sorted(values),
        exchanges=list(fetched.exchanges),
        channel="online",
    )
    audit.record_citizen(
        db, me, A.PROCEDURE_STARTED, f"application:{app.id}", procedure=procedure.id, prefilled=len(values)
    )
    return app


# --- reading -------------------------------------------------------------------------------------------------


def own_application(
    db: Session, me: CitizenPrincipal, app_id: int, *, for_update: bool = False
) -> Application:
    """The application if the citizen (or the person they act for) applied or is its subject; else 404."""
    stmt = select(Application).where(Application.id == app_id)
    if for_update:
        stmt = stmt.with_for_update()
    app = db.scalar(stmt)
    who = me.subject_person_id
    if app is None or who not in (app.applicant_person_id, app.subject_person_id):
        raise NotFound("No such application.", ja="該当する申請はありません。")
    return app


def applications_of(db: Session, person_id: int, limit: int = 200) -> list[Application]:
    return list(
        db.scalars(
            select(Application)
            .where(
                (Application.applicant_person_id == person_id) | (Application.subject_person_id == person_id)
            )
            .order_by(Application.id.desc())
            .limit(limit)
        )
    )


def history(db: Session, app_id: int) -> list[ApplicationEvent]:
    return list(
        db.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app_id)
            .order_by(ApplicationEvent.id)
        )
    )


# --- forms ---------------------------------------------------------------------------------------------------


def choices_for(db: Session, app: Application, procedure: Procedure) -> forms.Choices:
    members = [str(m.get("ref")) for m in app.facts.get("members", []) if isinstance(m, dict)]
    towns: dict[str, tuple[str, ...]] | None = None
    if any(f.type in (FieldType.MUNICIPALITY, FieldType.TOWN) for f in procedure.fields):
        here = lg_of(app.agency)
        towns = {lg: t for lg in registry.municipalities() if lg != here and (t := registry.towns_of(lg))}
    return forms.Choices(members, towns)


def clean_values(
    db: Session, pctx: ProceduresContext, app: Application, raw: forms.Raw, *, partial: bool = False
) -> dict[str, Any]:
    procedure = procedure_of(app.procedure_id)
    held = {name: app.values[name] for name in app.prefilled if name in app.values}
    values, errors = forms.clean(
        procedure,
        raw,
        prefilled=held,
        today=pctx.clock.today(),
        choices=choices_for(db, app, procedure),
        partial=partial,
    )
    if errors:
        raise FormInvalid(errors)
    return values


def save_draft(
    db: Session,
    pctx: ProceduresContext,
    me: CitizenPrincipal,
    app_id: int,
    raw: forms.Raw,
    *,
    partial: bool = True,
) -> Application:
    """Keep the typed values (``partial``: missing ones are not errors yet; a bad value always is)."""
    app = own_application(db, me, app_id, for_update=True)
    _editable(app)
    app.values = clean_values(db, pctx, app, raw, partial=partial)
    app.updated_at = _now(pctx)
    audit.record_citizen(db, me, A.PROCEDURE_SAVED, f"application:{app.id}", procedure=app.procedure_id)
    return app


def _editable(app: Application) -> None:
    if State(app.state) not in EDITABLE:
        raise Conflict(
            "This application has been submitted and can no longer be edited.",
            ja="この申請は提出済みのため、変更できません。",
        )


def signing_input(app: Application, values: Mapping[str, Any]) -> bytes:
    """The bytes a signer signs: the procedure, the office, the application and every value (canonical JSON)."""
    body = {
        "typ": SIGNED_TYP,
        "application": app.id,
        "procedure": app.procedure_id,
        "agency": app.agency,
        "values": dict(values),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# --- submitting ----------------------------------------------------------------------------------------------


def receipt_number(app: Application, at: dt.datetime) -> str:
    prefix = lg_of(app.agency) or app.agency
    return f"{prefix}-{at.astimezone(JST):%Y%m%d}-{app.id:07d}"


def raw_from_values(values: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Stored values as a form would send them (a saved draft is checked again on submission)."""
    out: dict[str, str | list[str]] = {}
    for key, value in values.items():
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif isinstance(value, bool):
            out[key] = "on" if value else ""
        elif value is not None:
            out[key] = str(value)
    return out


def submit(
    db: Session,
    pctx: ProceduresContext,
    me: CitizenPrincipal,
    app_id: int,
    raw: forms.Raw | None = None,
    *,
    signed: signatures.Signed | None = None,
) -> Application:
    """Validate, check the signature where the procedure requires one, give a receipt number and a signed
    receipt, and move the application to submitted (a resubmission after a correction request keeps its
    number). Submitting the same application again returns it unchanged. ``raw``: the form, or ``None`` for the
    values saved in the draft."""
    return submit_loaded(db, pctx, me, own_application(db, me, app_id, for_update=True), raw, signed=signed)


def submit_loaded(
    db: Session,
    pctx: ProceduresContext,
    me: CitizenPrincipal,
    app: Application,
    raw: forms.Raw | None = None,
    *,
    signed: signatures.Signed | None = None,
) -> Application:
    """:func:`submit` for an application the caller has loaded (for update) and checked is the citizen's."""
    if State(app.state) not in EDITABLE:
        return app  # submitted before (a double click, a retried request): the first submission stands
    procedure = procedure_of(app.procedure_id)
    values = clean_values(db, pctx, app, raw if raw is not None else raw_from_values(app.values))
    data = signing_input(app, values)
    if procedure.assurance is Assurance.SIGNATURE:
        if signed is None:
            raise SignatureRequired(
                "This procedure must be signed with the signature certificate of your card.",
                ja="この手続はマイナンバーカードの署名用電子証明書による電子署名が必要です。",
            )
        signatures.verify_signed(db, pctx, me.person_id, data, signed)
        app.signature, app.certificate = signed.signature, signed.certificate
        app.signed_digest = hashlib.sha256(data).hexdigest()
        app.signed_at = _now(pctx)
    app.values = values
    finish_submission(db, pctx, app, procedure, citizen_actor(me))
    return app


def finish_submission(
    db: Session, pctx: ProceduresContext, app: Application, procedure: Procedure, actor: str
) -> None:
    """Receipt number, due date and the agency's signed receipt; then the move to submitted (with its notice)."""
    now = _now(pctx)
    first = app.submitted_at is None
    if first:
        app.submitted_at = now
        app.receipt_number = receipt_number(app, now)
        app.due_on = (now.astimezone(JST) + dt.timedelta(days=procedure.processing_days)).date()
    app.receipt = linkage.sign_document(
        db,
        pctx.platform.ring,
        app.agency,
        RECEIPT_TYP,
        {
            "receipt": app.receipt_number,
            "procedure": procedure.id,
            "procedure_name": procedure.name_ja,
            "submitted_at": int(now.timestamp()),
            "digest": hashlib.sha256(signing_input(app, app.values)).hexdigest(),
            "signed": app.signature is not None,
        },
        at=now,
    )
    move(db, pctx, app, State.SUBMITTED, actor)


# --- state changes -------------------------------------------------------------------------------------------

NOTICE = {
    State.SUBMITTED: ("受け付けました", "received"),
    State.IN_REVIEW: ("審査を始めました", "is being reviewed"),
    State.CORRECTION_REQUESTED: ("補正（修正）をお願いします", "needs a correction"),
    State.APPROVED: ("承認されました", "was approved"),
    State.COMPLETED: ("手続が完了しました", "is complete"),
    State.REJECTED: ("却下されました", "was rejected"),
    State.WITHDRAWN: ("取り下げました", "was withdrawn"),
    State.CANCELLED: ("取り消しました", "was cancelled"),
}


def move(
    db: Session, pctx: ProceduresContext, app: Application, target: State, actor: str, reason: str = ""
) -> None:
    """Change the state if the workflow allows it; record the change, audit it and tell the applicant."""
    procedure = procedure_of(app.procedure_id)
    current = State(app.state)
    if not procedure.can_move(current, target):
        raise Conflict(
            f"An application that is {current.value} cannot become {target.value}.",
            ja="この申請の現在の状態では、その操作はできません。",
        )
    now = _now(pctx)
    app.state = target.value
    app.updated_at = now
    if reason:
        app.reason = reason
    if target in (State.APPROVED, State.REJECTED):
        app.decided_at = now
    if target is State.COMPLETED:
        app.completed_at = now
        app.decided_at = app.decided_at or now
    db.add(
        ApplicationEvent(
            application_id=app.id,
            from_state=current.value,
            to_state=target.value,
            actor=actor[:64],
            reason=reason,
            at=now,
        )
    )
    if target is State.SUBMITTED:  # the actor names a proxy and the person acted for ("person:7>person:9")
        audit.record(
            db,
            actor,
            A.PROCEDURE_SUBMITTED,
            f"application:{app.id}",
            procedure=app.procedure_id,
            receipt=app.receipt_number,
        )
    else:
        audit.record(
            db, actor, A.PROCEDURE_MOVED, f"application:{app.id}", procedure=app.procedure_id, to=target.value
        )
    notify(db, pctx, app, procedure, target, reason)


def notify(
    db: Session,
    pctx: ProceduresContext,
    app: Application,
    procedure: Procedure,
    state: State,
    reason: str = "",
) -> None:
    ja, en = NOTICE.get(state, ("状態が変わりました", "changed"))
    number = app.receipt_number or "-"
    body_ja = f"{procedure.name_ja}（受付番号 {number}）: {ja}。"
    body_en = f"Your {procedure.name_en} (receipt {number}) {en}."
    if reason:
        body_ja += f"\n理由: {reason}"
        body_en += f"\nReason: {reason}"
    code = pctx.code_for(db, app.agency, app.applicant_person_id)
    linkage.send_to_code(
        db,
        pctx.keys,
        app.agency,
        code,
        f"{procedure.name_ja}: {ja}",
        f"{procedure.name_en}: {en}",
        body_ja,
        body_en,
        f"/my/applications/{app.id}",
        clock=pctx.clock,
    )


def withdraw(db: Session, pctx: ProceduresContext, me: CitizenPrincipal, app_id: int) -> Application:
    """取下げ by the applicant, before a decision."""
    app = own_application(db, me, app_id, for_update=True)
    if app.state == State.WITHDRAWN.value:
        return app
    if State(app.state) not in WITHDRAWABLE or app.applicant_person_id != me.subject_person_id:
        raise Conflict(
            "This application can no longer be withdrawn.",
            ja="この申請は、現在の状態では取り下げできません。",
        )
    move(db, pctx, app, State.WITHDRAWN, citizen_actor(me))
    return app
