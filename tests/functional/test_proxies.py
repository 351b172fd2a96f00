"""Proxies (代理人): a parent registers as legal proxy of a minor child and acts for them (visible and audited); a
guardian is registered by staff with the CLI; nobody but the principal revokes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tsunagu.audit.models import AuditEntry
from tsunagu.cli import build
from tsunagu.registry.models import Person
from tsunagu.settings import Settings

from .conftest import AS_OF, SECRET, CitizenLoginFn, ClientFactory


def _parent_and_minor(web_app: FastAPI) -> tuple[int, int, str]:
    adult_before = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    with web_app.state.ctx.uow() as db:
        rows = db.execute(
            select(Person.id, Person.household_id, Person.relationship, Person.birth_date, Person.given_name)
            .where(Person.status == "resident", Person.address_suppressed.is_(False))
            .order_by(Person.household_id.desc(), Person.id)
        ).all()
    heads = {hh: pid for pid, hh, rel, _b, _n in rows if rel == "head"}
    for pid, hh, rel, born, name in rows:
        if rel == "child" and born > adult_before and hh in heads:
            return heads[hh], pid, name
    pytest.fail("the demo has no household with a minor child")


def test_a_parent_acts_for_a_minor_child_and_it_is_visible_and_audited(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    web_app: FastAPI,
) -> None:
    parent, child, child_given = _parent_and_minor(web_app)
    browser = new_client()
    citizen_session(browser, parent)
    page = browser.get("/my/proxies").text
    assert "未成年の子" in page
    response = browser.post(
        "/my/proxies/children",
        data={"child": str(child), "csrf_token": csrf(browser)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = browser.get("/my/proxies").text
    grant = re.search(r"/my/proxies/(\d+)/act", page).group(1)  # type: ignore[union-attr]
    browser.post(f"/my/proxies/{grant}/act", data={"csrf_token": csrf(browser)})
    my = browser.get("/my").text
    assert "代理人として操作中" in my
    assert child_given in my
    # While acting, the proxy cannot manage the principal's proxies or stop the principal's card.
    invite = browser.post("/my/proxies/invite", data={"csrf_token": csrf(browser)}, follow_redirects=False)
    assert invite.status_code == 403
    assert (
        browser.post("/my/card/suspend", data={"confirm": "yes", "csrf_token": csrf(browser)}).status_code
        == 403
    )
    browser.post("/my/proxies/stop", data={"csrf_token": csrf(browser)})
    assert "代理人として操作中" not in browser.get("/my").text
    with web_app.state.ctx.uow() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action.like("identity:proxy:%"))).all()
    acted = [e for e in entries if e.action == "identity:proxy:act"]
    assert any(e.detail.get("on_behalf_of") == f"person:{child}" for e in acted)
    stopped = [e for e in entries if e.action == "identity:proxy:stop_acting"]
    assert any(e.actor == f"person:{parent} for person:{child}" for e in stopped)


def test_an_adult_is_not_registered_as_a_child_and_a_stranger_cannot_act(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
) -> None:
    someone, stranger = pick_resident(), pick_resident()
    browser = new_client()
    citizen_session(browser, stranger)
    refused = browser.post("/my/proxies/children", data={"child": str(someone), "csrf_token": csrf(browser)})
    assert refused.status_code == 403
    assert browser.post("/my/proxies/999999/act", data={"csrf_token": csrf(browser)}).status_code == 403


def test_staff_register_a_guardian_with_the_cli(
    web_settings: Settings, pick_resident: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ward, guardian = pick_resident(), pick_resident()
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    if web_settings.database_url:
        monkeypatch.setenv("TSUNAGU_DATABASE_URL", web_settings.database_url)
    else:
        monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    runner, app = CliRunner(), build()
    args = ["--data-dir", str(web_settings.data_dir), "--json"]
    made = runner.invoke(app, ["proxy", "grant-guardian", str(ward), str(guardian), *args])
    assert made.exit_code == 0, made.stdout
    listed = json.loads(runner.invoke(app, ["proxy", "list", str(ward), *args]).stdout)
    assert [p["kind"] for p in listed["proxies"]] == ["legal_guardian"]
    same = runner.invoke(app, ["proxy", "grant-guardian", str(ward), str(ward), *args])
    assert same.exit_code == 1
    assert json.loads(same.stdout)["error"] == "invalid-input"
