"""つなぐ銀行 口座開設 — an example private-sector relying party that logs residents in through tsunagu.

A separate, small Starlette app. It knows tsunagu only as an OpenID Connect provider: it reads the discovery
document, sends the resident to the authorization endpoint (authorization code + PKCE S256 + nonce, asking for
the card's authentication level), validates the ID token (signature against the JWKS, ``iss``, ``aud``, ``exp``,
``nonce``, ``acr``), calls the userinfo endpoint and greets the resident by name. It never imports tsunagu.

Run it (see README.md): ``RP_CLIENT_ID=… RP_CLIENT_SECRET=… uvicorn --factory app:create_app --port 8001``.
"""

from __future__ import annotations

import html
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

ACR_CARD = "urn:tsunagu:acr:jpki-card"  # the My Number card and its PIN: what account opening needs (犯収法)
SCOPES = "openid profile address birthdate"


@dataclass(frozen=True)
class Config:
    issuer: str = "http://localhost:8000"
    client_id: str = "tsunagu-bank-demo"
    client_secret: str = "demo-bank-secret-not-for-production"  # noqa: S105 - the demo's published secret
    redirect_uri: str = "http://localhost:8001/callback"
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    http: dict[str, Any] = field(default_factory=dict)  # extra httpx client options (tests pass a transport)

    @classmethod
    def from_environment(cls) -> Config:
        env = os.environ
        defaults = cls()
        return cls(
            issuer=env.get("RP_ISSUER", defaults.issuer).rstrip("/"),
            client_id=env.get("RP_CLIENT_ID", defaults.client_id),
            client_secret=env.get("RP_CLIENT_SECRET", defaults.client_secret),
            redirect_uri=env.get("RP_REDIRECT_URI", defaults.redirect_uri),
            session_secret=env.get("RP_SESSION_SECRET", defaults.session_secret),
        )


PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | つなぐ銀行</title></head>
<body><header><p><strong>つなぐ銀行</strong>（架空の銀行です）</p></header><main>{body}</main></body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


def create_app(config: Config | None = None) -> Starlette:
    config = config or Config.from_environment()
    oauth = OAuth()
    oauth.register(
        "tsunagu",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=config.issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", **config.http},
    )
    tsunagu = oauth.create_client("tsunagu")

    async def home(request: Request) -> Response:
        person = request.session.get("person")
        if person:
            facts = "".join(
                f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>"
                for k, v in person.items()
            )
            body = (
                f"<h1>こんにちは、{html.escape(person['氏名'])} さん</h1>"
                "<p>マイナンバーカードで本人確認ができました。次の内容で口座開設のお申し込みを受け付けます。</p>"
                f"<dl>{facts}</dl>"
                '<form method="post" action="/logout"><button type="submit">終了する</button></form>'
            )
            return page("口座開設", body)
        body = (
            "<h1>つなぐ銀行 口座開設</h1>"
            "<p>マイナンバーカードで本人確認をすると、氏名・住所・生年月日の入力と本人確認書類の送付が不要です。</p>"
            '<p><a href="/login">マイナンバーカードで本人確認して口座を開設する</a></p>'
        )
        return page("口座開設", body)

    async def login(request: Request) -> Response:
        # PKCE (S256) and a nonce are added by authlib; acr_values asks tsunagu for a card login.
        response: Response = await tsunagu.authorize_redirect(
            request, config.redirect_uri, acr_values=ACR_CARD
        )
        return response

    async def callback(request: Request) -> Response:
        try:
            token = await tsunagu.authorize_access_token(
                request,
                claims_options={
                    "iss": {"essential": True, "value": config.issuer},
                    "acr": {"essential": True, "value": ACR_CARD},
                },
            )
            info = await tsunagu.userinfo(token=token)
        except OAuthError as error:
            body = (
                "<h1>本人確認ができませんでした</h1>"
                f"<p>{html.escape(error.error or '')}: {html.escape(error.description or '')}</p>"
                '<p><a href="/">最初からやり直す</a></p>'
            )
            return page("本人確認エラー", body, status=400)
        id_token = token["userinfo"]  # the validated ID token claims
        if info.get("sub") != id_token["sub"]:
            return page("本人確認エラー", "<h1>本人確認ができませんでした</h1>", status=400)
        address = info.get("address") or {}
        request.session["person"] = {
            "氏名": info.get("name", ""),
            "フリガナ": info.get("name#ja-Kana-JP", ""),
            "生年月日": info.get("birthdate", ""),
            "住所": address.get("formatted", "（提供されませんでした）"),
            "本人確認の方法": id_token.get("acr", ""),
        }
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/logout", logout, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=config.session_secret, same_site="lax")],
    )
