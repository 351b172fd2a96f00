"""The vaccination registry's staff pages over HTTP (/staff/health): only the 予防接種担当 may use them (not a
resident, not other staff roles); a resident is found through the registry search; a dose is recorded; a bad field
is told on that field and nothing is saved; a correction keeps the old entry as history; CSRF is required."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import CitizenLoginFn, ClientFactory, LoginFn, _logged_in

from tsunagu.audit.models import AuditEntry
from tsunagu.health.models import Dose
from tsunagu.registry.models import Person

UoW = Callable[[], AbstractContextManager[Session]]
HOKEN = ("hoken", "demo-hoken-pass")


@pytest.fixture
def officer(new_client: ClientFactory, login: LoginFn) -> TestClient:
    return _logged_in(new_client, login, *HOKEN)


def _csrf(c: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert match
    return match.group(1)


def _doses(web_db: UoW, person_id: int) -> int:
    with web_db() as db:
        return int(db.scalar(select(func.count()).where(Dose.person_id == person_id)) or 0)


def _good(token: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "occurrence": "2023-10-20",
        "cvx": "309",
        "manufacturer": "",
        "lot": "hk7311",
        "municipality_code": "142051",
    }
    data.update(changes)
    return data


def test_other_roles_and_residents_are_refused(
    clerk: TestClient,
    counter: TestClient,
    client: TestClient,
    citizen_session: CitizenLoginFn,
    pick_resident: Callable[..., int],
) -> None:
    person = pick_resident()
    for staff in (clerk, counter):
        assert staff.get("/staff/health").status_code == 403
        assert staff.get(f"/staff/health/residents/{person}").status_code == 403
    citizen_session(client, person)
    for path in ("/staff/health", f"/staff/health/residents/{person}"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code in {303, 401, 403}
        assert "新型コロナワクチンの接種記録" not in refused.text


def test_the_officer_finds_a_resident_with_least_data(officer: TestClient, web_db: UoW) -> None:
    with web_db() as db:
        row = db.scalars(select(Person).where(Person.status == "resident").order_by(Person.id)).first()
        assert row is not None
        family, town = row.family_name, row.town
    page = officer.get("/staff/health", params={"q": family})
    assert page.status_code == 200
    assert f"/staff/health/residents/{row.id}" in page.text
    assert town not in page.text  # no address in the search results


def test_record_a_dose(officer: TestClient, pick_resident: Callable[..., int], web_db: UoW) -> None:
    person = pick_resident()
    path = f"/staff/health/residents/{person}"
    before = _doses(web_db, person)
    done = officer.post(f"{path}/doses", data=_good(_csrf(officer, path)), follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=recorded"
    assert _doses(web_db, person) == before + 1
    page = officer.get(f"{path}?done=recorded")
    assert "接種記録を登録しました" in page.text
    assert "HK7311" in page.text
    with web_db() as db:
        assert db.scalar(
            select(func.count()).where(AuditEntry.action == "health:dose:record", AuditEntry.actor == "hoken")
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("occurrence", "2027-01-01", "未来"),
        ("occurrence", "not-a-date", "接種日を入力"),
        ("cvx", "999", "ワクチンの種類"),
        ("manufacturer", "MOD", "製造販売業者"),
        ("lot", "", "ロット番号を入力"),
        ("municipality_code", "123456", "地方公共団体コード"),
    ],
)
def test_a_bad_field_is_told_on_that_field_and_nothing_is_saved(
    officer: TestClient, pick_resident: Callable[..., int], web_db: UoW, field: str, value: str, message: str
) -> None:
    person = pick_resident()
    path = f"/staff/health/residents/{person}"
    before = _doses(web_db, person)
    refused = officer.post(f"{path}/doses", data=_good(_csrf(officer, path), **{field: value}))
    assert refused.status_code == 422
    assert _doses(web_db, person) == before
    error = re.search(rf'<p class="field-error" id="e-{field}">([^<]*)</p>', refused.text)
    assert error, refused.text
    assert message in error.group(1)
    assert re.search(
        rf'id="i-{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*e-{field}"', refused.text
    )
    assert 'role="alert"' in refused.text


def test_a_correction_supersedes_and_shows_history(
    officer: TestClient, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    person = pick_resident()
    path = f"/staff/health/residents/{person}"
    officer.post(f"{path}/doses", data=_good(_csrf(officer, path), lot="WR0001"))
    with web_db() as db:
        dose_id = db.scalar(select(Dose.id).where(Dose.person_id == person, Dose.lot == "WR0001"))
    assert dose_id is not None
    form = officer.get(f"{path}/doses/{dose_id}")
    assert form.status_code == 200
    assert 'value="WR0001"' in form.text  # the form starts from the current entry
    token = _csrf(officer, f"{path}/doses/{dose_id}")
    done = officer.post(
        f"{path}/doses/{dose_id}",
        data=_good(token, lot="WR0002", reason="ロット番号の誤記"),
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = officer.get(f"{path}?done=corrected").text
    assert "訂正された記録" in page
    assert "WR0001" in page  # kept in the history
    assert "WR0002" in page
    # the superseded entry cannot be corrected again
    again = officer.post(f"{path}/doses/{dose_id}", data=_good(token, lot="WR0003"))
    assert again.status_code in {404, 409}
    with web_db() as db:
        lots = set(db.scalars(select(Dose.lot).where(Dose.person_id == person, Dose.lot.like("WR%"))))
    assert lots == {"WR0001", "WR0002"}


def test_a_write_without_the_csrf_token_is_refused(
    officer: TestClient, pick_resident: Callable[..., int], web_db: UoW
) -> None:
    person = pick_resident()
    before = _doses(web_db, person)
    data = _good("")
    del data["csrf_token"]
    refused = officer.post(f"/staff/health/residents/{person}/doses", data=data)
    assert refused.status_code == 403
    assert _doses(web_db, person) == before
