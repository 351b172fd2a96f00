"""The shell as a browser sees it: languages, security headers, health check, redirects."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tsunagu.app import create_app
from tsunagu.settings import Settings

HEADING_JA = "行政手続を、デジタルでつなぐ。"
HEADING_EN = "Connecting public services, digitally."
STAFF_PAGES = (
    "/staff",
    "/staff/residents",
    "/staff/residents/1",
    "/staff/residents/1/move",
    "/staff/registry/stats",
    "/staff/registry/export.csv",
)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', html)
    assert found, "the page has no <html lang> attribute"
    return found.group(1)


# --- languages -------------------------------------------------------------------------------------------


def test_top_page_is_japanese_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert html_lang(response.text) == "ja"
    assert f"<h1>{HEADING_JA}</h1>" in response.text


def test_top_page_follows_accept_language(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "en"})
    assert html_lang(response.text) == "en"
    assert f"<h1>{HEADING_EN}</h1>" in response.text
    assert HEADING_JA not in response.text


def test_accept_language_quality_values_are_respected(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "ja;q=0.4, en-GB;q=0.9, fr"})
    assert html_lang(response.text) == "en"


def test_language_switch_sets_a_cookie_that_wins_over_the_header(client: TestClient) -> None:
    switched = client.get("/language/en?next=/", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/"
    assert "tsunagu_lang=en" in switched.headers["set-cookie"]

    response = client.get("/", headers={"Accept-Language": "ja"})
    assert html_lang(response.text) == "en"
    assert f"<h1>{HEADING_EN}</h1>" in response.text

    client.get("/language/ja?next=/")
    back = client.get("/", headers={"Accept-Language": "en"})
    assert html_lang(back.text) == "ja"
    assert f"<h1>{HEADING_JA}</h1>" in back.text


def test_unknown_language_is_ignored(client: TestClient) -> None:
    response = client.get("/language/xx?next=/", follow_redirects=False)
    assert response.status_code == 303
    assert "tsunagu_lang" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/staff", "https://evil.example/", "/\\evil.example", "evil.example"],
)
def test_language_switch_refuses_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_language_switch_keeps_a_local_next(client: TestClient) -> None:
    response = client.get("/language/en", params={"next": "/staff/login"}, follow_redirects=False)
    assert response.headers["location"] == "/staff/login"


# --- security headers ------------------------------------------------------------------------------------


def assert_security_headers(response: object, *, https: bool = True) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    if https:
        assert headers["strict-transport-security"].startswith("max-age=")
        assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000
    else:
        assert "strict-transport-security" not in headers


def test_security_headers_on_html(client: TestClient) -> None:
    response = client.get("/")
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_json(client: TestClient) -> None:
    for path in ("/healthz", "/api/v1/residents?q=a", "/api/v1/municipalities/131016"):
        response = client.get(path)
        assert "json" in response.headers["content-type"], path
        assert_security_headers(response)


def test_security_headers_on_error_pages_and_csrf_refusal(client: TestClient) -> None:
    assert_security_headers(client.get("/no-such-page"))
    refused = client.post("/staff/login", data={"username": "x", "password": "y"})
    assert refused.status_code == 403
    assert_security_headers(refused)


def test_no_hsts_over_plain_http(new_client: Callable[..., TestClient]) -> None:
    plain = new_client(base_url="http://testserver")
    assert_security_headers(plain.get("/"), https=False)


def test_cookies_are_httponly_secure_and_samesite(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("tsunagu_csrf=")
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "secure" in lowered
    assert "samesite=strict" in lowered


def test_pages_need_no_inline_script_or_style(client: TestClient, clerk: TestClient) -> None:
    """The CSP forbids inline code, so the pages must not contain any."""
    pages = [
        client.get("/"),
        client.get("/staff/login"),
        clerk.get("/staff"),
        clerk.get("/staff/residents/1"),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.text
        assert "<style" not in html
        assert " style=" not in html
        assert re.search(r"<script(?![^>]*\ssrc=)", html) is None
        assert re.search(r"\son[a-z]+=", html) is None


# --- health and routing ----------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/health+json")
    assert response.json() == {"status": "pass", "database": "ok"}


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "ページが見つかりません" in response.text


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_redirect_anonymous_visitors_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/login?next={path}"


def test_login_page_keeps_only_a_local_next(client: TestClient) -> None:
    page = client.get("/staff/login", params={"next": "//evil.example"})
    assert page.status_code == 200
    assert 'name="next" value="/"' in page.text
    assert "evil.example" not in page.text


def test_the_access_log_never_contains_query_strings(
    clerk: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    my_number = "621498320257"  # a valid, synthetic My Number (the python-stdnum example)
    with caplog.at_level(logging.INFO, logger="tsunagu.access"):
        clerk.get("/staff/residents", params={"q": my_number})
        clerk.get("/api/v1/residents", params={"q": "サトウ"})
    lines = [r.getMessage() for r in caplog.records if r.name == "tsunagu.access"]
    assert any('"GET /staff/residents" 200' in line for line in lines), lines
    assert my_number not in caplog.text
    assert "サトウ" not in caplog.text


def test_the_demo_notice_shows_only_outside_production(client: TestClient, web_settings: Settings) -> None:
    assert "架空のデモデータ" in client.get("/").text  # the test environment is not production
    production = create_app(web_settings.model_copy(update={"environment": "production"}))
    try:
        page = TestClient(production, base_url="https://testserver").get("/")
        assert page.status_code == 200
        assert "架空のデモデータ" not in page.text
    finally:
        production.state.ctx.engine.dispose()
