"""A resident registers a passkey after a card login and then logs in with it, in Chromium with a virtual
authenticator (DevTools ``WebAuthn`` domain: CTAP2, internal transport, resident keys, user verification), at
1280 px and on a 360×740 phone. Every page visited is checked with axe-core.

The card-level session is created in the server's database and handed to the browser as its cookie (as a
finished card login would); the app has no test-only route.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tsunagu.db.engine import make_engine, make_session_factory, unit_of_work
from tsunagu.identity.citizen import pages as citizen_pages
from tsunagu.identity.citizen import services as citizen
from tsunagu.kernel.clock import Clock
from tsunagu.registry import api as registry_api
from tsunagu.registry.models import Person
from tsunagu.settings import Settings

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev lock installs playwright
    if os.environ.get("TSUNAGU_REQUIRE_E2E") == "1":
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext, Page
    from tests.e2e.conftest import Server

    Check = Callable[[Page, str], None]
    Shot = Callable[..., None]

from .conftest import virtual_authenticator

pytestmark = pytest.mark.e2e


def server_settings(server: Server) -> Settings:
    """The e2e server's settings (its own SQLite file and defaults; nothing from this shell's TSUNAGU_*)."""
    return Settings(data_dir=server.data_dir, database_url=None, environment="production", cookie_secure=True)


def card_session(server: Server, viewport: str) -> tuple[str, str]:
    """Open a card-level portal session for a resident (one per viewport) in the server's database; return the
    raw session id and the resident's name."""
    settings = server_settings(server)
    engine = make_engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            residents = select(Person.id).where(
                Person.status == "resident", Person.address_suppressed.is_(False)
            )
            offset = 0 if viewport == "desktop" else 1  # the last residents: no other journey moves them
            person_id = db.scalars(residents.order_by(Person.id.desc()).offset(offset).limit(1)).one()
            name = registry_api.basic_facts(db, person_id).name
            policy = citizen_pages.session_policy(settings)
            raw = citizen.open_citizen_session(db, Clock(), policy, person_id, name, "card")
    finally:
        engine.dispose()
    return raw, name


def give_cookie(context: BrowserContext, server: Server, raw: str) -> None:
    context.add_cookies(
        [
            {
                "name": citizen_pages.citizen_cookie_name(secure=True),
                "value": raw,
                "domain": urlsplit(server.url).hostname or "localhost",  # host-only, as __Host- requires
                "path": "/",
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def test_register_a_passkey_then_log_in_with_it(
    page: Page, server: Server, viewport: str, axe_check: Check, shot: Shot
) -> None:
    raw, name = card_session(server, viewport)
    give_cookie(page.context, server, raw)
    cdp, authenticator = virtual_authenticator(page)
    label = f"Pixel 9 ({viewport})"

    page.goto(server.at("/my"))
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    page.get_by_role("link", name="パスキー（スマホ用の認証情報）").click()
    expect(page).to_have_url(server.at("/my/passkeys"))
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキー（スマホ用の認証情報）")
    expect(page.get_by_text("登録済みのパスキーはありません。")).to_be_visible()
    axe_check(page, "my passkeys (none yet)")

    page.get_by_label("端末の名前").fill(label)
    page.get_by_role("button", name="パスキーを登録").click()
    expect(page).to_have_url(server.at("/my/passkeys?done=registered"))
    expect(page.get_by_role("status")).to_contain_text("パスキーを登録しました")
    expect(page.get_by_role("heading", level=3, name=label)).to_be_visible()
    expect(page.get_by_role("button", name="無効にする")).to_be_visible()
    axe_check(page, "my passkeys (registered)")
    shot(page, "passkeys-my")
    shot(page, "passkeys-my-phone-360")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"], (
        "the passkey must be discoverable (login needs no username)"
    )
    assert credentials[0]["rpId"] == "localhost"

    page.get_by_role("navigation", name="マイページメニュー").get_by_role("button", name="ログアウト").click()
    expect(page).to_have_url(re.compile(r"/\?logged_out=1$"))
    page.goto(server.at("/login?next=/my/logins"))
    page.get_by_role("link", name="パスキーでログイン").click()
    expect(page).to_have_url(server.at("/login/passkey?next=/my/logins"))
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーでログイン")
    axe_check(page, "passkey login")
    shot(page, "passkey-login")
    shot(page, "passkey-login-phone-360")

    page.get_by_role("button", name="パスキーを使う").click()
    expect(page).to_have_url(server.at("/my/logins"))
    expect(page.get_by_role("navigation", name="マイページメニュー")).to_contain_text(name)
    latest = page.locator("table tbody tr").first
    expect(latest).to_contain_text("パスキー")
    expect(latest).to_contain_text("成功")
    axe_check(page, "login history after a passkey login")

    # A passkey session may use the portal but not register another passkey: that needs the card.
    page.goto(server.at("/my/passkeys"))
    expect(page.get_by_text("マイナンバーカードでログインし直す")).to_be_visible()
    expect(page.get_by_label("端末の名前")).to_have_count(0)
    axe_check(page, "my passkeys (passkey session)")
