"""``tsunagu credentials issue`` and ``revoke`` on a seeded data directory: the files written verify with
``tsunagu credentials verify`` against the served JWKS (a bare JWKS with ``--issuer``), and after ``revoke`` with the
CRL they do not."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import NOW, SECRET
from typer.testing import CliRunner

from tsunagu.cli import build
from tsunagu.health import api as health
from tsunagu.settings import Settings

UoW = Callable[[], AbstractContextManager[Session]]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build(), ["credentials", *args])
    return result.exit_code, result.stdout


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, web_settings: Settings) -> list[str]:
    monkeypatch.setenv("TSUNAGU_SECRET_KEY", SECRET)
    if web_settings.database_url:
        monkeypatch.setenv("TSUNAGU_DATABASE_URL", web_settings.database_url)
    return ["--data-dir", str(web_settings.data_dir)]


def test_issue_then_verify_then_revoke(
    env: list[str],
    tmp_path: Path,
    web_db: UoW,
    pick_resident: Callable[..., int],
    client: TestClient,
    web_app: FastAPI,
) -> None:
    person = pick_resident()
    with web_db() as db:
        entry = health.DoseInput(person, dt.date(2021, 9, 1), "207", "MOD", "3004217", "142051")
        health.record_dose(db, entry, actor="test", now=NOW)
    code, out = _run("issue", "--person", str(person), "--out", str(tmp_path / "out"), "--json", *env)
    assert code == 0, out
    issued = json.loads(out)
    for kind in ("card", "png", "svg"):
        assert Path(issued[kind]).is_file()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get("/credentials/shc/.well-known/jwks.json").text, encoding="utf-8")
    iss = web_app.state.ctx.extras["credentials"].iss
    trust = ["--trust", str(jwks), "--issuer", iss]
    for kind in ("card", "png"):  # the PNG is read back with zxing
        code, out = _run("verify", issued[kind], *trust)
        assert code == 0, out
    code, out = _run("revoke", issued["rid"], "--reason", "test", "--json", *env)
    assert code == 0, out
    crl = tmp_path / "crl.json"
    crl.write_text(
        client.get(f"/credentials/shc/.well-known/crl/{issued['kid']}.json").text, encoding="utf-8"
    )
    jwks.write_text(client.get("/credentials/shc/.well-known/jwks.json").text, encoding="utf-8")
    code, out = _run("verify", issued["card"], *trust, "--crl", str(crl), "--json")
    assert code == 1
    assert json.loads(out)["cards"][0]["reasons"] == ["revoked"]
    code, out = _run("revoke", "AAAAAAAAAAA", "--reason", "x", *env)
    assert code != 0
