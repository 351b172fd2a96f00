"""マイページ › やりとり履歴 and 自己情報: the person's side of the linkage.

- ``GET /my/exchanges``: every exchange about the person, newest first, with a downloadable RFC 9162 inclusion
  proof per line (``GET /my/exchanges/{id}/proof.json``; someone else's exchange is a 404, like one that does not
  exist). Exchanges in which a provider marked an item not disclosable (番号法 art. 23(2)) are not listed.
- ``GET /my/self-information`` explains; ``POST`` fetches the person's data from each source agency through the
  hub (one logged exchange per agency) and shows it. Nothing fetched is kept.

A proxy acting for someone sees and fetches that person's data (the pages say so) and the requests carry
``by_proxy``. Every fetch and every proof download is audited."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.audit import api as audit
from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.kernel.errors import NotFound
from tsunagu.linkage.exchange.history import ExchangeView, exchanges_about, inclusion_proof_for
from tsunagu.linkage.exchange.platform import ExchangePlatform
from tsunagu.linkage.keys import LinkageKeys
from tsunagu.linkage.log.signer import LogSigner
from tsunagu.linkage.portal import formatting, services
from tsunagu.linkage.sources import agencies, dictionary, legal_basis
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import AppContext, ctx_of
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
HISTORY_SIZE = 200
EXCHANGE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LOG_KEY_URL = "/linkage/v1/log/key"
SECTIONS = (
    {
        "href": "/my/exchanges",
        "title": "やりとり履歴",
        "description": "行政機関の間で、あなたの情報がいつ、どの事務のためにやりとりされたか",
        "title_en": "Data exchange history",
        "description_en": "When agencies exchanged your information, and for which business",
    },
    {
        "href": "/my/self-information",
        "title": "自己情報",
        "description": "税・年金・予防接種・公金受取口座など、各機関が持つあなたの情報を確認する",
        "title_en": "Your information held by agencies",
        "description_en": "See what agencies hold about you: tax, pension, vaccinations, public-fund account",
    },
)


def install(ctx: AppContext) -> None:
    """Add this package's sections to マイページ (call once, before the app serves)."""
    ctx.extras.setdefault("my_sections", []).extend(dict(s) for s in SECTIONS)


def _keys(ctx: AppContext) -> LinkageKeys:
    keys = ctx.extras.get("linkage.portal.keys")
    if not isinstance(keys, LinkageKeys):
        keys = LinkageKeys.from_master(ctx.settings.master_secret())
        ctx.extras["linkage.portal.keys"] = keys
    return keys


def _signer(ctx: AppContext) -> LogSigner:
    signer = ctx.extras.get("linkage.portal.signer")
    if not isinstance(signer, LogSigner):
        signer = LogSigner.from_settings(ctx.settings)
        ctx.extras["linkage.portal.signer"] = signer
    return signer


@dataclass(frozen=True)
class HistoryLine:
    view: ExchangeView
    requester: str
    provider: str
    business: str
    items: tuple[str, ...]


def _names(lang: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Agency, business and item names in the page's language."""
    en = lang == "en"
    agency = {a.code: a.name_en if en else a.name_ja for a in agencies()}
    business = {r.business: r.business_name_en if en else r.business_name_ja for r in legal_basis().rows}
    items = {code: i.name_en if en else i.name_ja for code, i in dictionary().items.items()}
    return agency, business, items


def _lines(found: list[ExchangeView], lang: str) -> list[HistoryLine]:
    agency, business, items = _names(lang)
    return [
        HistoryLine(
            v,
            agency.get(v.requester, v.requester),
            agency.get(v.provider, v.provider),
            business.get(v.business, v.business),
            tuple(items.get(i, i) for i in v.items),
        )
        for v in found
    ]


def _shown(results: list[services.SourceResult], lang: str) -> list[dict[str, Any]]:
    """The results as the template reads them: names in the page's language, values formatted."""
    return [
        {
            "result": r,
            "name": r.name(lang),
            "error": services.error_message(r.error, lang) if r.error else None,
            "items": [
                {
                    "item": i,
                    "name": i.name(lang),
                    "shown": formatting.show(i.code, i.value, lang)
                    if i.state == services.ItemState.SHOWN
                    else None,
                }
                for i in r.items
            ],
        }
        for r in results
    ]


def _acting(me: CitizenPrincipal) -> bool:
    return me.acting_for is not None


def router(platform_of: Callable[[Request], ExchangePlatform]) -> APIRouter:
    r = APIRouter(prefix="/my", include_in_schema=False)

    @r.get("/exchanges", dependencies=CITIZEN)
    async def exchanges_page(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        with ctx.uow() as db:
            found = exchanges_about(db, _keys(ctx), me.subject_person_id, limit=HISTORY_SIZE)
        lines = _lines(found, language(request))
        return render(request, "linkage/exchanges.html", me=me, lines=lines, log_key_url=LOG_KEY_URL)

    @r.get("/exchanges/{exchange_id}/proof.json", dependencies=CITIZEN)
    async def proof_download(request: Request, exchange_id: str) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        if not EXCHANGE_ID.match(exchange_id):
            raise NotFound("No such exchange in your history.", ja="やりとり履歴にその記録はありません。")
        with ctx.uow() as db:  # a write: the hub may sign a new tree head that covers the entry
            proof = inclusion_proof_for(
                db, _keys(ctx), _signer(ctx), me.subject_person_id, exchange_id, ctx.clock
            )
            audit.record_citizen(
                db,
                me,
                audit.AuditAction.LINKAGE_PROOF_DOWNLOADED,
                f"person:{me.subject_person_id}",
                exchange=exchange_id,
                tree_size=proof["tree_size"],
            )
        body = json.dumps(proof, ensure_ascii=False, indent=2) + "\n"
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="tsunagu-proof-{exchange_id}.json"',
                "Cache-Control": "no-store",
            },
        )

    @r.get("/self-information", dependencies=CITIZEN)
    async def self_information_page(request: Request) -> Response:
        me = citizen_principal(request)
        sources = _source_names(language(request))
        return render(request, "linkage/self_information.html", me=me, results=None, sources=sources)

    @r.post("/self-information", dependencies=CITIZEN)
    async def self_information_fetch(request: Request) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        results = await run_in_threadpool(  # several exchanges, each in its own transactions: off the loop
            services.fetch_self_information,
            platform_of(request),
            _keys(ctx),
            me.subject_person_id,
            by_proxy=_acting(me),
        )
        with ctx.uow() as db:
            services.record_fetch(db, me, results)
        lang = language(request)
        return render(
            request,
            "linkage/self_information.html",
            me=me,
            results=_shown(results, lang),
            sources=_source_names(lang),
        )

    return r


def _source_names(lang: str) -> list[str]:
    agency, _business, _items = _names(lang)
    return [agency.get(s.agency, s.agency) for s in services.SOURCES]
