"""The citizen's wallet in the portal (issue 7, item 5): SD-JWT VCs bound to a key the citizen keeps.

- ``GET /my/wallet``: the credentials the person may add (``offers_for``) and, with JavaScript (``wallet.js``), the
  ones held in this browser. The browser wallet makes a P-256 key with WebCrypto (not extractable, kept in
  IndexedDB) and sends only its public JWK; the private key never leaves the device.
- ``POST /my/wallet/credentials``: issues one credential bound to the public JWK sent. JSON in (``fetch`` with
  ``X-CSRF-Token``) → JSON out (RFC 9457 problems for refusals); a form (no JavaScript, a JWK pasted from the CLI
  wallet) → a page with the credential and a button that saves it as a ``.sd-jwt`` file.
- ``POST /my/wallet/credentials/file``: the credential the page shows, as ``application/dc+sd-jwt`` (an
  attachment). It only echoes back an SD-JWT VC of this issuer, signature checked, that the form carries (nothing
  is stored server-side to fetch again).
- ``GET /my/wallet/present/{request_id}``: in :mod:`tsunagu.credentials.pages.wallet_present`.

Issuing needs a session opened with the card (a passkey session or a proxy cannot bind someone's credential to a
key); the service audits every issuance."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import MalformedToken, parse, verify
from tsunagu.credentials.http import credentials_context_of
from tsunagu.credentials.services import sdjwt_issuance as issuance
from tsunagu.credentials.services.sdjwt_keys import issuer_key
from tsunagu.kernel.access import Access, CitizenPrincipal
from tsunagu.kernel.clock import JST
from tsunagu.kernel.errors import DomainError, Forbidden, InvalidInput
from tsunagu.web.access import citizen_principal, guard
from tsunagu.web.context import ctx_of
from tsunagu.web.errors import problem
from tsunagu.web.templating import language, render

CITIZEN = [guard(Access.citizen())]
PAGE = "/my/wallet"
ISSUE = f"{PAGE}/credentials"
FILE = f"{ISSUE}/file"
MEDIA_TYPE = "application/dc+sd-jwt"
CARD_METHODS = frozenset({"card", "qr"})  # a session opened with the My Number card (on a PC or a phone)
JWK_MAX = 2000  # characters: a P-256 public JWK is about 130
SECTION = {
    "href": PAGE,
    "title": "ウォレット（デジタル証明書）",
    "description": "年齢確認・運転免許証・国家資格の証明書をこの端末に受け取り、お店などに必要な項目だけを示す",
    "title_en": "Wallet (digital credentials)",
    "description_en": "Receive age, driver's licence and qualification credentials on this device and show a "
    "verifier only what it asks for",
}
# Claim names as the wallet shows them (Japanese, English); the names follow sdjwt_claims.
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "age_over_18": ("18歳以上であること", "Aged 18 or over"),
    "age_over_20": ("20歳以上であること", "Aged 20 or over"),
    "birth_date": ("生年月日", "Date of birth"),
    "family_name": ("氏", "Family name"),
    "given_name": ("名", "Given name"),
    "address": ("住所", "Address"),
    "document_number": ("免許証番号", "Licence number"),
    "issue_date": ("交付日", "Issue date"),
    "expiry_date": ("有効期限", "Expiry date"),
    "issuing_authority": ("交付者", "Issuing authority"),
    "issuing_country": ("発行国", "Issuing country"),
    "licence_colour": ("免許証の色", "Licence colour"),
    "driving_privileges": ("運転できる車両の種類", "Vehicle categories"),
    "conditions": ("条件等", "Conditions"),
    "qualification": ("資格コード", "Qualification code"),
    "qualification_name": ("資格", "Qualification"),
    "registration_number": ("登録番号", "Registration number"),
    "registration_date": ("登録日", "Registration date"),
}
WORDS = {"_yes": ("はい", "Yes"), "_no": ("いいえ", "No"), "_none": ("なし", "None")}
VCT_TITLES = {issuance.VCTS[kind]: issuance.TITLES[kind] for kind in issuance.KINDS}


def labels(lang: str) -> dict[str, str]:
    """Claim names, yes/no and vehicle categories in the reader's language, for wallet.js."""
    i = 1 if lang == "en" else 0
    out = {name: pair[i] for name, pair in (CLAIM_LABELS | WORDS).items()}
    for code, ja in sdjwt_claims.VEHICLE_CATEGORIES.items():
        out[f"vc:{code}"] = code.replace("_", " ") if lang == "en" else ja
    return out


def owner_tag(request: Request, person_id: int) -> str:
    """A pseudonym of the person for the browser wallet (an HMAC of the person id under a key derived from the
    master secret): the wallet keeps each person's credentials apart in a shared browser without storing who
    they are."""
    key = credentials_context_of(request).wallet_owner_key  # derived once, when the app was built
    return hmac.new(key, str(person_id).encode("ascii"), hashlib.sha256).hexdigest()[:32]


def _may_issue(me: CitizenPrincipal) -> bool:
    return me.method in CARD_METHODS and me.acting_for is None


def _refuse_unless_card(me: CitizenPrincipal) -> None:
    if me.acting_for is not None:
        raise Forbidden(
            "A proxy cannot add the person's credentials to a wallet: the person adds them after logging in.",
            ja="代理人はご本人の証明書をウォレットに追加できません。ご本人がログインして追加してください。",
        )
    if me.method not in CARD_METHODS:
        raise Forbidden(
            "Log in with your My Number card to add a credential to a wallet.",
            ja="証明書をウォレットに追加するには、マイナンバーカードでログインしてください。",
        )


