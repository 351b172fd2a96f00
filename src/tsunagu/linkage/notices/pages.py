"""マイページ › お知らせ: the resident's notices from agencies, newest first, with read state.

A proxy acting for someone sees that person's notices (the page says so), and opening one marks it read for
that person, not for the proxy. A notice not addressed to the person is a 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.kernel.access import Access
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.notices import services
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.templating import render

CITIZEN = [guard(Access.citizen())]
PAGE_SIZE = 100
SECTION = {
    "href": "/my/notices",
    "title": "お知らせ",
    "description": "行政機関からあなたに届いたお知らせ",
    "title_en": "Notices",
    "description_en": "Notices to you from government agencies",
}


def install(ctx: AppContext) -> None:
    """Add the マイページ section (call once, before the app serves)."""
    ctx.extras.setdefault("my_sections", []).append(dict(SECTION))


def _keys(ctx: AppContext) -> LinkageKeys:
    keys = ctx.extras.get("linkage.notices.keys")
    if not isinstance(keys, LinkageKeys):
        keys = LinkageKeys.from_master(ctx.settings.master_secret())
        ctx.extras["linkage.notices.keys"] = keys
    return keys


def router() -> APIRouter:
    r = APIRouter(prefix="/my/notices", include_in_schema=False)

    @r.get("", dependencies=CITIZEN)
    async def notices_page(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        keys = _keys(ctx)
        with ctx.uow() as db:
            found = services.inbox(db, keys, me.subject_person_id, PAGE_SIZE)
            unread = services.unread_count(db, keys, me.subject_person_id)
        context: dict[str, Any] = {"me": me, "notices": found, "unread": unread}
        return render(request, "linkage/notices.html", **context)

    @r.get("/{notice_id:int}", dependencies=CITIZEN)
    async def notice_page(request: Request, notice_id: int) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            notice = services.mark_read(db, _keys(ctx), me.subject_person_id, notice_id, clock=ctx.clock)
        return render(request, "linkage/notice.html", me=me, notice=notice)

    return r
