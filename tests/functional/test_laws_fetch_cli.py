"""``tsunagu laws fetch`` as a person would run it, against a stand-in for the e-Gov law API on loopback HTTP that
serves the real files of ../shared/data/laws (``--base-url``): network then cache, ``--out``, ``--asof``, JSON, a law
that does not exist beside one that does, bad IDs and dates, no network, and the settings from the environment."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.egov_fake import FakeEgov
from typer.testing import CliRunner

from tsunagu.cli import build

LAWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "laws"
pytestmark = pytest.mark.skipif(not (LAWS / "xml").is_dir(), reason="../shared/data/laws is not here")
GYOSEI = "405AC0000000088"
GYOSEI_REV = "405AC0000000088_20240401_504AC0100000052"
UCPA = "405AC0000000047"


@pytest.fixture
def fake() -> FakeEgov:
    return FakeEgov([LAWS / "xml", LAWS / "xml-history"])


@pytest.fixture
def api(fake: FakeEgov) -> Iterator[str]:
    with fake.serve() as base_url:
        yield base_url


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), ["laws", "fetch", *args])
    return result.exit_code, result.stdout, result.stderr


def fetch_json(api: str, cache: Path, *args: str) -> dict[str, Any]:
    code, out, _ = run(*args, "--base-url", api, "--cache", str(cache), "--json")
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


def test_fetch_then_the_cache(api: str, fake: FakeEgov, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    code, out, err = run(GYOSEI, UCPA, "--base-url", api, "--cache", str(cache))
    assert code == 0, err
    assert f"{GYOSEI}  行政手続法  {GYOSEI_REV}  " in out
    assert "取得 / network" in out
    assert "2 of 2 laws: 2 from the network, 0 from the cache" in out
    assert (cache / f"{GYOSEI_REV}.xml").read_bytes() == fake.files[GYOSEI_REV].read_bytes()
    fake.requests.clear()
    code, out, _ = run(GYOSEI, UCPA, "--base-url", api, "--cache", str(cache))
    assert code == 0
    assert "2 of 2 laws: 0 from the network, 2 from the cache" in out
    assert all(r.startswith("GET /law_revisions/") for r in fake.requests)


def test_json_out_and_asof(api: str, fake: FakeEgov, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    data = fetch_json(
        api, tmp_path / "cache", UCPA, GYOSEI_REV, "--asof", "2019-07-01", "--out", str(out_dir)
    )
    assert data["ok"] is True
    assert data["asof"] == "2019-07-01"
    ucpa, gyosei = data["laws"]
    assert ucpa["revision_id"] == "405AC0000000047_20190701_430AC0000000033"
    assert ucpa["title"] == "不正競争防止法"
    assert ucpa["source"] == "network"
    assert gyosei["revision_id"] == GYOSEI_REV  # a revision ID is that revision whatever the date
    for law in data["laws"]:
        file = Path(law["file"])
        assert file.parent == out_dir
        assert file.name == f"{law['revision_id']}.xml"
        assert file.read_bytes() == fake.files[law["revision_id"]].read_bytes()
        assert file.stat().st_size == law["bytes"]


def test_the_fetched_files_can_be_scanned(api: str, tmp_path: Path) -> None:
    fetch_json(api, tmp_path / "cache", GYOSEI)
    result = CliRunner().invoke(build(), ["laws", "parse", str(tmp_path / "cache"), "--json"])
    assert result.exit_code == 0, result.stdout
    parsed = json.loads(result.stdout)
    assert [(law["law_id"], law["articles"]) for law in parsed["laws"]] == [(GYOSEI, 69)]


def test_one_missing_law_does_not_stop_the_others(api: str, tmp_path: Path) -> None:
    code, out, err = run("405AC0000009999", GYOSEI, "--base-url", api, "--cache", str(tmp_path))
    assert code == 1
    assert "405AC0000009999: e-Gov 法令API にその法令・版はありません" in " ".join(err.split())
    assert "1 of 2 laws" in out
    assert "; 1 failed" in out
    assert (tmp_path / f"{GYOSEI_REV}.xml").exists()


def test_a_server_error_is_reported_with_the_apis_message(api: str, fake: FakeEgov, tmp_path: Path) -> None:
    fake.queue.append((500, {"content-type": "application/json"}, b'{"code":"500001","message":"x"}'))
    code, out, _ = run(GYOSEI, "--base-url", api, "--cache", str(tmp_path), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert data["errors"][0]["error"] == "egov-api-error"
    assert "500001: x" in data["errors"][0]["message"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("405AC00000000",), "は法令ID"),
        ((GYOSEI, "../../etc/passwd"), "は法令ID"),
        ((GYOSEI, "--asof", "2024-13-01"), "--asof must be a date"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    api: str, fake: FakeEgov, tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    code, _, err = run(*args, "--base-url", api, "--cache", str(tmp_path))
    assert code == 2
    assert said in " ".join(err.split())
    assert fake.requests == []


def test_no_network(tmp_path: Path) -> None:
    code, _, err = run(
        GYOSEI, "--base-url", "http://127.0.0.1:9/api/2", "--cache", str(tmp_path), "--timeout", "5"
    )
    assert code == 1
    text = " ".join(err.split())
    assert "e-Gov 法令API に接続できません (ConnectError" in text
    assert "cannot connect to the e-Gov law API" in text


def test_the_cache_and_the_url_come_from_the_environment(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSUNAGU_LAWS_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("TSUNAGU_LAWS_API_URL", api)
    code, out, err = run(GYOSEI, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["cache"] == str(tmp_path / "env-cache")
    assert (tmp_path / "env-cache" / f"{GYOSEI_REV}.xml").exists()


def test_fetch_then_import(api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", base64.b64encode(bytes(range(32))).decode())
    monkeypatch.delenv("TSUNAGU_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    upgraded = CliRunner().invoke(build(), ["db", "upgrade", "--data-dir", str(data_dir)])
    assert upgraded.exit_code == 0, upgraded.stdout
    args = (
        GYOSEI,
        "--import",
        "--data-dir",
        str(data_dir),
        "--base-url",
        api,
        "--cache",
        str(tmp_path / "c"),
    )
    code, out, err = run(*args, "--json")
    assert code == 0, err
    first = json.loads(out)["import"]
    assert (first["imported"], first["unchanged"], first["failed"]) == (1, 0, 0)
    assert first["results"][0]["law_id"] == GYOSEI
    code, out, _ = run(*args)
    assert code == 0
    assert f"import: unchanged {GYOSEI}" in out  # the same revision again changes nothing
    assert "import: 0 imported, 1 unchanged, 0 failed" in out
