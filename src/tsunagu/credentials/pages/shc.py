"""The citizen's vaccination records and certificates (接種証明書) in the portal, behind a card or passkey login (a
proxy acts for the person they represent):

- ``GET /my/vaccinations``: the person's doses, the certificates issued, and the form to get one (domestic or
  overseas; the overseas fields are on the same form, used only when 海外用 is chosen);
- ``POST /my/vaccinations/certificates``: issues one (CSRF-checked) and redirects to it, or shows the form again
  with the reason;
- ``GET /my/vaccinations/certificates/{id}``: the QR code and the download links;
- ``GET /my/vaccinations/certificates/{id}/card.smart-health-card``, ``…/qr.png``, ``…/qr.svg``: the files. Only
  for the card's owner: anyone else gets 404."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.audit import api as audit
from tsunagu.credentials.core import qr, shc
from tsunagu.credentials.http import credentials_context_of
from tsunagu.credentials.services import shc_issuance as issuance
from tsunagu.credentials.services import shc_romaji as romaji
from tsunagu.health import api as health
from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.kernel.errors import DomainError
from tsunagu.registry import api as registry
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
PAGE = "/my/vaccinations"
CARDS = f"{PAGE}/certificates"
OVERSEAS_FIELDS = ("passport_number", "nationality", "family_romaji", "given_romaji")
SECTION = {
    "href": PAGE,
    "title": "予防接種と接種証明書",
    "description": "新型コロナワクチンの接種記録の確認と、接種証明書（国内用・海外用）の発行",
    "title_en": "Vaccinations and certificates",
    "description_en": "See your COVID-19 vaccination record and get a vaccination certificate (domestic or overseas)",
}


def _form_page(
    request: Request,
    me: CitizenPrincipal,
    values: dict[str, str] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    status_code: int = 200,
) -> Response:
    cctx = credentials_context_of(request)
    with ctx_of(request).uow() as db:
        doses = health.doses_of(db, me.subject_person_id)
        cards = issuance.cards_of(db, cctx, me.subject_person_id)
        facts = registry.basic_facts(db, me.subject_person_id)
    return render(
        request,
        "credentials/shc_vaccinations.html",
        status_code=status_code,
        me=me,
        doses=doses,
        cards=cards,
        facts=facts,
        values=values or _defaults(facts),
        errors=list(errors),
        variants=issuance.VARIANTS,
    )


def _defaults(facts: registry.BasicFacts) -> dict[str, str]:
    """The form's first values: domestic, nationality JPN, and the name in Hepburn guessed from the registry's
    katakana reading (the citizen checks it against the passport)."""
    return {
        "variant": "domestic",
        "nationality": "JPN",
        "family_romaji": romaji.hepburn(facts.family_name_kana),
        "given_romaji": romaji.hepburn(facts.given_name_kana),
    }


def _overseas(form: FormData) -> issuance.OverseasDetails | None:
    if form.get("variant") != "overseas":
        return None
    values = {f: str(form.get(f, ""))[:60] for f in OVERSEAS_FIELDS}
    return issuance.OverseasDetails(**values)


def _card(request: Request, public_id: str) -> issuance.IssuedCardView:
    me = citizen_principal(request)
    with ctx_of(request).uow() as db:
        return issuance.card_of(db, credentials_context_of(request), me.subject_person_id, public_id)


def _download(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PAGE, dependencies=CITIZEN)
    async def vaccinations(request: Request) -> Response:
        return _form_page(request, citizen_principal(request))

    @r.post(CARDS, dependencies=CITIZEN)
    async def issue(request: Request) -> Response:
        me = citizen_principal(request)
        form = await request.form()
        values = {f: str(form.get(f, ""))[:60] for f in ("variant", *OVERSEAS_FIELDS)}
        try:
            with ctx_of(request).uow() as db:
                card = issuance.issue_card(
                    db,
                    credentials_context_of(request),
                    me.subject_person_id,
                    actor=audit.citizen_actor(me),
                    overseas=_overseas(form),
                )
        except DomainError as error:
            return _form_page(
                request, me, values, [(error.field or "", error.message(language(request)))], error.status
            )
        return RedirectResponse(f"{CARDS}/{card.public_id}", status_code=303)

    @r.get(CARDS + "/{public_id}", dependencies=CITIZEN)
    async def certificate(request: Request, public_id: str) -> Response:
        card = _card(request, public_id)
        with ctx_of(request).uow() as db:
            facts = registry.basic_facts(db, card.person_id)
        return render(
            request, "credentials/shc_certificate.html", me=citizen_principal(request), card=card, facts=facts
        )

    @r.get(CARDS + "/{public_id}/card.smart-health-card", dependencies=CITIZEN)
    async def card_file(request: Request, public_id: str) -> Response:
        card = _card(request, public_id)
        return _download(shc.file_body([card.jws]), shc.MIME_TYPE, "vaccination.smart-health-card")

    @r.get(CARDS + "/{public_id}/qr.png", dependencies=CITIZEN)
    async def card_png(request: Request, public_id: str) -> Response:
        card = _card(request, public_id)
        inline = request.query_params.get("inline") == "1"
        if inline:  # the <img> on the certificate page
            return Response(
                qr.png(card.jws, scale=4), media_type="image/png", headers={"Cache-Control": "no-store"}
            )
        return _download(qr.png(card.jws, scale=8), "image/png", "vaccination-qr.png")

    @r.get(CARDS + "/{public_id}/qr.svg", dependencies=CITIZEN)
    async def card_svg(request: Request, public_id: str) -> Response:
        card = _card(request, public_id)
        return _download(qr.svg(card.jws), "image/svg+xml", "vaccination-qr.svg")

    return r
