"""The application factory: the root lists the domains; each domain contributes its routes."""

from __future__ import annotations

import logging
from importlib import resources

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.staticfiles import StaticFiles

from tsunagu import __version__, wiring
from tsunagu.audit import pages as audit_pages
from tsunagu.credentials import context as credentials_context
from tsunagu.credentials import http as credentials_http
from tsunagu.credentials import http_sdjwt as sdjwt_http
from tsunagu.credentials.pages import presentation as presentation_pages
from tsunagu.credentials.pages import shc as shc_pages
from tsunagu.credentials.pages import verifier as verifier_pages
from tsunagu.credentials.pages import wallet as wallet_pages
from tsunagu.credentials.pages import wallet_present as wallet_present_pages
from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.health import pages as health_pages
from tsunagu.identity import api as identity_api
from tsunagu.identity import pages as identity_pages
from tsunagu.identity.cardlogin import http as cardlogin_http
from tsunagu.identity.cardlogin import pages as cardlogin_pages
from tsunagu.identity.cards import pages as cards_pages
from tsunagu.identity.citizen import card_pages as citizen_card_pages
from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.oidc import pages as oidc_pages
from tsunagu.identity.passkeys import pages as passkey_pages
from tsunagu.identity.proxies import pages as proxy_pages
from tsunagu.kernel.access import Access
from tsunagu.kernel.clock import Clock
from tsunagu.laws import pages as laws_pages
from tsunagu.linkage import api as linkage_api
from tsunagu.linkage.exchange import http as linkage_http
from tsunagu.linkage.notices import pages as notice_pages
from tsunagu.linkage.portal import pages as linkage_portal_pages
from tsunagu.payments import api as payments_api
from tsunagu.payments import http as payments_http
from tsunagu.payments.pages import accounts as payments_account_pages
from tsunagu.payments.pages import benefits as payments_benefit_pages
from tsunagu.payments.pages import staff as payments_staff_pages
from tsunagu.pki import api as pki_api
from tsunagu.pki import http as pki_http
from tsunagu.pki import pages as pki_pages
from tsunagu.procedures import api as procedures_api
from tsunagu.procedures import http as procedures_http
from tsunagu.procedures.pages import citizen as procedures_citizen_pages
from tsunagu.procedures.pages import staff as procedures_staff_pages
from tsunagu.registry import api as registry_api
from tsunagu.registry import http as registry_http
from tsunagu.registry import pages as registry_pages
from tsunagu.registry.services.records import RegistryContext
from tsunagu.settings import Settings
from tsunagu.web import errors, pages
from tsunagu.web.access import guard
from tsunagu.web.access_log import AccessLogMiddleware
from tsunagu.web.context import AppContext
from tsunagu.web.i18n import Translations
from tsunagu.web.security import SecurityMiddleware
from tsunagu.web.templating import make_environment

OPENAPI_URL = "/api/v1/openapi.json"
# Protocol endpoints called by programs without cookies (they read no cookie, so there is nothing to forge).
CSRF_EXEMPT = (
    "/api/v1/card-login/",
    "/oidc/token",
    "/oidc/userinfo",
    "/linkage/v1/",
    "/api/v1/presentations/",
)
API_DESCRIPTION = (
    "JSON API of tsunagu. Every error is RFC 9457 `application/problem+json`. Staff endpoints accept a "
    "bearer token (`tsunagu staff token`) or the staff session cookie with an `X-CSRF-Token` header for writes."
)


def _install_payments(app: FastAPI, ctx: AppContext) -> None:
    """The payments domain's pages and API (its context is built in :func:`create_app`)."""
    app.include_router(payments_account_pages.router())
    app.include_router(payments_http.router())
    ctx.extras.setdefault("my_sections", []).append(dict(payments_account_pages.SECTION))
    app.include_router(payments_benefit_pages.router())
    app.include_router(payments_staff_pages.router())
    ctx.extras.setdefault("my_sections", []).append(dict(payments_benefit_pages.SECTION))


