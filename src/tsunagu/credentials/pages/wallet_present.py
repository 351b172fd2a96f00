"""``GET /my/wallet/present/{request_id}``: a verifier's presentation request, seen from the person's wallet.

The page says in plain words what is asked (e.g. "20歳以上であること"), of which credential, by whom (the request's
``aud``) and until when. With JavaScript, ``wallet.js`` reads the request from the page (nonce, aud and
response_uri, as ``GET /api/v1/presentations/requests/{id}`` gives them), finds a matching credential in this
browser's wallet, shows exactly the claims it would share, and on consent posts the presentation (only the asked
disclosures and a KB-JWT signed in the browser) to the verifier. Without JavaScript the page explains the CLI
wallet (``tsunagu credentials wallet present --request URL``)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.credentials.pages.wallet import CITIZEN, CLAIM_LABELS, PAGE, VCT_TITLES, labels, owner_tag
from tsunagu.credentials.services import presentations
from tsunagu.web.access import citizen_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

REQUEST_API = "/api/v1/presentations/requests/{id}"


def claim_label(path: Sequence[str | int], lang: str) -> str:
    """A claim path in plain words: the top-level name's label, then any deeper member."""
    i = 1 if lang == "en" else 0
    head = str(path[0]) if path else ""
    text = CLAIM_LABELS.get(head, (head, head))[i]
    return " / ".join([text, *(str(p) for p in path[1:])])


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(f"{PAGE}/present/{{request_id}}", dependencies=CITIZEN)
    async def present_page(request: Request, request_id: str) -> Response:
        me = citizen_principal(request)
        ctx = ctx_of(request)
        lang = language(request)
        public_url = ctx.settings.public_url.rstrip("/")
        with ctx.uow() as db:
            asked = presentations.get_request(db, public_url, request_id[:64])
        return render(
            request,
            "credentials/wallet_present.html",
            me=me,
            asked=asked,
            asked_labels=[claim_label(p, lang) for p in asked.claims],
            vct_title=VCT_TITLES.get(asked.vct, (asked.vct, asked.vct))[1 if lang == "en" else 0],
            expired=ctx.clock.now() >= asked.expires_at,
            request_url=public_url + REQUEST_API.format(id=asked.id),
            request_json=json.dumps(asked.wallet_json(), ensure_ascii=False),
            labels_json=json.dumps(labels(lang), ensure_ascii=False),
            owner=owner_tag(request, me.subject_person_id),
        )

    return r
