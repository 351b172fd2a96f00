"""Jinja2 rendering with the request's language, CSRF token and principal in every template."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tsunagu.kernel.clock import JST
from tsunagu.kernel.wareki import to_wareki
from tsunagu.web.access import current_citizen, current_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.i18n import negotiate
from tsunagu.web.security import csrf_token


def make_environment(extra_dirs: list[str] | None = None) -> Environment:
    base = str(resources.files("tsunagu.web") / "templates")
    env = Environment(
        loader=FileSystemLoader([base, *(extra_dirs or [])]),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wareki"] = to_wareki
    env.filters["jst"] = jst
    return env


def jst(value: dt.datetime) -> str:
    """A stored instant (always aware: see ``db.types.UTCDateTime``) in Japan Standard Time."""
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")


def language(request: Request) -> str:
    if not hasattr(request.state, "lang"):
        request.state.lang = negotiate(request, ctx_of(request).settings.default_language)
    lang: str = request.state.lang
    return lang


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    lang = language(request)
    env: Environment = ctx.extras["jinja"]

    def _(message: str, **values: Any) -> str:
        text = ctx.translations.gettext(lang, message)
        return text.format(**values) if values else text

    html = env.get_template(template).render(
        request=request,
        lang=lang,
        _=_,
        csrf_token=csrf_token(request),
        principal=current_principal(request),
        citizen=current_citizen(request),
        path=request.url.path,
        query=request.url.query,
        site_name=ctx.extras.get("site_name", ""),
        environment=ctx.settings.environment,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
