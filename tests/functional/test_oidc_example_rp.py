"""The example relying party in examples/rp/ (つなぐ銀行 口座開設) against the app, both in process: its own
authlib Starlette client does discovery, code + PKCE + nonce + acr_values, ID-token validation and userinfo."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tsunagu.app import create_app
from tsunagu.demo import DEMO_RELYING_PARTIES
from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.citizen import services as citizen
from tsunagu.registry import api as registry_api
from tsunagu.settings import Settings

from .conftest import csrf_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rp" / "app.py"
BANK = DEMO_RELYING_PARTIES[0]


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tsunagu_example_rp", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # authlib suggests httpx2
        spec.loader.exec_module(module)
    return module


@pytest.fixture
def live_app(web_settings: Settings) -> Iterator[FastAPI]:
    """The app on the real clock: the example validates ``exp`` against the time of day, as a real RP does."""
    app = create_app(web_settings)
    yield app
    app.state.ctx.engine.dispose()


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_the_example_bank_greets_the_resident_by_name(
    live_app: FastAPI, pick_resident: Callable[..., int], web_settings: Settings
) -> None:
    example = _example()
    assert "import tsunagu" not in EXAMPLE.read_text()
    assert "from tsunagu" not in EXAMPLE.read_text()
    config = example.Config(
        issuer=web_settings.public_url,
        client_id=BANK["client_id"],
        client_secret=BANK["client_secret"],
        redirect_uri=BANK["redirect_uris"][0],
        http={"transport": httpx.ASGITransport(app=live_app)},
    )
    rp = TestClient(example.create_app(config), base_url="http://localhost:8001")
    browser = TestClient(live_app, base_url="https://testserver")
    person = pick_resident()
    ctx = live_app.state.ctx
    with ctx.uow() as db:
        facts = registry_api.basic_facts(db, person)
        raw = citizen.open_citizen_session(
            db, ctx.clock, citizen_pages.session_policy(ctx.settings), person, facts.name, "card"
        )
    browser.cookies.set(citizen_pages.citizen_cookie_name(ctx.settings.cookie_secure), raw)

    start = rp.get("/login", follow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(web_settings.public_url + "/oidc/authorize?")
    assert "code_challenge_method=S256" in authorize
    assert "nonce=" in authorize
    assert "acr_values=urn%3Atsunagu%3Aacr%3Ajpki-card" in authorize
    consent = browser.get(local(authorize))
    assert "つなぐ銀行 口座開設" in consent.text
    assert "民間事業者" in consent.text
    answer = browser.post(
        local(authorize), data={"decision": "allow", "csrf_token": csrf_of(browser)}, follow_redirects=False
    )
    callback = answer.headers["location"]
    assert callback.startswith(BANK["redirect_uris"][0] + "?code=")
    done = rp.get(local(callback))
    assert done.status_code == 200, done.text
    assert f"こんにちは、{facts.name} さん" in done.text
    assert facts.birth_date.isoformat() in done.text
    rp.close()
    browser.close()