def _install_credentials(app: FastAPI, ctx: AppContext) -> None:
    """The credentials domain's pages and API."""
    shc = credentials_context.credentials_context(ctx.settings, ctx.clock)
    ctx.extras["credentials"] = shc
    ctx.extras["dose_listeners"] = wiring.dose_listeners(shc)  # for the health domain's staff pages
    app.include_router(credentials_http.router())
    app.include_router(shc_pages.router())
    app.include_router(verifier_pages.router())
    ctx.extras.setdefault("my_sections", []).append(dict(shc_pages.SECTION))
    app.include_router(wallet_pages.router())
    app.include_router(wallet_present_pages.router())
    app.include_router(sdjwt_http.router())
    app.include_router(presentation_pages.router())
    ctx.extras.setdefault("my_sections", []).append(dict(wallet_pages.SECTION))


def _install_staff_offices(app: FastAPI) -> None:
    """Staff pages of domains that need no context of their own: vaccinations, law review."""
    app.include_router(health_pages.router())
    app.include_router(laws_pages.router())


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or Clock()
    engine = make_engine(settings)
    app = FastAPI(
        title="tsunagu",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below by a route that declares its access, like every other route
    )
    ctx = AppContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock,
        translations=Translations.load(),
        resolve_principal=identity_pages.resolve,
        resolve_citizen=citizen_pages.resolve_citizen,
    )
    ctx.extras["jinja"] = make_environment()
    trust = pki_api.trust_services(settings, clock)  # one per app: it caches the CA certificates
    ctx.extras["trust"] = trust
    exchange = linkage_api.build_exchange(
        ctx.sessions, trust, linkage_api.linkage_keys(settings), clock=clock, timeout=settings.linkage_timeout
    )
    ctx.extras["exchange"] = exchange
    listeners = wiring.registry_listeners(settings, clock, trust)
    reg = registry_api.registry_context(settings, clock, listeners)
    ctx.extras["procedures"] = procedures_api.procedures_context(
        settings, clock, exchange, identity_api.card_context(settings, clock, trust), listeners
    )
    ctx.extras["payments"] = payments_api.payments_context(settings, clock, exchange)

    def registry_ctx(_request: Request) -> RegistryContext:
        return reg

    app.state.ctx = ctx
    app.add_middleware(
        SecurityMiddleware, secure_cookies=settings.cookie_secure, csrf_exempt_prefixes=CSRF_EXEMPT
    )
    app.add_middleware(AccessLogMiddleware)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=str(resources.files("tsunagu.web") / "static")), name="static")
    home = registry_api.municipalities().get(settings.municipality_code)
    ctx.extras["site_name"] = home.name if home else settings.municipality_code
    app.include_router(pages.router(registry_pages.top_context(registry_ctx)))
    app.include_router(identity_pages.router())
    app.include_router(citizen_pages.router())
    app.include_router(oidc_pages.router(ctx))
    app.include_router(cardlogin_pages.router(lambda _request: trust))
    app.include_router(cardlogin_http.router(lambda _request: trust))
    app.include_router(proxy_pages.router())
    app.include_router(citizen_card_pages.router(lambda _request: trust))
    app.include_router(cards_pages.router(lambda _request: trust))
    ctx.extras.setdefault("my_sections", []).extend([citizen_card_pages.SECTION, proxy_pages.SECTION])
    app.include_router(passkey_pages.router(ctx))
    app.include_router(notice_pages.router())
    app.include_router(procedures_citizen_pages.router())
    app.include_router(procedures_http.router())
    app.include_router(procedures_staff_pages.router())
    ctx.extras.setdefault("my_sections", []).append(dict(procedures_citizen_pages.SECTION))
    _install_payments(app, ctx)
    _install_staff_offices(app)
    _install_credentials(app, ctx)
    notice_pages.install(ctx)
    app.include_router(linkage_http.router(lambda _request: exchange))
    app.include_router(linkage_portal_pages.router(lambda _request: exchange))
    linkage_portal_pages.install(ctx)
    app.include_router(audit_pages.router())
    app.include_router(registry_pages.router(registry_ctx))
    app.include_router(registry_http.router(registry_ctx))
    app.include_router(pki_http.router(lambda _request: trust))
    app.include_router(pki_pages.router(lambda _request: trust))

    @app.get(OPENAPI_URL, dependencies=[guard(Access.public())], include_in_schema=False)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


def app_from_environment() -> FastAPI:
    """Entry point for ``uvicorn --factory tsunagu.app:app_from_environment`` (used by ``tsunagu serve``)."""
    from tsunagu.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    platform_log = logging.getLogger("tsunagu")
    if not platform_log.handlers:  # one handler per worker process, on standard error
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        platform_log.addHandler(handler)
        platform_log.setLevel(settings.log_level)
    return create_app(settings)