def _wallet_page(
    request: Request,
    me: CitizenPrincipal,
    *,
    errors: dict[str, list[tuple[str, str]]] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    with ctx.uow() as db:
        offers = issuance.offers_for(db, me.subject_person_id, today=ctx.clock.now().astimezone(JST).date())
    lang = language(request)
    return render(
        request,
        "credentials/wallet.html",
        status_code=status_code,
        me=me,
        offers=offers,
        may_issue=_may_issue(me),
        errors=errors or {},
        values=values or {},
        labels_json=json.dumps(labels(lang), ensure_ascii=False),
        owner=owner_tag(request, me.subject_person_id),
    )


def _holder_jwk(text: str) -> dict[str, Any]:
    """The pasted JWK as a JSON object; the service checks it is a public P-256 key."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise issuance.HolderKeyInvalid(
            "The public key is not JSON: paste the JWK the CLI wallet printed ({...}).",
            "公開鍵が JSON ではありません。CLI のウォレットが表示した JWK（{...}）を貼り付けてください。",
        ) from exc
    if not isinstance(value, dict):
        raise issuance.HolderKeyInvalid(
            "The public key must be one JWK object ({...}).", "公開鍵は JWK のオブジェクト（{...}）1つです。"
        )
    return value


def _issue(request: Request, me: CitizenPrincipal, kind: str, jwk: dict[str, Any]) -> issuance.Issued:
    _refuse_unless_card(me)
    if kind not in issuance.KINDS:
        raise InvalidInput(
            "Choose a credential from the list.", ja="一覧から証明書を選んでください。", field="kind"
        )
    ctx = ctx_of(request)
    with ctx.uow() as db:
        return issuance.issue_for(db, ctx, me.subject_person_id, kind, jwk, now=ctx.clock.now())


def _issued_json(issued: issuance.Issued) -> dict[str, Any]:
    return {
        "credential_id": issued.credential_id,
        "kind": issued.kind,
        "vct": issued.vct,
        "credential": issued.compact,
        "expires_at": issued.expires_at.isoformat(),
    }


async def _issue_json(request: Request, me: CitizenPrincipal) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return problem(request, 422, "invalid-input", "Invalid input", "Send {kind, holder_jwk} as JSON.")
    try:
        issued = _issue(request, me, str(body.get("kind", "")), body.get("holder_jwk"))  # type: ignore[arg-type]
    except DomainError as error:
        return problem(
            request, error.status, error.code, error.title, error.message(language(request)), **error.extra
        )
    return JSONResponse(_issued_json(issued), status_code=201)


async def _issue_form(request: Request, me: CitizenPrincipal) -> Response:
    form = await request.form()
    kind = str(form.get("kind", ""))[:40]
    text = str(form.get("holder_jwk", ""))[:JWK_MAX].strip()
    lang = language(request)
    try:
        if not text:
            raise issuance.HolderKeyInvalid(
                "Paste the public key (JWK) your wallet printed.",
                "ウォレットが表示した公開鍵（JWK）を貼り付けてください。",
            )
        issued = _issue(request, me, kind, _holder_jwk(text))
    except DomainError as error:
        field = error.field if error.field in ("holder_jwk", "kind") else "kind"
        errors = {kind: [(field, error.message(lang))]}
        shown = "" if '"d"' in text else text  # a pasted private key is not written back into the page
        return _wallet_page(request, me, errors=errors, values={kind: shown}, status_code=error.status)
    title = VCT_TITLES.get(issued.vct, (issued.vct, issued.vct))
    return render(
        request,
        "credentials/wallet_issued.html",
        me=me,
        issued=issued,
        title=title[1] if lang == "en" else title[0],
        filename=f"tsunagu-{issued.kind}-{issued.credential_id}.sd-jwt",
    )


def _checked_sd_jwt(request: Request, text: str) -> str:
    """An SD-JWT VC as this platform issues it (``<issuer-jwt>~<disclosure>~…~``, typ ``dc+sd-jwt``, signed with
    its issuer key), or :class:`InvalidInput`: the file route echoes nothing else."""
    try:
        parts = sdjwt.split(text)
        token = parse(parts.issuer_jwt)
        ours = issuer_key(ctx_of(request).settings)
        if parts.key_binding or token.header.get("typ") != sdjwt.TYP or token.payload.get("iss") != ours.iss:
            raise MalformedToken("not an SD-JWT VC of this issuer")
        if not verify(token, ours.key.public_key()):
            raise MalformedToken("bad signature")
    except MalformedToken as exc:
        raise InvalidInput(
            "This is not an SD-JWT VC issued here.", ja="ここで発行した SD-JWT VC ではありません。"
        ) from exc
    return text


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PAGE, dependencies=CITIZEN)
    async def wallet_page(request: Request) -> Response:
        return _wallet_page(request, citizen_principal(request))

    @r.post(ISSUE, dependencies=CITIZEN)
    async def issue(request: Request) -> Response:
        me = citizen_principal(request)
        if request.headers.get("content-type", "").startswith("application/json"):
            return await _issue_json(request, me)
        return await _issue_form(request, me)

    @r.post(FILE, dependencies=CITIZEN)
    async def download(request: Request) -> Response:
        citizen_principal(request)
        form = await request.form()
        compact = _checked_sd_jwt(request, str(form.get("credential", "")).strip())
        name = str(form.get("filename", "credential.sd-jwt"))
        safe = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "-_.")) or "credential.sd-jwt"
        return Response(
            compact,
            media_type=MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store"},
        )

    return r
