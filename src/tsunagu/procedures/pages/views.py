"""What the back-office templates read: plain rows built inside the unit of work, names in the page's language.

Least data: a subject or applicant is shown by name only (no address, no birth date) in the queue and the
headings; the values filed are shown on the detail page, which the services audit as a view."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.linkage import api as linkage
from tsunagu.procedures.context import ProceduresContext
from tsunagu.procedures.core.catalogue import TERMINAL, Completion, FieldSpec, FieldType, Procedure, State
from tsunagu.procedures.models import Application, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import backoffice, bundles
from tsunagu.procedures.sources import catalogue
from tsunagu.registry import api as registry

QUEUE_STATES = (
    *(s.value for s in backoffice.OPEN),
    State.COMPLETED.value,
    State.REJECTED.value,
    State.WITHDRAWN.value,
    State.CANCELLED.value,
)
ACTION_ORDER = (
    ("review", State.IN_REVIEW),
    ("correction", State.CORRECTION_REQUESTED),
    ("approve", State.APPROVED),
    ("reject", State.REJECTED),
    ("complete", State.COMPLETED),
)


def known_state(state: str) -> str:
    return state if state in QUEUE_STATES else ""


def known_procedure(pid: str) -> str:
    return pid if catalogue().get(pid) is not None else ""


def queue_empty() -> dict[str, Any]:
    return {"office": "", "filters": None, "rows": [], "counts": [], "states": (), "procedures": []}


def agency_names(lang: str) -> dict[str, str]:
    return {a.code: a.name_en if lang == "en" else a.name_ja for a in linkage.agencies()}


def office_choices(offices: list[str], lang: str) -> list[tuple[str, str]]:
    names = agency_names(lang)
    return [(code, names.get(code, code)) for code in offices]


def procedure_choices(lang: str) -> list[tuple[str, str]]:
    return [(p.id, p.name(lang)) for p in catalogue().procedures.values()]


def count_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(s, counts.get(s, 0)) for s in QUEUE_STATES if s != State.DRAFT.value]


@dataclass(frozen=True)
class QueueRow:
    id: int
    receipt_number: str
    procedure: Procedure
    subject_name: str
    submitted_at: dt.datetime | None
    due_on: dt.date | None
    overdue: bool
    state: str
    channel: str


def _name(db: Session, person_id: int) -> str:
    return registry.basic_facts(db, person_id).name


def queue_rows(db: Session, found: list[Application], today: dt.date) -> list[QueueRow]:
    names: dict[int, str] = {}
    rows = []
    for a in found:
        if a.subject_person_id not in names:
            names[a.subject_person_id] = _name(db, a.subject_person_id)
        rows.append(
            QueueRow(
                a.id,
                a.receipt_number or "",
                apps.procedure_of(a.procedure_id),
                names[a.subject_person_id],
                a.submitted_at,
                a.due_on,
                _overdue(a, today),
                a.state,
                a.channel,
            )
        )
    return rows


def _overdue(a: Application, today: dt.date) -> bool:
    return a.due_on is not None and a.due_on < today and State(a.state) not in TERMINAL


def dead_row(row: Outbox, lang: str) -> dict[str, Any]:
    payload = row.payload or {}
    procedure = catalogue().get(str(payload.get("procedure", "")))
    return {
        "id": row.id,
        "bundle_id": row.bundle_id,
        "key": row.key,
        "procedure": procedure.name(lang) if procedure else str(payload.get("procedure", "")),
        "agency": agency_names(lang).get(str(payload.get("agency", "")), str(payload.get("agency", ""))),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": row.created_at,
    }


# --- detail --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldLine:
    label: str
    value: str
    prefilled: bool
    spec: FieldSpec | None = None  # the field, for forms that render it as an input


def _value(spec: FieldSpec, value: Any, members: dict[str, str], lang: str) -> str:
    """A filed value as a person reads it (choices and members by their labels, yes/no, yen)."""
    text = ""
    if value is None or value in ("", []):
        text = ""
    elif spec.type is FieldType.BOOLEAN:
        text = ("Yes" if value else "No") if lang == "en" else ("はい" if value else "いいえ")
    elif spec.type is FieldType.CHOICE:
        text = next((c.label(lang) for c in spec.choices if c.value == str(value)), str(value))
    elif spec.type is FieldType.MEMBERS and isinstance(value, list):
        text = "、".join(members.get(str(v), str(v)) for v in value)
    elif spec.type is FieldType.MUNICIPALITY:
        found = registry.municipalities().get(str(value))
        text = found.name if found else str(value)
    elif spec.type is FieldType.YEN and isinstance(value, int):
        text = f"{value:,}円" if lang == "ja" else f"¥{value:,}"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text


def _member_names(app: Application) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in app.facts.get("members", []) if isinstance(app.facts, dict) else []:
        if isinstance(m, dict) and "ref" in m:
            out[str(m["ref"])] = f"{m.get('family_name', '')} {m.get('given_name', '')}".strip()
    return out


def field_lines(app: Application, procedure: Procedure, lang: str) -> list[FieldLine]:
    members = _member_names(app)
    prefilled = set(app.prefilled or [])
    return [
        FieldLine(
            spec.label(lang),
            _value(spec, app.values.get(spec.name), members, lang),
            spec.name in prefilled,
            spec,
        )
        for spec in procedure.fields
    ]


@dataclass(frozen=True)
class ExchangeLine:
    exchange_id: str
    provider: str
    items: tuple[str, ...]
    provided_at: dt.datetime | None


def exchange_lines(db: Session, pctx: ProceduresContext, app: Application, lang: str) -> list[ExchangeLine]:
    """The hub exchanges behind the pre-filled values, with who provided what (from the exchange log)."""
    wanted = list(dict.fromkeys(app.exchanges or []))
    if not wanted:
        return []
    found: dict[str, linkage.ExchangeView] = {}
    for person in dict.fromkeys((app.subject_person_id, app.applicant_person_id, app.filed_by_person_id)):
        for view in linkage.exchanges_about(db, pctx.keys, person, include_withheld=True):
            if view.exchange_id in wanted:
                found[view.exchange_id] = view
    names = agency_names(lang)
    items = {code: i.name_en if lang == "en" else i.name_ja for code, i in linkage.dictionary().items.items()}
    lines = []
    for eid in wanted:
        v = found.get(eid)
        lines.append(
            ExchangeLine(
                eid,
                names.get(v.provider, v.provider) if v else "",
                tuple(items.get(i, i) for i in v.items) if v else (),
                v.provided_at if v else None,
            )
        )
    return lines


@dataclass(frozen=True)
class HistoryLine:
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class Sibling:
    id: int
    procedure: str
    office: str
    state: str
    receipt_number: str
    mine: bool  # in a queue the viewer works: linked


def bundle_view(db: Session, app: Application, offices: list[str], lang: str) -> dict[str, Any] | None:
    if app.bundle_id is None:
        return None
    bundle = bundles.bundle_of_id(db, app.bundle_id)
    if bundle is None:
        return None
    names = agency_names(lang)
    siblings = [
        Sibling(
            a.id,
            apps.procedure_of(a.procedure_id).name(lang),
            names.get(a.agency, a.agency),
            a.state,
            a.receipt_number or "",
            a.agency in offices,
        )
        for a in bundles.applications_in(db, bundle.id)
        if a.id != app.id
    ]
    return {
        "id": bundle.id,
        "event": bundle.event,
        "state": bundle.state,
        "siblings": siblings,
        "pending": bundles.pending_in(db, bundle.id),
    }


def actions(procedure: Procedure, state: State) -> list[str]:
    out = [name for name, target in ACTION_ORDER if procedure.can_move(state, target)]
    return [a for a in out if a != "complete" or state not in TERMINAL]


def detail(
    db: Session, pctx: ProceduresContext, app: Application, username: str, lang: str
) -> dict[str, Any]:
    """Everything the detail page shows; ``username``'s offices decide which sibling applications link."""
    procedure = apps.procedure_of(app.procedure_id)
    offices = backoffice.offices_of(db, username)
    people = dict.fromkeys((app.subject_person_id, app.applicant_person_id, app.filed_by_person_id))
    names = {p: _name(db, p) for p in people}
    today = pctx.clock.today()
    return {
        "app": app,
        "procedure": procedure,
        "legal_basis": procedure.legal_basis.text(lang),
        "office": f"{agency_names(lang).get(app.agency, app.agency)} {procedure.office(lang)}",
        "subject_name": names[app.subject_person_id],
        "applicant_name": names[app.applicant_person_id],
        "filed_by_name": names[app.filed_by_person_id]
        if app.filed_by_person_id != app.applicant_person_id
        else "",
        "fields": field_lines(app, procedure, lang),
        "exchanges": exchange_lines(db, pctx, app, lang),
        "overdue": _overdue(app, today),
        "history": [
            HistoryLine(e.from_state, e.to_state, e.actor, e.reason, e.at) for e in apps.history(db, app.id)
        ],
        "bundle": bundle_view(db, app, offices, lang),
        "actions": actions(procedure, State(app.state)),
        "needs_card": procedure.completion is Completion.MOVE_IN,
    }
