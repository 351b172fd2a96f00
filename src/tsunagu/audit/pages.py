"""The audit trail for auditors (監査担当): newest first, filtered by staff member or by subject."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.audit import services
from tsunagu.kernel.access import Access, Permission
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import render

READ = [guard(Access.staff(Permission.AUDIT_LOG_READ))]


def router() -> APIRouter:
    r = APIRouter(prefix="/staff", include_in_schema=False)

    @r.get("/audit", dependencies=READ)
    async def audit_page(request: Request, actor: str = "", subject: str = "") -> Response:
        with ctx_of(request).uow() as db:
            found = services.entries(
                db, staff_principal(request), actor=actor.strip(), subject=subject.strip()
            )
        return render(request, "audit/entries.html", entries=found, actor=actor, subject=subject)

    return r
