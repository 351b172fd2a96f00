"""The e-Gov 法令API v2 client against a stand-in serving the real files of ../shared/data/laws through an
``httpx.MockTransport``: which revision is fetched, what the cache saves (no request for a cached revision), and each
failure (404, 500 with the API's error JSON, 429 then 200, timeouts, a body that is not a law, bad IDs)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.egov_fake import FakeEgov, error_json

from tsunagu.laws.adapters.egov import (
    EgovApiError,
    EgovBadResponse,
    EgovLawClient,
    EgovUnavailable,
    InvalidLawId,
    LawNotFound,
)

LAWS = Path(__file__).resolve().parents[4] / "shared" / "data" / "laws"
pytestmark = pytest.mark.skipif(not (LAWS / "xml").is_dir(), reason="../shared/data/laws is not here")
GYOSEI = "405AC0000000088"  # 行政手続法: one file, no Law@Status
GYOSEI_REV = "405AC0000000088_20240401_504AC0100000052"
UCPA = "405AC0000000047"  # 不正競争防止法: 14 versions, 20230703 CurrentEnforced
UCPA_CURRENT = "405AC0000000047_20230703_505AC0000000051"


@pytest.fixture
def fake() -> FakeEgov:
    return FakeEgov([LAWS / "xml", LAWS / "xml-history"])


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeEgov, tmp_path: Path, sleeps: list[float]) -> EgovLawClient:
    return EgovLawClient(
        cache_dir=tmp_path / "cache", transport=httpx.MockTransport(fake.handler), sleep=sleeps.append
    )


def cached_files(client: EgovLawClient) -> list[str]:
    return sorted(p.name for p in client.cache_dir.iterdir()) if client.cache_dir.exists() else []


def test_a_law_id_fetches_the_revision_in_force_and_caches_it(client: EgovLawClient, fake: FakeEgov) -> None:
    got = client.fetch(UCPA)
    assert (got.revision_id, got.title, got.from_cache) == (UCPA_CURRENT, "不正競争防止法", False)
    assert fake.requests == [
        f"GET /law_revisions/{UCPA}?response_format=json",
        f"GET /law_file/xml/{UCPA_CURRENT}",
    ]
    assert got.path.read_bytes() == fake.files[UCPA_CURRENT].read_bytes()
    assert got.size == got.path.stat().st_size
    assert cached_files(client) == [f"{UCPA_CURRENT}.json", f"{UCPA_CURRENT}.xml"]  # no temporary file left
    record = json.loads((client.cache_dir / f"{UCPA_CURRENT}.json").read_text(encoding="utf-8"))
    assert record["sha256"] == got.sha256
    assert record["updated"] == "2024-06-07T09:15:59+09:00"


def test_the_second_fetch_of_a_law_asks_only_the_revision_list(client: EgovLawClient, fake: FakeEgov) -> None:
    client.fetch(GYOSEI)
    fake.requests.clear()
    again = client.fetch(GYOSEI)
    assert (again.revision_id, again.from_cache, again.title) == (GYOSEI_REV, True, "行政手続法")
    assert fake.requests == [f"GET /law_revisions/{GYOSEI}?response_format=json"]


def test_a_cached_revision_id_makes_no_request(client: EgovLawClient, fake: FakeEgov) -> None:
    first = client.fetch(GYOSEI_REV)
    assert first.from_cache is False
    assert fake.requests == [f"GET /law_file/xml/{GYOSEI_REV}"]
    fake.requests.clear()
    assert client.law_xml(GYOSEI_REV) == fake.files[GYOSEI_REV].read_bytes()
    assert client.fetch(GYOSEI_REV.lower()).from_cache is True  # IDs are read in upper case
    assert fake.requests == []


def test_a_corrected_revision_is_fetched_again(client: EgovLawClient, fake: FakeEgov) -> None:
    client.fetch(GYOSEI)
    fake.updated[GYOSEI_REV] = "2025-01-10T10:00:00+09:00"  # 正誤: the API's "updated" moved
    fake.requests.clear()
    assert client.fetch(GYOSEI).from_cache is False
    assert fake.requests[-1] == f"GET /law_file/xml/{GYOSEI_REV}"
    assert client.fetch(GYOSEI).from_cache is True


def test_a_damaged_cache_file_is_fetched_again(client: EgovLawClient, fake: FakeEgov) -> None:
    got = client.fetch(GYOSEI_REV)
    got.path.write_bytes(got.path.read_bytes()[:1000])
    again = client.fetch(GYOSEI_REV)
    assert again.from_cache is False
    assert again.path.read_bytes() == fake.files[GYOSEI_REV].read_bytes()


def test_asof_picks_the_version_in_force_that_day(client: EgovLawClient) -> None:
    assert (
        client.fetch(UCPA, asof=dt.date.fromisoformat("2019-01-01")).revision_id
        == "405AC0000000047_20181129_430AC0000000033"
    )
    assert (
        client.fetch(UCPA, asof=dt.date.fromisoformat("2019-07-01")).revision_id
        == "405AC0000000047_20190701_430AC0000000033"
    )
    # a future date reaches amendments not yet in force, as the API's own asof does
    assert (
        client.fetch(UCPA, asof=dt.date.fromisoformat("2030-01-01")).revision_id
        == "405AC0000000047_20260524_504AC0000000048"
    )


def test_asof_before_the_apis_history_is_not_found(client: EgovLawClient) -> None:
    with pytest.raises(LawNotFound, match="no version in force on 2001-01-01") as caught:
        client.fetch(UCPA, asof=dt.date.fromisoformat("2001-01-01"))
    assert caught.value.detail_ja is not None
    assert "施行中の版がありません" in caught.value.detail_ja


def test_revisions_are_listed_newest_first(client: EgovLawClient) -> None:
    revisions = client.revisions(UCPA)
    assert len(revisions) == 14
    assert revisions[0].law_revision_id == "405AC0000000047_20260524_504AC0000000048"
    assert revisions[0].current_revision_status == "UnEnforced"
    assert [r.law_revision_id for r in revisions] == sorted(
        (r.law_revision_id for r in revisions), reverse=True
    )
    assert all(r.law_title == "不正競争防止法" for r in revisions)


def test_an_unknown_law_is_not_found(client: EgovLawClient) -> None:
    with pytest.raises(LawNotFound) as caught:
        client.fetch("405AC0000009999")
    assert "404001" in caught.value.detail
    assert caught.value.detail_ja is not None
    assert caught.value.detail_ja.startswith("405AC0000009999: e-Gov 法令API にその法令・版はありません")


def test_a_server_error_shows_the_apis_message_and_caches_nothing(
    client: EgovLawClient, fake: FakeEgov
) -> None:
    fake.queue.append(error_json(500, "500001", "サーバ内処理で異常が発生しました。"))
    with pytest.raises(EgovApiError) as caught:
        client.fetch(GYOSEI_REV)
    assert "answered 500 (500001: サーバ内処理で異常が発生しました。)" in caught.value.detail
    assert caught.value.extra["api_code"] == "500001"
    assert cached_files(client) == []


def test_a_bad_request_answer_with_a_404_code_means_not_found(client: EgovLawClient, fake: FakeEgov) -> None:
    fake.queue.append(error_json(400, "404003", "指定のパラメータで取得できる添付ファイルは存在しません。"))
    with pytest.raises(LawNotFound):
        client.fetch(GYOSEI_REV)


def test_429_then_200_waits_as_told(client: EgovLawClient, fake: FakeEgov, sleeps: list[float]) -> None:
    fake.queue.append((429, {"retry-after": "7"}, b'{"code":"429","message":"Too Many Requests"}'))
    fake.queue.append((503, {}, b"busy"))
    got = client.fetch(GYOSEI_REV)
    assert got.from_cache is False
    assert sleeps == [7.0, 2.0]  # Retry-After, then the backoff of the second attempt
    assert len(fake.requests) == 3


def test_retries_are_bounded(client: EgovLawClient, fake: FakeEgov, sleeps: list[float]) -> None:
    fake.queue.extend([(503, {"retry-after": "1"}, b"")] * 10)
    with pytest.raises(EgovApiError, match="answered 503 after 4 attempts") as caught:
        client.fetch(GYOSEI_REV)
    assert "混雑" in (caught.value.detail_ja or "")
    assert sleeps == [1.0, 1.0, 1.0]


def test_a_retry_after_longer_than_the_limit_is_not_waited(client: EgovLawClient, fake: FakeEgov) -> None:
    fake.queue.append((429, {"retry-after": "3600"}, b""))
    with pytest.raises(EgovApiError, match="answered 429"):
        client.fetch(GYOSEI_REV)
    assert len(fake.requests) == 1


def failing(exc: Callable[[httpx.Request], Exception]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda r: httpx.ReadTimeout("timed out", request=r), "timed out after 60.0 s"),
        (
            lambda r: httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=r),
            "ConnectError",
        ),
    ],
)
def test_no_network_is_said_in_japanese_and_english(
    tmp_path: Path, make: Callable[[httpx.Request], Exception], said: str
) -> None:
    with (
        EgovLawClient(cache_dir=tmp_path, transport=failing(make)) as client,
        pytest.raises(EgovUnavailable) as caught,
    ):
        client.fetch(GYOSEI)
    assert caught.value.detail_ja is not None
    assert caught.value.detail_ja.startswith("e-Gov 法令API に接続できません (")
    assert caught.value.detail.startswith("cannot connect to the e-Gov law API (")
    assert said in caught.value.detail


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>maintenance</body></html>",
        b'{"code":"500001","message":"x"}',
        b"<?xml version='1.0'?><Law LawType='Act'><LawNum>x</LawNum><LawBody><LawTitle>t</LawTitle>",  # cut off
    ],
)
def test_a_body_that_is_not_a_law_is_not_cached(client: EgovLawClient, fake: FakeEgov, body: bytes) -> None:
    fake.bodies[GYOSEI_REV] = body
    with pytest.raises(EgovBadResponse, match="not a law XML: line") as caught:
        client.fetch(GYOSEI_REV)
    assert "キャッシュしていません" in (caught.value.detail_ja or "")
    assert cached_files(client) == []


def test_an_oversized_answer_is_refused(fake: FakeEgov, tmp_path: Path) -> None:
    with EgovLawClient(
        cache_dir=tmp_path, transport=httpx.MockTransport(fake.handler), max_bytes=10_000
    ) as small:
        with pytest.raises(EgovBadResponse, match="larger than 10,000 bytes"):
            small.fetch(GYOSEI_REV)
        assert list(tmp_path.iterdir()) == []


def test_a_revision_list_that_is_not_the_documented_json_is_refused(
    client: EgovLawClient, fake: FakeEgov
) -> None:
    fake.queue.append((200, {"content-type": "application/json"}, b'{"law_info": {}, "revisions": "none"}'))
    with pytest.raises(EgovBadResponse, match="not the documented JSON"):
        client.revisions(GYOSEI)
    fake.queue.append(
        (200, {}, json.dumps({"revisions": [{"law_revision_id": "../../etc/passwd"}]}).encode())
    )
    with pytest.raises(EgovBadResponse, match="unusable law_revision_id"):
        client.revisions(GYOSEI)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "405AC000000008",
        "405AC0000000088/../x",
        "605AC0000000088",
        "405AC0000000088_20241340_504AC0100000052",
    ],
)
def test_a_bad_law_id_is_refused_before_any_request(client: EgovLawClient, fake: FakeEgov, bad: str) -> None:
    with pytest.raises(InvalidLawId):
        client.fetch(bad)
    assert fake.requests == []


def test_a_revision_id_is_not_a_law_for_the_revision_list(client: EgovLawClient) -> None:
    with pytest.raises(InvalidLawId, match="give the law ID"):
        client.revisions(GYOSEI_REV)
