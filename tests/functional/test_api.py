"""The JSON API under /api/v1 with bearer tokens, and its RFC 9457 problem+json errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

TODAY = "2026-11-26"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def clerk_api(api_token: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return api_token("clerk")


@pytest.fixture
def counter_api(api_token: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return api_token("counter")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, f"problem+json without {key!r}: {body}"
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if code is not None:
        assert body["type"].rsplit("/", 1)[1] == code, body
    return body


# --- reads -----------------------------------------------------------------------------------------------


def test_search_get_and_events(client: TestClient, clerk_api: dict[str, str]) -> None:
    first = client.get("/api/v1/residents/1", headers=clerk_api)
    assert first.status_code == 200
    person = first.json()
    assert person["id"] == 1
    assert len(person["resident_code"]) == 11
    assert person["address"].startswith("神奈川県藤沢市")
    assert person["my_number_masked"].startswith("****")
    assert sum(ch.isdigit() for ch in person["my_number_masked"]) == 4

    by_code = client.get("/api/v1/residents", params={"q": person["resident_code"]}, headers=clerk_api)
    assert by_code.status_code == 200
    assert [p["id"] for p in by_code.json()["items"]] == [1]

    by_kana = client.get("/api/v1/residents", params={"q": person["family_name_kana"]}, headers=clerk_api)
    items = by_kana.json()["items"]
    assert 1 in [p["id"] for p in items]
    assert all(p["family_name_kana"].startswith(person["family_name_kana"]) for p in items)
    assert all("my_number_masked" not in p or p["my_number_masked"] is None for p in items)

    events = client.get("/api/v1/residents/1/events", headers=clerk_api)
    assert events.status_code == 200
    kinds = [e["kind"] for e in events.json()["items"]]
    assert kinds[0] in {"birth", "move_in"}


def test_search_by_hiragana_finds_katakana(client: TestClient, clerk_api: dict[str, str]) -> None:
    kana = client.get("/api/v1/residents/1", headers=clerk_api).json()["family_name_kana"]
    hiragana = "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in kana)
    found = client.get("/api/v1/residents", params={"q": hiragana}, headers=clerk_api).json()["items"]
    assert 1 in [p["id"] for p in found]


def test_stats_and_municipality_lookup(client: TestClient, clerk_api: dict[str, str]) -> None:
    stats = client.get("/api/v1/registry/stats", headers=clerk_api).json()
    assert stats["residents"] >= 200
    assert set(stats["by_age_band"]) == {"0-14", "15-64", "65+"}
    public = client.get("/api/v1/municipalities/131016")
    assert public.status_code == 200
    assert public.json()["name"] == "千代田区"


def test_openapi_document_is_served(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/residents/{person_id}/events" in response.json()["paths"]


# --- writes ----------------------------------------------------------------------------------------------


def test_post_a_move_with_a_bearer_token(
    client: TestClient, clerk_api: dict[str, str], pick_resident: Callable[..., int]
) -> None:
    pid = pick_resident()
    body = {"kind": "move_within", "effective_date": TODAY, "town": "辻堂一丁目", "block": "4番4号"}
    response = client.post(f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api)
    assert response.status_code == 201, response.text
    assert response.json()["person_ids"] == [pid]
    events = client.get(f"/api/v1/residents/{pid}/events", headers=clerk_api).json()["items"]
    assert events[-1]["kind"] == "move_within"
    assert events[-1]["recorded_by"] == "clerk"
    current = client.get(f"/api/v1/residents/{pid}", headers=clerk_api).json()
    assert current["address"] == "神奈川県藤沢市辻堂一丁目4番4号"
    assert current["relationship"] == "head"  # moving alone starts a new household


def test_a_retry_with_the_same_idempotency_key_records_nothing_new(
    client: TestClient,
    clerk_api: dict[str, str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
) -> None:
    pid = pick_resident()
    body = {"kind": "move_within", "effective_date": TODAY, "town": "辻堂一丁目", "block": "5番5号"}
    headers = {**clerk_api, "Idempotency-Key": "0b4f4c1e-2a9b-4c8e-9f5e-0d6a3b1c2d4e"}
    first = client.post(f"/api/v1/residents/{pid}/events", json=body, headers=headers)
    assert first.status_code == 201, first.text
    after_first = event_count()
    retry = client.post(f"/api/v1/residents/{pid}/events", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert event_count() == after_first
    fresh = client.post(
        f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api
    )  # no key: a new filing
    assert fresh.status_code == 201
    assert event_count() == after_first + 1


def test_death_twice_is_a_409_and_writes_nothing(
    client: TestClient,
    clerk_api: dict[str, str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
) -> None:
    pid = pick_resident()
    body = {"kind": "death", "effective_date": TODAY}
    assert client.post(f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api).status_code == 201
    before = event_count()
    again = client.post(f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api)
    problem = assert_problem(again, 409, "event-out-of-order")
    assert problem["instance"] == f"/api/v1/residents/{pid}/events"
    assert event_count() == before


def test_event_dated_before_the_last_one_is_a_409(
    client: TestClient, clerk_api: dict[str, str], pick_resident: Callable[..., int]
) -> None:
    pid = pick_resident()
    body = {"kind": "move_within", "effective_date": "1900-01-01", "town": "辻堂一丁目", "block": "5番5号"}
    assert_problem(client.post(f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api), 409)


# --- problems --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/residents?q=a"),
        ("GET", "/api/v1/residents/1"),
        ("GET", "/api/v1/residents/1/events"),
        ("GET", "/api/v1/registry/stats"),
        ("POST", "/api/v1/residents/1/events"),
    ],
)
def test_unknown_bearer_token_is_401(client: TestClient, method: str, path: str) -> None:
    response = client.request(
        method,
        path,
        json={"kind": "death", "effective_date": TODAY},
        headers={"Authorization": "Bearer tsu_x"},
    )
    assert_problem(response, 401, "not-authenticated")


def test_unknown_token_is_401_even_with_a_plain_get(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/residents/1"), 401, "not-authenticated")
    assert_problem(client.get("/api/v1/residents/1", headers={"Authorization": "Bearer nope"}), 401)


def test_missing_permission_is_403(
    client: TestClient,
    counter_api: dict[str, str],
    api_token: Callable[[str], dict[str, str]],
    event_count: Callable[[], int],
) -> None:
    before = event_count()
    refused = client.post(
        "/api/v1/residents/1/events", json={"kind": "death", "effective_date": TODAY}, headers=counter_api
    )
    body = assert_problem(refused, 403, "forbidden")
    assert "registry:person:write" in body["detail"]
    assert event_count() == before
    statistician = api_token("statistician")
    assert_problem(client.get("/api/v1/residents/1", headers=statistician), 403, "forbidden")
    assert client.get("/api/v1/registry/stats", headers=statistician).status_code == 200


def test_unknown_resident_is_404(client: TestClient, clerk_api: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/residents/999999", headers=clerk_api), 404, "not-found")
    assert_problem(client.get("/api/v1/residents/999999/events", headers=clerk_api), 404, "not-found")
    missing = client.post(
        "/api/v1/residents/999999/events", json={"kind": "death", "effective_date": TODAY}, headers=clerk_api
    )
    assert_problem(missing, 404, "not-found")


def test_unknown_api_path_is_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"kind": "birth", "effective_date": TODAY}, id="unknown-kind"),
        pytest.param({"kind": "death"}, id="missing-date"),
        pytest.param({"kind": "death", "effective_date": "yesterday"}, id="bad-date"),
        pytest.param({"kind": "death", "effective_date": TODAY, "my_number": "1"}, id="extra-field"),
    ],
)
def test_invalid_body_is_422_with_errors(
    client: TestClient,
    clerk_api: dict[str, str],
    event_count: Callable[[], int],
    body: dict[str, str],
) -> None:
    before = event_count()
    response = client.post("/api/v1/residents/1/events", json=body, headers=clerk_api)
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"]
    assert all({"loc", "msg"} <= set(e) for e in problem["errors"])
    assert event_count() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "move_out", "effective_date": TODAY, "to_lg_code": "999999"}, "invalid-identifier"),
        ({"kind": "move_out", "effective_date": TODAY, "to_lg_code": "999997"}, "invalid-input"),
        ({"kind": "move_within", "effective_date": TODAY, "town": "", "block": "1番1号"}, "invalid-input"),
        (
            {"kind": "move_within", "effective_date": "2026-11-27", "town": "辻堂一丁目", "block": "1"},
            "invalid-input",
        ),
    ],
)
def test_domain_validation_is_422(
    client: TestClient,
    clerk_api: dict[str, str],
    pick_resident: Callable[..., int],
    event_count: Callable[[], int],
    body: dict[str, str],
    code: str,
) -> None:
    pid = pick_resident()
    before = event_count()
    response = client.post(f"/api/v1/residents/{pid}/events", json=body, headers=clerk_api)
    assert_problem(response, 422, code)
    assert event_count() == before


def test_search_query_is_validated(client: TestClient, clerk_api: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/residents", headers=clerk_api), 422, "invalid-input")
    assert_problem(client.get("/api/v1/residents", params={"q": "x" * 101}, headers=clerk_api), 422)


def test_unknown_municipality_is_422(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/municipalities/999999"), 422, "invalid-identifier")


NEW_RESIDENT = {
    "kind": "move_in",
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "やまだ",
    "given_name_kana": "ハナコ",
    "birth_date": "1990-04-01",
    "sex": "female",
    "town": "辻堂一丁目",
    "block": "6番6号",
    "effective_date": "2026-11-01",
    "from_lg_code": "131016",
}


def test_register_a_move_in_then_a_birth_into_the_same_household(
    client: TestClient, clerk_api: dict[str, str], event_count: Callable[[], int]
) -> None:
    created = client.post("/api/v1/residents", json=NEW_RESIDENT, headers=clerk_api)
    assert created.status_code == 201, created.text
    mother = client.get(f"/api/v1/residents/{created.json()['person_id']}", headers=clerk_api).json()
    assert (mother["family_name_kana"], mother["relationship"]) == ("ヤマダ", "head")
    assert "my_number" not in mother
    child = {
        **NEW_RESIDENT,
        "kind": "birth",
        "given_name": "桜",
        "given_name_kana": "サクラ",
        "birth_date": "2026-11-20",
        "household_id": mother["household_id"],
        "relationship": "child",
        "effective_date": None,
        "from_lg_code": None,
    }
    born = client.post("/api/v1/residents", json=child, headers=clerk_api)
    assert born.status_code == 201, born.text
    household = client.get(f"/api/v1/households/{mother['household_id']}", headers=clerk_api).json()["items"]
    assert [(m["given_name"], m["relationship"]) for m in household] == [("花子", "head"), ("桜", "child")]
    before = event_count()
    bad = client.post("/api/v1/residents", json={**NEW_RESIDENT, "from_lg_code": "999997"}, headers=clerk_api)
    assert_problem(bad, 422, "invalid-input")
    future = client.post("/api/v1/residents", json={**child, "birth_date": "2027-01-01"}, headers=clerk_api)
    assert_problem(future, 422, "invalid-input")
    assert event_count() == before


def test_registering_needs_the_write_permission_and_is_idempotent(
    client: TestClient,
    clerk_api: dict[str, str],
    api_token: Callable[[str], dict[str, str]],
    event_count: Callable[[], int],
) -> None:
    refused = client.post("/api/v1/residents", json=NEW_RESIDENT, headers=api_token("counter"))
    assert_problem(refused, 403, "forbidden")
    headers = {**clerk_api, "Idempotency-Key": "5d0c3b1a-6e7f-4a8b-9c0d-1e2f3a4b5c6d"}
    first = client.post("/api/v1/residents", json=NEW_RESIDENT, headers=headers)
    after = event_count()
    again = client.post("/api/v1/residents", json=NEW_RESIDENT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert event_count() == after


def test_an_unknown_household_is_a_404(client: TestClient, clerk_api: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/households/999999", headers=clerk_api), 404, "not-found")
