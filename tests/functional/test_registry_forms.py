"""Recording 異動 through the staff forms: permissions, the happy path, and refused input that writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

TODAY = "2026-11-26"
TOWN = "辻堂一丁目"


def events_of(c: TestClient, pid: int, headers: dict[str, str]) -> list[dict[str, object]]:
    response = c.get(f"/api/v1/residents/{pid}/events", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


@pytest.fixture
def clerk_api(api_token: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return api_token("clerk")


# --- who may open the forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["move", "move-out", "death"])
def test_counter_staff_cannot_open_the_forms(counter: TestClient, form: str) -> None:
    response = counter.get(f"/staff/residents/1/{form}")
    assert response.status_code == 403
    assert "この操作の権限がありません" in response.text
    assert 'name="effective_date"' not in response.text


def test_counter_staff_cannot_post_a_move(
    counter: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
) -> None:
    pid = pick_resident()
    before = event_count()
    response = counter.post(
        f"/staff/residents/{pid}/move",
        data={"csrf_token": csrf(counter), "effective_date": TODAY, "town": TOWN, "block": "1番1号"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert event_count() == before


def test_counter_staff_sees_no_recording_buttons(counter: TestClient, clerk: TestClient) -> None:
    assert 'href="/staff/residents/1/move"' not in counter.get("/staff/residents/1").text
    assert 'href="/staff/residents/1/move"' in clerk.get("/staff/residents/1").text


def test_unknown_form_is_404(clerk: TestClient) -> None:
    assert clerk.get("/staff/residents/1/marriage").status_code == 404


# --- the happy path --------------------------------------------------------------------------------------


def test_recording_a_move_shows_in_the_history(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
    clerk_api: dict[str, str],
) -> None:
    pid = pick_resident()
    form_page = clerk.get(f"/staff/residents/{pid}/move")
    assert form_page.status_code == 200
    assert "転居の記録" in form_page.text
    assert f'<option value="{TOWN}">' in form_page.text
    before = event_count()
    response = clerk.post(
        f"/staff/residents/{pid}/move",
        data={
            "csrf_token": csrf(clerk),
            "effective_date": TODAY,
            "town": TOWN,
            "block": "9番8号",
            "building": "テストハイツ 201号室",
            "reason": "functional test",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/staff/residents/{pid}?done=move"
    assert event_count() == before + 1

    page = clerk.get(response.headers["location"])
    assert page.status_code == 200
    assert "記録しました。異動履歴に追加されています。" in page.text
    history = page.text.split('id="history"', 1)[1]
    last = history.rsplit("<li>", 1)[1]
    assert "転居" in last
    assert TODAY in last
    assert f"{TOWN}9番8号 テストハイツ 201号室" in last
    assert "記録者: clerk" in last
    assert "functional test" in last
    assert "神奈川県藤沢市辻堂一丁目9番8号 テストハイツ 201号室" in page.text  # the current address

    events = events_of(clerk, pid, clerk_api)
    assert events[-1]["kind"] == "move_within"
    assert events[-1]["effective_date"] == TODAY
    assert events[-1]["recorded_by"] == "clerk"
    assert events[-1]["changes"]["town"] == TOWN  # type: ignore[index]


def test_recording_a_move_out_and_a_death(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    clerk_api: dict[str, str],
) -> None:
    leaver, deceased = pick_resident(), pick_resident()
    moved = clerk.post(
        f"/staff/residents/{leaver}/move-out",
        data={"csrf_token": csrf(clerk), "effective_date": "2026-12-01", "to_lg_code": "131016"},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert events_of(clerk, leaver, clerk_api)[-1]["details"] == {"to_lg_code": "131016"}
    assert clerk.get(f"/api/v1/residents/{leaver}", headers=clerk_api).json()["status"] == "moved_out"

    died = clerk.post(
        f"/staff/residents/{deceased}/death",
        data={"csrf_token": csrf(clerk), "effective_date": TODAY},
        follow_redirects=False,
    )
    assert died.status_code == 303, died.text
    assert clerk.get(f"/api/v1/residents/{deceased}", headers=clerk_api).json()["status"] == "deceased"
    # A closed record offers no further recording.
    assert f'href="/staff/residents/{deceased}/move"' not in clerk.get(f"/staff/residents/{deceased}").text


# --- refused input ---------------------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param(
        "move",
        {"effective_date": TODAY, "town": "", "block": "1番1号"},
        "町字を入力してください",
        id="empty-town",
    ),
    pytest.param(
        "move",
        {"effective_date": TODAY, "town": "   ", "block": "1番1号"},
        "町字を入力してください",
        id="blank-town",
    ),
    pytest.param(
        "move",
        {"effective_date": TODAY, "town": TOWN, "block": ""},
        "番地・号を入力してください",
        id="empty-block",
    ),
    pytest.param(
        "move",
        {"effective_date": "2026-11-27", "town": TOWN, "block": "1番1号"},
        "日付が先すぎます",
        id="future-move",
    ),
    pytest.param(
        "move", {"effective_date": "2026-13-01", "town": TOWN, "block": "1番1号"}, "年-月-日", id="bad-date"
    ),
    pytest.param("move", {"effective_date": "", "town": TOWN, "block": "1番1号"}, "年-月-日", id="no-date"),
    pytest.param(
        "move",
        {"effective_date": TODAY, "town": TOWN, "block": "1番\u0007号"},
        "使えない文字",
        id="control-character",
    ),
    pytest.param(
        "move-out",
        {"effective_date": "2026-12-11", "to_lg_code": "131016"},
        "日付が先すぎます",
        id="move-out-beyond-14-days",
    ),
    pytest.param(
        "move-out",
        {"effective_date": TODAY, "to_lg_code": "999997"},
        "の市区町村が見つかりません",
        id="unknown-destination",
    ),
    pytest.param(
        "move-out",
        {"effective_date": TODAY, "to_lg_code": "999999"},
        "検査用数字が合いません",
        id="bad-check-digit",
    ),
    pytest.param(
        "move-out", {"effective_date": TODAY, "to_lg_code": ""}, "桁数が正しくありません", id="no-destination"
    ),
    pytest.param(
        "move-out",
        {"effective_date": TODAY, "to_lg_code": "142051"},
        "転出先が当市区町村です",
        id="to-itself",
    ),
    pytest.param("death", {"effective_date": "2026-11-27"}, "日付が先すぎます", id="future-death"),
]


@pytest.mark.parametrize(("form", "data", "message"), BAD_INPUT)
def test_bad_input_re_renders_the_form_and_writes_nothing(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
    clerk_api: dict[str, str],
    form: str,
    data: dict[str, str],
    message: str,
) -> None:
    pid = pick_resident()
    before_all = event_count()
    before_person = events_of(clerk, pid, clerk_api)
    before_resident = clerk.get(f"/api/v1/residents/{pid}", headers=clerk_api).json()

    response = clerk.post(
        f"/staff/residents/{pid}/{form}", data={"csrf_token": csrf(clerk), **data}, follow_redirects=False
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="form-error"' in response.text
    assert "記録できませんでした" in response.text
    assert message.lower() in response.text.lower()  # in Japanese, the page's language
    assert f'action="/staff/residents/{pid}/{form}"' in response.text  # the form is shown again
    for key, value in data.items():
        if value.strip() and key != "to_lg_code" and "\u0007" not in value:
            assert f'value="{value}"' in response.text, f"the submitted {key} is kept"
    assert event_count() == before_all
    assert events_of(clerk, pid, clerk_api) == before_person
    assert clerk.get(f"/api/v1/residents/{pid}", headers=clerk_api).json() == before_resident


def test_head_of_a_household_cannot_move_alone(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    event_count: Callable[[], int],
    clerk_api: dict[str, str],
) -> None:
    found = None
    for pid in range(1, 60):
        person = clerk.get(f"/api/v1/residents/{pid}", headers=clerk_api).json()
        if person["relationship"] != "head" or person["address_suppressed"] or person["status"] != "resident":
            continue
        page = clerk.get(f"/staff/residents/{pid}").text
        if len(re.findall(r"<li>", page.split('id="household"', 1)[1].split("</ul>", 1)[0])) > 1:
            found = pid
            break
    assert found is not None, "the demo population has no household of two or more"
    before = event_count()
    response = clerk.post(
        f"/staff/residents/{found}/move",
        data={"csrf_token": csrf(clerk), "effective_date": TODAY, "town": TOWN, "block": "3番3号"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "世帯主だけを移すことはできません" in response.text
    assert event_count() == before


def test_the_field_in_error_is_marked_and_described(
    clerk: TestClient, csrf: Callable[[TestClient], str], pick_resident: Callable[..., int]
) -> None:
    pid = pick_resident()
    data = {"csrf_token": csrf(clerk), "effective_date": TODAY, "town": TOWN, "block": ""}
    response = clerk.post(f"/staff/residents/{pid}/move", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert 'id="block" aria-invalid="true" aria-describedby="block-hint form-error"' in response.text
    assert 'id="town" aria-invalid' not in response.text


def test_form_errors_are_in_english_for_english_readers(
    clerk: TestClient, csrf: Callable[[TestClient], str], pick_resident: Callable[..., int]
) -> None:
    pid = pick_resident()
    data = {"csrf_token": csrf(clerk), "effective_date": TODAY, "town": TOWN, "block": ""}
    response = clerk.post(
        f"/staff/residents/{pid}/move", data=data, headers={"Accept-Language": "en"}, follow_redirects=False
    )
    assert response.status_code == 422
    assert "Block and number is required" in response.text
    assert "番地・号を入力してください" not in response.text


def test_sending_the_same_form_twice_records_it_once(
    clerk: TestClient,
    csrf: Callable[[TestClient], str],
    pick_resident: Callable[..., int],
    clerk_api: dict[str, str],
) -> None:
    pid = pick_resident()
    form = clerk.get(f"/staff/residents/{pid}/move").text
    match = re.search(r'name="filing_id" value="([0-9a-f-]{36})"', form)
    assert match, "the form carries a filing id"
    data = {"csrf_token": csrf(clerk), "filing_id": match.group(1), "effective_date": TODAY}
    data |= {"town": TOWN, "block": "9番9号"}
    before = len(events_of(clerk, pid, clerk_api))
    first = clerk.post(f"/staff/residents/{pid}/move", data=data, follow_redirects=False)
    again = clerk.post(
        f"/staff/residents/{pid}/move", data=data, follow_redirects=False
    )  # back button, resend
    assert (first.status_code, again.status_code) == (303, 303)
    assert len(events_of(clerk, pid, clerk_api)) == before + 1
    other = clerk.get(f"/staff/residents/{pid}/move").text
    assert match.group(1) not in other  # every form shown gets a new filing id
