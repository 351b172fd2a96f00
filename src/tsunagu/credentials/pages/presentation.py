"""The verifier's page (``/verify/presentation``, public): a shop or an office chooses what to ask (20歳以上, 18歳以上,
the licence's vehicle categories, a qualification), gets a request with a link and a QR code for the holder's wallet
(``/my/wallet/present/{id}``), and reads the result with a plain GET (no JavaScript): pending, or valid / invalid
with the reason and exactly the claims the holder disclosed."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import segno
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.credentials.core.sdjwt_claims import (
    AGE_VCT,
    DRIVING_LICENCE_VCT,
    QUALIFICATION_VCT,
    VEHICLE_CATEGORIES,
)
from tsunagu.credentials.services import presentations
from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import NotFound
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

PUBLIC = [guard(Access.public())]
PAGE = "/verify/presentation"
WALLET_PRESENT = "/my/wallet/present/"
QR_MASK = 0  # fixed: the symbol is the same for the same link
# What a verifier can ask: key → (vct, claim paths, Japanese, English)
ASKS: dict[str, tuple[str, list[list[str | int]], str, str]] = {
    "age_over_20": (AGE_VCT, [["age_over_20"]], "20歳以上であること", "Aged 20 or over"),
    "age_over_18": (AGE_VCT, [["age_over_18"]], "18歳以上であること", "Aged 18 or over"),
    "driving_privileges": (
        DRIVING_LICENCE_VCT,
        [["driving_privileges"], ["expiry_date"]],
        "運転免許の種類と有効期限",
        "Driving licence categories and expiry",
    ),
    "qualification": (
        QUALIFICATION_VCT,
        [["qualification"], ["qualification_name"], ["registration_number"]],
        "国家資格（資格名と登録番号）",
        "National qualification (name and registration number)",
    ),
}
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "age_over_20": ("20歳以上", "Aged 20 or over"),
    "age_over_18": ("18歳以上", "Aged 18 or over"),
    "birth_date": ("生年月日", "Date of birth"),
    "family_name": ("氏", "Family name"),
    "given_name": ("名", "Given name"),
    "address": ("住所", "Address"),
    "driving_privileges": ("運転免許の種類", "Licence categories"),
    "expiry_date": ("有効期限", "Expiry date"),
    "issue_date": ("交付日", "Issue date"),
    "document_number": ("免許証番号", "Licence number"),
    "issuing_authority": ("交付者", "Issuing authority"),
    "issuing_country": ("発行国", "Issuing country"),
    "licence_colour": ("帯の色", "Band colour"),
    "conditions": ("条件等", "Conditions"),
    "qualification": ("資格コード", "Qualification code"),
    "qualification_name": ("資格名", "Qualification"),
    "registration_number": ("登録番号", "Registration number"),
    "registration_date": ("登録年月日", "Registration date"),
}
VCT_TITLES = {
    AGE_VCT: ("年齢確認", "Age"),
    DRIVING_LICENCE_VCT: ("運転免許証", "Driver's licence"),
    QUALIFICATION_VCT: ("国家資格", "National qualification"),
}


def _value(name: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return ("はい" if value else "いいえ") if lang == "ja" else ("Yes" if value else "No")
    if name == "driving_privileges" and isinstance(value, list):
        codes = [v.get("vehicle_category_code", "") for v in value if isinstance(v, dict)]
        return "、".join(VEHICLE_CATEGORIES.get(c, c) if lang == "ja" else c for c in codes)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def disclosed_rows(disclosed: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, value) for each disclosed claim, in a stable order."""
    rows = []
    for name in sorted(disclosed):
        labels = CLAIM_LABELS.get(name, (name, name))
        rows.append((labels[0] if lang == "ja" else labels[1], _value(name, disclosed[name], lang)))
    return rows


def qr_data_uri(url: str) -> str:
    code = segno.make_qr(url, error="m", mask=QR_MASK, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=5, border=4, xmldecl=False, title="QR")
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def asked_labels(claims: list[list[str | int]], lang: str) -> list[str]:
    out = []
    for path in claims:
        name = str(path[0])
        labels = CLAIM_LABELS.get(name, (name, name))
        out.append(labels[0] if lang == "ja" else labels[1])
    return out


def router() -> APIRouter:
    r = APIRouter(tags=["credentials"])

    @r.get(PAGE, dependencies=PUBLIC, include_in_schema=False)
    async def choose(request: Request) -> Response:
        """What to ask the holder."""
        return render(request, "credentials/presentation.html", asks=ASKS, error=None)

    @r.post(PAGE, dependencies=PUBLIC, include_in_schema=False)
    async def create(request: Request) -> Response:
        """Create the request and show it (POST-redirect-GET)."""
        form = await request.form()
        ask = ASKS.get(str(form.get("ask", "")))
        if ask is None:
            return render(
                request,
                "credentials/presentation.html",
                status_code=422,
                asks=ASKS,
                error="求める内容を選んでください。" if language(request) == "ja" else "Choose what to ask.",
            )
        ctx = ctx_of(request)
        with ctx.uow() as db:
            view = presentations.create_request(
                db, ctx.settings.public_url, claims=ask[1], vct=ask[0], now=ctx.clock.now()
            )
        return RedirectResponse(f"{PAGE}/{view.id}", status_code=303)

    @r.get(PAGE + "/{request_id}", dependencies=PUBLIC, include_in_schema=False)
    async def show(request: Request, request_id: str) -> Response:
        """The request (link and QR code) and its result; reload with 結果を確認."""
        ctx = ctx_of(request)
        lang = language(request)
        with ctx.uow() as db:
            try:
                view = presentations.get_request(db, ctx.settings.public_url, request_id)
            except NotFound:
                return render(request, "credentials/presentation.html", status_code=404, asks=ASKS,
                              error="該当する要求はありません。" if lang == "ja" else "No such request.")  # fmt: skip
        link = ctx.settings.public_url + WALLET_PRESENT + view.id
        titles = VCT_TITLES.get(view.vct, (view.vct, view.vct))
        return render(
            request,
            "credentials/presentation_request.html",
            view=view,
            link=link,
            qr=qr_data_uri(link),
            vct_title=titles[0] if lang == "ja" else titles[1],
            asked=asked_labels(view.claims, lang),
            rows=disclosed_rows(view.disclosed or {}, lang),
            message=presentations.reason_message(view.reason, lang) if view.reason else "",
            expired=view.state == "pending" and ctx.clock.now() >= view.expires_at,
        )

    return r
