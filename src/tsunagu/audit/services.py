"""Writing and reading the audit trail. Writes join the caller's transaction (an action and its record commit
together); reads need ``audit:log:read``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tsunagu.audit.actions import AuditAction
from tsunagu.audit.models import AuditEntry
from tsunagu.kernel.access import CitizenPrincipal, Permission, Principal
from tsunagu.kernel.errors import Forbidden

MAX_PAGE = 200


_INSERT = insert(cast(Table, AuditEntry.__table__))  # built once: every login and view writes one entry


def record(db: Session, actor: str, action: AuditAction, subject: str = "", **detail: Any) -> None:
    """Add an entry to the caller's transaction (a Core insert: no ORM object per entry). ``detail`` holds
    counts and kinds, never personal data."""
    db.connection().execute(
        _INSERT,
        {
            "at": dt.datetime.now(dt.UTC),
            "actor": (actor or "-")[:64],
            "action": action.value,
            "subject": subject[:64],
            "detail": detail,
        },
    )


def citizen_actor(principal: CitizenPrincipal) -> str:
    """The actor string of a resident: ``person:12``, or ``person:12 for person:34`` when acting as a proxy."""
    me = f"person:{principal.person_id}"
    return f"{me} for person:{principal.acting_for}" if principal.acting_for is not None else me


def record_citizen(
    db: Session, principal: CitizenPrincipal, action: AuditAction, subject: str = "", **detail: Any
) -> None:
    """Record a resident's action; a proxy's acting is in the actor and in ``on_behalf_of``."""
    if principal.acting_for is not None:
        detail["on_behalf_of"] = f"person:{principal.acting_for}"
    record(db, citizen_actor(principal), action, subject, **detail)


@dataclass(frozen=True)
class EntryView:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def entries(
    db: Session, viewer: Principal, *, actor: str = "", subject: str = "", limit: int = 100
) -> list[EntryView]:
    """Newest first, optionally for one actor or one subject (``person:123``)."""
    if not viewer.can(Permission.AUDIT_LOG_READ):
        raise Forbidden(f"This needs the permission {Permission.AUDIT_LOG_READ}.")
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if subject:
        stmt = stmt.where(AuditEntry.subject == subject)
    return [
        EntryView(e.id, e.at, e.actor, e.action, e.subject, dict(e.detail or {})) for e in db.scalars(stmt)
    ]
