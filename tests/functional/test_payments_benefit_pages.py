"""The benefits pages over HTTP: the citizen's list and detail (another person's benefit is not found), confirming
and declining (the box must be ticked; nothing changes otherwise), and the benefits officer's pages: who may use
them, the steps, a refused result file that imports nothing, a missing file, a bad transfer date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import CitizenLoginFn, ClientFactory, LoginFn, _logged_in

from tsunagu.payments.models import Entitlement, ResultFile

UoW = Callable[[], AbstractContextManager[Session]]
PROGRAMME, PERIOD = "emergency-2026", "once"
ACCOUNT = {
    "bank_code": "0005",
    "bank_name": "三菱ＵＦＪ",
    "branch_code": "001",
    "branch_name": "本店",
    "deposit_type": "1",
    "account_number": "7654321",
    "holder_kana": "ﾃｽﾄ ﾀﾛｳ",
}


def _csrf(c: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert match
    return match.group(1)


def _notified(web_db: UoW, person_id: int, period: str, payee: int | None = None) -> int:
    """A benefit notified to the payee (the person by default), as the lookup and the notice would leave it."""
    now = dt.datetime.now(dt.UTC)
    with web_db() as db:
        row = Entitlement(
            programme_id=PROGRAMME,
            period=period,
            person_id=person_id,
            payee_person_id=person_id if payee is None else payee,
            amount=100_000,
            basis={"rule": "flat"},
            state="notified",
            account=ACCOUNT,
            account_exchange=None,
            account_stale=False,
            notified_at=now,
            deadline=now.date() + dt.timedelta(days=14),
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        db.flush()
        return row.id


def _state(web_db: UoW, entitlement_id: int) -> str:
    with web_db() as db:
        return db.get_one(Entitlement, entitlement_id).state


@pytest.fixture
def officer(new_client: ClientFactory, login: LoginFn) -> TestClient:
    return _logged_in(new_client, login, "kyufu", "demo-kyufu-pass")


def test_the_citizen_pages_need_a_login(client: TestClient) -> None:
    r = client.get("/my/benefits", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_a_benefit_is_shown_confirmed_and_hidden_from_others(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    who, other = pick_resident(), pick_resident()
    eid = _notified(web_db, who, "once-a")
    c = new_client()
    citizen_session(c, who)
    listing = c.get("/my/benefits")
    assert listing.status_code == 200
    assert "100,000" in listing.text
    assert "****321" in listing.text  # the number masked
    assert "7654321" not in listing.text
    detail = c.get(f"/my/benefits/{eid}")
    assert detail.status_code == 200
    assert "この口座で受け取る" in detail.text

    token = _csrf(c, f"/my/benefits/{eid}")
    done = c.post(f"/my/benefits/{eid}/confirm", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert _state(web_db, eid) == "confirmed"
    assert "この口座への振込を確認しました" in c.get(done.headers["location"]).text

    stranger = new_client()
    citizen_session(stranger, other)
    assert stranger.get(f"/my/benefits/{eid}").status_code == 404
    token = _csrf(stranger, "/my/benefits")
    refused = stranger.post(f"/my/benefits/{eid}/confirm", data={"csrf_token": token})
    assert refused.status_code == 404


def test_confirming_the_account_confirms_the_household_s_benefits(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    head, member = pick_resident(), pick_resident()
    own, for_member = _notified(web_db, head, "once-c"), _notified(web_db, member, "once-c", payee=head)
    other_period = _notified(web_db, member, "once-d", payee=head)
    c = new_client()
    citizen_session(c, head)
    listing = c.get("/my/benefits").text
    assert listing.count("/my/benefits/") >= 3
    assert "さんの分" in listing  # whom each line is for
    token = _csrf(c, f"/my/benefits/{own}")
    c.post(f"/my/benefits/{own}/confirm", data={"csrf_token": token})
    assert (_state(web_db, own), _state(web_db, for_member)) == ("confirmed", "confirmed")
    assert _state(web_db, other_period) == "notified"  # another period's notice is answered on its own


def test_declining_needs_the_box_ticked(
    new_client: ClientFactory, citizen_session: CitizenLoginFn, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    who = pick_resident()
    eid = _notified(web_db, who, "once-b")
    c = new_client()
    citizen_session(c, who)
    token = _csrf(c, f"/my/benefits/{eid}")
    unticked = c.post(f"/my/benefits/{eid}/decline", data={"csrf_token": token})
    assert unticked.status_code == 422
    assert _state(web_db, eid) == "notified"
    ticked = c.post(
        f"/my/benefits/{eid}/decline", data={"csrf_token": token, "really": "yes"}, follow_redirects=False
    )
    assert ticked.status_code == 303
    assert _state(web_db, eid) == "declined"
    assert c.post(f"/my/benefits/{eid}/confirm", data={"csrf_token": token}).status_code == 409


def test_only_the_benefits_officer_may_use_the_staff_pages(clerk: TestClient, officer: TestClient) -> None:
    assert clerk.get("/staff/payments").status_code == 403
    page = officer.get("/staff/payments")
    assert page.status_code == 200
    assert "緊急支援給付金" in page.text
    assert officer.get(f"/staff/payments/{PROGRAMME}/2026-12").status_code == 404  # paid once: no such period
    assert officer.get("/staff/payments/no-such-programme/once").status_code == 404


def test_the_officer_fixes_entitlements_idempotently(officer: TestClient, web_db: UoW) -> None:
    path = f"/staff/payments/{PROGRAMME}/{PERIOD}"
    token = _csrf(officer, path)
    first = officer.post(f"{path}/entitle", data={"csrf_token": token}, follow_redirects=False)
    assert first.status_code == 303
    with web_db() as db:
        count = db.scalar(
            select(func.count()).where(Entitlement.programme_id == PROGRAMME, Entitlement.period == PERIOD)
        )
    assert count
    officer.post(f"{path}/entitle", data={"csrf_token": token})
    with web_db() as db:
        again = db.scalar(
            select(func.count()).where(Entitlement.programme_id == PROGRAMME, Entitlement.period == PERIOD)
        )
    assert again == count
    assert "対象者の状態" in officer.get(path).text
    assert officer.post(f"{path}/bogus", data={"csrf_token": token}).status_code == 404
    bad_date = officer.post(f"{path}/run", data={"csrf_token": token, "transfer_date": "25/12/2026"})
    assert bad_date.status_code == 422


def test_a_malformed_result_file_imports_nothing(officer: TestClient, web_db: UoW) -> None:
    token = _csrf(officer, "/staff/payments")
    r = officer.post(
        "/staff/payments/results",
        data={"csrf_token": token},
        files={"file": ("result.txt", b"1" * 119 + b"\r\n", "text/plain")},
    )
    assert r.status_code == 422
    assert "取り込んでいません" in r.text or "Nothing was imported" in r.text
    with web_db() as db:
        assert db.scalar(select(func.count()).select_from(ResultFile)) == 0
    assert officer.get("/staff/payments/files/999999").status_code == 404
