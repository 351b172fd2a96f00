"""The audit trail: who did what to whom, visible to auditors only, never holding search text or addresses."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from tsunagu.audit.models import AuditEntry
from tsunagu.registry.models import Person

AUDITOR = ("auditor", "demo-auditor-pass")
MY_NUMBER = "621498320257"  # a valid, synthetic My Number (the python-stdnum example)
UoW = Callable[[], AbstractContextManager[Session]]


def _entries(web_db: UoW, **where: str) -> list[AuditEntry]:
    with web_db() as db:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        rows = list(db.scalars(stmt))
        db.expunge_all()
        return rows


@pytest.fixture
def auditor(new_client: Callable[..., TestClient], login: Callable[..., object]) -> TestClient:
    c = new_client()
    login(c, *AUDITOR)
    return c


def test_views_searches_and_writes_are_recorded_with_who_and_whom(
    clerk: TestClient, web_db: UoW, pick_resident: Callable[..., int], csrf: Callable[[TestClient], str]
) -> None:
    pid = pick_resident()
    start = len(_entries(web_db))
    assert clerk.get(f"/staff/residents/{pid}").status_code == 200
    clerk.get("/staff/residents", params={"q": "サトウ"})
    clerk.get("/staff/residents", params={"q": MY_NUMBER})
    data = {
        "csrf_token": csrf(clerk),
        "effective_date": "2026-11-26",
        "town": "辻堂一丁目",
        "block": "8番8号",
    }
    assert clerk.post(f"/staff/residents/{pid}/move", data=data, follow_redirects=False).status_code == 303
    new = _entries(web_db)[start:]
    actions = [(e.actor, e.action, e.subject) for e in new]
    assert ("clerk", "registry:person:view", f"person:{pid}") in actions
    searches = [e for e in new if e.action == "registry:person:search"]
    assert [s.detail["by"] for s in searches] == ["kana", "my_number"]
    recorded = [e for e in new if e.action == "registry:event:record"]
    assert len(recorded) == 1
    assert recorded[0].subject == f"person:{pid}"
    assert recorded[0].detail["kind"] == "move_within"
    dump = repr([(e.actor, e.action, e.subject, e.detail) for e in new])
    for secret in (MY_NUMBER, "サトウ", "8番8号"):
        assert secret not in dump, f"{secret!r} must not be in the audit trail"


def test_logins_and_failures_are_recorded(
    new_client: Callable[..., TestClient], login: Callable[..., object], web_db: UoW
) -> None:
    start = len(_entries(web_db))
    c = new_client()
    login(c, "counter", "not-the-password")
    login(c, "counter", "demo-counter-pass")
    new = [(e.actor, e.action, e.detail.get("why")) for e in _entries(web_db)[start:]]
    assert ("counter", "identity:session:login_failed", "wrong_password") in new
    assert ("counter", "identity:session:login", None) in new


def test_only_auditors_read_the_trail(
    auditor: TestClient, clerk: TestClient, counter: TestClient, pick_resident: Callable[..., int]
) -> None:
    pid = pick_resident()
    counter.get(f"/staff/residents/{pid}")
    assert clerk.get("/staff/audit").status_code == 403
    assert counter.get("/staff/audit").status_code == 403
    page = auditor.get("/staff/audit", params={"subject": f"person:{pid}"})
    assert page.status_code == 200
    assert "registry:person:view" in page.text
    assert "counter" in page.text
    assert auditor.get(f"/staff/residents/{pid}").status_code == 403  # auditors see the trail, not the people
    assert f'href="/staff/residents/{pid}"' not in page.text


def test_the_trail_is_append_only(web_app: object, web_db: UoW, clerk: TestClient) -> None:
    assert _entries(web_db, action="identity:session:login"), "logging in wrote at least one entry"
    engine = web_app.state.ctx.engine  # type: ignore[attr-defined]
    for statement in ("UPDATE audit_entries SET actor = 'someone else'", "DELETE FROM audit_entries"):
        with engine.connect() as conn, pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text(statement))
    with web_db() as db:
        assert db.scalar(select(Person.id).limit(1)) is not None
